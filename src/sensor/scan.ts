import { createHash } from 'node:crypto';
import { RUNTIME_SCHEMA_ID } from '../core/schemas/runtime.ts';
import type { SensorConfig } from './config.ts';
import { isConnection, isInbound, listeningPorts, metadataMatcher, readSockets, type Socket } from './net.ts';
import { sensitiveMatcher } from './paths.ts';
import { CLOCK_TICKS_PER_SEC, listDir, listPids, readArgs, readBootTimeSec, readFdFlags, readLastPid, readLink, readSmall, readStat, readStatus, readTcpOpens } from './procfs.ts';

/**
 * One pass over the shared pid namespace's /proc: new processes (and execs), new connections with
 * their owner, sensitive files held open. Polling cannot see what starts and ends between two passes;
 * the scanner counts that blind spot from the kernel's pid counter instead of hiding it (ADR 0012).
 */

/** How long a new, not yet connected socket keeps the tables being read every scan. */
const PENDING_SOCKET_MS = 2000;

export type RuntimeRecord = Record<string, unknown> & { schema: typeof RUNTIME_SCHEMA_ID; id: string; time: string; kind: 'process' | 'network' | 'file' };

interface Proc {
  pid: number;
  start: number;
  ppid: number;
  comm: string;
  /** Bumped when comm or the stack start changes under the same pid and start time: the process called execve. */
  generation: number;
  startStack: number;
  exe: string;
  exeVerified: boolean;
  args: string[];
  uid?: number;
  cwd?: string;
  containerId?: string;
  threads: number;
  excluded: boolean;
  /** `fd|target` pairs already reported as sensitive opens. */
  files: Set<string>;
  /** The last scan that saw the process alive. */
  seenScan: number;
}

export interface ScanCounters {
  scans: number;
  processes: number;
  execs: number;
  connections: number;
  unownedConnections: number;
  files: number;
  /** Listed in /proc but gone before its stat could be read. */
  vanished: number;
  /** Pids the kernel allocated (processes or threads) that no scan ever saw: the blind spot. */
  unseenPids: number;
  /** Connections to a metadata address seen only after they closed (TIME_WAIT, no owner left). */
  closedMetadataConnections: number;
  /** Times the TCP tables were read (~1 ms each: only when the namespace's TCP open counters moved). */
  tableReads: number;
  /** Times only the UDP tables were read (~20 µs: a new or not yet connected socket, or the sweep). */
  udpTableReads: number;
  /** Processes whose exe/cwd/fd cannot be read (no ptrace-read access: other UID, not dumpable, or more capabilities). */
  limitedProcesses: number;
}

export class Scanner {
  readonly counters: ScanCounters = { scans: 0, processes: 0, execs: 0, connections: 0, unownedConnections: 0, files: 0, vanished: 0, unseenPids: 0, closedMetadataConnections: 0, tableReads: 0, udpTableReads: 0, limitedProcesses: 0 };
  private readonly procs = new Map<number, Proc>();
  private readonly reportedSockets = new Set<string>();
  /** Socket inode → owner at the last scan (the older holder); swapped with `owners` every scan. */
  private socketInodes = new Map<number, Proc>();
  private owners = new Map<number, Proc>();
  /** ActiveOpens + PassiveOpens when the TCP tables were last read (undefined: never, or no /proc/net/snmp). */
  private tcpOpensAtRead: number | undefined;
  /** Sockets of watched processes first seen recently and not yet connected (socket() comes before connect()). */
  private readonly pendingSockets = new Map<number, number>();
  /**
   * Connections seen in the tables with no owner, not reported yet: a process started after this scan listed the
   * processes (a fork and a connect() between the listing and the table read) is not among the holders until the
   * next scan. Reported unowned only if the next read still finds no owner, or finds the socket gone.
   */
  private readonly unownedOnce = new Map<string, { socket: Socket; at: number }>();
  private lastSweepAt = 0;
  private readonly isMetadata: (ip: string) => boolean;
  private readonly sensitive: (path: string) => string | undefined;
  private readonly bootSec: number;
  private readonly idBase: string;
  private readonly base: Record<string, unknown>;
  private readonly self: number;
  /** The sensor's own container (cgroup id), when it differs from pid 1's (the pause container). */
  private readonly ownContainer: string | undefined;
  private lastPid: number | undefined;
  private readonly pidMax: number;

