import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../detect/alert.ts';
import { buildDetector } from '../detect/load.ts';
import { createDetectStage } from './detect-stage.ts';
import { incidentsFrom } from './incident.ts';
import { runReplay } from './replay.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * The bundled demo tells one attack across the four planes: alice (IAM role PlatformAdmin, through an
 * access entry) execs into payments/api, takes its IRSA credentials, uses them from outside AWS, grants
 * the workload role cluster admin, backdoors aws-auth and starts a privileged pod; GuardDuty sees part
 * of it. Seam must tie it back to alice as one incident.
 */
describe('demo story', () => {
  it('ties the exec, the stolen IRSA credentials and the backdoors to alice in one incident', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-demo-'));
    const detector = await buildDetector([join(ROOT, 'detections')], { placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') });
    const stage = createDetectStage({ detector });
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({
      paths: [join(ROOT, 'deploy/demo')],
      dlqPath: join(dir, 'dlq.jsonl'),
      maxRecordBytes: 1 << 20,
      cluster: 'prod-eks-01',
      handler: stage,
      onAlert: (a) => alerts.push(a),
    });
    expect(s.rejected).toBe(0);
    expect(new Set(Object.keys(s.bySource))).toEqual(new Set(['k8s_audit', 'cloudtrail', 'guardduty', 'runtime']));

    // One action, one notification (ADR 0050, SOC review M1): every alert is kept, the ones resting on the same single
    // event fold under the highest level. When the fold landed the demo gave 36 alerts, 21 of them medium+, and 5 events
    // raised 2 to 4 medium+ alerts each; 14 medium+ alerts are notified.
    const medium = alerts.filter((a) => ['medium', 'high', 'critical'].includes(a.rule.level));
    const told = medium.filter((a) => a.folded_into === undefined);
    expect(medium.length - told.length).toBeGreaterThanOrEqual(7);
    const perEvent = new Map<string, string[]>();
    for (const a of told) if (a.events.length === 1) perEvent.set(a.events[0]!, [...(perEvent.get(a.events[0]!) ?? []), a.rule.title]);
    expect([...perEvent.values()].filter((ts) => ts.length > 1)).toEqual([]);
    const byId = new Map(alerts.map((a) => [a.id, a]));
    for (const a of alerts) if (a.folded_into !== undefined) expect(byId.get(a.folded_into)!.events).toEqual(a.events);
    // The node-debugger pod: two high rules tie, the lower rule id leads; the other six rules are folded into it.
    const podLeader = alerts.find((a) => a.rule.title === 'Host PID or IPC Pod Created')!;
    expect(podLeader.folded_into).toBeUndefined();
    expect(podLeader.also_matched!.map((m) => `${m.level} ${m.title}`).slice(0, 3)).toEqual(['high Privileged Pod Created', 'medium Pod Created In Kube System Namespace', 'medium Host-Network Pod Created Directly By A User']);
    // AssociateAccessPolicy: the critical native leads the high Sigma rule; the correlation over two events is not folded.
    const policy = alerts.find((a) => a.rule.title === 'EKS Cluster Admin Access Policy Associated')!;
    expect(byId.get(policy.folded_into!)!.rule).toMatchObject({ type: 'native', level: 'critical' });
    expect(alerts.find((a) => a.rule.title === 'EKS Access Entry Created Then Granted Cluster Admin')!.folded_into).toBeUndefined();
    // The GuardDuty join, raised after its window closed, folds into the finding's own alert of the same level.
    for (const j of alerts.filter((a) => a.rule.id === 'seam-native-guardduty-incident')) expect(byId.get(j.folded_into!)!.events).toEqual(j.events);

    const [top] = incidentsFrom(alerts);
    expect(top!.level).toBe('critical');
    expect(top!.key).toBe('arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com');
    const titles = new Set(top!.alerts.map((a) => a.rule.title));
    for (const t of [
      'Exec into a pod followed by that pod’s role calling AWS',
      'First use of a new EKS access grant',
      'aws-auth mapping added or widened',
      'Service Account Token Read By Shell Tool',
      'Privileged Pod Created',
    ]) {
      expect(titles).toContain(t);
    }
    // The chain runs from the stolen key's session through the service account and pod to alice's role.
    const kinds = top!.chain.map((c) => c.kind);
    expect(kinds).toEqual(expect.arrayContaining(['web_identity_session', 'pod_service_account', 'exec', 'session_of']));
    expect(top!.chain[top!.chain.length - 1]!.to).toBe('arn:aws:iam::111122223333:role/PlatformAdmin');
    // The stolen credentials used from outside AWS, flagged on the service account, join alice's incident.
    expect(titles).toContain('IRSA or Pod Identity credentials used from outside the cluster');
    // Replaying again gives the same alert ids (deterministic).
    const again: Alert[] = [];
    await runReplay<Alert>({
      paths: [join(ROOT, 'deploy/demo')],
      dlqPath: join(dir, 'dlq2.jsonl'),
      maxRecordBytes: 1 << 20,
      cluster: 'prod-eks-01',
      handler: createDetectStage({ detector: await buildDetector([join(ROOT, 'detections')], { placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') }) }),
      onAlert: (a) => again.push(a),
    });
    expect(again.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    const folds = (xs: Alert[]) => Object.fromEntries(xs.map((a) => [a.id, [a.folded_into, a.also_matched]]));
    expect(folds(again)).toEqual(folds(alerts));
  }, 60_000);
});
