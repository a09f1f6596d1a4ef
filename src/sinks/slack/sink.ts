import type { AlertLevel } from '../../detect/alert.ts';
import { shortChain, shortIdentity } from '../../identity/chain-text.ts';
import { alsoMatchedText } from '../../detect/fold.ts';
import { levelText, notificationLevel, readSecret, type Notification } from '../delivery/output.ts';
import { WebhookOutput } from '../webhook/sink.ts';
import type { SlackOutputConfig } from './config.ts';

const EMOJI: Record<AlertLevel, string> = {
  informational: ':information_source:',
  low: ':large_blue_circle:',
  medium: ':large_yellow_circle:',
  high: ':large_orange_circle:',
  critical: ':red_circle:',
};

/** Slack's mrkdwn needs &, < and > escaped in text that is not a link. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The Block Kit message: the level it was routed at and the rule title in the header (the rule's own level, where it
 * differs, beside it in the Level field: ADR 0052), who really acted (the identity graph's
 * origin, with the acting credentials when they differ), the chain in its short deduplicated form,
 * where (cluster, account, the last event's address and region), the summary, the rule's triage text, and a button to the dashboard when a link template is set.
 */
export function slackMessage(n: Notification): Record<string, unknown> {
  const a = n.alert;
  const routed = notificationLevel(a);
  const level = routed.level.toUpperCase();
  const title = `${level}: ${a.rule.title}${n.count > 1 ? ` (${n.count}×)` : ''}`;
  const origin = a.origin?.id ?? a.principal?.id;
  const acting = a.principal?.id;
  const who = origin === undefined ? 'unknown' : `\`${esc(shortIdentity(origin))}\`${acting !== undefined && acting !== origin ? ` (acting as \`${esc(shortIdentity(acting))}\`)` : ''}`;
  const chain = shortChain(a.chain);
  // Where the last event came from: its address and region, and whether it was refused or failed.
  const from = [a.source_ip, a.region, a.outcome === 'failure' ? '(request failed)' : undefined].filter((x) => x !== undefined && x !== '').join(' ');
  const fields = [
    { type: 'mrkdwn', text: `*Level*\n${EMOJI[routed.level]} ${levelText(routed)}` },
    { type: 'mrkdwn', text: `*Who really acted*\n${who}` },
    ...(a.cluster ? [{ type: 'mrkdwn', text: `*Cluster*\n${esc(a.cluster)}` }] : []),
    ...(a.account ? [{ type: 'mrkdwn', text: `*Account*\n${esc(a.account)}` }] : []),
    ...(from === '' ? [] : [{ type: 'mrkdwn', text: `*From*\n${esc(from)}` }]),
  ];
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150), emoji: true } },
    { type: 'section', fields },
  ];
  if (chain !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Chain*\n${esc(chain)}` } });
  const repeats = n.kind === 'repeats' && n.window ? `\n_${n.count} alerts of this rule and principal between ${n.window.start} and ${n.window.end}_` : '';
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${esc(a.summary)}${repeats}`.slice(0, 3000) } });
  if (a.triage) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Triage*\n${esc(a.triage)}`.slice(0, 3000) } });
  const also = alsoMatchedText(a);
  if (also !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Also matched on this event*\n${esc(also)}`.slice(0, 3000) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `rule \`${esc(a.rule.id)}\` · alert \`${a.id}\` · ${a['@timestamp']}` }] });
  if (n.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in dashboards' }, url: n.link }] });
  return { text: `${title}${origin ? ` — ${shortIdentity(origin)}` : ''}`, blocks };
}

export class SlackOutput extends WebhookOutput {
  override readonly type = 'slack';

  constructor(name: string, config: SlackOutputConfig) {
    super(name, { url: readSecret(config.webhookUrl, `output ${name} webhookUrl`), retry: config.retry }, slackMessage);
  }
}
