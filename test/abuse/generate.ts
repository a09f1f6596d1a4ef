// Hostile input generators for the abuse suite (npm run test:abuse): records, rule files and HTTP
// requests, deterministic (seeded), built here or as mutations of this repository's own fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aliasBomb, createAccessKey, deepRecord, IMPOSSIBLE_TIMES, plainRule, redosRule, secretRecords } from './hostile.ts';
import { seededRandom } from '../helpers/random.ts';

const ROOT = join(import.meta.dirname, '../..');

export const rng = seededRandom;

const lines = (p: string): string[] => readFileSync(join(ROOT, p), 'utf8').split('\n').filter((l) => l.trim() !== '');

/** The repository's valid records (demo dataset and fixtures): the base that mutations start from. */
export function baseRecords(): string[] {
  return [
    ...lines('deploy/demo/eks-demo.jsonl'),
    ...lines('test/fixtures/k8s-audit/eks-audit.jsonl'),
    ...lines('test/fixtures/runtime/falco.jsonl'),
    ...lines('test/fixtures/runtime/native.jsonl'),
    ...lines('test/fixtures/guardduty/findings-rest.jsonl'),
  ];
}

const POLLUTION = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'];
const JUNK_VALUES: unknown[] = [null, true, 0, -1, 1e308, -0, '', 'x'.repeat(1000), [], {}, [[[]]], { a: { b: { c: {} } } }, '\u0000', '\ud800', 'é'.repeat(50), '2024-13-45T99:99:99Z'];

function mutateValue(r: () => number, v: unknown, depth: number): unknown {
  if (depth > 6) return v;
  if (typeof v === 'object' && v !== null) {
    if (Array.isArray(v)) return v.map((x) => (r() < 0.1 ? JUNK_VALUES[Math.floor(r() * JUNK_VALUES.length)] : mutateValue(r, x, depth + 1)));
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = r();
      if (p < 0.05) continue; // drop a field
      if (p < 0.12) o[k] = JUNK_VALUES[Math.floor(r() * JUNK_VALUES.length)];
      else o[k] = mutateValue(r, x, depth + 1);
    }
    if (r() < 0.1) o[POLLUTION[Math.floor(r() * POLLUTION.length)]!] = { polluted: true, isAdmin: true };
    return o;
  }
  if (typeof v === 'string' && r() < 0.05) return v + '\u0000\u202e';
  return v;
}

export interface HostileRecord {
  text: string;
  /** True when a record is valid as written (it must come out as an event). */
  valid: boolean;
  class: string;
}

/**
 * `n` hostile records of every class issue 11 names, interleaved with valid ones (so a stall shows as
 * valid records that never come out): impossible times, deep nesting, prototype-pollution keys, junk
 * types, invalid UTF-8, huge strings, truncation, garbage, and mutations of the fixtures. Each valid
 * record gets its own ids (`-a<k>`), so every one is counted once.
 */
export function hostileRecords(n: number, seed = 11): HostileRecord[] {
  const r = rng(seed);
  const base = baseRecords();
  const out: HostileRecord[] = [];
  const vary = (text: string, k: number): string => {
    const o = JSON.parse(text) as Record<string, unknown>;
    for (const f of ['eventID', 'auditID', 'uuid', 'id', 'Id']) if (typeof o[f] === 'string') o[f] = `${o[f] as string}-a${k}`;
    return JSON.stringify(o);
  };
  for (let i = 0; out.length < n; i++) {
    const c = i % 16;
    const t = base[i % base.length]!;
    switch (c) {
      case 0:
      case 1:
      case 2:
        out.push({ text: vary(t, i), valid: true, class: 'valid' });
        break;
      case 3:
        out.push({ text: createAccessKey(IMPOSSIBLE_TIMES[i % IMPOSSIBLE_TIMES.length]!, `imp-${i}`), valid: false, class: 'impossible-time' });
        break;
      case 4:
        out.push({ text: deepRecord(129 + ((i * 37) % 3000), `deep-${i}`), valid: false, class: 'deep' });
        break;
      case 5: {
        const o = JSON.parse(vary(t, i)) as Record<string, unknown>;
        out.push({ text: JSON.stringify(mutateValue(r, o, 0)), valid: false, class: 'mutation' });
        break;
      }
      case 6:
        out.push({ text: `{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"eventVersion":"1.08","eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventID":"proto-${i}","recipientAccountId":"111122223333"}`, valid: true, class: 'pollution' });
        break;
      case 7:
        out.push({ text: t.slice(0, Math.max(1, Math.floor(r() * t.length))), valid: false, class: 'truncated' });
        break;
      case 8: {
        // Invalid UTF-8 turned into text as a reader would see it (replacement characters), and control bytes.
        const b = Buffer.from(vary(t, i));
        for (let k = 0; k < 4; k++) b[Math.floor(r() * b.length)] = [0xff, 0xc3, 0x00, 0x80][k]!;
        out.push({ text: b.toString('utf8').replace(/\n/g, ' '), valid: false, class: 'bytes' });
        break;
      }
      case 9:
        out.push({ text: JSON.stringify({ eventVersion: '1.08', eventTime: 2e15 + i, eventSource: 7, eventName: ['x'], eventID: { id: i }, recipientAccountId: null, userIdentity: 'root' }), valid: false, class: 'types' });
        break;
      case 10:
        out.push({ text: ['', 'null', '[]', '"x"', '{', '}', '{}', 'NaN', '\u0000\u0000', '[[[[[[', ']]]]', '{"a":', 'true'][i % 13]!, valid: false, class: 'garbage' });
        break;
      case 11: {
        const o = JSON.parse(vary(t, i)) as Record<string, unknown>;
        o.pad = 'A'.repeat(1000 + Math.floor(r() * 8_000));
        out.push({ text: JSON.stringify(o), valid: true, class: 'large' });
        break;
      }
      case 12:
        out.push({ text: `{"eventVersion":"1.08","eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventID":"arr-${i}","recipientAccountId":"111122223333","requestParameters":[${'['.repeat(150)}${']'.repeat(150)}]}`, valid: false, class: 'deep-array' });
        break;
      case 13: {
        // Times an hour or a year ahead of the rest: kept, flagged, never a crash.
        const o = JSON.parse(createAccessKey(new Date(Date.UTC(2024, 4, 1, 12) + (i % 2 === 0 ? 3_600_000 : 365 * 86_400_000)).toISOString(), `ahead-${i}`)) as Record<string, unknown>;
        out.push({ text: JSON.stringify(o), valid: true, class: 'skewed' });
        break;
      }
      case 14:
        out.push({ text: `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"bad-${i}","stage":"ResponseComplete","verb":"get","stageTimestamp":"${IMPOSSIBLE_TIMES[i % IMPOSSIBLE_TIMES.length]}","requestReceivedTimestamp":"${IMPOSSIBLE_TIMES[(i + 1) % IMPOSSIBLE_TIMES.length]}","user":{"username":"x"}}`, valid: false, class: 'impossible-audit-time' });
        break;
      default:
        out.push({ text: vary(t, i), valid: true, class: 'valid' });
    }
  }
  return out;
}

