import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaConfig } from '../core/config/schema.ts';
import { kafkaBusOptions, mskIamTokenProvider } from './kafka-config.ts';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('kafka section → kafkajs options', () => {
  it('TLS reads the CA, client certificate and key; SCRAM passes user and password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-kafka-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----BEGIN ${f}-----\n`);
    const cfg = KafkaConfig.parse({
      brokers: ['b:9094'],
      tls: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), servername: 'kafka.local' },
      sasl: { mechanism: 'scram-sha-512', username: 'seam', password: 'pw' },
      consumer: { maxBytesPerPartition: 2048 },
    });
    const o = kafkaBusOptions(cfg, 'normalize');
    expect(o.clientId).toBe('seam-normalize');
    expect(o.kafka?.ssl).toEqual({ rejectUnauthorized: true, ca: ['-----BEGIN ca.pem-----\n'], cert: '-----BEGIN cert.pem-----\n', key: '-----BEGIN key.pem-----\n', servername: 'kafka.local' });
    expect(o.kafka?.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'seam', password: 'pw' });
    expect(o.fetch?.maxBytesPerPartition).toBe(2048);
    // No tls section: plaintext; a missing CA file stops before any connection.
    expect(kafkaBusOptions(KafkaConfig.parse({ brokers: ['b:9092'] })).kafka?.ssl).toBeUndefined();
    expect(() => kafkaBusOptions(KafkaConfig.parse({ brokers: ['b:9094'], tls: { caFile: join(dir, 'missing.pem') } }))).toThrow(/ENOENT/);
  });

  it('MSK IAM: OAUTHBEARER whose provider returns a fresh token signed by aws-msk-iam-sasl-signer-js from the default credential chain', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLESEAM00001';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const o = kafkaBusOptions(KafkaConfig.parse({ brokers: ['b-1.msk:9098'], tls: {}, sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' } }), 'index');
    const sasl = o.kafka?.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    expect(sasl.mechanism).toBe('oauthbearer');
    const { value } = await sasl.oauthBearerProvider();
    // The token is a base64url presigned URL for kafka-cluster:Connect, signed for the region with the chain's key.
    const url = new URL(Buffer.from(value, 'base64url').toString('utf8'));
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLESEAM00001\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('User-Agent')).toMatch(/aws-msk-iam-sasl-signer-js/);
    // Each (re)authentication asks the chain again: rotated credentials (IRSA) are picked up.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLESEAM00002';
    const again = new URL(Buffer.from((await sasl.oauthBearerProvider()).value, 'base64url').toString('utf8'));
    expect(again.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLESEAM00002\//);
  });

  it('MSK IAM: a failing credential chain fails the authentication with its reason', async () => {
    const provider = mskIamTokenProvider('eu-west-1', () => Promise.reject(new Error('Could not load credentials from any providers')));
    await expect(provider()).rejects.toThrow('Could not load credentials from any providers');
  });

  it('refuses MSK IAM or PLAIN without TLS', () => {
    expect(KafkaConfig.safeParse({ brokers: ['b:9098'], sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' } }).error?.issues[0]?.message).toContain('aws-msk-iam auth needs TLS');
    expect(KafkaConfig.safeParse({ brokers: ['b:9098'], tls: { enabled: false }, sasl: { mechanism: 'plain', username: 'u', password: 'p' } }).success).toBe(false);
  });
});
