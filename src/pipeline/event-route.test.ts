import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../bus/types.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { batchedEvents, EVENT_BATCH_HEADER, EVENT_ROUTE_HEADER, EventBatcher, eventJsons, routeOf } from './event-route.ts';

const ev = (i: number, source = 'k8s_audit'): SeamEvent =>
  ({ '@timestamp': `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, msg: `line\nwith a newline ${i}`, seam: { id: `id-${i}`, source, ingest: { received_at: '2026-01-01T00:01:00Z' } } }) as unknown as SeamEvent;
const consumed = (m: { topic: string; key: string | null; value: Buffer; headers?: Record<string, string>; partition?: number }, offset = '7'): ConsumedMessage => ({ ...m, partition: m.partition ?? 0, offset });
const byMod = (key: string, n: number): number => Number(key.slice(3)) % n;

describe('events batched per partition (ADR 0019)', () => {
  it('puts each event in the partition its seam.id picks, in order, and reads every one back with its route', () => {
    const b = new EventBatcher('t.events', 3, byMod);
    const events = Array.from({ length: 20 }, (_, i) => ev(i, i % 2 ? 'cloudtrail' : 'k8s_audit'));
    // As a Buffer (stage 1 has one) or as a string (the correlate role's JSON.stringify).
    events.forEach((e, i) => b.add(e, i % 3 === 0 ? Buffer.from(JSON.stringify(e)) : JSON.stringify(e)));
    expect(b.count).toBe(20);
    const msgs = b.take();
    expect(b.count).toBe(0);
    expect(msgs).toHaveLength(3);
    const seen: string[] = [];
    for (const m of msgs) {
      expect(m.key).toBeNull();
      const got = batchedEvents(consumed(m));
      if (got === undefined || typeof got === 'string') throw new Error(String(got));
      for (const g of got) {
        expect(byMod(g.route.seam.id, 3)).toBe(m.partition);
        const parsed = JSON.parse(g.json.toString('utf8')) as SeamEvent;
        expect(parsed).toEqual(events[Number(g.route.seam.id.slice(3))]);
        expect(g.route).toEqual({ '@timestamp': parsed['@timestamp'], seam: { id: parsed.seam.id, source: parsed.seam.source, ingest: { received_at: '2026-01-01T00:01:00Z' } } });
        seen.push(g.route.seam.id);
      }
      // Order within a partition is the order added.
      const ids = got.map((g) => Number(g.route.seam.id.slice(3)));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(eventJsons(consumed(m))).toHaveLength(got.length);
    }
    expect(seen.sort()).toEqual(events.map((e) => e.seam.id).sort());
  });

  it('cuts a partition’s message at maxBytes and keeps going in order', () => {
    const b = new EventBatcher('t.events', 1, () => 0, 600);
    for (let i = 0; i < 10; i++) b.add(ev(i), Buffer.from(JSON.stringify(ev(i))));
    const msgs = b.take();
    expect(msgs.length).toBeGreaterThan(2);
    const ids = msgs.flatMap((m) => (batchedEvents(consumed(m)) as { route: { seam: { id: string } } }[]).map((g) => g.route.seam.id));
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `id-${i}`));
  });

  it('writes the messages the batcher wrote before it encoded in place (ADR 0023); non-ASCII events are cut by bytes', () => {
    // The previous EventBatcher's cut, as the reference: parts joined with newlines, encoded once, cut by UTF-16 length.
    const reference = (maxBytes: number, jsons: string[], partOf: (i: number) => number): { p: number; value: string; n: number }[] => {
      const out: { p: number; value: string; n: number }[] = [];
      const open = new Map<number, { parts: string[]; bytes: number }>();
      const cut = (p: number): void => {
        const b = open.get(p)!;
        open.delete(p);
        out.push({ p, value: [...b.parts, ''].join('\n'), n: b.parts.length });
      };
      jsons.forEach((j, i) => {
        const p = partOf(i);
        const b = open.get(p);
        if (b !== undefined && b.bytes + j.length + 1 > maxBytes) cut(p);
        const c = open.get(p) ?? { parts: [], bytes: 0 };
        open.set(p, c);
        c.parts.push(j);
        c.bytes += j.length + 1;
      });
      for (const p of [...open.keys()]) cut(p);
      return out;
    };
    const events = Array.from({ length: 300 }, (_, i) => ({ ...ev(i), pad: 'y'.repeat((i * 37) % 1500) }) as unknown as SeamEvent);
    for (const maxBytes of [500, 4000, 256 * 1024]) {
      const b = new EventBatcher('t.events', 3, byMod, maxBytes);
      events.forEach((e, i) => b.add(e, i % 2 ? JSON.stringify(e) : Buffer.from(JSON.stringify(e))));
      const got = b.take().map((m) => ({ p: m.partition, value: m.value.toString('utf8'), n: (JSON.parse(m.headers![EVENT_BATCH_HEADER]!) as unknown[]).length }));
      const want = reference(maxBytes, events.map((e) => JSON.stringify(e)), (i) => byMod(`id-${i}`, 3));
      expect(got.sort((x, y) => x.p! - y.p! || x.value.localeCompare(y.value))).toEqual(want.sort((x, y) => x.p - y.p || x.value.localeCompare(y.value)));
    }
    // Multi-byte text: every message within maxBytes unless it holds one event, every event back in order.
    const wide = Array.from({ length: 50 }, (_, i) => ({ ...ev(i), msg: 'é日😀'.repeat(i * 3) }) as unknown as SeamEvent);
    const b = new EventBatcher('t.events', 1, () => 0, 700);
    for (const e of wide) b.add(e, JSON.stringify(e));
    const msgs = b.take();
    for (const m of msgs) expect(m.value.length <= 700 || (batchedEvents(consumed(m)) as unknown[]).length === 1).toBe(true);
    expect(msgs.flatMap((m) => eventJsons(consumed(m)).map((j) => JSON.parse(j.toString('utf8')) as SeamEvent))).toEqual(wide);
  });

  it('without partitions (or a bus that cannot place keys) sends one keyed message per event, as before', () => {
    for (const b of [new EventBatcher('t.events', 0, byMod), new EventBatcher('t.events', 4, undefined)]) {
      b.add(ev(1), Buffer.from(JSON.stringify(ev(1))));
      const [m] = b.take();
      expect(m!.key).toBe('id-1');
      expect(m!.partition).toBeUndefined();
      expect(batchedEvents(consumed(m!))).toBeUndefined();
      expect(routeOf(consumed(m!))?.seam.id).toBe('id-1');
    }
  });

  it('a dead letter of one batched event carries that event alone, with the single-event route header', () => {
    const b = new EventBatcher('t.events', 2, byMod);
    for (const i of [2, 4]) b.add(ev(i), Buffer.from(JSON.stringify(ev(i))));
    const [m] = b.take();
    const got = batchedEvents(consumed({ ...m!, headers: { ...m!.headers, 'seam-collector': 'c1' } }, '42'));
    if (got === undefined || typeof got === 'string') throw new Error(String(got));
    const alone = got[1]!.alone();
    expect(alone.key).toBe('id-4');
    expect(alone.offset).toBe('42');
    expect(JSON.parse(alone.value.toString('utf8'))).toEqual(ev(4));
    expect(alone.headers?.[EVENT_BATCH_HEADER]).toBeUndefined();
    expect(alone.headers?.['seam-collector']).toBe('c1');
    expect(routeOf(alone)).toEqual(got[1]!.route);
    expect(alone.headers?.[EVENT_ROUTE_HEADER]).toBeDefined();
  });

  it('says why a batch message is unreadable', () => {
    const base = { topic: 't.events', key: null, value: Buffer.from('{"a":1}\n{"b":2}\n') };
    const route = (id: string): unknown[] => [id, 'k8s_audit', '2026-01-01T00:00:00Z', null];
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: 'nope' } }))).toMatch(/not JSON/);
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: '{}' } }))).toMatch(/not an array/);
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: JSON.stringify([route('a')]) } }))).toMatch(/holds more/);
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: JSON.stringify([route('a'), route('b'), route('c')]) } }))).toMatch(/holds 2/);
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: JSON.stringify([route('a'), ['b', 'nosuchsource', 'x', null]]) } }))).toMatch(/entry 1/);
    expect(batchedEvents(consumed({ ...base, headers: { [EVENT_BATCH_HEADER]: JSON.stringify([route('a'), route('b')]) } }))).toHaveLength(2);
  });
});
