//! The IndexedDB storage engine (§5: a pluggable local persistence engine, here the
//! browser's). One database per node; one read-write transaction per persist batch, so a
//! batch is applied whole or not at all (IndexedDB transactions are atomic, and a
//! `QuotaExceededError` aborts the whole transaction, leaving what was stored untouched).
//! Read-write transactions over the same stores run in the order they were created, so
//! batches are applied in order.
//!
//! Object stores (records are `Uint8Array`s of the core's record codec, `core/record.rs`:
//! version, kind, postcard payload, CRC32C; each is verified at load, and one that fails is
//! reported in `Snapshot::corrupt`, never loaded):
//!
//! | store | key | record payload |
//! | --- | --- | --- |
//! | `objects` | hex of the key | `(key, Siblings)` |
//! | `hints` | hex of postcard `(intended, key)` | `(intended, key, Siblings)` |
//! | `meta` | `"meta"` | `NodeMeta` (the dot reservation) |
//! | `membership` | `"view"` | `MembershipSnapshot` (members and ring) |
//! | `fallbacks` | hex of the key | `(key, Siblings)`: what the fallback actor last sent |
//! | `forwards` | hex of postcard `(forwarder, rid)` | `ForwardMark`: a forward accepted here |
//! | `identity` | `"node"` | the node id (a string), so a reloaded tab is the same node |
//!
//! Transactions ask for `durability: "strict"`: a batch is reported done once it is flushed
//! to disk, because a durable acknowledgement (§6.1) promises exactly that.

use super::records::{forward_id, hex, unhex};
use super::storage::StorageError;
use super::values::describe;
use crate::core::record::{self, Loader, RecordStore};
use crate::core::{Bytes, NodeId, RecordId, Snapshot, StoreOp};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode,
};

/// 2 added the `fallbacks` store, 3 the `forwards` store (an upgrade creates the missing
/// stores and keeps the rest).
const VERSION: u32 = 3;
const OBJECTS: &str = "objects";
const HINTS: &str = "hints";
const META: &str = "meta";
const MEMBERSHIP: &str = "membership";
const IDENTITY: &str = "identity";
const FALLBACKS: &str = "fallbacks";
const FORWARDS: &str = "forwards";
const STORES: [&str; 7] = [
    OBJECTS, HINTS, META, MEMBERSHIP, IDENTITY, FALLBACKS, FORWARDS,
];
/// The stores a persist batch writes and a load reads.
const RECORD_STORES: [&str; 6] = [OBJECTS, HINTS, META, MEMBERSHIP, FALLBACKS, FORWARDS];

pub struct IdbStore {
    db: IdbDatabase,
    name: String,
    /// Conformance-suite hook: fail the next batch after this many ops (quota flag).
    fail_next: Cell<Option<(usize, bool)>>,
}

