import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * The fields of Seam's configuration files that name files or folders. A relative path written in a file
 * resolves against that file's folder, as `${file:PATH}` does (a seam.yml next to its placeholders file names
 * it `placeholders.yml`, wherever the command runs); defaults, SEAM_* variables and flags keep resolving against
 * the working folder. One list, so `config check` can say which named files are missing (ADR 0016).
 *
 * A pattern is a field path: `*` stands for any key of a map, `[]` for every item of a list.
 */
export interface PathField {
  pattern: string;
  /** What the field names: `seam config check` says a missing one does not exist, or is not a file / folder. */
  kind: 'file' | 'folder' | 'file or folder';
  /** False for a file Seam creates (a checkpoint state file): only resolved, never looked for. */
  mustExist: boolean;
}

const f = (pattern: string, kind: PathField['kind'] = 'file', mustExist = true): PathField => ({ pattern, kind, mustExist });

/** The collectors (seam.yml's `collect` section, and the older collectors file's top level). */
const COLLECT: readonly PathField[] = [
  f('sources.*.paths[]', 'file or folder'),
  f('sources.*.tls.certFile'),
  f('sources.*.tls.keyFile'),
  f('sources.*.tls.caFile'),
  f('checkpoint.path', 'file', false),
];

/** The `sensor` section (read alone by `seam sensor`, src/sensor/config-file.ts). */
export const SENSOR_PATH_FIELDS: readonly PathField[] = [f('procPath', 'folder'), f('ingest.tokenFile'), f('ingest.caFile')];

export const SEAM_YML_PATH_FIELDS: readonly PathField[] = [
  f('kafka.tls.caFile'),
  f('kafka.tls.certFile'),
  f('kafka.tls.keyFile'),
  f('opensearch.tls.caFile'),
  f('rules.paths[]', 'file or folder'),
  f('rules.placeholdersFile'),
  f('delivery'),
  f('native.awsIpRangesFile'),
  f('native.addressLists[].path'),
  f('identity.seeds[].path'),
  ...SENSOR_PATH_FIELDS.map((p) => ({ ...p, pattern: `sensor.${p.pattern}` })),
  ...COLLECT.map((p) => ({ ...p, pattern: `collect.${p.pattern}` })),
];

export const COLLECTORS_FILE_PATH_FIELDS: readonly PathField[] = COLLECT;

/** The alert delivery file (`seam run --delivery`, docs/alert-delivery.md). */
export const DELIVERY_PATH_FIELDS: readonly PathField[] = [f('suppressionsFile'), f('outputs.*.secret.file'), f('outputs.*.webhookUrl.file'), f('outputs.*.routingKey.file')];

export interface PathValue {
  /** Where in the document: keys and list indices. */
  at: (string | number)[];
  value: string;
  field: PathField;
}

/** Every string a path field holds in a plain config object (as parsed from YAML, before validation). */
export function pathValues(root: unknown, fields: readonly PathField[]): PathValue[] {
  const out: PathValue[] = [];
  for (const field of fields) {
    const steps = field.pattern.split('.');
    const visit = (v: unknown, i: number, at: (string | number)[]): void => {
      if (i === steps.length) {
        if (typeof v === 'string' && v !== '') out.push({ at, value: v, field });
        return;
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
      const step = steps[i]!;
      const list = step.endsWith('[]');
      const key = list ? step.slice(0, -2) : step;
      const next = (k: string, x: unknown): void => {
        if (!list) return visit(x, i + 1, [...at, k]);
        if (Array.isArray(x)) x.forEach((item, j) => visit(item, i + 1, [...at, k, j]));
      };
      if (key === '*') for (const [k, x] of Object.entries(v)) next(k, x);
      else if (Object.hasOwn(v, key)) next(key, (v as Record<string, unknown>)[key]);
    };
    visit(root, 0, []);
  }
  return out;
}

function setAt(root: unknown, at: (string | number)[], value: string): void {
  let cur = root as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[at[at.length - 1]!] = value;
}

/** Makes every relative path the fields hold absolute, against `baseDir` (the file's folder). Mutates `root`. */
export function resolveRelativePaths(root: unknown, fields: readonly PathField[], baseDir: string): void {
  for (const p of pathValues(root, fields)) if (!isAbsolute(p.value)) setAt(root, p.at, resolve(baseDir, p.value));
}

/** Why a path a field names cannot be used here, or undefined when it can. */
export function pathProblem(p: PathValue): string | undefined {
  if (!p.field.mustExist) return undefined;
  if (!existsSync(p.value)) return `${p.value} does not exist`;
  const dir = statSync(p.value).isDirectory();
  if (p.field.kind === 'file' && dir) return `${p.value} is a folder, not a file`;
  if (p.field.kind === 'folder' && !dir) return `${p.value} is not a folder`;
  return undefined;
}
