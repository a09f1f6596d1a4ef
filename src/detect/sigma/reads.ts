/**
 * What a rule's detection reads from an event (ADR 0025): the event paths its entries name (after the
 * logsource's field mapping), those its `|fieldref` entries compare with, and whether it searches keywords
 * (which read every value). Filters that narrow the rule add theirs. The pipeline uses it to tell which
 * rules can be raised before the identity graph has annotated the event (early alerts).
 */
import type { MDetection, MSearch } from './model.ts';
import { MEMBER } from './fields.ts';
import type { Pos } from './read.ts';

export interface RuleReads {
  /** Event paths the detection (and its filters) reads. */
  paths: string[];
  /** A keyword search over the whole record: it reads every field, including those the graph writes. */
  keyword: boolean;
}

/** `paths` gets what the entries read (relative to a block's member inside one), `root` the event paths `|fieldref` compares with. */
function walk(s: MSearch, paths: Set<string>, root: Set<string>, r: { keyword: boolean }): void {
  if (s.t === 'entry') {
    if (s.e.keyword || s.e.path === '') r.keyword = true;
    else paths.add(s.e.path);
    for (const p of s.e.refs ?? []) root.add(p);
    return;
  }
  if (s.t === 'array') {
    // The block reads the array and, in each member, the body's fields (under the array's path; the member
    // marker `.` is the array's own values).
    paths.add(s.a.path);
    for (const b of s.a.body.ids.values()) {
      const inner = new Set<string>();
      walk(b, inner, root, r);
      for (const p of inner) paths.add(p === MEMBER ? s.a.path : `${s.a.path}.${p}`);
    }
    return;
  }
  for (const x of s.items) walk(x, paths, root, r);
}

/** The fields a detection model reads. */
export function detectionReads(det: MDetection): RuleReads {
  const paths = new Set<string>();
  const r = { keyword: false };
  for (const s of det.ids.values()) walk(s, paths, paths, r);
  return { paths: [...paths].sort(), keyword: r.keyword };
}

/**
 * Where the detection reads each path: the key of the first entry that does (line:col in the rule's own file), so
 * a lint warning about a field points at it. Paths read through `|fieldref` only are not listed.
 */
export function detectionReadsAt(det: MDetection): Record<string, Pos> {
  const at: Record<string, Pos> = {};
  const visit = (s: MSearch, prefix: string): void => {
    if (s.t === 'entry') {
      if (!s.e.keyword && s.e.path !== '') {
        const p = prefix === '' ? s.e.path : s.e.path === MEMBER ? prefix.slice(0, -1) : prefix + s.e.path;
        if (!Object.hasOwn(at, p)) at[p] = s.e.pos;
      }
      return;
    }
    if (s.t === 'array') {
      const p = prefix + s.a.path;
      if (!Object.hasOwn(at, p)) at[p] = s.a.pos;
      for (const b of s.a.body.ids.values()) visit(b, p + '.');
      return;
    }
    for (const x of s.items) visit(x, prefix);
  };
  for (const s of det.ids.values()) visit(s, '');
  return at;
}

/** Both together: a rule and a filter applied to it. */
export function mergeReads(a: RuleReads, b: RuleReads): RuleReads {
  return { paths: [...new Set([...a.paths, ...b.paths])].sort(), keyword: a.keyword || b.keyword };
}
