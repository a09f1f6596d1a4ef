/**
 * The rule cache: what stage 1 (YAML → position-carrying documents) made of each rule file, keyed by the
 * SHA-256 of the file's content, so a restart with unchanged rules parses no YAML with the `yaml` package
 * (~1.4 s of CPU for SigmaHQ's 3,140 files). Files the fast reader reads (yaml-fast.ts: all but ~20 of
 * SigmaHQ's) are read again, which costs less than storing and decoding their trees; only what building
 * their rules' models said is kept for them. An edited file has a new hash and is parsed again; a file
 * whose content is back to an earlier version hits again. Validation and the index still run on every
 * load, with one exception: a rule whose logsource no Seam source feeds (three quarters of SigmaHQ:
 * Windows, Linux auditd, Azure...) is never offered an event unless `matchUnmapped`, so when the pack holds
 * what building its model said last time (model.ts: its diagnostics, under the same options and engine
 * code), its model is built and compiled only if something evaluates it (`test()`, rule tests, the index's
 * statistics). Without that outcome such a rule's model is built at load and only its compiling waits.
 * With the outcome the pack keeps the rule's metadata and what validating it said, so a file holding only
 * such rules is hashed but not read as YAML again (nine in ten SigmaHQ files; ~0.2 s of CPU a warm start).
 *
 * One pack file per set of rule paths, `<dir>/sigma-<hash of the paths>.json`, holding only the entries
 * the last load used (it does not grow without bound). It is written atomically (temporary file, then
 * rename). A pack that cannot be read or does not have the expected shape is ignored with a warning and
 * replaced; one written by another cache format or yaml version is ignored silently (not a fault).
 */
import { createHash, hash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from './types.ts';
import type { RuleMeta } from './validate.ts';
import type { Pos, ReadDoc, ReadResult, YEntry, YNode } from './read.ts';
import { readYamlFast } from './yaml-fast.ts';

/** Bump when the stored shape changes. */
const FORMAT = 6;

let codeHash: string | undefined;
/**
 * A hash of the rule engine's own code (this folder's modules, tests aside): a pack written by another
 * version of the reader, validator or compiler is not used, so a Seam upgrade cannot replay stale results.
 */
export function engineCodeHash(): string {
  if (codeHash !== undefined) return codeHash;
  const h = createHash('sha256');
  try {
    const dir = dirname(fileURLToPath(import.meta.url));
    for (const f of readdirSync(dir).sort()) {
      if (!/\.(ts|js)$/.test(f) || /\.test\.(ts|js)$/.test(f)) continue;
      h.update(f).update(readFileSync(join(dir, f)));
    }
  } catch {
    h.update(String(Date.now()));
  }
  return (codeHash = h.digest('base64url'));
}

function yamlVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return String((require('yaml/package.json') as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
}

/** Compact YNode: [0,line,col,value,text,quote?] scalar, [1,line,col,items] seq, [2,line,col,[key,kline,kcol,value]...] map. */
type CNode = [0, number, number, string | number | boolean | null, string, ("'" | '"')?] | [1, number, number, CNode[]] | [2, number, number, [string, number, number, CNode][]];
/** A diagnostic without its file (the file's name can change while its content hash does not). */
type CDiag = Omit<Diagnostic, 'file'>;
interface Entry {
  /** node, js (kept for correlations only, the one consumer), position; empty when `fast` */
  docs: [CNode, unknown][];
  /**
   * Set (to its number of documents) for a file the fast reader reads (yaml-fast.ts): reading it again costs
   * less than storing and decoding its tree, so only its model outcomes are kept.
   */
  fast?: number;
  diags: CDiag[];
  /** Per document: what building its model said, under the pack's options. */
  out?: (Outcome | null)[];
}
/** What building one rule document's model made of it: whether it loads, and the diagnostics it raised. */
export interface Outcome {
  ok: boolean;
  diags: CDiag[];
  /** Its metadata (no detection) and what validating it said: with these, its file is not read again. */
  meta?: Omit<RuleMeta, 'detection'>;
  vdiags?: CDiag[];
}
interface Pack {
  format: number;
  yaml: string;
  code: string;
  /** The load options the outcomes were found under (placeholders...). */
  opts: string;
  entries: Record<string, Entry>;
}

class NotJson extends Error {}

function enc(n: YNode): CNode {
  if (n.kind === 'scalar') {
    // JSON has no NaN or Infinity (`.nan`, `.inf`): such a file is not cached rather than changed.
    if (typeof n.value === 'number' && !Number.isFinite(n.value)) throw new NotJson();
    return n.quote === undefined ? [0, n.pos.line, n.pos.column, n.value, n.text] : [0, n.pos.line, n.pos.column, n.value, n.text, n.quote];
  }
  if (n.kind === 'seq') return [1, n.pos.line, n.pos.column, n.items.map(enc)];
  return [2, n.pos.line, n.pos.column, n.entries.map((e) => [e.key, e.keyPos.line, e.keyPos.column, enc(e.value)])];
}

function dec(c: CNode): YNode {
  const pos: Pos = { line: c[1], column: c[2] };
  switch (c[0]) {
    case 0:
      return c[5] === undefined ? { kind: 'scalar', pos, value: c[3], text: c[4] } : { kind: 'scalar', pos, value: c[3], text: c[4], quote: c[5] };
    case 1:
      return { kind: 'seq', pos, items: c[3].map(dec) };
    case 2: {
      const entries: YEntry[] = c[3].map((e) => ({ key: e[0], keyPos: { line: e[1], column: e[2] }, value: dec(e[3]) }));
      return { kind: 'map', pos, entries };
    }
    default:
      throw new Error('bad node');
  }
}

/** A stored diagnostic with its file, its fields in the order diag() gives them. */
function withFile(d: CDiag, file: string): Diagnostic {
  const out: Diagnostic = { code: d.code, severity: d.severity, file, line: d.line, column: d.column, message: d.message };
  if (d.rule !== undefined) out.rule = d.rule;
  return out;
}

const isCorrelation = (n: YNode): boolean => n.kind === 'map' && n.entries.some((e) => e.key === 'correlation');

/** The plain JS of a correlation document, when JSON carries it unchanged. */
function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v as Record<string, unknown>)) jsonSafe(x);
    return v;
  }
  throw new NotJson();
}

