import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { humanLogLine, logFormat } from './logger.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('log format (review newuser2 L5)', () => {
  it('is text on a terminal and JSON otherwise, unless SEAM_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('text');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ SEAM_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ SEAM_LOG_FORMAT: 'text' }, false)).toBe('text');
  });

  it('prints info as its sentence, warn and above with level, component, fields and the error code', () => {
    expect(humanLogLine('{"level":30,"time":1,"name":"seam","component":"detect","rules":3,"msg":"loaded 3 rules"}')).toBe('seam: loaded 3 rules\n');
    expect(humanLogLine('{"level":40,"time":1,"component":"index","code":"SEAM_ERR_SINK_BULK","count_since_last":2,"origin":"a b","msg":"bulk failed"}')).toBe(
      'seam: WARN [index] bulk failed code=SEAM_ERR_SINK_BULK count_since_last=2 origin="a b"\n',
    );
    expect(humanLogLine('{"level":50,"time":1,"error":{"type":"Error","code":"ECONNREFUSED","message":"connect refused","stack":"..."},"msg":"cannot reach"}')).toBe(
      'seam: ERROR cannot reach error="ECONNREFUSED: connect refused"\n',
    );
  });

  it('a seam command writes human lines with SEAM_LOG_FORMAT=text and JSON lines by default into a pipe', () => {
    const run = (format: string | undefined) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', join(ROOT, 'test/fixtures/k8s-audit/eks-audit.jsonl'), '--rules', join(ROOT, 'detections/kubernetes'), '--alerts-out', '/dev/null', '--dlq', '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'info', SEAM_CACHE_DIR: 'off', SEAM_LOG_FORMAT: format ?? '' },
      });
    const text = run('text');
    expect(text.status).toBe(0);
    expect(text.stderr).toMatch(/^seam: loaded \d+ rules and \d+ correlations from \d+ files in \d+ ms$/m);
    expect(text.stderr).not.toContain('"msg"');
    const json = run(undefined);
    expect(json.stderr).toMatch(/^\{"level":30,.*"msg":"loaded \d+ rules/m);
  });
});

describe('process warnings', () => {
  it("are one Seam log line each, not Node's multi-line text (the AWS SDK's NodeVersionSupportWarning on Node 20)", () => {
    const script = [
      `const m = await import(${JSON.stringify(join(ROOT, 'src/core/logger.ts'))});`,
      'm.logProcessWarnings();',
      "process.emitWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\\nversions published after...\\n\\nMore information');",
      'await m.flushLogs();',
    ].join('\n');
    const run = (flags: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', ...flags, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_LOG_FORMAT: 'json', SEAM_LOG_LEVEL: 'info' } });
    const r = run([]);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, component: 'node', warning: 'Warning', msg: 'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) versions published after... More information' });
    // --no-warnings still silences them.
    expect(run(['--no-warnings']).stderr.trim()).toBe('');
  });
});
