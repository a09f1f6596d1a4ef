/**
 * Stage 3 of rule loading: a rule's model (model.ts, ADR 0017) → one closure per search identifier and
 * one for the condition, so matching an event never walks an AST. Every problem was reported when the
 * model was built; compiling cannot fail. Alongside, each node reports the literals it *requires*
 * (field → allowed lowercase values), which the rule index uses to skip rules that cannot match.
 */
import { EvalCtx, FieldTable, pathKeys, resolveMembers } from './fields.ts';
import type { Cand } from './fields.ts';
import { ONE, cidrTest, compareOp, hasWildcards, literalOf, numberOf, parsePattern, patternTest, timePart } from './modifiers.ts';
import type { StrTest } from './modifiers.ts';
import type { MArray, MCond, MDetection, MEntry, MSearch } from './model.ts';
import { wrapParts } from './model.ts';
import { regexLiteral } from './regex-literal.ts';

export type Pred = (ctx: EvalCtx) => boolean;
/** Field → lowercase values, one of which the field must equal for the node to match. */
export type Req = Map<string, Set<string>>;

/** One way to file a rule in the index: `field` has one of `values` exactly, as basename or as substring. */
export interface Key {
  kind: 'req' | 'base' | 'sub';
  field: string;
  values: Set<string>;
}

export interface Node {
  pred: Pred;
  req: Req;
  /**
   * Field → lowercase basenames (the text after the last '/'), one of which the field's value must
   * have: `Image|endswith: '/curl'` and `Image: /usr/bin/curl` both require basename `curl`.
   */
  base: Req;
  /**
   * Field → lowercase ASCII strings (3+ characters), one of which the field's lowercase value must
   * contain: `CommandLine|contains: 'base64 -d'` requires `base64 -d`. The rule index files rules
   * that require no exact literal under a 3-character chunk of these.
   */
  sub: Req;
  /**
   * Keys of which a matching event hits at least one (undefined when there are none to be sure of).
   * Unlike req/base/sub they may name different fields: `1 of selection_*` over `Image|endswith` in
   * one selection and `CommandLine|contains` in another needs a key from each.
   */
  any: Key[] | undefined;
  /** Rough evaluation cost, used to order AND terms cheapest first. */
  cost: number;
  /** Fields that must be present in the event for the node to match. */
  need: Set<string>;
}

const NONE: ReadonlySet<string> = new Set();

