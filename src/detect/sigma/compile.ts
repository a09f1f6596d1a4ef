/**
 * Stage 3 of rule loading: a validated detection → one closure per search identifier and one for
 * the condition, so matching an event never walks an AST. Alongside, each node reports the
 * literals it *requires* (field → allowed lowercase values), which the rule index uses to skip
 * rules that cannot match.
 */
import type { Diagnostic } from './types.ts';
import type { YNode } from './read.ts';
import type { Pos } from './read.ts';
import { diag, warn } from './diagnostics.ts';
import type { Cand, EvalCtx, FieldTable } from './fields.ts';
import type { Cond } from './condition.ts';
import { ConditionError, expandPattern, parseCondition } from './condition.ts';
import { regexHazard } from './regex-safety.ts';
import {
  COMPARE, MODIFIERS, ONE, STAR, TIME_PARTS, cidrTest, compareOp, encodeBase64, encodeBase64Offset, encodeUtf16,
  DEFAULT_MAX_PLACEHOLDER_EXPANSION, expandPlaceholderValues, hasWildcards, literalOf, numberOf, parsePattern, patternTest, timePart, toJsRegex,
} from './modifiers.ts';
import type { Part, PipeValue, StrTest } from './modifiers.ts';
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

export interface CompileEnv {
  file: string;
  rule: string;
  fields: FieldTable;
  /** Rule field name → event field path (the logsource's field-mapping pipeline). */
  mapField: (name: string) => string;
  /** Rule value → event value for fields the source encodes differently (LogsourceMapping.mapValue). */
  mapValue?: (name: string, value: string) => string | undefined;
  placeholders: Record<string, string[]>;
  /** Bound on what one value's placeholders expand to (LoadOptions.maxPlaceholderExpansion). */
  maxPlaceholderExpansion?: number;
  diags: Diagnostic[];
}

class Fail extends Error {}

const TRUE: Pred = () => true;
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

type Scalar = Extract<YNode, { kind: 'scalar' }>;

function expandPlaceholders(raw: string, env: CompileEnv, pos: Pos): string[] | undefined {
  const r = expandPlaceholderValues(raw, env.placeholders, env.maxPlaceholderExpansion);
  if ('values' in r) return r.values;
  if ('tooMany' in r) {
    throw failAt(env, pos, 'SEAM_ERR_RULE_PLACEHOLDER', `placeholders in this value expand to ${r.tooMany} values, over the limit of ${env.maxPlaceholderExpansion ?? DEFAULT_MAX_PLACEHOLDER_EXPANSION} (maxPlaceholderExpansion)`);
  }
  env.diags.push(
    warn('SEAM_ERR_RULE_PLACEHOLDER', env.file, pos, `placeholder %${r.missing}% has no configured values; this value matches nothing (rule still loads)`, env.rule),
  );
  return undefined;
}

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
 * Applies the string transformation modifiers, in order, to one rule value. `subs` receives, per
 * resulting value, text the lowercase event value must contain for the test to pass (undefined when
 * there is none to be sure of).
 */
function stringTests(raw: string, mods: string[], env: CompileEnv, pos: Pos, keyword: boolean, needles?: string[], subs?: (string | undefined)[]): StrTest | undefined {
  const cased = mods.includes('cased');
  const windash = mods.includes('windash');
  let raws = [raw];
  if (mods.includes('expand')) {
    const e = expandPlaceholders(raw, env, pos);
    if (!e) return undefined;
    raws = e;
  }
  let vals: PipeValue[] = raws.map((r) => ({ parts: parsePattern(r), binary: false }));
  let positioned = false;
  for (const m of mods) {
    switch (m) {
      case 'contains':
        positioned = true;
        vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, true, true) }));
        break;
      case 'startswith':
        positioned = true;
        vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, false, true) }));
        break;
      case 'endswith':
        positioned = true;
        vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, true, false) }));
        break;
      case 'base64':
      case 'base64offset':
        if (vals.some((v) => hasWildcards(v.parts))) {
          throw failAt(env, pos, 'SEAM_ERR_RULE_VALUE', `'${m}' cannot encode a value with wildcards`);
        }
        vals = m === 'base64' ? vals.map(encodeBase64) : vals.flatMap(encodeBase64Offset);
        break;
      case 'utf16le':
      case 'wide':
        vals = vals.map((v) => encodeUtf16(v, 'utf16le'));
        break;
      case 'utf16be':
        vals = vals.map((v) => encodeUtf16(v, 'utf16be'));
        break;
      case 'utf16':
        vals = vals.map((v) => encodeUtf16(v, 'utf16'));
        break;
      default:
        break;
    }
  }
  // A keyword is searched for inside every field value, unless the rule positions it explicitly.
  if (keyword && !positioned) vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, true, true) }));
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

