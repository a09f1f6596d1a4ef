/** The metrics listener's address, apart from src/core/metrics.ts so a process without a listener never loads prom-client. */

/** `host:port`, `:port` or a bare port; port 0 picks a free one. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`metrics address must be host:port, :port or a port (got '${addr}')`);
  const host = m[1] === undefined || m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

/** Why `addr` (as written in seam.yml or SEAM_METRICS_ADDR) cannot be listened on, or undefined when it can (or turns the listener off). */
export function listenAddressProblem(addr: string): string | undefined {
  if (/^(off|none|false)$/i.test(addr.trim())) return undefined;
  try {
    parseListenAddress(addr);
    return undefined;
  } catch {
    return `host:port, :port or a port (0-65535), or off (got '${addr}')`;
  }
}

/** The listen address from a flag, else SEAM_METRICS_ADDR, else the default (undefined: off); `off`/`none` turn it off. */
export function metricsAddress(flag: string | undefined, env: NodeJS.ProcessEnv, fallback: string | undefined): string | undefined {
  const v = flag ?? env.SEAM_METRICS_ADDR ?? fallback;
  if (v === undefined || v.trim() === '' || /^(off|none|false)$/i.test(v.trim())) return undefined;
  return v.trim();
}
