/**
 * A resource policy that looks scoped but holds one statement open to everyone. S3 bucket policies (and SQS /
 * SNS policies in some record shapes) reach CloudTrail as objects, and Sigma matches an object's fields
 * across all its statements at once: "some statement allows `*`" and "some statement has a Condition" cannot
 * be tied to the same statement. The Sigma rules (ct_s3_bucket_policy_allows_public_access,
 * ct_sns_topic_or_sqs_queue_policy_allows_public_access) therefore treat a Condition anywhere as scoping, and
 * miss the classic backdoor: an unconditioned `Allow` for `*` added beside statements that are scoped (to a VPC
 * endpoint, the organization, a source account). This check reads such a policy statement by statement and
 * alerts on exactly that case: an object-shaped policy where an Allow statement grants `*` with no Condition
 * (or only aws:SecureTransport) while another statement carries a Condition. Policies with no Condition at all,
 * and policies logged as JSON strings, are the Sigma rules' (they read strings statement by statement), so the
 * same call does not alert twice. One event, no state.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert, AlertLevel } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert, quoted, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';

type Statement = Record<string, unknown>;

/** A condition on transport alone does not limit who may call. */
const TRANSPORT_ONLY = new Set(['aws:securetransport']);

/** Where the policy object sits in each call this check reads, the resource it names, and the alert level. */
interface Found {
  policy: Record<string, unknown>;
  resource: string;
  /** The commands that read the resource's policy now and that put a fixed one back, by name. */
  read: string;
  fix: string;
  level: AlertLevel;
  /**
   * What makes another statement "scoped" here, mirroring when the Sigma rule stays silent: for S3 a condition
   * key other than aws:SecureTransport (the S3 rule already alerts when transport is the only condition); for
   * SQS / SNS any Condition (their rule alerts only when no statement has one).
   */
  scoped: (st: Statement) => boolean;
}

const anyCondition = (st: Statement): boolean => conditionKeys(st).length > 0;
const nonTransportCondition = (st: Statement): boolean => conditionKeys(st).some((k) => !TRANSPORT_ONLY.has(k));

function policyOf(event: SeamEvent): Found | undefined {
  const rp = obj(event.requestParameters);
  if (rp === undefined) return undefined;
  switch (event.seam.action) {
    case 's3.amazonaws.com:PutBucketPolicy': {
      const p = obj(rp.bucketPolicy);
      const b = str(rp.bucketName) ?? '<bucket>';
      return p === undefined ? undefined : { policy: p, resource: `bucket ${b}`, read: `aws s3api get-bucket-policy --bucket ${b}`, fix: `aws s3api put-bucket-policy --bucket ${b} --policy file://<fixed policy>`, level: 'high', scoped: nonTransportCondition };
    }
    case 'sqs.amazonaws.com:SetQueueAttributes':
    case 'sqs.amazonaws.com:CreateQueue': {
      const attrs = obj(rp.attributes);
      const p = obj(attrs?.Policy ?? attrs?.policy);
      const q = str(rp.queueUrl) ?? str(rp.queueName) ?? '<queue url>';
      return p === undefined ? undefined : { policy: p, resource: `queue ${q}`, read: `aws sqs get-queue-attributes --queue-url ${q} --attribute-names Policy`, fix: `aws sqs set-queue-attributes --queue-url ${q} --attributes file://<fixed policy>`, level: 'medium', scoped: anyCondition };
    }
    case 'sns.amazonaws.com:SetTopicAttributes': {
      if ((str(rp.attributeName) ?? '').toLowerCase() !== 'policy') return undefined;
      const p = obj(rp.attributeValue);
      const tp = str(rp.topicArn) ?? '<topic arn>';
      return p === undefined ? undefined : { policy: p, resource: `topic ${tp}`, read: `aws sns get-topic-attributes --topic-arn ${tp}`, fix: `aws sns set-topic-attributes --topic-arn ${tp} --attribute-name Policy --attribute-value file://<fixed policy>`, level: 'medium', scoped: anyCondition };
    }
    case 'sns.amazonaws.com:CreateTopic': {
      const p = obj(obj(rp.attributes)?.Policy);
      const tn = str(rp.name) ?? '<topic>';
      return p === undefined ? undefined : { policy: p, resource: `topic ${tn}`, read: `aws sns get-topic-attributes --topic-arn <the ARN of ${tn}>`, fix: `aws sns set-topic-attributes --topic-arn <the ARN of ${tn}> --attribute-name Policy --attribute-value file://<fixed policy>`, level: 'medium', scoped: anyCondition };
    }
    default:
      return undefined;
  }
}

