import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { KafkaConfig, KafkaSasl } from '../core/config/schema.ts';
import type { KafkaBusOptions } from './kafka.ts';

/**
 * seam.yml's `kafka` section → KafkaBus options: TLS (CA, client certificate, verification), SASL
 * PLAIN/SCRAM, and Amazon MSK IAM (SASL/OAUTHBEARER, the token from aws-msk-iam-sasl-signer-js signed
 * with the default AWS credential chain). Files are read here, once, so a missing CA stops the command
 * before it connects.
 */

/** What generates an MSK IAM token; the signer package's `generateAuthToken` unless a test gives another. */
export type MskTokenGenerator = (o: { region: string }) => Promise<{ token: string; expiryTime: number }>;

/** The OAUTHBEARER provider kafkajs calls on every (re)authentication: a fresh signed token each time. */
export function mskIamTokenProvider(region: string, generate?: MskTokenGenerator): () => Promise<{ value: string }> {
  return async () => {
    const gen = generate ?? ((await import('aws-msk-iam-sasl-signer-js')).generateAuthToken as MskTokenGenerator);
    const { token } = await gen({ region });
    return { value: token };
  };
}

export function saslOptions(s: KafkaSasl, generate?: MskTokenGenerator): SASLOptions {
  switch (s.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: s.username, password: s.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: s.username, password: s.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: s.username, password: s.password };
    case 'aws-msk-iam':
      return { mechanism: 'oauthbearer', oauthBearerProvider: mskIamTokenProvider(s.region, generate) };
  }
}

export function kafkaBusOptions(cfg: KafkaConfig, clientSuffix?: string, generate?: MskTokenGenerator): KafkaBusOptions {
  const tls = cfg.tls?.enabled === true ? cfg.tls : undefined;
  return {
    brokers: cfg.brokers,
    clientId: clientSuffix ? `${cfg.clientId}-${clientSuffix}` : cfg.clientId,
    replicationFactor: cfg.replicationFactor,
    fetch: cfg.consumer,
    groupPrefix: cfg.groupPrefix,
    kafka: {
      connectionTimeout: cfg.connectionTimeoutMs,
      authenticationTimeout: cfg.authenticationTimeoutMs,
      ...(tls
        ? {
            ssl: {
              rejectUnauthorized: tls.rejectUnauthorized,
              ...(tls.caFile ? { ca: [readFileSync(tls.caFile, 'utf8')] } : {}),
              ...(tls.certFile ? { cert: readFileSync(tls.certFile, 'utf8') } : {}),
              ...(tls.keyFile ? { key: readFileSync(tls.keyFile, 'utf8') } : {}),
              ...(tls.keyPassword ? { passphrase: tls.keyPassword } : {}),
              ...(tls.servername ? { servername: tls.servername } : {}),
            },
          }
        : {}),
      ...(cfg.sasl ? { sasl: saslOptions(cfg.sasl, generate) } : {}),
    },
  };
}
