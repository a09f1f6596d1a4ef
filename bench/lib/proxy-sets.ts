/**
 * The third-party sample sets bench:proxies scores Seam against, read from local copies of public repositories
 * (never committed): each set lists its labelled samples (positive: the suite's author expects an alert;
 * negative: a benign near miss) with the source rule they test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
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
  /** The severity the suite's own rule gives (Panther's Severity: Info, Low, Medium, High, Critical), where it has one. */
  suiteLevel?: string;
}

export interface SampleSet {
  name: string;
  /** Where it was read: repository and commit (or folder). */
  from: string;
  samples: Sample[];
  /** Cases left out, by reason (another log type, a log that is not a literal...). */
  skipped: Map<string, number>;
  /**
   * Unlabelled records of a recording that the samples leave out (an account's own activity around an attack run): not
   * scored as samples, but replayed as they are to count the medium+ alerts Seam raises on third-party traffic.
   */
  background?: { label: string; records: Obj[] }[];
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read-only view of one repository: a bare git directory (the `fetch` tool's mirror) or a working tree (`git clone`). */
export interface Repo {
  label: string;
  list(dir: string): string[];
  read(path: string): string;
  /** The file's bytes (for compressed recordings). */
  readBytes(path: string): Buffer;
}

/** Finds `owner/name` under `root` as root/owner+name/repo (bare), root/owner+name or root/name (either kind). */
export function openRepo(root: string, slug: string): Repo | undefined {
  const [owner, name] = slug.split('/') as [string, string];
  for (const dir of [join(root, `${owner}+${name}`, 'repo'), join(root, `${owner}+${name}`), join(root, name)]) {
    if (!existsSync(dir)) continue;
    const bare = existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects'));
    if (bare) {
      const gitBytes = (...args: string[]): Buffer => {
        const r = spawnSync('git', ['--git-dir', dir, ...args], { maxBuffer: 256 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${dir}: ${r.stderr.toString()}`);
        return r.stdout;
      };
      const git = (...args: string[]): string => gitBytes(...args).toString('utf8');
      const head = git('rev-parse', 'HEAD').trim();
      return {
        label: `${slug}@${head.slice(0, 12)}`,
        list: (d) => git('ls-tree', '-r', '--name-only', head, '--', d + '/').split('\n').filter(Boolean).sort(),
        read: (p) => git('show', `${head}:${p}`),
        readBytes: (p) => gitBytes('show', `${head}:${p}`),
      };
    }
    if (statSync(dir).isDirectory()) {
      const walk = (d: string): string[] =>
        existsSync(d)
          ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]))
          : [];
      return {
        label: `${slug} (${dir})`,
        list: (d) => walk(join(dir, d)).sort(),
        read: (p) => readFileSync(join(dir, p), 'utf8'),
        readBytes: (p) => readFileSync(join(dir, p)),
      };
    }
  }
  return undefined;
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** One line of a JSON-lines file; a damaged line is counted as skipped and costs that line, not the whole run. */
function jsonLine(line: string, skipped: Map<string, number>): Json | undefined {
  try {
    return JSON.parse(line) as Json;
  } catch {
    bump(skipped, 'line that is not JSON');
    return undefined;
  }
}

/** The JSON objects of a JSON-lines text; blank lines are passed over, other lines counted as skipped. */
function jsonObjectLines(text: string, skipped: Map<string, number>): Obj[] {
  const out: Obj[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = jsonLine(line, skipped);
    if (r === undefined) continue;
    if (isObj(r)) out.push(r);
    else bump(skipped, 'line that is not a JSON object');
  }
  return out;
}

/** Panther's pipeline fields (p_log_type, p_event_time, p_any_*...) are not part of the log as AWS writes it. */
function stripPanther(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('p_')));
}

const looksCloudTrail = (o: Obj): boolean => o.eventName !== undefined || o.eventSource !== undefined;
const looksAudit = (o: Obj): boolean => o.auditID !== undefined || o.verb !== undefined || o.objectRef !== undefined || o.kind === 'Event';
const looksGuardDuty = (o: Obj): boolean => o.type !== undefined && (o.service !== undefined || o.severity !== undefined);

interface PantherTest {
  rule: string;
  /** The rule's Severity. */
  severity?: string;
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
    const severity = typeof doc.Severity === 'string' ? doc.Severity : undefined;
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
      out.push({ rule, severity, name: String(t.Name ?? '?'), expected: t.ExpectedResult, log });
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
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'cloudtrail', records: [stripPanther(t.log)], suiteLevel: t.severity });
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
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'k8s_audit', records: [stripPanther(log)], suiteLevel: t.severity });
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
    samples.push({ sourceRule: t.rule, name: t.name, positive: t.expected, kind: 'guardduty', records: [stripPanther(t.log)], suiteLevel: t.severity });
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
    const records = jsonObjectLines(repo.read(f), skipped);
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
      const records = jsonObjectLines(t.dataset_inline, skipped).map((r) => {
        const rec = Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('%') && !k.startsWith('@scnr.') && k !== 'timestamp'));
        if (rec.eventTime === undefined && typeof r.timestamp === 'string') rec.eventTime = r.timestamp;
        return rec;
      });
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

/** The records of one CloudTrail log file: `{"Records": [...]}` as delivered to S3, an array, or one record. */
function cloudTrailFile(text: string): Obj[] {
  const doc = JSON.parse(text) as Json;
  const list = isObj(doc) && Array.isArray(doc.Records) ? doc.Records : Array.isArray(doc) ? doc : [doc];
  return list.filter(isObj);
}

const byEventTime = (a: Obj, b: Obj): number => String(a.eventTime ?? '').localeCompare(String(b.eventTime ?? ''));

/** Stratus Red Team's own calls carry the user agent `stratus-red-team_<uuid>` (S3 logs it in brackets); the uuid, or undefined. */
function stratusCall(r: Obj): string | undefined {
  return /^\[?stratus-red-team_([0-9a-f-]{36})\]?$/.exec(String(r.userAgent ?? ''))?.[1];
}

/** Calls that only a technique's Revert makes (undoing what its Detonate did). */
const STRATUS_REVERT_CALLS = new Set([
  'StartLogging',
  'RevokeSecurityGroupIngress',
  'DeleteLoginProfile',
  'DeleteAccessKey',
  'DetachUserPolicy',
  'DeleteUser',
  'DeleteTrustAnchor',
  'DeleteProfile',
  'RemovePermission20150331v2',
  'DeleteBucketLifecycle',
  'DeleteBucketPolicy',
]);

/**
 * Whether one uuid's calls are a technique's Revert rather than its Detonate, from Stratus' technique definitions: the
 * revert-only calls above, a share removed (ModifyImageAttribute / ModifySnapshotAttribute `remove`,
 * ModifyDBSnapshotAttribute `valuesToRemove`), management events put back into a trail's selectors, and the second
 * UpdateAssumeRolePolicy / UpdateFunctionCode of the same role or function (putting back what the detonation replaced).
 * `seen` carries the roles and functions already changed, in time order.
 */
function isStratusRevert(records: Obj[], seen: Set<string>): boolean {
  for (const r of records) {
    const name = String(r.eventName ?? '');
    const rp = isObj(r.requestParameters) ? r.requestParameters : {};
    if (STRATUS_REVERT_CALLS.has(name)) return true;
    if ((name === 'ModifyImageAttribute' || name === 'ModifySnapshotAttribute') && JSON.stringify(rp).includes('"remove"')) return true;
    if (name === 'ModifyDBSnapshotAttribute' && rp.valuesToRemove !== undefined) return true;
    if (name === 'PutEventSelectors' && Array.isArray(rp.eventSelectors) && rp.eventSelectors.some((s) => isObj(s) && s.includeManagementEvents === true)) return true;
    if (name === 'UpdateAssumeRolePolicy' || name.startsWith('UpdateFunctionCode')) {
      const key = `${name}:${String(rp.roleName ?? rp.functionName ?? '')}`;
      if (seen.has(key)) return true;
      seen.add(key);
    }
  }
  return false;
}

/**
 * Yamato-Security/suzaku-sample-data invictus-ir/: the CloudTrail log files of Invictus IR's run of Stratus Red Team
 * against a test account in July 2023 (invictus-ir/aws_dataset), as delivered: Terraform warm-ups and clean-ups,
 * detonations, reverts and the account's own background. Stratus tags each call of a technique's Detonate or Revert
 * with the user agent `stratus-red-team_<uuid>`, a uuid per run of a technique; a sample is one uuid's records,
 * positive for a detonation and negative for a revert (see isStratusRevert). The Terraform warm-up and clean-up a run
 * makes carry the run's tag inside Terraform's user agent: one negative sample per uuid (the tool's set-up of the
 * technique's prerequisites, infrastructure-as-code work). Left out: Terraform records without the tag and the
 * account's background (not labelled), and uuids whose only call is DescribeAccountAttributes (Stratus' pre-flight check).
 */
export function invictusStratus(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const records = repo
    .list('invictus-ir')
    .filter((p) => p.endsWith('.json'))
    .flatMap((f) => cloudTrailFile(repo.read(f)))
    .sort(byEventTime);
  const groups = new Map<string, Obj[]>();
  const terraform = new Map<string, Obj[]>();
  const untagged: Obj[] = [];
  const background: Obj[] = [];
  for (const r of records) {
    const ua = String(r.userAgent ?? '');
    const id = stratusCall(r);
    const tf = /Terraform\//.test(ua) ? /stratus-red-team_([0-9a-f-]{36})/.exec(ua)?.[1] : undefined;
    if (id !== undefined) groups.set(id, [...(groups.get(id) ?? []), r]);
    else if (tf !== undefined) terraform.set(tf, [...(terraform.get(tf) ?? []), r]);
    else {
      const isTf = /Terraform\//.test(ua);
      (isTf ? untagged : background).push(r);
      bump(skipped, isTf ? 'Terraform record without the Stratus tag' : 'background record (not Stratus, not Terraform)');
    }
  }
  const seen = new Set<string>();
  const samples: Sample[] = [];
  for (const [id, recs] of groups) {
    const calls = [...new Set(recs.map((r) => String(r.eventName)))];
    if (calls.length === 1 && calls[0] === 'DescribeAccountAttributes') {
      bump(skipped, 'pre-flight check (DescribeAccountAttributes only)');
      continue;
    }
    const revert = isStratusRevert(recs, seen);
    const what = calls.filter((c) => c !== 'AssumeRole').join('+');
    samples.push({ sourceRule: revert ? 'stratus revert' : 'stratus detonation', name: `${what} ${id.slice(0, 8)}`, positive: !revert, kind: 'cloudtrail', records: recs });
  }
  for (const [id, recs] of terraform) {
    const writes = new Set(recs.filter((r) => r.readOnly !== true).map((r) => String(r.eventName)));
    samples.push({ sourceRule: 'stratus warm-up/clean-up (Terraform)', name: `${writes.size} kinds of write ${id.slice(0, 8)}`, positive: false, kind: 'cloudtrail', records: recs });
  }
  return {
    name: 'invictus-stratus',
    from: repo.label,
    samples,
    skipped,
    background: [
      { label: 'account background (not Stratus, not Terraform)', records: background },
      { label: 'Terraform without the Stratus tag (set-up and clean-up)', records: untagged },
    ],
  };
}

/**
 * Yamato-Security/suzaku-sample-data SANS-504-S3-ransomware-lab/: the account's CloudTrail log files (.json.gz) of a SANS
 * SEC504 lab that simulates an S3 ransomware intrusion. One positive sample: the records of IAM user jmerckle, the only
 * principal besides the account's owner (FalsimentisRoot and root, one home address: the lab's set-up and the
 * investigation) and AWS services; its records are the intrusion (denied reconnaissance, a policy put on itself, a new
 * access key, bucket reads). The owner's and the services' records are left out (not labelled).
 */
export function sans504Ransomware(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const records: Obj[] = [];
  const owner: Obj[] = [];
  for (const f of repo.list('SANS-504-S3-ransomware-lab').filter((p) => p.endsWith('.json.gz'))) {
    for (const r of cloudTrailFile(gunzipSync(repo.readBytes(f)).toString('utf8'))) {
      const ui = isObj(r.userIdentity) ? r.userIdentity : {};
      if (String(ui.arn ?? '').endsWith(':user/jmerckle')) records.push(r);
      else {
        owner.push(r);
        bump(skipped, 'record of the owner or an AWS service');
      }
    }
  }
  records.sort(byEventTime);
  owner.sort(byEventTime);
  const samples: Sample[] = records.length ? [{ sourceRule: 'SEC504 S3 ransomware lab', name: 'jmerckle', positive: true, kind: 'cloudtrail', records }] : [];
  return { name: 'sans504-ransomware', from: repo.label, samples, skipped, background: [{ label: 'the owner (root, FalsimentisRoot) and AWS services', records: owner }] };
}

/**
 * A Sumo Logic search result copied from the web page (CloudTrail records shown with unquoted keys, `▼` before each
 * nested object, a header and footer around each message): the records, as JSON.
 */
export function sumoPaste(text: string): Obj[] {
  const out: Obj[] = [];
  for (const m of text.matchAll(/^\{\n([\s\S]*?)\n\}$/gm)) {
    const body = m[1]!
      .replace(/:\s*\n\s*▼\{/g, ': {')
      .replace(/^(\s*)([A-Za-z_][\w-]*):/gm, '$1"$2":');
    const r = JSON.parse(`{${body}}`) as Json;
    if (isObj(r)) out.push(r);
  }
  return out;
}

/**
 * Mohammedalkahala/cloudgoat-sumo-detection-lab: the CloudTrail records its two CloudGoat labs keep as their attack
 * evidence (iam_privesc_by_attachment/logs/cloudtrail.json, a Sumo Logic result page; rce_web_app/logs/*.json, one
 * record each); one positive sample per file, as the lab labels them. Most of them are the scenario's Terraform
 * deployment by the account's admin rather than the attacker's calls, which the miss list shows.
 */
export function cloudgoatSumo(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of [...repo.list('iam_privesc_by_attachment/logs'), ...repo.list('rce_web_app/logs')].filter((p) => p.endsWith('.json'))) {
    const text = repo.read(f);
    const records = text.trimStart().startsWith('{') ? cloudTrailFile(text) : sumoPaste(text);
    if (records.length === 0) {
      bump(skipped, 'file without records');
      continue;
    }
    records.sort(byEventTime);
    samples.push({ sourceRule: f.split('/')[0]!, name: f.split('/').pop()!.replace(/\.json$/, ''), positive: true, kind: 'cloudtrail', records });
  }
  return { name: 'cloudgoat-sumo', from: repo.label, samples, skipped };
}

/**
 * Whether a copy of the cloudgoat-sumo lab holds its evidence as recorded: every file yields records and every record
 * names its eventSource. The repository's HEAD (and so the fetch snapshot) cut iam_privesc_by_attachment/logs/cloudtrail.json
 * down to a few fields without eventSource, which the lab's set would silently lose; the full copy of an older commit
 * (bench/proxy-sets/make.ts cloudgoat-sumo) passes.
 */
export function cloudgoatSumoComplete(repo: Repo): boolean {
  const set = cloudgoatSumo(repo);
  return set.samples.length > 0 && set.skipped.size === 0 && set.samples.every((s) => s.records.every((r) => typeof r.eventSource === 'string'));
}

/** Falco priorities at which its k8s_audit rules flag something suspicious (below: NOTICE and INFO, activity tracking). */
const FALCO_NOTABLE = new Set(['WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY']);
/** Falco's own rule files; a test that adds an allow or trust list of its own checks that list, not the rules. */
const FALCO_STANDARD_RULES = /(?:falco_rules|k8s_audit_rules|engine_v4_k8s_audit_rules|disallow_kactivity)\.yaml$/;

/**
 * falcosecurity/falco test/trace_files/k8s_audit/*.json (audit events a minikube API server wrote while Falco's authors
 * ran kubectl, one event a line) labelled by test/falco_k8s_audit_tests.yaml, both as of 2583ea9bfdb2 (the commit before
 * the regression tests left the repository): one sample per trace file, positive when a test with Falco's own rule
 * files expects a detection at WARNING or above, negative when such a test expects none. Tests that add their own
 * allow/trust lists, and files Falco only reports at NOTICE/INFO (exec, attach, object created/deleted), are left out.
 */
export function falcoK8sAudit(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const doc = parseYaml(repo.read('test/falco_k8s_audit_tests.yaml'), { logLevel: 'error' }) as Obj | null;
  const tests = isObj(doc) && isObj(doc.trace_files) ? doc.trace_files : {};
  const labels = new Map<string, { positive: boolean; rule: string; test: string }>();
  for (const [test, t] of Object.entries(tests)) {
    const file = isObj(t) ? /open_params=(trace_files\/k8s_audit\/[^\s]+\.json)/.exec(String(t.addl_cmdline_opts ?? ''))?.[1] : undefined;
    if (!isObj(t) || file === undefined) continue;
    const rules = Array.isArray(t.rules_file) ? t.rules_file.map(String) : [];
    if (!rules.every((r) => FALCO_STANDARD_RULES.test(r))) {
      bump(skipped, 'test with its own allow/trust list');
      continue;
    }
    const counts = Array.isArray(t.detect_counts) ? t.detect_counts.filter(isObj).flatMap((c) => Object.keys(c)) : [];
    let positive: boolean;
    if (t.detect === false) positive = false;
    else if (FALCO_NOTABLE.has(String(t.detect_level))) positive = true;
    else {
      bump(skipped, 'detection below WARNING (activity tracking)');
      continue;
    }
    const prev = labels.get(file);
    if (prev?.positive) continue;
    labels.set(file, { positive, rule: counts.join('+') || 'no detection', test });
  }
  const samples: Sample[] = [];
  for (const [file, l] of [...labels].sort(([a], [b]) => a.localeCompare(b))) {
    let text: string;
    try {
      text = repo.read(`test/${file}`);
    } catch {
      bump(skipped, 'trace file missing');
      continue;
    }
    const records = jsonObjectLines(text, skipped);
    // fal_01_003.json ({"kind": 0}) checks that Falco survives malformed input; it is not an audit event.
    if (!records.some((r) => r.verb !== undefined)) {
      bump(skipped, 'not an audit event (input robustness test)');
      continue;
    }
    samples.push({ sourceRule: l.rule, name: l.test, positive: l.positive, kind: 'k8s_audit', records });
  }
  return { name: 'falco-k8s-audit', from: repo.label, samples, skipped };
}

/** The files of a zip archive (stored or deflated members, read through its central directory). */
export function unzip(buf: Buffer): { name: string; data: Buffer }[] {
  let end = buf.length - 22;
  while (end >= 0 && buf.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const out: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error('zip central directory entry expected');
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`zip member ${name}: compression method ${method} not read`);
    out.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
  }
  return out;
}

/**
 * OTRF/Security-Datasets datasets/atomic/aws/collection/ec2_proxy_s3_exfiltration.zip (SDAWS-200914011940, "AWS Cloud
 * Bank Breach S3"): a CloudGoat cloud_breach_s3 run's CloudTrail records, collected through Logstash and Kafka (one a
 * line; eventTime moved into @timestamp by Logstash's cloudtrail codec; addresses replaced by 1.2.3.4). One positive
 * sample: the records made with the instance-profile key the dataset's metadata shows the adversary stealing through the
 * proxy and using (its adversary_view). The lab user's console browsing and AWS services' records are left out.
 */
export function otrfCloudBreachS3(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const meta = parseYaml(repo.read('datasets/atomic/_metadata/SDAWS-200914011940.yaml')) as Json;
  const simulation = isObj(meta) && isObj(meta.simulation) ? meta.simulation : {};
  const key = /AccessKeyId"\s*:\s*"(A[SK]IA[A-Z0-9]+)"/.exec(String(simulation.adversary_view ?? ''))?.[1];
  const records: Obj[] = [];
  for (const m of unzip(repo.readBytes('datasets/atomic/aws/collection/ec2_proxy_s3_exfiltration.zip'))) {
    if (!m.name.endsWith('.json')) continue;
    for (const r of jsonObjectLines(m.data.toString('utf8'), skipped)) {
      const ui = isObj(r.userIdentity) ? r.userIdentity : {};
      if (key !== undefined && ui.accessKeyId === key) records.push(r);
      else bump(skipped, 'record not made with the stolen key (lab user, AWS services)');
    }
  }
  records.sort((a, b) => String(a['@timestamp'] ?? '').localeCompare(String(b['@timestamp'] ?? '')));
  const samples: Sample[] = records.length ? [{ sourceRule: 'SDAWS-200914011940', name: `stolen instance-profile key ${key}`, positive: true, kind: 'cloudtrail', records }] : [];
  return { name: 'otrf-cloud-breach-s3', from: repo.label, samples, skipped };
}

/**
 * alpha0490/aws-cloudtrail-attack-detections tests/test_cases.yaml: for each of its Sigma rules one event that must
 * match (positive) and one that must not (negative), cut down to the fields the rule reads (most have no userIdentity
 * or eventTime).
 */
export function alpha0490(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const doc = parseYaml(repo.read('tests/test_cases.yaml')) as Json;
  for (const c of Array.isArray(doc) ? doc : []) {
    if (!isObj(c)) continue;
    const rule = String(c.rule ?? '?').split('/').pop()!.replace(/\.ya?ml$/, '');
    for (const [key, positive] of [['positive', true], ['negative', false]] as const) {
      const side = c[key];
      if (!isObj(side) || !isObj(side.event)) {
        bump(skipped, `case without a ${key} event`);
        continue;
      }
      samples.push({ sourceRule: rule, name: String(side.note ?? key), positive, kind: 'cloudtrail', records: [side.event] });
    }
  }
  return { name: 'alpha0490', from: repo.label, samples, skipped };
}

/**
 * raajheshkannaa/aws-cloudtrail-lake-detections tests/fixtures/sample_events.json: one CloudTrail record per detection,
 * keyed by what it shows; a key starting with `benign_` is the near miss (a bucket policy granting another account),
 * every other key a positive.
 */
export function raajheshkannaaLake(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const doc = JSON.parse(repo.read('tests/fixtures/sample_events.json')) as Json;
  for (const [key, record] of Object.entries(isObj(doc) ? doc : {})) {
    if (!isObj(record)) {
      bump(skipped, 'entry that is not a record');
      continue;
    }
    const positive = !key.startsWith('benign');
    samples.push({ sourceRule: key.replace(/^benign_/, ''), name: key, positive, kind: 'cloudtrail', records: [record] });
  }
  return { name: 'raajheshkannaa-lake', from: repo.label, samples, skipped };
}

/**
 * hhieon/cloud-incident-log-analysis evidence/<scenario>/cloudtrail_samples.jsonl: the CloudTrail records of an attack
 * scenario the authors ran in their own account (scenario 01: root console sign-in, then an IAM user created, given
 * AdministratorAccess and an access key), with account, address and keys masked. One positive sample per scenario.
 */
export function hhieonScenarios(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  for (const f of repo.list('evidence').filter((p) => p.endsWith('/cloudtrail_samples.jsonl'))) {
    const records = jsonObjectLines(repo.read(f), skipped);
    if (records.length === 0) continue;
    const scenario = f.split('/').at(-2)!;
    samples.push({ sourceRule: scenario, name: scenario, positive: true, kind: 'cloudtrail', records });
  }
  return { name: 'hhieon-scenarios', from: repo.label, samples, skipped };
}

/**
 * Moussa-Farag/aws-iam-privesc-detection evidence/07-cloudtrail-events.ndjson: the author's own run of CloudGoat's
 * iam_privesc_by_rollback, every record of the attacker user's session as CloudTrail's Event History gave it
 * (`lookup-events`, each event's CloudTrailEvent one line; account and key replaced by AWS's example values): recon of
 * its own policy's versions, a refused DescribeInstances, SetDefaultPolicyVersion to the version that allows `*` on
 * `*`, and the same DescribeInstances succeeding. One positive sample (the lab's attacker); no benign records.
 */
export function moussaFaragRollback(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const records = jsonObjectLines(repo.read('evidence/07-cloudtrail-events.ndjson'), skipped);
  const samples: Sample[] =
    records.length === 0 ? [] : [{ sourceRule: 'iam_privesc_by_rollback', name: 'raynor session', positive: true, kind: 'cloudtrail', records }];
  return { name: 'moussa-farag-rollback', from: repo.label, samples, skipped };
}

/**
 * airbnb/streamalert rules/community/{cloudtrail,cloudwatch_events}/*.json: the test events of StreamAlert's CloudTrail
 * rules (a list of {data, log, description, trigger_rules}); positive when `trigger_rules` names a rule, negative when it
 * is empty (StreamAlert's rule tests assert that no rule fires). A `cloudtrail:events` test holds a CloudTrail log file
 * (`{"Records": [...]}`, one sample of its records); a `cloudwatch:events` test holds the CloudWatch Events envelope
 * whose `detail` is the CloudTrail record StreamAlert's rule reads, and `detail` is what is replayed (the envelopes'
 * own fields are placeholders, "detail-type": "..."). Many fields are the placeholder "..." as StreamAlert's authors
 * wrote them; they are left as they are.
 */
export function streamalertCloudTrail(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const files = ['rules/community/cloudtrail', 'rules/community/cloudwatch_events'].flatMap((d) => repo.list(d)).filter((p) => p.endsWith('.json'));
  for (const f of files) {
    const doc = JSON.parse(repo.read(f)) as Json;
    for (const t of Array.isArray(doc) ? doc : []) {
      if (!isObj(t) || !Array.isArray(t.trigger_rules) || !isObj(t.data)) {
        bump(skipped, 'test without trigger_rules or data');
        continue;
      }
      let records: Obj[];
      if (t.log === 'cloudtrail:events') records = Array.isArray(t.data.Records) ? t.data.Records.filter(isObj) : [];
      else if (t.log === 'cloudwatch:events') records = isObj(t.data.detail) && looksCloudTrail(t.data.detail) ? [t.data.detail] : [];
      else {
        bump(skipped, `${String(t.log)} test (not CloudTrail)`);
        continue;
      }
      if (records.length === 0) {
        bump(skipped, 'test without a CloudTrail record');
        continue;
      }
      const rules = t.trigger_rules.map(String);
      const rule = rules.join('+') || f.split('/').pop()!.replace(/\.json$/, '');
      samples.push({ sourceRule: rule, name: String(t.description ?? '?'), positive: rules.length > 0, kind: 'cloudtrail', records });
    }
  }
  return { name: 'streamalert', from: repo.label, samples, skipped };
}

/**
 * adanalvarez/TrailDiscover events/<service>/<Event>.json (a catalog entry per CloudTrail event: whether the call was
 * used in real attacks, `usedInWild`, with the incidents, and the public rules that alert on it, `alerting`) and
 * <Event>.json.cloudtrail (the records the author's Grimoire run of that call left, redacted: most are AccessDenied, the
 * lab user lacking the permission). One positive sample per event the catalog both marks as used in the wild and names
 * an alerting rule for; events without both are left out (the catalog lists calls attackers use, most of them routine,
 * and never says a record is benign, so there are no negatives).
 */
export function trailDiscover(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const files = repo.list('events');
  const have = new Set(files);
  for (const f of files.filter((p) => p.endsWith('.json'))) {
    if (!have.has(`${f}.cloudtrail`)) {
      bump(skipped, 'event without a record');
      continue;
    }
    let meta: Json;
    try {
      meta = JSON.parse(repo.read(f)) as Json;
    } catch {
      bump(skipped, 'catalog entry that is not JSON');
      continue;
    }
    if (!isObj(meta)) continue;
    const alerting = Array.isArray(meta.alerting) && meta.alerting.length > 0;
    if (meta.usedInWild !== true || !alerting) {
      bump(skipped, meta.usedInWild === true ? 'used in the wild, no alerting rule named' : 'not marked as used in the wild');
      continue;
    }
    const records = cloudTrailFile(repo.read(`${f}.cloudtrail`)).filter(looksCloudTrail).sort(byEventTime);
    if (records.length === 0) {
      bump(skipped, 'record file without records');
      continue;
    }
    const name = f.split('/').slice(1).join('/').replace(/\.json$/, '');
    samples.push({ sourceRule: String(meta.eventName ?? name), name, positive: true, kind: 'cloudtrail', records });
  }
  return { name: 'traildiscover', from: repo.label, samples, skipped };
}

/** A Sigma rule's level in the casing of Panther's Severity (Info, Low, Medium, High, Critical), to sit on the same line. */
const SIGMA_LEVELS: Record<string, string> = { informational: 'Info', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };

/**
 * adanalvarez/TrailAlerts rules/sigma_rules/<rule>_tests.json: for each of its Sigma rules (<rule>.yml, most adapted from
 * SigmaHQ) the CloudTrail records that must match (`should_match`, positive) and must not (`should_not_match`,
 * negative), one sample each; the rule's Sigma level is the suite's level. Many negatives are the positive with one
 * field changed (another eventSource or eventName), so they are near misses by construction.
 */
export function trailAlerts(repo: Repo): SampleSet {
  const skipped = new Map<string, number>();
  const samples: Sample[] = [];
  const files = repo.list('rules/sigma_rules');
  const have = new Set(files);
  for (const f of files.filter((p) => p.endsWith('_tests.json'))) {
    const doc = JSON.parse(repo.read(f)) as Json;
    if (!isObj(doc)) {
      bump(skipped, 'test file that is not an object');
      continue;
    }
    const base = f.replace(/_tests\.json$/, '');
    const rule = base.split('/').pop()!;
    let suiteLevel: string | undefined;
    if (have.has(`${base}.yml`)) {
      const y = parseYaml(repo.read(`${base}.yml`)) as Json;
      if (isObj(y) && typeof y.level === 'string') suiteLevel = SIGMA_LEVELS[y.level];
    }
    for (const [key, positive] of [['should_match', true], ['should_not_match', false]] as const) {
      const list = doc[key];
      (Array.isArray(list) ? list : []).forEach((r, i) => {
        if (!isObj(r) || !looksCloudTrail(r)) {
          bump(skipped, 'case that is not a CloudTrail record');
          return;
        }
        samples.push({ sourceRule: rule, name: `${key}[${i}]`, positive, kind: 'cloudtrail', records: [r], suiteLevel });
      });
    }
  }
  return { name: 'trailalerts', from: repo.label, samples, skipped };
}
