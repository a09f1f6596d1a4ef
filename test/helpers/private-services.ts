// A private Kafka broker or moto server for tests that kill or restart a service: started through
// deploy/local/services-lib.mjs on free ports (never the shared 9092/4566 ones, which other tests use),
// killed with SIGKILL or stopped, started again, and removed with its data at the end.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CACHE, ensureUp, status, stop, type ServiceName } from '../../deploy/local/services-lib.mjs';

/** True when nothing listens on 127.0.0.1:port (we can bind it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** The first `base + k*step` whose ports `[p, ...extra(p)]` are all free. */
export async function freePorts(base: number, step: number, extra: (p: number) => number[]): Promise<number> {
  for (let p = base; p < base + 50 * step; p += step) {
    const all = [p, ...extra(p)];
    if ((await Promise.all(all.map(portFree))).every(Boolean)) return p;
  }
  throw new Error(`no free ports for a private service from ${base}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PrivateService {
  name: 'kafka' | 'moto';
  port: number;
  /** Env that points services-lib (and a child `seam`) at this instance. */
  env: NodeJS.ProcessEnv;
  /** Kafka: ['127.0.0.1:<port>']; moto: its URL. */
  url: string;
  /** SIGKILL to the process group, resolves when it is gone. */
  kill(): Promise<number>;
  /** Starts it again (same port, same data). */
  start(): Promise<void>;
  /** Stops it and deletes its data and logs (keeps the logs when `keepLogs`). */
  remove(keepLogs?: boolean): Promise<void>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Claims `port` for this process: a claim file created exclusively (`wx`), holding our pid. Probing that a port
 * is free is not enough when two test runs start a private service at the same moment (a soak beside a CI
 * run): both saw 29192 free, both "cleaned" its state, and one broker died at startup. A claim whose process
 * is gone is stale and taken over. Returns the release, or undefined when another live process holds it.
 */
function claim(name: string, port: number): (() => void) | undefined {
  const file = path.join(CACHE, 'run', `private-${name}-${port}.claim`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return undefined;
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  return undefined;
}

/** Claims the first `base + k*step` whose ports `[p, ...extra(p)]` are free and unclaimed by another live test process. */
async function claimPorts(name: string, base: number, step: number, extra: (p: number) => number[]): Promise<{ port: number; release: () => void }> {
  for (let p = base; p < base + 50 * step; p += step) {
    const release = claim(name, p);
    if (release === undefined) continue;
    if ((await Promise.all([p, ...extra(p)].map(portFree))).every(Boolean)) return { port: p, release };
    release();
  }
  throw new Error(`no free ports for a private ${name} from ${base}`);
}

/** Starts a private instance on the first free port from `base`; fails (never skips) with the reason when it cannot. */
export async function startPrivate(name: 'kafka' | 'moto', base: number, log: (line: string) => void): Promise<PrivateService> {
  const { port, release } = name === 'kafka' ? await claimPorts(name, base, 2, (p) => [p + 1]) : await claimPorts(name, base, 1, () => []);
  const env: NodeJS.ProcessEnv =
    name === 'kafka'
      ? { ...process.env, SEAM_KAFKA_BROKERS: `127.0.0.1:${port}`, SEAM_KAFKA_CONTROLLER_PORT: String(port + 1) }
      : { ...process.env, SEAM_AWS_ENDPOINT: `http://127.0.0.1:${port}` };
  const names: ServiceName[] = [name];
  // Where services-lib keeps a non-default-port instance's state (deploy/local/services-lib.mjs, instanceKey and START).
  const state = [
    path.join(CACHE, 'run', `${name}-${port}.pid`),
    ...(name === 'kafka' ? [path.join(CACHE, 'kafka', `data-${port}`), path.join(CACHE, 'kafka', `server-${port}.properties`)] : []),
  ];
  const logFile = path.join(CACHE, 'logs', `${name}-${port}.log`);
  // The port is free and claimed by us, so any state left under it is a dead run's: start clean.
  for (const p of state) fs.rmSync(p, { recursive: true, force: true });
  const up = async (): Promise<void> => {
    try {
      const { started } = await ensureUp(names, { env, log });
      if (!started.includes(name)) throw new Error(`a ${name} already answered on port ${port} that this test did not start`);
    } catch (e) {
      throw new Error(`a private ${name} on 127.0.0.1:${port} (deploy/local/services-lib.mjs; needs what \`npm run services:up\` provisioned) could not start:\n${(e as Error).message}`);
    }
    const [s] = await status(names, env);
    if (s?.pid == null) throw new Error(`private ${name} on ${port} answers but has no pid file of ours`);
  };
  try {
    await up();
  } catch (e) {
    release();
    throw e;
  }
  const pidOf = (): number => Number(fs.readFileSync(path.join(CACHE, 'run', `${name}-${port}.pid`), 'utf8').trim());
  return {
    name,
    port,
    env,
    url: name === 'kafka' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`,
    kill: async () => {
      const pid = pidOf();
      const marker = name === 'kafka' ? 'kafka.Kafka' : 'moto_server';
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) throw new Error(`pid ${pid} is not our ${name}`);
      process.kill(-pid, 'SIGKILL'); // spawned detached: a process-group leader
      const deadline = Date.now() + 30_000;
      while (fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')) {
        if (Date.now() > deadline) throw new Error(`${name} pid ${pid} did not die`);
        await sleep(100);
      }
      return pid;
    },
    start: up,
    remove: async (keepLogs = false) => {
      await stop(names, { env, log }).catch((e: unknown) => log(`stopping ${name} failed: ${(e as Error).message}`));
      for (const p of state) fs.rmSync(p, { recursive: true, force: true });
      if (keepLogs) log(`logs kept: ${logFile}`);
      else fs.rmSync(logFile, { force: true });
      release();
    },
  };
}
