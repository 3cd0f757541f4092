//! The storage conformance suite against the memory engine (wasm, in Node.js).
#![cfg(target_arch = "wasm32")]

use crate::wasm_support;

use ringlet::wasm::storage::Store;
use ringlet::wasm::storage_memory::MemoryEngine;
use std::rc::Rc;
use wasm_bindgen_test::wasm_bindgen_test;
use wasm_support::*;

struct Memory;

impl Harness for Memory {
    async fn open(&self, _name: &str) -> Store {
        Store::Memory(Rc::new(MemoryEngine::new(false)))
    }
    /// Memory storage survives a "reload" only within the same engine: the same handle.
    async fn reopen(&self, store: Store, _name: &str) -> Store {
        store
    }
}

#[wasm_bindgen_test]
async fn memory_batches_round_trip() {
    batches_round_trip(&Memory, "m1").await;
}

#[wasm_bindgen_test]
async fn memory_replaces_and_deletes() {
    replaces_and_deletes(&Memory, "m2").await;
}

#[wasm_bindgen_test]
async fn memory_ops_apply_in_order() {
    ops_apply_in_order(&Memory, "m3").await;
}

#[wasm_bindgen_test]
async fn memory_failed_batch_applies_nothing() {
    failed_batch_applies_nothing(&Memory, "m4").await;
}

#[wasm_bindgen_test]
async fn memory_batches_apply_in_order() {
    batches_apply_in_order(&Memory, "m5").await;
}

#[wasm_bindgen_test]
async fn memory_corrupt_record_is_detected_at_load() {
    corrupt_record_is_detected_at_load(&Memory, "m6").await;
}
