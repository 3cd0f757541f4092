//! The storage conformance suite against the JS storage engine (`storage_js.rs`, the edge
//! node's port), in Node.js: the Rust side (record keys and codec of `records.rs`, batches,
//! load) over a JS engine object that keeps records in a `Map` per database name and applies
//! each batch atomically, as the Durable Object adapter (`js/edge/storage.js`) does.
#![cfg(target_arch = "wasm32")]

use crate::wasm_support;

use ringlet::wasm::storage::Store;
use ringlet::wasm::storage_js::JsStore;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;
use wasm_support::*;

#[wasm_bindgen(inline_js = r#"
const dbs = new Map();
export function engine(name) {
  if (!dbs.has(name)) dbs.set(name, new Map());
  const records = dbs.get(name);
  return {
    async load() { return [...records].map(([k, v]) => [k, v.slice()]); },
    async apply(ops) {
      const next = new Map(records);
      for (const [k, v] of ops) {
        if (typeof k !== 'string') throw new Error('keys are strings');
        if (v === undefined) next.delete(k);
        else if (v instanceof Uint8Array) next.set(k, v.slice());
        else throw new Error('records are Uint8Arrays');
      }
      records.clear();
      for (const [k, v] of next) records.set(k, v);
    },
  };
}
"#)]
extern "C" {
    fn engine(name: &str) -> JsValue;
}

struct Js;

impl Harness for Js {
    async fn open(&self, name: &str) -> Store {
        Store::Js(Rc::new(JsStore::new(engine(name)).expect("an engine")))
    }
    async fn reopen(&self, _store: Store, name: &str) -> Store {
        self.open(name).await
    }
}

#[wasm_bindgen_test]
async fn js_batches_round_trip() {
    batches_round_trip(&Js, "j1").await;
}

#[wasm_bindgen_test]
async fn js_replaces_and_deletes() {
    replaces_and_deletes(&Js, "j2").await;
}

#[wasm_bindgen_test]
async fn js_ops_apply_in_order() {
    ops_apply_in_order(&Js, "j3").await;
}

#[wasm_bindgen_test]
async fn js_failed_batch_applies_nothing() {
    failed_batch_applies_nothing(&Js, "j4").await;
}

#[wasm_bindgen_test]
async fn js_batches_apply_in_order() {
    batches_apply_in_order(&Js, "j5").await;
}

#[wasm_bindgen_test]
async fn js_engine_without_methods_is_refused() {
    let err = JsStore::new(JsValue::from(js_sys::Object::new())).err();
    assert_eq!(
        err.as_deref(),
        Some("a storage engine needs an async `load` method")
    );
}

#[wasm_bindgen_test]
async fn a_rejected_batch_is_a_storage_error_and_a_full_store_says_so() {
    let engine = js_sys::Object::new();
    let load = js_sys::Function::new_no_args("return Promise.resolve([])");
    let apply = js_sys::Function::new_no_args(
        "return Promise.reject(Object.assign(new Error('no room'), { name: 'QuotaExceededError' }))",
    );
    js_sys::Reflect::set(&engine, &"load".into(), &load).unwrap();
    js_sys::Reflect::set(&engine, &"apply".into(), &apply).unwrap();
    let store = Store::Js(Rc::new(JsStore::new(engine.into()).expect("an engine")));
    let e = store.apply(&full_batch()).await.expect_err("refused");
    assert!(e.quota_exceeded, "{e}");
    assert!(e.reason.contains("no room"), "{e}");
}

#[wasm_bindgen_test]
async fn js_corrupt_record_is_detected_at_load() {
    corrupt_record_is_detected_at_load(&Js, "j9").await;
}

#[wasm_bindgen_test]
async fn a_record_that_does_not_decode_is_reported_and_a_foreign_key_skipped() {
    let store = Js.open("j8").await;
    store.apply(&full_batch()).await.expect("a batch");
    let good = store.load().await.expect("load");
    assert!(good.corrupt.is_empty());
    let js = JsStore::new(engine("j8")).expect("an engine");
    // Garbage under an object key, and a key of no known kind.
    let raw = engine("j8");
    let apply: js_sys::Function = js_sys::Reflect::get(&raw, &"apply".into()).unwrap().into();
    let ops = js_sys::Array::of2(
        &js_sys::Array::of2(&"o/00".into(), &js_sys::Uint8Array::from(&[0xffu8; 3][..])),
        &js_sys::Array::of2(&"zzz".into(), &js_sys::Uint8Array::from(&[1u8][..])),
    );
    let p: js_sys::Promise = apply.call1(&raw, &ops).unwrap().into();
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
    let mut got = js.load().await.expect("load");
    assert_eq!(got.corrupt.len(), 1, "{:?}", got.corrupt);
    assert_eq!(
        got.corrupt[0].store,
        ringlet::core::record::RecordStore::Objects
    );
    assert_eq!(
        got.corrupt[0].key.as_ref().map(|k| k.as_slice().to_vec()),
        Some(vec![0u8])
    );
    got.corrupt.clear();
    assert_eq!(got, good, "the verified records load as before");
}
