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
