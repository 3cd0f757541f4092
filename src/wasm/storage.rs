//! The storage port as the host sees it (§5: pluggable storage engines). The core emits
//! persist batches of `StoreOp`s; the host applies each batch atomically and in order, then
//! answers `PersistDone` (or `PersistFailed`, with nothing of the batch applied). On restart
//! `load()` returns the `Snapshot` the node starts from. Both engines store every record
//! through the core's record codec (`core/record.rs`) and verify each one at load: one that
//! fails is listed in `Snapshot::corrupt`, never loaded.
//!
//! Both engines pass the same conformance suite (`tests/wasm_support/conformance.rs`).

use super::storage_idb::IdbStore;
use super::storage_js::JsStore;
use super::storage_memory::MemoryEngine;
use crate::core::{RecordId, Snapshot, StoreOp};
use std::fmt;
use std::rc::Rc;

/// Why a batch was not applied (nothing of it was) or a load failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageError {
    pub reason: String,
    /// The origin's quota is full (IndexedDB `QuotaExceededError`).
    pub quota_exceeded: bool,
}

impl StorageError {
    pub fn new(reason: impl Into<String>) -> Self {
        StorageError {
            reason: reason.into(),
            quota_exceeded: false,
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A storage engine; cheap to clone (both engines are shared handles).
#[derive(Clone)]
pub enum Store {
    Memory(Rc<MemoryEngine>),
    IndexedDb(Rc<IdbStore>),
    /// An engine written in JavaScript (`storage_js.rs`): the edge node's Durable Object.
    Js(Rc<JsStore>),
}

impl Store {
    /// Apply one batch atomically: every op, in order, or none.
    pub async fn apply(&self, ops: &[StoreOp]) -> Result<(), StorageError> {
        match self {
            Store::Memory(m) => m.apply(ops),
            Store::IndexedDb(db) => db.apply(ops).await,
            Store::Js(js) => js.apply(ops).await,
        }
    }

    /// Everything applied so far.
    pub async fn load(&self) -> Result<Snapshot, StorageError> {
        match self {
            Store::Memory(m) => Ok(m.load()),
            Store::IndexedDb(db) => db.load().await,
            Store::Js(js) => js.load().await,
        }
    }

    /// Test hook for the conformance suite: the next batch fails after `after_ops` of its
    /// operations were issued (IndexedDB aborts its transaction there), reported as a full
    /// quota when `quota_exceeded`.
    pub fn fail_next_batch(&self, after_ops: usize, quota_exceeded: bool) {
        match self {
            Store::Memory(m) => m.fail_next_batch(quota_exceeded),
            Store::IndexedDb(db) => db.fail_next_batch(after_ops, quota_exceeded),
            Store::Js(js) => js.fail_next_batch(quota_exceeded),
        }
    }

    /// Test hook for the conformance suite: damage one stored record (flip the bits of
    /// `mask` in its byte `at`), as a bad disk would. False when no such record is stored.
    pub async fn corrupt_record(
        &self,
        id: &RecordId,
        at: usize,
        mask: u8,
    ) -> Result<bool, StorageError> {
        match self {
            Store::Memory(m) => Ok(m.corrupt(id, at, mask)),
            Store::IndexedDb(db) => db.corrupt(id, at, mask).await,
            Store::Js(js) => js.corrupt(id, at, mask).await,
        }
    }

    /// Release the engine (closes the IndexedDB connection).
    pub fn close(&self) {
        if let Store::IndexedDb(db) = self {
            db.close();
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::IndexedDb(_) => "indexeddb",
            Store::Js(_) => "js",
        }
    }
}
