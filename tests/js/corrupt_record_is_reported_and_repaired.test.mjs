// A record damaged on disk (IndexedDB, here fake-indexeddb) is caught by its checksum when the
// node opens: reported with a `corruptrecord` event and `stats().corruptRecords`, never served,
// and fetched again from the other replica.
import 'fake-indexeddb/auto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged } from './support.mjs';

const PORT = 8096;
let relay;

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

const request = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

/** Flip one bit of the stored record `key` of `store` in database `db`, where `needle` is. */
async function damage(db, store, key, needle) {
  const conn = await request(indexedDB.open(db));
  try {
    const rec = await request(conn.transaction(store).objectStore(store).get(key));
    assert.ok(rec, `${store}/${key} is stored`);
    const bytes = new Uint8Array(rec);
    const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
    assert.ok(at > 0, 'the value is in the record');
    bytes[at] ^= 0x04;
    const tx = conn.transaction(store, 'readwrite');
    tx.objectStore(store).put(bytes, key);
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
  } finally {
    conn.close();
  }
}

test('a corrupt IndexedDB record is reported, never served, and repaired from the other replica', async () => {
  const base = { cluster: 'crc', relay: relay.url, n: 2, r: 2, w: 2, gossipIntervalMs: 100 };
  const diskOpts = { ...base, storage: 'indexeddb', name: 'crc-a', dbName: 'crc-a-db' };
  let a = await Replica.open(diskOpts);
  const b = await Replica.open({ ...base, storage: 'memory', name: 'crc-b' });
  try {
    await waitFor(() => converged([a, b], ['crc-a', 'crc-b']), 60_000, 'the cluster');
    await a.put('apple', 'red and round');
    await a.put('pear', 'green');
    await a.close();

    // The value's text sits inside the record: flip a bit in it ("red" would become "ved").
    await damage('crc-a-db', 'objects', Buffer.from('apple').toString('hex'), 'red and round');

    a = await Replica.open(diskOpts);
    const seen = [];
    a.on('corruptrecord', (e) => seen.push(e));
    await waitFor(() => seen.length === 1, 60_000, 'the corruptrecord event');
    assert.equal(seen[0].store, 'objects');
    assert.equal(seen[0].key, 'apple');
    assert.equal(a.stats().corruptRecords, 1);

    await waitFor(() => converged([a, b], ['crc-a', 'crc-b']), 60_000, 'the cluster again');
    // Every read, through either node, gets the acknowledged value; never the damaged one.
    for (const r of [a, b]) {
      assert.deepEqual((await r.get('apple')).values, ['red and round']);
      assert.deepEqual((await r.get('pear')).values, ['green']);
    }
    // Read repair (or anti-entropy) stored it again: a later open finds it intact.
    await waitFor(() => a.stats().keysHeld === 2, 60_000, 'the repaired key');
    await a.close();
    a = await Replica.open(diskOpts);
    assert.equal(a.stats().corruptRecords, 0);
    assert.equal(a.stats().keysHeld, 2);
  } finally {
    await a.close();
    await b.close();
  }
});
