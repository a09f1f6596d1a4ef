/**
 * Proxies: how much of what other detection-as-code suites label as attacks Seam's detection pack catches,
 * and how many of their benign near misses it alerts on. A weak, third-party proxy for recall and precision:
 * the samples are the unit-test records of other people's rules (often cut down to the fields their rule reads),
 * not recordings of attacks.
 *
 *   npm run bench:proxies [-- --misses] [--data DIR]... [--set NAME]... [--rules DIR] [--gap-days N] [--unwrap-eventbridge]
 *
 * Data: local copies of public repositories, read at run time and never committed. Get them with the `fetch`
 * tool (bare git directories at /work/.mirror/OWNER+NAME/repo) or `git clone` (a working tree at
 * DIR/OWNER+NAME or DIR/NAME). `--data DIR` (repeatable; or SEAM_PROXY_DATA, colon-separated; default
 * /work/.mirror) says where to look. A set whose repository is not found is reported and left out.
 * Ten sets need files no fetch snapshot's newest commit has (an older commit or another branch of the mirror, or a
 * repository with no snapshot, copied out of the search index): bench/proxy-sets/make.ts rebuilds them as working-tree
 * copies under /work/proxy-data (bench/proxy-sets/README.md says where each comes from and which files to copy); then
 * `npm run bench:proxies -- --data /work/.mirror --data /work/proxy-data` measures every set.
 *   - panther-labs/panther-analysis: rules/aws_cloudtrail_rules, rules/kubernetes_rules, rules/aws_eks_rules,
 *     rules/aws_guardduty_rules, each rule's YAML `Tests:` (ExpectedResult true/false, Log). AKS tests are read
 *     as the audit event they wrap; GKE tests (another schema) are left out.
 *   - panther-labs/pypanther: CloudTrail rules' literal RuleTest logs not also in panther-analysis.
 *   - nordicsnow1/aws-cloudtrail-detection-rules: tests/fixtures/<RULE>/positive*.json and negative*.json
 *     (EventBridge events; LOG-004's positive is event.json). No fetch snapshot exists: rebuilt from the search index
 *     by bench/proxy-sets/make.ts nordicsnow.
 *   - jfrance167/aws-cloudtrail-iam-detection-lab: evidence/synthetic/*.json, all suspicious (one sample per file: a file is
 *     one scenario). No fetch snapshot exists: rebuilt from the search index by bench/proxy-sets/make.ts jfrance.
 *   - UmerJidda/cloud-threat-detection-response-lab-aws-splunk: sample_logs/cloudtrail/malicious/*.ndjson (positive)
 *     and benign/*.ndjson (negative), one sample per file (a scenario of one or more records, kept together on its
 *     day; caught when a medium+ alert cites any of its records); edge_cases/ left out.
 *   - DataDog/stratus-red-team: docs/detonation-logs/aws.*.json, the CloudTrail records of one detonation of each AWS
 *     technique (all positive, one sample per technique).
 *   - scanner-inc/detection-rules-aws-cloudtrail: each rule's inline `tests` (dataset_inline, expected_detection_result),
 *     one sample per test; every copy found under the data folders is read, a later folder's file replacing an
 *     earlier one's of the same path (the `fetch` snapshot is of 2024, 2 rules with tests; two newer rules with tests rebuilt
 *     from the search index by bench/proxy-sets/make.ts scanner).
 *     Scanner's ingest fields (`%ingest.*`, `@scnr.*`) are dropped and its `timestamp` becomes eventTime.
 *   - H3llKa1ser/AWS-Detection-Engineering-Lab: tests/sigma/expectations.json, the hand-written cases of its Sigma lab
 *     rules (test_sigma.py: a full CloudTrail base event with a few fields changed, and the expected match). No fetch
 *     snapshot exists: written from the test file's text in the search index by bench/proxy-sets/make.ts h3llka1ser.
 *   - wazuh/wazuh: ruleset/testing/tests/aws_cloudtrail.ini, wazuh-logtest cases (the record under `aws`); positive when
 *     Wazuh's expected alert level is 7 or more, negative below. Wazuh removed the file from its main branch:
 *     bench/proxy-sets/make.ts wazuh takes it from the fetch mirror's history (b9d487f7c7^).
 *   - alpha0490/aws-cloudtrail-attack-detections: tests/test_cases.yaml, a positive event (must match) and a negative one
 *     (must not) for each of its 30 Sigma rules, cut down to the fields the rule reads (most without userIdentity or
 *     eventTime; rebuilt from the search index by bench/proxy-sets/make.ts alpha0490, no fetch snapshot exists).
 *   - raajheshkannaa/aws-cloudtrail-lake-detections: tests/fixtures/sample_events.json, one record per detection; the key
 *     `benign_put_bucket_policy` (a bucket policy granting another account) is the near miss, the 7 others positive.
 *   - airbnb/streamalert (streamalert): rules/community/{cloudtrail,cloudwatch_events}/*.json, the test events of
 *     StreamAlert's CloudTrail rules; positive when the test's `trigger_rules` names a rule, negative when it is empty (the
 *     test asserts no rule fires). A cloudtrail:events test is one sample of its log file's Records; of a cloudwatch:events
 *     test the envelope's `detail` (the CloudTrail record the rule reads; the envelope's own fields are placeholders) is
 *     replayed. Many fields are StreamAlert's placeholder "..." (some eventSource values too), left as written.
 *   - adanalvarez/TrailDiscover (traildiscover): events/<service>/<Event>.json, a catalog of the CloudTrail events attackers
 *     use, with <Event>.json.cloudtrail, the records the author's Grimoire run of the call left (redacted; most are
 *     AccessDenied: the lab user lacked the permission). One positive sample per event the catalog both marks as used in
 *     real attacks (`usedInWild`) and names a public alerting rule for (`alerting`); the others are left out (a catalog of
 *     calls, most of them routine, that never calls a record benign: no negatives).
 *   - adanalvarez/TrailAlerts (trailalerts): rules/sigma_rules/<rule>_tests.json, the CloudTrail records each of its Sigma
 *     rules (most adapted from SigmaHQ) must match (`should_match`, positive) and must not (`should_not_match`, negative),
 *     one sample each, with the rule's Sigma level as the suite's level. Most negatives are the positive with one field
 *     changed (another eventSource or eventName).
 * Recordings (CloudTrail as AWS delivered it during an attack simulation, not test records):
 *   - Yamato-Security/suzaku-sample-data invictus-ir/ (invictus-stratus): Invictus IR's July 2023 run of Stratus Red Team
 *     against a test account (invictus-ir/aws_dataset), all 2,900 records of it. Stratus tags each call of a technique's
 *     Detonate or Revert with the user agent `stratus-red-team_<uuid>`, a uuid per call; a sample is one uuid's records,
 *     positive for a detonation, negative for a revert (the tool's undo: StartLogging, RevokeSecurityGroupIngress, a share
 *     removed, the detonation's key, user, trust anchor or permission deleted, the trust policy or function code put back;
 *     told apart by Stratus' technique definitions, see isStratusRevert). Terraform's warm-up/clean-up records, the
 *     account's background and Stratus' pre-flight DescribeAccountAttributes are left out (not labelled). Several
 *     detonations failed (AccessDenied, TrailNotFoundException); they stay positive: attempts a SOC wants to see.
 *   - Yamato-Security/suzaku-sample-data SANS-504-S3-ransomware-lab/ (sans504-ransomware): a SANS SEC504 lab account's
 *     CloudTrail files (.json.gz, 30,477 records); one positive sample, the records of IAM user jmerckle, the only
 *     principal besides the owner (one home address: set-up and investigation) and AWS services: the intrusion.
 *     (Its stratus-red-team.cloud/ folder is the same Grimoire recordings as DataDog's detonation logs, so not read.)
 *   - Mohammedalkahala/cloudgoat-sumo-detection-lab (cloudgoat-sumo): the CloudTrail evidence of two CloudGoat labs
 *     (iam_privesc_by_attachment/logs/cloudtrail.json, a Sumo Logic result page; rce_web_app/logs/*.json), one positive
 *     sample per file as the lab labels them, though most records are the scenario's Terraform deployment. The copy whose
 *     records are whole is read (cloudgoatSumoComplete): bench/proxy-sets/make.ts cloudgoat-sumo rebuilds the full records
 *     of older commits (the fetch snapshot's HEAD cut them down to a few fields, without eventSource); without it the set
 *     is reported missing.
 *   - OTRF/Security-Datasets (otrf-cloud-breach-s3): datasets/atomic/aws/collection/ec2_proxy_s3_exfiltration.zip
 *     (SDAWS-200914011940), a CloudGoat cloud_breach_s3 run recorded through Logstash and Kafka (eventTime in @timestamp,
 *     addresses anonymized to 1.2.3.4). One positive sample: the records made with the instance-profile key that the
 *     dataset's metadata (adversary_view) shows the adversary stealing through the EC2 proxy; the rest is left out.
 *   - hhieon/cloud-incident-log-analysis (hhieon-scenarios): evidence/scenario-01-root-misuse/cloudtrail_samples.jsonl, the
 *     four records of a root-account misuse the authors ran in their own account (root console sign-in, an IAM user created,
 *     given AdministratorAccess and an access key; account, address and keys masked), one positive sample per scenario;
 *     rebuilt from the fetch mirror's develop branch by bench/proxy-sets/make.ts hhieon (its HEAD predates the evidence).
 *   - Moussa-Farag/aws-iam-privesc-detection (moussa-farag-rollback): evidence/07-cloudtrail-events.ndjson, the author's run
 *     of CloudGoat's iam_privesc_by_rollback in a lab account: all 18 records of the attacker user's session as CloudTrail's
 *     Event History returned them (lookup-events, each CloudTrailEvent on a line; account id and key replaced by AWS's
 *     example values): GetCallerIdentity, ListAttachedUserPolicies, ListPolicyVersions and GetPolicyVersion of its own
 *     policy, a refused DescribeInstances, SetDefaultPolicyVersion to v3 (the version allowing `*` on `*`), then the same
 *     DescribeInstances succeeding. One positive sample; no benign records. No fetch snapshot exists: rebuilt from the
 *     search index by bench/proxy-sets/make.ts moussa-farag.
 *   - falcosecurity/falco (falco-k8s-audit): test/trace_files/k8s_audit/*.json, Kubernetes audit events a minikube API
 *     server wrote while Falco's authors ran kubectl, labelled by test/falco_k8s_audit_tests.yaml (both rebuilt from the
 *     fetch mirror's history by bench/proxy-sets/make.ts falco: Falco moved the tests out in 2023). One sample per
 *     trace file: positive when a test with Falco's own rule files expects a detection at WARNING or above, negative
 *     when such a test expects none; tests with their own allow/trust lists and NOTICE/INFO-only files left out.
 *
 * Method: every record gets a fresh unique event id (suites reuse ids across tests) and each sample its own
 * day (eventTime, or @timestamp for a record that went through Logstash's cloudtrail codec; the audit event's
 * requestReceivedTimestamp/stageTimestamp; a finding's createdAt/updatedAt/
 * eventFirstSeen/eventLastSeen; related times such as a session's creationDate move with it), one day after
 * another in suite order, so no correlation window or short baseline joins two samples. Panther's partial audit
 * events get the envelope fields the audit.k8s.io/v1 schema requires when missing (kind, apiVersion, level,
 * auditID, stage: ResponseStarted for an exec/attach that was not refused, ResponseComplete otherwise,
 * requestURI from objectRef with an exec's options as its query, both timestamps); fields that say what
 * happened (verb, user) are never made up, so such a record is rejected and counted.
 * Each set is one JSONL file in a temporary folder, replayed once with `seam replay FILE --rules detections
 * --dlq <tmp>/<set>.dlq.jsonl`. A sample is caught when an alert of level medium, high or critical cites its
 * id (alert `events` / `native_ids`); a record Seam rejects is counted as rejected (and not caught).
 * EventBridge-wrapped CloudTrail records are handed to Seam as they are; `--unwrap-eventbridge` hands it
 * `detail` instead (for builds that do not unwrap them).
 *
 * Output: per set `proxy: set=<name> positives=<caught>/<n> negatives_alerted=<k>/<m> rejected=<r> cross_sample=<c>`
 * (c: medium+ alerts citing records of several samples, which credit none of them); for the two recordings whose
 * unlabelled records the samples leave out (invictus-stratus: the account's background and the Terraform records without
 * the Stratus tag; sans504-ransomware: the owner's and AWS services' records), `proxy: background set=<name> part="..."
 * events=<n> alerts_medium_plus=<k> per_100k=<x> (rule(level)=count, ...)`: those records replayed as they are, the
 * medium+ alerts Seam raises on third-party traffic nobody here wrote (not benign by label: an owner working as root
 * alerts, rightly); then a
 * line of positives by the level the suite's own rule gives them (panther-analysis' Severity, TrailAlerts' Sigma level; where a suite
 * rates its rule Info or Low, its author does not expect a human to look either), then a totals line; `--misses` lists uncaught positives and alerted negatives with the suite's rule (and its level, where the suite gives one), the action, the sample's record ids (`proxy-SET-NNNN`, in the set's JSONL and alerts files) and
 * the Seam alerts (any level) each one raised; `--all` lists the caught positives too, with the medium+ alerts that caught them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  alpha0490,
  cloudgoatSumo,
  cloudgoatSumoComplete,
  falcoK8sAudit,
  h3llka1serSigma,
  hhieonScenarios,
  invictusStratus,
  otrfCloudBreachS3,
  isObj,
  jfrance,
  moussaFaragRollback,
  nordicsnow,
  openRepo,
  pantherCloudTrail,
  pantherGuardDuty,
  pantherK8s,
  pypantherCloudTrail,
  raajheshkannaaLake,
  sans504Ransomware,
  scannerCloudTrail,
  stratusAws,
  streamalertCloudTrail,
  trailAlerts,
  trailDiscover,
  umerJidda,
  wazuhCloudTrail,
  type Json,
  type Obj,
  type Repo,
  type Sample,
  type SampleSet,
} from './lib/proxy-sets.ts';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const flag = (f: string): boolean => argv.includes(f);
const values = (f: string): string[] => argv.flatMap((a, i) => (a === f && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const say = (s: string): void => void process.stdout.write(s + '\n');

const DATA = values('--data').length ? values('--data') : (process.env.SEAM_PROXY_DATA ?? '/work/.mirror').split(':').filter(Boolean);
const RULES = resolve(values('--rules')[0] ?? join(ROOT, 'detections'));
const ONLY = new Set(values('--set'));
const ALL = flag('--all');
const MISSES = flag('--misses') || ALL;
const UNWRAP = flag('--unwrap-eventbridge');
const ALERT_LEVELS = new Set(['medium', 'high', 'critical']);
const DAY_MS = 86_400_000;
// Days between two samples (`--gap-days N`, default 1). Baselines that learn over weeks (who deploys a function,
// which networks a principal uses) still see earlier samples a day apart; a gap longer than their window tells
// those cross-sample alerts apart.
const GAP_DAYS = Number(values('--gap-days')[0] ?? '1');
if (!Number.isInteger(GAP_DAYS) || GAP_DAYS < 1) {
  process.stderr.write('bench:proxies: --gap-days takes a whole number of days, 1 or more\n');
  process.exit(1);
}
// Day 0 of the samples; each sample i sits on BASE + i days at noon UTC.
const BASE_MS = Date.UTC(2025, 0, 1, 12);

function findRepo(slug: string): Repo | undefined {
  return findRepos(slug)[0];
}

/** Every copy of a repository under the data folders, in --data order. */
function findRepos(slug: string): Repo[] {
  return DATA.flatMap((d) => openRepo(d, slug) ?? []);
}

