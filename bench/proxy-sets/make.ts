/**
 * Rebuilds the bench:proxies sets that no plain `fetch` snapshot holds as bench/proxies.ts reads them: files a
 * repository removed or changed (taken from the `fetch` mirror's history at a pinned commit) and repositories with no
 * snapshot at all (files the user copied out of the search index with its `read_file` tool). Each set becomes a
 * working-tree copy at OUT/OWNER+NAME/ holding only the files its loader in bench/lib/proxy-sets.ts reads; run the
 * bench with `--data /work/.mirror --data OUT`. No third-party record or rule is in this file: it copies and
 * reshapes what the user obtained. Where each set comes from, and which files to copy for the index sets: README.md.
 *
 *   node bin/tsx-run.mjs bench/proxy-sets/make.ts [--mirror DIR] [--in DIR] [--out DIR] SET... | all
 *   node bin/tsx-run.mjs bench/proxy-sets/make.ts --list SET...     the files to copy from the search index
 *
 *   --mirror DIR  the `fetch` mirrors (DIR/OWNER+NAME/repo, bare git directories); default /work/.mirror
 *   --in DIR      the search-index copies (DIR/OWNER+NAME/PATH, each file's text as read_file gave it);
 *                 default /work/proxy-data/index
 *   --out DIR     where the sets go (DIR/OWNER+NAME/...); default /work/proxy-data. A set's folder is replaced.
 *
 * Exit status 1 when a set could not be built (its input missing or not what the loader needs); the others are
 * still built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type PyValue } from '../lib/python-literal.ts';
import { h3llka1serExpectations } from './transform.ts';

const argv = process.argv.slice(2);
const option = (f: string, dflt: string): string => {
  const i = argv.indexOf(f);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const MIRROR = resolve(option('--mirror', '/work/.mirror'));
const IN = resolve(option('--in', '/work/proxy-data/index'));
const OUT = resolve(option('--out', '/work/proxy-data'));
const LIST = argv.includes('--list');
const names = argv.filter((a, i) => !a.startsWith('--') && !['--mirror', '--in', '--out'].includes(argv[i - 1] ?? ''));
const say = (s: string): void => void process.stdout.write(s + '\n');

type Obj = { [k: string]: PyValue };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A file to write into a set's copy: its path in the repository and its text. */
interface OutFile {
  path: string;
  text: string;
}

/** One set: the repository it is a copy of, and how its files are made. */
interface SetBuilder {
  slug: string;
  /** Search-index sets: the repository paths the user copies with read_file into IN/OWNER+NAME/. */
  indexFiles?: string[];
  build(): OutFile[];
}

const dirOf = (slug: string): string => slug.replace('/', '+');

