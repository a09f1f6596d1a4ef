/**
 * Snapshots → facts: `kubectl get cm aws-auth -n kube-system -o yaml`, `aws eks list-access-entries` /
 * `describe-access-entry` / `list-associated-access-policies`, and `kubectl get clusterroles,
 * clusterrolebindings,roles,rolebindings,serviceaccounts,pods -A -o json`. Seeds give the graph a baseline
 * before the stream starts; their facts carry `seed:<name>` provenance. Also `aws eks describe-pod-identity-association`.
 */
import { parse } from 'yaml';
import { awsAuthFacts, bindingFacts, irsaFact, podFact, roleFact } from './extract-audit.ts';
import { assertAccessEntry, assertAccessPolicy, assertPodIdentityAssociation, defaultAccessEntryUsername } from './extract-cloudtrail.ts';
import type { ExtractContext } from './context.ts';
import { canonicalIamArn, accountOfArn } from './keys.ts';
import { obj, str, strs, type Rec } from '../core/values.ts';

function load(input: string | unknown): unknown {
  return typeof input === 'string' ? parse(input) : input;
}

export function seedAwsAuth(x: ExtractContext, input: string | unknown, cluster: string, account?: string): number {
  const doc = obj(load(input));
  if (doc === undefined) return 0;
  const data = obj(doc.data) ?? doc;
  const { group, members } = awsAuthFacts(cluster, account, data, false);
  x.replaceGroup(group, members);
  return members.length;
}

function accessEntry(x: ExtractContext, e: Rec, fallbackCluster: string | undefined): number {
  const principalArn = str(e.principalArn);
  const cluster = str(e.clusterName) ?? fallbackCluster;
  if (principalArn === undefined || cluster === undefined) return 0;
  const type = str(e.type) ?? 'STANDARD';
  const account = accountOfArn(principalArn);
  const username = str(e.username) ?? defaultAccessEntryUsername(principalArn, type, account);
  assertAccessEntry(x, { cluster, principal: canonicalIamArn(principalArn), account, username, groups: strs(e.kubernetesGroups), type });
  return 1;
}

function associated(x: ExtractContext, d: Rec, fallbackCluster: string | undefined): number {
  const principalArn = str(d.principalArn);
  const cluster = str(d.clusterName) ?? fallbackCluster;
  if (principalArn === undefined || cluster === undefined || !Array.isArray(d.associatedAccessPolicies)) return 0;
  const principal = canonicalIamArn(principalArn);
  let n = 0;
  for (const p of d.associatedAccessPolicies) {
    const o = obj(p);
    const policyArn = str(o?.policyArn);
    if (o === undefined || policyArn === undefined) continue;
    assertAccessPolicy(x, { cluster, principal, account: accountOfArn(principalArn), policyArn, scope: obj(o.accessScope) ?? {} });
    n++;
  }
  return n;
}

/** Any mix of list-access-entries, describe-access-entry and list-associated-access-policies outputs (or an array of them). */
export function seedAccessEntries(x: ExtractContext, input: string | unknown, cluster?: string): number {
  const doc = load(input);
  const docs = Array.isArray(doc) ? doc : [doc];
  let n = 0;
  for (const d of docs) {
    const o = obj(d);
    if (o === undefined) continue;
    if (obj(o.accessEntry) !== undefined) n += accessEntry(x, obj(o.accessEntry)!, cluster);
    else if (Array.isArray(o.associatedAccessPolicies)) n += associated(x, o, cluster);
    else if (Array.isArray(o.accessEntries)) {
      for (const a of o.accessEntries) {
        if (typeof a === 'string') n += accessEntry(x, { principalArn: a }, cluster);
        else if (obj(a) !== undefined) n += accessEntry(x, obj(a)!, cluster);
      }
    } else if (str(o.principalArn) !== undefined) n += accessEntry(x, o, cluster);
  }
  return n;
}

