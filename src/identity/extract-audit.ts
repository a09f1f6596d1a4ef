/**
 * Kubernetes audit → identity facts: what the EKS authenticator says an IAM principal became, aws-auth
 * mappings, RBAC roles and bindings, IRSA annotations, pods and their service accounts, and execs.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { serviceAccountOf } from '../core/normalize/principal.ts';
import { isNodeMapping, parseAwsAuthData } from './aws-auth.ts';
import type { ExtractContext, FactDraft } from './context.ts';
import { canonicalIamArn, clusterKey, groupKey, podKey, rbacRoleKey, saKey, userKey, UNKNOWN_CLUSTER } from './keys.ts';
import { parseBinding, parseRules, type RbacSubject } from './rbac.ts';
import { first, obj, str, type Rec } from '../core/values.ts';

export const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The full object an audit event carries: the response (after defaulting and patches), else the request when it is an object, not a patch. */
function objectOf(ev: SeamEvent, kind: string): Rec | undefined {
  const resp = obj(ev.responseObject);
  if (resp !== undefined && resp.kind === kind) return resp;
  const req = obj(ev.requestObject);
  if (req !== undefined && req.kind === kind) return req;
  return undefined;
}

function subjectKey(cluster: string, s: RbacSubject): string {
  if (s.kind === 'User') return userKey(cluster, s.name);
  if (s.kind === 'Group') return groupKey(cluster, s.name);
  return saKey(cluster, `${s.namespace ?? 'default'}/${s.name}`);
}

/** Facts of one binding object (one per subject), all in the binding's group. */
export function bindingFacts(cluster: string, account: string | undefined, o: Rec): { group: string; members: FactDraft[] } | undefined {
  const b = parseBinding(o);
  if (b === undefined) return undefined;
  const group = `rbac_binding|${cluster}|${b.namespace ?? ''}|${b.name}`;
  const role = rbacRoleKey(cluster, b.roleRef.kind, b.roleRef.name, b.namespace);
  const members = b.subjects.map(
    (s): FactDraft => ({
      kind: 'rbac_binding',
      key: `${group}|${subjectKey(cluster, s)}`,
      from: subjectKey(cluster, s),
      to: role,
      account,
      cluster,
      group,
      attributes: { binding: b.name, bindingKind: b.kind, namespace: b.namespace, roleRef: `${b.roleRef.kind}/${b.roleRef.name}`, subject: `${s.kind}/${s.namespace === undefined ? '' : s.namespace + '/'}${s.name}` },
    }),
  );
  return { group, members };
}

export function roleFact(cluster: string, account: string | undefined, o: Rec): FactDraft | undefined {
  const kind = o.kind === 'Role' ? 'Role' : o.kind === 'ClusterRole' ? 'ClusterRole' : undefined;
  const meta = obj(o.metadata);
  const name = str(meta?.name);
  if (kind === undefined || name === undefined) return undefined;
  const ns = kind === 'Role' ? str(meta?.namespace) : undefined;
  const key = rbacRoleKey(cluster, kind, name, ns);
  return { kind: 'rbac_role', key: 'rbac_role|' + key, from: key, to: key, account, cluster, attributes: { name, namespace: ns, roleKind: kind, rules: parseRules(o.rules) } };
}

export function awsAuthFacts(cluster: string, account: string | undefined, data: unknown, firstSight: boolean): { group: string; members: FactDraft[]; problems: string[] } {
  const parsed = parseAwsAuthData(data);
  const group = 'aws_auth|' + cluster;
  const members: FactDraft[] = [];
  for (const m of parsed.mappings) {
    members.push({
      kind: 'aws_auth_mapping',
      key: `aws_auth|${cluster}|${m.arn}`,
      from: m.arn,
      to: userKey(cluster, m.username),
      account,
      cluster,
      group,
      attributes: { username: m.username, groups: m.groups, mapKind: m.kind, ...(firstSight ? { first_sight: true } : {}) },
    });
    if (isNodeMapping(m)) {
      members.push({ kind: 'node_role', key: `node_role|${cluster}|${m.arn}`, from: m.arn, to: clusterKey(cluster), account, cluster, group, attributes: { via: 'aws_auth' } });
    }
  }
  return { group, members, problems: parsed.problems };
}

