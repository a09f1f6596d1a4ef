// Events for the hunting parity test: the fixtures, the rule test cases of detections/, and events
// synthesised from each rule's own detection (one per search identifier and one with all of them),
// each with variants that must still match (upper case, in an array, numbers as text) and near
// misses (a character appended, the value cut short).
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { RawMeta, SeamEvent, SourceType } from '../../src/core/envelope.ts';
import { normalizeLine, normalizeRecord } from '../../src/core/normalize/normalize.ts';
import { mapLogsource } from '../../src/detect/sigma/logsource.ts';
import { ONE, STAR, parsePattern } from '../../src/detect/sigma/modifiers.ts';
import { readYaml } from '../../src/detect/sigma/read.ts';
import type { YNode } from '../../src/detect/sigma/read.ts';
import { validateDoc } from '../../src/detect/sigma/validate.ts';
import { listInputFiles, readFiles } from '../../src/sources/file/source.ts';

export const PLACEHOLDERS: Record<string, string[]> = {
  seam_allowed_images: ['123456789012.dkr.ecr.us-west-2.amazonaws.com/*', 'public.ecr.aws/eks/*'],
  seam_allowed_namespaces: ['kube-system', 'payments'],
  seam_host_namespace_images: ['*/aws-node:*', '*/kube-proxy:*'],
  seam_kube_system_images: ['602401143452.dkr.ecr.*'],
  seam_kube_system_service_accounts: ['system:serviceaccount:kube-system:*'],
  seam_node_registrars: ['system:node:*'],
  seam_privileged_images: ['*/falco:*'],
  seam_tooling_images: ['*/kubectl:*', '*/aws-cli:*'],
};

const meta = (origin: string): RawMeta => ({ collector: 'hunt-parity', receivedAt: '2026-01-01T00:00:00.000Z', origin });

type Rec = Record<string, unknown>;
const clone = <T>(x: T): T => structuredClone(x);

