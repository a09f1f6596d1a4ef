import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { normalizeLine, normalizeRecord, REDACTED, unwrapRecords } from './normalize.ts';
import {
  isSecretName,
  isTextSecretKey,
  scrub,
  scrubChpasswdPairs,
  scrubEchoToChpasswd,
  flagReplaceNoVar,
  scrubHashCommand,
  scrubFtpScript,
  scrubIsql,
  headerReplace,
  secretArgReplace,
  scrubHere9,
  scrubHere11,
  scrubEcho11,
  scrubHeredoc11,
  scrubRedisScript,
  scrubCurlCookie,
  scrubMongoPassword,
  scrubExpectSend,
  scrubSpLogin,
  tokenUserReplace,
  mysqlFlagReplace,
  scrubNginxHeader,
  scrubStdinGroup,
  scrubEchoToStdin,
  scrubHereStdin,
  scrubHtpasswd,
  scrubImpacketCommand,
  scrubLftpCommand,
  scrubNetCommand,
  scrubOracleCommand,
  scrubPositionalCommand,
  scrubSnmpusmCommand,
  sqlValueReplace,
} from './redact.ts';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const text = (p: string): string => readFileSync(new URL(p, FIXTURES), 'utf8');
const lines = (p: string): string[] => text(p).split('\n').filter((l) => l.length > 0);
const meta: RawMeta = { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01' };

function must(r: ReturnType<typeof normalizeLine>): SeamEvent {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** Every secret string planted in the fixtures; none may survive normalization. */
const jwt = lines('k8s-audit/eks-audit.jsonl')
  .map((l) => /"token":"(eyJ[^"]+)"/.exec(l)?.[1])
  .find((t) => t !== undefined) as string;
const SECRETS = [
  'czNjcjN0LVBhc3N3MHJkIQ==',
  'cGF5bWVudHM=',
  's3cr3t-Passw0rd!',
  'c2tfbGl2ZV9maXh0dXJlX25vdF9yZWFs',
  jwt,
  'IQoJb3JpZ2luX2VjEFIXTUREfixtureSessionTokenNotRealAAAAbbbbCCCCddddEEEEffff0123456789',
  'fixtureSecretAccessKeyNotReal/0123456789abcdefgh',
  'IQoJb3JpZ2luX2VjEKSservicefixtureTokenNotReal0123456789ABCDEFGHIJ',
  'fixture-db-password-9f8e7d',
  'Zml4dHVyZS1iaW5hcnktc2VjcmV0',
  'fixture-ssm-secure-value-6b5a',
  'fixtureBearerTokenNotReal0123456789',
  'fixtureSidecarBearer0123456789abcdef',
  'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmaXh0dXJlIn0.Zml4dHVyZS1zaWc',
];

function allEvents(): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (const f of ['k8s-audit/eks-audit.jsonl', 'cloudtrail/redaction-cases.jsonl', 'runtime/falco.jsonl', 'runtime/native.jsonl']) {
    for (const l of lines(f)) out.push(must(normalizeLine(l, meta)));
  }
  for (const r of unwrapRecords(JSON.parse(text('cloudtrail/s3-export.json'))) ?? []) out.push(must(normalizeRecord(r, meta)));
  return out;
}

