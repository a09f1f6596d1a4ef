/**
 * Validates Sigma correlation documents (spec v2.1) and resolves their rule references. Every
 * problem is collected with the document's file, line and column; a document with an error is
 * left out, and so is any correlation that refers to it.
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../core/errors.ts';
import { isRec } from '../../core/values.ts';
import type { CorrelationDoc, Diagnostic } from '../sigma/types.ts';
import type { Pos, YNode } from '../sigma/read.ts';
import { toLevel } from '../alert.ts';
import { COMPARISONS, CORRELATION_TYPES } from './types.ts';
import type { CompiledCorrelation, Comparison, Condition, CorrelationType } from './types.ts';
import { triageOf } from '../triage.ts';
import { didYouMean } from '../sigma/spelling.ts';

/** A detection rule the correlations may refer to. */
export interface RuleRef {
  id: string;
  name?: string;
  /** The rule's file, when known: a reference by its file name gets the rule's id or name as a hint. */
  file?: string;
}

/**
 * Resolves a reference (`id` or `name`) to a detection rule; undefined when there is none. `names`: the rules' names,
 * for a did-you-mean; `notLoaded`: why a rule of that id or name was left out (Ruleset.notLoaded).
 */
export type RuleLookup = ((ref: string) => RuleRef | undefined) & { names?: readonly string[]; notLoaded?: ReadonlyMap<string, string>; byFileName?: ReadonlyMap<string, RuleRef> };

