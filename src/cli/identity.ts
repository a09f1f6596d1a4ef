/**
 * `seam identity explain <target>`: replays files into an identity graph and prints who the target is and
 * what it can do — for an IAM ARN, a Kubernetes user, or a `namespace/serviceaccount`.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { normalizeRecord } from '../core/normalize/normalize.ts';
import { serviceAccountOf } from '../core/normalize/principal.ts';
import type { IdentityGraphOptions } from '../identity/config.ts';
import { IdentityGraph } from '../identity/graph.ts';
import { loadSeeds, type Seeds } from '../identity/seed-files.ts';
import type { SeedConfig, SeedKind } from '../identity/config.ts';
import { canonicalIamArn, nodeLabel, podKey, roleOfSession, saKey, userKey, UNKNOWN_CLUSTER } from '../identity/keys.ts';
import type { Edge, EffectivePermissions } from '../identity/types.ts';
import { readFiles } from '../sources/file/source.ts';
import type { KafkaConfig } from '../core/config/schema.ts';

export interface IdentityExplainOptions {
  /** Files or folders to replay into the graph (without `from`). */
  input?: string[];
  /** `kafka`: read the graph from the `seam.identity` topic (all partitions, start to end) instead of replaying files. */
  from?: string;
  /** With `from: 'kafka'`: seam.yml's kafka section (brokers, auth, topic prefix), as `seam run` takes it. */
  kafka?: KafkaConfig;
  /** Which setting named the brokers, for the error when Kafka does not answer (a SEAM_* variable, seam.yml, the default). */
  kafkaOrigin?: string;
  /** Where the counts of what was read from Kafka, and errors, go (default stderr). */
  err?: Out;
  /**
   * Snapshot files (aws-auth YAML/JSON ConfigMap, access-entry or Pod Identity association CLI output, kubectl List), as
   * `seam run` and `seam replay` take them: seam.yml `identity.seeds` entries and `--seed FILE[=CLUSTER]` read by
   * `parseSeedFlag`, read by the same `loadSeeds` (ADR 0054).
   */
  seeds?: SeedConfig[];
  /** Cluster for records and seeds that do not name one. */
  cluster?: string;
  maxRecordBytes?: number;
  /** seam.yml's identity section (clusters with egress CIDRs and OIDC issuers, windows). */
  graph?: IdentityGraphOptions;
}

export interface Out {
  write(s: string): unknown;
}

function stepsText(via: { kind: string; from: string; to: string }[]): string {
  return via.map((s) => `${s.kind}: ${nodeLabel(s.from)} → ${nodeLabel(s.to)}`).join(' ; ');
}

const KIND_TEXT: Record<SeedKind, string> = { kubectl: 'kubectl', 'aws-auth': 'aws-auth', 'pod-identity': 'Pod Identity associations', 'access-entries': 'access entries' };

/**
 * Replays (or, with `from: 'kafka'`, reads `seam.identity`), then explains. Returns the process exit code: 0
 * explained, 1 when the target is unknown to the graph, 2 a usage mistake, 3 when the graph could not be read from
 * Kafka (unreachable, no such topic).
 */
