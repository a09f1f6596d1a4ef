import { describe, expect, it } from 'vitest';
import { OCSF_NEAR_MISSES, OCSF_PAIRS } from '../../../test/helpers/ocsf-pairs.ts';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import type { Rec } from '../values.ts';
import { detectFormat, normalizeLine, normalizeRecord, REDACTED } from './normalize.ts';

const meta: RawMeta = { collector: 'file', receivedAt: '2026-11-02T15:00:00.000Z' };

/** The record as rules see it: the event without Seam's envelope and the kept OCSF event. */
function record(e: SeamEvent): Rec {
  const { seam: _s, ocsf: _o, '@timestamp': _t, ...rest } = e as unknown as Rec;
  return rest;
}

function without(r: Rec, paths: string[]): Rec {
  const c = structuredClone(r);
  for (const p of paths) {
    const keys = p.split('.');
    let cur: Rec = c;
    for (const k of keys.slice(0, -1)) cur = cur[k] as Rec;
    delete cur[keys[keys.length - 1]!];
  }
  // CloudTrail's null bodies are absent, as normalization writes any record.
  for (const k of Object.keys(c)) if (c[k] === null) delete c[k];
  return c;
}

function ok(r: ReturnType<typeof normalizeRecord>): SeamEvent {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('CloudTrail records as Security Lake stores them (OCSF)', () => {
  for (const pair of OCSF_PAIRS) {
    it(`rebuilds the CloudTrail record: ${pair.name}`, () => {
      expect(detectFormat(pair.ocsf)).toBe('cloudtrail_ocsf');
      const ct = ok(normalizeRecord(pair.cloudtrail, meta));
      for (const e of [ok(normalizeRecord(pair.ocsf, meta)), ok(normalizeLine(JSON.stringify(pair.ocsf), meta))]) {
        expect(record(e)).toEqual(without(record(ct), pair.lost));
        const { format, ingest: _i, ...seam } = e.seam;
        const { format: _f, ingest: _i2, ...ctSeam } = ct.seam;
        expect(format).toBe('ocsf');
        expect(seam).toEqual(ctSeam);
        expect(e['@timestamp']).toBe(ct['@timestamp']);
        // The OCSF event is kept, its class and product among it.
        expect((e as unknown as Rec).ocsf).toMatchObject({ class_uid: pair.ocsf.class_uid, metadata: { product: { name: 'CloudTrail' } } });
      }
    });
  }

  it('reads the caller of an assumed-role call with MFA and the issuing role', () => {
    const e = ok(normalizeRecord(OCSF_PAIRS[0]!.ocsf, meta)) as unknown as Rec;
    expect(e.userIdentity).toEqual({
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEROLEID1234:alice',
      arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
      accountId: '111122223333',
      accessKeyId: 'ASIAEXAMPLEKEY000001',
      sessionContext: {
        sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/Admin', accountId: '111122223333', userName: 'Admin' },
        attributes: { creationDate: '2026-11-02T09:58:10Z', mfaAuthenticated: 'true' },
      },
    });
    expect(e.eventTime).toBe('2026-11-02T10:01:44Z');
    expect(e.readOnly).toBe(false);
    // A name Security Lake filled in for a role session is not CloudTrail's userName.
    const base = OCSF_PAIRS[0]!.ocsf as { actor: { user: Rec } };
    const named = ok(normalizeRecord({ ...base, actor: { ...base.actor, user: { ...base.actor.user, name: 'alice' } } }, meta)) as unknown as { userIdentity: Rec };
    expect(named.userIdentity.userName).toBeUndefined();
  });

  it('reads a failed call: error code and message, outcome failure', () => {
    const e = ok(normalizeRecord(OCSF_PAIRS[1]!.ocsf, meta));
    expect(e).toMatchObject({ errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized to perform this operation.' });
    expect(e.seam).toMatchObject({ source: 'cloudtrail', format: 'ocsf', outcome: 'failure', action: 'ec2.amazonaws.com:DescribeInstances', account: '111122223333', region: 'eu-west-1' });
  });

  it('puts a console sign-in outcome and MFA back where CloudTrail writes them', () => {
    const e = ok(normalizeRecord(OCSF_PAIRS[2]!.ocsf, meta)) as unknown as Rec;
    expect(e.responseElements).toEqual({ ConsoleLogin: 'Success' });
    expect(e.additionalEventData).toEqual({ LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' });
    const failed = ok(normalizeRecord({ ...OCSF_PAIRS[2]!.ocsf, status: 'Failure', api: { operation: 'ConsoleLogin', service: { name: 'signin.amazonaws.com' }, response: { message: 'Failed authentication' } } }, meta));
    expect(failed.seam.outcome).toBe('failure');
    expect(failed).toMatchObject({ responseElements: { ConsoleLogin: 'Failure' }, errorMessage: 'Failed authentication' });
  });

  it('reads a call by an AWS service: invokedBy and the service name as the source address', () => {
    const e = ok(normalizeRecord(OCSF_PAIRS[4]!.ocsf, meta)) as unknown as Rec;
    expect(e.userIdentity).toEqual({ type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' });
    expect(e.sourceIPAddress).toBe('cloudtrail.amazonaws.com');
    expect(e.sharedEventID).toBe('3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d');
  });

  it('redacts secrets in the rebuilt bodies, and keeps no unredacted copy under ocsf', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const base = OCSF_PAIRS[0]!.ocsf;
    const sts = {
      ...base,
      api: {
        operation: 'AssumeRole',
        service: { name: 'sts.amazonaws.com' },
        request: { data: { roleArn: 'arn:aws:iam::111122223333:role/Deploy', roleSessionName: 's' } },
        response: { data: JSON.stringify({ credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: secret, sessionToken: 'FQoGZXIvYXdzEXAMPLE', expiration: 'x' } }) },
      },
    };
    for (const e of [ok(normalizeRecord(sts, meta)), ok(normalizeLine(JSON.stringify(sts), meta))]) {
      const text = JSON.stringify(e);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('FQoGZXIvYXdzEXAMPLE');
      expect((e as unknown as { responseElements: { credentials: Rec } }).responseElements.credentials.sessionToken).toBe(REDACTED);
      expect(e.seam.ingest.redacted.length).toBeGreaterThan(0);
    }
    // The caller's record is not changed.
    expect(sts.api.response.data).toContain(secret);
  });

  it('leaves fields OCSF does not carry absent', () => {
    const e = ok(normalizeRecord({ class_uid: 6003, metadata: { product: { name: 'CloudTrail', vendor_name: 'AWS' }, uid: 'id-1' }, time: 1793613704000, api: { operation: 'ListUsers', service: { name: 'iam.amazonaws.com' } } }, meta)) as unknown as Rec;
    expect(record(e as unknown as SeamEvent)).toEqual({ eventTime: '2026-11-02T10:01:44Z', eventSource: 'iam.amazonaws.com', eventName: 'ListUsers', eventID: 'id-1' });
  });

  for (const miss of OCSF_NEAR_MISSES) {
    it(`does not read another OCSF event as CloudTrail: ${miss.name}`, () => {
      expect(detectFormat(miss.record)).toBeUndefined();
      const r = normalizeRecord(miss.record, meta);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    });
  }

  it('does not read a CloudTrail OCSF event without its operation or service', () => {
    const { api: _a, ...noApi } = OCSF_PAIRS[0]!.ocsf;
    expect(detectFormat(noApi)).toBeUndefined();
    expect(detectFormat({ ...OCSF_PAIRS[0]!.ocsf, api: { operation: 'CreateAccessKey' } })).toBeUndefined();
  });

  describe('review of ADR 0041', () => {
    const base = OCSF_PAIRS[0]!.ocsf;
    const irsaProvider = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

    it('an IRSA pod session keeps its OIDC provider where CloudTrail writes it, so the workload rules see it', () => {
      const irsa = {
        ...base,
        actor: {
          user: { type: 'AssumedRole', uid: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1', uid_alt: 'AROAEXAMPLE:botocore-session-1', account: { uid: '111122223333' }, credential_uid: 'ASIAEXAMPLE', name: 'payments-api-irsa' },
          session: { issuer: 'arn:aws:iam::111122223333:role/payments-api-irsa', created_time: 1793613600000, is_mfa: false },
          idp: { name: irsaProvider },
        },
      };
      const ui = (ok(normalizeRecord(irsa, meta)) as unknown as { userIdentity: Rec }).userIdentity;
      expect(ui.sessionContext).toMatchObject({ webIdFederationData: { federatedProvider: irsaProvider }, sessionIssuer: { type: 'Role', userName: 'payments-api-irsa' } });
      expect(ui.identityProvider).toBeUndefined();
      // CloudTrail writes no userName for a role session.
      expect(ui.userName).toBeUndefined();
      // A web identity user's provider stays identityProvider.
      const web = { ...base, actor: { user: { type: 'WebIdentityUser', uid: 'arn:aws:sts::111122223333:x', name: 'sub' }, idp: { name: 'accounts.google.com' } } };
      const wui = (ok(normalizeRecord(web, meta)) as unknown as { userIdentity: Rec }).userIdentity;
      expect([wui.identityProvider, wui.userName, wui.sessionContext]).toEqual(['accounts.google.com', 'sub', undefined]);
    });

    it('keeps neither raw_data nor an unmapped it cannot read (they would keep what redaction removes)', () => {
      const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
      const creds = JSON.stringify({ responseElements: { credentials: { secretAccessKey: secret, sessionToken: 'FQoGZXIvYXdzEXAMPLE' } } });
      for (const extra of [{ raw_data: creds }, { unmapped: `{responseElements={credentials={secretAccessKey=${secret}}}}` }, { unmapped: `\n${creds}` }]) {
        const e = ok(normalizeLine(JSON.stringify({ ...base, ...extra }), meta));
        expect(JSON.stringify(e)).not.toContain(secret);
      }
      // An unmapped that is JSON text after blanks is read (its bodies moved and redacted).
      const e = ok(normalizeLine(JSON.stringify({ ...base, api: { operation: 'AssumeRole', service: { name: 'sts.amazonaws.com' } }, unmapped: `\n${creds}` }), meta)) as unknown as { responseElements: { credentials: Rec } };
      expect(e.responseElements.credentials.secretAccessKey).toBe(REDACTED);
    });

    it('refuses bodies nested past the depth limit, as it refuses a CloudTrail record', () => {
      let deep = '{"a":1}';
      for (let i = 0; i < 300; i++) deep = `{"a":${deep}}`;
      const r = normalizeLine(JSON.stringify({ ...base, api: { operation: 'CreateUser', service: { name: 'iam.amazonaws.com' }, request: { data: deep } } }), meta);
      expect(r.ok ? 'ok' : r.error.code).toBe('SEAM_ERR_INPUT_DEPTH');
    });

    it('reads the time from time when time_dt is not a time; sets no prototype from unmapped keys', () => {
      const e = ok(normalizeRecord({ ...base, time_dt: 'garbage', time: 1793613704000 }, meta));
      expect(e['@timestamp']).toBe('2026-11-02T10:01:44Z');
      const p = ok(normalizeRecord({ ...base, unmapped: { 'requestParameters.__proto__': { polluted: 'yes' }, 'requestParameters.userName': 'bob', __proto__x: 1 } }, meta)) as unknown as { requestParameters: Rec };
      expect(p.requestParameters).toEqual({ userName: 'bob' });
      expect(Object.getPrototypeOf(p.requestParameters)).toBe(Object.prototype);
    });

    it('tells rc.2 from 1.1.0 by the event\'s version: a web identity\'s ARN-like principal id stays its principal id', () => {
      const rc2 = {
        ...base,
        metadata: { ...(base.metadata as Rec), version: '1.0.0-rc.2' },
        actor: { user: { type: 'WebIdentityUser', uid: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/X:system:serviceaccount:ns:sa', name: 'system:serviceaccount:ns:sa' } },
      };
      const ui = (ok(normalizeRecord(rc2, meta)) as unknown as { userIdentity: Rec }).userIdentity;
      expect(ui.principalId).toMatch(/:system:serviceaccount:ns:sa$/);
      expect(ui.arn).toBeUndefined();
    });

    it('reads vpcEndpointAccountId and an instance session\'s ec2RoleDelivery kept in unmapped', () => {
      const e = ok(normalizeRecord({ ...base, unmapped: { vpcEndpointAccountId: '999988887777', 'userIdentity.sessionContext.ec2RoleDelivery': '1.0' } }, meta)) as unknown as { vpcEndpointAccountId: string; userIdentity: { sessionContext: Rec } };
      expect(e.vpcEndpointAccountId).toBe('999988887777');
      expect(e.userIdentity.sessionContext.ec2RoleDelivery).toBe('1.0');
    });
  });
});
