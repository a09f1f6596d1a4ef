/**
 * Compiles Sigma rules to OpenSearch query DSL with the streaming engine's semantics, from the same rule
 * model the engine compiles (src/detect/sigma/model.ts, ADR 0017: fields mapped, values mapped, placeholders
 * expanded and string modifiers applied once), so one rule serves both streaming and retrospective hunting.
 *
 * Each part of a rule compiles to a pair of queries (see query.ts): where the DSL can say exactly
 * what the engine says, the rule's query is exact. Where it cannot (a field present with a null
 * value counts for `exists` but is not indexed; a numeric string such as "0200" equals 200; a regex
 * with a word boundary; a time part), the part contributes a superset, the whole rule's query is a
 * superset, and `verify` is set: the hunter re-checks every hit with the streaming engine. A rule
 * whose superset would be "every event of the source" is reported as not huntable.
 */
import type { SourceType } from '../core/envelope.ts';
import { parseCidr } from '../core/ip.ts';
import { ONE, STAR, hasWildcards, literalOf } from '../detect/sigma/modifiers.ts';
import type { Part } from '../detect/sigma/modifiers.ts';
import { logsourceCovers } from '../detect/sigma/logsource.ts';
import { buildRuleModel } from '../detect/sigma/model.ts';
import type { MCond, MDetection, MEntry, MSearch, RuleModel } from '../detect/sigma/model.ts';
import { readYaml } from '../detect/sigma/read.ts';
import { loadRules, throwIfEmpty } from '../detect/sigma/ruleset.ts';
import type { SigmaRuleset } from '../detect/sigma/ruleset.ts';
import type { Diagnostic, Logsource, RuleOverride } from '../detect/sigma/types.ts';
import { validateDoc } from '../detect/sigma/validate.ts';
import { templateResolver } from './fields.ts';
import type { FieldInfo, FieldResolver } from './fields.ts';
import { bAnd, bAtLeast, bNot, bOr, exact, inexact, qAnd, qOr, toDsl } from './query.ts';
import type { Bounds, Dsl, Q } from './query.ts';
import { Untranslatable, ipv4CidrToLucene, jsRegexToLucene, windashToLucene } from './regex.ts';

export interface HuntCompileOptions {
  /** Index prefix (`<prefix>-events-<source>-*`); default `seam`. */
  indexPrefix?: string;
  /** Values for `|expand` placeholders, as the streaming engine is given them. */
  placeholders?: Record<string, string[]>;
  /** Field kinds of the indices searched; default: from Seam's index templates. */
  fields?: (source: SourceType) => FieldResolver;
  /** Meta-filters (`filter:` documents) to apply to the rule, as the engine does. */
  filters?: HuntFilter[];
  /** seam.yml `rules.overrides`, as the engine is given them: a disabled rule is not hunted (compileRulesetToDsl). */
  overrides?: readonly RuleOverride[];
}

export interface HuntFilter {
  id?: string;
  title: string;
  logsource: Logsource;
  targets: string[];
  /** `rules: any` (or `all`): every rule whose logsource the filter's covers. */
  allRules?: boolean;
  /** The filter's model, its fields mapped by its own logsource (as the engine compiles it). */
  detection: MDetection;
}

export type HuntCompileResult =
  | {
      ok: true;
      index: string;
      source: SourceType;
      query: Dsl;
      /** True when hits must be re-checked with the streaming engine (the query is a superset). */
      verify: boolean;
      /** Why the query is not exact, when `verify` is set. */
      notes: string[];
    }
  | { ok: false; reason: string };

class NotHuntable extends Error {}

interface Env {
  source: SourceType;
  field: FieldResolver;
}

// ---- field-level building blocks ----------------------------------------------------------------

