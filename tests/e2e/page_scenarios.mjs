// The teaching page (www/index.html) in headless Chromium against a real relay on
// 127.0.0.1:8091: it loads without console errors, every guided scenario runs to its end and
// leaves the state it explains (figure 3: exactly the paper's clocks D1..D5), the fault
// buttons change what they should, a seed replays the same run, and the page is usable by
// keyboard with every control labelled. Whatever the page draws on its animation frames (ring
// labels, the log) is waited for, not read at once: a busy machine draws later.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, openPage, runScenario, replicaVersions, waitFor, waitForValue, waitForText, nodeLabels, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8091;
let relay;
let browser;
let page;

before(async () => {
  ({ relay, browser } = await startRig(PORT));
  page = await openPage(browser, `${relay.http}/`);
});

after(() => stopRig({ relay, browser }));

test('the page loads the real core and draws the ring without console errors', async () => {
  // The ring is drawn on the animation frames after the page is ready.
  const view = await waitForValue(() => page.evaluate(() => ({
    partitions: document.querySelectorAll('#ring-bg path').length,
    nodes: [...document.querySelectorAll('#ring .node')].map((n) => n.getAttribute('aria-label')),
    key: document.getElementById('key-info').innerText,
  })), (v) => v.partitions >= 32 && v.nodes.length === 5 && /partition \d+ of 32/.test(v.key), PAGE_PATIENCE_MS, 'the ring and the key drawn');
  assert.ok(view.partitions >= 32, `32 partitions drawn, got ${view.partitions}`);
  assert.equal(view.nodes.length, 5);
  assert.match(view.nodes[0], /^Node A, valid/);
  assert.match(view.key, /partition \d+ of 32/);
  // Play: the clients' requests flow and the log fills.
  await page.click('#btn-play');
  await waitFor(() => page.evaluate(() => document.querySelectorAll('#log li').length > 5), PAGE_PATIENCE_MS, 'log lines');
  await page.click('#btn-play');
  assert.deepEqual(page.problems, []);
});

test('paper figure 3: exactly the paper\'s clocks D1..D5, siblings in the middle, D5 everywhere', async () => {
  const { state, result } = await runScenario(page, 'figure3');
  assert.equal(state, 'figure3:done');
  assert.equal(result.D1, '[(Sx,1)]');
  assert.equal(result.D2, '[(Sx,2)]');
  assert.equal(result.D3, '[(Sx,2),(Sy,1)]');
  assert.equal(result.D4, '[(Sx,2),(Sz,1)]');
  assert.deepEqual(result.read, ['[(Sx,2),(Sy,1)]', '[(Sx,2),(Sz,1)]'], 'the read returns D3 and D4 as siblings');
  assert.equal(result.readContext, '[(Sx,2),(Sy,1),(Sz,1)]');
  assert.equal(result.D5, '[(Sx,3),(Sy,1),(Sz,1)]');
  const shown = await page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll('#figure3-clocks [data-clock]')].map((e) => [e.dataset.clock, e.textContent])));
  // The page writes clocks in the paper's notation: D3([Sx,2],[Sy,1]).
  assert.deepEqual(shown, {
    D1: '([Sx,1])', D2: '([Sx,2])', D3: '([Sx,2],[Sy,1])', D4: '([Sx,2],[Sz,1])', D5: '([Sx,3],[Sy,1],[Sz,1])',
  });
  const replicas = await replicaVersions(page);
  assert.deepEqual(replicas, {
    Sx: ['D5 ([Sx,3],[Sy,1],[Sz,1])'], Sy: ['D5 ([Sx,3],[Sy,1],[Sz,1])'], Sz: ['D5 ([Sx,3],[Sy,1],[Sz,1])'],
  }, 'every replica holds D5 alone');
  const merges = await page.locator('#merges').innerText();
  assert.match(merges, /concurrent/, 'the D3/D4 comparison is shown as concurrent');
  assert.match(merges, /descends from/, 'the D5 merge is shown as descending');
});

test('the basics: a forwarded put and a get', async () => {
  const { state, result } = await runScenario(page, 'basics');
  assert.equal(state, 'basics:done');
  assert.match(result.put, /^\[\([A-E],1\)\]$/);
  assert.deepEqual(result.get, ['milk']);
  const log = await page.locator('#log').innerText();
  assert.match(log, /forward/, 'the put was forwarded by a node outside the preference list');
});

