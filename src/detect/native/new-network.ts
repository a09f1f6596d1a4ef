/**
 * First-seen network per principal ("new terms" on the source AS): a principal acting from an autonomous
 * system (or, without the database, a /16) it was not seen in during its learning period or since. Alone
 * this is context (people travel, ISPs change): low. It is worth a look (medium) when a principal that had
 * only ever acted from inside AWS or from private addresses — a workload, a pipeline running in AWS — acts
 * from a public network outside AWS: its credentials are being used somewhere they never were. Also medium: the
 * third network new to the principal within an hour (after learning), counted from the `seen_network` facts' first
 * sightings, so a restart keeps the count: a leaked key tried by scanners and bots from their own hosts.
 *
 * With AWS's ranges (native.awsIpRangesFile) an AWS address's network is its region (`aws:us-east-1`), not Amazon's
 * AS: a principal's first call from an AWS region it never used is new (low). The first region after the ranges were
 * given to a principal whose AWS networks were learned as Amazon's AS is learned, not reported.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { baselinable, baselineSubject, eventNetwork, firstRegionOverAsBaseline, known, knownNetwork, learning, learningStart, rememberNetwork } from './baseline.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, connectionAddress, keyLookupCommand, nativeAlert, stopCredentialsText, timeOf, whoText } from './util.ts';

/** New networks of one principal within BURST_MS (this one included) that make the new-network alert medium. */
export const BURST_NETWORKS = 3;
export const BURST_MS = 60 * 60_000;

/** The alert's triage text: who, the call, address and network against its known networks, the commands to look and to stop it. */
function networkTriage(event: SeamEvent, who: string, label: string, known: string, why: string | undefined): string {
  const key = accessKeyOf(event);
  const ip = connectionAddress(event) ?? 'the address';
  const stop = stopCredentialsText(event);
  return (
    `${who} called ${event.seam.action ?? 'AWS'} ${callerText(event)} (${label}), a network it was never seen in${why === undefined ? '' : `; ${why}`}. Its known networks: ${known}. ` +
    `Is ${label} one ${who} plausibly uses (a new ISP, travel, a new CI provider or runner)? ` +
    `List what it did from ${ip}${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}. ` +
    `Benign if its owner confirms the new place or provider (it is learned from now on). ` +
    `Otherwise ${stop ?? 'revoke its credentials'} and find where they were copied from (instance metadata, CI secrets, a laptop).`
  );
}

export const newNetwork: NativeDetection<null> = {
  id: 'seam-native-new-network',
  title: 'Principal acting from a network it was never seen in',
  level: 'low',
  tags: ['attack.initial-access', 'attack.t1078.004', 'attack.defense-evasion', 'attack.t1550.001'],
  description:
    'A CloudTrail call by a principal (the identity graph’s resolved principal: service account, person’s session, role) came from an autonomous system it had not used during its learning period (baselineLearningMs) or in the last baselineMemoryMs. Medium when every network it was seen in before was AWS or private and this one is a public network outside AWS, or when it is the third network new to the principal within an hour (a leaked key used from several hosts).',
  triage:
    'Is the network one the person or pipeline plausibly uses (new ISP, travel, a new CI provider)? For medium: the principal never acted from outside AWS before; find where its credentials could have been copied from (instance metadata, CI secrets, a developer laptop) and what this address did.',
  createState: () => null,
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (!baselinable(event)) return [];
    const subject = baselineSubject(event, ctx.resolution.cluster);
    if (subject === undefined) return [];
    const net = eventNetwork(event, ctx.config);
    if (net === undefined) return [];
    const t = timeOf(event);
    const start = learningStart(event, ctx, graph, subject.key);
    // The networks it had before this call matter only when this one is new (nearly never): asked only then.
    const before = knownNetwork(graph, subject.key, net, t) === undefined ? known(graph, subject.key, 'seen_network', t) : undefined;
    const had = rememberNetwork(event, ctx, graph, subject.key, net);
    if (had !== undefined || before === undefined || learning(event, ctx.config, start) || before.length === 0) return [];
    if (firstRegionOverAsBaseline(before, net)) return [];
    if (before.length >= ctx.config.maxNetworksPerPrincipal) return [];
    const insideOnly = before.every((e) => e.fact.attributes.aws === true || e.fact.to === 'net:private');
    // Networks first seen in the last BURST_MS, after learning: with this one, BURST_NETWORKS of them is a key in
    // several hands (a leaked key tried by scanners and bots from their own hosts), not a person on the move.
    const learnedBy = start + ctx.config.baselineLearningMs;
    const recent = 1 + before.filter((e) => {
      const first = Date.parse(String(e.fact.attributes.first_seen ?? e.fact.valid_from));
      return first > t - BURST_MS && first >= learnedBy;
    }).length;
    const burst = recent >= BURST_NETWORKS;
    const level = (insideOnly && net.aws === false) || burst ? 'medium' : 'low';
    const was = before
      .slice(0, 5)
      .map((e) => String(e.fact.attributes.label ?? e.fact.to))
      .join(', ');
    return [
      nativeAlert(this, {
        level,
        events: [event],
        summary: `${describePrincipal(ctx.resolution.principal ?? subject.principal)} called ${event.seam.action ?? ''} from ${connectionAddress(event) ?? ''} (${net.label}), a network it was never seen in${insideOnly && net.aws === false ? ' and outside AWS, having only ever acted from inside AWS' : ''}${burst ? `, ${recent} new networks within ${BURST_MS / 60_000} minutes` : ''}; known: ${was}${before.length > 5 ? ', …' : ''}`,
        triage: networkTriage(event, whoText(ctx.resolution.principal ?? subject.principal), net.label, was + (before.length > 5 ? ', …' : ''), level === 'medium' ? (burst ? `${recent} networks new to it within the hour: a key in several hands` : 'it had only ever acted from inside AWS') : undefined),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
