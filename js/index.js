// ringlet for browsers and Node.js: one Dynamo node per page or process, joined to a cluster
// through a ringlet relay. This file is the package entry: it loads the wasm build from
// ../pkg (fetch in a browser, fs in Node.js) and wraps it in an idiomatic `Replica` class.
//
//   import { Replica } from 'ringlet';
//   const r = await Replica.open({ cluster: 'demo', relay: 'ws://127.0.0.1:8080/ws', storage: 'memory' });
//   await r.put('cart/ada', { items: ['milk'] });
//   const { values, context } = await r.get('cart/ada');

import initWasm, { initSync, WasmReplica } from '../pkg/ringlet.js';

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

let loaded = null;
let wasmExports = null;

// Node.js-only modules, imported by a computed name so bundlers for browsers and Workers
// (Vite, esbuild in wrangler) leave them out instead of trying to bundle them.
const nodeImport = (name) => import(/* @vite-ignore */ name);

/**
 * Load the wasm module once (idempotent). `Replica.open` calls it; call it yourself to load
 * early. `init({ module })` uses an already compiled `WebAssembly.Module` (runtimes that
 * cannot compile wasm from bytes, such as Cloudflare Workers, import the .wasm file).
 */
export function init(options) {
  if (!loaded && options?.module instanceof WebAssembly.Module) {
    try {
      wasmExports = initSync({ module: options.module });
      loaded = Promise.resolve();
    } catch (e) {
      return Promise.reject(loadFailed(e, 'the given WebAssembly.Module'));
    }
  }
  if (!loaded) {
    // `url`: where the .wasm is served, for bundlers that move this file away from it
    // (e.g. `import wasmUrl from 'ringlet/pkg/ringlet_bg.wasm?url'` in Vite).
    const given = options?.url ?? options?.module;
    loaded = (async () => {
      const wasmUrl = given ?? new URL('../pkg/ringlet_bg.wasm', import.meta.url);
      try {
        if (isNode) {
          if (typeof globalThis.WebSocket === 'undefined') {
            const ws = await nodeImport('ws');
            globalThis.WebSocket = ws.WebSocket ?? ws.default;
          }
          const { readFile } = await nodeImport('node:fs/promises');
          const bytes = given instanceof Uint8Array || given instanceof ArrayBuffer ? given : await readFile(wasmUrl);
          wasmExports = initSync({ module: bytes });
        } else if (given !== undefined) {
          wasmExports = await initWasm({ module_or_path: wasmUrl });
        } else {
          wasmExports = await initWasm({ module_or_path: await fetchWasm(wasmUrl) });
        }
      } catch (e) {
        throw loadFailed(e, String(wasmUrl));
      }
    })();
    loaded.catch(() => { loaded = null; });
  }
  return loaded;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * The module's bytes, from beside this file or, where a dependency pre-bundler moved this
 * file (Vite's dev server serves it from `node_modules/.vite/deps/`, where `../pkg/` does not
 * exist and the server answers with its HTML page), from the package's own directory.
 */
async function fetchWasm(url) {
  const candidates = [url];
  const here = String(import.meta.url);
  if (here.includes('/node_modules/.vite/')) {
    candidates.push(new URL('/node_modules/ringlet/pkg/ringlet_bg.wasm', here));
  }
  let why = '';
  for (const u of candidates) {
    const res = await fetch(u);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.ok && WASM_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
    why ||= `${u} answered ${res.status} with ${bytes.length} bytes that are not wasm (expected magic word 00 61 73 6d)`;
  }
  throw new Error(why);
}

function loadFailed(e, where) {
  const hint = String(e?.message ?? e).includes('magic word')
    ? ' (the server answered with something that is not wasm, often an HTML page: a bundler moved the JS away from the .wasm;' +
      ' pass init({ url }) or, in Vite, add optimizeDeps: { exclude: ["ringlet"] })'
    : '';
  return new RingletError('WASM_LOAD_FAILED', `cannot load ringlet's WebAssembly module from ${where}: ${e?.message ?? e}${hint}`, { cause: e });
}

/** The stable error codes a `RingletError` carries. */
export const ErrorCode = Object.freeze({
  QUORUM_FAILED: 'QUORUM_FAILED',
  TIMEOUT: 'TIMEOUT',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  STORAGE_FAILED: 'STORAGE_FAILED',
  CORRUPT: 'CORRUPT',
  TOO_MANY_SIBLINGS: 'TOO_MANY_SIBLINGS',
  CLOSED: 'CLOSED',
  NOT_READY: 'NOT_READY',
  RELAY_FAILED: 'RELAY_FAILED',
  NODE_ID_IN_USE: 'NODE_ID_IN_USE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  CLUSTER_FULL: 'CLUSTER_FULL',
  RATE_LIMITED: 'RATE_LIMITED',
  NO_RANDOMNESS: 'NO_RANDOMNESS',
  NOT_HELD: 'NOT_HELD',
  RESOLVERS_DIFFER: 'RESOLVERS_DIFFER',
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED',
});

/** Every error ringlet throws or rejects with: an `Error` with a stable `code`. */
export class RingletError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'RingletError';
    this.code = code;
    Object.assign(this, details);
  }
}

