// The authentication checks `npm run test:deploy` (test/deploy/deploy.ts, owned by the Helm work) calls: each
// runs real `seam collect` and `seam run` processes through one authenticated path and proves that a wrong
// credential fails loudly and commits nothing (test/auth/harness.ts). Needs the local services
// (`npm run services:up`). What is real and what is a stub: docs/adr/0016-configuration-and-authentication.md.
import { collectPhase, startAuthEnv } from '../auth/harness.ts';

export async function runAuthChecks(): Promise<{ kafka_tls: boolean; kafka_scram: boolean; opensearch_basic: boolean; opensearch_sigv4: boolean; details: string[] }> {
  const details: string[] = [];
  const env = await startAuthEnv((line) => details.push(line));
  try {
    // The collectors one after the other, then everything else at once.
    const scramRest = await collectPhase(env, 'scram');
    const tlsRest = await collectPhase(env, 'tls');
    // The second pipeline starts once the first runs (test/auth/auth.test.ts says why).
    const first = scramRest();
    await first.started;
    const [scram, tls] = await Promise.all([first.result, tlsRest().result]);
    for (const r of [scram, tls]) for (const c of [r.pipeline, r.kafkaWrong, r.opensearchWrong]) details.push(...c.details);
    return {
      // SASL_SSL SCRAM-SHA-512: the collector and three roles through it, a wrong password refused with nothing committed.
      kafka_scram: scram.pipeline.ok && scram.kafkaWrong.ok,
      // Mutual TLS: the same through the client-certificate listener, a certificate of another CA refused.
      kafka_tls: tls.pipeline.ok && tls.kafkaWrong.ok,
      // OpenSearch TLS + basic auth (stub front): indexed through it, a wrong password refused with nothing committed.
      opensearch_basic: scram.pipeline.ok && scram.opensearchWrong.ok,
      // OpenSearch SigV4 (stub verifier): indexed through it, a wrong secret key refused with nothing committed.
      opensearch_sigv4: tls.pipeline.ok && tls.opensearchWrong.ok,
      details,
    };
  } finally {
    await env.close();
  }
}
