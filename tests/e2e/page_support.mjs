// Shared by the teaching page's tests (tests/e2e/page_*.mjs): Debian's Chromium through
// playwright-core, a real relay serving www/ and pkg/, and helpers that drive the page.
import { chromium } from 'playwright-core';
import { startRelay, waitFor, waitForValue, sleep, ROOT } from '../js/support.mjs';

export { startRelay, waitFor, waitForValue, sleep, ROOT };

/**
 * Every Playwright wait (waitForFunction, and the actionability waits of click, fill...) and
 * every scenario run may take this long before it fails: generous, so that a busy machine
 * only makes the tests slower, never red (tests/js/support.mjs).
 */
export const PAGE_PATIENCE_MS = 120_000;

export const BROWSER_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

export function launch(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...BROWSER_ARGS, ...extraArgs] });
}

/** Open the page; every console error, warning and page error lands in `page.problems`. */
export async function openPage(browserOrContext, url, { viewport = { width: 1280, height: 800 } } = {}) {
  const page = await browserOrContext.newPage({ viewport });
  page.setDefaultTimeout(PAGE_PATIENCE_MS);
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') page.problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  return page;
}

/** Wait until the page drew its cluster on the animation frames after `ready`: `nodes` nodes on the ring. */
export function waitDrawn(page, nodes = 5) {
  return waitForValue(() => page.evaluate(() => ({
    nodes: document.querySelectorAll('#ring .node').length,
    partitions: document.querySelectorAll('#ring-bg path').length,
    key: document.getElementById('key-info').innerText,
  })), (v) => v.nodes === nodes && v.partitions > 0 && /partition \d+ of/.test(v.key), PAGE_PATIENCE_MS, `${nodes} nodes drawn`);
}

/** Run a guided scenario at full speed; resolves with its final state and findings. */
export async function runScenario(page, id, timeout = 240_000) {
  await page.selectOption('#speed', 'max');
  await page.click(`#scenario-list [data-scenario="${id}"]`);
  await page.waitForFunction((s) => {
    const st = document.body.dataset.scenario ?? '';
    return st === `${s}:done` || st === `${s}:failed`;
  }, id, { timeout, polling: 100 });
  return page.evaluate(() => ({
    state: document.body.dataset.scenario,
    result: JSON.parse(document.body.dataset.result ?? '{}'),
    caption: document.getElementById('caption-text').innerText,
  }));
}

/** The ring's node labels (aria-label), in ring order. */
export function nodeLabels(page) {
  return page.locator('#ring .node').evaluateAll((ns) => ns.map((n) => n.getAttribute('aria-label')));
}

/** Wait until the text of `selector` matches `re`; on timeout the error shows the text instead. */
export function waitForText(page, selector, re, what = `${selector} to match ${re}`) {
  return waitForValue(() => page.locator(selector).innerText(), (t) => re.test(t), PAGE_PATIENCE_MS, what);
}

/** The versions each replica shows in the key inspector: node -> ["value clock", ...]. */
export function replicaVersions(page) {
  return page.evaluate(() => {
    const out = {};
    for (const row of document.querySelectorAll('#replicas .replica')) {
      out[row.dataset.node] = [...row.querySelectorAll('.ver:not(.hint)')].map((v) => v.textContent.trim().replace(/\s+/g, ' '));
    }
    return out;
  });
}

/** Chromium flags for tests with several tabs open at once: no tab's timers are throttled. */
export const ALL_TABS_LIVE = [
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

/**
 * A test file's rig: a relay on `port` serving www/ and pkg/, and a Chromium (started with
 * `args`). Stop it with `stopRig`.
 */
export async function startRig(port, args = []) {
  const relay = await startRelay(port);
  return { relay, browser: await launch(args) };
}

/** `startRig`, and the teaching page opened on it and drawn. */
export async function startRigWithPage(port) {
  const rig = await startRig(port);
  const page = await openPage(rig.browser, `${rig.relay.http}/`);
  await waitDrawn(page);
  return { ...rig, page };
}

/** Close the rig's browser, then stop its relay (either may be missing after a failed start). */
export async function stopRig({ relay, browser } = {}) {
  await browser?.close();
  await relay?.stop();
}
