// The runtime restarts (workerd stopped and started again on the same persisted Durable Object
// storage): the edge node comes back with its data and its hints, before any tab connects,
// and delivers the hints to their node when it returns. A value larger than a Durable Object
// value may be (128 KiB) is stored in parts and comes back whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withEdgeAndBrowser, startEdge, waitFor, allValid, PATIENCE_MS } from './support.mjs';

const PORT = 8183;
const OPTS = { cluster: 'demo', storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
const env = withEdgeAndBrowser(PORT);

test('data and hints of the edge node survive a restart of the runtime', async () => {
  const opts = { ...OPTS, relay: env.edge.url };
  const names = ['tab-1', 'tab-2', 'tab-3'];
  const tabs = {};
  for (const n of names) tabs[n] = await env.browser.tab(n, opts);
  await waitFor(async () => allValid([...(await Promise.all(names.map((n) => tabs[n].members()))), (await env.edge.edge()).members],
    ['edge', ...names]), PATIENCE_MS, 'four valid members');

  for (let i = 0; i < 16; i++) await tabs['tab-1'].put(`data/${i}`, { i });
  // A key only tab-1, tab-2 and the edge hold: after the restart it can come only from the edge.
  const bigKey = await tabs['tab-1'].run(() => {
    for (let i = 0; ; i++) {
      const p = window.replica.preflist(`big/${i}`).slice(0, 3);
      if (p.includes('edge') && !p.includes('tab-3')) return `big/${i}`;
    }
  });
  const big = 'x'.repeat(200_000);
  await tabs['tab-1'].put(bigKey, big);
  // Keys whose primaries are tab-3 and tab-1 (the coordinator) and whose first fallback is the edge.
  const hinted = await tabs['tab-1'].run(() => {
    const out = [];
    for (let i = 0; out.length < 4 && i < 10_000; i++) {
      const p = window.replica.preflist(`hint/${i}`);
      if (p.slice(0, 3).includes('tab-3') && p.slice(0, 3).includes('tab-1') && p[3] === 'edge') out.push(`hint/${i}`);
    }
    return out;
  });
  assert.equal(hinted.length, 4);

  await tabs['tab-3'].close();
  // W = 3: tab-3 stays silent, so the edge node takes its replica with a hint.
  for (const k of hinted) await tabs['tab-1'].put(k, { k, while: 'tab-3 was away' }, { w: 3 });
  await waitFor(async () => (await env.edge.edge()).stats.hintsHeld >= hinted.length, PATIENCE_MS, 'the edge to hold the hints');
  for (const n of ['tab-1', 'tab-2']) await tabs[n].close();
  const before = (await env.edge.edge()).stats;
  assert.ok(before.keysHeld > 0);

  // Restart the runtime on the same storage.
  await env.edge.stop();
  env.edge = await startEdge(PORT, env.state.dir);
  const after = (await env.edge.edge()).stats;
  assert.equal(after.keysHeld, before.keysHeld, 'every key the edge held is back');
  assert.equal(after.hintsHeld, before.hintsHeld, 'every hint the edge held is back');
  assert.equal(after.corruptRecords, 0);
  assert.equal(after.messagesIn, 0, 'loaded from storage, not from any tab');

  // tab-3 returns (the same node: same IndexedDB); the edge delivers its hints.
  const t3 = await env.browser.tab('tab-3', opts);
  await waitFor(async () => (await env.edge.edge()).stats.hintsHeld === 0, PATIENCE_MS, 'the hints to be delivered');
  assert.ok((await env.edge.edge()).stats.hintsDelivered >= hinted.length);
  for (const k of hinted) assert.deepEqual(await t3.get(k), [{ k, while: 'tab-3 was away' }], k);
  for (let i = 0; i < 16; i++) assert.deepEqual(await t3.get(`data/${i}`), [{ i }], `data/${i}`);
  const bigBack = await t3.run(async (k) => {
    const { values } = await window.replica.get(k);
    return values.length === 1 ? values[0].length : -1;
  }, bigKey);
  assert.equal(bigBack, big.length);
});
