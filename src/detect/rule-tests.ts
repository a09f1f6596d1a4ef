import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { YAMLError, parse as parseYaml } from 'yaml';
import type { RawMeta, SeamEvent } from '../core/envelope.ts';
import { normalizeRecord } from '../core/normalize/normalize.ts';
import { eventTimeMs, nativeIdOf, type Alert } from './alert.ts';
import { ruleLookupFrom, suppressedRuleIds } from './correlate/compile.ts';
import { createDetector } from './detector.ts';
import { NO_RULE_FILES, loadRules, ruleFilesUnder } from './sigma/ruleset.ts';
import { placeOf } from './sigma/diagnostics.ts';
import { OVERRIDES_SOURCE } from './sigma/overrides.ts';
import type { RuleOverride } from './sigma/types.ts';
import { didYouMean } from './sigma/spelling.ts';

/**
 * Runs the sibling test files of rules: `foo.yml` is tested by `foo.test.yml`, whose `cases` are
 * timelines of raw records (as the sources write them) with the number of alerts the rules of
 * `foo.yml` must raise over each (`alerts: 0` = must stay silent). The whole rule set is loaded, so a
 * correlation can refer to rules in other files; only alerts of the file under test are counted.
 *
 * A rule or correlation whose own alerts a referencing correlation withholds (`generate` not set: it
 * only feeds the correlation) is tested by the alerts it would raise if generated, so feeders keep a
 * positive and a near-miss case without emitting alerts in production. In the file of a correlation that
 * withholds it (the specification's layout, feeder and correlation in one file), a feeder's alerts count only in
 * the cases whose `expect` names it: the others count what the stream emits, so a near miss can say `alerts: 0`.
 *
 * A test file may set `placeholders:` (name → values) for the `|expand` placeholders of its rule, to
 * test the rule as a site would configure it; the rule set is then loaded again with those values. A case
 * may set its own `placeholders:` too, over the file's (same form), when only some cases need a site's list.
 *
 * A case may also say which events its alerts cover (`expect`, see `AlertExpectation`): `alerts: 1` alone passes
 * when the rule fires on the wrong record of a multi-record timeline.
 *
 * ```yaml
 * placeholders: { allowed_namespaces: [kube-system, monitoring] }
 * cases:
 *   - name: exec into kube-system pod
 *     alerts: 1
 *     expect: [ { events: [5c0e...] } ]
 *     events: [ {kind: Event, apiVersion: audit.k8s.io/v1, auditID: 5c0e..., ...} ]
 * ```
 */
export interface RuleTestCase {
  name: string;
  alerts: number;
  events: unknown[];
  /** Placeholder values for this case, over the file's. */
  placeholders?: Record<string, string[]>;
  /** Alerts the case must raise, by the events each covers (each met by a different alert of the file). */
  expect?: AlertExpectation[];
}

/**
 * One alert a case must raise: `events` are the ids of the events the alert covers, all of them and no other (a
 * CloudTrail `eventID`, an audit `auditID` — any stage of it — or `auditID:stage`, a runtime event's `uuid`/`id`, a
 * GuardDuty finding id); `rule`, when given, the id, `name` or title of the rule or correlation that raises it.
 */
export interface AlertExpectation {
  rule?: string;
  events: string[];
}

export interface RuleTestSummary {
  files: number;
  cases: number;
  passed: number;
  failed: number;
  /** Rule files without a sibling test file. */
  missing: number;
  /** Test files that cannot be read or whose events do not normalize. */
  errors: number;
  /**
   * With the site's overrides (`seam rules test --config`): cases that pass as shipped and not with the overrides
   * (a raised threshold, say), reported as OVERRIDDEN, and cases of rules the overrides disable, reported as
   * SKIPPED-BY-OVERRIDE. Neither is a failure; absent without overrides.
   */
  overridden?: number;
  skippedByOverride?: number;
}

const testBeside = (p: string): string => p.replace(/\.(ya?ml)$/i, '.test.$1');
/**
 * The test file of a rule file: beside it, else beside the file a symlink leads to (a folder of links to chosen
 * pack rules: the loader reads each real file once, under the first name it met, which may be the link's).
 */
