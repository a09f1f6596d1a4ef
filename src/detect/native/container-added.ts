/**
 * Sidecar injection (Threat Matrix for Kubernetes "Sidecar Injection"; ATT&CK T1610): a container added to an
 * existing Deployment, DaemonSet, StatefulSet, ReplicaSet, Job or CronJob by a patch or an update, so the attacker's
 * code runs beside the workload with its service account token, IAM role and network. A strategic-merge patch
 * (`kubectl set image`, `kubectl apply`'s `$setElementOrder/containers`), a JSON merge patch or a server-side apply
 * names containers by their names, changed or new alike: only knowing the workload's containers tells an added
 * one from an image update. So the detection remembers each workload's container, init container and ephemeral
 * container names from the full objects it sees (create and update bodies, the response of any write logged at
 * RequestResponse), and judges patch and update requests against them.
 *
 * What it can decide:
 * - a known workload (its `workload_containers` fact holds at the request's time): a name in the request that none
 *   of its lists had is added;
 * - any workload: a JSON patch `add` of one member of a container list (`.../containers/-`, `.../containers/2`)
 *   inserts a container whatever was there (a duplicate name is refused by validation, and refusals are left out).
 *   The Sigma rule k8s_container_injected_into_workload_by_patch sees the same operation without state; it is low
 *   so that the operation raises one medium+ alert, this one, at this detection's level (ADR 0043).
 * What it cannot: a strategic-merge, merge or apply patch of a workload it does not know (created before Seam
 * watched, not written for WORKLOAD_MEMORY_MS, or with more than MAX_NAMES containers): the request alone does not
 * say which names were there, and the response shows the list after the patch. It stays quiet and learns the list
 * from the response, when there is one.
 *
 * State: the names are identity facts (`workload_containers`, one key per cluster, namespace, kind and name; ADR
 * 0043), learned through `ctx.learn`: they go out on seam.identity and come back when a restarted correlate member
 * (or embedded mode) rebuilds its graph, so a restart forgets nothing. A new version is written when the lists
 * change, or to refresh one older than half its memory. A delete retracts it, and so does the end of its namespace
 * (`kubectl delete namespace`: the namespace's delete, then the namespace controller's `deletecollection` of each
 * kind, no delete per object); a namespace's facts are one `group` of the edge store, so finding them costs that
 * namespace's workloads, not all. A write processed after something later is stored of its workload (a version or a
 * delete after the write's time: EKS runs several API servers, each with its own audit stream, so a write can come
 * in after the delete that followed it) is judged but teaches nothing: it would bring the deleted workload back, or
 * put an older list over a newer one. A patch without a response only extends what is known (a removal by index is
 * not understood, so a removed name may be remembered: a miss later, not a false alert). Jobs are judged but not
 * remembered: a Job's pod template cannot change after creation (the API server refuses it), and CronJobs create
 * one Job per run.
 *
 * Server-side dry runs (`seam.dry_run`: kubectl diff, `kubectl apply --dry-run=server`, GitOps drift checks) are
 * skipped altogether: they change no workload, so they neither teach, forget nor alert (ADR 0045).
 *
 * Level: medium; high when an added container is privileged (or adds SYS_ADMIN, SYS_MODULE, SYS_PTRACE, ALL),
 * mounts a hostPath volume, comes with host namespaces, or the workload is in kube-system; low when the writer is
 * a GitOps controller (`gitOpsUsers`: Argo CD, Flux apply what is in Git). The control plane, EKS and kube-system's
 * controllers (EKS add-on updates add containers to aws-node) are not judged; their objects still teach.
 */
import { z } from 'zod';
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Edge, IdentityFact } from '../../identity/types.ts';
import type { Alert, AlertLevel } from '../alert.ts';
import { isRec, obj, str, type Rec } from '../../core/values.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { connectionAddress, nativeAlert, quoted, servedRequest, timeOf } from './util.ts';

/** Workload resources with a pod template, and where the template's pod spec sits. */
const SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  deployments: ['spec', 'template', 'spec'],
  daemonsets: ['spec', 'template', 'spec'],
  statefulsets: ['spec', 'template', 'spec'],
  replicasets: ['spec', 'template', 'spec'],
  jobs: ['spec', 'template', 'spec'],
  cronjobs: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
const GROUPS = new Set(['apps', 'batch', 'extensions']);
const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
type ListName = (typeof LISTS)[number];
const LIST_TEXT: Record<ListName, string> = { containers: 'container', initContainers: 'init container', ephemeralContainers: 'ephemeral container' };

