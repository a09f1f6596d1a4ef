/**
 * First-seen AWS region, per principal and per account. A principal working in a region it never used is
 * context (low). A write in a region the whole account had not used since its learning period — resources
 * created where nobody looks (crypto-mining instances, a backdoor Lambda, evasion of regional logging) — is
 * worth a look (medium). Global services (IAM, STS, Organizations, Route 53, CloudFront, billing...) log in
 * us-east-1 whatever the caller does, so they teach and trigger nothing.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { accountSubjectKey, baselinable, baselineSubject, known, learning, learningStart, liveFact, regionKey, remember } from './baseline.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, keyLookupCommand, nativeAlert, stopCredentialsText, timeOf, whoText } from './util.ts';
import { str } from '../../core/values.ts';

const GLOBAL_SOURCES = new Set(
  [
    'iam',
    'sts',
    'organizations',
    'support',
    'health',
    'ce',
    'cur',
    'budgets',
    'billingconsole',
    'billing',
    'account',
    'pricing',
    'route53',
    'route53domains',
    'cloudfront',
    'globalaccelerator',
    'signin',
    'sso',
    'sso-directory',
    'identitystore',
    'trustedadvisor',
    'shield',
    'waf',
    'notifications',
    'access-analyzer',
    'resource-explorer-2',
    'tagging',
    'freetier',
    'servicecatalog-appregistry',
  ].map((s) => s + '.amazonaws.com'),
);

/** Calls that are about the account rather than a region (ListBuckets answers for every region; DescribeRegions lists them). */
const GLOBAL_NAMES = new Set(['ListBuckets', 'ListAllMyBuckets', 'DescribeRegions', 'GetBucketLocation', 'ListAccountAliases', 'GetCallerIdentity']);

const READ = /^(Get|List|Describe|Head|Lookup|Search|Scan|Query|Select|BatchGet|Check|Validate|Preview|Estimate|Test)/;

/** The alert's triage text: who, the call and region against its usual regions, the commands to list what it made there. */
function regionTriage(event: SeamEvent, who: string, region: string, usual: string, accountNew: boolean): string {
  const key = accessKeyOf(event);
  const stop = stopCredentialsText(event);
  return (
    `${who} called ${event.seam.action ?? 'AWS'} in ${region} ${callerText(event)}, a region it never used${accountNew ? ', nor did anyone in the account' : ''}; its usual regions: ${usual}. ` +
    `List what it did and created in ${region}${key === undefined ? '' : ` (${keyLookupCommand(key, region)})`}: instances, functions, key pairs, roles passed (aws ec2 describe-instances --region ${region}). ` +
    `Benign if a reviewed change brought ${who} to ${region} (a new deployment or disaster-recovery region). ` +
    `Otherwise delete what it created there${stop === undefined ? '' : `, ${stop}`}; regions the organisation does not use can be refused with an SCP on aws:RequestedRegion.`
  );
}

export const newRegion: NativeDetection<null> = {
  id: 'seam-native-new-region',
  title: 'Principal or account active in an AWS region it never used',
  level: 'low',
  tags: ['attack.defense-evasion', 'attack.t1535', 'attack.discovery', 'attack.t1580'],
  description:
    'A regional CloudTrail call by a principal in a region it had not called in during its learning period or since (low). Medium when the call is a write and no principal of the account had used the region since the account’s own learning period: resources appearing in an unused region.',
  triage:
    'List what the principal created in that region (RunInstances, CreateFunction, key pairs, roles passed). Regions the organisation does not use can be blocked with an SCP (aws:RequestedRegion).',
  createState: () => null,
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (!baselinable(event)) return [];
    const region = str(event.awsRegion);
    const source = str(event.eventSource);
    const name = str(event.eventName) ?? '';
    if (region === undefined || source === undefined || GLOBAL_SOURCES.has(source) || GLOBAL_NAMES.has(name)) return [];
    const subject = baselineSubject(event, ctx.resolution.cluster);
    if (subject === undefined) return [];
    const t = timeOf(event);
    const accountKey = accountSubjectKey(event.seam.account);
    const start = learningStart(event, ctx, graph, subject.key);
    const accountStart = learningStart(event, ctx, graph, accountKey);
    const mineKey = regionKey(subject.key, region);
    // The regions it had used before matter only when this one is new (nearly never): listed only then, before learning it.
    const before = liveFact(graph, mineKey, t) === undefined ? known(graph, subject.key, 'seen_region', t) : undefined;
    const mine = remember(event, ctx, graph, { kind: 'seen_region', key: mineKey, from: subject.key, to: 'region:' + region });
    const theirs = remember(event, ctx, graph, { kind: 'seen_region', key: regionKey(accountKey, region), from: accountKey, to: 'region:' + region });
    if (mine.before !== undefined || before === undefined || learning(event, ctx.config, start) || before.length === 0) return [];
    const write = !READ.test(name) && event.readOnly !== true;
    const accountNew = theirs.before === undefined && !learning(event, ctx.config, accountStart);
    const level = accountNew && write && event.seam.outcome !== 'failure' ? 'medium' : 'low';
    const usual = before
      .slice(0, 6)
      .map((e) => e.fact.to.slice('region:'.length))
      .join(', ');
    return [
      nativeAlert(this, {
        level,
        events: [event],
        summary: `${describePrincipal(ctx.resolution.principal ?? subject.principal)} called ${event.seam.action ?? name} in ${region}, a region it never used${accountNew ? ' (nor did anyone in the account)' : ''}; usual: ${usual}${before.length > 6 ? ', …' : ''}`,
        triage: regionTriage(event, whoText(ctx.resolution.principal ?? subject.principal), region, usual + (before.length > 6 ? ', …' : ''), accountNew),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
