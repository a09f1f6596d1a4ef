import { throwawayGroupStem } from '../bus/groups.ts';
import { defaultGroupId, type RoleName } from './roles/role.ts';
import type { PipelineTopics } from './topics.ts';

/**
 * What a role does on Kafka, by topic and consumer group: the one list the roles' start (topics created when
 * missing, startKafkaRoles), their subscriptions and the per-role MSK IAM policies in deploy/iam
 * (test: src/pipeline/access.test.ts) all come from.
 */
export interface RoleKafkaAccess {
  /** Topics it consumes or re-reads (ReadData). */
  read: readonly string[];
  /** Topics it produces to (WriteData). */
  write: readonly string[];
  /** Topics whose partitions and offsets it only looks at (DescribeTopic): the correlate role watches stage 1's raw topics (ADR 0009). */
  describe: readonly string[];
  /**
   * Topics it creates at start when they are missing (CreateTopic): the ones it reads or writes. The deliver role
   * tries too, but its policy has no CreateTopic (msk-deliver-policy.json): on MSK it exits, to be restarted, until the
   * other roles made them.
   */
  create: readonly string[];
  /** Consumer groups it joins and commits or sets offsets in (AlterGroup, DescribeGroup): exact ids. */
  groups: readonly string[];
  /** Group id stems of its short-lived groups (src/bus/groups.ts): every id starting with one is its. */
  groupStems: readonly string[];
  /** Groups whose committed offsets it only reads (DescribeGroup): the correlate role reads the normalize group's. */
  describeGroups: readonly string[];
}

export function roleKafkaAccess(role: RoleName, t: PipelineTopics, groupPrefix = ''): RoleKafkaAccess {
  const own = [defaultGroupId(role, groupPrefix)];
  const rebuild = [throwawayGroupStem('rebuild', groupPrefix)];
  switch (role) {
    case 'normalize': {
      const read = [...t.rawAll];
      const write = [t.signals, t.events, t.dlq];
      return { read, write, describe: [], create: [...read, ...write], groups: own, groupStems: [], describeGroups: [] };
    }
    case 'correlate': {
      // Consumes signals; its rebuild re-reads signals, identity and alerts (src/pipeline/history.ts).
      const read = [t.signals, t.identity, t.alerts];
      const write = [t.alerts, t.events, t.identity, t.incidents, t.dlq];
      return { read, write, describe: [...t.rawAll], create: unique([...read, ...write]), groups: own, groupStems: rebuild, describeGroups: [defaultGroupId('normalize', groupPrefix)] };
    }
    case 'index': {
      const read = [t.events, t.alerts, t.identity, t.incidents];
      const write = [t.dlq];
      return { read, write, describe: [], create: [...read, ...write], groups: own, groupStems: [], describeGroups: [] };
    }
    case 'deliver':
      // Consumes alerts; at start re-reads them (which alerts earlier members delivered). Dead letters of notifications.
      return { read: [t.alerts], write: [t.dlq], describe: [], create: [t.alerts, t.dlq], groups: own, groupStems: rebuild, describeGroups: [] };
  }
}

/** Every topic the role opens in any way. */
export const roleTopics = (a: RoleKafkaAccess): string[] => unique([...a.read, ...a.write, ...a.describe]);

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
