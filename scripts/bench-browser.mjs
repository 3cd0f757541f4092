// The browser benchmark (not a timed test): a 3-tab cluster over the relay on loopback with
// IndexedDB storage, durable and buffered puts, gets; and IndexedDB write throughput of a
// one-node replica against a raw IndexedDB loop in the same browser run.
//
//   bash scripts/build-wasm.sh && cargo build --release --bin ringlet-relay
//   node scripts/bench-browser.mjs [--ops 400] [--concurrency 16]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startRelay, waitFor, ROOT } from '../tests/js/support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const OPS = arg('ops', 400);
const CONCURRENCY = arg('concurrency', 16);
const PORT = 8095;

const relay = await startRelay(PORT, { www: path.join(ROOT, 'tests', 'e2e', 'www') });
const profile = mkdtempSync(path.join(tmpdir(), 'ringlet-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ],
});

async function tab(opts) {
  const page = await context.newPage();
  await page.goto(`${relay.http}/index.html`);
  await page.waitForFunction(() => window.ringletLoaded === true);
  await page.evaluate(async (o) => { window.replica = await window.Replica.open(o); }, { relay: relay.url, ...opts });
  return page;
}

/** In the page: run `ops` calls of `kind`, `concurrency` at a time; latencies in ms. */
const measure = (page, kind, options, concurrency) => page.evaluate(async ([kind, options, ops, concurrency]) => {
  const value = new Uint8Array(1024);
  crypto.getRandomValues(value);
  const lat = [];
  let next = 0;
  const run = async () => {
    while (next < ops) {
      const i = next++;
      const t = performance.now();
      if (kind === 'put') await window.replica.put(`bench/${i % 200}`, value, options);
      else await window.replica.get(`bench/${i % 200}`);
      lat.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, run));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { ops: lat.length, perSec: lat.length / secs, p50: q(0.5), p99: q(0.99) };
}, [kind, options, OPS, concurrency]);

/** In the page: a raw IndexedDB loop, one transaction per 1 KB record (and in batches). */
const rawIdb = (page, batch) => page.evaluate(async ([ops, batch]) => {
  const db = await new Promise((res, rej) => {
    const r = indexedDB.open(`raw-${batch}`, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('s');
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const value = new Uint8Array(1024);
  crypto.getRandomValues(value);
  const t0 = performance.now();
  for (let i = 0; i < ops; i += batch) {
    await new Promise((res, rej) => {
      const tx = db.transaction(['s'], 'readwrite', { durability: 'strict' });
      for (let j = i; j < Math.min(ops, i + batch); j++) tx.objectStore('s').put(value, `k${j}`);
      tx.oncomplete = res;
      tx.onabort = () => rej(tx.error);
    });
  }
  const secs = (performance.now() - t0) / 1000;
  db.close();
  return { ops, perSec: ops / secs };
}, [OPS, batch]);

const rows = [];
const row = (what, r) => {
  rows.push(`| ${what} | ${Math.round(r.perSec).toLocaleString('en')} | ${r.p50 === undefined ? '' : r.p50.toFixed(1)} | ${r.p99 === undefined ? '' : r.p99.toFixed(1)} |`);
};

try {
  const common = { cluster: 'bench', storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
  const pages = [];
  for (const name of ['b1', 'b2', 'b3']) pages.push(await tab({ ...common, name }));
  await waitFor(async () => {
    const rings = await Promise.all(pages.map((p) => p.evaluate(() => window.replica.ring())));
    return rings.every((r) => r && new Set(r.owners).size === 3 && r.epoch === rings[0].epoch);
  }, 30_000, 'the 3 tabs to converge');
  const [p1] = pages;
  // Main-thread tasks over 50 ms in the coordinating tab (the page must stay responsive).
  await p1.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration)))
      .observe({ type: 'longtask', buffered: false });
  });
  await measure(p1, 'put', {}, 4); // warm up
  row('3 tabs, put, durable, 1 at a time', await measure(p1, 'put', {}, 1));
  row(`3 tabs, put, durable, ${CONCURRENCY} in flight`, await measure(p1, 'put', {}, CONCURRENCY));
  row('3 tabs, put, buffered (`durable: false`), 1 at a time', await measure(p1, 'put', { durable: false }, 1));
  row(`3 tabs, put, buffered, ${CONCURRENCY} in flight`, await measure(p1, 'put', { durable: false }, CONCURRENCY));
  row('3 tabs, get (R=2), 1 at a time', await measure(p1, 'get', {}, 1));
  row(`3 tabs, get (R=2), ${CONCURRENCY} in flight`, await measure(p1, 'get', {}, CONCURRENCY));
  const long = await p1.evaluate(() => window.longTasks);
  const longest = long.length ? Math.max(...long).toFixed(0) : 0;
  for (const p of pages) await p.evaluate(() => window.replica.close());

  const solo = await tab({ cluster: 'bench-solo', storage: 'indexeddb', name: 'solo', n: 1, r: 1, w: 1 });
  row('1 node (N=R=W=1): durable put, 1 at a time', await measure(solo, 'put', {}, 1));
  row(`1 node (N=R=W=1): durable put, ${CONCURRENCY} in flight`, await measure(solo, 'put', {}, CONCURRENCY));
  row('raw IndexedDB loop: one transaction per 1 KB record', await rawIdb(solo, 1));
  row(`raw IndexedDB loop: ${CONCURRENCY} records per transaction`, await rawIdb(solo, CONCURRENCY));
  await solo.evaluate(() => window.replica.close());

  const version = context.browser()?.version() ?? 'chromium';
  console.log(`\n${OPS} operations each, 1 KB values, ${cpus().length} cores, ${version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| what | ops/s | p50 ms | p99 ms |\n| --- | --- | --- | --- |');
  console.log(rows.join('\n'));
  console.log(`\nmain-thread tasks over 50 ms in the coordinating tab during the cluster runs: ${long.length} (longest ${longest} ms)`);
} finally {
  await context.close();
  await relay.stop();
  rmSync(profile, { recursive: true, force: true });
}
