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
  stopRig, startRig, openPage, waitFor, waitForValue, waitDrawn, sleep, ROOT, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8093;
const SHOTS = process.env.RINGLET_SCREENSHOTS === '1' ? path.join(ROOT, 'www', 'app', 'screenshots') : null;
let relay;
let browser;

before(async () => {
  ({ relay, browser } = await startRig(PORT));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(() => stopRig({ relay, browser }));

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

/** Play scenario `id` at the learner's pace and save a screenshot at the caption matching `re`. */
async function shotAt(page, id, re, file) {
  await page.selectOption('#speed', '2000');
  if (await page.isChecked('#autoplay')) await page.uncheck('#autoplay');
  await page.click(`[data-scenario="${id}"]`);
  for (let last = ''; ;) {
    const s = await waitForValue(() => page.evaluate(() => ({ step: document.body.dataset.step ?? '', scenario: document.body.dataset.scenario ?? '' })),
      (v) => (v.step.endsWith(':reading') && v.step !== last) || /:(done|failed)$/.test(v.scenario), PAGE_PATIENCE_MS, `the next step of ${id}`);
    if (/:(done|failed)$/.test(s.scenario)) throw new Error(`${id} ended before a caption matched ${re}`);
    last = s.step;
    if (re.test(await page.locator('#caption-text').innerText())) break;
    await page.keyboard.press('n');
  }
  await page.evaluate(() => window.ringletPage.flushViews());
  await page.screenshot({ path: path.join(SHOTS, file) });
}

test('screenshots for the README (RINGLET_SCREENSHOTS=1)', { skip: !SHOTS }, async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  // Each scenario at its key moment, while its caption is read.
  await shotAt(page, 'basics', /once it had W=2/, 'basics.png');
  await shotAt(page, 'figure3', /keeps\s+both/, 'figure3-siblings.png');
  await page.check('#autoplay');
  await page.evaluate(() => { window.ringletPage.scenarios.msPerWord = 5; });
  await page.waitForFunction(() => document.body.dataset.scenario === 'figure3:done');
  await page.evaluate(() => { window.ringletPage.scenarios.msPerWord = undefined; });
  await page.screenshot({ path: path.join(SHOTS, 'figure3-done.png') });
  await shotAt(page, 'handoff', /W=3 reached with the fallback/, 'hinted-handoff.png');
  await shotAt(page, 'readrepair', /read-repair/, 'read-repair.png');
  await shotAt(page, 'antientropy', /roots differ/, 'anti-entropy.png');
  await shotAt(page, 'join', /outlined on the ring/, 'join.png');
  await shotAt(page, 'dvv', /Both survive/, 'dvv.png');
  await page.close();
  // Phone width: figure 3's siblings, the versions right below the ring.
  const phone = await openPage(browser, `${relay.http}/`, { viewport: { width: 390, height: 844 } });
  await waitDrawn(phone);
  await shotAt(phone, 'figure3', /keeps\s+both/, 'phone.png');
  await phone.close();
  // Live mode with three tabs, after a put in the first.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tabs = [];
  for (let k = 0; k < 3; k++) {
    const p = await openPage(context, `${relay.http}/#live`);
    await p.fill('#live-cluster', 'shots');
    await p.click('#btn-live-join');
    await p.waitForFunction(() => document.body.dataset.live);
    tabs.push(p);
  }
  await waitFor(async () => (await tabs[0].evaluate(() => document.body.dataset.liveMembers)) === '3', PAGE_PATIENCE_MS, 'three members');
  await tabs[0].fill('#live-key', 'cart/ada');
  await tabs[0].click('#live-client button[type=submit]');
  await waitFor(() => tabs[0].evaluate(() => (window.ringletPage.live.animated['put-ack'] ?? 0) > 0), PAGE_PATIENCE_MS, 'a put animated');
  await tabs[0].click('#live-get');
  await waitFor(() => tabs[0].evaluate(() => [...window.ringletPage.live.ring.flights.values()].some((f) => !f.routine)), PAGE_PATIENCE_MS, 'a message in the air');
  await tabs[0].screenshot({ path: path.join(SHOTS, 'live.png') });
  await context.close();
});
