// The sidecar ingest endpoint over real HTTP into the real Kafka: tokens, size limits, per-line results,
// Falco (http_output / falcosidekick) and native records, and throughput.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { RAW_HEADERS, TOPICS } from '../../src/bus/topics.ts';
import { SidecarSourceConfig } from '../../src/sources/sidecar/config.ts';
import { sha256Hex } from '../../src/sources/sidecar/parse.ts';
import { SidecarSource } from '../../src/sources/sidecar/source.ts';
import { uniqueName } from '../helpers/services.ts';
import { newBus } from './helpers.ts';
import { account, throughput } from './tally.ts';

const TOKEN = 'tok-prod-' + 'a'.repeat(32);
const OTHER = 'tok-stage-' + 'b'.repeat(32);

describe('sidecar ingest endpoint (HTTP + Kafka)', () => {
  let bus: KafkaBus;
  let src: SidecarSource;
  let url: string;
  const cluster = uniqueName('fargate');
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([{ topic: TOPICS.raw('runtime'), partitions: 6 }]);
    const config = SidecarSourceConfig.parse({
      type: 'sidecar',
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 256 * 1024,
      maxLineBytes: 8 * 1024,
      tokens: [
        { id: 'prod-sidecars', sha256: sha256Hex(TOKEN), cluster },
        { id: 'stage-sidecars', sha256: sha256Hex(OTHER), cluster: 'stage' },
      ],
    });
    src = new SidecarSource(config, { producer: await bus.producer() });
    url = await src.listen();
  });
  afterAll(async () => {
    await src.close();
    await bus.close();
  });

  const post = async (body: string, token: string | null = TOKEN, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const native = (id: string): Record<string, unknown> => ({
    schema: 'seam.runtime/v1',
    id,
    time: new Date().toISOString(),
    kind: 'process',
    namespace: 'shop',
    pod: 'checkout-7d9',
    process: { pid: 7, exe: '/bin/sh', cmdline: 'sh -c id' },
  });
  const falco = (uuid: string): Record<string, unknown> => ({
    uuid,
    time: new Date().toISOString(),
    rule: 'Terminal shell in container',
    priority: 'Notice',
    output: 'A shell was spawned in a container',
    output_fields: { 'k8s.ns.name': 'shop', 'k8s.pod.name': 'checkout-7d9', 'proc.cmdline': 'sh' },
    source: 'syscall',
  });

  it('answers 401/403/413/400 with reasons, takes the good lines of a mixed batch, and writes before answering', async () => {
    const marker = uniqueName('rt');
    // Where the shared runtime topic ends now: the read below covers only what this test wrote (the topic holds
    // every run's records — 625k with the sensor's — and reading it all took over a minute under load).
    const from = await bus.endOffsets([TOPICS.raw('runtime')]);
    expect((await post(JSON.stringify(native(`${marker}-x`)), null)).status).toBe(401);
    expect((await post(JSON.stringify(native(`${marker}-x`)), 'wrong-token')).status).toBe(401);
    const forbidden = await post(JSON.stringify(native(`${marker}-x`)), TOKEN, { 'x-seam-cluster': 'someone-else' });
    expect(forbidden.status).toBe(403);
    const big = await post('x'.repeat(300 * 1024));
    expect(big.status).toBe(413);
    expect(String(big.json.reason)).toContain('limit');
    const nothing = await post('not json\n[1]\n{"hello":"world"}\n');
    expect(nothing.status).toBe(400);
    expect((nothing.json.rejected as { code: string }[]).map((r) => r.code)).toEqual(['SEAM_ERR_INPUT_JSON', 'SEAM_ERR_INPUT_NOT_OBJECT', 'SEAM_ERR_INPUT_UNKNOWN_FORMAT']);

    const lines = [
      JSON.stringify(native(`${marker}-1`)),
      '{"broken": ',
      JSON.stringify({ ...native(`${marker}-long`), pad: 'p'.repeat(9000) }),
      JSON.stringify(falco(`${marker}-2`)),
      JSON.stringify({ ...native(`${marker}-wrong-cluster`), cluster: 'stage' }),
      JSON.stringify(native(`${marker}-3`)),
    ].join('\n');
    const mixed = await post(lines);
    expect(mixed.status).toBe(200);
    expect(mixed.json.accepted).toBe(3);
    expect(mixed.json.rejected).toEqual([
      { line: 2, code: 'SEAM_ERR_INPUT_JSON', reason: expect.any(String) },
      { line: 3, code: 'SEAM_ERR_INPUT_OVERSIZED', reason: expect.any(String) },
      { line: 5, code: 'SEAM_ERR_INGEST_FORBIDDEN', reason: expect.any(String) },
    ]);
    // Falco's http_output and falcosidekick POST one JSON object per request.
    const single = await post(JSON.stringify(falco(`${marker}-4`), null, 2), TOKEN, { 'content-type': 'application/json' });
    expect(single.status).toBe(200);

    // A 2xx means durable: the records are already readable.
    const got: string[] = [];
    await bus.readToEnd([TOPICS.raw('runtime')], (m) => {
      const v = JSON.parse(m.value.toString()) as { id?: string; uuid?: string };
      const id = v.id ?? v.uuid ?? '';
      if (!id.startsWith(marker)) return;
      got.push(id);
      expect(m.headers?.[RAW_HEADERS.cluster]).toBe(cluster);
      expect(m.headers?.[RAW_HEADERS.source]).toBe('runtime');
      expect(m.headers?.[RAW_HEADERS.origin]).toMatch(/^sidecar:prod-sidecars#/);
    },
    120_000,
    { untilStable: true, from }, // also what was committed behind another run's open transaction
    );
    const { missing, duplicated } = account([`${marker}-1`, `${marker}-2`, `${marker}-3`, `${marker}-4`], got);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(got).toHaveLength(4);
  });

  it('measures ingest throughput', async () => {
    const marker = uniqueName('rt-bulk');
    const batches = 40;
    const perBatch = 500;
    const t = performance.now();
    for (let b = 0; b < batches; b += 4) {
      await Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          const body = Array.from({ length: perBatch }, (_, i) => JSON.stringify(native(`${marker}-${b + k}-${i}`))).join('\n');
          const r = await post(body);
          expect(r.status).toBe(200);
        }),
      );
    }
    const secs = (performance.now() - t) / 1000;
    const n = batches * perBatch;
    throughput.push(`sidecar ingest: ${n} records in ${secs.toFixed(2)} s = ${Math.round(n / secs)} records/s (batches of ${perBatch}, 4 concurrent)`);
  });
});