/** Every set, in a fixed order; a set whose repository is missing yields a note instead. */
function loadSets(): { sets: SampleSet[]; missing: string[] } {
  const sets: SampleSet[] = [];
  const missing: string[] = [];
  const want = (name: string): boolean => ONLY.size === 0 || ONLY.has(name);
  /** The sets of one repository (`found`: its copy or copies), or a note naming them when it is not here. */
  const add = <T>(found: T | undefined, what: string, named: [string, (r: T) => SampleSet][], hint?: string): void => {
    if (found === undefined) {
      missing.push(`${what} (${named.map(([n]) => n).join(', ')}${hint === undefined ? '' : '; ' + hint})`);
      return;
    }
    for (const [name, make] of named) if (want(name)) sets.push(make(found));
  };
  const some = (rs: Repo[]): Repo[] | undefined => (rs.length > 0 ? rs : undefined);
  const panther = findRepo('panther-labs/panther-analysis');
  // pypanther's set leaves out the tests panther-analysis already has, so this one is read even when not shown.
  const pantherCt = panther === undefined ? undefined : pantherCloudTrail(panther);
  add(panther, 'panther-labs/panther-analysis', [
    ['panther-cloudtrail', () => pantherCt!],
    ['panther-k8s', (r) => pantherK8s(r, 'rules/kubernetes_rules', 'panther-k8s')],
    ['panther-eks', (r) => pantherK8s(r, 'rules/aws_eks_rules', 'panther-eks')],
    ['panther-guardduty', pantherGuardDuty],
  ]);
  add(findRepo('panther-labs/pypanther'), 'panther-labs/pypanther', [['pypanther-cloudtrail', (r) => pypantherCloudTrail(r, pantherCt)]]);
  add(findRepo('nordicsnow1/aws-cloudtrail-detection-rules'), 'nordicsnow1/aws-cloudtrail-detection-rules', [['nordicsnow', nordicsnow]], 'bench/proxy-sets/make.ts nordicsnow');
  add(findRepo('jfrance167/aws-cloudtrail-iam-detection-lab'), 'jfrance167/aws-cloudtrail-iam-detection-lab', [['jfrance', jfrance]], 'bench/proxy-sets/make.ts jfrance');
  add(findRepo('UmerJidda/cloud-threat-detection-response-lab-aws-splunk'), 'UmerJidda/cloud-threat-detection-response-lab-aws-splunk', [['umerjidda', umerJidda]]);
  add(findRepo('DataDog/stratus-red-team'), 'DataDog/stratus-red-team', [['stratus-aws', stratusAws]]);
  add(some(findRepos('scanner-inc/detection-rules-aws-cloudtrail')), 'scanner-inc/detection-rules-aws-cloudtrail', [['scanner', scannerCloudTrail]]);
  add(findRepo('H3llKa1ser/AWS-Detection-Engineering-Lab'), 'H3llKa1ser/AWS-Detection-Engineering-Lab', [['h3llka1ser-sigma', h3llka1serSigma]], 'bench/proxy-sets/make.ts h3llka1ser');
  // Wazuh removed these tests from its main branch: the copy that still has them (an older commit's file) is read.
  const wazuh = findRepos('wazuh/wazuh').find((r) => r.list('ruleset/testing/tests').includes('ruleset/testing/tests/aws_cloudtrail.ini'));
  add(wazuh, 'wazuh/wazuh ruleset/testing/tests/aws_cloudtrail.ini', [['wazuh-cloudtrail', wazuhCloudTrail]], 'bench/proxy-sets/make.ts wazuh: the file as of b9d487f7c7^, from the fetch mirror');
  add(findRepo('alpha0490/aws-cloudtrail-attack-detections'), 'alpha0490/aws-cloudtrail-attack-detections', [['alpha0490', alpha0490]], 'bench/proxy-sets/make.ts alpha0490');
  add(findRepo('raajheshkannaa/aws-cloudtrail-lake-detections'), 'raajheshkannaa/aws-cloudtrail-lake-detections', [['raajheshkannaa-lake', raajheshkannaaLake]]);
  add(findRepo('Yamato-Security/suzaku-sample-data'), 'Yamato-Security/suzaku-sample-data', [
    ['invictus-stratus', invictusStratus],
    ['sans504-ransomware', sans504Ransomware],
  ]);
  // The fetch snapshot's HEAD cut the records down (no eventSource): the copy with the full records of an older commit is read.
  add(findRepos('Mohammedalkahala/cloudgoat-sumo-detection-lab').find(cloudgoatSumoComplete), 'Mohammedalkahala/cloudgoat-sumo-detection-lab with full records', [['cloudgoat-sumo', cloudgoatSumo]], 'bench/proxy-sets/make.ts cloudgoat-sumo');
  add(findRepo('airbnb/streamalert'), 'airbnb/streamalert', [['streamalert', streamalertCloudTrail]]);
  add(findRepo('adanalvarez/TrailDiscover'), 'adanalvarez/TrailDiscover', [['traildiscover', trailDiscover]]);
  add(findRepo('adanalvarez/TrailAlerts'), 'adanalvarez/TrailAlerts', [['trailalerts', trailAlerts]]);
  add(findRepo('OTRF/Security-Datasets'), 'OTRF/Security-Datasets', [['otrf-cloud-breach-s3', otrfCloudBreachS3]]);
  // The evidence is on the repository's develop branch; the fetch snapshot's HEAD (main) predates it.
  const hhieon = findRepos('hhieon/cloud-incident-log-analysis').find((r) => r.list('evidence').some((p) => p.endsWith('.jsonl')));
  add(hhieon, 'hhieon/cloud-incident-log-analysis evidence/', [['hhieon-scenarios', hhieonScenarios]], 'bench/proxy-sets/make.ts hhieon');
  add(findRepo('Moussa-Farag/aws-iam-privesc-detection'), 'Moussa-Farag/aws-iam-privesc-detection', [['moussa-farag-rollback', moussaFaragRollback]], 'bench/proxy-sets/make.ts moussa-farag');
  // Falco moved these tests out in 2023: only the rebuilt copy (an older commit) has them.
  const falco = findRepos('falcosecurity/falco').find((r) => r.list('test').includes('test/falco_k8s_audit_tests.yaml'));
  add(falco, 'falcosecurity/falco test/falco_k8s_audit_tests.yaml', [['falco-k8s-audit', falcoK8sAudit]], 'bench/proxy-sets/make.ts falco');
  return { sets, missing };
}

