/**
 * Stage 4 of rule loading: rules indexed by the Seam source their logsource applies to, and within
 * a source by a literal they require (e.g. `eventName` ∈ {CreateUser, CreateAccessKey}). An event
 * meets only the rules whose required literal it carries, plus the rules that require none. Rules
 * that require only substrings (`CommandLine|contains`) sit behind a 3-character chunk (trigram) of
 * each: an event meets them when its value contains that trigram.
 */
import type { SourceType } from '../../core/envelope.ts';
import type { CompiledRule } from './types.ts';
import type { Cand, EvalCtx, FieldTable } from './fields.ts';
import type { Key, Pred, Req } from './compile.ts';

export interface InternalRule extends CompiledRule {
  pred: Pred;
  req: Req;
  /** Field → basenames, one of which the field's value must have (compile.ts Node.base). */
  base: Req;
  /** Field → substrings, one of which the field's lowercase value must contain (compile.ts Node.sub). */
  sub: Req;
  /** Keys of which a matching event hits one, possibly in different fields (compile.ts Node.any). */
  any?: Key[];
  /** Fields that must be present for the rule to match. */
  need: Set<string>;
  source: SourceType | undefined;
  /**
   * Runtime event kind the rule is restricted to (from its logsource category), if any. The index
   * offers the rule only to events of this kind, so `pred` need not check it (`test` does).
   */
  kind?: string;
  order: number;
  /** Match generation that last evaluated this rule (dedupe when an array field hits twice). */
  seen: number;
  /**
   * Present on a rule whose compilation was deferred (a rule no Seam source feeds, loaded with the rule
   * cache): compiles it and fills req, base, sub, any and need, which are empty until then.
   */
  materialize?: () => void;
}

interface Keyed {
  fid: number;
  field: string;
  map: Map<string, InternalRule[]>;
  /** One bit per key's length and first and last characters (`sig`): most values miss without hashing. */
  sigs: Uint32Array;
}

/** A hash of a string's length and first and last characters (of `s.slice(from)`), 10 bits. */
function sig(s: string, from: number): number {
  const n = s.length - from;
  return n === 0 ? sigOf(0, 0, 0) : sigOf(n, s.charCodeAt(from), s.charCodeAt(s.length - 1));
}

function sigOf(n: number, a: number, b: number): number {
  return Math.imul((n << 16) ^ (a << 8) ^ b ^ ((a >>> 8) << 24), 0x9e3779b1) >>> 22;
}

const asciiLower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

/**
 * `sig(lowercase value, from)` without lowercasing the value when that gives the same answer: the
 * end characters are ASCII (lowercased alone) and no character changes length when lowercased (only
 * U+0130 does). Otherwise the value is lowercased. -1: no string form.
 */
function lowerSig(c: Cand, base: boolean): number {
  const s = c.s;
  if (s === undefined) return -1;
  const from = base ? s.lastIndexOf('/') + 1 : 0;
  const n = s.length - from;
  if (n === 0) return sig(s, from);
  const a = s.charCodeAt(from);
  const b = s.charCodeAt(s.length - 1);
  if (a > 0x7f || b > 0x7f || s.indexOf('\u0130') >= 0) {
    const l = c.l!;
    return sig(l, base ? l.lastIndexOf('/') + 1 : 0);
  }
  return sigOf(n, asciiLower(a), asciiLower(b));
}

function keyed(field: string, map: Map<string, InternalRule[]>, fields: FieldTable): Keyed {
  const sigs = new Uint32Array(32);
  for (const k of map.keys()) {
    const h = sig(k, 0);
    sigs[h >>> 5]! |= 1 << (h & 31);
  }
  return { fid: fields.id(field), field, map, sigs };
}

/** Rules behind trigrams of one field's lowercase value. */
interface Grams {
  fid: number;
  field: string;
  /** Trigram code (three 7-bit ASCII characters) → rules. */
  map: Map<number, InternalRule[]>;
  /** One bit per hashed trigram code: most of a value's trigrams are rejected without a map lookup. */
  bits: Uint32Array;
}

interface Bucket {
  byField: Keyed[];
  /** Rules keyed by the basename of a path field (`Image|endswith: '/curl'` → `curl`). */
  byBase: Keyed[];
  /** Rules keyed by a trigram of a substring they require (`CommandLine|contains: 'base64'` → `e64`). */
  byGram: Grams[];
  /** Rules with no required literal but a field that must be present: checked only if it is. */
  byPresence: { fid: number; field: string; rules: InternalRule[] }[];
  always: InternalRule[];
}

