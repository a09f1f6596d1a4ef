/**
 * The schema of `seam collect`'s configuration (which collectors run, where they keep their positions), apart
 * from the registry that builds them (registry.ts): seam.yml's schema (core/config/schema.ts) includes it, and
 * every command reads seam.yml, so importing the registry there loaded the AWS SDK clients and kafkajs into
 * `seam replay` and `seam rules` too (~0.1 s of a one-event replay's start).
 */
import { z } from 'zod';
import { CHECKPOINT_TOPIC } from './checkpoint/kafka-store.ts';
import { CloudWatchLogsSourceConfig } from './cloudwatch-logs/config.ts';
import { FileSourceConfig } from './file/config.ts';
import { GuardDutySourceConfig } from './guardduty/config.ts';
import { SidecarSourceConfig } from './sidecar/config.ts';

export const SourceConfig = z.discriminatedUnion('type', [FileSourceConfig, CloudWatchLogsSourceConfig, GuardDutySourceConfig, SidecarSourceConfig]);
export type SourceConfig = z.infer<typeof SourceConfig>;

export const CollectConfig = z
  .strictObject({
    sources: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), SourceConfig).describe('Collectors by name (lowercase letters, digits, - and _): the name labels its metrics (`seam_records_in_total{role="collect",source=<name>}`, `seam_collector_*{collector=<name>}`) and its entry in the stats `seam collect` prints at exit. A cloudwatch-logs or guardduty collector\'s log lines, checkpoint keys and transactional ids use its `name` field instead (default: its type), so two collectors of one type reading the same log group or detector need different `name`s.'),
    checkpoint: z
      .strictObject({
        path: z.string().default('.seam/state/checkpoints.json').describe('State file for checkpoints when the bus is in memory (embedded mode).'),
        topic: z
          .string()
          .min(1)
          .optional()
          .describe(`Compacted topic for checkpoints when the bus is Kafka. Default \`<kafka.topicPrefix>${CHECKPOINT_TOPIC}\`; a name set here is used as written (no prefix).`),
      })
      .prefault({})
      .describe('Where collectors keep their positions.'),
    rawTopicPartitions: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Deprecated: set kafka.partitions.raw, which the roles and the collectors both read (review-ops L4). Read only when kafka.partitions.raw is not set in the file: the partitions of the seam.raw.<source> topics the collectors create. `seam config check` warns when it is set.',
      ),
  })
  .describe('`seam collect` configuration: which collectors run in this process.');
export type CollectConfig = z.infer<typeof CollectConfig>;
