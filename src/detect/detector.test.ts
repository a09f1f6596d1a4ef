import { describe, expect, it } from 'vitest';
import { Alert } from './alert.ts';
import { createDetector } from './detector.ts';
import { loadRulesFromText } from './sigma/ruleset.ts';
import { audit, cloudtrail } from './correlate/test-fixtures.ts';

// One multi-document bundle: three detection rules and two correlations, as a user would write it.
const BUNDLE = `
title: Exec into a pod, then the same IAM identity calls GetCallerIdentity
id: 7b2d0c51-2f7e-4d0a-9c8e-0000000000a1
level: critical
tags: [attack.execution, attack.t1609]
correlation:
  type: temporal_ordered
  rules: [kubectl_exec, sts_get_caller_identity]
  group-by: [principal_arn]
  timespan: 10m
  aliases:
    principal_arn:
      kubectl_exec: user.extra.arn
      sts_get_caller_identity: userIdentity.arn
---
title: Exec into a pod
id: 7b2d0c51-2f7e-4d0a-9c8e-0000000000a2
name: kubectl_exec
level: medium
logsource:
  product: kubernetes
  service: audit
detection:
  selection:
    verb: create
    objectRef.resource: pods
    objectRef.subresource: exec
  condition: selection
---
title: STS GetCallerIdentity
id: 7b2d0c51-2f7e-4d0a-9c8e-0000000000a3
name: sts_get_caller_identity
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: sts.amazonaws.com
    eventName: GetCallerIdentity
  condition: selection
---
title: Many secrets read by one identity
id: 7b2d0c51-2f7e-4d0a-9c8e-0000000000a4
level: high
generate: true
correlation:
  type: event_count
  rules: [secrets_get_secret_value]
  group-by: [userIdentity.arn]
  timespan: 5m
  condition:
    gte: 5
---
title: Secrets Manager GetSecretValue
id: 7b2d0c51-2f7e-4d0a-9c8e-0000000000a5
name: secrets_get_secret_value
level: informational
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: secretsmanager.amazonaws.com
    eventName: GetSecretValue
  condition: selection
`;

