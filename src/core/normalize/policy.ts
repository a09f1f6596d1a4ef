import { isRec, obj, str, type Rec } from '../values.ts';
import { redactAny } from './redact.ts';

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
 * `Statement` always an array (IAM accepts a single statement object). A statement is the author's, with two keys
 * added, because IAM reads condition operators and keys without regard to case and a rule cannot list every
 * spelling: `seam_conditions`, its condition operator and key pairs lower-cased (`"stringequals aws:principalorgid"`),
 * and `seam_condition_values`, one `{op, key, value}` per value (operator and key lower-cased, the value as
 * written, a number as its text).
 * Nothing else is rewritten: `Principal` may be `"*"`, `{"AWS": "..."}` or `{"AWS": [...]}`, `Action` a string or
 * a list, as the author wrote them (blocks read a scalar or an object as one member). Absent when the request sets no policy document, when
 * the text is not a JSON object with a `Statement`, or when it nests deeper than the record depth limit.
 * Built after redaction, from the record as it will be indexed. A URL-encoded document was not readable to the
 * redaction's text scan, so the decoded document is redacted here (`readPolicy` says when that found anything:
 * the caller then redacts the raw field too).
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

/** What `readPolicy` found: the view, the path of the raw field it came from, and whether decoding it found secrets. */
export interface PolicyRead {
  view: PolicyView;
  path: string[];
  /** The document was URL-encoded and its decoded text held something redaction removes. */
  secretInEncoded: boolean;
}

/** The policy document of a CloudTrail record's request, or undefined. `deep(text)` says whether text nests too deep. */
export function readPolicy(r: Rec, deep: (text: string) => boolean): PolicyRead | undefined {
  const rp = obj(r.requestParameters);
  if (rp === undefined) return undefined;
  for (const k of POLICY_KEYS) {
    const v = rp[k];
    if (v === undefined) continue;
    const nested = k === 'policy' && isRec(v) && !('Statement' in v);
    const found = documentOf(nested ? v.policy : v, deep);
    if (found !== undefined) return read(nested ? ['requestParameters', k, 'policy'] : ['requestParameters', k], found);
  }
  // SNS SetTopicAttributes (attributeName Policy, attributeValue the document); SNS / SQS Create* and
  // SetQueueAttributes (attributes.Policy).
  if (str(rp.attributeName) === 'Policy') {
    const found = documentOf(rp.attributeValue, deep);
    if (found !== undefined) return read(['requestParameters', 'attributeValue'], found);
  }
  const attrs = obj(rp.attributes);
  if (attrs !== undefined) {
    const key = attrs.Policy !== undefined ? 'Policy' : 'policy';
    const found = documentOf(attrs[key], deep);
    if (found !== undefined) return read(['requestParameters', 'attributes', key], found);
  }
  return undefined;
}

function read(path: string[], found: { doc: Rec; encoded: boolean }): PolicyRead {
  let doc = found.doc;
  let secretInEncoded = false;
  if (found.encoded) {
    const clean = redactAny(doc);
    secretInEncoded = JSON.stringify(clean) !== JSON.stringify(doc);
    doc = clean;
  }
  return { view: view(path.join('.'), doc), path, secretInEncoded };
}

function view(field: string, doc: Rec): PolicyView {
  const st = doc.Statement;
  // Copies: an object-form document is the record's own, which is indexed as logged.
  const statements = (Array.isArray(st) ? st : [st])
    .filter(isRec)
    .map((x) => {
      const c = conditionsOf(x.Condition);
      return { ...x, seam_conditions: c.pairs, seam_condition_values: c.values };
    });
  const v: PolicyView = { field, Statement: statements };
  if (typeof doc.Version === 'string') v.Version = doc.Version;
  if (typeof doc.Id === 'string') v.Id = doc.Id;
  return v;
}

function documentOf(v: unknown, deep: (text: string) => boolean): { doc: Rec; encoded: boolean } | undefined {
  if (isRec(v)) return hasStatements(v) ? { doc: v, encoded: false } : undefined;
  if (typeof v !== 'string') return undefined;
  let text = v.trimStart();
  let encoded = false;
  // URL-encoded (`%7B%22Version%22...`): how IAM's query API receives a document, and how some clients' calls are logged.
  if (/^%7b/i.test(text)) {
    try {
      text = decodeURIComponent(text.replace(/\+/g, ' '));
      encoded = true;
    } catch {
      return undefined;
    }
  }
  // Any JSON object is parsed (a key may be written with escapes, `"\u0053tatement"`), its depth checked first.
  if (!text.startsWith('{') || deep(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRec(parsed) && hasStatements(parsed) ? { doc: parsed, encoded } : undefined;
}

function hasStatements(d: Rec): boolean {
  return isRec(d.Statement) || Array.isArray(d.Statement);
}

interface ConditionValue {
  op: string;
  key: string;
  value: string;
}

/**
 * One walk of a statement's Condition: `"<operator> <key>"` for each key of each operator, and `{op, key, value}`
 * for each of its values (operator and key lower-cased; a number or boolean as text).
 */
function conditionsOf(c: unknown): { pairs: string[]; values: ConditionValue[] } {
  const pairs: string[] = [];
  const values: ConditionValue[] = [];
  if (!isRec(c)) return { pairs, values };
  for (const [operator, keys] of Object.entries(c)) {
    if (!isRec(keys)) continue;
    const op = operator.toLowerCase();
    for (const [k, vs] of Object.entries(keys)) {
      const key = k.toLowerCase();
      pairs.push(`${op} ${key}`);
      for (const v of Array.isArray(vs) ? vs : [vs]) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') values.push({ op, key, value: String(v) });
      }
    }
  }
  return { pairs, values };
}

/** Condition operators that name who may call and fail when the key is missing (not ...IfExists, ForAllValues:, Not...). */
const NAMING_OPERATOR = /^(foranyvalue:)?(string|arn)(equals|like)(ignorecase)?$/;

/**
 * Whether a statement of `seam.policy` allows everyone: Allow with Principal "*" (or AWS "*", or NotPrincipal),
 * and no condition of its own keeping it to a literal organisation, an organisation path, or an account or ARN
 * (the same reading as the Sigma rules of ADR 0042; whose account a condition names is theirs to judge).
 */
export function allowsEveryone(st: Rec): boolean {
  if (st.Effect !== 'Allow') return false;
  const p = st.Principal;
  const aws = isRec(p) ? p.AWS : undefined;
  const everyone = p === '*' || aws === '*' || (Array.isArray(aws) && aws.includes('*')) || st.NotPrincipal !== undefined;
  if (!everyone) return false;
  const values = Array.isArray(st.seam_condition_values) ? (st.seam_condition_values as ConditionValue[]) : conditionsOf(st.Condition).values;
  return !values.some(
    (c) =>
      NAMING_OPERATOR.test(c.op) &&
      ((c.key === 'aws:principalorgid' && /^o-[a-z0-9]{10,32}$/.test(c.value)) ||
        (c.key === 'aws:principalorgpaths' && /^o-[a-z0-9]{10,32}\//.test(c.value)) ||
        c.key === 'aws:principalaccount' ||
        c.key === 'aws:principalarn'),
  );
}