function wrap(p: Part[], left: boolean, right: boolean): Part[] {
  const out = [...p];
  if (left && out[0] !== STAR) out.unshift(STAR);
  if (right && out[out.length - 1] !== STAR) out.push(STAR);
  return out;
}

function failAt(env: CompileEnv, pos: Pos, code: Diagnostic['code'], message: string): Fail {
  env.diags.push(diag(code, env.file, pos, message, { rule: env.rule }));
  return new Fail(message);
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

const TYPE_MODS = ['re', 'cidr', 'fieldref', 'exists'];
const STRING_MODS = ['contains', 'startswith', 'endswith', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash', 'expand'];

/** Compiles `field|mod|mod: value(s)`; `field` empty means a keyword search over the whole record. */
export function compileEntry(key: string, keyPos: Pos, value: YNode, env: CompileEnv): Node {
  const [rawField = '', ...mods] = key.split('|');
  const keyword = rawField === '';
  for (const m of mods) {
    if (!MODIFIERS.has(m)) throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `unknown modifier '${m}'`);
    if ((m === 'i' || m === 'm' || m === 's') && !mods.includes('re')) {
      throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `modifier '${m}' is only valid after 're'`);
    }
  }
  const typeMods = mods.filter((m) => TYPE_MODS.includes(m));
  const strMods = mods.filter((m) => STRING_MODS.includes(m));
  const cmp = mods.filter((m) => COMPARE.has(m));
  const tpart = mods.filter((m) => TIME_PARTS.has(m));
  if (typeMods.length > 1 || (typeMods.length === 1 && typeMods[0] !== 'fieldref' && strMods.length > 0) || cmp.length > 1 || tpart.length > 1) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `modifiers '${mods.join('|')}' cannot be combined`);
  }
  if ((cmp.length || tpart.length) && (typeMods.length || strMods.length)) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `numeric/time modifiers cannot be combined with '${[...typeMods, ...strMods].join('|')}'`);
  }
  const field = keyword ? '' : env.mapField(rawField);
  const all = mods.includes('all');
  const neq = mods.includes('neq');
  const cased = mods.includes('cased');

  const items: Scalar[] = [];
  if (value.kind === 'scalar') items.push(value);
  else if (value.kind === 'seq') {
    for (const it of value.items) {
      if (it.kind !== 'scalar') throw failAt(env, it.pos, 'SEAM_ERR_RULE_SCHEMA', `values of '${key}' must be scalars`);
      items.push(it);
    }
    if (items.length === 0) throw failAt(env, value.pos, 'SEAM_ERR_RULE_SCHEMA', `'${key}' has an empty value list`);
  } else throw failAt(env, value.pos, 'SEAM_ERR_RULE_SCHEMA', `'${key}' must have a value or a list of values, not a map`);
  const mapValue = env.mapValue;
  if (mapValue !== undefined && !keyword && typeMods.length === 0 && strMods.length === 0 && cmp.length === 0 && tpart.length === 0) {
    // Plain (in)equality only: a translated value under `contains` or a regex would mean something else.
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.value === null) continue;
      const to = mapValue(rawField, typeof it.value === 'string' ? it.value : it.text);
      if (to !== undefined) items[i] = { ...it, value: to, text: to };
    }
  }

  if (keyword && (typeMods.includes('exists') || typeMods.includes('fieldref'))) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `'${typeMods[0]}' needs a field name`);
  }
  const fid = keyword ? -1 : env.fields.id(field);
  const get = keyword ? (c: EvalCtx) => c.keywords() : (c: EvalCtx) => c.get(fid);

  // exists: presence only, whatever the value.
  if (typeMods[0] === 'exists') {
    const v = items[0]!;
    const want = v.value === true || v.value === 'true' ? true : v.value === false || v.value === 'false' ? false : undefined;
    if (want === undefined || items.length !== 1) throw failAt(env, v.pos, 'SEAM_ERR_RULE_VALUE', `'exists' takes true or false`);
    return { pred: want ? (c) => get(c).length > 0 : (c) => get(c).length === 0, req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: 1, need: new Set(want ? [field] : []) };
  }

  if (typeMods[0] === 'fieldref') {
    const refs = items.map((it) => {
      if (typeof it.value !== 'string') throw failAt(env, it.pos, 'SEAM_ERR_RULE_VALUE', `'fieldref' takes field names`);
      return env.fields.id(env.mapField(it.value));
    });
    const pos = mods.includes('contains') ? 'c' : mods.includes('startswith') ? 's' : mods.includes('endswith') ? 'e' : '=';
    const same = (a: Cand, b: Cand): boolean => {
      const x = cased ? a.s : a.l;
      const y = cased ? b.s : b.l;
      if (x === undefined || y === undefined) return false;
      return pos === '=' ? x === y : pos === 'c' ? x.includes(y) : pos === 's' ? x.startsWith(y) : x.endsWith(y);
    };
    const one = (c: EvalCtx, r: number): boolean => {
      const as = get(c);
      const bs = c.get(r);
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
    const v = it.value;
    if (v === null) {
      if (items.length > 1) env.diags.push(warn('SEAM_ERR_RULE_VALUE', env.file, it.pos, `null in a value list (the specification asks for a separate selection)`, env.rule));
      nullOk = true;
      indexable = false;
      baseOk = false;
      continue;
    }
    if (typeof v !== 'string') baseOk = false;
    if (typeMods[0] === 're') {
      const flags = (mods.includes('i') ? 'i' : '') + (mods.includes('m') ? 'm' : '') + (mods.includes('s') ? 's' : '');
      let re: RegExp;
      try {
        re = toJsRegex(String(v), flags);
      } catch (e) {
        throw failAt(env, it.pos, 'SEAM_ERR_RULE_REGEX', `invalid regular expression: ${(e as Error).message}`);
      }
      // Rules run synchronously in the roles: a pattern that can backtrack exponentially is refused (ADR 0010).
      const hazard = regexHazard(re.source, re.flags);
      if (hazard !== undefined) {
        throw failAt(env, { line: it.pos.line, column: it.pos.column + hazard.offset }, 'SEAM_ERR_RULE_REGEX', `regular expression refused at character ${hazard.offset + 1} of /${re.source}/: ${hazard.message}; rewrite it without nested or ambiguous repetition`);
      }
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
    if (typeMods[0] === 'cidr') {
      const t = cidrTest(String(v));
      if (!t) throw failAt(env, it.pos, 'SEAM_ERR_RULE_VALUE', `'${String(v)}' is not a CIDR range`);
      tests.push(t);
      itemSubs.push(undefined);
      cost = Math.max(cost, 6);
      continue;
    }
    if (cmp.length || tpart.length) {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n)) throw failAt(env, it.pos, 'SEAM_ERR_RULE_VALUE', `'${mods.join('|')}' needs a number, got '${String(v)}'`);
      const op = cmp[0] ?? 'eq';
      const part = tpart[0];
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
    if (typeof v === 'boolean') {
      const s = String(v);
      tests.push((c) => c.v === v || c.l === s);
      literals.add(s);
      itemSubs.push(undefined);
      continue;
    }
    if (typeof v === 'number' && strMods.length === 0) {
      const text = it.text.toLowerCase();
      itemSubs.push(undefined);
      tests.push((c) => c.v === v || c.l === text || (typeof c.v === 'string' && numberOf(c) === v));
      // Not indexable: the test also accepts other spellings of the number ("0403", "403.0"), which an
      // index keyed by the literal's text would never look up.
      indexable = false;
      continue;
    }
    const raw = typeof v === 'string' ? v : it.text;
    if (eqSet !== undefined && typeof v === 'string') {
      const parts = parsePattern(raw);
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
    const t = stringTests(raw, mods, env, it.pos, keyword, keyword ? needles : undefined, runs);
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
    if (hasWildcards(parts) || strMods.length) cost = Math.max(cost, 2);
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
  if (keyword && !all && !cased && !mods.includes('windash') && typeMods.length === 0 && needles.length === tests.length && needles.every((n) => n !== '')) {
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

function compileMap(node: Extract<YNode, { kind: 'map' }>, env: CompileEnv): Node {
  if (node.entries.length === 0) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier map is empty');
  return andNode(node.entries.map((e) => compileEntry(e.key, e.keyPos, e.value, env)));
}

export function compileSearch(node: YNode, env: CompileEnv): Node {
  if (node.kind === 'map') return compileMap(node, env);
  if (node.kind === 'scalar') {
    if (node.value === null) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier is empty');
    return compileEntry('', node.pos, node, env);
  }
  if (node.items.length === 0) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier list is empty');
  const scalars = node.items.filter((i) => i.kind === 'scalar');
  const parts: Node[] = [];
  if (scalars.length) parts.push(compileEntry('', scalars[0]!.pos, { kind: 'seq', pos: node.pos, items: scalars }, env));
  for (const it of node.items) {
    if (it.kind === 'map') parts.push(compileMap(it, env));
    else if (it.kind === 'seq') throw failAt(env, it.pos, 'SEAM_ERR_RULE_SCHEMA', 'nested lists are not allowed in a search identifier');
  }
  return orNode(parts);
}

function condPos(base: Pos, offset: number, quoted: boolean): Pos {
  return { line: base.line, column: base.column + offset + (quoted ? 1 : 0) };
}

export function compileCondition(src: string, pos: Pos, quoted: boolean, ids: Map<string, Node>, env: CompileEnv): Node {
  let ast: Cond;
  try {
    ast = parseCondition(src);
  } catch (e) {
    if (e instanceof ConditionError) throw failAt(env, condPos(pos, e.offset, quoted), 'SEAM_ERR_RULE_CONDITION', `condition: ${e.message}`);
    throw e;
  }
  const names = [...ids.keys()];
  const walk = (c: Cond): Node => {
    switch (c.t) {
      case 'id': {
        const n = ids.get(c.name);
        if (!n) throw failAt(env, condPos(pos, c.offset, quoted), 'SEAM_ERR_RULE_REFERENCE', `condition refers to undefined search identifier '${c.name}'`);
        return n;
      }
      case 'and':
        return andNode(c.items.map(walk));
      case 'or':
        return orNode(c.items.map(walk));
      case 'not':
        return notNode(walk(c.item));
      case 'of': {
        const hit = expandPattern(c.pattern, names);
        if (hit.length === 0) {
          throw failAt(env, condPos(pos, c.offset, quoted), 'SEAM_ERR_RULE_REFERENCE', `'${c.pattern}' matches no search identifier`);
        }
        const nodes = hit.map((h) => ids.get(h)!);
        if (c.quant === 'all') return andNode(nodes);
        if (c.quant === 1) return orNode(nodes);
        return atLeast(nodes, c.quant);
      }
    }
  };
  return walk(ast);
}

/**
 * Compiles a `detection` (or a filter's `filter`) map. `skip` names keys that are not search
 * identifiers (`condition`, and `rules` for filters). Returns undefined after recording diagnostics.
 */
export function compileDetection(det: YNode, env: CompileEnv, skip: readonly string[] = ['condition']): Node | undefined {
  if (det.kind !== 'map') {
    env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, det.pos, 'detection must be a map', { rule: env.rule }));
    return undefined;
  }
  const ids = new Map<string, Node>();
  let failed = false;
  let cond: Extract<YNode, { kind: 'scalar' }>[] = [];
  for (const e of det.entries) {
    if (e.key === 'condition') {
      if (e.value.kind === 'scalar' && typeof e.value.value === 'string') cond = [e.value];
      else if (e.value.kind === 'seq' && e.value.items.length && e.value.items.every((i) => i.kind === 'scalar' && typeof i.value === 'string')) {
        cond = e.value.items as typeof cond;
      } else {
        env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, e.value.pos, 'condition must be a string or a list of strings', { rule: env.rule }));
        failed = true;
      }
      continue;
    }
    if (skip.includes(e.key)) continue;
    try {
      ids.set(e.key, compileSearch(e.value, env));
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
      failed = true;
      ids.set(e.key, { pred: TRUE, req: new Map(), base: new Map(), sub: new Map(), any: undefined, cost: 0, need: new Set() }); // placeholder so the condition still gets checked
    }
  }
  if (cond.length === 0 && !failed) {
    env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, det.pos, 'detection has no condition', { rule: env.rule }));
    return undefined;
  }
  const nodes: Node[] = [];
  for (const c of cond) {
    try {
      const quoted = false;
      nodes.push(compileCondition(c.value as string, c.pos, quoted, ids, env));
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
      failed = true;
    }
  }
  if (failed) return undefined;
  return orNode(nodes);
}
