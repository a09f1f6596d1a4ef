import { describe, expect, it } from 'vitest';
import { ev, t } from '../../../test/identity/records.ts';
import { cloudTrailEvent, eventIds, runNative } from '../../../test/helpers/native.ts';
import type { Alert } from '../alert.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { identityCenterUserKeys } from './device-code-token-elsewhere.ts';

const id = 'seam-native-device-code-token-elsewhere';
const ACCOUNT = '111122223333';
const USER_ID = 'f12bb510-a011-702f-10dd-5607e2776dbc';
const STORE = `arn:aws:identitystore::${ACCOUNT}:identitystore/d-9067f4a2b1`;
const HOME_IP = '203.0.113.24';
const PHISHER_IP = '198.51.100.77';
const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#sso.login';
const BOTO = 'Boto3/1.35.64 md/Botocore#1.35.64 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.64';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const eventId = eventIds('5e0c', '3b1f-4a6e-9c2d');

/** An Identity Center sign-in step as signin.amazonaws.com logs it (user-guide "Understanding IAM Identity Center sign-in events"). */
function signIn(name: 'CredentialChallenge' | 'CredentialVerification' | 'UserAuthentication', time: string, ip: string, verdict = 'Success'): SeamEvent {
  return cloudTrailEvent(
    {
      eventVersion: '1.09',
      userIdentity: { type: 'Unknown', principalId: ACCOUNT, arn: '', accountId: ACCOUNT, accessKeyId: '', userName: 'dana', onBehalfOf: { userId: USER_ID, identityStoreArn: STORE }, credentialId: 'b41f0a02-1635-4d07-a414-aecf9e14b906' },
      eventTime: time,
      eventSource: 'signin.amazonaws.com',
      eventName: name,
      awsRegion: 'us-east-1',
      sourceIPAddress: ip,
      userAgent: CHROME,
      eventType: 'AwsServiceEvent',
      extra: {
        additionalEventData: { AuthWorkflowID: '7a4ef12c-7c4b-4bc3-b5bd-c2469afcc795', LoginTo: 'https://d-9067f4a2b1.awsapps.com/start/', CredentialType: 'PASSWORD' },
        ...(name === 'CredentialChallenge' ? {} : { serviceEventDetails: { [name]: verdict } }),
      },
    },
    eventId,
  );
}

/** The OIDC CreateToken that ends a device authorization (sso-oidc API reference: CreateToken). */
function createToken(time: string, ip: string, o: { grant?: string; ua?: string; error?: string; source?: string; identity?: Record<string, unknown> } = {}): SeamEvent {
  return cloudTrailEvent(
    {
      eventVersion: '1.08',
      userIdentity: o.identity ?? { type: 'Unknown', principalId: USER_ID, accountId: ACCOUNT, userName: 'dana', onBehalfOf: { userId: USER_ID, identityStoreArn: STORE } },
      eventTime: time,
      eventSource: o.source ?? 'sso-oauth.amazonaws.com',
      eventName: 'CreateToken',
      sourceIPAddress: ip,
      userAgent: o.ua ?? CLI,
      requestParameters: { clientId: 'EXAMPLEclientid1234567890', clientSecret: 'HIDDEN_DUE_TO_SECURITY_REASONS', deviceCode: 'HIDDEN_DUE_TO_SECURITY_REASONS', grantType: o.grant ?? 'urn:ietf:params:oauth:grant-type:device_code' },
      responseElements: o.error === undefined ? { accessToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', expiresIn: 28800, refreshToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', tokenType: 'Bearer' } : null,
      ...(o.error === undefined ? {} : { errorCode: o.error, errorMessage: 'Authorization is still pending' }),
    },
    eventId,
  );
}

const browserSignIn = (ip: string, at = '10:00:00'): SeamEvent[] => [signIn('CredentialChallenge', t(at), ip), signIn('CredentialVerification', t(at, 20), ip), signIn('UserAuthentication', t(at, 21), ip)];

