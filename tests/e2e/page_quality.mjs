// Quality of the teaching page in headless Chromium (relay on 127.0.0.1:8093): a big cluster
// (16 nodes, 256 partitions, 8 clients) runs at every animation speed without console
// problems, and the layout holds at 1280x800 and at phone width. Its frame times are a
// benchmark, not a test: `node scripts/bench-page.mjs`. With RINGLET_SCREENSHOTS=1 it also
// saves the screenshots of the README and docs/teaching-page.md under www/app/screenshots/
// (scenarios played at their normal speed, captured mid-caption).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  launch, openPage, startRelay, waitFor, waitForValue, waitDrawn, sleep, ROOT, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8093;
const SHOTS = process.env.RINGLET_SCREENSHOTS === '1' ? path.join(ROOT, 'www', 'app', 'screenshots') : null;
let relay;
let browser;

before(async () => {
  relay = await startRelay(PORT);
  browser = await launch();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** What the page shows of its simulation: messages so far, virtual time, log lines, clients' requests. */
const progress = (page) => page.evaluate(() => {
  const app = window.ringletPage;
  const s = app.sim.state();
  return {
    messages: s.messages, vt: app.engine.vt, lines: document.querySelectorAll('#log li').length,
    requests: s.nodes.reduce((a, n) => a + n.gets + n.puts, 0),
  };
});

test('16 nodes, 256 partitions, 8 clients: the simulation runs at every speed, without console problems', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await page.evaluate(() => window.ringletPage.newCluster({ nodes: 16, q: 256, n: 3, r: 2, w: 2, clients: 8, seed: 3 }));
  const drawn = await waitForValue(() => page.evaluate(() => ({
    nodes: document.querySelectorAll('#ring .node').length, partitions: document.querySelectorAll('#ring-bg path').length,
  })), (v) => v.nodes === 16 && v.partitions >= 256, PAGE_PATIENCE_MS, '16 nodes and 256 partitions drawn');
  assert.equal(drawn.nodes, 16);
  await page.check('#log-background');
  await page.click('#btn-play');
  for (const speed of ['100', '400', '2000']) {
    await page.selectOption('#speed', speed);
    // At each speed the clock moves on, messages flow, the clients' requests are served and
    // the log (gossip shown) fills: waited for, however slowly the frames come.
    const at = await progress(page);
    const later = await waitForValue(() => progress(page),
      (p) => p.vt > at.vt + 1_000 && p.messages > at.messages + 100 && p.requests > at.requests && p.lines > 0,
      PAGE_PATIENCE_MS, `the simulation to advance at speed ${speed}`);
    assert.ok(later.messages > at.messages, `messages ${at.messages} -> ${later.messages} at speed ${speed}`);
    assert.ok(later.lines > 0, 'the log shows the messages');
  }
  if (SHOTS) {
    await page.selectOption('#speed', '400');
    await sleep(1_000); // the picture only: messages in flight
    await page.screenshot({ path: path.join(SHOTS, 'sixteen-nodes.png') });
  }
  await page.click('#btn-play');
  assert.equal(await page.getAttribute('#btn-play', 'aria-pressed'), 'false');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('phone width: one column, nothing wider than the screen', async () => {
  const page = await openPage(browser, `${relay.http}/`, { viewport: { width: 390, height: 844 } });
  await waitDrawn(page); // the layout with the ring and the key drawn
  const layout = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    ring: document.getElementById('ring').getBoundingClientRect().width,
    ringBottom: document.getElementById('ring').getBoundingClientRect().bottom,
    caption: document.getElementById('caption').getBoundingClientRect().bottom,
    versions: document.getElementById('replicas').getBoundingClientRect().top,
  }));
  assert.ok(layout.scroll <= 391, `page width ${layout.scroll}`);
  assert.ok(layout.ring >= 340, `the ring uses the width (${layout.ring} px)`);
  // A scenario can be followed: the caption above the ring, the key's versions right below it.
  assert.ok(layout.caption <= layout.ringBottom, 'the caption comes before the ring');
  assert.ok(layout.versions - layout.ringBottom < 300, `the versions ${Math.round(layout.versions - layout.ringBottom)} px below the ring`);
  if (SHOTS) {
    await page.click('#btn-play');
    await sleep(2_500);
    await page.screenshot({ path: path.join(SHOTS, 'phone.png') });
  }
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('1280x800: ring, caption, key inspector and log are all on screen', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  const boxes = await page.evaluate(() => Object.fromEntries(['ring', 'caption', 'replicas', 'log', 'scenario-list'].map((id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return [id, { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right) }];
  })));
  for (const [id, b] of Object.entries(boxes)) {
    assert.ok(b.top < 800 && b.right <= 1280 && b.left >= 0, `${id} visible: ${JSON.stringify(b)}`);
  }
  assert.ok(boxes.ring.bottom <= 800, `the whole ring fits: ${JSON.stringify(boxes.ring)}`);
  assert.ok(boxes.log.bottom <= 800, `the newest log lines are on screen: ${JSON.stringify(boxes.log)}`);
  await page.close();
});

