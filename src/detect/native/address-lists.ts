/**
 * Address lists the operator brings (`native.addressLists`): Tor exit relays, a threat-intelligence feed of
 * scanners or command-and-control hosts, a provider's abuse list. Seam ships none and downloads none (lists go
 * stale in hours; the operator's own job refreshes the file, e.g. a CronJob writing a ConfigMap); it reads each
 * file at start, checks it is an address list, and reads it again when the file changes (looked at once a minute),
 * so a long `seam run` follows a refreshed list without a restart.
 *
 * Formats read: one address or CIDR per line (Tor's bulk exit list, FireHOL `.netset`/`.ipset`, most feeds); text
 * after `#` or `;` is a comment (Spamhaus DROP's `1.2.3.0/24 ; SBL123`); Tor's `exit-addresses` document (its
 * `ExitAddress <ip> <time>` lines; the other lines are skipped). The first word of a line is the entry, so a feed that
 * appends a score or a date after a space reads too. IPv4 entries become sorted, merged ranges (binary search);
 * IPv6 single addresses a set, IPv6 prefixes a short list.
 */
import { readFileSync, statSync } from 'node:fs';
import { SeamError } from '../../core/errors.ts';
import { ipv4Number, parseAddress, parseCidr, rangeIndex, type Cidr, contains } from '../../core/ip.ts';
import type { AlertLevel } from '../alert.ts';

/** One list as `native.addressLists[]` names it. */
export interface AddressListSpec {
  name: string;
  path: string;
  level: AlertLevel;
  maxAgeDays: number;
}

export interface AddressList {
  name: string;
  file: string;
  level: AlertLevel;
  maxAgeDays: number;
  /** Entries read (addresses and ranges), lines that were not one (skipped), and the file's modification time. */
  entries: number;
  invalid: number;
  /** `line N: "text"` for the first few lines that were not an address or a range. */
  invalidSamples: string[];
  mtimeMs: number;
  /** The entry `ip` falls in (as written in the file, or the merged range), or undefined. */
  lookup(ip: string): string | undefined;
}

const invalid = (file: string, message: string): SeamError => new SeamError('SEAM_ERR_ADDRESS_LIST_INVALID', `${file}: ${message}`, { details: { file } });

/** The entry word of a line, or undefined for a blank, comment-only or non-entry line of Tor's exit-addresses document. */
function entryOf(line: string): string | undefined {
  let s = line;
  const cut = s.search(/[#;]/);
  if (cut >= 0) s = s.slice(0, cut);
  s = s.trim();
  if (s === '') return undefined;
  const words = s.split(/[\s,]+/);
  // Tor's exit-addresses: "ExitNode <fp>", "Published ...", "LastStatus ...", "ExitAddress <ip> <time>".
  if (/^(ExitNode|Published|LastStatus)$/.test(words[0]!)) return undefined;
  if (words[0] === 'ExitAddress') return words[1];
  return words[0];
}

/** Parses a list's text. Throws SEAM_ERR_ADDRESS_LIST_INVALID when it holds no entry, or more lines that are not one than are. */
export function parseAddressList(text: string, spec: Pick<AddressListSpec, 'name' | 'level' | 'maxAgeDays'> & { file: string }, mtimeMs = 0): AddressList {
  const v4: { start: number; end: number; text: string }[] = [];
  const v6Exact = new Map<string, string>();
  const v6Ranges: { cidr: Cidr; text: string }[] = [];
  let bad = 0;
  const samples: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const word = entryOf(lines[i]!);
    if (word === undefined) continue;
    const cidr = parseCidr(word);
    if (cidr === undefined) {
      bad++;
      if (samples.length < 3) samples.push(`line ${i + 1}: ${JSON.stringify(word.length > 60 ? word.slice(0, 60) + '…' : word)}`);
      continue;
    }
    if (cidr.kind === 'ipv4') {
      const base = ipv4Number(cidr.address.toString())!;
      const size = 2 ** (32 - cidr.bits);
      const start = base - (base % size);
      v4.push({ start, end: start + size - 1, text: word });
    } else if (cidr.bits === 128) {
      v6Exact.set(cidr.address.toNormalizedString(), word);
    } else {
      v6Ranges.push({ cidr, text: word });
    }
  }
  const entries = v4.length + v6Exact.size + v6Ranges.length;
  const file = spec.file;
  if (entries === 0) {
    throw invalid(file, `no address or CIDR in it${samples.length > 0 ? ` (${samples.join(', ')})` : ' (the file is empty or only comments)'}: it is not an address list (an HTML error page, a truncated download, another file?)`);
  }
  if (bad > entries) {
    throw invalid(file, `${bad} lines are not an address or a CIDR and only ${entries} are (${samples.join(', ')}): it is not an address list`);
  }
  // IPv4: sorted and merged, so one binary search answers (entries that merged are named by their range).
  v4.sort((a, b) => a.start - b.start || b.end - a.end);
  const starts: number[] = [];
  const ends: number[] = [];
  const texts: string[] = [];
  for (const r of v4) {
    const n = starts.length;
    if (n > 0 && r.start <= ends[n - 1]! + 1) {
      if (r.end > ends[n - 1]!) {
        ends[n - 1] = r.end;
        texts[n - 1] = '';
      }
      continue;
    }
    starts.push(r.start);
    ends.push(r.end);
    texts.push(r.text);
  }
  const s32 = Uint32Array.from(starts);
  const e32 = Uint32Array.from(ends);
  const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const lookup = (ip: string): string | undefined => {
    const n = ipv4Number(ip);
    if (n !== undefined) {
      const i = rangeIndex(s32, e32, n);
      if (i < 0) return undefined;
      return texts[i] !== '' ? texts[i] : `${dotted(s32[i]!)}–${dotted(e32[i]!)}`;
    }
    if (v6Exact.size === 0 && v6Ranges.length === 0) return undefined;
    const a = parseAddress(ip);
    if (a === undefined || a.kind() !== 'ipv6') return undefined;
    const exact = v6Exact.get(a.toNormalizedString());
    if (exact !== undefined) return exact;
    for (const r of v6Ranges) if (contains(r.cidr, a)) return r.text;
    return undefined;
  };
  return { name: spec.name, file, level: spec.level, maxAgeDays: spec.maxAgeDays, entries, invalid: bad, invalidSamples: samples, mtimeMs, lookup };
}

/** Reads a list's file. Throws SEAM_ERR_ADDRESS_LIST_INVALID when it cannot be read or is not an address list. */
export function readAddressList(spec: AddressListSpec): AddressList {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(spec.path).mtimeMs;
    text = readFileSync(spec.path, 'utf8');
  } catch (e) {
    throw invalid(spec.path, `cannot be read (${(e as Error).message}); native.addressLists "${spec.name}" names it`);
  }
  return parseAddressList(text, { ...spec, file: spec.path }, mtimeMs);
}