export function irsaFact(cluster: string, account: string | undefined, o: Rec): { key: string; fact?: FactDraft } | undefined {
  const meta = obj(o.metadata);
  const name = str(meta?.name);
  const ns = str(meta?.namespace);
  if (name === undefined || ns === undefined) return undefined;
  const key = `irsa|${cluster}|${ns}/${name}`;
  const role = str(obj(meta?.annotations)?.[IRSA_ANNOTATION]);
  if (role === undefined) return { key };
  return { key, fact: { kind: 'irsa', key, from: saKey(cluster, ns + '/' + name), to: canonicalIamArn(role), account, cluster, attributes: { annotation: role } } };
}

export function podFact(cluster: string, account: string | undefined, ns: string, pod: string, sa: string, node: string | undefined, how: string): FactDraft {
  return {
    kind: 'pod_service_account',
    key: `pod|${cluster}|${ns}/${pod}`,
    from: podKey(cluster, ns + '/' + pod),
    to: saKey(cluster, ns + '/' + sa),
    account,
    cluster,
    attributes: { node, learned_from: how },
  };
}

/** The `command=` parameters of an exec request URI. */
function execCommand(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const q = uri.indexOf('?');
  if (q < 0) return undefined;
  const parts = new URLSearchParams(uri.slice(q + 1)).getAll('command');
  return parts.length === 0 ? undefined : parts.join(' ');
}

interface AuthKeys {
  key: string;
  to: string;
}

/**
 * The key and target of an `authenticates_as` fact, built once per cluster, IAM principal and user name (the
 * same few users send request after request; a key built per request is a long string to flatten and hash). Bounded.
 */
let authKeyMemo = new Map<string, Map<string, Map<string, AuthKeys>>>();
let authKeyCount = 0;
function authKeys(cluster: string, arn: string, username: string): AuthKeys {
  let byArn = authKeyMemo.get(cluster);
  if (byArn === undefined) authKeyMemo.set(cluster, (byArn = new Map()));
  let byUser = byArn.get(arn);
  if (byUser === undefined) byArn.set(arn, (byUser = new Map()));
  let k = byUser.get(username);
  if (k === undefined) {
    if (++authKeyCount > 4096) {
      authKeyMemo = new Map([[cluster, (byArn = new Map([[arn, (byUser = new Map())]]))]]);
      authKeyCount = 1;
    }
    k = { key: `authenticates_as|${cluster}|${arn}|${username}`, to: userKey(cluster, username) };
    byUser.set(username, k);
  }
  return k;
}

/**
 * Would `sameJson` find `attributes` equal to `{ username, groups: <the strings of groups> }`? True only in the
 * shape this extractor writes (a plain object, `username` then `groups`, nothing else); any other shape says
 * false, and the full comparison in `assert` decides.
 */
function sameUserGroups(attributes: Record<string, unknown>, username: string, groups: unknown): boolean {
  if (Object.getPrototypeOf(attributes) !== Object.prototype || attributes.username !== username) return false;
  let i = 0;
  for (const key in attributes) {
    if ((i === 0 && key !== 'username') || (i === 1 && key !== 'groups') || i > 1) return false;
    i++;
  }
  const had = attributes.groups;
  if (i !== 2 || !Array.isArray(had)) return false;
  let j = 0;
  if (Array.isArray(groups)) {
    for (const g of groups as unknown[]) {
      if (typeof g !== 'string') continue;
      if (j >= had.length || had[j] !== g) return false;
      j++;
    }
  }
  return j === had.length;
}

