// STUBS, for tests only: authenticated HTTPS fronts to the local OpenSearch node, which itself runs without the
// security plugin. Two kinds:
//   - basic: TLS (certificate signed by the test CA in .cache/tls) + HTTP basic auth against one user;
//   - sigv4: TLS + AWS Signature Version 4 verification, written here from the AWS documentation ("Create a
//     signed AWS API request": canonical request, string to sign, signing key), independent of the signer Seam
//     uses (aws4 inside @opensearch-project/opensearch): the scope must name the configured region and service
//     (es or aoss), the key must be known, the date within 15 minutes, the body must hash to what was signed.
// A request that passes is forwarded to the node without its credentials; one that fails gets 401/403 with
// an OpenSearch-shaped error body, as the real services answer. What this does NOT prove: the OpenSearch
// security plugin's own behaviour (roles, index permissions) or Amazon's (IAM policy evaluation).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface AuthStubOptions {
  /** The node requests are forwarded to, e.g. http://127.0.0.1:9200. */
  upstream: string;
  tls: { cert: string; key: string };
  auth: { type: 'basic'; username: string; password: string } | { type: 'sigv4'; region: string; service: 'es' | 'aoss'; keys: Record<string, string> };
}

export interface AuthStub {
  url: string;
  /** Requests refused (401/403) and forwarded, so a test can tell that the front was actually used. */
  readonly counts: { refused: number; forwarded: number };
  close(): Promise<void>;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, s: string): Buffer => createHmac('sha256', k).update(s, 'utf8').digest();

/** RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - _ . ~), as SigV4 asks. */
export function uriEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The canonical request of SigV4 for a non-S3 service: each path segment encoded again (as sent, so twice), sorted query, signed headers. */
export function canonicalRequest(method: string, rawPath: string, headers: http.IncomingHttpHeaders, signedHeaders: string[], payloadHash: string): string {
  const [path = '/', query = ''] = rawPath.split(/\?(.*)/s);
  const canonicalUri = path
    .split('/')
    .map((seg) => uriEncode(seg))
    .join('/');
  const params = query === '' ? [] : query.split('&').map((kv) => {
    const [k = '', v = ''] = kv.split(/=(.*)/s);
    const dec = (x: string): string => decodeURIComponent(x.replace(/\+/g, '%20'));
    return [uriEncode(dec(k)), uriEncode(dec(v))] as const;
  });
  params.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const canonicalQuery = params.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalHeaders = signedHeaders
    .map((h) => {
      const v = headers[h];
      const value = (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
      return `${h}:${value}\n`;
    })
    .join('');
  return [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

/** Verifies one request; returns undefined when it is correctly signed, else the reason. */
export function verifySigV4(
  req: { method: string; url: string; headers: http.IncomingHttpHeaders },
  body: Buffer,
  o: { region: string; service: string; keys: Record<string, string> },
  nowMs = Date.now(),
): string | undefined {
  const auth = req.headers.authorization;
  if (auth === undefined) return 'missing Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed Authorization header';
  const [, keyId, date, region, service, signed, signature] = m as unknown as [string, string, string, string, string, string, string];
  const secret = o.keys[keyId];
  if (secret === undefined) return `unknown access key ${keyId}`;
  if (region !== o.region) return `credential scope region ${region} is not ${o.region}`;
  if (service !== o.service) return `credential scope service ${service} is not ${o.service}`;
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate)) return 'missing or malformed X-Amz-Date';
  if (amzDate.slice(0, 8) !== date) return 'X-Amz-Date does not match the credential scope date';
  const t = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(nowMs - t) > 15 * 60_000) return 'request time is more than 15 minutes from now';
  const signedHeaders = signed.split(';');
  if (!signedHeaders.includes('host')) return 'host is not signed';
  const bodyHash = sha256(body);
  const claimed = req.headers['x-amz-content-sha256'];
  if (typeof claimed === 'string' && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== bodyHash) return 'body does not match x-amz-content-sha256';
  const canonical = canonicalRequest(req.method, req.url, req.headers, signedHeaders, typeof claimed === 'string' ? claimed : bodyHash);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? undefined : 'The request signature we calculated does not match the signature you provided';
}

function basicOk(header: string | undefined, user: string, password: string): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const got = Buffer.from(header.slice(6), 'base64');
  const want = Buffer.from(`${user}:${password}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startAuthStub(o: AuthStubOptions): Promise<AuthStub> {
  const counts = { refused: 0, forwarded: 0 };
  const up = new URL(o.upstream);
  const server = https.createServer({ cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const refuse = (status: number, type: string, reason: string): void => {
        counts.refused++;
        const payload = JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status });
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Basic realm="OpenSearch Security"' } : {}) });
        res.end(payload);
      };
      if (o.auth.type === 'basic') {
        if (!basicOk(req.headers.authorization, o.auth.username, o.auth.password)) return refuse(401, 'security_exception', 'Unauthorized');
      } else {
        const why = verifySigV4({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body, o.auth);
        if (why !== undefined) return refuse(403, 'security_exception', why);
      }
      counts.forwarded++;
      const headers: http.OutgoingHttpHeaders = { ...req.headers, host: up.host };
      for (const h of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) delete headers[h];
      const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      fwd.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'stub_upstream_error', reason: e.message }, status: 502 }));
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