/** A lookup over a list of rules (e.g. `ruleset.rules`), by id first, then by name; `notLoaded` as Ruleset.notLoaded. */
export function ruleLookupFrom(rules: readonly RuleRef[], notLoaded?: ReadonlyMap<string, string>): RuleLookup {
  const byId = new Map<string, RuleRef>();
  const byName = new Map<string, RuleRef>();
  for (const r of rules) {
    byId.set(r.id, r);
    if (r.name !== undefined) byName.set(r.name, r);
  }
  // A rule by its file name (without .yml), for the hint when a reference uses it: Sigma refers by id or name only,
  // and SigmaHQ's rules have no name, so a detection engineer's first correlation over one names its file.
  const byFileName = new Map<string, RuleRef>();
  for (const r of rules) if (r.file !== undefined) byFileName.set(r.file.replace(/^.*\//, '').replace(/\.ya?ml$/i, ''), r);
  return Object.assign((ref: string) => byId.get(ref) ?? byName.get(ref), { names: [...byName.keys()], byFileName, ...(notLoaded === undefined ? {} : { notLoaded }) });
}

export interface CompileResult {
  correlations: CompiledCorrelation[];
  diagnostics: Diagnostic[];
}

// The spec names s, m, h and d; w is accepted as 7d. Months and years are not fixed durations.
const TIMESPAN = /^([1-9][0-9]*)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Longest correlation window: state is held per group for this long (lint and load refuse longer ones). */
export const MAX_TIMESPAN_MS = 30 * 86_400_000;

/** `90m` → 5_400_000; undefined when the text is not `<number><s|m|h|d|w>` or too large to be exact (a 400-digit count). */
export function parseTimespan(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 20) return undefined;
  const m = TIMESPAN.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The key alerts and references use for a correlation: its id, else its name, else a hash of its title. */
function correlationKey(id: unknown, name: unknown, title: unknown): string {
  if (typeof id === 'string' && id !== '') return id;
  if (typeof name === 'string' && name !== '') return name;
  return 'corr-' + createHash('sha256').update(typeof title === 'string' ? title : '').digest('hex').slice(0, 16);
}

/** Types whose aggregate only grows when an event is added to a window. */
const GROWING: ReadonlySet<CorrelationType> = new Set(['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum']);
const VALUE_TYPES: ReadonlySet<CorrelationType> = new Set(['value_count', 'value_sum', 'value_avg', 'value_percentile']);

/** A validated document before its references are resolved: the compiled correlation's own fields, and what resolving reads. */
interface Draft extends Pick<CompiledCorrelation, 'id' | 'name' | 'title' | 'level' | 'tags' | 'description' | 'type' | 'groupBy' | 'field' | 'fields' | 'timespan' | 'timespanMs' | 'condition' | 'generate'> {
  cd: CorrelationDoc;
  /** False when the document has errors of its own; its references are still checked. */
  valid: boolean;
  /** The references as written (ids or names), resolved to `rules`. */
  refs: string[];
  aliases: Map<string, Map<string, string>>;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
}

export function compileCorrelations(docs: readonly CorrelationDoc[], ruleLookup: RuleLookup): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (cd, code, message, severity = 'error', rule, ref, at) => {
    const pos = (ref !== undefined && at === undefined ? refPos(cd, ref) : undefined) ?? keyPos(cd, at ?? []);
    const d: Diagnostic = { code, severity, file: cd.file, line: pos.line, column: pos.column, message };
    const r = rule ?? cd.id ?? cd.name;
    if (r !== undefined) d.rule = r;
    if (ref !== undefined) d.ref = ref;
    diagnostics.push(d);
  };

  // Stage 1: shape of each document on its own.
  const drafts: Draft[] = [];
  for (const cd of docs) {
    const draft = validateDoc(cd, report);
    if (draft !== undefined) drafts.push(draft);
  }

  // Stage 2: ids unique, references resolved (correlations first, then detection rules).
  const byKey = new Map<string, Draft>();
  const dup = new Set<Draft>();
  for (const d of drafts) {
    for (const key of new Set([d.id, d.name].filter((k): k is string => k !== undefined))) {
      const other = byKey.get(key);
      if (other !== undefined && other !== d) {
        report(d.cd, 'SEAM_ERR_RULE_SCHEMA', `correlation '${key}' is defined twice (also in ${other.cd.file}:${other.cd.line})`, 'error', undefined, undefined, [key === d.id ? 'id' : 'name']);
        dup.add(d);
      } else byKey.set(key, d);
    }
  }
  const resolved = new Map<Draft, { ids: string[]; names: (string | undefined)[]; children: Draft[] }>();
  const broken = new Set<Draft>([...dup, ...drafts.filter((d) => !d.valid)]);
  for (const d of drafts) {
    if (dup.has(d)) continue;
    const ids: string[] = [];
    const names: (string | undefined)[] = [];
    const children: Draft[] = [];
    for (const ref of d.refs) {
      const corr = byKey.get(ref);
      const rule = corr === undefined ? ruleLookup(ref) : undefined;
      if (corr === d) {
        report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `correlation '${d.title}' refers to itself`, 'error', undefined, ref);
        broken.add(d);
      } else if (corr !== undefined) {
        ids.push(corr.id);
        names.push(corr.name);
        children.push(corr);
      } else if (rule !== undefined) {
        ids.push(rule.id);
        names.push(rule.name);
      } else {
        // A misspelt name gets the loaded rule or correlation it is probably meant to be (as a filter's does).
        const known = [...(ruleLookup.names ?? []), ...drafts.map((o) => o.name).filter((n): n is string => n !== undefined && n !== d.name)];
        const why = ruleLookup.notLoaded?.get(ref);
        const byFile = ruleLookup.byFileName?.get(ref);
        const what =
          why !== undefined
            ? `which did not load: ${why}`
            : byFile !== undefined
              ? `which is neither a loaded rule nor a correlation: it is the file name of ${byFile.file}, and Sigma refers to a rule by its id or name, not its file; write ${byFile.name === undefined ? `its id '${byFile.id}' (the rule has no name)` : `its name '${byFile.name}'`}`
              : `which is neither a loaded rule nor a correlation${didYouMean(ref, known)}`;
        report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `correlation '${d.title}' refers to rule '${ref}', ${what}`, 'error', undefined, ref);
        broken.add(d);
      }
    }
    if (new Set(ids).size !== ids.length) {
      report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `correlation '${d.title}' lists the same rule twice (by id and by name?)`, 'error', undefined, undefined, ['correlation', 'rules']);
      broken.add(d);
    }
    if (ids.length === d.refs.length && !checkAliases(d, ids, names, report)) broken.add(d);
    resolved.set(d, { ids, names, children });
  }

  // Stage 3: a correlation is usable only if all correlations below it are (this also breaks cycles).
  const state = new Map<Draft, 'visiting' | 'ok' | 'bad'>();
  const usable = (d: Draft): boolean => {
    const s = state.get(d);
    if (s === 'ok') return true;
    if (s === 'bad') return false;
    if (s === 'visiting') {
      report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `correlation '${d.title}' is part of a reference cycle`, 'error', undefined, undefined, ['correlation', 'rules']);
      state.set(d, 'bad');
      return false;
    }
    state.set(d, 'visiting');
    let ok = !broken.has(d);
    for (const child of resolved.get(d)?.children ?? []) {
      if (!usable(child)) {
        if (state.get(d) !== 'bad') {
          report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `correlation '${d.title}' refers to correlation '${child.title}', which cannot be used`, 'error', undefined, undefined, ['correlation', 'rules']);
        }
        ok = false;
      }
    }
    state.set(d, ok ? 'ok' : 'bad');
    return ok;
  };

  const correlations: CompiledCorrelation[] = [];
  for (const d of drafts) {
    if (!usable(d)) continue;
    const r = resolved.get(d)!;
    // Aliases are keyed by rule name per the spec; ids and the reference as written are accepted too.
    const keysOf = (i: number): string[] => [d.refs[i]!, r.ids[i]!, r.names[i]].filter((k): k is string => k !== undefined);
    const aliasFor = (field: string, i: number): string => {
      const perRule = d.aliases.get(field);
      if (perRule === undefined) return field;
      for (const k of keysOf(i)) {
        const f = perRule.get(k);
        if (f !== undefined) return f;
      }
      return field;
    };
    const c: CompiledCorrelation = {
      id: d.id,
      title: d.title,
      level: d.level,
      tags: d.tags,
      type: d.type,
      rules: r.ids,
      groupBy: d.groupBy,
      groupFields: r.ids.map((_, i) => d.groupBy.map((g) => aliasFor(g, i))),
      valueFields: r.ids.map((_, i) => (d.field ?? []).map((f) => aliasFor(f, i))),
      timespan: d.timespan,
      timespanMs: d.timespanMs,
      condition: d.condition,
      generate: d.generate,
      early: GROWING.has(d.type) && d.condition.lt === undefined && d.condition.lte === undefined && d.condition.eq === undefined && d.condition.neq === undefined,
      file: d.cd.file,
      line: d.cd.line,
      column: d.cd.column,
    };
    if (d.name !== undefined) c.name = d.name;
    if (d.description !== undefined) c.description = d.description;
    const triage = triageOf(d.description);
    if (triage !== undefined) c.triage = triage;
    if (d.field !== undefined) c.field = d.field;
    if (d.fields !== undefined) {
      const fields = d.fields;
      c.fields = fields;
      c.fieldPaths = r.ids.map((_, i) => fields.map((f) => aliasFor(f, i)));
    }
    correlations.push(c);
  }
  return { correlations, diagnostics };
}