export interface IndexStats {
  /** Per bucket: how many rules sit behind a literal, how many are always evaluated. */
  buckets: Record<string, { indexed: number; byBase: number; byGram: number; byPresence: number; always: number; fields: string[]; presenceFields: number }>;
}

/**
 * How many more rules sharing its literal a rule may accept to be filed under a field the index reads
 * anyway: a candidate that fails its first test costs less than reading one more field of every event.
 */
const SLACK = 4;

/**
 * Fields every event of its source carries, with one of a handful of values: a rule filed under one of
 * them is offered most events (`stage: ResponseComplete` is on nearly every audit event, `verb: get` or
 * `userIdentity.type: AssumedRole` on most). Counting the rules that share a literal cannot see that: a
 * pack where three rules ask `stage: ResponseComplete` and forty ask `objectRef.resource: pods` would
 * file those three under the stage and offer them every event. These fields are chosen only when a rule
 * requires nothing else. Optional fields (`errorCode`, absent on most CloudTrail records) stay
 * selective however few values they have, which is why this is a list and not a count of values.
 */
const UBIQUITOUS = new Set(['stage', 'verb', 'level', 'userIdentity.type', 'eventType', 'eventCategory', 'readOnly', 'managementEvent', 'kind', 'network.direction']);

/** Substring alternatives a field's rules must have between them to be worth a trigram scan of the field. */
const MIN_GRAM_ALTERNATIVES = 4;

/** Bucket name for rules whose logsource maps to no Seam source (evaluated only when asked). */
export const UNMAPPED = '(none)';

export class RuleIndex {
  private readonly buckets = new Map<string, Bucket>();
  /** Runtime buckets by event kind (`process` → the `runtime:process` bucket). */
  private readonly kinds = new Map<string, Bucket>();

  constructor(
    rules: InternalRule[],
    fields: FieldTable,
    private readonly matchUnmapped: boolean,
  ) {
    const groups = new Map<string, InternalRule[]>();
    for (const r of rules) {
      const k = bucketKey(r.source, r.kind);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(r);
    }
    for (const [k, g] of groups) {
      // Rules no Seam source can feed are never offered an event unless matchUnmapped: their bucket
      // (three quarters of SigmaHQ) is built only when stats() asks for it.
      if (k === UNMAPPED && !matchUnmapped) {
        this.unmapped = { rules: g, fields };
        continue;
      }
      const b = buildBucket(g, fields);
      this.buckets.set(k, b);
      const kind = g[0]!.kind;
      if (g[0]!.source === 'runtime' && kind !== undefined) this.kinds.set(kind, b);
    }
  }

  private unmapped: { rules: InternalRule[]; fields: FieldTable } | undefined;

  stats(): IndexStats {
    if (this.unmapped !== undefined) {
      for (const r of this.unmapped.rules) r.materialize?.();
      this.buckets.set(UNMAPPED, buildBucket(this.unmapped.rules, this.unmapped.fields));
      this.unmapped = undefined;
    }
    const buckets: IndexStats['buckets'] = {};
    for (const [k, b] of this.buckets) {
      const indexed = new Set<InternalRule>();
      for (const f of b.byField) for (const l of f.map.values()) for (const r of l) indexed.add(r);
      const byBase = new Set<InternalRule>();
      for (const f of b.byBase) for (const l of f.map.values()) for (const r of l) byBase.add(r);
      const byGram = new Set<InternalRule>();
      for (const g of b.byGram) for (const l of g.map.values()) for (const r of l) byGram.add(r);
      const byPresence = b.byPresence.reduce((a, p) => a + p.rules.length, 0);
      buckets[k] = {
        indexed: indexed.size,
        byBase: byBase.size,
        byGram: byGram.size,
        byPresence,
        always: b.always.length,
        fields: b.byField.map((f) => f.field),
        presenceFields: b.byPresence.length,
      };
    }
    return { buckets };
  }

