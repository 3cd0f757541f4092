// Shared by the edge tests: the edge worker on workerd (scripts/edge.mjs in a child process,
// so a restart is a real stop and start of the runtime on the same persisted storage),
// Chromium tabs through playwright-core, and raw WebSocket clients.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';
import { ROOT, waitFor, sleep, startRelay } from '../js/support.mjs';

export { ROOT, waitFor, sleep };

/** How long any wait of the edge tests may take on a busy machine (Playwright's included). */
export const PATIENCE_MS = 120_000;

export const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows', '--disable-dev-shm-usage',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Start the edge worker (relay + edge node, one Durable Object per cluster) on 127.0.0.1:port
 * with its Durable Object storage under `persist`. Resolves once it answers.
 */
export async function startEdge(port, persist, vars = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'edge.mjs'), '--port', String(port),
    '--persist', persist, '--www', path.join(ROOT, 'tests', 'e2e', 'www')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...vars },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  const http = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (!running()) throw new Error(`the edge worker exited: ${output}`);
    return output.includes('listening');
  }, PATIENCE_MS, `the edge worker to listen on ${port}`);
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    http,
    output: () => output,
    /** The edge node's status (GET /edge): id, members, stats, alarm. */
    async edge(cluster) {
      const res = await fetch(`${http}/edge${cluster ? `?cluster=${cluster}` : ''}`);
      return res.json();
    },
    async stats(cluster) {
      const res = await fetch(`${http}/stats${cluster ? `?cluster=${cluster}` : ''}`);
      return res.json();
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      let timer;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 30_000); })]);
      clearTimeout(timer);
      if (running()) child.kill('SIGKILL');
      await exited; // its port and storage are free once it returns
    },
  };
}

/** A Chromium with its own profile; `tab(name, opts)` opens a ringlet node in a new page. */
export async function startBrowser(base) {
  const profile = tempDir('ringlet-edge-profile-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: BROWSER_ARGS,
  });
  context.setDefaultTimeout(PATIENCE_MS);
  const pages = new Map();
  return {
    async tab(name, opts) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
      await page.goto(`${base}/index.html`);
      await page.waitForFunction(() => window.ringletLoaded === true);
      await page.evaluate(async (o) => { window.replica = await window.Replica.open(o); }, { name, ...opts });
      pages.set(name, page);
      const run = (fn, arg) => page.evaluate(fn, arg);
      return {
        page,
        run,
        put: (k, v, o) => run(([k, v, o]) => window.replica.put(k, v, o).then(() => true), [k, v, o]),
        get: (k, o) => run(([k, o]) => window.replica.get(k, o).then((g) => g.values), [k, o]),
        members: () => run(() => window.replica.members()),
        stats: () => run(() => window.replica.stats()),
        close: async () => {
          await run(() => window.replica.close()).catch(() => {});
          await page.close();
          pages.delete(name);
        },
      };
    },
    async close() {
      await context.close().catch(() => {});
      profile.remove();
    },
  };
}

/** Every view in `views` (arrays of members) has exactly `ids` valid. */
export function allValid(views, ids) {
  const want = JSON.stringify([...ids].sort());
  return views.every((m) => JSON.stringify(m.filter((x) => x.status === 'valid').map((x) => x.node).sort()) === want);
}

/** A raw WebSocket client of a relay: every message it got, and its close code. */
export function rawClient(url) {
  const ws = new WebSocket(url);
  const c = { ws, messages: [], closed: null };
  ws.on('message', (data, isBinary) => c.messages.push(isBinary ? new Uint8Array(data) : JSON.parse(String(data))));
  ws.on('close', (code) => { c.closed = code; });
  ws.on('error', () => {});
  c.open = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return c;
}

/**
 * The hooks of a test file that runs an edge worker on `port` (fresh persisted storage in
 * `env.state.dir`) and a browser on its pages: `env.edge` and `env.browser` once `before` ran.
 */
export function withEdgeAndBrowser(port) {
  const env = { state: tempDir('ringlet-edge-state-'), edge: null, browser: null };
  before(async () => {
    env.edge = await startEdge(port, env.state.dir);
    env.browser = await startBrowser(env.edge.http);
  });
  after(async () => {
    await env.browser?.close();
    await env.edge?.stop();
    env.state.remove();
  });
  return env;
}

/**
 * The hooks of a test file comparing the native relay (`env.native`) with the edge relay
 * (`env.edge`), configured alike: `relay` is `startRelay`'s `{ args, env }`, `vars` the
 * edge worker's environment.
 */
export function withNativeAndEdge(nativePort, edgePort, { relay = {}, vars = {} } = {}) {
  const env = { state: tempDir('ringlet-edge-state-'), native: null, edge: null };
  before(async () => {
    [env.native, env.edge] = await Promise.all([startRelay(nativePort, relay), startEdge(edgePort, env.state.dir, vars)]);
  });
  after(async () => {
    await env.native?.stop();
    await env.edge?.stop();
    env.state.remove();
  });
  return env;
}
