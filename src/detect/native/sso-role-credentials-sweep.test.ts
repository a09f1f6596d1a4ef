import { describe, expect, it } from 'vitest';
import { t } from '../../../test/identity/records.ts';
import { cloudTrailEvent, eventIds, runNative } from '../../../test/helpers/native.ts';
import type { Alert } from '../alert.ts';
import type { SeamEvent } from '../../core/envelope.ts';

const id = 'seam-native-sso-role-credentials-sweep';
const MGMT = '111122223333';
const USER_ID = '976710cc5d-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa';
const STORE = `arn:aws:identitystore::${MGMT}:identitystore/d-976710cc5d`;
const ACCOUNTS = ['210987654321', '322233334444', '433344445555', '544455556666', '655566667777', '766677778888', '877788889999'];
const BOTO = 'Boto3/1.35.64 md/Botocore#1.35.64 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.64';
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.ls';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const eventId = eventIds('7c1d', '5e2f-4a6b-8c9d');

/** sso GetRoleCredentials as CloudTrail logs it (IdentityCenterUser, account and role in serviceEventDetails). */
function fetchCreds(account: string, role: string, time: string, o: { ua?: string; ip?: string; error?: string; user?: string; older?: boolean } = {}): SeamEvent {
  const userId = o.user ?? USER_ID;
  return cloudTrailEvent(
    {
      eventVersion: '1.11',
      userIdentity: o.older
        ? { type: 'Unknown', principalId: userId, accountId: MGMT, userName: 'dana' }
        : { type: 'IdentityCenterUser', accountId: MGMT, onBehalfOf: { userId, identityStoreArn: STORE }, credentialId: 'AAAAAGpEaIMIfeJrfG3s_yDz-EXAMPLE' },
      eventTime: time,
      eventSource: 'sso.amazonaws.com',
      eventName: 'GetRoleCredentials',
      sourceIPAddress: o.ip ?? '198.51.100.77',
      userAgent: o.ua ?? BOTO,
      requestParameters: o.older ? { accountId: account, roleName: role } : null,
      ...(o.error === undefined ? {} : { errorCode: o.error, errorMessage: 'No access' }),
      readOnly: true,
      eventType: 'AwsServiceEvent',
      ...(o.older ? {} : { extra: { serviceEventDetails: { role_name: role, account_id: account } } }),
    },
    eventId,
  );
}

const sweep = (from = '10:00:00', roles = ['AdministratorAccess']): SeamEvent[] =>
  ACCOUNTS.slice(0, 6).flatMap((a, i) => roles.map((r, j) => fetchCreds(a, r, t(from, i * 20 + j * 5))));

describe('Identity Center role credentials taken for many accounts or roles by one user', () => {
  it('alerts (medium) once when one user takes credentials for six account/role pairs within ten minutes', () => {
    const alerts = run([...sweep(), fetchCreds(ACCOUNTS[6]!, 'AdministratorAccess', t('10:03:00'))]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('role credentials for 6 account/role pairs in 6 accounts');
    // The triage text names the user, the pairs, the address and client, and the lookup by user name.
    expect(alerts[0]!.triage).toContain(`Identity Center user ${USER_ID} took role credentials for 6 account/role pairs in 6 accounts within 10 minutes from `);
    expect(alerts[0]!.triage).toContain(`(Identity Center console, Users, ${USER_ID}, Active sessions)`);
    expect(alerts[0]!.triage).toContain(`${ACCOUNTS[0]}/AdministratorAccess, ${ACCOUNTS[1]}/AdministratorAccess`);
    expect(alerts[0]!.events).toHaveLength(6);
  });

  it('counts roles in one account too, and reads the older record shape (principalId = user id, requestParameters)', () => {
    const roles = ['AdministratorAccess', 'PowerUserAccess', 'ReadOnlyAccess'];
    expect(run([...ACCOUNTS.slice(0, 2).flatMap((a, i) => roles.map((r, j) => fetchCreds(a, r, t('10:00:00', i * 30 + j * 5), { older: true })))])).toHaveLength(1);
  });

  it('stays quiet for a person switching between a few roles all day, repeated fetches of one role, refused fetches, and two users', () => {
    const day = [0, 1, 2, 3, 4].flatMap((h) => [fetchCreds(ACCOUNTS[0]!, 'PowerUserAccess', t(`1${h}:00:00`), { ua: CLI }), fetchCreds(ACCOUNTS[1]!, 'ReadOnlyAccess', t(`1${h}:05:00`), { ua: CLI }), fetchCreds(ACCOUNTS[0]!, 'PowerUserAccess', t(`1${h}:07:00`), { ua: CLI })]);
    expect(run(day)).toEqual([]);
    const refused = ACCOUNTS.slice(0, 6).map((a, i) => fetchCreds(a, 'AdministratorAccess', t('10:00:00', i * 10), { error: 'ForbiddenException' }));
    expect(run(refused)).toEqual([]);
    const two = ACCOUNTS.slice(0, 6).map((a, i) => fetchCreds(a, 'ReadOnlyAccess', t('10:00:00', i * 10), { user: i % 2 === 0 ? USER_ID : '9a7b6c5d-0000-4111-8222-933344445555' }));
    expect(run(two)).toEqual([]);
  });

  it('stays quiet for five pairs, or six spread over more than ten minutes', () => {
    expect(run(ACCOUNTS.slice(0, 5).map((a, i) => fetchCreds(a, 'AdministratorAccess', t('10:00:00', i * 20))))).toEqual([]);
    expect(run(ACCOUNTS.slice(0, 6).map((a, i) => fetchCreds(a, 'AdministratorAccess', t('10:00:00', i * 150))))).toEqual([]);
  });
});
