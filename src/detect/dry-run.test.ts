import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, ATTACKER_IP, NODE_MAPPING, alice, audit, awsAuthUpdate, bindingWrite, ev, iamK8sUser, roleMapping, t } from '../../test/identity/records.ts';
import { runNative } from '../../test/helpers/native.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { createDetectStage } from '../pipeline/detect-stage.ts';
import { Alert, DRY_RUN_PREFIX, buildAlert } from './alert.ts';
import { buildDetector } from './load.ts';

// Server-side dry runs through the production detect stage (the Kubernetes rules and every native detection):
// Sigma rules match what the request was and say it was a dry run; natives that judge a change against the identity
// graph see no change (ADR 0045).
const admin = iamK8sUser(alice);
const BACKDOOR = roleMapping('backdoor', 'backdoor', ['system:masters']).replace(`${ACCOUNT}:role`, '444455556666:role');

function dry(raw: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, auditID: `${String(raw.auditID)}-dry`, requestURI: `${String(raw.requestURI)}?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict` };
}

describe('server-side dry runs in detection', () => {
  it('a dry-run aws-auth backdoor raises the Sigma rule, marked as a dry run, and no native alert; the real one raises both, unmarked', async () => {
    const detector = await buildDetector([join(import.meta.dirname, '../../detections/kubernetes')]);
    const run = (events: SeamEvent[]): Alert[] => {
      const stage = createDetectStage({ detector });
      return events.flatMap((e) => stage.process(e)).filter((a) => a.rule.level !== 'low' && a.rule.level !== 'informational');
    };
    const setup = ev(awsAuthUpdate(admin, NODE_MAPPING, t('09:00:00'), 'create'));
    const change = (): Record<string, unknown> => awsAuthUpdate(admin, NODE_MAPPING + BACKDOOR, t('10:00:00'));

    const dryAlerts = run([setup, ev(dry(change()))]).filter((a) => a.events.some((id) => id.endsWith('-dry:ResponseComplete')));
    expect(dryAlerts.map((a) => [a.rule.title, a.rule.level, a.dry_run])).toEqual([['AWS Auth ConfigMap Modified', 'high', true]]);
    expect(dryAlerts[0]!.summary.startsWith(DRY_RUN_PREFIX + "Rule 'AWS Auth ConfigMap Modified' matched:")).toBe(true);
    expect(Alert.parse(dryAlerts[0])).toEqual(dryAlerts[0]);

    const real = ev(change());
    const realAlerts = run([setup, real]).filter((a) => a.events.includes(real.seam.id));
    expect(realAlerts.map((a) => [a.rule.id, a.rule.level, a.dry_run]).sort()).toEqual(
      [
        ['cf629643-ffd3-4ad5-b96e-471f0944b36b', 'high', undefined],
        ['seam-native-aws-auth-backdoor', 'critical', undefined],
      ].sort(),
    );
    expect(realAlerts.every((a) => !a.summary.startsWith('Dry run'))).toBe(true);
  }, 30_000);

  it('a dry-run cluster-admin binding for a mapped group is the Sigma rule, marked; the drift native sees no widened group', async () => {
    const detector = await buildDetector([join(import.meta.dirname, '../../detections/kubernetes')]);
    const run = (events: SeamEvent[]): Alert[] => {
      const stage = createDetectStage({ detector });
      return events.flatMap((e) => stage.process(e)).filter((a) => a.rule.level !== 'low' && a.rule.level !== 'informational');
    };
    const mapped = ev(awsAuthUpdate(admin, NODE_MAPPING + roleMapping('ReadOnly', 'readonly', ['viewers']), t('09:00:00'), 'create'));
    const bind = (): Record<string, unknown> => bindingWrite(admin, 'ClusterRoleBinding', 'viewers-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00'));
    const dryBind = ev(dry(bind()));
    const dryAlerts = run([mapped, dryBind]).filter((a) => a.events.includes(dryBind.seam.id));
    expect(dryAlerts.length).toBeGreaterThan(0);
    expect(dryAlerts.every((a) => a.rule.type === 'sigma' && a.dry_run === true && a.summary.startsWith(DRY_RUN_PREFIX))).toBe(true);
    const realBind = ev(bind());
    const realAlerts = run([mapped, realBind]).filter((a) => a.events.includes(realBind.seam.id));
    expect(realAlerts.map((a) => a.rule.id)).toContain('seam-native-iam-rbac-drift');
    expect(realAlerts.map((a) => a.rule.id).filter((id) => !id.startsWith('seam-native')).sort()).toEqual(dryAlerts.map((a) => a.rule.id).sort());
  }, 30_000);

  it('a native judging the requester still fires on a dry run, at its level, marked: a stolen token used for a dry run is still used', () => {
    const sa = { username: 'system:serviceaccount:payments:api', groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'] };
    const raw = audit({ verb: 'create', user: sa, time: t('14:20:00'), resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', ip: ATTACKER_IP });
    const alerts = runNative('seam-native-k8s-sa-token-outside-aws', [ev(dry(raw))]);
    expect(alerts.map((a) => [a.rule.level, a.dry_run])).toEqual([['medium', true]]);
    expect(alerts[0]!.summary.startsWith(DRY_RUN_PREFIX)).toBe(true);
  });
});

describe('buildAlert and dry runs', () => {
  const rule = { id: 'c', title: 'C', level: 'medium' as const, tags: [], type: 'correlation' as const, correlation_type: 'event_count' as const };
  it('marks an alert whose every contribution was a dry run, and says how many when only some were', () => {
    const all = buildAlert({ rule, contributions: [{ ids: ['a'], nativeIds: [], timeMs: 1, dryRun: true }, { ids: ['b'], nativeIds: [], timeMs: 2, dryRun: true }], summary: 's' });
    expect([all.dry_run, all.summary]).toEqual([true, DRY_RUN_PREFIX + 's']);
    const some = buildAlert({ rule, contributions: [{ ids: ['a'], nativeIds: [], timeMs: 1, dryRun: true }, { ids: ['b'], nativeIds: [], timeMs: 2 }], summary: 's' });
    expect([some.dry_run, some.summary]).toEqual([undefined, 's (1 of its 2 contributing signals were dry runs)']);
    const none = buildAlert({ rule, contributions: [{ ids: ['a'], nativeIds: [], timeMs: 1 }], summary: 's' });
    expect([none.dry_run, none.summary]).toEqual([undefined, 's']);
  });
});
