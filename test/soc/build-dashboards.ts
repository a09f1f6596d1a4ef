/**
 * Writes deploy/opensearch/dashboards/*.ndjson from the spec in src/sinks/opensearch/dashboards.ts
 * (`npm run dashboards:build`); src/sinks/opensearch/dashboards.test.ts fails when the files and the spec differ.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS_DIR, generatedFiles } from '../../src/sinks/opensearch/dashboards-import.ts';

mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const f of generatedFiles()) {
  writeFileSync(join(DASHBOARDS_DIR, f.file), f.ndjson);
  process.stdout.write(`${join(DASHBOARDS_DIR, f.file)}: ${f.ndjson.trim().split('\n').length} objects\n`);
}