function siblingTest(p: string): string {
  const own = testBeside(p);
  if (existsSync(own)) return own;
  try {
    const real = testBeside(realpathSync(p));
    return existsSync(real) ? real : own;
  } catch {
    return own;
  }
}

/**
 * Test files (not hidden) whose rule file does not exist, in the folders given and every folder under them, those
 * that hold no rule file included (a folder of tests whose rules were moved or never written: nothing else would
 * ever say its cases do not run). A rule file named on its own brings no check of its neighbours. Symlinked folders
 * are followed as the loader follows them, each real folder once.
 */
function orphanTests(given: readonly string[], ruleFiles: readonly string[]): string[] {
  const givenDirs = given.filter((p) => existsSync(p) && statSync(p).isDirectory()).map((p) => p.replace(/\/+$/, '') || '/');
  const dirs = new Set<string>();
  const seen = new Set<string>();
  const walk = (d: string): void => {
    let real: string;
    try {
      real = realpathSync(d);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    dirs.add(d);
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) {
        try {
          if (statSync(p).isDirectory()) walk(p);
        } catch {
          // A dangling link: the loader's walk reports it.
        }
      }
    }
  };
  for (const d of givenDirs) walk(d);
  for (const f of ruleFiles) if (givenDirs.some((d) => f.startsWith(d === '/' ? d : `${d}/`))) dirs.add(dirname(f));
  const out: string[] = [];
  for (const d of [...dirs].sort()) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (n.startsWith('.') || !/\.test\.ya?ml$/i.test(n)) continue;
      const t = join(d, n);
      if (!existsSync(t.replace(/\.test\.(ya?ml)$/i, '.$1'))) out.push(t);
    }
  }
  return out;
}

interface RuleTestFile {
  placeholders?: Record<string, string[]>;
  cases: RuleTestCase[];
}

const TOP_KEYS = ['cases', 'placeholders'] as const;
const CASE_KEYS = ['name', 'alerts', 'events', 'placeholders', 'expect'] as const;
const EXPECT_KEYS = ['rule', 'events'] as const;

