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

/// A tab whose database an older build created (version 2: no `forwards` store) keeps its
/// records when this build opens it, and gains the `forwards` store.
#[wasm_bindgen_test]
async fn idb_database_of_version_2_is_upgraded() {
    use ringlet::core::{Bytes, ForwardMark, NodeId, StoreOp};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    let name = "conf-upgrade";
    IdbStore::delete(name).await.expect("delete");
    let factory: web_sys::IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    // The version-2 layout, with one object record in it.
    let req = factory.open_with_u32(name, 2).unwrap();
    let upgrade = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let db: web_sys::IdbDatabase = js_sys::Reflect::get(&ev, &"target".into())
            .and_then(|t| js_sys::Reflect::get(&t, &"result".into()))
            .unwrap()
            .unchecked_into();
        for s in [
            "objects",
            "hints",
            "meta",
            "membership",
            "identity",
            "fallbacks",
        ] {
            db.create_object_store(s).unwrap();
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db: web_sys::IdbDatabase =
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |res, _| {
            let r = req.clone();
            let cb = Closure::once_into_js(move || {
                res.call1(&JsValue::NULL, &r.result().unwrap()).unwrap()
            });
            req.set_onsuccess(Some(cb.unchecked_ref()));
        }))
        .await
        .unwrap()
        .unchecked_into();
    drop(upgrade);
    let key = Bytes::new(b"cart/ada");
    let siblings = versions("tab-a", 1, b"milk");
    let record = ringlet::core::record::encode_object(&key, &siblings);
    let tx = db
        .transaction_with_str_and_mode("objects", web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    tx.object_store("objects")
        .unwrap()
        .put_with_key(
            &js_sys::Uint8Array::from(&record[..]),
            &ringlet::wasm::records::hex(key.as_slice()).into(),
        )
        .unwrap();
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |res, _| {
        let cb = Closure::once_into_js(move || res.call0(&JsValue::NULL).unwrap());
        tx.set_oncomplete(Some(cb.unchecked_ref()));
    }))
    .await
    .unwrap();
    db.close();

    let store = IdbStore::open(name).await.expect("this build opens it");
    let snap = store.load().await.expect("load");
    assert_eq!(
        snap.objects.get(&key),
        Some(&siblings),
        "the old record is kept"
    );
    let mark = ForwardMark {
        from: NodeId::new("tab-d"),
        rid: 9,
        expires_ms: 30_000,
    };
    store
        .apply(&[StoreOp::PutForward(mark.clone())])
        .await
        .expect("the new store takes records");
    store.close();
    let store = IdbStore::open(name).await.expect("reopen");
    let snap = store.load().await.expect("load");
    assert_eq!(
        snap.forwards.get(&(mark.from.clone(), mark.rid)),
        Some(&mark.expires_ms)
    );
    assert_eq!(snap.objects.len(), 1);
    store.close();
}
