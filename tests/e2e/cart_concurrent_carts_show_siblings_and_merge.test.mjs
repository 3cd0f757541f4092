// The shopping cart example, 3 tabs: a tab offline and a tab online change the cart
// concurrently; after reconnecting, every tab shows the two carts as siblings (and their
// union), and the page's "Merge carts" collapses them into one version everywhere. An item
// removed on one side but kept on the other comes back, as in the paper. Relay on 8139.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openCarts, addItem, waitForItems } from './cart_support.mjs';

let carts;
after(async () => { await carts?.close(); });

test('concurrent carts show as siblings, and the merge collapses them', async () => {
  carts = await openCarts(8139, 3, 'cart-siblings');
  const [a, b, c] = carts.tabs;
  await addItem(a, 'milk');
  await addItem(a, 'eggs');
  await waitForItems(c, ['eggs', 'milk']);
  await c.click('#toggle'); // c goes offline
  await c.waitForSelector('#net.offline');
  await addItem(c, 'tea'); // c's cart: eggs, milk, tea
  await a.click('#items li:has-text("milk") button'); // a's cart: eggs
  await waitForItems(b, ['eggs']);
  await c.click('#toggle'); // c back online
  // Two concurrent versions: every tab shows both, and their union.
  for (const t of [a, b, c]) {
    await t.waitForSelector('#siblings:not([hidden])');
    await waitForItems(t, ['eggs', 'milk', 'tea']);
  }
  const versions = await b.$$eval('#versions li', (l) => l.map((x) => x.textContent).sort());
  assert.deepEqual(versions, ['eggs', 'eggs, milk, tea']);
  // The removed milk is back: the union keeps every add, as the page explains.
  assert.match(await b.textContent('#siblings'), /comes back/);
  await b.click('#merge');
  for (const t of [a, b, c]) {
    await t.waitForSelector('#siblings', { state: 'hidden' });
    await waitForItems(t, ['eggs', 'milk', 'tea']);
  }
});
