import type { ReplayProgress } from '../pipeline/replay.ts';

/**
 * Progress on a terminal: one line on stderr, rewritten at most twice a second. Silent when stderr
 * is not a TTY (CI logs, pipes), where only the final summary is printed.
 */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr): {
  update: (p: ReplayProgress) => void;
  done: () => void;
} {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  const started = performance.now();
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < 500) return;
      last = now;
      const secs = (now - started) / 1000;
      const pct = p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesRead) / p.bytesTotal) : 0;
      const rate = secs > 0 ? p.records / secs : 0;
      const eta = pct > 0 && pct < 100 ? ` eta ${Math.round((secs * (100 - pct)) / pct)}s` : '';
      stream.write(
        `\r${label}: ${pct.toFixed(1)}% ${fmtBytes(p.bytesRead)}/${fmtBytes(p.bytesTotal)} records=${p.records} rejected=${p.rejected} ${Math.round(rate)}/s${eta}   `,
      );
      shown = true;
    },
    done() {
      if (shown) stream.write('\n');
    },
  };
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
