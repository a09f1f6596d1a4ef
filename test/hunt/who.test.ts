// `seam hunt --who` on the demo story in the real local OpenSearch: the demo replayed as `npm start` does
// (embedded mode: the identity graph annotates every signal before it is indexed, ADR 0014), its events
// indexed with Seam's templates, then hunted by identity through the CLI. Hunting the attacker (alice's
// IAM session) must find her exec into the pod, the IRSA token theft (the token read in that exec, its
// exchange with STS from outside) and the AWS calls made with the stolen role, with events from all four
// planes; the DSL `--print-dsl` prints must return the same events when a dashboard runs it as is.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../src/core/envelope.ts';
import { loadPlaceholdersFile } from '../../src/detect/load.ts';
import { loadRules } from '../../src/detect/sigma/ruleset.ts';
import type { HuntMatch } from '../../src/hunt/hunt.ts';
import { parseWho, whoQuery, type WhoHit } from '../../src/hunt/who.ts';
import { DEMO_CLUSTER } from '../order/demo.ts';
import { dropDemo, huntCli, indexDemo } from '../helpers/hunt-demo.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';

const ALICE = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';
const IRSA_ROLE = 'arn:aws:iam::111122223333:role/payments-api-irsa';

describe('seam hunt --who on the demo story', () => {
  const prefix = `seamt_${RUN_ID}_who`.toLowerCase();
  const os = new Client({ node: opensearchUrl() });
  let events: SeamEvent[] = [];
  let byId = new Map<string, SeamEvent>();

  beforeAll(async () => {
    ({ events, byId } = await indexDemo(os, prefix));
  }, 300_000);

  afterAll(() => dropDemo(os, prefix));

  it('finds alice’s exec, the IRSA token theft and the stolen role’s AWS calls, in all four planes', async () => {
    const r = await huntCli({ who: ALICE, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    const hits = r.lines as WhoHit[];
    const evs = hits.map((h) => byId.get(h['seam.id'])!);
    const bySource = (s: string): SeamEvent[] => evs.filter((e) => e.seam.source === s);
    process.stdout.write(`${r.err}`);

    // Her exec into the payments pod: the command reads the pod's IRSA token.
    const exec = bySource('k8s_audit').filter((e) => (e.objectRef as { subresource?: string } | undefined)?.subresource === 'exec');
    expect(exec.length).toBeGreaterThan(0);
    expect(exec.some((e) => String(e.requestURI).includes('eks.amazonaws.com%2Fserviceaccount%2Ftoken'))).toBe(true);
    // The stolen token exchanged for the pod role's credentials, and the calls made with them: CloudTrail
    // events whose acting principal is a session of the IRSA role, attributed to alice by the graph.
    const stolen = bySource('cloudtrail').filter((e) => e.seam.principal?.arn?.startsWith('arn:aws:sts::111122223333:assumed-role/payments-api-irsa/') && e.seam.origin?.arn === ALICE);
    expect(stolen.length).toBeGreaterThan(1);
    expect(stolen.every((e) => e.seam.chain?.some((s) => s.kind === 'exec'))).toBe(true);
    // The token read in the exec, exchanged with STS from outside the cluster: the service account acting, hers.
    const exchange = bySource('cloudtrail').filter((e) => e.eventName === 'AssumeRoleWithWebIdentity');
    expect(exchange.map((e) => [e.seam.principal?.service_account, e.seam.source_ip])).toEqual([['payments/api', '198.51.100.23']]);
    expect(exchange[0]!.seam.chain?.map((s) => s.kind)).toEqual(['pod_service_account', 'exec', 'authenticates_as', 'session_of']);
    const actions = new Set(stolen.map((e) => e.seam.action));
    expect(actions.has('sts.amazonaws.com:GetCallerIdentity')).toBe(true);
    // The runtime plane (the pod's process that read the token, her shell) and GuardDuty's findings on her.
    expect(bySource('runtime').length).toBeGreaterThan(0);
    expect(bySource('guardduty').length).toBeGreaterThan(0);
    expect(r.err).toMatch(/events=\d+ k8s_audit=[1-9]\d* cloudtrail=[1-9]\d* guardduty=[1-9]\d* runtime=[1-9]\d*/);
    expect(r.err).toContain('acted through:');
    expect(r.err).toContain('payments-api-irsa');

    // Exactly the events whose principal, origin or chain names her (the index agrees with the files).
    const names = (e: SeamEvent): boolean => JSON.stringify([e.seam.principal, e.seam.origin, e.seam.chain]).includes(ALICE);
    expect(new Set(hits.map((h) => h['seam.id']))).toEqual(new Set(events.filter(names).map((e) => e.seam.id)));
    // Nobody else's: ci-deployer's backdoor is not hers.
    expect(evs.some((e) => JSON.stringify(e.seam).includes('ci-deployer'))).toBe(false);
  });

  it('prints DSL a dashboard can run as is, returning the same events', async () => {
    const dsl = await huntCli({ who: ALICE, indexPrefix: prefix, printDsl: true });
    expect(dsl.code).toBe(0);
    const printed = dsl.lines[0] as { index: string; query: Record<string, unknown> };
    expect(printed.index).toBe(`${prefix}-events-*`);
    const resp = await os.search({ index: printed.index, size: 10_000, body: { query: printed.query } as never });
    const ids = (resp.body as { hits: { hits: { _id: string }[] } }).hits.hits.map((h) => h._id);
    const run = await huntCli({ who: ALICE, indexPrefix: prefix, url: opensearchUrl() });
    expect(new Set(ids)).toEqual(new Set((run.lines as WhoHit[]).map((h) => h['seam.id'])));
    expect(ids.length).toBeGreaterThan(20);
  });

  it('hunts a service account and a role through what reached them', async () => {
    // The service account whose token was stolen: its own requests and the stolen role's calls.
    const sa = await huntCli({ who: 'payments/api', indexPrefix: prefix, url: opensearchUrl(), cluster: DEMO_CLUSTER });
    expect(sa.code, sa.err).toBe(0);
    const saIds = new Set((sa.lines as WhoHit[]).map((h) => h['seam.id']));
    const viaSa = events.filter((e) => JSON.stringify([e.seam.principal, e.seam.origin, e.seam.chain]).match(/k8s:prod-eks-01:sa:payments\/api"|"payments\/api"|system:serviceaccount:payments:api"/));
    expect(saIds).toEqual(new Set(viaSa.map((e) => e.seam.id)));
    // The IRSA role (path-less, as the graph names roles): every call by any of its sessions.
    const role = await huntCli({ who: IRSA_ROLE, indexPrefix: prefix, url: opensearchUrl() });
    const roleHits = role.lines as WhoHit[];
    const sessions = events.filter((e) => e.seam.principal?.arn?.startsWith('arn:aws:sts::111122223333:assumed-role/payments-api-irsa/'));
    expect(sessions.length).toBeGreaterThan(0);
    for (const e of sessions) expect(roleHits.map((h) => h['seam.id'])).toContain(e.seam.id);
    // Both reach alice's stolen-credential calls.
    const stolen = events.filter((e) => e.seam.source === 'cloudtrail' && e.seam.origin?.arn === ALICE && e.seam.principal?.arn?.includes('payments-api-irsa'));
    for (const e of stolen) {
      expect(saIds.has(e.seam.id)).toBe(true);
      expect(roleHits.some((h) => h['seam.id'] === e.seam.id)).toBe(true);
    }
  });

  it('a role hunt holds the STS calls that created its sessions, whoever made them (review-soc L1)', async () => {
    const role = await huntCli({ who: IRSA_ROLE, indexPrefix: prefix, url: opensearchUrl() });
    expect(role.code, role.err).toBe(0);
    const ids = new Set((role.lines as WhoHit[]).map((h) => h['seam.id']));
    const assumes = events.filter((e) => String(e.eventName).startsWith('AssumeRole') && (e.requestParameters as { roleArn?: string } | undefined)?.roleArn === IRSA_ROLE);
    // The pod's own exchange and the stolen token's, from outside.
    expect(assumes.map((e) => e.seam.source_ip).sort()).toEqual(['10.0.142.21', '198.51.100.23']);
    for (const e of assumes) expect(ids.has(e.seam.id)).toBe(true);
  });

  it('match lines say where, from where and to what: cluster, account, source_ip, resource, outcome, service_account (review-soc M6)', async () => {
    const r = await huntCli({ who: ALICE, indexPrefix: prefix, url: opensearchUrl() });
    const hits = r.lines as WhoHit[];
    for (const h of hits) {
      const s = byId.get(h['seam.id'])!.seam;
      expect([h.cluster, h.account, h.source_ip, h.resource, h.outcome, h.service_account]).toEqual([s.cluster, s.account, s.source_ip, s.resource, s.outcome, s.principal?.service_account]);
    }
    expect(hits.some((h) => h.source_ip === '198.51.100.23' && h.service_account === 'payments/api')).toBe(true);
    expect(hits.some((h) => h.resource === 'kube-system/pods/node-debugger')).toBe(true);
    // The keys in the documented order, those without a value left out.
    const order = ['@timestamp', 'seam.id', 'source', 'cluster', 'account', 'action', 'resource', 'outcome', 'source_ip', 'principal', 'service_account', 'origin', 'chain'];
    for (const h of hits) expect(Object.keys(h)).toEqual(order.filter((k) => k in h));
  });

  it('hunts rules with the site placeholder file as the stream does, lines with the same fields (review-soc H3, M6)', async () => {
    const rule = new URL('../../detections/kubernetes/k8s_request_by_user_outside_allowed_list.yml', import.meta.url).pathname;
    const file = new URL('../../deploy/config/placeholders.yml', import.meta.url).pathname;
    const engine = async (placeholders?: Record<string, string[]>): Promise<string[]> => {
      const { ruleset } = await loadRules([rule], placeholders ? { placeholders } : {});
      return events.filter((e) => ruleset.match(e).length > 0).map((e) => e.seam.id).sort();
    };
    const withFile = await huntCli({ rules: [rule], placeholders: file, indexPrefix: prefix, url: opensearchUrl() });
    const bare = await huntCli({ rules: [rule], indexPrefix: prefix, url: opensearchUrl() });
    expect(withFile.code, withFile.err).toBe(0);
    const got = (withFile.lines as HuntMatch[]).map((m) => m['seam.id']).sort();
    const all = (bare.lines as HuntMatch[]).map((m) => m['seam.id']).sort();
    process.stdout.write(`hunt-who: allowed-list rule with placeholders=${got.length} without=${all.length}\n`);
    expect(got).toEqual(await engine(await loadPlaceholdersFile(file)));
    expect(all).toEqual(await engine());
    expect(all.length).toBeGreaterThan(got.length);
    expect(bare.err).toMatch(/SEAM_ERR_RULE_PLACEHOLDER: .*%seam_allowed_k8s_users%/);
    expect(withFile.err).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
    for (const m of withFile.lines as HuntMatch[]) {
      const s = byId.get(m['seam.id'])!.seam;
      expect([m.cluster, m.account, m.source_ip, m.resource, m.outcome]).toEqual([s.cluster, s.account, s.source_ip, s.resource, s.outcome]);
    }
  });

  it('names correlations it cannot hunt and counts them; only those searches nothing (exit 3); a rule seam.yml disables is not hunted (review-de M1, M3, ADR 0058)', async () => {
    // The pack's correlations folder without the rules they use: each named with the reason, counted, nothing searched.
    const corr = await huntCli({ rules: [new URL('../../detections/correlations', import.meta.url).pathname], indexPrefix: prefix, url: opensearchUrl() });
    expect(corr.code, corr.err).toBe(3);
    expect(corr.lines).toEqual([]);
    const n = (await loadRules([new URL('../../detections/correlations', import.meta.url).pathname])).ruleset.correlations.length;
    expect(n).toBeGreaterThan(10);
    expect(corr.err).toMatch(/^hunt: rules=0 huntable=0 exact=0 verified=0 not_huntable=0 matches=0 failed=0$/m);
    expect(corr.err).toMatch(new RegExp(`^hunt: correlations=${n} hunted=0 not_huntable=${n} events=0 alerts=0 cut=0 failed=0 seconds=`, 'm'));
    expect(corr.err).toContain('hunt: nothing given is huntable (only correlations); nothing was searched');
    expect(corr.err.match(/ not huntable: the streaming engine does not load this correlation: .*refers to/g)).toHaveLength(10);
    expect(corr.err).toContain(`hunt: ${n - 10} more correlations not huntable (--print-dsl lists them all)`);
    // A folder of rules and a correlation, with seam.yml disabling one rule: the rest is hunted, the correlation too
    // (through its rule), the disabled rule named, the override said.
    const dir = await mkdtemp(join(tmpdir(), 'seam-hunt-over-'));
    await writeFile(join(dir, 'seam.yml'), 'rules:\n  overrides:\n    - { rule: t_configmap_get, disabled: true }\n');
    const fixture = new URL('../data/overrides-rules', import.meta.url).pathname;
    const mixed = await huntCli({ rules: [fixture], config: join(dir, 'seam.yml'), indexPrefix: prefix, url: opensearchUrl() });
    expect(mixed.code, mixed.err).toBe(0);
    expect(mixed.err).toContain("seam hunt: override: rule 't_configmap_get' disabled");
    expect(mixed.err).toContain('hunt: 0c7e5a10-0000-4000-8000-000000000004 (Test ConfigMap Read) not huntable: disabled by seam.yml rules.overrides');
    expect(mixed.err).toMatch(/^hunt: 0c7e5a10-0000-4000-8000-000000000002 \(Test Many Secrets Read By One User\) value_count over 1 rule: events=\d+ alerts=\d+$/m);
    expect(mixed.err).toMatch(/^hunt: rules=3 huntable=2 exact=\d+ verified=\d+ not_huntable=1 matches=\d+ failed=0$/m);
    expect(mixed.err).toMatch(/^hunt: correlations=1 hunted=1 not_huntable=0 events=\d+ alerts=\d+ cut=0 failed=0 seconds=/m);
    // What it found is what the engine, with the same override, matches on the indexed events.
    const { ruleset } = await loadRules([fixture], { overrides: [{ rule: 't_configmap_get', disabled: true }] });
    const want = events.flatMap((e) => ruleset.match(e).map((m) => `${m.rule.id} ${e.seam.id}`)).sort();
    expect((mixed.lines as HuntMatch[]).filter((m) => !('correlation_type' in m)).map((m) => `${m.rule} ${m['seam.id']}`).sort()).toEqual(want);
    process.stdout.write(`hunt-correlations: pack_correlations=${n} fixture_matches=${want.length}\n`);
  });

  it('says when it searched nothing, and suggests identities like one that found nothing (review-soc M5)', async () => {
    // A prefix no index has: an error naming the pattern, the URL, where the prefix came from, and the prefixes there.
    // Exit 3, not 1: nothing was searched, which is neither an answer (0) nor a failed search (1).
    const none = await huntCli({ who: ALICE, indexPrefix: `${prefix}_nothing`, url: opensearchUrl() });
    expect(none.code).toBe(3);
    expect(none.err).toContain(`no index matches ${prefix}_nothing-events-* at ${opensearchUrl()} (prefix '${prefix}_nothing' from --index-prefix)`);
    expect(none.err).toContain(`'${prefix}'`);
    const rules = await huntCli({ rules: [new URL('../../detections/guardduty', import.meta.url).pathname], indexPrefix: `${prefix}_nothing`, url: opensearchUrl() });
    expect(rules.code).toBe(3);
    expect(rules.err).toContain('no index matches');
    const rulesEmpty = await huntCli({ rules: [new URL('../../detections/guardduty', import.meta.url).pathname], indexPrefix: prefix, url: opensearchUrl(), from: '2030-01-01', to: '2030-01-02' });
    expect(rulesEmpty.code).toBe(3);
    expect(rulesEmpty.err).toContain('nothing was searched');
    // A window without events.
    const empty = await huntCli({ who: ALICE, indexPrefix: prefix, url: opensearchUrl(), from: '2030-01-01', to: '2030-01-02' });
    expect(empty.code).toBe(3);
    expect(empty.err).toMatch(/no event in \S+-events-\* between 2030-01-01 and 2030-01-02 .*its \d+ events are from 2024-11-05/);
    // A Kubernetes user name that is, on EKS, a session ARN: none, with the identity meant.
    const alice = await huntCli({ who: 'alice', indexPrefix: prefix, url: opensearchUrl() });
    expect(alice.code, alice.err).toBe(0);
    expect(alice.lines).toEqual([]);
    expect(alice.err).toContain(`identities like 'alice' there: ${ALICE}`);
  });

  it('reads what --who names', () => {
    expect(parseWho('arn:aws:iam::111122223333:role/team/app/deployer')).toEqual({ kind: 'iam', value: 'arn:aws:iam::111122223333:role/deployer' });
    expect(parseWho('system:serviceaccount:payments:api')).toEqual({ kind: 'service_account', value: 'payments/api' });
    expect(parseWho('payments/api')).toEqual({ kind: 'service_account', value: 'payments/api' });
    expect(parseWho('alice')).toEqual({ kind: 'k8s_user', value: 'alice' });
    expect(parseWho('system:node:ip-10-0-1-5.ec2.internal').kind).toBe('k8s_user');
    expect(() => parseWho(' ')).toThrow(/--who needs/);
    // A user name with wildcard characters is matched literally.
    expect(JSON.stringify(whoQuery(parseWho('ev*l?')))).toContain('ev\\\\*l\\\\?');
  });
});
