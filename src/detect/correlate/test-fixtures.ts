/**
 * Test helpers: realistic CloudTrail, audit and runtime events on a timeline, and a small harness
 * that feeds rule matches into a CorrelationEngine the way the detector does.
 */
import { parseAllDocuments } from 'yaml';
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import type { Alert } from '../alert.ts';
import type { CompiledRule, CorrelationDoc, RuleMatch } from '../sigma/types.ts';
import { ruleLookupFrom } from './compile.ts';
import { CorrelationEngine } from './engine.ts';

export const T0 = Date.parse('2026-03-02T10:00:00.000Z');
export const sec = (s: number): number => T0 + s * 1000;

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ci-deployer`;

function envelope(source: SourceType, id: string, atSec: number, extra: Partial<SeamEvent['seam']> = {}): SeamEvent['seam'] {
  return {
    id,
    source,
    account: ACCOUNT,
    region: 'eu-west-1',
    cluster: 'prod-eks',
    ingest: { collector: 'file', received_at: new Date(sec(atSec)).toISOString(), truncated: false, redacted: [] },
    ...extra,
  };
}

/** A CloudTrail record by an assumed-role session. */
export function cloudtrail(id: string, atSec: number, eventName: string, opts: { session?: string; role?: string; requestParameters?: Record<string, unknown>; additionalEventData?: Record<string, unknown>; eventSource?: string } = {}): SeamEvent {
  const role = opts.role ?? ROLE;
  const session = opts.session ?? 'alice';
  const arn = role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + '/' + session;
  const eventSource = opts.eventSource ?? (eventName === 'GetCallerIdentity' ? 'sts.amazonaws.com' : eventName === 'GetObject' ? 's3.amazonaws.com' : 'secretsmanager.amazonaws.com');
  return {
    '@timestamp': new Date(sec(atSec)).toISOString(),
    eventVersion: '1.09',
    eventID: `ct-${id}`,
    eventTime: new Date(sec(atSec)).toISOString(),
    eventSource,
    eventName,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.7',
    userIdentity: { type: 'AssumedRole', arn, accountId: ACCOUNT, sessionContext: { sessionIssuer: { arn: role } } },
    requestParameters: opts.requestParameters ?? null,
    ...(opts.additionalEventData === undefined ? {} : { additionalEventData: opts.additionalEventData }),
    seam: envelope('cloudtrail', `ct-${id}`, atSec, {
      principal: { id: `${role}/${session}`, type: 'assumed_role', arn, session },
      action: `${eventSource}:${eventName}`,
      source_ip: '203.0.113.7',
      user_agent: 'aws-cli/2.15.0',
      outcome: 'success',
    }),
  };
}

/** A Kubernetes audit event (ResponseComplete) by a user mapped from an IAM role. */
export function audit(id: string, atSec: number, verb: string, resource: string, opts: { username?: string; arn?: string; namespace?: string; name?: string; subresource?: string } = {}): SeamEvent {
  const username = opts.username ?? 'alice';
  const arn = opts.arn ?? ROLE.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + '/' + username;
  const ns = opts.namespace ?? 'kube-system';
  return {
    '@timestamp': new Date(sec(atSec)).toISOString(),
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `audit-${id}`,
    stage: 'ResponseComplete',
    verb,
    user: { username, groups: ['system:authenticated'], extra: { arn: [arn], sessionName: [username] } },
    objectRef: { resource, namespace: ns, name: opts.name ?? 'coredns-5d78c9869d-abcde', ...(opts.subresource === undefined ? {} : { subresource: opts.subresource }) },
    responseStatus: { code: 101 },
    seam: envelope('k8s_audit', `audit-${id}-ResponseComplete`, atSec, {
      principal: { id: username, type: 'k8s_user', arn, k8s_user: username },
      action: `${verb} ${resource}${opts.subresource === undefined ? '' : '/' + opts.subresource}`,
      resource: `${ns}/${opts.name ?? 'coredns-5d78c9869d-abcde'}`,
    }),
  };
}

/** A runtime (Falco-style) process event from a Fargate sidecar. */
export function runtime(id: string, atSec: number, pod: string, procName: string): SeamEvent {
  return {
    '@timestamp': new Date(sec(atSec)).toISOString(),
    uuid: `rt-${id}`,
    rule: 'Process spawned',
    output_fields: { 'proc.name': procName, 'k8s.pod.name': pod, 'k8s.ns.name': 'shop' },
    seam: envelope('runtime', `rt-${id}`, atSec, { action: 'process_spawned', resource: `shop/${pod}` }),
  };
}

/**
 * One version of a GuardDuty finding, normalized (`@timestamp` and `seam.id` from `updatedAt`): GuardDuty keeps
 * the id and bumps `updatedAt` and `service.count` while the activity repeats (ADR 0046).
 */
export function finding(id: string, atSec: number, opts: { count?: number; severity?: number; type?: string; createdSec?: number } = {}): SeamEvent {
  const at = new Date(sec(atSec)).toISOString();
  return {
    '@timestamp': at,
    accountId: ACCOUNT,
    id,
    type: opts.type ?? 'Execution:Runtime/ReverseShell',
    severity: opts.severity ?? 5,
    createdAt: new Date(sec(opts.createdSec ?? atSec)).toISOString(),
    updatedAt: at,
    resource: { resourceType: 'EKSCluster', eksClusterDetails: { name: 'prod-eks' } },
    service: { count: opts.count ?? 1, eventFirstSeen: new Date(sec(opts.createdSec ?? atSec)).toISOString(), eventLastSeen: at },
    seam: envelope('guardduty', `${id}:${at}`, atSec, { action: opts.type ?? 'Execution:Runtime/ReverseShell' }),
  };
}

/** A detection rule stand-in: correlation tests feed matches directly, so `test` is never called. */
export function rule(id: string, name?: string, title = id): CompiledRule {
  const r: CompiledRule = { id, title, tags: [], logsource: {}, file: 'rules.yml', line: 1, column: 1, test: () => true, level: 'low' };
  if (name !== undefined) r.name = name;
  return r;
}

/** Correlation documents from multi-document YAML, positioned like the loader does. */
export function docs(text: string, file = 'mr_test.yml'): CorrelationDoc[] {
  return parseAllDocuments(text).map((d) => {
    const doc = d.toJS() as Record<string, unknown>;
    const line = text.slice(0, d.contents?.range[0] ?? d.range[0]).split('\n').length;
    const cd: CorrelationDoc = { doc, file, line, column: 1 };
    if (typeof doc['id'] === 'string') cd.id = doc['id'];
    if (typeof doc['name'] === 'string') cd.name = doc['name'];
    return cd;
  });
}

export function engineFor(yamlText: string, rules: CompiledRule[], allowedLatenessMs = 0): CorrelationEngine {
  return new CorrelationEngine(docs(yamlText), { ruleLookup: ruleLookupFrom(rules), allowedLatenessMs });
}

/** Feeds [rule, event] pairs in the given order (advancing time per event); flushes when asked. */
export function run(engine: CorrelationEngine, timeline: [CompiledRule, SeamEvent][], opts: { flush?: boolean } = {}): Alert[] {
  const out: Alert[] = [];
  for (const [r, event] of timeline) {
    const m: RuleMatch = { rule: r, event };
    out.push(...engine.onMatch(m));
  }
  if (opts.flush ?? true) out.push(...engine.flush());
  return out;
}