describe('redaction', () => {
  it('plants every secret in the fixtures (the test would prove nothing otherwise)', () => {
    expect(jwt).toMatch(/^eyJ/);
    const all = ['k8s-audit/eks-audit.jsonl', 'cloudtrail/redaction-cases.jsonl', 'cloudtrail/s3-export.json', 'runtime/falco.jsonl', 'runtime/native.jsonl'].map(text).join('\n');
    for (const s of SECRETS) expect(all).toContain(s);
  });

  it('leaves no secret string anywhere in the normalized output', () => {
    const out = JSON.stringify(allEvents());
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain(REDACTED);
  });

  it('lists every redacted path', () => {
    const byId = new Map(allEvents().map((e) => [e.seam.id, e.seam.ingest.redacted]));
    expect(byId.get('e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a806:ResponseComplete')).toEqual([
      'requestObject.data.password',
      'requestObject.data.username',
      'requestObject.stringData.dsn',
      'requestObject.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration',
      'responseObject.data.password',
      'responseObject.data.username',
    ]);
    expect(byId.get('1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d09:ResponseComplete')).toEqual([
      'responseObject.items.0.data.password',
      'responseObject.items.0.data.username',
      'responseObject.items.1.data.key',
    ]);
    expect(byId.get('f7a8b9c0-d1e2-4f3a-b4c5-d6e7f8a9b007:ResponseComplete')).toEqual(['responseObject.status.token']);
    expect(byId.get('70d39185-c2e4-45a6-a1f2-8d9eafb0c1d8')).toEqual(['responseElements.credentials.sessionToken', 'responseElements.credentials.secretAccessKey']);
    expect(byId.get('81e4a296-d3f5-46b7-b203-9eafb0c1d2e9')).toEqual(['responseElements.secretString', 'responseElements.secretBinary']);
    expect(byId.get('92f5b3a7-e406-47c8-8314-afb0c1d2e3fa')).toEqual(['responseElements.parameters.0.value']);
    expect(byId.get('a306c4b8-f517-48d9-9425-b0c1d2e3f40b')).toEqual(['requestParameters.environment.variables.UPSTREAM_AUTH']);
    expect(byId.get('5e4d3c2b-a192-4f8e-97d6-b5c4d3e2f1a0')).toEqual(['output', 'output_fields.proc.cmdline']);
    expect(byId.get('01JBX3K9V4R6X1Z2A9D0E5F6G7')).toEqual(['process.cmdline']);
  });

  it('keeps the keys and the non-secret parts of redacted values', () => {
    const ev = allEvents().find((e) => e.seam.id === '01JBX3K9V4R6X1Z2A9D0E5F6G7') as SeamEvent;
    expect((ev.process as { cmdline: string }).cmdline).toBe(`curl -sk -H 'Authorization: Bearer ${REDACTED}' https://172.20.0.1/api/v1/namespaces/payments/secrets`);
    const ssm = allEvents().find((e) => e.seam.id === '92f5b3a7-e406-47c8-8314-afb0c1d2e3fa') as SeamEvent;
    expect(ssm.responseElements).toMatchObject({ parameters: [{ name: '/prod/payments/api-key', value: REDACTED }, { name: '/prod/payments/region', value: 'us-west-2' }] });
  });

  it('redacts JSON patches to a Secret and leaves ConfigMaps alone', () => {
    const base = JSON.parse(lines('k8s-audit/eks-audit.jsonl')[5] as string) as Record<string, unknown>;
    const patch = { ...base, verb: 'patch', requestObject: [{ op: 'replace', path: '/data/password', value: 'bmV3LXBhc3N3b3Jk' }], responseObject: undefined };
    const ev = must(normalizeRecord(patch, meta));
    expect(JSON.stringify(ev)).not.toContain('bmV3LXBhc3N3b3Jk');
    expect(ev.seam.ingest.redacted).toEqual(['requestObject.0.value']);
    const cm = { ...base, objectRef: { resource: 'configmaps', namespace: 'payments', name: 'cfg' }, requestObject: { kind: 'ConfigMap', data: { color: 'plain' } }, responseObject: undefined };
    expect(must(normalizeRecord(cm, meta)).seam.ingest.redacted).toEqual([]);
    // A key named password holds a secret wherever it is, a ConfigMap included (issue 11).
    const pw = { ...cm, requestObject: { kind: 'ConfigMap', data: { password: 'plain' } } };
    expect(must(normalizeRecord(pw, meta)).seam.ingest.redacted).toEqual(['requestObject.data.password']);
  });

  it('redacts a secret-named env value of a pod template, and leaves a blank one blank', () => {
    const base = JSON.parse(lines('k8s-audit/eks-audit.jsonl')[0] as string) as Record<string, unknown>;
    const env = [{ name: 'DB_PASSWORD', value: 'hunter22-orders' }, { name: 'AWS_SESSION_TOKEN', value: '' }, { name: 'AWS_REGION', value: 'us-west-2' }];
    const rec = { ...base, requestObject: { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', env }] } } } } };
    const ev = must(normalizeRecord(rec, meta));
    expect(ev.seam.ingest.redacted).toEqual(['requestObject.spec.template.spec.containers.0.env.0.value']);
    expect((ev.requestObject as { spec: { template: { spec: { containers: { env: unknown }[] } } } }).spec.template.spec.containers[0]!.env).toEqual([
      { name: 'DB_PASSWORD', value: REDACTED },
      { name: 'AWS_SESSION_TOKEN', value: '' },
      { name: 'AWS_REGION', value: 'us-west-2' },
    ]);
  });

  /** Both entry points: a line (redacted in place) and a parsed record (copy-on-write). */
  function both(rec: Record<string, unknown>): SeamEvent[] {
    return [must(normalizeLine(JSON.stringify(rec), meta)), must(normalizeRecord(rec, meta))];
  }
  const auditBase = (): Record<string, unknown> => JSON.parse(lines('k8s-audit/eks-audit.jsonl')[0] as string) as Record<string, unknown>;
  const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
  const annotation = (o: unknown, at: 'requestObject' | 'responseObject' = 'requestObject'): string =>
    ((o as Record<string, { metadata: { annotations: Record<string, string> } }>)[at] as { metadata: { annotations: Record<string, string> } }).metadata.annotations[LAST_APPLIED] as string;

  it('redacts inside the last-applied annotation of any object by the rules of the object itself', () => {
    const applied = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders-api', namespace: 'orders' },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'orders:1', env: [{ name: 'DB_PASSWORD', value: 's3cret-lastapplied' }, { name: 'AWS_REGION', value: 'us-west-2' }, { name: 'API_KEY', value: '' }] }] } } },
    };
    const text = JSON.stringify(applied);
    const rec = {
      ...auditBase(),
      objectRef: { resource: 'deployments', apiGroup: 'apps', namespace: 'orders', name: 'orders-api' },
      verb: 'patch',
      requestObject: { metadata: { annotations: { [LAST_APPLIED]: text } } },
      responseObject: { kind: 'Deployment', metadata: { name: 'orders-api', annotations: { [LAST_APPLIED]: text } } },
    };
    for (const ev of both(rec)) {
      expect(JSON.stringify(ev)).not.toContain('s3cret-lastapplied');
      expect(ev.seam.ingest.redacted).toEqual([`requestObject.metadata.annotations.${LAST_APPLIED}`, `responseObject.metadata.annotations.${LAST_APPLIED}`]);
      // Still the applied object, neighbours untouched, blank kept blank.
      const back = JSON.parse(annotation(ev)) as typeof applied;
      expect(back.spec.template.spec.containers[0]!.env).toEqual([{ name: 'DB_PASSWORD', value: REDACTED }, { name: 'AWS_REGION', value: 'us-west-2' }, { name: 'API_KEY', value: '' }]);
      expect(back.metadata).toEqual(applied.metadata);
      expect(annotation(ev, 'responseObject')).toBe(annotation(ev));
    }
    // A ConfigMap's and a Secret's applied text; a text that does not parse is redacted whole.
    const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orders' }, data: { DB_PASSWORD: 's3cret-cm-applied', COLOR: 'blue' } });
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orders' }, stringData: { dsn: 's3cret-secret-applied' } });
    const broken = '{"kind":"Deployment","spec":{"env":[{"name":"DB_PASSWORD","value":"s3cret-broken"';
    const list = {
      ...auditBase(),
      objectRef: { resource: 'configmaps', namespace: 'orders' },
      responseObject: { kind: 'List', items: [cm, secret, broken].map((t, i) => ({ kind: 'ConfigMap', metadata: { name: `c${i}`, annotations: { [LAST_APPLIED]: t } }, data: { COLOR: 'blue' } })) },
    };
    for (const ev of both(list)) {
      const out = JSON.stringify(ev);
      for (const s of ['s3cret-cm-applied', 's3cret-secret-applied', 's3cret-broken']) expect(out).not.toContain(s);
      const items = (ev.responseObject as { items: { metadata: { annotations: Record<string, string> } }[] }).items;
      expect(JSON.parse(items[0]!.metadata.annotations[LAST_APPLIED] as string)).toMatchObject({ data: { DB_PASSWORD: REDACTED, COLOR: 'blue' } });
      expect(items[1]!.metadata.annotations[LAST_APPLIED]).toBe(REDACTED);
      expect(items[2]!.metadata.annotations[LAST_APPLIED]).toBe(REDACTED);
    }
    // Nothing secret in it: the text is left byte for byte.
    const plain = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
    for (const ev of both({ ...rec, requestObject: { metadata: { annotations: { [LAST_APPLIED]: plain } } }, responseObject: undefined })) {
      expect(annotation(ev)).toBe(plain);
      expect(ev.seam.ingest.redacted).toEqual([]);
    }
  });

  it('redacts the value of a JSON-patch operation as the object form would be', () => {
    const dep = { ...auditBase(), objectRef: { resource: 'deployments', apiGroup: 'apps', namespace: 'orders', name: 'orders-api' }, verb: 'patch', responseObject: undefined };
    const ops = [
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'DB_PASSWORD', value: 's3cret-jsonpatch' } },
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'LOG_LEVEL', value: 'debug-verbose' } },
      { op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'ORDERS_DB_PASSWORD', value: 's3cret-envlist' }, { name: 'EMPTY_TOKEN', value: ' ' }] },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'orders:2' },
    ];
    for (const ev of both({ ...dep, requestObject: ops })) {
      expect(JSON.stringify(ev)).not.toContain('s3cret-');
      expect(ev.seam.ingest.redacted).toEqual(['requestObject.0.value.value', 'requestObject.2.value.0.value']);
      expect(ev.requestObject).toEqual([
        { ...ops[0], value: { name: 'DB_PASSWORD', value: REDACTED } },
        ops[1],
        { ...ops[2], value: [{ name: 'ORDERS_DB_PASSWORD', value: REDACTED }, { name: 'EMPTY_TOKEN', value: ' ' }] },
        ops[3],
        ops[4],
      ]);
    }
    // An env value replaced by index: the response names the variable; without a response it may be a secret.
    const byIndex = [{ op: 'replace', path: '/spec/template/spec/containers/0/env/1/value', value: 's3cret-byindex' }];
    const after = (name: string): unknown => ({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: 'a' }, { name, value: 's3cret-byindex' }] }] } } } });
    for (const ev of [...both({ ...dep, requestObject: byIndex }), ...both({ ...dep, requestObject: byIndex, responseObject: after('DB_PASSWORD') })]) {
      expect(JSON.stringify(ev)).not.toContain('s3cret-byindex');
      expect(ev.seam.ingest.redacted).toContain('requestObject.0.value');
    }
    for (const ev of both({ ...dep, requestObject: byIndex, responseObject: after('LOG_LEVEL') })) {
      expect((ev.requestObject as { value: string }[])[0]!.value).toBe('s3cret-byindex');
    }
    // Secret data added by a JSON patch (also under an escaped key), and a ConfigMap's secret-named key.
    const sec = { ...dep, objectRef: { resource: 'secrets', namespace: 'orders', name: 'db' } };
    const secOps = [
      { op: 'add', path: '/data', value: { password: 'czNjcmV0LWRhdGE=' } },
      { op: 'add', path: '/stringData/tls~1key', value: 's3cret-escaped' },
      { op: 'replace', path: '/metadata/labels/app', value: 'orders' },
    ];
    for (const ev of both({ ...sec, requestObject: secOps })) {
      expect(JSON.stringify(ev)).not.toMatch(/czNjcmV0LWRhdGE=|s3cret-escaped/);
      expect(ev.seam.ingest.redacted).toEqual(['requestObject.0.value.password', 'requestObject.1.value']);
      expect((ev.requestObject as { value: string }[])[2]!.value).toBe('orders');
    }
    const cmOps = [
      { op: 'add', path: '/data/DB_PASSWORD', value: 's3cret-cm-patch' },
      { op: 'add', path: '/data/COLOR', value: 'blue' },
    ];
    for (const ev of both({ ...dep, objectRef: { resource: 'configmaps', namespace: 'orders', name: 'cfg' }, requestObject: cmOps })) {
      expect(JSON.stringify(ev)).not.toContain('s3cret-cm-patch');
      expect(ev.requestObject).toEqual([{ ...cmOps[0], value: REDACTED }, cmOps[1]]);
    }
  });

  it('redacts ConfigMap values under a secret-named key, keeping blank ones and every other key', () => {
    const base = { ...auditBase(), objectRef: { resource: 'configmaps', namespace: 'orders', name: 'orders-env' }, verb: 'create', responseObject: undefined };
    const data = { DB_PASSWORD: 's3cret-cm', AWS_SECRET_ACCESS_KEY: 's3cret-aws-key', AWS_REGION: 'us-west-2', LOG_LEVEL: 'info', SMTP_PASSWORD: '', GITHUB_TOKEN: ' ' };
    const created = { ...base, requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'orders-env' }, data, binaryData: { API_TOKEN: 'czNjcmV0LWJpbmFyeQ==', 'logo.png': 'iVBORw0KGgo=' } } };
    for (const ev of both(created)) {
      const out = JSON.stringify(ev);
      for (const s of ['s3cret-cm', 's3cret-aws-key', 'czNjcmV0LWJpbmFyeQ==']) expect(out).not.toContain(s);
      expect(ev.requestObject).toMatchObject({
        data: { DB_PASSWORD: REDACTED, AWS_SECRET_ACCESS_KEY: REDACTED, AWS_REGION: 'us-west-2', LOG_LEVEL: 'info', SMTP_PASSWORD: '', GITHUB_TOKEN: ' ' },
        binaryData: { API_TOKEN: REDACTED, 'logo.png': 'iVBORw0KGgo=' },
      });
    }
    // Kind-less bodies of a configmaps request: a merge patch, the items of a ConfigMapList.
    const merge = { ...base, verb: 'patch', requestObject: { data: { DB_PASSWORD: 's3cret-merge', COLOR: 'blue' } } };
    const listed = { ...base, verb: 'list', requestObject: undefined, responseObject: { kind: 'ConfigMapList', items: [{ metadata: { name: 'a' }, data: { REDIS_PASSWORD: 's3cret-listed', COLOR: 'blue' } }] } };
    for (const ev of [...both(merge), ...both(listed)]) {
      expect(JSON.stringify(ev)).not.toMatch(/s3cret-merge|s3cret-listed/);
      expect(JSON.stringify(ev)).toContain('"COLOR":"blue"');
    }
  });

  it('keeps a whitespace-only secret-named env value as it is (it holds nothing, like a blank one)', () => {
    const env = [{ name: 'DB_PASSWORD', value: ' ' }, { name: 'password', value: '  ' }, { name: 'API_KEY', value: 's3cret-api' }];
    const rec = { ...auditBase(), requestObject: { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', env }] } } } } };
    for (const ev of both(rec)) {
      expect(JSON.stringify(ev)).not.toContain('s3cret-api');
      expect((ev.requestObject as { spec: { template: { spec: { containers: { env: unknown }[] } } } }).spec.template.spec.containers[0]!.env).toEqual([
        { name: 'DB_PASSWORD', value: ' ' },
        { name: 'password', value: '  ' },
        { name: 'API_KEY', value: REDACTED },
      ]);
    }
  });

  it('redacts Secrets inside a generic List by their kind', () => {
    const base = JSON.parse(lines('k8s-audit/eks-audit.jsonl')[0] as string) as Record<string, unknown>;
    const rec = { ...base, responseObject: { kind: 'List', items: [{ kind: 'ConfigMap', data: { a: 'visible' } }, { kind: 'Secret', data: { b: 'aGlkZGVu' } }] } };
    const ev = must(normalizeRecord(rec, meta));
    expect(ev.seam.ingest.redacted).toEqual(['responseObject.items.1.data.b']);
    expect(JSON.stringify(ev)).toContain('visible');
  });

  it('does not mutate the record handed to normalizeRecord, and shares untouched subtrees', () => {
    const raw = JSON.parse(lines('k8s-audit/eks-audit.jsonl')[5] as string) as Record<string, unknown>;
    const before = structuredClone(raw);
    const ev = must(normalizeRecord(raw, meta));
    expect(raw).toEqual(before);
    expect(ev).not.toBe(raw);
    expect(ev.user).toBe(raw.user);
    expect(ev.requestObject).not.toBe(raw.requestObject);
  });

  it('the line pre-check never skips a token the full string scan would redact', () => {
    // normalizeRecord always scans every string; normalizeLine scans only when mayHoldToken(line).
    const base = JSON.parse(lines('cloudtrail/redaction-cases.jsonl')[0] as string) as Record<string, unknown>;
    const tok = 'fixtureHintToken0123456789';
    const values = [
      `Authorization: Bearer ${tok}`,
      `authorization=${tok}`,
      `AUTHORIZATION:${tok}`,
      `curl -H "Authorization: Basic ${tok}"`,
      `curl -H 'authorization:\t${tok}'`,
      `x authorization\n: ${tok}`,
      `bearer ${tok}`,
      `BEARER ${tok}`,
      `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${tok}`,
    ];
    for (const v of values) {
      for (const rec of [{ ...base, requestParameters: { cmd: v } }, { ...base, requestParameters: { headers: { Authorization: tok } } }]) {
        const line = JSON.stringify(rec);
        const viaLine = must(normalizeLine(line, meta));
        const viaRecord = must(normalizeRecord(JSON.parse(line), meta));
        expect(viaLine.seam.ingest.redacted, v).toEqual(viaRecord.seam.ingest.redacted);
        expect(JSON.stringify(viaLine), v).not.toContain(tok);
      }
    }
    // Words that merely contain "authorization" are not tokens.
    const plain = must(normalizeLine(JSON.stringify({ ...base, eventName: 'GetAuthorizationToken', requestParameters: { note: 'authorization.k8s.io/decision' } }), meta));
    expect((plain.requestParameters as { note: string }).note).toBe('authorization.k8s.io/decision');
  });
});