describe('Identity Center device-code token issued to an address the user did not sign in from', () => {
  it('alerts (medium) when the user signs in from one address and the device-code token is redeemed at another', () => {
    const alerts = run([...browserSignIn(HOME_IP), createToken(t('10:01:05'), PHISHER_IP, { ua: BOTO })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.rule.tags).toContain('attack.t1528');
    expect(alerts[0]!.summary).toContain(`device-code access token at ${PHISHER_IP}`);
    expect(alerts[0]!.summary).toContain(`signing in from ${HOME_IP}`);
    // The triage text names the user, both addresses, the client, and the commands with the user's name.
    expect(alerts[0]!.triage).toContain(`Identity Center user dana got a device-code access token at ${PHISHER_IP} with “Boto3/1.35.64`);
    expect(alerts[0]!.triage).toContain(`minutes after signing in from ${HOME_IP}.`);
    expect(alerts[0]!.triage).toContain('aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=dana');
    // The sign-in steps and the token are the alert's evidence.
    expect(alerts[0]!.events.length).toBeGreaterThanOrEqual(2);
  });

  it('joins the older record shape (principalId = identity store user id, sso.amazonaws.com, portal call from the browser)', () => {
    const portal = ev(
      { eventVersion: '1.08', userIdentity: { type: 'Unknown', principalId: USER_ID, accountId: ACCOUNT, userName: 'dana' }, eventTime: t('10:00:30'), eventSource: 'sso.amazonaws.com', eventName: 'ListApplications', awsRegion: 'us-west-2', sourceIPAddress: HOME_IP, userAgent: CHROME, requestParameters: null, responseElements: null, eventID: eventId(), eventType: 'AwsApiCall', recipientAccountId: ACCOUNT },
      undefined,
    );
    const token = createToken(t('10:01:00'), PHISHER_IP, { source: 'sso.amazonaws.com', identity: { type: 'Unknown', principalId: USER_ID, accountId: ACCOUNT, userName: 'dana' } });
    expect(run([portal, token])).toHaveLength(1);
  });

  it('stays quiet for aws sso login on the machine that signed in, and for a refused poll or a refresh', () => {
    expect(
      run([
        ...browserSignIn(HOME_IP),
        createToken(t('10:00:40'), PHISHER_IP, { error: 'AuthorizationPendingException' }),
        createToken(t('10:01:05'), HOME_IP),
        createToken(t('10:05:00'), PHISHER_IP, { grant: 'refresh_token' }),
      ]),
    ).toEqual([]);
  });

  it('stays quiet with nothing to compare: no sign-in, a sign-in too long before, another user, a rejected password only, or IPv6 browser vs IPv4 CLI', () => {
    expect(run([createToken(t('10:01:05'), PHISHER_IP)])).toEqual([]);
    expect(run([...browserSignIn(HOME_IP, '09:30:00'), createToken(t('10:01:05'), PHISHER_IP)])).toEqual([]);
    const other = createToken(t('10:01:05'), PHISHER_IP, { identity: { type: 'Unknown', principalId: '9a7b6c5d-0000-4111-8222-933344445555', accountId: ACCOUNT, userName: 'erin' } });
    expect(run([...browserSignIn(HOME_IP), other])).toEqual([]);
    expect(run([signIn('CredentialVerification', t('10:00:20'), HOME_IP, 'Failure'), createToken(t('10:01:05'), PHISHER_IP)])).toEqual([]);
    expect(run([...browserSignIn('2001:db8:4b1:7e00:1c2d:3e4f:5a6b:7c8d'), createToken(t('10:01:05'), PHISHER_IP)])).toEqual([]);
  });

  it('treats one IPv6 /64 as one client (privacy addresses rotate)', () => {
    expect(run([...browserSignIn('2001:db8:4b1:7e00:1c2d:3e4f:5a6b:7c8d'), createToken(t('10:01:05'), '2001:db8:4b1:7e00:99aa:bbcc:ddee:ff00')])).toEqual([]);
    expect(run([...browserSignIn('2001:db8:4b1:7e00:1c2d:3e4f:5a6b:7c8d'), createToken(t('10:01:05'), '2001:db8:ffff:1:99aa:bbcc:ddee:ff00')])).toHaveLength(1);
  });

  it('keys a user by identity store id and name, never by the account number in principalId', () => {
    const keys = identityCenterUserKeys(signIn('UserAuthentication', t('10:00:00'), HOME_IP));
    expect(keys).toContain(`${ACCOUNT}|id:${USER_ID}`);
    expect(keys).toContain(`${ACCOUNT}|name:dana`);
    expect(keys.some((k) => k.endsWith(`id:${ACCOUNT}`))).toBe(false);
  });
});
