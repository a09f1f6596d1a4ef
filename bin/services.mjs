#!/usr/bin/env node
// Starts, stops and reports the local real services (Kafka, OpenSearch, moto) that development and the
// integration tests use. See deploy/local/services-lib.mjs. Usage: node bin/services.mjs up|down|status [names…]
import { SERVICE_NAMES, ensureUp, status, stop } from '../deploy/local/services-lib.mjs';

const [command, ...rest] = process.argv.slice(2);
const names = rest.length > 0 ? rest : SERVICE_NAMES;

try {
  if (command === 'up') {
    await ensureUp(names);
  } else if (command === 'down') {
    await stop(names);
  } else if (command === 'status') {
    const rows = await status(names);
    for (const r of rows) {
      const owner = r.pid != null ? `  (pid ${r.pid}, started by services.mjs)` : '';
      process.stdout.write(`${r.name.padEnd(11)} ${r.url.padEnd(24)} ${r.up ? 'up' : 'down'}${owner}\n`);
    }
    process.exitCode = rows.every((r) => r.up) ? 0 : 1;
  } else {
    process.stderr.write(
      'usage: node bin/services.mjs up|down|status [kafka|opensearch|moto …]\n' +
        '  endpoints: SEAM_KAFKA_BROKERS (127.0.0.1:9092), SEAM_OPENSEARCH_URL (http://127.0.0.1:9200),\n' +
        '             SEAM_AWS_ENDPOINT (http://127.0.0.1:4566)\n',
    );
    process.exitCode = 2;
  }
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
