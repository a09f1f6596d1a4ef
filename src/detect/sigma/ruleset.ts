/**
 * Public API of the Sigma engine: load rule files (read → validate → compile → index) and match
 * events. Loading never stops at the first problem: every diagnostic is collected and the other
 * rules and files still load.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { SeamError } from '../../core/errors.ts';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SeamEvent } from '../../core/envelope.ts';
import { Counters } from '../../core/counters.ts';
import type { CompiledRule, CorrelationDoc, Diagnostic, LoadOptions, LoadResult, LoadStats, LoadTimings, RuleMatch, Ruleset } from './types.ts';
import { readYaml } from './read.ts';
import type { ReadDoc, ReadResult } from './read.ts';
import { RuleCache } from './cache.ts';
import { validateDoc } from './validate.ts';
import type { RuleMeta } from './validate.ts';
import { compileDetection } from './compile.ts';
import type { Node, Pred } from './compile.ts';
import { buildRuleModel, checkRuleModel } from './model.ts';
import type { MDetection, RuleModel } from './model.ts';
import { EvalCtx, FieldTable } from './fields.ts';
import { mapLogsource } from './logsource.ts';
import { RuleIndex } from './rule-index.ts';
import type { IndexStats, InternalRule } from './rule-index.ts';
import { applyFilters } from './filters.ts';
import { applyOverrides } from './overrides.ts';
import { detectionReads, detectionReadsAt } from './reads.ts';
import type { CompiledFilter } from './filters.ts';
import { diag, placeOf, warn } from './diagnostics.ts';
import { triageOf } from '../triage.ts';

export type { CompiledRule, CorrelationDoc, Diagnostic, LoadOptions, LoadResult, RuleMatch, Ruleset } from './types.ts';

/** A rule file larger than this is refused unread (Seam's largest is a few KiB). */
export const DEFAULT_MAX_RULE_FILE_BYTES = 1024 * 1024;

/** The rule set returned by the loader; `match` is the hot path. */
export class SigmaRuleset implements Ruleset {
  readonly counters = new Counters('sigma');
  /** Rules the index offered events (each then evaluates its predicate): the cost `bench:engine` reports per event. */
  offered = 0;
  /** Ids and names of documents left out because another document uses them too, and why (Ruleset.notLoaded). */
  notLoaded?: ReadonlyMap<string, string>;
  private readonly ctx: EvalCtx;
  private gen = 0;

  constructor(
    readonly rules: InternalRule[],
    readonly correlations: CorrelationDoc[],
    private readonly index: RuleIndex,
    private readonly fields: FieldTable,
  ) {
    this.ctx = new EvalCtx(fields);
  }

  match(event: SeamEvent): RuleMatch[] {
    this.counters.received++;
    const ctx = this.ctx.reset(event);
    const gen = ++this.gen;
    const out: RuleMatch[] = [];
    // A new array each time: cheaper than truncating a reused one.
    const cands: InternalRule[] = [];
    this.index.collect(event.seam?.source, ctx, gen, cands);
    this.offered += cands.length;
    for (let i = 0; i < cands.length; i++) {
      const r = cands[i]!;
      try {
        if (r.pred(ctx)) out.push({ rule: r, event });
      } catch {
        this.counters.error('SEAM_ERR_RULE_EVAL');
      }
    }
    if (out.length > 1) out.sort((a, b) => (a.rule as InternalRule).order - (b.rule as InternalRule).order);
    this.counters.emitted += out.length;
    return out;
  }

  /** How many rules each source bucket holds behind a literal versus always evaluates. */
  indexStats(): IndexStats {
    return this.index.stats();
  }

  /** Number of distinct field paths the rules read. */
  get fieldCount(): number {
    return this.fields.names.length;
  }
}

/** A place a document was defined at, and what kind of document it is. */
interface Place {
  file: string;
  pos: { line: number; column: number };
  kind: RuleMeta['kind'];
}

/** An id or name more than one document uses. */
interface Clash {
  what: 'id' | 'name';
  key: string;
  places: Place[];
}

