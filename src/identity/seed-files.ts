/**
 * Seed files → facts, once per process (docs/identity.md, Seeding from snapshots). seam.yml `identity.seeds` and
 * `--seed FILE[=CLUSTER]` name snapshots of what existed before Seam started: aws-auth, access entries, Pod Identity
 * associations, RBAC, service accounts and pods. They are read and turned into facts once; every identity graph the
 * process builds (each correlate partition's, each rebuild's, each replay worker's) applies those facts first, before
 * anything restored or observed, so a later event's fact closes a seeded one at its own time.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { SeamError } from '../core/errors.ts';
import { IdentityGraph } from './graph.ts';
import type { ClusterConfig, SeedConfig, SeedKind } from './config.ts';
import type { IdentityFact } from './types.ts';

export interface SeedFileResult {
  path: string;
  kind: SeedKind;
  cluster: string;
  facts: number;
}

export interface Seeds {
  facts: IdentityFact[];
  files: SeedFileResult[];
}

export const NO_SEEDS: Seeds = { facts: [], files: [] };

/**
 * What a snapshot holds, read from its content: a kubectl List (or one object with a `kind`), aws-auth data,
 * access-entry CLI output, Pod Identity association CLI output. `doc` is the parsed file; undefined when it
 * did not parse (then only aws-auth data, read as YAML, can be meant).
 */
export function seedKindOf(text: string, doc: unknown): SeedKind {
  const first = Array.isArray(doc) ? (doc[0] as unknown) : doc;
  const o = first !== null && typeof first === 'object' ? (first as Record<string, unknown>) : undefined;
  if (o !== undefined && Array.isArray(o.items)) return 'kubectl';
  if (doc === undefined || /mapRoles|mapUsers/.test(text)) return 'aws-auth';
  if (o !== undefined && ('accessEntry' in o || 'accessEntries' in o || 'associatedAccessPolicies' in o || ('principalArn' in o && !('kind' in o)))) return 'access-entries';
  if (o !== undefined && ('association' in o || 'associations' in o || ('roleArn' in o && 'serviceAccount' in o && !('kind' in o)))) return 'pod-identity';
  return 'kubectl';
}

/** Applies one snapshot to `graph`; the facts it applied. */
export function seedGraph(graph: IdentityGraph, kind: SeedKind, text: string, doc: unknown, opts: { name: string; cluster?: string; account?: string; at?: string }): IdentityFact[] {
  switch (kind) {
    case 'aws-auth':
      return graph.seedFromAwsAuth(text, opts);
    case 'access-entries':
      return graph.seedFromAccessEntries(doc, opts);
    case 'pod-identity':
      return graph.seedFromPodIdentity(doc, opts);
    case 'kubectl':
      return graph.seedFromKubectl(doc, opts);
  }
}

/** JSON, else YAML (aws-auth is often kept as `-o yaml`); undefined when neither reads it. */
function parseSnapshot(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    try {
      return parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
}

const fail = (path: string, why: string, cause?: unknown): SeamError =>
  new SeamError('SEAM_ERR_SEED', `identity seed ${path} ${why}`, { ...(cause === undefined ? {} : { cause }), details: { path } });

/**
 * Reads the seed files in order into one scratch graph (a later file's aws-auth or binding group replaces an
 * earlier one's, as a later snapshot would) and returns the facts in the order they were applied. A file that cannot
 * be read, or whose kind needs a cluster none names, is an error naming it; one that yields no fact too (a wrong
 * file would otherwise seed nothing, silently), unless it is an empty list.
 */
export async function loadSeeds(seeds: readonly SeedConfig[], o: { cluster?: string; clusters?: readonly ClusterConfig[] } = {}): Promise<Seeds> {
  if (seeds.length === 0) return NO_SEEDS;
  const graph = new IdentityGraph({ clusters: [...(o.clusters ?? [])] });
  const out: Seeds = { facts: [], files: [] };
  for (const s of seeds) {
    let text: string;
    try {
      text = await readFile(s.path, 'utf8');
    } catch (e) {
      throw fail(s.path, `cannot be read (${(e as Error).message})`, e);
    }
    const doc = parseSnapshot(text);
    if (doc === undefined || doc === null || typeof doc !== 'object') throw fail(s.path, 'is neither JSON nor YAML holding an object or a list');
    const kind = s.kind ?? seedKindOf(text, doc);
    const cluster = s.cluster ?? o.cluster;
    if (cluster === undefined && (kind === 'aws-auth' || kind === 'kubectl')) throw fail(s.path, `(${kind}) names no cluster: give it one (identity.seeds[].cluster, --seed FILE=CLUSTER, or seam.yml cluster)`);
    const account = s.account ?? (cluster === undefined ? undefined : o.clusters?.find((c) => c.name === cluster)?.account);
    const name = s.path.split('/').pop() ?? s.path;
    const facts = seedGraph(graph, kind, text, doc, { name, ...(cluster === undefined ? {} : { cluster }), ...(account === undefined ? {} : { account }), ...(s.at === undefined ? {} : { at: s.at }) });
    if (facts.length === 0 && !emptyList(doc)) {
      const hint = kind === 'pod-identity' ? ' (list-pod-identity-associations output names no role: describe each association, docs/identity.md)' : kind === 'access-entries' ? ' (list-access-entries output names no cluster: give it one)' : '';
      throw fail(s.path, `(read as ${kind}) gave no identity fact${hint}`);
    }
    for (const f of facts) out.facts.push(f);
    out.files.push({ path: s.path, kind, cluster: cluster ?? facts.find((f) => f.cluster !== undefined)?.cluster ?? '', facts: facts.length });
  }
  return out;
}

/** `{"items": []}`, `{"accessEntries": []}`, `{"associations": []}`, `[]`: a cluster with none of these is a valid snapshot. */
function emptyList(doc: unknown): boolean {
  if (Array.isArray(doc)) return doc.length === 0;
  const o = doc as Record<string, unknown>;
  return ['items', 'accessEntries', 'associations'].some((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length === 0);
}
