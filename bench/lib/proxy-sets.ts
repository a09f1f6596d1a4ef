/**
 * The third-party sample sets bench:proxies scores Seam against, read from local copies of public repositories
 * (never committed): each set lists its labelled samples (positive: the suite's author expects an alert;
 * negative: a benign near miss) with the source rule they test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { pyRuleTests, type PyValue } from './python-literal.ts';

export type Json = PyValue;
export type Obj = { [k: string]: Json };
export type Kind = 'cloudtrail' | 'k8s_audit' | 'guardduty';

export interface Sample {
  /** The rule (or fixture folder) of the suite the sample belongs to. */
  sourceRule: string;
  /** The suite's name for the case (test name or file). */
  name: string;
  positive: boolean;
  kind: Kind;
  /** The record(s) as the suite has them: one test log, or a scenario of several records. */
  records: Obj[];
}

export interface SampleSet {
  name: string;
  /** Where it was read: repository and commit (or folder). */
  from: string;
  samples: Sample[];
  /** Cases left out, by reason (another log type, a log that is not a literal...). */
  skipped: Map<string, number>;
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read-only view of one repository: a bare git directory (the `fetch` tool's mirror) or a working tree (`git clone`). */
export interface Repo {
  label: string;
  list(dir: string): string[];
  read(path: string): string;
}

/** Finds `owner/name` under `root` as root/owner+name/repo (bare), root/owner+name or root/name (either kind). */
export function openRepo(root: string, slug: string): Repo | undefined {
  const [owner, name] = slug.split('/') as [string, string];
  for (const dir of [join(root, `${owner}+${name}`, 'repo'), join(root, `${owner}+${name}`), join(root, name)]) {
    if (!existsSync(dir)) continue;
    const bare = existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects'));
    if (bare) {
      const git = (...args: string[]): string => {
        const r = spawnSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${dir}: ${r.stderr}`);
        return r.stdout;
      };
      const head = git('rev-parse', 'HEAD').trim();
      return {
        label: `${slug}@${head.slice(0, 12)}`,
        list: (d) => git('ls-tree', '-r', '--name-only', head, '--', d + '/').split('\n').filter(Boolean).sort(),
        read: (p) => git('show', `${head}:${p}`),
      };
    }
    if (statSync(dir).isDirectory()) {
      const walk = (d: string): string[] =>
        existsSync(d)
          ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]))
          : [];
      return { label: `${slug} (${dir})`, list: (d) => walk(join(dir, d)).sort(), read: (p) => readFileSync(join(dir, p), 'utf8') };
    }
  }
  return undefined;
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** Panther's pipeline fields (p_log_type, p_event_time, p_any_*...) are not part of the log as AWS writes it. */
function stripPanther(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('p_')));
}

const looksCloudTrail = (o: Obj): boolean => o.eventName !== undefined || o.eventSource !== undefined;
const looksAudit = (o: Obj): boolean => o.auditID !== undefined || o.verb !== undefined || o.objectRef !== undefined || o.kind === 'Event';
const looksGuardDuty = (o: Obj): boolean => o.type !== undefined && (o.service !== undefined || o.severity !== undefined);

interface PantherTest {
  rule: string;
  name: string;
  expected: boolean;
  log: Obj;
}

/** The `Tests:` of every panther-analysis rule in `dir` (YAML: RuleID, Tests[].Name/ExpectedResult/Log). */
function pantherTests(repo: Repo, dir: string, skipped: Map<string, number>): PantherTest[] {
  const out: PantherTest[] = [];
  for (const f of repo.list(dir).filter((p) => p.endsWith('.yml') || p.endsWith('.yaml'))) {
    const doc = parseYaml(repo.read(f)) as Obj | null;
    if (!isObj(doc) || doc.AnalysisType !== 'rule') continue;
    const rule = String(doc.RuleID ?? f);
    for (const t of Array.isArray(doc.Tests) ? doc.Tests : []) {
      if (!isObj(t) || typeof t.ExpectedResult !== 'boolean') {
        bump(skipped, 'test without ExpectedResult');
        continue;
      }
      let log = t.Log;
      if (typeof log === 'string') {
        try {
          log = JSON.parse(log) as Json;
        } catch {
          bump(skipped, 'Log is a string that is not JSON');
          continue;
        }
      }
      if (!isObj(log)) {
        bump(skipped, 'Log is not an object');
        continue;
      }
      out.push({ rule, name: String(t.Name ?? '?'), expected: t.ExpectedResult, log });
    }
  }
  return out;
}

/** panther-analysis' CloudTrail rules; tests of other log types the rules also cover are skipped. */
export function pantherCloudTrail(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const t of pantherTests(repo, 'rules/aws_cloudtrail_rules', skipped)) {
    if (!looksCloudTrail(t.log)) {
      bump(skipped, 'not a CloudTrail record');
      continue;
    }
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'cloudtrail', records: [stripPanther(t.log)] });
  }
  return { name: 'panther-cloudtrail', from: repo.label, samples, skipped };
}

/**
 * panther-analysis' Kubernetes audit rules (`rules/kubernetes_rules` or `rules/aws_eks_rules`), their EKS tests.
 * The same rules' AKS tests (the EKS cases again, the audit event as a string inside an Azure Monitor record)
 * and GKE tests (Cloud Audit Logs, another schema) are left out and counted.
 */
export function pantherK8s(repo: Repo, dir: string, name: string): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const t of pantherTests(repo, dir, skipped)) {
    const log = t.log;
    if (log.category === 'kube-audit' || log.p_log_type === 'Azure.MonitorActivity') {
      bump(skipped, 'AKS copy of a test (Azure Monitor)');
      continue;
    }
    if (log.protoPayload !== undefined) {
      bump(skipped, 'GKE Cloud Audit Log (another schema)');
      continue;
    }
    if (!isObj(log) || !looksAudit(log)) {
      bump(skipped, 'not a Kubernetes audit event');
      continue;
    }
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'k8s_audit', records: [stripPanther(log)] });
  }
  return { name, from: repo.label, samples, skipped };
}

/** panther-analysis' GuardDuty severity rules: findings in the GuardDuty API's shape. */
export function pantherGuardDuty(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const t of pantherTests(repo, 'rules/aws_guardduty_rules', skipped)) {
    if (!looksGuardDuty(t.log)) {
      bump(skipped, 'not a GuardDuty finding');
      continue;
    }
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'guardduty', records: [stripPanther(t.log)] });
  }
  return { name: 'panther-guardduty', from: repo.label, samples, skipped };
}

/** Key-order-free text of a value, to tell whether two suites hold the same record. */
export function canonical(v: Json): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (isObj(v)) return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k]!)).join(',') + '}';
  return JSON.stringify(v);
}

/** pypanther's CloudTrail rules (Python): their literal test logs that panther-analysis does not also hold. */
export function pypantherCloudTrail(repo: Repo, panther: SampleSet | undefined): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const known = new Set((panther?.samples ?? []).map((s) => canonical(s.records[0]!)));
  const seen = new Set<string>();
  for (const f of repo.list('pypanther/rules/aws_cloudtrail').filter((p) => p.endsWith('.py'))) {
    for (const t of pyRuleTests(repo.read(f))) {
      if (t.problem !== undefined || !isObj(t.log) || t.expected === undefined) {
        bump(skipped, t.problem ?? 'log or expected_result missing');
        continue;
      }
      if (!looksCloudTrail(t.log)) {
        bump(skipped, 'not a CloudTrail record');
        continue;
      }
      const record = stripPanther(t.log);
      const key = canonical(record);
      if (known.has(key)) {
        bump(skipped, 'also in panther-analysis');
        continue;
      }
      if (seen.has(key)) {
        bump(skipped, 'same record as another pypanther test');
        continue;
      }
      seen.add(key);
      samples.push({ sourceRule: t.ruleId, name: t.name, positive: t.expected, kind: 'cloudtrail', records: [record] });
    }
  }
  return { name: 'pypanther-cloudtrail', from: repo.label, samples, skipped };
}

/**
 * nordicsnow1/aws-cloudtrail-detection-rules: tests/fixtures/<RULE>/positive*.json must match, negative*.json must not;
 * each a whole EventBridge event. LOG-004 keeps its positive as event.json (its regression test's event).
 */
export function nordicsnow(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of repo.list('tests/fixtures').filter((p) => p.endsWith('.json'))) {
    const [, , rule, file] = f.split('/') as [string, string, string, string];
    const positive = file.startsWith('positive') || file === 'event.json' ? true : file.startsWith('negative') ? false : undefined;
    if (positive === undefined) {
      bump(skipped, 'not a fixture (pattern file)');
      continue;
    }
    const record = JSON.parse(repo.read(f)) as Json;
    if (!isObj(record)) {
      bump(skipped, 'not a JSON object');
      continue;
    }
    samples.push({ sourceRule: rule, name: file, positive, kind: 'cloudtrail', records: [record] });
  }
  return { name: 'nordicsnow', from: repo.label, samples, skipped };
}

/**
 * jfrance167/aws-cloudtrail-iam-detection-lab: evidence/synthetic/*.json, suspicious scenarios (all positive). A
 * file is one scenario, so one sample, caught when an alert cites any of its records: an array is a sequence
 * (access-denied-sequence.json: three refused IAM reads in two minutes from one address), not separate samples.
 */
export function jfrance(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of repo.list('evidence/synthetic').filter((p) => p.endsWith('.json'))) {
    const doc = JSON.parse(repo.read(f)) as Json;
    const records = (Array.isArray(doc) ? doc : [doc]).filter((r): r is Obj => {
      if (isObj(r)) return true;
      bump(skipped, 'not a JSON object');
      return false;
    });
    const base = f.split('/').pop()!.replace(/\.json$/, '');
    if (records.length > 0) samples.push({ sourceRule: base, name: base, positive: true, kind: 'cloudtrail', records });
  }
  return { name: 'jfrance', from: repo.label, samples, skipped };
}

/**
 * UmerJidda/cloud-threat-detection-response-lab-aws-splunk: sample_logs/cloudtrail/malicious/*.ndjson (one attack
 * scenario a file, positive) and benign/*.ndjson (negative); each file is one sample of one or more records, caught
 * when an alert cites any of them. edge_cases/ (boundary cases whose expected outcome the lab documents per case,
 * some of them expected gaps) is left out.
 */
export function umerJidda(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of repo.list('sample_logs/cloudtrail').filter((p) => p.endsWith('.ndjson'))) {
    const kind = f.split('/')[2];
    if (kind !== 'malicious' && kind !== 'benign') {
      bump(skipped, `${kind} file`);
      continue;
    }
    const records: Obj[] = [];
    for (const line of repo.read(f).split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as Json;
      if (isObj(r)) records.push(r);
      else bump(skipped, 'line that is not a JSON object');
    }
    if (records.length === 0) continue;
    const base = f.split('/').pop()!.replace(/\.ndjson$/, '');
    samples.push({ sourceRule: base.split('_')[0]!, name: base, positive: kind === 'malicious', kind: 'cloudtrail', records });
  }
  return { name: 'umerjidda', from: repo.label, samples, skipped };
}

/**
 * DataDog/stratus-red-team: docs/detonation-logs/aws.<technique>.json, the CloudTrail records one detonation of each
 * AWS technique left (a JSON array); one positive sample per technique, caught when an alert cites any of its records.
 */
export function stratusAws(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of repo.list('docs/detonation-logs').filter((p) => /\/aws\.[^/]+\.json$/.test(p))) {
    const doc = JSON.parse(repo.read(f)) as Json;
    const records = (Array.isArray(doc) ? doc : [doc]).filter(isObj);
    if (records.length === 0) {
      bump(skipped, 'no records');
      continue;
    }
    const technique = f.split('/').pop()!.replace(/\.json$/, '');
    samples.push({ sourceRule: technique, name: technique, positive: true, kind: 'cloudtrail', records });
  }
  return { name: 'stratus-aws', from: repo.label, samples, skipped };
}

/**
 * scanner-inc/detection-rules-aws-cloudtrail: each rule's inline `tests` (dataset_inline: one JSON event a line;
 * expected_detection_result true/false), one sample per test. Several copies may be given (the `fetch` snapshot and
 * files rebuilt from newer text); a later copy's file replaces an earlier one's of the same path. Scanner's ingest
 * fields (`%ingest.*`, `@scnr.*`) are not part of the record; its `timestamp` becomes eventTime when the record has
 * none (it is when the event happened, and keeps a test's records in order).
 */
export function scannerCloudTrail(repos: Repo[]): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const files = new Map<string, Repo>();
  for (const r of repos) for (const f of r.list('rules').filter((p) => p.endsWith('.yml'))) files.set(f, r);
  for (const [f, repo] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const doc = parseYaml(repo.read(f)) as Obj | null;
    const tests = isObj(doc) && Array.isArray(doc.tests) ? doc.tests : [];
    if (tests.length === 0) {
      bump(skipped, 'rule without tests');
      continue;
    }
    const rule = f.split('/').pop()!.replace(/\.yml$/, '');
    for (const t of tests) {
      if (!isObj(t) || typeof t.expected_detection_result !== 'boolean' || typeof t.dataset_inline !== 'string') {
        bump(skipped, 'test without expected_detection_result or dataset_inline');
        continue;
      }
      const records: Obj[] = [];
      for (const line of t.dataset_inline.split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as Json;
        if (!isObj(r)) continue;
        const rec = Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('%') && !k.startsWith('@scnr.') && k !== 'timestamp'));
        if (rec.eventTime === undefined && typeof r.timestamp === 'string') rec.eventTime = r.timestamp;
        records.push(rec);
      }
      if (records.length === 0) {
        bump(skipped, 'test without records');
        continue;
      }
      // Oldest first, as a stream would deliver them.
      records.sort((a, b) => String(a.eventTime ?? '').localeCompare(String(b.eventTime ?? '')));
      samples.push({ sourceRule: rule, name: String(t.name ?? '?'), positive: t.expected_detection_result, kind: 'cloudtrail', records });
    }
  }
  return { name: 'scanner', from: repos.map((r) => r.label).join(' + '), samples, skipped };
}

/**
 * H3llKa1ser/AWS-Detection-Engineering-Lab: the hand-written expectations of its Sigma lab rules (tests/sigma/test_sigma.py:
 * a full CloudTrail base event with each case's fields changed, and whether the rule must match), as
 * tests/sigma/expectations.json ([{rule, name, expected, record}], rebuilt from the test file's text).
 */
export function h3llka1serSigma(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const doc = JSON.parse(repo.read('tests/sigma/expectations.json')) as Json;
  for (const c of Array.isArray(doc) ? doc : []) {
    if (!isObj(c) || typeof c.expected !== 'boolean' || !isObj(c.record)) {
      bump(skipped, 'case without expected or record');
      continue;
    }
    samples.push({ sourceRule: String(c.rule), name: String(c.name), positive: c.expected, kind: 'cloudtrail', records: [c.record] });
  }
  return { name: 'h3llka1ser-sigma', from: repo.label, samples, skipped };
}

/** Alert level from which a Wazuh rule marks something worth a look (its levels 0-6 are successes, system notices and user errors). */
const WAZUH_NOTABLE_LEVEL = 7;

/**
 * wazuh/wazuh ruleset/testing/tests/aws_cloudtrail.ini: wazuh-logtest cases, each one or more log lines
 * ({"integration":"aws","aws":{CloudTrail record}}) with the alert level Wazuh expects; positive when the level is
 * 7 or more. The fields Wazuh's aws-s3 module adds to the record (source, source_ip_address, aws_account_id) are left out.
 */
export function wazuhCloudTrail(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const text = repo.read('ruleset/testing/tests/aws_cloudtrail.ini');
  for (const block of text.split(/\n(?=\[)/)) {
    const name = /^\[(.+)\]/.exec(block.trim())?.[1];
    const alert = Number(/^alert\s*=\s*(\d+)/m.exec(block)?.[1]);
    const rule = /^rule\s*=\s*(\d+)/m.exec(block)?.[1] ?? '?';
    if (!name || Number.isNaN(alert)) continue;
    const records: Obj[] = [];
    for (const m of block.matchAll(/^log \d+ pass = (.+)$/gm)) {
      const line = JSON.parse(m[1]!) as Json;
      if (!isObj(line) || !isObj(line.aws)) {
        bump(skipped, 'log line without an aws record');
        continue;
      }
      records.push(Object.fromEntries(Object.entries(line.aws).filter(([k]) => !['source', 'source_ip_address', 'aws_account_id'].includes(k))));
    }
    if (records.length === 0) continue;
    samples.push({ sourceRule: `rule ${rule} level ${alert}`, name, positive: alert >= WAZUH_NOTABLE_LEVEL, kind: 'cloudtrail', records });
  }
  return { name: 'wazuh-cloudtrail', from: repo.label, samples, skipped };
}