  /** Appends to `out`, once each, the rules that could match the event in `ctx`. */
  collect(source: string | undefined, ctx: EvalCtx, gen: number, out: InternalRule[]): void {
    const b = source === undefined ? undefined : this.buckets.get(source);
    if (b) visitBucket(b, ctx, gen, out);
    if (source === 'runtime') {
      // Rules with a category only meet events of their kind (they also check it themselves).
      const kind = ctx.event.kind;
      const kb = typeof kind === 'string' ? this.kinds.get(kind) : undefined;
      if (kb) visitBucket(kb, ctx, gen, out);
    }
    if (this.matchUnmapped) {
      const u = this.buckets.get(UNMAPPED);
      if (u) visitBucket(u, ctx, gen, out);
    }
  }
}

/** `runtime` for rules of any runtime kind, `runtime:process` for process_creation rules... */
function bucketKey(source: SourceType | undefined, kind: string | undefined): string {
  if (source === undefined) return UNMAPPED;
  return kind === undefined ? source : `${source}:${kind}`;
}

function push(rules: InternalRule[], gen: number, out: InternalRule[]): void {
  for (let k = 0; k < rules.length; k++) {
    const r = rules[k]!;
    if (r.seen === gen) continue;
    r.seen = gen;
    out.push(r);
  }
}

function visitBucket(b: Bucket, ctx: EvalCtx, gen: number, out: InternalRule[]): void {
  for (let i = 0; i < b.byField.length; i++) {
    const f = b.byField[i]!;
    const cands = ctx.get(f.fid);
    const sigs = f.sigs;
    for (let j = 0; j < cands.length; j++) {
      const c = cands[j]!;
      const h = lowerSig(c, false);
      if (h < 0 || (sigs[h >>> 5]! & (1 << (h & 31))) === 0) continue;
      const rules = f.map.get(c.l!);
      if (rules) push(rules, gen, out);
    }
  }
  for (let i = 0; i < b.byBase.length; i++) {
    const f = b.byBase[i]!;
    const cands = ctx.get(f.fid);
    const sigs = f.sigs;
    for (let j = 0; j < cands.length; j++) {
      const c = cands[j]!;
      const h = lowerSig(c, true);
      if (h < 0 || (sigs[h >>> 5]! & (1 << (h & 31))) === 0) continue;
      // The basename is l.slice(from) (compile.ts basename).
      const l = c.l!;
      const from = l.lastIndexOf('/') + 1;
      const rules = f.map.get(from === 0 ? l : l.slice(from));
      if (rules) push(rules, gen, out);
    }
  }
  for (let i = 0; i < b.byGram.length; i++) {
    const g = b.byGram[i]!;
    const cands = ctx.get(g.fid);
    for (let j = 0; j < cands.length; j++) {
      const l = cands[j]!.l;
      if (l !== undefined && l.length >= 3) visitGrams(g, l, gen, out);
    }
  }
  for (let i = 0; i < b.byPresence.length; i++) {
    const p = b.byPresence[i]!;
    if (ctx.get(p.fid).length === 0) continue;
    for (let k = 0; k < p.rules.length; k++) out.push(p.rules[k]!);
  }
  for (let i = 0; i < b.always.length; i++) out.push(b.always[i]!);
}

/** Trigram code of three ASCII character codes. */
function gram(a: number, b: number, c: number): number {
  return (a << 14) | (b << 7) | c;
}

function gramBit(code: number): number {
  return Math.imul(code, 0x9e3779b1) >>> 16;
}

/** Pushes the rules behind every trigram of `l` (a lowercase value); trigrams with non-ASCII characters cannot be keys. */
function visitGrams(g: Grams, l: string, gen: number, out: InternalRule[]): void {
  const bits = g.bits;
  let code = 0;
  // Characters since the last non-ASCII one: a trigram is whole once three ASCII characters are in.
  let run = 0;
  for (let i = 0; i < l.length; i++) {
    const ch = l.charCodeAt(i);
    if (ch > 0x7f) {
      run = 0;
      continue;
    }
    code = ((code << 7) | ch) & 0x1fffff;
    if (++run < 3) continue;
    const h = gramBit(code);
    if ((bits[h >>> 5]! & (1 << (h & 31))) === 0) continue;
    const rules = g.map.get(code);
    if (rules) push(rules, gen, out);
  }
}

/** Trigram codes of an ASCII string. */
function gramsOf(s: string): number[] {
  const out: number[] = [];
  for (let i = 2; i < s.length; i++) out.push(gram(s.charCodeAt(i - 2), s.charCodeAt(i - 1), s.charCodeAt(i)));
  return out;
}

/**
 * Files each rule under one trigram of every substring alternative it requires in `field`: the
 * trigram the fewest alternatives of other rules share, so common chunks (`/us`, ` -c`) stay empty.
 */
