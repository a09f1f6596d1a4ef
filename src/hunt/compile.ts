/**
 * Compiles Sigma rules to OpenSearch query DSL with the streaming engine's semantics
 * (src/detect/sigma/compile.ts), so one rule serves both streaming and retrospective hunting.
 *
 * Each part of a rule compiles to a pair of queries (see query.ts): where the DSL can say exactly
 * what the engine says, the rule's query is exact. Where it cannot (a field present with a null
 * value counts for `exists` but is not indexed; a numeric string such as "0200" equals 200; a regex
 * with a word boundary; a time part), the part contributes a superset, the whole rule's query is a
 * superset, and `verify` is set: the hunter re-checks every hit with the streaming engine. A rule
 * whose superset would be "every event of the source" is reported as not huntable.
 */
import { readFile } from 'node:fs/promises';
import type { SourceType } from '../core/envelope.ts';
import { parseCidr } from '../core/ip.ts';
import { expandPattern, parseCondition } from '../detect/sigma/condition.ts';
import type { Cond } from '../detect/sigma/condition.ts';
import {
  COMPARE, ONE, STAR, TIME_PARTS, encodeBase64, encodeBase64Offset, encodeUtf16, expandPlaceholderValues, hasWildcards, literalOf, parsePattern,
} from '../detect/sigma/modifiers.ts';
import type { Part, PipeValue } from '../detect/sigma/modifiers.ts';
import { logsourceCovers, mapLogsource } from '../detect/sigma/logsource.ts';
import { readYaml } from '../detect/sigma/read.ts';
import type { ReadDoc, YNode } from '../detect/sigma/read.ts';
import { loadRules } from '../detect/sigma/ruleset.ts';
import type { SigmaRuleset } from '../detect/sigma/ruleset.ts';
import type { Diagnostic, Logsource } from '../detect/sigma/types.ts';
import { validateDoc } from '../detect/sigma/validate.ts';
import type { RuleMeta } from '../detect/sigma/validate.ts';
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
}

export interface HuntFilter {
  id?: string;
  title: string;
  logsource: Logsource;
  targets: string[];
  detection: YNode;
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

export interface RuleDoc {
  meta: RuleMeta;
  file: string;
}

class NotHuntable extends Error {}

interface Env {
  source: SourceType;
  mapField: (f: string) => string;
  /** Rule value → event value, as the engine applies it (LogsourceMapping.mapValue). */
  mapValue?: (field: string, value: string) => string | undefined;
  field: FieldResolver;
  placeholders: Record<string, string[]>;
}

// ---- field-level building blocks ----------------------------------------------------------------

const ci = (q: Record<string, unknown>, cased: boolean): Record<string, unknown> => (cased ? q : { ...q, case_insensitive: true });
const term = (f: string, value: unknown, cased = true): Dsl => ({ term: { [f]: ci({ value }, cased || typeof value !== 'string') } });
const existsQ = (f: string): Dsl => ({ exists: { field: f } });
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
      return exact(existsQ(f));
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
      return existsQ(f);
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
      if (literal === undefined) return inexact(false, existsQ(f), `text pattern on numeric field '${f}'`);
      const n = Number(literal);
      // A number's text is canonical: only canonical literals can equal it.
      return exact(literal.trim() === literal && literal !== '' && Number.isSafeInteger(n) && String(n) === literal ? term(f, n) : false);
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
      return inexact(false, existsQ(f), `text pattern on ${info.kind} field '${f}'`);
  }
}

// ---- values and modifiers (mirrors compileEntry in src/detect/sigma/compile.ts) -----------------

function expandPlaceholders(raw: string, env: Env): string[] | undefined {
  const r = expandPlaceholderValues(raw, env.placeholders);
  return 'values' in r ? r.values : undefined;
}

function wrap(p: Part[], left: boolean, right: boolean): Part[] {
  const out = [...p];
  if (left && out[0] !== STAR) out.unshift(STAR);
  if (right && out[out.length - 1] !== STAR) out.push(STAR);
  return out;
}

