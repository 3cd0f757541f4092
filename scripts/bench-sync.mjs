// The sync benchmark of issue 14 (not a timed test): ringlet against Yjs + y-websocket on the
// same machine, in one run, interleaved (for each trial and workload: ringlet, then Yjs).
//
//   bash scripts/build-wasm.sh && cargo build --release --bin ringlet-relay
//   npm run bench:sync            (node scripts/bench-sync.mjs)
//
// Three replicas behind one relay (ringlet: target/release/ringlet-relay; Yjs: the
// @y/websocket-server bin, also a process of its own), keys of 100-byte values:
//   W1   KEYS single puts at A (all issued at once, as Yjs sends one update per map.set) until
//        B and C hold every value
//   W1b  the same KEYS entries as one batch (ringlet: putMany; Yjs: one transaction)
//   W2   KEYS keys held everywhere; C offline while A changes 100 of them, C reconnects: time
//        and C's bytes from reconnect until C holds all 100 new values
//   W3   A and B offline (each cut from everyone), each writes the same 1,000 keys (ringlet:
//        w: 1), both reconnect: time until A, B and C agree; values kept of the 2,000 written
//        (ringlet keeps both as siblings; Yjs, last writer wins, keeps one per key)
//
// Bytes: each replica reaches the relay/server through its own TCP proxy (in a child process,
// so counting costs the replicas nothing), which counts every byte both ways, WebSocket framing
// and background traffic (gossip, anti-entropy, awareness) included. "payload" is the values'
// bytes (100 per key written; W2: the 100 changed values; W3: the 2,000 values written).
// Every value is read back through the public API (ringlet: get(key, { local: true }) at the
// replica that must hold it; Yjs: map.get) before a trial counts; a trial whose read-back does
// not match within RINGLET_BENCH_TIMEOUT_MS is reported as failed and not counted.
//
// Environment: RINGLET_BENCH_TRIALS (3), RINGLET_BENCH_KEYS (10000), RINGLET_BENCH_W3_KEYS (1000),
// RINGLET_BENCH_W2_KEYS (100), RINGLET_BENCH_TIMEOUT_MS (120000), RINGLET_BENCH_ONLY
// (e.g. "W1,W3"), RINGLET_BENCH_RELAY_ARGS (extra relay flags, e.g. "--rate 1000000 --burst
// 1000000"; printed with the results when set).
import { fork, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const SELF = fileURLToPath(import.meta.url);

// ---- the proxy process: `node bench-sync.mjs --proxy` --------------------------------------
if (process.argv.includes('--proxy')) {
  const proxies = new Map(); // id -> { server, bytes, sockets }
  process.on('message', (m) => {
    if (m.op === 'open') {
      const p = { bytes: 0, sockets: new Set() };
      p.server = net.createServer((client) => {
        const upstream = net.connect({ host: '127.0.0.1', port: m.target });
        client.setNoDelay(true);
        upstream.setNoDelay(true);
        p.sockets.add(client);
        p.sockets.add(upstream);
        const pipe = (from, to) => {
          from.on('data', (d) => {
            p.bytes += d.length;
            if (!to.write(d)) {
              from.pause();
              to.once('drain', () => from.resume());
            }
          });
          from.on('end', () => to.end());
          from.on('error', () => to.destroy());
          from.on('close', () => { p.sockets.delete(from); to.destroy(); });
        };
        pipe(client, upstream);
        pipe(upstream, client);
      });
      p.server.listen(0, '127.0.0.1', () => {
        proxies.set(m.id, p);
        process.send({ op: 'opened', id: m.id, port: p.server.address().port });
      });
    } else if (m.op === 'read') {
      process.send({ op: 'count', id: m.id, bytes: proxies.get(m.id)?.bytes ?? 0 });
    } else if (m.op === 'close') {
      const p = proxies.get(m.id);
      if (p) {
        p.server.close();
        for (const s of p.sockets) s.destroy();
        proxies.delete(m.id);
      }
      process.send({ op: 'closed', id: m.id });
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const { startRelay, waitFor, freePort, converged, ROOT, sleep } = await import('../tests/js/support.mjs');
  const { Replica } = await import('ringlet');
  const Y = await import('yjs');
  const { WebsocketProvider } = await import('y-websocket');
  const { default: WebSocket } = await import('ws');

  const env = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt);
  const TRIALS = env('RINGLET_BENCH_TRIALS', 3);
  const KEYS = env('RINGLET_BENCH_KEYS', 10_000);
  const W2_KEYS = Math.min(KEYS, env('RINGLET_BENCH_W2_KEYS', 100));
  const W3_KEYS = env('RINGLET_BENCH_W3_KEYS', 1_000);
  const TIMEOUT = env('RINGLET_BENCH_TIMEOUT_MS', 120_000);
  const ONLY = (process.env.RINGLET_BENCH_ONLY || 'W1,W1b,W2,W3').split(',').map((s) => s.trim());
  const RELAY_ARGS = (process.env.RINGLET_BENCH_RELAY_ARGS || '').split(/\s+/).filter(Boolean);
  const VALUE_BYTES = 100;

  // ---- the proxies --------------------------------------------------------------------------
  const proxyProc = fork(SELF, ['--proxy'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let nextId = 0;
  proxyProc.on('message', (m) => {
    const w = waiting.get(`${m.op}:${m.id}`);
    if (w) { waiting.delete(`${m.op}:${m.id}`); w(m); }
  });
  const ask = (msg, reply) => new Promise((resolve) => {
    waiting.set(`${reply}:${msg.id}`, resolve);
    proxyProc.send(msg);
  });
  /** A counting proxy to `target`: { port, bytes() (cumulative, both ways), close() }. */
  async function proxy(target) {
    const id = nextId++;
    const { port } = await ask({ op: 'open', id, target }, 'opened');
    return {
      port,
      bytes: async () => (await ask({ op: 'read', id }, 'count')).bytes,
      close: () => ask({ op: 'close', id }, 'closed'),
    };
  }
  const totalBytes = async (proxies) => (await Promise.all(proxies.map((p) => p.bytes()))).reduce((a, b) => a + b, 0);

  // ---- values ---------------------------------------------------------------------------------
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  /** A random 100-character ASCII string (100 bytes): a fresh value. */
  const value = () => {
    const b = randomBytes(VALUE_BYTES);
    let s = '';
    for (let i = 0; i < VALUE_BYTES; i++) s += B64[b[i] & 63];
    return s;
  };
  const keyName = (prefix, i) => `${prefix}/${String(i).padStart(5, '0')}`;
  const entries = (prefix, n) => Array.from({ length: n }, (_, i) => [keyName(prefix, i), value()]);

  /**
   * Wait until `holds(key)` (async) is true for every key of `keys`. A key is checked again when
   * `subscribe(onKey)` reports it changed, and every key still missing every second (in case
   * an event was missed). Resolves with the time it was done (performance.now()); rejects
   * after TIMEOUT naming how many keys are missing.
   */
  function waitHolds(keys, holds, subscribe, what) {
    return new Promise((resolve, reject) => {
      const pending = new Set(keys);
      const dirty = new Set();
      let running = false;
      let done = false;
      let unsubscribe = () => {};
      const finish = (err) => {
        if (done) return;
        done = true;
        clearInterval(sweep);
        clearTimeout(timer);
        unsubscribe();
        if (err) reject(err); else resolve(performance.now());
      };
      const run = async () => {
        if (running || done) return;
        running = true;
        try {
          while (dirty.size > 0 && !done) {
            const batch = [...dirty];
            dirty.clear();
            for (const k of batch) {
              if (pending.has(k) && (await holds(k))) pending.delete(k);
            }
            if (pending.size === 0) { finish(); return; }
          }
        } catch (e) {
          finish(e);
        } finally {
          running = false;
        }
      };
      unsubscribe = subscribe((k) => {
        if (pending.has(k)) { dirty.add(k); setImmediate(run); }
      });
      const sweep = setInterval(() => { for (const k of pending) dirty.add(k); run(); }, 1000);
      const timer = setTimeout(() => finish(new Error(`${what}: ${pending.size} of ${keys.length} keys still missing after ${TIMEOUT} ms`)), TIMEOUT);
      for (const k of pending) dirty.add(k);
      run();
    });
  }

  // ---- ringlet ----------------------------------------------------------------------------------
  const relayPort = await freePort();
  const relay = await startRelay(relayPort, { args: RELAY_ARGS });
  let clusterSeq = 0;

  async function ringletCluster() {
    const cluster = `bench-sync-${process.pid}-${clusterSeq++}`;
    const proxies = [];
    const rs = [];
    for (const name of ['a', 'b', 'c']) {
      const p = await proxy(relayPort);
      proxies.push(p);
      rs.push(await Replica.open({ cluster, relay: `ws://127.0.0.1:${p.port}/ws`, storage: 'memory', name, webrtc: false }));
    }
    await waitFor(() => converged(rs, ['a', 'b', 'c']), 120_000, 'the ringlet ring');
    return {
      rs,
      proxies,
      async close() {
        await Promise.all(rs.map((r) => r.close()));
        await Promise.all(proxies.map((p) => p.close()));
      },
    };
  }
  const localValues = (r, k) => r.get(k, { local: true }).then((g) => g.values, (e) => {
    if (e?.code === 'NOT_HELD') return [];
    throw e;
  });
  const ringletHolds = (r, expected) => async (k) => {
    const got = await localValues(r, k);
    const want = expected.get(k);
    return Array.isArray(want)
      ? got.length === want.length && [...got].sort().join('\n') === [...want].sort().join('\n')
      : got.length === 1 && got[0] === want;
  };
  const ringletChanges = (r) => (onKey) => {
    const fn = (e) => onKey(e.key);
    r.on('change', fn);
    return () => r.off('change', fn);
  };
  const countErrors = (results) => results.filter((x) => x && x.error).length;
  /** "N puts failed (CODE: message)" naming the first failure, or ''. */
  const failedNote = (results, what) => {
    const failed = results.filter((x) => x && x.error);
    if (!failed.length) return '';
    const e = failed[0].error;
    return `${failed.length} ${what} failed (first: ${e?.code ?? ''}: ${String(e?.message ?? e).slice(0, 80)})`;
  };

  const ringlet = {
    async W1(batch) {
      const cl = await ringletCluster();
      try {
        const [a, b, c] = cl.rs;
        const data = entries(batch ? 'w1b' : 'w1', KEYS);
        const expected = new Map(data);
        const keys = data.map(([k]) => k);
        const b0 = await totalBytes(cl.proxies);
        const t0 = performance.now();
        const heldB = waitHolds(keys, ringletHolds(b, expected), ringletChanges(b), 'B');
        const heldC = waitHolds(keys, ringletHolds(c, expected), ringletChanges(c), 'C');
        const res = batch
          ? await a.putMany(data)
          : await Promise.all(data.map(([k, v]) => a.put(k, v).then(() => null, (e) => ({ error: e }))));
        const tAcked = performance.now();
        const t1 = Math.max(await heldB, await heldC, tAcked);
        const bytes = (await totalBytes(cl.proxies)) - b0;
        return { ms: t1 - t0, bytes, payload: KEYS * VALUE_BYTES, note: failedNote(res, 'puts') };
      } finally {
        await cl.close();
      }
    },
    async W2() {
      const cl = await ringletCluster();
      try {
        const [a, , c] = cl.rs;
        const data = entries('w2', KEYS);
        const expected = new Map(data);
        const keys = data.map(([k]) => k);
        const held = waitHolds(keys, ringletHolds(c, expected), ringletChanges(c), 'C (preload)');
        const preloadErrors = countErrors(await a.putMany(data));
        await held;
        c.disconnect();
        const changed = data.slice(0, W2_KEYS).map(([k]) => [k, value()]);
        for (const [k, v] of changed) expected.set(k, v);
        // A change, as an app makes one: read, then write with the read's context (a blind
        // put would stand beside the old value as a sibling).
        const res = await Promise.all(changed.map(async ([k, v]) => {
          try {
            const { context } = await a.get(k);
            await a.put(k, v, { context });
            return null;
          } catch (e) {
            return { error: e };
          }
        }));
        const errors = countErrors(res);
        const cp = cl.proxies[2];
        const b0 = await cp.bytes();
        const t0 = performance.now();
        const heldC = waitHolds(changed.map(([k]) => k), ringletHolds(c, expected), ringletChanges(c), 'C');
        await c.connect();
        const t1 = await heldC;
        const bytes = (await cp.bytes()) - b0;
        const notes = [];
        if (preloadErrors) notes.push(`${preloadErrors} preload puts failed`);
        if (errors) notes.push(failedNote(res, `of ${W2_KEYS} puts at A`));
        return { ms: t1 - t0, bytes, payload: W2_KEYS * VALUE_BYTES, note: notes.join('; ') };
      } finally {
        await cl.close();
      }
    },
    async W3() {
      const cl = await ringletCluster();
      try {
        const [a, b, c] = cl.rs;
        a.disconnect();
        b.disconnect();
        const da = entries('w3', W3_KEYS);
        const db = da.map(([k]) => [k, value()]);
        const expected = new Map(da.map(([k, v], i) => [k, [v, db[i][1]]]));
        const keys = da.map(([k]) => k);
        const ea = countErrors(await a.putMany(da.map(([key, v]) => ({ key, value: v, w: 1 }))));
        const eb = countErrors(await b.putMany(db.map(([key, v]) => ({ key, value: v, w: 1 }))));
        const b0 = await totalBytes(cl.proxies);
        const t0 = performance.now();
        const held = cl.rs.map((r, i) => waitHolds(keys, ringletHolds(r, expected), ringletChanges(r), 'ABC'[i]));
        await Promise.all([a.connect(), b.connect()]);
        const t1 = Math.max(...(await Promise.all(held)));
        const bytes = (await totalBytes(cl.proxies)) - b0;
        // Values kept: what C holds (read back above at every replica), of the 2 × W3_KEYS
        // written; and what a quorum read (getMany, R=2) at C returns.
        let kept = 0;
        for (const k of keys) kept += (await localValues(c, k)).filter((v) => expected.get(k).includes(v)).length;
        const got = await c.getMany(keys);
        let quorumKept = 0;
        let quorumErrors = 0;
        for (const g of got) {
          if (g.error) quorumErrors += 1;
          else quorumKept += g.values.filter((v) => expected.get(g.key).includes(v)).length;
        }
        const notes = [];
        if (ea + eb) notes.push(`${ea + eb} offline puts failed`);
        if (quorumKept !== kept || quorumErrors) notes.push(`a quorum getMany at C afterwards returned ${quorumKept} values (${quorumErrors} gets failed)`);
        return { ms: t1 - t0, bytes, payload: 2 * W3_KEYS * VALUE_BYTES, kept, note: notes.join('; ') };
      } finally {
        await cl.close();
      }
    },
  };

  // ---- Yjs + y-websocket ------------------------------------------------------------------------
  const yPort = await freePort();
  const yEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(yPort) };
  delete yEnv.YPERSISTENCE; // in memory, as the relay keeps nothing (any string there means LevelDB)
  const yServer = spawn(process.execPath, [path.join(ROOT, 'node_modules', '@y', 'websocket-server', 'src', 'server.js')], {
    env: yEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let yOut = '';
  yServer.stdout.on('data', (d) => { yOut += d; });
  yServer.stderr.on('data', (d) => { yOut += d; });
  await waitFor(() => yOut.includes('running at'), 30_000, 'the y-websocket server');
  let roomSeq = 0;

  async function yjsCluster() {
    const room = `bench-sync-${process.pid}-${roomSeq++}`;
    const proxies = [];
    const peers = [];
    for (let i = 0; i < 3; i++) {
      const p = await proxy(yPort);
      proxies.push(p);
      const doc = new Y.Doc();
      // disableBc: Node.js has a BroadcastChannel, which would sync the docs of this process
      // without the server.
      const provider = new WebsocketProvider(`ws://127.0.0.1:${p.port}`, room, doc, { WebSocketPolyfill: WebSocket, disableBc: true });
      peers.push({ doc, map: doc.getMap('kv'), provider });
    }
    await waitFor(() => peers.every((p) => p.provider.synced), 60_000, 'the y-websocket providers to sync');
    return {
      peers,
      proxies,
      async close() {
        for (const p of peers) { p.provider.destroy(); p.doc.destroy(); }
        await Promise.all(proxies.map((p) => p.close()));
      },
    };
  }
  const yjsHolds = (peer, expected) => async (k) => {
    const want = expected.get(k);
    const got = peer.map.get(k);
    return typeof want === 'function' ? want(got) : got === want;
  };
  const yjsChanges = (peer) => (onKey) => {
    const fn = (event) => { for (const k of event.keysChanged) onKey(k); };
    peer.map.observe(fn);
    return () => peer.map.unobserve(fn);
  };
  const whenSynced = (provider) => (provider.synced ? Promise.resolve() : new Promise((r) => {
    const fn = (s) => { if (s) { provider.off('sync', fn); r(); } };
    provider.on('sync', fn);
  }));

  const yjs = {
    async W1(batch) {
      const cl = await yjsCluster();
      try {
        const [a, b, c] = cl.peers;
        const data = entries(batch ? 'w1b' : 'w1', KEYS);
        const expected = new Map(data);
        const keys = data.map(([k]) => k);
        const b0 = await totalBytes(cl.proxies);
        const t0 = performance.now();
        const heldB = waitHolds(keys, yjsHolds(b, expected), yjsChanges(b), 'B');
        const heldC = waitHolds(keys, yjsHolds(c, expected), yjsChanges(c), 'C');
        if (batch) a.doc.transact(() => { for (const [k, v] of data) a.map.set(k, v); });
        else for (const [k, v] of data) a.map.set(k, v);
        const t1 = Math.max(await heldB, await heldC);
        const bytes = (await totalBytes(cl.proxies)) - b0;
        return { ms: t1 - t0, bytes, payload: KEYS * VALUE_BYTES, note: '' };
      } finally {
        await cl.close();
      }
    },
    async W2() {
      const cl = await yjsCluster();
      try {
        const [a, , c] = cl.peers;
        const data = entries('w2', KEYS);
        const expected = new Map(data);
        const keys = data.map(([k]) => k);
        const held = waitHolds(keys, yjsHolds(c, expected), yjsChanges(c), 'C (preload)');
        a.doc.transact(() => { for (const [k, v] of data) a.map.set(k, v); });
        await held;
        c.provider.disconnect();
        // A's 100 changes, one update each (as 100 single puts), and the server has them.
        const changed = data.slice(0, W2_KEYS).map(([k]) => [k, value()]);
        for (const [k, v] of changed) expected.set(k, v);
        for (const [k, v] of changed) a.map.set(k, v);
        const probe = new Y.Doc(); // a 4th client that confirms the server holds A's changes
        const pp = new WebsocketProvider(`ws://127.0.0.1:${yPort}`, cl.peers[0].provider.roomname, probe, { WebSocketPolyfill: WebSocket, disableBc: true });
        await waitHolds(changed.map(([k]) => k), yjsHolds({ map: probe.getMap('kv') }, expected), yjsChanges({ map: probe.getMap('kv') }), 'the server');
        pp.destroy();
        probe.destroy();
        const cp = cl.proxies[2];
        const b0 = await cp.bytes();
        const t0 = performance.now();
        const heldC = waitHolds(changed.map(([k]) => k), yjsHolds(c, expected), yjsChanges(c), 'C');
        c.provider.connect();
        const t1 = await heldC;
        const bytes = (await cp.bytes()) - b0;
        return { ms: t1 - t0, bytes, payload: W2_KEYS * VALUE_BYTES, note: '' };
      } finally {
        await cl.close();
      }
    },
    async W3() {
      const cl = await yjsCluster();
      try {
        const [a, b, c] = cl.peers;
        a.provider.disconnect();
        b.provider.disconnect();
        const da = entries('w3', W3_KEYS);
        const db = da.map(([k]) => [k, value()]);
        const written = new Map(da.map(([k, v], i) => [k, [v, db[i][1]]]));
        const keys = da.map(([k]) => k);
        for (const [k, v] of da) a.map.set(k, v);
        for (const [k, v] of db) b.map.set(k, v);
        const b0 = await totalBytes(cl.proxies);
        const t0 = performance.now();
        a.provider.connect();
        b.provider.connect();
        // Converged: A, B and C hold the same value of each key, one of the two written.
        const agree = (peer) => async (k) => {
          const v = peer.map.get(k);
          return written.get(k).includes(v) && a.map.get(k) === v && b.map.get(k) === v && c.map.get(k) === v;
        };
        // A change at any of the three may complete a key: each one re-checks it.
        const anyChange = (onKey) => {
          const offs = cl.peers.map((p) => yjsChanges(p)(onKey));
          return () => offs.forEach((off) => off());
        };
        const t1 = await waitHolds(keys, agree(a), anyChange, 'A, B and C to agree');
        await Promise.all([whenSynced(a.provider), whenSynced(b.provider)]);
        const bytes = (await totalBytes(cl.proxies)) - b0;
        let kept = 0;
        for (const k of keys) if (written.get(k).includes(c.map.get(k))) kept += 1;
        return { ms: t1 - t0, bytes, payload: 2 * W3_KEYS * VALUE_BYTES, kept, note: '' };
      } finally {
        await cl.close();
      }
    },
  };

  // ---- the run ------------------------------------------------------------------------------------
  const WORKLOADS = [
    ['W1', (s) => s.W1(false)],
    ['W1b', (s) => s.W1(true)],
    ['W2', (s) => s.W2()],
    ['W3', (s) => s.W3()],
  ].filter(([w]) => ONLY.includes(w));
  const results = {}; // `${system}/${workload}` -> [result]
  const failures = [];
  const started = Date.now();
  try {
    for (let trial = 1; trial <= TRIALS; trial++) {
      for (const [w, run] of WORKLOADS) {
        for (const [name, sys] of [['ringlet', ringlet], ['Yjs', yjs]]) {
          let r;
          try {
            r = await run(sys);
          } catch (e) {
            failures.push(`${name} ${w} trial ${trial}: ${e.message}`);
            console.error(`${name} ${w} trial ${trial}: FAILED (not counted): ${e.message}`);
            continue;
          }
          (results[`${name}/${w}`] ??= []).push(r);
          console.error(`${name} ${w} trial ${trial}: ${r.ms.toFixed(1)} ms, ${r.bytes} bytes (${(r.bytes / r.payload).toFixed(2)}x payload)` +
            `${r.kept !== undefined ? `, ${r.kept} values kept` : ''}${r.note ? `, ${r.note}` : ''}`);
          await sleep(200);
        }
      }
    }
  } finally {
    await relay.stop();
    yServer.kill('SIGTERM');
    proxyProc.disconnect();
  }

  // ---- the table ------------------------------------------------------------------------------------
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
  const summary = (name, w) => {
    const rs = results[`${name}/${w}`];
    if (!rs?.length) return null;
    return {
      n: rs.length,
      ms: median(rs.map((r) => r.ms)),
      x: median(rs.map((r) => r.bytes / r.payload)),
      kept: rs[0].kept !== undefined ? median(rs.map((r) => r.kept)) : undefined,
      notes: [...new Set(rs.map((r) => r.note).filter(Boolean))],
    };
  };
  const DESC = {
    W1: `W1: ${KEYS.toLocaleString('en')} single puts at A until B and C hold them`,
    W1b: `W1b: the same ${KEYS.toLocaleString('en')} as one batch`,
    W2: `W2: C offline while A changes ${W2_KEYS} keys, C reconnects`,
    W3: `W3: A and B cut off, each writes the same ${W3_KEYS.toLocaleString('en')} keys, heal`,
  };
  const cell = (s, w) => {
    if (!s) return 'no trial passed';
    let t = `${fmtMs(s.ms)}, ${s.x.toFixed(2)}x payload`;
    if (w === 'W3') t += `, keeps ${s.kept.toLocaleString('en')} of ${(2 * W3_KEYS).toLocaleString('en')} values`;
    if (s.n < TRIALS) t += ` (${s.n} of ${TRIALS} trials)`;
    return t;
  };
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || cpus()[0]?.model || 'unknown CPU';
  const yv = (p) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', ...p.split('/'), 'package.json'), 'utf8')).version;
  console.log(`\n\`npm run bench:sync\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${cpus().length} cores (${cpu}), Node.js ${process.version}; ` +
    `yjs ${yv('yjs')}, y-websocket ${yv('y-websocket')}, @y/websocket-server ${yv('@y/websocket-server')}; ` +
    `median of ${TRIALS} trials, interleaved; ${VALUE_BYTES}-byte values; bytes both ways through a TCP proxy per replica, framing included` +
    `${RELAY_ARGS.length ? `; ringlet-relay run with \`${RELAY_ARGS.join(' ')}\` (not its defaults)` : '; ringlet-relay with its default flags'}\n`);
  console.log('| workload | Yjs | ringlet | ringlet / Yjs (time, bytes) |\n| --- | --- | --- | --- |');
  for (const [w] of WORKLOADS) {
    const r = summary('ringlet', w);
    const y = summary('Yjs', w);
    const ratio = r && y ? `${(r.ms / y.ms).toFixed(2)}x, ${(r.x / y.x).toFixed(2)}x` : '-';
    console.log(`| ${DESC[w]} | ${cell(y, w)} | ${cell(r, w)} | ${ratio} |`);
  }
  const notes = ['ringlet', 'Yjs'].flatMap((n) => WORKLOADS.flatMap(([w]) => (summary(n, w)?.notes ?? []).map((x) => `${n} ${w}: ${x}`)));
  if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  if (failures.length) console.log(`\ntrials that failed verification (not counted):\n${failures.map((f) => `- ${f}`).join('\n')}`);
  const goals = [];
  const g = (w) => [summary('ringlet', w), summary('Yjs', w)];
  const mark = (ok) => (ok ? 'met' : 'MISSED');
  if (ONLY.includes('W1')) { const [r, y] = g('W1'); if (r && y) goals.push(`W1 <= 1.0x time: ${mark(r.ms <= y.ms)} (${(r.ms / y.ms).toFixed(2)}x); <= 4.0x payload: ${mark(r.x <= 4)} (${r.x.toFixed(2)}x)`); }
  if (ONLY.includes('W1b')) { const [r, y] = g('W1b'); if (r && y) goals.push(`W1b <= 1.5x time: ${mark(r.ms <= 1.5 * y.ms)} (${(r.ms / y.ms).toFixed(2)}x)`); }
  if (ONLY.includes('W2')) { const [r, y] = g('W2'); if (r && y) goals.push(`W2 <= 100 ms: ${mark(r.ms <= 100)} (${fmtMs(r.ms)}); <= 1.5x Yjs's bytes: ${mark(r.x <= 1.5 * y.x)} (${(r.x / y.x).toFixed(2)}x)`); }
  if (ONLY.includes('W3')) { const [r] = g('W3'); if (r) goals.push(`W3 <= 1 s: ${mark(r.ms <= 1000)} (${fmtMs(r.ms)}); ${2 * W3_KEYS} of ${2 * W3_KEYS} kept: ${mark(r.kept === 2 * W3_KEYS)} (${r.kept})`); }
  if (goals.length) console.log(`\ngoals (issue 14):\n${goals.map((x) => `- ${x}`).join('\n')}`);
  console.log(`\nrun time ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  process.exit(0);
}
