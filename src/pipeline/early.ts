/**
 * Early (provisional) alerts (ADR 0025): the alerts the correlate role can raise when a signal arrives,
 * before the event-time watermark (ADR 0009) hands the signal to the detect stage. Only alerts whose firing
 * depends neither on event order nor on state qualify: single-event Sigma rules that generate their own
 * alert (no correlation withholds them) and whose detection, filters included, reads no field the identity
 * graph writes onto the event (`seam.principal`, `seam.chain`, `seam.origin`, `seam.cluster`) and searches
 * no keywords. For those, matching the unannotated event gives the same answer as matching the annotated
 * one, so the alert the ordered path raises later has the same id; it replaces the provisional one.
 * Native detections and correlations read the graph or windows: never early.
 */
import { createHash } from 'node:crypto';
import type { SeamEvent } from '../core/envelope.ts';
import { alertFromMatch, type Alert } from '../detect/alert.ts';
import { ruleLookupFrom } from '../detect/correlate/compile.ts';
import { CorrelationEngine } from '../detect/correlate/engine.ts';
import { DriftChecks } from '../detect/drift-check.ts';
import { foldAlerts } from '../detect/fold.ts';
import type { CompiledRule, Ruleset } from '../detect/sigma/types.ts';
import { keyAlerts } from './incident-topic.ts';

/**
 * Header on a `seam.alerts` message whose alert is not the final version: `provisional` (its value also says
 * `provisional: true`) or `stopped` (its value says `unenriched: member_stopped`, ADR 0027). Absent: the final.
 */
export const ALERT_VERSION_HEADER = 'seam-alert-version';
/**
 * `provisional`: an early alert (ADR 0025). `stopped`: an early alert's stand-in final, produced by a correlate
 * member that stopped while its signal was held (ADR 0027): the next owner's final replaces it, if one comes.
 * `final`: the alert (also a final the ordered path could not enrich, `unenriched` set).
 */
export type AlertVersion = 'provisional' | 'stopped' | 'final';

/**
 * OpenSearch external versions (ADR 0025, 0027): neither a provisional nor a stopped write ever replaces a final
 * one (`external_gte`: of two writes of the same version, the later one stays).
 */
export const ALERT_DOC_VERSION: Record<AlertVersion, number> = { provisional: 1, stopped: 1, final: 2 };

/**
 * The external version an alert is indexed with (ADR 0025, 0027): a provisional (early) alert and a stopped
 * member's stand-in 1, the final one 2, so whatever order the writes reach OpenSearch in, the final document stays.
 * A GuardDuty finding alert (ADR 0046) puts its finding's `updatedAt` (ms) in front, ×4: a later version of the
 * finding replaces the document, an earlier one arriving after it (a redelivery, a replay) changes nothing.
 * A final raised again with more context (`revision`, a GuardDuty join completed after a quiet advance, ADR 0009) 3:
 * it replaces the final it completes, which arriving after it changes nothing.
 */
export function alertDocVersion(a: Pick<Alert, 'provisional' | 'unenriched' | 'finding' | 'revision'>): number {
  const version = alertVersion(a);
  const base = version === 'final' && a.revision !== undefined ? ALERT_DOC_VERSION.final + 1 : ALERT_DOC_VERSION[version];
  const t = a.finding === undefined ? NaN : Date.parse(a.finding.updated_at);
  return Number.isFinite(t) && t > 0 ? t * 4 + base : base;
}

/** Why an alert's final version carries no enrichment by the identity graph (ADR 0027; `Alert.unenriched`). */
export type Unenriched = NonNullable<Alert['unenriched']>;

/** The version an alert is (its fields; the header says the same). */
export function alertVersion(a: Pick<Alert, 'provisional' | 'unenriched'>): AlertVersion {
  if (a.provisional === true) return 'provisional';
  return a.unenriched === 'member_stopped' ? 'stopped' : 'final';
}

/** The version a `seam.alerts` message carries, by its header (no header: final). */
export function messageVersion(headers: Record<string, string | undefined> | undefined): AlertVersion {
  const v = headers?.[ALERT_VERSION_HEADER];
  return v === 'provisional' || v === 'stopped' ? v : 'final';
}

/**
 * The version of an early alert that closes it when the ordered path will not (ADR 0027): its provisional
 * content (the rule matched the record), no longer provisional, saying why it is not enriched.
 */
export function unenrichedVersion(provisional: Alert, reason: Unenriched): Alert {
  const { provisional: _p, ...rest } = provisional;
  return { ...rest, unenriched: reason };
}

/** Event paths the identity graph writes (src/detect/native/engine.ts `annotate`), and everything under them. */
export const GRAPH_FIELDS = ['seam.principal', 'seam.chain', 'seam.origin', 'seam.cluster'] as const;