function union(sets: Set<string>[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

function intersect(sets: Set<string>[]): Set<string> {
  if (sets.length === 0) return new Set();
  return new Set([...sets[0]!].filter((x) => sets.every((s) => s.has(x))));
}

function andReq(reqs: Req[]): Req {
  const out: Req = new Map();
  for (const r of reqs) {
    for (const [f, s] of r) {
      const cur = out.get(f);
      out.set(f, cur ? new Set([...cur].filter((x) => s.has(x))) : s);
    }
  }
  return out;
}

/** AND of substring requirements: each is necessary, so per field keep the more selective one. */
function andSub(subs: Req[]): Req {
  const out: Req = new Map();
  const minLen = (s: Set<string>): number => {
    let m = Infinity;
    for (const x of s) m = Math.min(m, x.length);
    return m;
  };
  for (const r of subs) {
    for (const [f, s] of r) {
      const cur = out.get(f);
      if (!cur || s.size < cur.size || (s.size === cur.size && minLen(s) > minLen(cur))) out.set(f, s);
    }
  }
  return out;
}

const KIND_RANK = { req: 0, base: 1, sub: 2 } as const;

/** The most selective single key of a node's own requirements (exact literals first, fewest values). */
function ownKey(req: Req, base: Req, sub: Req): Key | undefined {
  let best: Key | undefined;
  for (const [kind, m] of [['req', req], ['base', base], ['sub', sub]] as const) {
    for (const [field, values] of m) {
      if (values.size === 0) continue;
      if (best === undefined || KIND_RANK[kind] < KIND_RANK[best.kind] || (kind === best.kind && values.size < best.values.size)) best = { kind, field, values };
    }
  }
  return best;
}

/** Of several key lists each sufficient on its own, the one an event hits least often (a guess: fewest keys, exact first). */
function bestKeys(lists: (Key[] | undefined)[]): Key[] | undefined {
  const weight = (ks: Key[]): number => ks.reduce((w, k) => w + k.values.size * (1 + KIND_RANK[k.kind]), 0);
  let best: Key[] | undefined;
  for (const l of lists) if (l !== undefined && (best === undefined || weight(l) < weight(best))) best = l;
  return best;
}

/** Keys for an OR: a matching event matches some item, so hits one of that item's keys. */
function anyKeys(items: Node[]): Key[] | undefined {
  const out: Key[] = [];
  for (const n of items) {
    if (n.any === undefined) return undefined;
    out.push(...n.any);
  }
  return out;
}

function orReq(reqs: Req[]): Req {
  const out: Req = new Map();
  if (reqs.length === 0) return out;
  for (const [f, s] of reqs[0]!) {
    const u = new Set(s);
    let ok = true;
    for (let i = 1; i < reqs.length && ok; i++) {
      const o = reqs[i]!.get(f);
      if (!o) ok = false;
      else for (const x of o) u.add(x);
    }
    if (ok) out.set(f, u);
  }
  return out;
}

export function andNode(items: Node[]): Node {
  if (items.length === 1) return items[0]!;
  const sorted = [...items].sort((a, b) => a.cost - b.cost);
  const preds = sorted.map((n) => n.pred);
  const cost = items.reduce((a, n) => a + n.cost, 0);
  const req = andReq(items.map((n) => n.req));
  const base = andReq(items.map((n) => n.base));
  const sub = andSub(items.map((n) => n.sub));
  const own = ownKey(req, base, sub);
  const any = bestKeys([own && [own], ...items.map((n) => n.any)]);
  const need = union(items.map((n) => n.need));
  if (preds.length === 2) {
    const [a, b] = preds as [Pred, Pred];
    return { pred: (c) => a(c) && b(c), req, base, sub, any, cost, need };
  }
  return {
    pred: (c) => {
      for (let i = 0; i < preds.length; i++) if (!preds[i]!(c)) return false;
      return true;
    },
    req,
    base,
    sub,
    any,
    cost,
    need,
  };
}

export function orNode(items: Node[]): Node {
  if (items.length === 1) return items[0]!;
  const sorted = [...items].sort((a, b) => a.cost - b.cost);
  const preds = sorted.map((n) => n.pred);
  const cost = items.reduce((a, n) => a + n.cost, 0);
  const req = orReq(items.map((n) => n.req));
  const base = orReq(items.map((n) => n.base));
  const sub = orReq(items.map((n) => n.sub));
  const own = ownKey(req, base, sub);
  const any = bestKeys([own && [own], anyKeys(items)]);
  const need = intersect(items.map((n) => n.need));
  if (preds.length === 2) {
    const [a, b] = preds as [Pred, Pred];
    return { pred: (c) => a(c) || b(c), req, base, sub, any, cost, need };
  }
  return {
    pred: (c) => {
      for (let i = 0; i < preds.length; i++) if (preds[i]!(c)) return true;
      return false;
    },
    req,
    base,
    sub,
    any,
    cost,
    need,
  };
}

export function notNode(n: Node): Node {
  const p = n.pred;
  return { pred: (c) => !p(c), req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: n.cost, need: new Set(NONE) };
}

function atLeast(items: Node[], k: number): Node {
  const preds = items.map((n) => n.pred);
  return {
    pred: (c) => {
      let hits = 0;
      for (const p of preds) if (p(c) && ++hits >= k) return true;
      return false;
    },
    req: new Map(),
    base: new Map(),
    sub: new Map(),
    // At least k items match, so at least one does.
    any: anyKeys(items),
    cost: items.reduce((a, n) => a + n.cost, 0),
    need: new Set(),
  };
}

// ---- values -------------------------------------------------------------------------------------

function orTests(tests: StrTest[]): StrTest {
  if (tests.length === 1) return tests[0]!;
  return (c) => {
    for (const t of tests) if (t(c)) return true;
    return false;
  };
}

/**
 * The longest run of 3+ ASCII characters in `s`, if any. A value that contains `s` contains the run,
 * and lowercasing maps ASCII to ASCII one character at a time, so the lowercase value contains the
 * run lowercased (not true of all of Unicode: final sigma lowercases by context).
 */
function asciiRun(s: string): string | undefined {
  let best = '';
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || s.charCodeAt(i) > 0x7f) {
      if (i - start > best.length) best = s.slice(start, i);
      start = i + 1;
    }
  }
  return best.length >= 3 ? best : undefined;
}

