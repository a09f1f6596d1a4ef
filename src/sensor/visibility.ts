import { readdirSync, readlinkSync } from 'node:fs';
import { failureOf, tryRead, type ReadFailure } from './procfs.ts';

/**
 * What this process can read of another process's /proc entry. Run by `seam sensor --probe <pid>`
 * inside a pod to see what the sensor will get there; the measured answers are in ADR 0012.
 */

export const PROBED = ['stat', 'status', 'cmdline', 'cgroup', 'task/children', 'environ', 'exe', 'cwd', 'root', 'fd/', 'fd/0', 'fdinfo/0', 'io', 'maps', 'net/tcp'] as const;
export type Probed = (typeof PROBED)[number];

export type Visibility = Record<Probed, 'ok' | ReadFailure>;

export function probeVisibility(proc: string, pid: number): Visibility {
  const base = `${proc}/${pid}`;
  const out = {} as Visibility;
  for (const what of PROBED) {
    try {
      if (what === 'exe' || what === 'cwd' || what === 'root' || what === 'fd/0') readlinkSync(`${base}/${what}`);
      else if (what === 'fd/') readdirSync(`${base}/fd`);
      else if (what === 'task/children') {
        const r = tryRead(`${base}/task/${pid}/children`);
        if (!r.ok) throw Object.assign(new Error(r.why), { code: r.why === 'denied' ? 'EACCES' : r.why === 'gone' ? 'ENOENT' : 'EIO' });
      } else {
        const r = tryRead(`${base}/${what}`);
        if (!r.ok) throw Object.assign(new Error(r.why), { code: r.why === 'denied' ? 'EACCES' : r.why === 'gone' ? 'ENOENT' : 'EIO' });
      }
      out[what] = 'ok';
    } catch (error) {
      out[what] = failureOf(error);
    }
  }
  return out;
}

export function formatVisibility(v: Visibility): string {
  return PROBED.map((k) => `${k}=${v[k]}`).join(' ');
}
