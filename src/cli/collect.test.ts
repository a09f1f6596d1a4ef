import { describe, expect, it } from 'vitest';
import { CollectConfig } from '../sources/registry.ts';
import { applyReplicaId } from './collect.ts';

describe('seam collect config', () => {
  it('puts SEAM_REPLICA_ID into every ownership block, and leaves sources without one alone', () => {
    const raw = {
      sources: {
        audit: { type: 'cloudwatch-logs', logGroups: [{ logGroupName: '/aws/eks/prod/cluster' }], ownership: { replicaId: 'x', replicas: ['seam-collect-0', 'seam-collect-1'] } },
        files: { type: 'file', paths: ['deploy/demo'] },
      },
    };
    const c = CollectConfig.parse(applyReplicaId(raw, 'seam-collect-1'));
    const audit = c.sources.audit as { ownership?: { replicaId: string } };
    expect(audit.ownership?.replicaId).toBe('seam-collect-1');
    expect(c.sources.files).not.toHaveProperty('ownership');
    expect(applyReplicaId(raw, undefined)).toBe(raw);
  });
});