/**
 * The test of one string value's patterns (from the model: placeholders and string modifiers applied).
 * `subs` receives, per pattern, text the lowercase event value must contain for the test to pass
 * (undefined when there is none to be sure of).
 */
function stringTests(item: Extract<MEntry['items'][number], { k: 'str' }>, e: MEntry, needles?: string[], subs?: (string | undefined)[]): StrTest | undefined {
  if (item.vals === undefined) return undefined;
  const { cased, windash } = e;
  const positioned = e.mods.includes('contains') || e.mods.includes('startswith') || e.mods.includes('endswith');
  let vals = item.vals;
  // A keyword is searched for inside every field value, unless the rule positions it explicitly.
  if (e.keyword && !positioned) vals = vals.map((v) => ({ ...v, parts: wrapParts(v.parts, true, true) }));
  if (needles) {
    for (const v of vals) {
      let best = '';
      for (const x of v.parts) if (typeof x === 'string' && x.length > best.length) best = x;
      needles.push(best.toLowerCase());
    }
  }
  if (subs) {
    for (const v of vals) {
      // patternTest compares lowercase parts with the lowercase value (cased: parts with the value as
      // is), after windash maps dashes; every literal part must occur in it.
      let best: string | undefined;
      if (!windash) {
        for (const x of v.parts) {
          if (typeof x !== 'string') continue;
          const r = asciiRun(cased ? x : x.toLowerCase());
          if (r !== undefined && (best === undefined || r.length > best.length)) best = r;
        }
      }
      subs.push(best === undefined ? undefined : cased ? best.toLowerCase() : best);
    }
  }
  return orTests(vals.map((v) => patternTest(v.parts, cased, windash)));
}

// ---- field entries ------------------------------------------------------------------------------

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The text after the last '/' (all of it when there is none). The rule index computes the same. */
export function basename(s: string): string {
  return s.slice(s.lastIndexOf('/') + 1);
}

