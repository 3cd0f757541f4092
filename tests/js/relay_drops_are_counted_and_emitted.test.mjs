// What the relay reports it did not deliver reaches the app: a `dropped` notice
// (`{"type":"dropped","node","reason","count"}`, src/relay/mod.rs) and an error message that
// refuses a data frame are counted in `stats().relayDrops` and emitted as `relaydrop`
// events. The relay here is an in-process endpoint (the relay protocol without a socket), so
// the test decides exactly what it sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { waitFor } from './support.mjs';

/** A relay endpoint for one node alone in its cluster; `tell(text)` sends it a TEXT message. */
function loneRelay() {
  let deliver = null;
  return {
    connect(hello, d) {
      deliver = d;
      const { node } = JSON.parse(hello);
      d(JSON.stringify({ type: 'welcome', node, peers: [] }));
    },
    send() {},
    close() { deliver = null; },
    tell(text) { deliver?.(text); },
  };
}

test('dropped notices and refused frames are counted in relayDrops and emitted as relaydrop', async () => {
  const relay = loneRelay();
  const r = await Replica.open({ cluster: 'drops', relay, storage: 'memory', n: 1, r: 1, w: 1, name: 'a' });
  try {
    const events = [];
    r.on('relaydrop', (e) => events.push(e));
    assert.equal(r.stats().relayDrops, 0);
    relay.tell(JSON.stringify({ type: 'dropped', node: 'b', reason: 'queue_full', count: 3 }));
    relay.tell(JSON.stringify({ type: 'error', code: 'UNKNOWN_DESTINATION', node: 'c' }));
    relay.tell(JSON.stringify({ type: 'error', code: 'FRAME_TOO_LARGE', message: 'frame of 2 MiB' }));
    // Not about a frame of this node: not a drop.
    relay.tell(JSON.stringify({ type: 'error', code: 'RATE_LIMITED', message: 'closing' }));
    await waitFor(() => events.length === 3, 10_000, 'three relaydrop events');
    assert.deepEqual(events, [
      { type: 'relaydrop', node: 'b', reason: 'queue_full', count: 3 },
      { type: 'relaydrop', node: 'c', reason: 'unknown_destination', count: 1 },
      { type: 'relaydrop', node: null, reason: 'too_large', count: 1 },
    ]);
    assert.equal(r.stats().relayDrops, 5);
    assert.equal(r.stats().relayErrors, 3);
  } finally {
    await r.close();
  }
});
