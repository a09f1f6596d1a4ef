import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { eventJson } from './event-json.ts';
import { SeamConfig } from '../core/config/schema.ts';
import { accountGroupsOf, chainedAccounts, clusterAccountsOf, decodeSignalMessage, decodeSignals, encodeProgress, encodeSignal, IdentityRelevance, parseSpan, SIGNAL_SPANS_HEADER, SignalBatcher, signalKey, signalSpans } from './signal.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';

const ev = (id: string): SeamEvent => ({ '@timestamp': '2024-11-05T14:00:00Z', seam: { id, source: 'cloudtrail' } }) as unknown as SeamEvent;
const json = (id: string): Buffer => Buffer.from(JSON.stringify(ev(id)));

describe('seam.signals messages', () => {
  it('puts consecutive signals of one key in one message, in order, and cuts on a new key or at the size bound', () => {
    const b = new SignalBatcher(600);
    b.add('a', ['r1'], ['rule'], json('e1'));
    b.add('a', [], ['identity'], json('e2'));
    b.add('b', [], ['identity'], json('e3'));
    b.add('a', ['r2'], ['rule', 'identity'], json('e4'));
    for (let i = 5; i < 12; i++) b.add('a', [], ['identity'], json(`e${i}`));
    const msgs = b.take();
    expect(msgs.map((m) => m.key)).toEqual(['a', 'b', 'a', 'a']);
    expect(msgs.every((m) => m.value.length <= 600 || m.signals === 1)).toBe(true);
    const decoded = msgs.map((m) => decodeSignals(m.value)!);
    expect(decoded.flat().map((s) => s.event.seam.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11']);
    expect(decoded[0]).toEqual([
      { rules: ['r1'], why: ['rule'], event: ev('e1') },
      { rules: [], why: ['identity'], event: ev('e2') },
    ]);
    expect(msgs.map((m) => m.signals)).toEqual(decoded.map((d) => d.length));
    expect(b.take()).toEqual([]);
  });

  it('writes the bytes the batcher wrote before it encoded in place (ADR 0023), with strings or Buffers, and non-ASCII', () => {
    // The previous SignalBatcher, written out here as the reference: a Buffer per part, concatenated at the cut.
    const reference = (maxBytes: number, adds: [string, string[], ('rule' | 'identity')[], Buffer][]): { key: string; value: Buffer; signals: number }[] => {
      const out: { key: string; value: Buffer; signals: number }[] = [];
      let key: string | undefined;
      let parts: Buffer[] = [];
      let bytes = 0;
      let count = 0;
      const cut = (): void => {
        if (count > 0 && key !== undefined) out.push({ key, value: Buffer.concat([Buffer.from('{"v":2,"signals":['), ...parts, Buffer.from(']}')]), signals: count });
        parts = [];
        bytes = 0;
        count = 0;
      };
      for (const [k, rules, why, e] of adds) {
        const head = Buffer.from(`{"rules":${JSON.stringify(rules)},"why":${JSON.stringify(why)},"event":`);
        const size = head.length + e.length + 2;
        if (key !== k || (count > 0 && bytes + size > maxBytes)) cut();
        key = k;
        if (count > 0) parts.push(Buffer.from(','));
        parts.push(head, e, Buffer.from('}'));
        bytes += size;
        count++;
      }
      cut();
      return out;
    };
    let seed = 11;
    const r = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const maxBytes of [300, 600, 5000, 256 * 1024]) {
      const adds: [string, string[], ('rule' | 'identity')[], Buffer][] = [];
      for (let i = 0; i < 400; i++) {
        const e = { ...ev(`e${i}`), msg: r() < 0.2 ? 'é日😀'.repeat(Math.floor(r() * 50)) : 'x'.repeat(Math.floor(r() * 900)) };
        adds.push([r() < 0.8 ? 'a' : 'b', r() < 0.3 ? ['r1', 'r2'] : [], r() < 0.5 ? ['identity'] : ['rule', 'identity'], Buffer.from(JSON.stringify(e))]);
      }
      const b = new SignalBatcher(maxBytes);
      adds.forEach(([k, rules, why, e], i) => b.add(k, rules, why, i % 2 === 0 ? e.toString('utf8') : e));
      const got = b.take();
      const want = reference(maxBytes, adds);
      expect(got.map((m) => [m.key, m.signals, m.value.toString('base64')])).toEqual(want.map((m) => [m.key, m.signals, m.value.toString('base64')]));
    }
  });

  it('never changes a message it handed out: later messages are written behind it or in a new buffer (ADR 0024)', () => {
    const b = new SignalBatcher(2000);
    const first: { value: Buffer; copy: Buffer }[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) b.add(i % 3 === 0 ? 'a' : `k${i % 7}`, [], ['identity'], JSON.stringify({ ...ev(`r${round}-${i}`), pad: 'y'.repeat((i * 37) % 1500) }));
      for (const m of b.take()) first.push({ value: m.value, copy: Buffer.from(m.value) });
    }
    expect(first.length).toBeGreaterThan(300);
    for (const m of first) expect(m.value.equals(m.copy)).toBe(true);
    for (const m of first) expect(() => decodeSignals(m.value)).not.toThrow();
  });

  it('says where each signal lies in the message (spans header, ADR 0023), across cuts; the spans parse to what the whole message says', () => {
    const b = new SignalBatcher(900);
    const evs = Array.from({ length: 12 }, (_, i) => ({ ...ev(`e${i}`), seam: { id: `e${i}`, source: 'cloudtrail', ingest: { received_at: `2024-11-05T14:00:0${i % 10}Z` } }, msg: 'é'.repeat(i * 10) }) as unknown as SeamEvent);
    evs.forEach((e, i) => b.add(i < 8 ? 'a' : 'b', i % 3 ? [] : ['r1'], ['identity'], JSON.stringify(e), { id: e.seam.id, ts: e['@timestamp'], received: e.seam.ingest?.received_at }));
    const msgs = b.take();
    expect(msgs.length).toBeGreaterThan(2);
    const seen: string[] = [];
    for (const m of msgs) {
      expect(m.headers?.[SIGNAL_SPANS_HEADER]).toBeDefined();
      const spans = signalSpans(m.value, m.headers)!;
      expect(spans).toHaveLength(m.signals);
      const whole = decodeSignals(m.value)!;
      expect(spans.map((sp) => parseSpan(sp.bytes))).toEqual(whole);
      spans.forEach((sp, i) => {
        expect(sp.id).toBe(whole[i]!.event.seam.id);
        expect(sp.ts).toBe(whole[i]!.event['@timestamp']);
        expect(sp.received).toBe(whole[i]!.event.seam.ingest?.received_at);
        seen.push(sp.id as string);
      });
    }
    expect(seen).toEqual(evs.map((e) => e.seam.id));
  });

  it('spans are used only when they describe the value exactly; otherwise the message is read whole', () => {
    const b = new SignalBatcher();
    for (const i of [1, 2, 3]) b.add('a', [], ['identity'], json(`e${i}`), { id: `e${i}`, ts: '2024-11-05T14:00:00Z', received: null });
    const [m] = b.take();
    const entries = JSON.parse(m!.headers![SIGNAL_SPANS_HEADER]!) as [unknown, unknown, unknown, number, number][];
    const withHeader = (x: unknown): Record<string, string> => ({ [SIGNAL_SPANS_HEADER]: typeof x === 'string' ? x : JSON.stringify(x) });
    expect(signalSpans(m!.value, m!.headers)).toHaveLength(3);
    expect(signalSpans(m!.value, undefined)).toBeUndefined();
    expect(signalSpans(m!.value, withHeader('not json'))).toBeUndefined();
    expect(signalSpans(m!.value, withHeader([]))).toBeUndefined();
    expect(signalSpans(m!.value, withHeader(entries.slice(0, 2)))).toBeUndefined();
    expect(signalSpans(m!.value, withHeader(entries.map((e, i) => (i === 1 ? [e[0], e[1], e[2], e[3] + 1, e[4]] : e))))).toBeUndefined();
    expect(signalSpans(m!.value, withHeader(entries.map((e, i) => (i === 2 ? [e[0], e[1], e[2], e[3], e[4] - 1] : e))))).toBeUndefined();
    expect(signalSpans(m!.value, withHeader(entries.map((e) => e.slice(0, 4))))).toBeUndefined();
    // A message that also carries progress marks is not what spans describe.
    const withMarks = Buffer.concat([m!.value.subarray(0, m!.value.length - 1), Buffer.from(',"progress":[{"src":"x/0","t":1}]}')]);
    expect(signalSpans(withMarks, m!.headers)).toBeUndefined();
    // A signal added without what its span needs: no header on that message.
    const c = new SignalBatcher();
    c.add('a', [], ['identity'], json('e1'), { id: 'e1', ts: 't', received: null });
    c.add('a', [], ['identity'], json('e2'));
    expect(c.take()[0]!.headers).toBeUndefined();
    expect(parseSpan(Buffer.from('{"rules":[],"why":[],"event":{'))).toBeUndefined();
    expect(parseSpan(Buffer.from('{"rules":[],"why":[]}'))).toBeUndefined();
  });

  it('a signal written in parts says where its event and seam start (ADR 0026); offsets the bytes do not bear out are ignored', () => {
    const b = new SignalBatcher(250);
    const evs = ['p1', 'p2', 'p3', 'p4'].map((id) => ev(id));
    for (const e of evs) b.add('a', ['r'], ['rule'], eventJson(e), { id: e.seam.id, ts: e['@timestamp'], received: null });
    const ms = b.take();
    expect(ms.length).toBeGreaterThan(1);
    let n = 0;
    for (const m of ms) {
      const entries = JSON.parse(m.headers![SIGNAL_SPANS_HEADER]!) as number[][];
      expect(entries.every((e) => e.length === 7)).toBe(true);
      for (const sp of signalSpans(m.value, m.headers)!) {
        const e = evs[n++]!;
        expect(sp.bytes.subarray(sp.eventAt!, sp.bytes.length - 1).toString('utf8')).toBe(JSON.stringify(e));
        expect(sp.bytes.subarray(sp.seamAt!, sp.bytes.length - 2).toString('utf8')).toBe(JSON.stringify(e.seam));
      }
      const withHeader = (x: unknown): Record<string, string> => ({ [SIGNAL_SPANS_HEADER]: JSON.stringify(x) });
      for (const bad of [(e: number[]) => [...e.slice(0, 6), e[6]! + 1], (e: number[]) => [...e.slice(0, 5), e[5]! + 1, e[6]], (e: number[]) => [...e.slice(0, 5), 0, e[6]], (e: number[]) => [...e.slice(0, 5), e[5], e[4]! - e[3]!]]) {
        const spans = signalSpans(m.value, withHeader(entries.map(bad)))!;
        expect(spans).toHaveLength(entries.length);
        expect(spans.every((sp) => sp.seamAt === undefined && sp.eventAt === undefined)).toBe(true);
      }
    }
    expect(n).toBe(evs.length);
  });

  it('still reads version 1 messages (one signal each), and refuses what is not a signal', () => {
    expect(decodeSignals(encodeSignal({ v: 1, rules: ['r'], why: ['rule'], event: ev('e1') }))).toEqual([{ v: 1, rules: ['r'], why: ['rule'], event: ev('e1') }]);
    for (const bad of ['not json', '{"v":1}', '{"v":2,"signals":[{"rules":[]}]}', '{"v":3,"signals":[]}', 'null']) expect(decodeSignals(Buffer.from(bad))).toBeUndefined();
  });

  it('carries stage 1 progress marks in a message with no signals, which a reader of signals alone skips (ADR 0009)', () => {
    const m = encodeProgress([{ src: 'seam.raw.cloudtrail/2', t: 1730815191384 }]);
    expect(decodeSignalMessage(m)).toEqual({ signals: [], progress: [{ src: 'seam.raw.cloudtrail/2', t: 1730815191384 }] });
    expect(decodeSignals(m)).toEqual([]);
    expect(decodeSignalMessage(Buffer.from('{"v":2,"signals":[],"progress":[{"src":"x"}]}'))).toBeUndefined();
    // The oldest record's event time (ADR 0009, 5c): the partition's delivery delay.
    const from = encodeProgress([{ src: 'seam.raw.cloudtrail/2', t: 1730815191384, from: 1730814891384 }]);
    expect(decodeSignalMessage(from)?.progress).toEqual([{ src: 'seam.raw.cloudtrail/2', t: 1730815191384, from: 1730814891384 }]);
    expect(decodeSignalMessage(Buffer.from('{"v":2,"signals":[],"progress":[{"src":"x","t":5,"from":"yesterday"}]}'))).toBeUndefined();
  });
});

