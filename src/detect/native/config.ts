import { z } from 'zod';
import { AMAZON_ASNS } from './networks.ts';

/** Options of the native detections. Cluster egress CIDRs live in the identity graph's config (`clusters[].egressCidrs`). */
export const NativeConfig = z.strictObject({
  execToAwsWindowMs: z.number().int().positive().default(10 * 60_000).describe('An exec into a pod and that pod’s role calling AWS this soon after it are one story.'),
  manyAddresses: z
    .number()
    .int()
    .min(2)
    .default(3)
    .describe('A workload or node session used from this many distinct addresses outside the configured CIDRs is suspect, even if each was once learned as egress.'),
  firstUseWindowMs: z.number().int().positive().default(7 * 24 * 3600_000).describe('How long a new mapping or access entry waits for its first use.'),
  sensorSilentIntervals: z
    .number()
    .int()
    .min(2)
    .default(3)
    .describe('seam-native-runtime-sensor-silent: a runtime sensor that sent no heartbeat for this many of its own intervals (heartbeat.interval_ms, 60 s by default) of event time, without saying it was stopping and without the pod deleted or evicted (or its Fargate node deleted) in the audit plane, is reported.'),
  tokenUseWindowMs: z.number().int().positive().default(24 * 3600_000).describe('Cap on how long a minted service-account token is watched (its own expiry applies when shorter).'),
  guardDutyJoinMs: z.number().int().positive().default(15 * 60_000).describe('Activity by the same principal this long before and after a GuardDuty finding joins its incident.'),
  treatPrivateAsInternal: z
    .boolean()
    .default(true)
    .describe('RFC 1918 / unique-local addresses count as inside the cluster’s VPC (calls through VPC endpoints show them).'),
  gitOpsUsers: z
    .array(z.string())
    .default(['system:serviceaccount:argocd:argocd-application-controller', 'system:serviceaccount:flux-system:kustomize-controller', 'system:serviceaccount:flux-system:helm-controller'])
    .describe('Kubernetes usernames of GitOps controllers (Argo CD, Flux): a container they add to a workload comes from their reviewed source, so seam-native-container-added-to-workload reports it low.'),
  maxStateEntries: z
    .number()
    .int()
    .positive()
    .default(50_000)
    .describe('Cap on entries any one detection keeps in its own state; the oldest go first. What detections learn as identity facts (the behavioural baselines, the workload container names of seam-native-container-added-to-workload) is not counted: their expiry (and, for workloads, deletes) bounds it (docs/identity.md, Bounds).'),
  baselineLearningMs: z
    .number()
    .int()
    .nonnegative()
    .default(24 * 3600_000)
    .describe('Behavioural baselines (new network, new region, impossible travel, the networks that exchange web-identity tokens for a role) only learn for this long of event time after a principal is first seen (per account for the account-wide region baseline; per role and OIDC issuer for the web-identity exchanges).'),
  baselineMemoryMs: z
    .number()
    .int()
    .positive()
    .default(30 * 24 * 3600_000)
    .describe('A network or region not seen again for this long is forgotten (its next use is new again); seen again, it is remembered anew. (web-identity-exchange-new-network keeps its networks webIdentityNetworkMemoryMs, this when longer.)'),
  maxNetworksPerPrincipal: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe('A principal seen from more networks than this has no useful network baseline: the new-network detection stops reporting it (and web-identity-exchange-new-network a role and issuer whose exchanges came from this many networks, Amazon’s counted as one; it learns no more of them).'),
  asnDatabase: z.boolean().default(true).describe('Map addresses to autonomous systems with the bundled offline database (@ip-location-db/asn); false: networks are /16 (IPv6 /48) prefixes and "outside AWS" rests on other evidence.'),
  awsIpRangesFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'AWS’s published IP ranges, offline: the path of ip-ranges.json as downloaded (curl -fsSL -o ip-ranges.json https://ip-ranges.amazonaws.com/ip-ranges.json) or gzipped (what `seam networks import-aws-ranges FILE --out ip-ranges.json.gz` writes, small enough for a ConfigMap). Read at start (a file that is not AWS’s stops the command with SEAM_ERR_AWS_RANGES_INVALID; one older than 30 days is warned about). Given, "inside AWS" is answered from these exact ranges (IPv4 and IPv6) and AWS addresses are placed in their region and service (the network baselines key them by region); the AS (asnDatabase) still names every other network. Unset: the AS answers, as amazonAsns says.',
    ),
  addressLists: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-"')
          .describe('What the alert calls the list (tor-exits, feodo-c2, ...): one word.'),
        path: z.string().min(1).describe('The list file: one address or CIDR per line, # or ; comments (Tor’s bulk exit list, FireHOL netsets, Spamhaus DROP), or Tor’s exit-addresses document.'),
        level: z.enum(['low', 'medium', 'high', 'critical']).default('medium').describe('Level of the alerts for calls from its addresses.'),
        maxAgeDays: z.number().int().positive().default(7).describe('A file not written for longer is warned about at start (`config check`, `seam run`).'),
      }),
    )
    .default([])
    .describe(
      'Address lists you bring (Seam ships and downloads none): seam-native-listed-address reports an AWS call (sourceIPAddress) or a Kubernetes API request (its connection address) from an address on one, one alert per list, principal and address a day. Read at start (a file that is not an address list stops the command with SEAM_ERR_ADDRESS_LIST_INVALID) and again when it changes. docs/identity.md, Address lists.',
    ),
  amazonAsns: z.array(z.number().int().positive()).default([...AMAZON_ASNS]).describe('Autonomous systems that count as AWS (instance credentials used from any other are outside AWS).'),
  lambdaEgressCidrs: z
    .array(z.string())
    .default([])
    .describe('Public CIDRs outside Amazon’s networks that the accounts’ Lambda functions reach AWS through (an on-premises firewall behind Direct Connect, a static-IP egress proxy): lambda-creds-outside-aws treats them as the functions’ own egress. Such networks are also learned from the functions’ own calls during the learning period.'),
  webIdentityBrokerIssuers: z
    .array(z.string())
    .default(['api.pulumi.com/oidc'])
    .describe('OIDC issuers (host and path, as in the IAM OIDC provider’s ARN) of credential brokers that exchange the token on their own hosts and hand the keys to users elsewhere (Pulumi ESC: api.pulumi.com/oidc): web-identity-creds-elsewhere leaves their exchanges out, since every use is on another network, and web-identity-exchange-new-network too (their exchanges come from the broker’s hosts, not the users’ runners).'),
  webIdentityHostedRunners: z
    .array(
      z.strictObject({
        issuer: z.string().min(1).describe('OIDC issuer (host and path, as in the IAM OIDC provider’s ARN); a path under it counts too.'),
        asns: z.array(z.number().int().positive()).min(1).describe('Autonomous systems (as the bundled ASN table names them) its hosted runners exchange tokens from.'),
      }),
    )
    .default([
      { issuer: 'token.actions.githubusercontent.com', asns: [8075] },
      { issuer: 'gitlab.com', asns: [396982] },
    ])
    .describe('Networks a CI service’s own hosted runners exchange its OIDC tokens from (GitHub-hosted runners run in Azure, AS8075; GitLab.com’s hosted Linux runners on Google Compute Engine, AS396982; not AS15169, Google’s own services, Apps Script’s URL fetches among them, which anyone can send). web-identity-exchange-new-network counts them as one network of the issuer’s: a role whose exchanges already came from one of them is not reported from another (GitHub-hosted runners come from hundreds of Azure /16s); a role whose exchanges never came from one is, with a hint that its workflows may have moved to hosted runners. The trade-off: a thief who exchanges a stolen token from a VM in that cloud, or from a hosted runner of their own, for a role that already uses hosted runners is not reported. [] judges those networks like any other.'),
  webIdentityNetworkMemoryMs: z
    .number()
    .int()
    .positive()
    .default(400 * 24 * 3600_000)
    .describe('How long web-identity-exchange-new-network remembers a network (and a role’s learning start) unseen; baselineMemoryMs when longer. Long, because CI jobs that exchange from their own runner are often monthly or quarterly (releases, audits): a shorter memory reports each of them again.'),
  travelSpeedKmh: z.number().positive().default(1000).describe('Impossible travel: two locations of one principal further apart than this speed allows in the time between them (airliners cruise at ~900 km/h).'),
  travelMinKm: z.number().nonnegative().default(500).describe('Impossible travel: locations closer than this never count (geolocation error, neighbouring cities).'),
  geoLocations: z
    .array(
      z.strictObject({
        cidr: z.string().describe('IPv4/IPv6 CIDR or single address.'),
        lat: z.number().min(-90).max(90),
        lon: z.number().min(-180).max(180),
        label: z.string().describe('Shown in alerts, e.g. "Berlin office" or "DE".'),
      }),
    )
    .default([])
    .describe('Address → location table for impossible travel (first match wins). Seam ships no geolocation database: without entries (or a lookup passed by an embedder), impossible travel does not run.'),
});
export type NativeConfig = z.infer<typeof NativeConfig>;
export type NativeOptions = z.input<typeof NativeConfig>;
