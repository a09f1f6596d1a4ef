import { ALERT_LEVELS, notifiedLevel, type Alert } from '../../detect/alert.ts';
import { alertNotices, noticeKey } from '../../detect/finding.ts';
import { notifiable } from '../../detect/fold.ts';
import { Fold, loadSuppressions, type Route, type Suppression, type Throttle } from './config.ts';
import type { AlertOutput, Notification, SendResult } from './output.ts';

export interface DelivererConfig {
  routes: Route[];
  throttle: Throttle;
  /** Holding early alerts for their final fold (ADR 0052); absent: the defaults (75 s, 10,000 held). */
  fold?: Fold | undefined;
  suppressions: Suppression[];
  suppressionsFile?: string | undefined;
  dashboardUrl?: string | undefined;
}

/** What became of one notification on one output. */
export interface Outcome {
  output: string;
  notification: Notification;
  result: SendResult;
}

interface Window {
  key: string;
  startMs: number;
  /** Wall-clock time the window opened: a window is closed and its count sent once `windowMs` have passed. */
  openedAt: number;
  first?: string;
  last?: string;
  repeats: number;
  /** The highest level (`rank` of `notifiedLevel`) notified in the window: an alert above it is sent at once. */
  level: number;
  /** The collapsed alert the repeats summary shows: the highest level among them, the latest among equals. */
  shown?: Alert;
  outputs: string[];
}

/** An early (provisional) alert held for its final version (ADR 0052). */
interface Held {
  alert: Alert;
  /** Wall-clock time it was held: it is notified as it is once `fold.windowMs` have passed. */
  heldAt: number;
}

const rank = (l: Alert['rule']['level']): number => ALERT_LEVELS.indexOf(l);

/** Every name the alert's entities go by: what a suppression's `entity` is compared with. */
export function alertEntities(a: Alert): Set<string> {
  const out = new Set<string>();
  for (const p of [a.origin, a.principal]) {
    if (!p) continue;
    for (const v of [p.id, p.arn, p.k8s_user, p.service_account, p.pod, p.session, p.access_key_id]) if (v) out.add(v);
  }
  if (a.account) out.add(a.account);
  if (a.cluster) out.add(a.cluster);
  for (const v of Object.values(a.group ?? {})) out.add(v);
  return out;
}

/**
 * The notification id of an alert: its id; for a GuardDuty finding alert (ADR 0046) its id and severity level,
 * so a receiver that drops duplicates by id (PagerDuty's dedup_key) takes the page at a higher level as new.
 */
export const notificationId = (a: Alert): string => (a.finding === undefined ? a.id : `${a.id}:${a.finding.severity_level ?? 'low'}`);

/** Who the throttle keys on: the resolved origin, else the acting principal. */
export const throttleWho = (a: Alert): string => a.origin?.id ?? a.principal?.id ?? '(unknown)';

/**
 * What the throttle collapses repeats of: one rule, one variant of it (a native detection's kinds of alert under one
 * id, `rule.variant`: an access entry created and a cluster-admin policy associated are two things to tell), one who.
 */
export const throttleKey = (a: Alert): string => `${a.rule.id}|${a.rule.variant ?? ''}|${throttleWho(a)}`;

function tagMatches(want: string, tags: readonly string[]): boolean {
  return want.endsWith('*') ? tags.some((t) => t.startsWith(want.slice(0, -1))) : tags.includes(want);
}

export function routeMatches(r: Route, a: Alert): boolean {
  // A GuardDuty finding alert at its band when that is higher (ADR 0052).
  if (rank(notifiedLevel(a)) < rank(r.minLevel)) return false;
  if (r.tags && !r.tags.some((t) => tagMatches(t, a.rule.tags))) return false;
  if (r.clusters && (a.cluster === undefined || !r.clusters.includes(a.cluster))) return false;
  if (r.accounts && (a.account === undefined || !r.accounts.includes(a.account))) return false;
  if (r.rules && !r.rules.includes(a.rule.id)) return false;
  return true;
}

