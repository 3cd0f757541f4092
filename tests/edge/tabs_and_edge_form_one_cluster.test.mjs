// Browser tabs and the edge node form one cluster through the edge relay on workerd: every
// member sees the same valid members and ring, a put in one tab is read in another, and the
// edge node (Durable Object storage) holds replicas of the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withEdgeAndBrowser, waitFor, allValid, PATIENCE_MS } from './support.mjs';

const PORT = 8181;
const OPTS = { cluster: 'demo', storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
const env = withEdgeAndBrowser(PORT);

test('two tabs and the edge node are one cluster; writes cross tabs and reach the edge', async () => {
  const opts = { ...OPTS, relay: env.edge.url };
  const t1 = await env.browser.tab('tab-1', opts);
  const t2 = await env.browser.tab('tab-2', opts);
  const ids = ['edge', 'tab-1', 'tab-2'];
  await waitFor(async () => {
    const e = await env.edge.edge();
    return allValid([await t1.members(), await t2.members(), e.members], ids);
  }, PATIENCE_MS, 'tabs and edge to agree on three valid members');
  const durable = (await t1.members()).filter((m) => m.durable).map((m) => m.node);
  assert.deepEqual(durable, ['edge'], 'the tabs know the edge node as the durable replica');
  // Valid members first, then the ring that includes all three reaches both tabs.
  const rings = await waitFor(async () => {
    const rs = await Promise.all([t1.run(() => window.replica.ring()), t2.run(() => window.replica.ring())]);
    return rs.every((r) => r && ids.every((id) => r.partitions[id] > 0)) && JSON.stringify(rs[0]) === JSON.stringify(rs[1]) && rs;
  }, PATIENCE_MS, 'both tabs to have the ring of all three');
  assert.deepEqual(rings[0], rings[1]);
  assert.ok(rings[0].partitions.edge > 0, 'the edge node owns partitions');

  for (let i = 0; i < 10; i++) assert.equal(await t1.put(`k/${i}`, { i, from: 'tab-1' }), true);
  for (let i = 0; i < 10; i++) assert.deepEqual(await t2.get(`k/${i}`), [{ i, from: 'tab-1' }]);

  // N = 3 with three members: the edge node holds every key, in its Durable Object storage.
  await waitFor(async () => (await env.edge.edge()).stats.keysHeld === 10, PATIENCE_MS, 'the edge node to hold the 10 keys');
  const e = await env.edge.edge();
  assert.equal(e.id, 'edge');
  assert.equal(e.stats.storage, 'js');
  assert.ok(e.stats.persistBatches > 0);
  assert.ok(e.stats.messagesIn > 0);
  const relay = await env.edge.stats();
  assert.equal(relay.clusters.demo.connections, 3, 'two tabs and the edge node are seated in the relay');
  assert.equal(relay.clusters.demo.malformed, 0);
});
