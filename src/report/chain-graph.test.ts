import { describe, expect, it } from 'vitest';
import type { ChainStep, SeamEvent } from '../core/envelope.ts';
import { buildChainGraph } from './chain-graph.ts';

const ALICE = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';
const IRSA = 'arn:aws:sts::111122223333:assumed-role/app-irsa/botocore-session-1730815835';
const K8S_ALICE = `k8s:c1:user:${ALICE}`;
const POD = 'k8s:c1:pod:app/web-1';
const SA = 'k8s:c1:sa:app/web';

// The chain as the identity graph resolves it: acting credentials first, one identity named several ways,
// the same hop established twice.
const chain: ChainStep[] = [
  { kind: 'credential', from: 'ASIAAAAAAAAAAAAAAAA1', to: IRSA, via: 'ev-sts' },
  { kind: 'session_of', from: IRSA, to: 'arn:aws:iam::111122223333:role/app-irsa', via: 'ev-sts' },
  { kind: 'web_identity_session', from: IRSA, to: SA, via: 'ev-sts' },
  { kind: 'pod_service_account', from: SA, to: POD, via: 'ev-pod' },
  { kind: 'exec', from: POD, to: K8S_ALICE, via: 'ev-exec' },
  { kind: 'exec', from: POD, to: K8S_ALICE, via: 'ev-exec-2' },
  { kind: 'authenticates_as', from: K8S_ALICE, to: ALICE, via: 'ev-exec' },
  { kind: 'session_of', from: ALICE, to: 'arn:aws:iam::111122223333:role/PlatformAdmin', via: 'ev-exec' },
];

function ev(id: string, t: string, source: SeamEvent['seam']['source'], action: string, principal?: SeamEvent['seam']['principal'], outcome?: 'success' | 'failure'): SeamEvent {
  return { '@timestamp': t, seam: { id, source, action, ...(principal ? { principal } : {}), ...(outcome ? { outcome } : {}), ingest: { collector: 'file', received_at: t, truncated: false, redacted: [] } } };
}

describe('buildChainGraph', () => {
  const events = new Map([['ev-exec', ev('ev-exec', '2024-11-05T14:09:00.000Z', 'k8s_audit', 'create pods/exec')]]);
  const calls = [
    ev('c1', '2024-11-05T14:10:00.000Z', 'cloudtrail', 'sts.amazonaws.com:GetCallerIdentity', { id: IRSA, type: 'assumed_role', arn: IRSA }),
    ev('c2', '2024-11-05T14:11:00.000Z', 'cloudtrail', 'iam.amazonaws.com:ListUsers', { id: 'ASIAAAAAAAAAAAAAAAA1', type: 'assumed_role', access_key_id: 'ASIAAAAAAAAAAAAAAAA1' }, 'failure'),
  ];
  const g = buildChainGraph({ chain, origin: ALICE, events, awsCalls: calls });
  const byId = new Map(g.nodes.map((n) => [n.id, n]));

  it('draws each identity once: the key joins its session, a bare role the session of it', () => {
    expect(g.nodes.map((n) => n.id).sort()).toEqual([ALICE, IRSA, K8S_ALICE, POD, SA, `calls:${IRSA}`].sort());
    expect(byId.get(IRSA)!.sub).toContain('key ASIAAAAAAAAAAAAAAAA1');
    expect(byId.get(ALICE)!.origin).toBe(true);
  });

  it('reads from who acted down to the AWS calls, one edge per hop with its evidence', () => {
    const order = [ALICE, K8S_ALICE, POD, SA, IRSA, `calls:${IRSA}`].map((id) => byId.get(id)!.rank);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    const exec = g.edges.filter((e) => e.from === K8S_ALICE && e.to === POD);
    expect(exec).toHaveLength(1);
    expect(exec[0]!.evidence).toEqual(['ev-exec', 'ev-exec-2']);
    expect(exec[0]!.evidenceText).toBe('14:09:00 create pods/exec');
    expect(g.edges.every((e) => e.evidence.length > 0)).toBe(true);
  });

  it('lists the calls made with the chain\'s credentials, whichever form named the caller, and marks denials', () => {
    const c = byId.get(`calls:${IRSA}`)!;
    expect(c.label).toBe('2 calls as role app-irsa');
    expect(c.lines).toEqual([
      { text: 'sts:GetCallerIdentity', count: 1, denied: false },
      { text: 'iam:ListUsers', count: 1, denied: true },
    ]);
  });
});
