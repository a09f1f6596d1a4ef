/**
 * One console session used from two places at once. A console session lives in one browser and its credentials
 * (CloudTrail: sessionCredentialFromConsole, one access key id for the session) answer from wherever that browser
 * is. A session cookie stolen by an infostealer or an adversary-in-the-middle phishing proxy is replayed from the
 * attacker's host while the owner's tab keeps working: the key's calls then alternate between two networks, which
 * no sign-in record shows (there was no new sign-in). A user whose network changes under an open tab (VPN on,
 * office to hotspot) moves once, so a Sigma count of addresses per session cannot tell the two apart (the benign
 * corpus' people switching networks mid-session raised it); the order can: this alerts when the session has
 * switched places 3 times within 10 minutes (A → B → A → B), i.e. has gone back to a place it had left, twice.
 * A place is the address's network operator (AS, from the bundled ASN table), so a proxy service, a carrier's NAT
 * or a dual-stack ISP spreading one browser's calls over many ranges stays one place; where the table has no
 * answer (no database, unannounced space) it is the /24 or /64; IPv4 and IPv6 are followed apart. Calls the console makes inside AWS
 * (no address, invokedBy), through VPC endpoints (private addresses, vpcEndpointId) and AWS CloudShell (console
 * credentials forwarded to a shell on AWS's network, user agent exec-env/CloudShell) are left out. One alert per
 * session. Not told apart: an office balancing each connection over two internet providers (two operators); a
 * thief on IPv6 while the owner stays on IPv4 (the families are followed apart).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { networkFor } from './networks.ts';
import { consoleSessionCall, keyLookupCommand, nativeAlert, remembered, stopCredentialsText, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import { parseAddress } from '../../core/ip.ts';

/** Place changes within WINDOW_MS that alert (A → B → A → B is 3). */
export const MIN_SWITCHES = 3;
export const WINDOW_MS = 10 * 60_000;

interface Run {
  place: string;
  ip: string;
  id: string;
  firstMs: number;
  lastMs: number;
}

interface State {
  /** `<access key>|<family>` → the session's recent runs of calls from one place (newest last). */
  runs: Lru<string, Run[]>;
  /** Access keys that already alerted. */
  alerted: Lru<string, true>;
}

/** The network an address stands for: `4:a.b.c` (its /24) or `6:…` (its /64); undefined if not an address. */
export function placeOf(ip: string): string | undefined {
  const a = parseAddress(ip);
  if (a === undefined) return undefined;
  const bytes = a.toByteArray();
  return bytes.length === 4 ? `4:${bytes.slice(0, 3).join('.')}` : `6:${bytes.slice(0, 8).join('.')}`;
}

export const consoleSessionShared: NativeDetection<State> = {
  id: 'seam-native-console-session-shared',
  title: 'Console session used from two places at once',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1539', 'attack.lateral-movement', 'attack.t1550.004', 'attack.collection', 'attack.t1185'],
  description: `The credentials of one console session (sessionCredentialFromConsole, one access key id) alternated between two networks (/24 or /64) ${MIN_SWITCHES} or more times within ${WINDOW_MS / 60_000} minutes: the session cookie replayed from a second host while its owner keeps working (infostealer, phishing proxy). A single network change (VPN, hotspot), the console's calls from inside AWS and CloudShell are left out.`,
  triage:
    'Which two addresses (the alert’s events) and which is the user’s usual one; what the session did from the other (its calls by access key id). Ask the user. If it is not theirs: revoke the role’s active sessions (or the user’s console session), reset the password and MFA, and check the user’s machine for an infostealer.',
  createState: () => ({ runs: boundedLru(20_000), alerted: boundedLru(20_000) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || !consoleSessionCall(event)) return [];
    const uid = obj(event.userIdentity);
    const key = str(uid?.accessKeyId);
    const ip = event.seam.source_ip;
    if (key === undefined || key === '' || ip === undefined || str(uid?.invokedBy) !== undefined) return [];
    if ((str(event.userAgent) ?? '').includes('exec-env/CloudShell')) return [];
    // Private addresses are the console reached through VPC endpoints (Console Private Access, Direct Connect):
    // the same tab's calls to other services leave through the public egress, which is not a second place.
    const net = networkFor(ip, ctx.config);
    if (net === undefined || net.private || typeof event.vpcEndpointId === 'string') return [];
    // A place is the network operator where the ASN table knows it (a proxy service, a carrier's NAT or a
    // dual-stack ISP spreading one browser's calls over many ranges stays one place), else the /24 or /64.
    const place = net.asn !== undefined ? `as:${net.asn}` : placeOf(ip);
    if (place === undefined || state.alerted.get(key) !== undefined) return [];
    const t = timeOf(event);
    // IPv4 and IPv6 are followed apart (a dual-stack browser uses both, often through different operators).
    const runKey = `${key}|${ip.includes(':') ? '6' : '4'}`;
    const runs = (state.runs.get(runKey) ?? []).filter((r) => r.lastMs > t - WINDOW_MS && r.firstMs <= t);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.place === place) {
      last.lastMs = Math.max(last.lastMs, t);
      state.runs.set(runKey, runs);
      return [];
    }
    runs.push({ place, ip, id: event.seam.id, firstMs: t, lastMs: t });
    state.runs.set(runKey, runs.slice(-(MIN_SWITCHES + 1)));
    const places = new Set(runs.map((r) => r.place));
    // Switches only count when the session keeps coming back: with only new places it is moving, not shared.
    if (runs.length < MIN_SWITCHES + 1 || places.size >= runs.length) return [];
    state.alerted.set(key, true);
    const principal = ctx.resolution.principal ?? event.seam.principal;
    const ips = [...new Set(runs.map((r) => r.ip))];
    return [
      nativeAlert(this, {
        events: [...runs.slice(0, -1).map((r) => remembered(r.id, r.firstMs)), event],
        summary: `console session ${key} of ${describePrincipal(principal)} alternated between ${ips.join(' and ')} ${runs.length - 1} times within ${WINDOW_MS / 60_000} minutes (${runs.map((r) => r.ip).join(' → ')})`,
        triage:
          `The console session ${key} of ${whoText(principal)} alternated between ${ips.join(' and ')} ${runs.length - 1} times within ${WINDOW_MS / 60_000} minutes (${runs.map((r) => r.ip).join(' → ')}). ` +
          `Ask its owner which address is theirs, and list what the session did from the other (${keyLookupCommand(key, event.seam.region)}). ` +
          `Benign if both are the owner's (a laptop on two networks at once, a proxy that spreads its calls). ` +
          `Otherwise the session cookie was stolen (an infostealer, a phishing proxy): ${stopCredentialsText(event) ?? 'end the console session'}, reset the password and MFA, and check the owner's machine.`,
        principal,
        account: event.seam.account,
      }),
    ];
  },
};
