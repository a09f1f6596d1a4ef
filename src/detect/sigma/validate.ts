/**
 * Stage 2 of rule loading: checks a document against the Sigma v2.1 JSON schemas' semantics
 * (rules, meta-filters, correlations). Problems that make a document unusable are errors (the
 * document is rejected); metadata that breaks the schema without changing what the rule matches
 * (a tag pattern, a date format, a non-UUID id) is a warning, so the rule still loads.
 */
import { basename } from 'node:path';
import type { Diagnostic, Logsource } from './types.ts';
import type { Pos, ReadDoc, YNode } from './read.ts';
import { getKey, str } from './read.ts';
import { diag, warn } from './diagnostics.ts';
import { tacticTagProblem } from '../attack-tags.ts';
import { didYouMean } from './spelling.ts';
import { ConditionError, parseCondition, type Cond } from './condition.ts';

export type DocKind = 'rule' | 'filter' | 'correlation';

export interface RuleMeta {
  kind: DocKind;
  pos: Pos;
  title: string;
  id?: string;
  name?: string;
  /** Where the `name:` key is: SEAM_ERR_RULE_NAME points there. */
  namePos?: Pos;
  status?: string;
  level?: string;
  description?: string;
  tags: string[];
  fields?: string[];
  falsepositives?: string[];
  logsource: Logsource;
  /** `detection` for rules, `filter` for meta-filters. */
  detection?: YNode;
  /** Filters: the rule ids or names they apply to. */
  targets?: { ref: string; pos: Pos }[];
  /** Filters: `rules: any` (or `all`): every rule whose logsource the filter's covers. */
  allRules?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$/;
const TAG = /^[a-z0-9_-]+\.[a-z0-9._-]+$/;
const STATUS = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];
const LEVEL = ['informational', 'low', 'medium', 'high', 'critical'];
/** The level of a rule or correlation that sets none: the engine's (alert.ts toLevel) and coverage's. */
export const DEFAULT_LEVEL = 'medium' as const;
/** Top-level keys of Sigma 2.1 rules, filters and correlations, and SigmaHQ's own two (regression tests, simulation). */
const TOP_KEYS = [
  'title', 'id', 'related', 'name', 'taxonomy', 'status', 'description', 'license', 'references', 'author', 'date', 'modified',
  'logsource', 'detection', 'fields', 'falsepositives', 'level', 'tags', 'scope', 'filter', 'correlation', 'generate',
  'regression_tests_path', 'simulation',
];
const RELATED = ['derived', 'obsolete', 'merged', 'renamed', 'similar'];
export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile'];

export function docKind(node: YNode): DocKind {
  if (getKey(node, 'correlation')) return 'correlation';
  if (getKey(node, 'filter') && !getKey(node, 'detection')) return 'filter';
  return 'rule';
}

