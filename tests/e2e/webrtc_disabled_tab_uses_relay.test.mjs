// A tab whose WebRTC is disabled is a full member through the relay, while the other tabs
// talk to each other over data channels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitConverged, waitChannels, workload, waitFor, PATIENCE_MS } from './webrtc_support.mjs';

const PORT = 8113;
// A 5 s request timeout (default 2 s): the machine running the tests may be busy.
const COMMON = { cluster: 'rtc-off', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 5000 };
const ON = ['d1', 'd2', 'd3'];
let c;

before(async () => { c = await startCluster(PORT); });
after(async () => { await c?.stop(); });

test('a tab with webrtc disabled works through the relay', async () => {
  for (const n of ON) await c.open(n, COMMON);
  await c.open('off', { ...COMMON, webrtc: { enabled: false } });
  const all = [...ON, 'off'];
  await waitConverged(c, all, all);
  const failures = (await Promise.all(all.map((n) => workload(c, n, `w/${n}`, 30)))).flat();
  if (failures.length) {
    for (const n of all) {
      const s = await c.stats(n);
      console.log(n, JSON.stringify({ webrtc: s.webrtc, unsent: s.framesUnsent, bad: s.badFrames, peers: Object.fromEntries(Object.entries(s.peers).map(([k, v]) => [k, v.path])) }));
    }
  }
  assert.deepEqual(failures, []);
  await waitChannels(c, ON);
  // The disabled tab reads what the others wrote, and they read its writes.
  const read = await c.in('off', async () => (await window.replica.get('w/d1/3')).values);
  assert.deepEqual(read, [{ i: 3, prefix: 'w/d1' }]);
  const back = await c.in('d2', async () => (await window.replica.get('w/off/7')).values);
  assert.deepEqual(back, [{ i: 7, prefix: 'w/off' }]);

  const off = await c.stats('off');
  assert.equal(off.webrtc.enabled, false);
  assert.equal(off.webrtc.requested, false);
  assert.equal(off.paths.datachannel.messagesSent + off.paths.datachannel.messagesReceived, 0);
  assert.ok(off.paths.relay.messagesSent > 0 && off.paths.relay.messagesReceived > 0);
  for (const n of ON) {
    const s = await c.stats(n);
    assert.equal(s.peers.off.path, 'relay', `${n} reaches the disabled tab through the relay`);
    assert.equal(s.peers.off.datachannel.messagesSent, 0);
    assert.ok(s.peers.off.relay.messagesSent > 0);
  }
  // The enabled tab that offered was told the disabled one has no WebRTC (not a timeout).
  const failuresSeen = await waitFor(async () => (await Promise.all(ON.map((n) => c.stats(n)))).reduce((a, s) => a + s.webrtc.failures, 0),
    PATIENCE_MS, 'an offer to the disabled tab to be answered as a failure');
  assert.ok(failuresSeen >= 1);
});

test('bad webrtc options are INVALID_ARGUMENT', async () => {
  const codes = await c.in('d1', async () => {
    const bad = [
      { webrtc: 'yes' }, { webrtc: { enabled: 1 } }, { webrtc: { maxPeers: -1 } }, { webrtc: { maxPeers: 1.5 } },
      { webrtc: { iceServers: 'stun:x' } }, { webrtc: { iceServers: [{}] } }, { webrtc: { iceServers: [{ urls: [3] }] } },
      { webrtc: { turn: true } },
    ];
    const out = [];
    for (const extra of bad) {
      try {
        await window.Replica.open({ cluster: 'x', relay: 'ws://127.0.0.1:1/ws', storage: 'memory', ...extra });
        out.push('resolved');
      } catch (e) { out.push(e.code); }
    }
    return out;
  });
  assert.deepEqual(codes, Array(codes.length).fill('INVALID_ARGUMENT'));
});
