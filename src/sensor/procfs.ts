import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Small synchronous readers of /proc. Synchronous on purpose: one scan touches a few hundred tiny
 * files, and the thread-pool round trip of fs.promises costs more CPU than the read itself. Every reader
 * returns `undefined` when the file is gone (the process exited) or not readable (EACCES / EPERM: no
 * ptrace-read access), never throws: a scan must survive processes exiting under it.
 */

/** Why a read failed, for the visibility report: gone (ENOENT/ESRCH), denied (EACCES/EPERM), other. */
export type ReadFailure = 'gone' | 'denied' | 'other';

export function failureOf(error: unknown): ReadFailure {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'other';
}

const buf = Buffer.allocUnsafe(64 * 1024);

/**
 * Opens `path`, hands the descriptor to `read` and closes it: the text `read` returns, or undefined when the file
 * cannot be opened or read. `read` is one of the module-level readers below (no closure is made per file).
 */
function readWith(path: string, read: (fd: number) => string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return read(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readUpTo64k(fd: number): string {
  let n = 0;
  for (;;) {
    const r = readSync(fd, buf, n, buf.length - n, null);
    if (r === 0) break;
    n += r;
    if (n === buf.length) break;
  }
  return buf.toString('utf8', 0, n);
}

function readOneSyscall(fd: number): string {
  return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, null));
}

function readToEof(fd: number): string {
  const parts: string[] = [];
  for (;;) {
    const r = readSync(fd, buf, 0, buf.length, null);
    if (r === 0) break;
    parts.push(buf.toString('latin1', 0, r));
  }
  return parts.join('');
}

/** Reads a small proc file (up to 64 KiB; /proc/<pid>/cmdline is cut there) without a stat call. */
export function readSmall(path: string): string | undefined {
  return readWith(path, readUpTo64k);
}

/**
 * One read(2) of a proc file made in one piece by the kernel (a single-record seq_file such as
 * /proc/<pid>/stat, /proc/loadavg, /proc/net/snmp: the first read returns all of it when the buffer is large
 * enough), so three syscalls instead of readSmall's four. Not for files the kernel hands out page by page.
 */
export function readOnce(path: string): string | undefined {
  return readWith(path, readOneSyscall);
}

/** Reads a proc file of any size (the socket tables: ~150 bytes a socket, past 64 KiB on a busy node). */
export function readAll(path: string): string | undefined {
  return readWith(path, readToEof);
}

/** Like readSmall but reports why it failed (for the visibility probe). */
export function tryRead(path: string): { ok: true; text: string } | { ok: false; why: ReadFailure } {
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (error) {
    return { ok: false, why: failureOf(error) };
  }
}

export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export function listDir(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

/** The numeric entries of /proc: every process (thread-group leader) visible in our pid namespace. */
export function listPids(proc: string): number[] {
  const out: number[] = [];
  for (const name of listDir(proc) ?? []) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks after boot when the process started (field 22): with the pid, a process's identity. */
  startTicks: number;
  /** User + system CPU ticks of the process itself (fields 14-15). */
  cpuTicks: number;
  /** CPU ticks of its waited-for children (fields 16-17): grows when a child the sensor never saw exits. */
  childCpuTicks: number;
  /** Thread count (field 20). */
  threads: number;
  /** PF_KTHREAD (flags, field 9): a kernel thread, visible only from the host's pid namespace. */
  kernelThread: boolean;
  /**
   * Where the stack starts (field 28): set by execve, randomized by ASLR, so it changes when a process execs
   * a program with the same name (`sh` forking and exec'ing `sh -i`). 0 without ptrace-read access.
   */
  startStack: number;
}

/** Parses /proc/<pid>/stat. `comm` may hold spaces and parentheses, so fields are counted from the last `)`. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  const num = (n: number): number => Number(f[n - 3]);
  const stat: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: num(4),
    startTicks: num(22),
    cpuTicks: num(14) + num(15),
    childCpuTicks: num(16) + num(17),
    threads: num(20),
    kernelThread: (num(9) & 0x00200000) !== 0,
    startStack: num(28) || 0,
  };
  return Number.isFinite(stat.startTicks) && Number.isFinite(stat.ppid) ? stat : undefined;
}

export function readStat(proc: string, pid: number): ProcStat | undefined {
  const t = readOnce(`${proc}/${pid}/stat`);
  return t === undefined ? undefined : parseStat(t);
}

export interface ProcStatus {
  /** Real, effective, saved, filesystem uid. */
  uid: [number, number, number, number];
  gid: [number, number, number, number];
  /** Permitted capability mask (hex) — ptrace-read access also needs ours to be a superset of it. */
  capPrm: string;
  /** VmRSS in kB, when the process has memory (not a zombie). */
  rssKb?: number;
}

