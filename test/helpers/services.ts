// Where the integration tests find Kafka, OpenSearch and the AWS emulator, and names that never collide
// between test files, runs, or engineers sharing one set of local services.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export interface SeamEndpoints {
  kafkaBrokers: string[];
  opensearchUrl: string;
  awsEndpoint: string;
  awsRegion: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    seamEndpoints: SeamEndpoints;
    /** Where fault scenarios append their counts (test/faults/tally.ts); summed when the run ends. */
    faultsTallyFile: string;
    /** Where the abuse suite appends its counts (test/abuse/tally.ts); summed when the run ends. */
    abuseTallyFile: string;
    /** Where the event-time order tests append each run's verdict (test/order/tally.ts); summed when the run ends. */
    orderTallyFile: string;
  }
}

/** Endpoints provided by test/global-setup.ts; falls back to the SEAM_* env vars and the local defaults. */
export function endpoints(): SeamEndpoints {
  let provided: SeamEndpoints | undefined;
  try {
    provided = inject('seamEndpoints');
  } catch {
    provided = undefined; // not running under the integration project's global setup
  }
  return (
    provided ?? {
      kafkaBrokers: (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()),
      opensearchUrl: (process.env.SEAM_OPENSEARCH_URL ?? 'http://127.0.0.1:9200').replace(/\/+$/, ''),
      awsEndpoint: (process.env.SEAM_AWS_ENDPOINT ?? 'http://127.0.0.1:4566').replace(/\/+$/, ''),
      awsRegion: process.env.AWS_REGION ?? 'us-east-1',
    }
  );
}

export const kafkaBrokers = (): string[] => endpoints().kafkaBrokers;
export const opensearchUrl = (): string => endpoints().opensearchUrl;
export const awsEndpoint = (): string => endpoints().awsEndpoint;

/** Config for any @aws-sdk v3 client pointed at the emulator (moto accepts any static credentials). */
export function awsClientConfig(): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  const ep = endpoints();
  return {
    endpoint: ep.awsEndpoint,
    region: ep.awsRegion,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/** Differs per test process, so parallel runs and re-runs against long-lived services never share state. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let counter = 0;

/**
 * A name unique to this run: lowercase letters, digits and `-`, valid as a Kafka topic, an OpenSearch index,
 * a consumer group, or a CloudWatch log group/stream suffix.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${clean}-${RUN_ID}-${counter}`;
}

export const uniqueTopic = (prefix = 'seam-test'): string => uniqueName(prefix);
export const uniqueIndex = (prefix = 'seam-test'): string => uniqueName(prefix);
export const uniqueLogGroup = (prefix = 'seam-test'): string => `/seam/test/${uniqueName(prefix)}`;
