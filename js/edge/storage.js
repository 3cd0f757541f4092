// The edge node's storage engine: ringlet's JS storage port (`load()`, `apply(ops)`, see
// src/wasm/storage_js.rs) over a Durable Object's transactional storage.
//
// Each record (a key from src/wasm/records.rs and its bytes) is one storage value under
// `r/<key>`. Durable Object values are limited to 128 KiB, so a larger record is stored in
// parts `p/<key>/<i>` of at most CHUNK bytes, with `{ chunks, length }` under `r/<key>`.
// One batch is one `storage.transaction()`: its puts and deletes go in groups of at most 128
// keys (the per-call limit), all committed together or not at all, and the promise resolves
// once the transaction is durable. The object is the only writer, so the part counts are
// kept in memory from the load on.

const RECORD = 'r/';
const PART = 'p/';
/** The largest part; Durable Object values are limited to 128 KiB. */
export const CHUNK = 120 * 1024;
/** Keys per `put`/`delete`/`get` call (the Durable Object limit). */
export const KEYS_PER_CALL = 128;

const partKey = (key, i) => `${PART}${key}/${i}`;

export class DurableObjectStore {
  /** `storage`: a Durable Object's `state.storage`. */
  constructor(storage) {
    this.storage = storage;
    this.parts = new Map();
  }

  /** Every record: `[[key, Uint8Array], ...]`. */
  async load() {
    const out = [];
    const chunked = [];
    let startAfter;
    for (;;) {
      const page = await this.storage.list({ prefix: RECORD, startAfter, limit: 1000 });
      if (page.size === 0) break;
      for (const [k, v] of page) {
        startAfter = k;
        const key = k.slice(RECORD.length);
        if (v instanceof Uint8Array || v instanceof ArrayBuffer) out.push([key, new Uint8Array(v)]);
        else if (v && typeof v === 'object' && Number.isInteger(v.chunks)) chunked.push([key, v]);
        else out.push([key, undefined]); // counted as corrupt by the node
      }
    }
    for (const [key, head] of chunked) {
      const keys = Array.from({ length: head.chunks }, (_, i) => partKey(key, i));
      const got = new Map();
      for (let i = 0; i < keys.length; i += KEYS_PER_CALL) {
        for (const [k, v] of await this.storage.get(keys.slice(i, i + KEYS_PER_CALL))) got.set(k, v);
      }
      const record = new Uint8Array(head.length);
      let at = 0;
      let whole = true;
      for (const k of keys) {
        const part = got.get(k);
        if (!(part instanceof Uint8Array) || at + part.length > record.length) {
          whole = false;
          break;
        }
        record.set(part, at);
        at += part.length;
      }
      this.parts.set(key, head.chunks);
      out.push([key, whole && at === record.length ? record : undefined]);
    }
    return out;
  }

  /** One batch, atomically: `ops` is `[[key, Uint8Array | undefined], ...]` in order. */
  async apply(ops) {
    // The batch's final effect per storage key, and the part counts after it.
    const writes = new Map();
    const parts = new Map();
    for (const [key, value] of ops) {
      const before = parts.has(key) ? parts.get(key) : (this.parts.get(key) ?? 0);
      let after = 0;
      if (value === undefined) {
        writes.set(RECORD + key, undefined);
      } else if (value.length <= CHUNK) {
        writes.set(RECORD + key, value);
      } else {
        after = Math.ceil(value.length / CHUNK);
        writes.set(RECORD + key, { chunks: after, length: value.length });
        for (let i = 0; i < after; i++) writes.set(partKey(key, i), value.subarray(i * CHUNK, (i + 1) * CHUNK));
      }
      for (let i = after; i < before; i++) writes.set(partKey(key, i), undefined);
      parts.set(key, after);
    }
    const puts = [];
    const deletes = [];
    for (const [k, v] of writes) {
      if (v === undefined) deletes.push(k);
      else puts.push([k, v instanceof Uint8Array ? v.slice() : v]);
    }
    await this.storage.transaction(async (txn) => {
      for (let i = 0; i < puts.length; i += KEYS_PER_CALL) {
        await txn.put(Object.fromEntries(puts.slice(i, i + KEYS_PER_CALL)));
      }
      for (let i = 0; i < deletes.length; i += KEYS_PER_CALL) {
        await txn.delete(deletes.slice(i, i + KEYS_PER_CALL));
      }
    });
    for (const [key, n] of parts) {
      if (n === 0) this.parts.delete(key);
      else this.parts.set(key, n);
    }
  }
}
