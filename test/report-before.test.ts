// The incident page's "Before" section read from OpenSearch (`seam report incident --from opensearch`) says what the
// same section read from the `seam run` folder says: the demo's aws-auth grant incident (ci-deployer's first use of
// the mapping alice added), its events indexed with Seam's templates in the real local OpenSearch.
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentsFromFolder, pageFromOpenSearch, pagesFromFolder } from '../src/report/incident-source.ts';
import { dropDemo, indexDemo } from './helpers/hunt-demo.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const ALICE = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';

describe('incident page Before section from OpenSearch', () => {
  const prefix = `seamt_${RUN_ID}_before`.toLowerCase();
  const os = new Client({ node: opensearchUrl() });
  let dir = '';

  beforeAll(async () => {
    dir = (await indexDemo(os, prefix)).stateDir;
  }, 300_000);

  afterAll(() => dropDemo(os, prefix));

  it("shows ci-deployer's and alice's hour before the first use of the mapping, as the folder does", async () => {
    const incidents = await incidentsFromFolder(dir);
    const inc = incidents.find((i) => i.alerts.some((a) => a.rule.title === 'First use of a new aws-auth mapping'));
    expect(inc).toBeDefined();
    const [fromFolder] = await pagesFromFolder(dir, [inc!], new Map());
    const fromIndex = await pageFromOpenSearch(os, prefix, inc!, new Map(), 'OpenSearch');
    const shape = (b: NonNullable<typeof fromIndex.before>): unknown =>
      b.subjects.map((s) => ({ role: s.role, label: s.label, via: s.via, total: s.total, bySource: s.bySource, shown: s.events.map((e) => e.seam.id), read: s.read.map((e) => e.seam.id).sort() }));
    const f = fromFolder!.before!;
    const o = fromIndex.before!;
    expect(o.unavailable).toBeUndefined();
    expect(o.unread).toBeUndefined();
    expect(shape(o)).toEqual(shape(f));
    expect(o.dataFrom).toBe(f.dataFrom);
    // The granter is alice, tied by her aws-auth update; she has events in the hour, and the grantee is first.
    expect(f.subjects.map((s) => s.role)).toEqual(['incident', 'evidence']);
    expect(f.subjects[1]!.label).toBe(ALICE);
    expect(f.subjects[1]!.via.some((v) => v.includes('kube-system/configmaps/aws-auth'))).toBe(true);
    expect(f.subjects[1]!.total).toBeGreaterThan(f.subjects[1]!.events.length);
    for (const s of [...f.subjects, ...o.subjects]) expect(s.read).toHaveLength(s.total); // every event counted is there for --evidence
    console.log(`report-before: ${f.subjects.map((s) => `${s.role} ${s.label}: total=${s.total} shown=${s.events.length}`).join('; ')}; data from ${f.dataFrom}, window ${f.from}..${f.to}`);
  });
});
