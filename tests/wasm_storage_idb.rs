//! The storage conformance suite against IndexedDB, in headless Chromium (the same checks as
//! `wasm_storage_memory.rs`), plus what only a persistent engine has: the node identity.
#![cfg(target_arch = "wasm32")]

mod wasm_support;

use ringlet::wasm::storage::Store;
use ringlet::wasm::storage_idb::IdbStore;
use std::rc::Rc;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_support::*;

wasm_bindgen_test_configure!(run_in_browser);

struct Idb;

impl Harness for Idb {
    async fn open(&self, name: &str) -> Store {
        IdbStore::delete(name).await.expect("delete");
        Store::IndexedDb(Rc::new(IdbStore::open(name).await.expect("open")))
    }
    /// A reload: close the connection and open the database again.
    async fn reopen(&self, store: Store, name: &str) -> Store {
        store.close();
        Store::IndexedDb(Rc::new(IdbStore::open(name).await.expect("reopen")))
    }
}

#[wasm_bindgen_test]
async fn idb_batches_round_trip() {
    batches_round_trip(&Idb, "conf-1").await;
}

#[wasm_bindgen_test]
async fn idb_replaces_and_deletes() {
    replaces_and_deletes(&Idb, "conf-2").await;
}

#[wasm_bindgen_test]
async fn idb_ops_apply_in_order() {
    ops_apply_in_order(&Idb, "conf-3").await;
}

#[wasm_bindgen_test]
async fn idb_failed_batch_applies_nothing() {
    failed_batch_applies_nothing(&Idb, "conf-4").await;
}

#[wasm_bindgen_test]
async fn idb_batches_apply_in_order() {
    batches_apply_in_order(&Idb, "conf-5").await;
}

#[wasm_bindgen_test]
async fn idb_corrupt_record_is_detected_at_load() {
    corrupt_record_is_detected_at_load(&Idb, "conf-6").await;
}

#[wasm_bindgen_test]
async fn idb_node_identity_survives_reopen() {
    IdbStore::delete("conf-id").await.expect("delete");
    let db = IdbStore::open("conf-id").await.expect("open");
    assert_eq!(db.identity().await.expect("read"), None);
    db.set_identity("tab-1f2e3d4c").await.expect("write");
    db.close();
    let db = IdbStore::open("conf-id").await.expect("reopen");
    assert_eq!(
        db.identity().await.expect("read").as_deref(),
        Some("tab-1f2e3d4c")
    );
    db.close();
}

#[wasm_bindgen_test]
async fn idb_corrupt_record_is_skipped_not_fatal() {
    use js_sys::Uint8Array;
    use wasm_bindgen::JsCast;
    let name = "conf-corrupt";
    let store = Idb.open(name).await;
    store.apply(&full_batch()).await.expect("apply");
    store.close();
    // Write garbage into the objects store behind the engine's back.
    let factory: web_sys::IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    let req = factory.open(name).unwrap();
    let db: web_sys::IdbDatabase =
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |res, _| {
            let r = req.clone();
            let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
                res.call1(&wasm_bindgen::JsValue::NULL, &r.result().unwrap())
                    .unwrap()
            });
            req.set_onsuccess(Some(cb.unchecked_ref()));
        }))
        .await
        .unwrap()
        .unchecked_into();
    let tx = db
        .transaction_with_str_and_mode("objects", web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    tx.object_store("objects")
        .unwrap()
        .put_with_key(&Uint8Array::from(&[1u8, 2, 3][..]), &"bad".into())
        .unwrap();
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |res, _| {
        let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
            res.call0(&wasm_bindgen::JsValue::NULL).unwrap()
        });
        tx.set_oncomplete(Some(cb.unchecked_ref()));
    }))
    .await
    .unwrap();
    db.close();
    let db = IdbStore::open(name).await.expect("reopen");
    let snap = db
        .load()
        .await
        .expect("a corrupt record does not make the store unreadable");
    assert_eq!(snap.objects.len(), 2);
    assert_eq!(snap.corrupt.len(), 1, "reported");
    assert_eq!(snap.corrupt[0].store, ringlet::core::RecordStore::Objects);
    assert_eq!(snap.corrupt[0].key, None, "`bad` names no key");
    db.close();
}