/** A workload's container names per list. */
type Known = Record<ListName, string[]>;

interface Candidate {
  list: ListName;
  name: string;
  /** The container as the request gives it (a JSON patch value, a merge patch entry). */
  spec: Rec | undefined;
  /** Added whatever the workload had (a JSON patch add of one list member). */
  certain: boolean;
}

/**
 * How long a workload's names hold without a full object of it seen again (the fact's `valid_to`; refreshed when
 * seen after half of it). Long: a stable workload is written at its rollouts, months apart, and forgetting it only
 * makes the detection quiet about it; the memory mainly bounds what a delete Seam never saw leaves behind.
 */
export const WORKLOAD_MEMORY_MS = 400 * 24 * 3600_000;
/** More names than this (all lists together) are not remembered: the workload is judged as unknown. */
export const MAX_NAMES = 64;
/** A container name is a DNS label (RFC 1123): at most 63 characters. */
const MAX_NAME_CHARS = 63;

const Names = z.array(z.string().min(1).max(MAX_NAME_CHARS)).max(MAX_NAMES);
/**
 * `attributes` of a `workload_containers` fact, as written and as read back from seam.identity (a record another
 * version wrote, or one damaged in transit, is not trusted: the workload is then unknown). At most MAX_NAMES names
 * in the three lists together.
 */
export const WorkloadContainersAttributes = z
  .object({
    containers: Names.describe('Names of the pod template’s containers.'),
    initContainers: Names.describe('Names of its init containers.'),
    ephemeralContainers: Names.describe('Names of its ephemeral containers (none in a valid template; kept for a body that names some).'),
  })
  .refine((a) => a.containers.length + a.initContainers.length + a.ephemeralContainers.length <= MAX_NAMES, { message: `more than ${MAX_NAMES} names in all` });

/** Kinds whose names are remembered: a Job's pod template cannot change after creation (see the module comment). */
const REMEMBERED = new Set(['deployments', 'daemonsets', 'statefulsets', 'replicasets', 'cronjobs']);

interface Workload {
  /** The fact key: `workload_containers|<cluster>|<namespace>|<kind>|<name>`. */
  key: string;
  /** The graph node: `k8s:<cluster>:<kind>:<namespace>/<name>`. */
  node: string;
  cluster: string;
  /** The store's set of the namespace's facts (`namespaceGroup`). */
  group: string;
}

/** The edge-store group of every workload_containers fact of one namespace: what its deletion retracts. */
const namespaceGroup = (cluster: string, ns: string): string => `workload_containers|${cluster}|${ns}`;
/** The start of the keys of one kind in a namespace (`deletecollection` of that kind). */
const kindPrefix = (cluster: string, ns: string, resource: string): string => `${namespaceGroup(cluster, ns)}|${resource.replace(/s$/, '')}|`;

function workloadOf(cluster: string, resource: string, ns: string, name: string): Workload {
  const kind = resource.replace(/s$/, '');
  return { key: `${kindPrefix(cluster, ns, resource)}${name}`, node: `k8s:${cluster}:${kind}:${ns}/${name}`, cluster, group: namespaceGroup(cluster, ns) };
}

/** The workload's fact version in force at `t`, with its names (undefined when its attributes are not names). */
interface Prior {
  edge: Edge;
  known: Known | undefined;
}

function priorAt(graph: IdentityGraph, w: Workload, t: number): Prior | undefined {
  const edge = graph.store.at(w.key, t);
  if (edge === undefined) return undefined;
  const a = WorkloadContainersAttributes.safeParse(edge.fact.attributes);
  return { edge, known: a.success ? a.data : undefined };
}

const sameNames = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Fact fields every version of the workload's fact shares. */
function factBase(event: SeamEvent, w: Workload): Pick<IdentityFact, 'kind' | 'key' | 'from' | 'to' | 'cluster' | 'group' | 'provenance' | 'valid_from'> & { account?: string } {
  return {
    kind: 'workload_containers',
    key: w.key,
    from: w.node,
    to: w.node,
    cluster: w.cluster,
    group: w.group,
    ...(event.seam.account === undefined ? {} : { account: event.seam.account }),
    provenance: event.seam.id,
    valid_from: event['@timestamp'],
  };
}