/** Epoch ms of an AWS or Kubernetes timestamp (ISO 8601, or Panther's `2024-04-02 15:13:06.000000000`). */
function timeOf(v: Json | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  let s = v.trim().replace(' ', 'T');
  s = s.replace(/(\.\d{3})\d+/, '$1');
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(s)) s += 'Z';
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Moves `o[k]` by `delta` ms when it is a timestamp; leaves it alone otherwise. */
function shift(o: Json | undefined, k: string, delta: number): void {
  if (!isObj(o)) return;
  const t = timeOf(o[k]);
  if (t !== undefined) o[k] = iso(t + delta);
}

const clone = (o: Obj): Obj => structuredClone(o);
const isEventBridgeCloudTrail = (r: Obj): boolean => isObj(r.detail) && typeof r['detail-type'] === 'string' && r['detail-type'].endsWith('via CloudTrail');

/** When a record happened (ms), by its kind; undefined when it does not say. */
function timeOfRecord(r: Obj, kind: Sample['kind']): number | undefined {
  if (kind === 'cloudtrail') {
    const wrapped = isEventBridgeCloudTrail(r);
    const ct = wrapped ? (r.detail as Obj) : r;
    return timeOf(ct.eventTime) ?? timeOf(ct['@timestamp']) ?? (wrapped ? timeOf(r.time) : undefined);
  }
  if (kind === 'k8s_audit') return timeOf(r.stageTimestamp) ?? timeOf(r.requestReceivedTimestamp);
  const svc = isObj(r.service) ? r.service : undefined;
  return timeOf(r.updatedAt) ?? timeOf(svc?.eventLastSeen) ?? timeOf(r.createdAt);
}