impl IdbStore {
    /// Open (creating if needed) the database `name`.
    pub async fn open(name: &str) -> Result<IdbStore, StorageError> {
        let factory = factory()?;
        let req = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| js_failure("cannot open IndexedDB", &e))?;
        let upgrade = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let db = Reflect::get(&ev, &"target".into())
                .and_then(|t| Reflect::get(&t, &"result".into()))
                .map(|d| d.unchecked_into::<IdbDatabase>());
            if let Ok(db) = db {
                let names = db.object_store_names();
                for s in STORES {
                    if !names.contains(s) {
                        let _ = db.create_object_store(s);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let blocked = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {
            web_sys_console_warn("ringlet: IndexedDB upgrade blocked by another open connection");
        });
        req.set_onblocked(Some(blocked.as_ref().unchecked_ref()));
        let result = await_request(req.unchecked_ref()).await;
        req.set_onupgradeneeded(None);
        req.set_onblocked(None);
        drop((upgrade, blocked));
        let db: IdbDatabase = result
            .map_err(|e| js_failure("cannot open IndexedDB", &e))?
            .unchecked_into();
        Ok(IdbStore {
            db,
            name: name.to_string(),
            fail_next: Cell::new(None),
        })
    }

    /// Delete the database `name` (tests and "forget this node").
    pub async fn delete(name: &str) -> Result<(), StorageError> {
        let req = factory()?
            .delete_database(name)
            .map_err(|e| js_failure("cannot delete the database", &e))?;
        await_request(req.unchecked_ref())
            .await
            .map(|_| ())
            .map_err(|e| js_failure("cannot delete the database", &e))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn close(&self) {
        self.db.close();
    }

    pub fn fail_next_batch(&self, after_ops: usize, quota_exceeded: bool) {
        self.fail_next.set(Some((after_ops, quota_exceeded)));
    }

    /// Apply one persist batch in one transaction.
    pub async fn apply(&self, ops: &[StoreOp]) -> Result<(), StorageError> {
        let tx = self.transaction(&RECORD_STORES, true)?;
        let injected = self.fail_next.take();
        let issued = self.issue(&tx, ops, injected.map(|(n, _)| n));
        if let Err(e) = issued {
            let _ = tx.abort();
            let _ = await_transaction(&tx).await;
            return Err(e);
        }
        if let Some((_, quota_exceeded)) = injected {
            let _ = tx.abort();
            let _ = await_transaction(&tx).await;
            return Err(StorageError {
                reason: "injected failure: transaction aborted".into(),
                quota_exceeded,
            });
        }
        await_transaction(&tx).await
    }

    fn issue(
        &self,
        tx: &IdbTransaction,
        ops: &[StoreOp],
        stop_at: Option<usize>,
    ) -> Result<(), StorageError> {
        let store = |name: &str| -> Result<IdbObjectStore, StorageError> {
            tx.object_store(name)
                .map_err(|e| js_failure("no object store", &e))
        };
        let (objects, hints, meta, membership, fallbacks, forwards) = (
            store(OBJECTS)?,
            store(HINTS)?,
            store(META)?,
            store(MEMBERSHIP)?,
            store(FALLBACKS)?,
            store(FORWARDS)?,
        );
        for (i, op) in ops.iter().enumerate() {
            if stop_at == Some(i) {
                return Ok(());
            }
            let done = match op {
                StoreOp::PutObject { key, versions } => {
                    let record = bytes(&record::encode_object(key, versions));
                    objects.put_with_key(&record, &hex(key.as_slice()).into())
                }
                StoreOp::DeleteObject { key } => objects.delete(&hex(key.as_slice()).into()),
                StoreOp::PutHint {
                    intended,
                    key,
                    versions,
                } => {
                    let record = bytes(&record::encode_hint(intended, key, versions));
                    hints.put_with_key(&record, &hint_key(intended, key)?.into())
                }
                StoreOp::DeleteHint { intended, key } => {
                    hints.delete(&hint_key(intended, key)?.into())
                }
                StoreOp::PutMeta(m) => {
                    meta.put_with_key(&bytes(&record::encode_meta(m)), &"meta".into())
                }
                StoreOp::PutMembership(m) => {
                    membership.put_with_key(&bytes(&record::encode_membership(m)), &"view".into())
                }
                StoreOp::PutFallback { key, versions } => {
                    let record = bytes(&record::encode_fallback(key, versions));
                    fallbacks.put_with_key(&record, &hex(key.as_slice()).into())
                }
                StoreOp::DeleteFallback { key } => fallbacks.delete(&hex(key.as_slice()).into()),
                StoreOp::PutForward(m) => {
                    let record = bytes(&record::encode_forward(m));
                    forwards.put_with_key(&record, &forward_id(&m.from, m.rid)?.into())
                }
                StoreOp::DeleteForward { from, rid } => {
                    forwards.delete(&forward_id(from, *rid)?.into())
                }
            };
            done.map_err(|e| js_failure("a write was refused", &e))?;
        }
        Ok(())
    }

    /// Everything stored, as the node restarts from it: every record verified, the ones
    /// that fail listed in `Snapshot::corrupt` (with their key, from the storage key).
    pub async fn load(&self) -> Result<Snapshot, StorageError> {
        let tx = self.transaction(&RECORD_STORES, false)?;
        let store_of = |name: &str| {
            tx.object_store(name)
                .map_err(|e| js_failure("no object store", &e))
        };
        let read = |store: &str, key: Option<&str>| -> Result<IdbRequest, StorageError> {
            let s = store_of(store)?;
            match key {
                Some(k) => s.get(&k.into()),
                None => s.get_all(),
            }
            .map_err(|e| js_failure("cannot read", &e))
        };
        let reqs = [
            read(OBJECTS, None)?,
            store_of(OBJECTS)?
                .get_all_keys()
                .map_err(|e| js_failure("cannot read", &e))?,
            read(HINTS, None)?,
            store_of(HINTS)?
                .get_all_keys()
                .map_err(|e| js_failure("cannot read", &e))?,
            read(META, Some("meta"))?,
            read(MEMBERSHIP, Some("view"))?,
            read(FALLBACKS, None)?,
            store_of(FALLBACKS)?
                .get_all_keys()
                .map_err(|e| js_failure("cannot read", &e))?,
            read(FORWARDS, None)?,
            store_of(FORWARDS)?
                .get_all_keys()
                .map_err(|e| js_failure("cannot read", &e))?,
        ];
        // Every request's handlers would have to be in place before the first await, so
        // wait for the transaction instead and read the results from the requests.
        await_transaction(&tx).await?;
        let mut results = Vec::with_capacity(reqs.len());
        for r in &reqs {
            results.push(r.result().map_err(|e| js_failure("cannot read", &e))?);
        }
        let mut loader = Loader::new();
        // `getAll` and `getAllKeys` list the same records in the same (key) order.
        for (rec, k) in records(&results[0]).into_iter().zip(keys(&results[1])) {
            let key = unhex(&k).map(|k| Bytes::new(&k));
            match rec {
                Some(rec) => loader.add(RecordStore::Objects, key, None, &rec),
                None => loader.unreadable(RecordStore::Objects, key, "not a byte array"),
            }
        }
        for (rec, k) in records(&results[2]).into_iter().zip(keys(&results[3])) {
            let named = unhex(&k).and_then(|b| postcard::from_bytes::<(NodeId, Bytes)>(&b).ok());
            let (intended, key) = named.map_or((None, None), |(n, k)| (Some(n), Some(k)));
            match rec {
                Some(rec) => loader.add(RecordStore::Hints, key, intended, &rec),
                None => loader.unreadable(RecordStore::Hints, key, "not a byte array"),
            }
        }
        for (rec, k) in records(&results[6]).into_iter().zip(keys(&results[7])) {
            let key = unhex(&k).map(|k| Bytes::new(&k));
            match rec {
                Some(rec) => loader.add(RecordStore::Fallbacks, key, None, &rec),
                None => loader.unreadable(RecordStore::Fallbacks, key, "not a byte array"),
            }
        }
        for (rec, k) in records(&results[8]).into_iter().zip(keys(&results[9])) {
            let named = unhex(&k).and_then(|b| postcard::from_bytes::<(NodeId, u64)>(&b).ok());
            let (from, rid) = named.map_or((None, None), |(n, rid)| (Some(n), Some(rid)));
            let rid = rid.map(record::forward_rid_key);
            match rec {
                Some(rec) => loader.add(RecordStore::Forwards, rid, from, &rec),
                None => loader.unreadable(RecordStore::Forwards, rid, "not a byte array"),
            }
        }
        for (store, v) in [
            (RecordStore::Meta, &results[4]),
            (RecordStore::Membership, &results[5]),
        ] {
            if v.is_undefined() || v.is_null() {
                continue;
            }
            match bytes_of(v) {
                Some(rec) => loader.add(store, None, None, &rec),
                None => loader.unreadable(store, None, "not a byte array"),
            }
        }
        Ok(loader.finish())
    }

    /// Conformance-suite hook: flip the bits of `mask` in byte `at` (modulo its length) of
    /// one stored record, as a bad disk would. False when no such record is stored.
    pub async fn corrupt(&self, id: &RecordId, at: usize, mask: u8) -> Result<bool, StorageError> {
        let (store, key) = match id {
            RecordId::Object(k) => (OBJECTS, hex(k.as_slice())),
            RecordId::Hint(n, k) => (HINTS, hint_key(n, k)?),
            RecordId::Meta => (META, "meta".to_string()),
            RecordId::Membership => (MEMBERSHIP, "view".to_string()),
            RecordId::Fallback(k) => (FALLBACKS, hex(k.as_slice())),
            RecordId::Forward(n, rid) => (FORWARDS, forward_id(n, *rid)?),
        };
        let tx = self.transaction(&[store], false)?;
        let req = tx
            .object_store(store)
            .and_then(|s| s.get(&key.as_str().into()))
            .map_err(|e| js_failure("cannot read", &e))?;
        let v = await_request(&req)
            .await
            .map_err(|e| js_failure("cannot read", &e))?;
        let Some(mut rec) = bytes_of(&v).filter(|r| !r.is_empty()) else {
            return Ok(false);
        };
        let i = at % rec.len();
        rec[i] ^= mask;
        let tx = self.transaction(&[store], true)?;
        tx.object_store(store)
            .and_then(|s| s.put_with_key(&bytes(&rec), &key.as_str().into()))
            .map_err(|e| js_failure("cannot write", &e))?;
        await_transaction(&tx).await?;
        Ok(true)
    }

    /// The node id stored in this database, if any.
    pub async fn identity(&self) -> Result<Option<String>, StorageError> {
        let tx = self.transaction(&[IDENTITY], false)?;
        let req = tx
            .object_store(IDENTITY)
            .and_then(|s| s.get(&"node".into()))
            .map_err(|e| js_failure("cannot read the node id", &e))?;
        let v = await_request(&req)
            .await
            .map_err(|e| js_failure("cannot read the node id", &e))?;
        Ok(v.as_string())
    }

    /// Store the node id (before the node first runs).
    pub async fn set_identity(&self, id: &str) -> Result<(), StorageError> {
        let tx = self.transaction(&[IDENTITY], true)?;
        tx.object_store(IDENTITY)
            .and_then(|s| s.put_with_key(&id.into(), &"node".into()))
            .map_err(|e| js_failure("cannot store the node id", &e))?;
        await_transaction(&tx).await
    }

    fn transaction(&self, stores: &[&str], write: bool) -> Result<IdbTransaction, StorageError> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        if !write {
            return self
                .db
                .transaction_with_str_sequence(&names)
                .map_err(|e| js_failure("cannot start a transaction", &e));
        }
        // `db.transaction(names, "readwrite", { durability: "strict" })`: the options are an
        // unstable web-sys API, so call the method directly. Engines without the option
        // ignore the dictionary member.
        let options = Object::new();
        let _ = Reflect::set(&options, &"durability".into(), &"strict".into());
        let method = Reflect::get(&self.db, &"transaction".into())
            .map_err(|e| js_failure("cannot start a transaction", &e))?;
        match method.dyn_ref::<Function>() {
            Some(f) => f
                .call3(&self.db, &names, &"readwrite".into(), &options)
                .map(|t| t.unchecked_into())
                .map_err(|e| js_failure("cannot start a transaction", &e)),
            None => self
                .db
                .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)
                .map_err(|e| js_failure("cannot start a transaction", &e)),
        }
    }
}