/**
 * Something of the workload later than `t` is already stored: a version that starts after it, or a delete (or
 * forgetting) after it. An event at `t` then came in late (another API server's stream) and is older news.
 */
function laterKnown(graph: IdentityGraph, w: Workload, t: number): boolean {
  const last = graph.store.latest(w.key);
  return last !== undefined && (last.fromMs > t || (last.closedBy !== undefined && last.toMs > t));
}

/**
 * Learns the workload's names as they are after this event: a new version when they differ from the one in force
 * (or that one is older than half the memory). Too many names, or a name no API server accepts: the version in
 * force is closed instead (unknown from here on: quiet, never a false alert). Nothing when something later is
 * known of the workload (`laterKnown`): a late write must not bring back a workload deleted after it.
 */
function learnNames(event: SeamEvent, graph: IdentityGraph, ctx: EvalContext, w: Workload, k: Known, prior: Prior | undefined): void {
  const t = timeOf(event);
  if (laterKnown(graph, w, t)) return;
  if (!WorkloadContainersAttributes.safeParse(k).success) {
    if (prior !== undefined) forget(event, ctx, w);
    return;
  }
  const was = prior?.known;
  if (was !== undefined && LISTS.every((l) => sameNames(was[l], k[l])) && t - prior!.edge.fromMs < WORKLOAD_MEMORY_MS / 2) return;
  ctx.learn({
    ...factBase(event, w),
    op: 'assert',
    attributes: { containers: [...k.containers], initContainers: [...k.initContainers], ephemeralContainers: [...k.ephemeralContainers] },
    valid_to: new Date(t + WORKLOAD_MEMORY_MS).toISOString(),
  });
}

/** Closes the workload's fact at the event's time (a delete; a list too long to keep). */
function forget(event: SeamEvent, ctx: EvalContext, w: Workload): void {
  ctx.learn({ ...factBase(event, w), op: 'retract', attributes: {} });
}

/**
 * Forgets the workloads of a namespace that hold at the event's time, found through the namespace's group: all of
 * them (the namespace deleted), those of one kind (a `deletecollection`), or those named (a `deletecollection`
 * whose response, logged at RequestResponse, lists what it deleted). Versions that start after the event are a
 * later incarnation and stay.
 */
function forgetIn(event: SeamEvent, graph: IdentityGraph, ctx: EvalContext, cluster: string, ns: string, which: (key: string) => boolean): void {
  const group = namespaceGroup(cluster, ns);
  for (const e of graph.store.inGroup(group, timeOf(event))) if (e.fact.kind === 'workload_containers' && which(e.fact.key)) forget(event, ctx, { key: e.fact.key, node: e.fact.from, cluster, group });
}

/** The names a `deletecollection` response lists (the API server answers with the deleted objects), if it is a list. */
function deletedNames(response: Rec | undefined): Set<string> | undefined {
  if (response === undefined || !Array.isArray(response.items)) return undefined;
  const names = new Set<string>();
  for (const i of response.items as unknown[]) {
    const n = str(at(i, ['metadata', 'name']));
    if (n !== undefined) names.add(n);
  }
  return names;
}

const SYSTEM = /^(system:node:|system:kube-|system:serviceaccount:kube-system:|eks:)/;
const STRONG_CAPS = new Set(['SYS_ADMIN', 'CAP_SYS_ADMIN', 'SYS_MODULE', 'CAP_SYS_MODULE', 'SYS_PTRACE', 'CAP_SYS_PTRACE', 'ALL']);

function at(v: unknown, path: readonly string[]): unknown {
  for (const k of path) {
    const o = obj(v);
    if (o === undefined) return undefined;
    v = o[k];
  }
  return v;
}

/** Names per list of a full pod spec (an object's), or undefined when `spec` is not one. */
function knownOf(spec: unknown): Known | undefined {
  const s = obj(spec);
  if (s === undefined || !Array.isArray(s.containers)) return undefined;
  const k: Known = { containers: [], initContainers: [], ephemeralContainers: [] };
  for (const l of LISTS) for (const c of Array.isArray(s[l]) ? (s[l] as unknown[]) : []) {
    const n = str(obj(c)?.name);
    if (n !== undefined) k[l].push(n);
  }
  return k;
}

const has = (k: Known, name: string): boolean => k.containers.includes(name) || k.initContainers.includes(name) || k.ephemeralContainers.includes(name);

/** Decodes a JSON pointer (RFC 6901). */
const pointer = (p: string): string[] => (p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));

