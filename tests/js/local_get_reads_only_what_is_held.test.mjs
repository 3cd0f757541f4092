// get(key, { local: true }): what this node holds, no network; NOT_HELD when it holds nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged, rejectsWith } from './support.mjs';

const PORT = 8131;
let relay;
before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('a local get answers from the node itself: its replicas, NOT_HELD otherwise', async () => {
  const opts = { cluster: 'local-get', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1, gossipIntervalMs: 100 };
  const a = await Replica.open({ ...opts, name: 'a' });
  const b = await Replica.open({ ...opts, name: 'b' });
  try {
    await waitFor(() => converged([a, b], ['a', 'b']), 60_000, 'the ring');
    // A key only b replicates (N = 1).
    let key;
    for (let i = 0; !key; i++) if (a.preflist(`k${i}`)[0] === 'b') key = `k${i}`;
    await a.put(key, 'v1');
    const held = await b.get(key, { local: true });
    assert.deepEqual(held.values, ['v1']);
    assert.equal(held.local, true);
    assert.equal(typeof held.context, 'string');
    await rejectsWith(a.get(key, { local: true }), 'NOT_HELD');
    // Writing with the local context supersedes what was held.
    await b.put(key, 'v2', { context: held.context });
    assert.deepEqual((await b.get(key, { local: true })).values, ['v2']);
    // No request went out for the local reads.
    const before = b.stats().gets;
    await b.get(key, { local: true });
    assert.equal(b.stats().gets, before);
    // Bad arguments.
    await rejectsWith(b.get(key, { local: 'yes' }), 'INVALID_ARGUMENT');
    await rejectsWith(b.get(key, { local: true, r: 1 }), 'INVALID_ARGUMENT');
    await rejectsWith(b.get(42, { local: true }), 'INVALID_ARGUMENT');
    assert.deepEqual((await b.get(key, { local: false })).values, ['v2'], 'local: false is a quorum get');
    // Many at once: one result per key, NOT_HELD for what the node holds nothing of.
    const many = await b.getMany([key, 'nowhere'], { local: true });
    assert.deepEqual(many[0].values, ['v2']);
    assert.equal(many[0].local, true);
    assert.equal(many[1].key, 'nowhere');
    assert.equal(many[1].error.code, 'NOT_HELD');
    assert.equal(b.stats().gets, before + 1, 'no request went out for them');
    await rejectsWith(b.getMany([key], { local: true, r: 2 }), 'INVALID_ARGUMENT');
    await rejectsWith(b.getMany(key, { local: true }), 'INVALID_ARGUMENT');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  await rejectsWith(a.get('x', { local: true }), 'CLOSED');
});
