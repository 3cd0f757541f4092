// The built package, imported the way users do, running Node.js replicas against a real
// ringlet-relay on 127.0.0.1:8091.
import 'fake-indexeddb/auto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Replica, RingletError } from 'ringlet';
import { startRelay, waitFor, converged, rejectsWith } from './support.mjs';

const PORT = 8091;
let relay;
const fast = { gossipIntervalMs: 100 };

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

async function cluster(name, ids, extra = {}) {
  const replicas = [];
  for (const id of ids) {
    replicas.push(await Replica.open({ cluster: name, relay: relay.url, storage: 'memory', name: id, ...fast, ...extra }));
  }
  await waitFor(() => converged(replicas, ids), 60_000, `${name} to converge`);
  return replicas;
}

const closeAll = (rs) => Promise.all(rs.map((r) => r.close()));

test('a lone node founds a cluster and serves its own reads and writes', async () => {
  const r = await Replica.open({ cluster: 'solo', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1 });
  try {
    assert.match(r.id, /^node-[0-9a-f]{32}$/);
    assert.equal(r.storage, 'memory');
    const ring = r.ring();
    assert.equal(ring.q, 64);
    assert.deepEqual(ring.partitions, { [r.id]: 64 });
    assert.deepEqual(await r.get('absent'), { values: [], context: 'AQA=', partial: false });
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const values = ['a string', bytes, { nested: { list: [1, 'two', null] } }, 42, true, null];
    for (const [i, v] of values.entries()) await r.put(`k${i}`, v);
    for (const [i, v] of values.entries()) {
      const got = await r.get(`k${i}`);
      assert.deepEqual(got.values, [v]);
    }
    // A string key and its UTF-8 bytes are the same key.
    assert.deepEqual((await r.get(new TextEncoder().encode('k0'))).values, ['a string']);
  } finally {
    await r.close();
  }
});

test('three Node.js replicas form a cluster; a put on one is read on another', async () => {
  const rs = await cluster('trio', ['n1', 'n2', 'n3']);
  try {
    const [a, , c] = rs;
    assert.deepEqual(a.members().map((m) => m.node), ['n1', 'n2', 'n3']);
    assert.equal(a.preflist('cart/ada').length, 3);
    await a.put('cart/ada', { items: ['milk'] });
    assert.deepEqual((await c.get('cart/ada')).values, [{ items: ['milk'] }]);
    const stats = a.stats();
    assert.equal(stats.connected, true);
    assert.ok(stats.framesOut > 0 && stats.framesIn > 0);
    assert.equal(stats.badFrames, 0);
  } finally {
    await closeAll(rs);
  }
});

test('concurrent blind writes become siblings; a put with the merged context collapses them', async () => {
  const rs = await cluster('sib', ['s1', 's2', 's3']);
  try {
    const [a, b, c] = rs;
    const seen = c.once('siblings', (e) => e.key === 'doc');
    await Promise.all([a.put('doc', 'from a'), b.put('doc', 'from b')]);
    const got = await c.get('doc');
    assert.deepEqual([...got.values].sort(), ['from a', 'from b']);
    const ev = await seen;
    assert.equal(ev.count, 2);
    await c.put('doc', 'merged', { context: got.context });
    assert.deepEqual((await a.get('doc')).values, ['merged']);
    // Delete with the context: the key reads as absent.
    const now = await b.get('doc');
    await b.delete('doc', { context: now.context });
    assert.deepEqual((await a.get('doc')).values, []);
  } finally {
    await closeAll(rs);
  }
});

test('bad API arguments are typed errors and break nothing', async () => {
  await rejectsWith(Replica.open(), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ relay: relay.url }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'bad name!', relay: relay.url }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: 'http://127.0.0.1:1' }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: relay.url, storage: 'disk' }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: relay.url, n: 2, w: 3 }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: relay.url, q: 100 }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: relay.url, nme: 'typo' }), 'INVALID_ARGUMENT');
  await rejectsWith(Replica.open({ cluster: 'x', relay: relay.url, name: 'has space' }), 'INVALID_ARGUMENT');
  const r = await Replica.open({ cluster: 'args', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1, maxValueBytes: 100 });
  try {
    await rejectsWith(r.get(42), 'INVALID_ARGUMENT');
    await rejectsWith(r.get(''), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', undefined), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', () => 1), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 10n), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', new Float64Array(2)), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 'v', { w: 0 }), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 'v', { w: 2 }), 'INVALID_ARGUMENT'); // above N=1: the core says so
    await rejectsWith(r.put('k', 'v', { w: 'one' }), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 'v', { durable: 'yes' }), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 'v', { contxt: 'typo' }), 'INVALID_ARGUMENT');
    await rejectsWith(r.put('k', 'v', { context: 'not a context' }), 'INVALID_ARGUMENT');
    await rejectsWith(r.delete('k', { context: 12 }), 'INVALID_ARGUMENT');
    await rejectsWith(r.get('k', { r: 1.5 }), 'INVALID_ARGUMENT');
    const big = await rejectsWith(r.put('k', 'x'.repeat(200)), 'VALUE_TOO_LARGE');
    assert.ok(big instanceof RingletError);
    assert.equal(big.max, 100);
    assert.throws(() => r.on('nosuchevent', () => {}), (e) => e.code === 'INVALID_ARGUMENT');
    // Still serving.
    await r.put('k', 'fine');
    assert.deepEqual((await r.get('k')).values, ['fine']);
  } finally {
    await r.close();
  }
  await rejectsWith(r.get('k'), 'CLOSED');
  await rejectsWith(r.put('k', 'v'), 'CLOSED');
});

