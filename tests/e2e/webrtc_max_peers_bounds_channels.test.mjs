// `webrtc.maxPeers` bounds a tab's data channels: beyond it, its traffic goes through the
// relay (and offers to it are refused), and every request still succeeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitConverged, workload, waitFor, PATIENCE_MS } from './webrtc_support.mjs';

const PORT = 8115;
const NAMES = ['m1', 'm2', 'm3', 'm4'];
// A 5 s request timeout (default 2 s): the machine running the tests may be busy.
const COMMON = { cluster: 'rtc-max', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 5000 };
let c;

before(async () => { c = await startCluster(PORT); });
after(async () => { await c?.stop(); });

test('a tab with maxPeers: 1 keeps one data channel and reaches the others through the relay', async () => {
  await c.open('m1', { ...COMMON, webrtc: { maxPeers: 1 } });
  for (const n of NAMES.slice(1)) await c.open(n, COMMON);
  await waitConverged(c, NAMES, NAMES);
  const failures = (await Promise.all(NAMES.map((n) => workload(c, n, `w/${n}`, 30)))).flat();
  assert.deepEqual(failures, []);
  // m1 talked to all three; one of them has its channel, the two others use the relay.
  await waitFor(async () => (await c.stats('m1')).webrtc.open === 1, PATIENCE_MS, 'm1 to have its one channel');
  await workload(c, 'm1', 'more', 10);
  const m1 = await c.stats('m1');
  assert.equal(m1.webrtc.maxPeers, 1);
  assert.ok(m1.webrtc.open + m1.webrtc.connecting <= 1);
  const paths = NAMES.slice(1).map((n) => m1.peers[n].path).sort();
  assert.deepEqual(paths, ['datachannel', 'relay', 'relay']);
  for (const n of NAMES.slice(1)) {
    const viaRelay = m1.peers[n].path === 'relay';
    if (viaRelay) assert.ok(m1.peers[n].relay.messagesSent > 0, `m1 sends to ${n} through the relay`);
    const s = await c.stats(n);
    // A refused peer retries now and then (with a growing backoff): 'connecting' for a moment.
    if (viaRelay) assert.notEqual(s.peers.m1.path, 'datachannel', `${n} has no channel to m1`);
    else assert.equal(s.peers.m1.path, 'datachannel', `${n} has the channel to m1`);
  }
  // The other tabs keep their channels among themselves.
  const m2 = await c.stats('m2');
  assert.equal(m2.peers.m3.path, 'datachannel');
  assert.equal(m2.peers.m4.path, 'datachannel');
});
