/**
 * The Sigma rule model (ADR 0017): one parsed, validated form of a rule's detection that both the
 * streaming matcher compiler (compile.ts) and the OpenSearch query compiler (src/hunt/compile.ts)
 * consume. Building it is where every problem of a detection is found and reported with its position:
 * modifiers checked and classified, the logsource's field and value mapping applied, placeholders
 * expanded, string values run through their modifiers (wildcards, contains/startswith/endswith,
 * base64/utf16 encodings) into the patterns to test, regexes compiled and checked for catastrophic
 * backtracking (ADR 0010), CIDR ranges and numbers parsed, conditions parsed with `x of` patterns
 * resolved to the identifiers they name. Compiling a model cannot fail, so a rule no event can reach
 * is compiled only when something evaluates it, and the two compilers cannot drift on what a rule says.
 */
import type { Diagnostic } from './types.ts';
import { valueColumn } from './read.ts';
import type { Pos, YNode } from './read.ts';
import { diag, warn } from './diagnostics.ts';
import { ConditionError, expandPattern, parseCondition } from './condition.ts';
import type { Cond } from './condition.ts';
import { regexHazard } from './regex-safety.ts';
import {
  COMPARE, DEFAULT_MAX_PLACEHOLDER_EXPANSION, MODIFIERS, TIME_PARTS, cidrTest, encodeBase64, encodeBase64Offset, encodeUtf16, expandPlaceholderValues,
  hasWildcards, parsePattern, regexFlavourNotes, toJsRegex,
} from './modifiers.ts';
import type { Part, PipeValue } from './modifiers.ts';
import { STAR } from './modifiers.ts';
import { didYouMean } from './spelling.ts';
import type { LogsourceMapping } from './logsource.ts';
import { mapLogsource } from './logsource.ts';
import type { SourceType } from '../../core/envelope.ts';
import type { DocKind, RuleMeta } from './validate.ts';
import { MEMBER } from './fields.ts';

/** One value of a field entry, resolved by the entry's modifiers. */
export type MItem =
  | { k: 'null'; pos: Pos }
  /** `|re`: the compiled JavaScript regex (checked by regexHazard), and the rule's text for other dialects. */
  | { k: 're'; re: RegExp; src: string; flags: string; pos: Pos }
  | { k: 'cidr'; spec: string; pos: Pos }
  /** `|lt|lte|gt|gte` or a time part: the number compared with. */
  | { k: 'cmp'; n: number; pos: Pos }
  | { k: 'bool'; v: boolean; pos: Pos }
  /** A YAML number without string modifiers: matches the number and its spellings; `text` as written. */
  | { k: 'num'; v: number; text: string; pos: Pos }
  /**
   * A string (or a number under string modifiers): `raw` as written (after value mapping), `vals` the
   * patterns it stands for after placeholders and string modifiers, any of which may match; undefined when
   * a placeholder has no configured values (the value matches nothing).
   */
  | { k: 'str'; raw: string; isString: boolean; vals: PipeValue[] | undefined; pos: Pos };

/** `field|mod|mod: values`, or a keyword search (`field` empty). */
export interface MEntry {
  /** The field as the rule names it; '' for a keyword search over the whole record. */
  field: string;
  /** The event field path the logsource's mapping gives it; '' for keywords. */
  path: string;
  keyword: boolean;
  /** Every modifier, in the rule's order (all known, combinable). */
  mods: string[];
  /** The type modifier, if any. */
  type: 're' | 'cidr' | 'fieldref' | 'exists' | undefined;
  /** The string modifiers (contains... expand), in order. */
  strMods: string[];
  cmp: string | undefined;
  tpart: string | undefined;
  all: boolean;
  neq: boolean;
  cased: boolean;
  windash: boolean;
  /** `|exists`: whether the field must be present. */
  exists?: boolean;
  /** `|fieldref`: the mapped paths of the fields compared with. */
  refs?: string[];
  items: MItem[];
  pos: Pos;
}