test('an unreachable relay and a taken node id are typed errors', async () => {
  await rejectsWith(Replica.open({ cluster: 'x', relay: 'ws://127.0.0.1:9/ws', storage: 'memory' }), 'RELAY_FAILED');
  const a = await Replica.open({ cluster: 'dup', relay: relay.url, storage: 'memory', name: 'same', n: 1, r: 1, w: 1 });
  try {
    await rejectsWith(
      // Open retries a taken id (it may be a closed connection of its own, still being torn
      // down) until its timeout: the id stays taken, so the test lasts that long. 5 s leaves
      // a busy machine ample time for the first answer.
      Replica.open({ cluster: 'dup', relay: relay.url, storage: 'memory', name: 'same', openTimeoutMs: 5_000 }),
      'NODE_ID_IN_USE',
    );
  } finally {
    await a.close();
  }
});

test('a full storage quota fails the write with QUOTA_EXCEEDED; the next write succeeds', async () => {
  const r = await Replica.open({ cluster: 'quota', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1 });
  try {
    r._failNextPersist(true);
    await rejectsWith(r.put('k', 'v'), 'QUOTA_EXCEEDED');
    await r.put('k', 'v2');
    // The failed write was not acknowledged, but the node keeps it in memory and retries
    // its batch, so it may survive (as a sibling of the blind write after it): a failed
    // write is "not known to be stored", never "known not to be stored".
    assert.ok((await r.get('k')).values.includes('v2'));
    assert.equal(r.stats().persistFailures, 1);
  } finally {
    await r.close();
  }
});

test('malformed frames from the network are counted and dropped; the node keeps serving', async () => {
  const rs = await cluster('mal', ['m1', 'm2']);
  const [a, b] = rs;
  const evil = new WebSocket(relay.url);
  const relayErrors = [];
  try {
    await new Promise((resolve, reject) => { evil.once('open', resolve); evil.once('error', reject); });
    evil.send(JSON.stringify({ type: 'hello', cluster: 'mal', node: 'evil' }));
    evil.on('message', (data, binary) => { if (!binary) relayErrors.push(JSON.parse(data.toString())); });
    await waitFor(() => relayErrors.some((m) => m.type === 'welcome'), 60_000, 'the welcome');
    const frame = (dest, payload) => Buffer.concat([Buffer.from([1, dest.length]), Buffer.from(dest), Buffer.from(payload)]);
    evil.send(frame('m1', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    evil.send(frame('m1', []));
    evil.send(frame('m1', Array.from({ length: 300 }, (_, i) => (i * 37) & 255)));
    evil.send(Buffer.from([2, 0x99, 0x98])); // a broadcast of garbage
    evil.send(Buffer.from([7, 1, 2])); // not relay framing: the relay refuses it
    await waitFor(() => a.stats().badFrames >= 4, 60_000, 'the bad frames to be counted');
    await waitFor(() => relayErrors.some((m) => m.type === 'error' && m.code === 'MALFORMED_FRAME'), 60_000, 'MALFORMED_FRAME');
    await a.put('after', 'still fine');
    assert.deepEqual((await b.get('after')).values, ['still fine']);
  } finally {
    evil.close();
    await closeAll(rs);
  }
});

test('IndexedDB storage (fake-indexeddb): a reopened node is the same node with its data', async () => {
  const opts = { cluster: 'persist', relay: relay.url, storage: 'indexeddb', name: 'disk-1', n: 1, r: 1, w: 1 };
  let r = await Replica.open(opts);
  assert.equal(r.storage, 'indexeddb');
  await r.put('kept', { v: 1 });
  await r.put('bytes', new Uint8Array([9, 8, 7]));
  await r.close();
  r = await Replica.open(opts);
  try {
    assert.equal(r.id, 'disk-1');
    assert.deepEqual((await r.get('kept')).values, [{ v: 1 }]);
    assert.deepEqual((await r.get('bytes')).values, [new Uint8Array([9, 8, 7])]);
    assert.equal(r.stats().keysHeld, 2);
  } finally {
    await r.close();
  }
  // Without a name, the id is random and kept in the database.
  const anon = { cluster: 'persist2', relay: relay.url, storage: 'indexeddb', n: 1, r: 1, w: 1 };
  r = await Replica.open(anon);
  const id = r.id;
  assert.match(id, /^tab-[0-9a-f]{32}$/);
  await r.close();
  // At once: were the relay still tearing down the closed connection, open retries the id.
  r = await Replica.open(anon);
  assert.equal(r.id, id);
  await r.close();
});

test('a relay restart: replicas reconnect by themselves and keep serving', async () => {
  const port = 8092;
  let own = await startRelay(port);
  const opts = (name) => ({ cluster: 'bounce', relay: own.url, storage: 'memory', name, ...fast });
  const rs = [await Replica.open(opts('b1')), await Replica.open(opts('b2'))];
  try {
    await waitFor(() => converged(rs, ['b1', 'b2']), 60_000, 'the pair to converge');
    await rs[0].put('before', 1);
    const down = Promise.all(rs.map((r) => r.once('disconnected')));
    await own.stop();
    await down;
    assert.equal(rs[0].stats().connected, false);
    const back = Promise.all(rs.map((r) => r.once('connected')));
    own = await startRelay(port);
    await back;
    assert.ok(rs.every((r) => r.stats().connected && r.stats().reconnects >= 1));
    await waitFor(async () => {
      try {
        await rs[1].put('after', 2);
        return true;
      } catch {
        return false;
      }
    }, 60_000, 'a write after the restart');
    assert.deepEqual((await rs[0].get('after')).values.slice(-1), [2]);
    assert.deepEqual((await rs[1].get('before')).values, [1]);
  } finally {
    await closeAll(rs);
    await own.stop();
  }
});
