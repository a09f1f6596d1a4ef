import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_HEADERS } from '../../bus/topics.ts';
import type { BusMessage } from '../../bus/types.ts';
import { FileCheckpointStore } from '../checkpoint/file-store.ts';
import { CloudWatchLogsSourceConfig } from './config.ts';
import { accountOfLogGroupArn, CloudWatchLogsSource } from './source.ts';

// A stub of the CloudWatch Logs JSON 1.1 wire protocol (moto cannot be made to throttle or refuse): DescribeLogGroups
// answers from a script per log group (throttled, refused, or the group with its ARN); FilterLogEvents returns one
// event per call. It counts DescribeLogGroups requests per group.
type Answer = 'throttle' | 'denied' | 'expired' | 'ok';
const script = new Map<string, Answer[]>();
const describes = new Map<string, number>();
let server: Server;
let endpoint: string;
let seq = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as { logGroupNamePrefix?: string; logGroupName?: string };
      const send = (status: number, payload: unknown, type?: string): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${++seq}`, ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(payload));
      };
      if (target.endsWith('DescribeLogGroups')) {
        const name = input.logGroupNamePrefix ?? '';
        describes.set(name, (describes.get(name) ?? 0) + 1);
        const next = script.get(name)?.shift() ?? 'ok';
        if (next === 'throttle') return send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, 'ThrottlingException');
        if (next === 'expired') return send(400, { __type: 'ExpiredTokenException', message: 'The security token included in the request is expired' }, 'ExpiredTokenException');
        if (next === 'denied') return send(400, { __type: 'AccessDeniedException', message: 'not authorized to perform: logs:DescribeLogGroups' }, 'AccessDeniedException');
        return send(200, { logGroups: [{ logGroupName: name, logGroupArn: `arn:aws:logs:us-east-1:444455556666:log-group:${name}`, arn: `arn:aws:logs:us-east-1:444455556666:log-group:${name}:*` }] });
      }
      const n = ++seq;
      return send(200, { events: [{ logStreamName: 'kube-apiserver-audit-1', timestamp: Date.now() - 1000, eventId: `e-${n}`, message: `{"kind":"Event","auditID":"a-${n}"}` }] });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function source(group: string, clock: { now: number }): Promise<{ src: CloudWatchLogsSource; written: BusMessage[] }> {
  const config = CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', name: `acct-${group}`, region: 'us-east-1', endpoint, maxAttempts: 1, logGroups: [{ logGroupName: group }] });
  const written: BusMessage[] = [];
  const src = new CloudWatchLogsSource(config, {
    logs: new CloudWatchLogs({ region: 'us-east-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } }),
    store: new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'seam-acct-')), 'cp.json')),
    writerFor: () => Promise.resolve({ write: (records: BusMessage[]) => (written.push(...records), Promise.resolve()), close: () => Promise.resolve() }),
    now: () => clock.now,
  });
  return { src, written };
}
const accountsOf = (ms: BusMessage[]): (string | undefined)[] => ms.map((m) => m.headers?.[RAW_HEADERS.account]);

describe("the CloudWatch Logs collector reads a log group's account from its ARN", () => {
  it('parses the account of a log group ARN, with or without the :* suffix, in any partition', () => {
    expect(accountOfLogGroupArn('arn:aws:logs:eu-west-1:111122223333:log-group:/aws/eks/prod/cluster:*')).toBe('111122223333');
    expect(accountOfLogGroupArn('arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:x')).toBe('111122223333');
    expect(accountOfLogGroupArn('arn:aws:logs:eu-west-1:1111:log-group:x')).toBeUndefined();
    expect(accountOfLogGroupArn(undefined)).toBeUndefined();
  });

  it('a throttled lookup is not kept: the group is read without an account, and looked up again after the retry delay', async () => {
    const group = '/aws/eks/throttled/cluster';
    script.set(group, ['throttle', 'ok']);
    const clock = { now: Date.now() };
    const { src, written } = await source(group, clock);
    await src.start();
    await src.pollOnce();
    expect(describes.get(group)).toBe(1);
    expect(src.stats.snapshot().errors).toMatchObject({ SEAM_ERR_SOURCE_THROTTLED: 1 });
    clock.now += 60_000;
    await src.pollOnce(); // within the retry delay: no second lookup
    expect(describes.get(group)).toBe(1);
    clock.now += 5 * 60_000;
    await src.pollOnce();
    expect(describes.get(group)).toBe(2);
    expect(accountsOf(written)).toEqual([undefined, undefined, '444455556666']);
    await src.close();
  });

  it('an expired token is not a refusal: looked up again after the retry delay', async () => {
    const group = '/aws/eks/expired/cluster';
    script.set(group, ['expired', 'ok']);
    const clock = { now: Date.now() };
    const { src, written } = await source(group, clock);
    await src.start();
    clock.now += 6 * 60_000;
    await src.pollOnce();
    expect(describes.get(group)).toBe(2);
    expect(accountsOf(written)).toEqual(['444455556666']);
    await src.close();
  });

  it('a refused lookup is kept (warned once, never repeated); a successful one is made once for the life of the process', async () => {
    const denied = '/aws/eks/denied/cluster';
    script.set(denied, ['denied', 'ok']);
    const clock = { now: Date.now() };
    const a = await source(denied, clock);
    await a.src.start();
    clock.now += 3600_000;
    await a.src.pollOnce();
    expect(describes.get(denied)).toBe(1);
    expect(accountsOf(a.written)).toEqual([undefined]);
    expect(a.src.stats.snapshot().errors).toMatchObject({ SEAM_ERR_SOURCE_API: 1 });

    const fine = '/aws/eks/fine/cluster';
    const b = await source(fine, clock);
    await b.src.start();
    await b.src.pollOnce();
    await b.src.pollOnce();
    expect(describes.get(fine)).toBe(1);
    expect(accountsOf(b.written)).toEqual(['444455556666', '444455556666']);
    await a.src.close();
    await b.src.close();
  });
});
