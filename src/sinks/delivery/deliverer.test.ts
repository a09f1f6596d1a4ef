// Routing, throttling and suppression, delivered to a real local HTTP receiver that counts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testAlert } from '../../../test/helpers/alerts.ts';
import { startReceiver } from '../../../test/helpers/http-receiver.ts';
import { DeliveryConfig, buildOutputs } from '../registry.ts';
import { foldAlerts } from '../../detect/fold.ts';
import { Deliverer } from './deliverer.ts';
import type { Alert } from '../../detect/alert.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function deliverer(extra: Record<string, unknown>, now: () => number = Date.now) {
  const soc = await startReceiver();
  const cloud = await startReceiver();
  closers.push(soc.close, cloud.close);
  const config = DeliveryConfig.parse({
    outputs: { soc: { type: 'webhook', url: soc.url }, cloud: { type: 'webhook', url: cloud.url } },
    dashboardUrl: 'https://dash.example/app/discover#/?q=id:{alert.id}&who={principal}',
    ...extra,
  });
  return { soc, cloud, d: new Deliverer(config, buildOutputs(config), now) };
}

const bodies = (rx: { requests: { json: unknown }[] }) => rx.requests.map((r) => r.json as { notification: { id: string; kind: string; count: number; link?: string }; alert: { id: string } });

describe('routes', () => {
  it('select by min level, tags, cluster, account and rule id; an alert goes to the union of matching outputs once', async () => {
    const { soc, cloud, d } = await deliverer({
      throttle: { windowMs: 0 },
      routes: [
        { name: 'all-medium', outputs: ['soc'], minLevel: 'medium' },
        { name: 'cred-prod', outputs: ['cloud', 'soc'], minLevel: 'low', tags: ['attack.credential*'], clusters: ['prod-eks-01'], accounts: ['111122223333'] },
        { name: 'one-rule', outputs: ['cloud'], minLevel: 'informational', rules: ['r-special'] },
      ],
    });
    await d.deliver(testAlert({ n: 1, level: 'high' })); // all-medium + cred-prod → soc, cloud
    await d.deliver(testAlert({ n: 2, level: 'low' })); // cred-prod only → soc, cloud
    await d.deliver(testAlert({ n: 3, level: 'low', cluster: 'staging' })); // nothing
    await d.deliver(testAlert({ n: 4, level: 'low', tags: ['attack.discovery'] })); // nothing
    await d.deliver(testAlert({ n: 5, level: 'informational', ruleId: 'r-special' })); // one-rule → cloud
    await d.deliver(testAlert({ n: 6, level: 'medium', account: '999999999999' })); // all-medium → soc
    expect(bodies(soc).map((b) => b.alert.id)).toEqual(['alert-r-irsa-token-theft-1', 'alert-r-irsa-token-theft-2', 'alert-r-irsa-token-theft-6']);
    expect(bodies(cloud).map((b) => b.alert.id)).toEqual(['alert-r-irsa-token-theft-1', 'alert-r-irsa-token-theft-2', 'alert-r-special-5']);
    expect(d.stats).toMatchObject({ alerts: 6, unrouted: 2, sent: 6, failed: 0 });
    expect(bodies(soc)[0]!.notification.link).toBe('https://dash.example/app/discover#/?q=id:alert-r-irsa-token-theft-1&who=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Falice');
  });
});

