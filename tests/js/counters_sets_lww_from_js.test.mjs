// Replica.open({ resolvers }) and update(): counters, add-wins sets and last-writer-wins
// from JavaScript; a node with another resolver table is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged, rejectsWith } from './support.mjs';

const PORT = 8134;
let relay;
before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

const resolvers = { 'likes/': 'counter', 'tags/': 'set', 'profile/': 'lww' };

test('counters, sets and lww by key prefix; a differing resolver table is refused', async () => {
  const opts = { cluster: 'crdt', relay: relay.url, storage: 'memory', n: 2, r: 1, w: 1, gossipIntervalMs: 100, resolvers };
  const a = await Replica.open({ ...opts, name: 'a' });
  const b = await Replica.open({ ...opts, name: 'b' });
  try {
    await waitFor(() => converged([a, b], ['a', 'b']), 60_000, 'the ring');
    // Counter: increments through both nodes all count.
    await a.update('likes/post1', { add: 5 });
    await b.update('likes/post1', { add: 2 });
    await a.update('likes/post1', { add: -1 });
    const likes = await b.get('likes/post1', { r: 2 });
    assert.deepEqual(likes.values, [6]);
    assert.equal(typeof likes.context, 'string');
    // Set: an add-wins set of JSON values.
    await a.update('tags/post1', { insert: ['rust', 'wasm'] });
    await b.update('tags/post1', { insert: [{ lang: 'js' }] });
    await a.update('tags/post1', { remove: ['wasm'] });
    const tags = (await b.get('tags/post1', { r: 2 })).values;
    assert.equal(tags.length, 1, 'resolved to one value');
    assert.deepEqual(new Set(tags[0].map((t) => JSON.stringify(t))), new Set(['"rust"', '{"lang":"js"}']));
    // LWW: concurrent blind writes resolve to one value.
    await Promise.all([a.put('profile/ada', { name: 'Ada' }), b.put('profile/ada', { name: 'Ada L.' })]);
    const profile = await a.get('profile/ada', { r: 2 });
    assert.equal(profile.values.length, 1);
    // Other keys keep siblings; puts on CRDT keys and updates on plain keys are refused.
    await rejectsWith(a.put('likes/post1', 3), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('cart/1', { add: 1 }), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('likes/post1', { add: 1.5 }), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('likes/post1', { add: 1, insert: [] }), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('tags/post1', { insert: 'rust' }), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('tags/post1', null), 'INVALID_ARGUMENT');
    await rejectsWith(a.update('tags/post1', { add: 1 }), 'INVALID_ARGUMENT');
    // Bad tables.
    await rejectsWith(Replica.open({ ...opts, name: 'x', resolvers: { 'a/': 'max' } }), 'INVALID_ARGUMENT');
    await rejectsWith(Replica.open({ ...opts, name: 'x', resolvers: ['counter'] }), 'INVALID_ARGUMENT');
    // A node whose table differs from the cluster's is refused, and never joins.
    const e = await rejectsWith(
      Replica.open({ ...opts, name: 'c', resolvers: { ...resolvers, 'tags/': 'lww' } }),
      'RESOLVERS_DIFFER',
    );
    assert.match(e.message, /tags\//);
    assert.ok(!a.members().some((m) => m.node === 'c'));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
