import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SeamError } from '../core/errors.ts';

/**
 * `seam run --resume` takes the state directory for itself (ADR 0044): two runs on one `--state-dir` would each
 * save the identity state they alone learned, the last writer silently dropping the other's. The lock is a file
 * created with O_EXCL (`wx`) holding `{pid, host, started_at}`; a second run is refused with an error naming the
 * file and its holder. It is removed when the run ends, failed or not. A lock left by a run that crashed is
 * taken over only when its holder is known dead: same host and no process of that pid. On another host (another
 * pod on a shared volume) Seam cannot tell, and the error says how to remove the file.
 */
export const STATE_LOCK_FILE = 'seam-run.lock';

export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
}

export interface StateLock {
  path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function holderOf(path: string): Promise<LockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

export async function lockStateDir(dir: string): Promise<StateLock> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, STATE_LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me) + '\n', 'utf8');
      } finally {
        await fh.close();
      }
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SeamError('SEAM_ERR_STATE_LOCKED', `cannot create lock file ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
      }
    }
    const h = await holderOf(path);
    // A crashed run on this host: its pid is gone. Taken over once (a second EEXIST is a live race).
    if (attempt === 0 && h !== undefined && h.host === me.host && h.pid !== process.pid && !alive(h.pid)) {
      await rm(path, { force: true });
      continue;
    }
    const who = h === undefined ? 'an unreadable holder' : `pid ${h.pid} on host ${h.host}, started ${h.started_at}`;
    throw new SeamError(
      'SEAM_ERR_STATE_LOCKED',
      `state directory ${dir} is locked by another seam run --resume (${who}): lock file ${path}. Two runs on one --state-dir would lose one run's baselines. ` +
        `If no such run is alive (it crashed, or ran on another host), remove ${path} and run again.`,
      { details: { path, ...(h ? { holder: h } : {}) } },
    );
  }
}
