import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, type Document } from 'yaml';
import { z } from 'zod';
import { SeamError } from '../errors.ts';
import { redactUrlCredentials } from '../logger.ts';
import { applyEnvOverrides, EnvValueError } from './env.ts';
import { pathProblem, pathValues, resolveRelativePaths, SEAM_YML_PATH_FIELDS } from './paths.ts';
import { configInvalid as fail, parseYamlWithPositions, yamlPosition as position, type ConfigProblem } from './yaml-file.ts';
export type { ConfigProblem } from './yaml-file.ts';
import { SeamConfig, type SeamConfigInput } from './schema.ts';
import { didYouMean } from '../../detect/sigma/spelling.ts';

/**
 * Loads seam.yml: YAML (with positions) → `${env:NAME}` / `${file:PATH}` references resolved → relative paths
 * resolved against the file's folder (src/core/config/paths.ts) → SEAM_* overrides applied → zod validation. Every problem is reported at once as `file:line:col path: message`
 * (or `SEAM_X path: message` for a field an environment variable set), in one SEAM_ERR_CONFIG_INVALID.
 */

export interface LoadedConfig {
  config: SeamConfig;
  /** The file, or undefined when the config came from the environment alone. */
  file: string | undefined;
  /** The input after references and overrides, before defaults: what the user set. */
  input: Record<string, unknown>;
  /** Field paths (dotted) whose value came from a SEAM_* variable, and which. */
  fromEnv: Map<string, string>;
  /** Secret-looking fields written literally in the file (not by reference): `config check` warns. */
  literalSecrets: string[];
  /**
   * Files and folders the config names (or defaults to) that cannot be used here: missing, or a folder where a
   * file is wanted. `config check` reports them; the commands fail when they reach them.
   */
  missingPaths: ConfigProblem[];
  /**
   * `${env:}`/`${file:}` references that do not resolve here (only with `unresolvedRefs: 'report'`, which
   * `config check` uses; the commands stop on them). Their fields keep the reference as written.
   */
  unresolvedRefs: ConfigProblem[];
}


/** A key holding a secret: masked by `config check`, never logged. */
export const SECRET_KEY = /password|secret|token|passphrase/i;

const REF = /\$\{(env|file):([^}]+)\}/g;

/** A reference that did not resolve here: an unset variable, an unreadable file. */
interface RefProblem {
  path: (string | number)[];
  message: string;
}

