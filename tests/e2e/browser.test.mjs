// End-to-end: real browser tabs (Debian's Chromium through playwright-core) as ringlet
// nodes with IndexedDB storage, a Node.js node, and a real ringlet-relay on 127.0.0.1:8090.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { startRelay, waitFor, waitPagesConverged, ROOT } from '../js/support.mjs';

/** How long any Playwright wait (page loads, waitForFunction) may take on a busy machine. */
const PATIENCE_MS = 120_000;

const PORT = 8090;
const CLUSTER = 'e2e';
const COMMON = { cluster: CLUSTER, storage: 'indexeddb', n: 3, r: 2, w: 2, gossipIntervalMs: 250 };
const profile = mkdtempSync(path.join(tmpdir(), 'ringlet-e2e-'));
const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows', '--disable-dev-shm-usage',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
let relay;
let context;
const tabs = new Map(); // name -> page
const acked = new Map(); // key -> value of every acknowledged write

async function launch() {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: BROWSER_ARGS,
  });
  context.setDefaultTimeout(PATIENCE_MS);
}

/** Open tab `name` as a ringlet node. */
async function openTab(name, extra = {}) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
  await page.goto(`${relay.http}/index.html`);
  await page.waitForFunction(() => window.ringletLoaded === true);
  const id = await page.evaluate(async (opts) => {
    window.replica = await window.Replica.open(opts);
    window.events = [];
    window.replica.on('*', (e) => window.events.push(e));
    return window.replica.id;
  }, { ...COMMON, relay: relay.url, name, ...extra });
  tabs.set(name, page);
  return id;
}

const inTab = (name, fn, arg) => tabs.get(name).evaluate(fn, arg);
const stats = (name) => inTab(name, () => window.replica.stats());
const put = async (name, key, value, options) => {
  const res = await inTab(name, ([k, v, o]) => window.replica.put(k, v, o), [key, value, options]);
  acked.set(key, value);
  return res;
};
const get = (name, key) => inTab(name, (k) => window.replica.get(k), key);

/** Every tab in `names` sees exactly `ids` as valid owners of one ring. */
const waitConverged = (names, ids, ms) => waitPagesConverged(inTab, names, ids, ms);

const NAMES = ['tab1', 'tab2', 'tab3', 'tab4', 'tab5'];

before(async () => {
  relay = await startRelay(PORT, { www: path.join(ROOT, 'tests', 'e2e', 'www') });
  await launch();
});

after(async () => {
  await context?.close().catch(() => {});
  await relay?.stop();
  rmSync(profile, { recursive: true, force: true });
});

test('5 tabs form a cluster; a put in tab 1 is read in tab 5', async () => {
  for (const n of NAMES) assert.equal(await openTab(n), n);
  await waitConverged(NAMES, NAMES);
  await put('tab1', 'greeting', 'hello from tab 1');
  assert.deepEqual((await get('tab5', 'greeting')).values, ['hello from tab 1']);
  const bytes = await inTab('tab2', async () => {
    await window.replica.put('bytes', new Uint8Array([1, 2, 255]));
    const { values } = await window.replica.get('bytes');
    return values[0] instanceof Uint8Array ? Array.from(values[0]) : null;
  });
  assert.deepEqual(bytes, [1, 2, 255]);
  // Batches are written to IndexedDB in the background (the put was acknowledged by two
  // replicas, not necessarily by tab1's own disk): wait for the first one.
  const s = await waitFor(async () => { const x = await stats('tab1'); return x.persistBatches > 0 && x; }, PATIENCE_MS, 'tab1 to persist a batch');
  assert.equal(s.storage, 'indexeddb');
  assert.equal(s.connected, true);
  assert.ok(s.persistBatches > 0);
});

