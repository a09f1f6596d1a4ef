// `seam identity explain --from kafka` asks the live graph: the demo story runs through the Kafka pipeline (its own
// topic prefix), the correlate role publishes its graph to seam.identity, and explain reads it back with the role's
// restore. For the same records it must print what explaining the replayed demo file prints, less the lines about the
// target's own calls and requests (the topic holds facts, not events: docs/identity.md). Real Kafka.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityExplainOptions } from '../../src/cli/identity.ts';
import type { KafkaConfig } from '../../src/core/config/schema.ts';
import { kafkaBrokers } from '../helpers/services.ts';
import { EVENT_LINE, explainIn, kafkaOf } from './explain-run.ts';
import { DEMO_CLUSTER, DEMO_FILE, demoRecords } from '../order/demo.ts';
import { pipeline, type Pipeline } from '../pipeline/harness.ts';

const explain = (target: string, o: IdentityExplainOptions): ReturnType<typeof explainIn> => explainIn(DEMO_CLUSTER, target, o);

describe('seam identity explain --from kafka', () => {
  let p: Pipeline;
  let kafka: KafkaConfig;
  beforeAll(async () => {
    p = await pipeline('explain');
    kafka = kafkaOf({ SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${p.id}.` });
    const records = (await demoRecords()).map((r) => ({ text: r.text, source: r.source, cluster: DEMO_CLUSTER }));
    await p.produce(records);
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.drain();
    for (const r of roles) await r.stop();
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it.each([
    ['an IAM role aws-auth maps into system:masters', 'arn:aws:iam::111122223333:role/ci-deployer'],
    ['an access-entry principal (cluster admin by access policy), also an IRSA role', 'arn:aws:iam::111122223333:role/payments-api-irsa'],
    ['a service account with IRSA web identity sessions, a pod and an exec into it', 'payments/api'],
    ['the Kubernetes user aws-auth maps ci-deployer to', 'ci-deployer'],
  ])('%s: the same as explaining the replayed demo, less the lines of its own events', async (_what, target) => {
    const file = await explain(target, { input: [DEMO_FILE] });
    const started = Date.now();
    const live = await explain(target, { from: 'kafka', kafka });
    const ms = Date.now() - started;
    expect(file.code).toBe(0);
    expect(live.code, live.err).toBe(0);
    const read = /^read (\d+) records from (\d+) partitions of (\S+) in \d+ ms; graph: (\d+) edges$/m.exec(live.err);
    expect(read, live.err).not.toBeNull();
    const [, records, partitions, topic, edges] = read!;
    expect(topic).toBe(p.topics.identity);
    expect(Number(partitions)).toBe(2); // every signals partition's identity partition, whichever holds the target
    expect(Number(records)).toBeGreaterThan(0);
    const fileEdges = /graph: (\d+) edges/.exec(file.out)![1];
    process.stdout.write(`explain --from kafka ${target}: records=${records} partitions=${partitions} edges=${edges} (file replay: ${fileEdges}) ms=${ms}\n`);

    // The file's explanation after its "replayed …" line; the live one after its blank line.
    const body = file.out.split('\n').slice(2);
    const eventLines = body.filter((l) => EVENT_LINE.test(l));
    expect(live.out.split('\n').slice(1)).toEqual(body.filter((l) => !EVENT_LINE.test(l)));
    expect(live.out).toContain(target.startsWith('arn:') ? `IAM principal ${target}` : target.includes('/') ? `Service account ${target} in ${DEMO_CLUSTER}` : `Kubernetes user ${target} in ${DEMO_CLUSTER}`);
    process.stdout.write(`  ${body.length - eventLines.length} lines the same, ${eventLines.length} event lines only in the file replay\n`);
  });

  it("seam.yml's identity.seeds apply from Kafka as from files, without --seed (the correlate role applies them; they are not on the topic)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-explain-kafka-seeds-'));
    const role = 'arn:aws:iam::111122223333:role/ReadOnlyAuditor';
    writeFileSync(
      join(dir, 'entry.json'),
      JSON.stringify({ accessEntry: { clusterName: DEMO_CLUSTER, principalArn: role, kubernetesGroups: ['auditors'], type: 'STANDARD', username: `${role}/{{SessionName}}` } }),
    );
    writeFileSync(join(dir, 'seam.yml'), `cluster: ${DEMO_CLUSTER}\nidentity:\n  seeds:\n    - { path: entry.json }\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, SEAM_LOG_LEVEL: 'error', SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${p.id}.` };
    delete env.SEAM_CONFIG;
    const cli = (args: string[]): { status: number | null; out: string; err: string } => {
      const r = spawnSync(process.execPath, [resolve(import.meta.dirname, '../../bin/seam.mjs'), 'identity', 'explain', role, '--config', join(dir, 'seam.yml'), ...args], { encoding: 'utf8', env });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    const live = cli(['--from', 'kafka']);
    expect(live.status, live.err).toBe(0);
    const seedLine = `seed: 1 facts from access entries ${join(dir, 'entry.json')} (cluster ${DEMO_CLUSTER})`;
    expect(live.out).toContain(seedLine);
    expect(live.out).toContain(`in ${DEMO_CLUSTER}: user ${role}/{{SessionName}}; groups auditors`);
    // The same explanation as the file replay with the same seam.yml: the seed line, then (after the file's "replayed …"
    // line and the topic read's blank line) the same body.
    const file = cli(['--input', DEMO_FILE]);
    expect(file.status, file.err).toBe(0);
    const [fileSeed, , ...fileBody] = file.out.split('\n');
    const [liveSeed, , ...liveBody] = live.out.split('\n');
    expect([liveSeed, fileSeed]).toEqual([seedLine, seedLine]);
    expect(liveBody).toEqual(fileBody.slice(1).filter((l) => !EVENT_LINE.test(l)));
  });

  it('says a target the graph does not hold is not in it: exit 1, as for files', async () => {
    const live = await explain('payments/apii', { from: 'kafka', kafka });
    expect(live.code).toBe(1);
    expect(live.out).toContain(`payments/apii is not in the identity graph on ${p.topics.identity}.`);
  });

  it('a topic prefix no pipeline uses: exit 3, naming the topic', async () => {
    const live = await explain('payments/api', { from: 'kafka', kafka: kafkaOf({ SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${p.id}-nothing.` }) });
    expect(live.code).toBe(3);
    expect(live.err).toContain(`SEAM_ERR_BUS_TOPIC: Kafka ${kafkaBrokers().join(',')} has no topic ${p.id}-nothing.seam.identity`);
    expect(live.out).toBe('');
  });

  it('Kafka that does not answer: exit 3, SEAM_ERR_BUS_CONNECT naming the brokers', async () => {
    const live = await explain('payments/api', { from: 'kafka', kafka: kafkaOf({ SEAM_KAFKA_BROKERS: '127.0.0.1:1' }), kafkaOrigin: 'SEAM_KAFKA_BROKERS' });
    expect(live.code).toBe(3);
    expect(live.err).toContain('SEAM_ERR_BUS_CONNECT: cannot connect to Kafka 127.0.0.1:1');
    expect(live.err).toContain('(from SEAM_KAFKA_BROKERS)');
  });
});
