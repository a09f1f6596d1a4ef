import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNative } from '../../../test/helpers/native.ts';
import { CLUSTER, alice, audit, ciDeployer, ev, iamK8sUser, saK8sUser, t, type K8sUser } from '../../../test/identity/records.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import { decodeIdentityRecord, identityRecord, restoreRecord } from '../../identity/record.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { MAX_NAMES } from './container-added.ts';
import { createNativeEngine } from './engine.ts';
import { createDetectStage } from '../../pipeline/detect-stage.ts';
import { buildDetector } from '../load.ts';

// Audit records as the API server writes them at RequestResponse: the request body (a strategic-merge patch,
// a JSON patch, kubectl apply's patch, an update's whole object) and the object after the write.
const ID = 'seam-native-container-added-to-workload';
const ECR = '111122223333.dkr.ecr.us-west-2.amazonaws.com';
const admin = iamK8sUser(alice);
const ci = iamK8sUser(ciDeployer);
const KUBECTL = 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46';

interface C {
  name: string;
  image: string;
  [k: string]: unknown;
}
const app: C = { name: 'api', image: `${ECR}/payments-api:1.40.2` };
const proxy: C = { name: 'envoy', image: 'docker.io/envoyproxy/envoy:v1.31.2' };
const miner: C = { name: 'log-helper', image: 'docker.io/evil/helper:1', command: ['sh', '-c', 'sleep infinity'] };

function deployment(ns: string, name: string, containers: C[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name, namespace: ns, generation: 3 },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: name, containers, ...extra } } },
  };
}

/** One write of `resource` ns/name at `time` by `user`. */
function write(verb: string, user: K8sUser, time: string, o: { ns?: string; name?: string; resource?: string; request?: unknown; response?: unknown; subresource?: string; code?: number; ua?: string; group?: string; dryRun?: boolean } = {}): SeamEvent {
  const ns = o.ns ?? 'payments';
  const raw = audit({
      verb,
      user,
      time,
      resource: o.resource ?? 'deployments',
      namespace: ns,
      apiGroup: o.group ?? 'apps',
      userAgent: o.ua ?? KUBECTL,
      ...(verb === 'create' || verb === 'deletecollection' ? {} : { name: o.name ?? 'payments-api' }),
      ...(o.subresource === undefined ? {} : { subresource: o.subresource }),
      ...(o.request === undefined ? {} : { requestObject: o.request }),
      ...(o.response === undefined ? {} : { responseObject: o.response }),
      ...(o.code === undefined ? {} : { code: o.code }),
    });
  // A server-side dry run as kubectl diff / apply --dry-run=server sends it.
  if (o.dryRun === true) raw.requestURI = `${String(raw.requestURI)}?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict`;
  return ev(raw);
}

const created = (containers: C[] = [app, proxy], ns = 'payments', name = 'payments-api'): SeamEvent =>
  write('create', ci, t('09:00:00'), { ns, name, request: deployment(ns, name, containers), response: deployment(ns, name, containers) });
/** `kubectl delete namespace ns` as the API server logs it (core group; the namespace is its own objectRef namespace). */
const namespaceDeleted = (ns: string, time: string, code?: number): SeamEvent =>
  ev(audit({ verb: 'delete', user: admin, time, resource: 'namespaces', namespace: ns, name: ns, userAgent: KUBECTL, ...(code === undefined ? {} : { code }) }));
/** The namespace controller emptying a deleted namespace: one deletecollection per resource, no delete per object. */
const NS_CONTROLLER = saK8sUser('kube-system', 'namespace-controller');
/** The workload_containers facts an engine published, as `op key`. */
const ops = (published: IdentityFact[]): string[] => published.filter((f) => f.kind === 'workload_containers').map((f) => `${f.op} ${f.key.replace(`workload_containers|${CLUSTER}|`, '')}`);
/** `kubectl patch` / `kubectl set image` strategic-merge body naming `containers`. */
const smp = (containers: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ spec: { template: { spec: { containers, ...extra } } } });