function parseTestFile(text: string, file: string): RuleTestFile {
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown;
  } catch (e) {
    // The yaml package's message ends with the place and a snippet over several lines: say the file and place, as lint does.
    if (!(e instanceof YAMLError)) throw e;
    const at = e.linePos?.[0];
    throw new Error(`${file}${at ? `:${at.line}:${at.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, { cause: e });
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { cases?: unknown }).cases)) {
    throw new Error(`${file}: expected a top-level "cases" list`);
  }
  const readPlaceholders = (ph: unknown, where: string): Record<string, string[]> | undefined => {
    if (ph === undefined) return undefined;
    if (!ph || typeof ph !== 'object' || Array.isArray(ph)) throw new Error(`${file}: ${where}"placeholders" must map names to lists of values`);
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(ph)) {
      const values = Array.isArray(v) ? v : [v];
      out[k] = values.map((x) => String(x));
    }
    return out;
  };
  // A misspelt key (`placeholder:`) would leave a case running without the values it was written for.
  const checkKeys = (o: object, known: readonly string[], where: string): void => {
    const bad = Object.keys(o).filter((k) => !known.includes(k));
    if (bad.length > 0) throw new Error(`${file}: ${where}${bad.map((k) => `unknown key "${k}"${didYouMean(k, known)}`).join(', ')}; keys here: ${known.join(', ')}`);
  };
  const readExpect = (ex: unknown, alerts: number, where: string): AlertExpectation[] | undefined => {
    if (ex === undefined) return undefined;
    const shape = `"expect" must be a list of {events: [<eventID|auditID>...], rule: <id or name>} (rule optional)`;
    if (!Array.isArray(ex) || ex.length === 0) throw new Error(`${file}: ${where}${shape}`);
    if (ex.length > alerts) throw new Error(`${file}: ${where}"expect" lists ${ex.length} alert(s), more than "alerts: ${alerts}"`);
    return ex.map((x, k) => {
      const at = `${where}expect ${k + 1}: `;
      if (!x || typeof x !== 'object' || Array.isArray(x)) throw new Error(`${file}: ${at}${shape}`);
      checkKeys(x, EXPECT_KEYS, at);
      const e = x as { rule?: unknown; events?: unknown };
      const ids = Array.isArray(e.events) ? e.events : e.events === undefined ? [] : [e.events];
      if (ids.length === 0 || !ids.every((id) => typeof id === 'string' || typeof id === 'number')) throw new Error(`${file}: ${at}"events" must be a non-empty list of event ids (eventID, auditID, uuid)`);
      if (e.rule !== undefined && typeof e.rule !== 'string') throw new Error(`${file}: ${at}"rule" must be a rule's id, name or title`);
      return { ...(e.rule === undefined ? {} : { rule: e.rule }), events: ids.map(String) };
    });
  };
  checkKeys(doc, TOP_KEYS, '');
  const placeholders = readPlaceholders((doc as { placeholders?: unknown }).placeholders, '');
  const cases = ((doc as { cases: unknown[] }).cases).map((c, i) => {
    const o = (c ?? {}) as Record<string, unknown>;
    if (typeof o === 'object' && !Array.isArray(o)) checkKeys(o, CASE_KEYS, `case ${i + 1}${typeof o.name === 'string' ? ` (${o.name})` : ''}: `);
    if (typeof o.alerts !== 'number' || !Array.isArray(o.events) || o.events.length === 0) {
      throw new Error(`${file}: case ${i + 1} needs "alerts" (a number) and a non-empty "events" list`);
    }
    const own = readPlaceholders(o.placeholders, `case ${i + 1}: `);
    const expect = readExpect(o.expect, o.alerts, `case ${i + 1}${typeof o.name === 'string' ? ` (${o.name})` : ''}: `);
    return { name: typeof o.name === 'string' ? o.name : `case ${i + 1}`, alerts: o.alerts, events: o.events, ...(own ? { placeholders: own } : {}), ...(expect ? { expect } : {}) };
  });
  return { ...(placeholders ? { placeholders } : {}), cases };
}

/**
 * What `runRuleTests` would run, without running it: rule files under `paths`, their test files' cases (read with
 * the runner's own parser), rule files without a test file, and test files that do not parse. For pages that state
 * the size of the pack's tests (`seam coverage --doc`); whether they pass is the runner's business.
 */
export async function countRuleTests(paths: string[]): Promise<Pick<RuleTestSummary, 'files' | 'cases' | 'missing' | 'errors'>> {
  const files = ruleFilesUnder(paths).files;
  const s = { files: files.length, cases: 0, missing: 0, errors: 0 };
  for (const f of files) {
    const testFile = siblingTest(f);
    if (!existsSync(testFile)) {
      s.missing++;
      continue;
    }
    try {
      s.cases += parseTestFile(await readFile(testFile, 'utf8'), testFile).cases.length;
    } catch {
      s.errors++;
    }
  }
  return s;
}

/**
 * `site`: the placeholder values of a site (`seam rules test --placeholders FILE` or seam.yml's), under every test
 * file's and case's own, so the cases run against the rules as that site configures them.
 */
