import { join } from 'node:path';

/**
 * Where Seam keeps what it derives from its inputs to start faster (the rule cache of compiled rule
 * files, the parsed ASN table): `SEAM_CACHE_DIR` when set (`off` turns caching off), else `.cache/seam`
 * under the working folder. Everything in it can be deleted at any time; a cache that cannot be
 * written costs speed, never correctness.
 */
export function seamCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.SEAM_CACHE_DIR;
  if (v === undefined || v === '') return join(process.cwd(), '.cache', 'seam');
  return v === 'off' || v === 'none' ? undefined : v;
}