/** Compiles one field entry (or keyword search) of the model. */
export function compileEntry(e: MEntry, fieldTable: FieldTable, root?: FieldTable): Node {
  const { keyword, mods, all, neq, cased } = e;
  const field = e.path;
  const fid = keyword ? -1 : fieldTable.id(field);
  const get = keyword ? (c: EvalCtx) => c.keywords() : (c: EvalCtx) => c.get(fid);

  // exists: presence only, whatever the value, "be it empty or null" (spec): a field holding [] or {} or null exists.
  // Not filed by presence in the rule index, which asks whether a field offers values ([] offers none).
  if (e.type === 'exists') {
    const want = e.exists === true;
    const has = keyword ? (c: EvalCtx) => get(c).length > 0 : (c: EvalCtx) => c.present(fid);
    return { pred: want ? has : (c) => !has(c), req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: 1, need: new Set() };
  }

  if (e.type === 'fieldref') {
    // The fields compared with are the event's, also inside an array block (its context's root).
    const refs = e.refs!.map((p) => (root ?? fieldTable).id(p));
    const pos = mods.includes('contains') ? 'c' : mods.includes('startswith') ? 's' : mods.includes('endswith') ? 'e' : '=';
    const same = (a: Cand, b: Cand): boolean => {
      const x = cased ? a.s : a.l;
      const y = cased ? b.s : b.l;
      if (x === undefined || y === undefined) return false;
      return pos === '=' ? x === y : pos === 'c' ? x.includes(y) : pos === 's' ? x.startsWith(y) : x.endsWith(y);
    };
    const one = (c: EvalCtx, r: number): boolean => {
      const as = get(c);
      const bs = c.root.get(r);
      for (const a of as) for (const b of bs) if (same(a, b)) return true;
      return false;
    };
    let pred: Pred = all ? (c) => refs.every((r) => one(c, r)) : (c) => refs.some((r) => one(c, r));
    if (neq) {
      const inner = pred;
      pred = (c) => get(c).length > 0 && !inner(c);
    }
    return { pred, req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: 4, need: new Set([field]) };
  }

  let nullOk = false;
  const needles: string[] = [];
  const tests: StrTest[] = [];
  const literals = new Set<string>();
  const items = e.items;
  let indexable = !keyword && !neq && !(all && items.length > 1) && mods.every((m) => m === 'cased');
  let cost = 1;
  const eqSet = !keyword && mods.length === 0 ? new Set<string>() : undefined;
  // Basenames the value must have (see Node.base): from equality and from `endswith` a path suffix.
  const endswith = mods.includes('endswith');
  const bases = new Set<string>();
  let baseOk = !keyword && !neq && !all && mods.every((m) => m === 'cased' || m === 'endswith');
  // Substrings the value must contain (see Node.sub), per item: one set of alternatives each.
  const itemSubs: (Set<string> | undefined)[] = [];
  for (const it of items) {
    if (it.k === 'null') {
      nullOk = true;
      indexable = false;
      baseOk = false;
      continue;
    }
    if (it.k !== 'str' || !it.isString) baseOk = false;
    if (it.k === 're') {
      const re = it.re;
      // A literal the regex cannot match without rejects most values before the regex runs.
      const lit = regexLiteral(re);
      // Folded: the value's lowercase form must contain the text; otherwise the value itself must.
      const run = lit === undefined ? undefined : lit.folded ? asciiRun(lit.text) : asciiRun(lit.text)?.toLowerCase();
      itemSubs.push(run === undefined ? undefined : new Set([run]));
      if (lit === undefined) tests.push((c) => c.s !== undefined && re.test(c.s));
      else if (lit.folded) {
        const t = lit.text;
        tests.push((c) => c.l !== undefined && c.l.includes(t) && re.test(c.s!));
      } else {
        const t = lit.text;
        tests.push((c) => c.s !== undefined && c.s.includes(t) && re.test(c.s));
      }
      cost = Math.max(cost, lit === undefined ? 8 : 3);
      continue;
    }
    if (it.k === 'cidr') {
      tests.push(cidrTest(it.spec)!);
      itemSubs.push(undefined);
      cost = Math.max(cost, 6);
      continue;
    }
    if (it.k === 'cmp') {
      const n = it.n;
      const op = e.cmp ?? 'eq';
      const part = e.tpart;
      tests.push(part ? (c) => {
        const x = timePart(c, part);
        return x !== undefined && compareOp(op, x, n);
      } : (c) => {
        const x = numberOf(c);
        return x !== undefined && compareOp(op, x, n);
      });
      cost = Math.max(cost, 3);
      itemSubs.push(undefined);
      continue;
    }
    if (it.k === 'bool') {
      const v = it.v;
      const s = String(v);
      tests.push((c) => c.v === v || c.l === s);
      literals.add(s);
      itemSubs.push(undefined);
      continue;
    }
    if (it.k === 'num') {
      const v = it.v;
      const text = it.text.toLowerCase();
      itemSubs.push(undefined);
      tests.push((c) => c.v === v || c.l === text || (typeof c.v === 'string' && numberOf(c) === v));
      // Not indexable: the test also accepts other spellings of the number ("0403", "403.0"), which an
      // index keyed by the literal's text would never look up.
      indexable = false;
      continue;
    }
    const raw = it.raw;
    if (eqSet !== undefined) {
      const parts = it.vals![0]!.parts;
      if (!hasWildcards(parts) && !parts.some((p) => p === ONE)) {
        // Plain case-insensitive equality: one Set lookup for the whole value list.
        const l = literalOf(parts).toLowerCase();
        eqSet.add(l);
        literals.add(l);
        bases.add(basename(l));
        const run = asciiRun(l);
        itemSubs.push(run === undefined ? undefined : new Set([run]));
        continue;
      }
    }
    const runs: (string | undefined)[] = [];
    const t = stringTests(it, e, keyword ? needles : undefined, runs);
    if (!t) {
      indexable = false;
      continue; // unknown placeholder: this value matches nothing
    }
    tests.push(t);
    itemSubs.push(runs.length > 0 && runs.every((r) => r !== undefined) ? new Set(runs as string[]) : undefined);
    const parts = parsePattern(raw);
    if (hasWildcards(parts) || parts.some((p) => p === ONE)) {
      indexable = false;
      baseOk = false;
    } else {
      const l = literalOf(parts).toLowerCase();
      literals.add(l);
      // A suffix with a '/' fixes the basename; ASCII only, so lowercasing cannot shift it.
      if (!endswith) bases.add(basename(l));
      else if (l.includes('/') && isAscii(l)) bases.add(basename(l));
      else baseOk = false;
    }
    if (hasWildcards(parts) || e.strMods.length) cost = Math.max(cost, 2);
  }

  if (eqSet !== undefined && eqSet.size > 0) {
    const set = eqSet;
    tests.push(set.size === 1 ? ((one) => (c: Cand) => c.l === one)([...set][0]!) : (c) => c.l !== undefined && set.has(c.l));
  }
  // Long value lists cost more; AND terms are ordered cheapest first.
  if (tests.length > 1) cost += Math.log2(tests.length);
  const req: Req = new Map();
  if (indexable && literals.size > 0 && !nullOk) req.set(field, literals);
  const base: Req = new Map();
  if (baseOk && bases.size > 0 && !nullOk) base.set(field, bases);
  const sub: Req = new Map();
  if (!keyword && !neq && !nullOk && itemSubs.length > 0) {
    // Any value may match: every one needs a substring. With |all every value must match: one suffices.
    let subs: Set<string> | undefined;
    if (all) {
      for (const s of itemSubs) if (s !== undefined && (subs === undefined || s.size < subs.size)) subs = s;
    } else if (itemSubs.every((s) => s !== undefined)) subs = union(itemSubs as Set<string>[]);
    if (subs !== undefined && subs.size > 0) sub.set(field, subs);
  }

  const nulls = (cs: Cand[]): boolean => {
    for (const c of cs) if (c.v !== null) return false;
    return true;
  };
  let pred: Pred;
  if (tests.length === 0) {
    pred = nullOk ? (c) => nulls(get(c)) : () => false;
  } else if (all) {
    pred = (c) => {
      const cs = get(c);
      for (const t of tests) {
        let hit = false;
        for (let i = 0; i < cs.length; i++) {
          if (t(cs[i]!)) {
            hit = true;
            break;
          }
        }
        if (!hit) return false;
      }
      return true;
    };
  } else if (tests.length === 1) {
    const t = tests[0]!;
    pred = (c) => {
      const cs = get(c);
      for (let i = 0; i < cs.length; i++) if (t(cs[i]!)) return true;
      return nullOk && nulls(cs);
    };
  } else {
    pred = (c) => {
      const cs = get(c);
      for (let i = 0; i < cs.length; i++) {
        const x = cs[i]!;
        for (let j = 0; j < tests.length; j++) if (tests[j]!(x)) return true;
      }
      return nullOk && nulls(cs);
    };
  }
  if (keyword && !all && !cased && !mods.includes('windash') && e.type === undefined && needles.length === tests.length && needles.every((n) => n !== '')) {
    // Keyword prefilter: one substring search over the record's joined text before per-value tests.
    const inner = pred;
    pred = (c) => {
      const text = c.keywordText();
      for (let i = 0; i < needles.length; i++) if (text.includes(needles[i]!)) return inner(c);
      return false;
    };
  }
  if (neq) {
    // The field is present (not null) and differs from every listed value.
    const inner = pred;
    pred = (c) => {
      const cs = get(c);
      return !nulls(cs) && !inner(c);
    };
  }
  const own = ownKey(req, base, sub);
  return { pred, req, base, sub, any: own && [own], cost: keyword ? cost + 10 : cost, need: new Set(keyword || nullOk ? [] : [field]) };
}

