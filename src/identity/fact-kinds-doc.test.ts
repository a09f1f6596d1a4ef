/**
 * docs/identity.md's table of edge kinds is the reference for what the graph (and `seam.identity`, and the
 * `seam-identity` index) holds: every fact kind the code can assert has a row there, and every row names one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FACT_KINDS } from './types.ts';

const DOC = readFileSync(new URL('../../docs/identity.md', import.meta.url), 'utf8');

describe('docs/identity.md edge kinds', () => {
  it('has a row for every fact kind, and no row for a kind the code does not have', () => {
    const table = DOC.slice(DOC.indexOf('### Edge kinds'), DOC.indexOf('## Resolution'));
    const documented = new Set<string>();
    for (const line of table.split('\n')) {
      const cell = /^\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \|/.exec(line)?.[1];
      if (cell !== undefined) for (const m of cell.matchAll(/`([a-z0-9_]+)`/g)) documented.add(m[1]!);
    }
    expect([...FACT_KINDS].filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !(FACT_KINDS as readonly string[]).includes(k))).toEqual([]);
  });
});
