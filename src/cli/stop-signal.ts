/**
 * SIGTERM/SIGINT for the long-running commands (`seam run` on Kafka, `seam collect`), listened for from the
 * command's first line rather than once it runs. Node's default for a signal nobody listens to is to end the
 * process by that signal: no drain, no commit, exit status "killed" (exit=null to a parent). Starting takes
 * seconds (rules, topics, a consumer group rebalance per index member) while the first members already
 * consume and index, and a Deployment's rollout sends SIGTERM whenever it likes: a stop that comes during the
 * start must stop the command as gracefully as one that comes later (issue 13: test/auth saw exit=null).
 */
export interface StopSignal {
  /** Resolves with the first signal received. */
  readonly requested: Promise<NodeJS.Signals>;
  /** The first signal received, if any yet. */
  readonly signal: NodeJS.Signals | undefined;
  /** Stops listening (the process gets Node's default behaviour back). */
  dispose(): void;
}

/**
 * Listens for SIGTERM and SIGINT. A second SIGTERM while stopping is ignored with a line (Kubernetes sends one,
 * then SIGKILL after the grace period); a second SIGINT (Ctrl-C twice at a terminal) exits at once with 130.
 */
export function listenForStop(name: string, err: { write(s: string): unknown } = process.stderr): StopSignal {
  let first: NodeJS.Signals | undefined;
  let resolve: (s: NodeJS.Signals) => void = () => undefined;
  const requested = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const on = (s: NodeJS.Signals): void => {
    if (first === undefined) {
      first = s;
      resolve(s);
      return;
    }
    if (s === 'SIGINT') {
      err.write(`${name}: second SIGINT: exiting without finishing the in-flight work (it is re-read from the last commit)\n`);
      process.exit(130);
    }
    err.write(`${name}: ${s} again: already stopping (send SIGKILL to stop at once)\n`);
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    requested,
    get signal() {
      return first;
    },
    dispose() {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}
