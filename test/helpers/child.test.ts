// The watched child process (test/helpers/child.ts) that fault tests spawn `seam run` and `seam collect` with: what
// a failure message about it says must hold the exit code or signal and the end of its stderr.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exitText, watchChild } from './child.ts';

const node = (code: string): ReturnType<typeof spawn> => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });

describe('watchChild', () => {
  it('explains an exit by its code and the tail of stderr, the last words included', async () => {
    const c = watchChild(node(`process.stderr.write('x'.repeat(10000) + '\\nstarting\\n'); setTimeout(() => { process.stderr.write('the last words'); process.exit(3); }, 50);`), 'seam run (test)');
    expect(await c.waitFor(/starting/, 30_000)).toBe('starting');
    expect(c.explain()).toMatch(/^seam run \(test\) \(pid \d+\): still running after [\d.]+ s; stderr, last 6000 characters of 10010:\n/);
    expect(await c.exited).toEqual({ code: 3, signal: null });
    const e = c.explain(100);
    expect(e).toMatch(/: exit code 3 after [\d.]+ s; stderr, last 100 characters of 10024:\n/);
    expect(e.endsWith('starting\nthe last words')).toBe(true);
    expect(e.split('\n').slice(1).join('\n')).toHaveLength(100);
  });

  it('explains a death by its signal, and a wait the exit ends', async () => {
    const c = watchChild(node(`process.stderr.write('up\\n'); setInterval(() => {}, 1000);`), 'seam collect (test)');
    await c.waitFor(/up/, 30_000);
    const never = c.waitFor(/never printed/, 60_000);
    c.proc.kill('SIGKILL');
    await expect(never).rejects.toThrow(/^seam collect \(test\) exited before printing \/never printed\/\nseam collect \(test\) \(pid \d+\): killed by SIGKILL after [\d.]+ s; stderr, last 6000 characters:\nup\n$/);
    expect(exitText(c.exit())).toBe('killed by SIGKILL');
    expect(exitText(undefined)).toBe('still running');
  });

  it('says a wait timed out, with what the child printed so far', async () => {
    const c = watchChild(node(`process.stderr.write('waiting for nothing\\n'); setInterval(() => {}, 1000);`), 'child');
    await c.waitFor(/waiting/, 30_000);
    await expect(c.waitFor(/ready/, 200)).rejects.toThrow(/^child did not print \/ready\/ within 200 ms\nchild \(pid \d+\): still running after [\d.]+ s; [^\n]*\nwaiting for nothing\n$/);
    c.proc.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