/** The encoded patterns one rule value stands for (any of them may match). */
function stringValues(raw: string, mods: string[], env: Env): PipeValue[] | undefined {
  let raws = [raw];
  if (mods.includes('expand')) {
    const e = expandPlaceholders(raw, env);
    if (!e) return undefined;
    raws = e;
  }
  let vals: PipeValue[] = raws.map((r) => ({ parts: parsePattern(r), binary: false }));
  for (const m of mods) {
    if (m === 'contains') vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, true, true) }));
    else if (m === 'startswith') vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, false, true) }));
    else if (m === 'endswith') vals = vals.map((v) => ({ ...v, parts: wrap(v.parts, true, false) }));
    else if (m === 'base64') vals = vals.map(encodeBase64);
    else if (m === 'base64offset') vals = vals.flatMap(encodeBase64Offset);
    else if (m === 'utf16le' || m === 'wide') vals = vals.map((v) => encodeUtf16(v, 'utf16le'));
    else if (m === 'utf16be') vals = vals.map((v) => encodeUtf16(v, 'utf16be'));
    else if (m === 'utf16') vals = vals.map((v) => encodeUtf16(v, 'utf16'));
  }
  return vals;
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

type Scalar = Extract<YNode, { kind: 'scalar' }>;

function compileEntry(key: string, value: YNode, env: Env): Bounds {
  const [rawField = '', ...mods] = key.split('|');
  let items: Scalar[] = value.kind === 'scalar' ? [value] : value.kind === 'seq' ? (value.items as Scalar[]) : [];
  // Same translation as the engine: plain (in)equality only, never under string or type modifiers.
  if (env.mapValue !== undefined && rawField !== '' && mods.every((m) => m === 'neq')) {
    const mv = env.mapValue;
    items = items.map((it) => {
      if (it.value === null) return it;
      const to = mv(rawField, typeof it.value === 'string' ? it.value : it.text);
      return to === undefined ? it : { ...it, value: to, text: to };
    });
  }
  if (rawField === '') return inexact(false, true, 'keyword search (any field of the record contains the value) has no exact DSL form');
  const f = env.mapField(rawField);
  const info = env.field(f);
  const all = mods.includes('all');
  const neq = mods.includes('neq');
  const cased = mods.includes('cased');
  const windash = mods.includes('windash');
  const cmp = mods.find((m) => COMPARE.has(m));
  const tpart = mods.find((m) => TIME_PARTS.has(m));
  const strMods = mods.filter((m) => ['contains', 'startswith', 'endswith', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash', 'expand'].includes(m));

  if (mods.includes('exists')) {
    const v = items[0]!.value;
    const want = v === true || v === 'true';
    const p = present(f, info);
    return want ? p : bNot(p);
  }
  if (mods.includes('fieldref')) {
    const hi = neq ? true : scalarHi(f, info);
    return inexact(false, hi, `'fieldref' compares two fields of one event; checked by the engine`);
  }

  let nullOk = false;
  const tests: Bounds[] = [];
  for (const it of items) {
    const v = it.value;
    if (v === null) {
      nullOk = true;
      continue;
    }
    if (mods.includes('re')) {
      const flags = (mods.includes('i') ? 'i' : '') + (mods.includes('m') ? 'm' : '') + (mods.includes('s') ? 's' : '');
      if (!stringLike(info)) {
        tests.push(info.kind === 'object' ? exact(false) : inexact(false, scalarHi(f, info), `regex on ${info.kind} field '${f}'`));
        continue;
      }
      try {
        tests.push(exact(regexpQ(f, jsRegexToLucene(String(v), flags))));
      } catch (e) {
        if (!(e instanceof Untranslatable)) throw e;
        tests.push(inexact(false, scalarHi(f, info), `regex /${String(v)}/: ${e.message} has no Lucene form; checked by the engine`));
      }
      continue;
    }
    if (mods.includes('cidr')) {
      tests.push(cidrBounds(f, info, String(v)));
      continue;
    }
    if (cmp || tpart) {
      const n = typeof v === 'number' ? v : Number(v);
      if (tpart) tests.push(inexact(false, scalarHi(f, info), `time part '${tpart}' of '${f}' is checked by the engine`));
      else tests.push(compareBounds(f, info, cmp!, n));
      continue;
    }
    if (typeof v === 'boolean') {
      if (stringLike(info)) tests.push(exact(term(f, String(v), false)));
      else if (info.kind === 'boolean') tests.push(exact(term(f, v)));
      else if (info.kind === 'mixed') tests.push(inexact(false, true, `'${f}' has different types in different indices`));
      else tests.push(exact(false));
      continue;
    }
    if (typeof v === 'number' && strMods.length === 0) {
      tests.push(numberBounds(f, info, v, it.text));
      continue;
    }
    const raw = typeof v === 'string' ? v : it.text;
    const vals = stringValues(raw, mods, env);
    if (!vals) continue; // unknown placeholder: this value matches nothing, as in the engine
    tests.push(bOr(vals.map((pv) => patternBounds(f, info, pv.parts, cased, windash))));
  }

  let b: Bounds;
  const isNull = (): Bounds => bNot(notNull(f, info));
  if (tests.length === 0) b = nullOk ? isNull() : exact(false);
  else if (all) b = bAnd(tests);
  else b = bOr(nullOk ? [...tests, isNull()] : tests);
  if (neq) b = bAnd([notNull(f, info), bNot(b)]);
  return b;
}

function compileSearch(node: YNode, env: Env): Bounds {
  if (node.kind === 'map') return bAnd(node.entries.map((e) => compileEntry(e.key, e.value, env)));
  if (node.kind === 'scalar') return compileEntry('', node, env);
  const parts: Bounds[] = [];
  const scalars = node.items.filter((i) => i.kind === 'scalar');
  if (scalars.length) parts.push(compileEntry('', { kind: 'seq', pos: node.pos, items: scalars }, env));
  for (const it of node.items) if (it.kind === 'map') parts.push(compileSearch(it, env));
  return bOr(parts);
}

function compileDetection(det: YNode, env: Env, skip: readonly string[]): Bounds {
  if (det.kind !== 'map') throw new NotHuntable('detection is not a map');
  const ids = new Map<string, Bounds>();
  let conds: string[] = [];
  for (const e of det.entries) {
    if (e.key === 'condition') {
      conds = e.value.kind === 'scalar' ? [String(e.value.value)] : e.value.kind === 'seq' ? e.value.items.map((i) => String((i as Scalar).value)) : [];
      continue;
    }
    if (skip.includes(e.key)) continue;
    ids.set(e.key, compileSearch(e.value, env));
  }
  const names = [...ids.keys()];
  const walk = (c: Cond): Bounds => {
    switch (c.t) {
      case 'id': {
        const b = ids.get(c.name);
        if (!b) throw new NotHuntable(`condition refers to undefined search identifier '${c.name}'`);
        return b;
      }
      case 'and':
        return bAnd(c.items.map(walk));
      case 'or':
        return bOr(c.items.map(walk));
      case 'not':
        return bNot(walk(c.item));
      case 'of': {
        const hit = expandPattern(c.pattern, names).map((h) => ids.get(h)!);
        if (hit.length === 0) throw new NotHuntable(`'${c.pattern}' matches no search identifier`);
        if (c.quant === 'all') return bAnd(hit);
        return bAtLeast(c.quant, hit);
      }
    }
  };
  if (conds.length === 0) throw new NotHuntable('detection has no condition');
  return bOr(conds.map((c) => walk(parseCondition(c))));
}

// ---- public API ---------------------------------------------------------------------------------

/** Compiles one rule (its validated document) to the index pattern and query to hunt it with. */
export function compileRuleToDsl(rule: RuleDoc, opts: HuntCompileOptions = {}): HuntCompileResult {
  const meta = rule.meta;
  if (meta.kind !== 'rule' || !meta.detection) return { ok: false, reason: 'not a detection rule' };
  const mapping = mapLogsource(meta.logsource);
  if (!mapping.source) {
    const ls = ['product', 'category', 'service'].flatMap((k) => (meta.logsource[k as keyof Logsource] ? [`${k}: ${meta.logsource[k as keyof Logsource]}`] : []));
    return { ok: false, reason: `logsource (${ls.join(', ')}) maps to no Seam source` };
  }
  const source = mapping.source;
  const env: Env = { source, mapField: mapping.mapField, ...(mapping.mapValue ? { mapValue: mapping.mapValue } : {}), field: (opts.fields ?? templateResolver)(source), placeholders: opts.placeholders ?? {} };
  try {
    let b = compileDetection(meta.detection, env, ['condition']);
    for (const flt of opts.filters ?? []) {
      if (!flt.targets.some((t) => t === meta.id || t === meta.name)) continue;
      if (!logsourceCovers(flt.logsource, meta.logsource)) continue;
      const fm = mapLogsource(flt.logsource);
      const fenv: Env = fm.source === source ? { ...env, mapField: fm.mapField, ...(fm.mapValue ? { mapValue: fm.mapValue } : {}) } : env;
      b = bAnd([b, bNot(compileDetection(flt.detection, fenv, ['condition', 'rules']))]);
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

export interface RulesetHuntResult {
  rules: RulesetHuntEntry[];
  counts: { rules: number; huntable: number; exact: number; verified: number; notHuntable: number; byReason: Record<string, number> };
  /** The streaming rule set over the same files (for verifying hits). */
  ruleset: SigmaRuleset;
  diagnostics: Diagnostic[];
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
  const loaded = await loadRules(paths, opts.placeholders ? { placeholders: opts.placeholders } : {});
  const files = [...new Set([...loaded.ruleset.rules.map((r) => r.file), ...loaded.diagnostics.map((d) => d.file)])];
  // Re-read the files the engine read, for the detection trees.
  const docs: { doc: ReadDoc; file: string; meta: RuleMeta }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const doc of readYaml(text, file).docs) {
      const meta = validateDoc(doc, file, []);
      if (meta) docs.push({ doc, file, meta });
    }
  }
  const filters: HuntFilter[] = docs
    .filter((d) => d.meta.kind === 'filter' && d.meta.detection)
    .map((d) => ({ ...(d.meta.id ? { id: d.meta.id } : {}), title: d.meta.title, logsource: d.meta.logsource, targets: (d.meta.targets ?? []).map((t) => t.ref), detection: d.meta.detection! }));
  const loadedIds = new Set(loaded.ruleset.rules.map((r) => r.id));
  const rules: RulesetHuntEntry[] = [];
  for (const d of docs) {
    if (d.meta.kind !== 'rule') continue;
    const id = d.meta.id ?? `${d.file}:${d.meta.pos.line}`;
    let result: HuntCompileResult;
    if (!loadedIds.has(id)) {
      const err = loaded.diagnostics.find((x) => x.severity === 'error' && x.file === d.file && (x.rule === id || x.rule === d.meta.title));
      result = { ok: false, reason: `the streaming engine does not load this rule${err ? `: ${err.message}` : ''}` };
    } else result = compileRuleToDsl({ meta: d.meta, file: d.file }, { ...opts, filters });
    rules.push({ id, title: d.meta.title, file: d.file, result });
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
    counts: { rules: rules.length, huntable, exact: huntable - verified, verified, notHuntable: rules.length - huntable, byReason },
    ruleset: loaded.ruleset,
    diagnostics: loaded.diagnostics,
  };
}

/** Convenience for tests and `--print-dsl` on one YAML text. */
export function compileRuleTextToDsl(text: string, file: string, opts: HuntCompileOptions = {}): HuntCompileResult[] {
  const out: HuntCompileResult[] = [];
  for (const doc of readYaml(text, file).docs) {
    const diags: Diagnostic[] = [];
    const meta = validateDoc(doc, file, diags);
    if (!meta) {
      out.push({ ok: false, reason: diags.find((d) => d.severity === 'error')?.message ?? 'invalid rule' });
      continue;
    }
    if (meta.kind !== 'rule') continue;
    out.push(compileRuleToDsl({ meta, file }, opts));
  }
  return out;
}
