// Random node ids (issue 15 defect 6), through the built package: a node without a `name`
// gets `node-` (memory storage) or `tab-` (IndexedDB) and 32 lowercase hex digits (128 bits
// from crypto.getRandomValues); two replicas get distinct ids and see each other under them.
import 'fake-indexeddb/auto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged } from './support.mjs';

const PORT = 8123;

// The node ids in a context (src/core/context.rs: version 1, count, (name-len name counter)*).
function contextActors(base64) {
  const bytes = Buffer.from(base64, 'base64');
  let at = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  assert.equal(bytes[at++], 1, 'context format 1');
  const out = [];
  for (let n = varint(); n > 0; n--) {
    const len = varint();
    out.push(bytes.subarray(at, at + len).toString('utf8'));
    at += len;
    varint();
  }
  return out;
}
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
    const { context } = await a.put('k', 1);
    assert.deepEqual((await b.get('k')).values, [1]);
    // A node that finds no metadata (memory storage: every open) writes as a random
    // incarnation `id@i<n>`, never the bare id, so a node that ever reused an id could not
    // reuse its dots.
    const actors = contextActors(context);
    assert.equal(actors.length, 1);
    assert.match(actors[0], /^node-[0-9a-f]{32}@i[0-9]+$/);
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
