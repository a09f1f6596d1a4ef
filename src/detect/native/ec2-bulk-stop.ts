/**
 * Many EC2 instances stopped or terminated in one call. StopInstances and TerminateInstances take a list of
 * instance ids; someone switching a fleet off (ransom, sabotage, covering tracks: T1529, T1485, T1489) does it
 * in one call as readily as in many. The Sigma correlations count calls per principal
 * (corr_many_ec2_stop_calls_by_one_identity, corr_many_ec2_terminate_calls_by_one_identity); one call naming
 * ten instances is one event to them, and Sigma cannot count a list's entries, hence this check. Auto Scaling,
 * EKS node groups, Spot and other AWS services acting themselves are left out (service principal or
 * invokedBy), as are failed and dry-run calls, and the node autoscalers that batch their scale-downs (Karpenter,
 * Cluster Autoscaler: their user agent names them; an attacker with their role would have to mimic it). One
 * event, no state.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { obj, str } from '../../core/values.ts';

/** Node autoscalers batch scale-down terminations into one call. */
const NODE_AUTOSCALER = /karpenter|cluster-autoscaler/i;

/** Fewest distinct instances in one call that alert. */
export const MIN_INSTANCES = 10;

const CALLS: Readonly<Record<string, string>> = {
  'ec2.amazonaws.com:StopInstances': 'stopped',
  'ec2.amazonaws.com:TerminateInstances': 'terminated',
};

/** Distinct instance ids of a StopInstances / TerminateInstances request (CloudTrail's item list or a plain list). */
export function instanceIds(requestParameters: unknown): string[] {
  const rp = obj(requestParameters);
  const set = rp?.instancesSet ?? rp?.InstanceIds ?? rp?.instanceIds;
  const list = Array.isArray(set) ? set : Array.isArray(obj(set)?.items) ? (obj(set)!.items as unknown[]) : [];
  return [...new Set(list.map((x) => str(x) ?? str(obj(x)?.instanceId)).filter((x): x is string => x !== undefined))];
}

export const ec2BulkStop: NativeDetection<null> = {
  id: 'seam-native-ec2-bulk-stop',
  title: 'Many EC2 instances stopped or terminated in one call',
  level: 'medium',
  tags: ['attack.impact', 'attack.t1529', 'attack.t1485', 'attack.t1489'],
  description: `StopInstances or TerminateInstances naming ${MIN_INSTANCES} or more distinct instances in one successful call, by a principal that is not an AWS service acting itself (Auto Scaling, node groups, Spot) or a node autoscaler (Karpenter, Cluster Autoscaler): a fleet switched off or destroyed at once.`,
  triage:
    'Which instances (the summary lists the first) and what they run; who made the call, from where and with what tool; is there a change (a scheduled shutdown, a decommissioning)? If not: start the stopped instances again (terminated ones are gone: restore from AMIs and snapshots), revoke the credentials, and look for snapshot deletions and security-control changes by the same principal.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const what = CALLS[event.seam.action ?? ''];
    if (what === undefined || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const p = event.seam.principal;
    if (p === undefined || p.type === 'aws_service' || p.type === 'anonymous') return [];
    if (str(obj(event.userIdentity)?.invokedBy) !== undefined || NODE_AUTOSCALER.test(str(event.userAgent) ?? '')) return [];
    const ids = instanceIds(event.requestParameters);
    if (ids.length < MIN_INSTANCES) return [];
    const principal = ctx.resolution.principal ?? p;
    return [
      nativeAlert(this, {
        events: [event],
        triage:
          `${describePrincipal(principal)} ${what} ${ids.length} instances ${callerText(event)}: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? `, and ${ids.length - 10} more` : ''}. ` +
          `What do they run, and is there a change (a scheduled shutdown, a decommissioning)? If not: ${what === 'terminated' ? 'restore them from AMIs and snapshots (terminated instances are gone)' : 'start them again'}, revoke the credentials, and look for snapshot deletions and security-control changes by the same principal.`,
        summary: `${describePrincipal(principal)} ${what} ${ids.length} EC2 instances in one call (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`,
        principal,
        account: event.seam.account,
      }),
    ];
  },
};
