/**
 * A GuardDuty finding archived or suppressed by the principal it is about. Analysts triage findings every
 * day (GuardDuty ArchiveFindings, Security Hub BatchUpdateFindings setting the workflow to SUPPRESSED or
 * RESOLVED), so one such call is not a signal, and the rules for suppression filters and automation rules
 * cover the wholesale case. What an analyst does not do is close a finding about their own credentials; an
 * attacker holding those credentials does, to keep the finding from reaching the SOC's queue (T1562). The
 * identity graph joins the two: the finding's principal (its access key, session, role and the person behind
 * it) and the caller of the archive or suppress call, resolved the same way. Medium, not high: in a small team
 * the engineer whose own scanner or test tripped the finding may close it themselves (ask them).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, nativeIdOf, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert, remembered, stopCredentialsText, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** How long after a finding was last seen hiding it still counts. */
export const WINDOW_MS = 7 * 24 * 3600_000;

interface Finding {
  seamId: string;
  timeMs: number;
  keys: string[];
  title: string;
}

interface State {
  /** GuardDuty finding id → its principal's join keys. */
  findings: Lru<string, Finding>;
}

function keysOf(ctx: EvalContext): string[] {
  const keys = new Set<string>();
  for (const p of [ctx.resolution.principal, ctx.resolution.origin]) {
    if (p === undefined) continue;
    for (const k of [p.id, p.arn, p.access_key_id]) if (k !== undefined && k !== '' && k !== 'unknown') keys.add(k);
  }
  return [...keys];
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : Array.isArray(obj(v)?.items) ? (obj(v)!.items as unknown[]) : []);

/** GuardDuty finding ids an archive or suppress call hides; [] for any other call. */
export function hiddenFindingIds(event: SeamEvent): string[] {
  if (event.seam.source !== 'cloudtrail' || event.seam.outcome !== 'success') return [];
  const rp = obj(event.requestParameters);
  if (rp === undefined) return [];
  switch (event.seam.action) {
    case 'guardduty.amazonaws.com:ArchiveFindings':
      return list(rp.findingIds ?? rp.FindingIds)
        .map((x) => str(x))
        .filter((x): x is string => x !== undefined);
    case 'securityhub.amazonaws.com:BatchUpdateFindings': {
      const status = (str(obj(rp.Workflow)?.Status) ?? '').toUpperCase();
      if (status !== 'SUPPRESSED' && status !== 'RESOLVED') return [];
      return list(rp.FindingIdentifiers)
        .map((x) => str(obj(x)?.Id))
        .filter((x): x is string => x !== undefined && /:guardduty:/.test(x))
        .map((arn) => arn.slice(arn.lastIndexOf('/') + 1));
    }
    default:
      return [];
  }
}

/** The alert's triage text: who hid which findings, the command that brings them back, and the credentials to stop. */
function hiddenTriage(event: SeamEvent, who: string, ids: readonly string[], types: readonly string[]): string {
  const archived = event.seam.action === 'guardduty.amazonaws.com:ArchiveFindings';
  const detector = str(obj(event.requestParameters)?.detectorId);
  const shown = ids.slice(0, 5).join(' ') + (ids.length > 5 ? ' …' : '');
  const back = archived
    ? `aws guardduty unarchive-findings --detector-id ${detector ?? '<detector id>'} --finding-ids ${shown}${event.seam.region === undefined ? '' : ` --region ${event.seam.region}`}`
    : 'aws securityhub batch-update-findings with --workflow Status=NEW for them';
  return (
    `${who} ${archived ? 'archived' : 'suppressed'} ${ids.length === 1 ? 'the GuardDuty finding' : `${ids.length} GuardDuty findings`} ${shown} (${types.join(', ')}) about itself ${callerText(event)}. ` +
    `Bring ${ids.length === 1 ? 'it' : 'them'} back (${back}) and read ${ids.length === 1 ? 'it' : 'them'} first: it is what the caller wanted out of sight. ` +
    `Benign only if ${who} is your security team's own role closing a reviewed false positive (then let another role close its findings). ` +
    `Otherwise treat its credentials as stolen: ${stopCredentialsText(event) ?? 'revoke them'}, and review what it did around the finding and this call.`
  );
}

export const findingHiddenByItsSubject: NativeDetection<State> = {
  id: 'seam-native-finding-hidden-by-its-subject',
  title: 'GuardDuty finding archived or suppressed by the principal it is about',
  level: 'medium',
  tags: ['attack.defense-evasion', 'attack.t1562', 'attack.t1562.001'],
  description:
    'GuardDuty ArchiveFindings, or Security Hub BatchUpdateFindings setting the workflow to SUPPRESSED or RESOLVED, for a GuardDuty finding whose principal (access key, session, role, or the person behind it in the identity graph) is the caller: the subject of a finding closing it.',
  triage:
    'Read the finding first: it is what the caller wanted out of sight. Unarchive it (UnarchiveFindings / workflow NEW), treat the principal’s credentials as compromised (deactivate the key, revoke the role’s sessions), and review what else the caller did around the finding and the archive call.',
  createState: () => ({ findings: boundedLru(50_000) }),
  sources: ['cloudtrail', 'guardduty'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const t = timeOf(event);
    if (event.seam.source === 'guardduty') {
      const id = nativeIdOf(event);
      const keys = keysOf(ctx);
      if (id === undefined || keys.length === 0) return [];
      const f = obj(event.detail) ?? event;
      state.findings.set(id, { seamId: event.seam.id, timeMs: t, keys, title: str(f.type) ?? str(f.Type) ?? event.seam.action ?? 'finding' });
      return [];
    }
    const ids = hiddenFindingIds(event);
    if (ids.length === 0) return [];
    const caller = keysOf(ctx);
    if (caller.length === 0) return [];
    const mine = (f: Finding | undefined): f is Finding => f !== undefined && t >= f.timeMs && t - f.timeMs <= WINDOW_MS && f.keys.some((k) => caller.includes(k));
    const ownIds = ids.filter((id) => mine(state.findings.get(id)));
    const own = ownIds.map((id) => state.findings.get(id)!);
    if (own.length === 0) return [];
    const principal = ctx.resolution.principal ?? event.seam.principal;
    return [
      nativeAlert(this, {
        events: [...own.map((f) => remembered(f.seamId, f.timeMs)), event],
        summary: `${describePrincipal(principal)} ${event.seam.action === 'guardduty.amazonaws.com:ArchiveFindings' ? 'archived' : 'suppressed'} ${own.length === 1 ? 'a GuardDuty finding' : `${own.length} GuardDuty findings`} about itself (${[...new Set(own.map((f) => f.title))].join(', ')}) from ${event.seam.source_ip ?? 'an unknown address'}`,
        triage: hiddenTriage(event, whoText(principal), ownIds, [...new Set(own.map((f) => f.title))]),
        principal,
        account: event.seam.account,
      }),
    ];
  },
};