/** Accumulates documents from many files, then links and indexes them. */
class Loader {
  readonly diags: Diagnostic[] = [];
  readonly fields = new FieldTable();
  readonly rules: InternalRule[] = [];
  readonly filters: CompiledFilter[] = [];
  readonly correlations: (CorrelationDoc & { meta: RuleMeta })[] = [];
  readonly stats: LoadStats = { files: 0, rules: 0, correlations: 0, filters: 0, rejected: 0 };
  readonly ms: LoadTimings = { read: 0, parse: 0, compile: 0, index: 0, total: 0 };
  private readonly ids = new Map<string, { file: string; pos: { line: number; column: number } }>();
  private readonly names = new Map<string, { file: string; pos: { line: number; column: number } }>();
  private readonly dups = new Set<string>();
  /** Each id or name used by more than one document, with every place that uses it. */
  private readonly clashes = new Map<string, Clash>();
  /** The kind of document registered at each place in `ids` and `names`. */
  private readonly kinds = new Map<{ file: string; pos: { line: number; column: number } }, RuleMeta['kind']>();
  /** Ids and names of documents left out for a clash, and why (Ruleset.notLoaded). */
  readonly notLoaded = new Map<string, string>();
  /** Every validated document's model, when asked for (LoadOptions.keepModels: the hunt compiler). */
  readonly models: RuleModel[] | undefined;

  constructor(private readonly opts: LoadOptions) {
    if (opts.keepModels === true) this.models = [];
  }

