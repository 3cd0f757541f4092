// The edge benchmark (not a timed test): put/get latency and throughput of Chromium tabs
// (IndexedDB storage, 1 KB values) in one run against
//   1. the native relay (3 tabs),
//   2. the edge relay on workerd, relaying only (3 tabs; a cluster without an edge node),
//   3. the edge relay with its edge node (2 tabs + the edge node, a durable replica in
//      Durable Object storage; N = 3, so every write also goes to the edge's storage);
// then the relays' own ceiling: 3 Node.js replicas with memory storage, gets at 64 in flight.
//
//   bash scripts/build-wasm.sh && cargo build --release --bin ringlet-relay
//   node scripts/bench-edge.mjs [--ops 400] [--concurrency 16]
// Requests run with a 10 s timeout; a request that fails anyway is counted, not timed.
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { startRelay, waitFor, ROOT } from '../tests/js/support.mjs';
import { startEdge, startBrowser, tempDir } from '../tests/edge/support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const OPS = arg('ops', 400);
const CONCURRENCY = arg('concurrency', 16);

/** In the page: `ops` calls of `kind`, `concurrency` at a time; latencies in ms. */
const measure = (tab, kind, options, concurrency) => tab.run(async ([kind, options, ops, concurrency]) => {
  const value = new Uint8Array(1024);
  crypto.getRandomValues(value);
  const lat = [];
  let failed = 0;
  let next = 0;
  const run = async () => {
    while (next < ops) {
      const i = next++;
      const t = performance.now();
      try {
        if (kind === 'put') await window.replica.put(`bench/${i % 200}`, value, options);
        else await window.replica.get(`bench/${i % 200}`);
        lat.push(performance.now() - t);
      } catch {
        failed += 1;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, run));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { perSec: lat.length / secs, p50: q(0.5), p99: q(0.99), failed };
}, [kind, options, OPS, concurrency]);

const CASES = [
  ['put, durable, 1 at a time', 'put', {}, 1],
  [`put, durable, ${CONCURRENCY} in flight`, 'put', {}, CONCURRENCY],
  ['put, buffered (`durable: false`), 1 at a time', 'put', { durable: false }, 1],
  [`put, buffered, ${CONCURRENCY} in flight`, 'put', { durable: false }, CONCURRENCY],
  ['get (R=2), 1 at a time', 'get', {}, 1],
  [`get (R=2), ${CONCURRENCY} in flight`, 'get', {}, CONCURRENCY],
];

/** Open `names` as tabs on `relayUrl`, wait for `members` valid owners, run every case. */
async function runAll(label, base, relayUrl, cluster, names, members, statusOf) {
  const browser = await startBrowser(base);
  try {
    const opts = { cluster, relay: relayUrl, storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 10_000 };
    const tabs = [];
    for (const n of names) tabs.push(await browser.tab(n, opts));
    await waitFor(async () => {
      const rings = await Promise.all(tabs.map((t) => t.run(() => window.replica.ring())));
      return rings.every((r) => r && members.every((m) => r.owners.includes(m)) && r.epoch === rings[0].epoch);
    }, 30_000, `${label}: the cluster to converge`);
    const [t1] = tabs;
    await measure(t1, 'put', {}, 4); // warm up
    const rows = [];
    for (const [what, kind, options, c] of CASES) rows.push([what, await measure(t1, kind, options, c)]);
    const status = statusOf ? await statusOf() : null;
    for (const t of tabs) await t.close();
    return { label, rows, status };
  } finally {
    await browser.close();
  }
}

/**
 * The relays' own ceiling, without browsers or IndexedDB: 3 Node.js replicas with memory
 * storage, `ops` gets (R=2, four relay frames each) with `concurrency` in flight.
 */
async function relayCeiling(relayUrl, cluster, ops, concurrency) {
  const { Replica } = await import('../js/index.js');
  const opts = { cluster, relay: relayUrl, storage: 'memory', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 10_000 };
  const rs = [];
  for (const name of ['m1', 'm2', 'm3']) rs.push(await Replica.open({ ...opts, name }));
  try {
    await waitFor(() => rs.every((r) => r.ring() && ['m1', 'm2', 'm3'].every((m) => r.ring().owners.includes(m))), 30_000, 'the Node.js replicas to converge');
    for (let i = 0; i < 200; i++) await rs[0].put(`k${i}`, new Uint8Array(1024));
    let next = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < ops) {
        const i = next++;
        await rs[0].get(`k${i % 200}`).catch(() => { failed += 1; });
      }
    }));
    return { perSec: ops / ((performance.now() - t0) / 1000), failed };
  } finally {
    for (const r of rs) await r.close();
  }
}

const native = await startRelay(8096, { www: path.join(ROOT, 'tests', 'e2e', 'www') });
const state = tempDir('ringlet-bench-edge-');
const edge = await startEdge(8097, state.dir);
try {
  const results = [];
  results.push(await runAll('native relay, 3 tabs', native.http, native.url, 'bench', ['b1', 'b2', 'b3'], ['b1', 'b2', 'b3']));
  // The Durable Object of cluster `relayonly` relays this `bench` cluster, which has no edge node.
  results.push(await runAll('edge relay (workerd), 3 tabs', edge.http, `${edge.url}?cluster=relayonly`, 'bench', ['b1', 'b2', 'b3'], ['b1', 'b2', 'b3']));
  results.push(await runAll('edge relay + edge node, 2 tabs', edge.http, `${edge.url}?cluster=bench`, 'bench', ['b1', 'b2'], ['b1', 'b2', 'edge'],
    () => edge.edge('bench')));
  console.log(`\n${OPS} operations each, 1 KB values, IndexedDB in the tabs, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| what | deployment | ops/s | p50 ms | p99 ms | failed |\n| --- | --- | ---: | ---: | ---: | ---: |');
  for (const [i] of CASES.entries()) {
    for (const r of results) {
      const [what, m] = r.rows[i];
      console.log(`| ${what} | ${r.label} | ${Math.round(m.perSec).toLocaleString('en')} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.failed} |`);
    }
  }
  const ceiling = [];
  for (const [label, url, cluster] of [['native relay', native.url, 'ceiling'], ['edge relay (workerd)', `${edge.url}?cluster=relayonly`, 'ceiling']]) {
    const r = await relayCeiling(url, cluster, 4000, 64);
    ceiling.push(`| ${label} | ${Math.round(r.perSec).toLocaleString('en')} | ${Math.round(4 * r.perSec).toLocaleString('en')} | ${r.failed} |`);
  }
  console.log('\n3 Node.js replicas, memory storage, 4,000 gets (R=2) of 1 KB values, 64 in flight:\n');
  console.log('| relay | gets/s | relay frames/s | failed |\n| --- | ---: | ---: | ---: |');
  console.log(ceiling.join('\n'));
  console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const complaints = edge.output().split('\n').filter((l) => /error|overload|exceed/i.test(l));
  if (complaints.length) console.log(`\nthe edge runtime reported:\n${complaints.slice(0, 20).join('\n')}`);
  const s = results[2].status?.stats;
  if (s) console.log(`\nedge node after the run: ${s.keysHeld} keys held, ${s.persistBatches} persist batches, ${s.messagesIn} messages in`);
} finally {
  await edge.stop();
  await native.stop();
  state.remove();
}
