import type { AlertLevel } from '../../detect/alert.ts';
import { shortChain } from '../../identity/chain-text.ts';
import { alsoMatchedText } from '../../detect/fold.ts';
import { notificationLevel, readSecret, type Notification } from '../delivery/output.ts';
import { WebhookOutput } from '../webhook/sink.ts';
import type { PagerDutyOutputConfig } from './config.ts';

const SEVERITY: Record<AlertLevel, 'info' | 'warning' | 'error' | 'critical'> = {
  informational: 'info',
  low: 'info',
  medium: 'warning',
  high: 'error',
  critical: 'critical',
};

/**
 * A PagerDuty Events v2 `trigger` event. `dedup_key` is the alert id, so a redelivered notification
 * updates the same PagerDuty alert instead of paging twice; a repeat summary uses its own id. `severity` and
 * `custom_details.level` are the level the alert was routed at (ADR 0052); `custom_details.rule_level` the rule's
 * own, only when it differs (a GuardDuty finding alert routed at its band).
 */
export function pagerDutyEvent(n: Notification, routingKey: string): Record<string, unknown> {
  const a = n.alert;
  const who = a.origin?.id ?? a.principal?.id;
  const chain = shortChain(a.chain);
  const routed = notificationLevel(a);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: n.id,
    payload: {
      summary: `${n.count > 1 ? `[${n.count}×] ` : ''}${a.rule.title}${who ? ` by ${who}` : ''}`.slice(0, 1024),
      source: a.cluster ?? a.account ?? 'seam',
      severity: SEVERITY[routed.level],
      timestamp: a['@timestamp'],
      component: a.cluster,
      group: a.account,
      class: a.rule.id,
      custom_details: {
        level: routed.level,
        rule_level: routed.ruleLevel,
        finding_severity: a.finding?.severity,
        rule: a.rule.title,
        rule_id: a.rule.id,
        who_really_acted: who,
        acting_credentials: a.principal?.id,
        chain: chain === '' ? undefined : chain,
        source_ip: a.source_ip,
        user_agent: a.user_agent,
        region: a.region,
        outcome: a.outcome,
        summary: a.summary,
        triage: a.triage,
        also_matched: alsoMatchedText(a),
        count: n.count,
        window: n.window,
        tags: a.rule.tags,
        alert_id: a.id,
      },
    },
    ...(n.link ? { links: [{ href: n.link, text: 'Open in Seam dashboards' }] } : {}),
  };
}

export class PagerDutyOutput extends WebhookOutput {
  override readonly type = 'pagerduty';

  constructor(name: string, config: PagerDutyOutputConfig) {
    const key = readSecret(config.routingKey, `output ${name} routingKey`);
    super(name, { url: config.url, retry: config.retry, ...(config.secret ? { secret: config.secret } : {}) }, (n) => pagerDutyEvent(n, key));
  }
}