describe('IdentityRelevance', () => {
  const read = (username: string, at: string, verb = 'get'): SeamEvent =>
    ({ '@timestamp': at, seam: { id: `${username}@${at}`, source: 'k8s_audit', cluster: 'c1' }, verb, user: { username }, objectRef: { resource: 'pods' } }) as unknown as SeamEvent;

  it('forwards a system reader once per memo window (event time), and other events always', () => {
    const r = new IdentityRelevance({ memoTtlMs: 60_000 });
    expect(r.test(read('system:node:ip-10-0-0-1', '2024-11-05T14:00:00Z'))).toBe(true);
    expect(r.test(read('system:node:ip-10-0-0-1', '2024-11-05T14:00:30Z'))).toBe(false);
    expect(r.test(read('system:node:ip-10-0-0-1', '2024-11-05T14:01:00Z'))).toBe(true);
    expect(r.test(read('alice', '2024-11-05T14:01:01Z'))).toBe(true);
    expect(r.test(read('alice', '2024-11-05T14:01:02Z'))).toBe(true);
    expect(r.test(read('system:node:ip-10-0-0-1', '2024-11-05T14:01:03Z', 'create'))).toBe(true);
  });

  it('forwards a kube-system token read from a new connection address while its pod keeps reading from its own', () => {
    const r = new IdentityRelevance({ memoTtlMs: 600_000 });
    const from = (ip: string, at: string): SeamEvent => ({ ...read('system:serviceaccount:kube-system:ebs-csi-controller-sa', at, 'list'), sourceIPs: [ip] }) as unknown as SeamEvent;
    expect(r.test(from('10.0.1.5', '2024-11-05T14:00:00Z'))).toBe(true);
    expect(r.test(from('10.0.1.5', '2024-11-05T14:00:30Z'))).toBe(false);
    expect(r.test(from('3.120.10.20', '2024-11-05T14:01:00Z'))).toBe(true);
    expect(r.test(from('10.0.1.5', '2024-11-05T14:01:30Z'))).toBe(false);
  });

  it('forgets the least recently seen reader past maxMemo instead of clearing the whole memo', () => {
    const r = new IdentityRelevance({ memoTtlMs: 3_600_000, maxMemo: 2 });
    expect(r.test(read('system:node:a', '2024-11-05T14:00:00Z'))).toBe(true);
    expect(r.test(read('system:node:b', '2024-11-05T14:00:01Z'))).toBe(true);
    expect(r.test(read('system:node:a', '2024-11-05T14:00:02Z'))).toBe(false); // a is now the most recent
    expect(r.test(read('system:node:c', '2024-11-05T14:00:03Z'))).toBe(true); // b goes
    expect(r.test(read('system:node:a', '2024-11-05T14:00:04Z'))).toBe(false);
    expect(r.test(read('system:node:b', '2024-11-05T14:00:05Z'))).toBe(true);
  });
});