  addText(text: string, file: string, cache?: RuleCache): void {
    this.stats.files++;
    const max = this.opts.maxRuleFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
    if (text.length > max) {
      this.diags.push(diag('SEAM_ERR_RULE_FILE', file, { line: 1, column: 1 }, `rule file is ${text.length} characters, over the ${max} limit (maxRuleFileBytes); not read`));
      this.stats.rejected++;
      return;
    }
    let t = performance.now();
    let read: ReadResult | undefined;
    let hash = '';
    if (cache) {
      hash = RuleCache.hash(text);
      // A file of rules no source feeds, as the cache saw it: its documents' metadata and outcomes are stored,
      // so it is not read again (nine in ten SigmaHQ files; their detections compile from the text if evaluated).
      const stored = this.models === undefined && this.opts.matchUnmapped !== true ? cache.deferred(hash, file) : undefined;
      if (stored !== undefined && stored.docs.every((d) => d.meta.kind === 'rule' && mapLogsource(d.meta.logsource).source === undefined)) {
        cache.use(hash);
        this.ms.parse += performance.now() - t;
        t = performance.now();
        this.diags.push(...stored.diagnostics);
        if (stored.diagnostics.some((d) => d.severity === 'error')) this.stats.rejected++;
        for (let i = 0; i < stored.docs.length; i++) {
          const d = stored.docs[i]!;
          this.diags.push(...d.vdiags);
          this.addValid(d.meta, undefined, file, { text, i }, undefined, d);
        }
        this.ms.compile += performance.now() - t;
        return;
      }
      read = cache.get(hash, file, text);
      if (read === undefined) cache.put(hash, (read = readYaml(text, file)));
    } else read = readYaml(text, file);
    const { docs, diagnostics } = read;
    this.ms.parse += performance.now() - t;
    t = performance.now();
    this.diags.push(...diagnostics);
    const yamlErrors = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.line));
    this.stats.rejected += yamlErrors.size > 0 ? 1 : 0;
    for (let i = 0; i < docs.length; i++) this.addDoc(docs[i]!, file, { text, i }, cache ? { cache, hash, i } : undefined);
    this.ms.compile += performance.now() - t;
  }

  /**
   * Ids and names must be unique across every file. A clash is an error at every place and none of the clashing
   * documents loads: otherwise a file that sorts first could silently stand in for the real rule. The clash is
   * recorded here and said once per document when loading ends (`reportDuplicates`), naming all the places.
   */
  private unique(meta: RuleMeta, file: string): boolean {
    const here: Place = { file, pos: meta.pos, kind: meta.kind };
    let clear = true;
    for (const [key, map, what] of [
      [meta.id, this.ids, 'id'],
      [meta.name, this.names, 'name'],
    ] as const) {
      if (key === undefined) continue;
      const prev = map.get(key);
      if (prev === undefined) continue;
      clear = false;
      const c = this.clashes.get(`${what}\0${key}`);
      if (c === undefined) this.clashes.set(`${what}\0${key}`, { what, key, places: [{ ...prev, kind: this.kinds.get(prev) ?? meta.kind }, here] });
      else c.places.push(here);
      this.dups.add(key);
    }
    if (!clear) return false;
    const at = { file, pos: meta.pos };
    this.kinds.set(at, meta.kind);
    if (meta.id !== undefined) this.ids.set(meta.id, at);
    if (meta.name !== undefined) this.names.set(meta.name, at);
    return true;
  }

  /**
   * One SEAM_ERR_RULE_DUPLICATE per clashing document, at its own place, naming the keys it shares and every other
   * place that uses them (file:line:col), and what to do; and, for each id and name of a document left out, why, so
   * a correlation or filter naming it says "did not load" and why rather than "not loaded".
   */
  private reportDuplicates(): void {
    const per = new Map<string, { place: Place; keys: Clash[] }>();
    const placeKey = (p: Place): string => `${p.file}\0${p.pos.line}\0${p.pos.column}`;
    for (const c of this.clashes.values()) {
      for (const p of c.places) {
        const k = placeKey(p);
        const e = per.get(k);
        if (e === undefined) per.set(k, { place: p, keys: [c] });
        else if (!e.keys.includes(c)) e.keys.push(c);
      }
    }
    const at = (p: Place): string => `${p.file}:${p.pos.line}:${p.pos.column}`;
    const entries = [...per.values()].sort((a, b) => (a.place.file < b.place.file ? -1 : a.place.file > b.place.file ? 1 : a.place.pos.line - b.place.pos.line));
    for (const { place, keys } of entries) {
      const others = [...new Set(keys.flatMap((c) => c.places.filter((p) => placeKey(p) !== placeKey(place)).map(at)))];
      const shared = keys.map((c) => `${c.what} '${c.key}'`).join(' and ');
      const kinds = new Set([place.kind, ...keys.flatMap((c) => c.places.map((p) => p.kind))]);
      const noun = kinds.size === 1 ? (place.kind === 'rule' ? 'rule' : place.kind) : 'document';
      const none = others.length === 1 ? `neither ${noun} loads` : `none of these ${others.length + 1} ${noun}s loads`;
      const one = others.length === 1 ? 'one is a copy, give it' : 'some are copies, give each';
      const fix = keys.some((c) => c.what === 'id')
        ? `if ${one} a new id (a fresh UUID, e.g. from uuidgen)${keys.some((c) => c.what === 'name') ? ' and a name of its own (its file name without .yml)' : ''}, or delete it`
        : `if ${one} a name of its own (its file name without .yml: correlations, filters and overrides refer to a rule by it), or delete it`;
      this.diags.push(diag('SEAM_ERR_RULE_DUPLICATE', place.file, place.pos, `${shared} ${keys.length > 1 ? 'are' : 'is'} also used at ${others.join(', ')}: ${none} until each has its own; ${fix}`, { rule: keys[0]!.key }));
      for (const c of keys) this.notLoaded.set(c.key, `its ${c.what} '${c.key}' is used at ${c.places.map(at).join(' and ')} (SEAM_ERR_RULE_DUPLICATE)`);
    }
  }

  /** Drops what a duplicate id or name left loaded (the first of the clashing documents). */
  private dropDuplicates(): void {
    if (this.dups.size === 0) return;
    this.reportDuplicates();
    const clash = (x: { id?: string | undefined; name?: string | undefined }): boolean => (x.id !== undefined && this.dups.has(x.id)) || (x.name !== undefined && this.dups.has(x.name));
    const keep = <T extends { id?: string | undefined; name?: string | undefined }>(xs: T[], what: 'rules' | 'filters' | 'correlations'): void => {
      const before = xs.length;
      const kept = xs.filter((x) => !clash(x));
      for (const x of xs) {
        if (!clash(x)) continue;
        // The dropped document's other key (an id of its own beside a clashing name) did not load either.
        const why = this.notLoaded.get(x.id !== undefined && this.dups.has(x.id) ? x.id : x.name!);
        for (const k of [x.id, x.name]) if (k !== undefined && why !== undefined && !this.notLoaded.has(k)) this.notLoaded.set(k, why);
      }
      xs.splice(0, xs.length, ...kept);
      this.stats[what] -= before - kept.length;
      this.stats.rejected += before - kept.length;
    };
    keep(this.rules, 'rules');
    keep(this.filters, 'filters');
    keep(this.correlations, 'correlations');
  }

  /**
   * Builds the document's model (model.ts), where every problem of its detection is reported, then compiles
   * it. A rule that no Seam source can feed (three quarters of SigmaHQ: Windows, auditd, Azure...) is never
   * offered an event unless `matchUnmapped`: its predicate compiles on first use (`test()`, rule tests, the
   * index's statistics).
   */
  private addDoc(doc: ReadDoc, file: string, source: { text: string; i: number }, slot?: { cache: RuleCache; hash: string; i: number }): void {
    const before = this.diags.length;
    const meta = validateDoc(doc, file, this.diags);
    if (!meta) {
      this.stats.rejected++;
      return;
    }
    this.addValid(meta, doc, file, source, slot ? { ...slot, vdiags: this.diags.slice(before) } : undefined);
  }

  /**
   * A validated document (`doc` is undefined when its metadata came from the rule cache: only rules no source
   * feeds, which never read it). `stored`: what building its model said last time, if known.
   */
  private addValid(
    meta: RuleMeta,
    doc: ReadDoc | undefined,
    file: string,
    source: { text: string; i: number },
    slot?: { cache: RuleCache; hash: string; i: number; vdiags: Diagnostic[] },
    known?: { ok: boolean; diags: Diagnostic[] },
  ): void {
    const modelOpts = { placeholders: this.opts.placeholders ?? {}, maxPlaceholderExpansion: this.opts.maxPlaceholderExpansion };
    const mapping = mapLogsource(meta.logsource);
    const deferrable = meta.kind === 'rule' && mapping.source === undefined && this.opts.matchUnmapped !== true;
    // What building this rule's model said last time (the rule cache), when nothing will evaluate it now.
    const stored = known ?? (deferrable && slot && this.models === undefined ? slot.cache.outcome(slot.hash, slot.i, file) : undefined);
    let det: MDetection | undefined;
    // Whether the detection has no problem; `det` stays undefined for a deferred rule, built when it compiles.
    let ok: boolean;
    if (stored !== undefined) {
      this.diags.push(...stored.diags);
      if (!stored.ok) {
        this.stats.rejected++;
        return;
      }
      ok = true;
    } else if (deferrable && this.models === undefined) {
      // Every problem of the model, without building its patterns nor keeping it (most of a cold SigmaHQ load).
      const before = this.diags.length;
      ok = checkRuleModel(meta, file, modelOpts, this.diags);
      if (slot) slot.cache.putOutcome(slot.hash, slot.i, ok, this.diags.slice(before), meta, slot.vdiags);
    } else {
      const before = this.diags.length;
      const model = buildRuleModel(meta, file, modelOpts, this.diags);
      this.models?.push(model);
      if (deferrable && slot) slot.cache.putOutcome(slot.hash, slot.i, model.detection !== undefined, this.diags.slice(before), meta, slot.vdiags);
      det = model.detection;
      ok = det !== undefined;
    }
    if (meta.kind === 'correlation') {
      if (!this.unique(meta, file)) {
        this.stats.rejected++;
        return;
      }
      // Correlations are never deferred, so their document is at hand.
      const c: CorrelationDoc & { meta: RuleMeta } = { doc: doc!.js, file, line: doc!.pos.line, column: doc!.pos.column, node: doc!.node, meta };
      if (meta.id !== undefined) c.id = meta.id;
      if (meta.name !== undefined) c.name = meta.name;
      if (meta.namePos !== undefined) c.namePos = meta.namePos;
      this.correlations.push(c);
      this.stats.correlations++;
      return;
    }
    if (!ok) {
      this.stats.rejected++;
      return;
    }
    let node: Node;
    if (deferrable) {
      // Built when something evaluates the rule, from the model when there is one, else from the document read
      // again from its text (its diagnostics were already reported): no closure here holds `meta` or `doc`, so
      // the ~2,900 trees of SigmaHQ's rules no source feeds die young instead of being copied by every
      // scavenge of the load (and held for the process's life).
      const { text, i } = source;
      const detection =
        det !== undefined
          ? (): MDetection | undefined => det
          : (): MDetection | undefined => {
              const again = readYaml(text, file).docs[i];
              const m = again === undefined ? undefined : validateDoc(again, file, []);
              return m ? buildRuleModel(m, file, modelOpts, []).detection : undefined;
            };
      node = deferredNode(detection, this.fields, (n) => Object.assign(rule, { req: n.req, base: n.base, sub: n.sub, need: n.need, ...(n.any === undefined ? {} : { any: n.any }) }));
    } else node = compileDetection(det!, this.fields);
    if (!this.unique(meta, file)) {
      this.stats.rejected++;
      return;
    }
    if (meta.kind === 'filter') {
      const f: CompiledFilter = { title: meta.title, file, pos: meta.pos, logsource: meta.logsource, targets: meta.targets ?? [], ...(meta.allRules === true ? { allRules: true } : {}), pred: node.pred, ...(det === undefined ? {} : { reads: detectionReads(det) }) };
      if (meta.id !== undefined) f.id = meta.id;
      this.filters.push(f);
      this.stats.filters++;
      return;
    }
    const fields = this.fields;
    const kind = mapping.kind;
    if (kind !== undefined && mapping.source === undefined) {
      const base = node.pred;
      node.pred = (c) => c.event.kind === kind && base(c);
    }
    const materialize = (node as Partial<DeferredNode>).materialize;
    const rule: InternalRule = {
      id: meta.id ?? `${file}:${meta.pos.line}`,
      title: meta.title,
      tags: meta.tags,
      logsource: meta.logsource,
      file,
      line: meta.pos.line,
      column: meta.pos.column,
      pred: node.pred,
      req: node.req,
      base: node.base,
      sub: node.sub,
      ...(node.any === undefined ? {} : { any: node.any }),
      need: node.need,
      source: mapping.source,
      ...(kind === undefined ? {} : { kind }),
      order: this.rules.length,
      seen: 0,
      ...(materialize === undefined ? {} : { materialize: () => void materialize() }),
      ...(det === undefined ? {} : { reads: detectionReads(det), readsAt: detectionReadsAt(det) }),
      test(event: Record<string, unknown>): boolean {
        // The index offers a rule with a kind only events of that kind; alone, the rule checks it.
        return (kind === undefined || event.kind === kind) && this.pred(new EvalCtx(fields).reset(event));
      },
    };
    for (const k of ['name', 'namePos', 'level', 'status', 'description', 'fields', 'falsepositives'] as const) {
      if (meta[k] !== undefined) (rule as unknown as Record<string, unknown>)[k] = meta[k];
    }
    const triage = triageOf(meta.description);
    if (triage !== undefined) rule.triage = triage;
    this.rules.push(rule);
    this.stats.rules++;
  }

  finish(): LoadResult {
    this.dropDuplicates();
    const corrRefs = new Set(this.correlations.flatMap((c) => [c.id, c.name].filter((x): x is string => x !== undefined)));
    applyFilters(this.rules, this.filters, this.diags, corrRefs, this.notLoaded);
    // Site overrides after the filters (a filter naming a disabled rule is not a dangling reference), before the
    // suppression check (it judges the levels the site set) and the index (a disabled rule is never offered an event).
    const overrides = this.opts.overrides?.length ? applyOverrides(this.rules, this.correlations, this.opts.overrides, this.diags) : undefined;
    if (overrides !== undefined) {
      this.stats.rules = this.rules.length;
      this.stats.correlations = this.correlations.length;
    }
    // Correlations refer to rules (or other correlations) by id or name.
    const known = new Set<string>([...this.ids.keys(), ...this.names.keys()]);
    const byRef = new Map<string, InternalRule>();
    for (const r of this.rules) {
      byRef.set(r.id, r);
      if (r.name !== undefined) byRef.set(r.name, r);
    }
    for (const c of this.correlations) {
      const generate = typeof c.doc === 'object' && c.doc !== null && (c.doc as Record<string, unknown>).generate === true;
      for (const t of c.meta.targets ?? []) {
        if (!known.has(t.ref)) {
          this.diags.push({ ...warn('SEAM_ERR_RULE_REFERENCE', c.file, t.pos, `correlation refers to rule '${t.ref}', which is not loaded`, c.id ?? c.meta.title), ref: t.ref });
          continue;
        }
        // A correlation silences the alerts of the rules it names unless it says `generate: true`: say so, so
        // a correlation dropped into the folder cannot blind a rule unnoticed.
        const r = byRef.get(t.ref);
        if (!generate && r !== undefined && (r.level === undefined || r.level === 'medium' || r.level === 'high' || r.level === 'critical')) {
          this.diags.push(warn('SEAM_ERR_RULE_SUPPRESSED', c.file, t.pos, `correlation suppresses the alerts of rule '${t.ref}' (${r.file}:${r.line}, level ${r.level ?? 'medium'}); add \`generate: true\` to keep them`, c.id ?? c.meta.title));
        }
      }
    }
    const t = performance.now();
    const index = new RuleIndex(this.rules, this.fields, this.opts.matchUnmapped === true);
    this.ms.index += performance.now() - t;
    const correlations: CorrelationDoc[] = this.correlations.map(({ meta: _meta, ...c }) => c);
    const ruleset = new SigmaRuleset(this.rules, correlations, index, this.fields);
    if (this.notLoaded.size > 0) ruleset.notLoaded = this.notLoaded;
    for (const k of ['read', 'parse', 'compile', 'index'] as const) this.ms[k] = Math.round(this.ms[k]);
    return { ruleset, diagnostics: this.diags, stats: this.stats, timings: this.ms, ...(this.models ? { models: this.models } : {}), ...(overrides === undefined ? {} : { overrides }) };
  }
}

