/**
 * Hunting by identity: every indexed event attributed to one identity, across the four planes,
 * including what it did through the roles, sessions and service accounts it reached. Indexed events
 * carry the identity graph's answer (ADR 0014): `seam.principal` (who the record says, refined),
 * `seam.chain` (the path from the acting credentials to where they came from) and `seam.origin` (the
 * identity the chain reached). An event is attributed to an identity when the identity is its
 * principal, its origin, or any node of its chain: the IRSA session's AWS calls after alice exec'd into
 * the pod have chain `key → session → role → sa → pod → alice's k8s user → alice's session → role`, so
 * they belong to alice, to the service account and to the pod's role alike.
 *
 * The query is plain DSL over keyword fields (term, prefix, wildcard), so a dashboard can use it as a
 * filter as printed (`seam hunt --who X --print-dsl`).
 */
import type { SeamEvent, SourceType } from '../core/envelope.ts';
import { shortChain } from '../identity/chain-text.ts';
import { PAGE_SORT } from './hunt.ts';
import type { HuntClient } from './hunt.ts';
import type { Dsl } from './query.ts';

export type WhoKind = 'iam' | 'k8s_user' | 'service_account' | 'access_key' | 'pod';

export interface Who {
  kind: WhoKind;
  /**
   * The identity as given, canonical: an ARN (a role without its path), a user name, `ns/name` (a service account
   * or, for `pod`, a pod), or an access key id.
   */
  value: string;
}

const SA_PREFIX = 'system:serviceaccount:';
const POD_PREFIX = 'pod:';
const NAMESPACED = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

/**
 * What `--who` names: an IAM ARN (`arn:aws:iam::…:role/…`, `user/…`, `arn:aws:sts::…:assumed-role/…`), an access
 * key id (`AKIA…`, `ASIA…`), a pod (`pod:namespace/name`), a service account (`namespace/name` or
 * `system:serviceaccount:namespace:name`), else a Kubernetes user.
 */
export function parseWho(input: string): Who {
  const v = input.trim();
  if (v === '') throw new Error('--who needs an IAM ARN, an access key id, a Kubernetes user, namespace/serviceaccount or pod:namespace/name');
  if (/^arn:aws[a-z-]*:(iam|sts)::/.test(v)) return { kind: 'iam', value: roleWithoutPath(v) };
  // Access key ids are upper-case letters and digits; IAM unique ids (AROA…, AIDA…) share the shape but sign nothing,
  // so only the prefixes of keys are read as keys.
  if (/^(AKIA|ASIA)[A-Z0-9]{12,124}$/.test(v)) return { kind: 'access_key', value: v };
  if (v.startsWith(POD_PREFIX)) {
    const rest = v.slice(POD_PREFIX.length);
    if (!NAMESPACED.test(rest)) throw new Error(`'${v}' is not pod:<namespace>/<name>`);
    return { kind: 'pod', value: rest };
  }
  if (v.startsWith(SA_PREFIX)) {
    const rest = v.slice(SA_PREFIX.length);
    const i = rest.indexOf(':');
    if (i <= 0 || i === rest.length - 1) throw new Error(`'${v}' is not system:serviceaccount:<namespace>:<name>`);
    return { kind: 'service_account', value: `${rest.slice(0, i)}/${rest.slice(i + 1)}` };
  }
  if (NAMESPACED.test(v)) return { kind: 'service_account', value: v };
  return { kind: 'k8s_user', value: v };
}

