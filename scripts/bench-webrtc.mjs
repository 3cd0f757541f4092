// The WebRTC benchmark (not a timed test): put latency (p50, p99) and throughput of a 3-tab
// cluster whose tabs talk over WebRTC data channels, against the same cluster forced through
// the relay (`webrtc: false`), in one run, in one browser. Both clusters are open at once and
// measured in alternating rounds, so background load hits both alike.
//
//   bash scripts/build-wasm.sh && cargo build --release --bin ringlet-relay
//   bash scripts/loopback-netns.sh node scripts/bench-webrtc.mjs [--ops 400] [--concurrency 16] [--rounds 3]
import { cpus } from 'node:os';
import { startCluster, waitConverged, waitChannels, workload } from '../tests/e2e/webrtc_support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const OPS = arg('ops', 400);
const CONCURRENCY = arg('concurrency', 16);
const ROUNDS = arg('rounds', 3);
const PORT = 8116;

const c = await startCluster(PORT);

/**
 * In tab `name`: `ops` puts of `size`-byte values to fresh keys (a blind put to a key that
 * exists adds a sibling, so reused keys would grow), `concurrency` at a time; latencies in ms.
 */
let run = 0;
const measure = (name, size, concurrency, ops) => c.in(name, async ([size, concurrency, ops, prefix]) => {
  const value = new Uint8Array(size);
  crypto.getRandomValues(value.subarray(0, Math.min(size, 65536)));
  const lat = [];
  const errors = [];
  let next = 0;
  const run = async () => {
    while (next < ops) {
      const i = next++;
      const t = performance.now();
      try {
        await window.replica.put(`${prefix}/${i}`, value);
        lat.push(performance.now() - t);
      } catch (e) {
        errors.push(e.code ?? String(e));
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, run));
  return { lat, errors, secs: (performance.now() - t0) / 1000 };
}, [size, concurrency, ops, `bench/${run++}`]);

const clusters = {
  datachannel: { names: ['dc1', 'dc2', 'dc3'], opts: { cluster: 'bench-dc' } },
  relay: { names: ['rl1', 'rl2', 'rl3'], opts: { cluster: 'bench-relay', webrtc: false } },
};
const CASES = [
  { what: 'put 1 KB, 1 at a time', size: 1024, concurrency: 1, ops: OPS },
  { what: `put 1 KB, ${CONCURRENCY} in flight`, size: 1024, concurrency: CONCURRENCY, ops: OPS },
  { what: 'put 64 KB, 1 at a time', size: 64 * 1024, concurrency: 1, ops: Math.max(20, OPS / 4) },
];

try {
  for (const { names, opts } of Object.values(clusters)) {
    for (const n of names) await c.open(n, { ...opts, n: 3, r: 2, w: 2, gossipIntervalMs: 1000 });
    await waitConverged(c, names, names);
    await Promise.all(names.map((n) => workload(c, n, `warm/${n}`, 10)));
  }
  await waitChannels(c, clusters.datachannel.names);
  const results = {}; // case -> path -> { lat, secs, ops }
  const relayFrames = { datachannel: 0, relay: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of CASES) {
      for (const [path, { names, opts }] of Object.entries(clusters)) {
        const before = (await c.relay.stats()).clusters[opts.cluster].frames_in;
        const r = await measure(names[0], k.size, k.concurrency, k.ops);
        relayFrames[path] += (await c.relay.stats()).clusters[opts.cluster].frames_in - before;
        const acc = ((results[k.what] ??= {})[path] ??= { lat: [], errors: [], secs: 0 });
        acc.lat.push(...r.lat);
        acc.errors.push(...r.errors);
        acc.secs += r.secs;
      }
    }
  }
  const q = (lat, p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const version = c.context.browser()?.version() ?? 'chromium';
  console.log(`\n3 tabs (N=3, R=W=2, memory storage), ${ROUNDS} alternating rounds, ${cpus().length} cores, Chromium ${version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| what | path | puts/s | p50 ms | p99 ms | failed |\n| --- | --- | ---: | ---: | ---: | ---: |');
  for (const k of CASES) {
    for (const path of Object.keys(clusters)) {
      const { lat, errors, secs } = results[k.what][path];
      lat.sort((a, b) => a - b);
      const label = path === 'datachannel' ? 'data channels' : 'relay (`webrtc: false`)';
      console.log(`| ${k.what} | ${label} | ${Math.round(lat.length / secs).toLocaleString('en')} | ${q(lat, 0.5).toFixed(2)} | ${q(lat, 0.99).toFixed(2)} | ${errors.length ? `${errors.length} (${[...new Set(errors)].join(', ')})` : 0} |`);
    }
  }
  const s = await c.stats('dc1');
  console.log(`\ndata frames the relay forwarded during the measured puts: ${relayFrames.datachannel} for the data-channel cluster, ${relayFrames.relay} for the relay cluster`);
  const w = s.webrtc;
  console.log(`dc1: ${s.paths.datachannel.messagesSent} messages sent over data channels, ${s.paths.relay.messagesSent} through the relay; channels opened ${w.opened}, fallbacks ${w.fallbacks}, failures ${w.failures}, re-sent ${w.resent}, spilled by backpressure ${w.spilled}`);
} finally {
  await c.stop();
}
