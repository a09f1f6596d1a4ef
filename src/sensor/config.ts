import { z } from 'zod';

/** Addresses where a pod can ask for cloud credentials: EC2 IMDS, ECS/Fargate task metadata, EKS Pod Identity agent. */
export const DEFAULT_METADATA_ADDRESSES = ['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23'];

/**
 * Files whose opening is evidence of credential access. An entry starting with `*` matches any path
 * ending with the rest (`*\/.aws/credentials`); the others are exact. Projected-volume paths are compared
 * after removing kubelet's `..data` / `..<timestamp>` indirection, so the real file behind the symlink matches.
 */
export const DEFAULT_SENSITIVE_PATHS = [
  '/var/run/secrets/kubernetes.io/serviceaccount/token',
  '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
  '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
  '/etc/shadow',
  '/etc/gshadow',
  '*/.aws/credentials',
  '*/.aws/config',
  '*/.config/gcloud/application_default_credentials.json',
  '*/.azure/accessTokens.json',
  '*/.kube/config',
  '*/.docker/config.json',
];

export const PodIdentity = z
  .strictObject({
    namespace: z.string().min(1).describe('Pod namespace (Downward API metadata.namespace).'),
    name: z.string().min(1).describe('Pod name (Downward API metadata.name).'),
    uid: z.string().optional().describe('Pod UID (Downward API metadata.uid); part of every event id, so ids differ across pods with the same name.'),
    serviceAccount: z.string().optional().describe('Service account (Downward API spec.serviceAccountName): the key Seam joins to IRSA / Pod Identity sessions.'),
    node: z.string().optional().describe('Node name (Downward API spec.nodeName; fargate-ip-... on Fargate).'),
    cluster: z.string().optional().describe('EKS cluster name (else the ingest token\'s cluster).'),
    account: z.string().optional().describe('AWS account id.'),
    region: z.string().optional().describe('AWS region.'),
  })
  .describe('Who the events are about: the pod, from the Downward API.');
export type PodIdentity = z.infer<typeof PodIdentity>;

export const SensorContainer = z
  .strictObject({
    name: z.string().min(1).describe('Container name.'),
    image: z.string().optional().describe('Image reference (the Downward API cannot expose it: copy it from the pod spec).'),
  })
  .describe('One of the pod\'s other containers.');

export const SensorIngest = z
  .strictObject({
    url: z.string().url().describe('Seam\'s sidecar ingest endpoint, e.g. https://seam-ingest.seam.svc:8765/v1/ingest.'),
    tokenFile: z.string().optional().describe('File holding the bearer token (a Secret volume); read before every request so a rotated token is used.'),
    tokenEnv: z.string().default('SEAM_INGEST_TOKEN').describe('Environment variable holding the bearer token, when tokenFile is not set.'),
    caFile: z.string().optional().describe('PEM CA bundle the endpoint\'s certificate must chain to (the cluster CA or Seam\'s own).'),
    cluster: z.string().optional().describe('Sent as X-Seam-Cluster; the endpoint refuses a token used for another cluster.'),
    batchMaxRecords: z.number().int().positive().default(500).describe('Most records in one POST.'),
    flushIntervalMs: z.number().int().positive().default(1000).describe('Longest a record waits before it is sent.'),
    spoolMaxBytes: z.number().int().positive().default(4 * 1024 * 1024).describe('Bound of the in-memory spool kept while Seam is unreachable; beyond it the oldest records are dropped and counted.'),
    requestTimeoutMs: z.number().int().positive().default(10_000).describe('Timeout of one POST.'),
    initialBackoffMs: z.number().int().positive().default(500).describe('First wait after a failed POST (full jitter, doubling).'),
    maxBackoffMs: z.number().int().positive().default(30_000).describe('Longest wait between retries.'),
    shutdownDrainMs: z.number().int().positive().default(10_000).describe('On SIGTERM, how long the sensor keeps sending what is spooled before it exits (keep it under the pod\'s terminationGracePeriodSeconds).'),
  })
  .refine((i) => i.initialBackoffMs <= i.maxBackoffMs, { message: 'initialBackoffMs must not exceed maxBackoffMs', path: ['initialBackoffMs'] })
  .describe('Where the events go (without it they are written to stdout as NDJSON).');
