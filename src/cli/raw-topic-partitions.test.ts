import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheckCommand, rawTopicPartitions } from './config.ts';
import { loadConfig } from '../core/config/load.ts';

// Review-ops L4: one knob for the raw topics' partitions (kafka.partitions.raw); collect.rawTopicPartitions is deprecated.

const sink = (): { text: string; write(s: string): boolean } => ({ text: '', write(s: string) { this.text += s; return true; } });
const env = { SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_CONFIG: '' };
const dir = mkdtempSync(join(tmpdir(), 'seam-rawparts-'));
writeFileSync(join(dir, 'x.jsonl'), '');
const SOURCES = 'collect:\n  sources:\n    a: { type: file, paths: [x.jsonl] }\n';

async function check(name: string, yml: string): Promise<{ code: number; err: string; partitions: number }> {
  const file = join(dir, name);
  writeFileSync(file, yml);
  const err = sink();
  const code = await configCheckCommand(file, env, sink(), err);
  return { code, err: err.text, partitions: rawTopicPartitions(loadConfig(file, env)).partitions };
}

describe('raw topic partitions', () => {
  it('both set and different: config check warns (exit 0) and kafka.partitions.raw wins', async () => {
    const r = await check('both.yml', `kafka: { brokers: [127.0.0.1:9092], partitions: { raw: 12 } }\n${SOURCES}  rawTopicPartitions: 6\n`);
    expect(r.code).toBe(0);
    expect(r.err).toContain('seam config check: warning: collect.rawTopicPartitions (6) differs from kafka.partitions.raw (12)');
    expect(r.partitions).toBe(12);
  });

  it('only the deprecated one: still read, with a warning naming the field to use', async () => {
    const r = await check('old.yml', `kafka: { brokers: [127.0.0.1:9092] }\n${SOURCES}  rawTopicPartitions: 3\n`);
    expect(r.err).toContain('collect.rawTopicPartitions is deprecated: set kafka.partitions.raw: 3 instead');
    expect(r.partitions).toBe(3);
  });

  it('only kafka.partitions.raw: no warning', async () => {
    const r = await check('new.yml', `kafka: { brokers: [127.0.0.1:9092], partitions: { raw: 9 } }\n${SOURCES}`);
    expect(r.err).not.toContain('rawTopicPartitions');
    expect(r.partitions).toBe(9);
  });
});
