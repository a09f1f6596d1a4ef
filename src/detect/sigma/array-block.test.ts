import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import type { Diagnostic } from './types.ts';
import { loadRulesFromText } from './ruleset.ts';

// Seam's array blocks (model.ts, MArray; SEP 212's object-scope blocks): each member judged on its own.

const ingest = { collector: 'test', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] };

function pod(containers: unknown, initContainers?: unknown): SeamEvent {
  return {
    '@timestamp': '2026-03-04T05:06:07Z',
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    stage: 'ResponseComplete',
    verb: 'create',
    objectRef: { resource: 'pods', namespace: 'kube-system', name: 'p', apiVersion: 'v1' },
    requestObject: { spec: { containers, ...(initContainers === undefined ? {} : { initContainers }) } },
    seam: { id: 'a1', source: 'k8s_audit', ingest },
  } as unknown as SeamEvent;
}

const rule = (detection: string): string => `title: Array block
id: 11111111-2222-4333-8444-555555555555
status: test
logsource:
    product: kubernetes
    service: audit
detection:
${detection}
level: high
`;

function load(detection: string): { match: (e: SeamEvent) => boolean; diagnostics: Diagnostic[] } {
  const { ruleset, diagnostics } = loadRulesFromText(rule(detection), 'r.yml', { placeholders: { trusted: ['*/falco:*'] } });
  return { match: (e) => ruleset.match(e).length === 1, diagnostics };
}