/**
 * The records to replay for sample `s`, each with a unique id (`id`, or `id-rN` for a sample of several
 * records) and moved onto the sample's own day: the first record's time becomes `at` (ms) and the others keep
 * their distance to it; a record without a time is put at `at`.
 */
function prepare(s: Sample, id: string, at: number): { id: string; record: Obj }[] {
  const from = timeOfRecord(s.records[0]!, s.kind);
  const delta = from === undefined ? undefined : at - from;
  return s.records.map((rec, j) => {
    const rid = s.records.length > 1 ? `${id}-r${j}` : id;
    return { id: rid, record: prepareOne(rec, s.kind, rid, delta, at) };
  });
}

function prepareOne(rec: Obj, kind: Sample['kind'], id: string, sampleDelta: number | undefined, at: number): Obj {
  let r = clone(rec);
  const own = timeOfRecord(r, kind);
  const delta = own === undefined ? 0 : sampleDelta ?? at - own;
  const when = own === undefined ? at : own + delta;
  if (kind === 'cloudtrail') {
    const wrapped = isEventBridgeCloudTrail(r);
    if (wrapped && UNWRAP) r = r.detail as Obj;
    const ct = wrapped && !UNWRAP ? (r.detail as Obj) : r;
    ct.eventID = id;
    // A record that went through Logstash keeps its time in @timestamp only; it moves there.
    if (ct.eventTime === undefined && ct['@timestamp'] !== undefined) ct['@timestamp'] = iso(when);
    else ct.eventTime = iso(when);
    const ui = ct.userIdentity;
    if (isObj(ui) && isObj(ui.sessionContext)) shift(ui.sessionContext.attributes, 'creationDate', delta);
    if (wrapped && !UNWRAP) {
      r.id = id;
      r.time = iso(when);
    }
    return r;
  }
  if (kind === 'k8s_audit') {
    const ref = isObj(r.objectRef) ? r.objectRef : undefined;
    const sub = typeof ref?.subresource === 'string' ? ref.subresource : undefined;
    r.kind ??= 'Event';
    r.apiVersion ??= 'audit.k8s.io/v1';
    r.level ??= r.requestObject !== undefined || r.responseObject !== undefined ? 'RequestResponse' : 'Metadata';
    r.auditID = id;
    // A stream that was opened (101, or no status) is logged at ResponseStarted; a refused one only completes.
    const code = isObj(r.responseStatus) && typeof r.responseStatus.code === 'number' ? r.responseStatus.code : undefined;
    r.stage ??= (sub === 'exec' || sub === 'attach') && (code === undefined || code < 400) ? 'ResponseStarted' : 'ResponseComplete';
    if (r.requestURI === undefined && ref) r.requestURI = uriOf(ref, r.requestObject);
    const received = timeOf(r.requestReceivedTimestamp);
    const stage = timeOf(r.stageTimestamp);
    r.requestReceivedTimestamp = new Date(received !== undefined ? received + delta : when).toISOString();
    r.stageTimestamp = new Date(stage !== undefined ? stage + delta : when).toISOString();
    return r;
  }
  // GuardDuty finding: its times move together.
  const svc = isObj(r.service) ? r.service : undefined;
  r.id = id;
  for (const k of ['createdAt', 'updatedAt']) shift(r, k, delta);
  for (const k of ['eventFirstSeen', 'eventLastSeen']) shift(svc, k, delta);
  if (r.updatedAt === undefined) r.updatedAt = iso(when);
  return r;
}

