import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeLine } from '../core/normalize/normalize.ts';

// `seam replay` as a new user meets it (review session 23): what the summary says, and what the command refuses.
// Each test runs the real command on real files.

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const AUDIT = join(FIXTURES, 'k8s-audit/eks-audit.jsonl');

const RULE = 'title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName: StopLogging}, condition: sel}\nlevel: low\n';

let dir: string;
/** A rules folder of one small rule: detection runs, quickly. */
let tinyRules: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-replay-cli-'));
  tinyRules = join(dir, 'tiny-rules');
  mkdirSync(tinyRules);
  writeFileSync(join(tinyRules, 'stop-logging.yml'), RULE);
});

/** The demo's lines by plane (the source normalization gives them), in file order. */
function demoPlanes(): Map<string, string[]> {
  const planes = new Map<string, string[]>();
  for (const line of readFileSync(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = normalizeLine(line, { collector: 'file', receivedAt: '2026-12-05T00:00:00Z' });
    const source = r.ok ? r.value.seam.source : 'rejected';
    planes.set(source, [...(planes.get(source) ?? []), line]);
  }
  return planes;
}

function seam(args: string[], cwd: string = ROOT, logLevel = 'error'): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: logLevel, SEAM_CACHE_DIR: 'off' } });
}

describe('seam replay', () => {
  it('counts a correlation that does not compile at rule load (correlations_rejected=), as rejected rules are, and still runs', () => {
    const rules = join(dir, 'rejects');
    mkdirSync(rules);
    writeFileSync(join(rules, 'stop-logging.yml'), RULE);
    writeFileSync(join(rules, 'bad-modifier.yml'), RULE.replace('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111112').replace('eventName:', 'eventName|nosuchmod:'));
    writeFileSync(
      join(rules, 'corr.yml'),
      'title: c\nid: 11111111-1111-4111-8111-111111111113\ncorrelation: {type: event_count, rules: [no_such_rule], group-by: [userIdentity.arn], timespan: 1h, condition: {gte: 2}}\nlevel: high\n',
    );
    const r = seam(['replay', AUDIT, '--rules', rules, '--dlq', join(dir, 'rejects-dlq.jsonl'), '--alerts-out', join(dir, 'rejects-alerts.jsonl')], ROOT, 'info');
    expect(r.status).toBe(0);
    const load = r.stderr.split('\n').filter((l) => l.includes('"msg":"loaded ')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(load).toHaveLength(1);
    expect(load[0]).toMatchObject({ rules: 1, rejected: 1, correlations: 0, correlations_rejected: 1 });
    expect(load[0]?.msg).toMatch(/^loaded 1 rules and 0 correlations from 3 files in \d+ ms \(rejected=1 correlations_rejected=1: the problems above\)$/);
    expect(r.stderr).toContain('correlation problem: ');
    expect(r.stderr).toMatch(/^replay: files=1 .* alerts=\d+ /m);
  });

  it('skips a CloudWatch Logs S3 export\'s non-audit EKS streams and write-test object, counted; refuses a zip / Parquet / bzip2 / zstd file whole; an empty folder warns and fails --strict', () => {
    // create-export-task of /aws/eks/<cluster>/cluster: <prefix>/aws-logs-write-test, <prefix>/<task>/<stream>/000000.gz
    const exp = join(dir, 'export', 'exportedlogs');
    const at = (s: string): string => join(exp, 'task-1', s);
    for (const s of ['kube-apiserver-audit-0123456789abcdef', 'authenticator-0123456789abcdef', 'kube-apiserver-0123456789abcdef', 'kube-scheduler-0123456789abcdef']) mkdirSync(at(s), { recursive: true });
    writeFileSync(join(exp, 'aws-logs-write-test'), 'Permission Check Successful');
    const auditLine = readFileSync(AUDIT, 'utf8').split('\n')[0]!;
    writeFileSync(join(at('kube-apiserver-audit-0123456789abcdef'), '000000.gz'), gzipSync(`2026-11-26T10:00:00.000Z ${auditLine}\n`));
    writeFileSync(join(at('authenticator-0123456789abcdef'), '000000.gz'), gzipSync('2026-11-26T10:00:00.000Z time="2026-11-26T10:00:00Z" level=info msg="access granted"\n'));
    writeFileSync(join(at('kube-apiserver-0123456789abcdef'), '000000.gz'), gzipSync('2026-11-26T10:00:00.000Z I1126 10:00:00.000000 10 controller.go:1] started\n'));
    writeFileSync(join(at('kube-scheduler-0123456789abcdef'), '000000.gz'), gzipSync('2026-11-26T10:00:00.000Z I1126 10:00:00.000000 10 scheduler.go:1] ok\n'));
    const r = seam(['replay', join(dir, 'export'), '--dlq', join(dir, 'export-dlq.jsonl'), '--strict']);
    expect(r.stderr).toMatch(/^replay: files=5 .* records=1 normalized=1 rejected=0 /m);
    expect(r.stderr).toContain('  skipped: 3 CloudWatch Logs export objects of non-audit EKS log streams');
    expect(r.stderr).toContain('1 export write-test object (aws-logs-write-test)');
    expect(r.status).toBe(0);

    const bin = join(dir, 'binary');
    mkdirSync(bin);
    // Local file header of a ZIP, Parquet's PAR1 magic, bzip2's BZh9, zstd's frame magic: each followed by many lines.
    const body = Buffer.from('x\n'.repeat(300));
    writeFileSync(join(bin, 'a.zip'), Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), body]));
    writeFileSync(join(bin, 'b.parquet'), Buffer.concat([Buffer.from('PAR1'), body]));
    writeFileSync(join(bin, 'c.jsonl.bz2'), Buffer.concat([Buffer.from('BZh9'), body]));
    writeFileSync(join(bin, 'd.jsonl.zst'), Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), body]));
    const b = seam(['replay', bin, '--dlq', join(dir, 'binary-dlq.jsonl')]);
    expect(b.stderr).toMatch(/^replay: files=4 .* records=4 normalized=0 rejected=4 /m);
    expect(b.stderr).toContain('rejected: SEAM_ERR_INPUT_UNSUPPORTED=4');
    for (const what of ['is a ZIP archive, which Seam does not read: unzip it', 'is Parquet, which Seam does not read: export it as JSON', 'is bzip2-compressed', 'is zstd-compressed']) {
      expect(b.stderr.split('\n').filter((l) => l.includes(what))).toHaveLength(1);
    }

    mkdirSync(join(dir, 'empty'));
    const e = seam(['replay', join(dir, 'empty'), '--dlq', join(dir, 'empty-dlq.jsonl')]);
    expect(e.status).toBe(0);
    expect(e.stderr).toContain('warning: no input files');
    const es = seam(['replay', join(dir, 'empty'), '--dlq', join(dir, 'empty-dlq.jsonl'), '--strict']);
    expect(es.status).toBe(1);
    expect(es.stderr).toContain('--strict: no input files');
  });

  it('seam run (embedded) without --input reads seam.yml\'s file sources, each with its own cluster and account, merged by time; the demo only when there are none, said so', () => {
    const rules = join(dir, 'run-rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'stop-logging.yml'), RULE);
    const one = join(dir, 'run-one.yml');
    writeFileSync(one, `rules: { paths: [${rules}] }\ncollect:\n  sources:\n    a: { type: file, paths: [${AUDIT}], cluster: shop-eks }\n`);
    const r = seam(['run', '--config', one, '--state-dir', join(dir, 'run-one')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`replaying ${AUDIT} (cluster shop-eks) with the rules`);
    expect(r.stderr).not.toContain('bundled demo');
    const events = readFileSync(join(dir, 'run-one', 'events.jsonl'), 'utf8').trim().split('\n');
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((l) => (JSON.parse(l) as { seam?: { cluster?: string } }).seam?.cluster === 'shop-eks')).toBe(true);

    // Two sources of two clusters (one with its account): each file's records carry their own, merged by event time.
    const lines = readFileSync(AUDIT, 'utf8').trim().split('\n');
    mkdirSync(join(dir, 'mc', 'a'), { recursive: true });
    mkdirSync(join(dir, 'mc', 'b'), { recursive: true });
    writeFileSync(join(dir, 'mc', 'a', 'audit.jsonl'), lines.slice(0, 6).join('\n') + '\n');
    writeFileSync(join(dir, 'mc', 'b', 'audit.jsonl'), lines.slice(6).join('\n') + '\n');
    const k8sRules = join(dir, 'run-k8s-rules');
    mkdirSync(k8sRules);
    writeFileSync(
      join(k8sRules, 'list-pods-or-secrets.yml'),
      'title: list pods or secrets\nid: 11111111-1111-4111-8111-111111111121\nlogsource: {product: kubernetes, service: audit}\ndetection: {sel: {verb: list, objectRef.resource: [pods, secrets]}, condition: sel}\nlevel: low\n',
    );
    const two = join(dir, 'run-two.yml');
    writeFileSync(two, `rules: { paths: [${k8sRules}] }\ncollect:\n  sources:\n    a: { type: file, paths: [${join(dir, 'mc', 'a')}], cluster: shop-eks }\n    b: { type: file, paths: [${join(dir, 'mc', 'b')}], cluster: other-eks, account: '444455556666' }\n`);
    const t = seam(['run', '--config', two, '--state-dir', join(dir, 'run-two')]);
    expect(t.stderr).toContain(`replaying ${join(dir, 'mc', 'a')} (cluster shop-eks), ${join(dir, 'mc', 'b')} (cluster other-eks, account 444455556666) with the rules`);
    expect(t.status).toBe(0);
    const evs = readFileSync(join(dir, 'run-two', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { auditID: string; '@timestamp': string; seam: { cluster?: string; account?: string } });
    expect(evs.map((e) => e.auditID)).toEqual(lines.map((l) => (JSON.parse(l) as { auditID: string }).auditID));
    expect(evs.map((e) => e.seam.cluster)).toEqual([...Array(6).fill('shop-eks'), ...Array(5).fill('other-eks')]);
    // b's account where its records name none (the anonymous and node requests); alice's own account stays hers.
    expect(evs.slice(6).map((e) => e.seam.account)).toContain('444455556666');
    const alerts = readFileSync(join(dir, 'run-two', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cluster?: string; account?: string; rule: { title: string } });
    // list pods (a: alice), list secrets (b: anonymous, payments:api); a's aws-auth edit raises native alerts in shop-eks.
    const listed = alerts.filter((a) => a.rule.title === 'list pods or secrets').map((a) => `${a.cluster}/${a.account}`);
    expect(listed).toEqual(['shop-eks/111122223333', 'other-eks/444455556666', 'other-eks/444455556666']);
    expect(alerts.filter((a) => a.rule.title !== 'list pods or secrets').every((a) => a.cluster === 'shop-eks')).toBe(true);
    expect(t.stdout.match(/^ALERT \[low\] .* list pods or secrets/gm)).toHaveLength(3);

    // seam replay: --cluster PATH=NAME per input path, merged by time as above.
    const a = join(dir, 'mc', 'a');
    const b = join(dir, 'mc', 'b');
    const rp = seam(['replay', a, b, '--cluster', `${a}=shop-eks`, '--cluster', `${b}=other-eks`, '--rules', k8sRules, '--out', join(dir, 'mc-events.jsonl'), '--alerts-out', join(dir, 'mc-alerts.jsonl'), '--dlq', join(dir, 'mc-dlq.jsonl')]);
    expect(rp.status).toBe(0);
    const rpEvents = readFileSync(join(dir, 'mc-events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seam: { cluster?: string } });
    expect(rpEvents.map((e) => e.seam.cluster)).toEqual([...Array(6).fill('shop-eks'), ...Array(5).fill('other-eks')]);
    const rpAlerts = readFileSync(join(dir, 'mc-alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cluster?: string; rule: { title: string } });
    expect(rpAlerts.filter((x) => x.rule.title === 'list pods or secrets').map((x) => x.cluster)).toEqual(['shop-eks', 'other-eks', 'other-eks']);
    const wrong = seam(['replay', a, '--cluster', `${b}=other-eks`, '--dlq', join(dir, 'mc-dlq.jsonl')]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain(`--cluster ${b}=other-eks: ${b} is not one of the input paths (${a})`);

    const none = join(dir, 'run-none.yml');
    writeFileSync(none, `rules: { paths: [${rules}] }\n`);
    const n = seam(['run', '--config', none, '--state-dir', join(dir, 'run-none')]);
    expect(n.status).toBe(0);
    expect(n.stderr).toContain('no --input and no file sources in seam.yml: replaying the bundled demo');
  });

  it('prints alerts as the ALERT lines seam run prints with --format text (the default on a terminal), JSON lines into a pipe', () => {
    const k8s = join(ROOT, 'detections/kubernetes');
    const text = seam(['replay', AUDIT, '--rules', k8s, '--format', 'text', '--dlq', join(dir, 'format-dlq.jsonl')]);
    expect(text.status).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ALERT [')).length).toBeGreaterThan(0);
    expect(lines.every((l) => l.startsWith('ALERT [') || l.startsWith('  alert id: ') || l.startsWith('  also matched: '))).toBe(true);
    // Each ALERT line is followed by its alert id, the id `seam hunt --alert` takes.
    const printed = lines.flatMap((l, i) => (l.startsWith('ALERT [') ? [lines[i + 1] ?? ''] : []));
    expect(printed.every((l) => /^ {2}alert id: [0-9a-f]{32}$/.test(l))).toBe(true);
    const json = seam(['replay', AUDIT, '--rules', k8s, '--dlq', join(dir, 'format-dlq.jsonl')]);
    const alerts = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; rule: { title: string }; folded_into?: string });
    // The same alerts: the text shows those not folded into another (ADR 0050), with the ids the JSON gives them.
    expect(lines.filter((l) => l.startsWith('ALERT [')).length).toBe(alerts.filter((a) => a.folded_into === undefined).length);
    expect(printed.map((l) => l.slice('  alert id: '.length))).toEqual(alerts.filter((a) => a.folded_into === undefined).map((a) => a.id));
  });

  it('says on stderr, in one line, which placeholders the rules use without values (review-soc L6), with --workers once', () => {
    const ph = join(dir, 'ph-rules');
    mkdirSync(ph, { recursive: true });
    writeFileSync(join(ph, 'allow.yml'), RULE.replace('{sel: {eventName: StopLogging}, condition: sel}', "{sel: {eventName: StopLogging}, ok: {userIdentity.arn|expand: '%site_admins%'}, condition: sel and not ok}"));
    const bare = seam(['replay', AUDIT, '--rules', ph, '--dlq', join(dir, 'ph-dlq.jsonl')]);
    expect(bare.status, bare.stderr).toBe(0);
    expect(bare.stderr.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_PLACEHOLDER'))).toEqual([expect.stringMatching(/^seam: SEAM_ERR_RULE_PLACEHOLDER: 1 placeholder has no configured values.*%site_admins% \(1 rule\)/)]);
    const workers = seam(['replay', AUDIT, '--rules', ph, '--workers', '2', '--dlq', join(dir, 'ph-dlq2.jsonl')]);
    expect(workers.status, workers.stderr).toBe(0);
    expect(workers.stderr.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_PLACEHOLDER'))).toHaveLength(1);
    writeFileSync(join(dir, 'ph.yml'), "site_admins: ['arn:aws:iam::111122223333:user/admin']\n");
    const set = seam(['replay', AUDIT, '--rules', ph, '--placeholders', join(dir, 'ph.yml'), '--dlq', join(dir, 'ph-dlq3.jsonl')]);
    expect(set.status, set.stderr).toBe(0);
    expect(set.stderr).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
  });

  it('without --rules says detection was not run, not alerts=0', () => {
    const r = seam(['replay', AUDIT, '--dlq', join(dir, 'no-rules-dlq.jsonl')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^replay: files=1 .* rejected=0 detection not run \(no --rules\) in /m);
    expect(r.stderr).not.toContain('alerts=');
  });

  it('refuses --out - when the alerts would go to stdout too, and says how to split them', () => {
    for (const extra of [[], ['--alerts-out', '-']]) {
      const r = seam(['replay', AUDIT, '--rules', 'detections', '--out', '-', ...extra, '--dlq', join(dir, 'stdout-dlq.jsonl')]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('--out - and the alerts would both go to stdout');
      expect(r.stderr).toContain('--alerts-out alerts.jsonl');
    }
    // Either one on stdout alone is fine: events on stdout, alerts in a file.
    const alerts = join(dir, 'split-alerts.jsonl');
    const ok = seam(['replay', AUDIT, '--rules', join(ROOT, 'detections/kubernetes'), '--out', '-', '--alerts-out', alerts, '--dlq', join(dir, 'split-dlq.jsonl')]);
    expect(ok.status).toBe(0);
    const events = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seam: { source: string } });
    expect(events).toHaveLength(11);
    expect(events.every((e) => e.seam.source === 'k8s_audit')).toBe(true);
  });

  it('says "looks like a rule file; use one --rules per path" for a YAML input or a folder of only YAML, before running anything', () => {
    const rules = join(dir, 'myrules');
    mkdirSync(join(rules, 'nested'), { recursive: true });
    const rule = RULE;
    writeFileSync(join(rules, 'one.yml'), rule);
    writeFileSync(join(rules, 'nested', 'two.yaml'), rule);
    // The documented mistake: a second path after one --rules is read as an input.
    for (const input of [rules, join(rules, 'one.yml')]) {
      const dlq = join(dir, 'rules-as-input-dlq.jsonl');
      const r = seam(['replay', AUDIT, '--rules', join(ROOT, 'detections/kubernetes'), input, '--dlq', dlq]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`input ${input} `);
      expect(r.stderr).toContain('looks like a rule file');
      expect(r.stderr).toContain(`use one --rules per path (--rules ${join(ROOT, 'detections/kubernetes')} --rules ${input})`);
      expect(r.stderr).not.toContain('replay: files=');
    }
    // A folder with records beside YAML is an input folder: read (its YAML lines are dead letters, as any unreadable record).
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'a.yml'), rule);
    writeFileSync(join(mixed, 'b.jsonl'), `${JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'x1', stage: 'ResponseComplete', verb: 'get', user: { username: 'u' }, requestReceivedTimestamp: '2024-01-01T00:00:00Z', stageTimestamp: '2024-01-01T00:00:00Z' })}\n`);
    const m = seam(['replay', mixed, '--dlq', join(dir, 'mixed-dlq.jsonl')]);
    expect(m.status).toBe(0);
    expect(m.stderr).toMatch(/replay: files=2 .* normalized=1 /);
  });

  it('exits 0 with rejected records by default, and 1 with --strict; --strict with nothing rejected exits 0', () => {
    const bad = join(FIXTURES, 'bad/malformed.jsonl');
    const plain = seam(['replay', bad, '--dlq', join(dir, 'strict-dlq.jsonl')]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toMatch(/normalized=0 rejected=[1-9]/);
    const strict = seam(['replay', bad, '--strict', '--dlq', join(dir, 'strict-dlq.jsonl')]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/seam: --strict: \d+ of \d+ records rejected \(dead letters in .*strict-dlq\.jsonl\): exit 1/);
    const clean = seam(['replay', AUDIT, '--strict', '--dlq', join(dir, 'strict-clean-dlq.jsonl')]);
    expect(clean.status).toBe(0);
  });

  it('counts Kubernetes audit records that name no cluster and says how to name it, in one line; not with --cluster', () => {
    const hint = /^ {2}cluster: 11 Kubernetes audit records name no EKS cluster, so cross-plane detections cannot tie them to AWS activity; give --cluster NAME \(or cluster: in seam\.yml\)$/m;
    const dlq = join(dir, 'cluster-dlq.jsonl');
    const bare = seam(['replay', AUDIT, '--dlq', dlq]);
    expect(bare.stderr).toMatch(hint);
    expect(bare.stderr.match(/name no EKS cluster/g)).toHaveLength(1);
    // With detection on worker threads (counted where the records are normalized) and in an embedded run.
    const workers = seam(['replay', AUDIT, '--rules', tinyRules, '--workers', '2', '--alerts-out', join(dir, 'cluster-alerts.jsonl'), '--dlq', dlq]);
    expect(workers.status).toBe(0);
    expect(workers.stderr).toMatch(hint);
    const run = seam(['run', '--input', AUDIT, '--rules', tinyRules, '--state-dir', join(dir, 'cluster-run')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(hint);
    for (const named of [seam(['replay', AUDIT, '--cluster', 'prod-eks-01', '--dlq', dlq]), seam(['replay', AUDIT, '--cluster', 'prod-eks-01', '--rules', tinyRules, '--workers', '2', '--alerts-out', join(dir, 'cluster-alerts.jsonl'), '--dlq', dlq])]) {
      expect(named.status).toBe(0);
      expect(named.stderr).toMatch(/^replay: files=1 .* normalized=11 /m);
      expect(named.stderr).not.toContain('name no EKS cluster');
    }
  });

  it('warns once, with the count, when exec/attach/port-forward sessions appear only at ResponseComplete (their rules match ResponseStarted); not when the input has ResponseStarted', () => {
    // The demo's exec (alice's `kubectl exec ... cat .../token`), logged at both stages under one auditID, and a
    // port-forward and an attach shaped from it; a refused exec (403, logged at ResponseComplete only) is no session.
    const demo = readFileSync(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"subresource":"exec"') && l.includes('"kind":"Event"'));
    const [started, complete] = demo.map((l) => JSON.parse(l) as Record<string, unknown> & { objectRef: Record<string, unknown> });
    expect([started?.stage, complete?.stage]).toEqual(['ResponseStarted', 'ResponseComplete']);
    const like = (r: Record<string, unknown> & { objectRef: Record<string, unknown> }, auditID: string, sub: string): Record<string, unknown> => ({ ...r, auditID, requestURI: `/api/v1/namespaces/payments/pods/api-7c9d8f6b5-x2k4q/${sub}`, objectRef: { ...r.objectRef, subresource: sub } });
    const refused = { ...complete, auditID: 'refused-exec', responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' } };
    const completes = [complete!, like(complete!, 'pf-1', 'portforward'), like(complete!, 'attach-1', 'attach'), refused];
    const starts = [started!, like(started!, 'pf-1', 'portforward'), like(started!, 'attach-1', 'attach')];
    const onlyComplete = join(dir, 'sessions-complete-only.jsonl');
    writeFileSync(onlyComplete, completes.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const full = join(dir, 'sessions-both-stages.jsonl');
    writeFileSync(full, [...starts, ...completes].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const rules = ['--rules', join(ROOT, 'detections/kubernetes/k8s_exec_command_reading_service_account_token.yml'), '--rules', join(ROOT, 'detections/kubernetes/k8s_port_forward_to_pod.yml')];
    const warning = /^ {2}warning: 3 exec\/attach\/port-forward sessions appear only at stage ResponseComplete, none at ResponseStarted: the audit pipeline or policy drops ResponseStarted, where the rules for these sessions match, so they cannot fire on this input /m;
    const dlq = join(dir, 'sessions-dlq.jsonl');
    const alertsOf = (f: string): string[] => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { rule: { title: string } }).rule.title).sort();
    const alerts = join(dir, 'sessions-alerts.jsonl');
    const bare = seam(['replay', onlyComplete, ...rules, '--alerts-out', alerts, '--dlq', dlq]);
    expect(bare.status).toBe(0);
    expect(bare.stderr).toMatch(warning);
    expect(bare.stderr.match(/ResponseComplete, none at ResponseStarted/g)).toHaveLength(1);
    expect(alertsOf(alerts)).toEqual([]);
    // Counted where the records are normalized: on worker threads, and in an embedded run's summary.
    const workers = seam(['replay', onlyComplete, ...rules, '--workers', '2', '--alerts-out', join(dir, 'sessions-workers-alerts.jsonl'), '--dlq', dlq]);
    expect(workers.status).toBe(0);
    expect(workers.stderr).toMatch(warning);
    const run = seam(['run', '--input', onlyComplete, ...rules, '--state-dir', join(dir, 'sessions-run')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(warning);
    // With the ResponseStarted records the rules fire, once a session, and nothing is said.
    const fullAlerts = join(dir, 'sessions-both-alerts.jsonl');
    const ok = seam(['replay', full, ...rules, '--alerts-out', fullAlerts, '--dlq', dlq]);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/normalized=7 rejected=0 alerts=2 /);
    expect(ok.stderr).not.toContain('none at ResponseStarted');
    expect(alertsOf(fullAlerts)).toEqual(['Exec Command Reading Service Account Token', 'Port Forward To Pod']);
  });

  it('keeps a CloudTrail record with no eventTime, marks it seam.time_missing and warns in the summary', () => {
    const record = { eventVersion: '1.08', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', awsRegion: 'us-east-1', eventID: 'no-time-1', recipientAccountId: '111122223333', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a', accountId: '111122223333' } };
    const input = join(dir, 'no-time.jsonl');
    writeFileSync(input, `${JSON.stringify(record)}\n${JSON.stringify({ ...record, eventID: 'timed-1', eventTime: '2024-11-05T14:00:00Z' })}\n`);
    const out = join(dir, 'no-time-events.jsonl');
    const r = seam(['replay', input, '--out', out, '--dlq', join(dir, 'no-time-dlq.jsonl')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/normalized=2 rejected=0 /);
    expect(r.stderr).toMatch(/^ {2}warning: 1 records carry no event time \(CloudTrail without eventTime\): kept, with @timestamp = when Seam read them and seam\.time_missing: true$/m);
    const [untimed, timed] = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { '@timestamp': string; seam: { time_missing?: boolean; ingest: { received_at: string } } });
    expect(untimed!.seam.time_missing).toBe(true);
    expect(untimed!['@timestamp']).toBe(untimed!.seam.ingest.received_at);
    expect(timed!.seam.time_missing).toBeUndefined();
    expect(timed!['@timestamp']).toBe('2024-11-05T14:00:00Z');
  });

  it('skips and counts the CloudTrail digest files of a trail bucket copy, a large one too, and reads its log files', () => {
    const bucket = join(dir, 'trail-bucket');
    const put = (key: string, doc: unknown): void => {
      const file = join(bucket, 'AWSLogs/111122223333', key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, gzipSync(JSON.stringify(doc)));
    };
    const record = (id: string, t: string) => ({ eventVersion: '1.09', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', eventTime: t, eventID: id, awsRegion: 'us-east-1', recipientAccountId: '111122223333', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a', accountId: '111122223333' } });
    put('CloudTrail/us-east-1/2024/11/05/111122223333_CloudTrail_us-east-1_20241105T1305Z_a.json.gz', { Records: [record('e1', '2024-11-05T13:01:00Z'), record('e2', '2024-11-05T13:02:00Z')] });
    const digest = (end: string, logFiles: unknown[]) => ({
      awsAccountId: '111122223333',
      digestStartTime: '2024-11-05T13:00:00Z',
      digestEndTime: end,
      digestS3Bucket: 'trail-bucket',
      digestS3Object: `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/11/05/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_${end}.json.gz`,
      digestPublicKeyFingerprint: '0123456789abcdef0123456789abcdef',
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: '2024-11-05T13:02:00Z',
      oldestEventTime: '2024-11-05T13:01:00Z',
      previousDigestS3Bucket: null,
      previousDigestS3Object: null,
      previousDigestHashValue: null,
      previousDigestHashAlgorithm: null,
      previousDigestSignature: null,
      logFiles,
    });
    const logFile = (i: number) => ({ s3Bucket: 'trail-bucket', s3Object: `AWSLogs/111122223333/CloudTrail/us-east-1/2024/11/05/f${i}.json.gz`, hashValue: 'ab'.repeat(32), hashAlgorithm: 'SHA-256', newestEventTime: '2024-11-05T13:02:00Z', oldestEventTime: '2024-11-05T13:01:00Z' });
    put('CloudTrail-Digest/us-east-1/2024/11/05/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20241105T140000Z.json.gz', digest('20241105T140000Z', [logFile(0)]));
    // No log file delivered that hour: an empty list.
    put('CloudTrail-Digest/us-east-1/2024/11/05/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20241105T150000Z.json.gz', digest('20241105T150000Z', []));
    // A busy hour: a digest larger than --max-record-bytes is still known for one.
    put('CloudTrail-Digest/us-east-1/2024/11/05/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20241105T160000Z.json.gz', digest('20241105T160000Z', Array.from({ length: 40 }, (_, i) => logFile(i))));
    const dlq = join(dir, 'digest-dlq.jsonl');
    const r = seam(['replay', bucket, '--max-record-bytes', '4096', '--strict', '--dlq', dlq]);
    expect(r.stderr).toMatch(/^replay: files=4 .* records=2 normalized=2 rejected=0 /m);
    expect(r.stderr).toMatch(/^ {2}skipped: 3 CloudTrail digest files \(log file validation: hashes and signatures, no events\)$/m);
    expect(r.status).toBe(0);
    expect(readFileSync(dlq, 'utf8')).toBe('');
  });

  it('gives one folder per plane (the demo split by source) the alerts of the one interleaved file, none late, whatever the folders are named; seam run --input too', () => {
    // Read one file after another, the second plane's records came an hour behind the watermark: late, and the
    // cross-plane detections lost (review newuser2 H1). The input files are merged by event time.
    const planes = demoPlanes();
    expect([...planes.keys()].sort()).toEqual(['cloudtrail', 'guardduty', 'k8s_audit', 'runtime']);
    const env = { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: join(dir, 'planes-cache') };
    const flags = ['--rules', 'detections', '--placeholders', 'deploy/config/placeholders.yml', '--cluster', 'prod-eks-01'];
    const replay = (input: string, name: string, command: 'replay' | 'run' = 'replay'): { ids: string[]; late: number; stderr: string } => {
      const out = join(dir, name);
      const args =
        command === 'replay'
          ? ['replay', input, ...flags, '--alerts-out', `${out}.jsonl`, '--dlq', `${out}-dlq.jsonl`]
          : ['run', '--input', input, ...flags, '--state-dir', out];
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const alerts = readFileSync(command === 'replay' ? `${out}.jsonl` : join(out, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; late?: boolean });
      return { ids: alerts.map((a) => a.id).sort(), late: alerts.filter((a) => a.late === true).length, stderr: r.stderr + r.stdout };
    };
    const one = replay(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'planes-one');
    expect(one.ids).toHaveLength(35);
    expect(one.late).toBe(0);
    // Audit first and CloudTrail first (name order decides which file is read first when files are read in turn).
    for (const order of [['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a']]) {
      const root = join(dir, `planes-${order.join('')}`);
      [...planes.entries()].forEach(([source, lines], i) => {
        mkdirSync(join(root, `${order[i]}-${source}`), { recursive: true });
        writeFileSync(join(root, `${order[i]}-${source}`, `${source}.jsonl`), lines.join('\n') + '\n');
      });
      const split = replay(root, `planes-${order.join('')}-alerts`);
      expect(split.stderr).toMatch(/^replay: files=4 .* records=465 normalized=465 rejected=0 alerts=35 /m);
      expect(split.ids).toEqual(one.ids);
      expect(split.late).toBe(0);
      expect(split.stderr).not.toContain('behind');
      if (order[0] === 'd') {
        const run = replay(root, 'planes-run', 'run');
        expect(run.ids).toEqual(one.ids);
        expect(run.late).toBe(0);
      }
    }
  }, 180_000);

  it('warns once, with the count and what to do, when events reach detection behind the watermark; not when the allowed lateness covers them', () => {
    // One file holding the demo's planes one after another: the file's own order is kept, so CloudTrail comes late.
    const planes = demoPlanes();
    const file = join(dir, 'planes-in-turn.jsonl');
    writeFileSync(file, ['k8s_audit', 'cloudtrail', 'runtime', 'guardduty'].flatMap((p) => planes.get(p)!).join('\n') + '\n');
    const config = join(dir, 'lateness-day.yml');
    writeFileSync(config, 'rules:\n  allowedLatenessMs: 86400000\n');
    const env = { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: join(dir, 'planes-cache') };
    const flags = ['--rules', 'detections', '--placeholders', 'deploy/config/placeholders.yml', '--cluster', 'prod-eks-01', '--dlq', join(dir, 'in-turn-dlq.jsonl')];
    const late = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', file, ...flags, '--alerts-out', join(dir, 'in-turn.jsonl')], { cwd: ROOT, encoding: 'utf8', env });
    expect(late.status).toBe(0);
    const warnings = late.stderr.split('\n').filter((l) => l.includes('behind the newest event time'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^ {2}warning: \d+ events reached detection more than 60s behind the newest event time \(the allowed lateness\): alerts they complete are marked late: true or lost \(cross-plane detections, correlations\); sort or interleave the records by event time \(input files are merged by time, each file read in its own order\) or raise rules\.allowedLatenessMs in seam\.yml$/,
    );
    const lateAlerts = readFileSync(join(dir, 'in-turn.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { late?: boolean });
    expect(lateAlerts.length).toBeLessThan(35);
    expect(lateAlerts.some((a) => a.late === true)).toBe(true);
    const covered = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', file, '--config', config, ...flags, '--alerts-out', join(dir, 'in-turn-day.jsonl')], { cwd: ROOT, encoding: 'utf8', env });
    expect(covered.status).toBe(0);
    expect(covered.stderr).toMatch(/^replay: files=1 .* alerts=35 /m);
    expect(covered.stderr).not.toContain('behind the newest event time');
  }, 120_000);
});
