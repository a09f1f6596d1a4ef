/**
 * Matching open descriptors against the sensitive-file list. A projected service-account token is a
 * symlink chain (`token` → `..data/token` → `..2026_12_02_09_00_00.123/token`) that kubelet swaps on
 * rotation, and /proc/<pid>/fd shows the real file, so the kubelet indirection is removed before matching.
 * `/run/...` is also tried as `/var/run/...` (one is a symlink to the other in most images).
 */

const KUBELET_DIR = /\/\.\.(?:data|\d{4}_\d{2}_\d{2}_[^/]+)(?=\/)/g;

export function canonicalPath(path: string): string {
  return path.replace(KUBELET_DIR, '');
}

export function sensitiveMatcher(entries: readonly string[]): (path: string) => string | undefined {
  const exact = new Set(entries.filter((e) => !e.startsWith('*')));
  const suffixes = entries.filter((e) => e.startsWith('*')).map((e) => e.slice(1));
  const test = (p: string): boolean => exact.has(p) || suffixes.some((s) => p.endsWith(s));
  /** Returns the canonical path when the file is sensitive, else undefined. */
  return (raw) => {
    if (!raw.startsWith('/')) return undefined;
    const p = canonicalPath(raw.endsWith(' (deleted)') ? raw.slice(0, -10) : raw);
    if (test(p)) return p;
    if (p.startsWith('/run/') && test(`/var${p}`)) return `/var${p}`;
    return undefined;
  };
}
