// Keyboard reach and acting on the picture (relay on 127.0.0.1:8134): from the caption,
// Continue, Back, the timeline, the clock's toolbar (one Tab stop, arrows inside) and the
// ring's nodes (one Tab stop, arrows inside, Enter opens a node's actions) are the first 5
// Tab stops, and every other control of the page (found in the DOM, not from the menu) is
// reached through the toolbar's "⋯" menu by arrows and Enter; a focused node takes C (crash),
// R (restart), X (cut off / heal), P (put through it) and G (get through it), clicking a node
// opens the same actions beside it, and a request through a crashed node ends visibly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, openPage, waitForValue, waitDrawn, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8134;
let relay;
let browser;

before(async () => ({ relay, browser } = await startRig(PORT)));

after(() => stopRig({ relay, browser }));

test('from the caption, every control of the page is within 5 Tab stops (arrows and Enter inside the toolbar, the nodes and the "⋯" menu)', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.selectOption('#speed', '2000');
  await page.click('#scenario-list [data-scenario="basics"]');
  await waitForValue(() => page.evaluate(() => document.body.dataset.step), (s) => s === '1:reading', PAGE_PATIENCE_MS, 'the first caption read');
  // Every control the page has, found in the DOM (not from the menu): each gets a probe number.
  const controls = await page.evaluate(() => {
    const roots = [document.getElementById('sim-view'), document.querySelector('header.top nav')];
    const found = roots.flatMap((r) => [...r.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]);
    const ok = (el) => {
      if (el.disabled || el.id === 'caption' || el.closest('#caption-text') || el.closest('#log li') || el.closest('#more-menu')) return false;
      const hidden = el.closest('[hidden]');
      // The node's actions are hidden until a node opens them: their shown buttons count.
      if (hidden && !(hidden.id === 'node-menu' && !el.hidden)) return false;
      return el.checkVisibility() || el.closest('details:not([open])') || el.closest('#node-menu');
    };
    return found.filter(ok).map((el, i) => {
      el.dataset.probe = String(i);
      return el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30);
    });
  });
  assert.ok(controls.length > 40, `the page's controls: ${controls.length}`);
  const reached = new Set();
  const here = () => page.evaluate(() => {
    const a = document.activeElement;
    return { probe: a?.dataset?.probe ?? null, id: a?.id || (a?.classList?.contains('node') ? `node:${a.getAttribute('aria-label').split(',')[0]}` : a?.tagName) };
  });
  const mark = async () => { const h = await here(); if (h.probe !== null) reached.add(Number(h.probe)); return h.id; };
  /** Arrow `key` from the focused control until focus comes back to it; marks each control on the way. */
  const around = async (key, max = 20) => {
    const first = await here();
    await mark();
    const seen = [first.id];
    for (let k = 0; k < max; k++) {
      await page.keyboard.press(key);
      const h = await here();
      await mark();
      if (h.probe === first.probe && h.id === first.id) return seen;
      seen.push(h.id);
    }
    return seen;
  };

  // Tab stops 1-5: Continue, Back, the timeline, the toolbar, the nodes.
  await page.locator('#caption').focus();
  const stops = [];
  for (let k = 0; k < 5; k++) {
    await page.keyboard.press('Tab');
    stops.push(await mark());
  }
  assert.deepEqual(stops.slice(0, 4), ['btn-continue', 'btn-back', 'timeline', 'btn-play'], `Tab stops: ${stops}`);
  assert.match(stops[4], /^node:Node [A-E]$/, `the fifth stop is the ring's nodes: ${stops}`);
  // The nodes: arrows move from node to node; Enter opens a node's actions, arrows move among them.
  assert.equal((await around('ArrowRight')).length, 5, 'five nodes on the arrows');
  await page.keyboard.press('Enter');
  assert.equal(await page.isVisible('#node-menu'), true, 'Enter opens the node\'s actions');
  const actions = await around('ArrowDown');
  assert.deepEqual(actions.length, 5, `the node's actions on the arrows: ${actions}`);
  await page.keyboard.press('Escape');
  // The toolbar is one stop: its other controls are on the arrows.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await here().then((h) => h.id), 'btn-play');
  const inBar = await around('ArrowRight');
  assert.deepEqual(inBar, ['btn-play', 'btn-step', 'speed', 'autoplay', 'skip-quiet', 'btn-more'], `arrows in the clock toolbar: ${inBar}`);

  // "⋯" (4 Tab stops, then End): every section, and every control of each, by arrows and Enter.
  const openMenu = async () => {
    await page.locator('#caption').focus();
    for (let k = 0; k < 4; k++) await page.keyboard.press('Tab');
    await page.keyboard.press('End');
    assert.equal(await here().then((h) => h.id), 'btn-more');
    await page.keyboard.press('Enter');
  };
  const menuItems = () => page.locator('#more-menu button').evaluateAll((bs) => bs.map((b) => b.textContent));
  await openMenu();
  const sections = await menuItems();
  assert.ok(sections.length >= 6, `the menu's sections: ${sections}`);
  for (let s = 0; s < sections.length; s++) {
    await openMenu();
    for (let k = 0; k < s; k++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const entries = await menuItems();
    assert.equal(entries[0], `◂ ${sections[s].replace(' ▸', '')}`, 'a section opens with its way back');
    for (let e = 1; e < entries.length; e++) {
      await openMenu();
      for (let k = 0; k < s; k++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      for (let k = 1; k < e; k++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const h = await here();
      assert.notEqual(h.probe, null, `"${sections[s]}" → "${entries[e]}" lands on a control (${h.id})`);
      assert.equal(await page.isVisible('#more-menu'), false, 'the menu closes on the way');
      reached.add(Number(h.probe));
    }
  }
  const missing = controls.filter((_, i) => !reached.has(i));
  assert.deepEqual(missing, [], 'every control of the page reached within 5 Tab stops of the caption');
  // Escape closes the menu and returns to "⋯"; ← returns from a section to the sections.
  await openMenu();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.locator('#more-menu').getAttribute('data-level'), '2');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.locator('#more-menu').getAttribute('data-level'), '1');
  await page.keyboard.press('Escape');
  assert.equal(await here().then((h) => h.id), 'btn-more');
  // N continues from anywhere but a text field.
  await page.locator('#caption').focus();
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
