// Types for services-lib.mjs (plain JS so it runs before anything is compiled), for test/global-setup.ts.
export type ServiceName = 'kafka' | 'opensearch' | 'moto';

export const ROOT: string;
export const CACHE: string;
export const SERVICE_NAMES: readonly ServiceName[];

export interface Endpoints {
  kafka: { url: string; brokers: string[]; host: string; port: number; controllerPort: number; tlsPort?: number; saslPort?: number };
  opensearch: { url: string; host: string; port: number; transportPort: number };
  moto: { url: string; host: string; port: number };
}

export interface ServiceStatus {
  name: ServiceName;
  url: string;
  up: boolean;
  /** Pid of the process services-lib started, or null when it is not ours (or not running). */
  pid: number | null;
}

export interface EnsureResult {
  name: ServiceName;
  url: string;
  /** True when this call started it; false when something was already answering. */
  started: boolean;
  /** Provisioning plus start time, in milliseconds (0 when it was already up). */
  ms: number;
}

export interface Options {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export function endpoints(env?: NodeJS.ProcessEnv): Endpoints;
export function probe(name: ServiceName, env?: NodeJS.ProcessEnv): Promise<boolean>;
export function status(names?: readonly ServiceName[], env?: NodeJS.ProcessEnv): Promise<ServiceStatus[]>;
export function ensureUp(
  names?: readonly ServiceName[],
  options?: Options,
): Promise<{ started: ServiceName[]; results: EnsureResult[] }>;
export function stop(names?: readonly ServiceName[], options?: Options): Promise<ServiceName[]>;

export interface TestTlsFiles {
  dir: string;
  /** The test CA (PEM) that signed the server and client certificates. */
  ca: string;
  serverPem: string;
  serverKey: string;
  serverCert: string;
  clientCert: string;
  clientKey: string;
  /** A second CA and a client certificate it signed: a certificate the services do not trust. */
  rogueCa: string;
  rogueClientCert: string;
  rogueClientKey: string;
}
export function ensureTestTls(log?: (line: string) => void): Promise<TestTlsFiles>;
export const KAFKA_TEST_USERS: readonly { name: string; password: string }[];
