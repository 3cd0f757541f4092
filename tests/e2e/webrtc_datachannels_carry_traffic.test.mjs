// Four tabs form a cluster; once their data channels are open, at least 90% of their
// node-to-node messages go over data channels, and the relay forwards almost no data frames
// (its /stats counts signalling apart).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitConverged, waitChannels, sentPerPath, workload } from './webrtc_support.mjs';

const PORT = 8111;
const NAMES = ['w1', 'w2', 'w3', 'w4'];
// A 5 s request timeout (default 2 s): the machine running the tests may be busy.
const COMMON = { cluster: 'rtc-4', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 5000 };
let c;

before(async () => { c = await startCluster(PORT); });
after(async () => { await c?.stop(); });

test('4 tabs: after warm-up at least 90% of node-to-node messages go over data channels', async () => {
  for (const n of NAMES) await c.open(n, COMMON);
  await waitConverged(c, NAMES, NAMES);
  // Warm-up: traffic between every pair opens the channels.
  await Promise.all(NAMES.map((n) => workload(c, n, `warm/${n}`, 10)));
  await waitChannels(c, NAMES);

  const before = await sentPerPath(c, NAMES);
  const relayBefore = (await c.relay.stats()).clusters['rtc-4'];
  const failures = (await Promise.all(NAMES.map((n) => workload(c, n, `measured/${n}`, 50)))).flat();
  assert.deepEqual(failures, []);
  const after = await sentPerPath(c, NAMES);
  const relayAfter = (await c.relay.stats()).clusters['rtc-4'];

  const dc = after.datachannel - before.datachannel;
  const relayed = after.relay - before.relay;
  const share = dc / (dc + relayed);
  console.log(`measured: ${dc} messages over data channels, ${relayed} through the relay (${(100 * share).toFixed(1)}%)`);
  assert.ok(dc > 400, `${dc} messages over data channels`);
  assert.ok(share >= 0.9, `${(100 * share).toFixed(1)}% over data channels`);
  // The relay's own count agrees: it forwarded at most the relayed messages.
  const forwarded = relayAfter.frames_in - relayBefore.frames_in;
  assert.ok(forwarded <= relayed, `relay forwarded ${forwarded} data frames, tabs relayed ${relayed}`);
  assert.ok(forwarded < 0.1 * (dc + relayed), `relay forwarded ${forwarded} data frames`);
  assert.ok(relayAfter.signal_frames_in > 0, 'signalling went through the relay');

  // One channel per pair, whoever offered first (glare is settled on both sides alike).
  for (const n of NAMES) {
    const w = (await c.stats(n)).webrtc;
    assert.equal(w.open, 3, `${n}: ${JSON.stringify(w)}`);
    assert.equal(w.connecting, 0);
    assert.equal(w.fallbacks, 0);
    assert.equal(w.badChunks + w.badSignals, 0);
  }
  const s = await c.stats('w1');
  assert.equal(s.webrtc.enabled, true);
  assert.equal(s.webrtc.maxPeers, 16);
  assert.equal(s.webrtc.open, 3);
  for (const o of ['w2', 'w3', 'w4']) {
    assert.equal(s.peers[o].path, 'datachannel');
    assert.ok(s.peers[o].datachannel.messagesSent > 0 && s.peers[o].datachannel.messagesReceived > 0);
    assert.ok(s.peers[o].datachannel.bytesSent > 0);
  }
});
