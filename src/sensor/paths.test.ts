import { describe, expect, it } from 'vitest';
import { DEFAULT_SENSITIVE_PATHS } from './config.ts';
import { canonicalPath, sensitiveMatcher } from './paths.ts';

describe('sensitive files', () => {
  const match = sensitiveMatcher(DEFAULT_SENSITIVE_PATHS);

  it('sees a projected token through kubelet\'s ..data/..<timestamp> indirection and /run → /var/run', () => {
    expect(canonicalPath('/var/run/secrets/eks.amazonaws.com/serviceaccount/..2026_12_02_09_00_00.123456789/token')).toBe('/var/run/secrets/eks.amazonaws.com/serviceaccount/token');
    expect(match('/var/run/secrets/eks.amazonaws.com/serviceaccount/..2026_12_02_09_00_00.123456789/token')).toBe('/var/run/secrets/eks.amazonaws.com/serviceaccount/token');
    expect(match('/run/secrets/kubernetes.io/serviceaccount/..data/token')).toBe('/var/run/secrets/kubernetes.io/serviceaccount/token');
    expect(match('/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token')).toBeDefined();
  });

  it('matches credential files by suffix and /etc/shadow exactly, and nothing else', () => {
    expect(match('/home/app/.aws/credentials')).toBe('/home/app/.aws/credentials');
    expect(match('/root/.kube/config')).toBe('/root/.kube/config');
    expect(match('/etc/shadow')).toBe('/etc/shadow');
    expect(match('/etc/shadow (deleted)')).toBe('/etc/shadow');
    for (const p of ['/etc/passwd', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', '/app/credentials', 'socket:[123]', 'pipe:[9]', '/etc/shadow-']) expect(match(p), p).toBeUndefined();
  });
});