/** Returns metadata when the document is usable, pushing every problem found to `diags`. */
export function validateDoc(doc: ReadDoc, file: string, diags: Diagnostic[]): RuleMeta | undefined {
  const node = doc.node;
  if (node.kind !== 'map') {
    diags.push(diag('SEAM_ERR_RULE_SCHEMA', file, node.pos, 'a Sigma document must be a map'));
    return undefined;
  }
  // A rule test file under another name (`x.tests.yml`, `x_test.yml`) is read as a rule: one error saying what it
  // is and what to call it, not five about the keys a rule lacks.
  const casesE = getKey(node, 'cases');
  if (casesE && !['title', 'detection', 'correlation', 'filter'].some((k) => getKey(node, k))) {
    const named = basename(file).replace(/\.(ya?ml)$/i, '');
    diags.push(diag('SEAM_ERR_RULE_SCHEMA', file, casesE.keyPos, `this is a rule test file (top-level 'cases'), not a rule: Seam reads tests only as X.test.yml beside the rule X.yml (rename it ${named.replace(/[._-]tests?$/i, '')}.test.yml)`));
    return undefined;
  }
  const kind = docKind(node);
  let ok = true;
  const err = (pos: Pos, msg: string): void => {
    ok = false;
    diags.push(diag('SEAM_ERR_RULE_SCHEMA', file, pos, msg, ruleRef ? { rule: ruleRef } : {}));
  };
  const w = (pos: Pos, msg: string): void => {
    diags.push(warn('SEAM_ERR_RULE_SCHEMA', file, pos, msg, ruleRef));
  };

  const titleE = getKey(node, 'title');
  const idE = getKey(node, 'id');
  const ruleRef = str(idE?.value) ?? str(titleE?.value);
  const title = str(titleE?.value);
  if (title === undefined) err(titleE?.value.pos ?? node.pos, titleE ? 'title must be a string' : "missing required 'title'");
  else if (title.length > 256) w(titleE!.value.pos, 'title is longer than 256 characters');

  let id: string | undefined;
  if (idE) {
    const v = idE.value;
    id = v.kind === 'scalar' && v.value !== null ? String(v.value) : undefined;
    if (id === undefined || typeof (v as { value?: unknown }).value !== 'string') err(v.pos, 'id must be a string');
    else if (!UUID.test(id)) w(v.pos, `id '${id}' is not a UUID`);
  }
  const meta: RuleMeta = { kind, pos: doc.pos, title: title ?? '', tags: [], logsource: {} };
  if (id !== undefined) meta.id = id;

  // Sigma allows custom keys, but one Seam does not know is most often a misspelling (`levle: high`), which
  // silently leaves the real key unset.
  for (const e of node.entries) {
    if (TOP_KEYS.includes(e.key)) continue;
    const hint = didYouMean(e.key, TOP_KEYS);
    w(e.keyPos, `unknown top-level key '${e.key}'${hint}: Seam ignores it${hint === '' ? ` (Sigma 2.1 keys: ${TOP_KEYS.join(', ')})` : ''}`);
  }

  const nameE = getKey(node, 'name');
  if (nameE) {
    const n = str(nameE.value);
    if (n === undefined) err(nameE.value.pos, 'name must be a string');
    else {
      meta.name = n;
      meta.namePos = nameE.keyPos;
    }
  }

  for (const k of ['date', 'modified']) {
    const e = getKey(node, k);
    if (e && !(str(e.value) !== undefined && DATE.test(str(e.value)!))) w(e.value.pos, `${k} must be a date as YYYY-MM-DD`);
  }
  const descE = getKey(node, 'description');
  if (descE) {
    const d = str(descE.value);
    if (d === undefined) w(descE.value.pos, 'description must be a string');
    else meta.description = d;
  }
  const strList = (key: string, opts: { pattern?: RegExp; minLength?: number } = {}): string[] | undefined => {
    const e = getKey(node, key);
    if (!e) return undefined;
    if (e.value.kind !== 'seq') {
      w(e.value.pos, `${key} must be a list of strings`);
      return undefined;
    }
    const out: string[] = [];
    for (const it of e.value.items) {
      const s = it.kind === 'scalar' && it.value !== null ? String(it.value) : undefined;
      if (s === undefined || typeof (it as { value?: unknown }).value !== 'string') w(it.pos, `${key} items must be strings`);
      else if (opts.pattern && !opts.pattern.test(s)) w(it.pos, `${key} item '${s}' does not match ${String(opts.pattern)}`);
      else if (opts.minLength !== undefined && s.length < opts.minLength) w(it.pos, `${key} item '${s}' is too short`);
      if (s !== undefined) {
        if (out.includes(s)) w(it.pos, `${key} item '${s}' is repeated`);
        out.push(s);
      }
    }
    return out;
  };

  // ATT&CK tactic tags in one spelling (Sigma tags appendix): an error in Seam's own rules (`author: Seam`,
  // checked by `seam rules lint`), a warning in others'. Either way the rule loads.
  const ours = str(getKey(node, 'author')?.value) === 'Seam';
  const tagsE = getKey(node, 'tags');
  if (tagsE?.value.kind === 'seq') {
    for (const it of tagsE.value.items) {
      const s = str(it);
      const p = s === undefined ? undefined : tacticTagProblem(s);
      if (p === undefined || (!ours && p.canonical === undefined)) continue;
      diags.push(diag('SEAM_ERR_RULE_SCHEMA', file, it.pos, p.message, { severity: ours ? 'error' : 'warning', ...(ruleRef ? { rule: ruleRef } : {}) }));
    }
  }

  if (kind === 'correlation') {
    if (!getKey(node, 'level')) w(node.pos, `no 'level': the correlation alerts as ${DEFAULT_LEVEL} (a person should look); set one of ${LEVEL.join(', ')}`);
    return validateCorrelation(node, file, meta, err, w, ok);
  }

  // logsource (rules and filters)
  const lsE = getKey(node, 'logsource');
  if (!lsE) err(node.pos, "missing required 'logsource'");
  else if (lsE.value.kind !== 'map') err(lsE.value.pos, 'logsource must be a map');
  else {
    for (const e of lsE.value.entries) {
      if (e.key === 'category' || e.key === 'product' || e.key === 'service' || e.key === 'definition') {
        const s = str(e.value);
        if (s === undefined) w(e.value.pos, `logsource.${e.key} must be a string`);
        else meta.logsource[e.key] = s;
      }
    }
  }

  if (kind === 'filter') {
    const fE = getKey(node, 'filter')!;
    if (fE.value.kind !== 'map') err(fE.value.pos, 'filter must be a map');
    else {
      const rE = getKey(fE.value, 'rules');
      const one = rE === undefined ? undefined : str(rE.value);
      if (!rE) err(fE.value.pos, "filter is missing 'rules' (a list of rule ids or names, or 'any' for every rule its logsource covers)");
      else if (one !== undefined && (one.toLowerCase() === 'any' || one.toLowerCase() === 'all')) {
        // As pySigma: `rules: any` (or `all`) applies the filter to every rule whose logsource the filter's covers.
        meta.allRules = true;
        meta.targets = [];
      } else if (rE.value.kind === 'seq' && rE.value.items.length === 0) {
        // pySigma reads an empty list as `any`; say so, since it is more often a list not filled in yet.
        w(rE.value.pos, "filter.rules is an empty list, which applies the filter to every rule its logsource covers (as 'any'); write 'rules: any' if that is meant");
        meta.allRules = true;
        meta.targets = [];
      } else {
        const items = rE.value.kind === 'seq' ? rE.value.items : rE.value.kind === 'scalar' ? [rE.value] : [];
        const targets = items.flatMap((it) => (str(it) !== undefined ? [{ ref: str(it)!, pos: it.pos }] : []));
        if (targets.length === 0 || targets.length !== items.length) err(rE.value.pos, "filter.rules must be 'any', or a non-empty list of rule ids or names");
        meta.targets = targets;
      }
      const condE = getKey(fE.value, 'condition');
      if (!condE) err(fE.value.pos, "filter is missing 'condition'");
      else {
        const cond = str(condE.value);
        // The filter's condition is ANDed to the rule's as written (Sigma spec, pySigma): an exclusion is
        // `not selection`. A condition with no `not` on top keeps only what it selects, which is how Seam
        // read filters before, and most likely a filter written that way.
        if (cond !== undefined && exclusionShaped(cond) === false) {
          w(condE.value.pos, `filter condition '${cond}' keeps only the events it selects (the rule becomes \`rule and (${cond})\`); to leave events out, write \`not ${/\s/.test(cond.trim()) ? `(${cond.trim()})` : cond.trim()}\``);
        }
      }
      meta.detection = fE.value;
    }
    return ok ? meta : undefined;
  }

  // detection rules
  const detE = getKey(node, 'detection');
  if (!detE) err(node.pos, "missing required 'detection'");
  else if (detE.value.kind !== 'map') err(detE.value.pos, 'detection must be a map');
  else {
    if (!getKey(detE.value, 'condition')) err(detE.value.pos, "detection is missing 'condition'");
    const tf = getKey(detE.value, 'timeframe');
    if (tf) w(tf.keyPos, "'detection.timeframe' (Sigma v1) is ignored: the rule matches single events; write a correlation (e.g. event_count with a timespan) for a count over time");
    meta.detection = detE.value;
  }
  const statusE = getKey(node, 'status');
  if (statusE) {
    const s = str(statusE.value);
    if (s === undefined || !STATUS.includes(s)) w(statusE.value.pos, `status must be one of ${STATUS.join(', ')}`);
    if (s !== undefined) meta.status = s;
  }
  const levelE = getKey(node, 'level');
  if (levelE) {
    const s = str(levelE.value);
    // An unknown level is an error, not a warning: the rule would run as medium, paging someone (or not) by accident.
    if (s === undefined || !LEVEL.includes(s)) err(levelE.value.pos, `level '${s ?? ''}' is not one of ${LEVEL.join(', ')}`);
    else meta.level = s;
  } else w(node.pos, `no 'level': the rule runs as ${DEFAULT_LEVEL} (a person should look) and counts against the noise budget; set one of ${LEVEL.join(', ')}`);
  if (meta.status === 'deprecated' || meta.status === 'unsupported') {
    w(statusE!.value.pos, `status '${meta.status}': Seam loads and runs the rule anyway (Sigma marks such rules as not to be used${meta.status === 'deprecated' ? '; see its related rules' : ''}); leave it out of your rule paths if it should not run`);
  }
  meta.tags = strList('tags', { pattern: TAG }) ?? [];
  const fields = strList('fields');
  if (fields) meta.fields = fields;
  const fps = strList('falsepositives', { minLength: 2 });
  if (fps) meta.falsepositives = fps;
  strList('references');
  strList('scope', { minLength: 2 });
  const relE = getKey(node, 'related');
  if (relE) {
    if (relE.value.kind !== 'seq') w(relE.value.pos, 'related must be a list');
    else {
      for (const it of relE.value.items) {
        const t = str(getKey(it, 'type')?.value);
        if (!str(getKey(it, 'id')?.value)) w(it.pos, 'related item needs an id');
        if (t === undefined || !RELATED.includes(t)) w(it.pos, `related type must be one of ${RELATED.join(', ')}`);
      }
    }
  }
  return ok ? meta : undefined;
}

