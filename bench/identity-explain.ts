/**
 * What `seam identity explain TARGET --from kafka` costs on a large `seam.identity` topic: it reads every partition
 * from its start to its end and restores all of them into one graph (src/cli/identity-kafka.ts), and every version
 * ever published stays on the topic, closed ones included. This bench fills a private topic with the records the
 * correlate role would publish, and times the CLI on it.
 *
 *   1. a story of CloudTrail records over 6 accounts (2 per signals partition): IAM users assume roles of their
 *      account again and again (session names reused, so a session's versions close and reopen; a new access key per
 *      assumption), roles are given EKS access entries that are updated (the previous version closes) and deleted
 *      (retracted), and pods' service accounts take IRSA web identity sessions. Each record is normalized and observed
 *      by the graph of its signals partition (`signalKey`, `kafkaPartition`, as the normalize role keys it), whose
 *      `IdentityPublisher` turns the changed versions into `seam.identity` messages every 100 signals (a batch), until
 *      there are `records` of them;
 *   2. the messages go to `<run>.seam.identity` (3 partitions, the topic's own config: compacted) on the local Kafka;
 *      the story's records go to a JSONL file;
 *   3. `node bin/seam.mjs identity explain <a role of account 0> --from kafka` runs under /usr/bin/time -v, as a user
 *      runs it: its own `read … in N ms` line (read_ms: connect, read to the end, restore), the wall time and the peak
 *      RSS; then the same with `--input <the JSONL>` (replaying the events the records came from: replay_ms is the
 *      whole command).
 * Topics are this run's and deleted at the end.
 *
 *   npm run bench:identity-explain [-- records=10000,100000,300000] [prof=DIR: --cpu-prof of the --from kafka run]
 *
 * One line per size: `identity-explain: records=<n> events=<story records> read_ms=<n> records_per_s=<n>
 * kafka_wall_s=<n> kafka_rss_mb=<n> edges=<graph versions> file_wall_s=<n> file_rss_mb=<n> load=<1-min avg>`
 * (the machine is shared: compare runs at a similar load).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../src/bus/kafka.ts';
import { kafkaPartition } from '../src/bus/partition.ts';
import type { BusMessage } from '../src/bus/types.ts';
import { normalizeRecord } from '../src/core/normalize/normalize.ts';
import { IdentityGraph } from '../src/identity/graph.ts';
import { IdentityPublisher } from '../src/pipeline/identity-topic.ts';
import { signalKey } from '../src/pipeline/signal.ts';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';

const arg = (k: string, d: string): string => process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d;
const SIZES = arg('records', '10000,100000,300000').split(',').map(Number);
const PROF = arg('prof', '');
const PARTITIONS = 3;
const ROOT = join(import.meta.dirname, '..');
const BROKERS = (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const RUN = `bench-idexplain-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
/** Two accounts per signals partition (kafkaPartition of the account, 3 partitions: 0 0 1 1 2 2). */
const ACCOUNTS = ['111122223333', '444455556666', '210987654321', '555566667777', '777788889999', '123456789012'];
const USERS = 3000;
const ROLES = 600;
const SERVICE_ACCOUNTS = 400;
const say = (s: string): boolean => process.stdout.write(`${s}\n`);
const load = (): string => loadavg()[0]!.toFixed(2);

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const key = (prefix: string, n: number): string => (prefix + pad(n, 20 - prefix.length)).toUpperCase().slice(0, 20);

