// Rewind (relay on 127.0.0.1:8132): the timeline's slider and step back (B) replay the run
// from its seed to the chosen event, so going back shows exactly the state the run had then.
// The state is taken while the run passes an event, then compared with what the page shows
// after going back to it (and with a fresh cluster replayed to it from the same seed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRigWithPage, waitForValue, replicaVersions, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8132;
let relay;
let browser;
let page;

before(async () => ({ relay, browser, page } = await startRigWithPage(PORT)));

after(() => stopRig({ relay, browser }));

/** Everything the simulator says of the cluster and of `key`, and the event count. */
const snapshot = (key) => page.evaluate((k) => {
  const sim = window.ringletPage.sim;
  return {
    at: sim.eventCount(), now: sim.now(), state: sim.state(), ring: sim.ring(), key: sim.keyInfo(k),
  };
}, key);

const stepState = () => page.evaluate(() => ({ step: document.body.dataset.step ?? '', scenario: document.body.dataset.scenario ?? '' }));

test('rewind in figure 3: back to the siblings D3 || D4 shows exactly the state the run had then', async () => {
  await page.selectOption('#speed', '2000');
  await page.click('#scenario-list [data-scenario="figure3"]');
  // Read on until the caption about D3 and D4 (both siblings at every replica) is read.
  let siblings = null;
  for (let last = ''; ;) {
    const s = await waitForValue(stepState, (v) => (v.step.endsWith(':reading') && v.step !== last) || /:(done|failed)$/.test(v.scenario),
      PAGE_PATIENCE_MS, 'the next step');
    assert.doesNotMatch(s.scenario, /:(done|failed)$/, 'the siblings step comes before the end');
    last = s.step;
    if (/keeps\s+both/.test(await page.locator('#caption-text').innerText())) {
      // The inspector redraws on the animation frames: wait for it to show the siblings.
      const replicas = await waitForValue(() => replicaVersions(page), (r) => Object.values(r).every((vs) => vs.length === 2),
        PAGE_PATIENCE_MS, 'every replica drawn with both siblings');
      siblings = { snap: await snapshot('cart'), replicas, caption: await page.locator('#caption-text').innerText() };
      break;
    }
    await page.keyboard.press('n');
  }
  for (const r of Object.values(siblings.replicas)) assert.equal(r.length, 2, 'two siblings at each replica then');
  // Run to the end.
  await page.check('#autoplay');
  await page.evaluate(() => { window.ringletPage.scenarios.msPerWord = 2; });
  await waitForValue(stepState, (v) => v.scenario === 'figure3:done', PAGE_PATIENCE_MS, 'figure 3 to end');
  const end = await snapshot('cart');
  assert.ok(end.at > siblings.snap.at, 'the run went on');
  for (const r of end.key.replicas) assert.equal(r.versions.length, 1, 'D5 alone at the end');

  // Back to the siblings' event with the slider.
  await page.locator('#timeline').fill(String(siblings.snap.at));
  await page.locator('#timeline').dispatchEvent('change');
  await waitForValue(() => page.evaluate(() => document.body.dataset.seek), (v) => v === String(siblings.snap.at), PAGE_PATIENCE_MS, 'the seek');
  const back = await snapshot('cart');
  // The clock: at the event itself (the run had idled on for a few ms before the reader read).
  assert.ok(back.now <= siblings.snap.now && back.now > siblings.snap.now - 200, `the clock at the event (${back.now}, ${siblings.snap.now})`);
  const noClock = (s) => ({ ...s, now: 0, state: { ...s.state, now: 0 } });
  assert.deepEqual(noClock(back), noClock(siblings.snap), 'the simulator is in exactly the state it had at that event');
  assert.deepEqual(await waitForValue(() => replicaVersions(page), (r) => JSON.stringify(r) === JSON.stringify(siblings.replicas), PAGE_PATIENCE_MS,
    'the same versions drawn'), siblings.replicas, 'the page shows the same versions at each replica');
  assert.equal(await page.locator('#caption-text').innerText(), siblings.caption, 'the caption of that moment is shown again');
  assert.equal(await page.locator('#timeline').inputValue(), String(siblings.snap.at));
  assert.equal(await page.getAttribute('#timeline', 'max'), String(end.at), 'the timeline still reaches the end of the run');

  // B steps back one event; forward to the end again replays the same run.
  await page.locator('#caption').focus();
  await page.keyboard.press('b');
  await waitForValue(() => page.evaluate(() => document.body.dataset.seek), (v) => v === String(siblings.snap.at - 1), PAGE_PATIENCE_MS, 'one event back');
  await page.locator('#timeline').fill(String(end.at));
  await page.locator('#timeline').dispatchEvent('change');
  await waitForValue(() => page.evaluate(() => document.body.dataset.seek), (v) => v === String(end.at), PAGE_PATIENCE_MS, 'the seek to the end');
  assert.deepEqual(noClock(await snapshot('cart')), noClock(end), 'forward to the end: the same final state');

  const ms = Number(await page.evaluate(() => document.body.dataset.seekMs));
  assert.ok(ms < 1_500, `a seek in a short run takes well under a second and a half (${ms} ms)`);
  assert.deepEqual(page.problems, []);
});

