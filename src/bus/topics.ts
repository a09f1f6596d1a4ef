import type { SourceType } from '../core/envelope.ts';

/** Topic names of DESIGN.md's data flow. One place, so roles and collectors cannot disagree. */
export const TOPICS = {
  /** Raw records as collected: value = the record's bytes exactly, headers = RawMeta. */
  raw: (source: SourceType): string => `seam.raw.${source}`,
  /** Normalized envelopes, keyed by seam.id. */
  events: 'seam.events',
  /** Rule matches and identity facts, keyed by AWS account. */
  signals: 'seam.signals',
  alerts: 'seam.alerts',
  /**
   * The identity graph's versions, keyed by version id, compacted; partition p holds what the state of
   * `seam.signals` partition p derived (ADR 0008).
   */
  identity: 'seam.identity',
  /** Incident updates (one per alert), keyed by incident id: who acted, really (ADR 0015). */
  incidents: 'seam.incidents',
  /** Dead letters (src/core/dead-letter.ts), with the reason and the original bytes. */
  dlq: 'seam.dlq',
} as const;

/** Kafka header names carrying RawMeta next to a raw record. */
export const RAW_HEADERS = {
  collector: 'seam-collector',
  receivedAt: 'seam-received-at',
  source: 'seam-source',
  cluster: 'seam-cluster',
  account: 'seam-account',
  region: 'seam-region',
  origin: 'seam-origin',
  truncated: 'seam-truncated',
} as const;
