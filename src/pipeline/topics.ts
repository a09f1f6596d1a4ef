import { TOPICS } from '../bus/topics.ts';
import { SOURCE_TYPES, type SourceType } from '../core/envelope.ts';

/**
 * The topic names one pipeline uses. Production uses TOPICS as they are; tests (and side-by-side
 * pipelines on one cluster) give a prefix so their topics never meet another run's.
 */
export interface PipelineTopics {
  raw(source: SourceType): string;
  /** Every `seam.raw.<source>` topic, the normalize role's input. */
  readonly rawAll: readonly string[];
  readonly events: string;
  readonly signals: string;
  readonly alerts: string;
  /** Identity graph versions, co-partitioned with `signals` (ADR 0008). */
  readonly identity: string;
  /** Incident updates, keyed by incident id (ADR 0015). */
  readonly incidents: string;
  readonly dlq: string;
  /** The source a raw topic carries, or undefined for any other topic. */
  sourceOfRaw(topic: string): SourceType | undefined;
}

export function pipelineTopics(prefix = ''): PipelineTopics {
  const p = (t: string): string => prefix + t;
  const raw = (s: SourceType): string => p(TOPICS.raw(s));
  const bySource = new Map<string, SourceType>(SOURCE_TYPES.map((s) => [raw(s), s]));
  return {
    raw,
    rawAll: SOURCE_TYPES.map(raw),
    events: p(TOPICS.events),
    signals: p(TOPICS.signals),
    alerts: p(TOPICS.alerts),
    identity: p(TOPICS.identity),
    incidents: p(TOPICS.incidents),
    dlq: p(TOPICS.dlq),
    sourceOfRaw: (t) => bySource.get(t),
  };
}

/** `seam.identity` is compacted: the latest record of every version survives (ADR 0008). */
export const IDENTITY_TOPIC_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact' };

/**
 * Partitions per topic when Seam creates them: raw and events scale with normalize/index, signals with
 * correlate; identity has as many as signals, because the state of signals partition p writes to its p.
 */
export function topicPlan(t: PipelineTopics, partitions: { raw?: number; events?: number; signals?: number; alerts?: number; incidents?: number; dlq?: number } = {}): { topic: string; partitions: number; config?: Record<string, string> }[] {
  return [
    ...t.rawAll.map((topic) => ({ topic, partitions: partitions.raw ?? 6 })),
    { topic: t.events, partitions: partitions.events ?? 6 },
    { topic: t.signals, partitions: partitions.signals ?? 3 },
    { topic: t.alerts, partitions: partitions.alerts ?? 3 },
    { topic: t.incidents, partitions: partitions.incidents ?? partitions.alerts ?? 3 },
    { topic: t.dlq, partitions: partitions.dlq ?? 1 },
    { topic: t.identity, partitions: partitions.signals ?? 3, config: { ...IDENTITY_TOPIC_CONFIG } },
  ];
}
