// The Slack Block Kit message and the PagerDuty Events v2 event, each POSTed to a real local receiver.
import { afterEach, describe, expect, it } from 'vitest';
import { testAlert } from '../../../test/helpers/alerts.ts';
import { startReceiver } from '../../../test/helpers/http-receiver.ts';
import { PagerDutyOutputConfig } from '../pagerduty/config.ts';
import { PagerDutyOutput } from '../pagerduty/sink.ts';
import { SlackOutputConfig } from './config.ts';
import { SlackOutput } from './sink.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('slack output', () => {
  it('sends a Block Kit message with level, rule, who really acted, the short chain and the dashboard link', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    process.env.SEAM_TEST_SLACK_URL = rx.url;
    const out = new SlackOutput('slack', SlackOutputConfig.parse({ type: 'slack', webhookUrl: { env: 'SEAM_TEST_SLACK_URL' } }));
    const alert = testAlert({ n: 1 });
    expect((await out.send({ id: alert.id, kind: 'alert', alert, count: 1, link: 'https://dash.example/a/1' })).ok).toBe(true);
    const msg = rx.requests[0]!.json as { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url?: string }[] }[] };
    const all = JSON.stringify(msg.blocks);
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: 'HIGH: IRSA token read from a pod and used from outside the cluster' } });
    expect(msg.blocks[1]!.fields!.map((f) => f.text)).toEqual([
      '*Level*\n:large_orange_circle: HIGH',
      '*Who really acted*\n`user/alice` (acting as `role/app-irsa`)',
      '*Cluster*\nprod-eks-01',
      '*Account*\n111122223333',
      '*From*\n203.0.113.9 us-west-2',
    ]);
    // The chain: each identity once (the exec hop was seen twice), arrows, no keys' noise.
    expect(all).toContain('*Chain*\\nuser/alice → k8s alice → pod app/web-1 → sa app/web → role/app-irsa');
    expect(msg.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ url: 'https://dash.example/a/1' }] });
    expect(msg.text).toBe('HIGH: IRSA token read from a pod and used from outside the cluster — user/alice');
  });

  it('a GuardDuty finding alert routed at its band shows the band in the header and the rule\'s own level beside it (ADR 0052)', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    process.env.SEAM_TEST_SLACK_URL = rx.url;
    const out = new SlackOutput('slack', SlackOutputConfig.parse({ type: 'slack', webhookUrl: { env: 'SEAM_TEST_SLACK_URL' } }));
    const alert = testAlert({ n: 1, level: 'medium', finding: { id: 'f-1', updated_at: '2026-12-01T10:00:00.000Z', severity: 9.5, severity_level: 'critical' } });
    // The band at or below the rule's level: the rule's level alone, as for any alert.
    const lower = testAlert({ n: 2, level: 'high', finding: { id: 'f-2', updated_at: '2026-12-01T10:00:00.000Z', severity: 5, severity_level: 'medium' } });
    await out.send({ id: alert.id, kind: 'alert', alert, count: 1 });
    await out.send({ id: lower.id, kind: 'alert', alert: lower, count: 1 });
    type Msg = { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] };
    const [msg, low] = rx.requests.map((r) => r.json as Msg);
    expect(msg!.blocks[0]).toMatchObject({ type: 'header', text: { text: 'CRITICAL: IRSA token read from a pod and used from outside the cluster' } });
    expect(msg!.blocks[1]!.fields![0]!.text).toBe('*Level*\n:red_circle: CRITICAL (GuardDuty severity band; rule level MEDIUM)');
    expect(msg!.text).toMatch(/^CRITICAL: /);
    expect(low!.blocks[0]!.text!.text).toBe('HIGH: IRSA token read from a pod and used from outside the cluster');
    expect(low!.blocks[1]!.fields![0]!.text).toBe('*Level*\n:large_orange_circle: HIGH');
  });

  it('a repeat summary says how many alerts it stands for', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    process.env.SEAM_TEST_SLACK_URL = rx.url;
    const out = new SlackOutput('slack', SlackOutputConfig.parse({ type: 'slack', webhookUrl: { env: 'SEAM_TEST_SLACK_URL' } }));
    const alert = testAlert({ n: 9 });
    await out.send({ id: `${alert.id}:repeats:8`, kind: 'repeats', alert, count: 8, window: { start: '2026-12-01T10:00:02.000Z', end: '2026-12-01T10:00:09.000Z' } });
    const all = rx.requests[0]!.body;
    expect(all).toContain('(8×)');
    expect(all).toContain('_8 alerts of this rule and principal between 2026-12-01T10:00:02.000Z and 2026-12-01T10:00:09.000Z_');
  });

  it('shows the rule\'s triage text in its own section after the summary, and none when the alert has no triage', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    process.env.SEAM_TEST_SLACK_URL = rx.url;
    const out = new SlackOutput('slack', SlackOutputConfig.parse({ type: 'slack', webhookUrl: { env: 'SEAM_TEST_SLACK_URL' } }));
    const triage = 'Which pod (app/web-1) and who exec’d into it <10 min before; revoke the role’s sessions & rotate what it read.';
    const alert = testAlert({ n: 1, triage });
    await out.send({ id: alert.id, kind: 'alert', alert, count: 1 });
    const bare = testAlert({ n: 2 });
    await out.send({ id: bare.id, kind: 'alert', alert: bare, count: 1 });
    type Block = { type: string; text?: { text: string } };
    const blocks = (rx.requests[0]!.json as { blocks: Block[] }).blocks;
    const at = blocks.findIndex((b) => b.text?.text.startsWith('*Triage*'));
    expect(blocks[at]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*Triage*\nWhich pod (app/web-1) and who exec’d into it &lt;10 min before; revoke the role’s sessions &amp; rotate what it read.' },
    });
    expect(blocks[at - 1]!.text!.text).toBe(alert.summary);
    expect(JSON.stringify((rx.requests[1]!.json as { blocks: Block[] }).blocks)).not.toContain('Triage');
  });
});

