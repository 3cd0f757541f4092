// disconnect() / connect() / connected: an offline node keeps its state and writes with w: 1;
// after connect() the others receive what it wrote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, waitForValue, converged } from './support.mjs';

const PORT = 8132;
let relay;
before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('an offline node writes with w: 1 and its writes reach the others after connect()', async () => {
  const opts = { cluster: 'offline', relay: relay.url, storage: 'memory', n: 3, r: 2, w: 2, gossipIntervalMs: 100 };
  const rs = [];
  for (const name of ['a', 'b', 'c']) rs.push(await Replica.open({ ...opts, name }));
  const [a, b] = rs;
  try {
    await waitFor(() => converged(rs, ['a', 'b', 'c']), 60_000, 'the ring');
    assert.equal(a.connected, true);
    const events = [];
    a.on('disconnected', (e) => events.push(e.type)).on('connected', (e) => events.push(e.type));
    a.disconnect();
    assert.equal(a.connected, false);
    assert.deepEqual(events, ['disconnected']);
    a.disconnect(); // twice is harmless
    // Offline: a w: 1 write of a key it replicates (N = 3 of 3 nodes) succeeds locally.
    await a.put('todo/1', 'written offline', { w: 1 });
    assert.deepEqual((await a.get('todo/1', { local: true })).values, ['written offline']);
    await assert.rejects(b.get('todo/1', { local: true }), { code: 'NOT_HELD' });
    await a.connect();
    assert.equal(a.connected, true);
    assert.deepEqual(events, ['disconnected', 'connected']);
    await a.connect(); // already connected: resolves at once
    // Anti-entropy (or hinted handoff) brings b the write without anyone reading it.
    await waitForValue(
      () => b.get('todo/1', { local: true }).then((g) => g.values, (e) => e.code),
      (v) => Array.isArray(v) && v[0] === 'written offline',
      60_000,
      'b to hold the offline write',
    );
  } finally {
    await Promise.all(rs.map((r) => r.close()));
  }
});
