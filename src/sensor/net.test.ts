import { describe, expect, it } from 'vitest';
import { DEFAULT_METADATA_ADDRESSES } from './config.ts';
import { connect, createServer, type Socket } from 'node:net';
import { canonicalIp, decodeAddress, isConnection, isInbound, listeningPorts, metadataMatcher, parseNetTable, readSockets } from './net.ts';

// Lines as a little-endian kernel prints them (x86_64, arm64).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0A00000A:B3C2 FEA9FEA9:0050 01 00000000:00000000 00:00000000 00000000  1000        0 5151 1 0000000000000000 20 4 30 10 -1
   2: 0A00000A:1F90 0500000A:D431 01 00000000:00000000 00:00000000 00000000  1000        0 6161 1 0000000000000000 20 4 30 10 -1
   3: 0A00000A:B3C4 02AAFEA9:0050 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
`;

describe('socket tables', () => {
  it('decodes IPv4, IPv6 and IPv4-mapped addresses as the kernel prints them', () => {
    expect(decodeAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeAddress('FEA9FEA9')).toBe('169.254.169.254');
    expect(decodeAddress('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    expect(decodeAddress('00000000000000000000000001000000')).toBe('::1');
    // fd00:ec2::254 — each 32-bit word little-endian.
    expect(decodeAddress('C20E00FD000000000000000054020000')).toBe('fd00:ec2::254');
  });

  it('parses a table and tells connections, listeners and direction apart', () => {
    const s = parseNetTable(TCP, 'tcp');
    expect(s).toHaveLength(4);
    expect(s[1]).toMatchObject({ localIp: '10.0.0.10', localPort: 46018, remoteIp: '169.254.169.254', remotePort: 80, state: '01', inode: 5151, uid: 1000 });
    expect(s.map(isConnection)).toEqual([false, true, true, false]);
    const listening = listeningPorts(s);
    expect(isInbound(s[2]!, listening)).toBe(true);
    expect(isInbound(s[1]!, listening)).toBe(false);
  });
});

describe('metadata endpoints', () => {
  it('flags the real credential endpoints by default, in any spelling', () => {
    const meta = metadataMatcher(DEFAULT_METADATA_ADDRESSES);
    for (const ip of ['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'FD00:EC2:0:0:0:0:0:254', '[fd00:ec2::23]', '::ffff:169.254.169.254']) expect(meta(ip), ip).toBe(true);
    for (const ip of ['169.254.169.253', '169.254.170.3', '10.0.0.1', 'fd00:ec2::253', '127.0.0.1']) expect(meta(ip), ip).toBe(false);
  });

  it('flags what it is configured with (the test stands a local address in for the real ones)', () => {
    const meta = metadataMatcher(['127.0.0.2']);
    expect(meta('127.0.0.2')).toBe(true);
    expect(meta('169.254.169.254')).toBe(false);
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
  });
});

describe('reading the real tables', () => {
  it('reads a table past 64 KiB whole (a busy node has hundreds of sockets)', async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    // 250 connections = 500 sockets ≈ 75 KiB of /proc/net/tcp on top of what the machine has.
    const clients = await Promise.all(Array.from({ length: 250 }, () => new Promise<Socket>((r) => { const c = connect(port, '127.0.0.1', () => r(c)); })));
    try {
      const mine = readSockets('/proc').filter((s) => s.remotePort === port && s.state === '01');
      expect(mine).toHaveLength(250);
    } finally {
      for (const c of clients) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
