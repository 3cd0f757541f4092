// The version graph and the notation (relay on 127.0.0.1:8137): figure 3 draws
// D1 → D2 → D3 ∥ D4 → D5 in the paper's notation; the DVV scenario draws A ∥ B → A+B with
// dot and past on the page (not in a tooltip); the notation link opens the glossary at its
// entry, and the glossary explains the actor names a clock can show (A@i1, A@1000, A~5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRigWithPage, runScenario,
} from './page_support.mjs';

const PORT = 8137;
let relay;
let browser;
let page;

before(async () => ({ relay, browser, page } = await startRigWithPage(PORT)));

after(() => stopRig({ relay, browser }));

/** The graph as drawn: layers of [value, clock text]. */
const graph = () => page.evaluate(() => {
  window.ringletPage.flushViews();
  return [...document.querySelectorAll('#vgraph .vlayer')].map((l) => [...l.querySelectorAll('.ver')].map((v) => v.textContent.replace(/\s+/g, ' ').replace(' ?', '').trim()));
});

test('figure 3: the version graph is D1 → D2 → D3 ∥ D4 → D5, in the paper\'s notation', async () => {
  const { state } = await runScenario(page, 'figure3');
  assert.equal(state, 'figure3:done');
  assert.deepEqual(await graph(), [
    ['D1 ([Sx,1])'], ['D2 ([Sx,2])'], ['D3 ([Sx,2],[Sy,1])', 'D4 ([Sx,2],[Sz,1])'], ['D5 ([Sx,3],[Sy,1],[Sz,1])'],
  ]);
  assert.equal(await page.locator('#vgraph .conc').count(), 1, 'one ∥ between the concurrent D3 and D4');
  assert.equal(await page.locator('#vgraph .arrow').count(), 3);
});

test('why dotted version vectors: A ∥ B with dot and past written out, then A+B', async () => {
  const { state } = await runScenario(page, 'dvv');
  assert.equal(state, 'dvv:done');
  const g = await graph();
  assert.equal(g.length, 2, `two layers: ${JSON.stringify(g)}`);
  assert.deepEqual(g[0].map((t) => t.split(' ')[0]).sort(), ['A', 'B']);
  assert.match(g[1][0], /^A\+B \(\[Sx,3\]\)$/);
  // While A and B were siblings the page wrote dot and past out (the caption's table and the
  // comparisons), never only in a tooltip.
  const merges = await page.locator('#merges').innerText();
  assert.match(merges, /\[Sx,2\] past \(\)/, 'the comparison names B by dot and past');
  assert.match(merges, /concurrent/);
});

test('the notation link opens the glossary at its entry; the actor names are explained', async () => {
  await page.click('a[href="#g-clock"]');
  assert.equal(await page.evaluate(() => document.getElementById('glossary').open), true);
  const actors = await page.locator('#g-actors').innerText();
  for (const name of ['A@i1', 'A@1000', 'A~5']) assert.ok(actors.includes(name), `${name} is explained`);
  assert.match(await page.locator('#g-actors + dd').innerText(), /lost data/);
  assert.deepEqual(page.problems, []);
});