export function dashboardLink(template: string | undefined, a: Alert): string | undefined {
  if (template === undefined) return undefined;
  const values: Record<string, string> = {
    'alert.id': a.id,
    'rule.id': a.rule.id,
    principal: throttleWho(a),
    cluster: a.cluster ?? '',
    account: a.account ?? '',
    timestamp: a['@timestamp'],
  };
  return template.replace(/\{(alert\.id|rule\.id|principal|cluster|account|timestamp)\}/g, (_, k: string) => encodeURIComponent(values[k]!));
}

/**
 * Routing, suppression and throttling of alerts, then the sends. The deliver role calls `deliver`
 * for each alert it reads and commits only after every outcome is known (sent or to be
 * dead-lettered), so delivery is at-least-once; `flushDue` sends the counts of throttle windows
 * that have closed, `flushAll` those still open (on stop).
 *
 * One notification per action on the Kafka path too (ADR 0052): an early (provisional) alert that leads its
 * event's early fold is held, per alert id, until its final version arrives — same id, so same `seam.alerts`
 * partition and same deliver process, whatever the partitioning — or `fold.windowMs` pass. The final carries the
 * event's whole fold (natives and late rules included, ADR 0050): folded into a higher alert, the held one is
 * told through that leader and never notified; leading, its final is notified instead (enriched, with the full
 * `also_matched`). A leader that names a held alert in `also_matched` settles it the same way, sooner. What is
 * notified thus depends only on the final fold, never on arrival order or batches. Past the window the held
 * alert is notified as it is (`heldExpired`), and its final, when it comes, is a later version (not notified).
 * `flushAll` (stop, SIGTERM) notifies everything still held.
 */