function buildGrams(field: string, rules: [InternalRule, Set<string>][], fields: FieldTable): Grams {
  const freq = new Map<number, number>();
  for (const [, alts] of rules) {
    for (const alt of alts) for (const g of new Set(gramsOf(alt))) freq.set(g, (freq.get(g) ?? 0) + 1);
  }
  const map = new Map<number, InternalRule[]>();
  const bits = new Uint32Array(2048);
  for (const [r, alts] of rules) {
    const keys = new Set<number>();
    for (const alt of alts) {
      let best = -1;
      for (const g of gramsOf(alt)) if (best < 0 || freq.get(g)! < freq.get(best)!) best = g;
      keys.add(best);
    }
    for (const k of keys) {
      let l = map.get(k);
      if (!l) map.set(k, (l = []));
      if (!l.includes(r)) l.push(r);
      const h = gramBit(k);
      bits[h >>> 5]! |= 1 << (h & 31);
    }
  }
  return { fid: fields.id(field), field, map, bits };
}

function buildBucket(rules: InternalRule[], fields: FieldTable): Bucket {
  // Index each rule under its most selective requirement: the (field, values) that the fewest other
  // rules share. `stage: ResponseComplete` or `kind: process`, which every rule and most events
  // carry, would put all rules behind one key; `objectRef.resource: secrets` or `eventName:
  // CreateAccessKey` narrows to a handful.
  // A basename requirement scores like a literal one, under its own key space ('\u0001'): a rule
  // whose only selective literal is `Image|endswith: '/curl'` lands behind `curl`.
  const share = new Map<string, number>();
  const key = (f: string, v: string): string => f + '\u0000' + v;
  const bkey = (f: string, v: string): string => f + '\u0001' + v;
  const count = (k: string): void => void share.set(k, (share.get(k) ?? 0) + 1);
  for (const r of rules) {
    for (const [f, vals] of r.req) for (const v of vals) count(key(f, v));
    for (const [f, vals] of r.base) for (const v of vals) count(bkey(f, v));
  }
  const score = (f: string, vals: Set<string>, k: (f: string, v: string) => string): number => {
    let n = 0;
    for (const v of vals) n += share.get(k(f, v))!;
    return UBIQUITOUS.has(f) ? n + 1e9 : n;
  };
  const byName = new Map<string, Map<string, InternalRule[]>>();
  const byBaseName = new Map<string, Map<string, InternalRule[]>>();
  let rest: InternalRule[] = [];
  const always: InternalRule[] = [];
  const file = (into: Map<string, Map<string, InternalRule[]>>, field: string, vals: Set<string>, r: InternalRule): void => {
    let m = into.get(field);
    if (!m) into.set(field, (m = new Map()));
    for (const v of vals) {
      let l = m.get(v);
      if (!l) m.set(v, (l = []));
      if (!l.includes(r)) l.push(r);
    }
  };
  interface Choice {
    field: string;
    isBase: boolean;
    score: number;
  }
  const options = (r: InternalRule): Choice[] => {
    const out: Choice[] = [];
    for (const [f, vals] of r.req) if (vals.size > 0) out.push({ field: f, isBase: false, score: score(f, vals, key) });
    for (const [f, vals] of r.base) if (vals.size > 0) out.push({ field: f, isBase: true, score: score(f, vals, bkey) });
    return out;
  };
  // Ties go to the exact literal (fewer false candidates), then to the smaller field name.
  const better = (a: Choice, b: Choice): boolean =>
    a.score < b.score || (a.score === b.score && (a.isBase !== b.isBase ? !a.isBase : a.field < b.field));
  const chosen = new Map<InternalRule, { best: Choice; at: Choice; opts: Choice[] }>();
  for (const r of rules) {
    const opts = options(r);
    let best: Choice | undefined;
    for (const o of opts) if (best === undefined || better(o, best)) best = o;
    if (best === undefined) rest.push(r);
    else chosen.set(r, { best, at: best, opts });
  }
  // Every field the index reads costs each event a lookup. A field read for few rules is dropped when
  // each of them can move to a field read anyway, sharing its literal with at most SLACK more rules.
  for (let changed = true; changed; ) {
    changed = false;
    const byUse = new Map<string, InternalRule[]>();
    for (const [r, c] of chosen) {
      let l = byUse.get(c.at.field);
      if (!l) byUse.set(c.at.field, (l = []));
      l.push(r);
    }
    const order = [...byUse].sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1));
    for (const [field, rs] of order) {
      const moves: [InternalRule, Choice][] = [];
      for (const r of rs) {
        const c = chosen.get(r)!;
        let to: Choice | undefined;
        for (const o of c.opts) {
          if (o.field === field || !byUse.has(o.field) || o.score > c.best.score + SLACK) continue;
          if (to === undefined || better(o, to)) to = o;
        }
        if (to === undefined) break;
        moves.push([r, to]);
      }
      if (moves.length < rs.length) continue;
      for (const [r, to] of moves) chosen.get(r)!.at = to;
      changed = true;
      break;
    }
  }
  for (const [r, { at }] of chosen) {
    if (at.isBase) file(byBaseName, at.field, r.base.get(at.field)!, r);
    else file(byName, at.field, r.req.get(at.field)!, r);
  }
  // Rules with no single-field literal, but a key in each branch of an OR (any): filed under every key.
  const gramGroups = new Map<string, { rules: [InternalRule, Set<string>][]; required: boolean }>();
  const toGrams = (field: string, r: InternalRule, alts: Set<string>, required: boolean): void => {
    let g = gramGroups.get(field);
    if (!g) gramGroups.set(field, (g = { rules: [], required: false }));
    g.rules.push([r, alts]);
    g.required ||= required;
  };
  const rest2: InternalRule[] = [];
  for (const r of rest) {
    if (r.sub.size > 0 || r.any === undefined || r.any.length === 0) {
      rest2.push(r);
      continue;
    }
    for (const k of r.any) {
      if (k.kind === 'req') file(byName, k.field, k.values, r);
      else if (k.kind === 'base') file(byBaseName, k.field, k.values, r);
      else toGrams(k.field, r, k.values, true);
    }
  }
  rest = rest2;
  const byField = [...byName].map(([field, map]) => keyed(field, map, fields));
  const byBase = [...byBaseName].map(([field, map]) => keyed(field, map, fields));
  // Rules with no literal to be filed under: under trigrams of a required substring, if they have one.
  // The field asked of most of them wins (one scan of its value serves all), then the fewest alternatives.
  const subFreq = new Map<string, number>();
  for (const r of rest) for (const f of r.sub.keys()) subFreq.set(f, (subFreq.get(f) ?? 0) + 1);
  const byGramField = new Map<string, InternalRule[]>();
  const unfiled: InternalRule[] = [];
  for (const r of rest) {
    let best: string | undefined;
    for (const [f, alts] of r.sub) {
      if (best === undefined) best = f;
      else {
        const d = subFreq.get(f)! - subFreq.get(best)!;
        if (d > 0 || (d === 0 && alts.size < r.sub.get(best)!.size)) best = f;
      }
    }
    if (best === undefined) unfiled.push(r);
    else {
      let l = byGramField.get(best);
      if (!l) byGramField.set(best, (l = []));
      l.push(r);
    }
  }
  for (const [field, rs] of byGramField) for (const r of rs) toGrams(field, r, r.sub.get(field)!, false);
  const byGram: Grams[] = [];
  for (const [field, g] of gramGroups) {
    // Scanning a value costs about as much as a few substring tests: for fewer, the rules test
    // themselves (unless a rule filed under several keys needs this one).
    const alts = g.rules.reduce((n, [, a]) => n + a.size, 0);
    if (g.required || alts >= MIN_GRAM_ALTERNATIVES) byGram.push(buildGrams(field, g.rules, fields));
    else for (const [r] of g.rules) unfiled.push(r);
  }
  rest = unfiled;
  const needFreq = new Map<string, number>();
  for (const r of rest) for (const f of r.need) needFreq.set(f, (needFreq.get(f) ?? 0) + 1);
  const byNeed = new Map<string, InternalRule[]>();
  for (const r of rest) {
    let best: string | undefined;
    for (const f of r.need) if (best === undefined || needFreq.get(f)! > needFreq.get(best)!) best = f;
    if (best === undefined) always.push(r);
    else {
      let l = byNeed.get(best);
      if (!l) byNeed.set(best, (l = []));
      l.push(r);
    }
  }
  const byPresence = [...byNeed].map(([field, rules]) => ({ fid: fields.id(field), field, rules }));
  return { byField, byBase, byGram, byPresence, always };
}