describe('throttling', () => {
  it('collapses repeats of one rule + principal in a window into one notification with a count', async () => {
    let wall = 0;
    const { soc, d } = await deliverer({ throttle: { windowMs: 60_000 }, routes: [{ name: 'r', outputs: ['soc'] }] }, () => wall);
    // 10 alerts 1 s apart, same rule and origin: 1 sent at once, 9 collapsed.
    for (let n = 1; n <= 10; n++) await d.deliver(testAlert({ n }));
    // Another principal is its own window.
    await d.deliver(testAlert({ n: 11, origin: { id: 'arn:aws:iam::111122223333:user/bob', type: 'iam_user' } }));
    expect(bodies(soc).map((b) => b.notification.kind)).toEqual(['alert', 'alert']);
    expect(d.pendingRepeats()).toBe(9);
    expect(await d.flushDue()).toHaveLength(0); // wall clock has not moved
    wall = 60_000;
    const flushed = await d.flushDue();
    expect(flushed).toHaveLength(1);
    const last = bodies(soc).at(-1)!;
    expect(last.notification).toMatchObject({ id: 'alert-r-irsa-token-theft-10:repeats:9', kind: 'repeats', count: 9 });
    expect(d.stats).toMatchObject({ alerts: 11, throttled: 9, sent: 3, repeatSummaries: 1 });
    // A repeat after the window (event time) opens a new window and is sent at once.
    await d.deliver(testAlert({ n: 200 }));
    expect(bodies(soc).at(-1)!.notification).toMatchObject({ id: 'alert-r-irsa-token-theft-200', kind: 'alert', count: 1 });
  });

  it("each variant of a native detection is its own window: a grant's created, admin_policy and first_use by one origin are three notifications", async () => {
    const { soc, d } = await deliverer({ throttle: { windowMs: 600_000 }, routes: [{ name: 'r', outputs: ['soc'] }] });
    const variant = (n: number, name: string, title: string, level: Alert['rule']['level']): Alert => {
      const a = testAlert({ n, level, ruleId: 'seam-native-access-entry-grant' });
      return { ...a, rule: { ...a.rule, variant: name, title } };
    };
    await d.deliver(variant(1, 'created', 'EKS access entry created', 'high'));
    await d.deliver(variant(14, 'admin_policy', 'EKS admin access policy associated', 'critical'));
    await d.deliver(variant(90, 'first_use', 'First use of a new EKS access grant', 'critical'));
    // A second created by the same origin in the window is a repeat of that variant only.
    await d.deliver(variant(120, 'created', 'EKS access entry created', 'high'));
    type Body = { notification: { kind: string; count: number; level: string }; alert: { rule: { variant?: string; title: string } } };
    const told = (): string[] => soc.requests.map((r) => r.json as Body).map((b) => `${b.notification.kind} ${b.notification.count} ${b.notification.level} ${b.alert.rule.variant} ${b.alert.rule.title}`);
    expect(told()).toEqual(['alert 1 high created EKS access entry created', 'alert 1 critical admin_policy EKS admin access policy associated', 'alert 1 critical first_use First use of a new EKS access grant']);
    await d.flushAll();
    expect(told().at(-1)).toBe('repeats 1 high created EKS access entry created');
    expect(d.stats).toMatchObject({ alerts: 4, throttled: 1, escalated: 0, repeatSummaries: 1, sent: 4 });
  });

  it('an alert above every level its window notified is an escalation: sent at once, and the window then holds repeats at or below it', async () => {
    let wall = 0;
    const { soc, d } = await deliverer({ throttle: { windowMs: 600_000 }, routes: [{ name: 'r', outputs: ['soc'] }] }, () => wall);
    // One native detection (one rule, no variant) whose level depends on the case: medium, high, medium, critical, high, high.
    const levels: Alert['rule']['level'][] = ['medium', 'high', 'medium', 'critical', 'high', 'high'];
    for (const [i, level] of levels.entries()) await d.deliver(testAlert({ n: i + 1, level, ruleId: 'seam-native-x' }));
    type Body = { notification: { id: string; kind: string; count: number; level: string; window?: { start: string; end: string } }; alert: { id: string } };
    const got = (): Body[] => soc.requests.map((r) => r.json as Body);
    expect(got().map((b) => `${b.notification.kind} ${b.notification.level} ${b.alert.id}`)).toEqual([
      'alert medium alert-seam-native-x-1',
      'alert high alert-seam-native-x-2',
      'alert critical alert-seam-native-x-4',
    ]);
    expect(d.stats).toMatchObject({ throttled: 3, escalated: 2 });
    wall = 600_000;
    await d.flushDue();
    // The summary counts the three held back (n 3, 5, 6) and shows the highest of them, the latest among equals.
    expect(got().at(-1)!.notification).toMatchObject({ id: 'alert-seam-native-x-6:repeats:3', kind: 'repeats', count: 3, level: 'high', window: { start: testAlert({ n: 3 })['@timestamp'], end: testAlert({ n: 6 })['@timestamp'] } });
  });

  it('an alert id seen before (redelivered in this process) is neither sent again nor counted as a repeat', async () => {
    const { soc, d } = await deliverer({ routes: [{ name: 'r', outputs: ['soc'] }] });
    await d.deliver(testAlert({ n: 1 }));
    await d.deliver(testAlert({ n: 1 }));
    expect(soc.requests).toHaveLength(1);
    expect(d.stats).toMatchObject({ alerts: 1, duplicates: 1, throttled: 0 });
    expect(await d.flushAll()).toHaveLength(0);
  });
});

