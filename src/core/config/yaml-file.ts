import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { SeamError } from '../errors.ts';
import { resolveRelativePaths, type PathField } from './paths.ts';

/**
 * Seam's YAML configuration files read with positions, so every problem is reported as `file:line:col path:
 * message`: seam.yml (load.ts, which adds references and SEAM_* variables), and the files it or a flag names (the
 * alert delivery file, a suppressions file) through loadYamlFile.
 */

export interface ConfigProblem {
  path: string;
  message: string;
  /** `file:line:col`, or the environment variable that set the field. */
  where: string;
}

/** `line:col` of a field path in the document: an unknown key at the key, a missing field at its parent. */
export function yamlPosition(doc: Document | undefined, lc: LineCounter, path: (string | number)[], atKey = false): string | undefined {
  if (doc === undefined) return undefined;
  if (atKey && path.length > 0) {
    // An unknown key: point at the key itself, not its value.
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const p = lc.linePos(range[0]);
        return `${p.line}:${p.col}`;
      }
    }
  }
  // The deepest node that exists on the path (a missing field is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      const p = lc.linePos(range[0]);
      return `${p.line}:${p.col}`;
    }
  }
  return undefined;
}

/** Every problem of one file in one SEAM_ERR_CONFIG_INVALID, a line each. */
export function configInvalid(file: string | undefined, problems: ConfigProblem[]): never {
  const lines = problems.map((p) => `  ${p.where} ${p.path || '(root)'}: ${p.message}`);
  throw new SeamError('SEAM_ERR_CONFIG_INVALID', `${file ?? 'configuration'} is invalid:\n${lines.join('\n')}`, { details: { file, problems } });
}

/** Parses YAML text with positions; a syntax error is a problem at its position in `file`. */
export function parseYamlWithPositions(file: string, text: string): { doc: Document; lc: LineCounter; raw: unknown } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    configInvalid(
      file,
      doc.errors.map((e) => {
        const p = lc.linePos(e.pos[0]);
        return { path: '', where: `${file}:${p.line}:${p.col}`, message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  return { doc, lc, raw: doc.toJS() as unknown };
}

export interface YamlFileOptions {
  /** Its fields that name files or folders: relative ones resolve against the file's folder. */
  pathFields?: readonly PathField[];
  /** More to say about an issue (a value written in another file's form), given the value the issue is about. */
  hint?: (issue: z.core.$ZodIssue, value: unknown) => string | undefined;
}

/** Reads a YAML file and validates it against `schema`; every problem at `file:line:col path`, SEAM_ERR_CONFIG_INVALID. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, opts: YamlFileOptions = {}): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeamError('SEAM_ERR_CONFIG_INVALID', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, details: { file } });
  }
  const { doc, lc, raw } = parseYamlWithPositions(file, text);
  if (opts.pathFields) resolveRelativePaths(raw, opts.pathFields, dirname(file));
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  configInvalid(
    file,
    parsed.error.issues.map((i) => {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      const keys = i.code === 'unrecognized_keys' ? i.keys : [];
      const full = keys.length > 0 ? [...path, keys[0]!] : path;
      const value = path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), raw);
      return { path: full.join('.'), where: `${file}:${yamlPosition(doc, lc, full, keys.length > 0) ?? '1:1'}`, message: `${i.message}${opts.hint?.(i, value) ?? ''}` };
    }),
  );
}
