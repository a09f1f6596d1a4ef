import { describe, expect, it } from 'vitest';
import { openFlagNames, parseStat, parseStatus, parseTcpOpens, readArgs, readStat, readStatus, readTcpOpens } from './procfs.ts';

describe('procfs readers', () => {
  it('parses stat when the command name holds spaces and parentheses', () => {
    const s = parseStat('4242 (evil) (x y) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 3 0 123456 1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0');
    expect(s).toMatchObject({ pid: 4242, comm: 'evil) (x y', state: 'S', ppid: 1, startTicks: 123456, cpuTicks: 10, childCpuTicks: 3, threads: 3, kernelThread: false });
  });

  it('reads this very process from the real /proc', () => {
    const st = readStat('/proc', process.pid);
    expect(st?.pid).toBe(process.pid);
    expect(st?.ppid).toBe(process.ppid);
    const status = readStatus('/proc', process.pid);
    expect(status?.uid[1]).toBe(process.geteuid?.());
    expect(readArgs('/proc', process.pid)?.[0]).toContain('node');
    expect(readStat('/proc', 2 ** 30)).toBeUndefined();
  });

  it('parses status ids and names open flags', () => {
    expect(parseStatus('Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t10\t10\t10\t10\nCapPrm:\t0000000000000000\n')).toMatchObject({ uid: [1000, 1000, 1000, 1000], gid: [10, 10, 10, 10], capPrm: '0000000000000000' });
    expect(openFlagNames(0o2000102)).toBe('O_RDWR|O_CREAT|O_CLOEXEC');
    expect(openFlagNames(0o100000)).toBe('O_RDONLY');
  });

  it('reads the network namespace\'s TCP open counters from /proc/net/snmp', () => {
    const snmp = 'Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails\nTcp: 1 200 120000 -1 1234 56 7\nUdp: InDatagrams\nUdp: 9\n';
    expect(parseTcpOpens(snmp)).toBe(1290);
    expect(parseTcpOpens('Ip: 1\n')).toBeUndefined();
    expect(parseTcpOpens(undefined)).toBeUndefined();
    expect(readTcpOpens('/proc')).toBeGreaterThanOrEqual(0);
  });
});