test('rewind in free play: a long run with clients and a crash, back to before the crash', async () => {
  await page.evaluate(() => {
    const app = window.ringletPage;
    app.scenarios.stop();
    app.newCluster({ nodes: 5, q: 32, n: 3, r: 2, w: 2, clients: 4, seed: 11 });
    app.engine.advance(app.engine.t0 + 20_000);
  });
  const before = await snapshot('cart/ada');
  await page.evaluate(() => {
    const app = window.ringletPage;
    app.selectNode(1);
    document.getElementById('btn-crash').click();
    app.engine.advance(app.engine.vt + 40_000);
  });
  const after = await snapshot('cart/ada');
  assert.equal(after.state.nodes[1].up, false, 'B crashed');
  assert.ok(after.now - before.now >= 40_000);
  await page.evaluate((at) => window.ringletPage.timeline.seek(at), before.at);
  const back = await snapshot('cart/ada');
  assert.deepEqual(back, before, 'before the crash, exactly as the run was');
  const seekMs = Number(await page.evaluate(() => document.body.dataset.seekMs));
  console.log(`# seek to event ${before.at} of a 60 s run: ${seekMs.toFixed(0)} ms`);
  assert.ok(seekMs < 600, `a seek into a 60-second run stays interactive (${seekMs} ms; the aim is under 300 ms)`);
  // A fresh cluster from the same options, stepped event by event to the same point, agrees.
  const fresh = await page.evaluate((at) => {
    const app = window.ringletPage;
    const sim = new app.engine.SimCluster(app.engine.options);
    while (sim.eventCount() < at) sim.step();
    const out = { at: sim.eventCount(), now: sim.now(), state: sim.state(), ring: sim.ring(), key: sim.keyInfo('cart/ada') };
    sim.free();
    return out;
  }, before.at);
  assert.deepEqual(fresh, before, 'a fresh replay from the seed reaches the same state');
  // Forward again: the crash is replayed at its point.
  await page.evaluate((at) => window.ringletPage.timeline.seek(at), after.at);
  assert.deepEqual(await snapshot('cart/ada'), after, 'forward again: the crash and everything after it, the same');
  // Acting in the past starts a new branch: the old future is gone, the new input is kept.
  await page.evaluate((at) => window.ringletPage.timeline.seek(at), before.at);
  await page.evaluate(() => { window.ringletPage.selectNode(2); document.getElementById('btn-crash').click(); });
  const branch = await page.evaluate(() => ({ at: window.ringletPage.sim.eventCount(), end: window.ringletPage.sim.timelineEnd() }));
  assert.equal(branch.end, branch.at, 'the timeline ends where the new branch starts');
  await page.evaluate(() => window.ringletPage.engine.advance(window.ringletPage.engine.vt + 5_000));
  const later = await snapshot('cart/ada');
  await page.evaluate((at) => window.ringletPage.timeline.seek(at), branch.at + 1);
  await page.evaluate((at) => window.ringletPage.timeline.seek(at), later.at);
  const again = await snapshot('cart/ada');
  assert.equal(again.state.nodes[2].up, false, 'the new branch keeps its own crash (C)');
  assert.equal(again.state.nodes[1].up, true, 'and not the old branch\'s (B)');
  assert.deepEqual(again, later, 'the new branch replays the same');
  assert.deepEqual(page.problems, []);
});

