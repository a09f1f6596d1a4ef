import { z } from 'zod';

/**
 * Runtime telemetry from pods (EKS on Fargate has no GuardDuty Runtime Monitoring, so a sidecar
 * reports it): Falco's JSON alert output, and Seam's own runtime schema (docs/runtime-schema.md).
 */

export const FALCO_PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Info', 'Debug'] as const;

export const FalcoAlert = z
  .looseObject({
    uuid: z.string().optional().describe('Alert id (Falco >= 0.38); the dedup id when present.'),
    time: z.string().describe('Event time, RFC 3339 with nanoseconds.'),
    rule: z.string().describe('Rule name, e.g. Terminal shell in container.'),
    priority: z.string().describe(`Rule priority: ${FALCO_PRIORITIES.join(', ')}.`),
    output: z.string().describe('Formatted alert message.'),
    output_fields: z
      .record(z.string(), z.unknown())
      .describe('Field values named in the rule output: k8s.ns.name, k8s.pod.name, container.id, proc.cmdline, user.uid...'),
    source: z.string().optional().describe('Event source: syscall, k8s_audit, ...'),
    tags: z.array(z.string()).optional().describe('Rule tags, e.g. container, shell, mitre_execution, T1059.'),
    hostname: z.string().optional().describe('Host running Falco.'),
  })
  .describe('Falco JSON alert (json_output: true).');
export type FalcoAlert = z.infer<typeof FalcoAlert>;

export const RUNTIME_SCHEMA_ID = 'seam.runtime/v1';
export const RUNTIME_KINDS = ['process', 'network', 'file', 'dns', 'heartbeat'] as const;

const ProcessInfo = z
  .looseObject({
    pid: z.number().int().describe('Process id (in the container\'s pid namespace).'),
    ppid: z.number().int().optional().describe('Parent process id.'),
    exe: z.string().describe('Executable path, e.g. /bin/sh.'),
    cmdline: z.string().optional().describe('Full command line, space-joined.'),
    args: z.array(z.string()).optional().describe('argv, when the sensor keeps it unjoined.'),
    uid: z.number().int().optional().describe('Effective user id.'),
    user: z.string().optional().describe('User name, when resolvable.'),
    cwd: z.string().optional(),
    parent_exe: z.string().optional().describe('Parent executable path.'),
  })
  .describe('The process (subject of kind=process; the actor for the other kinds).');

const NetworkInfo = z
  .looseObject({
    direction: z.enum(['egress', 'ingress']).describe('egress = the pod connected out; ingress = the pod accepted.'),
    protocol: z.enum(['tcp', 'udp', 'icmp', 'other']),
    src_ip: z.string(),
    src_port: z.number().int().optional(),
    dst_ip: z.string(),
    dst_port: z.number().int().optional(),
    bytes_out: z.number().int().optional(),
    bytes_in: z.number().int().optional(),
  })
  .describe('One connection (kind=network).');

const FileInfo = z
  .looseObject({
    op: z.enum(['open', 'read', 'write', 'create', 'unlink', 'rename', 'chmod', 'chown', 'exec', 'mmap']).describe('File operation.'),
    path: z.string().describe('Absolute path.'),
    new_path: z.string().optional().describe('Target of a rename.'),
    mode: z.string().optional().describe('Octal mode for create/chmod.'),
    flags: z.string().optional().describe('open(2) flags, e.g. O_WRONLY|O_CREAT.'),
  })
  .describe('One file operation (kind=file).');

const DnsInfo = z
  .looseObject({
    query: z.string().describe('Queried name, e.g. sts.us-west-2.amazonaws.com.'),
    qtype: z.string().optional().describe('A, AAAA, TXT, ...'),
    rcode: z.string().optional().describe('NOERROR, NXDOMAIN, ...'),
    answers: z.array(z.string()).optional().describe('Answer data (addresses or names).'),
    server: z.string().optional().describe('Resolver IP.'),
  })
  .describe('One DNS lookup (kind=dns).');

const HeartbeatInfo = z
  .looseObject({
    seq: z.number().int().positive().describe('Sequence number, 1 at the sensor\'s start and one more with each heartbeat: a lower number after a higher one from the same start is a second sender.'),
    sensor_start: z.string().describe('When this sensor process started, RFC 3339 UTC: a new value with seq 1 is a restart of the sensor (its container), not of the pod.'),
    interval_ms: z.number().int().positive().describe('How often this sensor sends a heartbeat: silence is judged in these intervals.'),
    pod_uid: z.string().optional().describe('Pod UID (Downward API): a pod recreated under the same name has another.'),
    uptime_ms: z.number().int().nonnegative().optional().describe('Milliseconds since sensor_start.'),
    stopping: z.boolean().optional().describe('true on the last heartbeat, sent when the sensor was told to stop (SIGTERM: pod deletion, container restart): silence after it is expected.'),
    counters: z.record(z.string(), z.unknown()).optional().describe('The sensor\'s counters (scans, processes, unseen pids, records sent, dropped, failed POSTs...).'),
  })
  .describe('The sensor is alive (kind=heartbeat): sent every interval_ms.');

export const RuntimeEvent = z
  .looseObject({
    schema: z.literal(RUNTIME_SCHEMA_ID).describe('Marks a Seam runtime event and its version.'),
    id: z.string().min(1).describe('Unique event id chosen by the sensor (ULID or UUID); the dedup id.'),
    time: z.string().describe('Event time, RFC 3339 UTC.'),
    kind: z.enum(RUNTIME_KINDS),
    cluster: z.string().optional().describe('EKS cluster name.'),
    account: z.string().optional().describe('AWS account id.'),
    region: z.string().optional(),
    namespace: z.string().describe('Pod namespace.'),
    pod: z.string().describe('Pod name.'),
    container: z.string().optional().describe('Container name.'),
    image: z.string().optional().describe('Container image.'),
    service_account: z.string().optional().describe('Service account name (in the pod namespace).'),
    node: z.string().optional().describe('Node name (fargate-ip-... on Fargate).'),
    sensor: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional().describe('Which sensor produced it.'),
    process: ProcessInfo.optional(),
    network: NetworkInfo.optional(),
    file: FileInfo.optional(),
    dns: DnsInfo.optional(),
    heartbeat: HeartbeatInfo.optional(),
  })
  .superRefine((e, ctx) => {
    if (e[e.kind] === undefined) ctx.addIssue({ code: 'custom', path: [e.kind], message: `kind "${e.kind}" requires a "${e.kind}" object` });
  })
  .describe('Seam native runtime event (seam.runtime/v1).');
export type RuntimeEvent = z.infer<typeof RuntimeEvent>;