/** Resolves `${env:}`/`${file:}` references; one that fails is recorded and left as written (`${env:NAME}`). */
function resolveRefs(v: unknown, path: (string | number)[], baseDir: string, env: NodeJS.ProcessEnv, problems: RefProblem[]): unknown {
  if (typeof v === 'string') {
    return v.replace(REF, (m, kind: string, arg: string) => {
      if (kind === 'env') {
        const x = env[arg];
        if (x === undefined) {
          problems.push({ path, message: `\${env:${arg}}: environment variable ${arg} is not set` });
          return m;
        }
        return x;
      }
      const file = isAbsolute(arg) ? arg : resolve(baseDir, arg);
      try {
        // A secret file (a Kubernetes Secret volume) ends with a newline more often than not.
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        problems.push({ path, message: `\${file:${arg}}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
        return m;
      }
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => resolveRefs(x, [...path, i], baseDir, env, problems));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, [...path, k], baseDir, env, problems)]));
  }
  return v;
}

function literalSecretsOf(v: unknown, path: string[], out: string[]): void {
  if (v === null || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' && SECRET_KEY.test(k) && !/\$\{(env|file):/.test(x)) out.push([...path, k].join('.'));
    else literalSecretsOf(x, [...path, k], out);
  }
}


/** Top-level keys of Seam's other file shapes, and where they go in seam.yml. */
const ROOT_KEY_HINTS: Readonly<Record<string, string>> = {
  sources: ' (a collectors file\'s top level, which `seam collect` still reads; in seam.yml the collectors go under collect.sources)',
  outputs: ' (an alert delivery file\'s: give that file to `seam run --delivery FILE`, or name it in seam.yml as delivery: FILE)',
  routes: ' (an alert delivery file\'s: give that file to `seam run --delivery FILE`, or name it in seam.yml as delivery: FILE)',
};


/**
 * A validation issue as a person reads it: a missing field says it is required (zod says "expected string, received
 * undefined"), an unknown key names the field it is probably a misspelling of.
 */
function issueMessage(i: z.core.$ZodIssue, path: (string | number)[], unknown: readonly PropertyKey[]): string {
  if (i.code === 'invalid_type' && / received undefined$/.test(i.message)) return `required, missing (${i.expected})`;
  if (unknown.length === 1) return `${i.message}${didYouMean(String(unknown[0]), keysAt(path))}`;
  return i.message;
}

type JsonSchemaNode = { properties?: Record<string, JsonSchemaNode>; items?: JsonSchemaNode; additionalProperties?: JsonSchemaNode | boolean; anyOf?: JsonSchemaNode[]; oneOf?: JsonSchemaNode[] };
let seamJsonSchema: JsonSchemaNode | undefined;

/** The fields seam.yml allows at `path` (every alternative's, for a union such as a collector's type). */
function keysAt(path: readonly (string | number)[]): string[] {
  seamJsonSchema ??= z.toJSONSchema(SeamConfig, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  let nodes: JsonSchemaNode[] = [seamJsonSchema];
  const alternatives = (n: JsonSchemaNode): JsonSchemaNode[] => [n, ...[...(n.anyOf ?? []), ...(n.oneOf ?? [])].flatMap(alternatives)];
  for (const seg of path) {
    nodes = nodes.flatMap(alternatives).flatMap((n): JsonSchemaNode[] => {
      const byName = n.properties?.[String(seg)];
      if (byName !== undefined) return [byName];
      if (typeof seg === 'number' && n.items !== undefined) return [n.items];
      return typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
  }
  return [...new Set(nodes.flatMap(alternatives).flatMap((n) => Object.keys(n.properties ?? {})))];
}

/** Which file: the flag, else SEAM_CONFIG, else none (defaults and SEAM_* variables only). */
export function configFile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const f = flag ?? env.SEAM_CONFIG;
  return f === undefined || f.trim() === '' ? undefined : f;
}

export interface LoadConfigOptions {
  /**
   * The folder relative paths in the file resolve against; default the file's own. A test that loads a copy of a
   * pod's file names the folder the pod reads it from.
   */
  baseDir?: string;
  /**
   * An unset `${env:NAME}` or unreadable `${file:PATH}`: an error (the default: a command cannot run without it), or
   * reported in LoadedConfig.unresolvedRefs while the rest of the file is validated, the field keeping the reference
   * as written (`config check` on a machine that lacks a deployment's secrets).
   */
  unresolvedRefs?: 'error' | 'report';
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): LoadedConfig {
  let lc = new LineCounter();
  let doc: Document | undefined;
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SeamError('SEAM_ERR_CONFIG_INVALID', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, details: { file } });
    }
    ({ doc, lc } = parseYamlWithPositions(file, text));
    raw = doc.toJS() ?? {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, [{ path: '', where: `${file}:1:1`, message: 'expected a mapping (key: value) at the top level' }]);
  }
  const literalSecrets: string[] = [];
  literalSecretsOf(raw, [], literalSecrets);
  const refProblems: RefProblem[] = [];
  const baseDir = opts.baseDir ?? (file === undefined ? process.cwd() : dirname(file));
  const input = resolveRefs(raw, [], baseDir, env, refProblems) as Record<string, unknown>;
  // Written in the file: relative to it. SEAM_* values (applied below) and defaults stay relative to the working folder.
  resolveRelativePaths(input, SEAM_YML_PATH_FIELDS, baseDir);
  const written = new Set(pathValues(input, SEAM_YML_PATH_FIELDS).map((p) => p.at.join('.')));
  const at = (path: (string | number)[], fromEnv?: Map<string, string>, atKey = false): string => {
    const v = fromEnv?.get(path.join('.'));
    if (v !== undefined) return `${v}`;
    const pos = position(doc, lc, path, atKey);
    return file === undefined ? '(environment)' : `${file}:${pos ?? '1:1'}`;
  };
  const unresolvedRefs = refProblems.map((p) => ({ path: p.path.join('.'), where: at(p.path), message: p.message }));
  if (unresolvedRefs.length > 0 && opts.unresolvedRefs !== 'report') fail(file, unresolvedRefs);
  let fromEnv: Map<string, string>;
  try {
    fromEnv = applyEnvOverrides(input, env);
  } catch (e) {
    if (e instanceof EnvValueError) fail(file, [{ path: e.path, where: e.variable, message: e.message }]);
    throw e;
  }
  const parsed = SeamConfig.safeParse(input satisfies SeamConfigInput | Record<string, unknown>);
  if (!parsed.success) {
    fail(file, [
      ...parsed.error.issues.map((i) => {
        const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
        // An unknown key is reported at the key itself.
        const keys = i.code === 'unrecognized_keys' ? i.keys : [];
        const full = keys.length > 0 ? [...path, keys[0]!] : path;
        return { path: full.join('.'), where: at(full, fromEnv, keys.length > 0), message: `${issueMessage(i, path, keys)}${full.length === 1 ? (ROOT_KEY_HINTS[String(full[0])] ?? '') : ''}` };
      }),
      // A reference left as written may be what fails (a URL written as ${env:URL}): say it did not resolve.
      ...unresolvedRefs,
    ]);
  }
  const missingPaths: ConfigProblem[] = [];
  for (const p of pathValues(parsed.data, SEAM_YML_PATH_FIELDS)) {
    if (/\$\{(env|file):/.test(p.value)) continue; // a reference that did not resolve: reported as such
    const why = pathProblem(p);
    if (why === undefined) continue;
    const key = p.at.join('.');
    // A list a variable set (SEAM_RULES) is named by the variable; a value nobody wrote is the default.
    const variable = [...fromEnv].find(([field]) => key === field || key.startsWith(`${field}.`))?.[1];
    const where = variable ?? (written.has(key) ? at(p.at) : '(default)');
    missingPaths.push({ path: key, where, message: why });
  }
  return { config: parsed.data, file, input, fromEnv, literalSecrets, missingPaths, unresolvedRefs };
}

/** The config as `config check` prints it: every secret-looking field masked. */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && typeof x === 'string' ? '********' : maskSecrets(x)]));
  }
  return typeof v === 'string' ? redactUrlCredentials(v) : v;
}


/** A zod error as one line per issue (for callers that validate a section on its own). */
export function issuesText(e: z.ZodError): string {
  return z.prettifyError(e).replaceAll('\n', '; ');
}
