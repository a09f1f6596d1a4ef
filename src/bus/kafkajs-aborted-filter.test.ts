import { describe, expect, it } from 'vitest';
import { filterAbortedMessages } from './kafkajs-aborted-filter.ts';

const msg = (offset: number, producerId: string, inTransaction = true, abortMarker = false) => ({
  offset: String(offset),
  key: abortMarker ? Buffer.from([0, 0, 0, 0]) : Buffer.from('k'),
  batchContext: { producerId, inTransaction },
});

describe('aborted-transaction filter', () => {
  it('drops records of every aborted transaction that began before the fetch, not only the first', () => {
    // Two fenced producers (1 and 2) left open transactions starting at 100 and 120; the fetch starts at 150.
    const messages = [msg(150, '1'), msg(151, '2'), msg(152, '2'), msg(153, '1', true, true), msg(154, '2', true, true), msg(155, '3')];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { firstOffset: '120', producerId: '2' },
        { firstOffset: '100', producerId: '1' },
      ],
    });
    expect(kept.map((m) => m.offset)).toEqual(['153', '154', '155']);
  });

  it('keeps committed records interleaved with an aborted transaction', () => {
    const messages = [msg(10, '7'), msg(11, '8'), msg(12, '7'), msg(13, '7', true, true), msg(14, '7')];
    const kept = filterAbortedMessages({ messages, abortedTransactions: [{ firstOffset: '10', producerId: '7' }] });
    expect(kept.map((m) => m.offset)).toEqual(['11', '13', '14']);
  });

  it('is installed in place of kafkajs own filter', async () => {
    await import('./kafka.ts');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    expect(require('kafkajs/src/consumer/filterAbortedMessages.js')).toBe(filterAbortedMessages);
  });
});
