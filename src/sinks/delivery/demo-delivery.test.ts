// The bundled demo (deploy/demo) delivered as `seam run --delivery` delivers it: the embedded roles (the deliver role
// is the Kafka one, over the in-memory bus) and the example's 10-minute throttle, to a real local HTTP receiver.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../../../test/helpers/http-receiver.ts';
import { ALERT_LEVELS, notifiedLevel, type Alert } from '../../detect/alert.ts';
import { notifiable } from '../../detect/fold.ts';
import { sitePlaceholders } from '../../detect/load.ts';
import { loadDetection } from '../../pipeline/detection.ts';
import { runEmbedded } from '../../pipeline/embedded.ts';
import { DeliveryConfig, buildOutputs } from '../registry.ts';
import { Deliverer, notificationId } from './deliverer.ts';

const ROOT = join(import.meta.dirname, '../../..');
const SECRET = 'demo-delivery-secret';

interface Body {
  notification: { id: string; kind: string; count: number; level: string };
  alert: Alert;
}

describe('the demo, delivered (SOC review H1)', () => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let d: Deliverer;
  const alerts: Alert[] = [];
  beforeAll(async () => {
    rx = await startReceiver({ secret: SECRET });
    process.env.SEAM_TEST_DEMO_HOOK_SECRET = SECRET;
    const config = DeliveryConfig.parse({
      outputs: { hook: { type: 'webhook', url: rx.url, secret: { env: 'SEAM_TEST_DEMO_HOOK_SECRET' } } },
      routes: [{ name: 'humans', outputs: ['hook'], minLevel: 'medium' }],
      throttle: { windowMs: 600_000 },
    });
    d = new Deliverer(config, buildOutputs(config));
    const placeholders = await sitePlaceholders({ placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') });
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], ruleCacheDir: false, ...(placeholders ? { placeholders } : {}) });
    await runEmbedded({
      paths: [join(ROOT, 'deploy/demo')],
      stateDir: await mkdtemp(join(tmpdir(), 'seam-demo-delivery-')),
      detection,
      maxRecordBytes: 1 << 20,
      cluster: 'prod-eks-01',
      deliverer: d,
      onAlert: (a) => alerts.push(a),
    });
  });
  afterAll(async () => {
    await rx?.close();
    delete process.env.SEAM_TEST_DEMO_HOOK_SECRET;
  });

  it('notifies every medium+ action once, under its own title (a native variant by its variant) and level, none throttled', () => {
    const bodies = rx.requests.map((r) => r.json as Body);
    expect(rx.requests.every((r) => r.signatureOk && r.status === 200)).toBe(true);
    const told = bodies
      .map((b) => `${b.alert['@timestamp']} ${b.notification.kind} ${b.notification.count} ${b.notification.level} ${b.alert.rule.variant ?? '-'} ${b.alert.rule.title}`)
      .sort();
    expect(told).toEqual([
      '2024-11-05T14:09:00.003Z alert 1 high - Exec Command Reading Service Account Token',
      '2024-11-05T14:09:00.650Z alert 1 high - Service Account Token Read By Shell Tool',
      '2024-11-05T14:10:35.000Z alert 1 high - IRSA or Pod Identity credentials used from outside the cluster',
      '2024-11-05T14:10:44.000Z alert 1 high - Exec into a pod followed by that pod’s role calling AWS',
      '2024-11-05T14:13:00.000Z alert 1 medium - EKS Anomalous Kubernetes Behavior Finding',
      '2024-11-05T14:14:35.000Z alert 1 high created EKS access entry created',
      '2024-11-05T14:14:49.000Z alert 1 critical admin_policy EKS admin access policy associated',
      '2024-11-05T14:14:49.000Z alert 1 high - EKS Access Entry Created Then Granted Cluster Admin',
      '2024-11-05T14:15:35.015Z alert 1 high mapping aws-auth mapping added or widened',
      '2024-11-05T14:16:05.012Z alert 1 critical first_use First use of a new EKS access grant',
      '2024-11-05T14:16:45.007Z alert 1 high - Host PID or IPC Pod Created',
      '2024-11-05T14:20:45.000Z alert 1 medium - EKS Privileged Or Sensitive Mount Workload Finding',
      '2024-11-05T14:23:00.015Z alert 1 critical first_use First use of a new aws-auth mapping',
    ]);
    // Each notification is its alert's, at the level that routed it, and every notifiable medium+ alert has one.
    const byId = new Map(alerts.map((a) => [notificationId(a), a]));
    for (const b of bodies) expect(notifiedLevel(byId.get(b.notification.id)!)).toBe(b.notification.level);
    const medium = alerts.filter((a) => notifiable(a) && ALERT_LEVELS.indexOf(notifiedLevel(a)) >= ALERT_LEVELS.indexOf('medium'));
    expect(new Set(bodies.map((b) => b.notification.id))).toEqual(new Set(medium.map(notificationId)));
    expect(d.stats).toMatchObject({ sent: 13, failed: 0, throttled: 0, repeatSummaries: 0 });
  });
});
