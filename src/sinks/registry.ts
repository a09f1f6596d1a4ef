import { z } from 'zod';
import { DELIVERY_PATH_FIELDS } from '../core/config/paths.ts';
import { loadYamlFile } from '../core/config/yaml-file.ts';
import { Fold, Route, Suppression, Throttle } from './delivery/config.ts';
import { secretRefHint, type AlertOutput } from './delivery/output.ts';
import { PagerDutyOutputConfig } from './pagerduty/config.ts';
import { PagerDutyOutput } from './pagerduty/sink.ts';
import { SlackOutputConfig } from './slack/config.ts';
import { SlackOutput } from './slack/sink.ts';
import { SnsOutputConfig } from './sns/config.ts';
import { SnsOutput } from './sns/sink.ts';
import { WebhookOutputConfig } from './webhook/config.ts';
import { WebhookOutput } from './webhook/sink.ts';

/**
 * The explicit list of alert output types (type id → { schema, build }), like src/sources/registry.ts:
 * no registration by import side effect; adding an output means adding a line here.
 */
export const OUTPUTS = {
  webhook: { schema: WebhookOutputConfig, build: (name: string, c: WebhookOutputConfig): AlertOutput => new WebhookOutput(name, c) },
  slack: { schema: SlackOutputConfig, build: (name: string, c: SlackOutputConfig): AlertOutput => new SlackOutput(name, c) },
  sns: { schema: SnsOutputConfig, build: (name: string, c: SnsOutputConfig): AlertOutput => new SnsOutput(name, c) },
  pagerduty: { schema: PagerDutyOutputConfig, build: (name: string, c: PagerDutyOutputConfig): AlertOutput => new PagerDutyOutput(name, c) },
} as const;

export const OutputConfig = z.discriminatedUnion('type', [WebhookOutputConfig, SlackOutputConfig, SnsOutputConfig, PagerDutyOutputConfig]);
export type OutputConfig = z.infer<typeof OutputConfig>;

export const DeliveryConfig = z
  .strictObject({
    outputs: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), OutputConfig).describe('Alert outputs by name; routes refer to these names.'),
    routes: z.array(Route).min(1).describe('Which alerts go to which outputs.'),
    throttle: Throttle,
    fold: Fold,
    suppressions: z.array(Suppression).default([]).describe('Suppressions given inline.'),
    suppressionsFile: z.string().min(1).optional().describe('A YAML file of further suppressions (`suppressions: [...]`), read at start.'),
    dashboardUrl: z
      .string()
      .optional()
      .describe('Link template to the dashboard, with {alert.id}, {rule.id}, {principal}, {cluster}, {account} and {timestamp} replaced (URL-encoded), e.g. `https://dashboards.example/app/discover#/?_a=(query:(language:kuery,query:%27id:%22{alert.id}%22%27))`.'),
  })
  .superRefine((c, ctx) => {
    c.routes.forEach((r, i) =>
      r.outputs.forEach((o, j) => {
        if (!(o in c.outputs)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'outputs', j], message: `no output named '${o}'` });
      }),
    );
  })
  .describe('`seam run --delivery <file>`: where alerts from `seam.alerts` are delivered.');
export type DeliveryConfig = z.infer<typeof DeliveryConfig>;

export function buildOutput(name: string, c: OutputConfig): AlertOutput {
  switch (c.type) {
    case 'webhook':
      return OUTPUTS.webhook.build(name, c);
    case 'slack':
      return OUTPUTS.slack.build(name, c);
    case 'sns':
      return OUTPUTS.sns.build(name, c);
    case 'pagerduty':
      return OUTPUTS.pagerduty.build(name, c);
  }
}

export function buildOutputs(c: DeliveryConfig): Map<string, AlertOutput> {
  return new Map(Object.entries(c.outputs).map(([name, oc]) => [name, buildOutput(name, oc)]));
}

/**
 * Reads and validates a delivery config YAML file: every problem at `file:line:col field.path` (a YAML syntax error
 * too), SEAM_ERR_CONFIG_INVALID. Relative paths in it (suppressionsFile, secrets' `file`) resolve against its folder,
 * as in seam.yml; a secret written as seam.yml writes it (`${env:NAME}`) gets the form this file wants.
 */
export function loadDeliveryConfig(path: string): DeliveryConfig {
  return loadYamlFile(path, DeliveryConfig, { pathFields: DELIVERY_PATH_FIELDS, hint: secretRefHint });
}
