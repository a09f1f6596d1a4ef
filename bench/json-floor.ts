/**
 * The JSON work no pipeline role can avoid, per event, on the events `bench:peers` and `bench:pipeline` use
 * (bench/lib/events.ts): `JSON.parse` of a record and `JSON.stringify` of the parsed value, in this process, with
 * nothing else. It is the floor under `bench:roles` and `bench:pipeline`'s roles_us_per_event (ADR 0032): the
 * normalize role parses each raw record and writes its signal, the correlate role parses each signal, so two
 * roles spend at least `2 × parse + stringify` per event before any rule, Kafka record or index request.
 *
 *   node bin/tsx-run.mjs bench/json-floor.ts [events=100000] [rounds=3]
 *
 * CPU is `process.cpuUsage` (user + system) around each pass; the best round of each is printed.
 * Last line: `json-floor: parse_us=<n> stringify_us=<n> roles_floor_us=<n> bytes_per_event=<n> load=<n>`
 */
import { readFileSync } from 'node:fs';
import { generateLines } from './lib/events.ts';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

process.stdout.write(`load average at start: ${load()} (${process.version}); events=${N} rounds=${ROUNDS}\n`);
const lines = generateLines(N);
const bytes = lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
let parseBest = Infinity;
let stringifyBest = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  let t = cpuMs();
  const values = lines.map((l) => JSON.parse(l) as unknown);
  const parse = cpuMs() - t;
  t = cpuMs();
  let written = 0;
  for (const v of values) written += JSON.stringify(v).length;
  const stringify = cpuMs() - t;
  if (written === 0) throw new Error('nothing written');
  parseBest = Math.min(parseBest, (1000 * parse) / N);
  stringifyBest = Math.min(stringifyBest, (1000 * stringify) / N);
  process.stdout.write(`round ${r + 1}: parse ${((1000 * parse) / N).toFixed(1)} us/event, stringify ${((1000 * stringify) / N).toFixed(1)} us/event\n`);
}
process.stdout.write(`load average at end: ${load()}\n`);
process.stdout.write(
  `json-floor: parse_us=${parseBest.toFixed(1)} stringify_us=${stringifyBest.toFixed(1)} roles_floor_us=${(2 * parseBest + stringifyBest).toFixed(1)} bytes_per_event=${Math.round(bytes / N)} load=${load().split(' ')[0]}\n`,
);
