import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configCheckCommand } from '../../cli/config.ts';
import { isSeamError } from '../errors.ts';
import { applyEnvOverrides, ENV_OVERRIDES } from './env.ts';
import { loadConfig, maskSecrets } from './load.ts';
import { SeamConfig } from './schema.ts';

const ROOT = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'seam-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function problems(f: string | undefined, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(f, env);
  } catch (e) {
    if (isSeamError(e) && e.code === 'SEAM_ERR_CONFIG_INVALID') return e.message;
    throw e;
  }
  throw new Error('expected the config to be invalid');
}

describe('seam.yml', () => {
  it('the shipped examples are valid', () => {
    const env = { SEAM_KAFKA_PASSWORD: 'k', SEAM_OPENSEARCH_PASSWORD: 'o' };
    const plain = loadConfig(join(ROOT, 'deploy/config/seam.example.yml'), env).config;
    expect(plain.kafka?.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'seam', password: 'k' });
    expect(plain.opensearch.auth).toEqual({ type: 'basic', username: 'seam', password: 'o' });
    expect(plain.collect?.sources['eks-audit']?.type).toBe('cloudwatch-logs');
    const aws = loadConfig(join(ROOT, 'deploy/config/seam.aws.example.yml'), {}).config;
    expect(aws.kafka?.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' });
    expect(aws.opensearch.auth).toEqual({ type: 'aws-sigv4', region: 'eu-west-1', service: 'es' });
    expect(aws.identity.clusters[0]?.egressCidrs).toEqual(['203.0.113.0/28', '198.51.100.17']);
  });

  it('reports every problem with file:line:col and the field path', () => {
    const f = file(
      'bad.yml',
      ['kafka:', '  brokers: [localhost]', '  sasl: { mechanism: scram-sha-512, username: u }', 'opensearch:', '  replicas: -1', '  bogus: 1', 'rules:', '  paths: []', ''].join('\n'),
    );
    const msg = problems(f);
    expect(msg).toContain(`${f}:2:13 kafka.brokers.0: host:port`);
    expect(msg).toMatch(new RegExp(`${f}:3:\\d+ kafka.sasl.password: `));
    expect(msg).toContain(`${f}:5:13 opensearch.replicas: `);
    expect(msg).toContain(`${f}:6:3 opensearch.bogus: Unrecognized key`);
    expect(msg).toContain(`${f}:8:10 rules.paths: `);
    // Cross-field checks point at the field to change.
    expect(problems(file('plain.yml', 'kafka:\n  brokers: [a:1]\n  sasl: { mechanism: plain, username: u, password: p }\n'))).toContain('kafka.tls: SASL/PLAIN sends the password in clear');
    // YAML syntax errors carry their position too.
    expect(problems(file('syntax.yml', 'kafka:\n  brokers: [a:1\n'))).toMatch(/syntax\.yml:\d+:\d+ /);
  });

  it('resolves ${env:NAME} and ${file:PATH} (relative to the file, trailing newline dropped) and says which reference failed', () => {
    file('os-password', 'from-a-file\n');
    const f = file('refs.yml', 'opensearch:\n  auth: { type: basic, username: "${env:OS_USER}", password: "${file:os-password}" }\n');
    expect(loadConfig(f, { OS_USER: 'seam' }).config.opensearch.auth).toEqual({ type: 'basic', username: 'seam', password: 'from-a-file' });
    expect(problems(f, {})).toContain(`${f}:2:34 opensearch.auth.username: \${env:OS_USER}: environment variable OS_USER is not set`);
    const missing = file('refs2.yml', 'kafka:\n  brokers: [a:1]\n  tls: {}\n  sasl: { mechanism: plain, username: u, password: "${file:nope}" }\n');
    expect(problems(missing)).toMatch(/refs2\.yml:4:\d+ kafka\.sasl\.password: \$\{file:nope\}: cannot read .*nope: ENOENT/);
  });

  it('every SEAM_* override sets its field, and the six variables `seam run` read before seam.yml still work', () => {
    const sample: Record<string, string> = {
      SEAM_KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
      SEAM_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      SEAM_KAFKA_AWS_REGION: 'eu-west-1',
      SEAM_OPENSEARCH_URL: 'https://a:9200,https://b:9200',
      SEAM_OPENSEARCH_AWS_SERVICE: 'aoss',
      SEAM_OPENSEARCH_AWS_REGION: 'eu-west-1',
      SEAM_RULES: 'detections,more',
      SEAM_METRICS_ADDR: ':9464',
    };
    for (const o of ENV_OVERRIDES) {
      const v = sample[o.name] ?? (o.kind === 'int' ? '7' : `v-${o.name.toLowerCase()}`);
      const root: Record<string, unknown> = {};
      const from = applyEnvOverrides(root, { [o.name]: v });
      const got = o.path.reduce<unknown>((cur, k) => (cur as Record<string, unknown> | undefined)?.[k], root);
      expect(got, o.name).toEqual(o.kind === 'list' ? v.split(',').map((x) => x.trim()) : o.kind === 'int' ? 7 : v.trim());
      expect(from.get(o.path.join('.'))).toBe(o.name);
    }
    const env = {
      SEAM_KAFKA_BROKERS: '127.0.0.1:9092',
      SEAM_KAFKA_REPLICATION: '3',
      SEAM_TOPIC_PREFIX: 't.',
      SEAM_OPENSEARCH_URL: 'http://127.0.0.1:9200',
      SEAM_INDEX_PREFIX: 'x',
      SEAM_OPENSEARCH_REPLICAS: '0',
      SEAM_GROUP_PREFIX: 'g.',
    };
    const c = loadConfig(undefined, env).config;
    expect([c.kafka?.brokers, c.kafka?.replicationFactor, c.kafka?.topicPrefix, c.opensearch.nodeUrls, c.opensearch.indexPrefix, c.opensearch.replicas, c.kafka?.groupPrefix]).toEqual([
      ['127.0.0.1:9092'],
      3,
      't.',
      ['http://127.0.0.1:9200'],
      'x',
      0,
      'g.',
    ]);
    // A variable wins over the file; a wrong one is named.
    const f = file('over.yml', 'kafka:\n  brokers: [a:1]\n  replicationFactor: 3\n');
    expect(loadConfig(f, { SEAM_KAFKA_REPLICATION: '1' }).config.kafka?.replicationFactor).toBe(1);
    expect(problems(f, { SEAM_KAFKA_REPLICATION: 'two' })).toContain('SEAM_KAFKA_REPLICATION kafka.replicationFactor: must be an integer');
    expect(problems(f, { SEAM_OPENSEARCH_REPLICAS: '-2' })).toContain('SEAM_OPENSEARCH_REPLICAS opensearch.replicas: ');
    // Username and password from the environment make basic auth.
    expect(loadConfig(undefined, { SEAM_OPENSEARCH_USERNAME: 'u', SEAM_OPENSEARCH_PASSWORD: 'p' }).config.opensearch.auth).toEqual({ type: 'basic', username: 'u', password: 'p' });
    expect(loadConfig(undefined, { SEAM_KAFKA_BROKERS: 'h:1', SEAM_KAFKA_TLS_CA_FILE: '/ca.pem', SEAM_KAFKA_AWS_REGION: 'eu-west-1' }).config.kafka?.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' });
  });

  it('every override names a field of the schema (the reference documents what is read)', () => {
    const json = z.toJSONSchema(SeamConfig, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
    const has = (s: unknown, path: string[]): boolean => {
      if (path.length === 0) return true;
      const node = s as { properties?: Record<string, unknown>; anyOf?: unknown[]; oneOf?: unknown[] };
      if (node.properties?.[path[0]!] !== undefined) return has(node.properties[path[0]!], path.slice(1));
      return [...(node.anyOf ?? []), ...(node.oneOf ?? [])].some((alt) => has(alt, path));
    };
    for (const o of ENV_OVERRIDES) expect(has(json, o.path), `${o.name} → ${o.path.join('.')}`).toBe(true);
  });

  it('`config check` prints the effective config with secrets masked and warns about secrets written in the file', async () => {
    const f = file('check.yml', 'kafka:\n  brokers: [a:1]\n  tls: {}\n  sasl: { mechanism: scram-sha-512, username: u, password: literal-secret }\nopensearch:\n  nodeUrls: ["https://admin:url-secret@os:9200"]\n  auth: { type: basic, username: u, password: "${env:P}" }\n');
    let out = '';
    let err = '';
    const code = await configCheckCommand(f, { P: 'env-secret' }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
    expect(code).toBe(0);
    expect(out).toContain('is valid');
    expect(out).toContain('mechanism: scram-sha-512');
    expect(out).toContain('replicationFactor: 1');
    for (const secret of ['literal-secret', 'env-secret', 'url-secret']) expect(out + err).not.toContain(secret);
    expect(err).toContain('warning: kafka.sasl.password is written in the file');
    expect(maskSecrets({ a: { password: 'x', keyPassword: 'y', user: 'z' } })).toEqual({ a: { password: '********', keyPassword: '********', user: 'z' } });
    let bad = '';
    expect(await configCheckCommand(file('bad2.yml', 'metrics: { addr: 1, x: 2 }\n'), {}, { write: () => 0 }, { write: (s: string) => (bad += s) })).toBe(2);
    expect(bad).toContain('bad2.yml:1:18 metrics.addr: ');
  });

  it('`config check` warns on Kafka when a collector attributes records to a cluster no account is given for', async () => {
    const yaml = (clusters: string): string =>
      `kafka:\n  brokers: [a:1]\nidentity:\n  clusters: [${clusters}]\ncollect:\n  sources:\n    export:\n      type: file\n      paths: [audit.jsonl]\n      cluster: prod\n    archive:\n      type: file\n      paths: [old.jsonl]\n      cluster: old\n      account: '111122223333'\n`;
    let err = '';
    expect(await configCheckCommand(file('acct.yml', yaml('')), {}, { write: () => 0 }, { write: (s: string) => (err += s) })).toBe(0);
    expect(err).toContain('warning: collect.sources.export attributes records to cluster prod but no account');
    expect(err).not.toContain('collect.sources.archive');
    let none = '';
    expect(await configCheckCommand(file('acct2.yml', yaml("{ name: prod, account: '111122223333' }")), {}, { write: () => 0 }, { write: (s: string) => (none += s) })).toBe(0);
    expect(none).not.toContain('attributes records to cluster');
  });
});
