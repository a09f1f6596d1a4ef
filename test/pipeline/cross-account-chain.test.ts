// Review-platsec M7: on Kafka with several signals partitions, a role chain that crosses accounts resolves only
// when both accounts' signals land on one correlate partition (ADR 0056). The chain of ./cross-account-chain.ts
// (alice execs into an IRSA pod in account A, its session assumes a role of B, the B session reads a secret) on a
// real Kafka with 3 signals partitions, A and B on different ones, against embedded mode over the same records:
// without identity.accountGroups the B call loses its chain (no seam-native-exec-then-aws on it) and the normalize
// role counts the split; with A and B in one group Kafka raises exactly the embedded alerts, with the same origin.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.ts';
import { kafkaPartition } from '../../src/bus/partition.ts';
import { alertVersion } from '../../src/pipeline/early.ts';
import { loadDetection, type Detection } from '../../src/pipeline/detection.ts';
import { ACCOUNT_A, ACCOUNT_B_CANDIDATES, crossAccountChain } from './cross-account-chain.ts';
import { embeddedAlertList, pipeline, type Pipeline, type RawRecord } from './harness.ts';

const ROOT = join(import.meta.dirname, '../..');
const PARTITIONS = { raw: 3, events: 3, signals: 3, alerts: 2, dlq: 1 };

/** What an alert says about who acted: compared between embedded and Kafka. */
function view(a: Alert): string {
  return `${a.rule.id} ${a.id} origin=${a.origin?.id ?? '-'} principal=${a.principal?.id ?? '-'}`;
}

describe('a role chain across two accounts on a multi-partition Kafka (ADR 0056)', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.cleanup();
    p = undefined;
  });

  /** Runs the chain through normalize → correlate → index on Kafka; the final alerts on the topic, and the normalize role's stats. */
  const onKafka = async (name: string, detection: Detection, records: RawRecord[]): Promise<{ alerts: Alert[]; split: number; partitions: [number, number] }> => {
    p = await pipeline(name, PARTITIONS, undefined, { detection });
    const normalize = p.normalize();
    const correlate = p.correlate();
    const index = p.index();
    for (const r of [normalize, correlate, index]) await r.start();
    await p.produce(records);
    await p.drain();
    const finals = new Map<string, Alert>();
    await p.admin.readToEnd([p.topics.alerts], (m) => {
      const a = JSON.parse(m.value.toString('utf8')) as Alert;
      if (alertVersion(a) === 'final') finals.set(a.id, a);
    });
    const key = (acct: string): number => kafkaPartition(detection.accountGroups.get(acct) ?? acct, PARTITIONS.signals);
    const s = normalize.stats() as { splitChains?: number };
    return { alerts: [...finals.values()], split: s.splitChains ?? 0, partitions: [key(ACCOUNT_A), key(b)] };
  };

  // B: an account whose signals land on another partition than A's (the precondition of the defect).
  const b = ACCOUNT_B_CANDIDATES.find((x) => kafkaPartition(x, PARTITIONS.signals) !== kafkaPartition(ACCOUNT_A, PARTITIONS.signals))!;
  // Built once: the record builders number their ids from a counter, and both modes must read the same records.
  const built: RawRecord[] = crossAccountChain(b).map((r) => ({ text: JSON.stringify(r.raw), source: r.source, ...(r.cluster ? { cluster: r.cluster } : {}), ...(r.account ? { account: r.account } : {}) }));
  const records = (): RawRecord[] => built;

  it('without accountGroups: the B call loses its chain to the exec, and the normalize role counts the split', async () => {
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], identity: {}, native: {} });
    expect(b).toBeDefined();
    const embedded = await embeddedAlertList(detection, records());
    const kafka = await onKafka('xacct-split', detection, records());
    process.stdout.write(`cross-account split: A=${ACCOUNT_A} B=${b} partitions=${kafka.partitions.join('/')} embedded_alerts=${embedded.length} kafka_alerts=${kafka.alerts.length} split_chains=${kafka.split}\n`);
    for (const a of embedded) process.stdout.write(`  embedded ${view(a)}\n`);
    for (const a of kafka.alerts) process.stdout.write(`  kafka    ${view(a)}\n`);
    expect(kafka.partitions[0]).not.toBe(kafka.partitions[1]);
    // Embedded resolves the B session's secret read down to alice's exec: two exec-then-aws alerts (the AssumeRole in A, the read in B).
    const execThenAws = (as: Alert[]): Alert[] => as.filter((a) => a.rule.id === 'seam-native-exec-then-aws');
    expect(execThenAws(embedded)).toHaveLength(2);
    expect(execThenAws(embedded).map((a) => a.account).sort()).toEqual([ACCOUNT_A, b].sort());
    // Kafka, A and B apart: only the one in A.
    expect(execThenAws(kafka.alerts).map((a) => a.account)).toEqual([ACCOUNT_A]);
    // The normalize role saw the AssumeRole from A into B (both copies) cross partitions.
    expect(kafka.split).toBe(2);
  });

  it('with A and B in one account group: Kafka raises exactly the embedded alerts, with the same origins', async () => {
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], identity: { accountGroups: [[ACCOUNT_A, b]] }, native: {} });
    const embedded = await embeddedAlertList(detection, records());
    const kafka = await onKafka('xacct-grouped', detection, records());
    process.stdout.write(`cross-account grouped: A=${ACCOUNT_A} B=${b} partitions=${kafka.partitions.join('/')} embedded_alerts=${embedded.length} kafka_alerts=${kafka.alerts.length} split_chains=${kafka.split}\n`);
    expect(kafka.partitions[0]).toBe(kafka.partitions[1]);
    expect(embedded.filter((a) => a.rule.id === 'seam-native-exec-then-aws')).toHaveLength(2);
    expect(kafka.alerts.map(view).sort()).toEqual(embedded.map(view).sort());
    expect(kafka.split).toBe(0);
  });
});