/** Days since the list's file was last written (how Seam judges a list's age: feeds carry no common date). */
export function addressListAgeDays(list: Pick<AddressList, 'mtimeMs'>, nowMs = Date.now()): number {
  return Math.floor((nowMs - list.mtimeMs) / 86_400_000);
}

/** A warning when the list was not refreshed within its maxAgeDays, else undefined. */
export function addressListStaleWarning(list: AddressList, nowMs = Date.now()): string | undefined {
  const days = addressListAgeDays(list, nowMs);
  if (days <= list.maxAgeDays) return undefined;
  return `address list "${list.name}" (${list.file}) was last written ${days} days ago (maxAgeDays ${list.maxAgeDays}): addresses added to the feed since are not matched and ones it dropped still are; refresh the file (docs/identity.md, Address lists)`;
}

/** What `config check` and the start log say of a list. */
export function addressListSummary(list: AddressList, nowMs = Date.now()): string {
  const skipped = list.invalid === 0 ? '' : `, ${list.invalid} lines skipped (not an address or a CIDR: ${list.invalidSamples.join(', ')})`;
  return `address list "${list.name}": ${list.file}: ${list.entries} entries${skipped}, written ${addressListAgeDays(list, nowMs)} days ago, alerts at ${list.level}`;
}

interface Loaded {
  lists: AddressList[];
  checkedMs: number;
}

/** How often (wall clock) the files are looked at for a change. */
const CHECK_MS = 60_000;
const byConfig = new WeakMap<object, Loaded>();

/**
 * The lists `native.addressLists` names, read once per config and again when a file changed (looked at once a
 * minute). A changed file that does not read keeps the list it replaced and throws once (the native engine counts
 * the error); the next change is tried again.
 */
export function addressListsOf(config: { addressLists: readonly AddressListSpec[] }, nowMs = Date.now()): readonly AddressList[] {
  const specs = config.addressLists;
  if (specs.length === 0) return [];
  let memo = byConfig.get(config);
  if (memo === undefined) {
    memo = { lists: specs.map(readAddressList), checkedMs: nowMs };
    byConfig.set(config, memo);
    return memo.lists;
  }
  if (nowMs - memo.checkedMs < CHECK_MS) return memo.lists;
  memo.checkedMs = nowMs;
  let failure: unknown;
  memo.lists = memo.lists.map((old, i) => {
    let mtime: number;
    try {
      mtime = statSync(old.file).mtimeMs;
    } catch {
      return old; // gone for a moment (a ConfigMap update swaps a symlink): keep what was read
    }
    if (mtime === old.mtimeMs) return old;
    try {
      return readAddressList(specs[i]!);
    } catch (e) {
      failure ??= e;
      return { ...old, mtimeMs: mtime }; // not tried again until the file changes again
    }
  });
  if (failure !== undefined) throw failure;
  return memo.lists;
}
