/**
 * Falco parity: replays the Kubernetes audit traces of Falco's own regression suite through Seam's
 * rule set and compares, event by event, with what Falco is expected to raise.
 *
 *   npm run test:peers            (FALCO_PEER_TESTS=<dir> to point at another copy of the traces)
 *
 * Inputs are read at run time from the peer-test folder (never copied into this repository):
 * raw/*.json (one audit Event per line), k8s_audit.labeled.jsonl (per event: the Falco rules that
 * fire with the stock rule files, and every upstream test that uses the trace with its rule files
 * and detect counts). test/peers/falco-map.yml maps Falco rule names to Seam rule ids and says how
 * Falco's per-test configuration files translate into Seam placeholders.
 *
 * Per event and per configuration: Falco expects rule(s) → Seam must raise at least one alert from
 * a rule mapped to each of them; Falco expects nothing → Seam must raise no alert from any mapped
 * ("Falco-parity") rule. An event agrees when every configuration it is checked under agrees.
 * Exit status 1 on any disagreement.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RawMeta } from '../../src/core/envelope.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import { createDetector } from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/sigma/ruleset.ts';
import type { Ruleset } from '../../src/detect/sigma/types.ts';
import { SHARED } from '../helpers/shared.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Falco's traces sit in the third-party corpus at ../shared beside the repository (or FALCO_PEER_TESTS).
const PEER_DIR = process.env.FALCO_PEER_TESTS ?? join(SHARED, 'peer-tests', 'falco-k8s-audit');
const MAP_FILE = join(import.meta.dirname, 'falco-map.yml');
const DETECTIONS = join(ROOT, 'detections');

interface MapRule {
  activity: boolean;
  seam: string[];
}
interface FileConfig {
  disable_activity?: boolean;
  append?: Record<string, string[]>;
  set?: Record<string, string[]>;
  unsupported?: string;
}
interface FalcoMap {
  rules: Record<string, MapRule>;
  configs: { stock: { placeholders: Record<string, string[]> }; files: Record<string, FileConfig> };
}
interface UpstreamTest {
  test: string;
  detect: boolean;
  detect_counts: Record<string, number>;
  rules_files: string[];
}
interface Labeled {
  source_file: string;
  line: number;
  expected_falco_rules: string[] | null;
  all_tests: UpstreamTest[];
  malformed_input: boolean;
}

/** One way of running Seam that mirrors one Falco configuration. */
interface Config {
  key: string;
  placeholders: Record<string, string[]>;
  disableActivity: boolean;
}
interface Check {
  config: Config;
  /** Falco rule names expected to fire on the event (empty = nothing). */
  expected: string[];
  why: string;
}

const STOCK_FILES = new Set(['falco_rules.yaml', 'k8s_audit_rules.yaml']);

function configFor(map: FalcoMap, files: string[]): Config | { unsupported: string } {
  const placeholders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(map.configs.stock.placeholders)) placeholders[k] = [...v];
  let disableActivity = false;
  const custom = files.filter((f) => !STOCK_FILES.has(f)).sort();
  for (const f of custom) {
    const c = map.configs.files[f];
    if (c === undefined) return { unsupported: `no translation for Falco config file ${f} in falco-map.yml` };
    if (c.unsupported !== undefined) return { unsupported: `${f}: ${c.unsupported}` };
    if (c.disable_activity === true) disableActivity = true;
    for (const [k, v] of Object.entries(c.set ?? {})) placeholders[k] = [...v];
    for (const [k, v] of Object.entries(c.append ?? {})) placeholders[k] = [...(placeholders[k] ?? []), ...v];
  }
  return { key: custom.length ? custom.join('+') : 'stock', placeholders, disableActivity };
}

