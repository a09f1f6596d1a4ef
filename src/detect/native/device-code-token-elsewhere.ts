/**
 * IAM Identity Center device-code phishing: an access token issued by the device authorization grant to an
 * address other than the one the user was signing in from. `aws sso login` runs RFC 8628's device flow: the
 * CLI registers a client, starts a device authorization and polls CreateToken while the user approves the
 * code in a browser. Both run on the user's machine, so the browser's sign-in events (signin.amazonaws.com
 * CredentialChallenge / CredentialVerification / UserAuthentication, the portal's own calls) and the
 * CreateToken that finally succeeds come from one address. An attacker who started the flow sends the
 * verification link to the victim (phishing that MFA and security keys do not stop): the victim signs in and
 * approves from their address, the token goes to the attacker's, and with it every account and role
 * assigned to the user for up to the session's length.
 *
 * Alerts (medium) when a successful device-code CreateToken comes from an address that none of the same
 * user's browser-side Identity Center events of the 15 minutes before came from, while at least one of
 * them was of the same IP family (a dual-stack browser on IPv6 and a CLI on IPv4 is not compared).
 * Silent when the user's browser left nothing to compare with (already signed in to the portal): this
 * catches the phish of a user who had to sign in, not every phish. One event per call, state per user
 * (bounded), no learning period.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { isPrivateIp, nativeAlert, quoted, remembered, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** How long before the token a browser-side event of the user still counts (device codes live 10 minutes by default). */
export const WINDOW_MS = 15 * 60_000;
/** Browser-side sightings kept per user (the newest). */
const PER_USER = 8;

interface Sighting {
  id: string;
  ip: string;
  timeMs: number;
}

interface State {
  browser: Lru<string, Sighting[]>;
}

const SIGN_IN_EVENTS = new Set(['CredentialChallenge', 'CredentialVerification', 'UserAuthentication']);
const TOKEN_SOURCES = new Set(['sso-oauth.amazonaws.com', 'sso.amazonaws.com']);

/**
 * Keys naming the Identity Center user of an event, within its account: the identity store user id where
 * the record has one (userIdentity.onBehalfOf.userId, additionalEventData identitystore:UserId, or a
 * principalId that is not the account number) and the user name. Records of one user share at least one.
 */
export function identityCenterUserKeys(event: SeamEvent): string[] {
  const ui = obj(event.userIdentity);
  const ad = obj(event.additionalEventData);
  const account = event.seam.account ?? str(ui?.accountId) ?? '';
  const keys = new Set<string>();
  const add = (kind: string, v: string | undefined): void => {
    const s = v?.trim().toLowerCase();
    if (s !== undefined && s !== '' && !s.startsWith('<')) keys.add(`${account}|${kind}:${s}`);
  };
  add('id', str(obj(ui?.onBehalfOf)?.userId));
  add('id', str(ad?.['identitystore:UserId']));
  const pid = str(ui?.principalId);
  if (pid !== undefined && !/^\d{12}$/.test(pid)) add('id', pid);
  add('name', str(ui?.userName));
  return [...keys];
}

const failed = (event: SeamEvent, name: string): boolean => {
  if (event.seam.outcome !== 'success') return true;
  const details = obj(event.serviceEventDetails);
  const verdict = str(details?.[name]);
  return verdict !== undefined && verdict.toLowerCase() !== 'success';
};

/** An event of the user's browser: an Identity Center sign-in step, or the access portal calling sso.amazonaws.com from a browser. */
function browserSide(event: SeamEvent): boolean {
  const [source, name] = splitAction(event);
  if (source === 'signin.amazonaws.com') return SIGN_IN_EVENTS.has(name) && !failed(event, name);
  if (source === 'sso.amazonaws.com') return event.seam.outcome === 'success' && /^Mozilla\//.test(event.seam.user_agent ?? '');
  return false;
}

function deviceCodeToken(event: SeamEvent): boolean {
  const [source, name] = splitAction(event);
  if (name !== 'CreateToken' || !TOKEN_SOURCES.has(source) || event.seam.outcome !== 'success') return false;
  const grant = str(obj(event.requestParameters)?.grantType) ?? '';
  return /device_code$/i.test(grant);
}