/**
 * Field name aliases (spec v2.1): an alias stands for a different field in the events of each referenced rule, so it must
 * name one for every rule. An alias used in `group-by` (or `condition.field`) that leaves a rule out is an error: events of
 * that rule would be looked up under a field literally named like the alias, never found, and the correlation would
 * never fire. An alias used nowhere, or one mapping a rule the correlation does not refer to, is a warning.
 * Returns false when the correlation cannot be used.
 */
function checkAliases(d: Draft, ids: readonly string[], names: readonly (string | undefined)[], report: Report): boolean {
  const keysOf = (i: number): string[] => [d.refs[i]!, ids[i]!, names[i]].filter((k): k is string => k !== undefined);
  const used = new Set([...d.groupBy, ...(d.field ?? [])]);
  let ok = true;
  for (const [alias, perRule] of d.aliases) {
    for (const ruleKey of perRule.keys()) {
      if (!ids.some((_, i) => keysOf(i).includes(ruleKey))) {
        report(d.cd, 'SEAM_ERR_RULE_REFERENCE', `alias '${alias}' maps rule '${ruleKey}', which this correlation does not refer to`, 'warning', undefined, undefined, ['correlation', 'aliases', alias, ruleKey]);
      }
    }
    if (!used.has(alias)) {
      report(d.cd, 'SEAM_ERR_RULE_SCHEMA', `alias '${alias}' is not used in \`group-by\`${d.field === undefined ? '' : ' or `condition.field`'}; it has no effect`, 'warning', undefined, undefined, ['correlation', 'aliases', alias]);
      continue;
    }
    const unmapped = d.refs.filter((_, i) => !keysOf(i).some((k) => perRule.has(k)));
    if (unmapped.length > 0) {
      report(
        d.cd,
        'SEAM_ERR_RULE_REFERENCE',
        `alias '${alias}' does not map ${unmapped.length === 1 ? 'rule' : 'rules'} ${unmapped.map((u) => `'${u}'`).join(', ')}: an alias must name the field for every referenced rule (by its name), or that rule's events are never grouped and the correlation never fires`,
        'error',
        undefined,
        undefined,
        ['correlation', 'aliases', alias],
      );
      ok = false;
    }
  }
  return ok;
}

