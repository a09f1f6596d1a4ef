/**
 * One Kubernetes request, one match (ADR 0057). The API server logs a long-running request (exec, attach,
 * port-forward, a watch, a followed log) at two stages, `ResponseStarted` and `ResponseComplete`, under one
 * `auditID`; normalization keeps both as events (`seam.id` = auditID:stage), so hunting sees each. A Sigma rule that
 * does not read `stage` matches both, and would alert twice and count the request twice in a correlation. For such
 * a rule a request is matched once: at the first of its stages the detector sees (event-time order, the same in
 * every mode), and its alert is named by the rule and the auditID, not the stage, so a later stage, an early
 * (provisional) alert of either stage, or a stage seen again after a restart all name the same alert.
 * Rules that read `stage` (every pack rule pins one) are untouched: their alerts stay per event.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { boundedLru, type Lru } from '../core/lru.ts';
import type { CompiledRule } from './sigma/types.ts';

/** Requests (rule, auditID) remembered per detector by default: long-running requests' later stages come minutes to hours after the first. */
export const DEFAULT_MAX_REQUESTS = 100_000;

const stageless = new WeakMap<CompiledRule, boolean>();

/** Whether the rule's detection, its filters included, never reads `stage` (known reads only: unknown, it is left per event). */
function readsNoStage(rule: CompiledRule): boolean {
  let v = stageless.get(rule);
  if (v === undefined) {
    v = rule.reads !== undefined && !rule.reads.paths.includes('stage');
    stageless.set(rule, v);
  }
  return v;
}

/**
 * The request a match of this rule on this event stands for, when the rule matches a Kubernetes request once
 * (an audit event, a rule that reads no `stage`): the event's `auditID`. Undefined otherwise (the match is per event).
 */
export function requestOf(rule: CompiledRule, event: SeamEvent): string | undefined {
  if (event.seam.source !== 'k8s_audit') return undefined;
  const id = event['auditID'];
  if (typeof id !== 'string' || id === '') return undefined;
  return readsNoStage(rule) ? id : undefined;
}

/** The (rule, request) pairs a detector has matched, bounded: the oldest are forgotten first. */
export class RequestsMatched {
  private readonly seen: Lru<string, true>;
  constructor(maxEntries = DEFAULT_MAX_REQUESTS) {
    this.seen = boundedLru(maxEntries);
  }
  /** True the first time the rule matches the request; false for every later stage (or copy) of it. */
  first(ruleId: string, request: string): boolean {
    const k = ruleId + '\n' + request;
    if (this.seen.has(k)) return false;
    this.seen.set(k, true);
    return true;
  }
}
