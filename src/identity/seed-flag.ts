/** The `--seed` flag of `seam run` and `seam replay` (kept apart from the seed reader: the CLI parses flags before loading the graph). */
export interface SeedFlag {
  path: string;
  cluster?: string;
}

/** `FILE` or `FILE=CLUSTER` (the flag's form; a `=` followed by a path separator is part of the file name). */
export function parseSeedFlag(v: string): SeedFlag {
  const i = v.lastIndexOf('=');
  if (i > 0 && i < v.length - 1 && !v.slice(i + 1).includes('/')) return { path: v.slice(0, i), cluster: v.slice(i + 1) };
  return { path: v };
}
