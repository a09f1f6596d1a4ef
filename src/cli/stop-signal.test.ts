import { afterEach, describe, expect, it } from 'vitest';
import { listenForStop, type StopSignal } from './stop-signal.ts';

// process.emit calls the listeners as a delivered signal would, without signalling the test worker.
let open: StopSignal | undefined;
afterEach(() => open?.dispose());

describe('listenForStop', () => {
  it('resolves with the first signal; a second SIGTERM is ignored with a line, not a kill', async () => {
    const lines: string[] = [];
    open = listenForStop('seam', { write: (s: string) => lines.push(s) });
    expect(open.signal).toBeUndefined();
    process.emit('SIGTERM', 'SIGTERM');
    expect(await open.requested).toBe('SIGTERM');
    expect(open.signal).toBe('SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    expect(lines).toEqual(['seam: SIGTERM again: already stopping (send SIGKILL to stop at once)\n']);
  });

  it('dispose stops listening', () => {
    const before = process.listenerCount('SIGTERM');
    open = listenForStop('seam');
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    open.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