function splitAction(event: SeamEvent): [string, string] {
  const a = event.seam.action ?? '';
  const i = a.indexOf(':');
  return i < 0 ? ['', a] : [a.slice(0, i), a.slice(i + 1)];
}

const v6 = (ip: string): boolean => ip.includes(':');
/** Addresses compared as the same client: equal IPv4, or the same IPv6 /64. */
function sameClient(a: string, b: string): boolean {
  if (v6(a) !== v6(b)) return false;
  if (!v6(a)) return a === b;
  const prefix = (ip: string): string => ip.toLowerCase().split(':').slice(0, 4).join(':');
  return prefix(a) === prefix(b);
}

export const deviceCodeTokenElsewhere: NativeDetection<State> = {
  id: 'seam-native-device-code-token-elsewhere',
  title: 'Identity Center device-code token issued to an address the user did not sign in from',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.initial-access', 'attack.t1566.002', 'attack.t1078.004'],
  description:
    'A successful IAM Identity Center CreateToken with the device_code grant (what `aws sso login` ends with) came from an address that none of the same user’s browser sign-in or portal events of the 15 minutes before came from: the code was approved in one place and redeemed in another, the shape of device-code phishing.',
  triage:
    'Ask the user whether they ran `aws sso login` (or another device-code client) from the token’s address at that time, e.g. on a remote host or devbox while approving on their laptop. If not: revoke the user’s Identity Center sessions (DeleteSession / sign-out everywhere), look for sso GetRoleCredentials, ListAccounts and ListAccountRoles from the token’s address, and review every role session it opened.',
  createState: () => ({ browser: boundedLru(20_000) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const ip = event.seam.source_ip;
    if (ip === undefined || isPrivateIp(ip)) return [];
    const t = timeOf(event);
    if (browserSide(event)) {
      for (const key of identityCenterUserKeys(event)) {
        const list = (state.browser.get(key) ?? []).filter((s) => s.timeMs > t - WINDOW_MS && s.ip !== ip);
        list.push({ id: event.seam.id, ip, timeMs: t });
        state.browser.set(key, list.slice(-PER_USER));
      }
      return [];
    }
    if (!deviceCodeToken(event)) return [];
    const recent = new Map<string, Sighting>();
    for (const key of identityCenterUserKeys(event)) {
      for (const s of state.browser.get(key) ?? []) {
        if (s.timeMs <= t && s.timeMs > t - WINDOW_MS) recent.set(s.id, s);
      }
    }
    const comparable = [...recent.values()].filter((s) => v6(s.ip) === v6(ip));
    if (comparable.length === 0 || comparable.some((s) => sameClient(s.ip, ip))) return [];
    const where = [...new Set(comparable.map((s) => s.ip))];
    const principal = ctx.resolution.principal ?? event.seam.principal;
    const user = str(obj(event.userIdentity)?.userName);
    return [
      nativeAlert(this, {
        events: [...comparable.map((s) => remembered(s.id, s.timeMs)), event],
        summary: `Identity Center user ${user ?? describePrincipal(principal)} got a device-code access token at ${ip} (${event.seam.user_agent ?? 'no user agent'}) minutes after signing in from ${where.join(', ')}: approved in one place, redeemed in another`,
        triage:
          `Identity Center user ${user ?? whoText(principal)} got a device-code access token at ${ip}${event.seam.user_agent === undefined ? '' : ` with ${quoted(event.seam.user_agent)}`} at ${event['@timestamp']}, minutes after signing in from ${where.join(', ')}. ` +
          `Ask the user whether they ran aws sso login (or another device-code client) at ${ip} then, e.g. on a remote host or devbox while approving on their laptop: that is the benign case. ` +
          `If not, it is device-code phishing: revoke the user’s active sessions (Identity Center console, Users, ${user ?? 'the user'}, Active sessions), and list what the token did: GetRoleCredentials, ListAccounts and ListAccountRoles from ${ip}${user === undefined ? '' : ` (aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=${user})`}, then every role session it opened.`,
        principal,
        account: event.seam.account,
      }),
    ];
  },
};