/** Where a problem is: `at` a key path of the document (the deepest key found), else the document's start. */
type Report = (cd: CorrelationDoc, code: ErrorCode, message: string, severity?: 'error' | 'warning', rule?: string, ref?: string, at?: readonly string[]) => void;

function entryOf(node: YNode | undefined, key: string): { keyPos: Pos; value: YNode } | undefined {
  if (node?.kind !== 'map') return undefined;
  return node.entries.find((e) => e.key === key);
}

/** Position of the key at `path` (or of the deepest key of it that is there), else the document's start. */
function keyPos(cd: CorrelationDoc, path: readonly string[]): Pos {
  let pos: Pos = { line: cd.line, column: cd.column };
  let node = cd.node;
  for (const k of path) {
    const e = entryOf(node, k);
    if (e === undefined) break;
    pos = e.keyPos;
    node = e.value;
  }
  return pos;
}

/** Position of a reference in `correlation.rules`. */
function refPos(cd: CorrelationDoc, ref: string): Pos | undefined {
  const rules = entryOf(entryOf(cd.node, 'correlation')?.value, 'rules')?.value;
  const items = rules?.kind === 'seq' ? rules.items : rules === undefined ? [] : [rules];
  return items.find((i) => i.kind === 'scalar' && i.value === ref)?.pos;
}

