// vitest globalSetup for the "integration" project: makes sure Kafka, OpenSearch and moto answer (starting —
// and on a fresh clone provisioning — whatever does not), hands the endpoints to the tests, and at the end
// stops only what it started. Set SEAM_KEEP_SERVICES=1 to leave them running for the next run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { SERVICE_NAMES, endpoints as serviceEndpoints, ensureUp, stop } from '../deploy/local/services-lib.mjs';
import { formatAbuse, sumAbuseFile } from './abuse/tally.ts';
import { formatTally, sumTallyFile } from './faults/tally.ts';
import { formatOrder, sumOrderFile } from './order/tally.ts';
import type { SeamEndpoints } from './helpers/services.ts';

const log = (line: string): void => {
  process.stderr.write(`[services] ${line}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const { started, results } = await ensureUp(SERVICE_NAMES, { log });
  for (const r of results) {
    log(`${r.name.padEnd(10)} ${r.url.padEnd(24)} ${r.started ? `started in ${(r.ms / 1000).toFixed(1)}s` : 'already running'}`);
  }
  log(`all services ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

  const ep = serviceEndpoints();
  const provided: SeamEndpoints = {
    kafkaBrokers: ep.kafka.brokers,
    opensearchUrl: ep.opensearch.url,
    awsEndpoint: ep.moto.url,
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
  };
  project.provide('seamEndpoints', provided);
  const tallyFile = path.join(os.tmpdir(), `seam-faults-${process.pid}-${Date.now()}.jsonl`);
  project.provide('faultsTallyFile', tallyFile);
  const abuseFile = path.join(os.tmpdir(), `seam-abuse-${process.pid}-${Date.now()}.jsonl`);
  project.provide('abuseTallyFile', abuseFile);
  const orderFile = path.join(os.tmpdir(), `seam-order-${process.pid}-${Date.now()}.jsonl`);
  project.provide('orderTallyFile', orderFile);
  // Also as env, for code under test that reads its config from the environment.
  process.env.SEAM_KAFKA_BROKERS = provided.kafkaBrokers.join(',');
  process.env.SEAM_OPENSEARCH_URL = provided.opensearchUrl;
  process.env.SEAM_AWS_ENDPOINT = provided.awsEndpoint;

  return async () => {
    // Every fault scenario of the run, whichever file ran it, in the one line `npm run test:faults` ends with.
    const tally = sumTallyFile(tallyFile);
    if (tally !== undefined) {
      process.stdout.write(`${formatTally('faults', tally)}\n`);
      fs.rmSync(tallyFile, { force: true });
    }
    // The abuse suite's line (issue 11), over every abuse file of the run.
    const abuse = sumAbuseFile(abuseFile);
    if (abuse !== undefined) {
      process.stdout.write(`${formatAbuse('abuse', abuse)}\n`);
      fs.rmSync(abuseFile, { force: true });
    }
    // Every run of the event-time order tests (test/order/), embedded and on Kafka, in the line `npm run test:order` ends with.
    const order = sumOrderFile(orderFile);
    if (order !== undefined) {
      process.stdout.write(`${formatOrder(order)}\n`);
      fs.rmSync(orderFile, { force: true });
    }
    if (started.length === 0) return;
    if (process.env.SEAM_KEEP_SERVICES) {
      log(`leaving ${started.join(', ')} running (SEAM_KEEP_SERVICES is set)`);
      return;
    }
    await stop(started, { log });
  };
}
