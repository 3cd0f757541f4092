// A relay with a secret and an origin allowlist, from real Chromium pages: a page of an
// allowed origin joins with a join token (fetched by a token function, as an app would),
// one without a token is refused with UNAUTHORIZED, and a page whose origin the relay does
// not list is refused with ORIGIN_NOT_ALLOWED. Relays on 127.0.0.1:8104 and 8105.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { issueToken } from 'ringlet/token';
import { startRelay, waitForValue, ROOT } from '../js/support.mjs';

/** How long any wait may take on a busy machine (Playwright's included). */
const PATIENCE_MS = 120_000;

const SECRET = 'the secret of the e2e relay';
const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
const www = path.join(ROOT, 'tests', 'e2e', 'www');
let home;
let elsewhere;
let browser;

before(async () => {
  home = await startRelay(8104, { www, args: ['--allow-origin', 'http://127.0.0.1:8104'], env: { RINGLET_RELAY_SECRET: SECRET } });
  elsewhere = await startRelay(8105, { www, args: ['--allow-origin', 'https://app.example'] });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
});

after(async () => {
  await browser?.close();
  await home?.stop();
  await elsewhere?.stop();
});

test('an allowed page joins with a token; no token and a foreign origin are typed refusals', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(PATIENCE_MS);
  await page.goto(`${home.http}/index.html`);
  await page.waitForFunction(() => window.ringletLoaded === true);
  // The "app server": the test mints the token the page's function asks for.
  await page.exposeFunction('askServer', (who) => issueToken({ secret: SECRET, ...who, ttlSeconds: 60 }));
  const open = (relay, withToken) => page.evaluate(async ([url, withToken]) => {
    try {
      // A refusal is an answer, not a timeout: the open timeout only bounds a relay that hangs.
      const opts = { cluster: 'browsers', relay: url, storage: 'memory', name: 'tab-a', n: 1, r: 1, w: 1, openTimeoutMs: 60_000 };
      if (withToken) opts.token = (who) => window.askServer(who);
      const r = await window.Replica.open(opts);
      await r.put('k', 'from the browser');
      const got = await r.get('k');
      await r.close();
      return { id: r.id, values: got.values };
    } catch (e) {
      return { code: e.code, message: e.message };
    }
  }, [relay, withToken]);

  assert.deepEqual(await open(home.url, true), { id: 'tab-a', values: ['from the browser'] });
  const noToken = await open(home.url, false);
  assert.equal(noToken.code, 'UNAUTHORIZED', JSON.stringify(noToken));
  const foreign = await open(elsewhere.url, true);
  assert.equal(foreign.code, 'ORIGIN_NOT_ALLOWED', JSON.stringify(foreign));
  assert.match(foreign.message, /http:\/\/127\.0\.0\.1:8104/);
  // Each relay counted its refusal (once: the page did not try again).
  const unauthorized = await waitForValue(async () => (await home.stats()).refused.unauthorized, (n) => n >= 1, PATIENCE_MS, 'the refusal counted');
  assert.equal(unauthorized, 1);
  const foreignOrigin = await waitForValue(async () => (await elsewhere.stats()).refused.origin_not_allowed, (n) => n >= 1, PATIENCE_MS, 'the refusal counted');
  assert.equal(foreignOrigin, 1);
  await page.close();
});
