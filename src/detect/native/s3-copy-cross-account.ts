/**
 * S3 objects copied across an account boundary. CopyObject and UploadPartCopy name two buckets, the
 * destination (requestParameters.bucketName) and the source (x-amz-copy-source); CloudTrail lists both in
 * `resources`, each bucket with the account that owns it. One of them belonging to an account other than
 * the one whose trail logged the call means data went from this account straight into someone else's
 * bucket (or the other way): the quiet exfiltration path of ATT&CK T1537, which needs no download and
 * never leaves AWS's network. Sigma cannot say "some bucket's owner differs from the recipient account"
 * over a list, hence a native check: one event, no state.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';

const COPY_ACTIONS = new Set(['s3.amazonaws.com:CopyObject', 's3.amazonaws.com:UploadPartCopy']);

/** Buckets of the record's `resources` (either ARN spelling) with their owning account, where logged. */
function bucketOwners(event: SeamEvent): { bucket: string; account: string }[] {
  const out: { bucket: string; account: string }[] = [];
  if (!Array.isArray(event.resources)) return out;
  for (const r of event.resources) {
    const o = obj(r);
    if (o === undefined || str(o.type) !== 'AWS::S3::Bucket') continue;
    const arn = str(o.ARN) ?? str(o.arn);
    const account = str(o.accountId);
    const bucket = arn === undefined ? undefined : /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(arn)?.[1];
    if (bucket !== undefined && account !== undefined && /^\d{12}$/.test(account)) out.push({ bucket, account });
  }
  return out;
}

/** ` (copy of <source>)`: the source a copy names (`x-amz-copy-source`, bucket/key), cut at 100 characters. */
function copyKey(event: SeamEvent): string {
  const rp = obj(event.requestParameters);
  const src = str(rp?.['x-amz-copy-source']) ?? str(rp?.copySource);
  if (src === undefined) return '';
  return ` (copy of ${src.length > 100 ? src.slice(0, 97) + '…' : src})`;
}

export const s3CopyCrossAccount: NativeDetection<null> = {
  id: 'seam-native-s3-copy-cross-account',
  title: 'S3 object copied to or from a bucket of another account',
  level: 'medium',
  tags: ['attack.exfiltration', 'attack.t1537', 'attack.collection', 'attack.t1530'],
  description:
    'An S3 CopyObject or UploadPartCopy whose source or destination bucket is owned by an account other than the one the call was logged in (bucket owners as CloudTrail lists them in resources). High when the destination bucket is the foreign one: data left the account.',
  triage:
    'Which bucket is foreign (the alert summary names it and its owner) and is that account one of yours or a known partner? Who copied (principal, source address, user agent) and how much (other copies by the same principal)? If the account is unknown: block the principal, check the source bucket policy for a grant to that account, and list what else was copied (S3 data events or server access logs).',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.seam.action === undefined || !COPY_ACTIONS.has(event.seam.action) || event.seam.outcome !== 'success') return [];
    const own = event.seam.account;
    if (own === undefined) return [];
    const foreign = bucketOwners(event).filter((b) => b.account !== own);
    if (foreign.length === 0) return [];
    const dest = str(obj(event.requestParameters)?.bucketName);
    const out = foreign.find((b) => b.bucket === dest);
    const shown = out ?? foreign[0]!;
    return [
      nativeAlert(this, {
        level: out === undefined ? 'medium' : 'high',
        events: [event],
        triage:
          `${shortIdentity(event.seam.principal?.arn ?? event.seam.principal?.id ?? 'unknown principal')} copied ${out === undefined ? 'between' : 'into'} bucket ${shown.bucket} of account ${shown.account} ${callerText(event)}${copyKey(event)}. ` +
          `Is ${shown.account} one of your accounts or a known partner, and how much did this principal copy (its other CopyObject calls)? ` +
          `If the account is unknown: block the principal, check the policy of the source bucket for a grant to ${shown.account}, and list what else was copied (S3 data events or server access logs).`,
        summary: `${event.seam.principal?.id ?? 'unknown principal'} copied ${out === undefined ? 'between' : 'into'} bucket ${shown.bucket} of account ${shown.account} (logged in ${own})`,
        principal: ctx.resolution.principal,
        account: own,
      }),
    ];
  },
};