/** What a rule's model depends on besides the rule text and the engine's code: outcomes are reused only under the same. */
function optionsKey(opts: LoadOptions): string {
  const ph = Object.entries(opts.placeholders ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([ph, opts.maxPlaceholderExpansion ?? null]);
}

/** A node whose predicate compiles on first use. */
interface DeferredNode extends Node {
  materialize: () => Pred;
}

/**
 * What a deferred node requires until it compiles: nothing. One shared empty map and set for all of them (the
 * index and the filters only read these; compiling replaces them on the rule): four empty collections for
 * each of SigmaHQ's ~2,900 deferred rules were a large part of what every scavenge of a cold load copied.
 */
const NOTHING_REQUIRED: Node['req'] = new Map();
const NO_FIELDS: Node['need'] = new Set();

/** A node compiling `detection()` on first use, then handing the compiled node to `compiled`. */
function deferredNode(detection: () => MDetection | undefined, fields: FieldTable, compiled: (n: Node) => void): DeferredNode {
  let real: Pred | undefined;
  const lazy: DeferredNode = {
    pred: (c) => (real ?? lazy.materialize())(c),
    req: NOTHING_REQUIRED,
    base: NOTHING_REQUIRED,
    sub: NOTHING_REQUIRED,
    any: undefined,
    cost: 1,
    need: NO_FIELDS,
    materialize: () => {
      if (real !== undefined) return real;
      const d = detection();
      if (d === undefined) return (real = () => false);
      const n = compileDetection(d, fields);
      real = n.pred;
      compiled(n);
      return real;
    },
  };
  return lazy;
}

/** Loads rules from one text (a file's content). */
export function loadRulesFromText(text: string, file: string, opts: LoadOptions = {}): LoadResult & { ruleset: SigmaRuleset } {
  const l = new Loader(opts);
  l.addText(text, file);
  return l.finish() as LoadResult & { ruleset: SigmaRuleset };
}

/** Folders and files already walked (by real path): a symlink loop, or two paths reaching one file, reads it once. */
interface Walked {
  dirs: Set<string>;
  files: Set<string>;
  /** Rule files met again (through a link, or under an earlier path) and not read twice. */
  again: number;
}

/** Why a folder gave no rule when it holds no rule file (lint, test, replay and run say it alike). */
export const NO_RULE_FILES = 'no rule files here: Seam reads *.yml and *.yaml files, not *.test.yml, in the folder and its subfolders; hidden ones are skipped';

/** Whether a name is a rule file: `.yml`/`.yaml`, but not a `*.test.yml` file of rule test cases. */
function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !/\.test\.ya?ml$/i.test(name);
}

function realOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether a path given by the user was walked already, as a folder or a file, under an earlier path. */
function walkedBefore(path: string, walked: Walked): boolean {
  const real = realOf(path);
  return walked.dirs.has(real) || walked.files.has(real);
}

/**
 * The rule files under one path (a file is taken as it is). Folders are walked depth first in name order,
 * hidden entries skipped; symlinks are followed, to folders too (rule packs are often linked into a
 * folder), each real folder and file once. A folder that cannot be listed and a link that leads nowhere are
 * diagnostics, never a crash. Returns false when the path itself cannot be read.
 */
function collectFiles(path: string, out: string[], diags: Diagnostic[], walked: Walked): boolean {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    // A path that is not there (a typo) says so plainly, not in the words of stat(2).
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT';
    diags.push(diag('SEAM_ERR_RULE_FILE', path, { line: 0, column: 0 }, gone ? 'no rules found (it does not exist)' : `cannot read: ${(e as Error).message}`));
    return false;
  }
  if (st.isFile()) {
    const real = realOf(path);
    if (!walked.files.has(real)) {
      walked.files.add(real);
      out.push(path);
    } else walked.again++;
    return true;
  }
  if (!st.isDirectory()) {
    diags.push(diag('SEAM_ERR_RULE_FILE', path, { line: 0, column: 0 }, 'not a file or a folder'));
    return false;
  }
  const real = realOf(path);
  if (walked.dirs.has(real)) return true;
  walked.dirs.add(real);
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (e) {
    diags.push(diag('SEAM_ERR_RULE_FILE', path, { line: 0, column: 0 }, `cannot list the folder: ${(e as Error).message}`));
    return false;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // join(path, name) for every entry, with join's normalizing done once per folder: for an entry name (no
  // '/', never '.' or '..') it is this prefix plus the name. (join per entry cost ~20 ms of a cold start.)
  const prefix = join(path, 'x').slice(0, -1);
  const realPrefix = join(real, 'x').slice(0, -1);
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = prefix + e.name;
    let dir = e.isDirectory();
    let file = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const t = statSync(p);
        dir = t.isDirectory();
        file = t.isFile();
      } catch (err) {
        // Said (a rules folder linked from elsewhere that went missing), but only a rule file's or a folder's
        // name is worth an error: a dangling link to notes or a README is not a rules problem.
        const msg = `cannot follow the symlink: ${(err as Error).message}`;
        diags.push(isRuleFileName(e.name) ? diag('SEAM_ERR_RULE_FILE', p, { line: 0, column: 0 }, msg) : warn('SEAM_ERR_RULE_FILE', p, { line: 0, column: 0 }, msg));
        continue;
      }
    }
    if (dir) collectFiles(p, out, diags, walked);
    else if (file && isRuleFileName(e.name)) {
      // A plain file's real path is its real folder's plus its name (one realpath per folder, not per file).
      const r = e.isSymbolicLink() ? realOf(p) : realPrefix + e.name;
      if (walked.files.has(r)) {
        walked.again++;
        continue;
      }
      walked.files.add(r);
      out.push(p);
    }
  }
  return true;
}