export type MSearch = { t: 'entry'; e: MEntry } | { t: 'and'; items: MSearch[] } | { t: 'or'; items: MSearch[] } | { t: 'array'; a: MArray };

/**
 * Seam's extension to Sigma 2.1 (the object-scope blocks of SEP 212, sigma-specification issue 212):
 * `field[any]:`, `field[all]:`, `field[all_or_empty]:` or `field[none]:` over a map judges each member of
 * the array at `field` on its own, so two of the block's tests hold for one member, not for two different
 * ones. The map is the member's detection: a plain map of fields (all must hold), or named selections and a
 * `condition` over them. Field names inside are relative to the member and are not mapped by the logsource.
 * `any`: some member matches; `all`: there are members and every one matches; `all_or_empty`: every member
 * matches, or there is none; `none`: no member matches (true when there is none). A missing or null field
 * has no members; an object that is not an array is one member.
 */
export type ArrayQuant = 'any' | 'all' | 'all_or_empty' | 'none';

export interface MArray {
  /** The array's field as the rule names it (without the quantifier). */
  field: string;
  /** Its event path, mapped by the logsource; '' when only checking. */
  path: string;
  quant: ArrayQuant;
  /** What one member must satisfy; its field paths are relative to the member. */
  body: MDetection;
  pos: Pos;
}

/** A condition with `x of pattern` resolved to the identifiers it names (in the detection's order). */
export type MCond =
  | { t: 'id'; name: string }
  | { t: 'and'; items: MCond[] }
  | { t: 'or'; items: MCond[] }
  | { t: 'not'; item: MCond }
  | { t: 'of'; quant: 'all' | number; names: string[] };

export interface MDetection {
  /** Search identifiers, in the rule's order. */
  ids: Map<string, MSearch>;
  /** One per `condition` string; the detection matches when any does. */
  conditions: MCond[];
}

/** One validated Sigma document: its metadata and, for rules and filters, its detection's model. */
export interface RuleModel {
  kind: DocKind;
  meta: Omit<RuleMeta, 'detection'>;
  file: string;
  /** Undefined for correlations, and for a rule or filter whose detection has problems (not loaded). */
  detection: MDetection | undefined;
  /** The Seam source its logsource maps to, if any. */
  source: SourceType | undefined;
}

export interface ModelEnv {
  file: string;
  /** Rule id or title, for diagnostics. */
  rule: string;
  mapping: Pick<LogsourceMapping, 'mapField' | 'mapValue' | 'meaning'>;
  placeholders: Record<string, string[]>;
  maxPlaceholderExpansion?: number;
  diags: Diagnostic[];
  /**
   * Only find the problems (checkRuleModel): string values are not turned into patterns unless a step that
   * can raise a diagnostic (`expand`, `base64`, `base64offset`) is among their modifiers. The detection built
   * this way is thrown away, never compiled.
   */
  check?: boolean;
  /** Inside an array block (its key): fields are the member's own, and `.` is the member itself. */
  block?: string;
  /** Inside an array block: the logsource's mapping, for the event fields a `|fieldref` names. */
  rootMapping?: Pick<LogsourceMapping, 'mapField' | 'mapValue'>;
}

class Fail extends Error {}

function failAt(env: ModelEnv, pos: Pos, code: Diagnostic['code'], message: string): Fail {
  env.diags.push(diag(code, env.file, pos, message, { rule: env.rule }));
  return new Fail(message);
}

