import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeEvent } from '../core/schemas/runtime.ts';
import { configFromEnv } from './config.ts';
import { Scanner, containerIdOf, type RuntimeRecord } from './scan.ts';

// The scanner against the real /proc of this machine: a child holds a token file and a TCP connection open.
describe('scanner on the real /proc', () => {
  let dir: string;
  let server: Server;
  let child: ChildProcess;
  const accepted: Socket[] = [];
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seam-scan-'));
    writeFileSync(join(dir, 'token'), 'eyJ.fake.token');
    server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.9', () => r()));
    port = (server.address() as { port: number }).port;
    child = spawn('bash', ['-c', `exec 7< ${join(dir, 'token')}; exec 8<>/dev/tcp/127.0.0.9/${port}; sleep 30; :`], { stdio: 'ignore' });
    // Wait until bash has opened both descriptors (the machine may be loaded).
    for (let i = 0; i < 100 && !existsSync(`/proc/${child.pid}/fd/8`); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    child.kill('SIGKILL');
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const scanner = (): Scanner =>
    new Scanner(
      configFromEnv({
        SEAM_POD_NAMESPACE: 'shop',
        SEAM_POD_NAME: 'checkout-1',
        SEAM_POD_SERVICE_ACCOUNT: 'checkout',
        SEAM_CONTAINERS: 'app=example/app:1',
        SEAM_METADATA_ADDRESSES: '127.0.0.9',
        SEAM_SENSITIVE_PATHS: join(dir, 'token'),
      }),
    );

  it('reports the process, its connection (flagged) and its open token, each once, as valid seam.runtime/v1', () => {
    const s = scanner();
    const first = s.scan();
    const mine = (e: RuntimeRecord): boolean => (e.process as { pid?: number } | undefined)?.pid === child.pid;
    const proc = first.filter((e) => e.kind === 'process' && mine(e));
    expect(proc).toHaveLength(1);
    expect(proc[0]).toMatchObject({ namespace: 'shop', pod: 'checkout-1', container: 'app', image: 'example/app:1', service_account: 'checkout', seen_at_start: true });
    expect(proc[0]!.process).toMatchObject({ exe: expect.stringMatching(/\/bash$/), uid: process.geteuid?.(), ppid: process.pid, parent_exe: expect.stringMatching(/node/) });
    const file = first.filter((e) => e.kind === 'file' && mine(e));
    expect(file).toHaveLength(1);
    expect(file[0]!.file).toMatchObject({ op: 'open', path: join(dir, 'token'), flags: expect.stringContaining('O_RDONLY') });
    // Reported once, whether the first pass or the next one reads the tables.
    const net = [...first, ...s.scan()].filter((e) => e.kind === 'network' && mine(e));
    expect(net).toHaveLength(1);
    expect(net[0]!.network).toMatchObject({ direction: 'egress', protocol: 'tcp', dst_ip: '127.0.0.9', dst_port: port, metadata_endpoint: true });
    for (const e of [...proc, ...file, ...net]) expect(RuntimeEvent.safeParse(e).success).toBe(true);
    // Nothing new: nothing reported again.
    expect(s.scan().filter(mine)).toEqual([]);
    expect(s.counters.unseenPids).toBeGreaterThanOrEqual(0);
  });

  it('sees an exec that keeps the program name (sh running sh -i) by the stack start execve randomizes', async () => {
    const sh = spawn('sh', ['-c', 'sleep 0.6; exec sh -c "sleep 30; :" second-image'], { stdio: 'ignore' });
    const cmdline = (): string => {
      try {
        return readFileSync(`/proc/${sh.pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    try {
      for (let i = 0; i < 100 && !cmdline().includes('sleep 0.6'); i++) await new Promise((r) => setTimeout(r, 10));
      const s = scanner();
      const mine = (e: RuntimeRecord): boolean => e.kind === 'process' && (e.process as { pid?: number }).pid === sh.pid;
      expect(s.scan().filter(mine).map((e) => (e.process as { cmdline: string }).cmdline)).toEqual([expect.stringContaining('sleep 0.6')]);
      for (let i = 0; i < 300 && !cmdline().startsWith('sh\u0000-c\u0000sleep 30'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.scan().filter(mine).map((e) => (e.process as { cmdline: string }).cmdline)).toEqual([expect.stringMatching(/^sh -c sleep 30; : second-image$/)]);
      expect(s.counters.execs).toBeGreaterThanOrEqual(1);
    } finally {
      sh.kill('SIGKILL');
    }
  });

  it('gives the same ids to the same facts (a restarted sensor resends duplicates Seam drops)', () => {
    const a = scanner().scan().filter((e) => e.kind === 'process').map((e) => e.id);
    const b = scanner().scan().filter((e) => e.kind === 'process').map((e) => e.id);
    expect(b.filter((id) => a.includes(id)).length).toBeGreaterThan(0);
  });

  it('finds the container id in a cgroup path', () => {
    const id = 'a'.repeat(64);
    expect(containerIdOf(`/kubepods.slice/kubepods-burstable.slice/cri-containerd-${id}.scope`)).toBe(id);
    expect(containerIdOf(`/../${id}`)).toBe(id);
    expect(containerIdOf('/')).toBe('/');
  });
});

// A procfs laid out by hand: what the scanner reads, so when it reads the socket tables can be checked exactly.
describe('when the scanner reads the socket tables', () => {
  it('reads the TCP tables only when the TCP open counters moved, the UDP ones on the sweep', () => {
    const proc = mkdtempSync(join(tmpdir(), 'seam-fakeproc-'));
    try {
      const put = (path: string, text: string): void => {
        mkdirSync(join(proc, path, '..'), { recursive: true });
        writeFileSync(join(proc, path), text);
      };
      put('stat', 'cpu 1 2 3\nbtime 1700000000\n');
      put('loadavg', '0.10 0.10 0.10 1/100 42\n');
      put('42/stat', '42 (sleep) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 5000 1000 100 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0');
      put('42/cmdline', 'sleep\u000030\u0000');
      put('42/cgroup', '0::/\n');
      put('42/status', 'Name:\tsleep\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nCapPrm:\t0\n');
      mkdirSync(join(proc, '42/fd'));
      symlinkSync('/usr/bin/sleep', join(proc, '42/exe'));
      const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
      for (const t of ['tcp', 'tcp6', 'udp', 'udp6']) put(`net/${t}`, head);
      const snmp = (opens: number): void => put('net/snmp', `Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\nTcp: 1 200 120000 -1 ${opens} 0\n`);
      snmp(10);
      const s = new Scanner(configFromEnv({ SEAM_POD_NAMESPACE: 'shop', SEAM_POD_NAME: 'p', SEAM_SENSOR_CONFIG: JSON.stringify({ procPath: proc, connectionSweepMs: 2000 }) }), undefined, 4242);
      let now = 1_800_000_000_000;
      expect(s.scan(now).map((e) => e.kind)).toEqual(['process']);
      expect(s.counters).toMatchObject({ tableReads: 1, udpTableReads: 0 });
      // A metadata call made and closed between two scans (TIME_WAIT, no owner), but the counters did not move: not read.
      put('net/tcp', head + '   0: 0200000A:B3C4 FEA9FEA9:0050 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n');
      expect(s.scan((now += 250))).toEqual([]);
      expect(s.counters).toMatchObject({ tableReads: 1, udpTableReads: 0 });
      // The counter moved (as the kernel moves it at connect()): the tables are read and the call reported, once.
      snmp(11);
      const after = s.scan((now += 250));
      expect(after.map((e) => [e.kind, (e.network as { metadata_endpoint?: boolean }).metadata_endpoint, e.owner])).toEqual([['network', true, 'exited']]);
      expect(s.scan((now += 250))).toEqual([]);
      expect(s.counters).toMatchObject({ tableReads: 2, udpTableReads: 0, closedMetadataConnections: 1 });
      // The sweep reads only the cheap UDP tables.
      s.scan((now += 2000));
      expect(s.counters).toMatchObject({ tableReads: 2, udpTableReads: 1 });
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});

// The race the sensor test met (session 36): a process forked after a scan listed the processes connects before
// the same scan reads the tables. Its socket has no holder in that scan; it must not be reported unowned for good.
describe('a connection whose owner the scan has not listed yet', () => {
  it('waits one scan for an owner, reports a still unowned one once, and one gone by then as it was seen', () => {
    const proc = mkdtempSync(join(tmpdir(), 'seam-fakeproc-'));
    try {
      const put = (path: string, text: string): void => {
        mkdirSync(join(proc, path, '..'), { recursive: true });
        writeFileSync(join(proc, path), text);
      };
      const pid = (n: number, comm: string): void => {
        put(`${n}/stat`, `${n} (${comm}) S 1 ${n} ${n} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 ${5000 + n} 1000 100 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0`);
        put(`${n}/cmdline`, `${comm}\u000030\u0000`);
        put(`${n}/cgroup`, '0::/\n');
        put(`${n}/status`, `Name:\t${comm}\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nCapPrm:\t0\n`);
        mkdirSync(join(proc, `${n}/fd`), { recursive: true });
        symlinkSync(`/usr/bin/${comm}`, join(proc, `${n}/exe`));
      };
      put('stat', 'cpu 1 2 3\nbtime 1700000000\n');
      put('loadavg', '0.10 0.10 0.10 1/100 42\n');
      pid(42, 'sleep');
      const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
      for (const t of ['tcp', 'tcp6', 'udp6']) put(`net/${t}`, head);
      // Connected UDP sockets (remote port set) 10.0.0.2:<port> -> 10.0.0.53:53, by inode.
      const udp = (...inodes: number[]): void =>
        put('net/udp', head + inodes.map((i, n) => `  ${n}: 0200000A:${(40000 + i).toString(16).toUpperCase()} 3500000A:0035 01 00000000:00000000 00:00000000 00000000  1000        0 ${i} 2 0000000000000000 0\n`).join(''));
      udp();
      put('net/snmp', 'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\nTcp: 1 200 120000 -1 10 0\n');
      const s = new Scanner(configFromEnv({ SEAM_POD_NAMESPACE: 'shop', SEAM_POD_NAME: 'p', SEAM_SENSOR_CONFIG: JSON.stringify({ procPath: proc, connectionSweepMs: 2000 }) }), undefined, 4242);
      const t0 = 1_800_000_000_000;
      const nets = (events: RuntimeRecord[]): unknown[] =>
        events.filter((e) => e.kind === 'network').map((e) => [(e.network as { inode: number }).inode, (e.process as { pid?: number } | undefined)?.pid ?? e.owner, e.time]);
      s.scan(t0);
      // The sweep reads the table: socket 777 is connected, nobody listed holds it. Not reported yet.
      udp(777);
      expect(nets(s.scan(t0 + 2000))).toEqual([]);
      // pid 43 (forked after the last listing) holds it: reported once, owned, at the time it was first seen.
      pid(43, 'bash');
      symlinkSync('socket:[777]', join(proc, '43/fd/4'));
      expect(nets(s.scan(t0 + 2250))).toEqual([[777, 43, new Date(t0 + 2000).toISOString()]]);
      expect(s.counters).toMatchObject({ connections: 1, unownedConnections: 0 });
      // Socket 778 with no readable holder (another UID): unowned at the sweep, still unowned at the next scan.
      udp(777, 778);
      expect(nets(s.scan(t0 + 4000))).toEqual([]);
      expect(nets(s.scan(t0 + 4250))).toEqual([[778, 'unknown', new Date(t0 + 4000).toISOString()]]);
      expect(nets(s.scan(t0 + 4500))).toEqual([]);
      // Socket 779 seen unowned, closed before the next scan: still reported, as it was seen (nothing lost).
      udp(777, 778, 779);
      expect(nets(s.scan(t0 + 6000))).toEqual([]);
      udp(777, 778);
      expect(nets(s.scan(t0 + 6250))).toEqual([[779, 'unknown', new Date(t0 + 6000).toISOString()]]);
      expect(s.counters).toMatchObject({ connections: 1, unownedConnections: 2 });
      // Nothing waits any more: the next scans do not read the tables until the sweep.
      const reads = s.counters.udpTableReads + s.counters.tableReads;
      s.scan(t0 + 6500);
      expect(s.counters.udpTableReads + s.counters.tableReads).toBe(reads);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});

describe('configuration from the environment', () => {
  it('says what is missing', () => {
    expect(() => configFromEnv({})).toThrow(/pod\.namespace.*SEAM_POD_NAMESPACE/);
    expect(() => configFromEnv({ SEAM_POD_NAMESPACE: 'a', SEAM_POD_NAME: 'b', SEAM_SENSOR_CONFIG: '{' })).toThrow(/SEAM_SENSOR_CONFIG/);
  });

  it('reads the Downward API variables, the ingest settings and any field from SEAM_SENSOR_CONFIG', () => {
    const c = configFromEnv({
      SEAM_POD_NAMESPACE: 'shop',
      SEAM_POD_NAME: 'p',
      SEAM_NODE_NAME: 'fargate-ip-10-0-1-2.us-west-2.compute.internal',
      SEAM_INGEST_URL: 'https://seam-ingest.seam.svc:8765/v1/ingest',
      SEAM_INGEST_CA_FILE: '/etc/seam-ca/ca.crt',
      SEAM_SENSOR_INTERVAL_MS: '500',
      SEAM_SENSOR_CONFIG: JSON.stringify({ reportUnownedConnections: false, ingest: { spoolMaxBytes: 1024 } }),
    });
    expect(c).toMatchObject({ intervalMs: 500, reportUnownedConnections: false, pod: { namespace: 'shop', name: 'p', node: 'fargate-ip-10-0-1-2.us-west-2.compute.internal' } });
    expect(c.ingest).toMatchObject({ url: 'https://seam-ingest.seam.svc:8765/v1/ingest', caFile: '/etc/seam-ca/ca.crt', spoolMaxBytes: 1024, tokenEnv: 'SEAM_INGEST_TOKEN' });
  });
});
