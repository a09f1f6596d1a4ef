import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDashboardFiles, DASHBOARDS, SEARCHES, VISUALIZATIONS } from './dashboards.ts';
import { DASHBOARDS_DIR, dashboardPayloads, generatedFiles } from './dashboards-import.ts';

describe('dashboards as code', () => {
  it('the shipped NDJSON files are what the spec gives (npm run dashboards:build rewrites them)', () => {
    for (const f of generatedFiles()) expect(readFileSync(join(DASHBOARDS_DIR, f.file), 'utf8'), `${f.file} is stale: run npm run dashboards:build`).toBe(f.ndjson);
  });

  it('every panel and every reference resolves to an object in the same or an earlier file, ids are unique', () => {
    const files = buildDashboardFiles();
    const known = new Map<string, string>();
    for (const f of files) {
      const own = new Map(f.objects.map((o) => [o.id, o.type]));
      for (const o of f.objects) {
        for (const r of o.references) expect(own.get(r.id) ?? known.get(r.id), `${o.id} → ${r.type} ${r.id}`).toBe(r.type);
        // JSON held in strings parses (Dashboards reads them with JSON.parse).
        for (const k of ['visState', 'uiStateJSON', 'panelsJSON', 'optionsJSON']) if (typeof o.attributes[k] === 'string') JSON.parse(o.attributes[k]);
      }
      for (const [id, type] of own) known.set(id, type);
    }
    expect(new Set(VISUALIZATIONS.map((v) => v.id)).size).toBe(VISUALIZATIONS.length);
    expect(new Set(SEARCHES.map((v) => v.id)).size).toBe(SEARCHES.length);
    expect(files[0]!.file).toBe('index-patterns.ndjson');
    // Every visualization and search is on some dashboard.
    const onBoard = new Set(DASHBOARDS.flatMap((d) => d.panels.map(([id]) => id)));
    for (const v of [...VISUALIZATIONS, ...SEARCHES]) expect(onBoard, v.id).toContain(v.id);
  });

  it('another index prefix rewrites only the index patterns\' titles', () => {
    const [patterns, overview] = dashboardPayloads(DASHBOARDS_DIR, 'acme');
    expect(patterns!.ndjson).toContain('"title":"acme-events-*"');
    expect(patterns!.ndjson).not.toContain('"title":"seam-');
    expect(overview!.ndjson).toBe(readFileSync(join(DASHBOARDS_DIR, overview!.file), 'utf8'));
  });
});

describe('dashboards without deploy/', () => {
  it('an explicit folder that lacks a file is an error naming it', () => {
    expect(() => dashboardPayloads('/nonexistent-seam-dashboards')).toThrow(/\/nonexistent-seam-dashboards\/index-patterns\.ndjson not found/);
  });
});
