import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCli } from './main.ts';

const README = join(dirname(fileURLToPath(import.meta.url)), '../../README.md');

/** The first cells of README's "## Commands" table, e.g. "`seam dlq list\|replay`". */
function commandCells(): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('\n## Commands\n');
  expect(start).toBeGreaterThan(0);
  const rows = text.slice(start).split('\n').filter((l) => l.startsWith('| `seam '));
  return rows.map((r) => r.slice(2, r.indexOf(' | ')));
}

describe("README's Commands table", () => {
  it('has a row for every command and subcommand `seam --help` lists', () => {
    const cells = commandCells();
    const missing: string[] = [];
    for (const c of buildCli().commands) {
      const name = c.name();
      if (name === 'help') continue;
      const mine = cells.filter((cell) => cell.startsWith(`\`seam ${name}`) && /^[\s`|\\]|^$/.test(cell.slice(`\`seam ${name}`.length, `\`seam ${name}`.length + 1)));
      if (mine.length === 0) missing.push(name);
      for (const sub of c.commands) {
        if (sub.name() === 'help') continue;
        if (!mine.some((cell) => new RegExp(`[ |]${sub.name().replace(/[-]/g, '\\-')}\\b`).test(cell))) missing.push(`${name} ${sub.name()}`);
      }
    }
    expect(missing).toEqual([]);
    expect(cells.length).toBeGreaterThanOrEqual(10);
  });
});
