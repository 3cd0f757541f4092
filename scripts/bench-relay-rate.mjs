// What one healthy replica sends to the relay at full speed (not a timed test): the figure the
// relay's default per-connection rate and burst are set well above (`src/relay/mod.rs`).
//
// A relay with no practical rate limit, two peer replicas in child processes
// (`js/replica-cli.js`), and one replica in this process that does puts (then gets) as fast as
// it can with C in flight (N=3, R=2, W=2, memory storage, 100-byte values). Its `framesOut`
// (every message it hands the relay) is sampled every 20 ms: the average over the run, and the
// highest rate over any span of at least 1 s and of at least 100 ms, in frames a second.
//
//   cargo build --release --bin ringlet-relay && bash scripts/build-wasm.sh
//   node scripts/bench-relay-rate.mjs [--ops 4000] [--concurrency 32,256,2000]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { Replica } from 'ringlet';
import { startRelay, waitFor, freePort, converged, ROOT } from '../tests/js/support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const OPS = Number(arg('ops', 4000));
const CONCURRENCY = String(arg('concurrency', '32,256,2000')).split(',').map(Number);
const UNLIMITED = ['--rate', '100000000', '--burst', '100000000'];

function peer(url, cluster, name) {
  const child = spawn(process.execPath, [path.join(ROOT, 'js', 'replica-cli.js'), '--relay', url, '--cluster', cluster,
    '--name', name, '--n', '3', '--r', '2', '--w', '2'], { stdio: ['pipe', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout }).on('line', () => {});
  return child;
}

/** `ops` calls of `op(i)`, `concurrency` at a time, while `framesOut` is sampled. */
async function run(replica, op, ops, concurrency) {
  const samples = [];
  const sample = () => samples.push([performance.now(), replica.stats().framesOut]);
  const timer = setInterval(sample, 20);
  sample();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < ops) {
      const i = next++;
      try { await op(i); } catch { failed += 1; }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  // The highest rate over any span of at least `windowMs` (a blocked event loop takes no
  // samples, so spans are measured, not assumed).
  const peak = (windowMs) => {
    let best = 0;
    for (let a = 0, b = 0; b < samples.length; b += 1) {
      while (a + 1 < b && samples[b][0] - samples[a + 1][0] >= windowMs) a += 1;
      const span = samples[b][0] - samples[a][0];
      if (span >= windowMs) best = Math.max(best, ((samples[b][1] - samples[a][1]) * 1000) / span);
    }
    return best ? Math.round(best) : '-'; // '-': the run was shorter than the span
  };
  const frames = samples.at(-1)[1] - samples[0][1];
  return { opsPerSec: Math.round(ops / secs), framesPerSec: Math.round(frames / secs), peak1s: peak(1000), peak100ms: peak(100), failed };
}

const port = await freePort();
const relay = await startRelay(port, { args: UNLIMITED });
const cluster = `rate-${process.pid}`;
const children = [peer(relay.url, cluster, 'p1'), peer(relay.url, cluster, 'p2')];
const a = await Replica.open({ cluster, relay: relay.url, name: 'a', storage: 'memory', n: 3, r: 2, w: 2, timeoutMs: 10_000 });
try {
  await waitFor(() => converged([a], ['a', 'p1', 'p2']), 60_000, 'three members in one ring');
  const value = 'v'.repeat(100);
  await run(a, (i) => a.put(`warm/${i}`, value), 200, 16);
  console.log(`one replica (of 3, N=3 R=2 W=2), ${OPS} ops per row; frames it sent to the relay`);
  console.log('| op | in flight | ops/s | frames/s (average) | peak frames/s over 1 s | peak frames/s over 100 ms | failed |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of CONCURRENCY) {
    for (const [kind, op] of [['put', (i) => a.put(`k/${c}/${i}`, value)], ['get', (i) => a.get(`k/${c}/${i}`)]]) {
      const r = await run(a, op, OPS, c);
      console.log(`| ${kind} | ${c} | ${r.opsPerSec} | ${r.framesPerSec} | ${r.peak1s} | ${r.peak100ms} | ${r.failed} |`);
    }
  }
  const s = await relay.stats();
  console.log(`relay: ${JSON.stringify(s.clusters[cluster] ?? {})}`);
} finally {
  await a.close();
  for (const c of children) c.kill('SIGTERM');
  await relay.stop();
}
