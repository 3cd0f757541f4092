// Keyboard reach and acting on the picture (relay on 127.0.0.1:8134): from the caption,
// Continue, Back, the timeline, the clock's toolbar (one Tab stop, arrows inside; its "⋯"
// leads to the faults, cluster, key, log and glossary) and the ring's nodes (one Tab stop) are
// within 5 Tab presses; a focused node takes C (crash),
// R (restart), X (cut off / heal), P (put through it) and G (get through it), clicking a node
// opens the same actions beside it, and a request through a crashed node ends visibly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, openPage, startRelay, waitForValue, waitDrawn, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8134;
let relay;
let browser;

before(async () => {
  relay = await startRelay(PORT);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a?.id || (a?.classList?.contains('node') ? `node:${a.getAttribute('aria-label').split(',')[0]}` : a?.tagName);
});

test('from the caption, Continue, Back, the timeline, the clock and the nodes are within 5 Tab stops', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.selectOption('#speed', '2000');
  await page.click('#scenario-list [data-scenario="basics"]');
  await waitForValue(() => page.evaluate(() => document.body.dataset.step), (s) => s === '1:reading', PAGE_PATIENCE_MS, 'the first caption read');
  await page.locator('#caption').focus();
  const stops = [];
  for (let k = 0; k < 5; k++) {
    await page.keyboard.press('Tab');
    stops.push(await focused(page));
  }
  assert.deepEqual(stops.slice(0, 4), ['btn-continue', 'btn-back', 'timeline', 'btn-play'], `Tab stops: ${stops}`);
  assert.match(stops[4], /^node:Node [A-E]$/, `the fifth stop is the ring's nodes: ${stops}`);
  // The toolbar is one stop: its other controls are on the arrows.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'btn-play');
  const inBar = [];
  for (let k = 0; k < 5; k++) {
    await page.keyboard.press('ArrowRight');
    inBar.push(await focused(page));
  }
  assert.deepEqual(inBar, ['btn-step', 'speed', 'autoplay', 'skip-quiet', 'btn-more'], `arrows in the clock toolbar: ${inBar}`);
  // "⋯" (the toolbar's last control) leads to every other control: faults, cluster, key, log, glossary.
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Faults', 'the menu opens on its first entry');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'set-nodes', 'Cluster set-up: the folded form opens at its first control');
  await page.locator('#btn-more').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'fault-node', 'Faults: the first fault control');
  await page.locator('#btn-more').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(page), 'btn-play');
  // The nodes are one stop too: arrows move from node to node.
  await page.keyboard.press('Tab');
  const first = await focused(page);
  await page.keyboard.press('ArrowRight');
  const second = await focused(page);
  assert.match(second, /^node:/);
  assert.notEqual(second, first);
  // N continues from anywhere but a text field.
  await page.keyboard.press('n');
  await waitForValue(() => page.evaluate(() => document.body.dataset.step), (s) => s !== '1:reading', PAGE_PATIENCE_MS, 'the scenario to go on');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('acting on the picture: crash, a put through the crashed node ends visibly, restart, cut off and heal, get', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.evaluate(() => window.ringletPage.newCluster({ nodes: 5, q: 32, n: 3, r: 2, w: 2, clients: 0, seed: 5 }));
  await page.selectOption('#speed', '2000');
  const nodeB = page.locator('#ring .node').nth(1);
  const up = () => page.evaluate(() => window.ringletPage.sim.state().nodes[1].up);
  await nodeB.focus();
  await page.keyboard.press('c');
  assert.equal(await up(), false, 'C crashed B');
  await waitForValue(() => nodeB.getAttribute('aria-label'), (l) => /^Node B, crashed/.test(l), PAGE_PATIENCE_MS, 'B drawn as crashed');
  // A put through the crashed node: the client is told, it does not wait forever.
  await page.keyboard.press('p');
  const result = await waitForValue(() => page.locator('#client-result').evaluate((e) => ({ text: e.innerText, cls: e.className })),
    (r) => /\bbad\b/.test(r.cls), PAGE_PATIENCE_MS, 'the put through the crashed node to end');
  assert.match(result.text, /request \d+: [A-Z_]+ —/, `an error with its code: ${result.text}`);
  await page.keyboard.press('r');
  assert.equal(await up(), true, 'R restarted B');
  await page.keyboard.press('x');
  let s = await page.evaluate(() => window.ringletPage.sim.state());
  assert.equal(s.partitioned, true, 'X cut B off');
  assert.equal(s.nodes[1].side, 1);
  await page.keyboard.press('x');
  s = await page.evaluate(() => window.ringletPage.sim.state());
  assert.equal(s.partitioned, false, 'X again healed');
  await page.keyboard.press('g');
  const got = await waitForValue(() => page.locator('#client-result').evaluate((e) => ({ text: e.innerText, cls: e.className })),
    (r) => /\bok\b/.test(r.cls), PAGE_PATIENCE_MS, 'the get through B to answer');
  assert.match(got.text, /request \d+:/);
  // A click opens the node's actions beside it; its buttons act the same way.
  await page.locator('#ring .node').nth(3).click();
  assert.equal(await page.isVisible('#node-menu'), true);
  assert.equal(await page.locator('#node-menu-name').innerText(), 'D');
  await page.click('#node-menu [data-action="crash"]');
  assert.equal(await page.evaluate(() => window.ringletPage.sim.state().nodes[3].up), false, 'the menu crashed D');
  assert.equal(await page.isVisible('#node-menu [data-action="restart"]'), true, 'and now offers Restart');
  await page.keyboard.press('Escape');
  // The log is one Tab stop, whatever its length; the arrows move between its lines.
  await waitForValue(() => page.locator('#log li').count(), (n) => n >= 3, PAGE_PATIENCE_MS, 'log lines');
  const logStops = await page.evaluate(() => ({
    list: document.getElementById('log').tabIndex,
    lines: [...document.querySelectorAll('#log button')].filter((b) => b.tabIndex >= 0).length,
  }));
  assert.deepEqual(logStops, { list: 0, lines: 0 }, 'one Tab stop for the log, none per line');
  await page.locator('#log').focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.closest('#log') !== null && document.activeElement.tagName), 'BUTTON');
  assert.deepEqual(page.problems, []);
  await page.close();
});