  constructor(
    private readonly config: SensorConfig,
    private readonly sensor = { name: 'seam-sensor', version: '0.1.0' },
    selfPid: number = process.pid,
  ) {
    const proc = config.procPath;
    this.self = selfPid;
    this.isMetadata = metadataMatcher(config.metadataAddresses);
    this.sensitive = sensitiveMatcher(config.sensitivePaths);
    this.bootSec = readBootTimeSec(proc);
    const bootId = (readSmall(`${proc}/sys/kernel/random/boot_id`) ?? '').trim();
    this.idBase = `${config.pod.uid ?? `${config.pod.namespace}/${config.pod.name}`}|${bootId}`;
    this.pidMax = Number(readSmall(`${proc}/sys/kernel/pid_max`) ?? 4194304);
    const p = config.pod;
    const only = config.containers.length === 1 ? config.containers[0] : undefined;
    this.base = Object.fromEntries(
      Object.entries({
        schema: RUNTIME_SCHEMA_ID,
        cluster: p.cluster,
        account: p.account,
        region: p.region,
        namespace: p.namespace,
        pod: p.name,
        container: only?.name,
        image: only?.image,
        service_account: p.serviceAccount,
        node: p.node,
        sensor: this.sensor,
      }).filter(([, v]) => v !== undefined),
    );
    const selfId = containerIdOf(cgroupOf(proc, selfPid));
    const pauseId = containerIdOf(cgroupOf(proc, 1));
    this.ownContainer = selfId !== undefined && selfId !== pauseId ? selfId : undefined;
  }