export async function identityExplainCommand(target: string, opts: IdentityExplainOptions, out: Out): Promise<number> {
  const err = opts.err ?? process.stderr;
  if (opts.from !== undefined && opts.from !== 'kafka') {
    err.write(`seam identity explain: --from ${opts.from}: only kafka is supported (without --from, --input files are replayed)\n`);
    return 2;
  }
  if (opts.from === 'kafka' && (opts.input ?? []).length > 0) {
    err.write('seam identity explain: --from kafka reads the graph from seam.identity; --input replays files instead: give one of them\n');
    return 2;
  }
  if (opts.from === undefined && (opts.input ?? []).length === 0) {
    err.write('seam identity explain: give --input <paths...> (files to replay) or --from kafka (the graph on seam.identity)\n');
    return 2;
  }
  const graph = new IdentityGraph(opts.graph ?? {});
  // The seeds first, as every graph of seam run and seam replay applies them before anything it observes or restores.
  let seeds: Seeds;
  try {
    seeds = await loadSeeds(opts.seeds ?? [], { ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }), clusters: (opts.graph?.clusters ?? []).map((c) => ({ egressCidrs: [], ...c })) });
  } catch (e) {
    if ((e as { code?: string }).code !== 'SEAM_ERR_SEED') throw e;
    err.write(`seam identity explain: SEAM_ERR_SEED: ${(e as Error).message}\n`);
    return 2;
  }
  graph.applyFacts(seeds.facts);
  for (const f of seeds.files) out.write(`seed: ${f.facts} facts from ${KIND_TEXT[f.kind]} ${f.path}${f.cluster === '' ? '' : ` (cluster ${f.cluster})`}\n`);
  if (opts.from === 'kafka') {
    if (opts.kafka === undefined) {
      err.write('seam identity explain: --from kafka needs Kafka: kafka.brokers in seam.yml or SEAM_KAFKA_BROKERS\n');
      return 2;
    }
    const { readIdentityTopic } = await import('./identity-kafka.ts');
    const read = await readIdentityTopic(graph, opts.kafka, err, opts.kafkaOrigin ?? 'kafka.brokers');
    if (read === undefined) return 3;
    out.write('\n');
    return explainGraph(graph, [], target, opts.cluster, out, `the identity graph on ${read.topic}`);
  }
  const events: SeamEvent[] = [];
  let rejected = 0;
  for await (const item of readFiles(opts.input ?? [], { maxRecordBytes: opts.maxRecordBytes ?? 1024 * 1024, ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }) })) {
    if (item.kind !== 'record') {
      rejected++;
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(item.text);
    } catch {
      rejected++;
      continue;
    }
    const r = normalizeRecord(raw, item.meta);
    if (r.ok) events.push(r.value);
    else rejected++;
  }
  // Validity intervals assume time order; files mix planes.
  events.sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']));
  for (const e of events) graph.observe(e);
  out.write(`replayed ${events.length} events${rejected > 0 ? ` (${rejected} records rejected)` : ''}; graph: ${graph.stats().versions} edges\n\n`);
  return explainGraph(graph, events, target, opts.cluster, out, 'the identity graph built from these inputs');
}

/**
 * Prints who `target` is and what it can do in `graph`. `events` are the replayed events (the lines about what the
 * target did: its calls, its Kubernetes requests); none when the graph was read from `seam.identity`, which holds
 * facts, not events. `where` names the graph in the line for a target it does not hold.
 */
