import { describe, expect, it } from 'vitest';
import { kafkaBusOptions } from './kafka-config.ts';
import { KafkaBus } from './kafka.ts';
import { THROWAWAY_GROUP_KINDS, throwawayGroupId, throwawayGroupStem } from './groups.ts';
import { KafkaConfig } from '../core/config/schema.ts';

describe('throwaway consumer groups', () => {
  it('start with the group prefix, then seam-<kind>-, and differ on every call', () => {
    for (const kind of THROWAWAY_GROUP_KINDS) {
      const a = throwawayGroupId(kind, 'blue-');
      expect(a).toMatch(new RegExp(`^blue-seam-${kind}-[0-9a-f]{12}$`));
      expect(a.startsWith(throwawayGroupStem(kind, 'blue-'))).toBe(true);
      expect(throwawayGroupId(kind, 'blue-')).not.toBe(a);
      expect(throwawayGroupId(kind)).toMatch(new RegExp(`^seam-${kind}-[0-9a-f]{12}$`));
    }
    expect(throwawayGroupId('lease', 'blue-', 'collect-0')).toMatch(/^blue-seam-lease-collect-0-[0-9a-f]{12}$/);
  });

  it('the bus built from seam.yml carries kafka.groupPrefix (the readers and history re-reads name their groups with it)', () => {
    const cfg = KafkaConfig.parse({ brokers: ['localhost:9092'], groupPrefix: 'green-' });
    expect(new KafkaBus(kafkaBusOptions(cfg)).groupPrefix).toBe('green-');
    expect(new KafkaBus({ brokers: ['localhost:9092'] }).groupPrefix).toBe('');
  });
});