describe('signalKey', () => {
  // Two requests of one cluster as normalization sees them: a node (its IAM role ARN names an account) and a
  // service account (nothing in the record names one).
  const audit = (username: string, extra: Record<string, string[]>): SeamEvent => {
    const n = normalizeLine(
      JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: username, stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/pods', user: { username, extra }, sourceIPs: ['10.0.1.5'], stageTimestamp: '2024-11-05T14:00:00Z' }),
      { collector: 'test', receivedAt: '2024-11-05T14:00:01Z', cluster: 'prod' },
    );
    if (!n.ok) throw new Error(n.error.message);
    return n.value;
  };
  const node = audit('system:node:ip-10-0-1-5.ec2.internal', { arn: ['arn:aws:sts::111122223333:assumed-role/prod-node-role/i-0abc'] });
  const sa = audit('system:serviceaccount:payments:api', {});

  it("keys a cluster's events by the account the configuration gives the cluster, whatever each record names", () => {
    const accounts = clusterAccountsOf([{ name: 'prod', account: '111122223333' }, { name: 'other' }]);
    expect([signalKey(node, accounts), signalKey(sa, accounts)]).toEqual(['111122223333', '111122223333']);
  });

  it('a name configured in two accounts keys by the event\'s own account when it is one of them, and never moves CloudTrail or GuardDuty', () => {
    const accounts = clusterAccountsOf([{ name: 'prod', account: '111122223333' }, { name: 'prod', account: '444455556666' }]);
    expect(signalKey(node, accounts)).toBe('111122223333');
    expect(signalKey(sa, accounts)).toBe('prod'); // names no account: which "prod" it is cannot be told
    const one = clusterAccountsOf([{ name: 'prod', account: '444455556666' }]);
    // A CloudTrail EKS call about a cluster named prod in another account stays with the account it names.
    const ct = { ...ev('ct'), seam: { id: 'ct', source: 'cloudtrail', account: '111122223333', cluster: 'prod' } } as unknown as SeamEvent;
    expect(signalKey(ct, one)).toBe('111122223333');
    // An IAM user of another account acting in the configured cluster: the cluster's account.
    expect(signalKey(node, one)).toBe('444455556666');
  });

  it('without it, falls back to the account the event names, then the cluster (which can split a cluster: the reason to configure it)', () => {
    expect(signalKey(node)).toBe('111122223333');
    expect(signalKey(sa)).toBe('prod');
    expect(signalKey(ev('x'))).toBe('unknown');
  });
});