const ci = (q: Record<string, unknown>, cased: boolean): Record<string, unknown> => (cased ? q : { ...q, case_insensitive: true });
const term = (f: string, value: unknown, cased = true): Dsl => ({ term: { [f]: ci({ value }, cased || typeof value !== 'string') } });
const existsQ = (f: string): Dsl => ({ exists: { field: f } });
/** Documents whose value of `f` the index kept out because it was not of the field's type (`ignore_malformed`). */
const ignoredQ = (f: string): Dsl => ({ term: { _ignored: f } });
/** Superset of "the field has a value": on a lenient field, a value of the wrong type is only found through `_ignored`. */
const valuedQ = (f: string, info: FieldInfo): Q => (info.lenient ? qOr([existsQ(f), ignoredQ(f)]) : existsQ(f));
const anyValue = (f: string): Dsl => ({ wildcard: { [f]: { value: '*' } } });
const regexpQ = (f: string, value: string): Dsl => ({ regexp: { [f]: { value, flags: 'NONE', max_determinized_states: 100000 } } });

/** The field has at least one non-null value (objects count) — the engine's `not null`. */
function notNull(f: string, info: FieldInfo): Bounds {
  switch (info.kind) {
    case 'keyword':
    case 'long':
    case 'float':
    case 'boolean':
    case 'date':
    case 'ip':
      return info.lenient
        ? inexact(existsQ(f), valuedQ(f, info), `'${f}' may hold a value the index ignored as malformed, which only the engine sees`)
        : exact(existsQ(f));
    case 'flat':
      // `exists` works one level into a flat_object, a `*` wildcard on leaves at any depth; an object value deeper down is invisible.
      return inexact(qOr([existsQ(f), anyValue(f)]), true, `'${f}' may hold an object inside a flat_object, which only the engine sees`);
    default:
      return inexact(existsQ(f), true, `'${f}' may hold an empty object, which OpenSearch does not index`);
  }
}

/** The engine's `exists: true`: present at all, even with a null value. */
function present(f: string, info: FieldInfo): Bounds {
  const nn = notNull(f, info);
  return inexact(nn.lo, true, `'${f}' may be present with a null value, which counts for 'exists' but is not indexed`);
}

/** Superset of "the field holds a scalar value". */
function scalarHi(f: string, info: FieldInfo): Q {
  switch (info.kind) {
    case 'flat':
      return anyValue(f);
    case 'object':
      return false;
    case 'mixed':
      return true;
    default:
      return valuedQ(f, info);
  }
}

function stringLike(info: FieldInfo): boolean {
  return info.kind === 'keyword' || info.kind === 'flat' || info.kind === 'unknown';
}

/** Lucene wildcard text for Sigma pattern parts. */
function wildcardText(parts: readonly Part[]): string {
  return parts.map((p) => (p === STAR ? '*' : p === ONE ? '?' : p.replace(/[*?\\]/g, '\\$&'))).join('');
}

/** One Sigma string pattern (after encodings) on a field, as the engine's `patternTest`. */
function patternBounds(f: string, info: FieldInfo, parts: Part[], cased: boolean, windash: boolean): Bounds {
  if (stringLike(info)) {
    if (windash) {
      try {
        return exact(regexpQ(f, windashToLucene(parts, cased)));
      } catch (e) {
        if (!(e instanceof Untranslatable)) throw e;
        return inexact(false, scalarHi(f, info), `windash pattern: ${e.message}`);
      }
    }
    if (parts.length === 0) return exact(term(f, ''));
    if (!hasWildcards(parts)) return exact(term(f, literalOf(parts), cased));
    if (parts.length === 1 && parts[0] === STAR) return exact(anyValue(f));
    if (parts.length === 2 && parts[1] === STAR && typeof parts[0] === 'string') return exact({ prefix: { [f]: ci({ value: parts[0] }, cased) } });
    return exact({ wildcard: { [f]: ci({ value: wildcardText(parts) }, cased) } });
  }
  const literal = hasWildcards(parts) || windash ? undefined : literalOf(parts);
  switch (info.kind) {
    case 'long': {
      if (literal === undefined) return inexact(false, valuedQ(f, info), `text pattern on numeric field '${f}'`);
      const n = Number(literal);
      // A number's text is canonical: only canonical literals can equal it.
      if (literal.trim() === literal && literal !== '' && Number.isSafeInteger(n) && String(n) === literal) return exact(term(f, n));
      // Other text can only equal a value of the wrong type: not indexed (see loosened for the fields that keep it).
      return exact(false);
    }
    case 'boolean': {
      if (literal === undefined) return inexact(false, existsQ(f), `text pattern on boolean field '${f}'`);
      const l = cased ? literal : literal.toLowerCase();
      return exact(l === 'true' || l === 'false' ? term(f, l === 'true') : false);
    }
    case 'object':
      return exact(false);
    case 'mixed':
      return inexact(false, true, `'${f}' has different types in different indices`);
    default:
      return inexact(false, valuedQ(f, info), `text pattern on ${info.kind} field '${f}'`);
  }
}

