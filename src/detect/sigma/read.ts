/**
 * Stage 1 of rule loading: YAML text → documents whose every node carries a line and column.
 * A file may hold several documents (rules, filters and correlations can share a bundle).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Node as YamlNodeRaw } from 'yaml';
import type { Diagnostic } from './types.ts';
import { diag } from './diagnostics.ts';
import { readYamlFast } from './yaml-fast.ts';

export interface Pos {
  line: number;
  column: number;
}

/**
 * A YAML node with its position; numbers keep their source text so `0x17` or `007` stay comparable as text. A quoted
 * scalar's `pos` is its opening quote and `quote` says which: its value starts one column later (see valueColumn).
 */
export type YNode =
  | { kind: 'map'; pos: Pos; entries: YEntry[] }
  | { kind: 'seq'; pos: Pos; items: YNode[] }
  | { kind: 'scalar'; pos: Pos; value: string | number | boolean | null; text: string; quote?: "'" | '"' };

/**
 * The column of character `offset` of a one-line scalar's value (a diagnostic inside a regex): past the opening
 * quote, and past the extra character of each `''` (single-quoted) or `\\` (double-quoted) before it. Other
 * double-quoted escapes (`\t`, `\x41`) are not counted: a regex written in double quotes rarely has them.
 */
export function valueColumn(node: Extract<YNode, { kind: 'scalar' }>, offset: number): number {
  if (node.quote === undefined) return node.pos.column + offset;
  const before = node.text.slice(0, offset);
  const doubled = node.quote === "'" ? before.split("'").length - 1 : before.split('\\').length - 1;
  return node.pos.column + 1 + offset + doubled;
}

export interface YEntry {
  key: string;
  keyPos: Pos;
  value: YNode;
}

export interface ReadDoc {
  /** Position-carrying tree (for validation and compilation). */
  node: YNode;
  /** Plain JS value of the same document, for correlations (handed to the correlation engine); else undefined. */
  js: unknown;
  pos: Pos;
}

export interface ReadResult {
  docs: ReadDoc[];
  diagnostics: Diagnostic[];
  /** Read by the fast reader (yaml-fast.ts). */
  fast?: boolean;
}

/** yaml's bound on alias expansion (its default); a Sigma rule needs no aliases at all. */
const MAX_ALIAS_COUNT = 100;
/** Nodes one document may have after alias expansion: Seam's largest rule has a few hundred. */
const MAX_NODES = 50_000;
class TooLarge extends Error {}

/** Whether a node holds an alias anywhere below it. */
function hasAlias(n: unknown): boolean {
  if (isAlias(n)) return true;
  if (isMap(n)) return n.items.some((p) => hasAlias(p.key) || hasAlias(p.value));
  if (isSeq(n)) return n.items.some(hasAlias);
  return false;
}

/**
 * Parses every document of a file; YAML errors become diagnostics and the broken document is skipped.
 * Plain block YAML (nearly every rule file) is read by yaml-fast.ts, which gives the same documents; the
 * rest, and anything wrong, by the `yaml` package.
 */
export function readYaml(text: string, file: string): ReadResult {
  const fast = readYamlFast(text);
  if (fast !== undefined) return { docs: fast, diagnostics: [], fast: true };
  return readYamlFull(text, file);
}

/** readYaml through the `yaml` package only (the fast reader's tests compare both). */
export function readYamlFull(text: string, file: string): ReadResult {
  const lc = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const docs: ReadDoc[] = [];
  const posAt = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 0, column: 0 };
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  let parsed;
  try {
    parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    diagnostics.push(diag('SEAM_ERR_RULE_YAML', file, { line: 0, column: 0 }, `cannot parse YAML: ${(e as Error).message}`));
    return { docs, diagnostics };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        diagnostics.push(diag('SEAM_ERR_RULE_YAML', file, posAt(e.pos[0]), e.message.split('\n')[0] ?? e.message));
      }
      continue;
    }
    if (doc.contents === null) continue; // empty document, e.g. a trailing `---`
    // Aliases are expanded below; yaml's own bound refuses an alias bomb before anything expands. The plain
    // JS value is handed on for correlations only (ReadDoc.js).
    let js: unknown;
    const correlation = isMap(doc.contents) && doc.contents.items.some((p) => isScalar(p.key) && p.key.value === 'correlation');
    try {
      if (correlation || hasAlias(doc.contents)) js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      diagnostics.push(diag('SEAM_ERR_RULE_YAML', file, posAt(doc.contents.range?.[0]), `document refused: ${(e as Error).message} (aliases may expand at most ${MAX_ALIAS_COUNT} nodes)`));
      continue;
    }
    let budget = MAX_NODES;
    const convert = (n: unknown): YNode => {
      if (--budget < 0) throw new TooLarge();
      const node = n as YamlNodeRaw | null;
      if (node === null || node === undefined) return { kind: 'scalar', pos: { line: 0, column: 0 }, value: null, text: '' };
      const pos = posAt(node.range?.[0]);
      if (isAlias(node)) return convert(node.resolve(doc));
      if (isMap(node)) {
        const entries: YEntry[] = [];
        for (const pair of node.items) {
          const k = pair.key as YamlNodeRaw | null;
          const keyPos = k && 'range' in k && k.range ? posAt(k.range[0]) : pos;
          const key = isScalar(k) ? String(k.value) : k === null ? '' : String(k);
          entries.push({ key, keyPos, value: pair.value === null ? { kind: 'scalar', pos: keyPos, value: null, text: '' } : convert(pair.value) });
        }
        return { kind: 'map', pos, entries };
      }
      if (isSeq(node)) return { kind: 'seq', pos, items: node.items.map(convert) };
      if (isScalar(node)) {
        const v = node.value;
        const value = v === null || v === undefined ? null : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : typeof v === 'bigint' ? Number(v) : String(v);
        const text = typeof v === 'string' ? v : (node.source ?? String(v));
        if (node.type === 'QUOTE_SINGLE') return { kind: 'scalar', pos, value, text, quote: "'" };
        if (node.type === 'QUOTE_DOUBLE') return { kind: 'scalar', pos, value, text, quote: '"' };
        return { kind: 'scalar', pos, value, text };
      }
      return { kind: 'scalar', pos, value: String(node), text: String(node) };
    };
    let node: YNode;
    try {
      node = convert(doc.contents);
    } catch (e) {
      if (!(e instanceof TooLarge)) throw e;
      diagnostics.push(diag('SEAM_ERR_RULE_YAML', file, posAt(doc.contents.range?.[0]), `document refused: it has more than ${MAX_NODES} nodes once aliases are expanded`));
      continue;
    }
    docs.push({ node, js, pos: node.pos });
  }
  return { docs, diagnostics };
}

/** Looks up a key of a map node. */
export function getKey(node: YNode | undefined, key: string): YEntry | undefined {
  if (node?.kind !== 'map') return undefined;
  for (const e of node.entries) if (e.key === key) return e;
  return undefined;
}

/** A scalar's string value, or undefined when the node is not a string scalar. */
export function str(node: YNode | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}