describe('scrub', () => {
  // Every pattern scrub applies, in its order, written out without the pre-checks (HINT_RE and each pattern's
  // gate): scrub must give the same string for every input, and each step must redact something in the inputs
  // (so a pattern missing here, or an input that no longer reaches it, fails the test).
  const kept = (v: string): boolean => v.startsWith('[REDACTED');
  const flagValue = (m: string, k: string, g?: string, sp?: string, v?: string): string => (kept(g ?? v ?? '') ? m : k + (sp ?? '') + REDACTED);
  const cmdFlag = (flag: string): RegExp => new RegExp(`(\\s${flag})(?:("[^"]+"|'[^']+'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g');
  // Round 8: one unit of a command, a quoted argument whole.
  const UNIT = `(?:[^;&|\\n"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
  // Round 10: one unit of an echo's text (UNIT without a subshell's parentheses).
  const ECHO = `(?:[^;&|\\n"'()]|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
  const FTP = '(?<![\\w.-])ftp(?=[ \\t]|$)';
  // Round 11: one unit of a word of a positional rule's command (UNIT without whitespace), and programs that read a prompted password on stdin.
  const WORD = `(?:[^\\s;&|"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
  const STDIN11 = `((?:mysql|mariadb)[a-z-]*\\b[^;&|\\n]*?[ \\t]-p(?=[\\s;&|)]|$)|psql\\b[^;&|\\n]*?[ \\t](?:-W|--password)(?=[\\s;&|)]|$)|htpasswd\\b[^;&|\\n]*?[ \\t]-[a-zA-Z]*i[a-zA-Z]*(?=[ \\t])|secret[ \\t]+create[ \\t]+(?:-\\S+[ \\t]+)*[^\\s-]\\S*[ \\t]+-(?=[\\s;&|)]|$))`;
  const REDIS = '(?:redis|valkey|keydb)-cli';
  const STDIN = `(?:--password-stdin|--with-token|\\bpasswd\\b[^;&|\\n]*?[ \\t]--stdin|\\bsudo(?:[ \\t]+-[ugpCDhrtT][ \\t]+[^\\s-]\\S*|[ \\t]+-[A-Za-z]+)*?[ \\t]+-[A-Za-z]*S\\b)`;
  // Round 9: a program that reads a password on stdin, as a pipeline's command.
  const STDIN9 = `(?:kinit|passwd|cryptsetup|smbpasswd(?=[^;&|\\n]*?[ \\t]-[a-zA-Z]*s\\b)|gpg2?(?=[^;&|\\n]*?[ \\t]--passphrase-fd[ \\t=]+0\\b))(?<=(?:^|[|;&(\\n\`'"]|(?:^|\\n)[ \\t]*-)[ \\t]*(?:sudo(?:[ \\t]+(?:-[ugpCDhrtT][ \\t]+[^\\s-]\\S*|-\\S+))*[ \\t]+)?(?:[\\w.-]*\\/)*(?:kinit|passwd|cryptsetup|smbpasswd|gpg2?))(?![\\w.-])`;
  // Round 13: an expect pattern naming a password or passphrase prompt.
  const EXPECT_WORD = '(?:assword|ASSWORD|assphrase|ASSPHRASE)';
  const EXPECT_PAT = `(?:"[^"\\n]*?${EXPECT_WORD}[^"\\n]*"|\\\\"[^"\\n]*?${EXPECT_WORD}[^"\\n]*?\\\\"|\\{[^{}\\n]*?${EXPECT_WORD}[^{}\\n]*\\})`;
  type Step = readonly [name: string, re: RegExp, replace: string | ((m: string, ...g: string[]) => string)];
  const steps: readonly Step[] = [
    ['private key', /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, '-----BEGIN $1PRIVATE KEY-----' + REDACTED + '-----END $1PRIVATE KEY-----'],
    ['authorization', /((?:proxy-)?authorization\\?\s*["']?\s*[:=]\s*\\?["']?\s*)((?:bearer|basic|token|aws4-hmac-sha256)\s+)?[^\s"',;[\]{}\\]+/gi, '$1$2' + REDACTED],
    ['bearer', /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, '$1$2' + REDACTED],
    ['jwt', /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
    // Round 3: provider tokens by format, sk- keys, Slack webhook paths.
    [
      'provider token',
      /(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244}|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-[A-Za-z0-9_.-]{20,}|xox[abeoprs]-\d+-[A-Za-z0-9-]{8,}|xapp-\d+-[A-Za-z0-9-]{8,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36}|AIza[A-Za-z0-9_-]{35}|hf_[A-Za-z0-9]{34,40}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|do[opr]_v1_[a-f0-9]{64}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})(?![A-Za-z0-9_-])/g,
      (m) => {
        const k = m.startsWith('github_pat_') ? 11 : m.startsWith('AIza') ? 4 : m.startsWith('SG.') ? 3 : m.startsWith('do') ? 7 : /^[rs]k_/.test(m) ? 8 : m.search(/[_-]/) + 1;
        return m.slice(0, k) + REDACTED;
      },
    ],
    ['sk- key', /(?<![A-Za-z0-9_-])sk-((?:proj|svcacct|admin|ant-api\d\d|ant-admin\d\d)-)?([A-Za-z0-9_-]{32,})/g, (m, kind, v) => (/[A-Z]/.test(v) && /[a-z]/.test(v) && /\d/.test(v) ? 'sk-' + (kind ?? '') + REDACTED : m)],
    ['slack webhook', /(hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?!\[REDACTED)[A-Za-z0-9_/-]+/g, '$1' + REDACTED],
    ['aws secret key', /((?:AKIA|ASIA)[0-9A-Z]{16}[^A-Za-z0-9/+=]{1,40}?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/g, '$1' + REDACTED],
    ['url user info', /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]*:)([^\s/?#"'<>]+)@/gi, (m, k, v) => (kept(v) ? m : k + REDACTED + '@')],
    ['token as user info', /(\b[a-z][a-z0-9+.-]*:\/\/)([A-Za-z0-9_.~-]{10,})(?=@|:[^\s/@"'<>]*@)/gi, tokenUserReplace],
    [
      'query parameter',
      /([?&](?:x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|signature|sig|(?:access_|id_|refresh_|auth_)?token|password|passwd|pwd|secret|client_secret|api_?key|apikey)=)([^&\s"'#\\]+)/gi,
      (m, k, v) => (kept(v) ? m : k + REDACTED),
    ],
    ['header', /((?:set-)?cookie|x-amz-security-token|x-registry-(?:auth|config))(\\?["']?\s*[:=]\s*\\?["']?)(?!\[REDACTED\])([^"'\n\\]+)/gi, headerReplace],
    ['secret env', /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|_PWD|SECRET|TOKEN|SECRET_ACCESS_KEY|PRIVATE_KEY|API_KEY)[A-Z0-9_]*=)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g, (m, k, v) => (v === REDACTED ? m : k + REDACTED)],
    ['aws config', /\b((?:aws_)?(?:secret_access_key|session_token)(?:\s*[=:]\s*|\s+))("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    [
      'secret flag or key',
      /(-pass(?:in|out)?\s+pass:|-(?:src|dest)?(?:store|key)pass(?:=|\s+)|(?<![A-Za-z0-9_-])--?(?:oauth2-bearer|password|passwd|pass|pwd|secret|token|api-?key|access-?key|secret-?key|client-?secret|auth-?token)(?:=|\s+)|(?:\b|_)(?:password|passwd|pwd|secret|token|api[_-]?key|client_?secret|auth_?token)(?:\\?["']\s*:\s*\\?["']?|\s*=\s*(?:[Nn](?='))?\\?["']?|\s*:(?:\s+\\?["']?|\\?["'])))(?!<+(?:\s|$)|[Nn]'|(?:old_)?password[ \t]*\()("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi,
      secretArgReplace,
    ],
    // Round 6 (before MYSQL_RE: its lone -p would take `password` for its value).
    ['mysqladmin password', new RegExp(`(\\b(?:mysqladmin|mariadb-admin)(?=\\s)${UNIT}*?\\s(?:old-)?password\\s+)("[^"]*"|'[^']*'|(?!-)[^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    [
      'mysql/sshpass/mongo/login -p',
      new RegExp(
        `(\\b(?:(?:mysql|mariadb)[a-z-]*|sshpass|mongo(?:sh|dump|restore|export|import|files|stat|top)?|(?:docker|podman|nerdctl|buildah|skopeo|oras|helm\\s+registry|crane\\s+auth|az(?:\\s+acr)?|regctl\\s+registry)\\s+login)(?=\\s)${UNIT}*?\\s-p)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?![-<])[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`,
        'g',
      ),
      mysqlFlagReplace,
    ],
    ['curl user', new RegExp(`(\\bcurl(?=\\s)${UNIT}*?\\s(?:-[a-zA-Z]*[uU]\\s*|--(?:proxy-)?user(?:\\s+|=))["']?[^\\s:"']*:)([^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['redis-cli -a', new RegExp(`(\\bredis-cli(?=\\s)${UNIT}*?\\s-a\\s+)((?!-)[^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['--from-literal', /(--from-literal(?:=|\s+)["']?[^=\s"']*=)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    // Round 4.
    [
      'long flag',
      /((?<![A-Za-z0-9_-])--(?!no-)(?:[a-z0-9]+[-_])*?(?<!(?:pull|tls|ssl|cert|ref)[-_])(?:password|passwd|passphrase|pass|pwd|token|secret|secret[-_](?:access[-_])?key|access[-_]token|session[-_]token|api[-_]?key|client[-_]secret|secret[-_](?:string|binary)|account[-_]key|shared[-_]access[-_]key|pre[-_]shared[-_]key)(?:=|\s+))(?![-<])("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi,
      (m, k, v) => (kept(v) ? m : k + REDACTED),
    ],
    [
      'ssm SecureString',
      /\bput-parameter\b[^;&|\n]*/g,
      (cmd) => (cmd.includes('SecureString') ? cmd.replace(/(--value(?:=|\s+))(?!-)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g, (m, k: string, v: string) => (kept(v) ? m : k + REDACTED)) : cmd),
    ],
    [
      'text key',
      /((?<![A-Za-z0-9_.-])(\\?["']?)-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,80})\2[ \t]*[:=][ \t]*(?:[Nn]?\\?["'])?)(?![Nn]'|(?:[oO][lL][dD]_)?[pP][aA][sS][sS][wW][oO][rR][dD][ \t]*\()([^\s"',;&|\\{}[\]]+)/g,
      (m, k, _q, name, v) => (kept(v) || v === 'true' || v === 'false' || v === 'null' || !isTextSecretKey(name) ? m : k + REDACTED),
    ],
    ['env json', /("name"\s*:\s*"([^"\\]{1,128})"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)"/g, (m, k, name, v) => (v === '' || kept(v) || !isSecretName(name) ? m : k + REDACTED + '"')],
    ['env yaml', /(\bname:[ \t]*["']?([A-Za-z0-9_.-]{1,128})["']?[ \t]*\r?\n[ \t]*value:[ \t]*["']?)([^\s"']+)/g, (m, k, name, v) => (kept(v) || !isSecretName(name) ? m : k + REDACTED)],
    ['ldap -w', new RegExp(`(\\bldap(?:search|modify|add|delete|whoami|passwd|compare|modrdn|exop|url)(?=\\s)${UNIT}*?\\s-w)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['sqlcmd -P', new RegExp(`(\\b(?:sqlcmd|bcp|osql|isql)(?=\\s)${UNIT}*?\\s-P)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['htpasswd', new RegExp(`\\bhtpasswd((?:[ \\t]+${WORD}+)+)`, 'g'), scrubHtpasswd],
    // Round 5: archive passwords, Samba's user%password, openssl's keys, Oracle logons.
    ['zip -P', new RegExp(`(\\b(?:un)?zip(?=\\s)${UNIT}*?\\s-P)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['7z/rar -p', new RegExp(`(\\b(?:7z[arz]?|(?:un)?rar)(?=\\s)${UNIT}*?\\s-p)("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['smb user%password', new RegExp(`(\\b(?:smbclient|rpcclient|smbcacls|smbget)(?=\\s)${UNIT}*?\\s(?:-U[ \\t]*|--user(?:=|[ \\t]+))["']?[^\\s%"';&|]*%)([^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['openssl -k/-K/-hmac', new RegExp(`(\\bopenssl(?=\\s)${UNIT}*?\\s-(?:k|K|hmac)\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]*"|'[^']*')`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['oracle logon', new RegExp(`\\b(?:sqlplus|sqlldr|expdp|impdp|exp|imp|rman|dgmgrl)(?=\\s)${UNIT}*`, 'g'), scrubOracleCommand],
    ['jdbc thin logon', /(jdbc:oracle:thin:["']?[A-Za-z0-9_$#.]+["']?\/)([^\s@/"';&|\\]+)(?=@)/gi, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    // Round 6: SQL CONNECT logons, Impacket, lateral-movement clients, FreeRDP, net use / net user, openssl options.
    ['sql connect', /((?:^|[\s"'`;(])conn(?:ect)?[ \t]+["']?[A-Za-z0-9_$#.]+["']?\/)("[^"]*"|[^\s@/"';&|\\]+)(?=(@|;|[ \t]+as[ \t]+sys)?)/gim, (m, k, v, after, _o, whole) => (kept(v) || (after === undefined && !/sqlplus|sqlldr|expdp|impdp|exp\s|imp\s|rman|dgmgrl/.test(whole as string)) ? m : k + REDACTED)],
    ['-hashes/-aesKey', /((?<![A-Za-z0-9_-])-(?:hashes|aesKey)(?:=|\s+))((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/gi, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['impacket target', new RegExp(`(?<![A-Za-z0-9_-])(?:impacket-[a-z0-9]+|(?:secretsdump|psexec|wmiexec|smbexec|atexec|dcomexec|getTGT|getST|GetUserSPNs|GetNPUsers|GetADUsers|GetLAPSPassword|mssqlclient|lookupsid|ticketer|reg|rpcdump|samrdump|addcomputer|dacledit|owneredit|rbcd|changepasswd|findDelegation|getPac|goldenPac|raiseChild|services|smbclient|wmiquery|netview|Get-GPPPassword|DumpNTLMInfo|keylistattack|describeTicket)\\.py)(?=\\s)${UNIT}*`, 'gi'), scrubImpacketCommand],
    ['nxc & co -p', new RegExp(`(\\b(?:nxc|netexec|crackmapexec|cme|evil-winrm|hydra|medusa|smbmap|rdesktop|rabbitmqadmin|twine)(?=\\s)${UNIT}*?\\s-p)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g'), flagValue],
    ['nxc & co -H', new RegExp(`(\\b(?:nxc|netexec|crackmapexec|cme|evil-winrm)(?=\\s)${UNIT}*?\\s-H)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g'), flagValue],
    ['freerdp /p:', new RegExp(`(\\b(?:[xw]|sdl-|wl)?freerdp3?(?=\\s)${UNIT}*?\\s\\/(?:p|pth):)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['net use/user', new RegExp(`(?<=(?:^|[;&|(\\n"'\`=])[ \\t]*|\\/[ck][ \\t]+|[\\\\/])net(?:\\.exe)?[ \\t]+(use|user)\\b(${UNIT}*)`, 'gi'), scrubNetCommand],
    ['openssl -macopt', /((?<![A-Za-z0-9_-])-(?:mac|kdf|pkey|sig)opt(?:=|\s+)["']?(?:hex)?(?:key|pass|secret):)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    // Round 9, before round 7's single-echo rules: a group of echoes piped to a stdin taker, a secret header set by nginx.
    ['(echo; echo) | stdin taker', new RegExp(`([({][ \\t]*)((?:[^;&|\\n(){}]*(?:;|&&))*[^;&|\\n(){}]*)([)}][ \\t]*\\|(?=[^;&\\n]*?(?:${STDIN}|${STDIN9})))`, 'g'), scrubStdinGroup],
    ['nginx secret header', /(\b(?:proxy_set_header|grpc_set_header|add_header|more_set_input_headers|more_set_headers)[ \t]+["']?(?:(?:proxy-)?authorization|[\w-]*(?:api[-_]?key|token|secret|passw(?:or)?d|cookie)[\w-]*)["']?[ \t]+)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s;"']+)/gi, scrubNginxHeader],
    // Round 7: SNMP, FreeRDP's legacy -p, ssh-keygen, etcdctl, lftp, Samba's net -U, secrets piped in, positions.
    ['snmp -c/-A/-X', new RegExp(`\\bsnmp(?:walk|bulkwalk|get|getnext|bulkget|set|table|trap|inform|delta|df|netstat|status|test|usm|vacm)(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(cmdFlag('-(?:c|A|X|3[kKmM])'), flagValue)],
    ['freerdp -p', new RegExp(`\\b(?:[xw]|sdl-|wl)?freerdp3?(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(/(\s-p\s+)((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/g, (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED))],
    ['ssh-keygen -N/-P', new RegExp(`\\bssh-keygen(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(cmdFlag('-[NP]'), flagValue)],
    ['etcdctl --user', new RegExp(`\\betcdctl(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(/(\s(?:--user(?:name)?(?:=|\s+)|-u\s+)["']?[^\s:"']+:)([^\s"';&|\\]+)/g, (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED))],
    ['lftp -u', new RegExp(`\\blftp(?=\\s)${UNIT}*`, 'g'), scrubLftpCommand],
    ['samba net -U', new RegExp(`(?<![\\w.-])(?:net|smbtree|winexe|smbcquotas|samba-tool)(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(/(\s(?:-U[ \t]*|--user(?:=|[ \t]+))["']?[^\s%"';&|]+%)([^\s"';&|\\]+)/g, (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED))],
    ['echo | --password-stdin', new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?${STDIN}))`, 'g'), scrubEchoToStdin],
    ['<<< --password-stdin', new RegExp(`(${STDIN}[^;&|\\n]*?<<<[ \\t]*)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g'), scrubHereStdin],
    ['rabbitmqctl/vault/mc positions', new RegExp(`(?<![\\w.-])(rabbitmqctl|vault|mc)(?:\\.bat|\\.exe)?((?:[ \\t]+${WORD}+)+)`, 'g'), scrubPositionalCommand],
    // Round 8: chpasswd's input, snmpusm passwd, doctl -t, SQL password clauses.
    ['echo | chpasswd', new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?\\bchg?passwd\\b))`, 'g'), scrubEchoToChpasswd],
    ['chpasswd <<<', /(\bchg?passwd\b[^;&|\n]*?<<<[ \t]*)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (_m, k, v) => k + scrubChpasswdPairs(v as string)],
    ['snmpusm passwd', new RegExp(`\\bsnmpusm(?=\\s)${UNIT}*`, 'g'), scrubSnmpusmCommand],
    ['doctl -t', new RegExp(`(\\bdoctl(?=\\s)${UNIT}*?\\s-t=?)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g'), flagValue],
    [
      'sql identified by',
      /((?:^|[\s"'`;(])(?:create|alter|grant)[ \t][^;\n]*?\bidentified[ \t]+(?:with[ \t]+\S+[ \t]+)?by[ \t]+(?:password[ \t]+)?)(?!random[ \t]+password\b)('[^']*'|"[^"]*"|[^\s"';,)\\]+)/gi,
      sqlValueReplace,
    ],
    ['sql password()', /(\b(?:old_)?password[ \t]*\([ \t]*)('[^']*'|"[^"]*")/gi, sqlValueReplace],
    ['sql set password for', /(\bset[ \t]+password[ \t]+for[ \t]+[^\s=]+[ \t]*=[ \t]*)('[^']*'|"[^"]*")/gi, sqlValueReplace],
    ['sql role password', /((?:^|[\s"'`;(])(?:create|alter)[ \t]+(?:user|role)\b[^;\n]*?\bpassword[ \t]+)('[^']*'|"[^"]*")/gi, sqlValueReplace],
    // Round 9: stdin takers, -P / -w / -a / -p of more programs, winrs, schtasks.
    ['echo | kinit/passwd/...', new RegExp(`\\b(echo|printf|yes)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?${STDIN9}))`, 'g'), scrubEchoToStdin],
    ['kinit/passwd/... <<<', new RegExp(`(${STDIN9}[^;&|\\n]*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g'), scrubHere9],
    ['ipmitool/mosquitto/sqsh/tsql -P', new RegExp(`(\\b(?:ipmitool|mosquitto_(?:pub|sub|rr)|sqsh|tsql)(?=\\s)${UNIT}*?\\s-P)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['vsql -w', new RegExp(`(\\bvsql(?=\\s)${UNIT}*?\\s-w)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['valkey/keydb-cli -a', new RegExp(`(\\b(?:valkey|keydb)-cli(?=\\s)${UNIT}*?\\s-a)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g'), flagValue],
    ['psexec/cqlsh/usermod -p', new RegExp(`(\\b(?:[Pp][Ss][Ee][Xx][Ee][Cc](?:64)?(?:\\.[Ee][Xx][Ee])?|cqlsh|usermod|useradd)(?=\\s)${UNIT}*?\\s-p)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g'), flagReplaceNoVar],
    ['winrs -p:', new RegExp(`(\\bwinrs(?:\\.exe)?(?=\\s)${UNIT}*?\\s[-/]p(?:assword)?:)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gi'), sqlValueReplace],
    ['schtasks /p /rp', new RegExp(`(\\bschtasks(?:\\.exe)?(?=\\s)${UNIT}*?\\s\\/r?p[ \\t]+)(?![/*])("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gi'), sqlValueReplace],
    ['openssl passwd / mkpasswd', new RegExp(`\\b(openssl[ \\t]+passwd|mkpasswd)((?:[ \\t]+(?:[^\\s;&|)\`<>"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')+)+)`, 'g'), scrubHashCommand],
    // Round 10: influx -p / -t, isql by position, a script fed to ftp, a netrc line.
    ['influx -p/-t', new RegExp(`\\binflux(?=\\s)${UNIT}*`, 'g'), (cmd) => cmd.replace(/(\s-[pt](?:=|[ \t]+))((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/g, (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED))],
    ['isql position', new RegExp(`\\b(iu?sql)(?<=(?:^|[;&|(\\n"'\`])[ \\t]*(?:sudo[ \\t]+)?(?:[\\w.-]*\\/)*iu?sql)((?:[ \\t]+${WORD}+)+)`, 'g'), scrubIsql],
    ['ftp <<<', new RegExp(`(${FTP}${UNIT}*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gm'), (_m, k, v) => k + scrubFtpScript(v as string)],
    ['echo | ftp', new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?${FTP}))`, 'gm'), (_m, prog, opts, text, pipe) => (prog as string) + (opts as string) + scrubFtpScript(text as string) + (pipe as string)],
    ['netrc', /((?:^|[\s'"]|\\n)login[ \t]+[^\s"'\\]+(?:[ \t]+|(?:\\n|\r?\n)[ \t]*)password[ \t]+)(?!\$)("[^"]*"|[^\s"'\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    // Round 11: stdin of programs that prompt, heredocs into stdin takers, redis-cli's AUTH, curl's cookies, --creds, npm auth keys, Wi-Fi.
    ['mysql -p / psql -W / htpasswd -i <<<', new RegExp(`(\\b${STDIN11}[^;&|\\n]*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gm'), scrubHere11],
    ['echo | mysql -p / psql -W / htpasswd -i', new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?\\b${STDIN11}))`, 'gm'), scrubEcho11],
    ['heredoc into a stdin taker', /^([^\n]*?(?<!<)<<-?(?!<)[ \t]*(["']?)(\w+)\2[^\n]*\n)([\s\S]*?)(?=\n[ \t]*\3[ \t]*(?:\n|$))/gm, scrubHeredoc11],
    ['redis-cli AUTH', new RegExp(`\\b${REDIS}(?=\\s)${UNIT}*`, 'g'), scrubRedisScript],
    ['echo | redis-cli', new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO}+?)([ \\t]*\\|(?=[^;&\\n]*?\\b${REDIS}))`, 'g'), (_m, prog, opts, text, pipe) => (prog as string) + (opts as string) + scrubRedisScript(text as string) + (pipe as string)],
    ['curl -b', new RegExp(`(\\bcurl(?=\\s)${UNIT}*?\\s(?:-b|--cookie)(?:[ \\t]+|=))(?:(["'])([^"'\\n]*=[^"'\\n]*)\\2|([^\\s"';&|\\\\]*=[^\\s"';&|\\\\]*))`, 'g'), scrubCurlCookie],
    ['--creds', /((?<![\w-])--(?:src-|dest-)?creds(?:=|[ \t]+)["']?[^\s:"']*:)([^\s"';&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['npm config set _auth', /(\b(?:npm|pnpm|yarn)[ \t]+config[ \t]+set[ \t]+(?:-\S+[ \t]+)*["']?[^\s"'=]*?(?:_auth|_authToken|_password|npmAuthToken|npmAuthIdent)["']?[ \t]+)(?!-)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['wpa_passphrase', /(\bwpa_passphrase(?:[ \t]+-\S+)*[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s;&|"'<>]+)[ \t]+)(?!\$)("[^"\n]*"|'[^'\n]*'|[^\s;&|"'<>]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    [
      'nmcli secrets',
      new RegExp(`\\bnmcli(?=\\s)${UNIT}*`, 'g'),
      (cmd) =>
        cmd.replace(
          /(\s[+-]?(?:password|(?:wifi-sec|802-11-wireless-security)\.(?:psk|wep-key[0-3]|leap-password)|802-1x\.(?:password|private-key-password|phase2-private-key-password|pin)|vpn\.secrets|pppoe\.password|gsm\.(?:password|pin))[ \t]+)(?!\$)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g,
          (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED),
        ),
    ],
    // Round 12: mysql "-px", gh secret set, crictl --auth, ctr --user, TF_TOKEN_<host>, Oracle's REPLACE, MongoDB shell passwords.
    ['mysql "-px"', new RegExp(`(\\b(?:mysql|mariadb)[a-z-]*(?=\\s)${UNIT}*?\\s(["'])-p)([^"'\\s][^"'\\n]*)(?=\\2)`, 'g'), (m, k, _q, v) => (kept(v) ? m : k + REDACTED)],
    ['gh secret set -b', new RegExp(`(\\bgh[ \\t]+secret[ \\t]+set(?=\\s)${UNIT}*?\\s(?:-b|--body))(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\=-][^\\s"';&|\\\\]*)|([ \\t]+|=)((?![-<])[^\\s"';&|\\\\]+|"[^"]*"|'[^']*'))`, 'g'), flagValue],
    ['crictl --auth', new RegExp(`(\\bcrictl(?=\\s)${UNIT}*?\\s--auth(?:=|[ \\t]+))((?!-)[^\\s"';&|\\\\]+|"[^"]*"|'[^']*')`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['ctr --user', new RegExp(`(\\bctr(?=\\s)${UNIT}*?\\s(?:--user|-u)(?:=|[ \\t]+)["']?[^\\s:"']*:)([^\\s"';&|\\\\]+)`, 'g'), (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['TF_TOKEN_', /\b(TF_TOKEN_[A-Za-z0-9_-]+=)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    ['sql replace', /(\bidentified[ \t]+by[ \t]+(?:'\[REDACTED\]'|"\[REDACTED\]"|\[REDACTED\])[ \t]+replace[ \t]+)('[^']*'|"[^"]*"|[^\s"';,)\\]+)/gi, sqlValueReplace],
    ['mongo password', /(\b(?:changeUserPassword|auth)\([ \t]*(["'])[^"'\n]*\2[ \t]*,[ \t]*)(["'])([^"'\n]*)\3/g, scrubMongoPassword],
    [
      'vault kv put values',
      new RegExp(`\\bvault[ \\t]+kv[ \\t]+(?:put|patch)(?=\\s)${UNIT}*`, 'g'),
      (cmd) => cmd.replace(/(\s(?!-)[^\s="']+=)(?!@|-(?:\s|$))("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (m: string, k: string, v: string) => (kept(v) ? m : k + REDACTED)),
    ],
    ['kubectl config set users.*.token', /(\bconfig[ \t]+set[ \t]+(?:--?\S+[ \t]+)*["']?users\.[^\s"']*?\.(?:password|client-key-data|[\w-]*secret|[\w-]*token)["']?[ \t]+)(?!-)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g, (m, k, v) => (kept(v) ? m : k + REDACTED)],
    // Round 13: an expect script's answer to a password prompt, MSSQL's sp_addlogin / sp_password.
    [
      'expect send after a password prompt',
      new RegExp(
        `((?:\\bexpect(?:[ \\t]+-(?:re|gl|ex|exact|nocase|timeout[ \\t]+\\d+|i[ \\t]+\\S+))*[ \\t]+(?:--[ \\t]+)?(?:${EXPECT_PAT}|[^\\s"{};]*${EXPECT_WORD}[^\\s"{};]*)(?:[ \\t]*(?:;|\\r?\\n))+[ \\t]*|(?<=\\s)${EXPECT_PAT}[ \\t]*\\{[ \\t]*(?:\\r?\\n[ \\t]*)?)(?:exp_)?send(?:[ \\t]+-(?:-|s|h|raw|null|break|i[ \\t]+\\S+))*[ \\t]+)("(?:[^"\\\\\\n]|\\\\.)*"|\\\\"(?:(?!\\\\")[^\\n])*\\\\"|\\{[^{}\\n]*\\}|[^\\s"{};[\\]$\\\\][^\\s"{};\\]]*)`,
        'g',
      ),
      scrubExpectSend,
    ],
    ['sp_addlogin / sp_password', /(\bsp_(?:addlogin|password)\b)([ \t][^;\n"]*)/gi, scrubSpLogin],
  ];
  const chain = (s: string, skip = -1): string =>
    steps.reduce((t, [, re, replace], i) => (i === skip ? t : typeof replace === 'string' ? t.replace(re, replace) : t.replace(re, replace as (m: string, ...g: unknown[]) => string)), s);

  const key = 'AKIAIOSFODNN7EXAMPLE';
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const an = (n: number): string => 'aB3dE5gH7jK9mN1pQ2sT4vW6yZ8cF0hJ'.repeat(8).slice(0, n);
  const hex = (n: number): string => '0123456789abcdef'.repeat(8).slice(0, n);
  const inputs = [
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
    '-----BEGIN PRIVATE KEY-----\nMIIEvg',
    'curl -H "Authorization: Bearer abcdefgh12345678" https://x',
    'Proxy-Authorization=Basic dXNlcjpwYXNz',
    'authorization: AWS4-HMAC-SHA256 Credential=x',
    'BEARER abcdefgh12345678==',
    'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig',
    `aws configure set ${key} ${secret}`,
    `AccessKeyId: ${key}, SecretAccessKey: ${secret}`,
    'Cookie: session=abc123; Set-Cookie: id=1',
    'x-amz-security-token: IQoJb3JpZ2luX2VjEPLAIN',
    'PGPASSWORD=hunter22 psql -h db',
    'export AWS_SECRET_ACCESS_KEY="abc def" GITHUB_TOKEN=ghp_x MY_API_KEY=k DB_PWD=p',
    'mysql --password=hunter22 -u root',
    'aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY --profile x',
    'aws_session_token = IQoJb3JpZ2luX2VjEPLAIN\naws_secret_access_key=abc AWS_SECRET_ACCESS_KEY=def',
    'aws configure get aws_secret_access_key',
    'app --api-key abc123 --client-secret=xyz --auth-token t0k3n --access-key AK',
    '{"password": "hunter22", "secret":"s", "api_key": "k", "client_secret": "c"}',
    'password = hunter22; passwd: root; pwd=/home',
    'secret=[REDACTED] token=[REDACTED-x]',
    'TOKEN=[REDACTED] SECRET=abc',
    'Authorization: Bearer [REDACTED]',
    '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    'authorization.k8s.io/decision',
    'GetAuthorizationToken',
    'passing through the tokenizer, a secretive asian api-keyboard',
    'Pass the PASSWORD_HINT=x and PasswordPolicy',
    'nothing to see in this string at all',
    'mysql -h db -uroot -pS3cret orders; ssh -p2222 host',
    'mariadb-dump -p"a b" --all-databases && nc -p 4444 x',
    'mysql -u root -p orders | tee out',
    'mysql -P3306 -p -h db',
    'MYSQL -pUpper mysqld -p1',
    'app db_password=x access_token=y id_token: z my_secret="q"',
    'https://b.s3.amazonaws.com/k?X-Amz-Security-Token=IQo&X-Amz-Date=1&X-Amz-Signature=ab12&sig=s&Signature=v2%2B',
    'curl "https://h/x?token=t&apikey=k&q=1" -H "x-amz-security-token: IQoJ"',
    '?password=[REDACTED]&X-Amz-Credential=[REDACTED]',
    'psql postgres://app:pw@db/x; git clone https://tok:ghs_x@github.com/o/r https://u@h/ http://[::1]:80/ redis://d:p@ss@c:1',
    'sshpass -p pw ssh -p 22 h; sshpass -ppw2 scp x y',
    'mongodb://admin:[REDACTED]@db',
    // Round 3: provider tokens by format (and look-alikes: too short, inside a word, sk- without mixed case).
    `git push https://github.com/o/r ghp_${an(36)} github_pat_${an(22)}_${an(59)} glpat-${an(20)} gho_short`,
    `SLACK=xoxb-1234-${an(24)} xapp-1-${an(12)} sk_live_${an(24)} rk_test_${an(16)} npm_${an(36)} AIza${an(35)}`,
    `hf_${an(34)} SG.${an(22)}.${an(43)} shpat_${hex(32)} dop_v1_${hex(64)} pypi-AgEIcHlwaS5vcmc${an(50)} glsa_${an(32)}_${hex(8)} glc_${an(32)}==`,
    `OPENAI=sk-proj-${an(40)} sk-ant-api03-${an(48)} task-${an(32)} sk-${'a'.repeat(40)} xghp_${an(36)}`,
    'curl -X POST https://hooks.slack.com/services/T000/B000/XXXXXXXX -d @msg.json; hooks.slack.com/services/[REDACTED]',
    // Round 3: per-program password flags, keystore flags, X-Api-Key.
    'curl -u admin:p20 https://x; curl -sSuuser:p21 h; curl --user=u:p22 h; curl --proxy-user "u:p23" h; curl -u user h',
    'redis-cli -h r -a p24 ping; redis-cli -a -n 1; redis-cli -h r --no-auth-warning',
    'kubectl create secret generic s --from-literal=dsn=p25 --from-literal dburl="p 26"; --from-file=k=./f',
    'mongosh -u a -p p27 db; docker login -u u -p p28 r; helm registry login r -u u -p p29; az login -u u -p p30; ssh login -p 22',
    'openssl rsa -passin pass:p31 -in k; keytool -importkeystore -srcstorepass p32 -storepass=p33 -keypass p34',
    'curl -H "X-Api-Key: p35" -H "x-api-key:p36" https://api',
    // Round 4: long flags ending in a secret's name, text keys, env entries as JSON or YAML, ldap/sqlcmd/htpasswd.
    'aws rds modify-db-instance --master-user-password pw1 --apply-immediately; psql --no-password -h db',
    'rclone --s3-secret-access-key k2 x; kubectl create secret docker-registry --image-pull-secret regcred; --pull-secret name',
    'aws ssm put-parameter --type SecureString --value v3; aws ssm put-parameter --type String --value v4',
    'db:\n  pass: p5\n  passphrase: "p6"\nwebhookSecret=p7 tokenExpiry=1h nextToken=abc secretName: db enabled: true',
    '{"auths":{"r":{"auth":"cDg="}},"signingKey":"p9","passwordLastChanged":"2024-10-01","secret_key":"p10"}',
    '{"name":"DB_PASSWORD","value":"p11"},{"name":"LOG_LEVEL","value":"debug"},{"name":"SECRET_NAME","value":"db"}',
    '- name: API_TOKEN\n  value: p12\n- name: TOKEN_TTL\n  value: 3600',
    'ldapsearch -x -p 389 -w p13 -b dc=x; ldapwhoami -wp14; ldapsearch -W -x',
    'sqlcmd -S db -U sa -P p15; bcp t out f -Pp16 -c; sqlcmd -S db -C',
    'htpasswd -b /etc/.htpasswd admin p17; htpasswd -nbB -C 10 u p18; htpasswd -c f u; sshpass -p p19 ssh -p 22 h',
    // Each alone, with no other word of HINT_RE in the string (the pre-checks once skipped these: see redact.ts).
    'SSH_PRIVATE_KEY=p40',
    'privateKey: p41',
    'app --access-key p42',
    'tool --oauth2-bearer=p43',
    'https://storage.googleapis.com/b/o?X-Goog-Credential=p44',
    '{"name":"GCP_CREDENTIAL","value":"p45"}',
    '- name: DB_PW\n  value: p46',
    '- name: SESSION_KEY\n  value: p47',
    // Round 5, each alone (no other word of HINT_RE), and their look-alikes.
    'STRIPE_KEY=p50',
    'export SIGNING_KEY="p51" LICENSE_KEY=p52',
    '{"ENCRYPTION_KEY": "p53", "PUBLIC_KEY": "ssh-rsa AAAA", "KEY_ID": "k1", "sort_key": "ts"}',
    'APP_KEY: p54\nPARTITION_KEY: tenant\nAWS_ACCESS_KEY: AKIAIOSFODNN7EXAMPLE\nrecaptcha: {SITE_KEY: 6Lc}',
    '- name: STRIPE_KEY\n  value: p55',
    '{"name":"STRIPE_KEY","value":"p56"}',
    'SecurityDbEncryption=p57,SecurityDbEncryptionName=TDEKEY',
    '{"securityDbEncryption":"p58"}',
    'zip -r -P p59 a.zip d',
    'unzip -Pp60 a.zip; zip -r a.zip d; gzip -P x',
    '7z a -pp61 a.7z d; 7z a -p a.7z; rar a -pp62 a.rar; unrar x -p- a.rar',
    'smbclient //h/s -U CORP\\admin%p63 -c ls',
    'smbget --user=u%p64 smb://h/f; rpcclient -U "u%p65" h; smbclient -U admin //h/s',
    'openssl enc -aes-256-cbc -k p66 -in a',
    'openssl enc -d -K 0011p67 -iv 00; openssl dgst -hmac p68 f; openssl enc -kfile /run/k',
    'sqlplus -s scott/p69@orcl @q.sql',
    'sqlplus system/p70@//db:1521/svc; sqlplus / as sysdba; sqlplus -s /@tns @a/b.sql',
    'rman target sys/p71@prod catalog rcat/p72@cat; rman target /',
    'expdp system/p73@db dumpfile=a/b.dmp; impdp u/p74 directory=d; sqlldr userid=u/p75 control=a/b.ctl',
    'dgmgrl sys/p76@prim; exp u/p77@db file=x; imp u/p78 file=x.dmp',
    'sqlplus -L scott/p79 < in/file.sql; cp a/b@c d',
    'imp u/p80 file=x.dmp',
    'impdp u/p81@db directory=d',
    'dgmgrl sys/p82@prim',
    '7z x -pp83 a.7z',
    'url=jdbc:oracle:thin:app/p84@//db:1521/svc JDBC:ORACLE:THIN:"u"/p85@db:1521:ORCL jdbc:oracle:thin:@//db:1521/svc',
    // Round 6, each alone (no other word of HINT_RE), and their look-alikes.
    'echo "CONNECT scott/p90@orcl" | cat',
    'conn app/p91;',
    'echo connect a/p92 | sqlplus /nolog',
    'echo connect db/primary; CONNECT h:443 HTTP/1.1; connect / as sysdba',
    'CONNECT sys/p93 AS SYSDBA',
    'secretsdump.py CORP/admin:p94@10.0.0.5',
    'impacket-getTGT corp/svc:p95',
    "psexec.py corp/u:'p 96'@h cmd; secretsdump.py -k -no-pass c/u@h; app.py a/b:c@d",
    'x -hashes :31d6cfe0d16ae931b73c59d7e0c089c0 y',
    'getST.py -aesKey 00ff97 c/u',
    'nxc smb h -u a -p p98',
    'cme smb h -u a -H 31d6cfe0d16ae931b73c59d7e0c089c1',
    "evil-winrm -i h -u a -p 'p 99' -P 5985",
    'hydra -l a -pp100 ssh://h; medusa -h h -u a -p p101 -M ssh',
    'rdesktop -p - h; smbmap -H h -P 445; hydra -L u -P w ssh://h',
    'xfreerdp /v:h /u:a /p:p102; wfreerdp /pth:p103',
    'net use \\\\h\\s p104 /user:a',
    'NET USER bob p105 /add; net use Z: /delete; net user add carol p106; net user info bob',
    'cmd /c net user eve p109 /add & C:\\Windows\\System32\\net.exe use \\\\h\\s p110; the net user count grew by 5',
    'openssl mac -macopt hexkey:p107 HMAC; -kdfopt salt:x',
    'mysqladmin -u root password p108',
    // Round 7, each alone (no other word of HINT_RE), and their look-alikes.
    'snmpwalk -v3 -u m -A p120 -X p121 h; snmpget -cp122 h; snmpd -c /etc/snmpd.conf',
    'xfreerdp -u a -p p123 h; wlfreerdp /v:h /p:p124; xfreerdp -printer /v:h',
    "ssh-keygen -N p125 -f k; ssh-keygen -p -P 'p126' -N '' -f k",
    'etcdctl --user root:p127 get /; etcdctl --user=u:p128 member list; etcdctl --user root get /',
    'lftp -u bob,p129 sftp://h; lftp -u "ops,p 130" h; lftp -u bob h',
    'net ads join -U admin%p131; date +%Y',
    'smbtree -U u%p132',
    'winexe -U c/a%p133 //h cmd',
    'samba-tool user add e -U a%p134',
    'smbcquotas -U u%p145 //h/s',
    'echo p135 | docker login --password-stdin r; echo "$PW" | docker login --password-stdin r',
    "printf '%s' p136 | gh auth login --with-token; printf p137 | passwd --stdin bob",
    'echo p138 | sudo -S -u root id; echo y | sudo apt install jq',
    'sudo -S id <<< p139',
    'oras login r --password-stdin <<< "p140"; gh auth login --with-token < f',
    'rabbitmqctl add_user alice p141; rabbitmqctl add_user alice; rabbitmqctl list_users',
    'vault login p142; vault login -method=aws role=x; vault login -; aws-vault login prod',
    'mc alias set s3 https://h AKIAIOSFODNN7EXAMPLE p143; mc config host add m http://h u p144; mc ls s3',
    // Round 8, each alone, and their look-alikes.
    'net -U admin%p150 -S dc rpc shutdown; net -U admin rpc user',
    'doctl auth init -t p151; doctl -t=p152 account get; docker run -t x; doctl compute droplet list',
    'rabbitmqadmin -u a -p p153 list queues; rabbitmqadmin -P 15672 list users',
    'rabbitmqctl set_permissions -p / a',
    "echo 'alice:p154' | chpasswd; echo \"$U:$P\" | chpasswd; printf 'a:p170\\nb:p171\\n' | sudo chpasswd; echo x:y | cut -d: -f1",
    'chpasswd <<< bob:p155; chpasswd <<EOF\nc:p156\nEOF',
    'snmpusm -v3 h passwd -Ca p157 p158 bob; snmpusm h create bob',
    'CREATE USER scott IDENTIFIED BY p159; Pods are identified by labels; ALTER USER a IDENTIFIED WITH auth_socket',
    'mysql -e "use db; select 1" -pp160; mysql -u\'root\' -e \'a; b\' -pp161; sh -c "mysql -h db" && sh -c "nc -p 4444 h"',
    "curl -H 'Cookie: a=1; b=2' -u u:p162 http://h",
    'lftp -e "set x y; open -u bob,p163 ftp://h"',
    "SET PASSWORD FOR 'a'@'%' = PASSWORD('p164'); ALTER ROLE app WITH ENCRYPTED PASSWORD 'p165'; ALTER ROLE app PASSWORD NULL",
    "SET PASSWORD FOR bob = 'p166'; SET PASSWORD FOR bob = ''",
    // Round 9, each alone (one hint branch each), and their look-alikes.
    "printf '%s:%s\\n' u p180 v p181 | chpasswd; printf 'w:%s\\n' p182 | chpasswd; printf '%s:%s\\n' \"$U\" \"$P\" | chpasswd",
    "kinit u@R <<< p183; echo p184 | kinit u@R; kinit -kt /k u@R; grep kinit f <<< x",
    "yes p185 | passwd u; echo -e 'p186\\np186' | smbpasswd -s -a u; echo x | grep passwd /etc/passwd",
    'cryptsetup open /dev/sdb d <<< p187; cryptsetup open /dev/sdb d --key-file k',
    'commands:\n  - kinit u@R <<< p211\n  - make',
    'echo p188 | gpg --batch --passphrase-fd 0 -d f; gpg --batch --passphrase p189 -d f; gpg --passphrase-file f -d g',
    "ipmitool -H h -U a -P p190 power status; ipmitool -H h -U a -E power status",
    'mosquitto_pub -h h -u a -P p191 -t t -m m; mosquitto_sub -h h -p 1883 -t t',
    'sqsh -S h -U sa -P p192',
    'tsql -S h -U sa -P p193; vsql -U a -w p194; vsql -U a -W',
    'valkey-cli -a p195 ping; valkey-cli -p 6380 ping',
    'keydb-cli -a p196 info',
    'PsExec64.exe \\\\h -u a -p p197 cmd; psexec \\\\h -s cmd',
    'cqlsh -u c -p p198 h; cqlsh h 9042',
    "usermod -p 'p199' u; usermod -aG docker u",
    'useradd -m -p p200 u',
    'winrs -r:h -u:a -p:p201 cmd; winrs -r:h cmd',
    'winrs -r:h -password:p202 cmd',
    'schtasks /create /s h /u a /p p203 /tn t; schtasks /create /ru s /rp p204 /tn t; schtasks /create /u a /p /tn t; schtasks /query',
    '(echo p212; echo p212) | passwd u; { echo p213; echo p213; } | smbpasswd -s -a u; (echo a; echo b) | sort',
    'proxy_set_header X-Api-Key p214; proxy_set_header Authorization "Basic p215"; proxy_set_header Host $host; add_header Set-Cookie $c',
    'useradd -p "$(openssl passwd -6 -salt s p216)" u; mkpasswd -m sha-512 p217 s; openssl passwd -stdin < f; mkpasswd -s; useradd -p "$H" v',
    'smbclient //h/s -c "cd a; get b" -U u%p218; rpcclient -c "x; y" -U u 10.0.0.5',
    'sqlcmd -Q "a; b" -P p205; ldapsearch -b "o=a|b" -w p206; zip -z "a;b" o.zip d -P p207; nxc smb h -x "a; b" -p p208 -H p209; doctl -x "a; b" -t p210',
    // Round 10, each alone (no other word of HINT_RE), and their look-alikes.
    'ftp -n h <<< "user bob p230"; ftp -n h <<< "user bob"; sftp -b - h <<< "user a b"',
    "echo 'user bob p231' | ftp -n h; printf 'open h\\nuser u p232\\n' | ftp",
    'ftp -n h <<EOF\nuser u p233\nquote PASS p234\nEOF',
    'influx setup -u a -p p235 -t p236 -f; influx -port 8086 -type flux',
    'isql DSN u p237 -v; isql -v DSN; isql DSN -b < q.sql; the isql tool; isql -S s -U sa -P p238',
    '/usr/bin/iusql DSN u "p239"',
    'curl -H "X-Registry-Auth: p240" http://d; curl -H "X-Registry-Auth: $A" http://d',
    '(sleep 1; echo p241) | passwd u; { sleep 2 && echo p242; } | kinit u@R; (sleep 1; cat f) | passwd u',
    'openssl enc -md "a;b" -k p243; openssl enc -pass stdin; openssl enc -pass file:/k; openssl enc -pass p244',
    'net -S dc -c "a;b" -U admin%p245 rpc shutdown',
    '7z a "-xr!a;b" o d -pp246; redis-cli -h "a;b" -a p247 ping; sqlplus -m "CSV ON;" u/p248@db',
    'snmpwalk -On "x;y" -c p249 h; etcdctl --endpoints "a;b" --user r:p250 get /',
    'echo "p;251" | passwd --stdin u; echo "p|252" | kinit u@R; echo "u:p;253" | chpasswd',
    "echo 'machine h login u password p254' > ~/.netrc; login u password $P",
    'X-Registry-Config: p255',
    'xfreerdp /v:h -T "a;b" /u:a /p:p260; xfreerdp -T "a;b" -u a -p p261 h; ssh-keygen -C "a;b" -N p262 -f k; ssh-keygen -C "a;b" -N "" -f k',
    'mysqladmin -S "/tmp/a;b" -u root password p263; secretsdump.py -outputfile "a;b" CORP/admin:p264@10.0.0.5',
    "echo 'user u p256' | ftp",
    // Round 11, each alone (no other word of HINT_RE), and their look-alikes.
    'mysql -u root -p <<< p300; mysql -u root -p <<< "select 1"; mysql -p < d.sql; mysql -p <<EOF\nselect 1;\nEOF',
    "echo p301 | mariadb -u root -p; echo 'select 1' | mysql -p",
    'psql -h h -W <<< p302; psql --password <<< p303; psql -p 5432 <<< "select 1"',
    'htpasswd -i f u <<< p304; echo p305 | htpasswd -ci f u',
    "printf p306 | docker secret create db -; docker secret create db ./f",
    'cat <<EOF | chpasswd\nu:p307\nEOF',
    "cat <<'EOF' | docker login --password-stdin r\np308\nEOF\ncat <<EOF > f\nhello\nEOF",
    'passwd u <<EOF\np309\np309\nEOF',
    'sudo -S bash <<EOF\np310\napt update\nEOF',
    'cat <<EOF | ftp -n h\nuser u p311\nEOF',
    "redis-cli -h h AUTH p312 && redis-cli AUTH default p313; redis-cli CONFIG SET requirepass p314; redis-cli config get requirepass; redis-cli -h h auth $P",
    "echo -e 'AUTH p315\\nPING' | redis-cli; valkey-cli <<< 'auth p316'",
    "curl -b 'sid=p317; x=1' h; curl -b c.txt -c c.txt h",
    'skopeo copy --src-creds u:p318 --dest-creds=u:p319 a b; podman pull --creds u img',
    'npm config set _auth p320; npm config set registry https://r',
    'yarn config set npmAuthToken p321',
    "wpa_passphrase 'My Net' p322; wpa_passphrase ssid; wpa_passphrase ssid $P",
    'nmcli c add type wifi ssid s wifi-sec.key-mgmt wpa-psk wifi-sec.psk p323; nmcli con show',
    'nmcli dev wifi connect S password p324',
    'twine upload -u u -p p325 dist/*; twine upload -r pypi dist/*',
    'crane auth login r -u u -p p326; gh auth login -p https -h github.com',
    "mongosh -u u -p 'p327'; sshpass -p \"p 328\" ssh h",
    'SSHPASS=p329 sshpass -e ssh h; PGPASS=p330 psql; REDISCLI_AUTH=p331 redis-cli; PGPASSFILE=/p psql',
    // Round 12, each alone (no other word of HINT_RE), and their look-alikes.
    "SET PASSWORD = PASSWORD('p400'); pwd:\"p401\"; SET PASSWORD = PASSWORD($P)",
    'curl --cookie=sid=p402 -o f h; curl --cookie=c.txt -o f h',
    'az acr login -n r -u u -p p403; regctl registry login r -u u -p p404; az acr login -n r',
    'storage blob upload --account-key p405 -f x',
    'crictl pull --auth p406 img; crictl pull img',
    'ctr i pull -u u:p407 img; ctr i pull -u u img',
    'TF_TOKEN_app_terraform_io=p408 terraform init',
    'gh secret set X --body p409; gh secret set Y -b"p410"; gh secret set Z < f',
    'mysql "-pp411" -h db',
    'git clone https://0123456789abcdef0123456789abcdef0123p419@github.com/o/r; git clone https://build-bot-2024@h/x',
    'vault kv put -mount=s app db=p420 cert=@c.pem k=-; vault kv get s/app',
    'kubectl config set users.ci.client-key-data p421; kubectl config set clusters.c.server https://h',
    'ALTER USER s IDENTIFIED BY "p412" REPLACE "p413"',
    'db.auth("u", "p414")',
    'db.changeUserPassword("u", "p415")',
    "mysql -p <<EOF\np416\nselect 1;\nEOF\nmysql -p <<EOF\nstatus\nEOF",
    "mysql -p <<< $'p417\\nselect 1'; printf 'p418\\nselect 1' | mysql -p; printf 'use db;\\nselect 1' | mysql -p",
    // Round 13, each alone (no other word of HINT_RE), and their look-alikes.
    'expect "*assword*"; send "p440\\r"; expect "login:"; send "admin\\r"; expect "$ "; send -- "$pw\\r"',
    'spawn ssh h\nexpect {\n  "*yes/no*" { send "yes\\r"; exp_continue }\n  "Enter passphrase for key" { send -- "p441\\r" }\n}',
    "EXEC sp_addlogin 'app', 'p442', 'db'; EXEC sp_addlogin N'app2'",
    "EXEC sp_password NULL, N'p443', 'app'; EXEC sp_password @old = 'p444', @new = 'p4''45', @loginame = 'app'",
    "CREATE LOGIN a WITH PASSWORD = N'p446' MUST_CHANGE; @passwd = N'p447'",
    'git clone https://p448-Ab3dE_fGh1-jK2lMn0pQ_rS4tUv@h/r https://ghp_p449AbCdEf1234@h/s https://deploy-bot@h/x https://runner-7d9f8b6c5-x2k4p@h/y https://ghp_short@h/z',
    'git clone https://0123456789abcdef0123456789abcdefp450:x-oauth-basic@github.com/o/r',
    'mysqladmin -u root -p password p451; mysqladmin -p status; mariadb-admin -u root password p452',
    'ARM_ACCESS_KEY=p453 AZURE_STORAGE_ACCESS_KEY=p454; AWS_ACCESS_KEY=p455 MINIO_ACCESS_KEY=p456',
    "net user bob \"p336;x\" /add; openssl passwd -6 'p337;x'; sh -c 'htpasswd -b f \"u;x\" p332'; rabbitmqctl add_user \"a;b\" p333; isql DSN \"u;x\" p334; mc alias set s3 \"https://h;x\" AK p335",
  ];

  it('gives what the whole pattern chain gives, on every kind of secret and on strings that only look like one', () => {
    const differ = inputs.filter((s) => scrub(s) !== chain(s)).map((s) => ({ input: s, scrub: scrub(s), chain: chain(s) }));
    expect(differ).toEqual([]);
  });

  it('has inputs that need every pattern of the chain (so one left out of it fails the test above)', () => {
    const unused = steps.filter((_, i) => inputs.every((s) => chain(s, i) === chain(s))).map(([name]) => name);
    expect(unused).toEqual([]);
  });
});

describe('exec and attach command lines in requestURI', () => {
  const PATH = '/api/v1/namespaces/payments/pods/api-7c9d8f6b5-x2k4q/exec';
  const TAIL = '&container=api&stdin=true&stdout=true&tty=true';
  const execLine = (query: string, sub = 'exec', extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'a0b1c2d3-e4f5-4a6b-8c7d-000000000e01',
      stage: 'ResponseStarted',
      requestURI: `${PATH.replace(/exec$/, sub)}?${query}`,
      verb: 'create',
      user: { username: 'alice', groups: ['system:authenticated'] },
      sourceIPs: ['203.0.113.24'],
      userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
      objectRef: { resource: 'pods', namespace: 'payments', name: 'api-7c9d8f6b5-x2k4q', apiVersion: 'v1', subresource: sub },
      responseStatus: { metadata: {}, code: 101 },
      requestReceivedTimestamp: '2024-11-05T14:09:03.220001Z',
      stageTimestamp: '2024-11-05T14:09:03.230001Z',
      ...extra,
    });
  const commandOf = (uri: string): string => new URLSearchParams(uri.slice(uri.indexOf('?') + 1)).getAll('command').join(' ');
  /** Both normalization paths (in place from a line, copy-on-write from a record) give the same event. */
  const both = (line: string): SeamEvent => {
    const a = must(normalizeLine(line, meta));
    const input = JSON.parse(line) as Record<string, unknown>;
    const b = must(normalizeRecord(input, meta));
    expect(b).toEqual(a);
    expect(input).toEqual(JSON.parse(line));
    return a;
  };

  it('redacts a secret in a command= value (kubernetes/kubernetes#97795), URL-encoded or not, and records requestURI', () => {
    const cases: { query: string; secret: string; command: string }[] = [
      { query: 'command=app&command=--token%3DMYSECRET', secret: 'MYSECRET', command: 'app --token=[REDACTED]' },
      { query: 'command=mysql&command=--password%3DHunter2Secret&command=-h&command=db', secret: 'Hunter2Secret', command: 'mysql --password=[REDACTED] -h db' },
      { query: 'command=mysql&command=--password=Hunter2Secret&command=-h&command=db', secret: 'Hunter2Secret', command: 'mysql --password=[REDACTED] -h db' },
      { query: 'command=sh&command=-c&command=mysql%20--password%3DHunter2Secret%20-h%20db', secret: 'Hunter2Secret', command: 'sh -c mysql --password=[REDACTED] -h db' },
      { query: 'command=sh&command=-c&command=PGPASSWORD%3DpgS3cretVal+psql+-h+db', secret: 'pgS3cretVal', command: 'sh -c PGPASSWORD=[REDACTED] psql -h db' },
      {
        query: 'command=sh&command=-c&command=aws%20configure%20set%20aws_secret_access_key%20wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY',
        secret: 'wJalrXUtnFEMI',
        command: 'sh -c aws configure set aws_secret_access_key [REDACTED]',
      },
      // One argument per command= (kubectl exec pod -- aws configure set ...): the key's name and its value are apart.
      { query: 'command=aws&command=configure&command=set&command=aws_secret_access_key&command=wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY', secret: 'wJalrXUtnFEMI', command: 'aws configure set aws_secret_access_key [REDACTED]' },
      { query: 'command=mysql&command=--password&command=Hunter2Secret&command=-h&command=db', secret: 'Hunter2Secret', command: 'mysql --password [REDACTED] -h db' },
    ];
    for (const c of cases) {
      const ev = both(execLine(c.query + TAIL));
      const uri = ev.requestURI as string;
      expect(uri, c.query).not.toContain(c.secret);
      expect(decodeURIComponent(uri), c.query).not.toContain(c.secret);
      expect(commandOf(uri), c.query).toBe(c.command);
      expect(ev.seam.ingest.redacted, c.query).toEqual(['requestURI']);
      // Only the secret changed: the path and every other parameter are byte for byte what the API server logged.
      expect(uri.startsWith(PATH + '?'), c.query).toBe(true);
      expect(uri.endsWith(TAIL), c.query).toBe(true);
      expect(ev.seam.action).toBe('create pods/exec');
    }
  });

  it('keeps the encoding of the rest of a redacted value (rules match the encoded form)', () => {
    const ev = both(execLine('command=sh&command=-c&command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken%3B+curl+-H+token%3DabcSecret9+http%3A%2F%2F169.254.169.254%2F' + TAIL));
    const uri = ev.requestURI as string;
    expect(uri).not.toContain('abcSecret9');
    expect(uri).toContain('command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken%3B+curl+-H+token%3D[REDACTED]+http%3A%2F%2F169.254.169.254%2F&container=api');
  });

  it('leaves a command without secrets byte-identical, and records nothing', () => {
    for (const q of [
      'command=sh&command=-c&command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken',
      'command=printenv&command=AWS_WEB_IDENTITY_TOKEN_FILE',
      'command=sh&command=-c&command=echo%20%24AWS_CONTAINER_AUTHORIZATION_TOKEN',
      'command=ls&command=-la&command=%2Fetc%2Fpasswd',
      'command=%E2%9C%93&command=50%25&command=a%2Bb',
    ]) {
      const line = execLine(q + TAIL);
      const ev = both(line);
      expect(ev.requestURI, q).toBe((JSON.parse(line) as { requestURI: string }).requestURI);
      expect(ev.seam.ingest.redacted, q).toEqual([]);
    }
  });

  it('redacts attach and any other request carrying command= parameters', () => {
    const attach = both(execLine('command=x&command=--api-key%3Dk3yV4lue' + TAIL, 'attach'));
    expect(attach.requestURI).not.toContain('k3yV4lue');
    const other = both(execLine('command=x&command=--secret%3Dk3yV4lue', 'proxy'));
    expect(other.requestURI).not.toContain('k3yV4lue');
  });
});