/// `indexedDB` of this global (window, worker, or Node.js with `fake-indexeddb/auto`).
fn factory() -> Result<IdbFactory, StorageError> {
    let f = Reflect::get(&js_sys::global(), &"indexedDB".into()).unwrap_or(JsValue::UNDEFINED);
    if f.is_undefined() || f.is_null() {
        return Err(StorageError::new("IndexedDB is not available here"));
    }
    Ok(f.unchecked_into())
}

fn bytes(record: &[u8]) -> JsValue {
    Uint8Array::from(record).into()
}

fn hint_key(intended: &NodeId, key: &Bytes) -> Result<String, StorageError> {
    postcard::to_allocvec(&(intended, key))
        .map(|b| hex(&b))
        .map_err(|e| StorageError::new(format!("cannot encode a hint key: {e}")))
}

fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    v.dyn_ref::<Uint8Array>().map(|a| a.to_vec()).or_else(|| {
        // A record stored by another realm (or a structured-clone polyfill) may not pass
        // `instanceof Uint8Array`; accept anything array-like of bytes.
        (!v.is_undefined()
            && !v.is_null()
            && Reflect::has(v, &"byteLength".into()).unwrap_or(false))
        .then(|| Uint8Array::new(v).to_vec())
    })
}

/// The records of a `getAll`, in order (`None` for a value that is not bytes at all).
fn records(v: &JsValue) -> Vec<Option<Vec<u8>>> {
    match v.dyn_ref::<Array>() {
        Some(a) => a.iter().map(|r| bytes_of(&r)).collect(),
        None => Vec::new(),
    }
}