/** The graph names roles without their path (aws-auth, access entries and sessions do): `role/a/b/R` → `role/R`. */
function roleWithoutPath(arn: string): string {
  const m = /^(arn:aws[a-z-]*:iam::\d*:role\/)(?:.+\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1]}${m[2]}` : arn;
}

/** `*`, `?` and `\` taken literally in a wildcard query. */
const escapeWildcard = (s: string): string => s.replace(/[\\*?]/g, (c) => `\\${c}`);

const PRINCIPAL_FIELDS = ['id', 'arn', 'k8s_user'] as const;
const CHAIN_FIELDS = ['seam.chain.from', 'seam.chain.to'] as const;
const PRINCIPALS = ['seam.principal', 'seam.origin'] as const;

/** STS `AssumeRole*` calls (AssumeRole, …WithWebIdentity, …WithSAML) matching one of `should`. */
const stsIssued = (should: Dsl[]): Dsl => ({ bool: { filter: [{ term: { eventSource: 'sts.amazonaws.com' } }, { prefix: { eventName: 'AssumeRole' } }], should, minimum_should_match: 1 } });
const terms = (fields: readonly string[], values: string[]): Dsl[] => fields.map((f) => (values.length === 1 ? { term: { [f]: values[0] } } : { terms: { [f]: values } }));
const prefixes = (fields: readonly string[], value: string): Dsl[] => fields.map((f) => ({ prefix: { [f]: value } }));
const wildcards = (fields: readonly string[], value: string): Dsl[] => fields.map((f) => ({ wildcard: { [f]: { value } } }));

/**
 * The query matching every event attributed to `who`: a `bool` of `should` clauses, one of which must
 * hold. With `cluster`, Kubernetes nodes of other clusters do not count (`payments/api` in two clusters
 * is two identities).
 */
export function whoQuery(who: Who, opts: { cluster?: string } = {}): Dsl {
  const k8s = opts.cluster === undefined ? 'k8s:*:' : `k8s:${escapeWildcard(opts.cluster)}:`;
  const should: Dsl[] = [];
  const principalFields = (names: readonly string[]): string[] => PRINCIPALS.flatMap((p) => names.map((n) => `${p}.${n}`));
  if (who.kind === 'iam') {
    const arn = who.value;
    // The identity itself, wherever it appears; a Kubernetes user named by the ARN (IAM-authenticated).
    should.push(...terms([...principalFields(PRINCIPAL_FIELDS), ...CHAIN_FIELDS], [arn]));
    should.push(...wildcards(CHAIN_FIELDS, `${k8s}user:${escapeWildcard(arn)}`));
    // A role also acted through every session of it, chained or not.
    const role = /^arn:(aws[a-z-]*):iam::(\d*):role\/([^/]+)$/.exec(arn);
    if (role) {
      const session = `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/`;
      should.push(...prefixes([...principalFields(['arn', 'id', 'k8s_user']), ...CHAIN_FIELDS], session));
      should.push(...wildcards(CHAIN_FIELDS, `${k8s}user:${escapeWildcard(session)}*`));
      // And the STS calls that created those sessions, whoever made them (review-soc L1): "who got this role's
      // credentials, and from where". The request names the role with its path; the answer names the session.
      should.push(
        stsIssued([
          { term: { 'requestParameters.roleArn': arn } },
          { wildcard: { 'requestParameters.roleArn': { value: `arn:${role[1]}:iam::${role[2]}:role/*/${escapeWildcard(role[3]!)}` } } },
          { prefix: { 'responseElements.assumedRoleUser.arn': session } },
        ]),
      );
    }
    // A session also holds the STS call that created it (the token exchange, the AssumeRole), whose principal is the
    // caller: "where did these credentials come from, and from which address" (review-hunter M1).
    if (/^arn:aws[a-z-]*:sts::\d*:assumed-role\/[^/]+\/.+$/.test(arn)) should.push(stsIssued([{ term: { 'responseElements.assumedRoleUser.arn': arn } }]));
  } else if (who.kind === 'access_key') {
    // The events the key signed (the acting principal's key, or who acted really's), the events whose chain passes
    // through it, and the STS call that issued it (review-hunter H1).
    should.push(...terms([...principalFields(['access_key_id']), ...CHAIN_FIELDS], [who.value]));
    should.push(stsIssued([{ term: { 'responseElements.credentials.accessKeyId': who.value } }]));
  } else if (who.kind === 'pod') {
    // What ran in the pod (the sensor's principal `pod:ns/name`), what its credentials did (`seam.principal.pod`, a
    // chain through the pod's node), and the requests on the pod itself: exec, attach, its creation (review-hunter M2).
    const [ns, name] = who.value.split('/') as [string, string];
    should.push(...terms(principalFields(['pod']), [who.value]));
    should.push(...terms(principalFields(['id']), [`${POD_PREFIX}${who.value}`]));
    should.push(...wildcards(CHAIN_FIELDS, `${k8s}pod:${escapeWildcard(who.value)}`));
    const resource = `${ns}/pods/${name}`;
    should.push({ term: { 'seam.resource': resource } }, { prefix: { 'seam.resource': `${resource}/` } });
  } else if (who.kind === 'service_account') {
    const [ns, name] = who.value.split('/') as [string, string];
    const user = `${SA_PREFIX}${ns}:${name}`;
    should.push(...terms(principalFields(['service_account']), [who.value]));
    should.push(...terms(principalFields(['id', 'k8s_user']), [user]));
    should.push(...wildcards(CHAIN_FIELDS, `${k8s}sa:${escapeWildcard(who.value)}`));
  } else {
    should.push(...terms(principalFields(['id', 'k8s_user']), [who.value]));
    should.push(...wildcards(CHAIN_FIELDS, `${k8s}user:${escapeWildcard(who.value)}`));
  }
  const bool: Dsl = { should, minimum_should_match: 1 };
  if (opts.cluster !== undefined) bool.filter = [{ term: { 'seam.cluster': opts.cluster } }];
  return { bool };
}

export interface WhoHuntOptions {
  who: Who;
  indexPrefix?: string;
  cluster?: string;
  /** Inclusive bounds on `@timestamp` (ISO 8601 or date math). */
  from?: string;
  to?: string;
  /** Most events returned; default 10000. */
  size?: number;
}