describe('suppressions', () => {
  it('YAML suppressions (rule, entity, expiry, reason) silence delivery but every suppressed alert is counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-supp-'));
    const file = join(dir, 'suppressions.yml');
    writeFileSync(
      file,
      [
        'suppressions:',
        '  - rule: r-irsa-token-theft',
        '    entity: arn:aws:iam::111122223333:user/alice',
        '    expires: 2999-01-01T00:00:00Z',
        '    reason: CHG-1234 approved red-team exercise',
        '  - rule: "*"',
        '    entity: staging',
        '    expires: 2000-01-01T00:00:00Z',
        '    reason: expired long ago',
      ].join('\n'),
    );
    const { soc, d } = await deliverer({ throttle: { windowMs: 0 }, suppressionsFile: file, suppressions: [{ rule: 'r-other', entity: 'app/web', expires: '2999-01-01T00:00:00Z', reason: 'noisy sa' }], routes: [{ name: 'r', outputs: ['soc'], minLevel: 'low' }] });
    for (let n = 1; n <= 4; n++) await d.deliver(testAlert({ n })); // alice: suppressed
    await d.deliver(testAlert({ n: 5, origin: { id: 'arn:aws:iam::111122223333:user/bob', type: 'iam_user' } })); // bob: sent
    await d.deliver(testAlert({ n: 6, cluster: 'staging', origin: { id: 'x', type: 'iam_user' } })); // expired suppression: sent
    await d.deliver(testAlert({ n: 7, ruleId: 'r-other', principal: { id: 'system:serviceaccount:app:web', type: 'service_account', service_account: 'app/web' } })); // inline, by service account (origin alice still there)
    expect(soc.requests).toHaveLength(2);
    expect(d.stats.suppressed).toBe(5);
    expect(d.stats.bySuppression).toEqual({ 'r-irsa-token-theft|arn:aws:iam::111122223333:user/alice': 4, 'r-other|app/web': 1 });
  });

  it('a bad suppressions file stops with the field that is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-supp-'));
    const file = join(dir, 's.yml');
    writeFileSync(file, 'suppressions:\n  - rule: x\n    entity: y\n    reason: forever\n');
    await expect(deliverer({ suppressionsFile: file, routes: [{ name: 'r', outputs: ['soc'] }] })).rejects.toThrow(/s\.yml:2:5 suppressions\.0\.expires: /);
  });
});

