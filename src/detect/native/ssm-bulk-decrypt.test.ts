import { describe, expect, it } from 'vitest';
import { ATTACKER_IP, NAT_IP, alice, callAs, ev, t } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';

const id = 'seam-native-ssm-bulk-decrypt';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const params = (n: number, prefix = '/prod/payments/'): string[] => Array.from({ length: n }, (_, i) => `${prefix}secret-${i + 1}`);

/** A GetParameters call as CloudTrail logs it. */
function getParameters(names: string[], o: { decrypt?: boolean | string; error?: string; identity?: Record<string, unknown>; ua?: string; ip?: string; time?: string } = {}): SeamEvent {
  const raw = callAs(alice, 'ssm.amazonaws.com', 'GetParameters', o.time ?? t('16:00:00'), o.ip ?? ATTACKER_IP, { names, withDecryption: o.decrypt ?? true }, o.error === undefined ? {} : { errorCode: o.error });
  raw.readOnly = true;
  raw.resources = names.map((n) => ({ accountId: '111122223333', ARN: `arn:aws:ssm:us-west-2:111122223333:parameter${n}` }));
  if (o.identity !== undefined) raw.userIdentity = o.identity;
  if (o.ua !== undefined) raw.userAgent = o.ua;
  return ev(raw, undefined);
}

const irsaIdentity = {
  type: 'AssumedRole',
  principalId: 'AROAEXAMPLEPAYMENTS1:botocore-session-1730820000',
  arn: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730820000',
  accountId: '111122223333',
  accessKeyId: 'ASIAEXAMPLEPAYMENTS1',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEPAYMENTS1', arn: 'arn:aws:iam::111122223333:role/payments-api-irsa', accountId: '111122223333', userName: 'payments-api-irsa' },
    webIdFederationData: { federatedProvider: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE', attributes: {} },
    attributes: { creationDate: '2024-11-05T15:00:00Z', mfaAuthenticated: 'false' },
  },
};

describe('many SSM SecureString parameters decrypted in one call', () => {
  it('alerts (medium) when a person or key decrypts ten parameters at once, and at the five-name threshold', () => {
    const alerts = run([getParameters(params(10)), getParameters(params(5, '/prod/checkout/'), { time: t('16:05:00') })]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'medium']);
    expect(alerts[0]!.summary).toContain('decrypted 10 SSM parameters in one call (/prod/payments/secret-1');
    // The triage text lists the parameters read (all ten, up to ten), not a field path (SOC review M4).
    expect(alerts[0]!.triage).toMatch(/decrypted 10 parameters from \S+.*: \/prod\/payments\/secret-1, .*\/prod\/payments\/secret-10\. /);
    expect(alerts[0]!.triage).not.toContain('requestParameters');
    expect(alerts[0]!.rule.tags).toContain('attack.t1552');
  });
  it('reads the items list shape and the string "true"', () => {
    const raw = callAs(alice, 'ssm.amazonaws.com', 'GetParameters', t('16:00:00'), ATTACKER_IP, { names: { items: params(6).map((name) => ({ name })) }, withDecryption: 'true' });
    expect(run([ev(raw, undefined)])).toHaveLength(1);
  });
  it('stays quiet for the near misses: four names, no decryption, a refused call, duplicates, workload sessions', () => {
    expect(
      run([
        getParameters(params(4)),
        getParameters(params(10), { decrypt: false }),
        getParameters(params(10), { error: 'AccessDeniedException' }),
        getParameters(['/a', '/a', '/a', '/b', '/b', '/c']),
        getParameters(params(8), { identity: irsaIdentity, ip: NAT_IP }),
        getParameters(params(8), { ua: 'aws-sdk-js/3.679.0 ua/2.1 os/linux lang/js md/nodejs#20.18.0 exec-env/AWS_Lambda_nodejs20.x api/ssm#3.679.0' }),
      ]),
    ).toEqual([]);
  });
  it('stays quiet for GetParameter (one name) and GetParametersByPath (the recursive-read rules cover it)', () => {
    const one = callAs(alice, 'ssm.amazonaws.com', 'GetParameter', t('16:00:00'), ATTACKER_IP, { name: '/prod/payments/db', withDecryption: true });
    const path = callAs(alice, 'ssm.amazonaws.com', 'GetParametersByPath', t('16:00:01'), ATTACKER_IP, { path: '/prod', recursive: true, withDecryption: true });
    expect(run([ev(one, undefined), ev(path, undefined)])).toEqual([]);
  });
});