/**
 * The request path an objectRef stands for (what the API server would have logged as requestURI). Panther's exec
 * tests put the PodExecOptions (command, container, stdout...) in requestObject; the API server receives and logs
 * them as the query of the exec request, so they go there.
 */
function uriOf(ref: Obj, body: Json | undefined): string {
  const group = typeof ref.apiGroup === 'string' && ref.apiGroup !== '' ? ref.apiGroup : undefined;
  const version = typeof ref.apiVersion === 'string' ? ref.apiVersion.split('/').pop() : 'v1';
  let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
  if (typeof ref.namespace === 'string') p += `/namespaces/${ref.namespace}`;
  if (typeof ref.resource === 'string') p += `/${ref.resource}`;
  if (typeof ref.name === 'string') p += `/${ref.name}`;
  if (typeof ref.subresource === 'string') p += `/${ref.subresource}`;
  if ((ref.subresource === 'exec' || ref.subresource === 'attach') && isObj(body)) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) {
      if (k === 'kind' || k === 'apiVersion') continue;
      for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' || typeof x === 'boolean' || typeof x === 'number') q.append(k, String(x));
    }
    if (q.size) p += `?${q.toString()}`;
  }
  return p;
}

/** What the sample does, for the miss lists. */
function actionOf(s: Sample): string {
  const acts = [...new Set(s.records.map((r) => actionOfRecord(r, s.kind)))];
  return acts.length > 3 ? `${acts.slice(0, 3).join(',')},+${acts.length - 3}` : acts.join(',');
}