/** A `kubectl ... -o json` List (or a single object). */
export function seedKubectl(x: ExtractContext, input: string | unknown, cluster: string, account?: string): number {
  const doc = obj(load(input));
  if (doc === undefined) return 0;
  const items = Array.isArray(doc.items) ? doc.items : [doc];
  let n = 0;
  for (const it of items) {
    const o = obj(it);
    if (o === undefined) continue;
    const meta = obj(o.metadata);
    switch (o.kind) {
      case 'Role':
      case 'ClusterRole': {
        const f = roleFact(cluster, account, o);
        if (f !== undefined) {
          x.assert(f);
          n++;
        }
        break;
      }
      case 'RoleBinding':
      case 'ClusterRoleBinding': {
        const b = bindingFacts(cluster, account, o);
        if (b !== undefined) {
          x.replaceGroup(b.group, b.members);
          n += b.members.length;
        }
        break;
      }
      case 'ServiceAccount': {
        const r = irsaFact(cluster, account, o);
        if (r?.fact !== undefined) {
          x.assert(r.fact);
          n++;
        }
        break;
      }
      case 'Pod': {
        const ns = str(meta?.namespace);
        const name = str(meta?.name);
        const spec = obj(o.spec);
        if (ns === undefined || name === undefined) break;
        x.assert(podFact(cluster, account, ns, name, str(spec?.serviceAccountName) ?? 'default', str(spec?.nodeName), 'seed'));
        n++;
        break;
      }
      case 'ConfigMap':
        if (meta?.name === 'aws-auth' && meta.namespace === 'kube-system') n += seedAwsAuth(x, o, cluster, account);
        break;
    }
  }
  return n;
}

function podIdentityAssociation(x: ExtractContext, a: Rec, fallbackCluster: string | undefined, account: string | undefined): number {
  const cluster = str(a.clusterName) ?? fallbackCluster;
  const ns = str(a.namespace);
  const sa = str(a.serviceAccount);
  const roleArn = str(a.roleArn);
  // `list-pod-identity-associations` items carry no roleArn: only `describe-pod-identity-association` says which role.
  if (cluster === undefined || ns === undefined || sa === undefined || roleArn === undefined) return 0;
  const acct = account ?? accountOfArn(str(a.associationArn) ?? '') ?? accountOfArn(roleArn);
  const disable = a.disableSessionTags;
  // With its target role (targetRoleArn, externalId) when the association chains to one (ADR 0053).
  assertPodIdentityAssociation(x, {
    cluster,
    account: acct,
    ns,
    sa,
    roleArn,
    targetRoleArn: str(a.targetRoleArn),
    externalId: str(a.externalId),
    disableSessionTags: typeof disable === 'boolean' ? disable : undefined,
    associationId: str(a.associationId),
  });
  return 1;
}

/**
 * `aws eks describe-pod-identity-association` output (`{"association": {...}}`), alone or as an array of them, or
 * a list of association objects that carry `roleArn`. `list-pod-identity-associations` output names no role: its
 * items are counted in `withoutRole` and give no fact (describe each association; docs/identity.md, Seeding).
 */
export function seedPodIdentity(x: ExtractContext, input: string | unknown, cluster?: string, account?: string): { facts: number; withoutRole: number } {
  const doc = load(input);
  const docs = Array.isArray(doc) ? doc : [doc];
  const out = { facts: 0, withoutRole: 0 };
  const one = (a: Rec): void => {
    const n = podIdentityAssociation(x, a, cluster, account);
    out.facts += n;
    if (n === 0 && str(a.roleArn) === undefined) out.withoutRole++;
  };
  for (const d of docs) {
    const o = obj(d);
    if (o === undefined) continue;
    if (obj(o.association) !== undefined) one(obj(o.association)!);
    else if (Array.isArray(o.associations)) for (const a of o.associations) if (obj(a) !== undefined) one(obj(a)!);
    else if (str(o.serviceAccount) !== undefined) one(o);
  }
  return out;
}
