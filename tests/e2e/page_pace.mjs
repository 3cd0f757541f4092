// A guided scenario at the learner's pace (relay on 127.0.0.1:8131): each caption stays on
// screen until the action it describes has ended (its requests answered, its messages landed)
// AND the learner continued (N, Enter, or the Continue button); the clock is held meanwhile;
// Enter on the scenario's button starts it once, then continues it; the nodes a step names
// stand out, the others are dimmed; auto mode continues by itself. Everything is waited for
// on the page's own state, never on wall-clock time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRig, openPage, waitForValue, waitDrawn, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8131;
let relay;
let browser;

before(async () => ({ relay, browser } = await startRig(PORT)));

after(() => stopRig({ relay, browser }));

/** Record every caption change with the number of continues pressed before it. */
function recordCaptions(page) {
  return page.evaluate(() => {
    window.presses = 0;
    window.captions = [];
    const box = document.getElementById('caption-text');
    new MutationObserver(() => {
      window.captions.push({ text: box.innerText, presses: window.presses, step: document.body.dataset.step });
    }).observe(box, { childList: true, characterData: true, subtree: true });
  });
}

/** The page's state while a step is read: what is in the air, whether the clock moves. */
function readingState(page) {
  return page.evaluate(async () => {
    const app = window.ringletPage;
    const e = app.engine;
    const vt0 = e.vt;
    // Five animation frames: a clock that is not held moves on them.
    for (let k = 0; k < 5; k++) await new Promise((r) => requestAnimationFrame(r));
    return {
      step: document.body.dataset.step,
      caption: document.getElementById('caption-text').innerText,
      busy: e.busyRequests.size,
      inAir: [...e.flying.values()].filter((f) => !f.routine).map((f) => `${f.kind} ${f.from}->${f.to}`),
      held: e.holds > 0,
      moved: e.vt !== vt0,
      continueShown: !document.getElementById('btn-continue').hidden,
      dimmed: [...document.querySelectorAll('#ring .node.dim')].length,
    };
  });
}

/** Wait for the next step to be read (or the scenario to end). */
function nextReading(page, after) {
  return waitForValue(() => page.evaluate(() => ({ step: document.body.dataset.step ?? '', scenario: document.body.dataset.scenario })),
    (s) => (s.step.endsWith(':reading') && s.step !== after) || /:(done|failed)$/.test(s.scenario), PAGE_PATIENCE_MS, `a step after ${after} to be read`);
}

test('figure 3 at the learner\'s pace: each caption stays until its action ended and the learner continued', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.selectOption('#speed', '2000');
  assert.equal(await page.isChecked('#autoplay'), false, 'auto-continue is off by default');
  await recordCaptions(page);
  // Keyboard start: Enter on the scenario's button starts it once; focus moves to the caption.
  await page.focus('#scenario-list [data-scenario="figure3"]');
  await page.keyboard.press('Enter');
  let last = '';
  let steps = 0;
  for (;;) {
    const s = await nextReading(page, last);
    if (/:(done|failed)$/.test(s.scenario)) break;
    last = s.step;
    steps++;
    const r = await readingState(page);
    assert.equal(r.step, last, 'the step did not move on by itself');
    assert.equal(r.busy, 0, `step ${last}: its requests are answered before it waits for the reader`);
    assert.deepEqual(r.inAir, [], `step ${last}: its messages have landed`);
    assert.ok(r.held && !r.moved, `step ${last}: the clock is held while the caption is read`);
    assert.ok(r.continueShown, 'Continue is offered');
    // The caption shown is the one its step began with: it did not change during the action.
    const mine = await page.evaluate(() => window.captions.at(-1));
    assert.equal(mine.text, r.caption);
    await page.evaluate(() => { window.presses++; });
    // Continue alternately with N and Enter (focus is on the caption, not on a button).
    await page.keyboard.press(steps % 2 ? 'n' : 'Enter');
  }
  const end = await page.evaluate(() => ({ scenario: document.body.dataset.scenario, captions: window.captions }));
  assert.equal(end.scenario, 'figure3:done', 'Enter continued the scenario, never restarted it');
  assert.ok(steps >= 8, `figure 3 has its steps (${steps})`);
  // Caption k (k >= 1) appeared only after k continues: none replaced another before the
  // learner continued. The last change is the final caption.
  const shown = end.captions.filter((c, i, all) => i === 0 || c.text !== all[i - 1].text);
  shown.forEach((c, k) => assert.equal(c.presses, Math.min(k, steps), `caption ${k} ("${c.text.slice(0, 50)}…") after ${k} continues`));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the basics: the caption about the put is derived from its acks, and unnamed nodes are dimmed', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.selectOption('#speed', '2000');
  await page.click('#scenario-list [data-scenario="basics"]');
  let s = await nextReading(page, '');
  assert.equal(s.step, '1:reading');
  await page.keyboard.press('n');
  s = await nextReading(page, '1:reading');
  assert.equal(s.step, '2:reading'); // the put: forwarded, coordinated, acknowledged
  assert.equal((await readingState(page)).dimmed, 1, 'the four nodes the step names stand out, the fifth is dimmed');
  await page.keyboard.press('n');
  s = await nextReading(page, '2:reading');
  assert.equal(s.step, '3:reading'); // what the put did, from its events
  const { acks, caption } = await page.evaluate(() => ({
    acks: JSON.parse(JSON.stringify(window.ringletPage.scenarios.lastCtx?.results ?? {})).acksBeforeAnswer,
    caption: document.getElementById('caption-text').innerText,
  }));
  assert.ok(Array.isArray(acks) && acks.length >= 1, `acks before the answer: ${acks}`);
  for (const a of acks) assert.match(caption, new RegExp(`${a}'s ack`), 'the caption names the acks that came before the answer');
  if (acks.length === 1) assert.match(caption, /after the answer/);
  else assert.doesNotMatch(caption, /after the answer/, 'no late ack is claimed when both came before the answer');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('auto-continue: the steps go on by themselves', async () => {
  const page = await openPage(browser, `${relay.http}/`);
  await waitDrawn(page);
  await page.selectOption('#speed', '2000');
  await page.check('#autoplay');
  // The pause grows with the caption's words; read fast here (5 ms a word, 50 ms at least).
  const pauses = await page.evaluate(() => {
    const s = window.ringletPage.scenarios;
    const short = s.pauseFor('A short caption.');
    const long = s.pauseFor(`${'word '.repeat(40)}<b>bold</b>`);
    s.msPerWord = 5;
    window.pauses = [];
    new MutationObserver(() => window.pauses.push(Number(document.body.dataset.pauseMs))).observe(document.body, { attributes: true, attributeFilter: ['data-pause-ms'] });
    return { short, long };
  });
  assert.ok(pauses.long > pauses.short, `a longer caption pauses longer (${pauses.short} ms, ${pauses.long} ms)`);
  await page.click('#scenario-list [data-scenario="readrepair"]');
  await waitForValue(() => page.evaluate(() => document.body.dataset.scenario), (v) => /:(done|failed)$/.test(v),
    PAGE_PATIENCE_MS, 'the scenario to end without a key pressed');
  assert.equal(await page.evaluate(() => document.body.dataset.scenario), 'readrepair:done');
  assert.ok((await page.evaluate(() => window.pauses.length)) >= 4, 'it paused on each step');
  assert.deepEqual(page.problems, []);
  await page.close();
});
