// The shopping cart of the Dynamo paper (§4.4) as a small app on the ringlet package.
//
// - The cart is one key, `cart/<name>`, whose value is `{ items: [...] }`.
// - Every change reads the cart (all its versions and the context), merges the versions
//   (the union of their items, the paper's reconciliation), applies the change and writes
//   it back with the context: the write supersedes every version it merged.
// - Other tabs' changes arrive through `watch`: no polling.
// - "Go offline" is `disconnect()`; changes then go on locally with `w: 1`, and after
//   `connect()` ringlet delivers them (hinted handoff, anti-entropy). Changes made on both
//   sides meanwhile come back as siblings, shown to the user until merged.
import { Replica } from 'ringlet';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const cluster = params.get('cluster') ?? 'cart';
const KEY = `cart/${params.get('cart') ?? 'shared'}`;
const relay = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

// One node per tab; IndexedDB keeps the tab's copy across reloads.
const replica = await Replica.open({ cluster, relay });
$('me').textContent = replica.id.slice(0, 12);

/** The paper's merge: the union of the items of every version (sorted, no duplicates). */
const union = (versions) => [...new Set(versions.flatMap((v) => v?.items ?? []))].sort();

// What this tab last saw of the cart: every version (sibling) and the context to write back.
let cart = { values: [], context: undefined };

function render() {
  const items = union(cart.values);
  $('items').replaceChildren(...items.map((item) => {
    const li = document.createElement('li');
    li.textContent = item;
    const remove = document.createElement('button');
    remove.textContent = 'remove';
    remove.onclick = () => act(() => change((list) => list.filter((x) => x !== item)));
    li.append(remove);
    return li;
  }));
  $('empty').hidden = items.length > 0;
  // Siblings: more than one version of the cart. Show each, and offer to merge them.
  $('siblings').hidden = cart.values.length < 2;
  $('count').textContent = String(cart.values.length);
  $('versions').replaceChildren(...cart.values.map((v) => {
    const li = document.createElement('li');
    li.textContent = (v?.items ?? []).join(', ') || '(empty)';
    return li;
  }));
  $('net').textContent = replica.connected ? 'online' : 'offline: changes stay in this tab until you go online';
  $('net').className = replica.connected ? '' : 'offline';
  $('toggle').textContent = replica.connected ? 'Go offline' : 'Go online';
}

// Live updates: the key's replicas notify this tab after they store a new version.
replica.watch(KEY, (ev) => {
  cart = { values: ev.values, context: ev.context };
  render();
});

/**
 * Read the cart: from the cluster when online; from this tab's copy when offline, or when
 * too few tabs answer (a lone tab).
 */
async function read() {
  if (replica.connected) {
    try {
      return await replica.get(KEY);
    } catch (e) {
      if (e.code !== 'QUORUM_FAILED' && e.code !== 'TIMEOUT') throw e;
    }
  }
  try {
    return await replica.get(KEY, { local: true });
  } catch (e) {
    if (e.code === 'NOT_HELD') return { values: [], context: undefined };
    throw e;
  }
}

/** Read, merge, change, write back with the context (one write supersedes every sibling). */
async function change(edit) {
  const current = await read();
  const items = edit(union(current.values));
  // Offline, one store (this tab's) is enough; online, the cluster's W.
  const w = replica.connected ? undefined : 1;
  await replica.put(KEY, { items }, { context: current.context, w });
  cart = await read();
  render();
}

/** Run a user's action; a failure is shown, never thrown away silently. */
async function act(action) {
  try {
    await action();
  } catch (e) {
    // QUORUM_FAILED: the write is kept by this tab and retried by ringlet; it is only not yet
    // known to be stored by enough tabs.
    $('net').textContent = `${e.code ?? 'error'}: ${e.message}`;
  }
}

$('add').onsubmit = (e) => {
  e.preventDefault();
  const item = $('item').value.trim();
  if (!item) return;
  $('item').value = '';
  act(() => change((list) => [...list, item]));
};
$('merge').onclick = () => act(() => change((list) => list));
$('toggle').onclick = async () => {
  if (replica.connected) replica.disconnect();
  else await replica.connect();
  render();
};
replica.on('connected', render).on('disconnected', render);

cart = await read();
render();
$('addbtn').disabled = false;
$('toggle').disabled = false;
// For the tests and the curious: the page's node.
window.cart = { replica, KEY };