/** One given path's part of a walk: where its files end in `files`, whether it could be read, how many rule files it met that an earlier path (or a link) had already given. */
interface PathWalk {
  end: number;
  readable: boolean;
  again: number;
}

/** Walks the given paths in order, each real folder and file once (collectFiles), keeping what each path gave. */
function walkPaths(paths: readonly string[], diagnostics: Diagnostic[]): { files: string[]; perPath: PathWalk[] } {
  const walked: Walked = { dirs: new Set(), files: new Set(), again: 0 };
  const files: string[] = [];
  const perPath = paths.map((p) => {
    const a = walked.again;
    // A path that is itself a folder or file an earlier path walked adds nothing new, as a repeated file does.
    const seen = walkedBefore(p, walked) ? 1 : 0;
    const readable = collectFiles(p, files, diagnostics, walked);
    return { end: files.length, readable, again: walked.again - a + seen };
  });
  return { files, perPath };
}

/** The rule files `loadRules` would read under these paths, for a quick check before loading: `empty` names the paths that hold no rule file at all (missing ones included; overlapping paths are not empty), `diagnostics` why. */
export function ruleFilesUnder(paths: string[]): { files: string[]; empty: string[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const { files, perPath } = walkPaths(paths, diagnostics);
  const empty = paths.filter((_, k) => perPath[k]!.end === (k === 0 ? 0 : perPath[k - 1]!.end) && perPath[k]!.again === 0);
  return { files, empty, diagnostics };
}

/** The problems found under a path (its own, its files' and its links'), first few, for an error message. */
export function problemsUnder(path: string, diagnostics: readonly Diagnostic[], max = 3): string[] {
  const inside = (f: string): boolean => f === path || f.startsWith(path.endsWith('/') ? path : path + '/');
  const mine = diagnostics.filter((d) => d.code !== 'SEAM_ERR_RULES_EMPTY' && inside(d.file) && (d.severity === 'error' || d.code === 'SEAM_ERR_RULE_FILE'));
  const shown = mine.slice(0, max).map((d) => `${placeOf(d)}: ${d.code} ${d.message}`);
  if (mine.length > max) shown.push(`${mine.length - max} more (seam rules lint ${path})`);
  return shown;
}

/**
 * A rules path that yields no rule is a mistake (a typo, a folder of tests, a link not followed), never a
 * quiet run with fewer rules than the user thinks: SEAM_ERR_RULES_EMPTY, naming each path, why, and the
 * first problems found under it.
 */
export function throwIfEmpty(loaded: Pick<LoadResult, 'emptyPaths' | 'diagnostics'>): void {
  const empty = loaded.emptyPaths ?? [];
  if (empty.length === 0) return;
  const lines = empty.map((p) => {
    const why = loaded.diagnostics.find((d) => d.file === p && (d.code === 'SEAM_ERR_RULES_EMPTY' || d.code === 'SEAM_ERR_RULE_FILE'))?.message ?? 'no rules';
    const under = problemsUnder(p, loaded.diagnostics).filter((x) => !x.endsWith(why));
    return `${p}: ${why}${under.length ? `\n  ${under.join('\n  ')}` : ''}`;
  });
  throw new SeamError('SEAM_ERR_RULES_EMPTY', lines.join('\n'), { details: { paths: empty } });
}

/**
 * Loads every `.yml`/`.yaml` file under the given files and folders. Files are read synchronously: a
 * loader that awaits 3,000 reads through the thread pool spends longer waiting than reading, and nothing
 * else runs while rules load. With `opts.cacheDir`, stage 1 comes from the rule cache (cache.ts) for
 * files whose content it has seen. A path that yields no rule is reported (`emptyPaths`, an error); one
 * whose rule files were all read from an earlier path only gets a warning (the same rules load either way).
 */
export async function loadRules(paths: string[], opts: LoadOptions = {}): Promise<LoadResult & { ruleset: SigmaRuleset }> {
  const started = performance.now();
  const l = new Loader(opts);
  const t = performance.now();
  const { files, perPath } = walkPaths(paths, l.diags);
  const texts: (string | Error)[] = [];
  for (const f of files) {
    try {
      texts.push(readFileSync(f, 'utf8'));
    } catch (e) {
      texts.push(e as Error);
    }
  }
  l.ms.read = performance.now() - t;
  const opened = performance.now();
  const cache = opts.cacheDir === undefined ? undefined : new RuleCache(opts.cacheDir, paths, optionsKey(opts));
  l.ms.parse += performance.now() - opened;
  const emptyPaths: string[] = [];
  const empties: Diagnostic[] = [];
  const documents = (): number => l.stats.rules + l.stats.correlations + l.stats.filters;
  let i = 0;
  for (let k = 0; k < paths.length; k++) {
    const start = i;
    const before = documents();
    for (; i < perPath[k]!.end; i++) {
      const text = texts[i]!;
      if (typeof text !== 'string') {
        l.diags.push(diag('SEAM_ERR_RULE_FILE', files[i]!, { line: 0, column: 0 }, `cannot read: ${text.message}`));
        l.stats.files++;
        l.stats.rejected++;
        continue;
      }
      l.addText(text, files[i]!, cache);
    }
    // A path that gives nothing is a mistake (a typo, a folder of tests, a link not followed), not a quiet run
    // with fewer rules than the user thinks.
    if (documents() === before) {
      const n = i - start;
      if (perPath[k]!.readable && n === 0 && perPath[k]!.again > 0) {
        // Overlapping paths (a folder and its subfolder, a link into the pack): the rules load once either way.
        l.diags.push(warn('SEAM_ERR_RULES_EMPTY', paths[k]!, { line: 0, column: 0 }, 'this rules path adds nothing: its rule files were already read from an earlier path (or through a link)'));
        continue;
      }
      emptyPaths.push(paths[k]!);
      if (perPath[k]!.readable) {
        const why = n === 0 ? NO_RULE_FILES : `${n} rule file${n === 1 ? '' : 's'} here, and none gave a rule, filter or correlation`;
        empties.push(diag('SEAM_ERR_RULES_EMPTY', paths[k]!, { line: 0, column: 0 }, `no rules found (${why})`));
      }
    }
  }
  const result = l.finish() as LoadResult & { ruleset: SigmaRuleset };
  // Said after what loading found (a duplicate id is only known at the end): the cause comes before the empty path.
  result.diagnostics.push(...empties);
  if (emptyPaths.length > 0) result.emptyPaths = emptyPaths;
  if (cache) {
    const saving = performance.now();
    cache.save();
    result.timings!.parse += Math.round(performance.now() - saving);
    result.cache = cache.report;
  }
  result.timings!.total = Math.round(performance.now() - started);
  return result;
}

export { formatDiagnostic } from './diagnostics.ts';
export type { CompiledRule as Rule };
