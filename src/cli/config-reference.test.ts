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
});