describe('pagerduty output', () => {
  it('sends an Events v2 trigger with the alert id as dedup_key, mapped severity and who really acted', async () => {
    const rx = await startReceiver({ secret: 'relay-secret' });
    closers.push(rx.close);
    process.env.SEAM_TEST_PD_KEY = 'R0UTINGKEY0000000000000000000000';
    process.env.SEAM_TEST_PD_SECRET = 'relay-secret';
    const out = new PagerDutyOutput('pager', PagerDutyOutputConfig.parse({ type: 'pagerduty', url: rx.url, routingKey: { env: 'SEAM_TEST_PD_KEY' }, secret: { env: 'SEAM_TEST_PD_SECRET' } }));
    const alert = testAlert({ n: 1, level: 'critical', triage: 'Which pod and who exec’d into it.' });
    expect((await out.send({ id: alert.id, kind: 'alert', alert, count: 1, link: 'https://dash.example/a/1' })).ok).toBe(true);
    expect(rx.requests[0]!.signatureOk).toBe(true);
    expect(rx.requests[0]!.json).toMatchObject({
      routing_key: 'R0UTINGKEY0000000000000000000000',
      event_action: 'trigger',
      dedup_key: alert.id,
      payload: {
        summary: 'IRSA token read from a pod and used from outside the cluster by arn:aws:iam::111122223333:user/alice',
        source: 'prod-eks-01',
        severity: 'critical',
        timestamp: alert['@timestamp'],
        class: 'r-irsa-token-theft',
        custom_details: {
          who_really_acted: 'arn:aws:iam::111122223333:user/alice',
          chain: 'user/alice → k8s alice → pod app/web-1 → sa app/web → role/app-irsa',
          source_ip: '203.0.113.9',
          user_agent: 'aws-cli/2.15.0',
          region: 'us-west-2',
          outcome: 'success',
          triage: 'Which pod and who exec’d into it.',
        },
      },
      links: [{ href: 'https://dash.example/a/1' }],
    });
    const details = (rx.requests[0]!.json as { payload: { custom_details: Record<string, unknown> } }).payload.custom_details;
    expect(details.level).toBe('critical');
    expect(details).not.toHaveProperty('rule_level');
  });

  it('a GuardDuty finding alert routed at its band pages at the band\'s severity and names the rule\'s level (ADR 0052)', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    process.env.SEAM_TEST_PD_KEY = 'R0UTINGKEY0000000000000000000000';
    const out = new PagerDutyOutput('pager', PagerDutyOutputConfig.parse({ type: 'pagerduty', url: rx.url, routingKey: { env: 'SEAM_TEST_PD_KEY' } }));
    const alert = testAlert({ n: 1, level: 'medium', finding: { id: 'f-1', updated_at: '2026-12-01T10:00:00.000Z', severity: 8, severity_level: 'high' } });
    await out.send({ id: `${alert.id}:high`, kind: 'alert', alert, count: 1 });
    const payload = (rx.requests[0]!.json as { dedup_key: string; payload: { severity: string; custom_details: Record<string, unknown> } });
    expect(payload.dedup_key).toBe(`${alert.id}:high`);
    expect(payload.payload.severity).toBe('error');
    expect(payload.payload.custom_details).toMatchObject({ level: 'high', rule_level: 'medium', finding_severity: 8 });
  });
});