export type SensorIngest = z.infer<typeof SensorIngest>;

export const SensorConfig = z
  .strictObject({
    intervalMs: z.number().int().min(20).default(250).describe('Scan interval. A process living at least twice this long is always seen; shorter ones are a blind spot (ADR 0012).'),
    procPath: z.string().default('/proc').describe('procfs mount (the pod\'s shared pid namespace).'),
    pod: PodIdentity,
    containers: z.array(SensorContainer).default([]).describe('The pod\'s other containers. With exactly one, every process is attributed to it; with more, events carry the cgroup container id.'),
    metadataAddresses: z.array(z.string()).default(DEFAULT_METADATA_ADDRESSES).describe('Connections to these addresses are flagged network.metadata_endpoint.'),
    sensitivePaths: z.array(z.string()).default(DEFAULT_SENSITIVE_PATHS).describe('Open descriptors on these files are reported as kind=file events (`*` prefix = suffix match).'),
    connectionSweepMs: z.number().int().positive().default(2000).describe('How often the UDP socket tables (cheap) are read even when no watched process holds a new socket: the latency for UDP sockets whose owner cannot be read (another UID). The TCP tables are read when the network namespace\'s TCP open counters (/proc/net/snmp) move, or at this interval when they cannot be read.'),
    reportExisting: z.boolean().default(true).describe('Report the processes already running when the sensor starts (marked seen_at_start).'),
    reportUnownedConnections: z.boolean().default(true).describe('Report connections whose owning process cannot be read (another UID): network events without a process.'),
    statsIntervalMs: z.number().int().positive().default(60_000).describe('How often the sensor logs its counters (scans, cost, blind spot, spool).'),
    heartbeatIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(60_000)
      .describe('How often the sensor sends a heartbeat record (kind heartbeat: its counters and a sequence number) to the ingest endpoint, so Seam can tell a silenced sensor from a quiet pod (seam_sidecar_last_seen_seconds, seam-native-runtime-sensor-silent). The first goes at start, the last (stopping) on SIGTERM.'),
    healthPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('Port of the liveness endpoint (GET /healthz: 200 while the scan loop runs, 503 when no scan started for 10 intervals or 5 s, no answer when the process is stopped) for the container\'s livenessProbe. Unset: no listener.'),
    healthHost: z.string().default('0.0.0.0').describe('Address the liveness endpoint listens on (the kubelet probes the pod IP).'),
    ingest: SensorIngest.optional(),
  })
  .describe('The Fargate runtime sensor (`seam sensor`): a sidecar scanning the shared pid namespace\'s /proc.');
export type SensorConfig = z.infer<typeof SensorConfig>;
export type SensorConfigInput = z.input<typeof SensorConfig>;

/**
 * The `sensor` section of seam.yml (`seam sensor --config FILE`, or SEAM_CONFIG): the same fields, with the pod
 * identity optional, since the Downward API variables usually fill it in each pod.
 */
export const SensorFileConfig = SensorConfig.extend({
  pod: PodIdentity.partial().optional().describe('Pod identity fields the Downward API variables do not set (SEAM_POD_NAMESPACE, SEAM_POD_NAME, … win over these).'),
}).describe('The Fargate runtime sensor (`seam sensor --config FILE`): a sidecar in the application\'s pods, so the file it reads is mounted there; only this section is read (ADR 0016).');
export type SensorFileConfig = z.input<typeof SensorFileConfig>;

