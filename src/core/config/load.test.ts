import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configCheckCommand } from '../../cli/config.ts';
import { isSeamError } from '../errors.ts';
import { applyEnvOverrides, ENV_OVERRIDES } from './env.ts';
import { loadConfig, maskSecrets } from './load.ts';
import { SEAM_YML_PATH_FIELDS } from './paths.ts';
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
    // A misspelt key names the field it probably is, at any depth (a collector's fields too); a missing one says required.
    const typos = problems(
      file(
        'typo.yml',
        ['kafka:', '  brokers: [a:1]', '  topicPrefx: x.', 'collect:', '  sources:', '    cwl:', '      type: cloudwatch-logs', '      pollIntervalMS: 1000', '      logGroups:', '        - source: k8s_audit', ''].join('\n'),
      ),
    );
    expect(typos).toContain('typo.yml:3:3 kafka.topicPrefx: Unrecognized key: "topicPrefx" (did you mean "topicPrefix"?)');
    expect(typos).toContain('collect.sources.cwl.pollIntervalMS: Unrecognized key: "pollIntervalMS" (did you mean "pollIntervalMs"?)');
    expect(typos).toContain('typo.yml:10:11 collect.sources.cwl.logGroups.0.logGroupName: required, missing (string)');
    expect(typos).not.toContain('received undefined');
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
    // The metrics listener's address is checked when the file is read, not only when `seam run` starts listening:
    // `config check` said valid for SEAM_METRICS_ADDR=foo and `seam run` then stopped on it.
    expect(problems(f, { SEAM_METRICS_ADDR: 'foo' })).toContain("SEAM_METRICS_ADDR metrics.addr: host:port, :port or a port (0-65535), or off (got 'foo')");
    expect(problems(file('addr.yml', 'metrics:\n  addr: 0.0.0.0:99999\n'))).toMatch(/addr\.yml:2:\d+ metrics\.addr: host:port/);
    for (const ok of ['0.0.0.0:9464', ':9464', '9464', 'off', '[::1]:9464']) expect(loadConfig(undefined, { SEAM_METRICS_ADDR: ok }).config.metrics.addr).toBe(ok);
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
    file('audit.jsonl', '');
    file('old.jsonl', '');
    let err = '';
    expect(await configCheckCommand(file('acct.yml', yaml('')), {}, { write: () => 0 }, { write: (s: string) => (err += s) })).toBe(0);
    expect(err).toContain('warning: collect.sources.export attributes records to cluster prod but no account');
    expect(err).not.toContain('collect.sources.archive');
    let none = '';
    expect(await configCheckCommand(file('acct2.yml', yaml("{ name: prod, account: '111122223333' }")), {}, { write: () => 0 }, { write: (s: string) => (none += s) })).toBe(0);
    expect(none).not.toContain('attributes records to cluster');
  });

  it('relative paths written in seam.yml resolve against its folder (as ${file:} does); SEAM_* values and defaults against the working folder', () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-config-paths-'));
    const f = join(d, 'seam.yml');
    writeFileSync(
      f,
      [
        'kafka: { brokers: [a:1], tls: { caFile: ca.pem } }',
        'rules: { paths: [rules, /abs/rules], placeholdersFile: ph.yml }',
        'delivery: delivery.yml',
        'sensor: { ingest: { url: "https://x:1/v1/ingest", tokenFile: token } }',
        'collect: { sources: { files: { type: file, paths: [../logs] }, ingest: { type: sidecar, path: /v1/ingest, tokens: [{ id: a, sha256: "' + 'a'.repeat(64) + '", cluster: c }] } } }',
        '',
      ].join('\n'),
    );
    const c = loadConfig(f, {}).config;
    expect(c.kafka?.tls?.caFile).toBe(join(d, 'ca.pem'));
    expect(c.rules.paths).toEqual([join(d, 'rules'), '/abs/rules']);
    expect(c.rules.placeholdersFile).toBe(join(d, 'ph.yml'));
    expect(c.delivery).toBe(join(d, 'delivery.yml'));
    expect(c.sensor?.ingest?.tokenFile).toBe(join(d, 'token'));
    expect((c.collect?.sources.files as { paths: string[] }).paths).toEqual([join(d, '../logs')]);
    // The sidecar's `path` is a URL path, not a file.
    expect((c.collect?.sources.ingest as { path: string }).path).toBe('/v1/ingest');
    // A variable is relative to where the command runs, as a flag is; so is a default.
    expect(loadConfig(f, { SEAM_PLACEHOLDERS_FILE: 'site/ph.yml' }).config.rules.placeholdersFile).toBe('site/ph.yml');
    expect(loadConfig(join(d, 'seam.yml'), {}).config.collect?.checkpoint.path).toBe('.seam/state/checkpoints.json');
    expect(loadConfig(undefined, {}).config.rules.paths).toEqual(['detections']);
  });

  it('`config check` names the files and folders seam.yml refers to that are missing here (exit 1), at their position; some rules paths missing is a warning, all of them an error', async () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-config-missing-'));
    const check = async (text: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> => {
      const f = join(d, 'seam.yml');
      writeFileSync(f, text);
      let out = '';
      let err = '';
      const code = await configCheckCommand(f, env, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
      return { code, out, err };
    };
    // The review's case: the placeholders file beside seam.yml, checked and used from another folder.
    writeFileSync(join(d, 'ph.yml'), 'x: [1]\n');
    mkdirSync(join(d, 'rules'));
    // A rule that names the file's key: no "used by no loaded rule" warning (review-newuser2 M4).
    writeFileSync(join(d, 'rules', 'r.yml'), "detection:\n  sel:\n    user.username|expand: '%x%'\n  condition: sel\n");
    const ok = await check('rules:\n  paths: [rules]\n  placeholdersFile: ph.yml\n');
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`placeholdersFile: ${join(d, 'ph.yml')}`);
    const missing = await check('rules:\n  paths: [rules]\n  placeholdersFile: nope.yml\nkafka:\n  brokers: [a:1]\n  tls: { caFile: ca.pem }\n');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`missing here: ${join(d, 'seam.yml')}:3:21 rules.placeholdersFile: ${join(d, 'nope.yml')} does not exist`);
    expect(missing.err).toContain(`missing here: ${join(d, 'seam.yml')}:6:18 kafka.tls.caFile: ${join(d, 'ca.pem')} does not exist`);
    expect(missing.err).toContain('is valid, but 2 things it refers to are missing here');
    const some = await check('rules:\n  paths: [rules, gone]\n');
    expect(some.code).toBe(0);
    expect(some.err).toContain(`warning: ${join(d, 'seam.yml')}:2:18 rules.paths.1: ${join(d, 'gone')} does not exist (skipped, the other rules paths load)`);
    const none = await check('rules:\n  paths: [gone]\n');
    expect(none.code).toBe(1);
    expect(none.err).toContain('rules.paths.0: ' + join(d, 'gone') + ' does not exist (no rules path exists: the commands that run rules stop)');
    const fromEnv = await check('rules:\n  paths: [rules]\n', { SEAM_PLACEHOLDERS_FILE: join(d, 'env-ph.yml') });
    expect(fromEnv.err).toContain(`missing here: SEAM_PLACEHOLDERS_FILE rules.placeholdersFile: ${join(d, 'env-ph.yml')} does not exist`);
    const folder = await check('rules:\n  paths: [rules]\n  placeholdersFile: rules\n');
    expect(folder.err).toContain('is a folder, not a file');
  });

  it('every field named like a file or folder is in the list of path fields (so it resolves against seam.yml and config check looks for it)', () => {
    type Node = { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node | boolean; anyOf?: Node[]; oneOf?: Node[] };
    const found = new Set<string>();
    const walk = (n: Node, path: string[]): void => {
      for (const [k, v] of Object.entries(n.properties ?? {})) {
        const at = [...path, k];
        if (/(File|Path|^paths|^path|^delivery)$/.test(k)) found.add(at.join('.') + ((v as { type?: string }).type === 'array' ? '[]' : ''));
        walk(v, at);
      }
      // A list's items: under `name[]`, as the path fields write them (identity.seeds[].path).
      if (n.items) walk(n.items, path.length === 0 ? path : [...path.slice(0, -1), `${path[path.length - 1]!}[]`]);
      if (n.additionalProperties && typeof n.additionalProperties === 'object') walk(n.additionalProperties, [...path, '*']);
      for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) walk(alt, path);
    };
    walk(z.toJSONSchema(SeamConfig, { io: 'input', unrepresentable: 'any' }) as Node, []);
    // Not a file Seam opens: the ingest endpoint's URL path.
    const notFiles = ['collect.sources.*.path'];
    expect([...found].filter((p) => !notFiles.includes(p)).sort()).toEqual(SEAM_YML_PATH_FIELDS.map((p) => p.pattern).sort());
  });

  it('`config check` reports a variable not set here (or a ${file:} it cannot read) as missing here, exit 1, and validates the rest; the fields SEAM_* variables set are named as such', async () => {
    const run = async (f: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await configCheckCommand(f, env, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
      return { code, out, err };
    };
    const f = file('unset.yml', 'kafka:\n  brokers: [a:1]\n  tls: {}\n  sasl: { mechanism: scram-sha-512, username: seam, password: "${env:KAFKA_PW}" }\nopensearch:\n  auth: { type: basic, username: seam, password: "${file:os-pw}" }\n');
    const r = await run(f, {});
    expect(r.code).toBe(1);
    expect(r.out).toContain(`# ${f} is valid`);
    expect(r.err).toMatch(/missing here: .*unset\.yml:4:\d+ kafka\.sasl\.password: \$\{env:KAFKA_PW\}: environment variable KAFKA_PW is not set here/);
    expect(r.err).toMatch(/missing here: .*unset\.yml:6:\d+ opensearch\.auth\.password: \$\{file:os-pw\}: cannot read .*os-pw: ENOENT/);
    // Still invalid where it is invalid, with the unset variable named too.
    const bad = await run(file('unset-bad.yml', 'kafka:\n  brokers: [a:1]\n  replicationFactor: 0\n  tls: {}\n  sasl: { mechanism: scram-sha-512, username: seam, password: "${env:KAFKA_PW}" }\n'), {});
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('kafka.replicationFactor');
    expect(bad.err).toContain('KAFKA_PW is not set');
    // The commands themselves stop on it.
    expect(problems(f, {})).toContain('environment variable KAFKA_PW is not set');
    // A SEAM_* variable is named with the field it sets, not as something wrong.
    file('os-pw', 'x\n');
    const set = await run(f, { KAFKA_PW: 'k', SEAM_OPENSEARCH_PASSWORD: 'o' });
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('# set from the environment (over the file): SEAM_OPENSEARCH_PASSWORD -> opensearch.auth.password\n');
    expect(set.out).not.toContain('overridden');
  });

  it('deploy/config/seam.example.yml: `config check` lists what its comment says this machine lacks, and nothing else', async () => {
    const f = join(ROOT, 'deploy/config/seam.example.yml');
    const comment = readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('#')).join(' ');
    let err = '';
    const code = await configCheckCommand(f, {}, { write: () => 0 }, { write: (s: string) => (err += s) });
    expect(code).toBe(1);
    const lines = err.split('\n').filter((l) => l.startsWith('seam config check: missing here') || l.startsWith('seam config check: warning'));
    const named = lines.map((l) => /environment variable (\S+)|(\/etc\/seam\/\S+) does not exist/.exec(l)?.slice(1).find(Boolean));
    expect(named.sort()).toEqual(['/etc/seam/kafka/ca.pem', '/etc/seam/opensearch/ca.pem', '/etc/seam/rules-local', 'SEAM_KAFKA_PASSWORD', 'SEAM_OPENSEARCH_PASSWORD']);
    for (const n of ['SEAM_KAFKA_PASSWORD', 'SEAM_OPENSEARCH_PASSWORD', '/etc/seam/', '/etc/seam/rules-local', 'exits 1']) expect(comment).toContain(n);
    expect(lines.find((l) => l.includes('rules-local'))).toContain('warning');
  });

  it('deploy/config/demo-collect.yml (README: `seam collect --config`) passes `config check`; an older collectors file gets a hint; the README sections the config comments name exist', async () => {
    let err = '';
    let out = '';
    expect(await configCheckCommand(join(ROOT, 'deploy/config/demo-collect.yml'), {}, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) }), err).toBe(0);
    expect(loadConfig(join(ROOT, 'deploy/config/demo-collect.yml'), {}).config.collect?.sources.demo).toMatchObject({ type: 'file', paths: [join(ROOT, 'deploy/demo')] });
    expect(problems(file('legacy.yml', 'sources:\n  demo: { type: file, paths: [x] }\n'))).toContain('sources: Unrecognized key: "sources" (a collectors file\'s top level, which `seam collect` still reads; in seam.yml the collectors go under collect.sources)');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const headings = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim()));
    let refs = 0;
    for (const name of readdirSync(join(ROOT, 'deploy/config'))) {
      for (const m of readFileSync(join(ROOT, 'deploy/config', name), 'utf8').matchAll(/README,\s*(?:#\s*)?"([^"]+)"/g)) {
        refs++;
        expect(headings.has(m[1]!), `${name} names README section "${m[1]}"`).toBe(true);
      }
    }
    expect(refs).toBeGreaterThan(0);
  });
});

