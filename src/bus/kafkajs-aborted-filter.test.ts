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

  it('a fenced holder and its successors share the producer id (other epochs): only the aborted transactions are dropped', () => {
    // Zombie's page aborted by the fence (0-1, marker 2); successor commits (3-4, commit marker 5); its next
    // page fails and is aborted when its producer is replaced (6, marker 7); the replacement commits (8).
    const commit = (offset: number) => ({ offset: String(offset), key: Buffer.from([0, 0, 0, 1]), batchContext: { producerId: '9', inTransaction: true } });
    const messages = [msg(0, '9'), msg(1, '9'), msg(2, '9', true, true), msg(3, '9'), msg(4, '9'), commit(5), msg(6, '9'), msg(7, '9', true, true), msg(8, '9')];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { firstOffset: '6', producerId: '9' },
        { firstOffset: '0', producerId: '9' },
      ],
    });
    expect(kept.map((m) => m.offset)).toEqual(['2', '3', '4', '5', '7', '8']);
  });

  it('is installed in place of kafkajs own filter', async () => {
    await import('./kafka.ts');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    expect(require('kafkajs/src/consumer/filterAbortedMessages.js')).toBe(filterAbortedMessages);
  });
});