describe('detector (real Sigma loader + correlation engine)', () => {
  it('turns a realistic EKS timeline into single-rule and correlation alerts', () => {
    const loaded = loadRulesFromText(BUNDLE, 'mr_eks_bundle.yml');
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(loaded.ruleset.correlations).toHaveLength(2);
    const detector = createDetector({ ruleset: loaded.ruleset, allowedLatenessMs: 30_000 });
    expect(detector.diagnostics).toEqual([]);

    const timeline = [
      audit('e1', 0, 'create', 'pods', { subresource: 'exec', username: 'alice' }),
      audit('g1', 5, 'get', 'pods', { username: 'alice' }), // matches nothing
      cloudtrail('w1', 40, 'GetCallerIdentity', { session: 'alice' }),
      ...[60, 70, 80, 90, 100].map((s, i) => cloudtrail(`sec${i}`, s, 'GetSecretValue', { session: 'bob', requestParameters: { secretId: `prod/${i}` } })),
      cloudtrail('w2', 700, 'GetCallerIdentity', { session: 'carol' }), // no exec by carol
    ];
    const alerts = [...timeline.flatMap((e) => detector.process(e)), ...detector.flush()];
    for (const a of alerts) Alert.parse(a);

    // exec + GetCallerIdentity are only correlation inputs (generate unset): one correlation alert.
    const chain = alerts.filter((a) => a.rule.id === '7b2d0c51-2f7e-4d0a-9c8e-0000000000a1');
    expect(chain).toHaveLength(1);
    expect(chain[0]!.events).toEqual(['audit-e1-ResponseComplete', 'ct-w1']);
    expect(chain[0]!.native_ids).toEqual(['audit-e1', 'ct-w1']);
    expect(chain[0]!.rule).toMatchObject({ type: 'correlation', correlation_type: 'temporal_ordered', level: 'critical', tags: ['attack.execution', 'attack.t1609'] });
    // Where and how come from the last contributing event (the CloudTrail call), not the exec before it.
    expect(chain[0]).toMatchObject({ source_ip: '203.0.113.7', user_agent: 'aws-cli/2.15.0', region: 'eu-west-1', outcome: 'success' });
    expect(chain[0]!.summary).toMatch(/; last: alice \(arn:aws:sts::111122223333:assumed-role\/ci-deployer\/alice\) sts\.amazonaws\.com:GetCallerIdentity from 203\.0\.113\.7$/);
    expect(alerts.filter((a) => a.rule.id.endsWith('a2') || a.rule.id.endsWith('a3'))).toEqual([]);

    // generate: true — the five GetSecretValue reads alert on their own and as a burst.
    expect(alerts.filter((a) => a.rule.id.endsWith('a5'))).toHaveLength(5);
    const single = alerts.find((a) => a.rule.id.endsWith('a5'))!;
    expect(single.rule.type).toBe('sigma');
    expect(single.summary).toMatch(/^Rule 'Secrets Manager GetSecretValue' matched: bob \(arn:aws:sts::111122223333:assumed-role\/ci-deployer\/bob\) secretsmanager\.amazonaws\.com:GetSecretValue from 203\.0\.113\.7$/);
    const burst = alerts.filter((a) => a.rule.id.endsWith('a4'));
    expect(burst).toHaveLength(1);
    expect(burst[0]!.events).toHaveLength(5);

    const st = detector.stats();
    expect(st).toMatchObject({ events: 9, matches: 8, suppressed: 3, alerts: alerts.length });
    expect(st.correlation.activeGroups).toBe(0);
  });

  it('emitWithheld (rule tests) returns the alerts a correlation withholds, still counted as suppressed', () => {
    const loaded = loadRulesFromText(BUNDLE, 'mr_eks_bundle.yml');
    const timeline = [
      audit('e1', 0, 'create', 'pods', { subresource: 'exec', username: 'alice' }),
      cloudtrail('w1', 40, 'GetCallerIdentity', { session: 'alice' }),
      cloudtrail('w2', 700, 'GetCallerIdentity', { session: 'carol' }),
    ];
    const run = (emitWithheld: boolean) => {
      const d = createDetector({ ruleset: loaded.ruleset, allowedLatenessMs: 30_000, emitWithheld });
      const alerts = [...timeline.flatMap((e) => d.process(e)), ...d.flush()];
      return { ids: alerts.map((a) => a.rule.id.slice(-2)).sort(), stats: d.stats() };
    };
    const normal = run(false);
    expect(normal.ids).toEqual(['a1']);
    const tested = run(true);
    // The exec and both GetCallerIdentity calls now alert as their own rules; the chain fires once.
    expect(tested.ids).toEqual(['a1', 'a2', 'a3', 'a3']);
    expect(tested.stats.suppressed).toBe(normal.stats.suppressed);
    expect(tested.stats.suppressed).toBe(3);
  });

  it('reports bad correlation documents with positions and keeps the good ones', () => {
    const text = `${BUNDLE}
---
title: Broken
correlation:
  type: value_sum
  rules: [no_such_rule]
  group-by: [userIdentity.arn]
  timespan: 5m
`;
    const loaded = loadRulesFromText(text, 'mr_broken.yml');
    const detector = createDetector({ ruleset: loaded.ruleset });
    const codes = detector.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
    // The loader checks the basics; the engine adds what needs the whole rule set and the semantics.
    expect(codes).toEqual(['SEAM_ERR_RULE_CONDITION', 'SEAM_ERR_RULE_REFERENCE']);
    expect(detector.diagnostics[0]!.file).toBe('mr_broken.yml');
    expect(detector.diagnostics[0]!.line).toBeGreaterThan(60);
    expect(detector.stats().correlation.correlations).toBe(2);
  });
});