export function parseStatus(text: string): ProcStatus | undefined {
  const field = (name: string): string | undefined => {
    const i = text.indexOf(`\n${name}:`);
    if (i < 0) return undefined;
    const end = text.indexOf('\n', i + 1);
    return text.slice(i + name.length + 2, end < 0 ? undefined : end).trim();
  };
  const ids = (name: string): [number, number, number, number] | undefined => {
    const v = field(name)?.split(/\s+/).map(Number);
    return v && v.length === 4 && v.every(Number.isFinite) ? (v as [number, number, number, number]) : undefined;
  };
  const uid = ids('Uid');
  const gid = ids('Gid');
  if (!uid || !gid) return undefined;
  const rss = field('VmRSS');
  return { uid, gid, capPrm: field('CapPrm') ?? '', ...(rss ? { rssKb: Number(rss.split(/\s+/)[0]) } : {}) };
}

export function readStatus(proc: string, pid: number): ProcStatus | undefined {
  const t = readSmall(`${proc}/${pid}/status`);
  return t === undefined ? undefined : parseStatus(t);
}

/** argv from /proc/<pid>/cmdline (NUL-separated; empty for kernel threads and zombies). */
export function readArgs(proc: string, pid: number): string[] | undefined {
  const t = readSmall(`${proc}/${pid}/cmdline`);
  if (t === undefined) return undefined;
  const args = t.split('\0');
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args;
}

/** The last pid the kernel allocated in our pid namespace (5th field of /proc/loadavg). */
export function readLastPid(proc: string): number | undefined {
  const t = readOnce(`${proc}/loadavg`);
  const v = t === undefined ? NaN : Number(t.trim().split(' ')[4]);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * TCP connections opened in our network namespace so far: ActiveOpens + PassiveOpens of the Tcp line of
 * /proc/net/snmp (per network namespace, IPv4 and IPv6 together; ~10 µs to read against ~1 ms per socket
 * table). Both only grow, so an unchanged sum means no connection was made or accepted since the last read —
 * even by a process that is gone, or one whose descriptors cannot be read.
 */
export function readTcpOpens(proc: string): number | undefined {
  return parseTcpOpens(readOnce(`${proc}/net/snmp`));
}

export function parseTcpOpens(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const head = text.indexOf('Tcp: ');
  const values = head < 0 ? -1 : text.indexOf('Tcp: ', head + 5);
  if (values < 0) return undefined;
  const names = text.slice(head + 5, text.indexOf('\n', head)).split(' ');
  const end = text.indexOf('\n', values);
  const v = text.slice(values + 5, end < 0 ? undefined : end).split(' ');
  const active = Number(v[names.indexOf('ActiveOpens')]);
  const passive = Number(v[names.indexOf('PassiveOpens')]);
  return Number.isFinite(active) && Number.isFinite(passive) ? active + passive : undefined;
}

/** Boot time (seconds since the epoch) and clock ticks per second, to turn start ticks into a time. */
export function readBootTimeSec(proc: string): number {
  const t = readSmall(`${proc}/stat`) ?? '';
  const m = /\nbtime (\d+)/.exec(t);
  return m ? Number(m[1]) : Math.floor(Date.now() / 1000 - Number((readSmall(`${proc}/uptime`) ?? '0').split(' ')[0]));
}

/** Linux reports stat times in USER_HZ, which is 100 on every architecture Node runs on. */
export const CLOCK_TICKS_PER_SEC = 100;

/** The open flags of descriptor `fd` (octal `flags:` line of /proc/<pid>/fdinfo/<fd>), as open(2) names. */
export function readFdFlags(proc: string, pid: number, fd: string): string | undefined {
  const t = readSmall(`${proc}/${pid}/fdinfo/${fd}`);
  const m = t === undefined ? null : /flags:\s+([0-7]+)/.exec(t);
  return m ? openFlagNames(parseInt(m[1]!, 8)) : undefined;
}

export function openFlagNames(flags: number): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & 3]!;
  const names = [acc];
  const bits: [number, string][] = [
    [0o100, 'O_CREAT'],
    [0o1000, 'O_TRUNC'],
    [0o2000, 'O_APPEND'],
    [0o4000, 'O_NONBLOCK'],
    [0o2000000, 'O_CLOEXEC'],
  ];
  for (const [bit, name] of bits) if (flags & bit) names.push(name);
  return names.join('|');
}