test('sloppy quorum and hinted handoff: a fallback holds a hint, then delivers it', async () => {
  const { state, result } = await runScenario(page, 'handoff');
  assert.equal(state, 'handoff:done');
  const [, p1, , f0] = result.preflist;
  assert.equal(result.hintedTo, f0, 'the first fallback took the write');
  assert.equal(result.hint, `${f0} holds book for ${p1}`);
  assert.equal(result.delivered.length, 1);
  assert.match(result.delivered[0], /^book \[/);
  const replicas = await replicaVersions(page);
  assert.match(replicas[p1][0], /^book /, 'the recovered primary holds the version');
  assert.equal(await page.locator('#replicas .ver.hint').count(), 0, 'no hint is left');
  assert.match(await page.locator('#log').innerText(), /hint-delivery/);
});

test('read repair: the stale replica gets the newer version', async () => {
  const { state, result } = await runScenario(page, 'readrepair');
  assert.equal(state, 'readrepair:done');
  assert.match(result.stale[0], /^v1 /);
  assert.deepEqual(result.read, ['v2']);
  assert.match(result.repaired[0], /^v2 /);
  assert.match(await page.locator('#repaired').innerText(), /^v2 /);
});

test('anti-entropy: only the two keys that differ move', async () => {
  const { state, result } = await runScenario(page, 'antientropy');
  assert.equal(state, 'antientropy:done');
  assert.deepEqual(result.moved, ['item/3', 'item/7']);
  assert.ok(result.merkle > 0, 'Merkle exchanges happened');
  assert.equal(await page.locator('#ae-moved').innerText(), 'item/3, item/7');
});

test('join and rebalance: partitions move only to the new node, and its keys follow', async () => {
  const { state, result } = await runScenario(page, 'join');
  assert.equal(state, 'join:done');
  assert.ok(result.moved >= 5 && result.moved <= 8, `about 32/5 partitions move, got ${result.moved}`);
  assert.equal(result.toE, result.moved);
  assert.ok(result.keysOnE > 0);
  const labels = await waitForValue(() => nodeLabels(page), (ls) => ls.length === 5 && /^Node E, valid, [5-8] partitions/.test(ls[4]),
    PAGE_PATIENCE_MS, 'E drawn as a valid owner of 5-8 partitions');
  assert.equal(labels.length, 5);
  assert.match(labels[4], /^Node E, valid, [5-8] partitions/);
});

test('why dotted version vectors: two blind writes through one node both survive', async () => {
  const { state, result } = await runScenario(page, 'dvv');
  assert.equal(state, 'dvv:done');
  assert.equal(result.A, '(Sx,1)');
  assert.equal(result.B, '(Sx,2)');
  assert.deepEqual(result.values, ['A', 'B']);
  assert.equal(result.merged, '[(Sx,3)]');
  assert.equal(await page.locator('[data-values]').innerText(), 'A, B');
});

test('fault buttons: crash and restart, cut and heal, latency, join', async () => {
  await page.selectOption('#speed', '400');
  // The cluster form is folded at first (1280x800 keeps the ring and the controls on screen).
  if (!(await page.evaluate(() => document.getElementById('setup-card').open))) await page.click('#setup-card summary');
  await page.selectOption('#set-nodes', '5');
  await page.click('#btn-new');
  await page.waitForFunction(() => document.body.dataset.nodes === '5');
  const state = () => page.evaluate(() => window.ringletPage.sim.state());
  await page.selectOption('#fault-node', '1');
  await page.click('#btn-crash');
  let s = await state();
  assert.equal(s.nodes[1].up, false, 'B crashed');
  await waitForValue(() => page.locator('#ring .node').nth(1).getAttribute('aria-label'), (l) => /^Node B, crashed/.test(l), PAGE_PATIENCE_MS, 'B drawn as crashed');
  await waitForText(page, '#log', /FAULT crash B/, 'the crash in the log');
  await page.click('#btn-restart');
  s = await state();
  assert.equal(s.nodes[1].up, true, 'B restarted');

  await page.click('#side-buttons button:has-text("A")');
  await page.click('#btn-cut');
  s = await state();
  assert.equal(s.partitioned, true);
  assert.equal(s.nodes[0].side, 1);
  await waitFor(() => page.evaluate(() => document.querySelector('#ring').textContent.includes('network cut')), PAGE_PATIENCE_MS, 'the cut drawn');
  await page.click('#btn-heal');
  assert.equal((await state()).partitioned, false);

  await page.locator('#latency').fill('90');
  await page.locator('#latency').dispatchEvent('change');
  s = await state();
  assert.deepEqual([s.min_latency_ms, s.max_latency_ms], [30, 90]);

  await page.click('#btn-join');
  await page.waitForFunction(() => document.body.dataset.nodes === '6');
  assert.equal(await page.getAttribute('#btn-play', 'aria-pressed'), 'false');
  await page.click('#btn-play');
  await waitFor(async () => (await state()).nodes[5].partitions > 0, PAGE_PATIENCE_MS, 'F to own partitions');
  await waitForValue(() => page.locator('#ring .node').nth(5).getAttribute('aria-label'), (l) => /^Node F, valid, \d+ partitions/.test(l), PAGE_PATIENCE_MS, 'F drawn as a valid owner');
  await page.click('#btn-play');
  assert.equal(await page.getAttribute('#btn-play', 'aria-pressed'), 'false');
});

test('the same seed replays the same run', async () => {
  const run = () => page.evaluate(() => {
    const app = window.ringletPage;
    app.scenarios.stop();
    app.newCluster({ nodes: 6, q: 64, n: 3, r: 2, w: 2, clients: 4, seed: 42 });
    const e = app.engine;
    const seen = [];
    const off = e.on((evs) => { for (const x of evs) if (x.t === 'send' || x.t === 'reply') seen.push(`${x.t}:${x.at}:${x.from ?? x.node}:${x.kind ?? x.op}:${x.req ?? ''}`); });
    e.advance(e.t0 + 1_500);
    e.advance(e.t0 + 4_000); // slicing time differently must not matter
    off();
    return { n: seen.length, digest: seen.join('|') };
  });
  const a = await run();
  const b = await page.evaluate(() => {
    const app = window.ringletPage;
    app.newCluster({ nodes: 6, q: 64, n: 3, r: 2, w: 2, clients: 4, seed: 42 });
    const e = app.engine;
    const seen = [];
    const off = e.on((evs) => { for (const x of evs) if (x.t === 'send' || x.t === 'reply') seen.push(`${x.t}:${x.at}:${x.from ?? x.node}:${x.kind ?? x.op}:${x.req ?? ''}`); });
    for (let t = 250; t <= 4_000; t += 250) e.advance(e.t0 + t);
    off();
    return { n: seen.length, digest: seen.join('|') };
  });
  assert.ok(a.n > 100, `a busy run (${a.n} messages and replies)`);
  assert.equal(a.n, b.n);
  assert.equal(a.digest, b.digest);
});

test('keyboard: nodes are focusable buttons, Space plays, "." steps; every control is labelled', async () => {
  const node = page.locator('#ring .node').nth(2);
  await node.focus();
  await page.keyboard.press('Enter');
  assert.equal(await node.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#fault-node').inputValue(), '2');
  await page.locator('#caption').click(); // focus out of the controls
  const before = await page.evaluate(() => window.ringletPage.engine.playing);
  await page.keyboard.press(' ');
  assert.equal(await page.evaluate(() => window.ringletPage.engine.playing), !before);
  await page.keyboard.press(' ');
  const t0 = await page.evaluate(() => window.ringletPage.engine.vt);
  await page.keyboard.press('.');
  assert.ok(await page.evaluate((t) => window.ringletPage.engine.vt >= t, t0));
  const unlabelled = await page.evaluate(() => {
    const name = (el) => {
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
      if (el.id && document.querySelector(`label[for="${el.id}"]`)) return document.querySelector(`label[for="${el.id}"]`).textContent;
      if (el.closest('label')) return el.closest('label').textContent;
      if (el.tagName === 'BUTTON') return el.textContent.trim() || el.title;
      return '';
    };
    return [...document.querySelectorAll('#sim-view input, #sim-view select, #sim-view button, #live-view input, #live-view button')]
      .filter((el) => !name(el).trim()).map((el) => el.outerHTML.slice(0, 80));
  });
  assert.deepEqual(unlabelled, []);
});

test('no console errors or warnings during all of the above', () => {
  assert.deepEqual(page.problems, []);
});