/** Whether a stored rule metadata has the shape the loader reads (a pack can be edited by hand). */
function metaOk(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as Partial<RuleMeta>;
  return (
    typeof x.kind === 'string' &&
    typeof x.title === 'string' &&
    Array.isArray(x.tags) &&
    typeof x.logsource === 'object' &&
    x.logsource !== null &&
    typeof x.pos === 'object' &&
    x.pos !== null &&
    typeof x.pos.line === 'number' &&
    typeof x.pos.column === 'number' &&
    (x.namePos === undefined || (typeof x.namePos === 'object' && x.namePos !== null && typeof x.namePos.line === 'number' && typeof x.namePos.column === 'number'))
  );
}

/** Whether `x` has the shape of a pack's entry (checked per entry when used: a bad one is a corrupt pack). */
function entryOk(x: unknown): x is Entry {
  return typeof x === 'object' && x !== null && Array.isArray((x as Entry).docs) && Array.isArray((x as Entry).diags) && ((x as Entry).fast === undefined || Number.isInteger((x as Entry).fast));
}

export interface RuleCacheReport {
  /** The pack file. */
  file: string;
  hits: number;
  misses: number;
  /** `warm`: a pack was read; `cold`: none yet (or another format); `corrupt`: unreadable, ignored. */
  state: 'warm' | 'cold' | 'corrupt';
  /** Why the pack was ignored or could not be written. */
  warnings: string[];
}

export class RuleCache {
  private readonly old: Record<string, unknown>;
  private readonly next: Record<string, Entry> = {};
  private changed = false;
  private sameOpts = false;
  readonly report: RuleCacheReport;