function statements(policy: Record<string, unknown>): Statement[] {
  const s = policy.Statement ?? policy.statement;
  const list = Array.isArray(s) ? s : s === undefined ? [] : [s];
  return list.map((x) => obj(x)).filter((x): x is Statement => x !== undefined);
}

/** `"*"`, `{"AWS": "*"}` or `{"AWS": ["*", ...]}`. */
function grantsEveryone(st: Statement): boolean {
  const p = st.Principal ?? st.principal;
  if (p === '*') return true;
  const aws = obj(p)?.AWS ?? obj(p)?.aws;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

/** Condition keys of a statement (lower-cased), across its operators. */
function conditionKeys(st: Statement): string[] {
  const c = obj(st.Condition ?? st.condition);
  if (c === undefined) return [];
  return Object.values(c).flatMap((op) => Object.keys(obj(op) ?? {}).map((k) => k.toLowerCase()));
}

function isOpen(st: Statement): boolean {
  if ((str(st.Effect) ?? str(st.effect) ?? '').toLowerCase() !== 'allow' || !grantsEveryone(st)) return false;
  return conditionKeys(st).every((k) => TRANSPORT_ONLY.has(k));
}

export const resourcePolicyOpenStatement: NativeDetection<null> = {
  id: 'seam-native-resource-policy-open-statement',
  title: 'Resource policy with a statement open to everyone beside scoped ones',
  level: 'medium',
  tags: ['attack.exfiltration', 'attack.t1537', 'attack.collection', 'attack.t1530', 'attack.persistence', 'attack.t1098'],
  description:
    'An S3 bucket, SQS queue or SNS topic policy (logged as an object) has an Allow statement for Principal "*" with no Condition (or only aws:SecureTransport) while another statement is scoped by a Condition: the policy reads as restricted, but that one statement opens the resource to anyone. High for S3 buckets.',
  triage:
    'Which statement is open (the alert names its Sid or position and actions) and was it meant to be? Who changed the policy, from where; compare with the previous policy version (the last PutBucketPolicy / SetQueueAttributes). If nobody owns the open statement, remove it and check the resource’s access logs since the change.',
  sources: ['cloudtrail'],
  createState: () => null,
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const found = policyOf(event);
    if (found === undefined) return [];
    const sts = statements(found.policy);
    const open = sts.findIndex(isOpen);
    if (open < 0 || !sts.some((st, i) => i !== open && found.scoped(st))) return [];
    const st = sts[open]!;
    const action = st.Action ?? st.action;
    const actions = Array.isArray(action) ? action.join(', ') : (str(action) ?? '?');
    const sid = str(st.Sid) ?? `statement ${open + 1} of ${sts.length}`;
    return [
      nativeAlert(this, {
        level: found.level,
        events: [event],
        summary: `${event.seam.principal?.id ?? 'unknown principal'} set a policy on ${found.resource} whose ${sid} allows everyone (${actions}) without a condition, beside scoped statements`,
        triage:
          `${whoText(event.seam.principal)} set a policy on ${found.resource} ${callerText(event)} whose ${quoted(sid)} allows everyone (${quoted(actions, 120)}) without a condition, beside scoped statements: the policy reads as restricted, but that statement opens it to anyone. ` +
          `Read the policy as it is now (${found.read}) and compare it with the one before (the previous ${str(event.eventName) ?? 'call'} on it in CloudTrail). ` +
          `Benign if ${quoted(sid)} is meant to be public (a website bucket, a public topic) and its owner says so. ` +
          `Otherwise remove the statement (${found.fix}) and check the resource's access logs since ${event['@timestamp']}.`,
        principal: ctx.resolution.principal,
        account: event.seam.account,
      }),
    ];
  },
};