function validateCorrelation(
  node: YNode,
  _file: string,
  meta: RuleMeta,
  err: (pos: Pos, msg: string) => void,
  w: (pos: Pos, msg: string) => void,
  okSoFar: boolean,
): RuleMeta | undefined {
  let ok = okSoFar;
  const e = (pos: Pos, msg: string): void => {
    ok = false;
    err(pos, msg);
  };
  const cE = getKey(node, 'correlation')!;
  const c = cE.value;
  if (c.kind !== 'map') {
    e(c.pos, 'correlation must be a map');
    return undefined;
  }
  const type = str(getKey(c, 'type')?.value);
  if (type === undefined) e(getKey(c, 'type')?.value.pos ?? c.pos, "correlation is missing 'type'");
  else if (!CORRELATION_TYPES.includes(type)) e(getKey(c, 'type')!.value.pos, `correlation type '${type}' is not one of ${CORRELATION_TYPES.join(', ')}${didYouMean(type, CORRELATION_TYPES)}`);
  const rE = getKey(c, 'rules');
  if (!rE) e(c.pos, "correlation is missing 'rules'");
  else {
    const items = rE.value.kind === 'seq' ? rE.value.items : rE.value.kind === 'scalar' ? [rE.value] : [];
    const refs = items.flatMap((it) => (str(it) !== undefined ? [{ ref: str(it)!, pos: it.pos }] : []));
    if (refs.length === 0 || refs.length !== items.length) e(rE.value.pos, 'correlation.rules must be a non-empty list of rule ids or names');
    meta.targets = refs;
  }
  const tE = getKey(c, 'timespan');
  if (!tE) e(c.pos, "correlation is missing 'timespan'");
  else {
    const t = tE.value.kind === 'scalar' && tE.value.value !== null ? String(tE.value.value) : undefined;
    // Sigma's syntax passes here (M and y too, refused when the correlation compiles, with its other problems); the
    // message says what the engine takes (parseTimespan), not M or y, which would send the author to that refusal.
    if (t === undefined || !/^\d+[smhdwMy]$/.test(t)) e(tE.value.pos, `timespan '${t ?? ''}' must be a number followed by s, m, h, d or w (e.g. 90m, 7d; months and years are not fixed durations)`);
  }
  const gE = getKey(c, 'group-by');
  if (gE && !(gE.value.kind === 'seq' && gE.value.items.every((i) => str(i) !== undefined))) e(gE.value.pos, 'group-by must be a list of field names');
  const condE = getKey(c, 'condition');
  if (condE && condE.value.kind !== 'map') w(condE.value.pos, 'correlation condition should be a map such as {gte: 10}');
  return ok ? meta : undefined;
}

/**
 * Whether a filter condition is shaped as an exclusion, read with the engine's condition parser: a negation at
 * the top (`not selection`, `not (a or b)`, `not 1 of f*`), or an `and` (or `or`) whose every operand is one
 * (`not a and not b`; `not a or not b` is `not (a and b)`). Undefined when the condition does not parse: the
 * compiler reports that, with its offset, and a shape warning on top would only add noise.
 */
export function exclusionShaped(cond: string): boolean | undefined {
  let ast: Cond;
  try {
    ast = parseCondition(cond);
  } catch (e) {
    if (e instanceof ConditionError) return undefined;
    throw e;
  }
  const negated = (c: Cond): boolean => c.t === 'not' || ((c.t === 'and' || c.t === 'or') && c.items.every(negated));
  return negated(ast);
}