/** Records with planted secrets (finding 4), `copies` times with distinct ids. */
export function plantedSecrets(): { records: string[]; secrets: string[] } {
  const { valid, rejects, secrets } = secretRecords();
  return { records: [...valid, ...rejects], secrets };
}

/** Hostile rule files (name → text) next to one good rule (`good_rule`), and the good rule's id. */
export function hostileRules(n: number, seed = 3): { files: Record<string, string>; goodId: string } {
  const r = rng(seed);
  const goodId = '5c1d0a5e-0000-4000-8000-0000000000ff';
  const files: Record<string, string> = { 'zz-good.yml': plainRule(goodId, 'good_rule') };
  const redos = ['(a+)+$', '(\\w+\\s?)+$', '(a|aa)*b', '(.*,)*x', '([a-z]+)*=', '(x+x+)+y', '(\\d*)*\\.', '((a|b)+)+c'];
  for (let i = 0; i < n; i++) {
    const id = `5c1d0a5e-0000-4000-8000-${String(i).padStart(12, '0')}`;
    switch (i % 10) {
      case 0:
        files[`r${i}.yml`] = redosRule(id).replace('(a+)+$', redos[i % redos.length]!.replace(/'/g, "''"));
        break;
      case 1:
        files[`r${i}.yml`] = aliasBomb(6 + (i % 6), 6 + (i % 7));
        break;
      case 2:
        files[`r${i}.yml`] = plainRule(id, `expand_${i}`).replace('eventName: CreateAccessKey', `userAgent|expand: '${'%many%-'.repeat(5 + (i % 5))}'`);
        break;
      case 3:
        files[`a${i}.yml`] = plainRule(goodId, `impostor_${i}`); // duplicate of the good rule's id
        break;
      case 4:
        files[`r${i}.yml`] = `title: Long\nid: ${id}\ncorrelation:\n  type: event_count\n  rules: [good_rule]\n  group-by: [eventID]\n  timespan: ${i % 20 === 4 ? '99999w' : `${'9'.repeat(400)}s`}\n  condition: { gte: 2 }\n`;
        break;
      case 5:
        files[`r${i}.yml`] = `${'- '.repeat(2000 + Math.floor(r() * 3000))}x\n`;
        break;
      case 6:
        files[`r${i}.yml`] = `title: Junk\nid: ${id}\ndetection: { sel: { a: ${'['.repeat(500)}${']'.repeat(500)} }, condition: ${'('.repeat(400)}sel${')'.repeat(400)} }\n`;
        break;
      case 7:
        files[`r${i}.yml`] = Buffer.from(Array.from({ length: 2000 }, () => Math.floor(r() * 256))).toString('latin1');
        break;
      case 8:
        files[`r${i}.yml`] = `title: Filter ${i}\nid: ${id}\nlogsource: { product: aws, service: cloudtrail }\nfilter:\n  rules: [good_rule]\n  selection: { eventSource: iam.amazonaws.com }\n  condition: selection\n`;
        break;
      default:
        files[`r${i}.yml`] = `title: Anchors\nid: ${id}\nx: &x { a: 1 }\ndetection:\n  selection: { <<: *x, eventName: '${'%'.repeat(50)}' }\n  condition: selection and not 1 of them or all of them\n`;
    }
  }
  return { files, goodId };
}
