// Shared by the WebRTC end-to-end tests (tests/e2e/webrtc_*.test.mjs): a relay, a headless
// Chromium whose tabs may open WebRTC data channels on loopback, tabs as ringlet nodes,
// and traffic sums over their stats().
//
// Chromium needs --allow-loopback-in-peer-connection (host candidates on 127.0.0.1) and the
// media permissions (without them it hides local addresses behind mDNS names, which do not
// resolve here). scripts/test.sh runs these tests in a loopback-only network namespace when
// it can (scripts/loopback-netns.sh), so the only candidates are loopback ones.
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startRelay, waitFor, waitPagesConverged, ROOT } from '../js/support.mjs';

export { waitFor, ROOT };

/** How long any wait of these tests may take on a busy machine (Playwright's included). */
export const PATIENCE_MS = 120_000;

export const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows', '--disable-dev-shm-usage',
  '--allow-loopback-in-peer-connection',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

/** A relay on `port` and a browser context whose tabs may use WebRTC on loopback. */
export async function startCluster(port) {
  const relay = await startRelay(port, { www: path.join(ROOT, 'tests', 'e2e', 'www') });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
  const context = await browser.newContext({ permissions: ['microphone', 'camera'] });
  context.setDefaultTimeout(PATIENCE_MS);
  const tabs = new Map();
  return {
    relay,
    context,
    tabs,
    /** Open tab `name` as a ringlet node with memory storage; resolves with its id. */
    async open(name, opts) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
      await page.goto(`${relay.http}/index.html`);
      await page.waitForFunction(() => window.ringletLoaded === true);
      await page.evaluate(async (o) => { window.replica = await window.Replica.open(o); }, { relay: relay.url, name, storage: 'memory', ...opts });
      tabs.set(name, page);
      return page;
    },
    in(name, fn, arg) { return tabs.get(name).evaluate(fn, arg); },
    stats(name) { return tabs.get(name).evaluate(() => window.replica.stats()); },
    async stop() {
      await browser.close().catch(() => {});
      await relay.stop();
    },
  };
}

/** Every replica in `names` sees all of `ids` valid and owning partitions, on one ring. */
export const waitConverged = (c, names, ids, ms) => waitPagesConverged((n, fn) => c.in(n, fn), names, ids, ms);

/** Every tab in `names` has an open data channel to every other tab in `names`. */
export async function waitChannels(c, names, ms = PATIENCE_MS) {
  await waitFor(async () => {
    for (const n of names) {
      const s = await c.stats(n);
      for (const o of names) if (o !== n && s.peers[o]?.path !== 'datachannel') return false;
    }
    return true;
  }, ms, `data channels between ${names.join(',')}`);
}

/** Messages sent by the tabs in `names`, summed per path. */
export async function sentPerPath(c, names) {
  const all = await Promise.all(names.map((n) => c.stats(n)));
  return {
    datachannel: all.reduce((a, s) => a + s.paths.datachannel.messagesSent, 0),
    relay: all.reduce((a, s) => a + s.paths.relay.messagesSent, 0),
  };
}

/** In tab `name`: `count` puts and gets of distinct keys, `concurrency` at a time; the failures. */
export function workload(c, name, prefix, count, concurrency = 4) {
  return c.in(name, async ([prefix, count, concurrency]) => {
    const failures = [];
    let next = 0;
    const run = async () => {
      while (next < count) {
        const i = next++;
        const key = `${prefix}/${i}`;
        try {
          await window.replica.put(key, { i, prefix });
          const { values } = await window.replica.get(key);
          if (!values.some((v) => v.i === i)) failures.push(`${key}: read ${JSON.stringify(values)}`);
        } catch (e) {
          failures.push(`${key}: ${e.code ?? e} ${e.message ?? ''}`.trim());
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, run));
    return failures;
  }, [prefix, count, concurrency]);
}