export async function runRuleTests(paths: string[], out: NodeJS.WritableStream, site: { placeholders?: Record<string, string[]> | undefined; overrides?: readonly RuleOverride[] | undefined } = {}): Promise<RuleTestSummary> {
  // A test file named on its own (`seam rules test foo.test.yml`) stands for its rule file. The rule files are
  // the loader's (symlinked folders followed); each brings its sibling test file.
  const given = paths.map((p) => (/\.test\.ya?ml$/i.test(p) ? p.replace(/\.test\.(ya?ml)$/i, '.$1') : p));
  const under = ruleFilesUnder(given);
  const ruleFiles = under.files;
  const s: RuleTestSummary = { files: ruleFiles.length, cases: 0, passed: 0, failed: 0, missing: 0, errors: 0 };
  const orphanLine = (t: string): string => `ERROR ${t}: no rule file ${basename(t).replace(/\.test\.(ya?ml)$/i, '.$1')} beside it, so its cases never run (X.test.yml tests X.yml, X.test.yaml tests X.yaml)\n`;
  for (const p of under.empty) {
    // A test file named on its own whose rule file is not there: the test file is the problem, said as an orphan.
    const named = paths[given.indexOf(p)];
    if (named !== undefined && named !== p && !existsSync(p) && existsSync(named)) {
      out.write(orphanLine(named));
      s.errors++;
      continue;
    }
    out.write(
      existsSync(p)
        ? `ERROR ${p}: SEAM_ERR_RULES_EMPTY no rules found (${NO_RULE_FILES})\n`
        : `ERROR ${named ?? p}: SEAM_ERR_RULES_EMPTY no rules found (it does not exist)\n`,
    );
    s.errors++;
  }
  // A file under the paths that cannot be read (a broken symlink, no permission) is no rule and no test: say so, as
  // lint does, instead of running the others as if it were not there. Paths judged empty above are said once.
  for (const d of under.diagnostics.filter((x) => x.severity === 'error' && x.code !== 'SEAM_ERR_RULES_EMPTY' && !under.empty.includes(x.file))) {
    out.write(`ERROR ${d.file}: ${d.code} ${d.message}\n`);
    s.errors++;
  }
  // A test file with no rule file beside it (the rule renamed or deleted, `x.test.yaml` beside `x.yml`) would never
  // run, and nothing else says so: an ERROR, in the folders given and every folder under them (rule-less ones too).
  for (const t of orphanTests(given, ruleFiles)) {
    out.write(orphanLine(t));
    s.errors++;
  }
  const base = site.placeholders;
  const withBase = (own: Record<string, string[]> | undefined): { placeholders?: Record<string, string[]> } => (base || own ? { placeholders: { ...base, ...own } } : {});
  const { ruleset, diagnostics } = await loadRules(ruleFiles, withBase(undefined));
  // The site's overrides (--config): each case runs on the rules as shipped and as the site runs them.
  const overrides = site.overrides !== undefined && site.overrides.length > 0 ? [...site.overrides] : undefined;
  const sited = async (ph: Record<string, string[]> | undefined): Promise<Awaited<ReturnType<typeof loadRules>>['ruleset']> => (await loadRules(ruleFiles, { ...withBase(ph), overrides: overrides! })).ruleset;
  if (overrides !== undefined) {
    s.overridden = 0;
    s.skippedByOverride = 0;
    const applied = await loadRules(ruleFiles, { ...withBase(undefined), overrides });
    for (const line of applied.overrides ?? []) out.write(`${line}\n`);
    for (const d of applied.diagnostics.filter((x) => x.file.startsWith(OVERRIDES_SOURCE))) out.write(`warning: ${d.file}: ${d.code} ${d.message}\n`);
  }
  // Files are loaded one by one here: a file with no rule in it (a commented template) is lint's business, not
  // an empty rules path; the paths the user gave were judged above.
  for (const d of diagnostics.filter((x) => x.severity === 'error' && x.code !== 'SEAM_ERR_RULES_EMPTY')) {
    out.write(`ERROR ${placeOf(d)}: ${d.code} ${d.message}\n`);
    s.errors++;
  }
  // Correlations compile where the detector compiles them. One that cannot be used (a rule it names is not among
  // the paths given) would only show as cases that FAIL with 0 alerts: say why, once.
  const uncompiled = new Map<string, (typeof diagnostics)[number]>();
  for (const d of createDetector({ ruleset, allowedLatenessMs: 0 }).diagnostics.filter((x) => x.severity === 'error')) {
    out.write(`ERROR ${placeOf(d)}: ${d.code} ${d.message}\n`);
    s.errors++;
    if (!uncompiled.has(d.file)) uncompiled.set(d.file, d);
  }
  const idsByFile = new Map<string, Set<string>>();
  const addId = (file: string, id: string | undefined): void => {
    if (!id) return;
    let set = idsByFile.get(file);
    if (!set) idsByFile.set(file, (set = new Set()));
    set.add(id);
  };
  for (const r of ruleset.rules) addId(r.file, r.id);
  for (const c of ruleset.correlations) addId(c.file, c.id);
  // A filter file defines no rule: its cases count the alerts of the rules it narrows (loaded from the paths given).
  for (const r of ruleset.rules) for (const f of r.filteredBy ?? []) addId(f, r.id);
  // Feeders withheld by a correlation of their own file: the stream never emits them (see above).
  const lookup = ruleLookupFrom(ruleset.rules);
  const withheld = suppressedRuleIds(ruleset.correlations, lookup);
  const feedersByFile = new Map<string, Set<string>>();
  for (const file of new Set(ruleset.correlations.map((c) => c.file))) {
    const ids = idsByFile.get(file) ?? new Set<string>();
    const own = [...suppressedRuleIds(ruleset.correlations.filter((c) => c.file === file), lookup)].filter((id) => withheld.has(id) && ids.has(id));
    if (own.length > 0) feedersByFile.set(file, new Set(own));
  }

  // A folder of several rule files none of which has a test file (a vendor pack: SigmaHQ ships no Seam tests) is one
  // MISSING line with its count, not one per rule (57 for SigmaHQ's aws folder, burying the lines that matter).
  const untested = new Map<string, number>();
  for (const f of ruleFiles) {
    const d = dirname(f);
    untested.set(d, (untested.get(d) ?? 0) + (existsSync(siblingTest(f)) ? Number.NEGATIVE_INFINITY : 1));
  }
  const saidFolder = new Set<string>();
  for (const ruleFile of ruleFiles) {
    const testFile = siblingTest(ruleFile);
    // A rule file named on its own (`seam rules test foo.yml`) brings its sibling along.
    if (!existsSync(testFile)) {
      s.missing++;
      const folder = dirname(ruleFile);
      const n = untested.get(folder) ?? 0;
      if (n < 2) out.write(`MISSING ${ruleFile}: no sibling ${basename(testFile)}\n`);
      else if (!saidFolder.has(folder)) {
        saidFolder.add(folder);
        out.write(`MISSING ${folder}: none of its ${n} rule files has a sibling X.test.yml (a rule pack that ships no Seam tests, as SigmaHQ's; seam rules lint checks that it loads)\n`);
      }
      continue;
    }
    let tf: RuleTestFile;
    try {
      tf = parseTestFile(await readFile(testFile, 'utf8'), testFile);
    } catch (e) {
      out.write(`ERROR ${(e as Error).message}\n`);
      s.errors++;
      continue;
    }
    const cases = tf.cases;
    if (!idsByFile.has(ruleFile)) {
      // Nothing here could alert, so every `alerts: 0` case would pass whatever the file says. When the rule file
      // was rejected, say by what (its ERROR is above), not only that nothing loaded.
      const cause = diagnostics.find((d) => d.file === ruleFile && d.severity === 'error');
      out.write(
        cause !== undefined
          ? `ERROR ${testFile}: its ${cases.length} case(s) did not run: ${ruleFile} did not load (${cause.code} at ${placeOf(cause)}, above)\n`
          : `ERROR ${testFile}: ${ruleFile} defines no rule or correlation that loaded, nor a filter applied to a loaded rule (name the rules it filters too): its ${cases.length} case(s) would count nothing\n`,
      );
      s.errors++;
      continue;
    }
    const rs = tf.placeholders ? (await loadRules(ruleFiles, withBase(tf.placeholders))).ruleset : ruleset;
    const fileIds = idsByFile.get(ruleFile) ?? new Set<string>();
    const feeders = feedersByFile.get(ruleFile);
    const siteRs = overrides === undefined ? undefined : await sited(tf.placeholders);
    // The file's rules and correlations the overrides disable (a disabled feeder takes its correlations with it).
    const loadedIds = (x: NonNullable<typeof siteRs>): Set<string> => new Set([...x.rules.map((r) => r.id), ...x.correlations.map((c) => c.id)].filter((id): id is string => id !== undefined));
    const disabled = siteRs === undefined ? [] : [...fileIds].filter((id) => !loadedIds(siteRs).has(id));
    for (const c of cases) {
      s.cases++;
      const caseRs = c.placeholders ? (await loadRules(ruleFiles, withBase({ ...tf.placeholders, ...c.placeholders }))).ruleset : rs;
      if (siteRs !== undefined && disabled.length === fileIds.size) {
        // Every rule of the file is off at this site: the case tests nothing the site runs.
        out.write(`SKIPPED-BY-OVERRIDE ${testFile}: ${c.name}: ${disabled.map((id) => ruleNamesOf(caseRs, new Set([id])).get(id)?.label ?? id).join(', ')} disabled by seam.yml rules.overrides\n`);
        s.skippedByOverride!++;
        continue;
      }
      let ids: ReadonlySet<string> = fileIds;
      if (feeders !== undefined) {
        const names = ruleNamesOf(caseRs, feeders);
        const named = new Set([...feeders].filter((id) => c.expect?.some((ex) => ex.rule !== undefined && names.get(id)?.names.includes(ex.rule)) === true));
        ids = new Set([...fileIds].filter((id) => !feeders.has(id) || named.has(id)));
      }
      let bad: string | undefined;
      const events: SeamEvent[] = [];
      c.events.forEach((raw, i) => {
        const meta: RawMeta = { collector: 'rule-test', receivedAt: new Date(0).toISOString(), origin: `${testFile}#${c.name}[${i}]` };
        const r = normalizeRecord(raw, meta);
        if (!r.ok) {
          bad ??= `event ${i + 1} does not normalize: ${r.error.code} ${r.error.message}`;
          return;
        }
        events.push(r.value as SeamEvent);
      });
      if (bad) {
        out.write(`ERROR ${testFile}: ${c.name}: ${bad}\n`);
        s.errors++;
        continue;
      }
      const shipped = judgeCase(c, events, caseRs, ids);
      // With the site's overrides: the same case on the rules as the site runs them (the case's placeholders too).
      const site = siteRs === undefined || shipped.kind !== 'pass' ? undefined : judgeCase(c, events, c.placeholders ? await sited({ ...tf.placeholders, ...c.placeholders }) : siteRs, ids);
      if (shipped.kind === 'pass' && site !== undefined && site.kind !== 'pass') {
        out.write(`OVERRIDDEN ${testFile}: ${c.name}: passes as shipped; with seam.yml rules.overrides: ${site.message}\n`);
        s.overridden!++;
      } else if (shipped.kind === 'pass') s.passed++;
      else if (shipped.kind === 'error') {
        out.write(`ERROR ${testFile}: ${c.name}: ${shipped.message}\n`);
        s.errors++;
      } else {
        // A correlation of this file that could not be used fails every case that expects it: name the cause (above).
        const cause = uncompiled.get(ruleFile);
        out.write(`FAIL ${testFile}: ${c.name}: ${shipped.message}${cause === undefined ? '' : ` (a correlation of ${basename(ruleFile)} cannot be used: ${cause.code} at ${placeOf(cause)}, above)`}\n`);
        s.failed++;
      }
    }
  }
  const sitePart = s.overridden === undefined ? '' : ` overridden=${s.overridden} skipped_by_override=${s.skippedByOverride ?? 0}`;
  out.write(`rules-test: files=${s.files} cases=${s.cases} passed=${s.passed} failed=${s.failed} missing=${s.missing} errors=${s.errors}${sitePart}\n`);
  return s;
}