export function extractAudit(ev: SeamEvent, x: ExtractContext): void {
  const cluster = ev.seam.cluster ?? UNKNOWN_CLUSTER;
  const account = ev.seam.account;
  const user = obj(ev.user);
  const username = str(user?.username);
  const extra = obj(user?.extra);
  const canonical = first(extra?.canonicalArn);
  if (username !== undefined && canonical !== undefined) {
    const arn = canonicalIamArn(canonical);
    // Every request of an IAM-authenticated user says the same: when the version valid now already does, nothing is built.
    const k = authKeys(cluster, arn, username);
    const cur = x.store.at(k.key, x.atMs);
    if (cur === undefined || cur.fact.to !== k.to || !sameUserGroups(cur.fact.attributes, username, user?.groups)) {
      const groups = Array.isArray(user?.groups) ? (user.groups as unknown[]).filter((g): g is string => typeof g === 'string') : [];
      x.assert({ kind: 'authenticates_as', key: k.key, from: arn, to: k.to, account, cluster, attributes: { username, groups } });
    }
    if (username.startsWith('system:node:')) {
      x.assertIfAbsent({ kind: 'node_role', key: `node_role|${cluster}|${arn}`, from: arn, to: clusterKey(cluster), account, cluster, attributes: { via: 'authenticator' } });
    }
  }
  const sa = username === undefined ? undefined : serviceAccountOf(username);
  const podName = first(extra?.['authentication.kubernetes.io/pod-name']);
  if (sa !== undefined && podName !== undefined) {
    const ns = sa.slice(0, sa.indexOf('/'));
    if (x.store.latest(`pod|${cluster}|${ns}/${podName}`) === undefined)
      x.assertIfAbsent(podFact(cluster, account, ns, podName, sa.slice(ns.length + 1), first(extra?.['authentication.kubernetes.io/node-name']), 'token'));
  }
  // Everything below reads what the request wrote. A refused request wrote nothing; nor did a server-side dry run
  // (`seam.dry_run`, ADR 0045), though the API server answered with the object as if it had: its aws-auth, bindings,
  // roles, annotations and pods are what would have been, so they assert and retract nothing. What is above (who
  // authenticated as whom, which pod a token belongs to) the request shows whether it was a dry run or not.
  if (ev.seam.outcome === 'failure' || ev.seam.dry_run === true) return;

  const ref = obj(ev.objectRef);
  const resource = str(ref?.resource);
  const sub = str(ref?.subresource);
  const ns = str(ref?.namespace);
  const name = str(ref?.name);
  const verb = str(ev.verb) ?? '';
  const writes = verb === 'create' || verb === 'update' || verb === 'patch';
  switch (resource) {
    case 'configmaps': {
      const cmName = name ?? str(obj(obj(ev.requestObject)?.metadata)?.name);
      if (ns !== 'kube-system' || cmName !== 'aws-auth' || sub !== undefined) return;
      const group = 'aws_auth|' + cluster;
      if (verb === 'delete') return x.replaceGroup(group, []);
      const o = objectOf(ev, 'ConfigMap');
      if (!writes || o === undefined) return;
      const { members } = awsAuthFacts(cluster, account, o.data, verb !== 'create' && !x.store.groupSeen(group));
      return x.replaceGroup(group, members);
    }
    case 'roles':
    case 'clusterroles': {
      if (sub !== undefined || name === undefined) return;
      const kind = resource === 'roles' ? 'Role' : 'ClusterRole';
      const key = rbacRoleKey(cluster, kind, name, ns);
      if (verb === 'delete') return x.retract('rbac_role', 'rbac_role|' + key, key, key, { cluster, account });
      const o = objectOf(ev, kind);
      const f = writes && o !== undefined ? roleFact(cluster, account, o) : undefined;
      if (f !== undefined) x.assert(f);
      return;
    }
    case 'rolebindings':
    case 'clusterrolebindings': {
      if (sub !== undefined || name === undefined) return;
      if (verb === 'delete') return x.replaceGroup(`rbac_binding|${cluster}|${resource === 'rolebindings' ? (ns ?? '') : ''}|${name}`, []);
      const o = objectOf(ev, resource === 'rolebindings' ? 'RoleBinding' : 'ClusterRoleBinding');
      const b = writes && o !== undefined ? bindingFacts(cluster, account, o) : undefined;
      if (b !== undefined) x.replaceGroup(b.group, b.members);
      return;
    }
    case 'serviceaccounts': {
      if (ns === undefined || name === undefined) return;
      if (sub === 'token') {
        const bound = obj(obj(obj(ev.requestObject)?.spec)?.boundObjectRef);
        const pod = str(bound?.name);
        if (bound?.kind === 'Pod' && pod !== undefined) x.assertIfAbsent(podFact(cluster, account, ns, pod, name, undefined, 'token_request'));
        return;
      }
      if (sub !== undefined) return;
      const key = `irsa|${cluster}|${ns}/${name}`;
      if (verb === 'delete') {
        const prev = x.store.at(key, x.atMs);
        if (prev !== undefined) x.retract('irsa', key, prev.fact.from, prev.fact.to, { cluster, account });
        return;
      }
      const o = objectOf(ev, 'ServiceAccount');
      if (!writes || o === undefined) return;
      const r = irsaFact(cluster, account, o);
      if (r?.fact !== undefined) x.assert(r.fact);
      else if (r !== undefined) {
        const prev = x.store.at(r.key, x.atMs);
        if (prev !== undefined) x.retract('irsa', r.key, prev.fact.from, prev.fact.to, { cluster, account });
      }
      return;
    }
    case 'pods': {
      if (ns === undefined) return;
      if (sub === 'exec' || sub === 'attach') {
        if (name === undefined || username === undefined || (verb !== 'create' && verb !== 'get')) return;
        x.assert({
          kind: 'exec',
          key: 'exec|' + ev.seam.id,
          from: podKey(cluster, ns + '/' + name),
          to: userKey(cluster, username),
          account,
          cluster,
          attributes: {
            username,
            arn: first(extra?.arn),
            canonicalArn: canonical,
            session: first(extra?.sessionName),
            accessKeyId: first(extra?.accessKeyId),
            source_ip: ev.seam.source_ip,
            subresource: sub,
            command: execCommand(str(ev.requestURI)),
          },
          valid_to: new Date(x.atMs + x.config.execLinkWindowMs).toISOString(),
        });
        return;
      }
      if (sub !== undefined) return;
      if (verb === 'delete' && name !== undefined) {
        const key = `pod|${cluster}|${ns}/${name}`;
        const prev = x.store.latest(key);
        if (prev !== undefined && prev.toMs === Infinity) x.retract('pod_service_account', key, prev.fact.from, prev.fact.to, { cluster, account });
        return;
      }
      if (verb !== 'create') return;
      const o = objectOf(ev, 'Pod');
      const pod = str(obj(o?.metadata)?.name) ?? name;
      if (o === undefined || pod === undefined) return;
      const spec = obj(o.spec);
      x.assert(podFact(cluster, account, ns, pod, str(spec?.serviceAccountName) ?? str(spec?.serviceAccount) ?? 'default', str(spec?.nodeName), 'pod_create'));
      return;
    }
  }
}

export function extractRuntime(ev: SeamEvent, x: ExtractContext): void {
  const p = ev.seam.principal;
  const cluster = ev.seam.cluster ?? UNKNOWN_CLUSTER;
  if (p?.service_account === undefined || p.pod === undefined) return;
  const ns = p.pod.slice(0, p.pod.indexOf('/'));
  const pod = p.pod.slice(ns.length + 1);
  // Every runtime event of a pod names it: look its link up before building the fact.
  if (x.store.latest(`pod|${cluster}|${ns}/${pod}`) !== undefined) return;
  const sa = p.service_account.slice(ns.length + 1);
  x.assertIfAbsent(podFact(cluster, ev.seam.account, ns, pod, sa, typeof ev.node === 'string' ? ev.node : undefined, 'runtime'));
}
