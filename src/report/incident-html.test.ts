import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { incidentsFrom } from '../pipeline/incident.ts';
import { renderIncidentHtml, secretsTouched } from './incident-html.ts';

const EVIL = '"><script>alert(1)</script><img src=x onerror=alert(2)>';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    '@timestamp': '2024-11-05T14:10:00.000Z',
    rule: { id: 'r1', title: `Token theft ${EVIL}`, level: 'high', tags: ['attack.t1528'], type: 'native' },
    events: ['ev1'],
    native_ids: ['n1'],
    principal: { id: `arn:aws:sts::111122223333:assumed-role/app/${EVIL}`, type: 'assumed_role', arn: `arn:aws:sts::111122223333:assumed-role/app/${EVIL}` },
    chain: [{ kind: 'exec', from: `k8s:c1:pod:app/${EVIL}`, to: `k8s:c1:user:${EVIL}`, via: 'ev1' }],
    summary: `summary ${EVIL}`,
    ...over,
  };
}

describe('renderIncidentHtml', () => {
  it('escapes every value taken from events and alerts: hostile names render as text, never as markup', () => {
    const [inc] = incidentsFrom([alert()]);
    const ev: SeamEvent = { '@timestamp': '2024-11-05T14:10:00.000Z', seam: { id: 'ev1', source: 'k8s_audit', action: `create ${EVIL}`, resource: EVIL, ingest: { collector: 'file', received_at: 'x', truncated: false, redacted: [] } } };
    const html = renderIncidentHtml({ id: inc!.id, incident: inc!, events: new Map([['ev1', ev]]), awsCalls: [], notes: new Map([['r1', { triage: `check ${EVIL}` }]]), source: EVIL }, new Date(0));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Still a page: the graph, the timeline entry and the alert card are there.
    expect(html).toContain('<svg class="chain"');
    expect(html).toMatch(/<tr class="timeline-entry/);
    expect(html).toContain('<article class="alert alert-high"');
  });

  it('draws an incident without an identity chain or evidence: one node, the alert, no broken parts', () => {
    const [inc] = incidentsFrom([alert({ chain: undefined, summary: 'plain', rule: { id: 'r2', title: 'Plain', level: 'critical', tags: [], type: 'sigma' } })]);
    const html = renderIncidentHtml({ id: 'inc-x', incident: inc!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect((html.match(/<g class="node /g) ?? []).length).toBe(1);
    expect(html).toContain('data-level="critical"');
    expect(html).not.toContain('NaN');
  });

  it('leads a rule card with its worst alert and lists the rule’s other distinct summaries (a grant, then its first use)', () => {
    const rule = (level: Alert['rule']['level']): Alert['rule'] => ({ id: 'seam-native-access-entry-grant', title: 'Access entry created, and its first use', level, tags: [], type: 'native' });
    const alerts = [
      alert({ id: 'g1', '@timestamp': '2024-11-05T14:14:35.000Z', rule: rule('high'), summary: 'Access entry created for role/app by alice', chain: undefined }),
      alert({ id: 'g2', '@timestamp': '2024-11-05T14:16:05.000Z', rule: rule('critical'), summary: 'First use of a new access entry (granted by alice)', chain: undefined }),
    ];
    const [inc] = incidentsFrom(alerts);
    const html = renderIncidentHtml({ id: 'inc-y', incident: inc!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    const card = /<article class="alert alert-critical"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    expect(/<p class="a-sum">([^<]*)<\/p>/.exec(card)?.[1]).toBe('First use of a new access entry (granted by alice)');
    expect(card).toContain('<ul class="a-more"><li>high · 14:14:35 · Access entry created for role/app by alice</li></ul>');
  });

  it('names each card\'s alert ids, the worst first, for seam hunt --alert (cut after six)', () => {
    const rule = (level: Alert['rule']['level']): Alert['rule'] => ({ id: 'r-many', title: 'Many', level, tags: [], type: 'sigma' });
    const ids = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(32)}`);
    const alerts = ids.map((id, i) => alert({ id, '@timestamp': `2024-11-05T14:1${i}:00.000Z`, rule: rule(i === 3 ? 'critical' : 'medium'), events: [`ev${i}`], chain: undefined }));
    const [inc] = incidentsFrom(alerts);
    const html = renderIncidentHtml({ id: 'inc-ids', incident: inc!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    const card = /<article class="alert[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    const shown = /<p class="a-ids">Alert ids \(its events: <code>seam hunt --alert ID<\/code>\): <code>([^<]*)<\/code><\/p>/.exec(card)?.[1];
    expect(shown).toBe(`${[ids[3], ids[0], ids[1], ids[2], ids[4], ids[5]].join(' ')} … 2 more`);
    const one = renderIncidentHtml({ id: 'inc-one', incident: incidentsFrom([alert({ id: 'f'.repeat(32), chain: undefined })])[0]!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect(one).toContain(`Alert id (its events: <code>seam hunt --alert ID</code>): <code>${'f'.repeat(32)}</code>`);
  });

  it('titles a rule card by its worst alert, the latest of several at that level, and shows that alert\'s own triage (SOC review M4, M5)', () => {
    const rule = (level: Alert['rule']['level'], variant: string, title: string): Alert['rule'] => ({ id: 'seam-native-access-entry-grant', title, level, tags: [], type: 'native', variant });
    const alerts = [
      alert({ id: 'g1', '@timestamp': '2024-11-05T14:14:49.000Z', rule: rule('critical', 'admin_policy', 'EKS admin access policy associated'), summary: 'AmazonEKSClusterAdminPolicy associated', triage: 'Who made the change?', chain: undefined }),
      alert({ id: 'g2', '@timestamp': '2024-11-05T14:16:05.000Z', rule: rule('critical', 'first_use', 'First use of a new EKS access grant'), summary: 'First use of a new AmazonEKSClusterAdminPolicy grant', triage: 'The principal here is the grantee.', chain: undefined }),
    ];
    const [inc] = incidentsFrom(alerts);
    const notes = new Map([['seam-native-access-entry-grant', { triage: 'the detection’s generic text' }]]);
    const html = renderIncidentHtml({ id: 'inc-z', incident: inc!, events: new Map(), awsCalls: [], notes, source: 'out' }, new Date(0));
    const card = /<article class="alert alert-critical"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    expect(/<h3>([^<]*)<\/h3>/.exec(card)?.[1]).toBe('First use of a new EKS access grant');
    expect(/<p class="a-sum">([^<]*)<\/p>/.exec(card)?.[1]).toBe('First use of a new AmazonEKSClusterAdminPolicy grant');
    expect(card).toContain('<p class="a-triage"><b>Triage</b> The principal here is the grantee.</p>');
  });

  it('counts folded alerts (ADR 0050) and says on each card which alert of the same event they were notified under', () => {
    const lead = alert({ id: 'lead', summary: 'lead', rule: { id: 'r-lead', title: 'Host PID or IPC Pod Created', level: 'high', tags: [], type: 'sigma' } });
    const folded = alert({ id: 'f1', summary: 'folded', folded_into: 'lead', rule: { id: 'r-f1', title: 'Pod Created In Kube System Namespace', level: 'medium', tags: [], type: 'sigma' } });
    lead.also_matched = [{ rule_id: 'r-f1', title: 'Pod Created In Kube System Namespace', level: 'medium', alert_id: 'f1' }];
    const [inc] = incidentsFrom([lead, folded]);
    expect(inc!.alerts).toHaveLength(2);
    const html = renderIncidentHtml({ id: inc!.id, incident: inc!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect(html).toContain('2 alerts');
    expect(html).toContain('<p class="a-fold">Notified with, on the same event: Pod Created In Kube System Namespace (medium)</p>');
    expect(html).toContain('<p class="a-fold">Notified under Host PID or IPC Pod Created (same event)</p>');
  });

  it('"From" lists where the incident\'s identity and its chain acted; another identity\'s address in the evidence is on its own line (SOC review L3)', () => {
    const ingest = { collector: 'file', received_at: 'x', truncated: false, redacted: [] };
    const acct = '111122223333';
    const aliceArn = `arn:aws:sts::${acct}:assumed-role/PlatformAdmin/alice@example.com`;
    const alice = { id: aliceArn, type: 'k8s_user' as const, k8s_user: aliceArn, arn: aliceArn, session: 'alice@example.com' };
    const ciArn = `arn:aws:sts::${acct}:assumed-role/ci-deployer/gha-run-4711`;
    const ci = { id: 'ci-deployer', type: 'k8s_user' as const, k8s_user: 'ci-deployer', arn: ciArn, session: 'gha-run-4711' };
    const ev = (id: string, ip: string, principal: SeamEvent['seam']['principal'], origin?: SeamEvent['seam']['origin']): SeamEvent => ({
      '@timestamp': '2024-11-05T14:23:00.000Z',
      seam: { id, source: 'k8s_audit', action: 'update configmaps', cluster: 'prod-eks-01', account: acct, source_ip: ip, principal, ...(origin ? { origin } : {}), ingest },
    });
    // alice maps ci-deployer in aws-auth; ci-deployer uses it: one alert, ci-deployer's incident (keyed by its role).
    const grant = ev('grant', '203.0.113.24', alice, { id: aliceArn, type: 'assumed_role', arn: aliceArn });
    const use = ev('use', '198.51.100.77', ci, { id: ciArn, type: 'assumed_role', arn: ciArn });
    const chain = [
      { kind: 'authenticates_as', from: 'k8s:prod-eks-01:user:ci-deployer', to: ciArn },
      { kind: 'aws_auth_mapping', from: `arn:aws:iam::${acct}:role/ci-deployer`, to: 'k8s:prod-eks-01:user:ci-deployer', via: 'grant' },
      { kind: 'session_of', from: ciArn, to: `arn:aws:iam::${acct}:role/ci-deployer` },
    ];
    const a = alert({ events: ['grant', 'use'], principal: ci, origin: use.seam.origin, chain, account: acct, cluster: 'prod-eks-01', summary: 'mapped, then used' });
    const [inc] = incidentsFrom([a]);
    expect(inc!.key).toBe(`arn:aws:iam::${acct}:role/ci-deployer`);
    const html = renderIncidentHtml({ id: inc!.id, incident: inc!, events: new Map([['grant', grant], ['use', use]]), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect(/<dd id="from">([^]*?)<\/dd>/.exec(html)?.[1]).toBe('198.51.100.77');
    expect(/<dt>Other identities from<\/dt><dd id="others-from"[^>]*>([^]*?)<\/dd>/.exec(html)?.[1]).toBe('203.0.113.24 <span>· role/PlatformAdmin (alice@example.com)</span>');

    // alice's own incident: her exec and the stolen workload session's calls (its origin is alice, or its ARN is in
    // her chain) are all hers; no other identity's line.
    const irsa = `arn:aws:sts::${acct}:assumed-role/payments-api-irsa/botocore-session-1730815835`;
    const stolen = { id: irsa, type: 'assumed_role' as const, arn: irsa };
    const exec = ev('exec', '203.0.113.24', alice);
    const call = ev('call', '198.51.100.23', stolen, { id: aliceArn, type: 'assumed_role', arn: aliceArn });
    const unresolved = ev('later', '198.51.100.99', stolen);
    const stolenChain = [
      { kind: 'web_identity_session', from: irsa, to: 'k8s:prod-eks-01:sa:payments/api' },
      { kind: 'exec', from: 'k8s:prod-eks-01:pod:payments/api-1', to: `k8s:prod-eks-01:user:${aliceArn}`, via: 'exec' },
    ];
    const b = alert({ id: 'b', events: ['exec', 'call', 'later'], principal: stolen, origin: { id: aliceArn, type: 'assumed_role', arn: aliceArn }, chain: stolenChain, account: acct, cluster: 'prod-eks-01' });
    const [mine] = incidentsFrom([b]);
    expect(mine!.key).toBe(aliceArn);
    const page = renderIncidentHtml({ id: mine!.id, incident: mine!, events: new Map([['exec', exec], ['call', call], ['later', unresolved]]), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect(/<dd id="from">([^]*?)<\/dd>/.exec(page)?.[1]).toBe('203.0.113.24<br>198.51.100.23<br>198.51.100.99');
    expect(page).not.toContain('id="others-from"');
  });

  it('lists the secrets and credentials the incident’s events read or minted, by name, denied ones marked', () => {
    const ingest = { collector: 'file', received_at: 'x', truncated: false, redacted: [] };
    const ev = (id: string, time: string, seam: Partial<SeamEvent['seam']>, raw: Record<string, unknown>): SeamEvent =>
      ({ '@timestamp': time, seam: { id, ingest, ...seam }, ...raw }) as SeamEvent;
    const events = [
      ev('e3', '2024-11-05T14:16:05.000Z', { source: 'k8s_audit', action: 'list secrets' }, { verb: 'list', objectRef: { resource: 'secrets', namespace: 'payments' }, responseObject: { items: [{ metadata: { name: 'db-credentials' } }, { metadata: { name: 'tls', namespace: 'payments' } }] } }),
      ev('e1', '2024-11-05T14:11:16.000Z', { source: 'cloudtrail', action: 'secretsmanager.amazonaws.com:GetSecretValue' }, { requestParameters: { secretId: 'prod/payments/stripe' } }),
      ev('e2', '2024-11-05T14:11:35.000Z', { source: 'k8s_audit', action: 'get secrets', outcome: 'failure' }, { verb: 'get', objectRef: { resource: 'secrets', namespace: 'kube-system', name: 'aws-creds' } }),
      ev('e4', '2024-11-05T14:17:00.000Z', { source: 'cloudtrail', action: 'ssm.amazonaws.com:GetParameter' }, { requestParameters: { name: '/app/db', withDecryption: false } }),
      ev('e5', '2024-11-05T14:18:00.000Z', { source: 'k8s_audit', action: 'create serviceaccounts/token' }, { verb: 'create', objectRef: { resource: 'serviceaccounts', subresource: 'token', namespace: 'kube-system', name: 'admin' } }),
    ];
    expect(secretsTouched(events).map((r) => `${r.what}|${r.names.join(',')}|${r.denied}`)).toEqual([
      'Secrets Manager secret value|prod/payments/stripe|false',
      'Kubernetes secret (get)|kube-system/aws-creds|true',
      'Kubernetes secrets (list)|payments/db-credentials,payments/tls|false',
      'Service-account token minted|kube-system/admin|false',
    ]);
  });

  it('lists credential files read in a pod and temporary credentials STS issued, with where they went (SOC review M3)', () => {
    const ingest = { collector: 'file', received_at: 'x', truncated: false, redacted: [] };
    const irsa = 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815835';
    const principal = { id: irsa, type: 'assumed_role' as const, arn: irsa, pod: 'payments/api-1', service_account: 'payments/api' };
    const ev = (id: string, time: string, seam: Partial<SeamEvent['seam']>, raw: Record<string, unknown>): SeamEvent =>
      ({ '@timestamp': time, seam: { id, ingest, ...seam }, ...raw }) as SeamEvent;
    const events = [
      ev('f', '2024-11-05T14:09:00.650Z', { source: 'runtime', action: 'file', principal: { id: 'payments/api', type: 'service_account', pod: 'payments/api-1' } }, { kind: 'file', file: { op: 'open', path: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' } }),
      ev('s', '2024-11-05T14:10:35.000Z', { source: 'cloudtrail', action: 'sts.amazonaws.com:AssumeRoleWithWebIdentity', source_ip: '198.51.100.23', principal }, {
        requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/payments-api-irsa' },
        responseElements: { credentials: { accessKeyId: 'ASIA01B1A577648959B5', sessionToken: '[REDACTED]' }, assumedRoleUser: { arn: irsa } },
      }),
      ev('d', '2024-11-05T14:12:00.000Z', { source: 'cloudtrail', action: 'sts.amazonaws.com:AssumeRole', outcome: 'failure', source_ip: '198.51.100.23', principal }, { requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/admin' } }),
      ev('n', '2024-11-05T14:13:00.000Z', { source: 'cloudtrail', action: 'sts.amazonaws.com:GetCallerIdentity', source_ip: '198.51.100.23', principal }, {}),
    ];
    const rows = secretsTouched(events);
    expect(rows.map((r) => `${r.what}|${r.names.join(',')}|${r.from ?? ''}|${r.denied}`)).toEqual([
      'Credential file read in a pod|/var/run/secrets/eks.amazonaws.com/serviceaccount/token||false',
      'AWS temporary credentials issued|key ASIA01B1A577648959B5,role/payments-api-irsa (botocore-session-1730815835)|198.51.100.23|false',
      'AWS temporary credentials issued|arn:aws:iam::111122223333:role/admin|198.51.100.23|true',
    ]);
    expect(rows[0]!.who).toBe('pod payments/api-1');
    // An AWS call made with a pod's credentials names the session and whose credentials they were (M2).
    expect(rows[1]!.who).toBe('role/payments-api-irsa (botocore-session-1730815835) · creds of pod payments/api-1');
  });

  it('"Worst alert" names the worst alert of the worst rule, not the rule group\'s first alert (SOC review M1)', () => {
    const rule = (level: Alert['rule']['level'], variant: string, title: string): Alert['rule'] => ({ id: 'seam-native-access-entry-grant', title, level, tags: [], type: 'native', variant });
    const alerts = [
      alert({ id: 'c1', '@timestamp': '2024-11-05T14:14:35.000Z', rule: rule('high', 'created', 'EKS access entry created'), summary: 'created', chain: undefined }),
      alert({ id: 'c2', '@timestamp': '2024-11-05T14:14:49.000Z', rule: rule('critical', 'admin_policy', 'EKS admin access policy associated'), summary: 'admin', chain: undefined }),
    ];
    const [inc] = incidentsFrom(alerts);
    const html = renderIncidentHtml({ id: 'inc-w', incident: inc!, events: new Map(), awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect(/<dt>Worst alert<\/dt><dd>(.*?)<\/dd>/.exec(html)?.[1]).toBe('<span class="lvl lvl-critical">critical</span> EKS admin access policy associated');
  });

  it('puts each timeline line\'s source address in its own column and does not fold repeats from another address (SOC review M2)', () => {
    const ingest = { collector: 'file', received_at: 'x', truncated: false, redacted: [] };
    const irsa = 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1';
    const principal = { id: irsa, type: 'assumed_role' as const, arn: irsa, pod: 'payments/api-1' };
    const call = (id: string, t: string, ip: string): SeamEvent => ({ '@timestamp': t, seam: { id, source: 'cloudtrail', action: 'sts.amazonaws.com:GetCallerIdentity', source_ip: ip, principal, ingest } });
    const [inc] = incidentsFrom([alert({ events: ['a', 'b', 'c'], chain: undefined })]);
    const events = new Map([['a', call('a', '2024-11-05T14:10:00.000Z', '10.0.142.21')], ['b', call('b', '2024-11-05T14:10:01.000Z', '10.0.142.21')], ['c', call('c', '2024-11-05T14:10:02.000Z', '198.51.100.23')]]);
    const html = renderIncidentHtml({ id: inc!.id, incident: inc!, events, awsCalls: [], notes: new Map(), source: 'out' }, new Date(0));
    expect([...html.matchAll(/<td class="from">([^<]*)<\/td>/g)].map((m) => m[1])).toEqual(['10.0.142.21', '198.51.100.23']);
    expect(html).toContain('creds of pod payments/api-1');
  });
});
