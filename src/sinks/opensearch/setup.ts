import { readFile } from 'node:fs/promises';
import type { Client } from '@opensearch-project/opensearch';
import { SeamError } from '../../core/errors.ts';
import { ageOutSingleIndices, type AgeOutAction, type AgeOutOptions } from './retention.ts';
import { bodyHash, buildTemplates, identityIndexName, incidentsIndexName, type TemplateOptions } from './templates.ts';

/**
 * Installs what Seam needs in OpenSearch, idempotently: component and index templates (compared by
 * the hash in their `_meta`, so an unchanged template is not rewritten), the identity index, and,
 * when the Index State Management plugin is installed, the retention policies for daily event and alert indices;
 * asked to (`ageOut`), it also deletes what is past retention in the identity and incidents indices (retention.ts).
 */

/** The one client call setup makes; a real `Client` satisfies it. */
export type TransportApi = Pick<Client, 'transport'>;

export interface SetupAction {
  kind: 'component_template' | 'index_template' | 'index' | 'index_mapping' | 'ism_policy' | AgeOutAction['kind'];
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'skipped' | 'would create' | 'would update' | 'conflict' | 'deleted' | 'would delete';
  note?: string;
}

export interface SetupOptions {
  templates: TemplateOptions;
  /** `auto`: install the retention policy when the ISM plugin is present; `skip`: never. */
  ism: 'auto' | 'skip';
  /** Overrides the policy's `min_index_age` (30 days in the shipped file). */
  retentionDays?: number;
  /** Days before the alerts policy deletes daily alert indices (`ism.alertsRetentionDays`, default 400). */
  alertsRetentionDays?: number;
  /**
   * Age out the identity and incidents indices (delete-by-query, whether or not ISM is installed). Only
   * `seam setup opensearch` asks: the index role, which runs setup at start with `ism: 'skip'`, may not delete.
   */
  ageOut?: AgeOutOptions;
  /** The policy file; defaults to deploy/opensearch/ism-retention.json in this checkout. */
  ismPolicyFile?: string | URL;
  /** Report what would change without changing anything. */
  dryRun?: boolean;
  onAction?: (a: SetupAction) => void;
}

export const DEFAULT_ISM_POLICY_FILE = new URL('../../../deploy/opensearch/ism-retention.json', import.meta.url);
const ISM_PLUGIN = 'opensearch-index-management';

interface Resp {
  statusCode: number | null;
  body: unknown;
}