/** The index pattern and query `seam hunt --who` runs (what `--print-dsl` prints). */
export function whoSearch(o: WhoHuntOptions): { index: string; query: Dsl } {
  const q = whoQuery(o.who, o.cluster === undefined ? {} : { cluster: o.cluster });
  const time: Dsl[] = o.from || o.to ? [{ range: { '@timestamp': { ...(o.from ? { gte: o.from } : {}), ...(o.to ? { lte: o.to } : {}) } } }] : [];
  return { index: `${o.indexPrefix ?? 'seam'}-events-*`, query: time.length > 0 ? { bool: { filter: [q, ...time] } } : q };
}

/**
 * One event attributed to the identity, as `seam hunt --who` prints it, keys in this order (docs/hunting.md); a
 * key whose value the event lacks is left out.
 */
export interface WhoHit {
  '@timestamp': string;
  'seam.id': string;
  source: SourceType;
  cluster: string | undefined;
  account: string | undefined;
  action: string | undefined;
  /** What it acted on (`seam.resource`). */
  resource: string | undefined;
  outcome: string | undefined;
  source_ip: string | undefined;
  /** Who the event's credentials were (the acting principal). */
  principal: string | undefined;
  /** The service account the acting principal is or stands for (`namespace/name`). */
  service_account: string | undefined;
  /** Who acted, really (the identity the chain reached), when the graph found one. */
  origin: string | undefined;
  /** The chain in short form. */
  chain: string | undefined;
}

export interface WhoSummary {
  events: number;
  bySource: Partial<Record<SourceType, number>>;
  /** Acting principals other than the identity itself: the roles, sessions and service accounts it acted through. */
  through: string[];
  /** True when `size` cut the results short. */
  truncated: boolean;
}

const PAGE = 1000;

const principalKey = (p: { id?: string; arn?: string } | undefined): string | undefined => p?.arn ?? p?.id;

/** An indexed event as a `--who` line (and a `--alert` line): the WhoHit keys, in that order. */
export function whoHit(e: SeamEvent): WhoHit {
  const s = e.seam;
  return {
    '@timestamp': e['@timestamp'],
    'seam.id': s.id,
    source: s.source,
    cluster: s.cluster,
    account: s.account,
    action: s.action,
    resource: s.resource,
    outcome: s.outcome,
    source_ip: s.source_ip,
    principal: principalKey(s.principal),
    service_account: s.principal?.service_account,
    origin: principalKey(s.origin),
    chain: s.chain && s.chain.length > 0 ? shortChain(s.chain) : undefined,
  };
}

