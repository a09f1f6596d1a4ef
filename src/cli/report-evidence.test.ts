// `seam report incident --evidence DIR` (review-hunter M4): the incident's alerts and every event its page read,
// written as the stored records (raw fields and seam.*) in a folder the page can be drawn from again, with each file's
// sha256 on stderr. On the demo story, replayed as `npm start` does.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { loadPlaceholdersFile } from '../detect/load.ts';
import { loadDetection } from '../pipeline/detection.ts';
import { runEmbedded } from '../pipeline/embedded.ts';
import { neededEventIds } from '../report/incident-model.ts';
import { incidentsFromFolder } from '../report/incident-source.ts';
import { reportIncidentCommand } from './report.ts';

const ROOT = join(import.meta.dirname, '../..');
const ALICE = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';

const sink = (): { text: string; write(s: string): void } => ({
  text: '',
  write(s: string) {
    this.text += s;
  },
});
const lines = async <T>(file: string): Promise<T[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe('seam report incident --evidence', () => {
  let run: string;
  beforeAll(async () => {
    run = await mkdtemp(join(tmpdir(), 'seam-evidence-run-'));
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], placeholders: await loadPlaceholdersFile(join(ROOT, 'deploy/config/placeholders.yml')) });
    await runEmbedded({ paths: [join(ROOT, 'deploy/demo/eks-demo.jsonl')], stateDir: run, detection, maxRecordBytes: 1 << 20, cluster: 'prod-eks-01' });
  });

  it('writes the alerts and the stored events the page read, in time order, and the page can be drawn from them again', async () => {
    const ev = join(await mkdtemp(join(tmpdir(), 'seam-evidence-')), 'case');
    const out = sink();
    const err = sink();
    expect(await reportIncidentCommand({ id: ALICE, input: run, rules: [join(ROOT, 'detections')], out: join(ev, '..', 'page.html'), evidence: ev, env: {} }, out, err), err.text).toBe(0);

    const [inc] = (await incidentsFromFolder(run)).filter((i) => i.key === ALICE);
    const alerts = await lines<Alert>(join(ev, 'alerts.jsonl'));
    const events = await lines<SeamEvent>(join(ev, 'events.jsonl'));
    // Every alert of the incident, as the run wrote it.
    expect(alerts.map((a) => a.id).sort()).toEqual(inc!.alerts.map((a) => a.id).sort());
    // Every event the alerts and the chain name, each once, as stored: the raw record beside seam.*.
    const ids = events.map((e) => e.seam.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of neededEventIds(inc!)) expect(ids).toContain(id);
    const runEvents = new Map((await lines<SeamEvent>(join(run, 'events.jsonl'))).map((e) => [e.seam.id, e]));
    for (const e of events) expect(e).toEqual(runEvents.get(e.seam.id));
    expect(events.some((e) => e.eventName === 'AssumeRoleWithWebIdentity' && e.sourceIPAddress === '198.51.100.23')).toBe(true);
    const times = events.map((e) => e['@timestamp']);
    expect(times).toEqual([...times].sort());
    // The summary counts the events as the evidence file holds them, and says where those beyond the alerts' and the
    // chain's come from (it said 33 events where events.jsonl held 35: the hour before's rows; walkthrough, session 33).
    const said = new RegExp(`: ${inc!.alerts.length} alerts, (\\d+) events read \\((\\d+) the alerts and the chain name, (\\d+) more from the hour before the first alert\\)`).exec(err.text);
    expect(said, err.text).not.toBeNull();
    const [total, named, before] = said!.slice(1).map(Number) as [number, number, number];
    expect(total).toBe(events.length);
    expect(err.text).toContain(`events.jsonl (${events.length} events)`);
    expect(named + before).toBe(total);
    const beforeIds = new Set(events.filter((e) => e['@timestamp'] < inc!.start).map((e) => e.seam.id));
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(beforeIds.size);
    // The sha256 said is the file's.
    for (const f of ['alerts.jsonl', 'events.jsonl']) {
      const digest = createHash('sha256').update(await readFile(join(ev, f))).digest('hex');
      expect(err.text).toContain(`${join(ev, f)} (`);
      expect(err.text).toContain(`sha256 ${digest}`);
    }
    // Drawn again from the evidence folder alone: the same incident, alerts and events.
    const again = sink();
    expect(await reportIncidentCommand({ id: inc!.id, input: ev, rules: [join(ROOT, 'detections')], out: join(ev, '..', 'again.html'), env: {} }, sink(), again), again.text).toBe(0);
    const summary = (t: string): string => t.split('\n').find((l) => l.startsWith(`seam report incident: ${inc!.id}`))!;
    expect(summary(again.text)).toBe(summary(err.text));
  });

  it("writes the hour before's rows left out too: a page drawn again from the evidence counts what the first counted", async () => {
    // ci-deployer's incident: alice's 29 events in the hour before its first alert, the newest 15 shown. The evidence
    // held only the 15 shown, so the page drawn from it said 15 (session 33).
    const [inc] = (await incidentsFromFolder(run)).filter((i) => i.key.endsWith(':role/ci-deployer'));
    const dir = await mkdtemp(join(tmpdir(), 'seam-evidence-before-'));
    const counts = async (from: string, page: string, evidence?: string): Promise<string[]> => {
      const err = sink();
      expect(await reportIncidentCommand({ id: inc!.id, input: from, rules: [join(ROOT, 'detections')], out: join(dir, page), ...(evidence ? { evidence } : {}), env: {} }, sink(), err), err.text).toBe(0);
      return [...(await readFile(join(dir, page), 'utf8')).matchAll(/class="before-count" data-total="(\d+)" data-shown="(\d+)"/g)].map((m) => `${m[1]}/${m[2]}`);
    };
    const first = await counts(run, 'first.html', join(dir, 'case'));
    expect(first.some((c) => Number(c.split('/')[0]) > Number(c.split('/')[1])), first.join(' ')).toBe(true); // some rows were left out
    expect(await counts(join(dir, 'case'), 'again.html')).toEqual(first);
  });
});