/** One case's verdict on one ruleset: `ids` the rules and correlations whose alerts it counts. */
function judgeCase(
  c: { alerts: number; expect?: AlertExpectation[] },
  events: readonly SeamEvent[],
  caseRs: Awaited<ReturnType<typeof loadRules>>['ruleset'],
  ids: ReadonlySet<string>,
): { kind: 'pass' } | { kind: 'fail' | 'error'; message: string } {
  const alertsOf = (timeline: readonly SeamEvent[]): Alert[] => {
    const detector = createDetector({ ruleset: caseRs, allowedLatenessMs: 0, emitWithheld: true });
    const mine: Alert[] = [];
    for (const e of timeline) for (const a of detector.process(e)) if (ids.has(a.rule.id)) mine.push(a);
    for (const a of detector.flush()) if (ids.has(a.rule.id)) mine.push(a);
    return mine;
  };
  const raised = alertsOf(events);
  const fired = raised.length;
  // Events with the same event time cannot be told apart (CloudTrail's times are to the second), and a pipeline
  // hands them on in seam.id order, not file order: the case must give the same count with each run of them reversed.
  const swapped = reverseTies(events);
  const raisedSwapped = swapped === undefined || fired !== c.alerts ? raised : alertsOf(swapped);
  const firedSwapped = raisedSwapped.length;
  const expectation = (got: readonly Alert[]): { error?: string; fail?: string } => (c.expect ? checkExpectations(c.expect, got, events, ruleNamesOf(caseRs, ids)) : {});
  const met = fired !== c.alerts || firedSwapped !== c.alerts ? {} : expectation(raised);
  const metSwapped = met.error || met.fail || raisedSwapped === raised || firedSwapped !== c.alerts ? {} : expectation(raisedSwapped);
  if (met.error) return { kind: 'error', message: met.error };
  if (fired === c.alerts && firedSwapped === c.alerts && !met.fail && !metSwapped.fail) return { kind: 'pass' };
  if (met.fail) return { kind: 'fail', message: met.fail };
  if (metSwapped.fail) return { kind: 'fail', message: `${metSwapped.fail}, with the events of equal event time in reversed order (ties are unordered)` };
  if (fired === c.alerts) return { kind: 'fail', message: `expected ${c.alerts} alert(s), got ${firedSwapped} with the events of equal event time in reversed order (ties are unordered)` };
  // The alerts raised are named whenever there are some (which rule, over which events), so a near miss that fires says why.
  return { kind: 'fail', message: `expected ${c.alerts} alert(s), got ${fired}${c.expect || fired > 0 ? `: ${describeAlerts(raised, events, ruleNamesOf(caseRs, ids))}` : ''}` };
}