function explainGraph(graph: IdentityGraph, events: SeamEvent[], target: string, cluster: string | undefined, out: Out, where: string): number {
  const clusters = graph.clustersOf(undefined);
  if (cluster !== undefined && !clusters.includes(cluster)) clusters.push(cluster);
  if (clusters.length === 0) clusters.push(UNKNOWN_CLUSTER);
  let known = false;

  const sa = serviceAccountOf(target) ?? (/^[a-z0-9.-]+\/[a-z0-9.-]+$/i.test(target) && !target.startsWith('arn:') ? target : undefined);
  if (target.startsWith('arn:')) {
    const role = canonicalIamArn(roleOfSession(target) ?? target);
    out.write(`IAM principal ${role}\n`);
    const sessions = graph.store.incoming(role, 'session_of');
    const history = [...graph.store.all()].filter((e) => e.fact.kind === 'session_of' && e.fact.to === role);
    const listed = new Set<string>();
    for (const e of [...graph.store.incoming(role, 'pod_identity_association'), ...graph.store.incoming(role, 'pod_identity_target_role')]) {
      known = true;
      const target = e.fact.attributes.targetRoleArn;
      const first = e.fact.attributes.role;
      const how = e.fact.kind === 'pod_identity_target_role' ? `target role of the Pod Identity association of ${nodeLabel(e.fact.from)} (${e.fact.cluster}): ${nodeLabel(e.fact.from)} → ${String(first)} → ${e.fact.to}` : `Pod Identity role of ${nodeLabel(e.fact.from)} (${e.fact.cluster})${typeof target === 'string' ? `, which chains to target role ${target}` : ''}`;
      out.write(`  ${how} (since ${e.fact.valid_from}, ${e.fact.provenance})\n`);
    }
    for (const e of history.length > 0 ? history : sessions) {
      known = true;
      const s = e.fact.from;
      listed.add(s);
      const ws = graph.store.latest('wis|' + s) ?? graph.store.latest('pis|' + s);
      const via = ws?.fact.attributes.via_session;
      out.write(`  session ${s} from ${e.fact.valid_from}${ws === undefined ? '' : ` — ${ws.fact.kind.replace(/_/g, ' ')} of ${nodeLabel(ws.fact.to)} (${ws.fact.cluster})${typeof via === 'string' ? `, assumed with ${via}` : ''}`}\n`);
      const using = events.filter((x) => x.seam.principal?.arn === s);
      const last = using[using.length - 1];
      if (last !== undefined) {
        const r = graph.resolve(last);
        out.write(`    last call ${last.seam.action} at ${last['@timestamp']}: ${stepsText(r.chain)}\n`);
      }
    }
    // Sessions seen only on the Kubernetes plane (an audit record's user.extra.arn: the session that authenticated
    // to the API server), whose AssumeRole the inputs do not hold: still this role's activity (SOC review L4).
    const k8sOnly = new Map<string, SeamEvent[]>();
    for (const x of events) {
      const arn = x.seam.principal?.arn;
      if (arn === undefined || listed.has(arn) || x.seam.source !== 'k8s_audit') continue;
      const of = roleOfSession(arn);
      if (of === undefined || canonicalIamArn(of) !== role) continue;
      k8sOnly.set(arn, [...(k8sOnly.get(arn) ?? []), x]);
    }
    for (const [s, using] of k8sOnly) {
      known = true;
      const last = using[using.length - 1]!;
      out.write(`  session ${s} — ${using.length} Kubernetes request${using.length === 1 ? '' : 's'} (first ${using[0]!['@timestamp']}${last.seam.cluster ? ` in ${last.seam.cluster}` : ''}${last.seam.source_ip ? ` from ${last.seam.source_ip}` : ''}); no AssumeRole for it in the inputs\n`);
      out.write(`    last call ${last.seam.action}${last.seam.resource ? ` ${last.seam.resource}` : ''} at ${last['@timestamp']}\n`);
    }
    for (const c of clusters) known = writePermissions(out, graph.effectivePermissions(target, c)) || known;
  } else if (sa !== undefined) {
    // The username every service account has, and the groups every identity is in, are no evidence of this one:
    // it is known if the inputs show it acting, a fact names it, or a binding names it (not one of its groups).
    const acted = events.filter((e) => e.seam.principal?.service_account === sa);
    known = acted.length > 0;
    for (const c of clusters) {
      out.write(`Service account ${sa} in ${c}\n`);
      writeActed(out, acted, c);
      for (const e of [...graph.store.outgoing(saKey(c, sa), 'irsa'), ...graph.store.outgoing(saKey(c, sa), 'pod_identity_association')]) {
        known = true;
        const target = e.fact.attributes.targetRoleArn;
        // A target role: EKS assumes the association's role, then the target role with it; the pod gets the target's credentials.
        out.write(`  ${e.fact.kind.replace(/_/g, ' ')} → ${e.fact.to}${typeof target === 'string' ? ` → target role ${target}` : ''} (since ${e.fact.valid_from}, ${e.fact.provenance})\n`);
      }
      for (const e of graph.store.incomingLatest(saKey(c, sa), 'pod_service_account')) {
        known = true;
        out.write(`  pod ${nodeLabel(e.fact.from)}${Number.isFinite(e.toMs) ? ' (deleted)' : ''}\n`);
        const pk = podKey(c, nodeLabel(e.fact.from));
        // One line per exec: an exec's audit stages (ResponseStarted, ResponseComplete) are one request, one auditID
        // (the fact key is exec|<auditID>:<stage>); the first stage's time is when it started.
        const execs = new Map<string, Edge>();
        for (const v of graph.store.all()) {
          if (v.fact.kind !== 'exec' || v.fact.from !== pk) continue;
          const request = v.fact.key.replace(/:(RequestReceived|ResponseStarted|ResponseComplete|Panic)$/, '');
          const had = execs.get(request);
          if (had === undefined || v.fact.valid_from < had.fact.valid_from) execs.set(request, v);
        }
        for (const x of execs.values()) out.write(`    exec by ${nodeLabel(x.fact.to)} at ${x.fact.valid_from} (${String(x.fact.attributes.command ?? '')})\n`);
      }
      for (const e of [...graph.store.all()].filter((x) => (x.fact.kind === 'web_identity_session' || x.fact.kind === 'pod_identity_session') && x.fact.to === saKey(c, sa))) {
        known = true;
        const via = e.fact.attributes.via_session;
        out.write(`  ${e.fact.kind.replace(/_/g, ' ')} ${e.fact.from} at ${e.fact.valid_from}${typeof via === 'string' ? ` (target role, assumed with ${via})` : ''}\n`);
      }
      const p = graph.effectivePermissions(sa, c);
      writePermissions(out, p);
      known = boundDirectly(p, saKey(c, sa)) || known;
    }
  } else {
    const acted = events.filter((e) => e.seam.principal?.k8s_user === target);
    known = acted.length > 0;
    for (const c of clusters) {
      out.write(`Kubernetes user ${target} in ${c}\n`);
      writeActed(out, acted, c);
      for (const e of graph.store.incoming(userKey(c, target))) {
        known = true;
        out.write(`  ${e.fact.kind.replace(/_/g, ' ')} from ${e.fact.from} (${e.fact.provenance})\n`);
      }
      const p = graph.effectivePermissions(target, c);
      writePermissions(out, p);
      known = boundDirectly(p, userKey(c, target)) || known;
    }
  }
  if (!known) out.write(`\n${target} is not in ${where}.\n`);
  return known ? 0 : 1;
}

