// What the native detections' tests share: running one detection alone over a timeline of events, and
// CloudTrail records built the way the trail delivers them (normalized like any input, no cluster).
import { expect } from 'vitest';
import type { SeamEvent } from '../../src/core/envelope.ts';
import { Alert as AlertSchema, type Alert } from '../../src/detect/alert.ts';
import type { NativeOptions } from '../../src/detect/native/config.ts';
import { createNativeEngine } from '../../src/detect/native/engine.ts';
import type { IdentityGraphOptions } from '../../src/identity/config.ts';
import { IdentityGraph } from '../../src/identity/graph.ts';
import { ev } from '../identity/records.ts';

/**
 * Runs the native detection `only` alone over `events`, in order, then flushes: the alerts it raised. Fails
 * the test when the engine counted an error (a detection that threw) or an alert is not a valid `Alert`.
 * `graph`: the identity graph to use (shared across runs) or its options; `config`: seam.yml `native`.
 */
export function runNative(only: string, events: SeamEvent[], o: { config?: NativeOptions; graph?: IdentityGraph | IdentityGraphOptions } = {}): Alert[] {
  const graph = o.graph instanceof IdentityGraph ? o.graph : new IdentityGraph(o.graph ?? {});
  const engine = createNativeEngine({ only: [only], graph, ...(o.config ? { config: o.config } : {}) });
  const alerts = events.flatMap((e) => engine.process(e));
  alerts.push(...engine.flush());
  expect(engine.stats().errors).toEqual({});
  for (const a of alerts) expect(AlertSchema.safeParse(a).success).toBe(true);
  return alerts;
}

/** Distinct, deterministic CloudTrail ids (eventID, requestID) for one test file: `<prefix>0001-…-000000000001`, … */
export function eventIds(prefix: string, middle = '4a6e-8c2d-9e1f'): () => string {
  let n = 0;
  return () => {
    n++;
    return `${prefix}${String(n).padStart(4, '0')}-${middle}-${String(n).padStart(12, '0')}`;
  };
}

/** The fields of a CloudTrail record a test names; the rest get the trail's usual values. */
export interface CloudTrailFields {
  userIdentity: Record<string, unknown>;
  eventTime: string;
  eventSource: string;
  eventName: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters?: unknown;
  responseElements?: unknown;
  /** With `errorMessage` (default 'not authorized') when set. */
  errorCode?: string;
  errorMessage?: string;
  eventVersion?: string;
  awsRegion?: string;
  eventType?: 'AwsApiCall' | 'AwsServiceEvent';
  readOnly?: boolean;
  /** Default: the identity's `accountId`. */
  recipientAccountId?: string;
  /** Anything else the record carries (serviceEventDetails, additionalEventData, …). */
  extra?: Record<string, unknown>;
}

/**
 * A management-event CloudTrail record (`eventVersion` 1.10, `us-west-2`, `AwsApiCall`, not read-only unless
 * said), its requestID and eventID from `ids`, normalized as a record without a cluster.
 */
export function cloudTrailEvent(f: CloudTrailFields, ids: () => string): SeamEvent {
  return ev(
    {
      eventVersion: f.eventVersion ?? '1.10',
      userIdentity: f.userIdentity,
      eventTime: f.eventTime,
      eventSource: f.eventSource,
      eventName: f.eventName,
      awsRegion: f.awsRegion ?? 'us-west-2',
      sourceIPAddress: f.sourceIPAddress,
      userAgent: f.userAgent,
      requestParameters: f.requestParameters ?? null,
      responseElements: f.responseElements ?? null,
      ...(f.errorCode === undefined ? {} : { errorCode: f.errorCode, errorMessage: f.errorMessage ?? 'not authorized' }),
      requestID: ids(),
      eventID: ids(),
      readOnly: f.readOnly ?? false,
      eventType: f.eventType ?? 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: f.recipientAccountId ?? f.userIdentity.accountId,
      ...f.extra,
      eventCategory: 'Management',
    },
    undefined,
  );
}