function cidrBounds(f: string, info: FieldInfo, spec: string): Bounds {
  const range = parseCidr(spec);
  if (range === undefined) throw new NotHuntable(`'${spec}' is not a CIDR range`);
  const bytes = range.address.toByteArray();
  const bits = range.bits;
  if (range.kind === 'ipv4' && stringLike(info)) {
    return exact(regexpQ(f, ipv4CidrToLucene(bytes, bits)));
  }
  if (range.kind === 'ipv6' && info.ipField && (info.kind === 'keyword' || info.kind === 'ip')) {
    // The ip field stores IPv4 as ::ffff:a.b.c.d, which the engine reads as IPv4: only ranges clear of that block are safe.
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    let overlap = true;
    for (let b = 0; b < Math.min(bits, 96); b++) {
      const byte = b >> 3;
      const mask = 0x80 >> (b & 7);
      if ((bytes[byte]! & mask) !== (mapped[byte]! & mask)) {
        overlap = false;
        break;
      }
    }
    const lo: Q = overlap ? false : term(info.ipField, spec.trim());
    return inexact(lo, scalarHi(f, info), `IPv6 CIDR on '${f}': values OpenSearch cannot parse as addresses are only checked by the engine`);
  }
  return inexact(false, scalarHi(f, info), `CIDR on ${info.kind} field '${f}'`);
}

function numberBounds(f: string, info: FieldInfo, v: number, text: string): Bounds {
  switch (info.kind) {
    case 'long':
      return Number.isSafeInteger(v) ? exact(term(f, v)) : exact(false);
    case 'float':
      return inexact(false, term(f, v), `'${f}' is indexed as a 32/64-bit float; equality is checked by the engine`);
    case 'keyword':
    case 'flat':
    case 'unknown':
      return inexact(qOr([term(f, String(v)), term(f, text.toLowerCase(), false)]), scalarHi(f, info), `'${f}' holds text: other spellings of ${text} (e.g. "0${String(v)}") are checked by the engine`);
    case 'object':
      return exact(false);
    default:
      return inexact(false, scalarHi(f, info), `number on ${info.kind} field '${f}'`);
  }
}

function compareBounds(f: string, info: FieldInfo, op: string, n: number): Bounds {
  if (info.kind === 'long') return exact({ range: { [f]: { [op]: n } } });
  if (info.kind === 'object') return exact(false);
  return inexact(false, scalarHi(f, info), `numeric comparison on ${info.kind} field '${f}' is checked by the engine`);
}

/**
 * One value's test on a field whose index does not hold every value the engine reads. The engine reads text as
 * a decimal number (`"0403"`, `"403.0"` equal 403) and numbers as text (403 equals `'403'`), and tests `true` against
 * the text `"true"`; on a lenient field each such value of the wrong kind is only named in `_ignored`, so the
 * superset takes those documents in and the engine decides. A field that coerces indexes `"0403"` and 403.5
 * as 403: no hit of a term is certain there, and any value may be one the engine matches.
 */
function loosened(f: string, info: FieldInfo, t: Bounds): Bounds {
  if (info.coerced) return inexact(false, qOr([t.hi, valuedQ(f, info)]), `'${f}' coerces text and fractions to numbers in the index; the engine confirms each value`);
  return inexact(t.lo, qOr([t.hi, ignoredQ(f)]), `'${f}' may hold a value the index ignored as malformed (text on a number field), which only the engine reads`);
}

