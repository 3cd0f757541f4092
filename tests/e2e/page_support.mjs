// Shared by the teaching page's tests (tests/e2e/page_*.mjs): Debian's Chromium through
// playwright-core, a real relay serving www/ and pkg/, and helpers that drive the page.
import { chromium } from 'playwright-core';
import { startRelay, waitFor, sleep, ROOT } from '../js/support.mjs';

export { startRelay, waitFor, sleep, ROOT };

export const BROWSER_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

export function launch(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...BROWSER_ARGS, ...extraArgs] });
}

/** Open the page; every console error, warning and page error lands in `page.problems`. */
export async function openPage(browserOrContext, url, { viewport = { width: 1280, height: 800 } } = {}) {
  const page = await browserOrContext.newPage({ viewport });
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') page.problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20_000 });
  return page;
}

/** Run a guided scenario at full speed; resolves with its final state and findings. */
export async function runScenario(page, id, timeout = 90_000) {
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
