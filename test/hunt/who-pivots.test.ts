// `seam hunt --who` from the other nodes of the chain an incident prints (review-hunter H1, M1, M2), on the demo
// story in the real local OpenSearch, indexed as who.test.ts does: the access key the chain starts at, the IRSA
// session the alert's triage says to list, and the pod the token was stolen from. Each must find what the stolen
// credentials did, and the call that issued them (the token exchanged from 198.51.100.23); the DSL --print-dsl
// prints must return the same events.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUNT_EXIT } from '../../src/cli/hunt.ts';
import { loadRules } from '../../src/detect/sigma/ruleset.ts';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { HuntMatch } from '../../src/hunt/hunt.ts';
import { parseWho, type WhoHit } from '../../src/hunt/who.ts';
import { shortChain } from '../../src/identity/chain-text.ts';
import { dropDemo, huntCli, indexDemo } from '../helpers/hunt-demo.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';

const KEY = 'ASIA01B1A577648959B5';
const SESSION = 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815835';
const POD = 'payments/api-7c9d8f6b5-x2k4q';
const ALICE = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';

describe('seam hunt --who from an access key, a session and a pod', () => {
  const prefix = `seamt_${RUN_ID}_whop`.toLowerCase();
  const os = new Client({ node: opensearchUrl() });
  let events: SeamEvent[] = [];

  beforeAll(async () => {
    ({ events } = await indexDemo(os, prefix));
  }, 300_000);

  afterAll(() => dropDemo(os, prefix));

  /** The ids of the indexed events a predicate holds for, sorted. */
  const expected = (p: (e: SeamEvent) => boolean): string[] => events.filter(p).map((e) => e.seam.id).sort();
  const ids = (lines: unknown[]): string[] => (lines as WhoHit[]).map((h) => h['seam.id']).sort();
  const chainHas = (e: SeamEvent, node: (n: string) => boolean): boolean => (e.seam.chain ?? []).some((s) => node(s.from) || node(s.to));
  const issued = (e: SeamEvent, p: (r: Record<string, unknown>) => boolean): boolean =>
    e.seam.source === 'cloudtrail' && e.eventSource === 'sts.amazonaws.com' && String(e.eventName).startsWith('AssumeRole') && p((e.responseElements ?? {}) as Record<string, unknown>);

  it('an access key: the events it signed or whose chain passes through it, and the call that issued it (H1)', async () => {
    expect(parseWho(KEY)).toEqual({ kind: 'access_key', value: KEY });
    const r = await huntCli({ who: KEY, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    const want = expected(
      (e) =>
        e.seam.principal?.access_key_id === KEY ||
        e.seam.origin?.access_key_id === KEY ||
        chainHas(e, (n) => n === KEY) ||
        issued(e, (re) => (re.credentials as { accessKeyId?: string } | undefined)?.accessKeyId === KEY),
    );
    expect(want.length).toBeGreaterThan(5);
    expect(ids(r.lines)).toEqual(want);
    const hits = r.lines as WhoHit[];
    // The exchange from outside the cluster that issued the key, first in time.
    expect(hits[0]).toMatchObject({ action: 'sts.amazonaws.com:AssumeRoleWithWebIdentity', source_ip: '198.51.100.23' });
    expect(hits.some((h) => h.source === 'k8s_audit' && h.resource === 'kube-system/pods/node-debugger')).toBe(true);
    expect(r.err).toContain(`hunt --who ${KEY} (access_key): events=${want.length}`);
  });

  it('a session holds the STS call that created it, as a role does (M1)', async () => {
    const r = await huntCli({ who: SESSION, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    const hits = r.lines as WhoHit[];
    const exchange = events.filter((e) => issued(e, (re) => (re.assumedRoleUser as { arn?: string } | undefined)?.arn === SESSION));
    expect(exchange).toHaveLength(1);
    expect(hits[0]!['seam.id']).toBe(exchange[0]!.seam.id);
    expect(hits[0]).toMatchObject({ source_ip: '198.51.100.23', principal: 'system:serviceaccount:payments:api' });
    // The other session of the same role (the pod's own, at 14:02) is not this session's.
    expect(hits.every((h) => !(h.principal ?? '').endsWith('botocore-session-1730815320'))).toBe(true);
  });

  it('a pod: what ran in it, what its credentials did, and the requests on it (M2)', async () => {
    expect(parseWho(`pod:${POD}`)).toEqual({ kind: 'pod', value: POD });
    expect(() => parseWho('pod:nope')).toThrow(/pod:<namespace>\/<name>/);
    const r = await huntCli({ who: `pod:${POD}`, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    const [ns, name] = POD.split('/') as [string, string];
    const want = expected(
      (e) =>
        e.seam.principal?.pod === POD ||
        e.seam.origin?.pod === POD ||
        e.seam.principal?.id === `pod:${POD}` ||
        e.seam.origin?.id === `pod:${POD}` ||
        chainHas(e, (n) => /^k8s:[^:]*:pod:/.test(n) && n.endsWith(`:pod:${POD}`)) ||
        e.seam.resource === `${ns}/pods/${name}` ||
        (e.seam.resource ?? '').startsWith(`${ns}/pods/${name}/`),
    );
    expect(ids(r.lines)).toEqual(want);
    const hits = r.lines as WhoHit[];
    const bySource = new Set(hits.map((h) => h.source));
    expect([...bySource].sort()).toEqual(['cloudtrail', 'guardduty', 'k8s_audit', 'runtime']);
    // alice's exec into it, the token read in it, the stolen credentials' calls.
    expect(hits.some((h) => h.action === 'create pods/exec' && h.principal === ALICE)).toBe(true);
    expect(hits.some((h) => h.source === 'runtime' && (h.resource ?? '').endsWith('/serviceaccount/token'))).toBe(true);
    expect(hits.some((h) => h.action === 'secretsmanager.amazonaws.com:GetSecretValue')).toBe(true);
    expect(r.err).toContain('acting principals:');
    // --print-dsl's query finds the same events.
    const dsl = (await huntCli({ who: `pod:${POD}`, indexPrefix: prefix, printDsl: true, url: opensearchUrl() })).lines[0] as { index: string; query: unknown };
    const resp = await os.search({ index: dsl.index, body: { query: dsl.query, size: 1000 } as never });
    const found = (resp.body.hits.hits as { _source: SeamEvent }[]).map((h) => h._source.seam.id).sort();
    expect(found).toEqual(want);
  });

  it('--raw prints the stored documents of the events found, in the order of the --who lines', async () => {
    const hunt = { who: `pod:${POD}`, indexPrefix: prefix, url: opensearchUrl() };
    const lines = await huntCli(hunt);
    const raw = await huntCli({ ...hunt, raw: true });
    expect(raw.code, raw.err).toBe(HUNT_EXIT.searched);
    const order = (lines.lines as WhoHit[]).map((h) => h['seam.id']);
    expect(order.length).toBeGreaterThan(5);
    // Each line the event as the index stores it (raw fields and seam.*), as --alert --raw prints it.
    const byId = new Map(events.map((e) => [e.seam.id, e]));
    expect(raw.lines).toEqual(order.map((id) => JSON.parse(JSON.stringify(byId.get(id)!)) as unknown));
    expect(new Set((raw.lines as SeamEvent[]).map((e) => e.seam.source)).size).toBe(4);
    // The same summary on stderr; --size cuts the documents as it cuts the lines.
    expect(raw.err).toBe(lines.err);
    const cut = await huntCli({ ...hunt, raw: true, size: 3 });
    expect(cut.code, cut.err).toBe(HUNT_EXIT.searched);
    expect(cut.lines).toEqual(raw.lines.slice(0, 3));
    expect(cut.err).toContain('events=3 ');
    expect(cut.err).toContain('(cut at --size)');
  });

  it('rule hunt lines carry the level the stream alerts at and who acted really (review-hunter M3)', async () => {
    const rule = new URL('../../detections/kubernetes/k8s_privileged_pod_created.yml', import.meta.url).pathname;
    const r = await huntCli({ rules: [rule], indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    const m = r.lines as HuntMatch[];
    expect(m.length).toBeGreaterThan(0);
    const byId = new Map(events.map((e) => [e.seam.id, e]));
    for (const x of m) {
      const s = byId.get(x['seam.id'])!.seam;
      expect(x.level).toBe('high');
      expect(x.origin).toBe(s.origin?.arn ?? s.origin?.id);
      expect(x.chain).toBe(s.chain?.length ? shortChain(s.chain) : undefined);
    }
    // The privileged node-debugger pod, created with the stolen IRSA credentials: alice is behind it.
    const debuggerPod = m.find((x) => x.resource === 'kube-system/pods/node-debugger');
    expect(debuggerPod).toMatchObject({ principal: SESSION, origin: ALICE });
    expect(Object.keys(debuggerPod!).slice(0, 3)).toEqual(['rule', 'title', 'level']);
    // A site's override of the level is the level hunted.
    const dir = await mkdtemp(join(tmpdir(), 'seam-whop-over-'));
    await writeFile(join(dir, 'seam.yml'), 'rules:\n  overrides:\n    - { rule: k8s_privileged_pod_created, level: critical }\n');
    const over = await huntCli({ rules: [rule], config: join(dir, 'seam.yml'), indexPrefix: prefix, url: opensearchUrl() });
    expect(over.code, over.err).toBe(0);
    expect((over.lines as HuntMatch[]).map((x) => x.level)).toEqual(m.map(() => 'critical'));
  });

  it('the address hunt of docs/examples/hunts finds the events of every plane from the address, as the engine does (review-hunter L3)', async () => {
    const dir = new URL('../../docs/examples/hunts', import.meta.url).pathname;
    const tmp = await mkdtemp(join(tmpdir(), 'seam-whop-ioc-'));
    const file = join(tmp, 'addresses.yml');
    await writeFile(file, 'hunt_addresses: [198.51.100.23]\n');
    const r = await huntCli({ rules: [dir], placeholders: file, indexPrefix: prefix, url: opensearchUrl(), from: '2024-11-05', to: '2024-11-06' });
    expect(r.code, r.err).toBe(0);
    const want = expected((e) => e.seam.source_ip === '198.51.100.23' && ['cloudtrail', 'k8s_audit', 'guardduty'].includes(e.seam.source));
    const got = (r.lines as HuntMatch[]).map((m) => m['seam.id']).sort();
    expect(got).toEqual(want);
    // The engine, with the same placeholder values, matches the same events.
    const { ruleset } = await loadRules([dir], { placeholders: { hunt_addresses: ['198.51.100.23'] } });
    expect(events.filter((e) => ruleset.match(e).length > 0).map((e) => e.seam.id).sort()).toEqual(want);
    expect(new Set((r.lines as HuntMatch[]).map((m) => m.origin))).toEqual(new Set([ALICE]));
    expect(r.err).toContain(`matches=${want.length}`);
    // --size cuts a rule's matches and says so, per rule; a rule with exactly --size matches is not cut (L2).
    const perRule = new Map<string, number>();
    for (const m of r.lines as HuntMatch[]) perRule.set(m.title, (perRule.get(m.title) ?? 0) + 1);
    const most = Math.max(...perRule.values());
    const cut = await huntCli({ rules: [dir], placeholders: file, indexPrefix: prefix, url: opensearchUrl(), size: most - 1 });
    expect(cut.code, cut.err).toBe(0);
    for (const [title, n] of perRule) {
      const line = `(${title}) cut at --size ${most - 1}: it has more matches than printed`;
      if (n > most - 1) expect(cut.err).toContain(line);
      else expect(cut.err).not.toContain(line);
    }
    const exact = await huntCli({ rules: [dir], placeholders: file, indexPrefix: prefix, url: opensearchUrl(), size: most });
    expect(exact.lines).toHaveLength(want.length);
    expect(exact.err).not.toContain('cut at --size');
  });

  it('a pod named without pod: is read as a service account, and the hint gives the form that hunts it', async () => {
    const r = await huntCli({ who: POD, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([]);
    expect(r.err).toContain(`identities like '${POD}' there: pod:${POD}`);
    expect(r.err).not.toContain('session ARN');
  });
});