/** "acted in N events (first …, last …)" for the events of one cluster (events without a cluster count everywhere). */
function writeActed(out: Out, acted: SeamEvent[], cluster: string): void {
  const here = acted.filter((e) => e.seam.cluster === undefined || e.seam.cluster === null || e.seam.cluster === cluster);
  if (here.length > 0) out.write(`  acted in ${here.length} event${here.length === 1 ? '' : 's'} (first ${here[0]!['@timestamp']}, last ${here[here.length - 1]!['@timestamp']})\n`);
}

/** Whether a permission comes from an RBAC binding that names `subject` itself (not a group it is in). */
function boundDirectly(p: EffectivePermissions, subject: string): boolean {
  return p.rules.some((r) => r.via.some((s) => s.kind === 'rbac_binding' && s.from === subject));
}

function writePermissions(out: Out, p: EffectivePermissions): boolean {
  const bound = p.rules.length > 0 || p.unknownGrants.length > 0;
  out.write(`  in ${p.cluster}: ${p.usernames.length > 0 ? 'user ' + p.usernames.join(', ') : 'no mapping'}${p.groups.length > 0 ? '; groups ' + p.groups.join(', ') : ''}\n`);
  if (p.isClusterAdmin) out.write(`    CLUSTER ADMIN via ${stepsText(p.adminVia ?? [])}\n`);
  for (const u of p.unknownGrants) {
    out.write(`    UNKNOWN PERMISSIONS: access policy ${u.policyArn ?? u.policy} in ${u.namespaces.join(',')} (${u.reason})${u.namespaces.includes('*') && !p.isClusterAdmin ? '; cluster admin cannot be ruled out' : ''}  via ${stepsText(u.via)}\n`);
  }
  for (const r of p.rules.slice(0, 40)) {
    // A non-resource rule (nonResourceURLs: /healthz, /metrics, *) has no API groups: say what it is instead of [].
    const names = r.resourceNames === undefined ? '' : ` (${r.resourceNames.join(',')})`;
    const what = r.resources.length > 0 ? `${r.resources.join(',')}${names} [${r.apiGroups.map((g) => (g === '' ? 'core' : g)).join(',')}]` : `non-resource URLs ${(r.nonResourceURLs ?? []).join(',')}`;
    out.write(`    ${r.verbs.join(',')} ${what} in ${r.namespaces.join(',')}  via ${stepsText(r.via)}${r.basis === 'description' ? '  (as the EKS docs describe the policy: no rule table published)' : ''}\n`);
  }
  if (p.rules.length > 40) out.write(`    … ${p.rules.length - 40} more rules\n`);
  // Nothing found is not "no permissions": the inputs may simply not show the mapping (SOC review L4).
  // A mapped identity (a user name: aws-auth, an access entry, a service account) lacks only the RBAC side: say that,
  // not "no mapping", which the line above contradicts (fresh-user walkthrough, session 33).
  if (!p.isClusterAdmin && p.rules.length === 0 && p.unknownGrants.length === 0) {
    out.write(
      p.usernames.length > 0
        ? '    permissions unknown: no RBAC binding for this user or its groups in the inputs (seed the graph with --seed: kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o json)\n'
        : '    permissions unknown: no aws-auth mapping, access entry or RBAC binding for this identity in the inputs (seed the graph with --seed: aws-auth, access entries, kubectl get clusterrolebindings,rolebindings -A -o json)\n',
    );
  }
  return bound || p.usernames.length > 0;
}
