// Random node ids (issue 15 defect 6), through the built package: a node without a `name`
// gets `node-` (memory storage) or `tab-` (IndexedDB) and 32 lowercase hex digits (128 bits
// from crypto.getRandomValues); two replicas get distinct ids and see each other under them.
import 'fake-indexeddb/auto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged } from './support.mjs';

const PORT = 8123;
let relay;

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('two memory replicas get distinct 128-bit ids and see each other', async () => {
  const opts = { cluster: 'ids', relay: relay.url, storage: 'memory', gossipIntervalMs: 100 };
  const a = await Replica.open(opts);
  const b = await Replica.open(opts);
  try {
    for (const r of [a, b]) assert.match(r.id, /^node-[0-9a-f]{32}$/);
    assert.notEqual(a.id, b.id);
    await waitFor(() => converged([a, b], [a.id, b.id]), 60_000, 'both members known to both');
    for (const r of [a, b]) {
      assert.deepEqual(r.members().map((m) => m.node).sort(), [a.id, b.id].sort());
    }
    await a.put('k', 1);
    assert.deepEqual((await b.get('k')).values, [1]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('an IndexedDB replica without a name gets a tab- id and keeps it', async () => {
  const opts = { cluster: 'ids-idb', relay: relay.url, storage: 'indexeddb', n: 1, r: 1, w: 1 };
  let r = await Replica.open(opts);
  const id = r.id;
  assert.match(id, /^tab-[0-9a-f]{32}$/);
  await r.close();
  r = await Replica.open(opts);
  assert.equal(r.id, id);
  await r.close();
});
