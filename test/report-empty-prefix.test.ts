// `seam report incident --from opensearch` on a prefix that holds no alert (a wrong --index-prefix, an index role that
// never ran) said "no incidents: the alerts do not form any", as if alerts were there; it now says no alert is in
// <prefix>-alerts-*, where the prefix came from, and the alert-index prefixes the node has, as `seam hunt` does for
// events (new-user walkthrough, session 32). Alerts that form no incident (one low alert) keep the old sentence.
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportIncidentCommand } from '../src/cli/report.ts';
import { dropPrefix } from './helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const prefix = `seamt_${RUN_ID}_report`;
let client: Client;

function sink(): { text: string; write(s: string): void } {
  return { text: '', write(s: string) { this.text += s; } };
}

async function report(indexPrefix: string): Promise<{ code: number; err: string }> {
  const err = sink();
  const code = await reportIncidentCommand({ latest: true, from: 'opensearch', url: opensearchUrl(), indexPrefix, env: {} }, sink(), err);
  return { code, err: err.text };
}

beforeAll(async () => {
  client = new Client({ node: opensearchUrl() });
  await dropPrefix(client, prefix);
  const low = {
    id: '0123456789abcdef0123456789abcdef',
    '@timestamp': '2024-11-05T14:25:02.016Z',
    rule: { id: 'r-low', title: 'A Low Rule', level: 'low', tags: [], type: 'sigma' },
    events: ['ev-1'],
    summary: 'low',
    principal: { id: 'system:anonymous' },
    incident_key: 'eks:111122223333:prod-eks-01/system:anonymous',
  };
  await client.index({ index: `${prefix}-alerts-2024.11.05`, id: low.id, body: low, refresh: true });
});

afterAll(async () => {
  await dropPrefix(client, prefix);
  await client.close();
});

describe('seam report incident --from opensearch', () => {
  it('an empty prefix: no alert there, the prefix named with its origin and the prefixes the node has', async () => {
    const r = await report(`${prefix}_none`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`seam report incident: no alert in ${prefix}_none-alerts-* at ${opensearchUrl()} (prefix '${prefix}_none' from --index-prefix), so no incident to draw.`);
    expect(r.err).toContain(`'${prefix}'`);
    expect(r.err).not.toContain('the alerts do not form any');
  });

  it('alerts that form no incident (one low alert) still say so', async () => {
    const r = await report(prefix);
    expect(r.code).toBe(1);
    expect(r.err).toBe('seam report incident: no incidents: the alerts do not form any\n');
  });
});