describe('account groups (ADR 0056)', () => {
  const ctRecord = (o: Record<string, unknown>): SeamEvent => {
    const n = normalizeLine(
      JSON.stringify({
        eventVersion: '1.10',
        eventTime: '2024-11-05T14:09:16Z',
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        awsRegion: 'us-west-2',
        sourceIPAddress: '52.94.133.131',
        userAgent: 'aws-cli/2.18.0',
        requestID: 'req-1',
        eventID: 'ev-' + JSON.stringify(o).length,
        eventType: 'AwsApiCall',
        recipientAccountId: '111122223333',
        userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/s1', accountId: '111122223333', accessKeyId: 'ASIAEXAMPLEIRSA00001' },
        requestParameters: { roleArn: 'arn:aws:iam::444455556666:role/shared-secrets-reader', roleSessionName: 'x' },
        ...o,
      }),
      { collector: 'test', receivedAt: '2024-11-05T14:10:00Z' },
    );
    if (!n.ok) throw new Error(n.error.message);
    return n.value;
  };

  it("keys every account of a group by the group's first account, cluster-configured accounts too; others keep theirs", () => {
    const groups = accountGroupsOf([['444455556666', '111122223333'], ['777788889999', '210987654321']]);
    const inB = { ...ev('b'), seam: { id: 'b', source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
    expect(signalKey(inB, undefined, groups)).toBe('444455556666');
    expect(signalKey({ ...inB, seam: { ...inB.seam, account: '210987654321' } } as SeamEvent, undefined, groups)).toBe('777788889999');
    expect(signalKey({ ...inB, seam: { ...inB.seam, account: '123456789012' } } as SeamEvent, undefined, groups)).toBe('123456789012');
    // A cluster's service-account request names no account: the configured one, then its group.
    const sa = { ...ev('sa'), seam: { id: 'sa', source: 'k8s_audit', cluster: 'prod' } } as unknown as SeamEvent;
    expect(signalKey(sa, clusterAccountsOf([{ name: 'prod', account: '111122223333' }]), groups)).toBe('444455556666');
  });

  it('names the two accounts of a successful cross-account sts:AssumeRole, and nothing else', () => {
    expect(chainedAccounts(ctRecord({}))).toEqual(['111122223333', '444455556666']);
    // B's shared copy: the same pair.
    expect(chainedAccounts(ctRecord({ recipientAccountId: '444455556666' }))).toEqual(['111122223333', '444455556666']);
    expect(chainedAccounts(ctRecord({ requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/same', roleSessionName: 'x' } }))).toBeUndefined();
    expect(chainedAccounts(ctRecord({ errorCode: 'AccessDenied', errorMessage: 'no' }))).toBeUndefined();
    expect(chainedAccounts(ctRecord({ eventName: 'GetCallerIdentity', requestParameters: null }))).toBeUndefined();
    // EKS Pod Identity's AssumeRole is made by the service, not a session of another account.
    expect(chainedAccounts(ctRecord({ userIdentity: { type: 'AWSService', invokedBy: 'pods.eks.amazonaws.com' } }))).toBeUndefined();
  });

  it('seam.yml: a group holds two or more account ids, and an account is in one group only', () => {
    expect(SeamConfig.parse({ identity: { accountGroups: [['111122223333', '444455556666']] } }).identity.accountGroups).toEqual([['111122223333', '444455556666']]);
    expect(SeamConfig.safeParse({ identity: { accountGroups: [['111122223333']] } }).success).toBe(false);
    expect(SeamConfig.safeParse({ identity: { accountGroups: [['111122223333', 'prod']] } }).success).toBe(false);
    const twice = SeamConfig.safeParse({ identity: { accountGroups: [['111122223333', '444455556666'], ['444455556666', '777788889999']] } });
    expect(twice.success).toBe(false);
    expect(JSON.stringify(twice.error?.issues)).toContain('account 444455556666 is in groups 0 and 1');
  });
});
