// No label covers another at 1280x800 (relay on 127.0.0.1:8135): every guided scenario runs
// at ×2 with auto-continue, and at each caption (when it appears and when it is read) and
// every few animation frames meanwhile, the page's label boxes are compared pairwise: node
// names, status lines, rank and suspicion badges, the chips of held versions, the quorum
// counters, the key's name, the centre texts and the labels of the messages in flight (drawn
// on the canvas; the ring reports where it put them). The key's name stays inside the ring's
// drawing (it is not clipped).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  stopRig, startRigWithPage, waitForValue, PAGE_PATIENCE_MS,
} from './page_support.mjs';

const PORT = 8135;
const SCENARIOS = ['basics', 'figure3', 'handoff', 'readrepair', 'antientropy', 'join', 'dvv'];
let relay;
let browser;
let page;

before(async () => {
  ({ relay, browser, page } = await startRigWithPage(PORT));
  await page.selectOption('#speed', '2000');
  await page.check('#autoplay');
  // Install the checker: it records every overlap it sees, with where and when.
  await page.evaluate(() => {
    const app = window.ringletPage;
    app.scenarios.msPerWord = 8;
    window.labelChecks = 0;
    window.overlaps = [];
    const svg = document.getElementById('ring');
    const check = (when) => {
      const box = svg.getBoundingClientRect();
      const k = 600 / box.width;
      const boxes = [...svg.querySelectorAll('[data-label]')]
        .filter((e) => e.getAttribute('visibility') !== 'hidden' && e.textContent.trim() !== '')
        .map((e) => {
          const r = e.getBoundingClientRect();
          return { what: e.dataset.label, x: (r.left - box.left) * k, y: (r.top - box.top) * k, w: r.width * k, h: r.height * k };
        })
        .filter((b) => b.w > 0 && b.h > 0);
      for (const m of app.ring.msgLabels ?? []) boxes.push({ what: `message ${m.text}`, ...m });
      window.labelChecks++;
      for (let i = 0; i < boxes.length; i++) {
        const a = boxes[i];
        if (a.what === 'key' && (a.x < -0.5 || a.y < -0.5 || a.x + a.w > 600.5 || a.y + a.h > 600.5)) {
          window.overlaps.push(`${when}: the key's name is clipped (${a.x.toFixed(0)},${a.y.toFixed(0)} ${a.w.toFixed(0)}x${a.h.toFixed(0)})`);
        }
        for (let j = i + 1; j < boxes.length; j++) {
          const b = boxes[j];
          const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
          const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
          // A pixel of anti-aliasing is not an overlap.
          if (w > 1 && h > 1) window.overlaps.push(`${when}: ${a.what} over ${b.what} (${w.toFixed(0)}x${h.toFixed(0)})`);
        }
      }
    };
    window.checkLabels = check;
    new MutationObserver(() => requestAnimationFrame(() => requestAnimationFrame(() => check(`${document.body.dataset.scenario} step ${document.body.dataset.step}`))))
      .observe(document.body, { attributes: true, attributeFilter: ['data-step'] });
    let frame = 0;
    app.engine.on((evs) => {
      if (evs.length === 1 && evs[0].t === 'frame' && ++frame % 6 === 0 && app.scenarios.current) {
        requestAnimationFrame(() => check(`${document.body.dataset.scenario} t=${app.engine.seconds.toFixed(3)}`));
      }
    });
  });
});

after(() => stopRig({ relay, browser }));

for (const id of SCENARIOS) {
  test(`no overlapping labels at 1280x800: ${id}`, async () => {
    const before = await page.evaluate(() => { window.overlaps = []; return window.labelChecks; });
    await page.click(`#scenario-list [data-scenario="${id}"]`);
    await waitForValue(() => page.evaluate(() => document.body.dataset.scenario), (s) => s === `${id}:done` || s === `${id}:failed`,
      PAGE_PATIENCE_MS, `${id} to end`);
    const { checks, overlaps, state } = await page.evaluate(() => ({
      checks: window.labelChecks, overlaps: [...new Set(window.overlaps)], state: document.body.dataset.scenario,
    }));
    assert.equal(state, `${id}:done`);
    assert.ok(checks - before >= 4, `the labels were checked at several moments (${checks - before})`);
    assert.deepEqual(overlaps.slice(0, 12), [], `${overlaps.length} overlaps`);
  });
}

test('no console errors or warnings', () => {
  assert.deepEqual(page.problems, []);
});
