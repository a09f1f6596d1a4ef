/**
 * Throughput and state size of the identity graph on a synthetic but realistic mix: 200 pods over 40 IRSA
 * service accounts re-assuming hourly, their AWS calls (most traffic), audit requests by service accounts and
 * people, execs now and then. Prints events/s for observe+resolve and for the whole native engine, next to
 * normalization alone (ratios, because these machines are noisy).
 * Run: node bin/tsx-run.mjs test/identity/bench-graph.ts [events]
 */
import type { SeamEvent } from '../../src/core/envelope.ts';
import { createNativeEngine } from '../../src/detect/native/engine.ts';
import { IdentityGraph } from '../../src/identity/graph.ts';
import { assumeWebIdentity, audit, callAs, ev, execInto, iamK8sUser, podCreate, saK8sUser, saWrite, session, alice, ACCOUNT } from './records.ts';

const N = Number(process.argv[2] ?? 200_000);
const base = Date.parse('2024-11-05T00:00:00Z');
const controller = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };

function* raw(): Generator<unknown> {
  for (let s = 0; s < 40; s++) yield saWrite(iamK8sUser(alice), `ns${s % 8}/sa${s}`, `arn:aws:iam::${ACCOUNT}:role/role${s}`, new Date(base).toISOString());
  for (let p = 0; p < 200; p++) yield podCreate(controller, `ns${(p % 40) % 8}/pod${p}`, `sa${p % 40}`, new Date(base + 1000).toISOString());
  let t = base + 2000;
  let gen = 0;
  for (let i = 0; i < N; i++) {
    t += 50; // 20 events/s of event time
    const hour = Math.floor((t - base) / 3600_000);
    const p = i % 200;
    const s = p % 40;
    if (hour !== gen && p === 0) gen = hour;
    const sess = session(`role${s}`, `pod${p}-h${hour}`, `ASIA${String(p).padStart(4, '0')}H${String(hour).padStart(11, '0')}`);
    const time = new Date(t).toISOString();
    const r = i % 100;
    if (r < 2) yield assumeWebIdentity(`ns${s % 8}/sa${s}`, `role${s}`, sess.session, sess.key, time);
    else if (r < 80) yield callAs(sess, 's3.amazonaws.com', 'GetObject', time);
    else if (r < 98) yield audit({ verb: 'get', user: saK8sUser(`ns${s % 8}`, `sa${s}`, `pod${p}`), time, resource: 'configmaps', namespace: `ns${s % 8}`, name: 'cfg', ip: '10.0.1.2' });
    else if (r < 99) yield audit({ verb: 'list', user: iamK8sUser(alice), time, resource: 'pods', namespace: 'ns1' });
    else yield execInto(iamK8sUser(alice), `ns${s % 8}/pod${p}`, time);
  }
}

const t0 = performance.now();
const events: SeamEvent[] = [];
for (const r of raw()) events.push(ev(r, (r as { kind?: string }).kind === 'Event' ? 'prod-eks-01' : undefined));
const tNorm = performance.now() - t0;

const g = new IdentityGraph();
const t1 = performance.now();
let chainSteps = 0;
for (const e of events) {
  g.observe(e);
  chainSteps += g.resolve(e).chain.length;
}
const tGraph = performance.now() - t1;

const engine = createNativeEngine();
const t2 = performance.now();
let alerts = 0;
for (const e of events) alerts += engine.process(e).length;
alerts += engine.flush().length;
const tEngine = performance.now() - t2;

const rate = (ms: number): number => Math.round(events.length / (ms / 1000));
const s = g.stats();
console.log(`events: ${events.length}`);
console.log(`normalize (build + normalizeRecord): ${rate(tNorm)} events/s`);
console.log(`graph observe+resolve: ${rate(tGraph)} events/s (${(tGraph / tNorm).toFixed(2)}x normalize time); avg chain ${(chainSteps / events.length).toFixed(2)} steps`);
console.log(`native engine (observe+resolve+10 detections): ${rate(tEngine)} events/s (${(tEngine / tNorm).toFixed(2)}x normalize time); alerts ${alerts}`);
console.log(`state: ${s.keys} keys, ${s.versions} edge versions, ${s.factsEmitted} facts emitted, ${s.pruned} pruned, heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
