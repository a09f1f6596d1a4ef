import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { multiAccountLines } from '../../bench/workers-input.ts';

// seam.yml rules.overrides through `seam replay` (review-de M3): each override's effect on the alerts of the same
// input, against the same run without them, and the lines the load says. Rules: test/data/overrides-rules.

const ROOT = resolve(import.meta.dirname, '../..');
const RULES = join(ROOT, 'test/data/overrides-rules');
const TEMPLATE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/k8s-audit/eks-audit.jsonl'), 'utf8').split('\n')[0]!) as Record<string, unknown>;

/** A kube-apiserver audit record of `verb` on `resource` (named `name`), `minute` minutes after 14:00. */
function audit(n: number, verb: string, resource: string, name: string | undefined, minute: number): string {
  const t = `2024-11-05T14:${String(minute).padStart(2, '0')}:11.104211Z`;
  return JSON.stringify({
    ...TEMPLATE,
    auditID: `0c7e5a10-1111-4000-8000-${String(n).padStart(12, '0')}`,
    verb,
    requestURI: `/api/v1/namespaces/payments/${resource}${name ? `/${name}` : ''}`,
    objectRef: { resource, namespace: 'payments', apiVersion: 'v1', ...(name ? { name } : {}) },
    requestReceivedTimestamp: t,
    stageTimestamp: t,
  });
}

let dir: string;
let input: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-overrides-'));
  input = join(dir, 'audit.jsonl');
  // One user reads 5 distinct secrets in 5 minutes, lists pods once and reads a configmap once.
  const lines = [1, 2, 3, 4, 5].map((i) => audit(i, 'get', 'secrets', `s${i}`, i));
  lines.push(audit(6, 'list', 'pods', undefined, 6), audit(7, 'get', 'configmaps', 'app', 7));
  writeFileSync(input, lines.join('\n') + '\n');
});

interface RunResult {
  r: SpawnSyncReturns<string>;
  alerts: { rule: { name?: string; title: string; level: string; type: string } }[];
}

