// The Merkle view of the anti-entropy scenario (relay on 127.0.0.1:8133): once an exchange
// with the stale replica finds a difference, both replicas' trees of that partition are drawn
// side by side; only the children of differing nodes are shown, the differing branches are
// marked, the keys under the differing leaves are listed with the changed key(s) marked, and
// the exchange's bytes on the wire stand against those of a comparison without the tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, openPage, runScenario, waitDrawn,
} from './page_support.mjs';

const PORT = 8133;
let relay;
let browser;

before(async () => ({ relay, browser } = await startRig(PORT)));

after(() => stopRig({ relay, browser }));

test('anti-entropy: the Merkle view shows the differing branches down to the changed keys', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  assert.equal(await page.isHidden('#merkle-card'), true, 'no tree before any exchange finds a difference');
  const { state, result } = await runScenario(page, 'antientropy');
  assert.equal(state, 'antientropy:done');
  const t = result.tree;
  assert.ok(['item/3', 'item/7'].some((k) => t.keysDiffer.includes(k)), `the exchange found a changed key (${t.keysDiffer})`);
  assert.ok(t.keysDiffer.every((k) => k === 'item/3' || k === 'item/7'), `only changed keys differ (${t.keysDiffer})`);
  assert.ok(t.diff1 >= 1 && t.diff1 <= 2, `one or two of the root's branches differ (${t.diff1})`);
  // The view as drawn: the latest exchange that found a difference.
  await page.evaluate(() => window.ringletPage.flushViews());
  const shown = await page.evaluate(() => {
    const x = window.ringletPage.merkle.shown;
    const v = x.view;
    return {
      partition: v.partition, a: v.a, b: v.b, bytes: x.bytes,
      diff1: v.nodes.filter((n) => n.depth === 1 && n.differ).length,
      keysDiffer: v.keys.filter((k) => k.differ).map((k) => k.key),
    };
  });
  assert.ok(shown.keysDiffer.length > 0 && shown.keysDiffer.every((k) => k === 'item/3' || k === 'item/7'), `the drawn exchange's differing keys (${shown.keysDiffer})`);
  const drawn = await page.evaluate(() => {
    const card = document.getElementById('merkle-card');
    const trees = [...card.querySelectorAll('.mk-tree')];
    const cells = (tree, d) => [...tree.querySelectorAll(`.mk-cell[data-depth="${d}"]`)];
    return {
      hidden: card.hidden,
      partition: Number(card.dataset.partition),
      names: trees.map((tr) => tr.querySelector('.mk-name').textContent),
      depth1: trees.map((tr) => cells(tr, 1).length),
      depth1Differ: trees.map((tr) => cells(tr, 1).filter((c) => c.dataset.differ === 'true').length),
      depth2: trees.map((tr) => cells(tr, 2).length),
      keys: [...card.querySelectorAll('.mk-keys tr[data-key]')].map((r) => [r.dataset.key, r.dataset.differ === 'true']),
      bytes: Number(document.getElementById('merkle-bytes').dataset.bytes),
      full: Number(document.getElementById('merkle-bytes').dataset.full),
    };
  });
  assert.equal(drawn.hidden, false, 'the Merkle view is shown');
  assert.equal(drawn.partition, shown.partition);
  assert.equal(drawn.names.length, 2, 'two trees side by side');
  assert.match(drawn.names[0], new RegExp(`^${shown.a} `));
  assert.match(drawn.names[1], new RegExp(`^${shown.b} `));
  assert.deepEqual(drawn.depth1, [16, 16], 'the root\'s 16 children, in each tree');
  assert.deepEqual(drawn.depth1Differ, [shown.diff1, shown.diff1], 'the differing branches are marked in both trees');
  assert.ok(shown.diff1 >= 1 && shown.diff1 < 16, 'some branches differ, not all');
  // Only the children of differing nodes are drawn below the first level.
  assert.deepEqual(drawn.depth2, [16 * shown.diff1, 16 * shown.diff1], 'depth 2: the children of the differing branches only');
  const differing = drawn.keys.filter(([, d]) => d).map(([k]) => k).sort();
  assert.deepEqual(differing, [...shown.keysDiffer].sort(), 'the keys under the differing leaves: the changed ones marked');
  assert.ok(drawn.keys.length < 96 / 8 + 8, `only the keys under the differing leaves are listed (${drawn.keys.length})`);
  assert.equal(drawn.bytes, shown.bytes);
  assert.ok(drawn.bytes > 0 && drawn.full > 0);
  assert.ok(drawn.bytes < drawn.full, `the exchange sent less than a full comparison (${drawn.bytes} < ${drawn.full} bytes)`);
  assert.deepEqual(page.problems, []);
  await page.close();
});
