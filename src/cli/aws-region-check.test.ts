import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configCheckCommand } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'seam-region-'));
const saved = { AWS_REGION: process.env.AWS_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE, AWS_PROFILE: process.env.AWS_PROFILE };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function check(yml: string): Promise<{ code: number; err: string }> {
  const f = join(dir, `seam-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(f, yml);
  let err = '';
  return configCheckCommand(f, {}, { write: () => true }, { write: (s: string) => ((err += s), true) }).then((code) => ({ code, err }));
}

const COLLECT = 'kafka:\n  brokers: [127.0.0.1:9092]\ncollect:\n  sources:\n    cwl:\n      type: cloudwatch-logs\n      logGroups: [{ logGroupName: /aws/eks/prod/cluster }]\n';

describe('seam config check: an AWS collector with no region anywhere (platform-security walkthrough)', () => {
  it('is missing here (exit 1), where `seam collect` ran and failed every call with "Region is missing"', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = join(dir, 'no-such-aws-config');
    const r = await check(COLLECT);
    expect(r.err).toContain('missing here: collect.sources.cwl.region: no AWS region here');
    expect(r.code).toBe(1);
  });

  it('is fine with region in the file, in AWS_REGION or in the AWS config file', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = join(dir, 'no-such-aws-config');
    expect((await check(COLLECT.replace('type: cloudwatch-logs', 'type: cloudwatch-logs\n      region: eu-west-1'))).code).toBe(0);
    process.env.AWS_REGION = 'eu-west-1';
    expect((await check(COLLECT)).code).toBe(0);
    delete process.env.AWS_REGION;
    const cfg = join(dir, 'aws-config');
    writeFileSync(cfg, '[default]\nregion = us-east-2\n');
    process.env.AWS_CONFIG_FILE = cfg;
    const r = await check(COLLECT);
    expect(r.err).not.toContain('no AWS region');
    expect(r.code).toBe(0);
  });

  it('a region that is no AWS region name (eu-west-l, an ell for a one) is invalid (exit 2) at its line, before any call fails', async () => {
    const r = await check('kafka:\n  brokers: [127.0.0.1:9092]\ncollect:\n  sources:\n    gd: { type: guardduty, region: eu-west-l }\n');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/:5:\d+ collect\.sources\.gd\.region: is not an AWS region name \(such as eu-west-1\)/);
    for (const region of ['us-gov-west-1', 'cn-northwest-1', 'eu-isoe-west-1', 'ap-southeast-7']) {
      expect((await check(COLLECT.replace('type: cloudwatch-logs', `type: cloudwatch-logs\n      region: ${region}`))).code).toBe(0);
    }
  });
});