function actionOfRecord(rec: Obj, kind: Sample['kind']): string {
  const r = isEventBridgeCloudTrail(rec) ? (rec.detail as Obj) : rec;
  if (kind === 'cloudtrail') return `${String(r.eventSource ?? '?').replace('.amazonaws.com', '')}:${String(r.eventName ?? '?')}`;
  if (kind === 'k8s_audit') {
    const ref = isObj(r.objectRef) ? r.objectRef : {};
    const res = [ref.resource, ref.subresource].filter((x) => typeof x === 'string').join('/');
    return `${String(r.verb ?? '?')} ${res || String(r.requestURI ?? '?')}`;
  }
  return String(r.type ?? '?');
}

interface Alert {
  rule?: { id?: string; title?: string; level?: string };
  events?: string[];
  native_ids?: string[];
}

/** Rule id → file name (without .yml) of the rules folder, to name Seam's rules in the miss lists. */
function ruleNames(dir: string): Map<string, string> {
  const names = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yml') && !e.name.endsWith('.test.yml')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/^id:\s*['"]?([^'"\s]+)/gm)) names.set(m[1]!, e.name.replace(/\.yml$/, ''));
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return names;
}

interface SetResult {
  set: SampleSet;
  caught: number;
  positives: number;
  alerted: number;
  negatives: number;
  /** Rejected records: positives, negatives. */
  rejected: [number, number];
  /** Medium+ alerts citing records of more than one sample (credited to none). */
  crossSample: number;
  /** Positives caught / positives per `kind level` of the suite's own rule, for samples whose suite gives one. */
  byLevel: Map<string, [number, number]>;
  lines: string[];
}

