// leave() (issue 15 defect 7), through the built package: it resolves only once the node has
// exited, that is, once every key it held is acknowledged by its new primaries; then every
// key reads back through the remaining nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged } from './support.mjs';

const PORT = 8124;
let relay;

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('leave resolves after the handoff, and nothing is lost', async () => {
  const ids = ['l1', 'l2', 'l3', 'l4'];
  const rs = [];
  for (const name of ids) {
    rs.push(await Replica.open({ cluster: 'leave', relay: relay.url, storage: 'memory', name, n: 2, r: 1, w: 2, gossipIntervalMs: 100 }));
  }
  try {
    await waitFor(() => converged(rs, ids), 60_000, 'four members');
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const [i, k] of keys.entries()) await rs[i % 4].put(k, i);
    const leaver = rs[3];
    const held = leaver.stats().keysHeld;
    assert.ok(held > 0, 'the leaver holds keys');
    await leaver.leave();
    // Resolved: the node has exited and holds nothing any more.
    const self = leaver.members().find((m) => m.self);
    assert.equal(self.status, 'exiting');
    assert.equal(leaver.stats().keysHeld, 0);
    for (const [i, k] of keys.entries()) {
      assert.deepEqual((await rs[i % 3].get(k, { r: 2 })).values, [i], `${k} after the leave`);
    }
    // A second leave resolves at once.
    await leaver.leave();
  } finally {
    await Promise.all(rs.map((r) => r.close()));
  }
});
