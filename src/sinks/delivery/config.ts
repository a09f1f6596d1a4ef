import { z } from 'zod';
import { loadYamlFile } from '../../core/config/yaml-file.ts';
import { ALERT_LEVELS } from '../../detect/alert.ts';

/**
 * Which alerts go where (routes), how repeats collapse (throttle) and what is silenced
 * (suppressions). Delivery never filters what is indexed: the index role reads `seam.alerts` in its
 * own consumer group, so a suppressed or throttled alert is still in `<prefix>-alerts-*`.
 */

export const Route = z
  .strictObject({
    name: z.string().min(1).describe('Route name (in stats and dead letters).'),
    outputs: z.array(z.string().min(1)).min(1).describe('Names of the outputs (keys of `outputs`) a matching alert goes to.'),
    minLevel: z.enum(ALERT_LEVELS).default('medium').describe('Lowest alert level the route takes (informational < low < medium < high < critical); a GuardDuty finding alert counts at the higher of its rule\'s level and the finding\'s severity band (ADR 0052).'),
    tags: z.array(z.string().min(1)).optional().describe('Takes the alert only if its rule has at least one of these tags (e.g. attack.privilege-escalation); a tag ending in `*` matches by prefix.'),
    clusters: z.array(z.string().min(1)).optional().describe('Takes the alert only if it names one of these EKS clusters.'),
    accounts: z.array(z.string().min(1)).optional().describe('Takes the alert only if it names one of these AWS accounts.'),
    rules: z.array(z.string().min(1)).optional().describe('Takes the alert only if its rule id is one of these.'),
  })
  .describe('A route: alerts matching every given selector go to its outputs. An alert goes to the union of the outputs of every route it matches.');
export type Route = z.infer<typeof Route>;

export const Throttle = z
  .strictObject({
    windowMs: z
      .number()
      .int()
      .min(0)
      .default(600_000)
      .describe('Repeats of one rule (one variant of a native detection) and one principal (the resolved origin, else the acting principal) within this much event time after the first are collapsed: the first is sent at once, the rest become one notification carrying their count when the window ends; one above every level the window notified is sent at once (an escalation). 0 turns throttling off.'),
  })
  .prefault({})
  .describe('Throttling of repeated notifications.');
export type Throttle = z.infer<typeof Throttle>;

export const Fold = z
  .strictObject({
    windowMs: z
      .number()
      .int()
      .min(0)
      .default(75_000)
      .describe(
        "How long (wall clock) the notification of an early (provisional) alert, ADR 0025, is held for its final version, which says whether a higher alert of the same event leads it (ADR 0050, 0052): a final folded into another alert is not notified (its leader is), a final that leads is notified in its place, and a held alert whose final has not come when this has passed is notified as it is. The final follows the early alert by about the allowed lateness (`rules.allowedLatenessMs`, 60 s by default), hence 75 s. 0 notifies early alerts at once (an event can then be notified twice).",
      ),
    maxHeld: z.number().int().min(1).default(10_000).describe('Early alerts held at most; past it an early alert is notified at once (counted as `heldOverflow`).'),
    notifyAtOnceFrom: z
      .enum(ALERT_LEVELS)
      .default('high')
      .describe(
        'Early alerts at this level or above are notified at once, not held: a page for a high or critical action should not wait the allowed lateness. Only a critical alert of the same event can then follow it (a second notification, an escalation). `critical` holds high early alerts too; set `informational` to hold none.',
      ),
  })
  .prefault({})
  .describe('Holding early alerts for their final fold (ADR 0052): one notification per action on the Kafka path.');
export type Fold = z.infer<typeof Fold>;

export const Suppression = z
  .strictObject({
    rule: z.string().min(1).describe('Rule id the suppression applies to, or `*` for every rule.'),
    entity: z
      .string()
      .min(1)
      .describe('The entity silenced: a principal or origin id/ARN, a Kubernetes user, a service account (ns/name), a pod (ns/name), an AWS account or a cluster; `*` for any.'),
    expires: z.iso.datetime({ offset: true }).describe('When the suppression stops applying (ISO 8601). Required: nothing is silenced forever.'),
    reason: z.string().min(1).describe('Why (a ticket, an approved change): required, so the next reader of the file knows.'),
  })
  .describe('A suppression: matching alerts are counted and indexed but not delivered until it expires.');
export type Suppression = z.infer<typeof Suppression>;

export const SuppressionsFile = z.strictObject({ suppressions: z.array(Suppression) }).describe('A suppressions YAML file.');

/** Reads a suppressions YAML file (`suppressions: [{ rule, entity, expires, reason }]`); a bad file stops with every problem at file:line:col. */
export function loadSuppressions(path: string): Suppression[] {
  return loadYamlFile(path, SuppressionsFile).suppressions;
}