export async function setupOpenSearch(client: TransportApi, o: SetupOptions): Promise<SetupAction[]> {
  const actions: SetupAction[] = [];
  const report = (a: SetupAction): void => {
    actions.push(a);
    o.onAction?.(a);
  };
  const call = async (method: string, path: string, body?: unknown, querystring?: Record<string, unknown>): Promise<Resp> => {
    try {
      const r = await client.transport.request({ method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }), ...(querystring ? { querystring } : {}) }, { ignore: [404] });
      return { statusCode: r.statusCode, body: r.body };
    } catch (e) {
      const meta = (e as { meta?: { statusCode?: number; body?: unknown } }).meta;
      const detail = meta?.body ? ` ${JSON.stringify(meta.body).slice(0, 500)}` : '';
      throw new SeamError('SEAM_ERR_SINK_SETUP', `${method} ${path} failed: ${(e as Error).message}${detail}`, { cause: e, details: { method, path, status: meta?.statusCode } });
    }
  };

  const { componentTemplates, indexTemplates } = buildTemplates(o.templates);
  for (const [kind, path, list] of [
    ['component_template', '_component_template', componentTemplates],
    ['index_template', '_index_template', indexTemplates],
  ] as const) {
    for (const t of list) {
      const existing = await call('GET', `/${path}/${encodeURIComponent(t.name)}`);
      const key = kind === 'component_template' ? 'component_templates' : 'index_templates';
      const found = existing.statusCode === 404 ? undefined : ((existing.body as Record<string, Array<Record<string, { _meta?: { seam_hash?: string } }>>>)[key]?.[0]);
      const installedHash = found ? Object.values(found).find((v) => typeof v === 'object' && v !== null)?._meta?.seam_hash : undefined;
      const wanted = (t.body._meta as { seam_hash: string }).seam_hash;
      if (found && installedHash === wanted) {
        report({ kind, name: t.name, action: 'unchanged' });
        continue;
      }
      if (!o.dryRun) await call('PUT', `/${path}/${encodeURIComponent(t.name)}`, t.body);
      report({ kind, name: t.name, action: o.dryRun ? (found ? 'would update' : 'would create') : found ? 'updated' : 'created', ...(found ? { note: 'applies to indices created from now on' } : {}) });
    }
  }

  await addedFields(call, o, report);

  for (const index of [identityIndexName(o.templates.indexPrefix), incidentsIndexName(o.templates.indexPrefix)]) {
    const head = await call('HEAD', `/${index}`);
    if (head.statusCode === 404) {
      if (!o.dryRun) await call('PUT', `/${index}`);
      report({ kind: 'index', name: index, action: o.dryRun ? 'would create' : 'created' });
    } else {
      report({ kind: 'index', name: index, action: 'unchanged' });
    }
  }

  if (o.ageOut !== undefined) await ageOutSingleIndices(call, o.templates.indexPrefix, { ...o.ageOut, ...(o.dryRun ? { dryRun: true } : {}) }, report);

  const policyIds = (['events', 'alerts'] as const).map((f) => `${o.templates.indexPrefix}-${f}-retention`);
  if (o.ism === 'skip') {
    for (const policyId of policyIds) report({ kind: 'ism_policy', name: policyId, action: 'skipped', note: 'ISM disabled by option' });
    return actions;
  }
  if (!(await hasIsmPlugin(call))) {
    for (const policyId of policyIds) {
      report({
        kind: 'ism_policy',
        name: policyId,
        action: 'skipped',
        note: `the Index State Management plugin is not installed; daily indices work without it: delete ${o.templates.indexPrefix}-${policyId.endsWith('-alerts-retention') ? 'alerts' : 'events-<source>'}-YYYY.MM.DD indices past retention yourself`,
      });
    }
    return actions;
  }
  for (const family of ['events', 'alerts'] as const) {
    const policyId = `${o.templates.indexPrefix}-${family}-retention`;
    const policy = await ismPolicy(o, family);
    const existing = await call('GET', `/_plugins/_ism/policies/${encodeURIComponent(policyId)}`);
    const current = existing.statusCode === 404 ? undefined : (existing.body as { _seq_no?: number; _primary_term?: number; policy?: { description?: string } });
    if (current?.policy?.description === policy.policy.description) {
      report({ kind: 'ism_policy', name: policyId, action: 'unchanged' });
      continue;
    }
    if (!o.dryRun) {
      const qs = current ? { if_seq_no: current._seq_no, if_primary_term: current._primary_term } : undefined;
      await call('PUT', `/_plugins/_ism/policies/${encodeURIComponent(policyId)}`, policy, qs);
    }
    report({ kind: 'ism_policy', name: policyId, action: o.dryRun ? (current ? 'would update' : 'would create') : current ? 'updated' : 'created' });
  }
  return actions;
}

async function hasIsmPlugin(call: (m: string, p: string, b?: unknown, q?: Record<string, unknown>) => Promise<Resp>): Promise<boolean> {
  try {
    const r = await call('GET', '/_cat/plugins', undefined, { format: 'json' });
    const rows = Array.isArray(r.body) ? (r.body as Array<{ component?: string }>) : [];
    return rows.some((row) => row.component === ISM_PLUGIN);
  } catch {
    // OpenSearch Serverless has no _cat/plugins (and no ISM); treat "cannot tell" as "absent".
    return false;
  }
}

interface IsmPolicyBody {
  policy: { description: string; states: Array<{ transitions?: Array<{ conditions?: { min_index_age?: string } }> }>; ism_template?: Array<{ index_patterns: string[] }> };
}

/** The shipped policy with the index prefix and retention applied; its description carries a hash so reruns can tell it is unchanged. */
/**
 * Fields added to a template after its indices were made, put into the indices that already exist (a template
 * applies to indices created from then on): without it, a backfill writing into past day indices meets dynamic
 * mapping there. Today: `ocsf` (a flat object, ADR 0041) of the cloudtrail indices, and `indexed_at` (a date) of the
 * identity index, which the index role writes from session 33 on and retention ranges over (a string there would be
 * a keyword). Setup runs this before the index role writes (the role runs setup at start). An index where the field
 * is already mapped otherwise cannot be changed: reported as a conflict (reindex it, or let it age out).
 */
