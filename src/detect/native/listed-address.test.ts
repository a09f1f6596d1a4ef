import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheckCommand, loadCliConfig } from '../../cli/config.ts';
import { isSeamError } from '../../core/errors.ts';
import { ATTACKER_IP, CLUSTER, NAT_IP, OFFICE_IP, alice, assumedRoleIdentity, audit, ct, ev, iamK8sUser, t } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import { addressListStaleWarning, addressListsOf, addressListSummary, parseAddressList, readAddressList } from './address-lists.ts';
import { NativeConfig } from './config.ts';

const id = 'seam-native-listed-address';
const TOR_EXIT = '185.220.101.47';
const dir = mkdtempSync(join(tmpdir(), 'seam-address-lists-'));

/** Writes a list file and returns its path. */
function listFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const spec = { name: 'test', level: 'medium' as const, maxAgeDays: 7, file: 'test.txt' };

describe('address list files', () => {
  it('reads plain lists, comments, CIDRs, Spamhaus DROP and Tor exit-addresses lines, and answers with the entry', () => {
    const l = parseAddressList(
      [
        '# Tor bulk exit list',
        TOR_EXIT,
        '',
        '203.0.113.0/25 ; SBL000001',
        '2001:db8:1::/48',
        '2001:db8:2::7',
        'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E',
        'Published 2026-12-06 04:16:04',
        'ExitAddress 198.51.100.9 2026-12-06 04:26:41',
        '192.0.2.10 85 # score',
      ].join('\n'),
      spec,
    );
    expect(l.entries).toBe(6);
    expect(l.invalid).toBe(0);
    expect(l.lookup(TOR_EXIT)).toBe(TOR_EXIT);
    expect(l.lookup('203.0.113.127')).toBe('203.0.113.0/25');
    expect(l.lookup('203.0.113.128')).toBeUndefined();
    expect(l.lookup('198.51.100.9')).toBe('198.51.100.9');
    expect(l.lookup('192.0.2.10')).toBe('192.0.2.10');
    expect(l.lookup('2001:db8:1:ffff::1')).toBe('2001:db8:1::/48');
    expect(l.lookup('2001:0db8:0002:0000:0000:0000:0000:0007')).toBe('2001:db8:2::7');
    expect(l.lookup('2001:db8:3::1')).toBeUndefined();
    expect(l.lookup('10.0.0.1')).toBeUndefined();
    expect(l.lookup('not-an-address')).toBeUndefined();
  });

  it('merges overlapping IPv4 entries and names a merged range by its bounds', () => {
    const l = parseAddressList('10.0.0.0/24\n10.0.0.128/25\n10.0.1.0/24\n', spec);
    expect(l.lookup('10.0.0.200')).toBe('10.0.0.0–10.0.1.255');
    const single = parseAddressList('10.0.0.0/24\n10.0.0.128/25\n', spec);
    expect(single.lookup('10.0.0.200')).toBe('10.0.0.0/24');
  });

  it('refuses a file that is not an address list (an HTML page, an empty download) and counts stray lines of one that is', () => {
    const refused = (text: string): string => {
      try {
        parseAddressList(text, spec);
      } catch (e) {
        expect(isSeamError(e) && e.code).toBe('SEAM_ERR_ADDRESS_LIST_INVALID');
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused('<!DOCTYPE html>\n<html><body>Rate limited</body></html>\n')).toMatch(/^test\.txt: no address or CIDR in it \(line 1: "<!DOCTYPE"/);
    expect(refused('# only comments\n\n')).toContain('the file is empty or only comments');
    expect(refused('1.2.3.4\nfoo\nbar\n')).toContain('2 lines are not an address or a CIDR and only 1 are');
    const l = parseAddressList('1.2.3.4\n5.6.7.8\n300.1.1.1\n', spec);
    expect(l.entries).toBe(2);
    expect(l.invalid).toBe(1);
    expect(addressListSummary({ ...l, mtimeMs: Date.now() })).toBe('address list "test": test.txt: 2 entries, 1 lines skipped (not an address or a CIDR: line 3: "300.1.1.1"), written 0 days ago, alerts at medium');
  });

  it('says when a list was not refreshed within its maxAgeDays', () => {
    const p = listFile('old.txt', `${TOR_EXIT}\n`);
    const tenDaysAgo = (Date.now() - 10 * 86_400_000) / 1000;
    utimesSync(p, tenDaysAgo, tenDaysAgo);
    const l = readAddressList({ name: 'tor', path: p, level: 'medium', maxAgeDays: 7 });
    expect(addressListStaleWarning(l)).toBe(`address list "tor" (${p}) was last written 10 days ago (maxAgeDays 7): addresses added to the feed since are not matched and ones it dropped still are; refresh the file (docs/identity.md, Address lists)`);
    expect(addressListStaleWarning({ ...l, maxAgeDays: 30 })).toBeUndefined();
  });

  it('reads a changed file again (looked at once a minute); a bad new version keeps the old list and throws once', () => {
    const p = listFile('changing.txt', `${TOR_EXIT}\n`);
    const config = NativeConfig.parse({ addressLists: [{ name: 'tor', path: p }] });
    const t0 = 1_000_000;
    expect(addressListsOf(config, t0)[0]!.lookup(TOR_EXIT)).toBe(TOR_EXIT);
    writeFileSync(p, '198.51.100.9\n');
    utimesSync(p, Date.now() / 1000 + 5, Date.now() / 1000 + 5);
    // Within the minute: the list read at t0.
    expect(addressListsOf(config, t0 + 30_000)[0]!.lookup(TOR_EXIT)).toBe(TOR_EXIT);
    const next = addressListsOf(config, t0 + 61_000)[0]!;
    expect(next.lookup(TOR_EXIT)).toBeUndefined();
    expect(next.lookup('198.51.100.9')).toBe('198.51.100.9');
    writeFileSync(p, '<html>oops</html>\n');
    utimesSync(p, Date.now() / 1000 + 10, Date.now() / 1000 + 10);
    expect(() => addressListsOf(config, t0 + 122_000)).toThrow(/no address or CIDR/);
    expect(addressListsOf(config, t0 + 183_000)[0]!.lookup('198.51.100.9')).toBe('198.51.100.9');
  });
});

describe('call from an address on an address list', () => {
  const tor = listFile('tor-exits.txt', `# Tor exits\n${TOR_EXIT}\n2001:db8:bad::/48\n`);
  const config = { addressLists: [{ name: 'tor-exits', path: tor }] };
  const call = (time: string, ip: string, name = 'ListBuckets', extra: { errorCode?: string } = {}): ReturnType<typeof ev> =>
    ev(ct({ identity: assumedRoleIdentity(alice), time, source: name === 'ListBuckets' ? 's3.amazonaws.com' : 'iam.amazonaws.com', name, ip, ...extra }), undefined);

  it('fires on an AWS call from a listed address, refused or not, once per principal and address a day, at the list level', () => {
    const alerts = runNative(id, [call(t('10:00:00'), TOR_EXIT), call(t('10:05:00'), TOR_EXIT, 'ListUsers', { errorCode: 'AccessDenied' }), call(t('10:06:00'), NAT_IP)], { config });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toBe(`role/PlatformAdmin (alice@example.com) called s3:ListBuckets from ${TOR_EXIT}, on address list "tor-exits"`);
    expect(alerts[0]!.triage).toContain(`an address on "tor-exits" (${tor})`);
    const refused = runNative(id, [call(t('10:05:00'), TOR_EXIT, 'ListUsers', { errorCode: 'AccessDenied' })], { config: { addressLists: [{ name: 'tor-exits', path: tor, level: 'high' }] } });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.rule.level).toBe('high');
    expect(refused[0]!.summary).toContain('called iam:ListUsers (refused) from');
    // The next day alerts again.
    expect(runNative(id, [call(t('10:00:00'), TOR_EXIT), call(t('10:00:00', 86_400), TOR_EXIT)], { config })).toHaveLength(2);
  });

  it('judges a Kubernetes request by its connection address, not a forwarded-for entry the client wrote', () => {
    const user = iamK8sUser(alice, 'alice');
    const fromTor = ev(audit({ verb: 'list', user, time: t('11:00:00'), resource: 'secrets', namespace: 'payments', ip: '2001:db8:bad::5' }));
    const alerts = runNative(id, [fromTor], { config });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toBe(`role/PlatformAdmin (alice@example.com) called the API server (list secrets) in ${CLUSTER} from 2001:db8:bad::5, on address list "tor-exits", entry 2001:db8:bad::/48`);
    const spoofed = audit({ verb: 'list', user, time: t('11:00:00'), resource: 'secrets', namespace: 'payments', ip: OFFICE_IP });
    spoofed.sourceIPs = [TOR_EXIT, OFFICE_IP];
    expect(runNative(id, [ev(spoofed)], { config })).toEqual([]);
  });

  it('stays quiet without lists, for unlisted and private addresses, and for AWS services acting for a caller', () => {
    expect(runNative(id, [call(t('10:00:00'), TOR_EXIT)])).toEqual([]);
    expect(runNative(id, [call(t('10:00:00'), ATTACKER_IP), call(t('10:01:00'), '10.0.3.7')], { config })).toEqual([]);
    expect(runNative(id, [call(t('10:00:00'), 'cloudformation.amazonaws.com')], { config })).toEqual([]);
  });

  it('stops the start on a list that is not one, naming the file', () => {
    const html = listFile('tor-html.txt', '<html>Too many requests</html>\n');
    expect(() => runNative(id, [], { config: { addressLists: [{ name: 'tor', path: html }] } })).toThrow(`${html}: no address or CIDR in it`);
    expect(() => runNative(id, [], { config: { addressLists: [{ name: 'tor', path: join(dir, 'missing.txt') }] } })).toThrow(/cannot be read .*native\.addressLists "tor" names it/);
  });
});

describe('seam.yml native.addressLists', () => {
  const sink = (): { text: string; write(s: string): boolean } => {
    const o = { text: '', write: (x: string): boolean => ((o.text += x), true) };
    return o;
  };
  it('paths are relative to seam.yml; config check names each list; a list that is not one stops the command; a stale one is warned about', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'seam-address-lists-cfg-'));
    writeFileSync(join(cfgDir, 'tor.txt'), `${TOR_EXIT}\n2001:db8:bad::/48\nnot-an-address\n`);
    writeFileSync(join(cfgDir, 'seam.yml'), 'native:\n  addressLists:\n    - name: tor-exits\n      path: tor.txt\n');
    const out = sink();
    const err = sink();
    expect(await configCheckCommand(join(cfgDir, 'seam.yml'), {}, out, err)).toBe(0);
    expect(out.text.split('\n').filter((l) => l.startsWith('# address list'))).toEqual([
      `# address list "tor-exits": ${join(cfgDir, 'tor.txt')}: 2 entries, 1 lines skipped (not an address or a CIDR: line 3: "not-an-address"), written 0 days ago, alerts at medium`,
    ]);
    expect(err.text).toContain('seam: warning: address list "tor-exits"');
    const old = (Date.now() - 9 * 86_400_000) / 1000;
    utimesSync(join(cfgDir, 'tor.txt'), old, old);
    const err2 = sink();
    expect((await loadCliConfig(join(cfgDir, 'seam.yml'), {}, err2))?.config.native.addressLists[0]!.path).toBe(join(cfgDir, 'tor.txt'));
    expect(err2.text).toContain(`seam: warning: address list "tor-exits" (${join(cfgDir, 'tor.txt')}) was last written 9 days ago (maxAgeDays 7)`);
    writeFileSync(join(cfgDir, 'tor.txt'), '<html>503</html>\n');
    const err3 = sink();
    expect(await loadCliConfig(join(cfgDir, 'seam.yml'), {}, err3)).toBeUndefined();
    expect(err3.text).toBe(`seam: SEAM_ERR_ADDRESS_LIST_INVALID: ${join(cfgDir, 'tor.txt')}: no address or CIDR in it (line 1: "<html>503</html>"): it is not an address list (an HTML error page, a truncated download, another file?)\n`);
    // A name that is not one word is a config error.
    writeFileSync(join(cfgDir, 'seam.yml'), 'native:\n  addressLists:\n    - name: tor exits\n      path: tor.txt\n');
    expect(await configCheckCommand(join(cfgDir, 'seam.yml'), {}, sink(), sink())).toBe(2);
  });
});
