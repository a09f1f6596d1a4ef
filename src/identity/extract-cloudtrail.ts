/**
 * CloudTrail → identity facts: who holds which credentials (STS issuance and first use), IRSA and Pod Identity
 * sessions, access entries and policies, Pod Identity associations, cluster access and logging config, and
 * IAM role trust policies that federate an EKS OIDC issuer.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { serviceAccountOf } from '../core/normalize/principal.ts';
import { accessKeyKey, canonicalIamArn, clusterKey, issuerOf, oidcKey, roleArnFromName, roleOfSession, saKey, userKey, accessPolicyKey, accountOfArn, UNKNOWN_CLUSTER } from './keys.ts';
import type { ExtractContext } from './context.ts';
import { accessPolicyName } from './rbac.ts';
import { obj, str, strs, type Rec } from '../core/values.ts';

const NODE_ENTRY_TYPES = new Set(['EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'HYBRID_LINUX', 'EC2']);

/** The Kubernetes user EKS maps an access entry to when it names none. */
export function defaultAccessEntryUsername(principalArn: string, type: string, account: string | undefined): string {
  if (NODE_ENTRY_TYPES.has(type)) return 'system:node:{{EC2PrivateDNSName}}';
  const role = roleOfSession(principalArn) ?? canonicalIamArn(principalArn);
  return /:role\//.test(role) ? `arn:aws:sts::${account ?? ''}:assumed-role/${role.slice(role.lastIndexOf('/') + 1)}/{{SessionName}}` : principalArn;
}

/** An access policy associated with an access entry's principal, with its scope (cluster or namespaces). */
export function assertAccessPolicy(x: ExtractContext, a: { cluster: string; principal: string; account: string | undefined; policyArn: string; scope: Rec }): void {
  const policy = accessPolicyName(a.policyArn);
  x.assert({
    kind: 'access_policy',
    key: `access_policy|${a.cluster}|${a.principal}|${policy}`,
    from: a.principal,
    to: accessPolicyKey(policy),
    account: a.account,
    cluster: a.cluster,
    attributes: { policy, policyArn: a.policyArn, scope: str(a.scope.type) ?? 'cluster', namespaces: strs(a.scope.namespaces) },
  });
}

/** An access entry's facts (from a CloudTrail call or a `describe-access-entry` seed): the user it maps to, and a node role for node types. */
export function assertAccessEntry(x: ExtractContext, e: { cluster: string; principal: string; account: string | undefined; username: string; groups: string[]; type: string }): void {
  const node = NODE_ENTRY_TYPES.has(e.type);
  x.assert({
    kind: 'access_entry',
    key: 'access_entry|' + e.cluster + '|' + e.principal,
    from: e.principal,
    to: userKey(e.cluster, e.username),
    account: e.account,
    cluster: e.cluster,
    attributes: { username: e.username, groups: node ? ['system:nodes'] : e.groups, type: e.type },
  });
  if (node) x.assert({ kind: 'node_role', key: `node_role|${e.cluster}|${e.principal}`, from: e.principal, to: clusterKey(e.cluster), account: e.account, cluster: e.cluster, attributes: { via: 'access_entry' } });
}

export interface PodIdentityAssociationDraft {
  cluster: string;
  account: string | undefined;
  ns: string;
  sa: string;
  roleArn: string;
  /** The role EKS assumes with the first role's credentials (cross-account chaining); undefined = none. */
  targetRoleArn?: string | undefined;
  /** What EKS passes as sts:ExternalId when it assumes the target role. */
  externalId?: string | undefined;
  disableSessionTags?: boolean | undefined;
  associationId?: string | undefined;
}

/**
 * A Pod Identity association (from CloudTrail or a `describe-pod-identity-association` seed): service account → role,
 * and, when it names a target role, service account → target role (retracted when an update removes it).
 */