function score(set: SampleSet, dir: string, names: Map<string, string>): SetResult {
  const ids = set.samples.map((_, i) => `proxy-${set.name}-${String(i).padStart(4, '0')}`);
  const file = join(dir, `${set.name}.jsonl`);
  const dlq = join(dir, `${set.name}.dlq.jsonl`);
  const alertsFile = join(dir, `${set.name}.alerts.jsonl`);
  // One line per record; lineSample[n] is the sample of line n + 1, index maps each record id to its sample.
  const lineSample: number[] = [];
  const index = new Map<string, number>();
  const lines: string[] = [];
  set.samples.forEach((s, i) => {
    for (const p of prepare(s, ids[i]!, BASE_MS + i * GAP_DAYS * DAY_MS)) {
      lineSample.push(i);
      index.set(p.id, i);
      lines.push(JSON.stringify(p.record));
    }
  });
  writeFileSync(file, lines.join('\n') + '\n');
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', file, '--rules', RULES, '--dlq', dlq, '--alerts-out', alertsFile], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`seam replay ${file} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const summary = r.stderr.split('\n').find((l) => l.startsWith('replay:')) ?? '';

  // Alerts by sample index (any level), from the ids they cite: our id, or our id plus a suffix (auditID:stage).
  const bySample = new Map<number, Alert[]>();
  let crossSample = 0;
  const alerts = existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of alerts) {
    const a = JSON.parse(line) as Alert;
    const cited = new Set<number>();
    for (const x of [...(a.events ?? []), ...(a.native_ids ?? [])]) {
      const i = index.get(x) ?? index.get(x.split(':')[0]!);
      if (i !== undefined) cited.add(i);
    }
    // An alert citing records of several samples was raised by what other samples taught a baseline or a
    // correlation: credited to none of them, counted apart.
    if (cited.size > 1 && ALERT_LEVELS.has(a.rule?.level ?? '')) crossSample++;
    else for (const i of cited) bySample.set(i, [...(bySample.get(i) ?? []), a]);
  }
  // Rejected records by line (origin FILE:LINE), with the reason.
  const rejected = new Map<number, string>();
  if (existsSync(dlq)) {
    for (const line of readFileSync(dlq, 'utf8').split('\n').filter(Boolean)) {
      const d = JSON.parse(line) as { origin?: string; code?: string; reason?: string };
      const n = Number(/:(\d+)$/.exec(d.origin ?? '')?.[1]);
      const i = lineSample[n - 1];
      if (i !== undefined && !rejected.has(i)) rejected.set(i, `${d.code}: ${(d.reason ?? '').split(';')[0]}`);
    }
  }

  const res: SetResult = { set, caught: 0, positives: 0, alerted: 0, negatives: 0, rejected: [0, 0], crossSample, byLevel: new Map(), lines: [] };
  const fired = (as: Alert[]): string =>
    [...new Set(as.map((a) => `${names.get(a.rule?.id ?? '') ?? a.rule?.id ?? a.rule?.title ?? '?'}(${a.rule?.level ?? '?'})`))].join(', ') || 'none';
  set.samples.forEach((s, i) => {
    const as = bySample.get(i) ?? [];
    const hit = as.some((a) => ALERT_LEVELS.has(a.rule?.level ?? ''));
    const rej = rejected.get(i);
    const what = `${s.sourceRule}${s.suiteLevel !== undefined ? ` [${s.kind} ${s.suiteLevel}]` : ''} "${s.name}" ${actionOf(s)} (${ids[i]})`;
    if (rej) res.rejected[s.positive ? 0 : 1]++;
    if (s.positive) {
      res.positives++;
      if (s.suiteLevel !== undefined) {
        const key = `${s.kind} ${s.suiteLevel}`;
        const e = res.byLevel.get(key) ?? [0, 0];
        e[1]++;
        if (hit) e[0]++;
        res.byLevel.set(key, e);
      }
      if (hit) {
        res.caught++;
        if (ALL) res.lines.push(`  caught  ${set.name} ${what} alerts: ${fired(as.filter((a) => ALERT_LEVELS.has(a.rule?.level ?? '')))}`);
      } else res.lines.push(`  miss    ${set.name} ${what}${rej ? ` REJECTED ${rej}` : ''} alerts: ${fired(as)}`);
    } else {
      res.negatives++;
      if (hit) {
        res.alerted++;
        res.lines.push(`  alerted ${set.name} ${what} alerts: ${fired(as)}`);
      } else if (rej) res.lines.push(`  rejected-negative ${set.name} ${what} REJECTED ${rej}`);
    }
  });
  if (summary) res.lines.unshift(`  ${summary.trim()}`);
  return res;
}

