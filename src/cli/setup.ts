import { redactUrlCredentials } from '../core/logger.ts';
import { z } from 'zod';
import { isSeamError } from '../core/errors.ts';
import { createOpenSearchClient } from '../sinks/opensearch/client.ts';
import { OpenSearchSinkConfig, type OpenSearchSinkConfigInput } from '../sinks/opensearch/config.ts';
import { loadCliConfig } from './config.ts';
import { isConnectionFailure, openSearchUnreachable, settingOrigin } from './unreachable.ts';
import { setupOpenSearch, type SetupAction } from '../sinks/opensearch/setup.ts';

/** Options of `seam setup opensearch`, as the CLI parses them. */
export interface SetupOpenSearchOptions {
  /** Node URLs; default seam.yml's opensearch.nodeUrls (SEAM_OPENSEARCH_URL, comma-separated) or http://127.0.0.1:9200. */
  url?: string[];
  /** Basic auth user; the password is read from the environment variable named by `passwordEnv`. */
  username?: string;
  passwordEnv?: string;
  /** SigV4 instead of basic auth: the AWS region, and 'es' (managed domains) or 'aoss' (Serverless). */
  awsRegion?: string;
  awsService?: 'es' | 'aoss';
  caFile?: string;
  /** Accept certificates that do not chain to a trusted CA. */
  insecure?: boolean;
  indexPrefix?: string;
  shards?: number;
  replicas?: number;
  refreshIntervalMs?: number;
  retentionDays?: number;
  /** false (`--no-ism`) never installs the retention policies and ages nothing out. */
  ism?: boolean;
  dryRun?: boolean;
  /** seam.yml (default SEAM_CONFIG): its opensearch and ism sections; the flags above win. */
  config?: string;
  /** OpenSearch Dashboards URL: import the saved objects in deploy/opensearch/dashboards/ (Saved Objects API). */
  dashboards?: string;
  /** For tests; default process.stdout / process.stderr. */
  out?: { write(s: string): unknown };
  err?: { write(s: string): unknown };
  env?: NodeJS.ProcessEnv;
}

/** `seam setup opensearch`: installs templates (and the ISM policy when possible) and prints what it did. Returns the exit code. */
export async function setupOpenSearchCommand(o: SetupOpenSearchOptions = {}): Promise<number> {
  const out = o.out ?? process.stdout;
  const errOut = o.err ?? process.stderr;
  const env = o.env ?? process.env;
  const loaded = await loadCliConfig(o.config, env, errOut);
  if (loaded === undefined) return 2;
  const base = loaded.config.opensearch;
  const passwordEnv = o.passwordEnv ?? 'SEAM_OPENSEARCH_PASSWORD';

  let auth: OpenSearchSinkConfigInput['auth'] = base.auth;
  if (o.awsRegion) auth = { type: 'aws-sigv4', region: o.awsRegion, service: o.awsService ?? 'es' };
  else if (o.username) auth = { type: 'basic', username: o.username, password: env[passwordEnv] ?? '' };

  const parsed = OpenSearchSinkConfig.safeParse({
    ...base,
    ...(o.url && o.url.length > 0 ? { nodeUrls: o.url } : {}),
    auth,
    tls: { ...base.tls, ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.insecure ? { rejectUnauthorized: false } : {}) },
    ...(o.indexPrefix !== undefined ? { indexPrefix: o.indexPrefix } : {}),
    ...(o.shards !== undefined ? { shards: o.shards } : {}),
    ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
    ...(o.refreshIntervalMs !== undefined ? { refreshIntervalMs: o.refreshIntervalMs } : {}),
  } satisfies OpenSearchSinkConfigInput);
  if (!parsed.success) {
    const hint = auth.type === 'basic' && !auth.password ? ` (set the password in ${passwordEnv})` : '';
    errOut.write(`seam setup opensearch: SEAM_ERR_CONFIG_INVALID: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}${hint}\n`);
    return 2;
  }
  const cfg = parsed.data;
  const client = await createOpenSearchClient(cfg);
  try {
    out.write(`OpenSearch ${cfg.nodeUrls.map(redactUrlCredentials).join(', ')}: prefix ${cfg.indexPrefix}, ${cfg.shards} shard(s), ${cfg.replicas} replica(s)${o.dryRun ? ' (dry run)' : ''}\n`);
    const retention = o.ism !== false && loaded.config.ism.enabled;
    await setupOpenSearch(client, {
      templates: cfg,
      ism: retention ? 'auto' : 'skip',
      ...(retention ? { ageOut: { identityDays: loaded.config.ism.identityRetentionDays, incidentsDays: loaded.config.ism.incidentsRetentionDays } } : {}),
      ...((o.retentionDays ?? loaded.config.ism.retentionDays) !== undefined ? { retentionDays: (o.retentionDays ?? loaded.config.ism.retentionDays)! } : {}),
      alertsRetentionDays: loaded.config.ism.alertsRetentionDays,
      dryRun: o.dryRun ?? false,
      onAction: (a) => out.write(`${formatAction(a)}\n`),
    });
    if (o.dashboards !== undefined) {
      const { dashboardPayloads, importDashboards } = await import('../sinks/opensearch/dashboards-import.ts');
      const where = redactUrlCredentials(o.dashboards);
      if (o.dryRun) {
        for (const f of dashboardPayloads(undefined, cfg.indexPrefix)) out.write(`  would import  saved objects ${f.file} into ${where}\n`);
      } else {
        // Dashboards behind the security plugin take the same basic-auth user as OpenSearch.
        const basic = cfg.auth.type === 'basic' ? { username: cfg.auth.username, password: cfg.auth.password } : {};
        const results = await importDashboards({ url: o.dashboards, indexPrefix: cfg.indexPrefix, ...basic });
        for (const r of results) out.write(`  imported     saved objects ${r.file} (${r.successCount} of ${r.objects}) into ${where}\n`);
      }
    }
    return 0;
  } catch (e) {
    if (isConnectionFailure(e)) {
      errOut.write(`seam setup opensearch: ${openSearchUnreachable(cfg.nodeUrls, settingOrigin(loaded, 'opensearch.nodeUrls', o.url && o.url.length > 0 ? '--url' : undefined), e)}\n`);
      return 1;
    }
    const code = isSeamError(e) ? `${e.code}: ` : '';
    errOut.write(`seam setup opensearch: ${code}${redactUrlCredentials((e as Error).message)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

export function formatAction(a: SetupAction): string {
  const kind = a.kind.replaceAll('_', ' ');
  return `  ${a.action.padEnd(12)} ${kind} ${a.name}${a.note ? ` — ${a.note}` : ''}`;
}