/// The keys of a `getAllKeys`, in order (our keys are strings).
fn keys(v: &JsValue) -> Vec<String> {
    match v.dyn_ref::<Array>() {
        Some(a) => a
            .iter()
            .map(|k| k.as_string().unwrap_or_default())
            .collect(),
        None => Vec::new(),
    }
}

/// A failed IndexedDB call or request, classifying a full quota.
fn js_failure(what: &str, e: &JsValue) -> StorageError {
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    StorageError {
        reason: format!(
            "{what}: {}{}",
            if name.is_empty() {
                String::new()
            } else {
                format!("{name}: ")
            },
            describe(e)
        ),
        quota_exceeded: name == "QuotaExceededError",
    }
}

fn web_sys_console_warn(msg: &str) {
    if let Ok(console) = Reflect::get(&js_sys::global(), &"console".into()) {
        if let Ok(warn) = Reflect::get(&console, &"warn".into()) {
            if let Some(f) = warn.dyn_ref::<Function>() {
                let _ = f.call1(&console, &msg.into());
            }
        }
    }
}

/// Resolve with the request's result once it succeeds, or fail with its error. The
/// handlers are removed once it settled, so nothing leaks.
async fn await_request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else {
        return Err(JsValue::from_str("promise executor did not run"));
    };
    let on_ok = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = resolve.call0(&JsValue::NULL);
    });
    let on_err = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = reject.call0(&JsValue::NULL);
    });
    req.set_onsuccess(Some(on_ok.as_ref().unchecked_ref()));
    req.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    let settled = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    drop((on_ok, on_err));
    match settled {
        Ok(_) => req.result(),
        Err(_) => Err(req.error().map(JsValue::from).unwrap_or_else(|e| e)),
    }
}

/// Resolve once the transaction committed; fail if it aborted (with the quota flag when the
/// abort was a `QuotaExceededError`).
async fn await_transaction(tx: &IdbTransaction) -> Result<(), StorageError> {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else {
        return Err(StorageError::new("promise executor did not run"));
    };
    let on_ok = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = resolve.call0(&JsValue::NULL);
    });
    let on_abort = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = reject.call0(&JsValue::NULL);
    });
    tx.set_oncomplete(Some(on_ok.as_ref().unchecked_ref()));
    tx.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    let settled = JsFuture::from(promise).await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    drop((on_ok, on_abort));
    match settled {
        Ok(_) => Ok(()),
        Err(_) => match tx.error() {
            Some(e) => Err(js_failure("the transaction aborted", &e.into())),
            None => Err(StorageError::new("the transaction was aborted")),
        },
    }
}