/** The rules and correlations a case may name in `expect`: alert rule id → its name or title (shown) and the words that name it. */
export type RuleNames = ReadonlyMap<string, { label: string; names: readonly string[] }>;

/**
 * Whether `alerts` (the file's alerts over one run of a case) meet `expect`: each expectation by a different alert,
 * of its rule when it names one, whose events are exactly those it lists. An expected id names an event of the
 * timeline by its `seam.id` (a CloudTrail eventID, `auditID:stage`) or by the id its source gave it (an audit
 * `auditID` stands for any of its stages). `error`: the expectation names an event or rule the case does not have
 * (the test file is wrong); `fail`: the alerts do not meet it, saying which alert covered which events.
 */
export function checkExpectations(expect: readonly AlertExpectation[], alerts: readonly Pick<Alert, 'rule' | 'events'>[], timeline: readonly SeamEvent[], rules: RuleNames): { error?: string; fail?: string } {
  const native = new Map<string, string | undefined>();
  const position = new Map<string, number>();
  timeline.forEach((e, i) => {
    native.set(e.seam.id, nativeIdOf(e));
    if (!position.has(e.seam.id)) position.set(e.seam.id, i + 1);
  });
  const names = (x: string, seamId: string): boolean => seamId === x || native.get(seamId) === x;
  for (const [k, ex] of expect.entries()) {
    const unknown = ex.events.filter((x) => ![...native.keys()].some((id) => names(x, id)));
    if (unknown.length > 0) {
      const here = [...native.keys()].map((id) => shown(id, native, position));
      return { error: `expect ${k + 1} names ${unknown.map((x) => `"${x}"`).join(', ')}, which no event of the case has (its events: ${here.join(', ')})` };
    }
    if (ex.rule !== undefined && ![...rules.values()].some((r) => r.names.includes(ex.rule!))) {
      return { error: `expect ${k + 1} names rule "${ex.rule}", which is not a rule or correlation this file's alerts can come from (${[...rules.values()].map((r) => r.label).join(', ')})` };
    }
  }
  const meets = (ex: AlertExpectation, a: Pick<Alert, 'rule' | 'events'>): boolean =>
    (ex.rule === undefined || (rules.get(a.rule.id)?.names.includes(ex.rule) ?? a.rule.id === ex.rule)) &&
    ex.events.every((x) => a.events.some((id) => names(x, id))) &&
    a.events.every((id) => ex.events.some((x) => names(x, id)));
  // Each expectation needs an alert of its own; the lists are a handful long, so a plain search finds a matching.
  const used = new Set<number>();
  const assign = (k: number): boolean => {
    if (k === expect.length) return true;
    for (let j = 0; j < alerts.length; j++) {
      if (used.has(j) || !meets(expect[k]!, alerts[j]!)) continue;
      used.add(j);
      if (assign(k + 1)) return true;
      used.delete(j);
    }
    return false;
  };
  if (assign(0)) return {};
  const alone = expect.findIndex((ex) => !alerts.some((a) => meets(ex, a)));
  const what = (ex: AlertExpectation): string => `an alert${ex.rule === undefined ? '' : ` of ${ex.rule}`} covering ${ex.events.join(', ')}`;
  const got = describeAlerts(alerts, timeline, rules);
  return {
    fail:
      alone >= 0
        ? `expect ${alone + 1}: expected ${what(expect[alone]!)}; got ${got}`
        : `expect ${expect.map((_, k) => k + 1).join(', ')}: each needs an alert of its own (${expect.map(what).join('; ')}); got ${got}`,
  };
}