export function assertPodIdentityAssociation(x: ExtractContext, a: PodIdentityAssociationDraft): void {
  const sa = a.ns + '/' + a.sa;
  const from = saKey(a.cluster, sa);
  const role = canonicalIamArn(a.roleArn);
  const target = a.targetRoleArn === undefined || a.targetRoleArn === '' ? undefined : canonicalIamArn(a.targetRoleArn);
  const attributes: Rec = { associationId: a.associationId };
  if (target !== undefined) attributes.targetRoleArn = target;
  if (a.externalId !== undefined) attributes.externalId = a.externalId;
  if (a.disableSessionTags !== undefined) attributes.disableSessionTags = a.disableSessionTags;
  x.assert({ kind: 'pod_identity_association', key: `pod_identity_association|${a.cluster}|${sa}`, from, to: role, account: a.account, cluster: a.cluster, attributes });
  const tkey = `pod_identity_target|${a.cluster}|${sa}`;
  if (target !== undefined) {
    const ta: Rec = { role, associationId: a.associationId };
    if (a.externalId !== undefined) ta.externalId = a.externalId;
    x.assert({ kind: 'pod_identity_target_role', key: tkey, from, to: target, account: a.account, cluster: a.cluster, attributes: ta });
  } else {
    const prev = x.store.at(tkey, x.atMs);
    if (prev !== undefined) x.retract('pod_identity_target_role', tkey, prev.fact.from, prev.fact.to, { cluster: a.cluster, account: a.account });
  }
}

/** The association valid now whose id is `id` in `cluster` (Update/Delete requests name only the id). */
function associationById(x: ExtractContext, cluster: string, id: string | undefined): { ns: string; sa: string; fact: Rec; role: string } | undefined {
  if (id === undefined) return undefined;
  for (const e of x.store.ofKind('pod_identity_association', x.atMs)) {
    if (e.fact.cluster !== cluster || e.fact.attributes.associationId !== id) continue;
    const m = /^k8s:[^:]*:sa:([^/]+)\/(.+)$/.exec(e.fact.from);
    if (m !== null) return { ns: m[1]!, sa: m[2]!, fact: e.fact.attributes, role: e.fact.to };
  }
  return undefined;
}

