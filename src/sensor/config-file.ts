import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { resolveRelativePaths, SENSOR_PATH_FIELDS } from '../core/config/paths.ts';
import { SensorFileConfig } from './config.ts';

/**
 * The `sensor` section of a seam.yml, as written (defaults and the environment are applied by configFromEnv),
 * after checking it against SensorFileConfig; problems are reported at file:line:col with the field path.
 * Only this section is read: the sensor runs inside the application's pods and is bundled alone to stay within
 * its memory budget (ADR 0012), so it does not load the other sections' schemas, nor resolve their
 * `${env:…}`/`${file:…}` references (its token comes from ingest.tokenFile or ingest.tokenEnv). Relative paths in it
 * resolve against the file's folder (src/core/config/paths.ts), as in the rest of seam.yml.
 */
export function readSensorSection(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (offset: number): string => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => `${at(e.pos[0])}: not valid YAML: ${e.message.split('\n')[0]}`).join('; '));
  const root = doc.toJS() as unknown;
  const section = root !== null && typeof root === 'object' ? (root as Record<string, unknown>).sensor : undefined;
  if (section === undefined) throw new Error(`${file} has no sensor section (docs/config-reference.md, sensor)`);
  const parsed = SensorFileConfig.safeParse(section);
  if (parsed.success) {
    // Relative paths (ingest.tokenFile, ingest.caFile, procPath) are relative to the file, as in the rest of seam.yml.
    resolveRelativePaths(section, SENSOR_PATH_FIELDS, dirname(file));
    return section as Record<string, unknown>;
  }
  // The nearest node that exists on the issue's path (a missing field is reported at its parent).
  const where = (path: PropertyKey[]): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(['sensor', ...path.slice(0, n)], true) as Node | undefined;
      if (node?.range) return at(node.range[0]);
    }
    return file;
  };
  throw new Error(parsed.error.issues.map((i) => `${where(i.path)}: sensor.${i.path.join('.')}: ${i.message}`).join('; '));
}
