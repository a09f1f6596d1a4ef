import { describe, expect, it } from 'vitest';
import { ACCOUNT, assumedRoleIdentity, ev, session } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { createNativeEngine } from './engine.ts';

// ECR calls as CloudTrail records them (PutImage with repositoryName, imageTag and the pushed image's id in
// responseElements; CreateRepository), over two days: the first is the account's learning period (24 h).
const ID = 'seam-native-ecr-new-pusher';
const REGION = 'us-west-2';
const H = 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString().replace(/\.\d+Z$/, 'Z');
const DOCKER = 'docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0-1017-azure os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))';
let n = 0;

/** An assumed-role identity (the shared test records' shape), a fresh ASIA key each time. */
const role = (name: string, sessionName: string): Record<string, unknown> => assumedRoleIdentity(session(name, sessionName, `ASIAEXAMPLE${String(++n).padStart(9, '0')}`));

const ci = (run: number): Record<string, unknown> => role('gha-image-builder', `GitHubActions-${run}`);
const dev = role('Developer', 'dave@example.com');

function ecr(identity: Record<string, unknown>, eventName: string, hours: number, rp: Record<string, unknown>, extra: Record<string, unknown> = {}): SeamEvent {
  n++;
  const push = eventName === 'PutImage';
  return ev(
    {
      eventVersion: '1.10',
      userIdentity: identity,
      eventTime: at(hours),
      eventSource: 'ecr.amazonaws.com',
      eventName,
      awsRegion: REGION,
      sourceIPAddress: '20.57.10.20',
      userAgent: DOCKER,
      requestParameters: rp,
      responseElements: push ? { image: { registryId: ACCOUNT, repositoryName: rp.repositoryName, imageId: { imageDigest: `sha256:${String(n).padStart(64, 'a')}`, imageTag: rp.imageTag } } } : null,
      requestID: `7c2e0a1b-0000-4000-8000-${String(n).padStart(12, '0')}`,
      eventID: `3d4e5f60-0000-4000-8000-${String(n).padStart(12, '0')}`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      ...extra,
    },
    undefined,
  );
}

const push = (identity: Record<string, unknown>, repo: string, tag: string, hours: number, extra: Record<string, unknown> = {}): SeamEvent =>
  ecr(identity, 'PutImage', hours, { repositoryName: repo, registryId: ACCOUNT, imageTag: tag, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }, extra);

/** Day 1: the pipeline pushes its two repositories. */
const learningDay = (): SeamEvent[] => [push(ci(1), 'payments-api', 'v1.4.0', 1), push(ci(2), 'checkout-worker', 'v2.0.1', 2), push(ci(3), 'payments-api', 'latest', 3)];

describe('Image pushed to an ECR repository by a principal that never pushed to it', () => {
  it('fires (medium) when a developer’s session overwrites the pipeline’s prod tag, naming repository, tag and the usual pusher', () => {
    const implant = push(dev, 'payments-api', 'latest', 30);
    const alerts = runNative(ID, [...learningDay(), push(ci(4), 'payments-api', 'v1.4.1', 29), implant]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.events).toEqual([implant.seam.id]);
    expect(alerts[0]!.summary).toContain('payments-api:latest');
    expect(alerts[0]!.summary).toContain(`arn:aws:iam::${ACCOUNT}:role/gha-image-builder`);
    // The triage text names the pushed image and where it came from, not field paths (SOC review M4).
    expect(alerts[0]!.triage).toMatch(/ pushed payments-api:latest .*from \S+/);
    expect(alerts[0]!.triage).toContain('the pipeline’s build of tag latest');
    expect(alerts[0]!.triage).not.toMatch(/requestParameters|responseElements/);
  });

  it('fires for a principal that never pushed anywhere, even to a repository without a known pusher', () => {
    const alerts = runNative(ID, [...learningDay(), push(dev, 'scratch', 'test', 30)]);
    expect(alerts.map((a) => a.rule.id)).toEqual([ID]);
    expect(alerts[0]!.summary).toContain('never pushed to a repository of this account');
  });

  it('stays quiet: the pipeline in a new run session, its first push to a new repository, the repository’s creator, the learning day, failed pushes, replication', () => {
    const quiet = [
      ...learningDay(),
      push(ci(10), 'payments-api', 'v1.5.0', 30),
      push(ci(11), 'search-indexer', 'v0.1.0', 31),
      ecr(dev, 'CreateRepository', 32, { repositoryName: 'dave-tools', imageTagMutability: 'MUTABLE' }),
      push(dev, 'dave-tools', 'dev', 32.5),
      push(dev, 'payments-api', 'latest', 33, { errorCode: 'AccessDeniedException', errorMessage: 'not authorized to perform: ecr:PutImage' }),
      push({ type: 'AWSService', invokedBy: 'ecr.amazonaws.com' }, 'payments-api', 'latest', 34, { sourceIPAddress: 'ecr.amazonaws.com', userAgent: 'ecr.amazonaws.com' }),
    ];
    expect(runNative(ID, quiet)).toEqual([]);
    expect(runNative(ID, [push(ci(1), 'payments-api', 'v1', 1), push(dev, 'payments-api', 'latest', 2)])).toEqual([]);
  });

  it('keeps who pushes where across a restart (identity facts rebuilt from seam.identity)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    for (const e of learningDay()) expect(first.process(e)).toEqual([]);
    expect(published.filter((f) => f.kind === 'pushed_image').map((f) => `${f.from} ${f.to}`).sort()).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/gha-image-builder ecr:${ACCOUNT}:${REGION}:checkout-worker`,
      `arn:aws:iam::${ACCOUNT}:role/gha-image-builder ecr:${ACCOUNT}:${REGION}:payments-api`,
    ]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const day2 = [push(ci(20), 'payments-api', 'v1.6.0', 30), push(dev, 'payments-api', 'latest', 31)];
    expect(runNative(ID, day2, { graph: g }).map((a) => a.rule.id)).toEqual([ID]);
    // Without the facts the account would be new again: learning, silent.
    expect(runNative(ID, day2)).toEqual([]);
  });
});
