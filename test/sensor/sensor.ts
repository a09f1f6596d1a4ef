/**
 * The Fargate sensor against this machine's real kernel and /proc (`npm run test:sensor`).
 *
 * A test "pod": `unshare --pid --fork --mount-proc` gives a shared pid namespace like a pod with
 * shareProcessNamespace: true, run in its own network namespace (test/sensor/pod-lib.ts: a veth pair to this
 * one, where Seam's ingest endpoint, a metadata stand-in and a service listen), so the socket tables and the TCP
 * counters hold the pod's connections only, as on Fargate. In it, the sensor (the bundle the image ships, under plain node) runs as an
 * unprivileged user with no capability at all (setpriv: empty bounding set, no_new_privs), and a fake app
 * (test/sensor/fake-app.sh) runs as the same user: processes of known lifetimes, an interactive shell, curl to
 * the metadata address (routed by --connect-to to a stand-in outside the pod, since 169.254.169.254 is
 * unreachable here; the metadata-address list is configured to include the stand-in), TCP/UDP connections, a dropped
 * binary, a miner command line, token and credential files held open. A process of another user does some of
 * the same, to show what the sensor cannot see of it. The sensor POSTs over HTTPS (test CA) to the real sidecar ingest endpoint,
 * which writes to the real Kafka; the records are read back, compared with what the app wrote it did, and
 * replayed through `seam replay --rules detections` to see the rt_* rules fire, and through `seam identity explain`
 * with a CloudTrail AssumeRoleWithWebIdentity fixture to see the pod joined to its service account's IRSA session.
 * Before the pod, a visibility matrix: what each kind of prober can read of each kind of target's /proc.
 *
 * Needs root (to create the users and the namespace) and Kafka (npm run services:up). Ends with
 *   sensor: processes=<n> caught=<n> short_lived_caught=<n>/<n> connections=<n> caught=<n> token_reads=<n> caught=<n> cpu_ms_per_s=<x> cpu_budget=within|over rss_mb=<n>
 * It fails on a miss or on memory over budget; CPU is reported against its budget, not failed on (a speed figure).
 * The CPU and memory are the sensor process's own (utime+stime and VmRSS from the host's /proc), over the app's
 * burst and a quiet stretch after it (both printed). The machine is shared and loaded: the load average is printed beside them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, readlinkSync, realpathSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { normalizeRecord } from '../../src/core/normalize/normalize.ts';
import { createNativeEngine } from '../../src/detect/native/engine.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { SidecarSourceConfig } from '../../src/sources/sidecar/config.ts';
import { sha256Hex } from '../../src/sources/sidecar/parse.ts';
import { SidecarSource } from '../../src/sources/sidecar/source.ts';
import { ensureTestTls, ensureUp, endpoints, stop } from '../../deploy/local/services-lib.mjs';
import type { BusMessage, BusProducer } from '../../src/bus/types.ts';
import { buildSensorBundle, createPodNetwork, ensureUser, projectedToken, ROOT, SENSOR_GLIBC_TUNABLES, waitUntil } from './pod-lib.ts';

const INTERVAL_MS = 250; // the sensor's default (src/sensor/config.ts): the figures are for the default
const HOLD_S = 1.2; // what "held" means: ≥ 2 × interval with room for a loaded machine
const LONG_S = [2, 3, 4, 8].map((k) => (k * INTERVAL_MS) / 1000);
const SHORT_S = [0.01, 0.05, 0.125, 0.25, 0.4];
const REPEAT = 8;
const APP_USER = 'seam-sensor-app';
const OTHER_USER = 'seam-sensor-other';
const CPU_BUDGET_MS_PER_S = 25;
// As the image runs it (deploy/docker/Dockerfile, target sensor): a 1 MB young generation, a 24 MB old space, no JIT, and
// glibc's malloc with fixed thresholds (SENSOR_GLIBC_TUNABLES, set on the sensor's command line in the pod; ADR 0012).
const SENSOR_NODE_FLAGS = `--max-semi-space-size=1 --max-old-space-size=24 --v8-pool-size=0 --jitless ${process.env.SENSOR_NODE_EXTRA ?? ''}`.trim(); // SENSOR_NODE_EXTRA: e.g. --cpu-prof to profile a run
const RSS_BUDGET_MB = 64;
// Heartbeats every second here (60 s by default), so a SIGSTOP of a few seconds is several missed intervals.
const HEARTBEAT_MS = 1000;
const HEALTH_PORT = 8766;
const STOPPED_S = 5;

const failures: string[] = [];
const check = (ok: boolean, what: string): void => {
  if (!ok) failures.push(what);
};
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fail(msg: string): never {
  process.stderr.write(`sensor: ${msg}\n`);
  process.exit(1);
}
const onTimeout = (msg: string): never => fail(msg);

if (process.getuid?.() !== 0) fail('must run as root: it creates two users and a pid namespace (unshare) to stand in for a pod');
for (const tool of ['unshare', 'setpriv', 'useradd', 'curl', 'bash', 'tail', 'perl', 'ip']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is not installed`);
}

const app = ensureUser(APP_USER);
const other = ensureUser(OTHER_USER);

const dir = mkdtempSync(join(tmpdir(), 'seam-sensor-'));
chmodSync(dir, 0o755);
const bundle = join(dir, 'seam-sensor.mjs');
try {
  buildSensorBundle(bundle);
} catch (error) {
  fail((error as Error).message);
}
const projected = (base: string, content: string): { path: string; canonical: string } => {
  const path = projectedToken(base, content);
  return { path, canonical: path };
};
const eks = projected(join(dir, 'var/run/secrets/eks.amazonaws.com/serviceaccount'), 'eyJhbGciOiJSUzI1NiJ9.fake-irsa-token.sig');
const k8s = projected(join(dir, 'var/run/secrets/kubernetes.io/serviceaccount'), 'eyJhbGciOiJSUzI1NiJ9.fake-sa-token.sig');
mkdirSync(join(dir, 'home/app/.aws'), { recursive: true });
const awsCreds = join(dir, 'home/app/.aws/credentials');
writeFileSync(awsCreds, '[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE00\n');
const dropDir = join(dir, 'drop');
mkdirSync(dropDir);
for (const p of [join(dir, 'home'), join(dir, 'home/app'), join(dir, 'home/app/.aws'), awsCreds, dropDir]) chownSync(p, app.uid, app.gid);
const truthFile = join(dir, 'truth.log');
writeFileSync(truthFile, '');
chownSync(truthFile, app.uid, app.gid);
chmodSync(truthFile, 0o666);

// ---- the visibility matrix: what a prober can read of a target's /proc, by credentials -------------------
const DOCKER_DEFAULT_CAPS = '-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap';
const as = (who: 'app' | 'other' | 'root-nocaps' | 'root-defaultcaps'): string[] => {
  if (who === 'root-nocaps') return ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
  if (who === 'root-defaultcaps') return ['setpriv', `--inh-caps=${DOCKER_DEFAULT_CAPS}`, `--bounding-set=${DOCKER_DEFAULT_CAPS}`, '--'];
  const u = who === 'app' ? app : other;
  return ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
};
// prctl(PR_SET_DUMPABLE, 0), as programs that hold secrets do (ssh-agent, gpg-agent): syscall 157 on x86_64, 167 on arm64.
const prctlNr = process.arch === 'x64' ? 157 : process.arch === 'arm64' ? 167 : fail(`no prctl syscall number for ${process.arch}`);
const nonDumpable = ['perl', '-e', `syscall(${prctlNr}, 4, 0, 0, 0, 0) == 0 or die "prctl: $!"; sleep 30`];
// Each target with the state it must reach before it is probed: its program exec'd (setpriv gone), and for the prctl
// one, not dumpable any more (its /proc files then belong to root, proc(5)).
const commOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '(gone)';
  }
};
const procUid = (pid: number): number | undefined => {
  try {
    return statSync(`/proc/${pid}/status`).uid;
  } catch {
    return undefined;
  }
};
const execd = (program: string) => (pid: number): boolean => commOf(pid) === program;
const targets: [string, string[], (pid: number) => boolean][] = [
  ['same uid, dumpable', [...as('app'), 'sleep', '30'], execd('sleep')],
  ['same uid, not dumpable (prctl)', [...as('app'), ...nonDumpable], (pid) => commOf(pid) === 'perl' && procUid(pid) === 0],
  ['other uid', [...as('other'), 'sleep', '30'], execd('sleep')],
  ['root with the container default capabilities', [...as('root-defaultcaps'), 'sleep', '30'], execd('sleep')],
];
const probers = ['app', 'other', 'root-nocaps', 'root-defaultcaps'] as const;
say(`sensor: visibility of /proc/<pid>/* (kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}; ok/denied per entry; the prober has no capability unless named)`);
const targetProcs: ChildProcess[] = [];
const matrix: Record<string, Record<string, string>> = {};
try {
  for (const [name, argv, ready] of targets) {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    targetProcs.push(child);
    // Not a fixed 300 ms: under load setpriv may not have exec'd the target yet (or perl not called prctl), and the
    // probe would read setpriv's /proc instead.
    await waitUntil(`the target [${name}] (pid ${child.pid}) to be running its program`, () => ready(child.pid!), {
      timeoutMs: 60_000,
      seen: () => `comm=${commOf(child.pid!)} /proc owner uid=${procUid(child.pid!)}`,
      gone: () => (child.exitCode !== null || child.signalCode !== null ? `it exited (${child.exitCode ?? child.signalCode})` : undefined),
      onTimeout,
    });
    matrix[name] = {};
    for (const who of probers) {
      const r = spawnSync(as(who)[0]!, [...as(who).slice(1), process.execPath, '--max-semi-space-size=1', bundle, '--probe', String(child.pid)], { encoding: 'utf8' });
      const line = r.stdout.trim().split(' ').slice(1).join(' ');
      matrix[name]![who] = line || `probe failed: ${r.stderr.trim()}`;
      say(`  target=[${name}] prober=${who}: ${line}`);
    }
  }
} finally {
  for (const c of targetProcs) c.kill('SIGKILL');
}
const denied = (t: string, who: string, entry: string): boolean => (matrix[t]?.[who] ?? '').includes(`${entry}=denied`);
const readable = (t: string, who: string, entry: string): boolean => (matrix[t]?.[who] ?? '').includes(`${entry}=ok`);
check(readable('same uid, dumpable', 'app', 'fd/0') && readable('same uid, dumpable', 'app', 'exe'), 'same uid and dumpable: exe and fd must be readable');
check(denied('other uid', 'app', 'fd/') && denied('other uid', 'app', 'exe'), 'other uid: exe and fd must be denied');
check(readable('other uid', 'app', 'cmdline') && readable('other uid', 'app', 'status'), 'other uid: cmdline and status must stay readable');
check(denied('same uid, not dumpable (prctl)', 'app', 'fd/') && denied('same uid, not dumpable (prctl)', 'app', 'exe'), 'not dumpable: exe and fd must be denied');
check(denied('root with the container default capabilities', 'root-nocaps', 'fd/0'), 'root without capabilities must be denied the fds of root with capabilities');

// ---- the endpoints the app talks to, and Seam's ingest -----------------------------------------------------
const net = createPodNetwork('sensor');
const META_IP = net.metadataIp; // stands in for 169.254.169.254
const SVC_IP = net.serviceIp;
const held: Socket[] = [];
const fastMetadataPorts: number[] = [];
const metadata: Server = createHttpServer((req, res) => {
  if (req.url?.includes('/api/token')) {
    // IMDSv2 token: answered at once, so the call is over before any scan (only its TIME_WAIT stays).
    fastMetadataPorts.push(req.socket.remotePort ?? 0);
    return res.end('AQAEAFAKETOKEN==');
  }
  // A slow metadata service keeps curl's connection open long enough to be seen (HOLD).
  setTimeout(() => res.end('{"Code":"Success","AccessKeyId":"ASIAEXAMPLE"}'), HOLD_S * 1000);
});
const service = createNetServer((s) => {
  held.push(s);
  s.on('error', () => {});
});
const udp = createSocket('udp4');
const listen = (s: Server | ReturnType<typeof createNetServer>, host: string): Promise<number> =>
  new Promise((r) => s.listen(0, host, () => r((s.address() as { port: number }).port)));
const metaPort = await listen(metadata, META_IP);
const svcPort = await listen(service, SVC_IP);
const udpPort = await new Promise<number>((r) => udp.bind(0, SVC_IP, () => r(udp.address().port)));
const appPort = 20000 + Math.floor(Math.random() * 20000);

// What this script starts it stops at the end (SEAM_KEEP_SERVICES=1 keeps it), as test/deploy and test/soc do.
const startedServices = (await ensureUp(['kafka'], { log: () => {} })).started;
const bus = new KafkaBus({ brokers: endpoints().kafka.brokers, clientId: 'seam-sensor-test', replicationFactor: 1 });
await bus.ensureTopics([{ topic: TOPICS.raw('runtime'), partitions: 6 }]);
const TOKEN = `sensor-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const cluster = `sensor-test-${Date.now().toString(36)}`;
const podName = `checkout-${Date.now().toString(36)}`;
// The heartbeats the ingest endpoint passes on (time, scans): the test waits on the sensor's scans, not on the clock.
const heartbeatsSeen: { t: number; scans: number }[] = [];
const kafkaProducer = await bus.producer();
const producer: BusProducer = {
  send: (messages: BusMessage[]) => {
    for (const m of messages) {
      try {
        const r = JSON.parse(m.value.toString()) as { kind?: string; pod?: string; time?: string; heartbeat?: { counters?: { scans?: number } } };
        if (r.kind === 'heartbeat' && r.pod === podName) heartbeatsSeen.push({ t: Date.parse(String(r.time)), scans: Number(r.heartbeat?.counters?.scans ?? 0) });
      } catch {
        // not a record: what reached Kafka is read back and checked below
      }
    }
    return kafkaProducer.send(messages);
  },
  close: () => kafkaProducer.close(),
};
const beatsText = (): string => `${heartbeatsSeen.length} heartbeats, last ${JSON.stringify(heartbeatsSeen.at(-1) ?? null)}`;
const scansNow = (): number => Math.max(0, ...heartbeatsSeen.map((h) => h.scans));
// The ingest endpoint over HTTPS, as in production (ADR 0012): the measured peak RSS then includes the tls module,
// OpenSSL's state for the handshakes and the live connection the sensor keeps to the endpoint. Its certificate is
// for the endpoint's own address, signed by the project's test CA (deploy/local/services-lib.mjs, .cache/tls);
// the sensor trusts that CA alone (SEAM_INGEST_CA_FILE, a copy it can read as its unprivileged user).
const testTls = await ensureTestTls();
const ingestCa = join(dir, 'ingest-ca.pem');
copyFileSync(testTls.ca, ingestCa);
chmodSync(ingestCa, 0o644);
const ingestKey = join(dir, 'ingest.key');
const ingestCert = join(dir, 'ingest.crt');
const ossl = (...args: string[]): void => {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) fail(`openssl ${args.join(' ')} failed: ${r.stderr}`);
};
writeFileSync(join(dir, 'ingest.ext'), `subjectAltName=IP:${net.hostIp}\nextendedKeyUsage=serverAuth\n`);
ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', ingestKey, '-out', join(dir, 'ingest.csr'), '-subj', `/CN=${net.hostIp}`);
// -set_serial, not -CAcreateserial: the shared .cache/tls stays untouched.
ossl('x509', '-req', '-in', join(dir, 'ingest.csr'), '-CA', testTls.ca, '-CAkey', join(testTls.dir, 'ca.key'), '-set_serial', `0x${Date.now().toString(16)}`, '-out', ingestCert, '-days', '2', '-extfile', join(dir, 'ingest.ext'));
const ingest = new SidecarSource(SidecarSourceConfig.parse({ type: 'sidecar', host: net.hostIp, port: 0, tls: { certFile: ingestCert, keyFile: ingestKey }, tokens: [{ id: 'sensor-test', sha256: sha256Hex(TOKEN), cluster, account: '111122223333', workload: 'shop/checkout', serviceAccount: 'checkout' }] }), { producer });
const ingestUrl = await ingest.listen();
if (!ingestUrl.startsWith('https://')) fail(`the ingest endpoint is not HTTPS: ${ingestUrl}`);

// ---- the pod -----------------------------------------------------------------------------------------------
const podScript = join(dir, 'pod.sh');
// The app starts when the test says so, not a fixed 4 s after the sensor: on a loaded machine node took longer than
// that to start, and the app was then already running (or partly over) at the sensor's first scan.
const appTrigger = join(dir, 'app.fifo');
execFileSync('mkfifo', ['-m', '0600', appTrigger]);
writeFileSync(
  podScript,
  `#!/bin/sh
# pid 1 of the test pod: the sensor container, then the app container, then another user's process.
GLIBC_TUNABLES=${SENSOR_GLIBC_TUNABLES} ${as('app').join(' ')} ${process.execPath} ${SENSOR_NODE_FLAGS} ${bundle} 2> ${dir}/sensor.err &
read go < ${appTrigger}
${as('app').join(' ')} sh ${join(ROOT, 'test/sensor/fake-app.sh')} &
${as('other').join(' ')} bash -c "exec 3<>/dev/tcp/${SVC_IP}/${svcPort}; exec 5< ${k8s.path}; sleep ${HOLD_S * 3}" &
echo "other $!" >> ${truthFile}
wait
`,
);
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  SEAM_LOG_LEVEL: 'info',
  SEAM_POD_NAMESPACE: 'shop',
  SEAM_POD_NAME: podName,
  SEAM_POD_UID: `uid-${podName}`,
  SEAM_POD_SERVICE_ACCOUNT: 'checkout',
  SEAM_NODE_NAME: 'fargate-ip-10-0-142-21.us-west-2.compute.internal',
  SEAM_ACCOUNT: '111122223333',
  SEAM_REGION: 'us-west-2',
  SEAM_CLUSTER: cluster,
  SEAM_CONTAINERS: 'app=111122223333.dkr.ecr.us-west-2.amazonaws.com/checkout:1.0.0',
  SEAM_INGEST_URL: ingestUrl,
  SEAM_INGEST_TOKEN: TOKEN,
  SEAM_INGEST_CA_FILE: ingestCa,
  // The real addresses plus the local stand-in (the real ones are unreachable from here).
  SEAM_METADATA_ADDRESSES: `169.254.169.254,169.254.170.2,169.254.170.23,${META_IP}`,
  SEAM_SENSITIVE_PATHS: [eks.canonical, k8s.canonical, '*/.aws/credentials', '/etc/shadow'].join(','),
  SEAM_SENSOR_HEARTBEAT_MS: String(HEARTBEAT_MS),
  SEAM_SENSOR_HEALTH_PORT: String(HEALTH_PORT),
  // fake-app.sh
  TRUTH: truthFile,
  LONG_S: LONG_S.join(' '),
  SHORT_S: SHORT_S.join(' '),
  REPEAT: String(REPEAT),
  HOLD: String(HOLD_S),
  META_PORT: String(metaPort),
  SVC_PORT: String(svcPort),
  UDP_PORT: String(udpPort),
  APP_PORT: String(appPort),
  APP_IP: net.podIp,
  META_IP,
  SVC_IP,
  NODE: process.execPath,
  TOKEN_EKS: eks.path,
  TOKEN_EKS_C: eks.canonical,
  TOKEN_K8S: k8s.path,
  TOKEN_K8S_C: k8s.canonical,
  AWS_CREDS: awsCreds,
  DROP_DIR: dropDir,
};
const pod = spawn(net.exec[0]!, [...net.exec.slice(1), 'unshare', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', podScript], { env, stdio: 'ignore' });

const hostPids = (): number[] => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
const cmdlineOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};
// Waits on the conditions themselves (the CI machine has 2 cores at load 5-20): the bounds only catch a hang, and say
// what was awaited and what was seen.
const errText = (): string => (existsSync(join(dir, 'sensor.err')) ? readFileSync(join(dir, 'sensor.err'), 'utf8') : '');
const podGone = (): string | undefined => (pod.exitCode !== null || pod.signalCode !== null ? `the pod exited (${pod.exitCode ?? pod.signalCode})` : undefined);
// The node binary running the bundle, not a wrapper whose arguments name it: by its executable, not its comm (Node 24
// names its main thread MainThread).
const nodeExe = realpathSync(process.execPath);
const exeOf = (pid: number): string => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
};
let sensorPid: number | undefined;
await waitUntil('the sensor process (node running the bundle) in the pod', () => (sensorPid = hostPids().find((p) => cmdlineOf(p).includes(bundle) && exeOf(p) === nodeExe)) !== undefined, {
  timeoutMs: 120_000,
  seen: () => `sensor log: ${errText().slice(-500) || '(empty)'}`,
  gone: podGone,
  everyMs: 100,
  onTimeout,
});
if (sensorPid === undefined) fail('the sensor did not start in the pod');
const sampleCpu = (): number => {
  const t = readFileSync(`/proc/${sensorPid}/stat`, 'utf8');
  const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ms (USER_HZ = 100)
};
const rssKb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${sensorPid}/status`, 'utf8'))?.[1] ?? 0);
await waitUntil("the sensor's 'Sensor started' line", () => errText().includes('Sensor started'), { timeoutMs: 120_000, seen: () => `sensor log: ${errText().slice(-500) || '(empty)'}`, gone: podGone, onTimeout });
// Start-up (module load, the first compilations of the scan code) is not the steady cost: the sensor scans the idle
// pod for 8 scans (2 s at the default interval; counted from its heartbeats, since a loaded machine delays scans)
// before the measurement starts, and the app starts 4 scans (~1 s) after that.
const WARM_SCANS = 2000 / INTERVAL_MS;
await waitUntil(`a heartbeat reporting ${WARM_SCANS} scans of the idle pod at the ingest endpoint`, () => scansNow() >= WARM_SCANS, { timeoutMs: 120_000, seen: beatsText, gone: podGone, onTimeout });
const cpu0 = sampleCpu();
const t0 = Date.now();
let maxRssKb = rssKb();
const scans0 = scansNow();
await waitUntil(`a heartbeat reporting 4 more scans (${scans0 + 4})`, () => scansNow() >= scans0 + 4, { timeoutMs: 120_000, seen: beatsText, gone: podGone, onTimeout });
const goFd = openSync(appTrigger, 'w');
writeSync(goFd, 'go\n');
closeSync(goFd);

// Inbound: the test connects to the app's server and holds the connection.
const truthText = (): string => readFileSync(truthFile, 'utf8');
await waitUntil("the app's server to say it listens ('server <pid>' in the truth file)", () => truthText().includes('server '), { timeoutMs: 120_000, seen: () => `truth: ${truthText().trim().split('\n').slice(-5).join('; ') || '(empty)'}`, gone: podGone, onTimeout });
let inbound: Socket | undefined;
const connectBy = Date.now() + 60_000;
let connectError = '';
while (inbound === undefined && Date.now() < connectBy) {
  inbound = await new Promise<Socket | undefined>((r) => {
    const s = connect(appPort, net.podIp, () => r(s));
    s.on('error', (e) => {
      connectError = e.message;
      r(undefined);
    });
  });
  if (inbound === undefined) await sleep(100);
}
if (inbound === undefined) fail(`waited 60 s to connect to the app's server at ${net.podIp}:${appPort}; last error: ${connectError}`);
const inboundLocalPort = inbound?.localPort;
const busyUntil = Date.now() + HOLD_S * 1000;
// The app's burst, bounded only against a hang (the app's own run is a few seconds on a quiet machine).
while (!truthText().includes('done') && Date.now() - t0 < 300_000) {
  await sleep(100);
  maxRssKb = Math.max(maxRssKb, rssKb());
  if (inbound && Date.now() > busyUntil) {
    inbound.destroy();
    inbound = undefined;
  }
}
inbound?.destroy();
if (!truthText().includes('done')) fail(`waited 300 s for the app to finish ('done' in the truth file); truth ends: ${truthText().trim().split('\n').slice(-5).join('; ')}`);
// The sensor has scanned 3 times since the app finished (was a fixed 3 intervals, which a loaded machine stretches):
// the first heartbeat sent after 'done' bounds the scans before it from above, one 3 scans past it follows them.
const doneAt = Date.now();
await waitUntil("a heartbeat sent after the app's end", () => heartbeatsSeen.some((h) => h.t >= doneAt), { timeoutMs: 120_000, seen: beatsText, gone: podGone, onTimeout });
const scansAtDone = heartbeatsSeen.find((h) => h.t >= doneAt)!.scans;
await waitUntil(`a heartbeat reporting 3 scans after the app's end (${scansAtDone + 3})`, () => scansNow() >= scansAtDone + 3, { timeoutMs: 120_000, seen: beatsText, gone: podGone, onTimeout });
const cpuBusy = sampleCpu() - cpu0;
const busySec = (Date.now() - t0) / 1000;
// An idle stretch: the pod runs nothing new.
const cpu1 = sampleCpu();
const t1 = Date.now();
while (Date.now() - t1 < 4000) {
  await sleep(200);
  maxRssKb = Math.max(maxRssKb, rssKb());
}
const idleSec = (Date.now() - t1) / 1000;
const cpuIdle = (sampleCpu() - cpu1) / idleSec;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- tamper: the app's UID stops the sensor (SIGSTOP), as code in the app can (review-ops M7) --------------------
/** The liveness probe's view: the status, or 0 when nothing answers within 1 s (what the kubelet's timeout sees). */
const probe = async (): Promise<number> => {
  try {
    return (await fetch(`http://${net.podIp}:${HEALTH_PORT}/healthz`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
};
const lastSeenS = (): number | undefined => {
  const p = ingest.snapshot().sensorsLastSeen.find((x) => x.pod === podName);
  return p === undefined ? undefined : p.ageMs / 1000;
};
const probeBefore = await probe();
const seenBefore = lastSeenS();
check(probeBefore === 200, `the sensor's /healthz answered ${probeBefore} while it ran`);
check(seenBefore !== undefined && seenBefore < (2 * HEARTBEAT_MS) / 1000 + 1, `seam_sidecar_last_seen_seconds was ${seenBefore} while the sensor ran`);
const stoppedAt = Date.now();
spawnSync(as('app')[0]!, [...as('app').slice(1), 'kill', '-STOP', String(sensorPid)]);
await sleep(STOPPED_S * 1000);
const probeStopped = await probe();
const seenStopped = lastSeenS();
check(probeStopped === 0, `the stopped sensor's /healthz answered ${probeStopped} (the probe must time out)`);
check(seenStopped !== undefined && seenStopped >= STOPPED_S - 1, `seam_sidecar_last_seen_seconds was ${seenStopped} after ${STOPPED_S} s stopped`);
spawnSync(as('app')[0]!, [...as('app').slice(1), 'kill', '-CONT', String(sensorPid)]);
let seenAgain = lastSeenS();
// The first heartbeat after SIGCONT (was 6 s at most; a loaded machine can take longer to schedule the sensor).
const resumeBy = Date.now() + 60_000;
while ((seenAgain === undefined || seenAgain > 1.5) && Date.now() < resumeBy) {
  await sleep(100);
  seenAgain = lastSeenS();
}
const resumedAfterS = (Date.now() - stoppedAt) / 1000 - STOPPED_S;
say(
  `  tamper (the app's UID sends SIGSTOP for ${STOPPED_S} s, heartbeat every ${HEARTBEAT_MS / 1000} s): /healthz ${probeBefore} -> ${probeStopped === 0 ? 'no answer in 1 s' : probeStopped}; ` +
    `seam_sidecar_last_seen_seconds ${seenBefore?.toFixed(1)} -> ${seenStopped?.toFixed(1)} -> ${seenAgain?.toFixed(1)} ${resumedAfterS.toFixed(1)} s after SIGCONT`,
);
check(seenAgain !== undefined && seenAgain <= 1.5, 'no heartbeat reached the endpoint after SIGCONT');

process.kill(sensorPid, 'SIGTERM');
const exitBy = Date.now() + 60_000; // its drain after SIGTERM, bounded against a hang (was 30 s)
while (Date.now() < exitBy && existsSync(`/proc/${sensorPid}`) && !readFileSync(`/proc/${sensorPid}/stat`, 'utf8').includes(') Z')) await sleep(50);
pod.kill('SIGKILL');
const sensorErr = readFileSync(join(dir, 'sensor.err'), 'utf8');
const summary = sensorErr.split('\n').find((l) => l.startsWith('sensor: ')) ?? '(the sensor printed no summary)';
say(`  sensor's own summary: ${summary.replace(/^sensor: /, '')}`);
check(/ spooled=0 dropped=0 /.test(summary), 'the sensor exited with records not delivered (spooled or dropped): see its summary');

// ---- what reached Kafka ------------------------------------------------------------------------------------
type Rec = Record<string, unknown> & { kind: string; process?: Record<string, unknown>; network?: Record<string, unknown>; file?: Record<string, unknown> };
const records: Rec[] = [];
await bus.readToEnd([TOPICS.raw('runtime')], (m) => {
  const v = JSON.parse(m.value.toString()) as Rec;
  if (v.pod === podName) records.push(v);
});
await ingest.close();
await bus.close();
metadata.close();
service.close();
udp.close();
for (const s of held) s.destroy();
check(records.length > 0, 'no record of the pod reached Kafka');
check(new Set(records.map((r) => r.id)).size === records.length, 'a record reached Kafka twice');

// The heartbeats: one sensor start, numbered 1, 2, 3 … without a gap or a repeat, the last one stopping, and the SIGSTOP a gap of several intervals.
const beats = records.filter((r) => r.kind === 'heartbeat').map((r) => ({ t: Date.parse(String(r.time)), hb: r.heartbeat as { seq: number; sensor_start: string; stopping?: boolean; counters?: { scans?: number } } }));
beats.sort((x, y) => x.hb.seq - y.hb.seq);
const gapMs = Math.max(0, ...beats.slice(1).map((b, i) => b.t - beats[i]!.t));
check(beats.length >= 3, `only ${beats.length} heartbeats reached Kafka`);
check(beats.every((b, i) => b.hb.seq === i + 1) && new Set(beats.map((b) => b.hb.sensor_start)).size === 1, `heartbeat numbers are not 1..n from one start: ${beats.map((b) => b.hb.seq).join(',')}`);
check(beats.at(-1)?.hb.stopping === true && beats.slice(0, -1).every((b) => b.hb.stopping !== true), 'the last heartbeat (SIGTERM) must say stopping, and only it');
check(gapMs >= (STOPPED_S - 1) * 1000, `the SIGSTOP left no gap in the heartbeats (longest ${gapMs} ms)`);
say(`  heartbeats: ${beats.length}, seq 1..${beats.at(-1)?.hb.seq}, longest gap ${(gapMs / 1000).toFixed(1)} s (the SIGSTOP), last stopping=${beats.at(-1)?.hb.stopping === true}`);

const truth = truthText().trim().split('\n').map((l) => l.split(' '));
const procs = records.filter((r) => r.kind === 'process');
const programOf = (r: Rec): string => String(r.process?.exe ?? '').split('/').pop() ?? '';
const sawProcess = (pid: number, program: string): boolean => procs.some((r) => r.process?.pid === pid && programOf(r) === program);
const long = truth.filter((t) => t[0] === 'proc' && t[2] === 'long');
const short = truth.filter((t) => t[0] === 'proc' && t[2] === 'short');
const longCaught = long.filter((t) => sawProcess(Number(t[1]), t[4]!));
const shortCaught = short.filter((t) => sawProcess(Number(t[1]), t[4]!));
for (const t of long) if (!longCaught.includes(t)) failures.push(`missed a process living ${t[3]} s: pid ${t[1]} ${t[4]}`);
say(`  short-lived processes caught, by lifetime: ${SHORT_S.map((s) => `${s * 1000} ms ${short.filter((t) => Number(t[3]) === s && shortCaught.includes(t)).length}/${short.filter((t) => Number(t[3]) === s).length}`).join(', ')}`);

const nets = records.filter((r) => r.kind === 'network');
const conns = truth.filter((t) => t[0] === 'conn');
const connCaught = conns.filter((t) => nets.some((r) => r.process?.pid === Number(t[1]) && (t[2] !== 'metadata' || r.network?.metadata_endpoint === true)));
for (const t of conns) if (!connCaught.includes(t)) failures.push(`missed connection ${t[2]} of pid ${t[1]}`);
const serverPid = Number(truth.find((t) => t[0] === 'server')?.[1]);
const inboundSeen = nets.some((r) => r.network?.direction === 'ingress' && r.network?.src_port === inboundLocalPort && r.process?.pid === serverPid);
check(inboundSeen, `missed the inbound connection to the app's server (pid ${serverPid})`);
const connections = conns.length + 1;
const connectionsCaught = connCaught.length + (inboundSeen ? 1 : 0);
const flagged = nets.filter((r) => r.network?.metadata_endpoint === true);
check(flagged.every((r) => r.network?.dst_ip === META_IP), 'a connection not to a metadata address was flagged');

const afterExit = nets.filter((r) => r.owner === 'exited' && r.network?.metadata_endpoint === true).map((r) => r.network?.src_port);
const fastSeen = fastMetadataPorts.filter((p) => afterExit.includes(p));
say(`  metadata calls over in milliseconds, seen afterwards by their TIME_WAIT socket (no process): ${fastSeen.length}/${fastMetadataPorts.length}`);
check(fastMetadataPorts.length === 3 && fastSeen.length === fastMetadataPorts.length, 'every finished metadata call must be seen by its TIME_WAIT socket');

const files = records.filter((r) => r.kind === 'file');
const reads = truth.filter((t) => t[0] === 'read');
const readCaught = reads.filter((t) => files.some((r) => r.process?.pid === Number(t[1]) && r.file?.path === t[2]));
for (const t of reads) if (!readCaught.includes(t)) failures.push(`missed the read of ${t[2]} by pid ${t[1]}`);
const shortReads = truth.filter((t) => t[0] === 'shortread');
const shortReadCaught = shortReads.filter((t) => files.some((r) => r.process?.pid === Number(t[1])));

// The other user's process: seen (cmdline is world-readable), but not its program path, descriptors or socket owner.
const otherPid = Number(truth.find((t) => t[0] === 'other')?.[1]);
const otherRec = procs.find((r) => r.process?.pid === otherPid);
const otherUnowned = nets.filter((r) => r.owner === 'unknown' && r.network?.dst_port === svcPort);
const otherRead = files.some((r) => r.process?.pid === otherPid);
say(
  `  other uid (${OTHER_USER}) seen by the sensor (${APP_USER}): process=${otherRec ? 'yes' : 'no'} exe_verified=${otherRec && otherRec.process?.exe_unverified !== true ? 'yes' : 'no'} ` +
    `connection=${otherUnowned.length > 0 ? 'yes, owner unknown' : 'no'} token_read=${otherRead ? 'yes' : 'no'}`,
);
check(otherRec !== undefined && otherRec.process?.exe_unverified === true, 'the other user\'s process must be reported, its exe marked unverified');
check(otherUnowned.length > 0, 'the other user\'s connection must be reported without owner');

// ---- the rules -----------------------------------------------------------------------------------------------
const input = join(dir, 'records.jsonl');
writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
const alertsFile = join(dir, 'alerts.jsonl');
const replay = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', input, '--rules', join(ROOT, 'detections'), '--alerts-out', alertsFile, '--dlq', join(dir, 'dlq.jsonl'), '--cluster', cluster], {
  cwd: ROOT,
  encoding: 'utf8',
  env: { ...process.env, SEAM_LOG_LEVEL: 'warn' },
  maxBuffer: 64 * 1024 * 1024,
});
check(replay.status === 0, `seam replay failed: ${replay.stderr.slice(-500)}`);
check(/rejected=0\b/.test(replay.stderr), `some sensor records were rejected by normalization: ${replay.stderr.split('\n').find((l) => l.startsWith('replay:'))}`);
const ruleNames = new Map<string, string>();
for (const f of readdirSync(join(ROOT, 'detections/runtime')).filter((n) => n.endsWith('.yml') && !n.endsWith('.test.yml'))) {
  const y = readFileSync(join(ROOT, 'detections/runtime', f), 'utf8');
  const id = /^id: (\S+)/m.exec(y)?.[1];
  if (id) ruleNames.set(id, /^name: (\S+)/m.exec(y)?.[1] ?? f);
}
const fired = new Map<string, number>();
for (const line of (existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8') : '').split('\n')) {
  if (line.trim() === '') continue;
  const a = JSON.parse(line) as { rule: { title: string; id: string } };
  const name = ruleNames.get(a.rule.id) ?? a.rule.title;
  fired.set(name, (fired.get(name) ?? 0) + 1);
}
say(`  rules fired on the sensor's records: ${[...fired].map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
for (const rule of [
  'rt_interactive_shell_started_in_container',
  'rt_cloud_credentials_requested_from_metadata_endpoint',
  'rt_service_account_token_read_by_shell_tool',
  'rt_binary_executed_from_temporary_directory',
  'rt_reverse_shell_command_run_in_container',
  'rt_cryptomining_pool_contacted',
]) {
  check(fired.has(rule), `${rule} did not fire`);
}

// ---- the heartbeats through the native detections (the correlate role's engine; seam replay runs natives only with a seam.yml) ----
// The SIGSTOP's gap (5 intervals) with no audit plane beside it: the silence detection, at low; one sensor: no regression.
const engine = createNativeEngine({ only: ['seam-native-runtime-sensor-silent', 'seam-native-runtime-sensor-sequence-regression'] });
const nativeAlerts = records
  .filter((r) => r.kind === 'heartbeat')
  .sort((x, y) => Date.parse(String(x.time)) - Date.parse(String(y.time)))
  .flatMap((r) => {
    const n = normalizeRecord(r, { collector: 'sidecar', receivedAt: new Date().toISOString(), cluster });
    if (!n.ok) {
      failures.push(`a heartbeat does not normalize: ${n.error.message}`);
      return [];
    }
    return engine.process(n.value);
  });
nativeAlerts.push(...engine.flush());
say(`  native detections on the heartbeats: ${nativeAlerts.map((a) => `${a.rule.id}(${a.rule.level}): ${a.summary}`).join('; ') || '(none)'}`);
check(nativeAlerts.some((a) => a.rule.id === 'seam-native-runtime-sensor-silent'), 'seam-native-runtime-sensor-silent did not fire on the SIGSTOP gap');
check(!nativeAlerts.some((a) => a.rule.id === 'seam-native-runtime-sensor-sequence-regression'), 'seam-native-runtime-sensor-sequence-regression fired on one sensor');

// ---- the join to the service account's IRSA session ----------------------------------------------------------
// A CloudTrail fixture: the pod's service account exchanging its projected token for the checkout-irsa role now.
const oidc = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const sessionArn = 'arn:aws:sts::111122223333:assumed-role/checkout-irsa/botocore-session-1';
const cloudtrail = join(dir, 'cloudtrail.jsonl');
writeFileSync(
  cloudtrail,
  JSON.stringify({
    eventVersion: '1.09',
    userIdentity: { type: 'WebIdentityUser', principalId: `${oidc}:sts.amazonaws.com:system:serviceaccount:shop:checkout`, userName: 'system:serviceaccount:shop:checkout', identityProvider: oidc },
    eventTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoleWithWebIdentity',
    awsRegion: 'us-west-2',
    sourceIPAddress: '10.0.142.21',
    userAgent: 'Boto3/1.35.54',
    requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/checkout-irsa', roleSessionName: 'botocore-session-1', durationSeconds: 3600 },
    responseElements: {
      credentials: { accessKeyId: 'ASIASENSORTEST000001', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE', expiration: new Date(Date.now() + 3600_000).toUTCString() },
      subjectFromWebIdentityToken: 'system:serviceaccount:shop:checkout',
      assumedRoleUser: { assumedRoleId: 'AROAEXAMPLESENSOR0001:botocore-session-1', arn: sessionArn },
      provider: oidc,
      audience: 'sts.amazonaws.com',
    },
    requestID: `req-${podName}`,
    eventID: `evt-${podName}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
  }) + '\n',
);
const explain = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'identity', 'explain', 'shop/checkout', '--input', input, cloudtrail, '--cluster', cluster], {
  cwd: ROOT,
  encoding: 'utf8',
  env: { ...process.env, SEAM_LOG_LEVEL: 'warn' },
});
const joined = explain.stdout.includes(`pod shop/${podName}`) && explain.stdout.includes(`web identity session ${sessionArn}`);
say(`  identity join (seam identity explain shop/checkout over the sensor's records + a CloudTrail AssumeRoleWithWebIdentity): ${joined ? `pod shop/${podName} ↔ ${sessionArn}` : 'NOT JOINED'}`);
check(joined, `the service account's pod (from the sensor) and its IRSA session (from CloudTrail) are not joined: ${explain.stdout}${explain.stderr}`);

