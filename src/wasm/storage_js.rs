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
//! storage. Keys and records come from `records.rs`, the codec shared with other engines.

use super::records;
use super::storage::StorageError;
use super::values::describe;
use crate::core::{Snapshot, StoreOp};
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
    /// Records that did not decode at the last load (skipped, not fatal).
    corrupt: Cell<u64>,
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
            corrupt: Cell::new(0),
        })
    }

    pub fn corrupt_records(&self) -> u64 {
        self.corrupt.get()
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

    /// Everything stored, as the node restarts from it.
    pub async fn load(&self) -> Result<Snapshot, StorageError> {
        let stored = self.call(&self.load, &JsValue::UNDEFINED).await?;
        let entries = Array::from(&stored);
        let mut snap = Snapshot::default();
        let mut corrupt = 0;
        for entry in entries.iter() {
            let key = Reflect::get(&entry, &0.into())
                .ok()
                .and_then(|k| k.as_string());
            let rec = Reflect::get(&entry, &1.into()).ok();
            let ok = match (key, rec) {
                // A Uint8Array, or any buffer a structured clone handed back.
                (Some(k), Some(r)) if Reflect::has(&r, &"byteLength".into()).unwrap_or(false) => {
                    records::decode_into(&mut snap, &k, &Uint8Array::new(&r).to_vec())
                }
                _ => false,
            };
            if !ok {
                corrupt += 1;
            }
        }
        self.corrupt.set(corrupt);
        Ok(snap)
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