function setPath(obj: Rec, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Rec = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    let next = cur[parts[i]!];
    if (Array.isArray(next)) next = next[0];
    if (next === null || typeof next !== 'object') {
      next = {};
      cur[parts[i]!] = next;
    }
    cur = next as Rec;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** A value that satisfies `field|mods: v` in the engine (undefined: delete the field; null: skip). */
function satisfy(mods: string[], v: YNode, ph: Record<string, string[]>): { value: unknown } | null {
  if (v.kind !== 'scalar') return null;
  const x = v.value;
  if (mods.includes('exists')) return { value: x === true || x === 'true' ? 'present' : undefined };
  if (x === null) return { value: undefined };
  if (mods.includes('re') || mods.includes('fieldref') || mods.some((m) => m.startsWith('utf16') || m === 'wide')) return null;
  if (mods.includes('cidr')) return { value: String(x).split('/')[0] };
  for (const [m, d] of [['gt', 1], ['gte', 0], ['lt', -1], ['lte', 0]] as const) if (mods.includes(m)) return { value: Number(x) + d };
  if (typeof x === 'number' || typeof x === 'boolean') return mods.some((m) => ['contains', 'startswith', 'endswith'].includes(m)) ? { value: `a${String(x)}b` } : { value: x };
  let raw = String(x);
  if (mods.includes('expand')) {
    const name = /%([a-z_]+)%/.exec(raw)?.[1];
    const vals = name ? ph[name] : undefined;
    if (!vals) return null;
    raw = raw.replace(`%${name}%`, vals[0]!);
  }
  let s = parsePattern(raw).map((p) => (p === STAR ? 'x' : p === ONE ? 'q' : p)).join('');
  if (mods.includes('windash')) s = s.replaceAll('-', '/');
  if (mods.includes('base64')) s = Buffer.from(s).toString('base64');
  if (mods.includes('base64offset')) s = Buffer.from(`ab${s}`).toString('base64');
  if (mods.includes('contains')) s = `pre ${s} post`;
  else if (mods.includes('startswith')) s = `${s}-tail`;
  else if (mods.includes('endswith')) s = `head-${s}`;
  return { value: s };
}

interface Assignment {
  path: string;
  value: unknown;
}

/** Field assignments that satisfy one search identifier (its first map when it is a list). */
function assignments(node: YNode, mapField: (f: string) => string, ph: Record<string, string[]>, pick: 'first' | 'last'): Assignment[] {
  const map = node.kind === 'map' ? node : node.kind === 'seq' ? node.items.find((i) => i.kind === 'map') : undefined;
  if (!map || map.kind !== 'map') return [];
  const out: Assignment[] = [];
  for (const e of map.entries) {
    const [field = '', ...mods] = e.key.split('|');
    if (!field) continue;
    const values = e.value.kind === 'seq' ? e.value.items : [e.value];
    if (mods.includes('all') && values.length > 1) {
      const sats = values.map((v) => satisfy(mods.filter((m) => m !== 'startswith' && m !== 'endswith'), v, ph));
      if (sats.some((s) => s === null)) continue;
      const texts = sats.map((s) => String(s!.value));
      out.push({ path: mapField(field), value: mods.includes('contains') ? texts.join(' ') : texts });
      continue;
    }
    const v = pick === 'first' ? values[0] : values[values.length - 1];
    const sat = v ? satisfy(mods, v, ph) : null;
    if (sat) out.push({ path: mapField(field), value: sat.value });
  }
  return out;
}

type Variant = (v: unknown) => unknown;
const VARIANTS: Record<string, Variant> = {
  same: (v) => v,
  upper: (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  array: (v) => (v === undefined ? v : ['decoy-value', v]),
  text: (v) => (typeof v === 'number' ? (v % 2 === 0 ? String(v) : `0${String(v)}`) : typeof v === 'boolean' ? (v ? 'True' : 'false') : v),
  miss: (v) => (typeof v === 'string' ? `${v}Z` : typeof v === 'number' ? v + 1000 : v),
  cut: (v) => (typeof v === 'string' && v.length > 1 ? v.slice(1) : v),
  nulled: (v) => (v === undefined ? null : v),
};

export interface ParityEvents {
  events: SeamEvent[];
  /** Raw records by origin, for messages. */
  bad: number;
}

/** Every Sigma rule file (not a test file) under `dirs` whose logsource the predicate accepts. */
export async function ruleFilesWhere(dirs: string[], accept: (ls: Record<string, string | undefined>) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listInputFiles(dirs)) {
    if (!/\.ya?ml$/.test(f.path) || /\.test\.ya?ml$/.test(f.path)) continue;
    const text = await readFile(f.path, 'utf8');
    for (const d of readYaml(text, f.path).docs) {
      const m = validateDoc(d, f.path, []);
      if (m && m.kind === 'rule' && accept(m.logsource as Record<string, string | undefined>)) {
        out.push(f.path);
        break;
      }
    }
  }
  return out;
}

export async function buildEvents(opts: { fixtureDirs: string[]; testFileDirs: string[]; ruleFiles: string[] }): Promise<ParityEvents> {
  const raws: { raw: unknown; origin: string }[] = [];
  const events: SeamEvent[] = [];
  let bad = 0;
  for await (const item of readFiles(opts.fixtureDirs, { maxRecordBytes: 1 << 20 })) {
    if (item.kind !== 'record') continue;
    const r = normalizeLine(item.text, item.meta);
    if (r.ok) events.push(r.value);
  }
  const bases = new Map<SourceType, Rec>();
  for (const f of await listInputFiles(opts.testFileDirs)) {
    if (!/\.test\.ya?ml$/.test(f.path)) continue;
    const doc = parseYaml(await readFile(f.path, 'utf8')) as { cases?: { events?: unknown[] }[] };
    for (const c of doc.cases ?? []) for (const [i, e] of (c.events ?? []).entries()) raws.push({ raw: e, origin: `${f.path}#${i}` });
  }
  for (const { raw, origin } of raws) {
    const r = normalizeRecord(raw, meta(origin));
    if (!r.ok) {
      bad++;
      continue;
    }
    events.push(r.value);
    if (!bases.has(r.value.seam.source)) bases.set(r.value.seam.source, raw as Rec);
  }
  // Synthesised from each rule's detection.
  const ruleFiles = (await listInputFiles(opts.ruleFiles)).map((f) => f.path).filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f));
  for (const file of ruleFiles) {
    const text = await readFile(file, 'utf8');
    for (const d of readYaml(text, file).docs) {
      const m = validateDoc(d, file, []);
      if (!m || m.kind !== 'rule' || m.detection?.kind !== 'map') continue;
      const ls = mapLogsource(m.logsource);
      const base = ls.source ? bases.get(ls.source) : undefined;
      if (!base) continue;
      const ids = m.detection.entries.filter((e) => e.key !== 'condition');
      const sets: Assignment[][] = [];
      for (const pick of ['first', 'last'] as const) {
        const per = ids.map((e) => assignments(e.value, ls.mapField, PLACEHOLDERS, pick));
        sets.push(...per);
        // Everything not named like a filter, together: the likeliest way to satisfy "selection and not filter".
        sets.push(ids.flatMap((e, i) => (/filter|exclu|legit|trusted|allowed|expected|known|benign|fp_|_fp/i.test(e.key) ? [] : per[i]!)));
      }
      for (const set of sets) {
        if (set.length === 0) continue;
        for (const [vname, vf] of Object.entries(VARIANTS)) {
          const rec = clone(base);
          for (const a of set) setPath(rec, a.path, vf(a.value));
          const r = normalizeRecord(rec, meta(`${file}#${vname}`));
          if (r.ok) events.push(r.value);
          else bad++;
        }
      }
    }
  }
  // Unique ids (test cases reuse audit ids across cases); rules never read seam.id.
  events.forEach((e, i) => {
    e.seam.id = `${String(i).padStart(6, '0')}-${e.seam.id}`.slice(0, 200);
  });
  return { events, bad };
}