/**
 * The configuration from the environment, as a pod spec sets it: the Downward API fills the pod
 * identity (SEAM_POD_NAMESPACE, SEAM_POD_NAME, SEAM_POD_UID, SEAM_POD_SERVICE_ACCOUNT, SEAM_NODE_NAME), the
 * rest comes from SEAM_CLUSTER, SEAM_ACCOUNT, SEAM_REGION, SEAM_CONTAINERS (`name=image,...`),
 * SEAM_INGEST_URL, SEAM_INGEST_TOKEN_FILE, SEAM_INGEST_CA_FILE, SEAM_SENSOR_INTERVAL_MS,
 * SEAM_SENSOR_HEARTBEAT_MS, SEAM_SENSOR_HEALTH_PORT, SEAM_METADATA_ADDRESSES and SEAM_SENSITIVE_PATHS (comma lists), and any other field from
 * SEAM_SENSOR_CONFIG (a JSON object, overridden by the variables above).
 */
export function configFromEnv(env: NodeJS.ProcessEnv, overrides: Record<string, unknown> = {}, file: Record<string, unknown> = {}): SensorConfig {
  // Precedence as for every command: flag (overrides) > SEAM_* variables > the file's sensor section > defaults.
  let base: Record<string, unknown> = file;
  if (env.SEAM_SENSOR_CONFIG) {
    try {
      const fromEnv = JSON.parse(env.SEAM_SENSOR_CONFIG) as Record<string, unknown>;
      base = { ...file, ...fromEnv, ...(file.pod || fromEnv.pod ? { pod: { ...(file.pod as object), ...(fromEnv.pod as object) } } : {}), ...(file.ingest || fromEnv.ingest ? { ingest: { ...(file.ingest as object), ...(fromEnv.ingest as object) } } : {}) };
    } catch (error) {
      throw new Error(`SEAM_SENSOR_CONFIG is not a JSON object: ${(error as Error).message}`);
    }
  }
  const list = (v: string | undefined): string[] | undefined => (v === undefined || v.trim() === '' ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
  const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const pod = defined({
    ...((base.pod as Record<string, unknown> | undefined) ?? {}),
    ...defined({
      namespace: env.SEAM_POD_NAMESPACE,
      name: env.SEAM_POD_NAME,
      uid: env.SEAM_POD_UID,
      serviceAccount: env.SEAM_POD_SERVICE_ACCOUNT,
      node: env.SEAM_NODE_NAME,
      cluster: env.SEAM_CLUSTER,
      account: env.SEAM_ACCOUNT,
      region: env.SEAM_REGION,
    }),
  });
  const containers = list(env.SEAM_CONTAINERS)?.map((c) => {
    const i = c.indexOf('=');
    return i < 0 ? { name: c } : { name: c.slice(0, i), image: c.slice(i + 1) };
  });
  const baseIngest = (base.ingest as Record<string, unknown> | undefined) ?? {};
  const ingestEnv = defined({ url: env.SEAM_INGEST_URL, tokenFile: env.SEAM_INGEST_TOKEN_FILE, caFile: env.SEAM_INGEST_CA_FILE, cluster: env.SEAM_CLUSTER });
  const ingest = Object.keys(baseIngest).length + Object.keys(ingestEnv).length > 0 ? { ...baseIngest, ...ingestEnv } : undefined;
  const merged = defined({
    ...base,
    pod,
    containers: containers ?? base.containers,
    intervalMs: env.SEAM_SENSOR_INTERVAL_MS ? Number(env.SEAM_SENSOR_INTERVAL_MS) : base.intervalMs,
    heartbeatIntervalMs: env.SEAM_SENSOR_HEARTBEAT_MS ? Number(env.SEAM_SENSOR_HEARTBEAT_MS) : base.heartbeatIntervalMs,
    healthPort: env.SEAM_SENSOR_HEALTH_PORT ? Number(env.SEAM_SENSOR_HEALTH_PORT) : base.healthPort,
    metadataAddresses: list(env.SEAM_METADATA_ADDRESSES) ?? base.metadataAddresses,
    sensitivePaths: list(env.SEAM_SENSITIVE_PATHS) ?? base.sensitivePaths,
    ingest,
    ...overrides,
  });
  const parsed = SensorConfig.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`sensor configuration is invalid: ${problems} (set SEAM_POD_NAMESPACE and SEAM_POD_NAME from the Downward API)`);
  }
  return parsed.data;
}
