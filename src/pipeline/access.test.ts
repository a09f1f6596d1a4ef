import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { THROWAWAY_GROUP_KINDS, throwawayGroupId, throwawayGroupStem } from '../bus/groups.ts';
import { CHECKPOINT_TOPIC, LEASE_TOPIC } from '../sources/checkpoint/kafka-store.ts';
import { roleKafkaAccess, roleTopics, type RoleKafkaAccess } from './access.ts';
import { defaultGroupId, ROLE_NAMES, type RoleName } from './roles/role.ts';
import { pipelineTopics, topicPlan } from './topics.ts';

/**
 * The per-role MSK IAM policies in deploy/iam against what each role's code opens (roleKafkaAccess: the list
 * startKafkaRoles creates topics from): every topic and group the role uses is allowed, with IAM's wildcard
 * semantics on the resource ARN, and nothing else Seam has is — another role's topic or group, or another
 * pipeline's (a different topic or group prefix).
 */
const POLICY: Record<RoleName, string> = {
  normalize: 'msk-normalize-policy.json',
  correlate: 'msk-correlate-policy.json',
  index: 'msk-index-policy.json',
  deliver: 'msk-deliver-policy.json',
};

type Statement = { Effect: string; Action: string | string[]; Resource: string | string[] };
const list = (x: string | string[]): string[] => (typeof x === 'string' ? [x] : x);
const policy = (file: string): Statement[] => (JSON.parse(readFileSync(join(import.meta.dirname, '../../deploy/iam', file), 'utf8')) as { Statement: Statement[] }).Statement;

/** IAM resource matching: `*` any run of characters, `?` one character, the rest literal and case-sensitive. */
function iamMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

const CLUSTER = 'seam-msk/0b1c2d3e-1111-2222-3333-444455556666-2';
function arns(topicPrefix: string, groupPrefix: string): { fill(pattern: string): string; cluster: string; topic(t: string): string; group(g: string): string } {
  const base = 'arn:aws:kafka:us-west-2:111122223333';
  return {
    fill: (p) =>
      p
        .replaceAll('REGION', 'us-west-2')
        .replaceAll('ACCOUNT_ID', '111122223333')
        .replaceAll('MSK_CLUSTER_NAME/MSK_CLUSTER_UUID', CLUSTER)
        .replaceAll('TOPIC_PREFIX', topicPrefix)
        .replaceAll('GROUP_PREFIX', groupPrefix),
    cluster: `${base}:cluster/${CLUSTER}`,
    topic: (t) => `${base}:topic/${CLUSTER}/${t}`,
    group: (g) => `${base}:group/${CLUSTER}/${g}`,
  };
}

function allows(statements: Statement[], fill: (p: string) => string, action: string, resource: string): boolean {
  return statements.some((st) => st.Effect === 'Allow' && list(st.Action).includes(action) && list(st.Resource).some((r) => iamMatch(fill(r), resource)));
}

const ACTIONS = {
  topic: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData', 'kafka-cluster:CreateTopic'],
  group: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DeleteGroup'],
};

/** What the role may do to a topic or group, from its access list. */
function expected(a: RoleKafkaAccess, role: RoleName): { topic(t: string, action: string): boolean; group(g: string, action: string): boolean } {
  const stemmed = (g: string): boolean => a.groupStems.some((s) => g.startsWith(s));
  return {
    topic: (t, action) => {
      if (action === 'kafka-cluster:ReadData') return a.read.includes(t);
      if (action === 'kafka-cluster:WriteData') return a.write.includes(t);
      if (action === 'kafka-cluster:DescribeTopic') return roleTopics(a).includes(t);
      // The deliver role has no CreateTopic (it waits for the others to create its topics).
      return role !== 'deliver' && a.create.includes(t);
    },
    group: (g, action) => {
      if (action === 'kafka-cluster:DeleteGroup') return stemmed(g);
      if (action === 'kafka-cluster:DescribeGroup' && a.describeGroups.includes(g)) return true;
      return a.groups.includes(g) || stemmed(g);
    },
  };
}

