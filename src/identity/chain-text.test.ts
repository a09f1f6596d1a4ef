import { describe, expect, it } from 'vitest';
import { chainNodes, shortChain, shortIdentity } from './chain-text.ts';

describe('short chain text', () => {
  const chain = [
    { kind: 'aws_auth_mapping', from: 'arn:aws:iam::111122223333:user/alice', to: 'k8s:prod-eks-01:user:alice' },
    { kind: 'exec', from: 'k8s:prod-eks-01:user:alice', to: 'k8s:prod-eks-01:pod:app/web-1', via: 'e2' },
    { kind: 'exec', from: 'k8s:prod-eks-01:user:alice', to: 'k8s:prod-eks-01:pod:app/web-1', via: 'e3' },
    { kind: 'pod_service_account', from: 'k8s:prod-eks-01:pod:app/web-1', to: 'k8s:prod-eks-01:sa:app/web' },
    { kind: 'web_identity_session', from: 'k8s:prod-eks-01:sa:app/web', to: 'arn:aws:sts::111122223333:assumed-role/app-irsa/botocore-1' },
  ];

  it('names every identity once, in order, shortened', () => {
    expect(shortChain(chain)).toBe('user/alice → k8s alice → pod app/web-1 → sa app/web → role/app-irsa (botocore-1)');
  });

  it('drops a loop back to an identity already named', () => {
    expect(chainNodes([...chain, { kind: 'assume_role', from: 'arn:aws:sts::111122223333:assumed-role/app-irsa/botocore-1', to: 'arn:aws:iam::111122223333:user/alice' }])).toHaveLength(5);
  });

  it('elides the middle of a long chain and says how many identities it left out', () => {
    const long = Array.from({ length: 9 }, (_, i) => ({ kind: 'assume_role', from: `arn:aws:iam::1:role/r${i}`, to: `arn:aws:iam::1:role/r${i + 1}` }));
    expect(shortChain(long, { maxNodes: 5 })).toBe('role/r0 → role/r1 → role/r2 → …(6 more) → role/r9');
  });

  it('shortens keys it knows and leaves others alone', () => {
    expect(shortIdentity('system:serviceaccount:kube-system:aws-node')).toBe('sa kube-system/aws-node');
    expect(shortIdentity('akid:AKIAEXAMPLE')).toBe('key AKIAEXAMPLE');
    expect(shortIdentity('ip:203.0.113.9')).toBe('ip:203.0.113.9');
    expect(shortChain(undefined)).toBe('');
  });
});

describe('short chain text on a chain as the identity graph writes it (demo story, IRSA theft)', () => {
  const chain = [
    { kind: 'authenticates_as', from: 'k8s:prod-eks-01:user:arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1', to: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1' },
    { kind: 'access_entry', from: 'arn:aws:iam::111122223333:role/payments-api-irsa', to: 'k8s:prod-eks-01:user:arn:aws:sts::111122223333:assumed-role/payments-api-irsa/{{SessionName}}' },
    { kind: 'credential', from: 'ASIA01B1A577648959B5', to: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1' },
    { kind: 'session_of', from: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1', to: 'arn:aws:iam::111122223333:role/payments-api-irsa' },
    { kind: 'web_identity_session', from: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1', to: 'k8s:prod-eks-01:sa:payments/api' },
    { kind: 'pod_service_account', from: 'k8s:prod-eks-01:sa:payments/api', to: 'k8s:prod-eks-01:pod:payments/api-7c9d8f6b5-x2k4q' },
    { kind: 'exec', from: 'k8s:prod-eks-01:pod:payments/api-7c9d8f6b5-x2k4q', to: 'k8s:prod-eks-01:user:arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com' },
    { kind: 'authenticates_as', from: 'k8s:prod-eks-01:user:arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com', to: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com' },
    { kind: 'session_of', from: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com', to: 'arn:aws:iam::111122223333:role/PlatformAdmin' },
  ];
  it('names the session, the service account, the pod and alice once each, without the mapping and role noise', () => {
    expect(shortChain(chain)).toBe('role/payments-api-irsa (botocore-session-1) → ASIA01B1A577648959B5 → sa payments/api → pod payments/api-7c9d8f6b5-x2k4q → role/PlatformAdmin (alice@example.com)');
  });
});
