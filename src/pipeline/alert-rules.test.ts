// deploy/prometheus/seam-alerts.yml against what Seam really exports: the dead-letter alerts must count dead letters
// only, and a collector's failed AWS calls must page as what they are (SeamCollectorErrors), not as dead letters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ERROR_CODES } from '../core/errors.ts';
import { MetricsServer } from '../core/metrics.ts';
import type { CheckpointStore } from '../sources/checkpoint/store.ts';
import { CloudWatchLogsSourceConfig } from '../sources/cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../sources/cloudwatch-logs/source.ts';
import { registerCollectorMetrics, registerRoleMetrics } from './metrics.ts';

interface Rule {
  alert: string;
  expr: string;
}
const rules = (parse(readFileSync(join(import.meta.dirname, '../../deploy/prometheus/seam-alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const rule = (name: string): Rule => {
  const r = rules.find((x) => x.alert === name);
  if (r === undefined) throw new Error(`no alert ${name} in seam-alerts.yml`);
  return r;
};

/** The label matchers of the rule's seam_errors_total selector, as Prometheus reads them (regexes anchored). */
function errorsSelector(r: Rule): (labels: Record<string, string>) => boolean {
  const m = /seam_errors_total\{([^}]*)\}/.exec(r.expr);
  if (m === null) throw new Error(`${r.alert} selects no seam_errors_total labels: ${r.expr}`);
  const matchers = [...m[1]!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! }));
  return (labels) =>
    matchers.every(({ label, op, value }) => {
      const v = labels[label] ?? '';
      if (op === '=') return v === value;
      if (op === '!=') return v !== value;
      const hit = new RegExp(`^(?:${value})$`).test(v);
      return op === '=~' ? hit : !hit;
    });
}

/** seam_errors_total series of a scrape: their labels. */
function errorSeries(text: string): Record<string, string>[] {
  return [...text.matchAll(/^seam_errors_total\{([^}]*)\} (\S+)$/gm)].map(([, labels]) => Object.fromEntries([...labels!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!])));
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('deploy/prometheus/seam-alerts.yml', () => {
  it('SeamDeadLetterRate and SeamDeadLetterShare count dead letters, not a collector failing its AWS calls; SeamCollectorErrors counts those', async () => {
    // A CloudWatch Logs collector without credentials, as the platform walkthrough ran it: every FilterLogEvents fails.
    const store: CheckpointStore = { load: () => Promise.resolve(undefined), save: () => Promise.resolve(), close: () => Promise.resolve() };
    const config = CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', name: 'audit', logGroups: [{ logGroupName: '/aws/eks/prod/cluster' }] });
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const source = new CloudWatchLogsSource(config, {
      logs: { filterLogEvents: () => Promise.reject(noCredentials) },
      store,
      writerFor: () => Promise.resolve({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
    });
    await source.start();
    for (let i = 0; i < 3; i++) await source.pollOnce();
    // And a record CloudWatch cut (counted by the collector, dead-lettered by normalize when it no longer parses).
    source.stats.counters.error('SEAM_ERR_INPUT_TRUNCATED');

    // Two processes, as deployed: seam collect and seam run.
    const collect = new MetricsServer({ defaultMetrics: false });
    const run = new MetricsServer({ defaultMetrics: false });
    servers.push(collect, run);
    registerCollectorMetrics(collect, { collectors: () => [{ name: 'audit', stats: () => source.stats.snapshot() }], running: () => true });
    registerRoleMetrics(run, {
      roleNames: ['normalize', 'index'],
      roles: () => [
        { name: 'normalize', stats: () => ({ received: 10, errors: { SEAM_ERR_INPUT_JSON: 2 } }) },
        // A bulk batch that failed whole: redelivered, not dead-lettered.
        { name: 'index', stats: () => ({ received: 10, errors: { SEAM_ERR_SINK_UNAVAILABLE: 1, SEAM_ERR_SINK_REJECTED: 1 } }) },
      ],
    });
    const series: Record<string, string>[] = [];
    for (const server of [collect, run]) {
      const { port } = await server.listen('127.0.0.1:0');
      series.push(...errorSeries(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()));
    }
    const key = (s: Record<string, string>): string => `${s.role}/${s.code}`;
    expect(series.map(key).sort()).toEqual(['collect/SEAM_ERR_INPUT_TRUNCATED', 'collect/SEAM_ERR_SOURCE_API', 'index/SEAM_ERR_SINK_REJECTED', 'index/SEAM_ERR_SINK_UNAVAILABLE', 'normalize/SEAM_ERR_INPUT_JSON']);

    const deadLetters = ['collect/SEAM_ERR_INPUT_TRUNCATED', 'index/SEAM_ERR_SINK_REJECTED', 'normalize/SEAM_ERR_INPUT_JSON'];
    for (const name of ['SeamDeadLetterRate', 'SeamDeadLetterShare']) {
      expect(series.filter(errorsSelector(rule(name))).map(key).sort(), name).toEqual(deadLetters);
    }
    expect(series.filter(errorsSelector(rule('SeamCollectorErrors'))).map(key)).toEqual(['collect/SEAM_ERR_SOURCE_API']);
  });

  it('every error code that is not a record (AWS calls, checkpoints, Kafka, refused ingest requests) is left out of the dead-letter alerts and in SeamCollectorErrors', () => {
    const notRecords = Object.keys(ERROR_CODES).filter((c) => /^SEAM_ERR_(SOURCE|CHECKPOINT|BUS|INGEST)_/.test(c));
    expect(notRecords).toEqual(expect.arrayContaining(['SEAM_ERR_SOURCE_API', 'SEAM_ERR_SOURCE_THROTTLED', 'SEAM_ERR_SOURCE_START', 'SEAM_ERR_CHECKPOINT_FENCED', 'SEAM_ERR_INGEST_FORBIDDEN']));
    const dlq = errorsSelector(rule('SeamDeadLetterRate'));
    const collector = errorsSelector(rule('SeamCollectorErrors'));
    for (const code of notRecords) {
      expect(dlq({ role: 'collect', code }), code).toBe(false);
      expect(collector({ role: 'collect', code }), code).toBe(true);
    }
    // What a record can be dead-lettered with still counts.
    for (const code of ['SEAM_ERR_INPUT_JSON', 'SEAM_ERR_INPUT_UNKNOWN_FORMAT', 'SEAM_ERR_NORMALIZE_TIMESTAMP', 'SEAM_ERR_SINK_REJECTED']) {
      expect(dlq({ role: 'normalize', code }), code).toBe(true);
      expect(collector({ role: 'collect', code }), code).toBe(false);
    }
  });
});