/** Which configurations to check an event under, with what Falco expects in each. */
function checksFor(map: FalcoMap, ev: Labeled, skipped: string[]): Check[] {
  const checks: Check[] = [];
  const seen = new Set<string>();
  const add = (files: string[], expected: string[], why: string): void => {
    const c = configFor(map, files);
    if ('unsupported' in c) {
      skipped.push(`${ev.source_file}#${ev.line} [${why}] skipped: ${c.unsupported}`);
      return;
    }
    const key = `${c.key}|${[...expected].sort().join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    checks.push({ config: c, expected, why });
  };
  if (ev.expected_falco_rules !== null) {
    // The label is Falco with its stock rules; the upstream tests of some traces switch the
    // informational activity rules off, and the label follows them.
    const activityOff = ev.all_tests.length > 0 && ev.all_tests.every((t) => t.rules_files.includes('disallow_kactivity.yaml'));
    add(['falco_rules.yaml', 'k8s_audit_rules.yaml', ...(activityOff ? ['disallow_kactivity.yaml'] : [])], ev.expected_falco_rules, 'label');
  }
  // Upstream tests with site-specific configuration files exercise the configurable rules.
  // Their detect counts are per trace file, so they are used for single-event traces only.
  for (const t of ev.all_tests) {
    if (t.rules_files.every((f) => STOCK_FILES.has(f))) continue;
    const expected = Object.entries(t.detect_counts).filter(([, n]) => n > 0).map(([r]) => r);
    add(t.rules_files, t.detect ? expected : [], `test ${t.test}`);
  }
  return checks;
}

async function main(): Promise<number> {
  const map = parseYaml(await readFile(MAP_FILE, 'utf8')) as FalcoMap;
  const labeled = (await readFile(join(PEER_DIR, 'k8s_audit.labeled.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Labeled);
  const traceFiles = (await readdir(join(PEER_DIR, 'raw'))).filter((f) => f.endsWith('.json')).sort();

  // Rule sets per configuration, loaded once each.
  const rulesets = new Map<string, Ruleset>();
  let knownIds: Set<string> | undefined;
  const rulesetFor = async (c: Config): Promise<Ruleset> => {
    let rs = rulesets.get(c.key);
    if (rs === undefined) {
      const { ruleset, diagnostics } = await loadRules([DETECTIONS], { placeholders: c.placeholders });
      for (const d of diagnostics.filter((x) => x.severity === 'error')) console.log(`rule error: ${d.file}:${d.line}:${d.column} ${d.message}`);
      rs = ruleset;
      rulesets.set(c.key, rs);
      knownIds ??= new Set([...ruleset.rules.map((r) => r.id)]);
    }
    return rs;
  };

  // Replay every trace once per configuration it is checked under; alerts per event line.
  const lines = new Map<string, string[]>();
  for (const f of traceFiles) lines.set(f, (await readFile(join(PEER_DIR, 'raw', f), 'utf8')).split('\n').filter((l) => l.trim() !== ''));
  const replayCache = new Map<string, { alerts: Set<string>[]; errors: (string | undefined)[] }>();
  const replay = async (file: string, c: Config): Promise<{ alerts: Set<string>[]; errors: (string | undefined)[] }> => {
    const key = `${file}|${c.key}`;
    const hit = replayCache.get(key);
    if (hit !== undefined) return hit;
    const detector = createDetector({ ruleset: await rulesetFor(c), allowedLatenessMs: 0 });
    const evLines = lines.get(file) ?? [];
    const alerts = evLines.map(() => new Set<string>());
    const errors: (string | undefined)[] = evLines.map(() => undefined);
    evLines.forEach((text, i) => {
      const meta: RawMeta = { collector: 'falco-parity', receivedAt: new Date(0).toISOString(), source: 'k8s_audit', origin: `${file}:${i + 1}` };
      const r = normalizeLine(text, meta);
      if (!r.ok) {
        errors[i] = `${r.error.code} ${r.error.message}`;
        return;
      }
      for (const a of detector.process(r.value)) alerts[i]!.add(a.rule.id);
    });
    const last = alerts.length - 1;
    for (const a of detector.flush()) if (last >= 0) alerts[last]!.add(a.rule.id);
    const out = { alerts, errors };
    replayCache.set(key, out);
    return out;
  };

  const parityIds = (c: Config): Set<string> => {
    const s = new Set<string>();
    for (const r of Object.values(map.rules)) if (!(c.disableActivity && r.activity)) for (const id of r.seam) s.add(id);
    return s;
  };
  const ruleNames = new Map<string, string>();
  const describe = (ids: Iterable<string>): string => [...ids].map((id) => ruleNames.get(id) ?? id).join(', ');

  const skipped: string[] = [];
  const disagreements: string[] = [];
  const notes: string[] = [];
  let traces = 0;
  let agree = 0;
  let checksRun = 0;
  let checksOk = 0;
  for (const ev of labeled) {
    if (!lines.has(ev.source_file)) {
      disagreements.push(`${ev.source_file}#${ev.line}: trace file missing from raw/`);
      traces++;
      continue;
    }
    const checks = checksFor(map, ev, skipped);
    if (checks.length === 0) continue;
    traces++;
    let ok = true;
    for (const ch of checks) {
      checksRun++;
      const { alerts, errors } = await replay(ev.source_file, ch.config);
      if (ruleNames.size === 0) for (const r of (await rulesetFor(ch.config)).rules) ruleNames.set(r.id, r.title);
      const got = alerts[ev.line] ?? new Set<string>();
      const err = errors[ev.line];
      const where = `${ev.source_file}#${ev.line} [${ch.why}; config ${ch.config.key}]`;
      if (err !== undefined) {
        if (ev.malformed_input) notes.push(`${where}: malformed input rejected as Falco does (${err})`);
        else {
          ok = false;
          disagreements.push(`${where}: Seam could not normalize the event: ${err}`);
          continue;
        }
      }
      let checkOk = true;
      if (ch.expected.length > 0) {
        for (const f of ch.expected) {
          const mapped = map.rules[f]?.seam ?? [];
          if (mapped.length === 0) {
            checkOk = false;
            disagreements.push(`${where}: Falco raises "${f}", which no Seam rule is mapped to`);
          } else if (!mapped.some((id) => got.has(id))) {
            checkOk = false;
            disagreements.push(`${where}: Falco raises "${f}", Seam raised none of [${describe(mapped)}] (got: ${describe(got) || 'nothing'})`);
          }
        }
      } else {
        const extra = [...got].filter((id) => parityIds(ch.config).has(id));
        if (extra.length > 0) {
          checkOk = false;
          disagreements.push(`${where}: Falco raises nothing, Seam raised ${describe(extra)}`);
        }
      }
      if (checkOk) checksOk++;
      else ok = false;
    }
    if (ok) agree++;
  }

  // The map must only name rules that exist.
  for (const [f, r] of Object.entries(map.rules)) {
    for (const id of r.seam) if (knownIds !== undefined && !knownIds.has(id)) disagreements.push(`falco-map.yml: "${f}" names unknown Seam rule ${id}`);
  }

  for (const n of notes) console.log(`note: ${n}`);
  for (const s of skipped) console.log(`skip: ${s}`);
  for (const d of disagreements) console.log(`DISAGREE ${d}`);
  console.log(`falco-parity: checks=${checksRun} passed=${checksOk} skipped=${skipped.length}`);
  console.log(`falco-parity: traces=${traces} agree=${agree}`);
  return agree === traces && disagreements.length === 0 ? 0 : 1;
}

process.exitCode = await main();
