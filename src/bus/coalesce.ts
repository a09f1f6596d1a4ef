import type { BusMessage, BusProducer } from './types.ts';

/**
 * A producer whose overlapping sends go out together: a send made while another is in flight waits for it,
 * then goes in one produce with every other send that waited (issue 15 item 5). For a role that handles
 * several partitions' batches at once, so that they do not queue one produce request each behind the
 * client's per-broker lock (kafkajs's idempotent producer).
 *
 * Order: each call's messages stay together and in their order, and calls go out in the order they were
 * made, so what one call puts after its other messages (a partition's marks after its signals) is still
 * after them on every partition. A produce that fails rejects every call it carried (each caller's batch is
 * redelivered); later calls go in a new produce.
 */
export function coalescingProducer(inner: BusProducer): BusProducer {
  let waiting: { messages: BusMessage[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let inFlight = false;
  const drain = async (): Promise<void> => {
    inFlight = true;
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      try {
        await inner.send(group.flatMap((w) => w.messages));
        for (const w of group) w.resolve();
      } catch (e) {
        for (const w of group) w.reject(e);
      }
    }
    inFlight = false;
  };
  return {
    send: (messages: BusMessage[]): Promise<void> => {
      if (messages.length === 0) return Promise.resolve();
      const done = new Promise<void>((resolve, reject) => waiting.push({ messages, resolve, reject }));
      if (!inFlight) void drain();
      return done;
    },
    close: () => inner.close(),
  };
}
