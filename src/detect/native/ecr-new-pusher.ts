/**
 * First-seen ECR pusher: an image pushed (PutImage) to a repository by a principal that never pushed to it. The
 * images a cluster runs come from a few repositories that one pipeline fills; an image pushed there by anyone
 * else — a developer's stolen keys, a compromised workload, a tag such as `prod` or `latest` overwritten with a
 * backdoored image that the next rollout or node pull runs — is the supply-chain implant of ATT&CK T1525 (Implant
 * Internal Image). Who pushes what is learned as `pushed_image` facts (ADR 0011: on seam.identity, they survive
 * restarts); CreateRepository teaches its creator too.
 *
 * Alerts (medium) when the pusher (a session counts as its role, like lambda-new-deployer) had not pushed to the
 * repository since the account's learning period, and either the repository has another known pusher, or the
 * pusher never pushed to any repository of the account: a pipeline's first push to a repository it just got is
 * its own (no other pusher known, and the pipeline pushes elsewhere). Silent while the account learns
 * (baselineLearningMs), for failed calls, and for AWS services (replication, pull-through cache).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { baselinable, learning, learningStart, remember } from './baseline.ts';
import { deployerOf } from './lambda-new-deployer.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { obj, str } from '../../core/values.ts';
import { callerText, nativeAlert, timeOf } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';

/** `ecr:<registry account>:<region>:<repository>` of a PutImage or CreateRepository call. */
function repositoryKey(event: SeamEvent): { key: string; name: string; account: string } | undefined {
  const rp = obj(event.requestParameters);
  const name = str(rp?.repositoryName);
  if (name === undefined) return undefined;
  const account = str(rp?.registryId) ?? event.seam.account ?? str(event.recipientAccountId) ?? 'unknown';
  return { key: `ecr:${account}:${str(event.awsRegion) ?? 'unknown'}:${name}`, name, account };
}

/** Tag (or digest) a push names, for the summary. */
function imageRef(event: SeamEvent): string {
  const rp = obj(event.requestParameters);
  const id = obj(obj(obj(event.responseElements)?.image)?.imageId);
  const tag = str(rp?.imageTag) ?? str(id?.imageTag);
  const digest = str(rp?.imageDigest) ?? str(id?.imageDigest);
  return tag !== undefined ? `:${tag}` : digest !== undefined ? `@${digest}` : '';
}

/** The alert's triage text, naming the pushed tag and digest, the pusher and where it pushed from. */
function pushTriage(event: SeamEvent, repo: string, pusher: string, usual: string): string {
  const rp = obj(event.requestParameters);
  const id = obj(obj(obj(event.responseElements)?.image)?.imageId);
  const tag = str(rp?.imageTag) ?? str(id?.imageTag);
  const digest = str(rp?.imageDigest) ?? str(id?.imageDigest);
  const image = `${repo}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : ` (digest ${digest})`}`;
  return (
    `${shortIdentity(pusher)} pushed ${image} ${callerText(event)}; the repository is ${usual}. ` +
    `Compare the digest with the pipeline’s build of ${tag === undefined ? 'that image' : `tag ${tag}`}; list the workloads that run ${repo}${tag === undefined ? '' : `:${tag}`} (a rollout or node replacement pulls it). ` +
    `If it is not a release: delete or retag the image, restore the pipeline’s digest, and find how ${shortIdentity(pusher)}’s credentials were obtained. Enable tag immutability on production repositories.`
  );
}

export const ecrNewPusher: NativeDetection<null> = {
  id: 'seam-native-ecr-new-pusher',
  title: 'Image pushed to an ECR repository by a principal that never pushed to it',
  level: 'medium',
  tags: ['attack.persistence', 'attack.t1525', 'attack.initial-access', 'attack.t1195.002', 'attack.execution', 'attack.t1204.003'],
  description:
    'ECR PutImage by an IAM role or user (a session counts as its role) that had not pushed to this repository since the account’s learning period, where the repository has another known pusher or the principal never pushed to any repository of the account: an image (or a tag such as prod or latest) put in place by someone other than the repository’s pipeline, which clusters pulling that tag will run.',
  triage:
    'Which tag and digest were pushed and who pushed them (session name, source address, user agent)? Compare the digest with the pipeline’s build of the same tag; list the workloads that run this repository and tag (a rollout or node replacement pulls it). If it is not a release: delete or retag the image, restore the pipeline’s digest, and find how the principal’s credentials were obtained. Enable tag immutability on production repositories.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.eventSource !== 'ecr.amazonaws.com') return [];
    const name = str(event.eventName);
    if ((name !== 'PutImage' && name !== 'CreateRepository') || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined || !baselinable(event)) return [];
    if (str(obj(event.userIdentity)?.invokedBy) !== undefined) return [];
    const pusher = deployerOf(event);
    const repo = repositoryKey(event);
    if (pusher === undefined || repo === undefined) return [];
    const start = learningStart(event, ctx, graph, `account:${event.seam.account ?? 'unknown'}`);
    const t = timeOf(event);
    const others = graph.store
      .incoming(repo.key, 'pushed_image', t)
      .map((e) => e.fact.from)
      .filter((f) => f !== pusher);
    const pushedAnywhere = graph.store.outgoing(pusher, 'pushed_image', t).some((e) => e.fact.to.startsWith(`ecr:${repo.account}:`));
    const mine = remember(event, ctx, graph, { kind: 'pushed_image', key: `pushed_image|${pusher}|${repo.key}`, from: pusher, to: repo.key, attributes: { repository: repo.name } });
    if (name === 'CreateRepository' || mine.before !== undefined || learning(event, ctx.config, start)) return [];
    if (others.length === 0 && pushedAnywhere) return [];
    const usual = others.length === 0 ? 'it never pushed to a repository of this account before' : `usually pushed by ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}`;
    return [
      nativeAlert(this, {
        events: [event],
        triage: pushTriage(event, repo.name, pusher, usual),
        summary: `${describePrincipal(ctx.resolution.principal ?? event.seam.principal!)} (${pusher}) pushed ${repo.name}${imageRef(event)}, a repository it never pushed to (${usual})`,
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
      }),
    ];
  },
};