const TYPE_MODS = ['re', 'cidr', 'fieldref', 'exists'];
const STRING_MODS = ['contains', 'startswith', 'endswith', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash', 'expand'];

type Scalar = Extract<YNode, { kind: 'scalar' }>;

export function wrapParts(p: Part[], left: boolean, right: boolean): Part[] {
  const out = [...p];
  if (left && out[0] !== STAR) out.unshift(STAR);
  if (right && out[out.length - 1] !== STAR) out.push(STAR);
  return out;
}

/** `|expand`: the value with its placeholders replaced; undefined (after a warning) when one has no values. */
function expandValue(raw: string, env: ModelEnv, pos: Pos): string[] | undefined {
  const r = expandPlaceholderValues(raw, env.placeholders, env.maxPlaceholderExpansion);
  if ('tooMany' in r) {
    throw failAt(env, pos, 'SEAM_ERR_RULE_PLACEHOLDER', `placeholders in this value expand to ${r.tooMany} values, over the limit of ${env.maxPlaceholderExpansion ?? DEFAULT_MAX_PLACEHOLDER_EXPANSION} (maxPlaceholderExpansion)`);
  }
  if (!('values' in r)) {
    env.diags.push(warn('SEAM_ERR_RULE_PLACEHOLDER', env.file, pos, `placeholder %${r.missing}% has no configured values; this value matches nothing (rule still loads)`, env.rule));
    return undefined;
  }
  return r.values;
}

/** Runs one string value through placeholders and the string modifiers, in order. */
function stringValues(raw: string, mods: string[], env: ModelEnv, pos: Pos): PipeValue[] | undefined {
  let raws = [raw];
  if (mods.includes('expand')) {
    const values = expandValue(raw, env, pos);
    if (values === undefined) return undefined;
    raws = values;
  }
  let vals: PipeValue[] = raws.map((r) => ({ parts: parsePattern(r), binary: false }));
  for (const m of mods) {
    switch (m) {
      case 'contains':
        vals = vals.map((v) => ({ ...v, parts: wrapParts(v.parts, true, true) }));
        break;
      case 'startswith':
        vals = vals.map((v) => ({ ...v, parts: wrapParts(v.parts, false, true) }));
        break;
      case 'endswith':
        vals = vals.map((v) => ({ ...v, parts: wrapParts(v.parts, true, false) }));
        break;
      case 'base64':
      case 'base64offset':
        if (vals.some((v) => hasWildcards(v.parts))) throw failAt(env, pos, 'SEAM_ERR_RULE_VALUE', `'${m}' cannot encode a value with wildcards`);
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
  return vals;
}

/** Builds `key: value` of a search identifier; throws Fail after recording the problem. */
function buildEntry(key: string, keyPos: Pos, value: YNode, env: ModelEnv): MEntry {
  const [rawField = '', ...mods] = key.split('|');
  if (env.block === undefined && rawField === MEMBER) {
    throw failAt(
      env,
      keyPos,
      'SEAM_ERR_RULE_SCHEMA',
      `'${key}': '.' is the member marker of an array block ('field[any]:' with '.' inside names each member of a list of scalars); outside a block it names no field`,
    );
  }
  const keyword = rawField === '';
  for (const m of mods) {
    if (!MODIFIERS.has(m)) throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `unknown modifier '${m}'${didYouMean(m, [...MODIFIERS])}`);
    if ((m === 'i' || m === 'm' || m === 's') && !mods.includes('re')) {
      throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `modifier '${m}' is only valid after 're'`);
    }
  }
  const typeMods = mods.filter((m) => TYPE_MODS.includes(m));
  const strMods = mods.filter((m) => STRING_MODS.includes(m));
  const cmp = mods.filter((m) => COMPARE.has(m));
  const tpart = mods.filter((m) => TIME_PARTS.has(m));
  // `cidr|expand` (either order): a site's list of ranges, each value a CIDR; no other string modifier goes with cidr.
  const cidrList = typeMods[0] === 'cidr' && strMods.length > 0 && strMods.every((m) => m === 'expand');
  if (typeMods.length > 1 || (typeMods.length === 1 && typeMods[0] !== 'fieldref' && strMods.length > 0 && !cidrList) || cmp.length > 1 || tpart.length > 1) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `modifiers '${mods.join('|')}' cannot be combined`);
  }
  if ((cmp.length || tpart.length) && (typeMods.length || strMods.length)) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `numeric/time modifiers cannot be combined with '${[...typeMods, ...strMods].join('|')}'`);
  }
  const scalars: Scalar[] = [];
  if (value.kind === 'scalar') scalars.push(value);
  else if (value.kind === 'seq') {
    for (const it of value.items) {
      if (it.kind !== 'scalar') throw failAt(env, it.pos, 'SEAM_ERR_RULE_SCHEMA', `values of '${key}' must be scalars`);
      scalars.push(it);
    }
    if (scalars.length === 0) throw failAt(env, value.pos, 'SEAM_ERR_RULE_SCHEMA', `'${key}' has an empty value list`);
  } else throw failAt(env, value.pos, 'SEAM_ERR_RULE_SCHEMA', `'${key}' must have a value or a list of values, not a map`);
  const mapValue = env.mapping.mapValue;
  // A check skips value and field mapping: they raise nothing, and no value they give can fail later.
  if (mapValue !== undefined && env.check !== true && !keyword && typeMods.length === 0 && strMods.length === 0 && cmp.length === 0 && tpart.length === 0) {
    // Plain (in)equality only: a translated value under `contains` or a regex would mean something else.
    for (let i = 0; i < scalars.length; i++) {
      const it = scalars[i]!;
      if (it.value === null) continue;
      const to = mapValue(rawField, typeof it.value === 'string' ? it.value : it.text);
      if (to !== undefined) scalars[i] = { ...it, value: to, text: to };
    }
  }
  // The audit log leaves apiGroup out for the core group (pods, secrets, configmaps): '' is no value it ever has.
  if (env.block === undefined && !keyword && mods.every((m) => m === 'cased') && env.mapping.mapField(rawField) === 'objectRef.apiGroup') {
    const empty = scalars.find((it) => it.value === '');
    if (empty !== undefined) {
      env.diags.push(warn('SEAM_ERR_RULE_VALUE', env.file, empty.pos, `audit records leave '${rawField}' out for the core API group (pods, secrets, configmaps, services...), so '' never matches; write '${rawField}: null' or '${rawField}|exists: false' for the core group`, env.rule));
    }
  }
  if (mods.includes('all') && scalars.length === 1) {
    env.diags.push(warn('SEAM_ERR_RULE_MODIFIER', env.file, keyPos, `'all' with a single value means nothing (every value of a one-value list); remove it or list the values`, env.rule));
  }
  if (keyword && (typeMods.includes('exists') || typeMods.includes('fieldref'))) {
    throw failAt(env, keyPos, 'SEAM_ERR_RULE_MODIFIER', `'${typeMods[0]}' needs a field name`);
  }
  const e: MEntry = {
    field: rawField,
    path: keyword || env.check === true ? '' : env.mapping.mapField(rawField),
    keyword,
    mods,
    type: typeMods[0] as MEntry['type'],
    strMods,
    cmp: cmp[0],
    tpart: tpart[0],
    all: mods.includes('all'),
    neq: mods.includes('neq'),
    cased: mods.includes('cased'),
    windash: mods.includes('windash'),
    items: [],
    pos: keyPos,
  };
  if (e.type === 'exists') {
    const v = scalars[0]!;
    const want = v.value === true || v.value === 'true' ? true : v.value === false || v.value === 'false' ? false : undefined;
    if (want === undefined || scalars.length !== 1) throw failAt(env, v.pos, 'SEAM_ERR_RULE_VALUE', `'exists' takes true or false`);
    e.exists = want;
    return e;
  }
  if (e.type === 'fieldref') {
    e.refs = scalars.map((it) => {
      if (typeof it.value !== 'string') throw failAt(env, it.pos, 'SEAM_ERR_RULE_VALUE', `'fieldref' takes field names`);
      if (it.value === MEMBER) throw failAt(env, it.pos, 'SEAM_ERR_RULE_VALUE', `'fieldref' compares with the event's fields; '.' (a block's member) is not one`);
      // In a block, the fields compared with are the event's (a member against the request's account, say).
      return env.check === true ? '' : (env.rootMapping ?? env.mapping).mapField(it.value);
    });
    return e;
  }
  for (const it of scalars) {
    const v = it.value;
    const pos = it.pos;
    if (v === null) {
      if (scalars.length > 1) env.diags.push(warn('SEAM_ERR_RULE_VALUE', env.file, pos, `null in a value list (the specification asks for a separate selection)`, env.rule));
      e.items.push({ k: 'null', pos });
      continue;
    }
    if (e.type === 're') {
      const flags = (mods.includes('i') ? 'i' : '') + (mods.includes('m') ? 'm' : '') + (mods.includes('s') ? 's' : '');
      let re: RegExp;
      try {
        re = toJsRegex(String(v), flags);
      } catch (err) {
        // V8 says "Invalid regular expression: /src/: why": said once, not after our own prefix.
        throw failAt(env, pos, 'SEAM_ERR_RULE_REGEX', `invalid regular expression ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
      // Rules run synchronously in the roles: a pattern that can backtrack exponentially is refused (ADR 0010).
      const hazard = regexHazard(re.source, re.flags);
      if (hazard !== undefined) {
        throw failAt(env, { line: pos.line, column: pos.column + hazard.offset }, 'SEAM_ERR_RULE_REGEX', `regular expression refused at character ${hazard.offset + 1} of /${re.source}/: ${hazard.message}; rewrite it without nested or ambiguous repetition`);
      }
      for (const n of regexFlavourNotes(String(v))) env.diags.push(warn('SEAM_ERR_RULE_REGEX', env.file, { line: pos.line, column: valueColumn(it, n.offset) }, n.message, env.rule));
      e.items.push({ k: 're', re, src: String(v), flags, pos });
      continue;
    }
    if (e.type === 'cidr') {
      if (cidrList) {
        // An unset placeholder matches nothing, as with strings; every listed value must be a range.
        const raw = String(v);
        const specs = expandValue(raw, env, pos) ?? [];
        const only = /^%([^%]+)%$/.exec(raw)?.[1];
        for (const spec of specs) {
          if (!cidrTest(spec)) {
            const what = only !== undefined ? `placeholder %${only}% has the value '${spec}'` : `'${raw}' expands to '${spec}'`;
            throw failAt(env, pos, 'SEAM_ERR_RULE_VALUE', `${what}, which is not a CIDR range: with 'cidr', every value of the placeholder must be a network range such as 10.0.0.0/8, 198.51.100.7/32 or 2001:db8::/32 (no wildcards)`);
          }
          e.items.push({ k: 'cidr', spec, pos });
        }
        continue;
      }
      if (!cidrTest(String(v))) throw failAt(env, pos, 'SEAM_ERR_RULE_VALUE', `'${String(v)}' is not a CIDR range`);
      e.items.push({ k: 'cidr', spec: String(v), pos });
      continue;
    }
    if (e.cmp !== undefined || e.tpart !== undefined) {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n)) throw failAt(env, pos, 'SEAM_ERR_RULE_VALUE', `'${mods.join('|')}' needs a number, got '${String(v)}'`);
      e.items.push({ k: 'cmp', n, pos });
      continue;
    }
    if (typeof v === 'boolean') {
      e.items.push({ k: 'bool', v, pos });
      continue;
    }
    if (typeof v === 'number' && strMods.length === 0) {
      e.items.push({ k: 'num', v, text: it.text, pos });
      continue;
    }
    const raw = typeof v === 'string' ? v : it.text;
    // Building the patterns raises nothing without these steps: a check leaves them out (most of a cold load).
    const vals = env.check === true && !mods.some((m) => m === 'expand' || m === 'base64' || m === 'base64offset') ? [] : stringValues(raw, mods, env, pos);
    e.items.push({ k: 'str', raw, isString: typeof v === 'string', vals, pos });
  }
  return e;
}

/** `field[quantifier]` with nothing after it: an array block's key. */
const ARRAY_BLOCK = /^([^|[\]]+)\[(any|all|all_or_empty|none)\]$/;
/** An array selector of SEP 212 anywhere in a field name (`[any]`, `[all]`, `[all_or_empty]`, `[none]`, `[N]`). */
const ARRAY_SELECTOR = /\[(?:any|all|all_or_empty|none|-?\d+)\]/;
const memberMapping: Pick<LogsourceMapping, 'mapField' | 'mapValue'> = { mapField: (f) => f };

/** `field[quantifier]: {...}` (see MArray); throws Fail after recording the problem. */
function buildArrayBlock(key: string, keyPos: Pos, value: YNode, env: ModelEnv): MSearch {
  const m = ARRAY_BLOCK.exec(key);
  if (m === null || value.kind !== 'map') {
    throw failAt(
      env,
      keyPos,
      'SEAM_ERR_RULE_SCHEMA',
      `'${key}': Seam reads array selectors only as an object-scope block, 'field[any|all|all_or_empty|none]:' over a map of the member's fields (no modifiers, no positions, no selector inside a path)`,
    );
  }
  const field = m[1]!;
  const quant = m[2] as ArrayQuant;
  if (field === MEMBER) throw failAt(env, keyPos, 'SEAM_ERR_RULE_SCHEMA', `'${key}': '.' names a member, not an array: put the block on the field that holds the list`);
  if (value.entries.length === 0) throw failAt(env, value.pos, 'SEAM_ERR_RULE_SCHEMA', `'${key}': the block is empty`);
  // Inside the block, fields are the member's own: the logsource's mapping (taxonomy names) does not apply.
  const inner: ModelEnv = { ...env, mapping: memberMapping, rootMapping: env.rootMapping ?? env.mapping, block: key };
  let body: MDetection | undefined;
  if (value.entries.some((e) => e.key === 'condition')) {
    body = buildDetection(value, inner);
    // Beside a condition every key is a named selection: one the condition never uses (a plain field written
    // next to it, say) would be dropped without a word and the block would match more than it says.
    if (body !== undefined) {
      const used = new Set<string>();
      const walk = (c: MCond): void => {
        if (c.t === 'id') used.add(c.name);
        else if (c.t === 'of') for (const n of c.names) used.add(n);
        else if (c.t === 'not') walk(c.item);
        else for (const x of c.items) walk(x);
      };
      for (const c of body.conditions) walk(c);
      const unused = value.entries.find((e) => e.key !== 'condition' && !used.has(e.key));
      if (unused !== undefined) {
        throw failAt(
          env,
          unused.keyPos,
          'SEAM_ERR_RULE_SCHEMA',
          `'${unused.key}' in '${key}' is not used by the block's condition: beside a condition, every key is a named selection; use it in the condition, or put plain fields in a selection of their own`,
        );
      }
    }
  } else {
    const search = buildMap(value, inner);
    body = { ids: new Map([['', search]]), conditions: [{ t: 'id', name: '' }] };
  }
  if (body === undefined) throw new Fail(`'${key}' has problems`);
  return { t: 'array', a: { field, path: env.check === true ? '' : env.mapping.mapField(field), quant, body, pos: keyPos } };
}

const plainMapping: Pick<LogsourceMapping, 'mapField' | 'mapValue'> = { mapField: (f) => f };

/**
 * `key: value` of a search identifier, as its logsource means it (LogsourceMapping.meaning): the entry, or the tests
 * it stands for (any of which satisfies it), each at the entry's key.
 */
function buildMeantEntry(key: string, keyPos: Pos, value: YNode, env: ModelEnv): MSearch {
  const e = buildEntry(key, keyPos, value, env);
  const meaning = env.mapping.meaning;
  if (meaning === undefined || e.keyword) return { t: 'entry', e };
  const scalars = value.kind === 'scalar' ? [value] : value.kind === 'seq' ? value.items : [];
  const values = scalars.map((n) => (n.kind === 'scalar' ? n.value : undefined));
  if (values.some((v) => v === undefined)) return { t: 'entry', e };
  const m = meaning(e.field, e.mods, values as (string | number | boolean | null)[]);
  if (m === undefined) return { t: 'entry', e };
  const plain: ModelEnv = { ...env, mapping: plainMapping };
  const alts: MSearch[] = m.also.map((t) => {
    const v = 'exists' in t ? t.exists : t.is;
    const test: YNode = { kind: 'scalar', pos: keyPos, value: v, text: v === null ? '' : String(v) };
    return { t: 'entry', e: buildEntry('exists' in t ? `${t.path}|exists` : t.path, keyPos, test, plain) };
  });
  const items = m.keep ? [{ t: 'entry', e } as MSearch, ...alts] : alts;
  return items.length === 1 ? items[0]! : { t: 'or', items };
}

function buildMap(node: Extract<YNode, { kind: 'map' }>, env: ModelEnv): MSearch {
  if (node.entries.length === 0) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier map is empty');
  const items: MSearch[] = node.entries.map((e) =>
    ARRAY_SELECTOR.test(e.key.split('|')[0]!) ? buildArrayBlock(e.key, e.keyPos, e.value, env) : buildMeantEntry(e.key, e.keyPos, e.value, env),
  );
  return items.length === 1 ? items[0]! : { t: 'and', items };
}

function buildSearch(node: YNode, env: ModelEnv): MSearch {
  if (node.kind === 'map') return buildMap(node, env);
  if (node.kind === 'scalar') {
    if (node.value === null) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier is empty');
    return { t: 'entry', e: buildEntry('', node.pos, node, env) };
  }
  if (node.items.length === 0) throw failAt(env, node.pos, 'SEAM_ERR_RULE_SCHEMA', 'search identifier list is empty');
  const scalars = node.items.filter((i) => i.kind === 'scalar');
  const parts: MSearch[] = [];
  if (scalars.length) parts.push({ t: 'entry', e: buildEntry('', scalars[0]!.pos, { kind: 'seq', pos: node.pos, items: scalars }, env) });
  for (const it of node.items) {
    if (it.kind === 'map') parts.push(buildMap(it, env));
    else if (it.kind === 'seq') throw failAt(env, it.pos, 'SEAM_ERR_RULE_SCHEMA', 'nested lists are not allowed in a search identifier');
  }
  return parts.length === 1 ? parts[0]! : { t: 'or', items: parts };
}

function condPos(base: Pos, offset: number): Pos {
  return { line: base.line, column: base.column + offset };
}

function buildCondition(src: string, pos: Pos, names: string[], env: ModelEnv): MCond {
  let ast: Cond;
  try {
    ast = parseCondition(src);
  } catch (e) {
    if (e instanceof ConditionError) throw failAt(env, condPos(pos, e.offset), 'SEAM_ERR_RULE_CONDITION', `condition: ${e.message}`);
    throw e;
  }
  const known = new Set(names);
  const walk = (c: Cond): MCond => {
    switch (c.t) {
      case 'id':
        if (!known.has(c.name)) throw failAt(env, condPos(pos, c.offset), 'SEAM_ERR_RULE_REFERENCE', `condition refers to undefined search identifier '${c.name}'${didYouMean(c.name, names)}`);
        return { t: 'id', name: c.name };
      case 'and':
        return { t: 'and', items: c.items.map(walk) };
      case 'or':
        return { t: 'or', items: c.items.map(walk) };
      case 'not':
        return { t: 'not', item: walk(c.item) };
      case 'of': {
        const hit = expandPattern(c.pattern, names);
        if (hit.length === 0) throw failAt(env, condPos(pos, c.offset), 'SEAM_ERR_RULE_REFERENCE', `'${c.pattern}' matches no search identifier`);
        return { t: 'of', quant: c.quant, names: hit };
      }
    }
  };
  return walk(ast);
}

/**
 * Builds the model of a `detection` (or a filter's `filter`) map. `skip` names keys that are not search
 * identifiers (`condition`, and `rules` for filters). Returns undefined after recording diagnostics.
 */
export function buildDetection(det: YNode, env: ModelEnv, skip: readonly string[] = ['condition']): MDetection | undefined {
  if (det.kind !== 'map') {
    env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, det.pos, 'detection must be a map', { rule: env.rule }));
    return undefined;
  }
  const ids = new Map<string, MSearch>();
  let failed = false;
  let cond: Scalar[] = [];
  for (const e of det.entries) {
    if (e.key === 'condition') {
      if (e.value.kind === 'scalar' && typeof e.value.value === 'string') cond = [e.value];
      else if (e.value.kind === 'seq' && e.value.items.length && e.value.items.every((i) => i.kind === 'scalar' && typeof i.value === 'string')) {
        cond = e.value.items as Scalar[];
      } else {
        env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, e.value.pos, 'condition must be a string or a list of strings', { rule: env.rule }));
        failed = true;
      }
      continue;
    }
    if (skip.includes(e.key)) continue;
    try {
      ids.set(e.key, buildSearch(e.value, env));
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
      failed = true;
      // A placeholder so the condition still gets checked.
      ids.set(e.key, { t: 'and', items: [] });
    }
  }
  if (cond.length === 0 && !failed) {
    env.diags.push(diag('SEAM_ERR_RULE_SCHEMA', env.file, det.pos, 'detection has no condition', { rule: env.rule }));
    return undefined;
  }
  const names = [...ids.keys()];
  const conditions: MCond[] = [];
  for (const c of cond) {
    try {
      conditions.push(buildCondition(c.value as string, c.pos, names, env));
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
      failed = true;
    }
  }
  if (failed) return undefined;
  return { ids, conditions };
}

