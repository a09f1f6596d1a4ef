/**
 * IAM Identity Center role credentials fetched for many account/role pairs by one user within minutes. The
 * access portal's GetRoleCredentials turns a user's Identity Center access token into the keys of one
 * permission set in one account (CloudTrail: sso.amazonaws.com GetRoleCredentials, the account and role in
 * serviceEventDetails or requestParameters). A person or the CLI asks for the one or two roles they work
 * with; whoever holds a stolen or phished token (device-code phishing, a token cache copied from
 * ~/.aws/sso/cache) lists the accounts and roles and takes credentials for all of them. Sigma cannot do this
 * one: the user's id sits in different fields across record versions (userIdentity.onBehalfOf.userId,
 * principalId), and a correlation drops events missing its group field.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { identityCenterUserKeys } from './device-code-token-elsewhere.ts';
import { callerText, nativeAlert, remembered, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** Distinct account/role pairs within WINDOW_MS that alert. */
export const MIN_PAIRS = 6;
export const WINDOW_MS = 10 * 60_000;

interface Fetch {
  id: string;
  pair: string;
  timeMs: number;
}

interface State {
  /** User key → the user's recent fetches (newest last), at most one per pair. */
  fetches: Lru<string, Fetch[]>;
  /** User key → time until which a burst already alerted (one alert per burst). */
  alertedUntil: Lru<string, number>;
}

function accountAndRole(event: SeamEvent): [string, string] | undefined {
  const sed = obj(event.serviceEventDetails);
  const rp = obj(event.requestParameters);
  const account = str(sed?.account_id) ?? str(rp?.accountId) ?? str(rp?.account_id);
  const role = str(sed?.role_name) ?? str(rp?.roleName) ?? str(rp?.role_name);
  return account === undefined || role === undefined ? undefined : [account, role];
}

/** The Identity Center user id a call names (`onBehalfOf.userId`, or a principalId that is not an account id). */
function userIdOf(event: SeamEvent): string | undefined {
  const ui = obj(event.userIdentity);
  const pid = str(ui?.principalId);
  return str(obj(ui?.onBehalfOf)?.userId) ?? (pid !== undefined && !/^\d{12}$/.test(pid) ? pid : undefined);
}

export const ssoRoleCredentialsSweep: NativeDetection<State> = {
  id: 'seam-native-sso-role-credentials-sweep',
  title: 'Identity Center role credentials taken for many accounts or roles by one user',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.lateral-movement', 'attack.t1550.001', 'attack.discovery', 'attack.t1087.004'],
  description: `One IAM Identity Center user's token fetched role credentials (sso GetRoleCredentials) for ${MIN_PAIRS} or more distinct account/role pairs within ${WINDOW_MS / 60_000} minutes: every permission set it can reach, taken at once, as tools do with a stolen or phished access token.`,
  triage:
    'Which accounts and roles (the alert’s events), from which address and user agent? Did the user run a multi-account tool (an inventory or compliance scanner, a script looping over profiles) at that time? If not: revoke the user’s Identity Center sessions, look for a device-code CreateToken or a sign-in from an unusual address just before, and review what each role session did (their AssumeRoleWithSAML in the member accounts).',
  createState: () => ({ fetches: boundedLru(20_000), alertedUntil: boundedLru(20_000) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.seam.action !== 'sso.amazonaws.com:GetRoleCredentials' || event.seam.outcome !== 'success') return [];
    const ar = accountAndRole(event);
    const key = identityCenterUserKeys(event)[0];
    if (ar === undefined || key === undefined) return [];
    const t = timeOf(event);
    const pair = `${ar[0]}/${ar[1]}`;
    const recent = (state.fetches.get(key) ?? []).filter((f) => f.timeMs > t - WINDOW_MS && f.timeMs <= t && f.pair !== pair);
    recent.push({ id: event.seam.id, pair, timeMs: t });
    state.fetches.set(key, recent.slice(-4 * MIN_PAIRS));
    if (recent.length < MIN_PAIRS) return [];
    const until = state.alertedUntil.get(key);
    if (until !== undefined && t <= until) {
      state.alertedUntil.set(key, t + WINDOW_MS);
      return [];
    }
    state.alertedUntil.set(key, t + WINDOW_MS);
    const principal = ctx.resolution.principal ?? event.seam.principal;
    const user = str(obj(event.userIdentity)?.userName);
    const accounts = new Set(recent.map((f) => f.pair.split('/')[0]));
    return [
      nativeAlert(this, {
        events: [...recent.slice(0, -1).map((f) => remembered(f.id, f.timeMs)), event],
        summary: `Identity Center user ${user ?? describePrincipal(principal)} took role credentials for ${recent.length} account/role pairs in ${accounts.size} accounts within ${WINDOW_MS / 60_000} minutes from ${event.seam.source_ip ?? 'an unknown address'} (${event.seam.user_agent ?? 'no user agent'}): ${recent
          .slice(0, 4)
          .map((f) => f.pair)
          .join(', ')}${recent.length > 4 ? ', …' : ''}`,
        triage:
          `Identity Center user ${user ?? userIdOf(event) ?? whoText(principal)} took role credentials for ${recent.length} account/role pairs in ${accounts.size} accounts within ${WINDOW_MS / 60_000} minutes ${callerText(event)}: ${recent
            .slice(0, 8)
            .map((f) => f.pair)
            .join(', ')}${recent.length > 8 ? ', …' : ''}. ` +
          `Ask the user whether they ran a multi-account tool then (an inventory or compliance scanner, a script looping over profiles): that is the benign case. ` +
          `If not, the access token was stolen or phished: revoke the user’s active sessions (Identity Center console, Users, ${user ?? userIdOf(event) ?? 'the user'}, Active sessions), look for a device-code CreateToken or a sign-in from an unusual address just before${user === undefined ? '' : ` (aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=${user})`}, and review what each role session did in its account.`,
        principal,
        account: event.seam.account,
      }),
    ];
  },
};