describe('incident page on the demo: Before the first alert', () => {
  it("names the chain's identities apart: the workload's routine calls at 14:02 are not filed as alice's (review-hunter L1)", async () => {
    const run = await mkdtemp(join(tmpdir(), 'seam-before-chain-'));
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], placeholders: await loadPlaceholdersFile(join(ROOT, 'deploy/config/placeholders.yml')) });
    await runEmbedded({ paths: [join(ROOT, 'deploy/demo/eks-demo.jsonl')], stateDir: run, detection, maxRecordBytes: 1 << 20, cluster: 'prod-eks-01' });
    const file = join(run, 'alice.html');
    expect(await reportIncidentCommand({ id: ALICE, input: run, rules: [join(ROOT, 'detections')], out: file, env: {} }, sink(), sink())).toBe(0);
    const section = /<section id="before">[\s\S]*?<\/section>/.exec(await readFile(file, 'utf8'))?.[0] ?? '';
    const subject = /<div class="before-subject" data-role="incident"[\s\S]*?<\/div>/.exec(section)?.[0] ?? '';
    // The subject lists the pod's own token exchange and secret read from 10.0.142.21, made before alice's exec …
    expect(subject).toContain('sts:AssumeRoleWithWebIdentity');
    expect(subject).toContain('10.0.142.21');
    // … and says whose they are: the service account and the workload's own session, not alice.
    const note = /<p class="before-via before-chain">([^<]*)<\/p>/.exec(subject)?.[1] ?? '';
    expect(note).toContain('sa payments/api');
    expect(note).toContain('role/payments-api-irsa (botocore-session-1730815320)');
    expect(note).not.toContain('alice');
    expect(section).toContain("what this incident's identity and the identities of its chain did");
  });
});
