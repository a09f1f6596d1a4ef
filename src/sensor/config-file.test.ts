import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/load.ts';
import { configFromEnv } from './config.ts';
import { readSensorSection } from './config-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'seam-sensor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

const SEAM_YML = [
  'kafka: { brokers: [\'b-1:9098\'], sasl: { mechanism: aws-msk-iam, region: us-west-2 }, tls: {} }',
  'sensor:',
  '  intervalMs: 500',
  '  pod: { cluster: prod-eks-01, account: "111122223333" }',
  '  containers: [{ name: app, image: shop/checkout:1.4 }]',
  '  ingest:',
  '    url: https://seam-ingest.seam.svc:8765/v1/ingest',
  '    tokenFile: /var/run/seam/token',
  '    caFile: /var/run/seam/ca.crt',
  '',
].join('\n');

describe('seam sensor reads the sensor section of seam.yml', () => {
  it('takes its fields from the file, the Downward API variables and SEAM_* over them', () => {
    const section = readSensorSection(write('seam.yml', SEAM_YML));
    const c = configFromEnv({ SEAM_POD_NAMESPACE: 'shop', SEAM_POD_NAME: 'checkout-1', SEAM_SENSOR_INTERVAL_MS: '300' }, {}, section);
    expect(c.intervalMs).toBe(300);
    expect(c.pod).toEqual({ namespace: 'shop', name: 'checkout-1', cluster: 'prod-eks-01', account: '111122223333' });
    expect(c.containers).toEqual([{ name: 'app', image: 'shop/checkout:1.4' }]);
    expect(c.ingest).toMatchObject({ url: 'https://seam-ingest.seam.svc:8765/v1/ingest', tokenFile: '/var/run/seam/token', caFile: '/var/run/seam/ca.crt', batchMaxRecords: 500 });
    const fromFile = configFromEnv({ SEAM_POD_NAMESPACE: 'shop', SEAM_POD_NAME: 'checkout-1' }, {}, section);
    expect(fromFile.intervalMs).toBe(500);
  });

  it('the same file passes the other commands\' loader (one seam.yml for every role)', () => {
    const loaded = loadConfig(write('all.yml', SEAM_YML), {});
    expect(loaded.config.sensor?.intervalMs).toBe(500);
  });

  it('resolves relative paths against the file\'s folder, as the other commands\' loader does', () => {
    const f = write('rel.yml', SEAM_YML.replace('/var/run/seam/token', 'secrets/token').replace('/var/run/seam/ca.crt', 'ca.crt'));
    const section = readSensorSection(f) as { ingest: { tokenFile: string; caFile: string } };
    expect(section.ingest).toMatchObject({ tokenFile: join(dir, 'secrets/token'), caFile: join(dir, 'ca.crt') });
    expect(loadConfig(f, {}).config.sensor?.ingest).toMatchObject({ tokenFile: join(dir, 'secrets/token'), caFile: join(dir, 'ca.crt') });
  });

  it('says where a field is wrong, and when the file has no sensor section', () => {
    const bad = write('bad.yml', ['kafka: { brokers: [\'b:9092\'] }', 'sensor:', '  intervalMs: 5', '  ingest: { url: not-a-url }', ''].join('\n'));
    expect(() => readSensorSection(bad)).toThrow(/bad\.yml:3:15: sensor\.intervalMs: .*bad\.yml:4:18: sensor\.ingest\.url/s);
    expect(() => readSensorSection(write('none.yml', 'kafka: { brokers: [\'b:9092\'] }\n'))).toThrow(/none\.yml has no sensor section/);
  });
});
