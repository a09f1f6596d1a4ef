import type { Alert } from '../../src/detect/alert.ts';

/** An alert as the correlate role writes it to `seam.alerts`, for delivery tests. */
export function testAlert(over: Partial<Alert> & { n?: number; level?: Alert['rule']['level']; ruleId?: string; tags?: string[] } = {}): Alert {
  const { n = 1, level = 'high', ruleId = 'r-irsa-token-theft', tags = ['attack.credential-access', 'attack.t1528'], ...rest } = over;
  return {
    id: `alert-${ruleId}-${n}`,
    '@timestamp': new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + n * 1000).toISOString(),
    rule: { id: ruleId, title: 'IRSA token read from a pod and used from outside the cluster', level, tags, type: 'native' },
    events: [`ev-${n}`],
    native_ids: [`nat-${n}`],
    principal: { id: 'arn:aws:iam::111122223333:role/app-irsa', type: 'assumed_role', arn: 'arn:aws:sts::111122223333:assumed-role/app-irsa/botocore-session-1', session: 'botocore-session-1' },
    origin: { id: 'arn:aws:iam::111122223333:user/alice', type: 'iam_user' },
    chain: [
      { kind: 'aws_auth_mapping', from: 'arn:aws:iam::111122223333:user/alice', to: 'k8s:prod-eks-01:user:alice', via: 'e1' },
      { kind: 'exec', from: 'k8s:prod-eks-01:user:alice', to: 'k8s:prod-eks-01:pod:app/web-1', via: 'e2' },
      { kind: 'exec', from: 'k8s:prod-eks-01:user:alice', to: 'k8s:prod-eks-01:pod:app/web-1', via: 'e3' },
      { kind: 'pod_service_account', from: 'k8s:prod-eks-01:pod:app/web-1', to: 'k8s:prod-eks-01:sa:app/web', via: 'e4' },
      { kind: 'web_identity_session', from: 'k8s:prod-eks-01:sa:app/web', to: 'arn:aws:iam::111122223333:role/app-irsa', via: 'e5' },
    ],
    account: '111122223333',
    cluster: 'prod-eks-01',
    source_ip: '203.0.113.9',
    user_agent: 'aws-cli/2.15.0',
    region: 'us-west-2',
    outcome: 'success',
    summary: 'alice read the IRSA token of app/web and called AWS with role app-irsa from 203.0.113.9',
    ...rest,
  };
}