export class Deliverer {
  readonly stats = {
    alerts: 0,
    unrouted: 0,
    suppressed: 0,
    throttled: 0,
    /** Alerts sent at once inside a throttle window because their level was above every level it had notified. */
    escalated: 0,
    duplicates: 0,
    /** Alerts folded into another alert of the same event (ADR 0050): indexed, not notified; the leader lists them. */
    folded: 0,
    sent: 0,
    failed: 0,
    repeatSummaries: 0,
    /** Early alerts held for their final version (ADR 0052). */
    held: 0,
    /** Held early alerts notified as they were: the window passed (or the process stopped) before their final came. */
    heldExpired: 0,
    /** Early alerts notified at once because `fold.maxHeld` were already held. */
    heldOverflow: 0,
    /**
     * Held early alerts let go unnotified because their offset was never committed: their partition moved to another
     * deliver process, or they arrived after the stop's flush. Whoever reads the partition next holds them again.
     */
    heldHandedOver: 0,
    bySuppression: {} as Record<string, number>,
    byOutput: {} as Record<string, { sent: number; failed: number }>,
  };
  private readonly suppressions: Suppression[];
  private readonly windows = new Map<string, Window>();
  /** Alert ids already handled in this process (bounded): a batch redelivered in-process is not sent twice. */
  private readonly seen = new Set<string>();
  private readonly fold: Fold;
  /** Held early alerts by id, oldest first (ADR 0052). */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly config: DelivererConfig,
    private readonly outputs: ReadonlyMap<string, AlertOutput>,
    private readonly now: () => number = Date.now,
  ) {
    this.fold = config.fold ?? Fold.parse({});
    this.suppressions = [...config.suppressions, ...(config.suppressionsFile ? loadSuppressions(config.suppressionsFile) : [])];
    for (const r of config.routes) for (const o of r.outputs) if (!outputs.has(o)) throw new Error(`route ${r.name}: no output named '${o}'`);
  }

  /** The suppression that silences `a` now, if any. */
  suppressedBy(a: Alert): Suppression | undefined {
    const now = this.now();
    const entities = alertEntities(a);
    return this.suppressions.find((s) => Date.parse(s.expires) > now && (s.rule === '*' || s.rule === a.rule.id) && (s.entity === '*' || entities.has(s.entity)));
  }

  /** The fold window (ms) early alerts are held for (ADR 0052); 0: not held. */
  get foldWindowMs(): number {
    return this.fold.windowMs;
  }

  /** Whether an early alert with this id is held: its later version must reach `deliver` (ADR 0052). */
  holding(id: string): boolean {
    return this.held.has(id);
  }

  /** Early alerts held now. */
  heldNow(): number {
    return this.held.size;
  }

  /**
   * Lets go of held early alerts without notifying them (all of them when no ids are given): the deliver role's,
   * for alerts whose offset it never committed, which the next reader of their partition holds again (ADR 0052).
   */
  handOver(ids?: Iterable<string>): number {
    let n = 0;
    for (const id of ids ?? [...this.held.keys()]) if (this.held.delete(id)) n++;
    this.stats.heldHandedOver += n;
    return n;
  }

  async deliver(a: Alert, signal?: AbortSignal): Promise<Outcome[]> {
    if (this.held.has(a.id)) {
      // The held alert handed again (a redelivered batch): still held.
      if (a.provisional === true) {
        this.stats.duplicates++;
        return [];
      }
      // Its final (or a stopped member's stand-in, ADR 0027): it says how the event folded, below.
      this.held.delete(a.id);
    } else if (this.seen.has(noticeKey(a))) {
      this.stats.duplicates++;
      return [];
    }
    // One action, one notification (ADR 0050): an alert folded into its event's leader is told through the leader.
    if (!notifiable(a)) {
      this.stats.folded++;
      for (const n of alertNotices(a)) this.remember(n);
      return [];
    }
    // A leader naming held early alerts (ADR 0052): they are told through it, whether or not their finals came yet.
    if (a.also_matched !== undefined && this.held.size > 0) {
      for (const m of a.also_matched) {
        const h = this.held.get(m.alert_id);
        if (h === undefined) continue;
        this.held.delete(m.alert_id);
        this.stats.folded++;
        for (const n of alertNotices(h.alert)) this.remember(n);
      }
    }
    // An early alert leading its early fold: held for its final, which may fold it into a native or late rule's alert.
    // High and critical ones (fold.notifyAtOnceFrom) page at once: only a critical alert can outrank them.
    if (a.provisional === true && this.fold.windowMs > 0 && rank(notifiedLevel(a)) < rank(this.fold.notifyAtOnceFrom) && this.routesOf(a).length > 0) {
      if (this.held.size < this.fold.maxHeld) {
        this.held.set(a.id, { alert: a, heldAt: this.now() });
        this.stats.held++;
        return [];
      }
      this.stats.heldOverflow++;
    }
    return this.notify(a, signal);
  }

  private routesOf(a: Alert): string[] {
    return [...new Set(this.config.routes.filter((r) => routeMatches(r, a)).flatMap((r) => r.outputs))];
  }

  /** Routing, suppression, throttling and the sends of a notifiable alert. */
  private async notify(a: Alert, signal?: AbortSignal): Promise<Outcome[]> {
    // A GuardDuty finding alert notified before at a lower level, now higher (ADR 0046): it got worse, not repeated.
    const escalation = a.finding !== undefined && this.seen.has(`${a.id}#low`);
    this.stats.alerts++;
    const outputs = this.routesOf(a);
    const out: Outcome[] = [];
    if (outputs.length === 0) {
      this.stats.unrouted++;
    } else {
      const s = this.suppressedBy(a);
      if (s !== undefined) {
        this.stats.suppressed++;
        const k = `${s.rule}|${s.entity}`;
        this.stats.bySuppression[k] = (this.stats.bySuppression[k] ?? 0) + 1;
      } else {
        const windowMs = this.config.throttle.windowMs;
        const key = throttleKey(a);
        const t = Date.parse(a['@timestamp']);
        const level = rank(notifiedLevel(a));
        const w = this.windows.get(key);
        const inWindow = windowMs > 0 && w !== undefined && t >= w.startMs && t < w.startMs + windowMs;
        if (inWindow && !escalation && level <= w.level) {
          this.stats.throttled++;
          w.repeats++;
          w.first ??= a['@timestamp'];
          w.last = a['@timestamp'];
          if (w.shown === undefined || level >= rank(notifiedLevel(w.shown))) w.shown = a;
          w.outputs = [...new Set([...w.outputs, ...outputs])];
        } else if (inWindow) {
          // Above every level the window notified (or a GuardDuty finding that got worse): an escalation, sent at
          // once; the window stays open, now at this level, and keeps counting the repeats at or below it.
          if (level > w.level) {
            this.stats.escalated++;
            w.level = level;
          }
          out.push(...(await this.send({ id: notificationId(a), kind: 'alert', alert: a, count: 1, ...this.link(a) }, outputs, signal)));
        } else {
          if (w !== undefined && !escalation) out.push(...(await this.closeWindow(w, signal)));
          if (windowMs > 0 && !escalation) this.windows.set(key, { key, startMs: t, openedAt: this.now(), repeats: 0, level, outputs });
          out.push(...(await this.send({ id: notificationId(a), kind: 'alert', alert: a, count: 1, ...this.link(a) }, outputs, signal)));
        }
      }
    }
    for (const n of alertNotices(a)) this.remember(n);
    return out;
  }

  /**
   * Notifies the early alerts held `fold.windowMs` or longer (wall clock) as they are, then sends the counts of
   * throttle windows opened at least `throttle.windowMs` ago.
   */
  async flushDue(signal?: AbortSignal): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const now = this.now();
    for (const [id, h] of this.held) {
      // Oldest first: the first one still inside its window ends the walk.
      if (now - h.heldAt < this.fold.windowMs) break;
      out.push(...(await this.expire(id, h, signal)));
    }
    for (const w of [...this.windows.values()]) if (now - w.openedAt >= this.config.throttle.windowMs) out.push(...(await this.closeWindow(w, signal)));
    return out;
  }

  /** Notifies every early alert still held (stop: nothing held is dropped), then sends every open throttle window's count. */
  async flushAll(signal?: AbortSignal): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const [id, h] of [...this.held]) out.push(...(await this.expire(id, h, signal)));
    for (const w of [...this.windows.values()]) out.push(...(await this.closeWindow(w, signal)));
    return out;
  }

  /** Open throttle windows holding repeats not yet notified. */
  pendingRepeats(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.repeats;
    return n;
  }

  private async expire(id: string, h: Held, signal?: AbortSignal): Promise<Outcome[]> {
    this.held.delete(id);
    this.stats.heldExpired++;
    return this.notify(h.alert, signal);
  }

  private async closeWindow(w: Window, signal?: AbortSignal): Promise<Outcome[]> {
    this.windows.delete(w.key);
    if (w.repeats === 0) return [];
    this.stats.repeatSummaries++;
    const a = w.shown!;
    const n: Notification = { id: `${a.id}:repeats:${w.repeats}`, kind: 'repeats', alert: a, count: w.repeats, window: { start: w.first!, end: w.last! }, ...this.link(a) };
    return this.send(n, w.outputs, signal);
  }

  private link(a: Alert): { link?: string } {
    const link = dashboardLink(this.config.dashboardUrl, a);
    return link === undefined ? {} : { link };
  }

  private async send(n: Notification, outputs: readonly string[], signal?: AbortSignal): Promise<Outcome[]> {
    return Promise.all(
      outputs.map(async (name) => {
        const result = await this.outputs.get(name)!.send(n, signal);
        const s = (this.stats.byOutput[name] ??= { sent: 0, failed: 0 });
        if (result.ok) {
          s.sent++;
          this.stats.sent++;
        } else {
          s.failed++;
          this.stats.failed++;
        }
        return { output: name, notification: n, result };
      }),
    );
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > 100_000) this.seen.delete(this.seen.values().next().value!);
  }

  async close(): Promise<void> {
    await Promise.all([...this.outputs.values()].map((o) => o.close()));
  }
}