/** The containers a request body names (with their list), from a JSON patch or an object (merge patch, apply, update body). */
function candidatesOf(body: unknown, specPath: readonly string[]): { cands: Candidate[]; ordered: Partial<Known> } {
  const cands: Candidate[] = [];
  const ordered: Partial<Known> = {};
  if (Array.isArray(body)) {
    for (const raw of body) {
      const op = obj(raw);
      const kind = str(op?.op);
      const path = str(op?.path);
      if (op === undefined || path === undefined || (kind !== 'add' && kind !== 'replace')) continue;
      const segs = pointer(path);
      const n = specPath.length;
      if (segs.length < n || specPath.some((s, i) => segs[i] !== s)) {
        // An operation on an ancestor (/spec/template, /spec): the value holds the pod spec further down.
        if (specPath.slice(0, segs.length).every((s, i) => segs[i] === s)) addFromSpec(cands, at(op.value, specPath.slice(segs.length)), false);
        continue;
      }
      const list = segs[n] as ListName | undefined;
      if (list === undefined) {
        addFromSpec(cands, op.value, false);
        continue;
      }
      if (!LISTS.includes(list)) continue;
      if (segs.length === n + 1) {
        // The whole list set: its names are the list now.
        for (const c of Array.isArray(op.value) ? op.value : []) addOne(cands, list, c, false);
      } else if (segs.length === n + 2 && /^(\d+|-)$/.test(segs[n + 1]!)) {
        addOne(cands, list, op.value, kind === 'add');
      } else if (segs.length === n + 3 && segs[n + 2] === 'name' && typeof op.value === 'string') {
        // A container renamed in place (its image replaced beside it): a name the workload did not have.
        cands.push({ list, name: op.value, spec: undefined, certain: false });
      }
    }
    return { cands, ordered };
  }
  const spec = obj(at(body, specPath));
  if (spec === undefined) return { cands, ordered };
  addFromSpec(cands, spec, false);
  for (const l of LISTS) {
    const order = spec[`$setElementOrder/${l}`];
    if (!Array.isArray(order)) continue;
    const names = order.map((e) => str(obj(e)?.name)).filter((x): x is string => x !== undefined);
    ordered[l] = names;
    for (const name of names) if (!cands.some((c) => c.list === l && c.name === name)) cands.push({ list: l, name, spec: undefined, certain: false });
  }
  return { cands, ordered };
}

function addFromSpec(cands: Candidate[], spec: unknown, certain: boolean): void {
  const s = obj(spec);
  if (s === undefined) return;
  for (const l of LISTS) if (Array.isArray(s[l])) for (const c of s[l] as unknown[]) addOne(cands, l, c, certain);
}

function addOne(cands: Candidate[], list: ListName, c: unknown, certain: boolean): void {
  const o = obj(c);
  const name = str(o?.name);
  // `$patch: delete` removes the entry (strategic merge): not a container the workload gets.
  if (o === undefined || name === undefined || o.$patch === 'delete') return;
  cands.push({ list, name, spec: o, certain });
}

/** Why an added container is worse than any: privileged, host mounts, host namespaces. */
function dangerOf(c: Rec | undefined, podSpecs: readonly (Rec | undefined)[]): string[] {
  const why: string[] = [];
  if (c === undefined) return why;
  const sc = obj(c.securityContext);
  if (sc?.privileged === true) why.push('privileged');
  const caps = (Array.isArray(obj(sc?.capabilities)?.add) ? (obj(sc?.capabilities)!.add as unknown[]) : []).map((x) => String(x).toUpperCase());
  const strong = caps.filter((x) => STRONG_CAPS.has(x));
  if (strong.length > 0) why.push(`adds ${strong.join(', ')}`);
  const hostVolumes = new Set<string>();
  for (const s of podSpecs) {
    for (const v of Array.isArray(s?.volumes) ? (s.volumes as unknown[]) : []) {
      const vo = obj(v);
      const n = str(vo?.name);
      if (n !== undefined && isRec(vo?.hostPath)) hostVolumes.add(n);
    }
  }
  const mounts = (Array.isArray(c.volumeMounts) ? (c.volumeMounts as unknown[]) : []).map((m) => obj(m)).filter((m) => m !== undefined && hostVolumes.has(str(m.name) ?? ''));
  if (mounts.length > 0) why.push(`mounts the host at ${mounts.map((m) => str(m!.mountPath) ?? '?').join(', ')}`);
  for (const f of ['hostPID', 'hostIPC', 'hostNetwork'] as const) if (podSpecs.some((s) => s?.[f] === true)) why.push(f);
  return why;
}

