//! A storage engine implemented in JavaScript: any object with two async methods,
//!
//! - `load()`: every stored record, as an iterable of `[key, Uint8Array]` pairs (an array of
//!   pairs or a `Map`);
//! - `apply(ops)`: apply one batch atomically, in order: `ops` is an array of
//!   `[key, Uint8Array]` (store) and `[key, undefined]` (delete). Resolve once the batch is
//!   durable; reject (nothing of the batch applied) otherwise, with an error whose `name` is
//!   `QuotaExceededError` (or `code` `QUOTA_EXCEEDED`) for a full store.
//!
//! The edge node (`js/edge/storage.js`) maps it onto a Durable Object's transactional
//! storage. Keys come from `records.rs`; records are the core's checksummed record codec.

use super::records;
use super::storage::StorageError;
use super::values::describe;
use crate::core::record::Loader;
use crate::core::{RecordId, Snapshot, StoreOp};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use std::cell::Cell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub struct JsStore {
    engine: JsValue,
    load: Function,
    apply: Function,
    /// Test hook: fail the next batch (quota flag).
    fail_next: Cell<Option<bool>>,
}

impl JsStore {
    /// Wrap `engine`; fails unless it has `load` and `apply` functions.
    pub fn new(engine: JsValue) -> Result<JsStore, String> {
        let method = |name: &str| {
            Reflect::get(&engine, &name.into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| format!("a storage engine needs an async `{name}` method"))
        };
        Ok(JsStore {
            load: method("load")?,
            apply: method("apply")?,
            engine,
            fail_next: Cell::new(None),
        })
    }

    pub fn fail_next_batch(&self, quota_exceeded: bool) {
        self.fail_next.set(Some(quota_exceeded));
    }

    /// Apply one batch through the engine's `apply`.
    pub async fn apply(&self, ops: &[StoreOp]) -> Result<(), StorageError> {
        if let Some(quota_exceeded) = self.fail_next.take() {
            return Err(StorageError {
                reason: "injected failure".into(),
                quota_exceeded,
            });
        }
        let arr = Array::new();
        for op in ops {
            let (key, record) = records::encode_op(op)?;
            let value = match record {
                Some(r) => Uint8Array::from(&r[..]).into(),
                None => JsValue::UNDEFINED,
            };
            arr.push(&Array::of2(&key.into(), &value));
        }
        self.call(&self.apply, &arr).await.map(|_| ())
    }

    /// Everything stored, as the node restarts from it: records are verified, and those
    /// that fail are listed in `Snapshot::corrupt` (keys of no known kind are skipped).
    pub async fn load(&self) -> Result<Snapshot, StorageError> {
        let mut loader = Loader::new();
        for (key, record) in self.entries().await? {
            records::load_into(&mut loader, &key, record.as_deref());
        }
        Ok(loader.finish())
    }

    /// Conformance-suite hook: flip the bits of `mask` in byte `at` (modulo its length) of
    /// one stored record, as a bad disk would. False when no such record is stored.
    pub async fn corrupt(&self, id: &RecordId, at: usize, mask: u8) -> Result<bool, StorageError> {
        let want = records::record_key(id)?;
        let found = self.entries().await?.into_iter().find(|(k, _)| *k == want);
        let Some((key, Some(mut rec))) = found else {
            return Ok(false);
        };
        if rec.is_empty() {
            return Ok(false);
        }
        let i = at % rec.len();
        rec[i] ^= mask;
        let ops = Array::of1(&Array::of2(&key.into(), &Uint8Array::from(&rec[..])));
        self.call(&self.apply, &ops).await.map(|_| true)
    }

    /// Every `[key, record]` the engine's `load` returns (`None`: not bytes).
    async fn entries(&self) -> Result<Vec<(String, Option<Vec<u8>>)>, StorageError> {
        let stored = self.call(&self.load, &JsValue::UNDEFINED).await?;
        let mut out = Vec::new();
        for entry in Array::from(&stored).iter() {
            let Some(key) = Reflect::get(&entry, &0.into())
                .ok()
                .and_then(|k| k.as_string())
            else {
                continue;
            };
            // A Uint8Array, or any buffer a structured clone handed back.
            let rec = Reflect::get(&entry, &1.into())
                .ok()
                .filter(|r| Reflect::has(r, &"byteLength".into()).unwrap_or(false))
                .map(|r| Uint8Array::new(&r).to_vec());
            out.push((key, rec));
        }
        Ok(out)
    }

    async fn call(&self, f: &Function, arg: &JsValue) -> Result<JsValue, StorageError> {
        let result = f.call1(&self.engine, arg).map_err(failure)?;
        let promise = Promise::resolve(&result);
        JsFuture::from(promise).await.map_err(failure)
    }
}

fn failure(e: JsValue) -> StorageError {
    let field = |k: &str| {
        Reflect::get(&e, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    StorageError {
        reason: format!("the storage engine failed: {}", describe(&e)),
        quota_exceeded: field("name") == "QuotaExceededError" || field("code") == "QUOTA_EXCEEDED",
    }
}
