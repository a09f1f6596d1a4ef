import { createRequire, Module } from 'node:module';

/**
 * A corrected replacement for kafkajs 2.2.4's `consumer/filterAbortedMessages.js`, installed into the
 * CommonJS module cache before kafkajs loads (kafkajs is unmaintained, so there is no release to wait for).
 *
 * kafkajs activates at most one aborted transaction per message it looks at and assumes the broker lists
 * them in offset order. When a fetch starts after the first offsets of several aborted transactions — which
 * is what a fenced collector leaves behind, one open transaction per log group in the same partitions —
 * records of the second and later aborted transactions leak to read_committed consumers. The Java
 * client sorts the list and activates every transaction whose first offset has been reached; so do we.
 */

interface Msg {
  offset: string;
  key?: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
}
interface AbortedTxn {
  firstOffset: string;
  producerId: string;
}

/** Control record key of an ABORT marker: version 0, type 0. */
const ABORT_KEY = Buffer.from([0, 0, 0, 0]);

export function filterAbortedMessages({ messages, abortedTransactions }: { messages: Msg[]; abortedTransactions?: AbortedTxn[] }): Msg[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => {
    const x = BigInt(a.firstOffset);
    const y = BigInt(b.firstOffset);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const active = new Set<string>();
  return messages.filter((m) => {
    const off = BigInt(m.offset);
    while (pending.length > 0 && off >= BigInt(pending[0]!.firstOffset)) active.add(String(pending.shift()!.producerId));
    const pid = String(m.batchContext.producerId);
    if (m.key && Buffer.from(m.key).equals(ABORT_KEY)) {
      active.delete(pid);
      return true; // control records are dropped by the caller
    }
    return !(active.has(pid) && m.batchContext.inTransaction);
  });
}

let installed = false;

/** Puts the corrected filter into the module cache; must run before kafkajs is first loaded. */
export function installAbortedFilterFix(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const path = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
  if (require.cache[path]) {
    throw new Error('kafkajs was loaded before the aborted-transaction fix; import src/bus/kafka.ts before kafkajs');
  }
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = filterAbortedMessages;
  require.cache[path] = m;
}

installAbortedFilterFix();