const ADDED_FIELDS: readonly { indices: (prefix: string) => string; field: string; mapping: Record<string, unknown> }[] = [
  { indices: (p) => `${p}-events-cloudtrail-*`, field: 'ocsf', mapping: { type: 'flat_object' } },
  { indices: (p) => identityIndexName(p), field: 'indexed_at', mapping: { type: 'date' } },
];

async function addedFields(call: (method: string, path: string, body?: unknown) => Promise<Resp>, o: SetupOptions, report: (a: SetupAction) => void): Promise<void> {
  for (const f of ADDED_FIELDS) {
    const pattern = f.indices(o.templates.indexPrefix);
    const r = await call('GET', `/${pattern}/_mapping/field/${f.field}`);
    if (r.statusCode === 404 || typeof r.body !== 'object' || r.body === null) continue;
    for (const [index, v] of Object.entries(r.body as Record<string, { mappings?: Record<string, { mapping?: Record<string, { type?: string }> }> }>)) {
      const current = v.mappings?.[f.field]?.mapping?.[f.field];
      const name = `${index}.${f.field}`;
      if (current === undefined) {
        try {
          if (!o.dryRun) await call('PUT', `/${encodeURIComponent(index)}/_mapping`, { properties: { [f.field]: f.mapping } });
          report({ kind: 'index_mapping', name, action: o.dryRun ? 'would create' : 'created' });
        } catch (e) {
          // Mapped otherwise after all (an object whose field mapping was not listed): the index keeps it.
          report({ kind: 'index_mapping', name, action: 'conflict', note: `not changed: ${(e as Error).message.slice(0, 300)}` });
        }
      } else if ((current.type ?? 'object') === f.mapping.type) {
        report({ kind: 'index_mapping', name, action: 'unchanged' });
      } else {
        report({ kind: 'index_mapping', name, action: 'conflict', note: `mapped as ${current.type ?? 'object'} before the template said ${String(f.mapping.type)}; events whose ${f.field} does not fit are refused there: reindex it, or let it age out` });
      }
    }
  }
}

/** Default days of the alerts policy (`ism.alertsRetentionDays`). */
export const DEFAULT_ALERTS_RETENTION_DAYS = 400;

/**
 * The shipped policy for one index family with the index prefix and retention applied: `events` (daily
 * `<prefix>-events-<source>-YYYY.MM.DD`, retentionDays or the file's), `alerts` (daily `<prefix>-alerts-YYYY.MM.DD`,
 * alertsRetentionDays or 400; the pattern `-alerts-2*` leaves a non-daily `-alerts-all` alone). Its description
 * carries a hash so reruns can tell it is unchanged.
 */
export async function ismPolicy(o: Pick<SetupOptions, 'templates' | 'retentionDays' | 'alertsRetentionDays' | 'ismPolicyFile'>, family: 'events' | 'alerts' = 'events'): Promise<IsmPolicyBody> {
  const body = JSON.parse(await readFile(o.ismPolicyFile ?? DEFAULT_ISM_POLICY_FILE, 'utf8')) as IsmPolicyBody;
  const p = body.policy;
  const prefix = o.templates.indexPrefix;
  for (const t of p.ism_template ?? []) t.index_patterns = [family === 'events' ? `${prefix}-events-*` : `${prefix}-alerts-2*`];
  const days = family === 'events' ? o.retentionDays : (o.alertsRetentionDays ?? DEFAULT_ALERTS_RETENTION_DAYS);
  if (family === 'alerts') p.description = p.description.replace(/daily event indices \([^)]*\)/, `daily alert indices (${prefix}-alerts-YYYY.MM.DD)`);
  if (days !== undefined) {
    for (const s of p.states) for (const tr of s.transitions ?? []) if (tr.conditions?.min_index_age) tr.conditions.min_index_age = `${days}d`;
    p.description = p.description.replace(/for \d+ days/, `for ${days} days`);
  }
  p.description = `${p.description} [seam:${bodyHash(p)}]`;
  return body;
}
