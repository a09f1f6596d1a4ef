import { afterEach, describe, expect, it } from 'vitest';
import { Counters, ERROR_LOG_INTERVAL_MS, logCountedErrors } from './counters.ts';

// review-ops L1: dead letters are visible in the logs while a role runs, one WARN line per code at most every 10 s.
describe('Counters.error WARN lines', () => {
  afterEach(() => logCountedErrors(false));

  it('logs the first error of a code at once, then at most one line per code per interval with the count since the last line and the last origin', () => {
    const lines: unknown[] = [];
    logCountedErrors(true, (component, fields) => lines.push({ component, ...fields }));
    const c = new Counters('role.normalize');
    const t = 1_000_000;
    c.error('SEAM_ERR_INPUT_JSON', 1, 'raw/0/1', t);
    c.error('SEAM_ERR_INPUT_JSON', 1, 'raw/0/2', t + 100);
    c.error('SEAM_ERR_INPUT_JSON', 1, 'raw/0/3', t + 200);
    c.error('SEAM_ERR_INPUT_OVERSIZED', 1, undefined, t + 300);
    c.error('SEAM_ERR_INPUT_JSON', 1, 'raw/0/4', t + ERROR_LOG_INTERVAL_MS);
    expect(lines).toEqual([
      { component: 'role.normalize', code: 'SEAM_ERR_INPUT_JSON', count_since_last: 1, origin: 'raw/0/1' },
      { component: 'role.normalize', code: 'SEAM_ERR_INPUT_OVERSIZED', count_since_last: 1 },
      { component: 'role.normalize', code: 'SEAM_ERR_INPUT_JSON', count_since_last: 3, origin: 'raw/0/4' },
    ]);
    expect(c.snapshot().errors).toEqual({ SEAM_ERR_INPUT_JSON: 4, SEAM_ERR_INPUT_OVERSIZED: 1 });
    // Off (one-shot commands): counted, not logged.
    logCountedErrors(false);
    c.error('SEAM_ERR_INPUT_JSON', 1, 'raw/0/5', t + 3 * ERROR_LOG_INTERVAL_MS);
    expect(lines).toHaveLength(3);
    expect(c.errors.get('SEAM_ERR_INPUT_JSON')).toBe(5);
  });
});