test('a tab closed: puts still succeed and a fallback holds hints; reopened, the hints are delivered', async () => {
  await tabs.get('tab5').close();
  tabs.delete('tab5');
  const live = NAMES.slice(0, 4);
  // A write forwarded to a coordinator that vanished mid-flight is never re-sent elsewhere
  // (it may have been applied: an ambiguous TIMEOUT, issue 15 defect 2), so the writers
  // first notice that tab5 is gone (their failure detectors), as a real app's would soon.
  const tab5Down = async () => (await Promise.all(live.map((n) => inTab(n, () =>
    window.replica.members().some((m) => m.node === 'tab5' && !m.up))))).every(Boolean);
  await waitFor(tab5Down, PATIENCE_MS, 'every live tab to notice tab5 is down');
  // Keys whose three primaries include tab5.
  const keys = await inTab('tab1', () => {
    const out = [];
    for (let i = 0; out.length < 8; i++) {
      const k = `handoff/${i}`;
      if (window.replica.preflist(k).slice(0, 3).includes('tab5')) out.push(k);
    }
    return out;
  });
  // W=3: the put needs a third store, so once tab5 stays silent for the sloppy-retry
  // interval the coordinator sends its replica to the next healthy node of the preference
  // list, with a hint naming tab5 (with W=2 the two other primaries would be enough and no
  // fallback would be asked until tab5 is detected down).
  for (const [i, k] of keys.entries()) await put(live[i % 4], k, { i, written: 'while tab5 was away' }, { w: 3 });
  const held = async () => (await Promise.all(live.map(stats))).reduce((a, s) => a + s.hintsHeld, 0);
  await waitFor(async () => (await held()) > 0, PATIENCE_MS, 'a fallback to hold hints');
  assert.equal(await openTab('tab5'), 'tab5', 'the reopened tab is the same node');
  await waitFor(async () => (await held()) === 0, PATIENCE_MS, 'every hint to be delivered');
  const delivered = (await Promise.all(live.map(stats))).reduce((a, s) => a + s.hintsDelivered, 0);
  assert.ok(delivered >= keys.length, `${delivered} hints delivered`);
  for (const k of keys) assert.deepEqual((await get('tab5', k)).values, [acked.get(k)]);
});

test('two tabs write the same key concurrently: both siblings; a put with the merged context collapses them', async () => {
  await Promise.all([put('tab2', 'doc', 'from tab 2'), put('tab3', 'doc', 'from tab 3')]);
  const got = await get('tab4', 'doc');
  assert.deepEqual([...got.values].sort(), ['from tab 2', 'from tab 3']);
  const ev = await waitFor(() => inTab('tab4', () => window.events.find((e) => e.type === 'siblings' && e.key === 'doc')),
    PATIENCE_MS, 'the siblings event in tab4');
  assert.equal(ev?.count, 2);
  await put('tab4', 'doc', 'merged', { context: got.context });
  assert.deepEqual((await get('tab1', 'doc')).values, ['merged']);
});

