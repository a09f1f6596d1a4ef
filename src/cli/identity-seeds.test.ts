import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// `seam identity explain --seed` takes the snapshots as `seam run` and `seam replay` do (ADR 0054): FILE or
// FILE=CLUSTER, read by the same loader. It took only FILE, and FILE=CLUSTER was a file name (ENOENT; fresh-user
// walkthrough, session 33). And it applies seam.yml's identity.seeds itself, before --seed's, as the correlate role
// and seam run do: it applied only --seed's.

const ROOT = resolve(import.meta.dirname, '../..');
const ROLE = 'arn:aws:iam::111122223333:role/ReadOnlyAuditor';
const AWS_AUTH = `apiVersion: v1
kind: ConfigMap
metadata: { name: aws-auth, namespace: kube-system }
data:
  mapRoles: |
    - rolearn: ${ROLE}
      username: auditor:{{SessionName}}
      groups: [auditors]
`;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-explain-seeds-'));
  writeFileSync(join(dir, 'aws-auth.yaml'), AWS_AUTH);
  writeFileSync(join(dir, 'none.jsonl'), '');
  // seam.yml's seed paths resolve against its folder.
  writeFileSync(join(dir, 'seam.yml'), 'identity:\n  seeds:\n    - { path: aws-auth.yaml, cluster: prod-eks-01 }\n');
});

function explain(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const e: NodeJS.ProcessEnv = { ...process.env, SEAM_LOG_LEVEL: 'error', ...env };
  delete e.SEAM_KAFKA_BROKERS;
  if (env.SEAM_CONFIG === undefined) delete e.SEAM_CONFIG;
  delete e.SEAM_CLUSTER;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'identity', 'explain', ROLE, '--input', join(dir, 'none.jsonl'), ...args], { cwd: ROOT, encoding: 'utf8', env: e });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('seam identity explain --seed', () => {
  it('FILE=CLUSTER seeds that cluster, as seam run --seed does', () => {
    const r = explain(['--seed', `${join(dir, 'aws-auth.yaml')}=prod-eks-01`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`seed: 1 facts from aws-auth ${join(dir, 'aws-auth.yaml')} (cluster prod-eks-01)`);
    expect(r.stdout).toContain('in prod-eks-01: user auditor:{{SessionName}}; groups auditors');
    // Mapped, with no binding for its groups: the line says what is missing, not that there is no mapping.
    expect(r.stdout).toContain('permissions unknown: no RBAC binding for this user or its groups in the inputs');
    expect(r.stdout).not.toContain('no aws-auth mapping');
    expect(r.status).toBe(0);
  });

  it('several files after one flag and the flag again, each with its own cluster', () => {
    const f = join(dir, 'aws-auth.yaml');
    const r = explain(['--seed', `${f}=prod-eks-01`, `${f}=staging-eks`, '--seed', f, '--cluster', 'dev-eks']);
    expect(r.stdout).toContain('in prod-eks-01: user auditor:{{SessionName}}; groups auditors');
    expect(r.stdout).toContain('in staging-eks: user auditor:{{SessionName}}; groups auditors');
    expect(r.stdout).toContain('in dev-eks: user auditor:{{SessionName}}; groups auditors');
    expect(r.status).toBe(0);
  });

  it('an aws-auth file with no cluster anywhere is refused as seam run refuses it (SEAM_ERR_SEED, exit 2)', () => {
    const r = explain(['--seed', join(dir, 'aws-auth.yaml')]);
    expect(r.stderr).toContain(`SEAM_ERR_SEED: identity seed ${join(dir, 'aws-auth.yaml')} (aws-auth) names no cluster`);
    expect(r.status).toBe(2);
  });

  it("applies seam.yml's identity.seeds without --seed, and --seed's after them", () => {
    const config = join(dir, 'seam.yml');
    const byFile = explain(['--config', config]);
    expect(byFile.stdout).toContain(`seed: 1 facts from aws-auth ${join(dir, 'aws-auth.yaml')} (cluster prod-eks-01)`);
    expect(byFile.stdout).toContain('in prod-eks-01: user auditor:{{SessionName}}; groups auditors');
    expect(byFile.status).toBe(0);
    const byEnv = explain(['--seed', `${join(dir, 'aws-auth.yaml')}=staging-eks`], { SEAM_CONFIG: config });
    expect(byEnv.stdout.split('\n').filter((l) => l.startsWith('seed: '))).toEqual([
      `seed: 1 facts from aws-auth ${join(dir, 'aws-auth.yaml')} (cluster prod-eks-01)`,
      `seed: 1 facts from aws-auth ${join(dir, 'aws-auth.yaml')} (cluster staging-eks)`,
    ]);
    expect(byEnv.stdout).toContain('in staging-eks: user auditor:{{SessionName}}; groups auditors');
    expect(byEnv.status).toBe(0);
  });
});
