// The package under Vite, unchanged and unconfigured: the dev server (which pre-bundles the
// dependency away from its .wasm) and a production build both load it in Chromium and do a
// put and a get against a real relay (127.0.0.1:8136). The app is tests/e2e/vite-app with
// the package installed into its node_modules as npm would (a copy of the packed files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createServer, build, preview } from 'vite';
import { startRelay, ROOT } from '../js/support.mjs';

const PATIENCE_MS = 120_000;
const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
const app = path.join(ROOT, 'target', 'tmp', 'vite-app');
let relay;
let browser;

/** The app, with `ringlet` installed in its node_modules (the files `npm pack` ships). */
async function makeApp() {
  await fs.rm(app, { recursive: true, force: true });
  const pkg = path.join(app, 'node_modules', 'ringlet');
  await fs.mkdir(pkg, { recursive: true });
  for (const f of ['index.html', 'main.js']) await fs.copyFile(path.join(ROOT, 'tests', 'e2e', 'vite-app', f), path.join(app, f));
  await fs.copyFile(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  await fs.cp(path.join(ROOT, 'js'), path.join(pkg, 'js'), { recursive: true });
  await fs.mkdir(path.join(pkg, 'pkg'));
  for (const f of ['ringlet.js', 'ringlet_bg.wasm']) await fs.copyFile(path.join(ROOT, 'pkg', f), path.join(pkg, 'pkg', f));
  await fs.writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }));
}

before(async () => {
  await makeApp();
  relay = await startRelay(8136);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

async function putGetIn(url) {
  const page = await browser.newPage();
  page.setDefaultTimeout(PATIENCE_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${url}?relay=${encodeURIComponent(relay.url)}`);
    await page.waitForFunction(() => window.result !== undefined);
    const result = await page.evaluate(() => window.result);
    assert.deepEqual(result, { values: [{ from: 'vite' }] }, `page errors: ${errors.join('; ')}`);
  } finally {
    await page.close();
  }
}

const quiet = { root: app, configFile: false, logLevel: 'silent' };

test('the Vite dev server loads the pre-bundled package and does a put/get', async () => {
  const server = await createServer({ ...quiet, server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  try {
    await putGetIn(server.resolvedUrls.local[0]);
    // The dependency really was pre-bundled away from its .wasm (the case that used to fail).
    const deps = await fs.readdir(path.join(app, 'node_modules', '.vite', 'deps'));
    assert.ok(deps.includes('ringlet.js'), `pre-bundled deps: ${deps.join(', ')}`);
  } finally {
    await server.close();
  }
});

test('a Vite production build loads the package and does a put/get', async () => {
  await build({ ...quiet, build: { outDir: path.join(app, 'dist'), emptyOutDir: true } });
  const assets = await fs.readdir(path.join(app, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the build emits the .wasm: ${assets.join(', ')}`);
  assert.ok(!assets.some((f) => f.includes('teaching')), 'and not the teaching module');
  const server = await preview({ ...quiet, build: { outDir: path.join(app, 'dist') }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  try {
    await putGetIn(server.resolvedUrls.local[0]);
  } finally {
    await server.close();
  }
});
