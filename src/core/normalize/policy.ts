import { isRec, obj, str, type Rec } from '../values.ts';

/**
 * The policy document a CloudTrail request sets, as an object (ADR 0042): `seam.policy`.
 *
 * CloudTrail logs most policy documents as JSON text (IAM's policyDocument and assumeRolePolicyDocument, Secrets
 * Manager's resourcePolicy, KMS's policy, ECR's policyText, OpenSearch's accessPolicies, SNS / SQS Policy
 * attributes, ...), some as objects (S3's bucketPolicy), a few URL-encoded. Rules that judged the text with
 * regular expressions could not say "one statement allows a principal of another account" (a statement is not a
 * regular language), nor read `seam_organization_accounts` per principal. With the document as an object, array
 * blocks (ADR 0017) judge each statement and each principal.
 *
 * `seam.policy` is `{ field, Version?, Statement: [...] }`: `field` the dotted path the document came from, and
 * `Statement` always an array (IAM accepts a single statement object). A statement is the author's, with one key
 * added: `seam_conditions`, its condition operator and key pairs lower-cased (`"stringequals aws:principalorgid"`),
 * because IAM reads condition keys without regard to case and a rule cannot list every spelling of a key name.
 * Nothing else is rewritten: `Principal` may be `"*"`, `{"AWS": "..."}` or `{"AWS": [...]}`, `Action` a string or
 * a list, as the author wrote them (blocks read a scalar or an object as one member). Absent when the request sets no policy document, when
 * the text is not a JSON object with a `Statement`, or when it nests deeper than the record depth limit.
 * Built after redaction, from the record as it will be indexed.
 */
export interface PolicyView {
  field: string;
  Version?: string;
  Id?: string;
  Statement: Rec[];
}

/** requestParameters keys that hold a whole policy document, in the order they are tried. */
const POLICY_KEYS = [
  'policyDocument', // IAM Create/Put*/UpdateAssumeRolePolicy, CreatePolicyVersion; CloudWatch Logs PutResourcePolicy; CodeArtifact
  'assumeRolePolicyDocument', // IAM CreateRole
  'resourcePolicy', // Secrets Manager PutResourcePolicy / ValidateResourcePolicy
  'bucketPolicy', // S3 PutBucketPolicy (an object, or text)
  'policy', // KMS PutKeyPolicy / CreateKey, EFS, Backup, EventBridge PutPermission, API Gateway, Glacier (nested)
  'policyText', // ECR SetRepositoryPolicy / PutRegistryPolicy
  'accessPolicies', // OpenSearch / Elasticsearch domains
  'accessPolicy', // CloudWatch Logs PutDestinationPolicy
  'inlinePolicy', // IAM Identity Center PutInlinePolicyToPermissionSet
  'policyInJson', // Glue PutResourcePolicy
  'content', // Organizations CreatePolicy / UpdatePolicy (service control policies)
] as const;

/** The policy document of a CloudTrail record's request, or undefined. `deep(text)` says whether text nests too deep. */
export function policyView(r: Rec, deep: (text: string) => boolean): PolicyView | undefined {
  const rp = obj(r.requestParameters);
  if (rp === undefined) return undefined;
  for (const k of POLICY_KEYS) {
    const v = rp[k];
    if (v === undefined) continue;
    const doc = documentOf(k === 'policy' && isRec(v) && !('Statement' in v) ? v.policy : v, deep);
    if (doc !== undefined) return view(`requestParameters.${k}`, doc);
  }
  // SNS SetTopicAttributes (attributeName Policy, attributeValue the document); SNS / SQS Create* and
  // SetQueueAttributes (attributes.Policy).
  if (str(rp.attributeName) === 'Policy') {
    const doc = documentOf(rp.attributeValue, deep);
    if (doc !== undefined) return view('requestParameters.attributeValue', doc);
  }
  const attrs = obj(rp.attributes);
  if (attrs !== undefined) {
    const doc = documentOf(attrs.Policy ?? attrs.policy, deep);
    if (doc !== undefined) return view('requestParameters.attributes.Policy', doc);
  }
  return undefined;
}

function view(field: string, doc: Rec): PolicyView {
  const st = doc.Statement;
  // Copies: an object-form document is the record's own, which is indexed as logged.
  const statements = (Array.isArray(st) ? st : [st]).filter(isRec).map((x) => ({ ...x, seam_conditions: conditionPairs(x.Condition) }));
  const v: PolicyView = { field, Statement: statements };
  if (typeof doc.Version === 'string') v.Version = doc.Version;
  if (typeof doc.Id === 'string') v.Id = doc.Id;
  return v;
}

function documentOf(v: unknown, deep: (text: string) => boolean): Rec | undefined {
  if (isRec(v)) return isRec(v.Statement) || Array.isArray(v.Statement) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  let text = v.trimStart();
  // URL-encoded (`%7B%22Version%22...`): how IAM's query API receives a document, and how some clients' calls are logged.
  if (/^%7b/i.test(text)) {
    try {
      text = decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  }
  if (!text.startsWith('{') || !text.includes('"Statement"') || deep(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRec(parsed) && (isRec(parsed.Statement) || Array.isArray(parsed.Statement)) ? parsed : undefined;
}

/** `"<operator> <key>"` for each key of each condition operator, lower-cased. */
function conditionPairs(c: unknown): string[] {
  const out: string[] = [];
  if (!isRec(c)) return out;
  for (const [op, keys] of Object.entries(c)) {
    if (!isRec(keys)) continue;
    for (const k of Object.keys(keys)) out.push(`${op} ${k}`.toLowerCase());
  }
  return out;
}