function union(k: Known, cands: readonly Candidate[], ordered: Partial<Known>): Known {
  const out: Known = { containers: ordered.containers ?? [...k.containers], initContainers: ordered.initContainers ?? [...k.initContainers], ephemeralContainers: ordered.ephemeralContainers ?? [...k.ephemeralContainers] };
  for (const c of cands) if (!has(out, c.name)) out[c.list].push(c.name);
  return out;
}

/** Kinds `kubectl rollout undo` can roll back. */
const ROLLABLE = new Set(['deployments', 'daemonsets', 'statefulsets']);

/** The alert's triage text: who added which container to which workload, how, and the kubectl commands to read and undo it. */
function addedTriage(event: SeamEvent, username: string, what: string, resource: string, ns: string, name: string, cluster: string, had: string, reasons: readonly string[]): string {
  const ip = connectionAddress(event);
  const ua = event.seam.user_agent;
  const nsArg = ns === '' ? '' : ` -n ${ns}`;
  const who = username === '' ? 'An unknown user' : username;
  return (
    `${who} added ${quoted(what, 160)} to ${resource.replace(/s$/, '')} ${ns === '' ? '' : ns + '/'}${name} in ${cluster}${ip === undefined ? '' : ` from ${ip}`}${ua === undefined ? '' : ` with ${quoted(ua)}`}${had}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}. ` +
    `Is it in the workload's source of truth (Git, the Helm chart, a change record)? Read the template as it is now (kubectl get ${resource}${nsArg} ${name} -o yaml): the image's registry, what it runs, and the service account it runs as. ` +
    `Benign if a release or a GitOps sync added it. ` +
    `Otherwise ${ROLLABLE.has(resource) ? `roll it back (kubectl rollout undo ${resource.replace(/s$/, '')}/${name}${nsArg})` : `remove the container (kubectl edit ${resource}${nsArg} ${name})`}, rotate what that service account and its IAM role can reach, and find how ${who} got its access (seam hunt --who ${username === '' ? '<user>' : username} --cluster ${cluster}).`
  );
}

