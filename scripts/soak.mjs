#!/usr/bin/env node
// The churn soak: browser tabs (IndexedDB) and one Node.js node under a write workload,
// with a random tab killed or reloaded every few seconds. At the end every acknowledged
// write must be readable, and JS heap and wasm memory are reported over time.
//
//   node scripts/soak.mjs [--seconds 1800] [--tabs 8] [--churn-ms 4000] [--keys 64] [--port 8097]
//
// `npm test` runs a short version (tests/e2e/soak_short.test.mjs). Each writer owns its keys
// and writes them read-modify-write (get, then put with the context) with increasing
// sequence numbers, so the check is exact: for every key, the last acknowledged sequence
// number is still there at the end, unless a later attempt (acknowledged or not) superseded
// it; no value that was never written ever appears.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { startRelay, waitFor, sleep, ROOT } from '../tests/js/support.mjs';

const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows', '--disable-dev-shm-usage', '--enable-precise-memory-info',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
const MB = 1024 * 1024;

/** A small seeded generator (mulberry32), so a soak's choices replay for a given seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The Node.js node: `js/replica-cli.js` in its own process (so its memory is its own),
 * driven one command at a time over standard input.
 */
function startNodeReplica(args) {
  const child = spawn(process.execPath, [path.join(ROOT, 'js', 'replica-cli.js'), ...args], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  let chain = Promise.resolve();
  const ready = new Promise((resolve) => waiting.push(resolve));
  const command = (line) => {
    const answer = chain.then(() => new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${line}\n`);
    }));
    chain = answer.catch(() => {});
    return answer.then((a) => {
      if (a.error) throw Object.assign(new Error(a.message), { code: a.error });
      return a.ok;
    });
  };
  return {
    ready,
    update: (key, value) => command(`update ${key} ${JSON.stringify(value)}`),
    get: (key) => command(`get ${key}`),
    stats: () => command('stats'),
    memory: () => command('memory'),
    close() {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * Run the soak; resolves with a report. Throws nothing for failed requests (churn makes
 * some fail, and they were not acknowledged); `report.violations` lists lost writes.
 */
export async function soak({
  seconds = 1800, tabs: tabCount = 8, churnMs = 4000, keys = 64, port = 8107, seed = 1,
  sampleMs, log = console.log,
  // Work-bounded runs (the short soak in npm test): after `seconds`, go on until at least
  // `minChurns` tabs were killed or reloaded and `minAcked` writes acknowledged, however busy
  // the machine is; `maxSeconds` bounds the whole run.
  minChurns = 0, minAcked = 0, maxSeconds = Infinity,
} = {}) {
  const random = rng(seed);
  const cluster = `soak-${seed}`;
  const common = { cluster, n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
  const profile = mkdtempSync(path.join(tmpdir(), 'ringlet-soak-'));
  const relay = await startRelay(port, { www: path.join(ROOT, 'tests', 'e2e', 'www') });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS,
  });
  const names = Array.from({ length: tabCount }, (_, i) => `soak${i + 1}`);
  const pages = new Map(); // name -> page, only while the tab is up and its replica open
  const state = new Map(); // key -> { writer, attempted, acked }
  const counts = { attempted: 0, acked: 0, failed: 0, kills: 0, reloads: 0, reopenRetries: 0 };
  const failures = new Map(); // error code -> count
  const samples = [];
  let node;
  let stopping = false;

  async function openReplica(page, name) {
    for (let attempt = 0; ; attempt++) {
      try {
        await page.evaluate(async (opts) => {
          window.replica = await window.Replica.open(opts);
        }, { ...common, relay: relay.url, name, storage: 'indexeddb' });
        return;
      } catch (e) {
        // The killed tab's connection may still be registered at the relay for a moment.
        if (attempt >= 50 || !/NODE_ID_IN_USE|RELAY_FAILED/.test(String(e.message))) throw e;
        counts.reopenRetries++;
        await sleep(200);
      }
    }
  }

  async function openTab(name) {
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`[${name}] page error: ${e.message}`));
    await page.goto(`${relay.http}/index.html`);
    await page.waitForFunction(() => window.ringletLoaded === true);
    await openReplica(page, name);
    pages.set(name, page);
  }

  const writers = [...names, 'node'];
  for (const w of writers) {
    for (let k = 0; k < keys; k++) state.set(`soak/${w}/${k}`, { writer: w, attempted: 0, acked: 0 });
  }

  /** One read-modify-write of `key` by `writer`; true when the put was acknowledged. */
  async function write(writer, key) {
    const s = state.get(key);
    const seq = ++s.attempted;
    counts.attempted++;
    const value = { w: writer, seq, pad: 'x'.repeat(64 + (seq % 7) * 32) };
    try {
      if (writer === 'node') {
        await node.update(key, value);
      } else {
        const page = pages.get(writer);
        if (!page) return false;
        await page.evaluate(async ([k, v]) => {
          const got = await window.replica.get(k);
          await window.replica.put(k, v, { context: got.context });
        }, [key, value]);
      }
      s.acked = seq;
      counts.acked++;
      return true;
    } catch (e) {
      counts.failed++;
      const code = e?.code ?? (/(QUORUM_FAILED|TIMEOUT|CLOSED|NOT_READY)/.exec(String(e?.message))?.[1] ?? 'PAGE_GONE');
      failures.set(code, (failures.get(code) ?? 0) + 1);
      return false;
    }
  }

  async function writerLoop(writer) {
    let k = 0;
    while (!stopping) {
      if (writer !== 'node' && !pages.has(writer)) {
        await sleep(100);
        continue;
      }
      await write(writer, `soak/${writer}/${k}`);
      k = (k + 1) % keys;
    }
  }

  /** Kill (close) or reload one random live tab; at most two tabs are down at once. */
  async function churnLoop() {
    const down = new Set();
    while (!stopping) {
      await sleep(churnMs);
      if (stopping) break;
      const up = names.filter((n) => pages.has(n) && !down.has(n));
      if (up.length <= tabCount - 2) continue;
      const name = up[Math.floor(random() * up.length)];
      const page = pages.get(name);
      pages.delete(name);
      down.add(name);
      if (random() < 0.5) {
        counts.kills++;
        await page.close().catch(() => {});
        const away = 1000 + Math.floor(random() * 2000);
        setTimeout(() => {
          openTab(name).catch((e) => log(`reopen ${name} failed: ${e.message}`)).finally(() => down.delete(name));
        }, away);
      } else {
        counts.reloads++;
        try {
          await page.reload();
          await page.waitForFunction(() => window.ringletLoaded === true);
          await openReplica(page, name);
          pages.set(name, page);
        } catch (e) {
          log(`reload ${name} failed: ${e.message}`);
        }
        down.delete(name);
      }
    }
    await waitFor(() => down.size === 0, 30_000, 'reopened tabs');
  }

  async function sample(t0) {
    const tabs = [];
    for (const [name, page] of [...pages]) {
      try {
        tabs.push(await page.evaluate(() => ({
          heap: performance.memory?.usedJSHeapSize ?? 0,
          wasm: window.replica.stats().wasmMemoryBytes,
        })));
      } catch { /* the tab went down meanwhile */ }
      void name;
    }
    const m = await node.memory();
    samples.push({
      t: Math.round((Date.now() - t0) / 1000),
      nodeHeap: m.heapUsed,
      nodeRss: m.rss,
      nodeWasm: m.wasm,
      tabHeapMax: Math.max(0, ...tabs.map((x) => x.heap)),
      tabWasmMax: Math.max(0, ...tabs.map((x) => x.wasm)),
      acked: counts.acked,
    });
  }

  try {
    node = startNodeReplica(['--relay', relay.url, '--cluster', cluster, '--name', 'node', '--storage', 'memory',
      '--n', '3', '--r', '2', '--w', '2', '--gossipIntervalMs', '250']);
    await node.ready;
    for (const n of names) await openTab(n);
    await waitFor(async () => {
      const ring = await pages.get(names[0]).evaluate(() => window.replica.ring());
      return ring && [...names, 'node'].every((id) => ring.owners.includes(id));
    }, 60_000, 'every node to own partitions');
    log(`soak: ${tabCount} tabs + 1 Node.js node, ${keys} keys per writer, churn every ${churnMs} ms, ${seconds} s`);
    const t0 = Date.now();
    const every = sampleMs ?? Math.max(2000, Math.floor((seconds * 1000) / 30));
    await sample(t0);
    const sampler = setInterval(() => { sample(t0).catch(() => {}); }, every);
    const loops = [...writers.map(writerLoop), churnLoop()];
    await sleep(seconds * 1000);
    const enough = () => counts.kills + counts.reloads >= minChurns && counts.acked >= minAcked;
    if (!enough()) {
      await waitFor(enough, Math.max(0, maxSeconds - seconds) * 1000,
        `${minChurns} kills or reloads and ${minAcked} acknowledged writes`).catch((e) => log(`soak: ${e.message}`));
    }
    stopping = true;
    await Promise.all(loops);
    clearInterval(sampler);
    await sample(t0);
    const elapsed = (Date.now() - t0) / 1000;

    // Let hinted handoff finish before reading.
    const held = async () => {
      let n = (await node.stats()).hintsHeld;
      for (const page of pages.values()) n += await page.evaluate(() => window.replica.stats().hintsHeld);
      return n;
    };
    await waitFor(async () => (await held()) === 0, 60_000, 'every hint to be delivered');

    const violations = [];
    const contextBytes = [];
    let checked = 0;
    for (const [key, s] of state) {
      if (s.attempted === 0) continue;
      const got = await node.get(key);
      const seqs = got.values.map((v) => v.seq);
      contextBytes.push(Math.floor((got.context.length * 3) / 4));
      checked++;
      if (seqs.some((q) => !Number.isInteger(q) || q < 1 || q > s.attempted)) {
        violations.push(`${key}: a value never written (${seqs}; attempted ${s.attempted})`);
      } else if (s.acked > 0 && !seqs.some((q) => q >= s.acked)) {
        violations.push(`${key}: acknowledged seq ${s.acked} lost (found ${seqs.join(',') || 'nothing'})`);
      } else if (s.acked > 0 && s.acked === s.attempted && !seqs.includes(s.acked)) {
        violations.push(`${key}: the last write (seq ${s.acked}, acknowledged) is missing (found ${seqs})`);
      }
    }
    const report = {
      seconds: Math.round(elapsed), tabs: tabCount, ...counts, keysChecked: checked,
      contextBytes: {
        mean: Math.round(contextBytes.reduce((a, b) => a + b, 0) / Math.max(1, contextBytes.length)),
        max: Math.max(0, ...contextBytes),
      },
      failures: Object.fromEntries(failures), violations, samples,
      relay: await relay.stats().catch(() => null),
    };
    printReport(report, log);
    return report;
  } finally {
    stopping = true;
    await node?.close().catch(() => {});
    await context.close().catch(() => {});
    await relay.stop();
    rmSync(profile, { recursive: true, force: true });
  }
}

function printReport(r, log) {
  log(`soak: ${r.seconds} s, ${r.attempted} writes attempted, ${r.acked} acknowledged, ${r.failed} failed`
    + ` (${Object.entries(r.failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}),`
    + ` ${r.kills} kills, ${r.reloads} reloads; ${r.keysChecked} keys checked, ${r.violations.length} violations;`
    + ` final contexts ${r.contextBytes.mean} bytes on average, ${r.contextBytes.max} at most`);
  log('   t (s)  node heap   node RSS  node wasm  max tab heap  max tab wasm  acked');
  for (const s of r.samples) {
    log(`${String(s.t).padStart(8)}  ${(s.nodeHeap / MB).toFixed(1).padStart(6)} MB  ${(s.nodeRss / MB).toFixed(1).padStart(6)} MB`
      + `  ${(s.nodeWasm / MB).toFixed(1).padStart(6)} MB`
      + `  ${(s.tabHeapMax / MB).toFixed(1).padStart(9)} MB  ${(s.tabWasmMax / MB).toFixed(1).padStart(9)} MB  ${String(s.acked).padStart(5)}`);
  }
  for (const v of r.violations.slice(0, 20)) log(`VIOLATION ${v}`);
}

/** Memory is bounded when the last third's peak is within `slack` of the middle third's peak. */
export function memoryBounded(samples, field, slack = 1.5, floor = 8 * MB) {
  const n = samples.length;
  if (n < 6) return true;
  const peak = (xs) => Math.max(...xs.map((s) => s[field]));
  const middle = peak(samples.slice(Math.floor(n / 3), Math.floor((2 * n) / 3)));
  const last = peak(samples.slice(Math.floor((2 * n) / 3)));
  return last <= Math.max(middle * slack, middle + floor);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, d) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const report = await soak({
    seconds: opt('seconds', 1800), tabs: opt('tabs', 8), churnMs: opt('churn-ms', 4000),
    keys: opt('keys', 64), port: opt('port', 8107), seed: opt('seed', 1),
  });
  const bounded = ['nodeHeap', 'nodeWasm'].every((f) => memoryBounded(report.samples, f));
  log2(`memory bounded (Node.js node heap and wasm, last third vs middle third): ${bounded}`);
  process.exit(report.violations.length === 0 && bounded ? 0 : 1);
}

function log2(s) { console.log(s); }
