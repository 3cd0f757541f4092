// Every tab closes; the edge node keeps the cluster's data and keeps running its timers with
// no browser connected (its failure detector finds the closed tabs down, and its alarm stays
// armed); a new tab, a new node with an empty IndexedDB, reads every value from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, startBrowser, tempDir, waitFor, allValid, PATIENCE_MS } from './support.mjs';

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
    ['edge', 'tab-1', 'tab-2']), PATIENCE_MS, 'three valid members');
  const written = new Map();
  for (let i = 0; i < 12; i++) {
    const tab = i % 2 ? t2 : t1;
    const value = { i, by: i % 2 ? 'tab-2' : 'tab-1' };
    // Half of them through the write buffer (§6.1): acknowledged once one replica has it on disk.
    await tab.put(`cart/${i}`, value, i % 3 === 0 ? { durable: false } : undefined);
    written.set(`cart/${i}`, value);
  }
  await waitFor(async () => (await edge.edge()).stats.keysHeld === written.size, PATIENCE_MS, 'the edge to hold every key');

  // Every tab closes: the whole browser goes, with its profile.
  await first.close();
  await waitFor(async () => (await edge.stats()).clusters.demo?.connections === 1, PATIENCE_MS, 'only the edge node to stay seated');

  // Nobody is connected, yet the edge node's timers run: its failure detector finds both tabs down.
  await waitFor(async () => {
    const m = (await edge.edge()).members;
    return m.filter((x) => x.node.startsWith('tab-')).every((x) => x.up === false);
  }, PATIENCE_MS, 'the edge node to detect the closed tabs down');
  const status = await edge.edge();
  // Armed (how far ahead depends on the node's next timer; on a busy machine an alarm may be
  // due already and not yet run): that it fires and re-arms is shown next.
  assert.ok(status.alarm !== null, `the object's alarm is armed (${status.alarm})`);
  // The alarm fires, runs the node's timers and re-arms itself, still with nobody connected.
  await waitFor(async () => {
    const e = await edge.edge();
    return e.alarmsFired >= status.alarmsFired + 2 && e.alarm !== null && e.alarm > status.alarm;
  }, PATIENCE_MS, 'two more alarms, and the alarm armed again for a later time');
  assert.equal(status.stats.keysHeld, written.size);

  // A new browser, a new node: everything is read back through the edge node.
  const second = await startBrowser(edge.http);
  try {
    const t3 = await second.tab('tab-3', opts);
    for (const [k, v] of written) assert.deepEqual(await t3.get(k), [v], k);
    // The new tab learns of the two closed ones by gossip from the edge node.
    const members = await waitFor(async () => {
      const m = (await t3.members()).map((x) => x.node).sort();
      return m.length >= 4 && m;
    }, PATIENCE_MS, 'tab-3 to learn every member');
    assert.deepEqual(members, ['edge', 'tab-1', 'tab-2', 'tab-3']);
  } finally {
    await second.close();
  }
});
