// Shared by the shopping cart tests: a relay serving www/ (the cart at /cart/), Chromium, and
// tabs of the cart app driven through its buttons, as a user would.
import { chromium } from 'playwright-core';
import { startRelay, waitFor } from '../js/support.mjs';

export const PATIENCE_MS = 120_000;
const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

/** A relay on `port`, Chromium, and `count` tabs of the cart (one browser context: one origin). */
export async function openCarts(port, count, cluster) {
  const relay = await startRelay(port);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
  const context = await browser.newContext();
  const tabs = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    page.on('pageerror', (e) => console.error(`tab ${i}:`, e));
    await page.goto(`${relay.http}/cart/index.html?cluster=${cluster}`);
    await page.waitForFunction(() => window.cart !== undefined);
    tabs.push(page);
  }
  // Every tab sees the three of them in one ring.
  await waitFor(async () => {
    const views = await Promise.all(tabs.map((t) => t.evaluate(() => {
      const r = window.cart.replica;
      return { valid: r.members().filter((m) => m.status === 'valid').length, ring: r.ring() };
    })));
    const rings = new Set(views.map((v) => v.ring && v.ring.owners.join(',')));
    return views.every((v) => v.valid === count && v.ring && new Set(v.ring.owners).size === count) && rings.size === 1;
  }, PATIENCE_MS, 'the tabs to form one ring');
  const close = async () => {
    await browser.close();
    await relay.stop();
  };
  return { relay, browser, tabs, close };
}

/** Type an item and press "Add to cart". */
export async function addItem(tab, item) {
  await tab.fill('#item', item);
  await tab.click('#addbtn');
  await tab.waitForFunction((it) => [...document.querySelectorAll('#items li')].some((li) => li.firstChild.textContent === it), item);
}

/** The items the tab shows, in order. */
export const itemsOf = (tab) => tab.$$eval('#items li', (lis) => lis.map((li) => li.firstChild.textContent));

/** Wait until the tab shows exactly `items`. */
export const waitForItems = (tab, items) => tab.waitForFunction(
  (want) => JSON.stringify([...document.querySelectorAll('#items li')].map((li) => li.firstChild.textContent)) === JSON.stringify(want),
  items,
);
