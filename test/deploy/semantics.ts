/**
 * Checks a set of rendered objects for mistakes the OpenAPI schema cannot see but the API server or the
 * controllers would refuse or silently mishandle: invalid names, a workload whose selector does not select its own
 * pods, a PodDisruptionBudget or Service that selects nothing, references to a ServiceAccount or ConfigMap that is
 * not rendered, probes on a port the container does not declare, a StatefulSet whose governing Service is missing.
 */
import type { Violation } from './openapi.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

interface Container {
  name?: string;
  ports?: { name?: string; containerPort?: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name?: string }[];
  env?: { valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }[];
}
interface Probe {
  httpGet?: { port?: number | string };
  tcpSocket?: { port?: number | string };
  grpc?: { port?: number };
}
interface PodSpec {
  serviceAccountName?: string;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name?: string; configMap?: { name?: string }; secret?: { secretName?: string } }[];
}

function id(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

function podTemplate(o: K8sObject): { labels: Record<string, string>; spec: PodSpec } | undefined {
  if (!WORKLOADS.has(o.kind)) return undefined;
  const spec = o.kind === 'CronJob' ? ((o.spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined)?.spec ?? {}) : o.spec;
  const t = (spec?.template ?? {}) as { metadata?: { labels?: Record<string, string> }; spec?: PodSpec };
  return { labels: t.metadata?.labels ?? {}, spec: t.spec ?? {} };
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Violations across the objects of one render, each prefixed with the object it is about. `externalConfigMaps`: the
 * ConfigMaps the values say the operator creates (awsIpRanges.configMap), which pods may mount without the chart
 * rendering them.
 */
export function checkSemantics(objects: K8sObject[], externalConfigMaps: readonly string[] = []): (Violation & { object: string })[] {
  const out: (Violation & { object: string })[] = [];
  const add = (o: K8sObject, path: string, message: string): void => {
    out.push({ object: id(o), path, message });
  };
  const names = (kind: string): Set<string> => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const serviceAccounts = names('ServiceAccount');
  const configMaps = new Set([...names('ConfigMap'), ...externalConfigMaps]);
  const services = names('Service');
  const pods = objects.map((o) => ({ o, t: podTemplate(o) })).filter((x) => x.t !== undefined) as { o: K8sObject; t: NonNullable<ReturnType<typeof podTemplate>> }[];
  const seen = new Set<string>();

  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}/${o.metadata?.name}`;
    if (seen.has(key)) add(o, 'metadata.name', 'rendered twice (the second would overwrite the first)');
    seen.add(key);
    const name = o.metadata?.name ?? '';
    const nameRule = o.kind === 'Service' ? DNS1035_LABEL : DNS1123_SUBDOMAIN;
    if (!nameRule.test(name) || name.length > (o.kind === 'Service' ? 63 : 253)) add(o, 'metadata.name', `invalid name '${name}' for a ${o.kind}`);
    if (o.kind === 'StatefulSet' && name.length > 52) add(o, 'metadata.name', 'a StatefulSet name longer than 52 characters breaks its pods\' controller-revision-hash label');
    for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) add(o, `metadata.labels.${k}`, `invalid label value ${JSON.stringify(v)}`);
    }

    const t = podTemplate(o);
    if (t) {
      // A Job's selector is generated from its uid (a CronJob's jobs too): none to check.
      const sel = (o.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (o.kind !== 'Job' && o.kind !== 'CronJob' && !selects(sel, t.labels)) add(o, 'spec.selector.matchLabels', 'does not select the pod template\'s labels');
      const sa = t.spec.serviceAccountName;
      if (sa !== undefined && !serviceAccounts.has(sa)) add(o, 'spec.template.spec.serviceAccountName', `ServiceAccount ${sa} is not rendered`);
      const volumes = new Set((t.spec.volumes ?? []).map((v) => v.name));
      for (const v of t.spec.volumes ?? []) {
        if (v.configMap?.name !== undefined && !configMaps.has(v.configMap.name)) add(o, `volumes.${v.name}`, `ConfigMap ${v.configMap.name} is not rendered`);
      }
      for (const c of [...(t.spec.containers ?? []), ...(t.spec.initContainers ?? [])]) {
        if (!DNS1123_LABEL.test(c.name ?? '')) add(o, 'containers', `invalid container name '${c.name}'`);
        const ports = new Set((c.ports ?? []).map((p) => p.name).filter(Boolean));
        const numbers = new Set((c.ports ?? []).map((p) => p.containerPort));
        for (const p of c.ports ?? []) if (p.name !== undefined && (p.name.length > 15 || !IANA_SVC_NAME.test(p.name))) add(o, `containers.${c.name}.ports`, `invalid port name '${p.name}'`);
        for (const [which, probe] of [['livenessProbe', c.livenessProbe], ['readinessProbe', c.readinessProbe], ['startupProbe', c.startupProbe]] as const) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (typeof port === 'string' && !ports.has(port)) add(o, `containers.${c.name}.${which}`, `probes port '${port}', which the container does not declare`);
          if (typeof port === 'number' && !numbers.has(port)) add(o, `containers.${c.name}.${which}`, `probes port ${port}, which the container does not declare`);
        }
        for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) add(o, `containers.${c.name}.volumeMounts`, `mounts volume '${m.name}', which the pod does not define`);
      }
    }
    if (o.kind === 'StatefulSet') {
      const svc = o.spec?.serviceName as string | undefined;
      if (svc !== undefined && !services.has(svc)) add(o, 'spec.serviceName', `Service ${svc} is not rendered`);
    }
    if (o.kind === 'PodDisruptionBudget') {
      const sel = (o.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (!pods.some((p) => selects(sel, p.t.labels))) add(o, 'spec.selector', 'selects no rendered workload\'s pods');
    }
    if (o.kind === 'Service') {
      const sel = o.spec?.selector as Record<string, string> | undefined;
      const target = pods.find((p) => selects(sel, p.t.labels));
      if (target === undefined) add(o, 'spec.selector', 'selects no rendered workload\'s pods');
      else {
        const declared = new Set(target.t.spec.containers?.flatMap((c) => (c.ports ?? []).map((p) => p.name)) ?? []);
        for (const p of (o.spec?.ports ?? []) as { name?: string; targetPort?: number | string }[]) {
          if (typeof p.targetPort === 'string' && !declared.has(p.targetPort)) add(o, `spec.ports.${p.name}`, `targetPort '${p.targetPort}' is not a port of ${id(target.o)}`);
        }
      }
    }
    if (o.kind === 'ServiceMonitor') {
      const sel = (o.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      const matched = objects.filter((s) => s.kind === 'Service' && selects(sel, s.metadata.labels ?? {}));
      if (matched.length === 0) add(o, 'spec.selector', 'selects no rendered Service');
      const endpoints = (o.spec?.endpoints ?? []) as { port?: string }[];
      for (const s of matched) {
        const portNames = new Set(((s.spec?.ports ?? []) as { name?: string }[]).map((p) => p.name));
        for (const e of endpoints) if (e.port !== undefined && !portNames.has(e.port)) add(o, 'spec.endpoints', `port '${e.port}' is not a port of ${id(s)}`);
      }
    }
  }
  return out;
}