  /** One pass; returns the new events. The first pass reports running processes as seen_at_start (if configured). */
  scan(now = Date.now()): RuntimeRecord[] {
    const proc = this.config.procPath;
    const first = this.counters.scans === 0;
    this.counters.scans++;
    const out: RuntimeRecord[] = [];
    const scanNo = this.counters.scans;
    const lastPid = readLastPid(proc);
    // Read before the descriptors: a connection made after this read moves the counter again for the next scan.
    const tcpOpens = readTcpOpens(proc);
    let newTasks = 0;
    const pids = listPids(proc);
    // Parents before children, so a new child's chain can name a parent first seen in this same pass.
    pids.sort((a, b) => a - b);
    for (const pid of pids) {
      const st = readStat(proc, pid);
      if (st === undefined) {
        this.counters.vanished++;
        continue;
      }
      let p = this.procs.get(pid);
      if (p !== undefined && p.start === st.startTicks) {
        p.seenScan = scanNo;
        p.ppid = st.ppid;
        if (st.threads > p.threads) newTasks += st.threads - p.threads;
        p.threads = st.threads;
        // Same process, new program: fork() then execve(), and a scan fell between the two. The name may not
        // change (sh forks, the child execs sh -i); the stack start, which execve randomizes, does (0 = no access).
        const newImage = st.startStack !== 0 && p.startStack !== 0 && st.startStack !== p.startStack;
        if ((st.comm !== p.comm || newImage) && !p.excluded) {
          p.comm = st.comm;
          p.generation++;
          this.describe(p);
          this.counters.execs++;
          out.push(this.processEvent(p, now, false));
        }
        if (st.startStack !== 0) p.startStack = st.startStack;
        continue;
      }
      newTasks += Math.max(1, st.threads);
      p = {
        pid,
        start: st.startTicks,
        ppid: st.ppid,
        comm: st.comm,
        generation: 0,
        startStack: st.startStack,
        exe: '',
        exeVerified: false,
        args: [],
        threads: st.threads,
        excluded: false,
        files: new Set(),
        seenScan: scanNo,
      };
      p.containerId = containerIdOf(cgroupOf(proc, pid));
      p.excluded = st.kernelThread || this.isOwn(p);
      this.procs.set(pid, p);
      if (st.kernelThread) continue;
      this.describe(p); // also for the sensor's own processes: they can appear in a chain
      if (p.excluded) continue;
      const status = readStatus(proc, pid);
      if (status) p.uid = status.uid[1];
      if (st.state === 'Z' && p.args.length === 0) continue; // a zombie tells nothing but its name
      if (!p.exeVerified) this.counters.limitedProcesses++;
      if (first && !this.config.reportExisting) continue;
      this.counters.processes++;
      out.push(this.processEvent(p, now, first));
    }
    for (const [pid, p] of this.procs) if (p.seenScan !== scanNo) this.procs.delete(pid);
    if (lastPid !== undefined && this.lastPid !== undefined && !first) {
      const allocated = lastPid >= this.lastPid ? lastPid - this.lastPid : lastPid + this.pidMax - this.lastPid;
      this.counters.unseenPids += Math.max(0, allocated - newTasks);
    }
    this.lastPid = lastPid;

    // Descriptors: socket inodes → owner, and sensitive files held open.
    const owners = this.owners;
    owners.clear();
    let newSocket = false;
    for (const p of this.procs.values()) {
      // The sensor's own descriptors matter only to tell its sockets from unowned ones: read when the tables are.
      if (p.excluded) continue;
      const fds = listDir(`${proc}/${p.pid}/fd`);
      if (fds === undefined) continue;
      for (const fd of fds) {
        const target = readLink(`${proc}/${p.pid}/fd/${fd}`);
        if (target === undefined) continue;
        if (target.startsWith('socket:[')) {
          const inode = Number(target.slice(8, -1));
          // A socket inherited across fork() is held by parent and child: the owner is the one that started first.
          const held = owners.get(inode);
          if (held === undefined || held.start > p.start || (held.start === p.start && held.pid > p.pid)) owners.set(inode, p);
          if (!this.socketInodes.has(inode)) {
            newSocket = true;
            this.pendingSockets.set(inode, now);
          }
          continue;
        }
        const path = this.sensitive(target);
        if (path === undefined) continue;
        const key = `${fd}|${target}`;
        if (p.files.has(key)) continue;
        p.files.add(key);
        this.counters.files++;
        const flags = readFdFlags(proc, p.pid, fd);
        out.push(this.record('file', now, `${p.pid}|${p.start}|${p.generation}|${key}`, p, { file: { op: 'open', path, ...(flags ? { flags } : {}), ...(path !== target ? { fd_path: target } : {}) } }));
      }
    }
    this.owners = this.socketInodes;
    this.socketInodes = owners;
    for (const [inode, at] of this.pendingSockets) if (now - at > PENDING_SOCKET_MS || !owners.has(inode)) this.pendingSockets.delete(inode);
    // A TCP table costs ~1 ms to read (the kernel walks its whole hash table, whatever the namespace holds), a
    // UDP table ~20 µs. The TCP tables are read only when the namespace's TCP open counters moved (a connection
    // was made or accepted since the last read: by a watched process, by one whose descriptors cannot be read,
    // or by one already gone, whose TIME_WAIT socket is still there); without the counters, as the UDP ones. The
    // UDP tables are read when a watched process holds a new or not yet connected socket, and every sweep
    // interval for sockets whose owner cannot be read.
    const sweep = now - this.lastSweepAt >= this.config.connectionSweepMs;
    let unownedTcp = false;
    for (const u of this.unownedOnce.values()) if (u.socket.proto === 'tcp') unownedTcp = true;
    const tcp = (tcpOpens === undefined ? newSocket || this.pendingSockets.size > 0 || sweep : tcpOpens !== this.tcpOpensAtRead) || unownedTcp;
    if (!tcp && !newSocket && this.pendingSockets.size === 0 && this.unownedOnce.size === 0 && !sweep) return out;
    if (sweep) this.lastSweepAt = now;
    if (tcp) {
      this.counters.tableReads++;
      this.tcpOpensAtRead = tcpOpens;
    } else this.counters.udpTableReads++;
    for (const e of this.connections(now, owners, tcp)) out.push(e);
    return out;
  }

  /** Reads what describes a process: argv, exe and cwd (the last two need ptrace-read access). */
  private describe(p: Proc): void {
    const proc = this.config.procPath;
    p.args = readArgs(proc, p.pid) ?? [];
    const exe = readLink(`${proc}/${p.pid}/exe`);
    p.exeVerified = exe !== undefined;
    // Without access, argv[0] stands in (the program can set it to anything) and the record says so.
    p.exe = exe?.replace(/ \(deleted\)$/, '') ?? p.args[0] ?? `[${p.comm}]`;
    const cwd = readLink(`${proc}/${p.pid}/cwd`);
    if (cwd !== undefined) p.cwd = cwd;
  }