function matcher(detection: string): (e: SeamEvent) => boolean {
  const { match, diagnostics } = load(detection);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`).join('; '));
  return match;
}

const alpine = { name: 'shell', image: 'alpine:3.19', securityContext: { privileged: true } };
const alpineQuiet = { name: 'shell', image: 'alpine:3.19' };
const falco = { name: 'falco', image: 'docker.io/falcosecurity/falco:0.39.0', securityContext: { privileged: true } };
const proxy = { name: 'kube-proxy', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29', securityContext: { privileged: true } };

describe('array blocks', () => {
  it('[any] ties the tests of its map to one member, where plain fields match across members', () => {
    const flat = matcher(`    sel:
        requestObject.spec.containers.image|startswith: 'alpine'
        requestObject.spec.containers.securityContext.privileged: true
    condition: sel`);
    const block = matcher(`    sel:
        requestObject.spec.containers[any]:
            image|startswith: 'alpine'
            securityContext.privileged: true
    condition: sel`);
    // alpine unprivileged beside a privileged EKS image: the flat fields match (two members), the block does not.
    expect(flat(pod([alpineQuiet, proxy]))).toBe(true);
    expect(block(pod([alpineQuiet, proxy]))).toBe(false);
    expect(block(pod([proxy, alpine]))).toBe(true);
    expect(block(pod([]))).toBe(false);
    expect(block(pod(undefined))).toBe(false);
  });

  it('a condition inside the block (negation per member): one trusted container no longer vouches for another', () => {
    const untrusted = matcher(`    sel:
        requestObject.spec.containers[any]:
            condition: not (builtin or configured)
            builtin:
                image|startswith: '602401143452.dkr.ecr.'
            configured:
                image|expand: '%trusted%'
    condition: sel`);
    // The placeholder list trusts falco; the EKS registry is built in; alpine is neither.
    expect(untrusted(pod([falco, alpine]))).toBe(true);
    expect(untrusted(pod([proxy, alpine]))).toBe(true);
    expect(untrusted(pod([falco, proxy]))).toBe(false);
    expect(untrusted(pod([falco]))).toBe(false);
    // A container without an image is trusted by neither list.
    expect(untrusted(pod([falco, { name: 'x' }]))).toBe(true);
  });

  it('[all], [all_or_empty] and [none] differ only on empty and missing arrays', () => {
    const q = (quant: string): ((e: SeamEvent) => boolean) =>
      matcher(`    sel:
        requestObject.spec.containers[${quant}]:
            securityContext.privileged: true
    condition: sel`);
    const all = q('all');
    const allOrEmpty = q('all_or_empty');
    const none = q('none');
    expect([all(pod([alpine, proxy])), allOrEmpty(pod([alpine, proxy])), none(pod([alpine, proxy]))]).toEqual([true, true, false]);
    expect([all(pod([alpine, alpineQuiet])), allOrEmpty(pod([alpine, alpineQuiet])), none(pod([alpine, alpineQuiet]))]).toEqual([false, false, false]);
    expect([all(pod([alpineQuiet])), allOrEmpty(pod([alpineQuiet])), none(pod([alpineQuiet]))]).toEqual([false, false, true]);
    expect([all(pod([])), allOrEmpty(pod([])), none(pod([]))]).toEqual([false, true, true]);
    expect([all(pod(null)), allOrEmpty(pod(null)), none(pod(null))]).toEqual([false, true, true]);
    // An object where an array was expected is one member.
    expect(all(pod(alpine))).toBe(true);
    // An array inside the array gives its own elements as members (not one member holding both), nulls none;
    // a scalar is a member with no fields.
    expect([all(pod([[alpineQuiet, proxy]])), none(pod([[alpineQuiet, proxy]]))]).toEqual([false, false]);
    expect([all(pod([[alpine], [proxy], null])), allOrEmpty(pod([null, [null]]))]).toEqual([true, true]);
    expect([all(pod(['alpine'])), none(pod(['alpine']))]).toEqual([false, true]);
  });

  it('blocks sit beside plain fields, in lists and under not, and nest', () => {
    const m = matcher(`    sel:
        objectRef.namespace: kube-system
        requestObject.spec.initContainers[any]:
            image|contains: 'alpine'
    other:
        - requestObject.spec.containers[any]:
              securityContext.privileged: true
              image|contains: 'falco'
        - objectRef.name: never
    condition: sel and not other`);
    expect(m(pod([proxy], [alpineQuiet]))).toBe(true);
    expect(m(pod([falco], [alpineQuiet]))).toBe(false);
    expect(m(pod([proxy], []))).toBe(false);
    const nested = matcher(`    sel:
        requestObject.spec.containers[any]:
            ports[any]:
                containerPort: 22
                protocol: TCP
    condition: sel`);
    expect(nested(pod([{ image: 'a', ports: [{ containerPort: 22, protocol: 'UDP' }, { containerPort: 80, protocol: 'TCP' }] }]))).toBe(false);
    expect(nested(pod([{ image: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }] }, { image: 'b', ports: [{ containerPort: 22, protocol: 'TCP' }] }]))).toBe(true);
  });

  it("reads the array's path and the block's fields under it (what early alerts check, ADR 0025)", () => {
    const { ruleset } = loadRulesFromText(
      rule(`    sel:
        verb: create
        requestObject.spec.containers[any]:
            condition: not ok
            ok:
                image|startswith: 'registry.k8s.io/'
    condition: sel`),
      'r.yml',
    );
    expect(ruleset.rules[0]?.reads).toEqual({ paths: ['requestObject.spec.containers', 'requestObject.spec.containers.image', 'verb'], keyword: false });
  });

  it('refuses the selector forms Seam does not read, with the position, instead of matching a literal field name', () => {
    for (const [key, value] of [
      ['requestObject.spec.containers[any].image', "'alpine'"],
      ['requestObject.spec.containers[0]', '\n            image: alpine'],
      ['requestObject.spec.containers[any]|contains', '\n            image: alpine'],
      ['requestObject.spec.containers[any]', "'alpine'"],
    ] as const) {
      const { diagnostics } = load(`    sel:
        ${key}: ${value}
    condition: sel`);
      const e = diagnostics.find((d) => d.severity === 'error');
      expect(e?.code, key).toBe('SEAM_ERR_RULE_SCHEMA');
      expect(e?.message, key).toContain('object-scope block');
      expect(e?.line, key).toBe(9);
    }
    const { diagnostics } = load(`    sel:
        requestObject.spec.containers[any]:
            condition: a and b
            a:
                image: x
    condition: sel`);
    expect(diagnostics.find((d) => d.severity === 'error')?.code).toBe('SEAM_ERR_RULE_REFERENCE');
  });

  it("refuses the '.' member marker outside a block, with its position", () => {
    const { diagnostics } = load(`    sel:
        '.': alpine
    condition: sel`);
    const e = diagnostics.find((d) => d.severity === 'error');
    expect(e?.code).toBe('SEAM_ERR_RULE_SCHEMA');
    expect(e?.message).toContain("'.' is the member marker of an array block");
    expect(e?.line).toBe(9);
  });

  it("refuses '.' as a block's array and as a fieldref target, where it could never match", () => {
    for (const [detection, message] of [
      ["    sel:\n        '.[any]':\n            image: x\n    condition: sel", "'.' names a member, not an array"],
      ["    sel:\n        requestObject.spec.containers[any]:\n            '.[any]':\n                image: x\n    condition: sel", "'.' names a member, not an array"],
      ["    sel:\n        requestObject.spec.containers[any]:\n            name|fieldref: '.'\n    condition: sel", "'.' (a block's member) is not one"],
    ] as const) {
      const e = load(detection).diagnostics.find((d) => d.severity === 'error');
      expect(e?.message, detection).toContain(message);
    }
  });

  it("'.' names each member of a list of scalars, in a plain block and in a block's selection", () => {
    const byImage = (containers: string[]): SeamEvent => {
      const e = pod([]);
      (e as unknown as { requestObject: { images: string[] } }).requestObject.images = containers;
      return e;
    };
    const plain = matcher(`    sel:
        requestObject.images[any]:
            '.|startswith': alp
    condition: sel`);
    expect(plain(byImage(['registry.k8s.io/pause', 'alpine:3']))).toBe(true);
    expect(plain(byImage(['registry.k8s.io/pause']))).toBe(false);
    const all = matcher(`    sel:
        requestObject.images[all]:
            condition: not untrusted
            untrusted:
                '.|startswith': alp
    condition: sel`);
    expect(all(byImage(['registry.k8s.io/pause', 'busybox']))).toBe(true);
    expect(all(byImage(['registry.k8s.io/pause', 'alpine:3']))).toBe(false);
    // Over objects, '.' is the member's values (any of its leaves), as a plain field over the member would be.
    const objects = matcher(`    sel:
        requestObject.spec.containers[any]:
            '.': kube-proxy
    condition: sel`);
    expect(objects(pod([alpine, proxy]))).toBe(true);
    expect(objects(pod([alpine]))).toBe(false);
  });

  describe("'|fieldref' inside a block compares a member with the event's fields", () => {
    const ct = (detection: string): ((e: Record<string, unknown>) => boolean) => {
      const { ruleset, diagnostics } = loadRulesFromText(
        `title: Shared with another account
id: 21111111-2222-4333-8444-555555555555
status: test
logsource:
    product: aws
    service: cloudtrail
detection:
${detection}
level: high
`,
        'ct.yml',
        { placeholders: { org: ['333333333333'] } },
      );
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) throw new Error(errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('; '));
      return (e) => ruleset.match({ ...e, seam: { id: 'c1', source: 'cloudtrail', ingest } } as unknown as SeamEvent).length === 1;
    };
    const share = (ids: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      eventSource: 'ssm.amazonaws.com',
      eventName: 'ModifyDocumentPermission',
      recipientAccountId: '111111111111',
      userIdentity: { accountId: '111111111111' },
      requestParameters: { accountIdsToAdd: ids },
      ...extra,
    });

    it('[any] over a list of ids: one foreign id alerts even beside the own account (the flat form missed it)', () => {
      const flat = ct(`    selection:
        requestParameters.accountIdsToAdd|re: '^\\d{12}$'
    own:
        requestParameters.accountIdsToAdd|fieldref: recipientAccountId
    condition: selection and not own`);
      const block = ct(`    foreign:
        requestParameters.accountIdsToAdd[any]:
            condition: id and not own
            id:
                '.|re': '^\\d{12}$'
            own:
                '.|fieldref':
                    - recipientAccountId
                    - userIdentity.accountId
    condition: foreign`);
      expect(flat(share(['222222222222']))).toBe(true);
      expect(block(share(['222222222222']))).toBe(true);
      // The evasion: the own account named beside the foreign one.
      expect(flat(share(['111111111111', '222222222222']))).toBe(false);
      expect(block(share(['111111111111', '222222222222']))).toBe(true);
      expect(block(share(['111111111111']))).toBe(false);
      expect(block(share('222222222222'))).toBe(true); // a scalar where a list was expected: one member
      expect(block(share([]))).toBe(false);
      expect(block(share(['all']))).toBe(false);
      // The event's field, not a member's field of the same name.
      const objects = ct(`    foreign:
        requestParameters.accountIdsToAdd[any]:
            condition: not own
            own:
                id|fieldref: recipientAccountId
    condition: foreign`);
      expect(objects(share([{ id: '222222222222', recipientAccountId: '222222222222' }]))).toBe(true);
      expect(objects(share([{ id: '111111111111' }]))).toBe(false);
    });

    it('nested blocks compare with the event too, and [all] with a placeholder filters only when every id is listed', () => {
      const nested = ct(`    foreign:
        requestParameters.rules[any]:
            destinations[any]:
                condition: not own
                own:
                    registryId|fieldref: recipientAccountId
    condition: foreign`);
      const rules = (...ids: string[][]): Record<string, unknown> =>
        share([], { requestParameters: { rules: ids.map((d) => ({ destinations: d.map((registryId) => ({ registryId })) })) } });
      expect(nested(rules(['111111111111'], ['111111111111', '222222222222']))).toBe(true);
      expect(nested(rules(['111111111111'], ['111111111111']))).toBe(false);
      const org = ct(`    selection:
        eventName: ModifyDocumentPermission
    filter_org:
        requestParameters.accountIdsToAdd[all]:
            '.|expand': '%org%'
    condition: selection and not filter_org`);
      expect(org(share(['333333333333']))).toBe(false);
      expect(org(share(['333333333333', '222222222222']))).toBe(true);
    });

    it("reads the event fields a block compares with at the event's level, and the list itself for the marker", () => {
      const { ruleset } = loadRulesFromText(
        `title: Reads
id: 31111111-2222-4333-8444-555555555555
status: test
logsource:
    product: aws
    service: cloudtrail
detection:
    foreign:
        requestParameters.accountIdsToAdd[any]:
            condition: not own
            own:
                '.|fieldref': recipientAccountId
    condition: foreign
level: high
`,
        'reads.yml',
      );
      expect(ruleset.rules[0]?.reads).toEqual({ paths: ['recipientAccountId', 'requestParameters.accountIdsToAdd'], keyword: false });
    });
  });

  it("refuses a key beside a block's condition that the condition does not use, instead of dropping it", () => {
    // securityContext.privileged here is a named selection the condition never names: read silently, the block
    // would hold for any container outside the EKS registry, privileged or not.
    const { diagnostics } = load(`    sel:
        requestObject.spec.containers[any]:
            condition: not builtin
            builtin:
                image|startswith: '602401143452.dkr.ecr.'
            securityContext.privileged: true
    condition: sel`);
    const e = diagnostics.find((d) => d.severity === 'error');
    expect(e?.code).toBe('SEAM_ERR_RULE_SCHEMA');
    expect(e?.message).toContain("'securityContext.privileged' in 'requestObject.spec.containers[any]' is not used by the block's condition");
    expect(e?.line).toBe(13);
    // Named in the condition (directly or through 'of'), the same key is a selection like any other.
    const ok = matcher(`    sel:
        requestObject.spec.containers[any]:
            condition: not builtin and 1 of priv*
            builtin:
                image|startswith: '602401143452.dkr.ecr.'
            priv:
                securityContext.privileged: true
    condition: sel`);
    expect(ok(pod([proxy, alpine]))).toBe(true);
    expect(ok(pod([proxy, alpineQuiet]))).toBe(false);
  });
});
