import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';
import { readYamlFull } from './read.ts';
import type { ReadDoc } from './read.ts';
import { readYamlFast } from './yaml-fast.ts';

const SIGMA = join(SHARED, 'sigma');
const SPEC = join(SHARED, 'sigma-spec', 'tests', 'schema');
const DETECTIONS = new URL('../../../detections', import.meta.url).pathname;
const HUNT_RULES = new URL('../../../test/hunt/rules', import.meta.url).pathname;

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out;
}

/** What the `yaml` package makes of a text, through readYaml's own path with the fast reader bypassed. */
function slow(text: string): { docs: ReadDoc[]; errors: number } {
  const errors = parseAllDocuments(text, { uniqueKeys: true }).reduce((n, d) => n + d.errors.length, 0);
  return { docs: readYamlFull(text, 'x.yml').docs, errors };
}

/** Documents as compared: the position-carrying tree, and the plain value where it is handed on (correlations). */
const view = (docs: ReadDoc[]): unknown =>
  docs.map((d) => ({ node: d.node, pos: d.pos, js: d.node.kind === 'map' && d.node.entries.some((e) => e.key === 'correlation') ? d.js : undefined }));

function compareAll(files: string[]): { fast: number; fallback: number; mismatches: string[] } {
  let fast = 0;
  let fallback = 0;
  const mismatches: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const a = readYamlFast(text);
    if (a === undefined) {
      fallback++;
      continue;
    }
    fast++;
    const b = slow(text);
    if (b.errors > 0 || JSON.stringify(view(a)) !== JSON.stringify(view(b.docs))) mismatches.push(f);
  }
  return { fast, fallback, mismatches };
}

describe('fast YAML reader', () => {
  it("gives exactly the `yaml` package's documents for Seam's rule files and rule tests", () => {
    const r = compareAll([...yamlFiles(DETECTIONS), ...yamlFiles(HUNT_RULES)]);
    expect(r.mismatches).toEqual([]);
    expect(r.fast).toBeGreaterThan(300);
  });

  describe.skipIf(!sharedPresent(SIGMA))('on SigmaHQ', () => {
    it("gives exactly the `yaml` package's documents for every file it reads, and reads nearly all", () => {
      const r = compareAll(yamlFiles(SIGMA));
      expect(r.mismatches).toEqual([]);
      expect(r.fast + r.fallback).toBe(3779);
      expect(r.fast).toBeGreaterThan(3700);
    }, 120_000);
  });

  describe.skipIf(!sharedPresent(SPEC))('on the Sigma specification examples (filters, correlations)', () => {
    it("gives exactly the `yaml` package's documents", () => {
      const r = compareAll(yamlFiles(SPEC));
      expect(r.mismatches).toEqual([]);
    });
  });

  it('leaves to the `yaml` package what it does not read exactly', () => {
    const refused = [
      'a: &x 1\nb: *x\n', // anchors and aliases
      'a: !!str 1\n', // tags
      'a: [1, 2]\n', // flow collections
      'a: {b: 1}\n',
      "a: 'one\n  two'\n", // a multi-line quoted scalar
      'a: one\n\n  two\n', // a folded plain scalar with a blank line, a comment, or what could be a key or an item
      'a: one\n  # c\n  two\n',
      'a: one # c\n  two\n',
      'a: one\n  two: x\n',
      'a: one\n  - two\n',
      'a: 1\na: 2\n', // a duplicate key (an error, with its position, from `yaml`)
      '"a": 1\n"a": 2\n',
      'a: 1.5\n', // numbers other than decimal integers
      'a: 0x17\n',
      'a: 1234567890123456\n', // over 15 digits
      '"a\\tb": 1\n', // a quoted key with an escape, or followed by a space before its ':'
      "'a' : 1\n",
      "'': 1\n",
      '1: a\n', // a key that is not a string
      'a:\n\tb: 1\n', // a tab outside a comment line
      'a: 1 # c\t\n',
      '\t# c\na: 1\n',
      'a: |+\n  x\n', // keep chomping
      'a: >\n  x\n\n  y\n', // a folded scalar with a blank line
      'a: b: c\n', // an error
      '--- a\n',
      'a: 1\n---\n', // `---` then nothing: an empty document to `yaml`
      'a: "\\u004"\n', // an escape that is not whole
      'a: "\\U00110000"\n', // beyond Unicode
      'a: "\\q"\n',
    ];
    for (const t of refused) expect(readYamlFast(t), t).toBeUndefined();
    // And what it reads, it reads as `yaml` does.
    const read = [
      "title: t\nid: 1\nlist:\n  - a\n  - 'b''c' # comment\n  - \"d\\\\e\"\nmap:\n    k|contains: 'x: y'\n    n: -3\n",
      'a:\n- x: 1\n  y: true\n- z: ~\n',
      'd: |\n  one\n  # not a comment\n\n  two\ne: >-\n  three\n  four\nf: ok\n',
      '---\na: 1\n---\n# between\nb: 2\n',
      '# only a comment\n',
      'correlation:\n  type: event_count\n  rules:\n    - r1\n  timespan: 5m\n',
      "a: constructor\nb: \"x\\\\y\" # c\nc: 'it''s'\nd: \"plain\"\n",
      // Folded plain scalars (a long condition, a sentence), in a map and in a list.
      'condition: (a and not 1 of f_*)\n           or (b and not g)\nfalsepositives:\n    - one\n      two  \n       three\n    - four\n',
      // Quoted keys (`'|all':`), empty values (a null), integers with leading zeros or a sign.
      "k:\n    '|all':\n        - ':179'\n    \"b c\": 2\n    'it''s': 3\n",
      'a:\nb:\n  c: # nothing\n  d:\ne:\n  - f:\n    g: 1\nh:',
      'n:\n  - 00000429\n  - +5\n  - -0\n  - 0000042a\n',
      // Escapes that name a code point; tabs inside comment lines (and a block scalar's lines that start with '#').
      'a: "\\u0410\\x41\\U0001F600 \\u00e9"\n# a\ttab\nb: |\n  #\tkept\n',
    ];
    for (const t of read) {
      const fast = readYamlFast(t);
      expect(fast, t).toBeDefined();
      expect(JSON.stringify(view(fast!)), t).toBe(JSON.stringify(view(slow(t).docs)));
    }
  });
});
