/** eks:UpdateClusterConfig turning off control-plane audit (or authenticator) logs: the cluster goes dark for Seam. */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';

export const auditLoggingDisabled: NativeDetection<null> = {
  id: 'seam-native-audit-logging-disabled',
  title: 'EKS control-plane audit logging disabled',
  level: 'high',
  tags: ['attack.defense-evasion', 'attack.t1562.008'],
  description: 'eks:UpdateClusterConfig set `enabled: false` for the audit or authenticator control-plane log types. From then on Kubernetes API activity in the cluster is invisible.',
  triage: 'Re-enable the log types now. Then review what the principal (and the cluster) did between this call and re-enabling — CloudTrail still sees the AWS side.',
  createState: () => null,
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.action !== 'eks.amazonaws.com:UpdateClusterConfig' || event.seam.outcome !== 'success') return [];
    const entries = obj(obj(event.requestParameters)?.logging)?.clusterLogging;
    if (!Array.isArray(entries)) return [];
    const off = new Set<string>();
    for (const e of entries) {
      const o = obj(e);
      if (o?.enabled !== false || !Array.isArray(o.types)) continue;
      for (const t of o.types) if (t === 'audit' || t === 'authenticator') off.add(t);
    }
    if (off.size === 0) return [];
    const cluster = str(obj(event.requestParameters)?.name) ?? event.seam.cluster;
    return [
      nativeAlert(this, {
        level: off.has('audit') ? 'high' : 'medium',
        events: [event],
        triage:
          `${shortIdentity(event.seam.principal?.arn ?? event.seam.principal?.id ?? 'unknown principal')} turned off the ${[...off].sort().join(' and ')} logs of ${cluster ?? 'the cluster'} ${callerText(event)}. ` +
          `Re-enable them now (aws eks update-cluster-config --name ${cluster ?? '<cluster>'} --logging '{"clusterLogging":[{"types":[${[...off].sort().map((t) => `"${t}"`).join(',')}],"enabled":true}]}'). ` +
          'Then review what that principal (and the cluster) did until they were back: CloudTrail still sees the AWS side.',
        summary: `${[...off].sort().join(' and ')} logging disabled on ${cluster ?? 'a cluster'} by ${event.seam.principal?.id ?? 'unknown'} from ${event.seam.source_ip ?? 'an AWS service'}`,
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster,
      }),
    ];
  },
};
