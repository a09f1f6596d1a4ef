import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from './config-reference.ts';

describe('configuration reference', () => {
  it('docs/config-reference.md is what the schemas generate (run `node bin/seam.mjs config reference > docs/config-reference.md`)', async () => {
    const committed = await readFile(join(import.meta.dirname, '../../docs/config-reference.md'), 'utf8');
    expect(committed).toBe(configReference());
  });

  it('documents every collector type and its fields', () => {
    const text = configReference();
    for (const f of ['`collect.sources.<name>.logGroups`', '`collect.sources.<name>.type`', '`opensearch.nodeUrls`', '`identity.clusters[].egressCidrs`', '`kafka.sasl.mechanism`', '`kafka.tls.caFile`', '`SEAM_KAFKA_SASL_PASSWORD`']) {
      expect(text).toContain(f);
    }
  });

  it("lists a field under every collector type that has it, even when its row reads the same (guardduty's maxAttempts, retryMode, ownership)", () => {
    const text = configReference();
    const rows = text.split('\n');
    const gd = rows.findIndex((r) => r.startsWith('| `collect.sources.<name>` |') && r.includes('GuardDuty findings through the API'));
    expect(gd).toBeGreaterThan(0);
    const end = rows.findIndex((r, i) => i > gd && r.startsWith('| `collect.sources.<name>` |'));
    const section = rows.slice(gd, end).map((r) => r.split(' | ')[0]);
    for (const f of ['maxAttempts', 'retryMode', 'ownership.replicaId', 'ownership.replicas']) expect(section).toContain(`| \`collect.sources.<name>.${f}\``);
    // The GuardDuty collector splits detectors by a static list only: no lease row under it, as cloudwatch-logs has.
    expect(rows.slice(gd, end).filter((r) => r.includes('ownership.lease'))).toEqual([]);
    const cwl = rows.findIndex((r) => r.startsWith('| `collect.sources.<name>` |') && r.includes('from CloudWatch Logs'));
    const cwlEnd = rows.findIndex((r, i) => i > cwl && r.startsWith('| `collect.sources.<name>` |'));
    expect(rows.slice(cwl, cwlEnd).filter((r) => r.startsWith('| `collect.sources.<name>.ownership.lease'))).toHaveLength(4);
    // The three HTTP outputs (webhook, slack, pagerduty) each list their retry settings; sns retries through the SDK (maxAttempts).
    expect(rows.filter((r) => r.startsWith('| `outputs.<name>.retry.maxAttempts` |'))).toHaveLength(3);
  });
});