function replay(name: string, overrides: string | undefined): RunResult {
  const args = ['replay', input, '--rules', RULES, '--dlq', join(dir, `${name}-dlq.jsonl`), '--alerts-out', join(dir, `${name}-alerts.jsonl`)];
  if (overrides !== undefined) {
    const yml = join(dir, `${name}.yml`);
    writeFileSync(yml, `rules:\n  overrides:\n${overrides}`);
    args.push('--config', yml);
  }
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'info', SEAM_CACHE_DIR: 'off' } });
  const alerts = readFileSync(join(dir, `${name}-alerts.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunResult['alerts'][number]);
  return { r, alerts };
}

const levels = (x: RunResult): string[] => x.alerts.map((a) => `${a.rule.title}=${a.rule.level}`).sort();
const msgs = (x: RunResult): string[] => x.r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('seam replay with seam.yml rules.overrides', () => {
  it('without overrides: the correlation (5 distinct secrets >= 4), the pod list and the configmap read alert at their levels', () => {
    const base = replay('base', undefined);
    expect(base.r.status).toBe(0);
    expect(levels(base)).toEqual(['Test ConfigMap Read=medium', 'Test Many Secrets Read By One User=medium', 'Test Pods Listed=medium']);
    expect(msgs(base).filter((m) => m.startsWith('override'))).toEqual([]);
  });

  it('disabled, level and a raised threshold: the configmap rule and the correlation are silent, the pod list is high; each override is one line', () => {
    const o = replay('over', "    - { rule: t_configmap_get, disabled: true }\n    - { rule: t_pod_list, level: high }\n    - { rule: t_corr_secret_sweep, condition: { gte: 6 } }\n    - { rule: t_no_such_rule, level: low }\n");
    expect(o.r.status).toBe(0);
    expect(levels(o)).toEqual(['Test Pods Listed=high']);
    expect(msgs(o).filter((m) => m.startsWith('override'))).toEqual([
      "override: rule 't_configmap_get' disabled",
      "override: rule 't_pod_list' level medium -> high",
      "override: correlation 't_corr_secret_sweep' condition gte 4 -> gte 6",
    ]);
    // The one naming no loaded rule is a load warning, as a filter's is.
    expect(msgs(o)).toContain("rule warning: seam.yml rules.overrides[3]: SEAM_ERR_RULE_REFERENCE (warning) override refers to rule 't_no_such_rule', which is not loaded: it changes nothing");
  });

  it('a threshold the group reaches still fires (gte 5 of 5 distinct secrets), at the overridden level', () => {
    const o = replay('reach', "    - { rule: t_corr_secret_sweep, condition: { gte: 5 }, level: high }\n");
    expect(levels(o).filter((l) => l.startsWith('Test Many'))).toEqual(['Test Many Secrets Read By One User=high']);
  });

  it('disabling the correlation releases its feeder\'s (informational) alerts; disabling the feeder silences both', () => {
    const corr = replay('nocorr', '    - { rule: t_corr_secret_sweep, disabled: true }\n');
    expect(levels(corr).filter((l) => l.startsWith('Test Secret Read'))).toHaveLength(5);
    expect(levels(corr).filter((l) => l.startsWith('Test Many'))).toEqual([]);
    const feeder = replay('nofeeder', '    - { rule: t_secret_get, disabled: true }\n');
    expect(levels(feeder)).toEqual(['Test ConfigMap Read=medium', 'Test Pods Listed=medium']);
    expect(msgs(feeder)).toContain("override: rule 't_secret_get' disabled (and the correlations that use it: t_corr_secret_sweep)");
  });

  it('--workers 2 says each override once for the run (worker 0), and both workers apply it', () => {
    // Two accounts, so both workers are started and each loads the rules.
    const multi = join(dir, 'multi.jsonl');
    writeFileSync(multi, [...multiAccountLines(400, 2), readFileSync(input, 'utf8').trim()].join('\n') + '\n');
    const yml = join(dir, 'workers.yml');
    writeFileSync(yml, 'rules:\n  overrides:\n    - { rule: t_pod_list, level: high }\n    - { rule: t_configmap_get, disabled: true }\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', multi, '--rules', RULES, '--config', yml, '--workers', '2', '--dlq', join(dir, 'w-dlq.jsonl'), '--alerts-out', join(dir, 'w-alerts.jsonl')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'info', SEAM_CACHE_DIR: 'off' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/records per worker: w0=[1-9]\d* w1=[1-9]\d*/);
    const alerts = readFileSync(join(dir, 'w-alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunResult['alerts'][number]);
    const got = levels({ r, alerts });
    expect(got.filter((l) => l.startsWith('Test ConfigMap'))).toEqual([]);
    expect(got.filter((l) => l.startsWith('Test Pods')).length).toBeGreaterThan(0);
    expect(got.filter((l) => l.startsWith('Test Pods') && l !== 'Test Pods Listed=high')).toEqual([]);
    // Before: each line twice, once per worker.
    expect(msgs({ r, alerts }).filter((m) => m.startsWith('override'))).toEqual(["override: rule 't_pod_list' level medium -> high", "override: rule 't_configmap_get' disabled"]);
  });

  it('seam run (embedded, the roles\' load path) applies them the same way', () => {
    const yml = join(dir, 'run.yml');
    writeFileSync(yml, 'rules:\n  overrides:\n    - { rule: t_configmap_get, disabled: true }\n    - { rule: t_pod_list, level: high }\n    - { rule: t_corr_secret_sweep, condition: { gte: 6 } }\n');
    const state = join(dir, 'run-state');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--config', yml, '--input', input, '--rules', RULES, '--state-dir', state], { cwd: dir, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'info', SEAM_CACHE_DIR: 'off' } });
    expect(r.status, r.stderr).toBe(0);
    const alerts = readFileSync(join(state, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunResult['alerts'][number]);
    expect(levels({ r, alerts })).toEqual(['Test Pods Listed=high']);
    expect(msgs({ r, alerts }).filter((m) => m.startsWith('override'))).toHaveLength(3);
  });
});
