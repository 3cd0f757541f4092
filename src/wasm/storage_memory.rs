//! The in-memory storage engine for the browser and Node.js hosts: the core's `MemoryStore`
//! (records encoded and checksummed by `core/record.rs`, verified at load) behind the host's
//! storage port. Nothing survives a reload; a batch never fails except
//! through the conformance suite's fault hook.

use super::storage::StorageError;
use crate::core::{MemoryStore, RecordId, Snapshot, StoreOp};
use std::cell::{Cell, RefCell};

#[derive(Default)]
pub struct MemoryEngine {
    store: RefCell<MemoryStore>,
    fail_next: Cell<Option<bool>>,
}

impl MemoryEngine {
    /// An empty store. `first_run`: the node id is brand new (see `Snapshot::first_run`).
    pub fn new(first_run: bool) -> Self {
        let store = if first_run {
            MemoryStore::first_run()
        } else {
            MemoryStore::new()
        };
        MemoryEngine {
            store: RefCell::new(store),
            fail_next: Cell::new(None),
        }
    }

    pub fn apply(&self, ops: &[StoreOp]) -> Result<(), StorageError> {
        if let Some(quota_exceeded) = self.fail_next.take() {
            return Err(StorageError {
                reason: "injected failure".into(),
                quota_exceeded,
            });
        }
        self.store.borrow_mut().apply(ops);
        Ok(())
    }

    pub fn load(&self) -> Snapshot {
        self.store.borrow().snapshot()
    }

    pub fn batches_applied(&self) -> u64 {
        self.store.borrow().batches_applied()
    }

    /// Damage one stored record (see `MemoryStore::corrupt`).
    pub fn corrupt(&self, id: &RecordId, at: usize, mask: u8) -> bool {
        self.store.borrow_mut().corrupt(id, at, mask)
    }

    pub fn fail_next_batch(&self, quota_exceeded: bool) {
        self.fail_next.set(Some(quota_exceeded));
    }
}