function wrapError(e) {
  if (e instanceof RingletError) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const details = {};
    for (const k of ['needed', 'got', 'size', 'max', 'count', 'afterMs', 'ambiguous']) if (k in e) details[k] = e[k];
    return new RingletError(e.code, e.message, details);
  }
  // A bug, not an expected failure: keep the original for its stack.
  return e;
}

async function call(fn) {
  try {
    return await fn();
  } catch (e) {
    throw wrapError(e);
  }
}

/**
 * Without a `name`, each tab of an origin takes the first free numbered slot of the cluster
 * (held by a Web Lock while the replica is open), and slot i's IndexedDB database keeps its
 * node id: a reloaded tab comes back as the same node, and two open tabs never share one.
 */
async function claimSlot(cluster) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return { slot: 0, release: () => {} };
  for (let slot = 0; slot < 256; slot++) {
    const held = await new Promise((resolve, reject) => {
      locks
        .request(`ringlet/${cluster}/slot-${slot}`, { ifAvailable: true }, (lock) => {
          if (!lock) {
            resolve(null);
            return undefined;
          }
          return new Promise((release) => resolve({ slot, release }));
        })
        .catch(reject);
    });
    if (held) return held;
  }
  throw new RingletError('STORAGE_FAILED', 'no free replica slot (256 replicas of this cluster open in this origin)');
}

const EVENT_TYPES = new Set([
  'membership', 'ring', 'siblings', 'nodeup', 'nodedown', 'readrepair', 'hintstored',
  'hintdelivered', 'connected', 'disconnected', 'peerjoined', 'peerleft', 'refused', 'relaydrop', 'siblingswarning',
  'corruptrecord', 'change', 'other',
]);

