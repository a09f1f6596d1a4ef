/**
 * Impossible travel: one principal acting from two places further apart than anyone can travel in the time
 * between the calls. Needs locations: Seam ships no geolocation database, so the detection runs against a
 * lookup table (`geoLocations`: CIDR → latitude, longitude, label — an export of the organisation's offices
 * and VPN egresses, or of a GeoIP database the operator is licensed for). Without one it does nothing.
 *
 * Not alerted: either address inside AWS (cloud egress, a VPN or CI runner on EC2) or private; both
 * networks already in the principal's baseline before this call (the usual office ↔ VPN switch, learned);
 * the principal still in its learning period.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { baselinable, baselineSubject, eventNetwork, learning, learningStart, rememberNetwork } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, connectionAddress, inCidr, keyLookupCommand, nativeAlert, remembered, stopCredentialsText, timeOf, whoText } from './util.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

export interface GeoPoint {
  lat: number;
  lon: number;
  label: string;
}

/** Address → location; the default is the configured table (first matching CIDR). */
export type GeoLookup = (ip: string) => GeoPoint | undefined;

export function tableGeoLookup(rows: NativeConfig['geoLocations']): GeoLookup | undefined {
  if (rows.length === 0) return undefined;
  return (ip) => rows.find((r) => inCidr(ip, r.cidr));
}

/** Great-circle distance in km. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

interface Sighting {
  point: GeoPoint;
  ip: string;
  net: string;
  id: string;
  timeMs: number;
}

interface State {
  lookup: GeoLookup | undefined;
  last: Lru<string, Sighting>;
}

/** Was the network in the subject's baseline before this event (not learned by it)? */
function knownBefore(graph: IdentityGraph, subjectKey: string, netKey: string, t: number): boolean {
  const e = graph.store.latest(`seen_network|${subjectKey}|${netKey}`);
  if (e === undefined || t >= e.toMs) return false;
  const first = Date.parse(String(e.fact.attributes.first_seen ?? e.fact.valid_from));
  return first < t;
}

/** The alert's triage text: who, both places and addresses, the call, the commands to look and to stop it. */
function travelTriage(event: SeamEvent, who: string, prev: Sighting, place: string, ip: string, how: string): string {
  const key = accessKeyOf(event);
  const stop = stopCredentialsText(event);
  return (
    `${who} acted from ${prev.point.label} (${prev.ip}) at ${new Date(prev.timeMs).toISOString()}, then called ${event.seam.action ?? 'AWS'} from ${place} ${callerText(event)} (${how}). ` +
    `Benign if one of ${prev.ip} and ${ip} is a VPN or proxy egress ${who} uses (add it to the geoLocations table). ` +
    `Otherwise two parties hold the credentials; list what ${ip} did${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}, ask the owner which place was theirs, and ${stop ?? 'revoke the credentials'}.`
  );
}

export const impossibleTravel: NativeDetection<State> = {
  id: 'seam-native-impossible-travel',
  title: 'Impossible travel: one principal from two distant places too quickly',
  level: 'medium',
  tags: ['attack.initial-access', 'attack.t1078.004', 'attack.credential-access', 'attack.t1550.001'],
  description:
    'Two CloudTrail calls of one principal came from locations (geoLocations table) further apart than travelSpeedKmh allows in the time between them (and at least travelMinKm apart), outside AWS, with at least one of the two networks new to the principal’s baseline. Tune: a VPN or proxy egress a person uses: add it to the geoLocations table or let the baseline learn it.',
  triage:
    'Is one of the places a VPN or proxy egress the person uses? Otherwise two parties hold the credentials: revoke the sessions and look at what the newer location did.',
  createState: (c: NativeConfig): State => ({ lookup: tableGeoLookup(c.geoLocations), last: boundedLru(c.maxStateEntries) }),
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (state.lookup === undefined || !baselinable(event)) return [];
    const subject = baselineSubject(event, ctx.resolution.cluster);
    const ip = connectionAddress(event)!;
    if (subject === undefined) return [];
    const net = eventNetwork(event, ctx.config);
    if (net === undefined || net.private || net.aws === true) return [];
    const point = state.lookup(ip);
    if (point === undefined) return [];
    const t = timeOf(event);
    const start = learningStart(event, ctx, graph, subject.key);
    // Known before this call? Asked before learning it here (the new-network baseline may also learn it).
    const hereKnown = knownBefore(graph, subject.key, net.key, t);
    rememberNetwork(event, ctx, graph, subject.key, net);
    const prev = state.last.get(subject.key);
    const here: Sighting = { point, ip, net: net.key, id: event.seam.id, timeMs: t };
    if (prev === undefined || t >= prev.timeMs) state.last.set(subject.key, here);
    if (prev === undefined || learning(event, ctx.config, start) || prev.ip === ip) return [];
    const km = distanceKm(prev.point, point);
    const hours = Math.abs(t - prev.timeMs) / 3600_000;
    if (km < ctx.config.travelMinKm || km <= ctx.config.travelSpeedKmh * hours) return [];
    if (hereKnown && knownBefore(graph, subject.key, prev.net, t)) return [];
    const speed = hours === 0 ? 'at once' : `${Math.round(km / hours)} km/h`;
    return [
      nativeAlert(this, {
        events: [remembered(prev.id, prev.timeMs), event],
        summary: `${describePrincipal(ctx.resolution.principal ?? subject.principal)} acted from ${prev.point.label} (${prev.ip}) and ${Math.round(hours * 60)} min later from ${point.label} (${ip}): ${Math.round(km)} km, ${speed}`,
        triage: travelTriage(event, whoText(ctx.resolution.principal ?? subject.principal), prev, point.label, ip, `${Math.round(km)} km, ${speed}`),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
