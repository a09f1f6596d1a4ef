// The incident page's "Before" section (review-soc follow-up): what the grantee and the granter did in the hour
// before the first alert, from a `seam run` folder's events, bounded, and honest about what the data covers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { BEFORE_ROWS, beforeQuery, beforeTargets } from './incident-before.ts';
import { renderIncidentHtml } from './incident-html.ts';
import { incidentsFromFolder, pagesFromFolder } from './incident-source.ts';

const GRANTEE = 'arn:aws:sts::111122223333:assumed-role/ci-deployer/gha-run-1';
const GRANTER = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';
const OTHER = 'arn:aws:sts::111122223333:assumed-role/Reader/bob@example.com';
const T = Date.parse('2024-11-05T15:00:00.000Z');
const at = (min: number): string => new Date(T + min * 60_000).toISOString();

let n = 0;
function ev(who: string, min: number, action: string, resource = 'x'): SeamEvent {
  return {
    '@timestamp': at(min),
    seam: { id: `ev-${n++}`, source: 'k8s_audit', action, resource, cluster: 'c1', account: '111122223333', principal: { id: who, type: 'k8s_user', arn: who, k8s_user: who }, ingest: { collector: 'file', received_at: 'x', truncated: false, redacted: [] } },
  } as SeamEvent;
}

function folder(events: SeamEvent[], alert: Alert): string {
  const dir = mkdtempSync(join(tmpdir(), 'seam-before-'));
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, 'alerts.jsonl'), `${JSON.stringify(alert)}\n`);
  return dir;
}

function firstUse(use: SeamEvent, grant: SeamEvent): Alert {
  return {
    id: 'a-first-use',
    '@timestamp': use['@timestamp'],
    rule: { id: 'seam-native-aws-auth-first-use', title: 'First use of a new aws-auth mapping', level: 'critical', tags: [], type: 'native' },
    events: [use.seam.id],
    related_events: [grant.seam.id],
    native_ids: [],
    principal: { id: GRANTEE, type: 'k8s_user', arn: GRANTEE, k8s_user: GRANTEE },
    summary: 'First use of a new aws-auth mapping',
  } as Alert;
}

describe('incident page: Before the first alert', () => {
  it("shows the grantee's and the granter's events of the hour before, the newest rows, with counts of the rest", async () => {
    const grant = ev(GRANTER, -10, 'update configmaps', 'kube-system/configmaps/aws-auth');
    const use = ev(GRANTEE, 0, 'patch deployments', 'checkout/deployments/web');
    const granterHour = Array.from({ length: 20 }, (_, i) => ev(GRANTER, -55 + i * 2, 'get pods', `p${i}`));
    const events = [
      ev(GRANTER, -90, 'list nodes'), // before the window
      ...granterHour,
      grant,
      ev(GRANTEE, -5, 'get deployments', 'checkout/deployments/web'),
      ev(OTHER, -3, 'list pods'), // someone else: not on the page
      use, // the alert's own time: not "before"
      ev(GRANTER, 5, 'delete pods'), // after
    ];
    const dir = folder(events, firstUse(use, grant));
    const [inc] = await incidentsFromFolder(dir);
    const [page] = await pagesFromFolder(dir, [inc!], new Map());
    const b = page!.before!;
    expect([b.from, b.to]).toEqual([at(-60), at(0)]);
    expect(b.dataFrom).toBe(at(-90));
    const [grantee, granter, ...rest] = b.subjects;
    expect(rest).toEqual([]);
    expect([grantee!.role, grantee!.label, grantee!.total, grantee!.events.map((e) => e.seam.action)]).toEqual(['incident', GRANTEE, 1, ['get deployments']]);
    expect([granter!.role, granter!.label, granter!.total]).toEqual(['evidence', GRANTER, 21]);
    expect(granter!.via).toEqual(['14:50:00 update configmaps kube-system/configmaps/aws-auth']);
    // The newest rows, oldest first, ending with the grant.
    expect(granter!.events).toHaveLength(BEFORE_ROWS);
    expect(granter!.events.at(-1)!.seam.id).toBe(grant.seam.id);
    expect(granter!.events.map((e) => e['@timestamp'])).toEqual([...granter!.events.map((e) => e['@timestamp'])].sort());

    const html = renderIncidentHtml(page!, new Date(0));
    const section = /<section id="before">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(section).toContain('2024-11-05 14:00:00 UTC to 15:00:00 UTC');
    expect(section).toContain(`data-total="21" data-shown="${BEFORE_ROWS}"`);
    expect(section).toContain(`the last ${BEFORE_ROWS} shown, ${21 - BEFORE_ROWS} earlier left out`);
    expect(section).toContain('In the evidence: 14:50:00 update configmaps kube-system/configmaps/aws-auth');
    expect((section.match(/<tr class="before-entry"/g) ?? []).length).toBe(BEFORE_ROWS + 1);
    expect(section).not.toContain('bob@example.com');
    expect(section).not.toContain('before-note');
  });

  it('says when the events do not reach back over the window, and when a side has no event', async () => {
    const grant = ev(GRANTER, -10, 'update configmaps', 'kube-system/configmaps/aws-auth');
    const use = ev(GRANTEE, 0, 'patch deployments');
    const dir = folder([grant, use], firstUse(use, grant));
    const [inc] = await incidentsFromFolder(dir);
    const [page] = await pagesFromFolder(dir, [inc!], new Map());
    const html = renderIncidentHtml(page!, new Date(0));
    expect(html).toContain('The events read start at 2024-11-05 14:50:00 UTC: the first 50 minutes of this window are not in the data');
    expect(html).toContain('<p class="before-count" data-total="0">No event of it in this window.</p>');
  });

  it('says the events are unavailable rather than showing an empty hour', async () => {
    const grant = ev(GRANTER, -10, 'update configmaps');
    const use = ev(GRANTEE, 0, 'patch deployments');
    const dir = folder([grant, use], firstUse(use, grant));
    const [inc] = await incidentsFromFolder(dir);
    const [page] = await pagesFromFolder(dir, [inc!], new Map());
    const html = renderIncidentHtml({ ...page!, before: { from: at(-60), to: at(0), subjects: [], unavailable: 'the event indices did not answer the search (timeout)' } }, new Date(0));
    expect(html).toContain('Events before the incident are unavailable: the event indices did not answer the search (timeout).');
    expect(html).not.toContain('before-subject');
  });

  it('asks OpenSearch for both identities by keyword in the window, the alert itself left out', async () => {
    const grant = ev(GRANTER, -10, 'update configmaps');
    const use = ev(GRANTEE, 0, 'patch deployments');
    const dir = folder([grant, use], firstUse(use, grant));
    const [inc] = await incidentsFromFolder(dir);
    const [page] = await pagesFromFolder(dir, [inc!], new Map());
    const q = JSON.stringify(beforeQuery(beforeTargets(inc!, page!.events), { from: at(-60), to: at(0) }));
    expect(q).toContain(`{"range":{"@timestamp":{"gte":"${at(-60)}","lt":"${at(0)}"}}}`);
    expect(q).toContain(GRANTEE);
    expect(q).toContain(GRANTER);
    expect(q).toContain('"seam.principal.k8s_user"');
  });
});
