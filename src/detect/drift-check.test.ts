import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NODE_MAPPING, alice, awsAuthUpdate, ev, iamK8sUser, roleMapping, saK8sUser, t } from '../../test/identity/records.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { SeamConfig } from '../core/config/schema.ts';
import { EarlyAlerts } from '../pipeline/early.ts';
import { createDetectStage } from '../pipeline/detect-stage.ts';
import { DRY_RUN_PREFIX, type Alert } from './alert.ts';
import { createDetector } from './detector.ts';
import { DEFAULT_DRIFT_CHECK_USERS } from './drift-check.ts';
import { loadRules, loadRulesFromText } from './sigma/ruleset.ts';
import type { Ruleset } from './sigma/types.ts';

// GitOps drift checks (ADR 0047) through the production Kubernetes rules and the detect stage: a listed controller's
// dry run raises no Sigma alert, its real write and anyone else's dry run alert at the rule's level.
const AWS_AUTH_RULE = 'cf629643-ffd3-4ad5-b96e-471f0944b36b';
const kustomize = saK8sUser('flux-system', 'kustomize-controller', 'kustomize-controller-6b8f9c7d5-x2k4q');
const mapRoles = NODE_MAPPING + roleMapping('PlatformAdmin', 'platform-admin', ['system:masters']);

/** As a controller sends it: from its pod's address inside the VPC. */
function inCluster(raw: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, sourceIPs: ['10.0.142.37'], userAgent: 'kustomize-controller/v1.4.0 (linux/amd64) kubernetes/$Format' };
}

function dryRun(raw: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, requestURI: `${String(raw.requestURI)}?dryRun=All&fieldManager=kustomize-controller&force=true` };
}

describe('GitOps drift checks', () => {
  let ruleset: Ruleset;
  beforeAll(async () => {
    ruleset = (await loadRules([join(import.meta.dirname, '../../detections/kubernetes')])).ruleset;
  }, 30_000);
  let lastStats: Record<string, unknown> = {};
  const run = (events: SeamEvent[], driftCheckUsers?: string[]): Alert[] => {
    const stage = createDetectStage({ detector: createDetector({ ruleset, allowedLatenessMs: 0, ...(driftCheckUsers ? { driftCheckUsers } : {}) }) });
    const out = [...events.flatMap((e) => stage.process(e)), ...stage.flush()];
    lastStats = stage.stats();
    return out;
  };
  const sigma = (alerts: Alert[]): Alert[] => alerts.filter((a) => a.rule.type !== 'native');
  const loud = (alerts: Alert[]): Alert[] => alerts.filter((a) => a.rule.level === 'medium' || a.rule.level === 'high' || a.rule.level === 'critical');

  it("kustomize-controller's dry-run aws-auth update raises no medium+ alert and no Sigma alert at all; the detector counts the match", () => {
    const e = ev(dryRun(inCluster(awsAuthUpdate(kustomize, mapRoles, t('10:00:00')))));
    expect(e.seam.dry_run).toBe(true);
    const alerts = run([e]);
    expect(loud(alerts)).toEqual([]);
    expect(sigma(alerts)).toEqual([]);
    expect(lastStats.sigma).toMatchObject({ events: 1, matches: 1, driftChecks: 1, alerts: 0 });
  });

  it("the controller's real apply of the same change (no dryRun) alerts high, unmarked", () => {
    const alerts = loud(run([ev(inCluster(awsAuthUpdate(kustomize, mapRoles, t('10:00:00'))))]));
    const a = alerts.find((x) => x.rule.id === AWS_AUTH_RULE)!;
    expect([a.rule.level, a.dry_run]).toEqual(['high', undefined]);
    expect(a.summary.startsWith("Rule 'AWS Auth ConfigMap Modified' matched: ")).toBe(true);
  });

  it("a person's dry run of the same change alerts high, marked Dry run (ADR 0045 unchanged)", () => {
    const alerts = loud(run([ev(dryRun(awsAuthUpdate(iamK8sUser(alice), mapRoles, t('10:00:00'))))]));
    const a = alerts.find((x) => x.rule.id === AWS_AUTH_RULE)!;
    expect([a.rule.level, a.dry_run]).toEqual(['high', true]);
    expect(a.summary.startsWith(DRY_RUN_PREFIX)).toBe(true);
  });

  it('a configured controller name is a drift check; a list without kustomize-controller reports its dry run at the rule level', () => {
    const mine = saK8sUser('gitops', 'flux-kustomize');
    const custom = ['system:serviceaccount:gitops:flux-kustomize'];
    expect(sigma(run([ev(dryRun(inCluster(awsAuthUpdate(mine, mapRoles, t('10:00:00')))))], custom))).toEqual([]);
    expect(lastStats.sigma).toMatchObject({ driftChecks: 1 });
    // Under the default list that name is anyone's.
    expect(loud(run([ev(dryRun(inCluster(awsAuthUpdate(mine, mapRoles, t('10:00:00')))))])).map((a) => [a.rule.id, a.dry_run])).toEqual([[AWS_AUTH_RULE, true]]);
    expect(loud(run([ev(dryRun(inCluster(awsAuthUpdate(kustomize, mapRoles, t('10:00:00')))))], custom)).map((a) => [a.rule.id, a.rule.level])).toEqual([[AWS_AUTH_RULE, 'high']]);
  });

  it('an impersonated controller name does not make a dry run a drift check: the authenticated user decides', () => {
    const raw = dryRun(awsAuthUpdate(iamK8sUser(alice), mapRoles, t('10:00:00')));
    raw.impersonatedUser = { username: 'system:serviceaccount:flux-system:kustomize-controller', groups: ['system:serviceaccounts'] };
    expect(loud(run([ev(raw)])).map((a) => [a.rule.id, a.rule.level])).toEqual([[AWS_AUTH_RULE, 'high']]);
  });

  it('a drift check raises no early (provisional) alert either; with an empty list it does, at the rule level', () => {
    const e = ev(dryRun(inCluster(awsAuthUpdate(kustomize, mapRoles, t('10:00:00')))));
    const early = new EarlyAlerts(ruleset);
    expect(early.rules.has(AWS_AUTH_RULE)).toBe(true);
    expect(early.raise(e)).toEqual([]);
    const none = new EarlyAlerts(ruleset, { driftCheckUsers: [] }).raise(e);
    expect(none.map((a) => [a.rule.id, a.rule.level, a.provisional, a.dry_run])).toEqual([[AWS_AUTH_RULE, 'high', true, true]]);
  });

  it('seam.yml rules.driftCheckUsers defaults to the Flux and Argo CD service accounts', () => {
    const cfg = SeamConfig.parse({});
    expect(cfg.rules.driftCheckUsers).toEqual([...DEFAULT_DRIFT_CHECK_USERS]);
    expect(cfg.rules.driftCheckUsers).toEqual(
      expect.arrayContaining(['system:serviceaccount:flux-system:kustomize-controller', 'system:serviceaccount:flux-system:helm-controller', 'system:serviceaccount:argocd:argocd-application-controller']),
    );
    expect(SeamConfig.parse({ rules: { driftCheckUsers: ['system:serviceaccount:gitops:argocd-application-controller'] } }).rules.driftCheckUsers).toEqual(['system:serviceaccount:gitops:argocd-application-controller']);
  });
});