/** The i-th record of the story, at `at`. */
function record(i: number, at: number): Record<string, unknown> {
  const a = i % ACCOUNTS.length;
  const acct = ACCOUNTS[a]!;
  const u = (i * 7919) % USERS;
  const r = (i * 104_729) % ROLES;
  const roleArn = `arn:aws:iam::${acct}:role/role-${r}`;
  const cluster = `eks-${a}`;
  const time = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
  const base = { eventVersion: '1.09', eventTime: time, awsRegion: 'us-west-2', requestID: `req-${i}`, eventID: `evt-${pad(i, 12)}`, eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: acct, eventCategory: 'Management', readOnly: false };
  const user = { type: 'IAMUser', principalId: key('AIDA', u), arn: `arn:aws:iam::${acct}:user/user-${u}`, accountId: acct, accessKeyId: key('AKIA', u), userName: `user-${u}` };
  const kind = i % 20;
  if (kind < 15) {
    // An assumption: session names reused (4 per user and role), a new key each time.
    const name = `user-${u}-${i % 4}`;
    const sessionArn = `arn:aws:sts::${acct}:assumed-role/role-${r}/${name}`;
    return {
      ...base,
      userIdentity: user,
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      sourceIPAddress: `203.0.113.${u % 250}`,
      userAgent: 'aws-cli/2.18.0 md/command#sts.assume-role',
      requestParameters: { roleArn, roleSessionName: name, durationSeconds: 3600 },
      responseElements: { credentials: { accessKeyId: key('ASIA', i), sessionToken: 'IQoJb3JpZ2luX2VjEFIXTUREbenchNotReal', expiration: new Date(at + 3600_000).toUTCString() }, assumedRoleUser: { assumedRoleId: `${key('AROA', r)}:${name}`, arn: sessionArn } },
    };
  }
  const admin = { type: 'AssumedRole', principalId: `${key('AROA', 9999)}:ops`, arn: `arn:aws:sts::${acct}:assumed-role/platform-admin/ops`, accountId: acct, accessKeyId: key('ASIAOPS', a), sessionContext: { sessionIssuer: { type: 'Role', principalId: key('AROA', 9999), arn: `arn:aws:iam::${acct}:role/platform-admin`, accountId: acct, userName: 'platform-admin' }, attributes: { creationDate: time, mfaAuthenticated: 'true' } } };
  const eks = { ...base, userIdentity: admin, eventSource: 'eks.amazonaws.com', sourceIPAddress: '203.0.113.9', userAgent: 'aws-cli/2.18.0 md/command#eks' };
  if (kind < 18) {
    // An access entry for the role, its groups changing (the previous version closes).
    const groups = [`team-${i % 7}`];
    return { ...eks, eventName: kind === 15 ? 'CreateAccessEntry' : 'UpdateAccessEntry', requestParameters: { name: cluster, principalArn: roleArn, kubernetesGroups: groups }, responseElements: { accessEntry: { clusterName: cluster, principalArn: roleArn, kubernetesGroups: groups, type: 'STANDARD', username: `arn:aws:sts::${acct}:assumed-role/role-${r}/{{SessionName}}` } } };
  }
  if (kind === 18) return { ...eks, eventName: 'DeleteAccessEntry', requestParameters: { name: cluster, principalArn: roleArn } };
  // A pod's SDK exchanging its service account token for its IRSA role.
  const s = (i * 31) % SERVICE_ACCOUNTS;
  const subject = `system:serviceaccount:ns-${s % 40}:sa-${s}`;
  const provider = `arn:aws:iam::${acct}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/BENCH${pad(a, 27)}`;
  const name = `botocore-session-${i}`;
  return {
    ...base,
    userIdentity: { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider },
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoleWithWebIdentity',
    sourceIPAddress: '52.94.133.131',
    userAgent: 'Boto3/1.35.54',
    requestParameters: { roleArn: `arn:aws:iam::${acct}:role/irsa-${s}`, roleSessionName: name, durationSeconds: 3600 },
    responseElements: {
      credentials: { accessKeyId: key('ASIAW', i), sessionToken: 'IQoJb3JpZ2luX2VjEFIXTUREbenchNotReal', expiration: new Date(at + 3600_000).toUTCString() },
      subjectFromWebIdentityToken: subject,
      assumedRoleUser: { assumedRoleId: `AROAIRSA:${name}`, arn: `arn:aws:sts::${acct}:assumed-role/irsa-${s}/${name}` },
      provider,
      audience: 'sts.amazonaws.com',
    },
  };
}

/** The story until its partitions' publishers have sent `n` records: the records (JSONL lines) and the messages per partition. */
function story(n: number, topic: string): { lines: string[]; messages: BusMessage[][]; closed: number } {
  const parts = Array.from({ length: PARTITIONS }, (_, p) => {
    const graph = new IdentityGraph();
    return { graph, pub: new IdentityPublisher(graph, topic, p), offset: 0 };
  });
  const messages: BusMessage[][] = parts.map(() => []);
  const lines: string[] = [];
  let sent = 0;
  // One record every 5 s, from n records' time before now (a story record publishes 2 to 3.5 identity records, so the
  // story ends days before now: no event time is past the wall clock).
  const perRecord = 5_000;
  const start = Date.now() - n * perRecord;
  for (let i = 0; sent < n; i++) {
    const at = start + i * perRecord;
    const raw = record(i, at);
    const text = JSON.stringify(raw);
    lines.push(text);
    const e = normalizeRecord(raw, { collector: 'bench', receivedAt: new Date(at).toISOString() });
    if (!e.ok) throw new Error(`bench record does not normalize: ${e.error.message}`);
    const p = kafkaPartition(signalKey(e.value), PARTITIONS);
    const part = parts[p]!;
    part.pub.note(part.graph.observe(e.value), { offset: String(part.offset++), timestampMs: at });
    if (i % 100 === 99) {
      for (const [q, x] of parts.entries()) {
        const out = x.pub.messages();
        messages[q]!.push(...out);
        sent += out.length;
      }
    }
  }
  let closed = 0;
  for (const list of messages) for (const m of list) if ((JSON.parse(m.value.toString('utf8')) as { doc: { valid_to?: string } }).doc.valid_to !== undefined) closed++;
  return { lines, messages, closed };
}

interface Run {
  wallS: number;
  rssMb: number;
  stdout: string;
  stderr: string;
}

