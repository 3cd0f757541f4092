// Every tab closes; the edge node keeps the cluster's data and keeps running its timers with
// no browser connected (its failure detector finds the closed tabs down, and its alarm stays
// armed); a new tab, a new node with an empty IndexedDB, reads every value from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, startBrowser, tempDir, waitFor, allValid } from './support.mjs';

const PORT = 8182;
const OPTS = { cluster: 'demo', storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
const state = tempDir('ringlet-edge-state-');
let edge;

before(async () => {
  edge = await startEdge(PORT, state.dir);
});

after(async () => {
  await edge?.stop();
  state.remove();
});

test('after every tab closed, a new tab reads every value from the edge node', async () => {
  const opts = { ...OPTS, relay: edge.url };
  const first = await startBrowser(edge.http);
  const t1 = await first.tab('tab-1', opts);
  const t2 = await first.tab('tab-2', opts);
  await waitFor(async () => allValid([await t1.members(), await t2.members(), (await edge.edge()).members],
    ['edge', 'tab-1', 'tab-2']), 20_000, 'three valid members');
  const written = new Map();
  for (let i = 0; i < 12; i++) {
    const tab = i % 2 ? t2 : t1;
    const value = { i, by: i % 2 ? 'tab-2' : 'tab-1' };
    // Half of them through the write buffer (§6.1): acknowledged once one replica has it on disk.
    await tab.put(`cart/${i}`, value, i % 3 === 0 ? { durable: false } : undefined);
    written.set(`cart/${i}`, value);
  }
  await waitFor(async () => (await edge.edge()).stats.keysHeld === written.size, 10_000, 'the edge to hold every key');

  // Every tab closes: the whole browser goes, with its profile.
  await first.close();
  await waitFor(async () => (await edge.stats()).clusters.demo?.connections === 1, 10_000, 'only the edge node to stay seated');

  // Nobody is connected, yet the edge node's timers run: its failure detector finds both tabs down.
  await waitFor(async () => {
    const m = (await edge.edge()).members;
    return m.filter((x) => x.node.startsWith('tab-')).every((x) => x.up === false);
  }, 20_000, 'the edge node to detect the closed tabs down');
  const status = await edge.edge();
  assert.ok(status.alarm !== null && status.alarm > Date.now() - 5_000, `the object's alarm is armed (${status.alarm})`);
  // The alarm fires, runs the node's timers and re-arms itself, still with nobody connected.
  await waitFor(async () => (await edge.edge()).alarmsFired >= status.alarmsFired + 2, 10_000, 'two more alarms');
  assert.equal(status.stats.keysHeld, written.size);

  // A new browser, a new node: everything is read back through the edge node.
  const second = await startBrowser(edge.http);
  try {
    const t3 = await second.tab('tab-3', opts);
    for (const [k, v] of written) assert.deepEqual(await t3.get(k), [v], k);
    const members = (await t3.members()).map((m) => m.node).sort();
    assert.deepEqual(members, ['edge', 'tab-1', 'tab-2', 'tab-3']);
  } finally {
    await second.close();
  }
});
