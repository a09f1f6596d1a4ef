import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { identityExplainCommand } from '../cli/identity.ts';

const fx = (p: string): string => fileURLToPath(new URL('../../test/fixtures/' + p, import.meta.url));
const inputs = [fx('k8s-audit/eks-audit.jsonl'), fx('cloudtrail/s3-export.json'), fx('runtime/native.jsonl')];

async function explain(target: string): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await identityExplainCommand(target, { input: inputs, cluster: 'prod-eks-01' }, { write: (s: string) => (text += s) });
  return { code, text };
}

describe('seam identity explain', () => {
  it('explains an IRSA role: its sessions, the chain back to alice, and the cluster-admin access policy', async () => {
    const { code, text } = await explain('arn:aws:iam::111122223333:role/payments-api-irsa');
    expect(code).toBe(0);
    expect(text).toContain('web identity session of payments/api (prod-eks-01)');
    expect(text).toContain('exec: payments/api-7c9d8f6b5-x2k4q → arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com');
    expect(text).toContain('CLUSTER ADMIN via access_policy');
  });
  it('explains a service account: pods, execs into them, sessions', async () => {
    const { code, text } = await explain('payments/api');
    expect(code).toBe(0);
    expect(text).toContain('pod payments/api-7c9d8f6b5-x2k4q');
    expect(text).toContain('exec by arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com');
    expect(text).toContain('web identity session arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815740');
  });
  it('explains a Kubernetes user mapped through aws-auth into system:masters', async () => {
    const { code, text } = await explain('ci-deployer');
    expect(code).toBe(0);
    expect(text).toContain('aws auth mapping from arn:aws:iam::111122223333:role/ci-deployer');
    expect(text).toContain('CLUSTER ADMIN via aws_auth_mapping');
  });
  it('says so for a service account or a Kubernetes user the inputs never show (their default groups are no evidence)', async () => {
    for (const target of ['payments/apii', 'nobody', 'system:serviceaccount:payments:apii']) {
      const { code, text } = await explain(target);
      expect(code, target).toBe(1);
      expect(text, target).toContain(`${target} is not in the identity graph built from these inputs`);
    }
  });
  it('knows a Kubernetes user from its own audit events alone', async () => {
    const { code, text } = await explain('eks:addon-manager');
    expect(code).toBe(0);
    expect(text).not.toContain('is not in the identity graph');
    expect(text).toContain('acted in 1 event (first ');
  });
  it('lists one line per exec (its audit stages are one request), non-resource rules by name, and says when permissions are unknown (SOC review L4)', async () => {
    const sa = await explain('payments/api');
    expect(sa.text.match(/exec by /g)?.length).toBe(1);
    // A service account is a Kubernetes user already: what is unknown is its RBAC, not a mapping.
    expect(sa.text).toContain('permissions unknown: no RBAC binding for this user or its groups in the inputs');
    const role = await explain('arn:aws:iam::111122223333:role/payments-api-irsa');
    expect(role.text).toContain('* non-resource URLs * in *');
    expect(role.text).not.toContain(' [] ');
    expect(role.text).not.toContain('permissions unknown');
  });
  it('lists a role\'s sessions seen only on the Kubernetes plane (no AssumeRole in the inputs)', async () => {
    const { code, text } = await explain('arn:aws:iam::111122223333:role/ci-deployer');
    expect(code).toBe(0);
    expect(text).toMatch(/session arn:aws:sts::111122223333:assumed-role\/ci-deployer\/[^ ]+ — \d+ Kubernetes requests? \(first .* in prod-eks-01/);
    expect(text).toContain('no AssumeRole for it in the inputs');
  });
  it('says so when the target is unknown', async () => {
    const { code, text } = await explain('arn:aws:iam::111122223333:role/nobody');
    expect(code).toBe(1);
    expect(text).toContain('is not in the identity graph');
  });
});