  constructor(
    dir: string,
    paths: string[],
    /** Fingerprint of the options models depend on: outcomes stored under others are dropped. */
    private readonly opts: string,
  ) {
    const key = createHash('sha256').update(JSON.stringify(paths.map((p) => resolve(p)))).digest('hex').slice(0, 16);
    const file = join(dir, `sigma-${key}.json`);
    this.report = { file, hits: 0, misses: 0, state: 'cold', warnings: [] };
    let old: Record<string, unknown> = {};
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.corrupt(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (text !== undefined) {
      try {
        const pack = JSON.parse(text) as Partial<Pack>;
        if (typeof pack !== 'object' || pack === null || typeof pack.entries !== 'object' || pack.entries === null) throw new Error('not a rule cache pack');
        if (pack.format === FORMAT && pack.yaml === yamlVersion() && pack.code === engineCodeHash()) {
          old = pack.entries;
          this.report.state = 'warm';
          this.sameOpts = pack.opts === opts;
        }
      } catch (e) {
        this.corrupt(`${file} is not a readable rule cache (${(e as Error).message}); ignoring it, it will be rewritten`);
      }
    }
    this.old = old;
  }

  private corrupt(msg: string): void {
    this.report.state = 'corrupt';
    this.report.warnings.push(msg);
  }

  static hash(text: string): string {
    // One-shot (no Hash object per file): the same digest, ~40% less time over 3,140 files.
    return hash('sha256', text, 'base64url');
  }

  /** The cached stage-1 result of a file with this content hash, if there is a sound one. */
  get(hash: string, file: string, text: string): ReadResult | undefined {
    const e = this.old[hash];
    if (e === undefined) {
      this.report.misses++;
      return undefined;
    }
    try {
      if (!entryOk(e)) throw new Error('entry has the wrong shape');
      let docs: ReadDoc[];
      if (e.fast !== undefined) {
        const read = readYamlFast(text);
        if (read === undefined || read.length !== e.fast) throw new Error('the fast reader does not read the file as stored');
        docs = read;
      } else {
        docs = e.docs.map(([c, js]) => {
          const node = dec(c);
          return { node, js, pos: node.pos };
        });
      }
      const diagnostics = e.diags.map((d) => withFile(d, file));
      if (e.out !== undefined && (!this.sameOpts || !Array.isArray(e.out) || e.out.length !== docs.length)) delete e.out;
      this.next[hash] = e;
      this.report.hits++;
      return { docs, diagnostics };
    } catch (err) {
      // One bad entry means the pack was tampered with or truncated: trust none of it.
      if (this.report.state !== 'corrupt') this.corrupt(`${this.report.file}: entry ${hash}: ${(err as Error).message}; ignoring the cache, it will be rewritten`);
      for (const k of Object.keys(this.old)) delete this.old[k];
      this.report.misses++;
      return undefined;
    }
  }

  put(hash: string, r: ReadResult): void {
    this.changed = true;
    try {
      this.next[hash] =
        r.fast === true
          ? { docs: [], fast: r.docs.length, diags: [] }
          : { docs: r.docs.map((d) => [enc(d.node), isCorrelation(d.node) ? jsonSafe(d.js) : null]), diags: r.diagnostics.map(({ file: _file, ...d }) => d) };
    } catch (e) {
      if (!(e instanceof NotJson)) throw e;
    }
  }

  /** The stored model outcome of document `i` of the file with this hash, with diagnostics for `file`. */
  outcome(hash: string, i: number, file: string): { ok: boolean; diags: Diagnostic[] } | undefined {
    const o = this.next[hash]?.out?.[i];
    if (o === undefined || o === null || typeof o.ok !== 'boolean' || !Array.isArray(o.diags)) return undefined;
    return { ok: o.ok, diags: o.diags.map((d) => withFile(d, file)) };
  }

  /**
   * Records what building document `i`'s model (of the file with this hash) said, with the document's
   * metadata and validation diagnostics (a rule no source feeds: only these are needed until it is evaluated).
   */
  putOutcome(hash: string, i: number, ok: boolean, diags: Diagnostic[], meta: RuleMeta, vdiags: Diagnostic[]): void {
    const e = this.next[hash];
    if (e === undefined) return;
    e.out ??= new Array<Outcome | null>(e.fast ?? e.docs.length).fill(null);
    const { detection: _detection, ...kept } = meta;
    e.out[i] = { ok, diags: diags.map(({ file: _file, ...d }) => d), meta: kept, vdiags: vdiags.map(({ file: _file, ...d }) => d) };
    this.changed = true;
  }

  /**
   * For a file whose every document has a stored outcome with its metadata (rules no source feeds), those,
   * with the file's read diagnostics, for `file`; undefined otherwise (the file is read as usual). Call
   * `use(hash)` when they are used.
   */
  deferred(hash: string, file: string): { diagnostics: Diagnostic[]; docs: { meta: RuleMeta; vdiags: Diagnostic[]; ok: boolean; diags: Diagnostic[] }[] } | undefined {
    const e = this.old[hash];
    if (!this.sameOpts || e === undefined || !entryOk(e) || !Array.isArray(e.out) || e.out.length !== (e.fast ?? e.docs.length) || e.out.length === 0) return undefined;
    const docs: { meta: RuleMeta; vdiags: Diagnostic[]; ok: boolean; diags: Diagnostic[] }[] = [];
    for (const o of e.out) {
      if (o === null || typeof o !== 'object' || typeof o.ok !== 'boolean' || !Array.isArray(o.diags) || !Array.isArray(o.vdiags) || !metaOk(o.meta)) return undefined;
      docs.push({ meta: o.meta as RuleMeta, vdiags: o.vdiags.map((d) => withFile(d, file)), ok: o.ok, diags: o.diags.map((d) => withFile(d, file)) });
    }
    return { diagnostics: e.diags.map((d) => withFile(d, file)), docs };
  }

  /** Keeps the entry of this hash in the pack (its `deferred` outcomes were used instead of `get`). */
  use(hash: string): void {
    const e = this.old[hash];
    if (e === undefined || !entryOk(e)) return;
    this.next[hash] = e;
    this.report.hits++;
  }

  /** Writes the pack when anything changed (a new or edited file, a file gone, a corrupt pack). */
  save(): void {
    const dropped = Object.keys(this.old).some((k) => !(k in this.next));
    if (!this.changed && !dropped && this.report.state === 'warm' && this.sameOpts) return;
    const pack: Pack = { format: FORMAT, yaml: yamlVersion(), code: engineCodeHash(), opts: this.opts, entries: this.next };
    // Per thread: `seam replay --workers N` loads rules in several threads of one process.
    const tmp = `${this.report.file}.${process.pid}.${threadId}.tmp`;
    try {
      mkdirSync(join(this.report.file, '..'), { recursive: true });
      writeFileSync(tmp, JSON.stringify(pack));
      renameSync(tmp, this.report.file);
    } catch (e) {
      this.report.warnings.push(`cannot write the rule cache ${this.report.file}: ${(e as Error).message}`);
    }
  }
}
