// The shopping cart example (www/cart/), 3 tabs: an item added in one tab appears in the
// other two through `watch`, without them reading the key (no polling). Relay on 8137.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openCarts, addItem, waitForItems } from './cart_support.mjs';

let carts;
after(async () => { await carts?.close(); });

test("a tab's change appears in the other tabs through watch, without polling", async () => {
  carts = await openCarts(8137, 3, 'cart-watch');
  const [a, b, c] = carts.tabs;
  const gets = (tab) => tab.evaluate(() => window.cart.replica.stats().gets);
  const before = [await gets(b), await gets(c)];
  await addItem(a, 'milk');
  await waitForItems(b, ['milk']);
  await waitForItems(c, ['milk']);
  await addItem(c, 'eggs');
  await waitForItems(a, ['eggs', 'milk']);
  await waitForItems(b, ['eggs', 'milk']);
  // b never read the cart: what it shows came from the replicas' notifications.
  assert.equal(await gets(b), before[0]);
  // Removing is a change like any other.
  await a.click('#items li:has-text("milk") button');
  await waitForItems(b, ['eggs']);
  await waitForItems(c, ['eggs']);
});
