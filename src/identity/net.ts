/** Address helpers shared by the identity graph (egress learning) and the native detections. */

function ipv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** `ip` inside `cidr` (IPv4 CIDR or a single address; IPv6 compares exactly or by textual prefix). */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/') as [string, string | undefined];
  const a = ipv4(ip);
  const b = ipv4(net);
  if (a === undefined || b === undefined) {
    if (bitsText === undefined) return ip.toLowerCase() === net.toLowerCase();
    const groups = Math.floor(Number(bitsText) / 16);
    return ip.toLowerCase().split(':').slice(0, groups).join(':') === net.toLowerCase().split(':').slice(0, groups).join(':');
  }
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

export function isPrivateIp(ip: string): boolean {
  return ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].some((c) => inCidr(ip, c)) || /^f[cd][0-9a-f]{2}:/i.test(ip);
}

