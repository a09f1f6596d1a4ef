import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../detect/alert.ts';
import { buildDetector } from '../detect/load.ts';
import { createDetectStage } from './detect-stage.ts';
import { findingResource } from '../core/normalize/guardduty.ts';
import { incidentsFrom } from './incident.ts';
import { incidentKey } from './incident-topic.ts';
import { pickIncident } from '../report/incident-source.ts';
import { runReplay } from './replay.ts';

const ROOT = join(import.meta.dirname, '../..');

/** A high-severity GuardDuty finding about an EC2 instance that names no principal (REST shape, as ListFindings/GetFindings return it). */
function instanceFinding(id: string, instanceId: string, type: string, minute: number): Record<string, unknown> {
  const t = `2024-11-05T14:${String(minute).padStart(2, '0')}:00.000Z`;
  return {
    schemaVersion: '2.0',
    accountId: '111122223333',
    region: 'us-west-2',
    partition: 'aws',
    id,
    arn: `arn:aws:guardduty:us-west-2:111122223333:detector/d1/finding/${id}`,
    type,
    title: `${type} on ${instanceId}`,
    severity: 8,
    createdAt: t,
    updatedAt: t,
    resource: { resourceType: 'Instance', instanceDetails: { instanceId, instanceType: 't3.large', availabilityZone: 'us-west-2a' } },
    service: { serviceName: 'guardduty', detectorId: 'd1', archived: false, count: 1, eventFirstSeen: t, eventLastSeen: t, action: { actionType: 'NETWORK_CONNECTION' } },
  };
}

describe('incidents of GuardDuty findings that name no principal (ADR 0048)', () => {
  it('group by the instance they are about: two instances are two incidents, two findings on one instance one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-incident-keys-'));
    const findings = [
      instanceFinding('f0000000000000000000000000000001', 'i-0aaaaaaaaaaaaaaa1', 'CryptoCurrency:EC2/BitcoinTool.B!DNS', 1),
      instanceFinding('f0000000000000000000000000000002', 'i-0bbbbbbbbbbbbbbb2', 'CryptoCurrency:EC2/BitcoinTool.B!DNS', 2),
      instanceFinding('f0000000000000000000000000000003', 'i-0aaaaaaaaaaaaaaa1', 'Backdoor:EC2/C&CActivity.B!DNS', 3),
    ];
    await writeFile(join(dir, 'findings.jsonl'), findings.map((f) => JSON.stringify(f)).join('\n') + '\n');
    const detector = await buildDetector([join(ROOT, 'detections/guardduty')]);
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({ paths: [join(dir, 'findings.jsonl')], dlqPath: join(dir, 'dlq.jsonl'), maxRecordBytes: 1 << 20, handler: createDetectStage({ detector }), onAlert: (a) => alerts.push(a) });
    expect(s.rejected).toBe(0);
    expect(alerts.length).toBeGreaterThanOrEqual(3);
    for (const a of alerts) expect(a.principal).toBeUndefined();
    expect(new Set(alerts.map((a) => a.resource))).toEqual(new Set(['ec2:i-0aaaaaaaaaaaaaaa1', 'ec2:i-0bbbbbbbbbbbbbbb2']));
    const incidents = incidentsFrom(alerts);
    const byKey = new Map(incidents.map((i) => [i.key, new Set(i.alerts.map((a) => a.native_ids[0]))]));
    expect(byKey).toEqual(
      new Map([
        ['aws:111122223333/ec2:i-0aaaaaaaaaaaaaaa1', new Set(['f0000000000000000000000000000001', 'f0000000000000000000000000000003'])],
        ['aws:111122223333/ec2:i-0bbbbbbbbbbbbbbb2', new Set(['f0000000000000000000000000000002'])],
      ]),
    );
  });

  it('names the resource of each kind a finding can be about; an EKS cluster is left to the alert\'s cluster', () => {
    const r = (resource: Record<string, unknown>): string | undefined => findingResource({ resource });
    expect(r({ resourceType: 'S3Bucket', s3BucketDetails: [{ name: 'logs-b' }, { name: 'logs-a' }] })).toBe('s3:logs-a,logs-b');
    expect(r({ resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAEXAMPLE000000001', userType: 'IAMUser' } })).toBe('akid:AKIAEXAMPLE000000001');
    expect(r({ resourceType: 'Lambda', lambdaDetails: { functionArn: 'arn:aws:lambda:us-west-2:111122223333:function:f' } })).toBe('lambda:arn:aws:lambda:us-west-2:111122223333:function:f');
    expect(r({ resourceType: 'EKSCluster', eksClusterDetails: { name: 'prod-eks-01' } })).toBeUndefined();
    expect(r({ resourceType: 'Instance' })).toBeUndefined();
    // Without a resource, a principal-less alert is the cluster's; a resource with no account stays as it is.
    expect(incidentKey({ account: '111122223333', cluster: 'prod-eks-01' })).toBe('eks:111122223333:prod-eks-01');
    expect(incidentKey({ resource: 's3:logs-a' })).toBe('s3:logs-a');
  });

  it('seam report incident finds a scoped incident by its key, or by the bare name when one cluster has it', () => {
    const anon = (id: string, cluster: string, minute: number): Alert =>
      ({ id, '@timestamp': `2024-11-05T14:0${minute}:00.000Z`, rule: { id: 'r', title: 'r', level: 'medium', tags: [], type: 'sigma' }, events: [], native_ids: [], summary: id, principal: { id: 'system:anonymous', type: 'anonymous', k8s_user: 'system:anonymous' }, account: '111122223333', cluster }) as Alert;
    const one = incidentsFrom([anon('a', 'prod-a', 1)]);
    expect(pickIncident(one, { id: 'system:anonymous' }).key).toBe('eks:111122223333:prod-a/system:anonymous');
    const two = incidentsFrom([anon('a', 'prod-a', 1), anon('b', 'prod-b', 2)]);
    expect(pickIncident(two, { id: 'eks:111122223333:prod-b/system:anonymous' }).alerts.map((a) => a.id)).toEqual(['b']);
    expect(() => pickIncident(two, { id: 'system:anonymous' })).toThrow("'system:anonymous' has incidents under 2 keys (ADR 0048: one per cluster or account): eks:111122223333:prod-a/system:anonymous, eks:111122223333:prod-b/system:anonymous");
  });
});