/**
 * The model of one validated rule or filter document (`meta.detection` is its `detection` or `filter` map),
 * its fields and values mapped by its own logsource; problems go to `diags`.
 */
export function buildRuleModel(
  meta: RuleMeta,
  file: string,
  opts: { placeholders: Record<string, string[]>; maxPlaceholderExpansion?: number | undefined },
  diags: Diagnostic[],
): RuleModel {
  const { detection: node, ...rest } = meta;
  if (meta.kind === 'correlation' || node === undefined) return { kind: meta.kind, meta: rest, file, detection: undefined, source: undefined };
  const mapping = mapLogsource(meta.logsource);
  const detection = buildDetection(node, modelEnv(meta, file, mapping, opts, diags, false), meta.kind === 'filter' ? ['condition', 'rules'] : ['condition']);
  return { kind: meta.kind, meta: rest, file, detection, source: mapping.source };
}

/**
 * Whether buildRuleModel would give this rule or filter a detection, with the same diagnostics in the same
 * order, without building the patterns of its string values (a rule nothing evaluates yet: its model is
 * built when it compiles). Correlations and documents without a detection: false, as buildRuleModel.
 */
export function checkRuleModel(
  meta: RuleMeta,
  file: string,
  opts: { placeholders: Record<string, string[]>; maxPlaceholderExpansion?: number | undefined },
  diags: Diagnostic[],
): boolean {
  const node = meta.detection;
  if (meta.kind === 'correlation' || node === undefined) return false;
  const env = modelEnv(meta, file, mapLogsource(meta.logsource), opts, diags, true);
  return buildDetection(node, env, meta.kind === 'filter' ? ['condition', 'rules'] : ['condition']) !== undefined;
}

function modelEnv(
  meta: RuleMeta,
  file: string,
  mapping: LogsourceMapping,
  opts: { placeholders: Record<string, string[]>; maxPlaceholderExpansion?: number | undefined },
  diags: Diagnostic[],
  check: boolean,
): ModelEnv {
  return {
    file,
    rule: meta.id ?? meta.title,
    mapping,
    placeholders: opts.placeholders,
    ...(opts.maxPlaceholderExpansion === undefined ? {} : { maxPlaceholderExpansion: opts.maxPlaceholderExpansion }),
    diags,
    ...(check ? { check } : {}),
  };
}
