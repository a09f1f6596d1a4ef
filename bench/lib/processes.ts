/**
 * What the benches that time whole processes share (bench:peers, bench:workers): their `KEY=value`
 * arguments, output and failure, the compiled build they run, and one process timed from outside by GNU
 * time (wall, CPU, peak RSS of all its threads).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** `KEY=value` arguments, printing and failing for the bench `name` (failure: a message on stderr, exit 1). */
export function benchCli(name: string): { arg: (k: string, d: string) => string; say: (s: string) => void; fail: (s: string) => never; load: () => string } {
  return {
    arg: (k, d) => process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d,
    say: (s) => void process.stdout.write(s + '\n'),
    fail: (s) => {
      process.stderr.write(`${name}: ${s}\n`);
      process.exit(1);
    },
    load: () =>
      loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
  };
}

/** GNU time is there (peak RSS needs it). */
export function needGnuTime(fail: (s: string) => never): void {
  if (!existsSync(GNU_TIME)) fail(`${GNU_TIME} (GNU time) is needed to measure peak RSS: apt-get install time`);
}

/** `bin/seam.mjs` runs from dist/ (SEAM_RUNTIME=dist), built now when it is missing or older than the sources. */
export function ensureCompiledBuild(root: string, say: (s: string) => void, fail: (s: string) => never): void {
  if (spawnSync(process.execPath, [join(root, 'bin', 'seam.mjs'), '--help'], { env: { ...process.env, SEAM_RUNTIME: 'dist' }, encoding: 'utf8' }).status !== 0) {
    say('dist/ is missing or older than the sources: npm run build');
    if (spawnSync(process.execPath, [join(root, 'bin/build.mjs')], { stdio: 'inherit' }).status !== 0) fail('npm run build failed');
  }
}

export interface Measured {
  wallS: number;
  /** User + system CPU seconds, all threads. */
  cpuS: number;
  /** Peak resident set, MB. */
  rssMb: number;
  stdoutLines: number;
  stderr: string;
}

/**
 * Runs `cmd args` under GNU time with `env` (the whole environment), stdout and stderr to files in `dir` (a
 * folder of this bench run's own: two benches sharing one time.txt would swap figures). Fails the bench
 * when the process exits non-zero.
 */
export function measureProcess(dir: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, fail: (s: string) => never): Measured {
  const timeFile = join(dir, 'time.txt');
  const outFile = join(dir, 'stdout.txt');
  const errFile = join(dir, 'stderr.txt');
  const outFd = openSync(outFile, 'w');
  const errFd = openSync(errFile, 'w');
  const r = spawnSync(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { env, stdio: ['ignore', outFd, errFd] });
  closeSync(outFd);
  closeSync(errFd);
  const stderr = readFileSync(errFile, 'utf8');
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}: ${stderr.slice(-2000)}`);
  const [wall, user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  const out = readFileSync(outFile);
  let lines = 0;
  for (let i = out.indexOf(10); i >= 0; i = out.indexOf(10, i + 1)) lines++;
  return { wallS: wall, cpuS: user + sys, rssMb: rss / 1024, stdoutLines: lines, stderr };
}

/** The run with the shortest wall time. */
export const fastest = <T extends { wallS: number }>(runs: T[]): T => runs.reduce((a, b) => (b.wallS < a.wallS ? b : a));