function plus(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/** The caller's own credentials: first sight of an access key ties it to its session (or IAM user). */
function observeCaller(ev: SeamEvent, x: ExtractContext): void {
  const ui = obj(ev.userIdentity);
  if (ui === undefined) return;
  const type = str(ui.type);
  const arn = str(ui.arn);
  const key = str(ui.accessKeyId);
  if (arn === undefined) return;
  if (type === 'AssumedRole') {
    const issuer = str(obj(obj(ui.sessionContext)?.sessionIssuer)?.arn);
    const role = issuer !== undefined ? canonicalIamArn(issuer) : roleOfSession(arn);
    // Repeat sightings are the rule: look the key up before building the fact (its expiry costs a date parse and format).
    if (key !== undefined && x.store.latest('credential|' + key) === undefined) {
      x.assertIfAbsent({
        kind: 'credential',
        key: 'credential|' + key,
        from: accessKeyKey(key),
        to: arn,
        account: ev.seam.account,
        attributes: { origin: 'observed', role },
        valid_to: plus(x.at, x.config.observedSessionSeconds),
      });
    }
    if (role !== undefined && x.store.latest('session_of|' + arn) === undefined) {
      x.assertIfAbsent({ kind: 'session_of', key: 'session_of|' + arn, from: arn, to: role, account: ev.seam.account, attributes: {}, valid_to: plus(x.at, x.config.observedSessionSeconds) });
    }
  } else if (type === 'IAMUser' && key !== undefined && key.startsWith('AKIA') && x.store.latest('credential|' + key) === undefined) {
    x.assertIfAbsent({ kind: 'credential', key: 'credential|' + key, from: accessKeyKey(key), to: arn, account: ev.seam.account, attributes: { origin: 'iam_user' } });
  }
}

function issuedSession(ev: SeamEvent, x: ExtractContext, roleArn: string | undefined, seconds: number, origin: string, extra: Rec = {}): { session?: string; key?: string } {
  const re = obj(ev.responseElements);
  const session = str(obj(re?.assumedRoleUser)?.arn);
  const key = str(obj(re?.credentials)?.accessKeyId);
  const until = plus(x.at, seconds);
  const role = roleArn !== undefined ? canonicalIamArn(roleArn) : session !== undefined ? roleOfSession(session) : undefined;
  if (session !== undefined && key !== undefined) {
    x.assert({ kind: 'credential', key: 'credential|' + key, from: accessKeyKey(key), to: session, account: ev.seam.account, attributes: { origin, role, ...extra }, valid_to: until });
  }
  if (session !== undefined && role !== undefined) {
    x.assert({ kind: 'session_of', key: 'session_of|' + session, from: session, to: role, account: ev.seam.account, attributes: {}, valid_to: until });
  }
  const out: { session?: string; key?: string } = {};
  if (session !== undefined) out.session = session;
  if (key !== undefined) out.key = key;
  return out;
}

function webIdentity(ev: SeamEvent, x: ExtractContext): void {
  const ui = obj(ev.userIdentity);
  const rp = obj(ev.requestParameters);
  const re = obj(ev.responseElements);
  const roleArn = str(rp?.roleArn);
  const subject = str(re?.subjectFromWebIdentityToken) ?? str(ui?.userName);
  const provider = str(re?.provider) ?? str(ui?.identityProvider);
  const seconds = typeof rp?.durationSeconds === 'number' ? rp.durationSeconds : x.config.webIdentitySessionSeconds;
  const sa = subject === undefined ? undefined : serviceAccountOf(subject);
  const issuer = provider === undefined ? undefined : issuerOf(provider);
  const cluster = sa === undefined ? undefined : x.clusterForIrsa(issuer, ev.seam.account, roleArn, sa);
  const extra: Rec = {};
  if (sa !== undefined && cluster !== undefined) Object.assign(extra, { service_account: sa, cluster });
  const { session } = issuedSession(ev, x, roleArn, seconds, 'web_identity', extra);
  if (session === undefined || sa === undefined || cluster === undefined) return;
  x.assert({
    kind: 'web_identity_session',
    key: 'wis|' + session,
    from: session,
    to: saKey(cluster, sa),
    account: ev.seam.account,
    cluster,
    attributes: { service_account: sa, provider: issuer, role: roleArn === undefined ? undefined : canonicalIamArn(roleArn), source_ip: ev.seam.source_ip },
    valid_to: plus(x.at, seconds),
  });
  x.learnEgress(cluster, ev.seam.source_ip, ev.seam.account, 'web_identity');
}

/** Session tags EKS Pod Identity puts on the sts:AssumeRole it makes (`tags: [{key, value}]`). */
function tagsOf(rp: Rec | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const tags = rp?.tags;
  if (Array.isArray(tags)) {
    for (const t of tags) {
      const o = obj(t);
      const k = str(o?.key ?? o?.Key);
      const v = str(o?.value ?? o?.Value);
      if (k !== undefined && v !== undefined) out[k] = v;
    }
  }
  return out;
}

function podIdentitySession(ev: SeamEvent, x: ExtractContext, cluster: string, ns: string, saName: string, pod: string | undefined, extra: Rec, seconds: number = x.config.podIdentitySessionSeconds): void {
  const rp = obj(ev.requestParameters);
  const sa = ns + '/' + saName;
  const { session } = issuedSession(ev, x, str(rp?.roleArn), seconds, 'pod_identity', { service_account: sa, cluster, ...(pod === undefined ? {} : { pod: ns + '/' + pod }) });
  if (session === undefined) return;
  const key = 'pis|' + session;
  const prev = x.store.latest(key);
  const attributes: Rec = { ...(prev?.fact.attributes ?? {}), service_account: sa, ...extra };
  if (pod !== undefined) attributes.pod = ns + '/' + pod;
  x.assert({ kind: 'pod_identity_session', key, from: session, to: saKey(cluster, sa), account: ev.seam.account, cluster, attributes, valid_to: plus(x.at, seconds) });
}

function eks(ev: SeamEvent, name: string, x: ExtractContext): void {
  const rp = obj(ev.requestParameters) ?? {};
  const re = obj(ev.responseElements) ?? {};
  const account = ev.seam.account;
  const cluster = str(rp.clusterName) ?? str(rp.name) ?? ev.seam.cluster;
  if (cluster === undefined) return;
  if (account !== undefined) x.noteEksCluster(cluster, account);
  const principalArn = str(rp.principalArn);
  const principal = principalArn === undefined ? undefined : canonicalIamArn(principalArn);
  switch (name) {
    case 'CreateCluster':
    case 'UpdateClusterConfig': {
      const c = obj(re.cluster);
      const mode = str(obj(rp.accessConfig)?.authenticationMode) ?? str(obj(c?.accessConfig)?.authenticationMode);
      if (mode !== undefined) {
        x.assert({ kind: 'cluster_config', key: 'cluster_config|' + cluster, from: clusterKey(cluster), to: clusterKey(cluster), account, cluster, attributes: { authenticationMode: mode } });
      }
      const issuer = str(obj(obj(c?.identity)?.oidc)?.issuer);
      if (issuer !== undefined) {
        x.assert({ kind: 'oidc_provider', key: 'oidc|' + issuerOf(issuer), from: oidcKey(issuerOf(issuer)), to: clusterKey(cluster), account, cluster, attributes: {} });
      }
      const logging = obj(rp.logging) ?? obj(c?.logging);
      const entries = logging?.clusterLogging;
      if (Array.isArray(entries)) {
        const prev = x.store.latest('cluster_logging|' + cluster);
        const enabled = new Set(strs(prev?.fact.attributes.enabled));
        for (const e of entries) {
          const o = obj(e);
          for (const t of strs(o?.types)) {
            if (o?.enabled === true) enabled.add(t);
            else enabled.delete(t);
          }
        }
        x.assert({ kind: 'cluster_logging', key: 'cluster_logging|' + cluster, from: clusterKey(cluster), to: clusterKey(cluster), account, cluster, attributes: { enabled: [...enabled].sort() } });
      }
      return;
    }
    case 'CreateAccessEntry':
    case 'UpdateAccessEntry': {
      if (principal === undefined || principalArn === undefined) return;
      const entry = obj(re.accessEntry) ?? {};
      const prev = x.store.latest('access_entry|' + cluster + '|' + principal);
      const type = str(entry.type) ?? str(rp.type) ?? str(prev?.fact.attributes.type) ?? 'STANDARD';
      const groups = Array.isArray(entry.kubernetesGroups) ? strs(entry.kubernetesGroups) : Array.isArray(rp.kubernetesGroups) ? strs(rp.kubernetesGroups) : strs(prev?.fact.attributes.groups);
      const username = str(entry.username) ?? str(rp.username) ?? str(prev?.fact.attributes.username) ?? defaultAccessEntryUsername(principalArn, type, accountOfArn(principalArn) ?? account);
      assertAccessEntry(x, { cluster, principal, account, username, groups, type });
      return;
    }
    case 'DeleteAccessEntry': {
      if (principal === undefined) return;
      const prev = x.store.at('access_entry|' + cluster + '|' + principal, x.atMs);
      if (prev !== undefined) x.retract('access_entry', prev.fact.key, prev.fact.from, prev.fact.to, { cluster, account });
      // An access entry's policies go with it.
      for (const e of x.store.outgoing(principal, 'access_policy', x.atMs)) {
        if (e.fact.cluster === cluster) x.retract('access_policy', e.fact.key, e.fact.from, e.fact.to, { cluster, account });
      }
      return;
    }
    case 'AssociateAccessPolicy': {
      const policyArn = str(rp.policyArn);
      if (principal === undefined || policyArn === undefined) return;
      const scope = obj(rp.accessScope) ?? obj(obj(re.associatedAccessPolicy)?.accessScope) ?? { type: 'cluster' };
      assertAccessPolicy(x, { cluster, principal, account, policyArn, scope });
      return;
    }
    case 'DisassociateAccessPolicy': {
      const policyArn = str(rp.policyArn);
      if (principal === undefined || policyArn === undefined) return;
      const policy = accessPolicyName(policyArn);
      x.retract('access_policy', `access_policy|${cluster}|${principal}|${policy}`, principal, accessPolicyKey(policy), { cluster, account });
      return;
    }
    case 'CreatePodIdentityAssociation':
    case 'UpdatePodIdentityAssociation':
    case 'DeletePodIdentityAssociation': {
      // The response's association is the whole state after the call; Update and Delete requests name only the id.
      const a = obj(re.association);
      const id = str(a?.associationId) ?? str(rp.associationId);
      const known = a === undefined || str(a.namespace) === undefined ? associationById(x, cluster, id) : undefined;
      const ns = str(a?.namespace) ?? str(rp.namespace) ?? known?.ns;
      const sa = str(a?.serviceAccount) ?? str(rp.serviceAccount) ?? known?.sa;
      if (ns === undefined || sa === undefined) return;
      const key = `pod_identity_association|${cluster}|${ns}/${sa}`;
      if (name === 'DeletePodIdentityAssociation') {
        const prev = x.store.at(key, x.atMs);
        if (prev !== undefined) x.retract('pod_identity_association', key, prev.fact.from, prev.fact.to, { cluster, account });
        const tkey = `pod_identity_target|${cluster}|${ns}/${sa}`;
        const target = x.store.at(tkey, x.atMs);
        if (target !== undefined) x.retract('pod_identity_target_role', tkey, target.fact.from, target.fact.to, { cluster, account });
        return;
      }
      const prev = x.store.at(key, x.atMs)?.fact.attributes;
      const roleArn = str(a?.roleArn) ?? str(rp.roleArn) ?? known?.role ?? x.store.at(key, x.atMs)?.fact.to;
      if (roleArn === undefined) return;
      // With a response, its targetRoleArn is the state (absent = none); from a request alone, '' removes it and absent keeps it.
      const targetRoleArn = a !== undefined ? str(a.targetRoleArn) : str(rp.targetRoleArn) ?? (name === 'UpdatePodIdentityAssociation' ? str(prev?.targetRoleArn) : undefined);
      const externalId = str(a?.externalId) ?? (a === undefined && name === 'UpdatePodIdentityAssociation' ? str(prev?.externalId) : undefined);
      const disable = a?.disableSessionTags ?? rp.disableSessionTags;
      assertPodIdentityAssociation(x, { cluster, account, ns, sa, roleArn, targetRoleArn, externalId, disableSessionTags: typeof disable === 'boolean' ? disable : undefined, associationId: id });
      return;
    }
  }
}

/**
 * The policy document of `requestParameters[key]`: the normalizer's reading (`seam.policy`, ADR 0042: parsed once,
 * after redaction) when it came from that field, else the raw value parsed here (events built without the
 * normalizer, e.g. unit fixtures).
 */
export function requestPolicy(ev: SeamEvent, key: string): Rec | undefined {
  const view = ev.seam.policy;
  if (view !== undefined && view.field === 'requestParameters.' + key) return view as unknown as Rec;
  return parsePolicyDocument(obj(ev.requestParameters)?.[key]);
}

/** A policy document as CloudTrail wrote it (a JSON string, sometimes URL-encoded, or an object). */
function parsePolicyDocument(v: unknown): Rec | undefined {
  if (typeof v !== 'string') return obj(v);
  for (const text of [v, safeDecode(v)]) {
    try {
      return obj(JSON.parse(text));
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface FederatedTrust {
  issuer: string;
  /** `sub` values allowed (StringEquals / StringLike); empty = no `sub` condition at all. */
  subjects: string[];
  /** True when some `sub` condition is StringLike with a wildcard, or absent. */
  wildcard: boolean;
}

export function statements(doc: Rec | undefined): Rec[] {
  const s = doc?.Statement;
  if (Array.isArray(s)) return s.map(obj).filter((x): x is Rec => x !== undefined);
  const one = obj(s);
  return one === undefined ? [] : [one];
}

/** OIDC-federated Allow statements of a trust policy. */
export function federatedTrusts(doc: Rec | undefined): FederatedTrust[] {
  const out: FederatedTrust[] = [];
  for (const st of statements(doc)) {
    if (st.Effect !== 'Allow') continue;
    const fed = obj(st.Principal)?.Federated;
    const providers = typeof fed === 'string' ? [fed] : strs(fed);
    for (const p of providers) {
      if (!p.includes('oidc-provider/')) continue;
      const issuer = issuerOf(p);
      const subjects: string[] = [];
      let wildcard = false;
      let sawSub = false;
      const cond = obj(st.Condition) ?? {};
      for (const [op, body] of Object.entries(cond)) {
        const b = obj(body);
        if (b === undefined) continue;
        for (const [k, v] of Object.entries(b)) {
          if (!k.endsWith(':sub')) continue;
          sawSub = true;
          const vals = typeof v === 'string' ? [v] : strs(v);
          subjects.push(...vals);
          if (/Like/.test(op) && vals.some((s) => s.includes('*') || s.includes('?'))) wildcard = true;
        }
      }
      if (!sawSub) wildcard = true;
      out.push({ issuer, subjects, wildcard });
    }
  }
  return out;
}

function trust(ev: SeamEvent, x: ExtractContext, roleName: string | undefined, docKey: string): void {
  const account = ev.seam.account;
  if (roleName === undefined || account === undefined) return;
  const role = roleArnFromName(account, roleName);
  const trusts = federatedTrusts(requestPolicy(ev, docKey));
  x.replaceGroup(
    'role_trust|' + role,
    trusts.map((t) => ({
      kind: 'role_trust' as const,
      key: `role_trust|${role}|${t.issuer}`,
      from: role,
      to: oidcKey(t.issuer),
      account,
      group: 'role_trust|' + role,
      attributes: { subjects: t.subjects, wildcard: t.wildcard },
    })),
  );
}

interface ChainedTarget {
  cluster: string;
  /** The service account the first session belongs to, when the target session is known to be EKS's chaining. */
  sa?: { ns: string; name: string };
  pod?: string;
  seconds: number;
  /** Attributes of the target session's pod_identity_session: the first session and its role. */
  via: Rec;
}

/**
 * sts:AssumeRole made with a Pod Identity session's credentials: EKS Pod Identity assuming the association's target
 * role (it "assumes the EKS Pod Identity role, then uses those credentials to assume the target IAM role"). With session
 * tags the tags say whose session it is (`tagged`); without them, it is EKS's chaining when the association of the
 * first session's service account names this role as its target, or the request's sts:ExternalId is the association's
 * (or the `<region>/<account>/<cluster>/<namespace>/<service account>` form EKS uses). Any other AssumeRole by a
 * workload session is the workload's own role chaining (`assumed_by`).
 */
function podIdentityTarget(ev: SeamEvent, x: ExtractContext, tagged: boolean): ChainedTarget | undefined {
  const ui = obj(ev.userIdentity);
  if (str(ui?.type) !== 'AssumedRole') return undefined;
  const caller = str(ui?.arn);
  const rp = obj(ev.requestParameters);
  const roleArn = str(rp?.roleArn);
  if (caller === undefined || roleArn === undefined) return undefined;
  const first = x.store.at('pis|' + caller, x.atMs);
  if (first === undefined) return undefined;
  const cluster = first.fact.cluster ?? UNKNOWN_CLUSTER;
  const sa = String(first.fact.attributes.service_account);
  const target = canonicalIamArn(roleArn);
  const viaRole = str(obj(obj(ui?.sessionContext)?.sessionIssuer)?.arn) ?? roleOfSession(caller);
  const out: ChainedTarget = {
    cluster,
    seconds: typeof rp?.durationSeconds === 'number' ? rp.durationSeconds : 3600,
    via: { via_session: caller, via_role: viaRole === undefined ? undefined : canonicalIamArn(viaRole), target_role: target },
  };
  const pod = first.fact.attributes.pod;
  if (typeof pod === 'string') out.pod = pod.slice(pod.indexOf('/') + 1);
  if (tagged) return out;
  const assoc = x.store.at(`pod_identity_target|${cluster}|${sa}`, x.atMs);
  const externalId = str(rp?.externalId);
  const [ns, name] = [sa.slice(0, sa.indexOf('/')), sa.slice(sa.indexOf('/') + 1)];
  const byAssociation = assoc !== undefined && assoc.fact.to === target;
  const byExternalId = externalId !== undefined && (externalId === assoc?.fact.attributes.externalId || externalId.endsWith(`/${cluster}/${ns}/${name}`));
  if (!byAssociation && !byExternalId) return undefined;
  out.sa = { ns, name };
  return out;
}

export function extractCloudTrail(ev: SeamEvent, x: ExtractContext): void {
  observeCaller(ev, x);
  if (ev.seam.outcome === 'failure') return;
  const source = str(ev.eventSource);
  const name = str(ev.eventName);
  const rp = obj(ev.requestParameters);
  if (source === 'sts.amazonaws.com') {
    if (name === 'AssumeRoleWithWebIdentity') return webIdentity(ev, x);
    if (name === 'AssumeRole') {
      const ui = obj(ev.userIdentity);
      const tags = tagsOf(rp);
      const ns = tags['kubernetes-namespace'];
      const saName = tags['kubernetes-service-account'];
      const cluster = tags['eks-cluster-name'];
      const chained = podIdentityTarget(ev, x, ns !== undefined && saName !== undefined && cluster !== undefined);
      if (ns !== undefined && saName !== undefined && cluster !== undefined) {
        // EKS's own AssumeRole of the association's role (the caller is the service), or of its target role with the
        // first role's session (the tags come along): either way the session is the service account's.
        if (chained === undefined) return podIdentitySession(ev, x, cluster, ns, saName, tags['kubernetes-pod-name'], { pod_uid: tags['kubernetes-pod-uid'] });
        return podIdentitySession(ev, x, cluster, ns, saName, tags['kubernetes-pod-name'] ?? chained.pod, { pod_uid: tags['kubernetes-pod-uid'], ...chained.via }, chained.seconds);
      }
      if (chained?.sa !== undefined) {
        // Session tags disabled on the association: EKS names the service account in sts:ExternalId instead.
        return podIdentitySession(ev, x, chained.cluster, chained.sa.ns, chained.sa.name, chained.pod, chained.via, chained.seconds);
      }
      const { session } = issuedSession(ev, x, str(rp?.roleArn), typeof rp?.durationSeconds === 'number' ? rp.durationSeconds : 3600, 'assume_role');
      const caller = ev.seam.principal?.id;
      if (session !== undefined && caller !== undefined && caller !== session) {
        x.assert({ kind: 'assumed_by', key: 'assumed_by|' + session, from: session, to: caller, account: ev.seam.account, attributes: { caller_type: str(ui?.type) } });
      }
      return;
    }
    return;
  }
  if (source === 'eks-auth.amazonaws.com' && name === 'AssumeRoleForPodIdentity') {
    const re = obj(ev.responseElements);
    const subject = obj(re?.subject);
    const cluster = str(rp?.clusterName) ?? ev.seam.cluster;
    const ns = str(subject?.namespace);
    const saName = str(subject?.serviceAccount);
    if (cluster === undefined || ns === undefined || saName === undefined) return;
    podIdentitySession(ev, x, cluster, ns, saName, undefined, { association: str(obj(re?.podIdentityAssociation)?.associationId) });
    x.learnEgress(cluster, ev.seam.source_ip, ev.seam.account, 'pod_identity');
    return;
  }
  if (source === 'eks.amazonaws.com' && name !== undefined) return eks(ev, name, x);
  if (source === 'iam.amazonaws.com') {
    if (name === 'CreateRole') return trust(ev, x, str(rp?.roleName), 'assumeRolePolicyDocument');
    if (name === 'UpdateAssumeRolePolicy') return trust(ev, x, str(rp?.roleName), 'policyDocument');
  }
}

