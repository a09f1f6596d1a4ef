// A child process a test spawns (`seam run`, `seam collect`), watched so that any assertion about it can say
// why it failed without a rerun: its exit code or signal, how long it lived, and the tail of its stderr.
// Every wait on it (a line it should print) gives up with the same account when the child exits first.
import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WatchedChild {
  readonly proc: ChildProcess;
  readonly label: string;
  /** Everything it has written to stderr so far. */
  stderr(): string;
  /** Its complete stderr lines so far. */
  lines(): string[];
  /** Resolves once it has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** How it exited, once it has; undefined while it runs. */
  exit(): ChildExit | undefined;
  /**
   * One paragraph for a failure message: label, pid, running or how it exited and after how long, and the last
   * `chars` characters of its stderr.
   */
  explain(chars?: number): string;
  /** The first stderr line (already printed or to come) matching `re`; rejects, explained, if it exits first or the time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
}

export const STDERR_TAIL_CHARS = 6000;

/** "exit code 1", "killed by SIGKILL", "still running". */
export function exitText(e: ChildExit | undefined): string {
  if (e === undefined) return 'still running';
  if (e.signal !== null) return `killed by ${e.signal}`;
  return `exit code ${e.code}`;
}

/**
 * Watches `proc` (spawned with stderr piped). `onLine` sees each complete stderr line (to copy it into the
 * test's log, as the collector tests do).
 */
export function watchChild(proc: ChildProcess, label: string, opts: { onLine?: (line: string) => void } = {}): WatchedChild {
  const started = Date.now();
  let err = '';
  let buf = '';
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let exit: ChildExit | undefined;
  let exitedAt = 0;
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    err += d;
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      opts.onLine?.(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  // 'close' rather than 'exit': by then stderr has been read to its end, so the tail holds the last words.
  const exited = new Promise<ChildExit>((resolve) =>
    proc.once('close', (code, signal) => {
      exit = { code, signal };
      exitedAt = Date.now();
      resolve(exit);
    }),
  );
  const explain = (chars = STDERR_TAIL_CHARS): string => {
    const state = exit === undefined ? `still running after ${((Date.now() - started) / 1000).toFixed(1)} s` : `${exitText(exit)} after ${((exitedAt - started) / 1000).toFixed(1)} s`;
    const tail = err.length > chars ? err.slice(-chars) : err;
    return `${label} (pid ${proc.pid ?? 'none'}): ${state}; stderr, last ${chars} characters${err.length > chars ? ` of ${err.length}` : ''}:\n${tail || '(nothing)'}`;
  };
  return {
    proc,
    label,
    stderr: () => err,
    lines: () => lines,
    exited,
    exit: () => exit,
    explain,
    waitFor: (re, timeoutMs) => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${label} did not print ${re} within ${timeoutMs} ms\n${explain()}`)), timeoutMs);
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(t);
            resolve(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (!waiters.includes(w)) return;
          clearTimeout(t);
          reject(new Error(`${label} exited before printing ${re}\n${explain()}`));
        });
      });
    },
  };
}