test('back one step in a running scenario: the script replays from the seed and holds on the previous caption, in the same state', async () => {
  await page.selectOption('#speed', '2000');
  await page.uncheck('#autoplay');
  await page.click('#scenario-list [data-scenario="figure3"]');
  const reading = (step) => waitForValue(() => page.evaluate(() => document.body.dataset.step ?? ''), (s) => s === `${step}:reading`,
    PAGE_PATIENCE_MS, `step ${step} to be read`);
  for (let k = 1; k < 5; k++) {
    await reading(k);
    await page.keyboard.press('n');
  }
  await reading(5);
  const at5 = { snap: await snapshot('cart'), caption: await page.locator('#caption-text').innerText() };
  await page.keyboard.press('n');
  await reading(6);
  const at6 = await page.locator('#caption-text').innerText();
  assert.notEqual(at6, at5.caption);
  await page.keyboard.press('b');
  await waitForValue(() => page.evaluate(() => document.body.dataset.backTo), (v) => v === '5', PAGE_PATIENCE_MS, 'back at step 5');
  await reading(5);
  assert.equal(await page.locator('#caption-text').innerText(), at5.caption, 'the previous caption again');
  assert.deepEqual(await snapshot('cart'), at5.snap, 'exactly the state the run had at that caption');
  assert.equal(await page.evaluate(() => window.ringletPage.engine.speed), 2000, 'the speed the learner chose');
  // The guide goes on from there as before.
  await page.keyboard.press('n');
  await reading(6);
  assert.equal(await page.locator('#caption-text').innerText(), at6);
  assert.deepEqual(page.problems, []);
});

test('the slider in a running scenario keeps the script in step: the caption of the point sought, and Continue goes on from there', async () => {
  await page.selectOption('#speed', '2000');
  await page.uncheck('#autoplay');
  await page.click('#scenario-list [data-scenario="figure3"]');
  const reading = (step) => waitForValue(() => page.evaluate(() => document.body.dataset.step ?? ''), (s) => s === `${step}:reading`,
    PAGE_PATIENCE_MS, `step ${step} to be read`);
  const caption = () => page.locator('#caption-text').innerText();
  const seen = {};
  for (let k = 1; k <= 5; k++) {
    await reading(k);
    seen[k] = { snap: await snapshot('cart'), caption: await caption() };
    if (k < 5) await page.keyboard.press('n');
  }
  const end = await page.evaluate(() => window.ringletPage.sim.timelineEnd());
  // Drag the slider back to the event at which step 3 was read.
  const seekTo = async (at) => {
    await page.locator('#timeline').fill(String(at));
    await page.locator('#timeline').dispatchEvent('change');
    await waitForValue(() => page.evaluate(() => document.body.dataset.seek), (v) => v === String(at), PAGE_PATIENCE_MS, `the seek to event ${at}`);
  };
  await seekTo(seen[3].snap.at);
  await reading(3);
  console.log(`# figure 3: the script run again to step 3 in ${await page.evaluate(() => document.body.dataset.seekMs)} ms`);
  assert.equal(await page.evaluate(() => document.body.dataset.scenario), 'figure3:running', 'the script did not stop');
  assert.equal(await caption(), seen[3].caption, 'the caption of step 3');
  assert.deepEqual(await snapshot('cart'), seen[3].snap, 'exactly the state the run had when step 3 was read');
  assert.equal(await page.isVisible('#btn-continue'), true, 'Continue is offered');
  assert.ok(Number(await page.getAttribute('#timeline', 'max')) >= end, 'the slider still reaches where the run had been');
  assert.equal(await page.evaluate(() => window.ringletPage.engine.speed), 2000, 'the speed the learner chose');
  // Continue goes on from there: step 4, as it was.
  await page.keyboard.press('n');
  await reading(4);
  assert.equal(await caption(), seen[4].caption);
  assert.deepEqual(await snapshot('cart'), seen[4].snap, 'step 4 in the same state as the first time');

  // Into the middle of step 4's action (its concurrent puts in the air): the caption of step 4, the clock stopped there.
  const step4 = await page.evaluate(() => window.ringletPage.timeline.captions.find((c) => c.stepNo === 4));
  assert.ok(step4.readAt - step4.at >= 2, `step 4's action spans events (${step4.at}..${step4.readAt})`);
  const mid = Math.floor((step4.at + step4.readAt) / 2);
  await seekTo(mid);
  assert.equal(await page.evaluate(() => window.ringletPage.sim.eventCount()), mid, 'at the event sought');
  assert.equal(await page.evaluate(() => document.body.dataset.step), '4:acting', 'in step 4, its action under way');
  assert.equal(await caption(), seen[4].caption, 'the caption of that moment');
  assert.equal(await page.evaluate(() => window.ringletPage.engine.playing), false, 'the clock waits for the learner');
  assert.equal(await page.isVisible('#btn-continue'), true);
  await page.keyboard.press('n');
  await reading(4);
  assert.deepEqual(await snapshot('cart'), seen[4].snap, 'Continue: the action ends as it did, step 4 read in the same state');
  await page.keyboard.press('n');
  await reading(5);
  assert.equal(await caption(), seen[5].caption);
  assert.deepEqual(await snapshot('cart'), seen[5].snap);
  assert.deepEqual(page.problems, []);
});
