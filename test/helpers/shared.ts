// The third-party corpus lives beside the repository (../shared from its root), never at a machine path.
// Under CI a missing corpus is a failure; elsewhere the tests that need it are skipped with a printed reason.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared');

/** True when `path` exists; false (with the reason on stderr) outside CI; throws under CI. */
export function sharedPresent(path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') throw new Error(`${path} is missing: the third-party corpus must sit at ../shared beside the repository under CI`);
  process.stderr.write(`skipping tests that need ${path}: it is missing (the corpus sits at ../shared beside the repository)\n`);
  return false;
}
