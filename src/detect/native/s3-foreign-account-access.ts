/**
 * A principal of another AWS account read, wrote or deleted objects in one of this account's buckets, and that
 * account had not done so to that bucket since the learning period. S3 delivers an object-level data event to the
 * bucket owner's trail as well as the caller's; the owner's copy says who called (userIdentity.accountId) and
 * whose trail it is (recipientAccountId). Another account reaching the objects means a bucket policy, an ACL or an
 * access point lets it: the read side of a grant that ct_s3_bucket_policy_grants_access_to_another_account and the
 * ACL rules raise when it is made (T1537 / T1530: data taken without a download from this account), or a bucket
 * that takes writes from anyone (scanners drop test objects, attackers plant content). Central logging, backup
 * and partner accounts do this all day: they are learned as `accessed_bucket` facts (ADR 0011: they survive
 * restarts) while the owner account's S3 data events are in their learning period (from the first object-level
 * event seen for that account, whoever made it: data events are often switched on long after management events),
 * so only a new account or a new bucket after that alerts, once per account, bucket and direction (read, write). Calls an AWS service makes (type AWSService, or
 * invokedBy: CloudTrail's, Config's and ELB's log delivery, replication) and anonymous requests (rules of their
 * own) are left out.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { accountSubjectKey, learning, learningStart, remember } from './baseline.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';

type Access = 'read' | 'write';

/** Object-level S3 calls and what they do to the bucket's data. */
const ACCESS = new Map<string, Access>([
  ['GetObject', 'read'],
  ['SelectObjectContent', 'read'],
  ['ListObjects', 'read'],
  ['ListObjectsV2', 'read'],
  ['ListObjectVersions', 'read'],
  ['PutObject', 'write'],
  ['CopyObject', 'write'],
  ['CreateMultipartUpload', 'write'],
  ['CompleteMultipartUpload', 'write'],
  ['PutObjectAcl', 'write'],
  ['DeleteObject', 'write'],
  ['DeleteObjects', 'write'],
]);

const ACCOUNT_ID = /^\d{12}$/;

export const s3ForeignAccountAccess: NativeDetection<null> = {
  id: 'seam-native-s3-foreign-account-access',
  title: 'S3 objects read or written by another AWS account for the first time',
  level: 'medium',
  tags: ['attack.exfiltration', 'attack.t1537', 'attack.collection', 'attack.t1530', 'attack.impact', 'attack.t1565.001'],
  description:
    'An object-level S3 call (GetObject, List*, PutObject, CopyObject, multipart upload, PutObjectAcl, DeleteObject[s]) on a bucket of this account, made by a principal of another AWS account that had not read (or written) that bucket since the learning period of the owner account’s S3 data events (which starts at the first one seen). A bucket policy, ACL or access point lets that account in; partners and organisation accounts that use the bucket routinely are learned; a new account of your organisation reaching a shared bucket later is raised once.',
  triage:
    'Who is the other account (the caller’s account id and principal, named in the alert): one of your organisation’s, a vendor’s, or unknown? Which grant lets it in (the bucket policy, ACL, access points) and when was it made (PutBucketPolicy / PutBucketAcl in CloudTrail)? For reads: which objects and how many; for writes: what was written and whether anything reads it. Remove the grant unless a reviewed change made it.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.eventSource !== 's3.amazonaws.com') return [];
    const access = ACCESS.get(str(event.eventName) ?? '');
    if (access === undefined || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const ui = obj(event.userIdentity);
    const caller = str(ui?.accountId);
    const owner = str(event.recipientAccountId);
    if (owner === undefined || !ACCOUNT_ID.test(owner)) return [];
    // Learning is the owner account's S3 data events' own, started by the first one seen (any caller): data events
    // are often switched on long after management events, and an existing install meets its partners only then.
    const start = learningStart(event, ctx, graph, 's3-data:' + owner);
    if (caller === undefined || caller === owner || !ACCOUNT_ID.test(caller)) return [];
    if (str(ui?.type) === 'AWSService' || str(ui?.invokedBy) !== undefined) return [];
    const p = event.seam.principal;
    if (p !== undefined && (p.type === 'aws_service' || p.type === 'anonymous')) return [];
    const bucket = str(obj(event.requestParameters)?.bucketName);
    if (bucket === undefined) return [];
    const target = `s3:${owner}:${bucket}`;
    const seen = remember(event, ctx, graph, {
      kind: 'accessed_bucket',
      key: `accessed_bucket|${caller}|${target}|${access}`,
      from: accountSubjectKey(caller),
      to: target,
      attributes: { access, bucket },
    });
    if (seen.before !== undefined || learning(event, ctx.config, start)) return [];
    const who = p === undefined ? `a principal of account ${caller}` : `${describePrincipal(p)} of account ${caller}`;
    const what = access === 'read' ? 'read objects in' : 'wrote to';
    const by = p === undefined ? `A principal of account ${caller}` : `${shortIdentity(p.arn ?? p.id)} of account ${caller}`;
    const next =
      access === 'read'
        ? `List which objects of ${bucket} account ${caller} read and how many (its other data events on the bucket)`
        : `List what account ${caller} wrote to ${bucket} (key names, sizes) and whether anything reads it`;
    return [
      nativeAlert(this, {
        events: [event],
        triage:
          `${by} ${what} bucket ${bucket} (${str(event.eventName)}${key(event)}) ${callerText(event)}, the first time that account did so since learning. ` +
          `Is ${caller} one of your organisation’s accounts, a vendor’s, or unknown, and which grant lets it in (aws s3api get-bucket-policy --bucket ${bucket}, get-bucket-acl, access points; when was it made)? ` +
          `${next}; remove the grant unless a reviewed change made it.`,
        summary: `${who} ${what} bucket ${bucket} of account ${owner} (${str(event.eventName)}${key(event)}), the first time that account did so since learning`,
        principal: ctx.resolution.principal ?? p,
        account: owner,
      }),
    ];
  },
};

function key(event: SeamEvent): string {
  const k = str(obj(event.requestParameters)?.key);
  return k === undefined ? '' : ` ${k.length > 80 ? k.slice(0, 77) + '…' : k}`;
}
