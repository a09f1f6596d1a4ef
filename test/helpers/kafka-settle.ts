// Waiting for Kafka roles to finish a run: every consumer group has committed its input topics to the end and
// the roles say they hold nothing back, and both stay so for a while (a correlate member may still hand on
// held signals). Shared by test/order/kafka.test.ts and test/sensor/demo.ts.
import type { Admin } from 'kafkajs';

/** Consumer groups and the topics each reads. */
export type GroupInputs = readonly (readonly [groupId: string, topics: readonly string[]])[];

/** Messages the groups have not committed yet, over every partition of their topics (a group without an offset counts from the low mark). */
export async function groupsBehind(admin: Admin, groups: GroupInputs): Promise<number> {
  let n = 0;
  for (const [groupId, ts] of groups) {
    for (const t of await admin.fetchOffsets({ groupId, topics: [...ts] })) {
      for (const e of await admin.fetchTopicOffsets(t.topic)) {
        const c = BigInt(t.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1');
        n += Number(BigInt(e.high) - (c < 0n ? BigInt(e.low) : c));
      }
    }
  }
  return n;
}

/**
 * Resolves once no group is behind and `settled()` holds, both for `quietMs` in a row; calls `onTimeout` (which
 * throws) after `timeoutMs`.
 */
export async function waitSettled(o: { admin: Admin; groups: GroupInputs; settled: () => boolean; timeoutMs: number; onTimeout: () => never; quietMs?: number; pollMs?: number }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let quietSince = 0;
  for (;;) {
    const done = (await groupsBehind(o.admin, o.groups)) === 0 && o.settled();
    if (done && quietSince === 0) quietSince = Date.now();
    if (!done) quietSince = 0;
    if (quietSince > 0 && Date.now() - quietSince > (o.quietMs ?? 1500)) return;
    if (Date.now() > deadline) o.onTimeout();
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
  }
}