test('a Node.js node and browser tabs in one cluster', async () => {
  const child = spawn(process.execPath, [path.join(ROOT, 'js', 'replica-cli.js'), '--relay', relay.url, '--cluster', CLUSTER,
    '--name', 'nodejs', '--n', '3', '--r', '2', '--w', '2', '--gossipIntervalMs', '250'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = [];
  createInterface({ input: child.stdout }).on('line', (l) => answers.push(JSON.parse(l)));
  const ask = async (line) => {
    const before = answers.length;
    child.stdin.write(`${line}\n`);
    await waitFor(() => answers.length > before, PATIENCE_MS, `an answer to ${line}`);
    return answers[before];
  };
  try {
    await waitFor(() => answers.some((a) => a.ready === 'nodejs'), PATIENCE_MS, 'the Node.js replica');
    await waitConverged(NAMES, [...NAMES, 'nodejs']);
    const w = await ask('put from/node {"runtime":"node"}');
    assert.ok(w.ok?.context, JSON.stringify(w));
    acked.set('from/node', { runtime: 'node' });
    assert.deepEqual((await get('tab3', 'from/node')).values, [{ runtime: 'node' }]);
    await put('tab2', 'from/tab', { runtime: 'browser' });
    const r = await ask('get from/tab');
    assert.deepEqual(r.ok.values, [{ runtime: 'browser' }]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});

test('malformed frames and bad API arguments get typed errors and break nothing', async () => {
  const evil = new WebSocket(relay.url);
  const texts = [];
  await new Promise((resolve, reject) => { evil.once('open', resolve); evil.once('error', reject); });
  evil.on('message', (d, binary) => { if (!binary) texts.push(JSON.parse(d.toString())); });
  evil.send(JSON.stringify({ type: 'hello', cluster: CLUSTER, node: 'evil' }));
  await waitFor(() => texts.some((t) => t.type === 'welcome'), PATIENCE_MS, 'the welcome');
  const before = (await stats('tab1')).badFrames;
  const frame = (dest, payload) => Buffer.concat([Buffer.from([1, dest.length]), Buffer.from(dest), Buffer.from(payload)]);
  evil.send(frame('tab1', [0xff, 0xff, 0xff, 0xff, 0xff]));
  evil.send(frame('tab1', []));
  evil.send(Buffer.from([9, 9, 9]));
  evil.send(frame('nobody', [1]));
  await waitFor(async () => (await stats('tab1')).badFrames >= before + 2, PATIENCE_MS, 'tab1 to count the bad frames');
  await waitFor(() => texts.some((t) => t.code === 'MALFORMED_FRAME') && texts.some((t) => t.code === 'UNKNOWN_DESTINATION'), PATIENCE_MS, 'the relay errors');
  evil.close();
  const codes = await inTab('tab1', async () => {
    const r = window.replica;
    const attempts = [
      () => r.get(7), () => r.put('k', undefined), () => r.put('k', 'v', { w: 0 }), () => r.put('k', 'v', { w: 4 }),
      () => r.put('k', 'v', { context: '%%%' }), () => r.delete('k', { context: [1, 2] }), () => r.get('k', { r: 'all' }),
      () => window.Replica.open({ cluster: 'e2e', relay: 'not a url' }), () => window.Replica.open({ cluster: '', relay: 'ws://x' }),
    ];
    const out = [];
    for (const a of attempts) {
      try { await a(); out.push('resolved'); } catch (e) { out.push(e instanceof Error && e.name === 'RingletError' ? e.code : `untyped ${e}`); }
    }
    return out;
  });
  assert.deepEqual(codes, Array(codes.length).fill('INVALID_ARGUMENT'));
  await put('tab1', 'after/abuse', 'still serving');
  assert.deepEqual((await get('tab5', 'after/abuse')).values, ['still serving']);
});

test('all tabs reloaded (the browser restarted on its profile): every acknowledged value is still there', async () => {
  await context.close();
  tabs.clear();
  await launch();
  for (const n of NAMES) assert.equal(await openTab(n), n, 'each tab comes back as the same node');
  // The Node.js node stopped but is still a member (an outage never changes membership).
  await waitConverged(NAMES, [...NAMES, 'nodejs']);
  const held = await Promise.all(NAMES.map(stats));
  assert.ok(held.every((s) => s.keysHeld > 0), 'every tab restored its data from IndexedDB');
  for (const [k, v] of acked) {
    const got = await get(NAMES[k.length % 5], k);
    assert.ok(got.values.some((x) => JSON.stringify(x) === JSON.stringify(v)), `${k}: ${JSON.stringify(got.values)}`);
  }
});

test('tabs without a name take distinct slots, and a reloaded tab keeps its node id', async () => {
  const page = async () => {
    const p = await context.newPage();
    await p.goto(`${relay.http}/index.html`);
    await p.waitForFunction(() => window.ringletLoaded === true);
    return p;
  };
  const open = (p) => p.evaluate(async (opts) => {
    window.replica = await window.Replica.open(opts);
    return window.replica.id;
  }, { cluster: 'slots', relay: relay.url, n: 1, r: 1, w: 1 });
  const [a, b] = [await page(), await page()];
  const idA = await open(a);
  const idB = await open(b);
  assert.match(idA, /^tab-[0-9a-f]{32}$/);
  assert.notEqual(idA, idB);
  await a.reload();
  await a.waitForFunction(() => window.ringletLoaded === true);
  assert.equal(await open(a), idA);
  await a.close();
  await b.close();
});

test('a full IndexedDB quota is QUOTA_EXCEEDED and corrupts nothing that was stored', async () => {
  // Chromium enforces an overridden quota on IndexedDB writes in an in-memory (incognito)
  // profile, so this test runs in a browser of its own without a profile directory.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${relay.http}/index.html`);
    await page.waitForFunction(() => window.ringletLoaded === true);
    const opts = { cluster: 'quota', relay: relay.url, storage: 'indexeddb', name: 'q1', n: 1, r: 1, w: 1, maxValueBytes: 8 << 20 };
    const open = () => page.evaluate(async (o) => { window.replica = await window.Replica.open(o); }, opts);
    // A small quota for the origin (Chromium applies it to connections opened after it).
    const cdp = await page.context().newCDPSession(page);
    const origin = relay.http;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 512 * 1024 });
    await open();
    await page.evaluate(() => window.replica.put('small', 'kept'));
    const code = await page.evaluate(async () => {
      // Random bytes: Chromium compresses large IndexedDB values.
      const big = new Uint8Array(2 << 20);
      for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
      try {
        await window.replica.put('big', big);
        return 'resolved';
      } catch (e) {
        return e.code;
      }
    });
    assert.equal(code, 'QUOTA_EXCEEDED');
    assert.deepEqual(await page.evaluate(async () => (await window.replica.get('small')).values), ['kept']);
    assert.ok((await page.evaluate(() => window.replica.stats().persistFailures)) >= 1);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await page.evaluate(() => window.replica.put('later', 'written after the quota was raised'));
    await page.evaluate(() => window.replica.close());
    await open();
    const after = await page.evaluate(async () => ({
      small: (await window.replica.get('small')).values,
      later: (await window.replica.get('later')).values,
      corrupt: window.replica.stats().corruptRecords,
    }));
    assert.deepEqual(after, { small: ['kept'], later: ['written after the quota was raised'], corrupt: 0 });
  } finally {
    await browser.close();
  }
});
