/**
 * What the sensor tests (test/sensor/sensor.ts, test/sensor/demo.ts) need to stand a "pod" up on this
 * machine: users, the sensor bundle, a projected-token layout and the pod's own network namespace.
 *
 * The network: `ip netns add` and a veth pair, pod side POD_IP, host side the addresses of what is outside
 * the pod (Seam's ingest endpoint, a metadata stand-in, a service). The pod's socket tables and its TCP
 * counters (/proc/net/snmp) then hold only the pod's own connections, as on EKS Fargate (one microVM, one
 * network namespace per pod), instead of every socket of this shared machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export function ensureUser(name: string): { uid: number; gid: number } {
  if (spawnSync('id', ['-u', name]).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
}

/** setpriv arguments that run a command as `u` with no capability at all (empty bounding set, no_new_privs). */
export const asUser = (u: { uid: number; gid: number }): string[] => ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];

/**
 * glibc's malloc as the sensor image sets it (deploy/docker/Dockerfile, target sensor; ADR 0012): fixed mmap and trim
 * thresholds of 64 KB instead of the dynamic ones, which grow after the first large frees (OpenSSL's, V8's) and then
 * keep freed memory at the top of the heap. Node 24 with a live TLS connection: peak RSS 65-66 -> 62-63 MB.
 */
export const SENSOR_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536';

/** Builds the sensor bundle the image ships (bin/build-sensor.mjs) into `file`. */
export function buildSensorBundle(file: string): void {
  const built = spawnSync(process.execPath, [join(ROOT, 'bin/build-sensor.mjs'), file], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the sensor bundle failed: ${built.stderr}`);
}

/** Lays out a projected token like kubelet does: token → ..data/token → ..<timestamp>/token. Returns the path the app opens. */
export function projectedToken(base: string, content: string): string {
  const real = join(base, '..2026_12_02_09_00_00.123456789');
  mkdirSync(real, { recursive: true });
  writeFileSync(join(real, 'token'), content);
  symlinkSync('..2026_12_02_09_00_00.123456789', join(base, '..data'));
  symlinkSync('..data/token', join(base, 'token'));
  return join(base, 'token');
}

export interface PodNetwork {
  /** `ip netns` name; run the pod with `ip netns exec <name> ...` (see `exec`). */
  name: string;
  podIp: string;
  /** Host-side addresses: .1 Seam (ingest), .3 a service, .4 the metadata stand-in. */
  hostIp: string;
  serviceIp: string;
  metadataIp: string;
  /** Argument prefix that runs a command in the pod's network namespace. */
  exec: string[];
  close(): void;
}

/** A network namespace joined to this one by a veth pair on a free 10.213.N.0/29. Needs root and `ip`. */
export function createPodNetwork(tag: string): PodNetwork {
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  let net = '';
  for (let i = 0; i < 50 && net === ''; i++) {
    const n = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.213.${n}.`)) net = `10.213.${n}`;
  }
  if (net === '') throw new Error('no free 10.213.N.0/29 for the pod network');
  const id = `${process.pid % 100000}${Math.floor(Math.random() * 100)}`;
  const name = `seam-${tag}-${id}`;
  const host = `sh${id}`;
  const pod = `sp${id}`;
  const ip = (...args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  const close = (): void => {
    spawnSync('ip', ['netns', 'del', name]);
    spawnSync('ip', ['link', 'del', host]);
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', pod);
    ip('link', 'set', pod, 'netns', name);
    for (const h of [1, 3, 4]) ip('addr', 'add', `${net}.${h}/29`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('-n', name, 'addr', 'add', `${net}.2/29`, 'dev', pod);
    ip('-n', name, 'link', 'set', pod, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    close();
    throw error;
  }
  process.once('exit', close);
  return { name, podIp: `${net}.2`, hostIp: `${net}.1`, serviceIp: `${net}.3`, metadataIp: `${net}.4`, exec: ['ip', 'netns', 'exec', name], close };
}

/**
 * Waits for a condition itself rather than a fixed time (the shared 2-core CI runs these scripts at load 5-20, where
 * a node start or a scan interval takes seconds): polls `ready` every `everyMs` until it holds. The bound only
 * catches a hang; when it passes, or when `gone` says the thing awaited cannot happen any more (the pod exited),
 * `onTimeout` gets a message naming what was awaited, for how long, and what `seen` reports. Returns the ms waited.
 */
export async function waitUntil(
  what: string,
  ready: () => boolean,
  o: { timeoutMs: number; seen: () => string; onTimeout: (msg: string) => never; gone?: () => string | undefined; everyMs?: number },
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (ready()) return Date.now() - t0;
    const gone = o.gone?.();
    if (gone !== undefined) o.onTimeout(`gave up waiting for ${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${gone}; saw: ${o.seen()}`);
    if (Date.now() - t0 > o.timeoutMs) o.onTimeout(`waited ${o.timeoutMs / 1000} s for ${what}; saw: ${o.seen()}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 50));
  }
}
