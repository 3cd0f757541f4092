//! The wasm tests that run in Node.js (wasm-bindgen-test): JS values and contexts, and the
//! storage conformance suite on the memory and the JS storage engines. One test binary.
#![cfg(target_arch = "wasm32")]

#[path = "../wasm_support/mod.rs"]
mod wasm_support;

mod wasm_ids;
mod wasm_storage_js;
mod wasm_storage_memory;
mod wasm_values;