function validateDoc(cd: CorrelationDoc, report: Report): Draft | undefined {
  const doc = cd.doc;
  if (!isRec(doc)) {
    report(cd, 'SEAM_ERR_RULE_SCHEMA', 'correlation document is not a mapping');
    return undefined;
  }
  let ok = true;
  const fail = (code: ErrorCode, message: string, at?: readonly string[]): void => {
    report(cd, code, message, 'error', undefined, undefined, at);
    ok = false;
  };
  const warn = (code: ErrorCode, message: string, at?: readonly string[]): void => report(cd, code, message, 'warning', undefined, undefined, at);

  const title = doc['title'];
  if (typeof title !== 'string' || title === '') fail('SEAM_ERR_RULE_SCHEMA', 'correlation has no `title`', ['title']);
  const titleText = typeof title === 'string' ? title : '';
  const id = doc['id'];
  if (id !== undefined && (typeof id !== 'string' || id === '')) fail('SEAM_ERR_RULE_SCHEMA', '`id` must be a non-empty string', ['id']);
  const name = doc['name'];
  if (name !== undefined && (typeof name !== 'string' || name === '')) fail('SEAM_ERR_RULE_SCHEMA', '`name` must be a non-empty string', ['name']);
  const level = doc['level'];
  if (level !== undefined && toLevel(level) !== level) fail('SEAM_ERR_RULE_SCHEMA', `level '${String(level)}' is not one of informational, low, medium, high, critical`, ['level']);
  const tags = doc['tags'];
  if (tags !== undefined && !isStringList(tags)) warn('SEAM_ERR_RULE_SCHEMA', '`tags` must be a list of strings; ignored', ['tags']);
  const fieldsRaw = doc['fields'];
  if (fieldsRaw !== undefined && !isStringList(fieldsRaw)) warn('SEAM_ERR_RULE_SCHEMA', '`fields` must be a list of field names; ignored', ['fields']);
  const generate = doc['generate'];
  if (generate !== undefined && typeof generate !== 'boolean') fail('SEAM_ERR_RULE_SCHEMA', '`generate` must be true or false', ['generate']);

  const corr = doc['correlation'];
  if (!isRec(corr)) {
    fail('SEAM_ERR_RULE_SCHEMA', 'document has no `correlation` mapping');
    return undefined;
  }
  const type = corr['type'];
  const typeOk = typeof type === 'string' && (CORRELATION_TYPES as readonly string[]).includes(type);
  if (type === undefined) fail('SEAM_ERR_RULE_SCHEMA', 'correlation has no `type`', ['correlation']);
  else if (!typeOk) fail('SEAM_ERR_RULE_SCHEMA', `unknown correlation type '${String(type)}'; expected one of ${CORRELATION_TYPES.join(', ')}`, ['correlation', 'type']);
  const ctype = type as CorrelationType;

  const rules = corr['rules'];
  if (!isStringList(rules) || rules.length === 0) fail('SEAM_ERR_RULE_SCHEMA', '`correlation.rules` must be a non-empty list of rule ids or names', ['correlation', 'rules']);
  const refs = isStringList(rules) ? rules : [];
  if (typeOk && (ctype === 'temporal' || ctype === 'temporal_ordered') && refs.length === 1) {
    warn('SEAM_ERR_RULE_SCHEMA', `a ${ctype} correlation over one rule fires on every match of it`, ['correlation', 'rules']);
  }

  const groupByRaw = corr['group-by'];
  let groupBy: string[] = [];
  if (groupByRaw === undefined) warn('SEAM_ERR_RULE_SCHEMA', '`correlation.group-by` is missing; all events form one group', ['correlation']);
  else if (!isStringList(groupByRaw)) fail('SEAM_ERR_RULE_SCHEMA', '`correlation.group-by` must be a list of field names', ['correlation', 'group-by']);
  else groupBy = groupByRaw;

  const timespanRaw = corr['timespan'];
  const timespanMs = parseTimespan(timespanRaw);
  if (timespanRaw === undefined) fail('SEAM_ERR_RULE_SCHEMA', 'correlation has no `timespan`', ['correlation']);
  else if (timespanMs === undefined) fail('SEAM_ERR_RULE_SCHEMA', `bad timespan '${String(timespanRaw)}': expected a number and one of s, m, h, d, w (e.g. 90m; months and years are not fixed durations)`, ['correlation', 'timespan']);
  else if (timespanMs > MAX_TIMESPAN_MS) {
    // A window is state held per group: a 99999-week window never lets a group go.
    fail('SEAM_ERR_RULE_LIMIT', `timespan '${String(timespanRaw)}' is over the ${MAX_TIMESPAN_MS / 86_400_000}-day limit of a correlation window`, ['correlation', 'timespan']);
  }

  const aliases = new Map<string, Map<string, string>>();
  const aliasesRaw = corr['aliases'];
  if (aliasesRaw !== undefined) {
    if (!isRec(aliasesRaw)) fail('SEAM_ERR_RULE_SCHEMA', '`correlation.aliases` must map alias → { rule name: field }', ['correlation', 'aliases']);
    else {
      for (const [alias, perRule] of Object.entries(aliasesRaw)) {
        if (!isRec(perRule) || !Object.values(perRule).every((f) => typeof f === 'string' && f !== '')) {
          fail('SEAM_ERR_RULE_SCHEMA', `alias '${alias}' must map rule names to field names`, ['correlation', 'aliases', alias]);
          continue;
        }
        aliases.set(alias, new Map(Object.entries(perRule as Record<string, string>)));
      }
    }
  }

  // Condition: comparisons ANDed into a range, plus `field` for the value_* types.
  const condition: Condition = {};
  let field: string[] | undefined;
  const condRaw = corr['condition'];
  const needsCondition = typeOk && ctype !== 'temporal' && ctype !== 'temporal_ordered';
  if (condRaw === undefined) {
    if (needsCondition) {
      const example = VALUE_TYPES.has(ctype) ? '{ field: bytes, gt: 1000 }' : '{ gte: 10 }';
      fail('SEAM_ERR_RULE_CONDITION', `a ${ctype} correlation needs a \`condition\` such as ${example}`, ['correlation']);
    }
  } else if (!isRec(condRaw)) {
    fail('SEAM_ERR_RULE_CONDITION', '`correlation.condition` must be a mapping such as { gte: 10 }', ['correlation', 'condition']);
  } else {
    for (const [k, v] of Object.entries(condRaw)) {
      if (k === 'field') {
        if (typeof v === 'string' && v !== '') field = [v];
        else if (isStringList(v) && v.length > 0) field = v;
        else fail('SEAM_ERR_RULE_CONDITION', '`condition.field` must be a field name or a list of field names', ['correlation', 'condition', 'field']);
      } else if ((COMPARISONS as readonly string[]).includes(k)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail('SEAM_ERR_RULE_CONDITION', `condition '${k}' must be a number`, ['correlation', 'condition', k]);
        else condition[k as Comparison] = v;
      } else fail('SEAM_ERR_RULE_CONDITION', `unknown condition key '${k}'; expected gt, gte, lt, lte, eq, neq or field`, ['correlation', 'condition', k]);
    }
    if (Object.keys(condition).length === 0) fail('SEAM_ERR_RULE_CONDITION', 'condition has no comparison (gt, gte, lt, lte, eq or neq)', ['correlation', 'condition']);
    if (typeOk && ctype === 'temporal_ordered') {
      warn('SEAM_ERR_RULE_CONDITION', 'temporal_ordered requires every rule in order; its condition is ignored', ['correlation', 'condition']);
      for (const k of COMPARISONS) delete condition[k];
    }
  }
  if (typeOk && VALUE_TYPES.has(ctype)) {
    if (field === undefined) {
      if (condRaw !== undefined) fail('SEAM_ERR_RULE_CONDITION', `a ${ctype} correlation needs \`condition.field\``, ['correlation', 'condition']);
    }
    else if (ctype !== 'value_count' && field.length > 1) fail('SEAM_ERR_RULE_CONDITION', `${ctype} aggregates one numeric field; \`condition.field\` lists ${field.length}`, ['correlation', 'condition', 'field']);
  } else if (field !== undefined && typeOk) {
    warn('SEAM_ERR_RULE_CONDITION', `\`condition.field\` has no meaning for ${ctype}; ignored`, ['correlation', 'condition', 'field']);
    field = undefined;
  }
  if (typeOk && ctype === 'temporal' && Object.keys(condition).length === 0) condition.gte = refs.length;

  const draft: Draft = {
    cd,
    valid: ok && typeOk && timespanMs !== undefined,
    id: correlationKey(id, name, title),
    title: titleText,
    level: toLevel(level),
    tags: isStringList(tags) ? tags : [],
    type: ctype,
    refs,
    groupBy,
    aliases,
    timespan: String(timespanRaw),
    timespanMs: timespanMs ?? 0,
    condition,
    generate: generate === true,
  };
  if (typeof name === 'string') draft.name = name;
  if (typeof doc['description'] === 'string') draft.description = doc['description'];
  if (field !== undefined) draft.field = field;
  if (isStringList(fieldsRaw) && fieldsRaw.length > 0) draft.fields = fieldsRaw;
  return draft;
}