  private isOwn(p: Proc): boolean {
    // In a pod every container has its own cgroup; the sensor's container is not watched. When all
    // processes share one cgroup (no container runtime, as in tests), only the sensor itself is skipped.
    return p.pid === this.self || (this.ownContainer !== undefined && p.containerId === this.ownContainer);
  }

  /** Adds the socket inodes held by known processes (or only the excluded ones) to `owners` (the older holder wins, as in scan). */
  private socketOwners(owners: Map<number, Proc>, excludedOnly = false): void {
    const proc = this.config.procPath;
    for (const p of this.procs.values()) {
      if (excludedOnly && !p.excluded) continue;
      for (const fd of listDir(`${proc}/${p.pid}/fd`) ?? []) {
        const target = readLink(`${proc}/${p.pid}/fd/${fd}`);
        if (target === undefined || !target.startsWith('socket:[')) continue;
        const inode = Number(target.slice(8, -1));
        const held = owners.get(inode);
        if (held === undefined || held.start > p.start || (held.start === p.start && held.pid > p.pid)) owners.set(inode, p);
      }
    }
  }

  /** Reads the UDP tables and, if `tcp`, the TCP ones; reports the connections not reported yet. */
  private connections(now: number, owners: Map<number, Proc>, tcp: boolean): RuntimeRecord[] {
    const out: RuntimeRecord[] = [];
    const sockets = readSockets(this.config.procPath, { tcp, udp: true });
    this.socketOwners(owners, true);
    const listening = listeningPorts(sockets);
    // A listening socket will never connect: stop waiting for it.
    for (const s of sockets) if (s.state === '0A' && s.proto === 'tcp') this.pendingSockets.delete(s.inode);
    const live = new Set<string>();
    let recheckedOwners = false;
    for (const s of sockets) {
      if (s.proto === 'tcp' && s.state === '06' && this.isMetadata(s.remoteIp)) {
        // TIME_WAIT outlives the process by 60 s: a metadata call too short for any scan still leaves this.
        const key = `tw|${s.localIp}|${s.localPort}|${s.remoteIp}|${s.remotePort}`;
        live.add(key);
        if (this.reportedSockets.has(key)) continue;
        this.reportedSockets.add(key);
        this.counters.closedMetadataConnections++;
        out.push(this.networkEvent(s, now, undefined, false));
        continue;
      }
      if (!isConnection(s)) continue;
      const key = `${s.proto}|${s.inode}`;
      live.add(key);
      this.pendingSockets.delete(s.inode);
      if (this.reportedSockets.has(key)) continue;
      let owner = owners.get(s.inode);
      if (owner?.excluded) {
        this.reportedSockets.add(key);
        this.unownedOnce.delete(key);
        continue;
      }
      if (owner === undefined && !recheckedOwners) {
        // Descriptors were read before the tables: a socket opened in between has an owner the first pass missed.
        // One more pass over the descriptors (cheap) instead of another read of the tables (expensive).
        recheckedOwners = true;
        this.socketOwners(owners);
        owner = owners.get(s.inode);
        if (owner?.excluded) {
          this.reportedSockets.add(key);
          this.unownedOnce.delete(key);
          continue;
        }
      }
      if (owner === undefined && !this.unownedOnce.has(key)) {
        // Perhaps a process this scan did not list yet: look again at the next scan before saying unowned.
        this.unownedOnce.set(key, { socket: s, at: now });
        continue;
      }
      const seenAt = this.unownedOnce.get(key)?.at ?? now;
      this.unownedOnce.delete(key);
      this.reportedSockets.add(key);
      if (owner === undefined) {
        this.counters.unownedConnections++;
        if (!this.config.reportUnownedConnections) continue;
      } else this.counters.connections++;
      out.push(this.networkEvent(s, seenAt, owner, isInbound(s, listening)));
    }
    // Unowned at the last read and gone at this one: still a connection seen, reported as it was then (nothing lost).
    for (const [key, u] of this.unownedOnce) {
      if (live.has(key) || (!tcp && u.socket.proto === 'tcp')) continue;
      this.unownedOnce.delete(key);
      this.counters.unownedConnections++;
      if (this.config.reportUnownedConnections) out.push(this.networkEvent(u.socket, u.at, undefined, isInbound(u.socket, listening)));
    }
    // Forget what closed, of the protocols just read (a TCP key starts with `tcp|` or `tw|`).
    for (const k of this.reportedSockets) if (!live.has(k) && (tcp || k.startsWith('udp|'))) this.reportedSockets.delete(k);
    return out;
  }