/** Runs the search, paging in PAGE_SORT's order (`@timestamp`, `seam.id`, `_index`); calls `onHit` per event in time order. */
export async function huntWho(client: HuntClient, o: WhoHuntOptions, onHit: (h: WhoHit, e: SeamEvent) => void): Promise<WhoSummary> {
  const { index, query } = whoSearch(o);
  const limit = o.size ?? 10_000;
  const sum: WhoSummary = { events: 0, bySource: {}, through: [], truncated: false };
  const self = new Set([o.who.value, o.who.kind === 'service_account' ? `${SA_PREFIX}${o.who.value.replace('/', ':')}` : o.who.value]);
  let after: unknown[] | undefined;
  for (;;) {
    const resp = await client.search(
      { index, ignore_unavailable: true, allow_no_indices: true, body: { query, size: PAGE, sort: PAGE_SORT, ...(after ? { search_after: after } : {}) } as never },
      { ignore: [404] },
    );
    const body = resp.body as unknown as { _shards?: { failed?: number; failures?: { reason?: { reason?: string } }[] }; hits?: { hits?: { _source: SeamEvent; sort: unknown[] }[] }; error?: { reason?: string } };
    if (body.error || (body._shards?.failed ?? 0) > 0) throw new Error(`hunt --who: search failed: ${body.error?.reason ?? body._shards?.failures?.[0]?.reason?.reason ?? 'on some shards'}`);
    const hits = body.hits?.hits ?? [];
    for (const h of hits) {
      if (sum.events >= limit) {
        sum.truncated = true;
        return sum;
      }
      const e = h._source;
      const s = e.seam;
      sum.events++;
      sum.bySource[s.source] = (sum.bySource[s.source] ?? 0) + 1;
      const actor = principalKey(s.principal);
      if (actor !== undefined && !self.has(actor) && !sum.through.includes(actor) && (s.chain?.length ?? 0) > 0) sum.through.push(actor);
      onHit(whoHit(e), e);
    }
    if (hits.length < PAGE) return sum;
    after = hits[hits.length - 1]!.sort;
  }
}

/**
 * Identities in the index that look like `who` (a case-insensitive `*part*` on the principal and origin fields),
 * for a `--who` that found nothing (review-soc M5): on EKS an IAM-authenticated user's Kubernetes name is its
 * session ARN, so `--who alice` finds nothing where `arn:aws:sts::…:assumed-role/…/alice@example.com` finds her.
 * `part` is the name's last segment (a session or role name, a service account's name). At most `max`, most events first.
 */
export async function closePrincipals(client: HuntClient, o: WhoHuntOptions, max = 5): Promise<string[]> {
  const part = o.who.value.split(/[/:]/).filter(Boolean).pop() ?? o.who.value;
  if (part.length < 2) return [];
  const value = `*${escapeWildcard(part)}*`;
  const names = ['arn', 'id', 'k8s_user', 'service_account', 'access_key_id', 'pod'] as const;
  const fields = PRINCIPALS.flatMap((p) => names.map((n) => `${p}.${n}`));
  // Each suggestion as --who reads it: a pod as `pod:ns/name` (as `ns/name` it would be a service account).
  const asWho = (field: string, v: string): string => (field.endsWith('.pod') ? `${POD_PREFIX}${v}` : v);
  const time: Dsl[] = o.from || o.to ? [{ range: { '@timestamp': { ...(o.from ? { gte: o.from } : {}), ...(o.to ? { lte: o.to } : {}) } } }] : [];
  const query: Dsl = {
    bool: {
      should: fields.map((f) => ({ wildcard: { [f]: { value, case_insensitive: true } } })),
      minimum_should_match: 1,
      ...(time.length > 0 || o.cluster !== undefined ? { filter: [...time, ...(o.cluster !== undefined ? [{ term: { 'seam.cluster': o.cluster } }] : [])] } : {}),
    },
  };
  // A document found by one field holds other identities in the others: only values holding `part` count.
  const aggs = Object.fromEntries(fields.map((f, i) => [`f${i}`, { terms: { field: f, size: 50 } }]));
  const resp = await client.search({ index: `${o.indexPrefix ?? 'seam'}-events-*`, ignore_unavailable: true, allow_no_indices: true, body: { query, size: 0, aggs } as never }, { ignore: [404] });
  const body = resp.body as unknown as { aggregations?: Record<string, { buckets?: { key: string; doc_count: number }[] }> };
  const counts = new Map<string, number>();
  const low = part.toLowerCase();
  for (const [k, a] of Object.entries(body.aggregations ?? {})) {
    const field = fields[Number(k.slice(1))]!;
    for (const b of a.buckets ?? []) if (b.key.toLowerCase().includes(low)) counts.set(asWho(field, b.key), Math.max(counts.get(asWho(field, b.key)) ?? 0, b.doc_count));
  }
  counts.delete(o.who.value);
  if (o.who.kind === 'pod') counts.delete(`${POD_PREFIX}${o.who.value}`);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, max).map(([k]) => k);
}