/** True when `value` satisfies every comparison of the condition. */
export function satisfies(c: Condition, value: number): boolean {
  if (c.gt !== undefined && !(value > c.gt)) return false;
  if (c.gte !== undefined && !(value >= c.gte)) return false;
  if (c.lt !== undefined && !(value < c.lt)) return false;
  if (c.lte !== undefined && !(value <= c.lte)) return false;
  if (c.eq !== undefined && value !== c.eq) return false;
  if (c.neq !== undefined && value === c.neq) return false;
  return true;
}

/** True when `value` misses only because it is too small (a later window, with more events, may still hold). */
export function tooSmall(c: Condition, value: number): boolean {
  return (c.gt !== undefined && value <= c.gt) || (c.gte !== undefined && value < c.gte) || (c.eq !== undefined && value < c.eq);
}

/**
 * Which referenced rules must not emit their own alerts. Per spec v2.1, `generate` defaults to
 * false: a rule referenced by a correlation only feeds it. A rule referenced by several
 * correlations emits its own alerts if any of them sets `generate: true` (explicit opt-in wins).
 * References are resolved to ids through the correlations themselves and `rules`; references that
 * resolve to nothing are returned as written.
 */
export function suppressedRuleIds(docs: readonly CorrelationDoc[], rules: readonly RuleRef[] | RuleLookup = []): Set<string> {
  const lookup = typeof rules === 'function' ? rules : ruleLookupFrom(rules);
  const corrKeys = new Map<string, string>();
  for (const cd of docs) {
    const doc = isRec(cd.doc) ? cd.doc : {};
    const id = typeof doc['id'] === 'string' ? doc['id'] : cd.id;
    const name = typeof doc['name'] === 'string' ? doc['name'] : cd.name;
    const key = correlationKey(id, name, doc['title']);
    if (id !== undefined) corrKeys.set(id, key);
    if (name !== undefined) corrKeys.set(name, key);
  }
  const suppressed = new Set<string>();
  const generated = new Set<string>();
  for (const cd of docs) {
    const doc = isRec(cd.doc) ? cd.doc : {};
    const corr = isRec(doc['correlation']) ? doc['correlation'] : {};
    const refs = isStringList(corr['rules']) ? corr['rules'] : [];
    for (const ref of refs) {
      const id = corrKeys.get(ref) ?? lookup(ref)?.id ?? ref;
      (doc['generate'] === true ? generated : suppressed).add(id);
    }
  }
  for (const id of generated) suppressed.delete(id);
  return suppressed;
}