const encoder = new TextEncoder();
const keyBytes = (k) => (typeof k === 'string' ? encoder.encode(k) : k);
/** True when `key` is `target` (or starts with it, for a prefix). */
function keyMatches(key, target, prefix) {
  const a = keyBytes(key);
  const b = keyBytes(target);
  if (prefix ? a.length < b.length : a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Settle every promise; one `{ key, ...result }` or `{ key, error }` per entry, in order. */
/**
 * The `local` option of a get: `true`, `false`, or `undefined` when absent. A local get
 * takes no other option.
 */
function localOption(options) {
  if (options === null || typeof options !== 'object' || !('local' in options)) return undefined;
  const { local, ...rest } = options;
  if (typeof local !== 'boolean') throw new RingletError('INVALID_ARGUMENT', '`local` must be a boolean');
  if (local && Object.keys(rest).length > 0) {
    throw new RingletError('INVALID_ARGUMENT', `a local get takes no other option (got ${Object.keys(rest).join(', ')})`);
  }
  return local;
}

function withoutLocal(options) {
  const { local: _, ...rest } = options;
  return rest;
}

async function settleAll(promises, keys) {
  const out = await Promise.allSettled(promises);
  return out.map((r, i) => (r.status === 'fulfilled'
    ? { key: keys[i], ...(r.value ?? {}) }
    : { key: keys[i], error: wrapError(r.reason) }));
}

/** One node of a ringlet cluster, running in this page or process. */
export class Replica {
  #inner;
  #release;
  #listeners = new Map();
  #watchers = new Set();

  /** Use `Replica.open`. */
  constructor(inner, release) {
    if (!(inner instanceof WasmReplica)) throw new TypeError('use Replica.open(options)');
    this.#inner = inner;
    this.#release = release;
    inner.setListener((event) => this.#dispatch(event));
  }

  /**
   * Open a node and join the cluster; resolves once the node owns partitions of the ring
   * (or, if the cluster cannot add it yet, knows the ring after half of `openTimeoutMs`).
   */
  static async open(options) {
    await init();
    if (options === null || typeof options !== 'object') {
      throw new RingletError('INVALID_ARGUMENT', 'Replica.open needs an options object');
    }
    let opts = options;
    let release = () => {};
    const wantsIdb = options.storage === 'indexeddb' || (options.storage === undefined && typeof indexedDB !== 'undefined');
    if (wantsIdb && options.name === undefined && options.dbName === undefined && typeof options.cluster === 'string') {
      const held = await claimSlot(options.cluster);
      release = held.release;
      opts = { ...options, dbName: `ringlet/${options.cluster}/slot-${held.slot}` };
    }
    try {
      const inner = await call(() => WasmReplica.open(opts));
      return new Replica(inner, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** This node's id (also its name at the relay). */
  get id() { return this.#inner.id; }

  /** `"indexeddb"`, `"memory"` or `"js"` (a storage engine object). */
  get storage() { return this.#inner.storage; }

  /**
   * Every sibling of `key` and the context to write back: `{ values, context, partial }`.
   * `values` is empty when absent; `partial: true` when R was reached only with answers of
   * non-authorities (then an empty `values` does not mean absent; docs/api.md#reads).
   * `{ local: true }`: only what this node holds, no network (`NOT_HELD` if nothing).
   */
  get(key, options) {
    return call(() => {
      const local = localOption(options);
      if (local) return this.#inner.getLocal(key);
      return this.#inner.get(key, local === false ? withoutLocal(options) : options);
    });
  }

  /**
   * Get many keys at once: one `{ key, values, context, partial }` or `{ key, error }` per
   * key. `{ local: true }` reads each from this node alone, as `get(key, { local: true })`.
   */
  getMany(keys, options) {
    return call(() => {
      const local = localOption(options);
      if (!local) {
        const rest = local === false ? withoutLocal(options) : options;
        return settleAll(this.#inner.getMany(keys, rest), keys);
      }
      if (!Array.isArray(keys)) throw new RingletError('INVALID_ARGUMENT', 'getMany needs an array of keys');
      const reads = keys.map((k) => {
        try {
          return Promise.resolve(this.#inner.getLocal(k));
        } catch (e) {
          return Promise.reject(e);
        }
      });
      return settleAll(reads, keys);
    });
  }

  /**
   * Put many entries at once (`{ key, value, context?, w?, durable?, timeoutMs? }` or
   * `[key, value]`): one `{ key, context }` or `{ key, error }` per entry.
   */
  putMany(entries) {
    return call(() => settleAll(this.#inner.putMany(entries), Array.from(entries, (e) => (Array.isArray(e) ? e[0] : e?.key))));
  }

  /** A counter (`{ add }`) or set (`{ insert }`, `{ remove }`) operation on `key`. */
  update(key, op, options) { return call(() => this.#inner.update(key, op, options)); }

  /**
   * Call `listener({ key, values, context, origin })` whenever `keyOrPrefix` changes
   * anywhere in the cluster (`{ prefix: true }`: any key starting with it). Returns
   * `unwatch()`.
   */
  watch(keyOrPrefix, listener, options = {}) {
    if (typeof listener !== 'function') throw new RingletError('INVALID_ARGUMENT', 'a watch listener must be a function');
    if (options === null || typeof options !== 'object') throw new RingletError('INVALID_ARGUMENT', 'watch options must be an object');
    for (const k of Object.keys(options)) {
      if (k !== 'prefix') throw new RingletError('INVALID_ARGUMENT', `unknown watch option \`${k}\` (allowed: prefix)`);
    }
    const prefix = options.prefix ?? false;
    if (typeof prefix !== 'boolean') throw new RingletError('INVALID_ARGUMENT', '`prefix` must be a boolean');
    const w = { target: keyOrPrefix, prefix, listener };
    this.#watchers.add(w);
    try {
      this.#inner.watch(keyOrPrefix, prefix);
    } catch (e) {
      this.#watchers.delete(w);
      throw wrapError(e);
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.#watchers.delete(w);
      try { this.#inner.unwatch(keyOrPrefix, prefix); } catch { /* closed */ }
    };
  }

  /** Stop talking to the relay and data channels; every state is kept (`connect()` resumes). */
  disconnect() { this.#inner.disconnect(); }

  /**
   * Resume after `disconnect()`; resolves once the relay welcomed the node again
   * (`TIMEOUT` after `timeoutMs` [15,000], while it keeps trying).
   */
  connect({ timeoutMs = 15_000 } = {}) {
    if (this.connected) return Promise.resolve();
    const welcomed = new Promise((resolve, reject) => {
      const l = () => { clearTimeout(t); this.off('connected', l); resolve(); };
      const t = setTimeout(() => {
        this.off('connected', l);
        reject(new RingletError('TIMEOUT', `not connected to the relay after ${timeoutMs} ms (still trying)`));
      }, timeoutMs);
      this.on('connected', l);
    });
    this.#inner.connect();
    return welcomed;
  }

  /** Connected to the relay (false after `disconnect()` and while reconnecting). */
  get connected() { return this.#inner.connected; }

  /** Write `value`; pass the context of the get it replaces (none: a blind write). */
  put(key, value, options) { return call(() => this.#inner.put(key, value, options)); }

  /** Delete `key`: a tombstone superseding what `options.context` covers. */
  delete(key, options) { return call(() => this.#inner.delete(key, options)); }

  /** Leave the cluster for good: partitions move to other members first. */
  leave() { return call(() => this.#inner.leave()); }

  /** The members this node knows. */
  members() { return this.#inner.members(); }

  /** The ring in force (partitions and owners), or null before joining. */
  ring() { return this.#inner.ring(); }

  /** The preference list of `key`: N primaries, then fallbacks. */
  preflist(key) {
    try { return this.#inner.preflist(key); } catch (e) { throw wrapError(e); }
  }

  /**
   * Counters: requests, hints held, repairs, frames, storage, and `wasmMemoryBytes` (the
   * size of the module's linear memory, shared by every replica of this page or process).
   */
  stats() {
    const s = this.#inner.stats();
    s.wasmMemoryBytes = wasmExports?.memory?.buffer?.byteLength ?? 0;
    s.watch = this.#inner.watchStats();
    return s;
  }

  /**
   * Opt-in message trace: `fn` gets `{ dir, peer, kind, key, versions }` for every message
   * this node sends (`dir: 'out'`) or receives (`'in'`); `null` turns it off. Off by default,
   * and then it costs nothing. The teaching page's live mode draws these.
   */
  trace(fn) {
    if (fn !== null && typeof fn !== 'function') throw new RingletError('INVALID_ARGUMENT', 'trace takes a function or null');
    this.#inner.setTrace(fn ?? null);
    return this;
  }

  /** When the node next needs its timers run (ms since the epoch), or undefined. */
  nextDeadline() { return this.#inner.nextDeadline(); }

  /** Run the node's timers now (a host's wake-up, e.g. a Durable Object alarm). */
  tick() { this.#inner.tick(); }

  /** Listen to `type` (see `ReplicaEvents`), or `'*'` for every event. */
  on(type, listener) {
    if (type !== '*' && !EVENT_TYPES.has(type)) throw new RingletError('INVALID_ARGUMENT', `unknown event type ${String(type)}`);
    if (typeof listener !== 'function') throw new RingletError('INVALID_ARGUMENT', 'a listener must be a function');
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    this.#syncChangeEvents();
    return this;
  }

  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
    this.#syncChangeEvents();
    return this;
  }

  /** `change` events are built only while someone listens to them (or to every event). */
  #syncChangeEvents() {
    const n = (t) => this.#listeners.get(t)?.size ?? 0;
    try { this.#inner.setChangeEvents(n('change') + n('*') > 0); } catch { /* closed */ }
  }

  /** Listen once; resolves with the first event of `type` that passes `filter`. */
  once(type, filter = () => true) {
    return new Promise((resolve) => {
      const l = (ev) => {
        if (!filter(ev)) return;
        this.off(type, l);
        resolve(ev);
      };
      this.on(type, l);
    });
  }

  #dispatch(event) {
    if (event.type === 'watch') {
      const { type, ...change } = event;
      for (const w of this.#watchers) {
        if (!keyMatches(change.key, w.target, w.prefix)) continue;
        try {
          w.listener(change);
        } catch (e) {
          console.error('ringlet: a watch listener threw', e);
        }
      }
      return;
    }
    for (const key of [event.type, '*']) {
      for (const l of this.#listeners.get(key) ?? []) {
        try {
          l(event);
        } catch (e) {
          console.error('ringlet: an event listener threw', e);
        }
      }
    }
  }

  /** Close the node; pending calls reject with CLOSED. */
  async close() {
    try {
      await this.#inner.close();
    } finally {
      this.#release();
      this.#release = () => {};
    }
  }

  /** Test hook: send raw bytes to the relay as one binary frame. */
  _sendRawFrame(bytes) { return this.#inner.sendRawFrame(bytes); }

  /** Test hook: close the data channel with node `peer` as if it had dropped (its traffic falls back to the relay). */
  _closeDataChannel(peer) { return this.#inner.closeDataChannel(peer); }

  /** Test hook: make the next storage batch fail (as a full quota when `quotaExceeded`). */
  _failNextPersist(quotaExceeded = true) { this.#inner.failNextPersist(quotaExceeded); }
}
