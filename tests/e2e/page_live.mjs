// Live mode of the teaching page: each tab opens a real Replica (the npm package) against a
// real relay on 127.0.0.1:8092; two tabs that join the same cluster both show two members.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, ALL_TABS_LIVE, openPage, waitFor, waitForValue, waitForText, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8092;
let relay;
let browser;

before(async () => ({ relay, browser } = await startRig(PORT, ALL_TABS_LIVE)));

after(() => stopRig({ relay, browser }));

test('two tabs in live mode become two members of one ring', async () => {
  const context = await browser.newContext();
  const tabs = [];
  for (let k = 0; k < 2; k++) {
    const page = await openPage(context, `${relay.http}/#live`);
    await page.fill('#live-cluster', 'page-live');
    await page.click('#btn-live-join');
    await page.waitForFunction(() => document.body.dataset.live);
    tabs.push(page);
  }
  const ids = await Promise.all(tabs.map((p) => p.evaluate(() => document.body.dataset.live)));
  assert.notEqual(ids[0], ids[1]);
  for (const page of tabs) {
    await waitFor(async () => (await page.evaluate(() => document.body.dataset.liveMembers)) === '2', PAGE_PATIENCE_MS, 'two members in each tab');
    const rows = await waitForValue(() => page.locator('#live-members tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.node).sort()),
      (r) => r.length === 2, PAGE_PATIENCE_MS, 'two rows in the members table');
    assert.deepEqual(rows, [...ids].sort());
    await waitFor(async () => (await page.locator('#live-ring .node').count()) === 2, PAGE_PATIENCE_MS, 'two nodes on the live ring');
  }
  // Both own partitions of the same ring once the claimant included the second node.
  await waitFor(async () => {
    const rings = await Promise.all(tabs.map((p) => p.evaluate(() => window.liveReplica.ring())));
    return rings.every((r) => r && ids.every((id) => r.owners.includes(id)))
      && rings[0].epoch === rings[1].epoch;
  }, PAGE_PATIENCE_MS, 'one ring with both tabs as owners');
  // A put in one tab is read in the other, through the relay.
  await tabs[0].fill('#live-key', 'page/live');
  await tabs[0].fill('#live-value', 'hello');
  await tabs[0].click('#live-client button[type=submit]');
  await waitForText(tabs[0], '#live-result', /stored/, 'the put');
  await tabs[1].fill('#live-key', 'page/live');
  await tabs[1].click('#live-get');
  await waitForText(tabs[1], '#live-result', /hello/, 'the get in the other tab');
  // The stats line is redrawn twice a second.
  const stats = await waitForText(tabs[1], '#live-stats', /frames in [1-9]/, 'frames counted in the stats line');
  assert.match(stats, /frames in [1-9]/);
  await Promise.all(tabs.map((p) => p.evaluate(() => document.getElementById('btn-live-close').click())));
  for (const page of tabs) assert.deepEqual(page.problems, []);
  await context.close();
});
