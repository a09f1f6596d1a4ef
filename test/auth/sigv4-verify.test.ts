import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from './opensearch-auth-stub.ts';

// The stub's SigV4 verifier against AWS's published SigV4 test suite vectors (get-vanilla and
// get-vanilla-query-order-key-case: credentials AKIDEXAMPLE, region us-east-1, service "service",
// 2015-08-30T12:36:00Z), so the verifier is checked against AWS's numbers, not against the signer Seam uses.
const KEYS = { AKIDEXAMPLE: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const opts = { region: 'us-east-1', service: 'service', keys: KEYS };
const auth = (sig: string): string => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`;
const headers = (sig: string): Record<string, string> => ({ host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z', authorization: auth(sig) });

describe('SigV4 verifier (stub)', () => {
  it('accepts AWS test-suite signatures and refuses altered ones', () => {
    const vanilla = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
    expect(verifySigV4({ method: 'GET', url: '/', headers: headers(vanilla) }, Buffer.alloc(0), opts, NOW)).toBeUndefined();
    const queryOrder = 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500';
    expect(verifySigV4({ method: 'GET', url: '/?Param2=value2&Param1=value1', headers: headers(queryOrder) }, Buffer.alloc(0), opts, NOW)).toBeUndefined();
    // Another path, another method, another secret, another service, a stale date: each refused with its reason.
    expect(verifySigV4({ method: 'GET', url: '/other', headers: headers(vanilla) }, Buffer.alloc(0), opts, NOW)).toMatch(/signature we calculated does not match/);
    expect(verifySigV4({ method: 'POST', url: '/', headers: headers(vanilla) }, Buffer.alloc(0), opts, NOW)).toMatch(/does not match/);
    expect(verifySigV4({ method: 'GET', url: '/', headers: headers(vanilla) }, Buffer.alloc(0), { ...opts, keys: { AKIDEXAMPLE: 'wrong' } }, NOW)).toMatch(/does not match/);
    expect(verifySigV4({ method: 'GET', url: '/', headers: headers(vanilla) }, Buffer.alloc(0), { ...opts, service: 'es' }, NOW)).toMatch(/service service is not es/);
    expect(verifySigV4({ method: 'GET', url: '/', headers: headers(vanilla) }, Buffer.alloc(0), opts, NOW + 16 * 60_000)).toMatch(/15 minutes/);
    expect(verifySigV4({ method: 'GET', url: '/', headers: { host: 'example.amazonaws.com' } }, Buffer.alloc(0), opts, NOW)).toBe('missing Authorization header');
  });

  it('accepts what the aws4 signer inside the OpenSearch client signs (body, path with * and query), and refuses a changed body', () => {
    const require = createRequire(import.meta.url);
    const aws4 = require('aws4') as { sign(r: Record<string, unknown>, c: { accessKeyId: string; secretAccessKey: string }): { headers: Record<string, string>; path: string } };
    const body = '{"query":{"match_all":{}}}';
    const req = { host: 'search.example.com', method: 'POST', path: '/seam-events-*/_search?size=10&q=a%20b', service: 'es', region: 'eu-west-1', body, headers: { 'content-type': 'application/json' } };
    const signed = aws4.sign(req, { accessKeyId: 'AKIDSEAM', secretAccessKey: 'seam-secret' });
    const h = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const o = { region: 'eu-west-1', service: 'es', keys: { AKIDSEAM: 'seam-secret' } };
    expect(verifySigV4({ method: 'POST', url: signed.path, headers: h }, Buffer.from(body), o)).toBeUndefined();
    expect(verifySigV4({ method: 'POST', url: signed.path, headers: h }, Buffer.from(body.replace('match_all', 'match_none')), o)).toMatch(/does not match/);
  });
});