  private networkEvent(s: Socket, now: number, owner: Proc | undefined, inbound: boolean): RuntimeRecord {
    const network: Record<string, unknown> = inbound
      ? { direction: 'ingress', protocol: s.proto, src_ip: s.remoteIp, src_port: s.remotePort, dst_ip: s.localIp, dst_port: s.localPort }
      : { direction: 'egress', protocol: s.proto, src_ip: s.localIp, src_port: s.localPort, dst_ip: s.remoteIp, dst_port: s.remotePort };
    if (!inbound && this.isMetadata(s.remoteIp)) network.metadata_endpoint = true;
    network.inode = s.inode;
    if (s.proto === 'tcp') network.state = s.state;
    const extra: Record<string, unknown> = { network };
    if (owner === undefined) extra.owner = s.state === '06' ? 'exited' : 'unknown';
    return this.record('network', now, `${s.proto}|${s.inode}|${s.localIp}|${s.localPort}|${s.remoteIp}|${s.remotePort}`, owner, extra);
  }

  private processEvent(p: Proc, now: number, atStart: boolean): RuntimeRecord {
    const startMs = (this.bootSec + p.start / CLOCK_TICKS_PER_SEC) * 1000;
    const extra: Record<string, unknown> = {};
    if (atStart) extra.seen_at_start = true;
    // A process seen at its start: its start time is the event time (never later than now).
    return this.record('process', Math.min(now, Math.round(startMs)), `${p.pid}|${p.start}|${p.generation}`, p, extra, true);
  }

  private processInfo(p: Proc, withChain: boolean): Record<string, unknown> {
    const parent = this.procs.get(p.ppid);
    const info: Record<string, unknown> = {
      pid: p.pid,
      ppid: p.ppid,
      exe: p.exe,
      cmdline: p.args.join(' '),
      ...(p.uid !== undefined ? { uid: p.uid } : {}),
      ...(p.cwd !== undefined ? { cwd: p.cwd } : {}),
      ...(parent ? { parent_exe: parent.exe } : {}),
      start_ticks: p.start,
    };
    if (!p.exeVerified) info.exe_unverified = true;
    if (withChain) {
      const chain: Record<string, unknown>[] = [];
      const seen = new Set<number>([p.pid]);
      for (let q = parent; q !== undefined && !seen.has(q.pid) && chain.length < 16; q = this.procs.get(q.ppid)) {
        seen.add(q.pid);
        chain.push({ pid: q.pid, exe: q.exe, cmdline: q.args.join(' ').slice(0, 256) });
      }
      info.ancestors = chain;
    }
    return info;
  }

  private record(kind: RuntimeRecord['kind'], timeMs: number, key: string, p: Proc | undefined, extra: Record<string, unknown>, chain = false): RuntimeRecord {
    const id = createHash('sha256').update(`${this.idBase}|${kind}|${key}`).digest('hex').slice(0, 32);
    const rec: Record<string, unknown> = { ...this.base, id, time: new Date(timeMs).toISOString(), kind };
    if (p?.containerId !== undefined) rec.container_id = p.containerId;
    if (p !== undefined) rec.process = this.processInfo(p, chain);
    return Object.assign(rec, extra) as RuntimeRecord;
  }
}

function cgroupOf(proc: string, pid: number): string | undefined {
  const t = readSmall(`${proc}/${pid}/cgroup`);
  if (t === undefined) return undefined;
  // cgroup v2: "0::/path"; v1: take the first hierarchy's path. Paths are relative to our cgroup namespace.
  const line = t.split('\n').find((l) => l.startsWith('0::')) ?? t.split('\n')[0] ?? '';
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/** The container id in a cgroup path (…/cri-containerd-<64 hex>.scope, …/<64 hex>), else the path itself. */
export function containerIdOf(cgroup: string | undefined): string | undefined {
  if (cgroup === undefined) return undefined;
  const m = /([0-9a-f]{64})(?:\.scope)?\/?$/.exec(cgroup);
  return m ? m[1] : cgroup;
}