describe('Container added to an existing Kubernetes workload', () => {
  it('fires (medium) for a strategic-merge patch that gives a known Deployment a container it did not have, naming it, its image and what the workload had', () => {
    const patch = write('patch', admin, t('14:00:00'), { request: smp([miner]), response: deployment('payments', 'payments-api', [app, proxy, miner]) });
    const alerts = runNative(ID, [created(), patch]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.events).toEqual([patch.seam.id]);
    expect(alerts[0]!.summary).toContain('container log-helper (docker.io/evil/helper:1) added to deployment payments/payments-api');
    expect(alerts[0]!.summary).toContain('it had api, envoy');
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    // The triage text names who added what to which workload, from where, and the kubectl commands with its names.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`${alice.arn} added “container log-helper (docker.io/evil/helper:1)” to deployment payments/payments-api in ${CLUSTER}`);
    expect(tr).toContain('; it had api, envoy.');
    expect(tr).toContain('kubectl get deployments -n payments payments-api -o yaml');
    expect(tr).toContain('kubectl rollout undo deployment/payments-api -n payments');
    expect(tr).toContain(`seam hunt --who ${alice.arn} --cluster ${CLUSTER}`);
    // The same body without a response (Request-level audit) is judged against the remembered list too.
    expect(runNative(ID, [created(), write('patch', admin, t('14:00:00'), { request: smp([miner]) })]).map((a) => a.rule.level)).toEqual(['medium']);
  });

  it('fires for a JSON patch add of a container, even on a workload it never saw (an add inserts whatever was there)', () => {
    const op = [{ op: 'add', path: '/spec/template/spec/containers/-', value: miner }];
    expect(runNative(ID, [write('patch', admin, t('14:00:00'), { request: op })]).map((a) => a.summary)).toEqual([
      `container log-helper (docker.io/evil/helper:1) added to deployment payments/payments-api by ${alice.arn} (patch, JSON patch)`,
    ]);
    // An init container at the head of a CronJob's job template.
    const cron = [{ op: 'add', path: '/spec/jobTemplate/spec/template/spec/initContainers/0', value: { name: 'x', image: 'docker.io/evil/helper:1' } }];
    const alerts = runNative(ID, [write('patch', admin, t('14:00:00'), { resource: 'cronjobs', group: 'batch', name: 'nightly-report', request: cron })]);
    expect(alerts.map((a) => a.summary)).toEqual([expect.stringContaining('init container x (docker.io/evil/helper:1) added to cronjob payments/nightly-report')]);
    expect(alerts[0]!.triage).toContain('remove the container (kubectl edit cronjobs -n payments nightly-report)');
    // A whole list replaced by JSON patch, on a known workload: the name it did not have.
    const replace = [{ op: 'replace', path: '/spec/template/spec/containers', value: [app, proxy, miner] }];
    expect(runNative(ID, [created(), write('patch', admin, t('14:00:00'), { request: replace })])).toHaveLength(1);
  });

  it('fires for kubectl apply ($setElementOrder/containers) and for an update whose body has one more container; high when it is privileged, mounts the host or the workload is in kube-system', () => {
    const apply = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}' } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'api' }, { name: 'envoy' }, { name: 'log-helper' }], containers: [miner] } } },
    };
    expect(runNative(ID, [created(), write('patch', admin, t('14:00:00'), { request: apply, ua: 'kubectl-client-side-apply/v1.31.2 (linux/amd64) kubernetes/5864a46' })]).map((a) => a.rule.level)).toEqual(['medium']);
    // $setElementOrder names a container the patch's entries do not (added, with its fields elsewhere): still new.
    const orderOnly = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'api' }, { name: 'log-helper' }] } } } };
    expect(runNative(ID, [created(), write('patch', admin, t('14:00:00'), { request: orderOnly })])).toHaveLength(1);

    const hostMiner = { ...miner, securityContext: { privileged: true }, volumeMounts: [{ name: 'root', mountPath: '/host' }] };
    const body = deployment('payments', 'payments-api', [app, proxy, hostMiner], { volumes: [{ name: 'root', hostPath: { path: '/' } }] });
    const update = write('update', admin, t('14:00:00'), { request: body, response: body });
    const high = runNative(ID, [created(), update]);
    expect(high.map((a) => a.rule.level)).toEqual(['high']);
    expect(high[0]!.summary).toContain('(update)');
    expect(high[0]!.summary).toContain('privileged; mounts the host at /host');

    const ds = { kind: 'DaemonSet', apiVersion: 'apps/v1', metadata: { name: 'aws-node', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.0' }] } } } };
    const dsPatch = write('patch', admin, t('14:00:00'), { ns: 'kube-system', name: 'aws-node', resource: 'daemonsets', request: smp([miner]) });
    const kubeSystem = runNative(ID, [write('create', ci, t('09:00:00'), { ns: 'kube-system', resource: 'daemonsets', request: ds, response: ds }), dsPatch]);
    expect(kubeSystem.map((a) => [a.rule.level, a.summary])).toEqual([['high', expect.stringContaining('added to daemonset kube-system/aws-node')]]);
    expect(kubeSystem[0]!.summary).toContain('in kube-system');
  });

  it('stays quiet for an image update (kubectl set image), an annotation-only patch (rollout restart), scale, a removed container, a refused patch, and EKS or controllers', () => {
    const quiet = [
      created(),
      write('patch', ci, t('10:00:00'), { request: smp([{ name: 'api', image: `${ECR}/payments-api:1.41.0` }]), response: deployment('payments', 'payments-api', [{ ...app, image: `${ECR}/payments-api:1.41.0` }, proxy]) }),
      write('patch', admin, t('10:05:00'), { request: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': t('10:05:00') } } } } }, ua: KUBECTL.replace('kubectl/', 'kubectl-rollout/') }),
      write('patch', admin, t('10:06:00'), { subresource: 'scale', request: { spec: { replicas: 5 } } }),
      write('patch', admin, t('10:07:00'), { request: smp([{ name: 'envoy', $patch: 'delete' }]) }),
      write('patch', admin, t('10:08:00'), { request: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'docker.io/evil/api:1' }, { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'X', value: '1' } }] }),
      write('patch', admin, t('10:09:00'), { request: smp([miner]), code: 403 }),
      write('patch', { username: 'eks:addon-manager', groups: ['system:authenticated'] }, t('10:10:00'), { request: smp([miner]) }),
      write('patch', saK8sUser('kube-system', 'deployment-controller'), t('10:11:00'), { request: smp([miner]) }),
      // A custom resource called deployments in another API group is not a workload.
      write('patch', admin, t('10:12:00'), { group: 'example.com', request: smp([miner]) }),
    ];
    expect(runNative(ID, quiet)).toEqual([]);
  });

  it('cannot decide a strategic-merge patch of a workload it never saw whole: quiet, and learns the list from the response', () => {
    // Created before Seam watched (another engine, whose graph this one never gets): no list to judge the first patch by.
    const first = createNativeEngine({ only: [ID] });
    expect(first.process(created())).toEqual([]);
    const restarted = createNativeEngine({ only: [ID] });
    expect(restarted.process(write('patch', admin, t('14:00:00'), { request: smp([miner]) }))).toEqual([]);
    // The set-image shape without a response teaches nothing (a partial list would make the next name look new).
    expect(restarted.process(write('patch', ci, t('14:01:00'), { request: smp([{ name: 'api', image: 'x:2' }]) }))).toEqual([]);
    expect(restarted.process(write('patch', ci, t('14:02:00'), { request: smp([{ name: 'envoy', image: 'y:2' }]) }))).toEqual([]);
    // A patch logged with its response teaches the list after it; the next added name is judged.
    expect(restarted.process(write('patch', ci, t('15:00:00'), { request: smp([{ name: 'api', image: 'x:3' }]), response: deployment('payments', 'payments-api', [app, proxy, miner]) }))).toEqual([]);
    expect(restarted.process(write('patch', admin, t('15:01:00'), { request: smp([{ name: 'log-helper', image: 'z:1' }]) }))).toEqual([]);
    const second = restarted.process(write('patch', admin, t('15:02:00'), { request: smp([{ name: 'miner2', image: 'docker.io/evil/helper:2' }]) }));
    expect(second.map((a) => a.summary)).toEqual([expect.stringContaining('container miner2')]);
  });

  it('forgets a deleted workload and one with more than MAX_NAMES containers (quiet, not alerts); a GitOps controller’s addition is low', () => {
    const del = write('delete', admin, t('11:00:00'));
    expect(runNative(ID, [created(), del, write('patch', admin, t('14:00:00'), { request: smp([miner]) })])).toEqual([]);
    // Too many names to keep: not remembered, and a workload that grows past the bound is forgotten.
    const many: C[] = Array.from({ length: MAX_NAMES + 1 }, (_, i) => ({ name: `c${i}`, image: `${ECR}/c:${i}` }));
    expect(runNative(ID, [created(many), write('patch', admin, t('14:00:00'), { request: smp([miner]) })])).toEqual([]);
    const grown = write('update', ci, t('12:00:00'), { request: deployment('payments', 'payments-api', many), response: deployment('payments', 'payments-api', many) });
    // (The update adds containers the workload did not have; the patch after it is not judged.)
    expect(runNative(ID, [created(), grown, write('patch', admin, t('14:00:00'), { request: smp([miner]) })]).map((a) => a.events)).toEqual([[grown.seam.id]]);
    expect(runNative(ID, [created(many.slice(0, MAX_NAMES)), write('patch', admin, t('14:00:00'), { request: smp([miner]) })])).toHaveLength(1);

    const argo = saK8sUser('argocd', 'argocd-application-controller');
    const gitops = runNative(ID, [created(), write('patch', argo, t('14:00:00'), { request: smp([miner]) })]);
    expect(gitops.map((a) => a.rule.level)).toEqual(['low']);
    expect(gitops[0]!.summary).toContain('GitOps controller');
    // The list is the operator's: without Argo CD on it, the same patch is medium.
    expect(runNative(ID, [created(), write('patch', argo, t('14:00:00'), { request: smp([miner]) })], { config: { gitOpsUsers: [] } }).map((a) => a.rule.level)).toEqual(['medium']);
  });

  it('MAX_NAMES bounds the three lists together, as written and as read back', () => {
    const names = (prefix: string, n: number): C[] => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, image: `${ECR}/c:${i}` }));
    const remembered = (containers: number, init: number): unknown[] => {
      const published: IdentityFact[] = [];
      const eng = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
      const body = deployment('payments', 'payments-api', names('c', containers), { initContainers: names('i', init) });
      eng.process(write('create', ci, t('09:00:00'), { request: body, response: body }));
      return published.filter((f) => f.kind === 'workload_containers').map((f) => [(f.attributes.containers as string[]).length, (f.attributes.initContainers as string[]).length]);
    };
    expect(remembered(MAX_NAMES - 24, 24)).toEqual([[MAX_NAMES - 24, 24]]);
    expect(remembered(MAX_NAMES - 24, 25)).toEqual([]);
    expect(remembered(MAX_NAMES, MAX_NAMES)).toEqual([]);
    // A fact read back with more names in all (each list within the bound) counts as none: the patch is not judged.
    const judged = (containers: number, init: number): number => {
      const g = new IdentityGraph();
      const n = (p: string, k: number): string[] => names(p, k).map((c) => c.name);
      const node = `k8s:${CLUSTER}:deployment:payments/payments-api`;
      g.applyFacts([
        { kind: 'workload_containers', key: `workload_containers|${CLUSTER}|payments|deployment|payments-api`, op: 'assert', from: node, to: node, cluster: CLUSTER, attributes: { containers: n('c', containers), initContainers: n('i', init), ephemeralContainers: [] }, provenance: 'x', valid_from: t('09:00:00') },
      ]);
      return runNative(ID, [write('patch', admin, t('14:00:00'), { request: smp([miner]) })], { graph: g }).length;
    };
    expect(judged(40, 24)).toBe(1);
    expect(judged(40, 30)).toBe(0);
  });

  it('forgets the workloads of a deleted namespace (the namespace’s delete, the namespace controller’s deletecollection of each kind), and only those', () => {
    const published: IdentityFact[] = [];
    const eng = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    const sts = { kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: { name: 'db', namespace: 'pr-123' }, spec: { template: { spec: { containers: [app] } } } };
    const setup = [
      created([app, proxy], 'pr-123', 'web'),
      created([app], 'pr-123', 'worker'),
      write('create', ci, t('09:00:00'), { ns: 'pr-123', resource: 'statefulsets', request: sts, response: sts }),
      created([app, proxy], 'pr-124', 'web'),
    ];
    for (const e of setup) expect(eng.process(e)).toEqual([]);
    // A refused namespace delete (forbidden) forgets nothing.
    expect(eng.process(namespaceDeleted('pr-123', t('09:30:00'), 403))).toEqual([]);
    expect(ops(published)).toEqual(['assert pr-123|deployment|web', 'assert pr-123|deployment|worker', 'assert pr-123|statefulset|db', 'assert pr-124|deployment|web']);
    published.length = 0;
    // `kubectl delete namespace pr-123`: the namespace's delete, then the controller's deletecollection per kind.
    const teardown = [
      namespaceDeleted('pr-123', t('10:00:00')),
      write('deletecollection', NS_CONTROLLER, t('10:00:01'), { ns: 'pr-123', ua: 'kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:namespace-controller' }),
      write('deletecollection', NS_CONTROLLER, t('10:00:01'), { ns: 'pr-123', resource: 'statefulsets' }),
    ];
    for (const e of teardown) expect(eng.process(e)).toEqual([]);
    expect(ops(published).sort()).toEqual(['retract pr-123|deployment|web', 'retract pr-123|deployment|worker', 'retract pr-123|statefulset|db']);
    const open = (tMs: number): string[] => eng.graph.store.ofKind('workload_containers', tMs).map((e) => e.fact.key.replace(`workload_containers|${CLUSTER}|`, ''));
    expect(open(Date.parse(t('10:00:00')) + 30 * 24 * 3600_000)).toEqual(['pr-124|deployment|web']);
    // The namespace made again with the same name: its web is unknown, a merge-style patch of it is not judged.
    expect(eng.process(write('patch', admin, t('14:00:00'), { ns: 'pr-123', name: 'web', request: smp([miner]) }))).toEqual([]);
    expect(eng.process(write('patch', admin, t('14:00:00'), { ns: 'pr-124', name: 'web', request: smp([miner]) })).map((a) => a.rule.level)).toEqual(['medium']);
  });

  it('a server-side dry run neither teaches, forgets nor alerts: a dry-run namespace delete keeps the namespace’s names, a dry-run added container is not judged', () => {
    const published: IdentityFact[] = [];
    const eng = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    for (const e of [created([app, proxy], 'pr-123', 'web'), created([app, proxy], 'pr-123', 'worker')]) expect(eng.process(e)).toEqual([]);
    published.length = 0;
    // `kubectl delete namespace pr-123 --dry-run=server`: DeleteOptions with dryRun in the body, as kubectl sends it.
    const dryNs = ev(audit({ verb: 'delete', user: admin, time: t('10:00:00'), resource: 'namespaces', namespace: 'pr-123', name: 'pr-123', userAgent: KUBECTL, requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'], propagationPolicy: 'Background' } }));
    expect(dryNs.seam.dry_run).toBe(true);
    expect(eng.process(dryNs)).toEqual([]);
    const dryColl = write('deletecollection', admin, t('10:00:01'), { ns: 'pr-123', dryRun: true });
    expect(dryColl.seam.dry_run).toBe(true);
    expect(eng.process(dryColl)).toEqual([]);
    expect(eng.process(write('delete', admin, t('10:00:02'), { ns: 'pr-123', name: 'worker', dryRun: true }))).toEqual([]);
    expect(ops(published)).toEqual([]);
    // kubectl diff of a patch that adds a container (the response is the object as it would be): no alert, nothing learned.
    const dryAdd = write('patch', admin, t('11:00:00'), { ns: 'pr-123', name: 'web', request: smp([miner]), response: deployment('pr-123', 'web', [app, proxy, miner]), dryRun: true });
    expect(eng.process(dryAdd)).toEqual([]);
    // A dry-run create of a workload teaches nothing either.
    expect(eng.process(write('create', ci, t('11:00:01'), { ns: 'pr-123', name: 'ledger', request: deployment('pr-123', 'ledger', [app]), response: deployment('pr-123', 'ledger', [app]), dryRun: true }))).toEqual([]);
    expect(ops(published)).toEqual([]);
    // Both workloads are still known with api and envoy: the same patch for real is judged against them.
    const realAdd = write('patch', admin, t('12:00:00'), { ns: 'pr-123', name: 'web', request: smp([miner]), response: deployment('pr-123', 'web', [app, proxy, miner]) });
    expect(eng.process(realAdd).map((a) => a.summary)).toEqual([expect.stringContaining('container log-helper (docker.io/evil/helper:1) added to deployment pr-123/web')]);
    expect(eng.process(write('patch', admin, t('12:00:01'), { ns: 'pr-123', name: 'worker', request: smp([miner]) })).map((a) => a.rule.level)).toEqual(['medium']);
    // And the namespace's delete for real forgets them.
    published.length = 0;
    expect(eng.process(namespaceDeleted('pr-123', t('13:00:00')))).toEqual([]);
    expect(ops(published).sort()).toEqual(['retract pr-123|deployment|web', 'retract pr-123|deployment|worker']);
  });

  it('a deletecollection without the namespace’s delete forgets that kind in that namespace, or only the objects its response lists', () => {
    const published: IdentityFact[] = [];
    const eng = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    const cron = { kind: 'CronJob', apiVersion: 'batch/v1', metadata: { name: 'nightly', namespace: 'payments' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [app] } } } } } };
    for (const e of [created(), created([app], 'payments', 'ledger'), write('create', ci, t('09:00:00'), { resource: 'cronjobs', group: 'batch', request: cron, response: cron })]) eng.process(e);
    published.length = 0;
    // A client's deletecollection with a label selector, logged with its response (the deleted objects): ledger only.
    const list = { kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: {}, items: [deployment('payments', 'ledger', [app])] };
    expect(eng.process(write('deletecollection', admin, t('10:00:00'), { response: list }))).toEqual([]);
    expect(ops(published)).toEqual(['retract payments|deployment|ledger']);
    // Refused: nothing. Without a response: every Deployment of the namespace (the CronJob stays).
    expect(eng.process(write('deletecollection', admin, t('10:30:00'), { code: 403 }))).toEqual([]);
    expect(eng.process(write('deletecollection', admin, t('11:00:00')))).toEqual([]);
    expect(ops(published)).toEqual(['retract payments|deployment|ledger', 'retract payments|deployment|payments-api']);
  });

  it('a write that comes in after a later delete or version (another API server’s audit stream) is judged at its time but teaches nothing', () => {
    const key = `workload_containers|${CLUSTER}|payments|deployment|payments-api`;
    const later = Date.parse(t('11:00:01')) + 30 * 24 * 3600_000;
    const published: IdentityFact[] = [];
    const eng = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    expect(eng.process(created([app]))).toEqual([]);
    expect(eng.process(write('delete', admin, t('11:00:01')))).toEqual([]);
    // Written at 11:00:00 on the other API server, processed after the delete: the workload then had api only.
    const late = write('patch', ci, t('11:00:00'), { request: smp([proxy]), response: deployment('payments', 'payments-api', [app, proxy]) });
    expect(eng.process(late).map((a) => a.summary)).toEqual([expect.stringContaining('container envoy (docker.io/envoyproxy/envoy:v1.31.2) added to deployment payments/payments-api')]);
    expect(eng.graph.store.at(key, later)).toBeUndefined();
    expect(ops(published)).toEqual(['assert payments|deployment|payments-api', 'retract payments|deployment|payments-api']);
    // The same after a restart: the retraction comes back from seam.identity with the version it closed.
    const g = new IdentityGraph();
    for (const edge of eng.graph.store.all()) restoreRecord((f) => g.applyFact(f), g.store, decodeIdentityRecord(Buffer.from(JSON.stringify(identityRecord(edge))))!);
    expect(runNative(ID, [late], { graph: g })).toHaveLength(1);
    expect(g.store.at(key, later)).toBeUndefined();
    // Made again after the delete: a new workload, learned.
    published.length = 0;
    const again = deployment('payments', 'payments-api', [app, proxy]);
    expect(eng.process(write('create', ci, t('12:00:00'), { request: again, response: again }))).toEqual([]);
    expect(ops(published)).toEqual(['assert payments|deployment|payments-api']);

    // A create processed after a later version: the older list is not put over the newer one.
    const other = createNativeEngine({ only: [ID] });
    expect(other.process(write('update', ci, t('10:00:00'), { request: deployment('payments', 'payments-api', [app, proxy]), response: deployment('payments', 'payments-api', [app, proxy]) }))).toEqual([]);
    expect(other.process(created([app]))).toEqual([]);
    expect(other.graph.store.history(key).map((e) => [e.fact.valid_from, e.fact.attributes.containers])).toEqual([[t('10:00:00'), ['api', 'envoy']]]);
  });

  it('keeps what it learned across a restart: workload_containers facts rebuilt from seam.identity', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    const checkout = created([app], 'checkout', 'checkout-api');
    const cron = { kind: 'CronJob', apiVersion: 'batch/v1', metadata: { name: 'nightly-report', namespace: 'payments' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [app] } } } } } };
    const job = { kind: 'Job', apiVersion: 'batch/v1', metadata: { name: 'nightly-report-29001', namespace: 'payments' }, spec: { template: { spec: { containers: [app] } } } };
    const day1 = [
      created(),
      checkout,
      write('create', ci, t('09:01:00'), { resource: 'cronjobs', group: 'batch', request: cron, response: cron }),
      write('create', saK8sUser('kube-system', 'cronjob-controller'), t('09:02:00'), { resource: 'jobs', group: 'batch', request: job, response: job }),
      // A rollout that changes an image only: the names are the same, nothing new to write.
      write('patch', ci, t('10:00:00'), { request: smp([{ name: 'api', image: `${ECR}/payments-api:1.41.0` }]), response: deployment('payments', 'payments-api', [{ ...app, image: `${ECR}/payments-api:1.41.0` }, proxy]) }),
      write('delete', admin, t('11:00:00'), { ns: 'checkout', name: 'checkout-api' }),
    ];
    for (const e of day1) expect(first.process(e)).toEqual([]);
    const mine = published.filter((f) => f.kind === 'workload_containers');
    expect(mine.map((f) => [f.op, f.key, f.attributes.containers])).toEqual([
      ['assert', `workload_containers|${CLUSTER}|payments|deployment|payments-api`, ['api', 'envoy']],
      ['assert', `workload_containers|${CLUSTER}|checkout|deployment|checkout-api`, ['api']],
      ['assert', `workload_containers|${CLUSTER}|payments|cronjob|nightly-report`, ['api']],
      ['retract', `workload_containers|${CLUSTER}|checkout|deployment|checkout-api`, undefined],
    ]);
    expect(mine[0]!.from).toBe(`k8s:${CLUSTER}:deployment:payments/payments-api`);
    expect(Date.parse(mine[0]!.valid_to!) - Date.parse(mine[0]!.valid_from)).toBe(400 * 24 * 3600_000);

    // The restarted member rebuilds its graph from the seam.identity records of the first one's versions (JSON on the topic).
    const rebuilt = (): IdentityGraph => {
      const g = new IdentityGraph();
      for (const edge of first.graph.store.all()) {
        const r = decodeIdentityRecord(Buffer.from(JSON.stringify(identityRecord(edge))));
        expect(r).toBeDefined();
        restoreRecord((f) => g.applyFact(f), g.store, r!);
      }
      return g;
    };
    // Request-level audit (no response): only the remembered lists can tell an added container from a changed one.
    const added = write('patch', admin, t('14:00:00'), { request: smp([miner]) });
    const setImage = write('patch', ci, t('14:01:00'), { request: smp([{ name: 'envoy', image: 'docker.io/envoyproxy/envoy:v1.32.0' }]) });
    const cronAdded = write('patch', admin, t('14:02:00'), { resource: 'cronjobs', group: 'batch', name: 'nightly-report', request: { spec: { jobTemplate: { spec: { template: { spec: { containers: [miner] } } } } } } });
    const recreated = write('patch', admin, t('14:03:00'), { ns: 'checkout', name: 'checkout-api', request: smp([miner]) });
    const after = runNative(ID, [added, setImage, cronAdded, recreated], { graph: rebuilt() });
    expect(after.map((a) => [a.rule.level, a.events])).toEqual([
      ['medium', [added.seam.id]],
      ['medium', [cronAdded.seam.id]],
    ]);
    expect(after[0]!.summary).toContain('container log-helper (docker.io/evil/helper:1) added to deployment payments/payments-api');
    expect(after[0]!.summary).toContain('it had api, envoy');
    // An image change alone, after the restart, is not an added container.
    expect(runNative(ID, [setImage], { graph: rebuilt() })).toEqual([]);
    // Without the facts the same patches are undecidable: quiet.
    expect(runNative(ID, [added, setImage, cronAdded, recreated])).toEqual([]);
    // The namespace deleted after the restart: its workloads are found through the group restored with their facts.
    const afterDelete: IdentityFact[] = [];
    const g2 = rebuilt();
    const restarted = createNativeEngine({ only: [ID], graph: g2, onFacts: (fs) => afterDelete.push(...fs) });
    expect(restarted.process(namespaceDeleted('payments', t('13:00:00')))).toEqual([]);
    expect(ops(afterDelete).sort()).toEqual(['retract payments|cronjob|nightly-report', 'retract payments|deployment|payments-api']);
    expect(runNative(ID, [added, setImage, cronAdded], { graph: g2 })).toEqual([]);
    // A fact whose attributes are not names (written by another version, damaged) leaves the workload unknown.
    const g = new IdentityGraph();
    g.applyFacts([{ ...mine[0]!, attributes: { containers: 'api,envoy' } }]);
    expect(runNative(ID, [added], { graph: g })).toEqual([]);
  });

  it('a JSON patch add of a container is one medium+ alert with the Kubernetes rules and every native detection (the Sigma rule for it is low)', async () => {
    const detector = await buildDetector([join(import.meta.dirname, '../../../detections/kubernetes')]);
    const levels = async (events: SeamEvent[]): Promise<string[]> => {
      const stage = createDetectStage({ detector });
      return events
        .flatMap((e) => stage.process(e))
        .filter((a) => a.rule.level !== 'low' && a.rule.level !== 'informational')
        .map((a) => `${a.rule.id} ${a.rule.level}`);
    };
    const op = [{ op: 'add', path: '/spec/template/spec/containers/-', value: miner }];
    expect(await levels([write('patch', admin, t('14:00:00'), { request: op })])).toEqual([`${ID} medium`]);
    // Privileged: the native's high is the one medium+ alert.
    const priv = [{ op: 'add', path: '/spec/template/spec/containers/-', value: { ...miner, securityContext: { privileged: true } } }];
    expect(await levels([write('patch', admin, t('14:00:00'), { request: priv })])).toEqual([`${ID} high`]);
  }, 30_000);
});
