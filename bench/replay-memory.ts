/**
 * Replays a generated multi-GB JSONL file (default 1 GiB; SEAM_BENCH_REPLAY_MB to change) through
 * `seam replay` in a child process and samples its RSS, to show memory stays flat whatever the input
 * size. Prints RSS at 10%..100% of the input and the peak; last line
 * `replay-memory: input_mb=<n> records=<n> peak_rss_mb=<n> records_per_s=<n>`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';

const root = join(import.meta.dirname, '..');
const targetMb = Number(process.env.SEAM_BENCH_REPLAY_MB ?? 1024);
const dir = join(root, '.cache', 'bench');
const file = join(dir, `replay-${targetMb}mb.jsonl`);

async function templates(): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['k8s-audit', 'runtime', 'cloudtrail']) {
    for (const f of await readdir(join(root, 'test/fixtures', sub))) {
      const text = await readFile(join(root, 'test/fixtures', sub, f), 'utf8');
      if (f.endsWith('.jsonl')) out.push(...text.split('\n').filter((l) => l.trim().startsWith('{')));
      else if (text.includes('"Records"')) out.push(...(JSON.parse(text) as { Records: unknown[] }).Records.map((r) => JSON.stringify(r)));
    }
  }
  return out;
}

async function generate(): Promise<number> {
  if (existsSync(file) && statSync(file).size >= targetMb * 1024 * 1024) return Number(readFileSync(`${file}.count`, 'utf8'));
  await mkdir(dir, { recursive: true });
  const tpl = await templates();
  const ws = createWriteStream(file);
  let bytes = 0;
  let n = 0;
  const target = targetMb * 1024 * 1024;
  while (bytes < target) {
    // Vary the ids so every record is distinct (auditID, eventID, uuid/id).
    const line = tpl[n % tpl.length]!.replace(/"(auditID|eventID|uuid|id)":"([^"]*)"/, (_m, k: string, v: string) => `"${k}":"${v}-${n}"`);
    bytes += line.length + 1;
    n++;
    if (!ws.write(`${line}\n`)) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'finish');
  await import('node:fs/promises').then((fs) => fs.writeFile(`${file}.count`, String(n)));
  return n;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const records = await generate();
const size = statSync(file).size;
process.stderr.write(`replay-memory: input ${file} (${(size / 1024 / 1024).toFixed(0)} MiB, ${records} records)\n`);
const t0 = performance.now();
const child = spawn(process.execPath, [join(root, 'bin/seam.mjs'), 'replay', '--out', '/dev/null', '--dlq', join(dir, 'replay-dlq.jsonl'), file], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const samples: { t: number; rss: number }[] = [];
const timer = setInterval(() => samples.push({ t: performance.now() - t0, rss: rssMb(child.pid!) }), 250);
const [code] = (await once(child, 'exit')) as [number];
clearInterval(timer);
const elapsed = (performance.now() - t0) / 1000;
if (code !== 0) {
  process.stderr.write(stderr);
  throw new Error(`replay exited with ${code}`);
}
const peak = Math.max(...samples.map((s) => s.rss));
const deciles = [0.1, 0.25, 0.5, 0.75, 0.9, 1].map((q) => samples[Math.min(samples.length - 1, Math.floor(q * (samples.length - 1)))]!);
console.log(`rss over the run (MiB): ${deciles.map((s) => `${(s.t / 1000).toFixed(0)}s=${s.rss.toFixed(0)}`).join(' ')}`);
console.log(stderr.trim().split('\n')[0]);
console.log(`replay-memory: input_mb=${(size / 1024 / 1024).toFixed(0)} records=${records} peak_rss_mb=${peak.toFixed(0)} records_per_s=${Math.round(records / elapsed)}`);
