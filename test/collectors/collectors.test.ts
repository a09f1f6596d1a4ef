// The collector integration suite (npm run test:collectors): CloudWatch Logs via moto, the sidecar ingest
// endpoint, and GuardDuty via a stub, all into the real local Kafka. One file so one afterAll can print the
// totals every scenario adds to.
import { afterAll, beforeEach } from 'vitest';
import { summaryLine, tally, throughput } from './tally.ts';
import './cloudwatch.scenario.ts';
import './sidecar.scenario.ts';
import './guardduty.scenario.ts';
import './faults.scenario.ts';

beforeEach(({ task, onTestFailed }) => {
  tally.scenarios++;
  onTestFailed(() => {
    tally.failed.push(task.name);
  });
});

afterAll(() => {
  for (const t of throughput) process.stdout.write(`throughput: ${t}\n`);
  process.stdout.write(`${summaryLine()}\n`);
});