describe('config', () => {
  it('a delivery file\'s problems name the file, line and column: a YAML syntax error, and a secret written as seam.yml writes it (${env:NAME}) or inline, with what to write', async () => {
    const { loadDeliveryConfig } = await import('../registry.ts');
    const dir = mkdtempSync(join(tmpdir(), 'seam-delivery-'));
    const f = join(dir, 'delivery.yml');
    writeFileSync(f, ['outputs:', '  hook: { type: webhook, url: "https://soar.example/hooks/seam", secret: "${env:SEAM_WEBHOOK_SECRET}" }', '  chat: { type: slack, webhookUrl: "https://hooks.slack.com/services/T0/B0/x" }', 'routes:', '  - { name: all, outputs: [hook, chat] }', ''].join('\n'));
    expect(() => loadDeliveryConfig(f)).toThrow(
      expect.objectContaining({
        code: 'SEAM_ERR_CONFIG_INVALID',
        message: expect.stringContaining(`${f}:2:74 outputs.hook.secret: Invalid input: expected object, received string (the delivery file names a secret's source as an object: write { env: SEAM_WEBHOOK_SECRET }; \${env:…} is seam.yml's form)`),
      }),
    );
    expect(() => loadDeliveryConfig(f)).toThrow(/delivery\.yml:3:\d+ outputs\.chat\.webhookUrl: .*\(a secret is never written inline: give its source, \{ env: NAME \} or \{ file: \/path \}\)/);
    writeFileSync(f, 'outputs:\n  hook: { type: webhook, url: x\nroutes: []\n');
    expect(() => loadDeliveryConfig(f)).toThrow(new RegExp(`${f.replaceAll('.', '\\.')}:\\d+:\\d+ \\(root\\): `));
  });

  it('a route naming an unknown output is refused with its path', () => {
    const r = DeliveryConfig.safeParse({ outputs: { soc: { type: 'webhook', url: 'http://127.0.0.1:1/' } }, routes: [{ name: 'r', outputs: ['soc', 'pager'] }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['routes', 0, 'outputs', 1], message: "no output named 'pager'" });
  });
});

describe('folded alerts (ADR 0050)', () => {
  it('are not notified on any output; the leader is, once, and names the rules folded into it', async () => {
    const soc = await startReceiver();
    const chat = await startReceiver();
    const pager = await startReceiver();
    closers.push(soc.close, chat.close, pager.close);
    process.env.SEAM_TEST_FOLD_SLACK_URL = chat.url;
    process.env.SEAM_TEST_FOLD_PD_KEY = 'routing-key';
    const config = DeliveryConfig.parse({
      outputs: {
        soc: { type: 'webhook', url: soc.url },
        chat: { type: 'slack', webhookUrl: { env: 'SEAM_TEST_FOLD_SLACK_URL' } },
        pager: { type: 'pagerduty', url: pager.url, routingKey: { env: 'SEAM_TEST_FOLD_PD_KEY' } },
      },
      throttle: { windowMs: 0 },
      routes: [{ name: 'all', outputs: ['soc', 'chat', 'pager'], minLevel: 'medium' }],
    });
    const d = new Deliverer(config, buildOutputs(config));
    // One pod creation, four rules (the demo's node-debugger), and one alert on another event.
    const pod = { events: ['ev-pod'], native_ids: ['nat-pod'] };
    const alerts = [
      testAlert({ n: 1, ruleId: 'kube-system-pod', level: 'medium', ...pod, rule: { id: 'kube-system-pod', title: 'Pod Created In Kube System Namespace', level: 'medium', tags: [], type: 'sigma' } }),
      testAlert({ n: 2, ruleId: 'privileged-pod', level: 'high', ...pod, rule: { id: 'privileged-pod', title: 'Privileged Pod Created', level: 'high', tags: [], type: 'sigma' } }),
      testAlert({ n: 3, ruleId: 'host-pid', level: 'high', ...pod, rule: { id: 'host-pid', title: 'Host PID or IPC Pod Created', level: 'high', tags: [], type: 'sigma' } }),
      testAlert({ n: 4, ruleId: 'host-network', level: 'medium', ...pod, rule: { id: 'host-network', title: 'Host-Network Pod Created Directly By A User', level: 'medium', tags: [], type: 'sigma' } }),
      testAlert({ n: 5, level: 'high' }),
    ];
    foldAlerts('ev-pod', alerts);
    for (const a of alerts) await d.deliver(a);
    for (const rx of [soc, chat, pager]) expect(rx.requests).toHaveLength(2);
    expect(bodies(soc).map((b) => b.alert.id)).toEqual(['alert-host-pid-3', 'alert-r-irsa-token-theft-5']);
    expect((bodies(soc)[0]!.alert as { also_matched?: { title: string }[] }).also_matched!.map((m) => m.title)).toEqual([
      'Privileged Pod Created',
      'Host-Network Pod Created Directly By A User',
      'Pod Created In Kube System Namespace',
    ]);
    const also = 'high Privileged Pod Created; medium Host-Network Pod Created Directly By A User; medium Pod Created In Kube System Namespace';
    expect(JSON.stringify(chat.requests[0]!.json)).toContain(`*Also matched on this event*\\n${also}`);
    expect((pager.requests[0]!.json as { payload: { custom_details: { also_matched?: string } } }).payload.custom_details.also_matched).toBe(also);
    expect(JSON.stringify(chat.requests[1]!.json)).not.toContain('Also matched');
    expect(d.stats).toMatchObject({ alerts: 2, folded: 3, sent: 6, duplicates: 0 });
    // A folded alert handed again (a redelivered batch) is still not notified, nor counted twice.
    await d.deliver(alerts[0]!);
    expect(soc.requests).toHaveLength(2);
    expect(d.stats).toMatchObject({ folded: 3, duplicates: 1 });
  });
});

describe('early alerts held for their final fold (ADR 0052)', () => {
  // One kubectl-created pod in kube-system: a low Sigma rule raised early (provisional), then the ordered path's
  // final fold, where a high native detection on the same event leads and the Sigma alert is folded into it.
  const ev = { events: ['ev-pod'], native_ids: ['nat-pod'] };
  const early = (): Alert => ({ ...testAlert({ n: 1, ruleId: 'kube-system-pod', ...ev, rule: { id: 'kube-system-pod', title: 'Pod Created In Kube System Namespace', level: 'low', tags: [], type: 'sigma' } }), provisional: true });
  const finals = (): Alert[] => {
    const { provisional: _p, ...sigma } = early();
    const native = testAlert({ n: 2, ruleId: 'seam-native-privileged-pod', ...ev, rule: { id: 'seam-native-privileged-pod', title: 'Privileged pod by a human', level: 'high', tags: [], type: 'native' } });
    const out = [sigma, native];
    foldAlerts('ev-pod', out);
    return out;
  };
  const setup = async (fold: Record<string, unknown> = {}) => {
    const clock = { wall: 1_000_000 };
    const { soc, d } = await deliverer({ throttle: { windowMs: 0 }, fold, routes: [{ name: 'r', outputs: ['soc'], minLevel: 'low' }] }, () => clock.wall);
    const sent = () => bodies(soc).map((b) => `${b.alert.id}${(b.alert as Alert).provisional === true ? ' (provisional)' : ''}`);
    return { clock, soc, d, sent };
  };

  it('the early low Sigma leader and the high native leader of the same event within the window: one notification, the native, naming the Sigma rule', async () => {
    // Both orders of the finals (they travel on different partitions): the same notification.
    for (const order of [[1, 0], [0, 1]]) {
      const { clock, soc, d, sent } = await setup();
      expect(await d.deliver(early())).toEqual([]);
      expect(d.heldNow()).toBe(1);
      expect(d.holding('alert-kube-system-pod-1')).toBe(true);
      clock.wall += 60_500; // the allowed lateness and a bit: the finals come
      expect(await d.flushDue()).toEqual([]);
      const f = finals();
      for (const i of order) await d.deliver(f[i]!);
      await d.flushAll();
      expect(sent()).toEqual(['alert-seam-native-privileged-pod-2']);
      expect((bodies(soc)[0]!.alert as Alert).also_matched).toEqual([{ rule_id: 'kube-system-pod', title: 'Pod Created In Kube System Namespace', level: 'low', alert_id: 'alert-kube-system-pod-1' }]);
      expect(d.stats).toMatchObject({ alerts: 1, held: 1, heldExpired: 0, heldOverflow: 0, folded: 1, sent: 1 });
      expect(d.heldNow()).toBe(0);
    }
  });

  it('beyond the window: the early alert as it was, then the native, two notifications', async () => {
    const { clock, d, sent } = await setup({ windowMs: 5_000 });
    await d.deliver(early());
    clock.wall += 4_999;
    expect(await d.flushDue()).toEqual([]);
    clock.wall += 1;
    expect((await d.flushDue()).map((o) => o.notification.id)).toEqual(['alert-kube-system-pod-1']);
    for (const a of finals().reverse()) await d.deliver(a);
    expect(sent()).toEqual(['alert-kube-system-pod-1 (provisional)', 'alert-seam-native-privileged-pod-2']);
    // Its final, folded, was counted once (the early one was notified): a duplicate of a handled id.
    expect(d.stats).toMatchObject({ alerts: 2, held: 1, heldExpired: 1, folded: 0, duplicates: 1, sent: 2 });
  });

  it('an early alert that still leads in the final fold is notified once, as its final (enriched, full also_matched)', async () => {
    const { d, sent } = await setup();
    await d.deliver(early());
    const { provisional: _p, ...final } = early();
    const low = testAlert({ n: 3, ruleId: 'seam-native-pod-info', ...ev, level: 'informational', rule: { id: 'seam-native-pod-info', title: 'Pod created', level: 'informational', tags: [], type: 'native' } });
    foldAlerts('ev-pod', [final, low]);
    await d.deliver(low);
    await d.deliver(final);
    // A redelivered provisional after that is a duplicate.
    await d.deliver(early());
    await d.flushAll();
    expect(sent()).toEqual(['alert-kube-system-pod-1']);
    expect(d.stats).toMatchObject({ alerts: 1, held: 1, heldExpired: 0, folded: 1, duplicates: 1 });
  });

  it('stop (flushAll) notifies every early alert still held; 0 turns holding off', async () => {
    const { d, sent } = await setup();
    for (const n of [11, 12, 13]) await d.deliver({ ...testAlert({ n, ruleId: `r-${n}`, level: 'medium' }), provisional: true });
    // A redelivered batch hands one of them again: still one held.
    await d.deliver({ ...testAlert({ n: 12, ruleId: 'r-12', level: 'medium' }), provisional: true });
    expect(d.heldNow()).toBe(3);
    expect(sent()).toEqual([]);
    expect((await d.flushAll()).map((o) => o.notification.id)).toEqual(['alert-r-11-11', 'alert-r-12-12', 'alert-r-13-13']);
    expect(d.heldNow()).toBe(0);
    expect(d.stats).toMatchObject({ held: 3, heldExpired: 3, duplicates: 1, sent: 3 });

    const off = await setup({ windowMs: 0 });
    await off.d.deliver(early());
    expect(off.sent()).toEqual(['alert-kube-system-pod-1 (provisional)']);
    expect(off.d.stats).toMatchObject({ held: 0, sent: 1 });
  });

  it('holds at most fold.maxHeld: past it an early alert is notified at once and counted', async () => {
    const { clock, d, sent } = await setup({ maxHeld: 2 });
    for (const n of [21, 22, 23]) {
      await d.deliver({ ...testAlert({ n, ruleId: `r-${n}`, level: 'medium' }), provisional: true });
      clock.wall += 1_000;
    }
    expect(sent()).toEqual(['alert-r-23-23 (provisional)']);
    expect(d.stats).toMatchObject({ held: 2, heldOverflow: 1 });
    // The oldest first, each once its own window has passed.
    clock.wall = 1_000_000 + 75_000;
    expect((await d.flushDue()).map((o) => o.notification.id)).toEqual(['alert-r-21-21']);
    clock.wall += 1_000;
    expect((await d.flushDue()).map((o) => o.notification.id)).toEqual(['alert-r-22-22']);
    expect(d.stats).toMatchObject({ held: 2, heldExpired: 2, heldOverflow: 1, sent: 3 });
  });

  it('high and critical early alerts page at once (fold.notifyAtOnceFrom, default high); critical holds high ones too', async () => {
    const { d, sent } = await setup();
    await d.deliver({ ...testAlert({ n: 41, ruleId: 'r-41', level: 'high' }), provisional: true });
    await d.deliver({ ...testAlert({ n: 42, ruleId: 'r-42', level: 'critical' }), provisional: true });
    await d.deliver({ ...testAlert({ n: 43, ruleId: 'r-43', level: 'medium' }), provisional: true });
    expect(sent()).toEqual(['alert-r-41-41 (provisional)', 'alert-r-42-42 (provisional)']);
    expect(d.heldNow()).toBe(1);
    const strict = await setup({ notifyAtOnceFrom: 'critical' });
    await strict.d.deliver({ ...testAlert({ n: 44, ruleId: 'r-44', level: 'high' }), provisional: true });
    expect(strict.sent()).toEqual([]);
    expect(strict.d.heldNow()).toBe(1);
  });

  it('an early alert no route takes is not held', async () => {
    const { d } = await setup();
    await d.deliver({ ...testAlert({ n: 31, level: 'informational' }), provisional: true });
    expect(d.stats).toMatchObject({ held: 0, unrouted: 1 });
  });
});

describe('the example config', () => {
  it('deploy/config/delivery.example.yml and its suppressions file are valid', async () => {
    const { join } = await import('node:path');
    const { loadDeliveryConfig } = await import('../registry.ts');
    const { loadSuppressions } = await import('./config.ts');
    const root = join(import.meta.dirname, '../../..');
    const c = loadDeliveryConfig(join(root, 'deploy/config/delivery.example.yml'));
    expect(Object.keys(c.outputs)).toEqual(['soc-webhook', 'slack-soc', 'sns-security', 'pager']);
    expect(c.routes.map((r) => r.name)).toEqual(['everything-a-human-should-see', 'slack-prod', 'page-on-credential-theft']);
    // Relative to the delivery file, wherever the command runs.
    expect(c.suppressionsFile).toBe(join(root, 'deploy/config/suppressions.example.yml'));
    expect(loadSuppressions(c.suppressionsFile!)).toHaveLength(1);
  });
});
