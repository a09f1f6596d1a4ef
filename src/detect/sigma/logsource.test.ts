import { describe, expect, it } from 'vitest';
import { loadRulesFromText } from './ruleset.ts';

// Sigma's Kubernetes taxonomy names `capabilities` and `hostPath` (SigmaHQ's privileged-pod and hostPath rules) are
// no field of an audit Event: logsource.ts maps them into the pod spec of the request (K8S_AUDIT_FIELD_MAP), and
// `apiGroup` onto objectRef. src/detect/sigma/sigmahq-k8s.test.ts runs SigmaHQ's own rules.

const rule = (field: string): string => `title: Taxonomy ${field}
id: 22222222-3333-4444-8555-666666666666
logsource:
    product: kubernetes
    service: audit
detection:
    selection:
        verb: create
        objectRef.resource: pods
        ${field}: '*'
    condition: selection
level: low
`;

function pod(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    verb: 'create',
    objectRef: { resource: 'pods', namespace: 'default', name: 'p', apiVersion: 'v1' },
    requestObject: { kind: 'Pod', spec },
  };
}

const test = (field: string, spec: Record<string, unknown>): boolean => {
  const { ruleset, diagnostics } = loadRulesFromText(rule(field), 'r.yml');
  expect(diagnostics).toEqual([]);
  return ruleset.rules[0]!.test(pod(spec));
};

describe('Kubernetes audit taxonomy fields', () => {
  it('capabilities is any container’s added capabilities', () => {
    const plain = { name: 'a', image: 'alpine' };
    const adds = { name: 'b', image: 'alpine', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } };
    expect(test('capabilities', { containers: [plain, adds] })).toBe(true);
    // Near miss: a hardened pod only drops capabilities.
    expect(test('capabilities', { containers: [plain, { ...plain, securityContext: { capabilities: { drop: ['ALL'] } } }] })).toBe(false);
    expect(test('capabilities', { containers: [plain] })).toBe(false);
  });

  it('hostPath is any volume’s host path', () => {
    const containers = [{ name: 'a', image: 'alpine' }];
    expect(test('hostPath', { containers, volumes: [{ name: 'c', configMap: { name: 'x' } }, { name: 'h', hostPath: { path: '/' } }] })).toBe(true);
    expect(test('hostPath', { containers, volumes: [{ name: 'c', emptyDir: {} }] })).toBe(false);
    expect(test('hostPath', { containers })).toBe(false);
  });

  it('capabilities: * also holds for a privileged container (every capability); a named capability does not', () => {
    const privileged = { name: 'p', image: 'alpine', securityContext: { privileged: true } };
    expect(test('capabilities', { containers: [{ name: 'a', image: 'alpine' }, privileged] })).toBe(true);
    expect(test('capabilities', { containers: [{ ...privileged, securityContext: { privileged: false } }] })).toBe(false);
    const named = rule('capabilities').replace("capabilities: '*'", 'capabilities: SYS_ADMIN');
    const { ruleset } = loadRulesFromText(named, 'r.yml');
    expect(ruleset.rules[0]!.test(pod({ containers: [privileged] }))).toBe(false);
    expect(ruleset.rules[0]!.test(pod({ containers: [{ name: 'b', image: 'alpine', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] }))).toBe(true);
  });

  it('apiGroup is objectRef.apiGroup', () => {
    const r = rule('apiGroup').replace("apiGroup: '*'", 'apiGroup: apps').replace('objectRef.resource: pods', 'objectRef.resource: deployments');
    const { ruleset, diagnostics } = loadRulesFromText(r, 'r.yml');
    expect(diagnostics).toEqual([]);
    const ev = (apiGroup: string): Record<string, unknown> => ({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'create', objectRef: { resource: 'deployments', apiGroup, apiVersion: 'v1' } });
    expect(ruleset.rules[0]!.test(ev('apps'))).toBe(true);
    expect(ruleset.rules[0]!.test(ev('extensions'))).toBe(false);
  });
});
