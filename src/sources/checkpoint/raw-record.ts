import { RAW_HEADERS } from '../../bus/topics.ts';
import type { RawMeta, SourceType } from '../../core/envelope.ts';

/**
 * How every collector labels a raw record on the bus: RawMeta as RAW_HEADERS (the value stays the
 * record's bytes exactly). Lives beside the checkpoints because both are what a collector writes.
 */
export function rawHeaders(meta: RawMeta): Record<string, string> {
  const h: Record<string, string> = {
    [RAW_HEADERS.collector]: meta.collector,
    [RAW_HEADERS.receivedAt]: meta.receivedAt,
    [RAW_HEADERS.truncated]: meta.truncated ? 'true' : 'false',
  };
  if (meta.source !== undefined) h[RAW_HEADERS.source] = meta.source;
  if (meta.cluster !== undefined) h[RAW_HEADERS.cluster] = meta.cluster;
  if (meta.account !== undefined) h[RAW_HEADERS.account] = meta.account;
  if (meta.region !== undefined) h[RAW_HEADERS.region] = meta.region;
  if (meta.origin !== undefined) h[RAW_HEADERS.origin] = meta.origin;
  return h;
}

/** Reads RawMeta back from headers (the normalize role's side of rawHeaders). */
export function metaFromHeaders(h: Record<string, string> | undefined, fallbackReceivedMs?: number): RawMeta {
  const g = (k: string): string | undefined => h?.[k];
  // A message produced by something else than Seam's collectors (a webhook-to-Kafka bridge) has no receive-time
  // header: the message's own timestamp (its produce or log-append time) is when Seam received it, else now.
  const fallback = fallbackReceivedMs !== undefined && Number.isFinite(fallbackReceivedMs) && fallbackReceivedMs > 0 ? fallbackReceivedMs : Date.now();
  const meta: RawMeta = { collector: g(RAW_HEADERS.collector) ?? 'unknown', receivedAt: g(RAW_HEADERS.receivedAt) ?? new Date(fallback).toISOString() };
  const source = g(RAW_HEADERS.source);
  if (source !== undefined) meta.source = source as SourceType;
  for (const k of ['cluster', 'account', 'region', 'origin'] as const) {
    const v = g(RAW_HEADERS[k]);
    if (v !== undefined) meta[k] = v;
  }
  if (g(RAW_HEADERS.truncated) === 'true') meta.truncated = true;
  return meta;
}