/** One field entry of the model (see MEntry), as the engine's compileEntry reads it. */
function compileEntry(e: MEntry, env: Env): Bounds {
  if (e.keyword) return inexact(false, true, 'keyword search (any field of the record contains the value) has no exact DSL form');
  const f = e.path;
  const info = env.field(f);
  const { all, neq, cased, windash } = e;

  if (e.type === 'exists') {
    const p = present(f, info);
    return e.exists === true ? p : bNot(p);
  }
  if (e.type === 'fieldref') {
    const hi = neq ? true : scalarHi(f, info);
    return inexact(false, hi, `'fieldref' compares two fields of one event; checked by the engine`);
  }

  let nullOk = false;
  const tests: Bounds[] = [];
  for (const it of e.items) {
    switch (it.k) {
      case 'null':
        nullOk = true;
        break;
      case 're':
        if (!stringLike(info)) {
          tests.push(info.kind === 'object' ? exact(false) : inexact(false, scalarHi(f, info), `regex on ${info.kind} field '${f}'`));
          break;
        }
        try {
          tests.push(exact(regexpQ(f, jsRegexToLucene(it.src, it.flags))));
        } catch (err) {
          if (!(err instanceof Untranslatable)) throw err;
          tests.push(inexact(false, scalarHi(f, info), `regex /${it.src}/: ${err.message} has no Lucene form; checked by the engine`));
        }
        break;
      case 'cidr':
        tests.push(cidrBounds(f, info, it.spec));
        break;
      case 'cmp':
        if (e.tpart !== undefined) tests.push(inexact(false, scalarHi(f, info), `time part '${e.tpart}' of '${f}' is checked by the engine`));
        else tests.push(compareBounds(f, info, e.cmp!, it.n));
        break;
      case 'bool':
        if (stringLike(info)) tests.push(exact(term(f, String(it.v), false)));
        else if (info.kind === 'boolean') tests.push(exact(term(f, it.v)));
        else if (info.kind === 'mixed') tests.push(inexact(false, true, `'${f}' has different types in different indices`));
        else tests.push(exact(false));
        break;
      case 'num':
        tests.push(numberBounds(f, info, it.v, it.text));
        break;
      case 'str':
        // An unknown placeholder: this value matches nothing, as in the engine.
        if (it.vals !== undefined) tests.push(bOr(it.vals.map((pv) => patternBounds(f, info, pv.parts, cased, windash))));
        break;
    }
  }

  if (info.lenient || info.coerced) for (let i = 0; i < tests.length; i++) tests[i] = loosened(f, info, tests[i]!);
  let b: Bounds;
  const isNull = (): Bounds => bNot(notNull(f, info));
  if (tests.length === 0) b = nullOk ? isNull() : exact(false);
  else if (all) b = bAnd(tests);
  else b = bOr(nullOk ? [...tests, isNull()] : tests);
  if (neq) b = bAnd([notNull(f, info), bNot(b)]);
  return b;
}

function compileSearch(s: MSearch, env: Env): Bounds {
  if (s.t === 'entry') return compileEntry(s.e, env);
  if (s.t === 'array') {
    // Seam's array block (model.ts, MArray): the index flattens arrays of objects, so no query can tie two
    // tests to one member. Nothing is certain either way; the rest of the rule narrows, the engine decides.
    return inexact(false, true, `array block '${s.a.field}[${s.a.quant}]' is judged member by member, which the index's flattened arrays cannot; checked by the engine`);
  }
  const items = s.items.map((x) => compileSearch(x, env));
  return s.t === 'and' ? bAnd(items) : bOr(items);
}

function compileDetection(det: MDetection, env: Env): Bounds {
  const ids = new Map<string, Bounds>();
  for (const [name, s] of det.ids) ids.set(name, compileSearch(s, env));
  const walk = (c: MCond): Bounds => {
    switch (c.t) {
      case 'id':
        return ids.get(c.name)!;
      case 'and':
        return bAnd(c.items.map(walk));
      case 'or':
        return bOr(c.items.map(walk));
      case 'not':
        return bNot(walk(c.item));
      case 'of': {
        const hit = c.names.map((h) => ids.get(h)!);
        if (c.quant === 'all') return bAnd(hit);
        return bAtLeast(c.quant, hit);
      }
    }
  };
  if (det.conditions.length === 0) throw new NotHuntable('detection has no condition');
  return bOr(det.conditions.map(walk));
}

// ---- public API ---------------------------------------------------------------------------------

