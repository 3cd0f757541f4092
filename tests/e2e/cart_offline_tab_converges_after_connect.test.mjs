// The shopping cart example, 3 tabs: a tab that goes offline (the page's button: disconnect())
// for a minute keeps working with w: 1, and after it goes online again (connect()) the
// others show what it added. Relay on 8138.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openCarts, addItem, waitForItems, PATIENCE_MS } from './cart_support.mjs';
import { waitFor } from '../js/support.mjs';

let carts;
after(async () => { await carts?.close(); });

test('a tab offline for a minute keeps adding, and the others converge after it reconnects', async () => {
  carts = await openCarts(8138, 3, 'cart-offline');
  const [a, b, c] = carts.tabs;
  await addItem(a, 'milk');
  await waitForItems(c, ['milk']);
  await c.click('#toggle'); // Go offline
  await c.waitForSelector('#net.offline');
  const offlineAt = Date.now();
  const offlineId = await c.evaluate(() => window.cart.replica.id);
  await addItem(c, 'tea');
  await addItem(c, 'bread');
  assert.deepEqual(await c.$$eval('#items li', (l) => l.length), 3);
  // A minute offline: long enough for the others to hold it down and its subscriptions to
  // expire at the replicas (30 s).
  await waitFor(async () => Date.now() - offlineAt >= 60_000
    && (await a.evaluate((id) => window.cart.replica.members().find((m) => m.node === id)?.up === false, offlineId)),
  PATIENCE_MS, 'a minute offline, seen down by the others');
  await addItem(c, 'jam'); // still working
  await waitForItems(a, ['milk']);
  await c.click('#toggle'); // Go online
  await c.waitForSelector('#net:not(.offline)');
  for (const t of [a, b, c]) await waitForItems(t, ['bread', 'jam', 'milk', 'tea']);
});
