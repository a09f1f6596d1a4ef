import { z } from 'zod';
import { AwsCallConfigFields, AwsRegionName } from '../aws/client.ts';

const LEASE_REFUSED = 'the GuardDuty collector takes a static `replicas` list; `lease` is for cloudwatch-logs only so far';

/**
 * Detectors split between replicas by a static list (ADR 0004). Its own schema, not cloudwatch-logs' OwnershipConfig
 * less `lease`: the configuration reference lists a schema's fields, and this collector reads no lease settings.
 */
export const GuardDutyOwnershipConfig = z
  .strictObject(
    {
      replicaId: z.string().min(1).describe('This replica\'s id, e.g. the StatefulSet pod name (seam-collect-0).'),
      replicas: z.array(z.string().min(1)).min(1).describe('Every replica\'s id (a static list); each detector is read by exactly one (rendezvous hashing, ADR 0004).'),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' && iss.keys.includes('lease') ? LEASE_REFUSED : undefined) },
  )
  .refine((o) => o.replicas.includes(o.replicaId), { message: 'ownership.replicas must include ownership.replicaId' })
  .describe('Splits detectors between replicas so that two replicas never read the same detector.');
export type GuardDutyOwnershipConfig = z.infer<typeof GuardDutyOwnershipConfig>;

export const GuardDutySourceConfig = z
  .strictObject({
    type: z.literal('guardduty'),
    name: z.string().min(1).default('guardduty').describe('Collector name; part of checkpoint keys and transactional ids, so keep it stable.'),
    region: AwsRegionName.optional().describe('AWS region of the detectors, a region name such as eu-west-1 (anything else is refused); defaults to the SDK\'s (AWS_REGION).'),
    endpoint: z.url().optional().describe('GuardDuty endpoint override (a VPC endpoint, or the test stub).'),
    detectorIds: z.array(z.string().min(1)).optional().describe('Detectors to read; all that ListDetectors returns when omitted.'),
    pollIntervalMs: z.number().int().positive().default(60_000).describe('Wait between polls.'),
    lookbackMs: z
      .number()
      .int()
      .nonnegative()
      .default(5 * 60_000)
      .describe('Each poll re-reads findings updated this far behind the watermark; finding versions already emitted are skipped.'),
    initialLookbackMs: z
      .number()
      .int()
      .nonnegative()
      .default(24 * 60 * 60_000)
      .describe('Without a checkpoint, read findings updated this far in the past.'),
    maxPollWindowMs: z.number().int().positive().default(24 * 60 * 60_000).describe('Longest updatedAt span read in one poll.'),
    maxCatchUpMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 60 * 60_000)
      .describe(
        'How far back the collector resumes at most after downtime: it reads on from its checkpoint, but not findings updated before now − maxCatchUpMs. An older window is skipped, counted (seam_collector_gap_seconds_total, seam_collector_skipped_windows_total, label log_group = the detector id) and logged at WARN with the detector and the window start and end. At least lookbackMs.',
      ),
    ...AwsCallConfigFields,
    ownership: GuardDutyOwnershipConfig.optional().describe('Replica ownership of detectors (a static `replicas` list); omit when one replica runs.'),
  })
  .refine((c) => c.maxCatchUpMs >= c.lookbackMs, { message: 'maxCatchUpMs must be at least lookbackMs', path: ['maxCatchUpMs'] })
  .describe('Reads GuardDuty findings through the API (ListFindings by updatedAt, GetFindings in batches of 50).');
export type GuardDutySourceConfig = z.infer<typeof GuardDutySourceConfig>;
