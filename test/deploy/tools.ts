/**
 * The tools `npm run test:deploy` needs, installed by the project into .cache/ when absent, from the Go module proxy
 * with the machine's Go toolchain (nothing from any other site):
 *   - helm: `go install helm.sh/helm/v3/cmd/helm@<HELM_VERSION>` (a cold build takes minutes on 2 cores: it is
 *     kept in .cache/helm/<version>/helm and reused);
 *   - the Kubernetes OpenAPI schema: api/openapi-spec/swagger.json of the Go module k8s.io/kubernetes at the
 *     Kubernetes release that matches helm's client libraries (k8s.io/api v0.37 = Kubernetes 1.37);
 *   - the ServiceMonitor CRD: example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml of the Go
 *     module github.com/prometheus-operator/prometheus-operator.
 * Run alone: node bin/tsx-run.mjs test/deploy/tools.ts  (prints the paths, installing what is missing).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CACHE = join(ROOT, '.cache');
export const HELM_VERSION = 'v3.22.0';
export const KUBERNETES_VERSION = 'v1.37.2';
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';

export interface Tool {
  path: string;
  /** Seconds spent installing it now; 0 when it was already in .cache. */
  installSeconds: number;
}

function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // GOTOOLCHAIN=local: build with this machine's Go, never fetch another; GOFLAGS cleared so a user's -mod=vendor
  // or similar cannot change what is built.
  return { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0', ...extra };
}

/** Runs go; a failed download or build is tried once more (a module proxy's transient error must not fail `npm test`). */
function go(args: string[], env: NodeJS.ProcessEnv, what: string, log: (s: string) => void = () => {}): string {
  for (let attempt = 1; ; attempt++) {
    const p = spawnSync('go', args, { cwd: CACHE, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (p.error) throw new Error(`${what}: cannot run go (${p.error.message}); the Go toolchain must be on PATH`);
    if (p.status === 0) return p.stdout;
    const problem = `${what}: go ${args.join(' ')} exited ${p.status}:\n${(p.stderr || p.stdout).slice(-4000)}`;
    if (attempt >= 2) throw new Error(problem);
    log(`${problem.split('\n').slice(0, 3).join(' | ')}; trying once more`);
  }
}

/** The directory of a module version in the module cache (downloaded from the module proxy when missing). */
function moduleDir(module: string, version: string, log: (s: string) => void): string {
  const out = go(['mod', 'download', '-json', `${module}@${version}`], goEnv(), `downloading ${module}@${version}`, log);
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`downloading ${module}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}

/** helm, built from source into .cache/helm/<version>/helm when absent. */
export function ensureHelm(log: (s: string) => void = () => {}): Tool {
  const dir = join(CACHE, 'helm', HELM_VERSION);
  const path = join(dir, 'helm');
  if (existsSync(path)) return { path, installSeconds: 0 };
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`installing helm ${HELM_VERSION}: go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION} (from the Go module proxy; a cold build takes minutes)`);
  const t0 = Date.now();
  try {
    go(['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], goEnv({ GOBIN: tmp }), `building helm ${HELM_VERSION}`, log);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const installSeconds = (Date.now() - t0) / 1000;
  log(`helm ${HELM_VERSION} built in ${installSeconds.toFixed(1)} s -> ${path}`);
  return { path, installSeconds };
}

function ensureFile(target: string, module: string, version: string, inModule: string, log: (s: string) => void): Tool {
  if (existsSync(target)) return { path: target, installSeconds: 0 };
  const t0 = Date.now();
  log(`fetching ${inModule} of ${module}@${version} (Go module proxy)`);
  const src = join(moduleDir(module, version, log), inModule);
  if (!existsSync(src)) throw new Error(`${module}@${version} has no ${inModule}`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  renameSync(tmp, target);
  return { path: target, installSeconds: (Date.now() - t0) / 1000 };
}

/** The Kubernetes OpenAPI v2 schema (swagger.json) of KUBERNETES_VERSION. */
export function ensureKubernetesSchema(log: (s: string) => void = () => {}): Tool {
  return ensureFile(join(CACHE, 'kubernetes-openapi', KUBERNETES_VERSION, 'swagger.json'), 'k8s.io/kubernetes', KUBERNETES_VERSION, 'api/openapi-spec/swagger.json', log);
}

/** The prometheus-operator ServiceMonitor CustomResourceDefinition (YAML). */
export function ensureServiceMonitorCrd(log: (s: string) => void = () => {}): Tool {
  return ensureFile(
    join(CACHE, 'prometheus-operator', PROMETHEUS_OPERATOR_VERSION, 'monitoring.coreos.com_servicemonitors.yaml'),
    'github.com/prometheus-operator/prometheus-operator',
    PROMETHEUS_OPERATOR_VERSION,
    'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
    log,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const log = (s: string): void => void process.stderr.write(`tools: ${s}\n`);
  for (const t of [ensureHelm(log), ensureKubernetesSchema(log), ensureServiceMonitorCrd(log)]) {
    process.stdout.write(`${t.path}${t.installSeconds > 0 ? ` (installed in ${t.installSeconds.toFixed(1)} s)` : ''}\n`);
  }
}
