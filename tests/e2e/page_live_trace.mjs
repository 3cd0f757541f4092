// Live mode with three tabs (relay on 127.0.0.1:8136): each tab's Replica traces its real
// messages (`replica.trace`, opt-in), and the page flies each one on the ring between the tab
// and its peer. A put in one tab is animated there (its put and put-ack messages) and in the
// replicas that receive it; this tab is marked on the ring; a get fills the selected key's
// per-replica versions from the real get-replies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, ALL_TABS_LIVE, openPage, waitFor, waitForValue, waitForText, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8136;
let relay;
let browser;

before(async () => ({ relay, browser } = await startRig(PORT, ALL_TABS_LIVE)));

after(() => stopRig({ relay, browser }));

test('three tabs in live mode: a real put\'s messages are animated on the ring', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tabs = [];
  for (let k = 0; k < 3; k++) {
    const page = await openPage(context, `${relay.http}/#live`);
    await page.fill('#live-cluster', 'page-trace');
    await page.click('#btn-live-join');
    await page.waitForFunction(() => document.body.dataset.live);
    tabs.push(page);
  }
  const ids = await Promise.all(tabs.map((p) => p.evaluate(() => document.body.dataset.live)));
  // One ring with the three tabs as owners, in every tab.
  await waitFor(async () => {
    const rings = await Promise.all(tabs.map((p) => p.evaluate(() => window.liveReplica.ring())));
    return rings.every((r) => r && ids.every((id) => r.owners.includes(id))) && rings.every((r) => r.epoch === rings[0].epoch);
  }, PAGE_PATIENCE_MS, 'one ring with the three tabs as owners');
  for (const page of tabs) {
    await waitFor(async () => (await page.locator('#live-ring .node').count()) === 3, PAGE_PATIENCE_MS, 'three nodes on each live ring');
    // This tab is marked: its node is the selected one and says so.
    const self = await waitForValue(() => page.locator('#live-ring .node[aria-pressed="true"]').count(), (n) => n === 1, PAGE_PATIENCE_MS, 'this tab marked');
    assert.equal(self, 1);
  }
  const counts = () => Promise.all(tabs.map((p) => p.evaluate(() => ({ ...window.ringletPage.live.animated }))));
  const before = await counts();
  await tabs[0].fill('#live-key', 'trace/put');
  await tabs[0].fill('#live-value', 'hello');
  await tabs[0].click('#live-client button[type=submit]');
  await waitForText(tabs[0], '#live-result', /stored/, 'the put');
  // The put's messages were drawn: in the tab that made it, and in the replicas it reached.
  const after = await waitForValue(counts, (cs) => {
    const d = (k) => cs.reduce((a, c, i) => a + (c[k] ?? 0) - (before[i][k] ?? 0), 0);
    return d('put') >= 2 && d('put-ack') >= 2;
  }, PAGE_PATIENCE_MS, 'the put and its acks animated (each message drawn by its sender and its receiver)');
  const d = (k) => after.reduce((a, c, i) => a + (c[k] ?? 0) - (before[i][k] ?? 0), 0);
  assert.ok(d('put') >= 2, `put messages drawn: ${d('put')}`);
  assert.ok(d('put-ack') >= 2, `put-ack messages drawn: ${d('put-ack')}`);
  assert.match(await tabs[0].locator('#live-log').innerText(), /(→ put to|← put-ack from|→ forward to)/, 'the trace is in the log');
  // A get: the replicas' replies fill the key's versions.
  await tabs[1].fill('#live-key', 'trace/put');
  await tabs[1].click('#live-get');
  await waitForText(tabs[1], '#live-result', /hello/, 'the get');
  const info = await waitForText(tabs[1], '#live-key-info', /\(\[[A-Za-z0-9@~._-]+,\d+\]\)/, 'a replica\'s versions from its get-reply, in paper notation');
  assert.match(info, /primary 1/);
  await Promise.all(tabs.map((p) => p.evaluate(() => document.getElementById('btn-live-close').click())));
  for (const page of tabs) assert.deepEqual(page.problems, []);
  await context.close();
});
