// The three roles in-process against the real local Kafka and OpenSearch: a few thousand realistic raw
// records (the demo dataset and fixtures, ids varied per copy) mixed with malformed ones go to
// seam.raw.*; every valid event must be in OpenSearch exactly once (by seam.id), exactly the alerts embedded
// mode raises over the same records, each once (ADR 0009), and every malformed record in seam.dlq with its
// reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allIds, badRecords, embeddedAlerts, expectedIds, mix, pipeline, referenceSigmaAlerts, validRecords, type Pipeline } from './harness.ts';

describe('pipeline e2e (Kafka → normalize → correlate → index → OpenSearch)', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline('e2e');
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('indexes every valid event and alert exactly once and dead-letters every malformed record', async () => {
    const valid = validRecords(6);
    const bad = badRecords(300);
    const expected = expectedIds(valid);
    expect(expected.size).toBeGreaterThan(2500);
    // Half the copies carry their CloudTrail records inside EventBridge events (harness.ts).
    expect(valid.filter((r) => r.text.includes('"detail-type":"AWS API Call via CloudTrail"')).length).toBeGreaterThan(100);
    const sigma = referenceSigmaAlerts(p.detection, valid);
    const embedded = await embeddedAlerts(p.detection, valid);
    await p.produce(mix(valid, bad));
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.drain();
    const v = await p.verdict(expected, bad, sigma);
    const indexed = new Set(await allIds(p.os, `${p.indexPrefix}-alerts-*`));
    for (const r of roles) await r.stop();
    process.stdout.write(`e2e: events=${v.events} alerts=${v.alerts} lost=${v.lost} duplicated=${v.duplicated} dlq=${v.dlq}\n`);
    expect(v.details).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.events).toBe(expected.size);
    expect(sigma.size).toBeGreaterThan(20);
    // The exact alert set of embedded mode, not a range (issue 10).
    expect([...indexed].filter((id) => !embedded.has(id)), 'alerts embedded mode does not raise').toEqual([]);
    expect([...embedded].filter((id) => !indexed.has(id)), 'alerts of embedded mode missing').toEqual([]);
    expect(v.alerts).toBe(embedded.size);
    expect(v.dlqMissing).toBe(0);
    expect(v.dlqWithoutReason).toBe(0);
    expect(v.dlq).toBe(bad.length);
  });
});
