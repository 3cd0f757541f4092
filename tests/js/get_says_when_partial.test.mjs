// Issue 14 item 5: a get whose R was reached only with answers of nodes that are no authority
// on the key (here: the only primary is offline and the coordinator holds nothing of the
// key) resolves with `partial: true`, so that its empty `values` does not read as "absent".
// Every other get says `partial: false`; change events carry no `partial`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, waitForValue, converged, freePort } from './support.mjs';

let relay;
before(async () => { relay = await startRelay(await freePort()); });
after(async () => { await relay.stop(); });

test('a get answered only by a non-authority says partial', async () => {
  const opts = { cluster: 'partial', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1, gossipIntervalMs: 100 };
  const a = await Replica.open({ ...opts, name: 'a' });
  const b = await Replica.open({ ...opts, name: 'b' });
  try {
    await waitFor(() => converged([a, b], ['a', 'b']), 60_000, 'the ring');
    // A key only b replicates (N = 1).
    let key;
    for (let i = 0; !key; i++) if (a.preflist(`p${i}`)[0] === 'b') key = `p${i}`;
    const changes = [];
    b.on('change', (e) => changes.push(e));
    await a.put(key, 'v1');
    const got = await a.get(key);
    assert.deepEqual(got.values, ['v1']);
    assert.equal(got.partial, false);
    const [one] = await a.getMany([key]);
    assert.deepEqual(one.values, ['v1']);
    assert.equal(one.partial, false);
    assert.equal((await b.get(key, { local: true })).partial, false);
    await waitFor(() => changes.length > 0, 60_000, 'a change event');
    assert.ok(changes.every((e) => !('partial' in e)), 'a change is no read');

    // b offline: a can ask only itself, and it holds nothing of the key.
    b.disconnect();
    const unsure = await a.get(key);
    assert.deepEqual(unsure.values, []);
    assert.equal(unsure.partial, true, 'a not-found of a non-authority is flagged');
    const [many] = await a.getMany([key]);
    assert.equal(many.partial, true);

    // b back: the primary answers again.
    await b.connect();
    await waitForValue(
      () => a.get(key).then((g) => g, (e) => e.code),
      (g) => g.partial === false && g.values?.[0] === 'v1',
      60_000,
      'an authoritative read after b is back',
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