test('screenshots for the README (RINGLET_SCREENSHOTS=1)', { skip: !SHOTS }, async () => {
  const page = await openPage(browser, `${relay.http}/`);
  // Figure 3, caught while D3 and D4 are siblings.
  await page.selectOption('#speed', '100');
  await page.click('[data-scenario="figure3"]');
  await waitFor(() => page.evaluate(() => /every replica keeps <b>both<\/b>/.test(document.getElementById('caption-text').innerHTML)), PAGE_PATIENCE_MS, 'the D3/D4 caption');
  await page.uncheck('#autoplay');
  await sleep(600);
  await page.screenshot({ path: path.join(SHOTS, 'figure3-siblings.png') });
  await page.check('#autoplay');
  await page.selectOption('#speed', 'max');
  await page.waitForFunction(() => document.body.dataset.scenario === 'figure3:done');
  await page.screenshot({ path: path.join(SHOTS, 'figure3-done.png') });
  // Hinted handoff, caught while the hinted put is in flight.
  await page.selectOption('#speed', '100');
  await page.click('[data-scenario="handoff"]');
  await waitFor(() => page.evaluate(() => /sloppy quorum<\/b>/.test(document.getElementById('caption-text').innerHTML)), PAGE_PATIENCE_MS, 'the hint caption');
  await sleep(1_200);
  await page.uncheck('#autoplay');
  await page.screenshot({ path: path.join(SHOTS, 'hinted-handoff.png') });
  await page.check('#autoplay');
  // Anti-entropy, caught while the trees are compared.
  await page.selectOption('#speed', '400');
  await page.click('[data-scenario="antientropy"]');
  await waitFor(() => page.evaluate(() => /Merkle tree/.test(document.getElementById('caption-text').innerHTML)), PAGE_PATIENCE_MS, 'the Merkle caption');
  await page.evaluate(() => { document.getElementById('btn-continue').click(); });
  await waitFor(() => page.evaluate(() => [...document.querySelectorAll('#log li')].slice(0, 14).some((li) => /keys that differ/.test(li.textContent))), PAGE_PATIENCE_MS, 'a Merkle step naming the differing keys');
  await page.click('#btn-play');
  await page.screenshot({ path: path.join(SHOTS, 'anti-entropy.png') });
  await page.click('#btn-play');
  await page.close();
  // Live mode with two tabs.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tabs = [];
  for (let k = 0; k < 2; k++) {
    const p = await openPage(context, `${relay.http}/#live`);
    await p.fill('#live-cluster', 'shots');
    await p.click('#btn-live-join');
    await p.waitForFunction(() => document.body.dataset.live);
    tabs.push(p);
  }
  await waitFor(async () => (await tabs[0].evaluate(() => document.body.dataset.liveMembers)) === '2', PAGE_PATIENCE_MS, 'two members');
  await sleep(1_500);
  await tabs[0].screenshot({ path: path.join(SHOTS, 'live.png') });
  await context.close();
});