const readsGraph = (path: string): boolean => path === 'seam' || GRAPH_FIELDS.some((f) => path === f || path.startsWith(`${f}.`));

/** Why a rule is not raised early, or undefined when it is. */
export function notEarlyBecause(rule: CompiledRule, suppressed: (id: string) => boolean): string | undefined {
  if (suppressed(rule.id)) return 'a correlation withholds its alerts';
  if (rule.reads === undefined) return 'what it reads is not known';
  if (rule.reads.keyword) return 'it searches keywords (every field, including those the graph writes)';
  const g = rule.reads.paths.find(readsGraph);
  if (g !== undefined) return `it reads ${g}, which the identity graph writes`;
  return undefined;
}

/** The early matcher of a ruleset: which rules qualify, and the provisional alerts of an unannotated event. */
export class EarlyAlerts {
  /** Ids of the rules raised early. */
  readonly rules: ReadonlySet<string>;
  /** Names the set of early rules (ADR 0026): stage 1's hints are used only by a correlate role whose set has the same name. */
  readonly fingerprint: string;

  private readonly drift: DriftChecks;

  /** `driftCheckUsers`: as the detector's (DetectorOptions): a drift check raises no early alert either. */
  constructor(
    private readonly ruleset: Ruleset,
    opts: { driftCheckUsers?: readonly string[] | undefined } = {},
  ) {
    this.drift = new DriftChecks(opts.driftCheckUsers);
    const engine = new CorrelationEngine(ruleset.correlations, { ruleLookup: ruleLookupFrom(ruleset.rules) });
    const ids = new Set<string>();
    for (const r of ruleset.rules) if (notEarlyBecause(r, (id) => engine.isSuppressed(id)) === undefined) ids.add(r.id);
    this.rules = ids;
    this.fingerprint = createHash('sha256').update([...ids].sort().join('\n')).digest('hex').slice(0, 16);
  }

  /** Whether stage 1's matches of an unannotated event include an early rule (the event's early hint, ADR 0026). */
  hit(matches: readonly { rule: { id: string } }[]): boolean {
    for (const m of matches) if (this.rules.has(m.rule.id)) return true;
    return false;
  }

  /**
   * The provisional alerts of an event as stage 1 normalized it (no graph annotation): a rule match the
   * ordered path will repeat on the annotated event. Never throws (a rule that throws is counted by the ruleset).
   */
  raise(event: SeamEvent): Alert[] {
    if (this.rules.size === 0) return [];
    // A GitOps drift check (ADR 0047) reads no field the graph writes: the ordered path drops it the same way.
    if (this.drift.by(event) !== undefined) return [];
    let out: Alert[] | undefined;
    for (const m of this.ruleset.match(event)) {
      if (!this.rules.has(m.rule.id)) continue;
      const a = alertFromMatch(m);
      a.provisional = true;
      (out ??= []).push(a);
    }
    // Folded among themselves (ADR 0050): the final fold adds the native and late rules' alerts, and can only fold
    // an early leader into a higher one, never lift an early-folded alert to lead.
    if (out !== undefined && out.length > 1) foldAlerts(event.seam.id, out);
    // Keyed by what the record says (no origin or chain yet): the final, keyed the same way once annotated, may differ.
    return out === undefined ? [] : keyAlerts(out);
  }
}

/** Whether a `seam.alerts` message carries a provisional alert (its header). */
export function isProvisionalMessage(headers: Record<string, string | undefined> | undefined): boolean {
  return messageVersion(headers) === 'provisional';
}

/**
 * Stage 1's early hints on a `seam.signals` message (ADR 0026): `[fingerprint, [i, …]]`, the indexes (in the
 * message's spans) of the signals whose event matched one of the early rules named by the fingerprint. The
 * correlate role parses and matches for early alerts only those; the others cannot raise one. The hint only
 * saves work: a signal it names is matched again, and one it leaves out still gets its final alert.
 */
export const EARLY_HINT_HEADER = 'seam-signal-early';

/** The indexes of a message's signals that may raise an early alert, or undefined when its hint is absent, unreadable or for other rules. */
export function earlyHints(headers: Record<string, string> | undefined, fingerprint: string): ReadonlySet<number> | undefined {
  const h = headers?.[EARLY_HINT_HEADER];
  if (h === undefined) return undefined;
  try {
    const x = JSON.parse(h) as unknown;
    if (!Array.isArray(x) || x.length !== 2 || x[0] !== fingerprint || !Array.isArray(x[1])) return undefined;
    const out = new Set<number>();
    for (const i of x[1] as unknown[]) {
      if (!Number.isInteger(i)) return undefined;
      out.add(i as number);
    }
    return out;
  } catch {
    return undefined;
  }
}