/** Compiles one rule (its model, as the loader built it) to the index pattern and query to hunt it with. */
export function compileRuleToDsl(rule: RuleModel, opts: HuntCompileOptions = {}): HuntCompileResult {
  const meta = rule.meta;
  if (rule.kind !== 'rule') return { ok: false, reason: 'not a detection rule' };
  if (!rule.source) {
    const ls = ['product', 'category', 'service'].flatMap((k) => (meta.logsource[k as keyof Logsource] ? [`${k}: ${meta.logsource[k as keyof Logsource]}`] : []));
    return { ok: false, reason: `logsource (${ls.join(', ')}) maps to no Seam source` };
  }
  if (!rule.detection) return { ok: false, reason: 'the detection has problems (seam rules lint)' };
  const source = rule.source;
  const env: Env = { source, field: (opts.fields ?? templateResolver)(source) };
  try {
    let b = compileDetection(rule.detection, env);
    for (const flt of opts.filters ?? []) {
      if (flt.allRules !== true && !flt.targets.some((t) => t === meta.id || t === meta.name)) continue;
      if (!logsourceCovers(flt.logsource, meta.logsource)) continue;
      // ANDed as written, as the engine does (Sigma spec, pySigma): an exclusion is `condition: not selection`.
      b = bAnd([b, compileDetection(flt.detection, env)]);
    }
    const prefix = opts.indexPrefix ?? 'seam';
    const restrict = term('seam.source', source);
    if (b.exact) return { ok: true, index: `${prefix}-events-${source}-*`, source, query: toDsl(qAnd([restrict, b.lo])), verify: false, notes: [] };
    if (b.hi === true) {
      return { ok: false, reason: `no part of the rule narrows the search below every ${source} event: ${b.notes.join('; ')}` };
    }
    return { ok: true, index: `${prefix}-events-${source}-*`, source, query: toDsl(qAnd([restrict, b.hi])), verify: true, notes: b.notes };
  } catch (e) {
    if (e instanceof NotHuntable) return { ok: false, reason: e.message };
    throw e;
  }
}

export interface RulesetHuntEntry {
  /** Rule id (or `file:line` when it has none), as the streaming engine names it. */
  id: string;
  title: string;
  file: string;
  result: HuntCompileResult;
}

/** The reason a correlation has no query of its own (its start; the rest names the rules it uses). */
export const CORRELATION_NOT_HUNTED = 'correlation: no query of its own; hunted through its rules\' events and the correlation engine';

export interface RulesetHuntResult {
  /** The Sigma rules, each huntable or not. */
  rules: RulesetHuntEntry[];
  /**
   * The correlations, apart from `rules` and its counts (`counts.correlations`): none has a query of its own
   * (CORRELATION_NOT_HUNTED, or disabled by an override); src/hunt/correlate.ts plans and hunts them (ADR 0058).
   */
  correlations: RulesetHuntEntry[];
  counts: { rules: number; huntable: number; exact: number; verified: number; notHuntable: number; correlations: number; byReason: Record<string, number> };
  /** The streaming rule set over the same files (for verifying hits). */
  ruleset: SigmaRuleset;
  diagnostics: Diagnostic[];
  /** What each site override applied changed (LoadResult.overrides). */
  overrides?: string[];
}

/** Short reason class for counting ("logsource maps to no Seam source", "keyword search ..."). */
export function reasonClass(reason: string): string {
  return reason.replace(/\(.*?\)/g, '(…)').replace(/'[^']*'/g, "'…'").replace(/\/.*\//g, '/…/').slice(0, 120);
}

/**
 * Compiles every rule under the given files and folders. Rules the streaming engine rejects are
 * not huntable either (with the engine's first error as the reason); meta-filters apply as in the engine.
 */