// ---- search identifiers and detections ----------------------------------------------------------

/**
 * An array block (model.ts, MArray): the member's detection is compiled against a field table of its own
 * and run on each member through one reusable context (a block's body never runs inside itself). It files
 * the rule under no key: what a member must hold says nothing certain about the event's own fields.
 */
export function compileArray(a: MArray, fields: FieldTable, root?: FieldTable): Node {
  const table = new FieldTable();
  const body = compileDetection(a.body, table, root ?? fields).pred;
  const ctx = new EvalCtx(table);
  const parts = a.path.split('.');
  const keys = pathKeys(parts);
  const n = parts.length;
  // The member's context: its fields, the member itself (`.`) and, for `|fieldref`, the event's context.
  const one = (c: EvalCtx, m: unknown): boolean => {
    ctx.reset((typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>);
    ctx.member = m;
    ctx.root = c.root;
    return body(ctx);
  };
  const members = (c: EvalCtx): unknown[] => {
    const out: unknown[] = [];
    resolveMembers(c.event, keys, n, out);
    return out;
  };
  let pred: Pred;
  switch (a.quant) {
    case 'any':
      pred = (c) => members(c).some((m) => one(c, m));
      break;
    case 'all':
      pred = (c) => {
        const ms = members(c);
        return ms.length > 0 && ms.every((m) => one(c, m));
      };
      break;
    case 'all_or_empty':
      pred = (c) => members(c).every((m) => one(c, m));
      break;
    case 'none':
      pred = (c) => !members(c).some((m) => one(c, m));
      break;
  }
  return { pred, req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: 12, need: new Set() };
}

/** `root`: inside an array block, the event's field table (what a `|fieldref` there compares with). */
export function compileSearch(s: MSearch, fields: FieldTable, root?: FieldTable): Node {
  if (s.t === 'entry') return compileEntry(s.e, fields, root);
  if (s.t === 'array') return compileArray(s.a, fields, root);
  const items = s.items.map((x) => compileSearch(x, fields, root));
  return s.t === 'and' ? andNode(items) : orNode(items);
}

/** Compiles a detection's model (a rule's `detection`, a filter's `filter`). */
export function compileDetection(det: MDetection, fields: FieldTable, root?: FieldTable): Node {
  const ids = new Map<string, Node>();
  for (const [name, s] of det.ids) ids.set(name, compileSearch(s, fields, root));
  const walk = (c: MCond): Node => {
    switch (c.t) {
      case 'id':
        return ids.get(c.name)!;
      case 'and':
        return andNode(c.items.map(walk));
      case 'or':
        return orNode(c.items.map(walk));
      case 'not':
        return notNode(walk(c.item));
      case 'of': {
        const nodes = c.names.map((h) => ids.get(h)!);
        if (c.quant === 'all') return andNode(nodes);
        if (c.quant === 1) return orNode(nodes);
        return atLeast(nodes, c.quant);
      }
    }
  };
  return orNode(det.conditions.map(walk));
}
