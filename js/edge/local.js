// Run the edge worker locally on workerd through miniflare: the Worker, one Durable Object
// per cluster, its storage persisted under a directory, and the pages (www/, pkg/) served as
// the Worker's ASSETS. Used by `npm run edge` (scripts/edge.mjs), the tests and the benchmark.

import { Miniflare, Response } from 'miniflare';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The modules of the Worker, as workerd loads them (no bundler). */
export function workerModules() {
  const m = (type, p) => ({ type, path: path.join(root, p) });
  return [
    m('ESModule', 'js/edge/worker.js'),
    m('ESModule', 'js/edge/relay.js'),
    m('ESModule', 'js/edge/access.js'),
    m('ESModule', 'js/edge/node.js'),
    m('ESModule', 'js/edge/storage.js'),
    m('ESModule', 'js/index.js'),
    m('ESModule', 'pkg/ringlet.js'),
    m('CompiledWasm', 'pkg/ringlet_bg.wasm'),
  ];
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.ts': 'text/plain',
};

/** The static pages, as the native relay serves them: /pkg/... from pkg/, the rest from www/. */
function assets(www) {
  return (request) => serve(www, request);
}

async function serve(www, request) {
  const url = new URL(request.url);
  let p;
  try {
    p = decodeURIComponent(url.pathname);
  } catch {
    return new Response('bad path\n', { status: 400 });
  }
  if (p.split('/').includes('..') || p.includes('\\') || p.includes('\0')) return new Response('bad path\n', { status: 400 });
  const file = p.startsWith('/pkg/') ? path.join(root, p) : path.join(www, p);
  try {
    const target = (await stat(file)).isDirectory() ? path.join(file, 'index.html') : file;
    const body = await readFile(target);
    return new Response(request.method === 'HEAD' ? null : body, {
      headers: { 'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream' },
    });
  } catch {
    return new Response('not found\n', { status: 404 });
  }
}

/**
 * Start the edge worker on `host:port` (port 0: any free port). `persist`: the directory of
 * the Durable Objects' storage (kept across restarts). `www`: the pages' directory (`/pkg/`
 * is always the build). `vars`: the Worker's environment.
 * Resolves to `{ url, mf, close() }`.
 */
export async function startEdge({ host = '127.0.0.1', port = 8787, persist, www = path.join(root, 'www'), vars = {}, log = false } = {}) {
  const mf = new Miniflare({
    modules: workerModules(),
    modulesRoot: root,
    compatibilityDate: '2025-09-01',
    host,
    port,
    durableObjects: { RINGLET_CLUSTER_DO: 'RingletCluster' },
    durableObjectsPersist: persist ?? false,
    bindings: vars,
    serviceBindings: { ASSETS: assets(www) },
    verbose: log,
  });
  const url = await mf.ready;
  return { url: url.href.replace(/\/$/, ''), mf, close: () => mf.dispose() };
}