/**
 * A recording's unlabelled records (SampleSet.background), replayed as they are (their own times and ids): the medium+
 * alerts Seam raises on third-party traffic nobody here wrote, per 100k records and by rule. Not benign by label (an
 * account's owner working as root alerts, rightly), so reported apart from the negatives.
 */
function background(set: SampleSet, dir: string, names: Map<string, string>): string[] {
  const out: string[] = [];
  (set.background ?? []).forEach((b, n) => {
    if (b.records.length === 0) return;
    const file = join(dir, `${set.name}.background${n}.jsonl`);
    const alertsFile = join(dir, `${set.name}.background${n}.alerts.jsonl`);
    writeFileSync(file, b.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', file, '--rules', RULES, '--dlq', join(dir, `${set.name}.background${n}.dlq.jsonl`), '--alerts-out', alertsFile], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`seam replay ${file} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    // Records read (a record delivered twice, the same event, counts once: seam replay's duplicates line).
    const summary = r.stderr.split('\n').find((l) => l.startsWith('replay:')) ?? '';
    const dup = Number(/duplicates: (\d+) records/.exec(r.stderr)?.[1] ?? 0);
    const read = Number(/normalized=(\d+)/.exec(summary)?.[1] ?? b.records.length) - dup;
    const byRule = new Map<string, number>();
    let medium = 0;
    for (const line of existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean) : []) {
      const a = JSON.parse(line) as Alert;
      if (!ALERT_LEVELS.has(a.rule?.level ?? '')) continue;
      medium++;
      const k = `${names.get(a.rule?.id ?? '') ?? a.rule?.id ?? '?'}(${a.rule?.level})`;
      byRule.set(k, (byRule.get(k) ?? 0) + 1);
    }
    const rules = [...byRule].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([k, v]) => `${k}=${v}`).join(', ');
    out.push(`proxy: background set=${set.name} part="${b.label}" events=${read} alerts_medium_plus=${medium} per_100k=${read > 0 ? ((medium * 100_000) / read).toFixed(1) : '0'}${rules ? ` (${rules})` : ''}`);
  });
  return out;
}

const { sets, missing } = loadSets();
for (const m of missing) say(`proxy: missing ${m}: not found under ${DATA.join(', ')}`);
if (sets.length === 0) {
  process.stderr.write('bench:proxies: no sample set found (see the header of bench/proxies.ts for where the data comes from)\n');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'seam-proxies-'));
const names = ruleNames(RULES);
const total = { caught: 0, positives: 0, alerted: 0, negatives: 0, rejected: 0 };
const byLevel = new Map<string, [number, number]>();
for (const set of sets) {
  const r = score(set, dir, names);
  const skipped = [...set.skipped].map(([k, v]) => `${k}=${v}`).join('; ');
  say(`proxy: set=${set.name} positives=${r.caught}/${r.positives} negatives_alerted=${r.alerted}/${r.negatives} rejected=${r.rejected[0] + r.rejected[1]}${r.rejected[0] + r.rejected[1] ? ` (positives ${r.rejected[0]}, negatives ${r.rejected[1]})` : ''} cross_sample=${r.crossSample} (${set.from}${skipped ? `; left out: ${skipped}` : ''})`);
  if (MISSES) for (const l of r.lines) say(l);
  for (const l of background(set, dir, names)) say(l);
  total.caught += r.caught;
  total.positives += r.positives;
  total.alerted += r.alerted;
  total.negatives += r.negatives;
  total.rejected += r.rejected[0] + r.rejected[1];
  for (const [k, [c, n]] of r.byLevel) {
    const e = byLevel.get(k) ?? [0, 0];
    byLevel.set(k, [e[0] + c, e[1] + n]);
  }
}
// The suites that rate their own rules (panther-analysis' Severity): how Seam's medium+ compares with theirs.
if (byLevel.size > 0) {
  const order = ['Critical', 'High', 'Medium', 'Low', 'Info'];
  const rank = (k: string): string => k.split(' ')[0]! + String(order.indexOf(k.split(' ')[1]!) + 10);
  const parts = [...byLevel].sort(([a], [b]) => rank(a).localeCompare(rank(b))).map(([k, [c, n]]) => `${k.replace(' ', ':')}=${c}/${n}`);
  say(`proxy: positives by the suite's own level ${parts.join(' ')}`);
}
say(`proxy: total positives=${total.caught}/${total.positives} negatives_alerted=${total.alerted}/${total.negatives} rejected=${total.rejected} sets=${sets.length}${GAP_DAYS !== 1 ? ` gap_days=${GAP_DAYS}` : ''}${UNWRAP ? ' eventbridge=unwrapped' : ''} (files, alerts and dead letters in ${dir})`);
