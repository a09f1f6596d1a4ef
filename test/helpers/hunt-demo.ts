// What the integration tests that read the demo back from OpenSearch share (test/hunt/who, who-pivots, alert-pivot,
// test/report-before): `seam hunt` run in-process, and the demo story replayed as `npm start` does (embedded mode: the
// identity graph annotates every signal before it is indexed, ADR 0014), its events (and, when asked, its alerts)
// indexed through Seam's own sink with Seam's templates into the real local OpenSearch under a prefix of the test's own.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@opensearch-project/opensearch';
import { expect } from 'vitest';
import { huntCommand } from '../../src/cli/hunt.ts';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { alertDocVersion } from '../../src/pipeline/early.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import { setupOpenSearch } from '../../src/sinks/opensearch/setup.ts';
import { OpenSearchSink } from '../../src/sinks/opensearch/sink.ts';
import { DEMO_CLUSTER, DEMO_FILE, demoDetection } from '../order/demo.ts';
import { dropPrefix } from './opensearch-cleanup.ts';
import { opensearchUrl } from './services.ts';

export interface HuntRun {
  code: number;
  /** stdout, one parsed JSON line each. */
  lines: unknown[];
  /** stderr as written. */
  err: string;
  /** stdout as written. */
  out: string;
}

/**
 * `seam hunt` with these options, in-process: its exit code, its JSON lines and its stderr. The environment is
 * empty unless `env` is given, so no SEAM_* variable of the machine running the tests decides where it searches.
 */
export async function huntCli(args: Parameters<typeof huntCommand>[0]): Promise<HuntRun> {
  let out = '';
  let err = '';
  const code = await huntCommand({ env: {}, ...args }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), err, out };
}

export interface IndexedDemo {
  /** The demo's normalized, annotated events, as the embedded run wrote them (and the index holds them). */
  events: SeamEvent[];
  byId: Map<string, SeamEvent>;
  /** Every alert the run raised, each version, in the order raised (deep copies). */
  raised: Alert[];
  /** The embedded run's state folder (events.jsonl, alerts.jsonl, incidents). */
  stateDir: string;
}

/**
 * Replays the demo in embedded mode and indexes its events under `prefix` (templates set up first, every write
 * acked, the indices refreshed). With `alerts`, its alerts too, as the index role writes them
 * (src/pipeline/roles/indexer.ts): one document per alert id, versioned, so the index holds each id's last version.
 */
export async function indexDemo(os: Client, prefix: string, opts: { alerts?: boolean } = {}): Promise<IndexedDemo> {
  const raised: Alert[] = [];
  const stateDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const r = await runEmbedded({
    paths: [DEMO_FILE],
    stateDir,
    detection: await demoDetection(),
    maxRecordBytes: 1 << 20,
    cluster: DEMO_CLUSTER,
    onAlert: (a) => raised.push(JSON.parse(JSON.stringify(a)) as Alert),
  });
  const events = (await readFile(r.paths.events, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SeamEvent);
  const sink = new OpenSearchSink(os, { nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 1000, flushIntervalMs: 20 });
  await setupOpenSearch(os, { templates: sink.config, ism: 'skip' });
  const written = await sink.writeEvents(events);
  expect(written.filter((x) => x.status !== 'acked')).toEqual([]);
  if (opts.alerts === true) {
    const al = await sink.write(raised.map((a) => ({ ...sink.alertTarget(a), doc: a, version: alertDocVersion(a) })));
    expect(al.filter((x) => x.status !== 'acked')).toEqual([]);
  }
  await sink.close();
  await os.indices.refresh({ index: `${prefix}-*` });
  return { events, byId: new Map(events.map((e) => [e.seam.id, e])), raised, stateDir };
}

/** After the tests: everything indexed under `prefix` and its templates removed, the client closed. */
export async function dropDemo(os: Client, prefix: string): Promise<void> {
  await dropPrefix(os, prefix).catch(() => undefined);
  await os.close();
}
