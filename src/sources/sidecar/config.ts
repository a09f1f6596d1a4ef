import { z } from 'zod';

export const SidecarToken = z
  .strictObject({
    id: z.string().min(1).describe('Name of the token, logged and put in each record\'s origin (never the token itself).'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters: printf %s "$TOKEN" | sha256sum')
      .describe('SHA-256 (hex) of the bearer token; the token itself is never stored.'),
    cluster: z.string().optional().describe('EKS cluster the token is for: records are attributed to it, and a record naming another cluster (also in Falco output fields) is refused.'),
    account: z
      .string()
      .regex(/^[0-9]{12}$/, 'account must be a 12-digit AWS account id')
      .optional()
      .describe('AWS account the token is for: records are attributed to it; a record naming another account is refused, and without this binding a record may name no account at all.'),
    workload: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, 'workload must be <namespace>/<name>')
      .optional()
      .describe('<namespace>/<name> of the workload the token is for: a record must be in that namespace and its pod name must start with <name>; put in origin.'),
    serviceAccount: z.string().min(1).optional().describe('Service account (in the workload\'s namespace) the token is for: a record naming another one is refused.'),
    trust: z
      .literal('any')
      .optional()
      .describe('Set to "any" to let a token bound to no cluster send records for any cluster, account or workload (a shared test token; never in production).'),
  })
  .superRefine((t, ctx) => {
    if (t.cluster === undefined && t.trust !== 'any') {
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: `token ${t.id} names no cluster: bind it to one (cluster: <name>) or say trust: any to let it speak for every cluster` });
    }
    if (t.serviceAccount !== undefined && t.workload === undefined) {
      ctx.addIssue({ code: 'custom', path: ['serviceAccount'], message: 'serviceAccount needs workload (<namespace>/<name>): a service account is named within a namespace' });
    }
  })
  .describe('One sidecar credential and the identity it may speak for.');
export type SidecarToken = z.infer<typeof SidecarToken>;

export const SidecarSourceConfig = z
  .strictObject({
    type: z.literal('sidecar'),
    name: z.string().min(1).default('sidecar').describe('Collector name.'),
    host: z.string().default('0.0.0.0').describe('Address to listen on.'),
    port: z.number().int().min(0).max(65535).default(8765).describe('Port to listen on (0 = any free port).'),
    path: z.string().startsWith('/').default('/v1/ingest').describe('URL path accepting POSTed batches.'),
    tokens: z.array(SidecarToken).min(1).describe('Accepted bearer tokens, by SHA-256.'),
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024).describe('Largest request body; larger ones get 413.'),
    maxLineBytes: z.number().int().positive().default(256 * 1024).describe('Largest single record; a longer line is rejected (the rest of the batch is still taken).'),
    maxRecordDepth: z.number().int().positive().default(128).describe('Deepest nesting of objects/arrays in a record (or a JSON array body); deeper ones are rejected before they are parsed.'),
    maxReasons: z.number().int().min(0).default(20).describe('Rejected lines an answer lists with their reasons; the rest are only counted (by code).'),
    lastSeenForgetMs: z
      .number()
      .int()
      .positive()
      .default(3_600_000)
      .describe('A pod whose sensor sent no heartbeat for this long leaves seam_sidecar_last_seen_seconds (its series ends; a sensor that said it is stopping leaves at once). Keep it well above the alert threshold (several heartbeat intervals).'),
    lastSeenMaxPods: z.number().int().positive().default(20_000).describe('Most pods seam_sidecar_last_seen_seconds tracks; past it the pod heard from longest ago goes first.'),
    tls: z
      .strictObject({
        certFile: z.string().describe('PEM server certificate.'),
        keyFile: z.string().describe('PEM private key.'),
        caFile: z.string().optional().describe('PEM CA bundle that client certificates must chain to (mTLS).'),
        requireClientCert: z.boolean().default(false).describe('Refuse connections without a client certificate signed by caFile (mTLS).'),
      })
      .refine((t) => !t.requireClientCert || t.caFile !== undefined, { message: 'tls.requireClientCert needs tls.caFile' })
      .optional()
      .describe('Serve HTTPS instead of HTTP; with requireClientCert, mutual TLS.'),
  })
  .superRefine((c, ctx) => {
    if (c.maxLineBytes > c.maxBodyBytes) ctx.addIssue({ code: 'custom', path: ['maxLineBytes'], message: 'maxLineBytes must not exceed maxBodyBytes' });
    const ids = new Set<string>();
    c.tokens.forEach((t, i) => {
      if (ids.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'id'], message: `token id ${t.id} is used twice` });
      ids.add(t.id);
    });
  })
  .describe('HTTP endpoint for runtime telemetry from sidecars (Falco http_output, falcosidekick webhook, Seam native NDJSON).');
export type SidecarSourceConfig = z.infer<typeof SidecarSourceConfig>;