describe('drift checks and correlations', () => {
  const BUNDLE = `
title: ConfigMap written in kube-system
id: 5c1f0e4a-7d1b-4c57-9a43-00000000d001
name: kube_system_configmap_written
level: low
logsource:
  product: kubernetes
  service: audit
detection:
  selection:
    verb: [update, patch]
    objectRef.resource: configmaps
    objectRef.namespace: kube-system
  condition: selection
---
title: Many kube-system ConfigMap writes by one identity
id: 5c1f0e4a-7d1b-4c57-9a43-00000000d002
level: high
generate: true
correlation:
  type: event_count
  rules: [kube_system_configmap_written]
  group-by: [user.username]
  timespan: 1h
  condition:
    gte: 3
`;
  it("a drift check feeds no correlation: three reconciles' dry runs raise nothing; three real writes raise the correlation", () => {
    const { ruleset } = loadRulesFromText(BUNDLE, 'drift-check-correlation.yml');
    const go = (events: SeamEvent[]): Alert[] => {
      const d = createDetector({ ruleset, allowedLatenessMs: 0 });
      return [...events.flatMap((e) => d.process(e)), ...d.flush()];
    };
    const writes = (dry: boolean): SeamEvent[] =>
      ['10:00:00', '10:10:00', '10:20:00'].map((x) => {
        const raw = inCluster(awsAuthUpdate(kustomize, mapRoles, t(x), 'patch'));
        return ev(dry ? dryRun(raw) : raw);
      });
    expect(go(writes(true))).toEqual([]);
    const real = go(writes(false));
    expect(real.filter((a) => a.rule.type === 'correlation').map((a) => [a.rule.level, a.aggregate])).toEqual([['high', 3]]);
  });
});
