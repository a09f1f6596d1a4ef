/**
 * Imports the dashboards (deploy/opensearch/dashboards/*.ndjson) into OpenSearch Dashboards through the Saved
 * Objects API: `POST <url>/api/saved_objects/_import?overwrite=true`, one multipart/form-data request per file
 * (field `file`), with the `osd-xsrf` header Dashboards requires on every write. Index patterns go first, since
 * every other object refers to them. Another index prefix than `seam` rewrites the index patterns' titles.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SeamError } from '../../core/errors.ts';
import { buildDashboardFiles, INDEX_PATTERNS, toNdjson } from './dashboards.ts';

/** The files as shipped, beside the repository's other deploy assets. */
export const DASHBOARDS_DIR = resolve(import.meta.dirname, '..', '..', '..', 'deploy', 'opensearch', 'dashboards');

export interface ImportOptions {
  /** Dashboards base URL, e.g. http://localhost:5601 (with its base path if it has one). */
  url: string;
  indexPrefix?: string;
  /** Folder of NDJSON files; default deploy/opensearch/dashboards. */
  dir?: string;
  /** Basic auth for Dashboards behind the security plugin. */
  username?: string;
  password?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface ImportResult {
  file: string;
  objects: number;
  successCount: number;
  errors: string[];
}

/** The files to import, in order, with their NDJSON text (titles rewritten for another prefix). */
export function dashboardPayloads(dir: string = DASHBOARDS_DIR, prefix = 'seam'): { file: string; ndjson: string }[] {
  return buildDashboardFiles().map(({ file, objects }) => {
    const path = join(dir, file);
    // An install without deploy/ (the container image copies src/ only) imports what the spec gives: the same
    // bytes, as the drift test keeps the shipped files equal to the spec. A folder given explicitly must hold them.
    if (!existsSync(path) && dir !== DASHBOARDS_DIR) throw new SeamError('SEAM_ERR_SINK_SETUP', `${path} not found: the dashboards ship in deploy/opensearch/dashboards/`);
    let text = existsSync(path) ? readFileSync(path, 'utf8') : toNdjson(objects);
    if (prefix !== 'seam') {
      text = text
        .split('\n')
        .map((line) => {
          if (line.trim() === '') return line;
          const o = JSON.parse(line) as { type: string; attributes: { title: string } };
          if (o.type === 'index-pattern' && INDEX_PATTERNS.some((p) => o.attributes.title === `seam-${p.suffix}`)) o.attributes.title = `${prefix}-${o.attributes.title.slice('seam-'.length)}`;
          return JSON.stringify(o);
        })
        .join('\n');
    }
    return { file, ndjson: text };
  });
}

/** Imports every file; throws a SeamError naming the file and Dashboards' answer when one is refused. */
export async function importDashboards(o: ImportOptions): Promise<ImportResult[]> {
  const doFetch = o.fetch ?? fetch;
  const endpoint = `${o.url.replace(/\/+$/, '')}/api/saved_objects/_import?overwrite=true`;
  const headers: Record<string, string> = { 'osd-xsrf': 'true' };
  if (o.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  const results: ImportResult[] = [];
  for (const { file, ndjson } of dashboardPayloads(o.dir, o.indexPrefix ?? 'seam')) {
    const form = new FormData();
    form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), file);
    let res: Response;
    try {
      res = await doFetch(endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
    } catch (e) {
      throw new SeamError('SEAM_ERR_SINK_SETUP', `importing ${file} into ${o.url} failed: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text();
    let body: { success?: boolean; successCount?: number; errors?: { id: string; type: string; error: { type: string; message?: string } }[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Reported below with the raw text.
    }
    if (!res.ok || body.success !== true) {
      const why = body.errors?.map((e) => `${e.type} ${e.id}: ${e.error.message ?? e.error.type}`).join('; ') ?? text.slice(0, 500);
      throw new SeamError('SEAM_ERR_SINK_SETUP', `Dashboards refused ${file} (HTTP ${res.status}): ${why}`);
    }
    results.push({ file, objects: ndjson.split('\n').filter((l) => l.trim() !== '').length, successCount: body.successCount ?? 0, errors: [] });
  }
  return results;
}

/** For the drift test and for regenerating the files: the NDJSON text the spec gives. */
export function generatedFiles(): { file: string; ndjson: string }[] {
  return buildDashboardFiles().map((f) => ({ file: f.file, ndjson: toNdjson(f.objects) }));
}
