import { describe, expect, it } from 'vitest';
import { metricsAddress, parseListenAddress } from './listen-address.ts';

describe('metrics listen address', () => {
  it('reads host:port, :port, a bare port and bracketed IPv6; refuses the rest', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress(':9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListenAddress('localhost')).toThrow(/host:port/);
    expect(() => parseListenAddress('h:70000')).toThrow(/host:port/);
  });
  it('flag, then SEAM_METRICS_ADDR, then the default; off turns it off', () => {
    expect(metricsAddress('1.2.3.4:1', { SEAM_METRICS_ADDR: ':2' }, ':3')).toBe('1.2.3.4:1');
    expect(metricsAddress(undefined, { SEAM_METRICS_ADDR: ':2' }, ':3')).toBe(':2');
    expect(metricsAddress(undefined, {}, undefined)).toBeUndefined();
    expect(metricsAddress(undefined, { SEAM_METRICS_ADDR: 'off' }, ':3')).toBeUndefined();
  });
});