// The budget figure is the whole measured run: the app's burst (~15 process starts a second) and the quiet
// stretch after it, both at the default interval. The burst alone is printed beside it.
const cpuBusyPerSec = cpuBusy / busySec;
const cpuPerSec = (cpuBusy + cpuIdle * idleSec) / (busySec + idleSec);
const rssMb = Math.round(maxRssKb / 1024);
// CPU is a speed figure: reported against its budget, never a pass/fail line here (speed lives in benchmarks; on
// 2 shared cores the same build measured 23.4 and 25.9 ms/s in two CI runs). Memory stays a check.
const cpuBudget = cpuPerSec < CPU_BUDGET_MS_PER_S ? 'within' : 'over';
check(rssMb < RSS_BUDGET_MB, `sensor RSS ${rssMb} MB is over the ${RSS_BUDGET_MB} MB budget`);
say(`  cost: ${cpuPerSec.toFixed(1)} ms CPU/s over the run = burst ${cpuBusyPerSec.toFixed(1)} ms/s over ${busySec.toFixed(1)} s + quiet ${cpuIdle.toFixed(1)} ms/s over ${idleSec.toFixed(1)} s, peak VmRSS ${rssMb} MB; interval ${INTERVAL_MS} ms; load average ${load} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} shared cores`);
say(`  short token reads (cat, milliseconds) caught: ${shortReadCaught.length}/${shortReads.length} (a blind spot of polling, ADR 0012)`);
if (process.env.SENSOR_KEEP) say(`  kept: ${dir}`);
else rmSync(dir, { recursive: true, force: true });
if (failures.length > 0) {
  for (const f of failures) process.stderr.write(`sensor: FAIL ${f}\n`);
}
say(
  `sensor: processes=${long.length} caught=${longCaught.length} short_lived_caught=${shortCaught.length}/${short.length} connections=${connections} caught=${connectionsCaught} ` +
    `token_reads=${reads.length} caught=${readCaught.length} cpu_ms_per_s=${cpuPerSec.toFixed(1)} cpu_budget=${cpuBudget} rss_mb=${rssMb}`,
);
if (startedServices.length > 0 && !process.env.SEAM_KEEP_SERVICES) await stop(startedServices, { log: () => {} }).catch((e: unknown) => process.stderr.write(`sensor: stopping Kafka failed: ${(e as Error).message}\n`));
process.exit(failures.length > 0 ? 1 : 0);
