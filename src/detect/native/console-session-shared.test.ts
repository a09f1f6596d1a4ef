import { describe, expect, it } from 'vitest';
import { alice, bob, callAs, ev, t } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { placeOf } from './console-session-shared.ts';

// Console calls as CloudTrail logs them: sessionCredentialFromConsole at the record's top level, the session's
// access key in userIdentity, the browser's address in sourceIPAddress ("AWS Internal" for the console's own).
const id = 'seam-native-console-session-shared';
const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const HOME = '198.51.100.77';
const THIEF = '45.148.10.7';
const OFFICE = '62.226.10.41';

function consoleCall(time: string, ip: string, o: { session?: typeof alice; userAgent?: string; console?: boolean; name?: string } = {}): SeamEvent {
  const raw = callAs(o.session ?? alice, 'ec2.amazonaws.com', o.name ?? 'DescribeInstances', time, ip, { maxResults: 1000 }, { userAgent: o.userAgent ?? 'AWS Internal' });
  return ev(o.console === false ? raw : { ...raw, sessionCredentialFromConsole: 'true' }, undefined);
}

/** The session's calls from each address in turn, a minute apart, from `start`. */
const alternating = (ips: string[], start = '10:00:00', o: Parameters<typeof consoleCall>[2] = {}): SeamEvent[] => ips.map((ip, i) => consoleCall(t(start, i * 60), ip, o));

describe('console session used from two places at once', () => {
  it('alerts (medium) once when the session alternates between the owner and another address', () => {
    const alerts = run(alternating([HOME, THIEF, HOME, THIEF, HOME, THIEF]));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain(`${HOME} → ${THIEF} → ${HOME} → ${THIEF}`);
    expect(alerts[0]!.rule.tags).toContain('attack.t1550.004');
    expect(alerts[0]!.events).toHaveLength(4);
    // The triage text names the session's key, its owner, both addresses, and the commands with the key and role.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`The console session ${alice.key} of role/PlatformAdmin (alice@example.com) alternated between ${HOME} and ${THIEF} 3 times`);
    expect(tr).toContain(`aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${alice.key}`);
    expect(tr).toContain("deny role PlatformAdmin's sessions issued before now");
  });

  it('alerts when the stolen session goes to a third address and back', () => {
    expect(run(alternating([HOME, THIEF, HOME, '203.0.113.9']))).toHaveLength(1);
  });

  it('silent: a network change under an open tab (once, and a VPN that drops and comes back)', () => {
    expect(run(alternating([OFFICE, OFFICE, HOME, HOME, HOME]))).toEqual([]);
    expect(run(alternating([OFFICE, HOME, OFFICE, OFFICE]))).toEqual([]);
  });

  it('silent: the same alternation spread over more than ten minutes', () => {
    const slow = [HOME, THIEF, HOME, THIEF].map((ip, i) => consoleCall(t('10:00:00', i * 240), ip));
    expect(run(slow)).toEqual([]);
  });

  it('silent: a proxy rotating egress addresses inside one /24, and a dual-stack browser', () => {
    expect(run(alternating(['62.226.10.41', '62.226.10.58', '62.226.10.41', '62.226.10.58']))).toEqual([]);
    expect(run(alternating([HOME, '2001:db8:4a1:10::7', HOME, '2001:db8:4a1:10::7', HOME]))).toEqual([]);
  });

  it('silent: the console calling inside AWS, CloudShell with the forwarded credentials, CLI credentials, two people', () => {
    const cloudShell = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.112-122.189.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/CloudShell cfg/retry-mode#standard';
    const quiet = [
      ...[HOME, 'AWS Internal', HOME, 'AWS Internal', HOME].map((ip, i) => consoleCall(t('10:00:00', i * 60), ip)),
      ...[HOME, '3.91.171.12', HOME, '3.91.171.12', HOME].map((ip, i) => consoleCall(t('11:00:00', i * 60), ip, ip === HOME ? {} : { userAgent: cloudShell })),
      ...alternating([HOME, THIEF, HOME, THIEF], '12:00:00', { console: false }),
      ...[HOME, THIEF, HOME, THIEF].map((ip, i) => consoleCall(t('13:00:00', i * 60), ip, { session: i % 2 === 0 ? alice : bob })),
    ];
    expect(run(quiet)).toEqual([]);
  });

  it('silent: one network operator spreading the browser’s calls over two ranges (carrier NAT, proxy service)', () => {
    expect(run(alternating(['62.226.10.41', '62.226.20.9', '62.226.10.41', '62.226.20.9', '62.226.10.41']))).toEqual([]);
  });

  it('silent: the console reached through VPC endpoints (private addresses) between calls through the public egress', () => {
    const viaEndpoint = (time: string): SeamEvent => ev({ ...callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', time, '10.20.30.40', { maxResults: 1000 }, { userAgent: 'AWS Internal' }), sessionCredentialFromConsole: 'true', vpcEndpointId: 'vpce-0a1b2c3d4e5f60718' }, undefined);
    expect(run([consoleCall(t('10:00:00'), HOME), viaEndpoint(t('10:01:00')), consoleCall(t('10:02:00'), HOME), viaEndpoint(t('10:03:00')), consoleCall(t('10:04:00'), HOME)])).toEqual([]);
  });

  it('reads an address as its /24 or /64', () => {
    expect(placeOf('62.226.10.41')).toBe(placeOf('62.226.10.200'));
    expect(placeOf('62.226.10.41')).not.toBe(placeOf('62.226.11.41'));
    expect(placeOf('2001:db8:4a1:10::7')).toBe(placeOf('2001:db8:4a1:10:ffff::1'));
    expect(placeOf('AWS Internal')).toBeUndefined();
  });
});
