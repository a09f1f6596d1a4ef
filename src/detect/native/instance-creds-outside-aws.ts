/**
 * EC2 instance-role credentials used from outside AWS. An instance profile's credentials come from the
 * instance metadata service, and the role session is named after the instance (`…:assumed-role/<role>/i-…`,
 * key `ASIA…`). Software on the instance calls AWS from the instance's own address, its NAT gateway (both
 * AWS addresses) or a VPC endpoint (private). The same session from a public address outside AWS means the
 * keys were taken — SSRF to 169.254.169.254, a compromised host, a leaked AMI or backup — and are being used
 * elsewhere (GuardDuty: InstanceCredentialExfiltration.OutsideAWS). This needs none of the instance's own
 * calls in the trail: the address alone says it.
 *
 * Also, at medium: the session alternating between two AWS addresses (its keys used from another EC2 host
 * while the instance keeps using them), a second AWS address bringing a CLI or script the instance never used
 * within hours of its own calls, the session used with a macOS user agent from an AWS address (a
 * workstation behind a cloud VPN or proxy), and, where the address cannot be placed (no database), the
 * session used by a script, an attack tool or a macOS desktop.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert, AlertLevel } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { addressPlace, desktopUserAgent, networkFor, type UaFamily, userAgentFamily } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, keyLookupCommand, nativeAlert, remembered, revokeSessionsCommand, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** How recent the instance's own last call must be for a new address with a new client to count as a copy. */
const RECENT_MS = 6 * 3600_000;

const INSTANCE_SESSION = /:assumed-role\/([^/]+)\/(i-[0-9a-f]{8,17})$/;

interface Sighting {
  id: string;
  timeMs: number;
}

interface Session {
  /** Public AWS addresses the session was seen from (IPv6 by /64, addressPlace), with the last sighting of each. */
  addresses: Map<string, Sighting>;
  /** The last address per family: a dual-stack instance calls some endpoints over IPv4 and others over IPv6. */
  lastPlace: { '4'?: string; '6'?: string };
  /** User-agent families the session was seen with (from any address). */
  families: Set<UaFamily>;
}

interface State {
  sessions: Lru<string, Session>;
  alerted: Lru<string, true>;
}

/** The instance-role session of a CloudTrail call: role name, instance id, session ARN. */
export function instanceSession(event: SeamEvent): { arn: string; role: string; instance: string } | undefined {
  if (event.seam.source !== 'cloudtrail') return undefined;
  const ui = obj(event.userIdentity);
  let arn = str(ui?.arn) ?? event.seam.principal?.arn;
  // Minimal records may carry only principalId (`AROA…:i-…`) and the session issuer.
  if (arn === undefined && str(ui?.type) === 'AssumedRole') {
    const session = /:(i-[0-9a-f]{8,17})$/.exec(str(ui?.principalId) ?? '')?.[1];
    const issuer = str(obj(obj(ui?.sessionContext)?.sessionIssuer)?.arn);
    const role = issuer === undefined ? undefined : /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(issuer);
    if (session !== undefined && role != null) arn = `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/${session}`;
  }
  if (arn === undefined) return undefined;
  const m = INSTANCE_SESSION.exec(arn);
  if (m === null) return undefined;
  const key = str(ui?.accessKeyId);
  // Instance-profile credentials are temporary (ASIA…); a long-term key cannot belong to a role session.
  if (key !== undefined && !key.startsWith('ASIA')) return undefined;
  return { arn, role: m[1]!, instance: m[2]! };
}

/** The alert's triage text: the instance, its role and key, the call and address, the commands to look and to stop it. */
function instanceTriage(event: SeamEvent, s: { role: string; instance: string }, ip: string, what: string, benign: string): string {
  const key = accessKeyOf(event);
  return (
    `Instance ${s.instance}'s role session (role ${s.role}${key === undefined ? '' : `, key ${key}`}) called ${what} ${callerText(event)}. ` +
    `What on ${s.instance} hands out its credentials? An application that fetches URLs it is given (SSRF to 169.254.169.254), or IMDSv1 still allowed (aws ec2 describe-instances --instance-ids ${s.instance} --query 'Reservations[].Instances[].MetadataOptions')? ` +
    `List what ${ip} did with the key${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}: ListBuckets, GetObject, GetCallerIdentity, IAM enumeration. ` +
    `${benign.charAt(0).toUpperCase()}${benign.slice(1)}. Otherwise deny the role's older sessions (${revokeSessionsCommand(s.role)}) and require IMDSv2 (aws ec2 modify-instance-metadata-options --instance-id ${s.instance} --http-tokens required).`
  );
}