export const containerAdded: NativeDetection<null> = {
  id: 'seam-native-container-added-to-workload',
  title: 'Container added to an existing Kubernetes workload',
  level: 'medium',
  tags: ['attack.execution', 'attack.persistence', 'attack.t1610'],
  description:
    'A patch or update that gives an existing Deployment, DaemonSet, StatefulSet, ReplicaSet, Job or CronJob a container (or init container) it did not have, judged against the container names Seam remembers from the workload’s full objects (strategic-merge and merge patches, kubectl apply, server-side apply, updates), or a JSON patch add of a container list member: a sidecar that runs with the workload’s service account, IAM role and network.',
  triage:
    'Which container was added (name, image, command) and by whom (user, source address, user agent)? Is it in the workload’s source of truth (Git, Helm chart)? Check its image registry and what it runs; list the pods already started from the new template, and the service account’s and IAM role’s calls since. If unexpected: roll the workload back, rotate what the service account and role can reach, and find how the writer got its access.',
  sources: ['k8s_audit'],
  createState: () => null,
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit' || event.stage !== 'ResponseComplete') return [];
    // A server-side dry run (kubectl diff, Argo CD and Flux drift checks) added no container and deleted nothing: it
    // neither teaches nor forgets names, and is not judged (ADR 0045). The object in its response is what would have
    // been; the Sigma rule for a JSON patch add still matches it, marked as a dry run.
    if (event.seam.dry_run === true) return [];
    const ref = obj(event.objectRef);
    const resource = str(ref?.resource);
    if (resource === undefined || str(ref?.subresource) !== undefined) return [];
    const namespaces = resource === 'namespaces';
    const specPath = SPEC_PATH[resource];
    if (namespaces ? (str(ref?.apiGroup) ?? '') !== '' : specPath === undefined || !GROUPS.has(str(ref?.apiGroup) ?? '')) return [];
    if (event.seam.outcome === 'failure' || !servedRequest(event)) return [];
    const verb = str(event.verb);
    const cluster = event.seam.cluster ?? 'unknown';
    if (namespaces) {
      // Deleting a namespace deletes its workloads (by the namespace controller's deletecollection, no delete each).
      const gone = str(ref?.name) ?? str(ref?.namespace);
      if (verb === 'delete' && gone !== undefined) forgetIn(event, graph, ctx, cluster, gone, () => true);
      return [];
    }
    if (specPath === undefined) return [];
    const request = event.requestObject;
    const response = obj(event.responseObject);
    const ns = str(ref?.namespace) ?? str(at(request, ['metadata', 'namespace'])) ?? str(at(response, ['metadata', 'namespace'])) ?? '';
    const remembered = REMEMBERED.has(resource);
    if (verb === 'deletecollection') {
      // The deleted objects when the response lists them; else every one of the kind in the namespace (a label or
      // field selector without a logged response: forgetting one that stays only makes the detection quiet about it).
      const names = deletedNames(response);
      const prefix = kindPrefix(cluster, ns, resource);
      if (remembered && str(ref?.namespace) !== undefined) forgetIn(event, graph, ctx, cluster, ns, (key) => key.startsWith(prefix) && (names === undefined || names.has(key.slice(prefix.length))));
      return [];
    }
    const name = str(ref?.name) ?? str(at(request, ['metadata', 'name'])) ?? str(at(response, ['metadata', 'name']));
    if (name === undefined) return [];
    const w = workloadOf(cluster, resource, ns, name);
    const t = timeOf(event);
    const prior = remembered ? priorAt(graph, w, t) : undefined;
    if (verb === 'delete') {
      if (prior !== undefined) forget(event, ctx, w);
      return [];
    }
    if (verb !== 'create' && verb !== 'update' && verb !== 'patch') return [];
    // The response of a write is the object after it (a Status for a delete): the list as it now is.
    const after = response?.kind === 'Status' ? undefined : knownOf(at(response, specPath));
    const before = prior?.known;
    if (verb === 'create') {
      const k = after ?? knownOf(at(request, specPath));
      if (k !== undefined && remembered) learnNames(event, graph, ctx, w, k, prior);
      return [];
    }
    const { cands, ordered } = candidatesOf(request, specPath);
    const added = cands.filter((c) => (before === undefined ? c.certain : !has(before, c.name)));
    // What the workload has now: the response, else a whole body (update), else what was known plus the request's names.
    const now = after ?? (verb === 'update' && !Array.isArray(request) ? knownOf(at(request, specPath)) : undefined) ?? (before === undefined ? undefined : union(before, cands, ordered));
    if (now !== undefined && remembered) learnNames(event, graph, ctx, w, now, prior);
    if (added.length === 0) return [];
    const username = str(obj(event.user)?.username) ?? '';
    if (SYSTEM.test(username) || username === 'system:apiserver') return [];
    const responseSpec = obj(at(response, specPath));
    const requestSpec = Array.isArray(request) ? undefined : obj(at(request, specPath));
    const entryOf = (c: Candidate): Rec | undefined =>
      (Array.isArray(responseSpec?.[c.list]) ? (responseSpec[c.list] as unknown[]).map((x) => obj(x)).find((x) => str(x?.name) === c.name) : undefined) ?? c.spec;
    const reasons = [...new Set(added.flatMap((c) => dangerOf(entryOf(c), [responseSpec, requestSpec])))];
    if (ns === 'kube-system') reasons.push('in kube-system');
    const gitOps = ctx.config.gitOpsUsers.includes(username);
    const level: AlertLevel = gitOps ? 'low' : reasons.length > 0 ? 'high' : 'medium';
    const what = added.map((c) => `${LIST_TEXT[c.list]} ${c.name}${str(entryOf(c)?.image) === undefined ? '' : ` (${str(entryOf(c)?.image)})`}`).join(', ');
    const had = before === undefined ? '' : `; it had ${[...before.containers, ...before.initContainers].join(', ') || 'none'}`;
    const by = username === '' ? '' : ` by ${username}`;
    const kind = resource.replace(/s$/, '');
    return [
      nativeAlert(this, {
        level,
        events: [event],
        summary: `${what} added to ${kind} ${ns === '' ? '' : ns + '/'}${name}${by} (${verb}${Array.isArray(request) ? ', JSON patch' : ''})${had}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}${gitOps ? ' (a GitOps controller: from its source)' : ''}`,
        triage: addedTriage(event, username, what, resource, ns, name, cluster, had, reasons),
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
        cluster: event.seam.cluster,
      }),
    ];
  },
};
