// The demo story as the event-time order tests use it: its records, the rules with the demo's
// placeholders, and the reference alert set — embedded mode (`npm start`) over the demo file.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeamEvent, SourceType } from '../../src/core/envelope.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadPlaceholdersFile } from '../../src/detect/load.ts';
import { loadDetection, type Detection } from '../../src/pipeline/detection.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import type { IncidentDoc } from '../../src/pipeline/incident-topic.ts';
import { rawHeaders } from '../../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../../src/sources/cloudwatch-logs/parse.ts';

const ROOT = join(import.meta.dirname, '../..');
export const DEMO_FILE = join(ROOT, 'deploy/demo/eks-demo.jsonl');
export const DEMO_CLUSTER = 'prod-eks-01';
/** Who the demo story's attack is: the IAM session that exec'd into the payments pod and stole its IRSA token. */
export const DEMO_ATTACKER = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';

export interface DemoRecord {
  text: string;
  source: SourceType;
  /** Event time (ms), as normalization reads it. */
  t: number;
}

export async function demoRecords(): Promise<DemoRecord[]> {
  const lines = (await readFile(DEMO_FILE, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  return lines.map((text) => {
    const source = detectSource(text);
    const n = normalizeLine(text, { collector: 'test', receivedAt: new Date().toISOString(), cluster: DEMO_CLUSTER });
    if (source === undefined || !n.ok) throw new Error(`demo record not readable: ${text.slice(0, 80)}`);
    return { text, source, t: Date.parse(n.value['@timestamp']) };
  });
}

/** Raw headers as the file collector writes them for the demo (`seam collect` with `cluster: prod-eks-01`). */
export const demoHeaders = (r: DemoRecord, origin: string): Record<string, string> =>
  rawHeaders({ collector: 'file', receivedAt: new Date().toISOString(), source: r.source, cluster: DEMO_CLUSTER, origin });

export const demoDetection = async (): Promise<Detection> =>
  loadDetection({ rules: [join(ROOT, 'detections')], placeholders: await loadPlaceholdersFile(join(ROOT, 'deploy/config/placeholders.yml')) });

/** An alert as the comparison sees it: its rule and its contributing events (what the id is made of). */
export const alertKey = (a: Pick<Alert, 'rule' | 'events'>): string => `${a.rule.id} ${a.events.join(',')}`;

/** The reference: alert key → title, from embedded mode over the demo file (as `npm start` runs it). */
export async function embeddedReference(detection: Detection): Promise<Map<string, string>> {
  return (await embeddedRun(detection)).alerts;
}

/**
 * Embedded mode over the demo file (as `npm start` runs it): the alert reference, and the identity
 * each indexed event carries (`seam.id` → `identityOf`, from `events.jsonl`, ADR 0014).
 */
export async function embeddedRun(detection: Detection): Promise<{ alerts: Map<string, string>; docs: Map<string, Alert>; identity: Map<string, string>; incidents: Map<string, IncidentDoc> }> {
  const alerts: Alert[] = [];
  const r = await runEmbedded({ paths: [DEMO_FILE], stateDir: await mkdtemp(join(tmpdir(), 'seam-order-ref-')), detection, maxRecordBytes: 1 << 20, cluster: DEMO_CLUSTER, onAlert: (a) => alerts.push(a) });
  const identity = new Map<string, string>();
  for (const line of (await readFile(r.paths.events, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as SeamEvent;
    identity.set(e.seam.id, identityOf(e));
  }
  const incidents = new Map<string, IncidentDoc>();
  for (const line of (await readFile(r.paths.incidents, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const d = JSON.parse(line) as IncidentDoc;
    incidents.set(d.id, d);
  }
  // docs: each alert as embedded mode raises it, by id (what every final alert document must equal, ADR 0025).
  return { alerts: new Map(alerts.map((a) => [alertKey(a), a.rule.title])), docs: new Map(alerts.map((a) => [a.id, JSON.parse(JSON.stringify(a)) as Alert])), identity, incidents };
}

/** JSON with object keys sorted, so the same value compares equal however it was serialized. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Who an indexed event says acted: its principal, chain and origin, as one comparable string. */
export const identityOf = (e: Pick<SeamEvent, 'seam'>): string => canonical({ principal: e.seam.principal ?? null, chain: e.seam.chain ?? null, origin: e.seam.origin ?? null });

/**
 * Events of the reference a run did not index, and events whose indexed identity differs from the
 * reference's (`got`: `seam.id` → `identityOf`, the last copy of an id as the index keeps it).
 */
export function compareIdentity(reference: Map<string, string>, got: Map<string, string>): { missing: string[]; differ: string[]; chained: number } {
  const missing: string[] = [];
  const differ: string[] = [];
  let chained = 0;
  for (const [id, want] of reference) {
    const have = got.get(id);
    if (have === undefined) missing.push(id);
    else if (have !== want) differ.push(`${id}: want ${want.slice(0, 200)} got ${have.slice(0, 200)}`);
    else if (!have.includes('"chain":null')) chained++;
  }
  return { missing, differ, chained };
}

/** Reference alerts a run did not raise, and alerts it raised that the reference has not (by rule and events). */
export function compare(reference: Map<string, string>, got: Iterable<Pick<Alert, 'rule' | 'events'>>): { missing: string[]; extra: string[] } {
  const keys = new Set<string>();
  const extra: string[] = [];
  for (const a of got) {
    const k = alertKey(a);
    if (keys.has(k)) continue;
    keys.add(k);
    if (!reference.has(k)) extra.push(`${a.rule.id} (${k.slice(k.indexOf(' ') + 1, 80)})`);
  }
  const missing = [...reference].filter(([k]) => !keys.has(k)).map(([, title]) => title);
  return { missing, extra };
}

/** The cross-plane alerts issue 10 found lost on Kafka: the reference must hold them. */
export const SIGNATURE_TITLES = [
  'Exec into a pod followed by that pod’s role calling AWS',
  'EKS Access Entry Created Then Granted Cluster Admin',
  'First use of a new EKS access grant',
  'First use of a new aws-auth mapping',
  'GuardDuty finding with identity chain and surrounding activity',
];