function timed(args: string[], env: NodeJS.ProcessEnv): Run {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || rss === null || wall === null) throw new Error(`seam ${args.slice(1).join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wallS: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]), rssMb: Number(rss[1]) / 1024, stdout: r.stdout, stderr: r.stderr };
}

async function main(): Promise<void> {
  const bus = new KafkaBus({ brokers: BROKERS, clientId: `${RUN}-admin` });
  const admin = await bus.admin();
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-idexplain-'));
  const created: string[] = [];
  const target = `arn:aws:iam::${ACCOUNTS[0]}:role/role-0`;
  try {
    for (const n of SIZES) {
      const prefix = `${RUN}-${n}.`;
      const plan = topicPlan(pipelineTopics(prefix), { signals: PARTITIONS }).filter((t) => t.topic.endsWith('seam.identity'));
      const topic = plan[0]!.topic;
      let t0 = Date.now();
      const s = story(n, topic);
      const records = s.messages.reduce((k, l) => k + l.length, 0);
      say(`story: ${s.lines.length} CloudTrail records -> ${records} identity records (${s.closed} closed versions) by partition ${s.messages.map((l) => l.length).join('/')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await bus.createTopics(plan);
      created.push(topic);
      t0 = Date.now();
      const producer = await bus.producer();
      for (const list of s.messages) for (let i = 0; i < list.length; i += 1000) await producer.send(list.slice(i, i + 1000));
      await producer.close();
      const bytes = s.messages.reduce((k, l) => k + l.reduce((b, m) => b + m.value.length, 0), 0);
      say(`produced ${records} records (${(bytes / 1e6).toFixed(1)} MB) to ${topic} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const file = join(dir, `story-${n}.jsonl`);
      writeFileSync(file, s.lines.join('\n') + '\n');

      const env: NodeJS.ProcessEnv = { ...process.env, SEAM_KAFKA_BROKERS: BROKERS.join(','), SEAM_TOPIC_PREFIX: prefix, SEAM_LOG_LEVEL: 'error' };
      delete env.SEAM_CONFIG;
      const seam = join(ROOT, 'bin/seam.mjs');
      const prof = PROF === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROF}`, `--cpu-prof-name=explain-kafka-${n}.cpuprofile`];
      const live = timed([...prof, seam, 'identity', 'explain', target, '--from', 'kafka'], env);
      const read = /^read (\d+) records from \d+ partitions? of \S+ in (\d+) ms; graph: (\d+) edges$/m.exec(live.stderr);
      if (read === null) throw new Error(`no read line: ${live.stderr.slice(0, 2000)}`);
      const [, got, ms, edges] = read;
      const fromFile = timed([seam, 'identity', 'explain', target, '--input', file], env);
      // The replay prunes every identity.pruneEveryEvents (4096) events, the restore at the end of each partition: the
      // replay may still hold versions closed more than identity.retentionMs before its last event that the restore
      // dropped. Replayed again pruning once, after its last event, it holds what the restore holds.
      const yml = join(dir, 'seam.yml');
      writeFileSync(yml, `identity:\n  pruneEveryEvents: ${s.lines.length}\n`);
      const fromFilePruned = timed([seam, 'identity', 'explain', target, '--input', file, '--config', yml], env);
      const replayed = /^replayed (\d+) events.*; graph: (\d+) edges$/m.exec(fromFile.stdout);
      // The same explanation less the lines of the target's own events (test/identity/explain-kafka.test.ts's EVENT_LINE).
      const eventLine = /^( {4}last call | {2}acted in \d+ events? | {2}session \S+ — \d+ Kubernetes requests?)/;
      const sameAs = (r: Run): boolean => live.stdout.split('\n').slice(1).join('\n') === r.stdout.split('\n').slice(2).filter((l) => !eventLine.test(l)).join('\n');
      const same = sameAs(fromFile);
      const samePruned = sameAs(fromFilePruned);
      if (!samePruned && arg('show', '') !== '') say(`--- from kafka:\n${live.stdout}--- from the file, pruned once at its end:\n${fromFilePruned.stdout}---`);
      say(`  explain ${target}: kafka ${live.stdout.split('\n').length} lines, file ${fromFile.stdout.split('\n').length} lines (the same less event lines: ${same ? 'yes' : 'no'}; pruned once at the end as the restore is: ${samePruned ? 'yes' : 'NO'}); file replay graph ${replayed?.[2] ?? '?'} edges`);
      say(
        `identity-explain: records=${got} events=${s.lines.length} read_ms=${ms} records_per_s=${Math.round(Number(got) / (Number(ms) / 1000))} kafka_wall_s=${live.wallS.toFixed(1)} kafka_rss_mb=${live.rssMb.toFixed(0)} edges=${edges} file_wall_s=${fromFile.wallS.toFixed(1)} file_rss_mb=${fromFile.rssMb.toFixed(0)} load=${load()}`,
      );
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      created.pop();
      rmSync(file, { force: true });
    }
  } finally {
    if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await bus.close();
  }
}

await main();