/** `<rule> covered <event>, <event>; …` for each alert, as a failure message says what the case raised. */
export function describeAlerts(alerts: readonly Pick<Alert, 'rule' | 'events'>[], timeline: readonly SeamEvent[], rules: RuleNames): string {
  if (alerts.length === 0) return 'no alert of this file';
  const native = new Map<string, string | undefined>();
  const position = new Map<string, number>();
  timeline.forEach((e, i) => {
    native.set(e.seam.id, nativeIdOf(e));
    if (!position.has(e.seam.id)) position.set(e.seam.id, i + 1);
  });
  return alerts.map((a) => `${rules.get(a.rule.id)?.label ?? a.rule.id} covered ${a.events.map((id) => shown(id, native, position)).join(', ')}`).join('; ');
}

/** The names `expect: [{rule: …}]` may use for the rules and correlations whose alerts a test file counts. */
function ruleNamesOf(ruleset: Awaited<ReturnType<typeof loadRules>>['ruleset'], ids: ReadonlySet<string>): RuleNames {
  const out = new Map<string, { label: string; names: string[] }>();
  const add = (id: string | undefined, name: string | undefined, title: string): void => {
    if (id === undefined || !ids.has(id) || out.has(id)) return;
    out.set(id, { label: name ?? title, names: [id, ...(name === undefined ? [] : [name]), title] });
  };
  for (const r of ruleset.rules) add(r.id, r.name, r.title);
  for (const c of ruleset.correlations) {
    const title = (c.doc as { title?: unknown } | null)?.title;
    add(c.id, c.name, typeof title === 'string' ? title : (c.name ?? c.id ?? ''));
  }
  return out;
}

/** An event as a failure names it: its `seam.id` when its source gave it an id, else its place in the case's events. */
function shown(seamId: string, native: ReadonlyMap<string, string | undefined>, position: ReadonlyMap<string, number>): string {
  const n = native.get(seamId);
  return n !== undefined && (seamId === n || seamId.startsWith(`${n}:`)) ? seamId : `event ${position.get(seamId) ?? '?'}`;
}

/** The timeline with each run of consecutive events of equal event time reversed; undefined when there is no such run. */
export function reverseTies(events: readonly SeamEvent[]): SeamEvent[] | undefined {
  const out: SeamEvent[] = [];
  let any = false;
  for (let i = 0; i < events.length; ) {
    const t = eventTimeMs(events[i]!);
    let j = i + 1;
    while (j < events.length && !Number.isNaN(t) && eventTimeMs(events[j]!) === t) j++;
    if (j - i > 1) any = true;
    for (let k = j - 1; k >= i; k--) out.push(events[k]!);
    i = j;
  }
  return any ? out : undefined;
}
