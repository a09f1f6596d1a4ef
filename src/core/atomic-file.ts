import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file so that a crash leaves either the old content or the new, never a torn file: the data goes
 * to a temp file beside it, which is fsynced, renamed over the old one, and the folder is fsynced. `data` may be
 * a string or an iterable of chunks (written in order, so a large state is never one string). Throws the
 * filesystem's error; callers wrap it in their own code. The temp name carries the pid and random bytes: two
 * writers with the same pid (two containers, each pid 1, on one volume) never share a temp file.
 */
export async function writeFileAtomically(path: string, data: string | Iterable<string>): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await mkdir(dir, { recursive: true });
  const fh = await open(tmp, 'w');
  try {
    if (typeof data === 'string') await fh.writeFile(data, 'utf8');
    else {
      // Chunks gathered to ~1 MiB per write: one syscall per line would be slow, one string for all too big.
      let buf: string[] = [];
      let size = 0;
      for (const chunk of data) {
        buf.push(chunk);
        size += chunk.length;
        if (size >= 1 << 20) {
          await fh.write(buf.join(''), null, 'utf8');
          buf = [];
          size = 0;
        }
      }
      if (buf.length > 0) await fh.write(buf.join(''), null, 'utf8');
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