export async function compileRulesetToDsl(paths: string[], opts: Omit<HuntCompileOptions, 'filters'> = {}): Promise<RulesetHuntResult> {
  const loaded = await loadRules(paths, { keepModels: true, ...(opts.placeholders ? { placeholders: opts.placeholders } : {}), ...(opts.overrides?.length ? { overrides: opts.overrides } : {}) });
  throwIfEmpty(loaded);
  const models = loaded.models ?? [];
  const filters: HuntFilter[] = models.flatMap((m) =>
    m.kind === 'filter' && m.detection ? [{ ...(m.meta.id ? { id: m.meta.id } : {}), title: m.meta.title, logsource: m.meta.logsource, targets: (m.meta.targets ?? []).map((t) => t.ref), ...(m.meta.allRules === true ? { allRules: true } : {}), detection: m.detection }] : [],
  );
  const loadedIds = new Set(loaded.ruleset.rules.map((r) => r.id));
  const disabled = new Set((opts.overrides ?? []).filter((o) => o.disabled === true).map((o) => o.rule));
  const rules: RulesetHuntEntry[] = [];
  const correlations: RulesetHuntEntry[] = [];
  for (const m of models) {
    if (m.kind === 'correlation') {
      // A search finds events, not counts or sequences per group over a window: a correlation has no query of its
      // own. src/hunt/correlate.ts hunts it through its rules' events and the stream's engine (ADR 0058).
      const id = m.meta.id ?? `${m.file}:${m.meta.pos.line}`;
      const corrDisabled = !loaded.ruleset.correlations.some((c) => (c.id ?? `${c.file}:${c.line}`) === id);
      const reason = corrDisabled && (disabled.has(id) || (m.meta.name !== undefined && disabled.has(m.meta.name)))
        ? 'disabled by seam.yml rules.overrides'
        : `${CORRELATION_NOT_HUNTED} (${(m.meta.targets ?? []).map((t) => t.ref).join(', ') || 'none named'}; docs/hunting.md, Correlations)`;
      correlations.push({ id, title: m.meta.title, file: m.file, result: { ok: false, reason } });
      continue;
    }
    if (m.kind !== 'rule') continue;
    const id = m.meta.id ?? `${m.file}:${m.meta.pos.line}`;
    let result: HuntCompileResult;
    if (!loadedIds.has(id) && (disabled.has(id) || (m.meta.name !== undefined && disabled.has(m.meta.name)))) {
      result = { ok: false, reason: 'disabled by seam.yml rules.overrides' };
    } else if (!loadedIds.has(id)) {
      const err = loaded.diagnostics.find((x) => x.severity === 'error' && x.file === m.file && (x.rule === id || x.rule === m.meta.title));
      result = { ok: false, reason: `the streaming engine does not load this rule${err ? `: ${err.message}` : ''}` };
    } else result = compileRuleToDsl(m, { ...opts, filters });
    rules.push({ id, title: m.meta.title, file: m.file, result });
  }
  const byReason: Record<string, number> = {};
  let huntable = 0;
  let verified = 0;
  for (const r of rules) {
    if (r.result.ok) {
      huntable++;
      if (r.result.verify) verified++;
    } else {
      const k = reasonClass(r.result.reason);
      byReason[k] = (byReason[k] ?? 0) + 1;
    }
  }
  return {
    rules,
    correlations,
    counts: { rules: rules.length, huntable, exact: huntable - verified, verified, notHuntable: rules.length - huntable, correlations: correlations.length, byReason },
    ruleset: loaded.ruleset,
    diagnostics: loaded.diagnostics,
    ...(loaded.overrides ? { overrides: loaded.overrides } : {}),
  };
}

/** Convenience for tests on one YAML text (meta-filters in it are not applied). */
export function compileRuleTextToDsl(text: string, file: string, opts: HuntCompileOptions = {}): HuntCompileResult[] {
  const out: HuntCompileResult[] = [];
  for (const doc of readYaml(text, file).docs) {
    const diags: Diagnostic[] = [];
    const meta = validateDoc(doc, file, diags);
    const model = meta && meta.kind === 'rule' ? buildRuleModel(meta, file, { placeholders: opts.placeholders ?? {} }, diags) : undefined;
    const error = diags.find((d) => d.severity === 'error');
    if (!meta || (meta.kind === 'rule' && (error !== undefined || model?.detection === undefined))) {
      out.push({ ok: false, reason: error?.message ?? 'invalid rule' });
      continue;
    }
    if (model === undefined) continue;
    out.push(compileRuleToDsl(model, opts));
  }
  return out;
}
