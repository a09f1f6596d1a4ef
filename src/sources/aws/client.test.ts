import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeamError } from '../../core/errors.ts';
import { CloudWatchLogsSourceConfig } from '../cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../cloudwatch-logs/source.ts';
import { FileCheckpointStore } from '../checkpoint/file-store.ts';
import { awsClientOptions, isTransientAwsError } from './client.ts';

// A stub of the CloudWatch Logs JSON 1.1 wire protocol (moto cannot be made to throttle): every request is
// answered 400 ThrottlingException, as CloudWatch Logs answers when an account exceeds FilterLogEvents' quota.
// It counts the HTTP requests, which is the figure this test is about.
let server: Server;
let endpoint: string;
let requests = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const body = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException', 'x-amzn-requestid': `req-${requests}` });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('AWS calls under throttling', () => {
  it('classifies transient failures', () => {
    expect(isTransientAwsError({ name: 'ThrottlingException' })).toBe(true);
    expect(isTransientAwsError({ name: 'X', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientAwsError({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).toBe(false);
  });

  for (const maxAttempts of [1, 3]) {
    it(`a throttled poll makes exactly maxAttempts=${maxAttempts} HTTP calls, then fails with a counted SEAM_ERR_SOURCE_THROTTLED`, async () => {
      const config = CloudWatchLogsSourceConfig.parse({
        type: 'cloudwatch-logs',
        name: 'throttled',
        region: 'us-east-1',
        endpoint,
        maxAttempts,
        // With its account named, the group needs no DescribeLogGroups: the stub's requests are all FilterLogEvents.
        logGroups: [{ logGroupName: '/aws/eks/prod/cluster', source: 'k8s_audit', account: '111122223333' }],
      });
      const logs = new CloudWatchLogs({ ...awsClientOptions(config), credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
      const src = new CloudWatchLogsSource(config, {
        logs,
        store: new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'seam-throttle-')), 'cp.json')),
        writerFor: () => Promise.resolve({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
      });
      await src.start();
      const before = requests;
      await src.pollOnce();
      expect(requests - before).toBe(maxAttempts);
      expect(src.stats.snapshot().errors).toMatchObject({ SEAM_ERR_SOURCE_THROTTLED: 1 });
    });
  }

  it('the SDK error names its attempts; a direct call surfaces as a SeamError', async () => {
    const { callAws } = await import('./client.ts');
    const logs = new CloudWatchLogs({ region: 'us-east-1', endpoint, maxAttempts: 2, retryMode: 'adaptive', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    const before = requests;
    const e: unknown = await callAws('FilterLogEvents', () => logs.filterLogEvents({ logGroupName: 'g' })).catch((x: unknown) => x);
    expect(requests - before).toBe(2);
    expect(isSeamError(e) && e.code).toBe('SEAM_ERR_SOURCE_THROTTLED');
    expect(isSeamError(e) && e.details).toMatchObject({ attempts: 2 });
  });

  it('an endpoint name that does not resolve (a typo in region) is SEAM_ERR_SOURCE_API naming the host, not throttling', async () => {
    const { callAws } = await import('./client.ts');
    // The error node:dns gives the SDK for a name with no record, as a collector with region eu-west-l (an ell) meets it.
    const dnsError = Object.assign(new Error('getaddrinfo ENOTFOUND guardduty.eu-west-l.amazonaws.com'), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: 'guardduty.eu-west-l.amazonaws.com', $metadata: { attempts: 5 } });
    const e: unknown = await callAws('ListDetectors', () => Promise.reject(dnsError)).catch((x: unknown) => x);
    expect(isSeamError(e) && e.code).toBe('SEAM_ERR_SOURCE_API');
    expect(isSeamError(e) && e.message).toBe("ListDetectors failed: guardduty.eu-west-l.amazonaws.com does not resolve (ENOTFOUND): check the collector's region and endpoint");
    expect(isSeamError(e) && e.details).toMatchObject({ attempts: 5, host: 'guardduty.eu-west-l.amazonaws.com' });
    // A refused or reset connection is still transient.
    const refused = await callAws('ListDetectors', () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).catch((x: unknown) => x);
    expect(isSeamError(refused) && refused.code).toBe('SEAM_ERR_SOURCE_THROTTLED');
  });
});
