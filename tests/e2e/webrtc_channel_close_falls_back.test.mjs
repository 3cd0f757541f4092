// A data channel closes in the middle of a stream of requests: the traffic of that pair
// falls back to the relay, every request still succeeds, and the channel is opened again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitConverged, waitChannels, workload, waitFor, PATIENCE_MS } from './webrtc_support.mjs';

const PORT = 8112;
const NAMES = ['f1', 'f2', 'f3'];
// N=3 of 3 tabs: every put goes to every tab, so f1 keeps sending to f2.
// A 5 s request timeout (default 2 s): the machine running the tests may be busy.
const COMMON = { cluster: 'rtc-close', n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 5000 };
let c;

before(async () => { c = await startCluster(PORT); });
after(async () => { await c?.stop(); });

test('closing a data channel falls back to the relay; every request succeeds; the channel comes back', async () => {
  for (const n of NAMES) await c.open(n, COMMON);
  await waitConverged(c, NAMES, NAMES);
  await Promise.all(NAMES.map((n) => workload(c, n, `warm/${n}`, 5)));
  await waitChannels(c, NAMES);

  const before = await c.stats('f1');
  const running = Promise.all(NAMES.map((n) => workload(c, n, `during/${n}`, 80, 4)));
  await waitFor(async () => (await c.stats('f1')).puts >= before.puts + 10, PATIENCE_MS, 'requests under way');
  assert.equal(await c.in('f1', () => window.replica._closeDataChannel('f2')), true);
  const justAfter = await c.stats('f1');
  assert.notEqual(justAfter.peers.f2.path, 'datachannel');
  const failures = (await running).flat();
  assert.deepEqual(failures, [], 'no request failed because a path changed');

  const f1 = await c.stats('f1');
  // f2 learns of the close on its own side (told through the relay, or seeing the channel end).
  const f2 = await waitFor(async () => {
    const s = await c.stats('f2');
    return s.webrtc.fallbacks >= 1 && s.peers.f1.relay.messagesSent > 0 && s;
  }, PATIENCE_MS, 'f2 to fall back and send to f1 through the relay');
  assert.ok(f1.webrtc.fallbacks >= 1, 'f1 counted the fallback');
  assert.ok(f2.webrtc.fallbacks >= 1, 'f2 fell back too (it was told, or saw the close)');
  assert.ok(f1.peers.f2.relay.messagesSent > before.peers.f2.relay.messagesSent, 'f1 sent to f2 through the relay');
  assert.ok(f2.peers.f1.relay.messagesSent > 0, 'f2 sent to f1 through the relay');
  // The pairs that kept their channel never needed the relay for data.
  assert.equal(f1.peers.f3.path, 'datachannel');

  // After the backoff the next message to f2 opens a new channel.
  await waitFor(async () => {
    await workload(c, 'f1', `again/${Date.now()}`, 2);
    const s = await c.stats('f1');
    return s.peers.f2.path === 'datachannel';
  }, PATIENCE_MS, 'the channel to come back');
  const later = await c.stats('f1');
  assert.ok(later.webrtc.opened >= 3, `${later.webrtc.opened} channels opened`);
  assert.deepEqual(await workload(c, 'f2', 'after', 10), []);
});