export const instanceCredsOutsideAws: NativeDetection<State> = {
  id: 'seam-native-instance-creds-outside-aws',
  title: 'EC2 instance credentials used from outside AWS',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1552.005', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A call signed by an EC2 instance-profile session (session name = instance id, ASIA key) came from a public address outside AWS’s autonomous systems, or with an attack tool’s user agent (high). Medium: the session alternates between two AWS addresses, appears at a second AWS address with a CLI or script client it never used while the instance is active, is used with a macOS user agent from an AWS address, or comes from an address that cannot be placed with a script, attack-tool or macOS user agent.',
  triage:
    'Which instance (session name) and what runs on it: a web application that fetches URLs (SSRF to 169.254.169.254), IMDSv1 still allowed (HttpTokens optional)? Revoke the role’s sessions issued before now (aws:TokenIssueTime), require IMDSv2, and list what the outside address did: ListBuckets/GetObject (exfiltration), GetCallerIdentity, IAM enumeration.',
  createState: (c: NativeConfig): State => ({ sessions: boundedLru(c.maxStateEntries), alerted: boundedLru(c.maxStateEntries) }),
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const s = instanceSession(event);
    const ip = event.seam.source_ip;
    if (s === undefined || ip === undefined || typeof event.vpcEndpointId === 'string') return [];
    const net = networkFor(ip, ctx.config);
    if (net === undefined || net.private) return [];
    const ua = str(event.userAgent);
    const family = userAgentFamily(ua);
    const t = timeOf(event);
    let sess = state.sessions.get(s.arn);
    if (sess === undefined) state.sessions.set(s.arn, (sess = { addresses: new Map(), lastPlace: {}, families: new Set() }));
    const what = `${event.seam.action ?? str(event.eventName) ?? ''}`;
    const who = `Instance ${s.instance}'s credentials (role ${s.role})`;
    const alert = (level: AlertLevel, key: string, summary: string, benign: string, before?: Sighting): Alert[] => {
      if (state.alerted.has(s.arn + '|' + key)) return [];
      state.alerted.set(s.arn + '|' + key, true);
      return [
        nativeAlert(this, {
          level,
          events: before === undefined ? [event] : [remembered(before.id, before.timeMs), event],
          summary,
          triage: instanceTriage(event, s, ip, what, benign),
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster: ctx.resolution.cluster ?? event.seam.cluster,
        }),
      ];
    };
    // Attack tooling announces itself (Pacu, Kali's kernel in the CLI's user agent, ...): wherever it runs, these keys left the instance.
    if (family === 'attack-tool') {
      return alert('high', 'tool|' + ip, `${who} called ${what} from ${ip} (${net.label}) with an attack tool's user agent (${ua})`, `only your own authorised test (a red-team run from ${ip}) is benign`);
    }
    if (net.aws === false) {
      return alert('high', ip, `${who} called ${what} from ${ip} (${net.label}), outside AWS${ua === undefined ? '' : `, user agent ${ua}`}`, `it is benign only if ${s.instance} sends all its AWS traffic through a proxy or VPN at ${ip} (then every call of its sessions comes from there, not just these)`);
    }
    if (net.aws === undefined) {
      if (family === 'script' || desktopUserAgent(ua)) {
        return alert('medium', ip, `${who} called ${what} from ${ip}, an address Seam cannot place, with ${family === 'script' ? 'a script' : 'a macOS desktop'} user agent (${ua})`, `it is benign if ${ip} is an AWS address (an ASN database would place it) and the client runs on ${s.instance} itself`);
      }
      return [];
    }
    // An AWS address: fine alone, unless the caller says it is a Mac (an instance's own software runs Linux or Windows Server).
    if (desktopUserAgent(ua) && family !== 'aws-service') {
      return alert('medium', 'desktop|' + ip, `${who} called ${what} from ${ip} (${net.label}) with a macOS user agent (${ua}): the keys are on someone's workstation, even if its traffic leaves through AWS`, `a person who copied the keys to test from a laptop behind a cloud VPN explains it, and is still worth stopping`);
    }
    // Returning to an address after another one of the same family was used means two hosts share the keys.
    // An IPv6 address counts by its /64 (a host's addresses change within it); IPv4 and IPv6 are followed apart.
    const where = addressPlace(ip);
    if (where === undefined) return [];
    const place = where.place;
    const prior = sess.addresses.get(place);
    const last = sess.lastPlace[where.family];
    const newFamily = !sess.families.has(family);
    // Bounded: an instance has one or two egress addresses; past a handful the session is roaming anyway.
    if (prior !== undefined || sess.addresses.size < 16) sess.addresses.set(place, { id: event.seam.id, timeMs: t });
    sess.lastPlace[where.family] = place;
    sess.families.add(family);
    const other = last === undefined ? undefined : sess.addresses.get(last);
    if (other === undefined || last === place) return [];
    if (prior !== undefined) {
      return alert('medium', 'copied', `${who} are used from two AWS addresses in turn (${last} and ${place}, ${net.label}): another EC2 host holds the instance's keys`, `it is benign if both are ${s.instance}'s own egress (two NAT gateways, or an IPv4 and an elastic address it switches between)`, other);
    }
    // A second address that brings a kind of client the instance never used (its agents and SDKs, then a CLI or
    // a script from elsewhere), while the first address was in use within the last hours: the keys were copied.
    // A stopped-and-started instance changes address too, but its own software comes back, not a new client.
    if (newFamily && (family === 'cli' || family === 'script')) {
      if (t - other.timeMs <= RECENT_MS && t >= other.timeMs) {
        return alert('medium', 'copied', `${who} were used from ${ip} (${net.label}) with ${ua ?? family}, a client the instance never used, ${Math.round((t - other.timeMs) / 60_000)} min after its own calls from ${last}`, `it is benign if someone ran that client on ${s.instance} itself after it moved to a new address (a stop and start, a new elastic address)`, other);
      }
    }
    return [];
  },
};