describe('per-role MSK IAM policies (deploy/iam) cover what each role opens, and nothing else', () => {
  for (const [topicPrefix, groupPrefix] of [
    ['', ''],
    ['blue.', 'blue-'],
  ] as const) {
    const topics = pipelineTopics(topicPrefix);
    const other = pipelineTopics('green.');
    // Every topic and group Seam has, this pipeline's and another's.
    const universeTopics = [...new Set([...topicPlan(topics), ...topicPlan(other)].map((t) => t.topic).concat([CHECKPOINT_TOPIC, LEASE_TOPIC].flatMap((t) => [topicPrefix + t, `green.${t}`])))];
    const universeGroups = [groupPrefix, 'green-'].flatMap((p) => [...ROLE_NAMES.map((r) => defaultGroupId(r, p)), ...THROWAWAY_GROUP_KINDS.map((k) => throwawayGroupId(k, p))]);

    for (const role of ROLE_NAMES) {
      it(`${role} (topic prefix '${topicPrefix}', group prefix '${groupPrefix}')`, () => {
        const statements = policy(POLICY[role]);
        const { fill, cluster, topic, group } = arns(topicPrefix, groupPrefix);
        const a = roleKafkaAccess(role, topics, groupPrefix);
        const may = expected(a, role);
        const missing: string[] = [];
        const excess: string[] = [];
        const need = (action: string, resource: string): void => void (allows(statements, fill, action, resource) || missing.push(`${action} ${resource}`));

        for (const action of ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently']) need(action, cluster);
        for (const t of a.read) for (const action of ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']) need(action, topic(t));
        for (const t of a.write) for (const action of ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']) need(action, topic(t));
        for (const t of a.describe) need('kafka-cluster:DescribeTopic', topic(t));
        if (role !== 'deliver') for (const t of a.create) need('kafka-cluster:CreateTopic', topic(t));
        for (const g of a.groups) for (const action of ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup']) need(action, group(g));
        for (const g of a.describeGroups) need('kafka-cluster:DescribeGroup', group(g));
        for (const stem of a.groupStems) {
          // A group id as the code makes it (src/bus/groups.ts), with this pipeline's prefix.
          const kind = THROWAWAY_GROUP_KINDS.find((k) => throwawayGroupStem(k, groupPrefix) === stem)!;
          for (const action of ACTIONS.group) need(action, group(throwawayGroupId(kind, groupPrefix)));
        }

        for (const t of universeTopics) for (const action of ACTIONS.topic) if (allows(statements, fill, action, topic(t)) && !may.topic(t, action)) excess.push(`${action} ${t}`);
        for (const g of universeGroups) for (const action of ACTIONS.group) if (allows(statements, fill, action, group(g)) && !may.group(g, action)) excess.push(`${action} ${g}`);

        expect(missing, `${POLICY[role]} lacks what ${role} does`).toEqual([]);
        expect(excess, `${POLICY[role]} grants what ${role} never does`).toEqual([]);
        // No wildcard action, no action outside what Seam's clients do, and every statement used.
        const known = new Set(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently', ...ACTIONS.topic, ...ACTIONS.group]);
        expect(statements.flatMap((st) => list(st.Action)).filter((x) => !known.has(x))).toEqual([]);
        for (const st of statements) {
          for (const r of list(st.Resource)) {
            const used = [cluster, ...universeTopics.map(topic), ...universeGroups.map(group)].some((x) => iamMatch(fill(r), x));
            expect(used, `${POLICY[role]}: ${r} matches nothing Seam has`).toBe(true);
          }
        }
      });
    }
  }

  it('the access lists are what the roles subscribe to and produce (spot checks against src/pipeline/roles)', () => {
    const t = pipelineTopics();
    expect(roleKafkaAccess('normalize', t).read).toEqual(t.rawAll);
    expect(roleKafkaAccess('correlate', t).describeGroups).toEqual([defaultGroupId('normalize')]);
    expect(roleKafkaAccess('deliver', t, 'p-').groupStems).toEqual(['p-seam-rebuild-']);
    // The roles of one pipeline together create every topic of the plan, and nothing else.
    const created = new Set(ROLE_NAMES.flatMap((r) => roleKafkaAccess(r, t).create));
    expect([...created].sort()).toEqual(topicPlan(t).map((p) => p.topic).sort());
  });

  it('iamMatch: IAM wildcards', () => {
    expect(iamMatch('a/seam.raw.*', 'a/seam.raw.cloudtrail')).toBe(true);
    expect(iamMatch('a/seam.raw.*', 'a/seam.rawx')).toBe(false);
    expect(iamMatch('a/seam.alerts', 'a/blue.seam.alerts')).toBe(false);
    expect(iamMatch('a/seam-rebuild-*', 'a/seam-rebuild-0a1b')).toBe(true);
    expect(iamMatch('a/seam-?', 'a/seam-x')).toBe(true);
  });
});
