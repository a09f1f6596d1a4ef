/**
 * A call from an address on one of the operator's address lists (`native.addressLists`, address-lists.ts): an AWS
 * call whose sourceIPAddress, or a Kubernetes API request whose connection address (not an X-Forwarded-For entry
 * the client wrote), is on a Tor exit list or a threat feed. GuardDuty's TorIPCaller and MaliciousIPCaller findings
 * say the same for AWS calls from its own lists; this covers the Kubernetes plane too and uses the lists the SOC
 * trusts. Refused calls count (reconnaissance with stolen keys is mostly refused); AWS services acting for a caller
 * (a service name instead of an address) and private addresses are never on a list.
 *
 * One alert per list, principal and address per day of event time; the level is the list's (medium by default).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { addressListsOf } from './address-lists.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, auditRequestText, callerText, connectionAddress, keyLookupCommand, nativeAlert, servedRequest, stopCredentialsText, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** The same list, principal and address alert again after this much event time. */
const REPEAT_MS = 24 * 3600_000;

interface State {
  /** list | principal | address → event time of the last alert. */
  alerted: Lru<string, number>;
}

export const listedAddress: NativeDetection<State> = {
  id: 'seam-native-listed-address',
  title: 'Call from an address on an address list',
  level: 'medium',
  tags: ['attack.command-and-control', 'attack.t1090.003', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'An AWS API call (its sourceIPAddress) or a Kubernetes API request (its connection address, not a forwarded-for entry) came from an address on one of the lists named in native.addressLists: Tor exit relays, a threat-intelligence feed. Refused calls count. The level is the list’s (medium unless set). One alert per list, principal and address a day. No list configured: never fires.',
  triage:
    'Who (the principal and its key or Kubernetes user) and what the calls from that address did: enumeration (Get/List/Describe, GetCallerIdentity), changes, data reads. Legitimate users rarely reach AWS or the API server through Tor or a listed host; if the principal did not, treat the key or token as stolen: deactivate or revoke it and review every call it made from other addresses too. A list entry can be stale or wrong: the alert names the list and the entry.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail', 'k8s_audit'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (ctx.config.addressLists.length === 0) return [];
    const lists = addressListsOf(ctx.config);
    const ip = connectionAddress(event);
    if (ip === undefined) return [];
    for (const list of lists) {
      const entry = list.lookup(ip);
      if (entry === undefined) continue;
      const p = ctx.resolution.principal;
      const k8sUser = str(obj(event.user)?.username);
      const who = p?.id ?? p?.arn ?? event.seam.principal?.arn ?? k8sUser ?? 'unknown';
      const key = `${list.name}|${who}|${ip}`;
      const t = timeOf(event);
      const last = state.alerted.get(key);
      if (last !== undefined && t - last < REPEAT_MS && t >= last) return [];
      state.alerted.set(key, t);
      const k8s = event.seam.source === 'k8s_audit';
      const refused = k8s ? !servedRequest(event) : str(event.errorCode) !== undefined;
      const what = k8s ? `the API server (${auditRequestText(event)})${event.seam.cluster === undefined ? '' : ` in ${event.seam.cluster}`}` : `${(str(event.eventSource) ?? 'aws').replace(/\.amazonaws\.com$/, '')}:${str(event.eventName) ?? '?'}`;
      const name = p === undefined && k8sUser !== undefined ? k8sUser : whoText(p);
      const entryText = entry === ip ? '' : `, entry ${entry}`;
      const accessKey = k8s ? undefined : accessKeyOf(event);
      const stop = k8s ? undefined : stopCredentialsText(event);
      return [
        nativeAlert(this, {
          level: list.level,
          events: [event],
          summary: `${name} called ${what}${refused ? ' (refused)' : ''} from ${ip}, on address list "${list.name}"${entryText}`,
          triage:
            `${name} called ${what} from ${ip}${k8s ? '' : ` ${callerText(event)}`}, an address on "${list.name}" (${list.file}${entryText}). ` +
            `Does ${name} use that network (a Tor user, a scanner you run)? If not, its credentials are in someone else's hands: list everything it did from there${accessKey === undefined ? '' : ` (${keyLookupCommand(accessKey, event.seam.region)})`} and from other new addresses` +
            `${k8s ? ` (seam hunt --who ${name}${event.seam.cluster === undefined ? '' : ` --cluster ${event.seam.cluster}`})` : ''}` +
            `${stop === undefined ? '.' : `, then ${stop}.`}`,
          principal: p,
          account: event.seam.account,
          cluster: ctx.resolution.cluster ?? event.seam.cluster,
        }),
      ];
    }
    return [];
  },
};
