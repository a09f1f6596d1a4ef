import { describe, expect, it } from 'vitest';
import { testAlert } from '../../test/helpers/alerts.ts';
import { foldAlerts } from '../detect/fold.ts';
import { formatIncident, incidentsFrom } from './incident.ts';

describe('formatIncident', () => {
  it('counts folded alerts (ADR 0050) and lists each under the alert of its event that was notified', () => {
    const pod = { events: ['ev-pod'], native_ids: ['nat-pod'] };
    const alerts = [
      testAlert({ n: 1, ...pod, rule: { id: 'kube-system-pod', title: 'Pod Created In Kube System Namespace', level: 'medium', tags: [], type: 'sigma' } }),
      testAlert({ n: 1, id: 'a-priv', ...pod, rule: { id: 'privileged-pod', title: 'Privileged Pod Created', level: 'high', tags: [], type: 'sigma' } }),
      testAlert({ n: 2, rule: { id: 'exec', title: 'Exec Into Pod', level: 'medium', tags: [], type: 'sigma' } }),
    ];
    foldAlerts('ev-pod', alerts);
    const [inc] = incidentsFrom(alerts);
    const lines = formatIncident(inc!).split('\n');
    expect(lines[0]).toContain('— 3 alerts from');
    expect(lines.slice(-3)).toEqual([
      '  2026-12-01T10:00:01.000Z [high] Privileged Pod Created',
      '      also matched: [medium] Pod Created In Kube System Namespace',
      '  2026-12-01T10:00:02.000Z [medium] Exec Into Pod',
    ]);
  });
});