/** Reads one fetch mirror's git history. */
function mirror(slug: string): { show(commit: string, path: string): string; ls(commit: string, dir: string): string[] } {
  const gitDir = join(MIRROR, dirOf(slug), 'repo');
  if (!existsSync(join(gitDir, 'objects'))) throw new Error(`no fetch mirror of ${slug} at ${gitDir} (fetch github:${slug})`);
  const git = (...args: string[]): string => {
    const r = spawnSync('git', ['--git-dir', gitDir, ...args], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${gitDir}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  return {
    show: (commit, path) => git('show', `${commit}:${path}`),
    ls: (commit, dir) => git('ls-tree', '-r', '--name-only', commit, '--', dir.replace(/\/?$/, '/')).split('\n').filter(Boolean).sort(),
  };
}

/** Every file under `dir` at `commit` (filtered), as it was. */
function fromHistory(slug: string, commit: string, dir: string, keep: (p: string) => boolean = () => true): OutFile[] {
  const m = mirror(slug);
  const paths = m.ls(commit, dir).filter(keep);
  if (paths.length === 0) throw new Error(`${slug}@${commit.slice(0, 12)} has no files under ${dir}`);
  return paths.map((path) => ({ path, text: m.show(commit, path) }));
}

/** The text of a file the user copied out of the search index. */
function fromIndex(slug: string, path: string): string {
  const file = join(IN, dirOf(slug), path);
  if (!existsSync(file)) throw new Error(`missing ${file} (read_file repo=${slug} path=${path}; see bench/proxy-sets/README.md)`);
  return readFileSync(file, 'utf8');
}

/** The user's copies of `paths`, each checked to be one JSON object (a copy cut short by read_file's paging fails here). */
function jsonCopies(slug: string, paths: string[]): OutFile[] {
  return paths.map((path) => {
    const text = fromIndex(slug, path);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new Error(`${slug} ${path} is not JSON (${(e as Error).message}): an incomplete copy?`);
    }
    if (!isObj(doc) && !Array.isArray(doc)) throw new Error(`${slug} ${path}: not a JSON object or array`);
    return { path, text };
  });
}

const NORDICSNOW_RULES: [string, string[]][] = [
  ['ACCESS-001', ['positive', 'negative']],
  ['ACCESS-002', ['positive', 'negative']],
  ['ACCESS-003', ['positive', 'negative']],
  ['ACCESS-004', ['positive', 'negative']],
  ['ACCESS-005', ['positive-ec2', 'positive-s3', 'negative']],
  ['ENCRYPT-001', ['positive', 'negative']],
  ['ENCRYPT-002', ['positive', 'negative']],
  ['ENCRYPT-003', ['positive', 'negative']],
  ['EXFIL-001', ['positive', 'negative']],
  ['EXFIL-002', ['positive', 'negative']],
  ['EXFIL-003', ['positive', 'negative']],
  ['EXFIL-004', ['positive', 'negative']],
  ['EXFIL-005', ['positive', 'negative']],
  ['IAM-001', ['positive', 'negative']],
  ['IAM-002', ['positive', 'negative']],
  ['IAM-003', ['positive', 'negative']],
  ['IAM-004', ['positive', 'negative']],
  ['IAM-005', ['positive', 'negative']],
  ['LOG-001', ['positive', 'negative']],
  ['LOG-002', ['positive', 'negative']],
  ['LOG-003', ['positive', 'negative']],
  // LOG-004's positive is its regression test's event.json; pattern*.json are EventBridge patterns, not events.
  ['LOG-004', ['event', 'negative']],
  ['SG-001', ['positive', 'negative']],
  ['SG-002', ['positive', 'negative']],
  ['SG-003', ['positive', 'negative']],
];
const NORDICSNOW_FILES = NORDICSNOW_RULES.flatMap(([rule, files]) => files.map((f) => `tests/fixtures/${rule}/${f}.json`));

const JFRANCE_FILES = ['access-denied-sequence', 'access-key-created', 'cloudtrail-configuration-change', 'privileged-policy-attached', 'root-account-activity'].map(
  (f) => `evidence/synthetic/${f}.json`,
);

const SCANNER_FILES = ['aws_s3_bucket_acl_made_public', 'aws_s3_public_access_block_removed'].map((r) => `rules/${r}.yml`);

/** Scanner rule files, each checked to be a rule with inline tests (the loader's only input). */
function scannerRules(slug: string, paths: string[]): OutFile[] {
  return paths.map((path) => {
    const text = fromIndex(slug, path);
    const doc = parseYaml(text) as unknown;
    if (!isObj(doc) || !Array.isArray(doc.tests) || doc.tests.length === 0) throw new Error(`${slug} ${path}: not a rule with tests (an incomplete copy?)`);
    return { path, text };
  });
}

/** alpha0490 tests/test_cases.yaml, checked to be the list of rule cases the loader reads. */
function alpha0490Cases(text: string): OutFile[] {
  const doc = parseYaml(text) as unknown;
  if (!Array.isArray(doc) || !doc.every((c) => isObj(c) && typeof c.rule === 'string' && isObj(c.positive) && isObj(c.negative))) {
    throw new Error('alpha0490 tests/test_cases.yaml: not a list of {rule, positive, negative} (an incomplete copy?)');
  }
  return [{ path: 'tests/test_cases.yaml', text }];
}

/** Moussa-Farag's Event History export, checked to be JSON lines of CloudTrail records (a copy cut short fails here). */
function moussaFaragEvents(slug: string, path: string): OutFile[] {
  const text = fromIndex(slug, path);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((l, i) => {
    let r: unknown;
    try {
      r = JSON.parse(l);
    } catch (e) {
      throw new Error(`${slug} ${path} line ${i + 1} is not JSON (${(e as Error).message}): an incomplete copy?`);
    }
    if (!isObj(r) || typeof r.eventSource !== 'string' || typeof r.eventName !== 'string') throw new Error(`${slug} ${path} line ${i + 1}: not a CloudTrail record`);
  });
  if (lines.length === 0) throw new Error(`${slug} ${path}: no records`);
  return [{ path, text }];
}

const SETS: Record<string, SetBuilder> = {
  // wazuh removed ruleset/testing from main in b9d487f7c7; its parent is the last commit with the CloudTrail cases.
  wazuh: {
    slug: 'wazuh/wazuh',
    build: () => fromHistory('wazuh/wazuh', '781c5c462c30264980944c744ad92360a25860f9', 'ruleset/testing/tests', (p) => p.endsWith('/aws_cloudtrail.ini')),
  },
  // The k8s audit regression tests as of 2583ea9bfdb2 (2023-08-02), before Falco moved them to another repository.
  falco: {
    slug: 'falcosecurity/falco',
    build: () => [
      ...fromHistory('falcosecurity/falco', '2583ea9bfdb2d6acdfbeedb094ea26f4866bb02e', 'test', (p) => p === 'test/falco_k8s_audit_tests.yaml'),
      ...fromHistory('falcosecurity/falco', '2583ea9bfdb2d6acdfbeedb094ea26f4866bb02e', 'test/trace_files/k8s_audit', (p) => p.endsWith('.json')),
    ],
  },
  // The privesc lab's Sumo Logic page as first committed whole (3bf554a; the next commit cut the records down to a
  // few fields without eventSource); the rce_web_app records as the repository's HEAD has them.
  'cloudgoat-sumo': {
    slug: 'Mohammedalkahala/cloudgoat-sumo-detection-lab',
    build: () => [
      ...fromHistory('Mohammedalkahala/cloudgoat-sumo-detection-lab', '3bf554a0fcaac478c7cdc18c4a8fea6c6887dcf0', 'iam_privesc_by_attachment/logs', (p) => p.endsWith('.json')),
      ...fromHistory('Mohammedalkahala/cloudgoat-sumo-detection-lab', '682f1c3546264b1ba3b51d7b051075fd3e8394e3', 'rce_web_app/logs', (p) => p.endsWith('.json')),
    ],
  },
  // The evidence is on the develop branch (c70579a16b2c), not on main (the snapshot's HEAD).
  hhieon: {
    slug: 'hhieon/cloud-incident-log-analysis',
    build: () => fromHistory('hhieon/cloud-incident-log-analysis', 'c70579a16b2c64bc111c659c0631ec9e1e4e7d79', 'evidence'),
  },
  nordicsnow: {
    slug: 'nordicsnow1/aws-cloudtrail-detection-rules',
    indexFiles: NORDICSNOW_FILES,
    build: () => jsonCopies('nordicsnow1/aws-cloudtrail-detection-rules', NORDICSNOW_FILES),
  },
  jfrance: {
    slug: 'jfrance167/aws-cloudtrail-iam-detection-lab',
    indexFiles: JFRANCE_FILES,
    build: () => jsonCopies('jfrance167/aws-cloudtrail-iam-detection-lab', JFRANCE_FILES),
  },
  h3llka1ser: {
    slug: 'H3llKa1ser/AWS-Detection-Engineering-Lab',
    indexFiles: ['tests/sigma/test_sigma.py'],
    build: () => [
      {
        path: 'tests/sigma/expectations.json',
        text: JSON.stringify(h3llka1serExpectations(fromIndex('H3llKa1ser/AWS-Detection-Engineering-Lab', 'tests/sigma/test_sigma.py')), null, 1) + '\n',
      },
    ],
  },
  // Two rules whose tests are newer than the 2024 fetch snapshot; bench:proxies reads them over the snapshot's copy.
  scanner: {
    slug: 'scanner-inc/detection-rules-aws-cloudtrail',
    indexFiles: SCANNER_FILES,
    build: () => scannerRules('scanner-inc/detection-rules-aws-cloudtrail', SCANNER_FILES),
  },
  alpha0490: {
    slug: 'alpha0490/aws-cloudtrail-attack-detections',
    indexFiles: ['tests/test_cases.yaml'],
    build: () => alpha0490Cases(fromIndex('alpha0490/aws-cloudtrail-attack-detections', 'tests/test_cases.yaml')),
  },
  // No fetch snapshot: the attacker session's records (CloudGoat iam_privesc_by_rollback), one JSON record a line.
  'moussa-farag': {
    slug: 'Moussa-Farag/aws-iam-privesc-detection',
    indexFiles: ['evidence/07-cloudtrail-events.ndjson'],
    build: () => moussaFaragEvents('Moussa-Farag/aws-iam-privesc-detection', 'evidence/07-cloudtrail-events.ndjson'),
  },
};

const wanted = names.includes('all') ? Object.keys(SETS) : names;
const unknown = wanted.filter((n) => SETS[n] === undefined);
if (wanted.length === 0 || unknown.length > 0) {
  process.stderr.write(`proxy-sets: ${unknown.length ? `unknown set ${unknown.join(', ')}; ` : ''}name one or more of: ${Object.keys(SETS).join(' ')} (or all)\n`);
  process.exit(2);
}

let failed = 0;
for (const name of wanted) {
  const set = SETS[name]!;
  if (LIST) {
    for (const p of set.indexFiles ?? []) say(`${set.slug} ${p} -> ${join(IN, dirOf(set.slug), p)}`);
    if (set.indexFiles === undefined) say(`${set.slug}: from the fetch mirror (${join(MIRROR, dirOf(set.slug), 'repo')}), nothing to copy`);
    continue;
  }
  let files: OutFile[];
  try {
    files = set.build();
  } catch (e) {
    failed++;
    say(`proxy-sets: ${name} not built: ${(e as Error).message}`);
    continue;
  }
  const root = join(OUT, dirOf(set.slug));
  rmSync(root, { recursive: true, force: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.text);
  }
  say(`proxy-sets: ${name} -> ${root} (${files.length} file${files.length === 1 ? '' : 's'})`);
}
process.exit(failed > 0 ? 1 : 0);
