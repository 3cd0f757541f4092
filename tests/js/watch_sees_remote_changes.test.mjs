// watch(key | prefix) and on('change'): a watcher that is no replica of a key hears of its
// changes through the replicas' notifications, once per version; after a reconnect it is
// given the current value once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged, rejectsWith } from './support.mjs';

const PORT = 8135;
let relay;
before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('a watcher hears of remote changes, once each, and of the current value after a reconnect', async () => {
  const opts = { cluster: 'watch', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1, gossipIntervalMs: 100 };
  const rs = [];
  for (const name of ['a', 'b', 'c']) rs.push(await Replica.open({ ...opts, name }));
  const [a, b, c] = rs;
  try {
    await waitFor(() => converged(rs, ['a', 'b', 'c']), 60_000, 'the ring');
    // A key that only b replicates (N = 1): a is no replica of it, c writes it.
    let key;
    for (let i = 0; !key; i++) if (a.preflist(`cart/${i}`)[0] === 'b') key = `cart/${i}`;
    const seen = [];
    const unwatch = a.watch(key, (ev) => seen.push(ev));
    const prefixSeen = [];
    const unwatchPrefix = a.watch('cart/', (ev) => prefixSeen.push(ev), { prefix: true });
    const changes = [];
    b.on('change', (ev) => changes.push(ev));
    await c.put(key, { items: ['milk'] });
    await waitFor(() => seen.length === 1, 60_000, 'the first notification');
    assert.equal(seen[0].key, key);
    assert.deepEqual(seen[0].values, [{ items: ['milk'] }]);
    assert.equal(seen[0].origin, 'remote');
    assert.equal(typeof seen[0].context, 'string');
    await waitFor(() => prefixSeen.some((e) => e.key === key), 60_000, 'the prefix watcher');
    // b stored it: its change listener heard it.
    await waitFor(() => changes.some((e) => e.key === key), 60_000, "b's change event");
    // The watched copy serves a local read at a (no replica of the key).
    assert.deepEqual((await a.get(key, { local: true })).values, [{ items: ['milk'] }]);
    // A write with the context: one notification for one version.
    const { context } = await c.get(key);
    await c.put(key, { items: ['milk', 'eggs'] }, { context });
    await waitFor(() => seen.length === 2, 60_000, 'the second notification');
    assert.deepEqual(seen[1].values, [{ items: ['milk', 'eggs'] }]);
    // This node's own write is origin 'local'.
    const mine = await a.get(key);
    await a.put(key, { items: ['tea'] }, { context: mine.context });
    await waitFor(() => seen.length === 3, 60_000, 'the notification of a write of its own');
    assert.equal(seen[2].origin, 'local');
    // Across a reconnect: changes made meanwhile, and the current value once.
    a.disconnect();
    const during = await c.get(key);
    await c.put(key, { items: ['bread'] }, { context: during.context });
    const before = seen.length;
    await a.connect();
    await waitFor(() => seen.length > before && seen.at(-1).values[0]?.items?.[0] === 'bread', 60_000, 'the value after the reconnect');
    // Unwatched: no more notifications, and the replica's subscription goes.
    unwatch();
    unwatch(); // twice is harmless
    unwatchPrefix();
    await waitFor(() => b.stats().watch.subscribers === 0, 60_000, 'the subscriptions to end');
    // Bad arguments.
    assert.throws(() => a.watch(key, 'not a function'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => a.watch(42, () => {}), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => a.watch(key, () => {}, { prefix: 'yes' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => a.watch(key, () => {}, { deep: true }), { code: 'INVALID_ARGUMENT' });
  } finally {
    await Promise.all(rs.map((r) => r.close()));
  }
  assert.throws(() => a.watch('k', () => {}), { code: 'CLOSED' });
});
