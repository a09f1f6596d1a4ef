import type { Principal, RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import { RUNTIME_KINDS } from '../schemas/runtime.ts';
import { fieldError, ipOrUndefined, newSeam, timeError } from './common.ts';
import type { MapOut } from './types.ts';
import { hashId, isoTime } from './util.ts';
import { num, obj, str, type Rec } from '../values.ts';

const KINDS = new Set<string>(RUNTIME_KINDS);

function podPrincipal(ns: string | undefined, pod: string | undefined, sa: string | undefined): Principal | undefined {
  if (ns === undefined) return undefined;
  const podRef = pod === undefined ? undefined : ns + '/' + pod;
  if (sa !== undefined) {
    return { id: 'system:serviceaccount:' + ns + ':' + sa, type: 'service_account', service_account: ns + '/' + sa, pod: podRef };
  }
  return podRef === undefined ? undefined : { id: 'pod:' + podRef, type: 'unknown', pod: podRef };
}

/** Maps a Seam native runtime event (seam.runtime/v1, docs/runtime-schema.md). */
export function mapNativeRuntime(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  const kind = str(r.kind);
  if (kind === undefined || !KINDS.has(kind)) return fieldError('runtime', 'kind', `must be one of ${RUNTIME_KINDS.join(', ')}`);
  const body = obj(r[kind]);
  if (body === undefined) return fieldError('runtime', kind, `is required for kind "${kind}"`);
  const timestamp = isoTime(r.time);
  if (timestamp === undefined) return timeError('runtime', 'time', r.time);
  const ns = str(r.namespace);
  if (ns === undefined) return fieldError('runtime', 'namespace', 'is missing or not a string');
  const pod = str(r.pod);
  if (pod === undefined) return fieldError('runtime', 'pod', 'is missing or not a string');

  const seam = newSeam('runtime', str(r.id) ?? hashId(r), meta);
  seam.format = 'native';
  seam.cluster = str(r.cluster) ?? meta.cluster;
  seam.account = str(r.account) ?? meta.account;
  seam.region = str(r.region) ?? meta.region;
  seam.principal = podPrincipal(ns, pod, str(r.service_account));
  seam.action = kind;
  seam.outcome = 'unknown';
  switch (kind) {
    case 'process':
      seam.resource = str(body.exe);
      break;
    case 'file':
      seam.resource = str(body.path);
      break;
    case 'dns':
      seam.resource = str(body.query);
      break;
    case 'heartbeat':
      // The sensor itself is the subject: its pod, so a silenced pod's heartbeats and other events line up.
      seam.resource = `pod:${ns}/${pod}`;
      break;
    case 'network': {
      const ip = str(body.dst_ip);
      const port = num(body.dst_port);
      seam.resource = ip === undefined ? undefined : port === undefined ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
      seam.source_ip = ipOrUndefined(str(body.src_ip));
      break;
    }
  }
  out.timestamp = timestamp;
  return seam;
}

/** Maps a Falco JSON alert. Kubernetes context comes from the rule's output fields when present. */
export function mapFalco(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  const rule = str(r.rule);
  if (rule === undefined) return fieldError('runtime', 'rule', 'is missing or not a string');
  const timestamp = isoTime(r.time);
  if (timestamp === undefined) return timeError('runtime', 'time', r.time);
  const fields = obj(r.output_fields);

  const seam = newSeam('runtime', str(r.uuid) ?? hashId(r), meta);
  seam.format = 'falco';
  if (fields !== undefined) {
    seam.cluster = str(fields['k8smeta.cluster.name']) ?? meta.cluster;
    seam.principal = podPrincipal(str(fields['k8s.ns.name']), str(fields['k8s.pod.name']), str(fields['k8smeta.pod.sa'] ?? fields['k8s.pod.sa']));
    seam.resource = str(fields['fd.name']) ?? str(fields['proc.exepath']) ?? str(fields['proc.name']);
    const sip = str(fields['fd.sip']);
    const cip = str(fields['fd.cip']);
    seam.source_ip = ipOrUndefined(cip ?? sip);
  }
  seam.action = rule;
  seam.outcome = 'unknown';
  out.timestamp = timestamp;
  return seam;
}
