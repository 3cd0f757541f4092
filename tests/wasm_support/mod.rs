//! The storage conformance suite (automerge-repo's habit: one acceptance suite run against
//! every adapter). `tests/wasm_storage_memory.rs` runs it on the memory engine in Node.js,
//! `tests/wasm_storage_idb.rs` on IndexedDB in headless Chromium. Each check compares the
//! engine with the core's `MemoryStore` (the reference) after the same batches.

use ringlet::core::dvv::{Dot, Siblings, Value, VersionVector};
use ringlet::core::membership::{Membership, RingState, Status};
use ringlet::core::{
    Bytes, ForwardMark, Member, MembershipSnapshot, MemoryStore, NodeId, NodeMeta, Ring, Snapshot,
    StoreOp,
};
use ringlet::wasm::storage::Store;

/// How a suite opens the store named `name` again (a reload of the page).
pub trait Harness {
    async fn open(&self, name: &str) -> Store;
    async fn reopen(&self, store: Store, name: &str) -> Store;
}

pub fn versions(node: &str, counter: u64, value: &[u8]) -> Siblings {
    let mut s = Siblings::new();
    s.update(
        &VersionVector::new(),
        Dot::new(NodeId::new(node), counter),
        Value::Data(Bytes::new(value)),
        1_700_000_000_000 + counter,
    );
    s
}

fn membership() -> MembershipSnapshot {
    let mut m = Membership::new();
    let names = ["tab-a", "tab-b", "tab-c"];
    for n in names {
        m.set(&NodeId::new(n), Status::Valid, 1);
    }
    let members: Vec<Member> = names.iter().map(|n| Member::new(*n, 1)).collect();
    let ring = Ring::claim(64, None, &members, 3).expect("a valid ring");
    m.install_ring(RingState { epoch: 3, ring });
    MembershipSnapshot::of(&m)
}

fn key(s: &str) -> Bytes {
    Bytes::new(s.as_bytes())
}

/// A batch touching every kind of record.
pub fn full_batch() -> Vec<StoreOp> {
    vec![
        StoreOp::PutMeta(NodeMeta {
            dot_reserved: 1_000,
            fallback_generation: 0,
            handed_off_parts: Default::default(),
        }),
        StoreOp::PutObject {
            key: key("cart/ada"),
            versions: versions("tab-a", 1, b"\xb1milk"),
        },
        StoreOp::PutObject {
            key: Bytes::new(&[0, 255, 7]),
            versions: versions("tab-b", 4, &[0u8; 3000]),
        },
        StoreOp::PutHint {
            intended: NodeId::new("tab-c"),
            key: key("cart/bob"),
            versions: versions("tab-a", 2, b"eggs"),
        },
        StoreOp::PutHint {
            intended: NodeId::new("tab-b"),
            key: key("cart/bob"),
            versions: versions("tab-a", 3, b"ham"),
        },
        StoreOp::PutMembership(membership()),
        StoreOp::PutFallback {
            key: key("cart/cy"),
            versions: versions("tab-a@f", 5, b"jam"),
        },
        StoreOp::PutFallback {
            key: Bytes::new(&[9, 0]),
            versions: versions("tab-a@f", 6, b"tea"),
        },
        StoreOp::PutForward(ForwardMark {
            from: NodeId::new("tab-d"),
            rid: 77,
            expires_ms: 10_000,
        }),
        StoreOp::PutForward(ForwardMark {
            from: NodeId::new("tab-d"),
            rid: u64::MAX,
            expires_ms: 12_000,
        }),
    ]
}

async fn check(store: &Store, reference: &MemoryStore, what: &str) {
    let got = store.load().await.expect("load");
    assert_eq!(
        got,
        reference.snapshot(),
        "{what}: the engine and the reference differ"
    );
}

/// Apply, load, reload: every kind of record comes back.
pub async fn batches_round_trip<H: Harness>(h: &H, name: &str) {
    let store = h.open(name).await;
    assert_eq!(
        store.load().await.expect("load"),
        Snapshot::default(),
        "a new store is empty"
    );
    let mut reference = MemoryStore::new();
    let batch = full_batch();
    store.apply(&batch).await.expect("apply");
    reference.apply(&batch);
    check(&store, &reference, "after one batch").await;
    let store = h.reopen(store, name).await;
    check(&store, &reference, "after a reload").await;
    store.close();
}

/// Later batches replace and delete what earlier ones wrote.
pub async fn replaces_and_deletes<H: Harness>(h: &H, name: &str) {
    let store = h.open(name).await;
    let mut reference = MemoryStore::new();
    let batches = [
        full_batch(),
        vec![
            StoreOp::PutObject {
                key: key("cart/ada"),
                versions: versions("tab-a", 9, b"bread"),
            },
            StoreOp::DeleteObject {
                key: Bytes::new(&[0, 255, 7]),
            },
            StoreOp::DeleteHint {
                intended: NodeId::new("tab-c"),
                key: key("cart/bob"),
            },
            StoreOp::PutMeta(NodeMeta {
                dot_reserved: 2_000,
                fallback_generation: 0,
                handed_off_parts: Default::default(),
            }),
            StoreOp::PutFallback {
                key: key("cart/cy"),
                versions: versions("tab-a@f", 8, b"jam and bread"),
            },
            StoreOp::DeleteFallback {
                key: Bytes::new(&[9, 0]),
            },
            StoreOp::DeleteForward {
                from: NodeId::new("tab-d"),
                rid: 77,
            },
        ],
        vec![StoreOp::DeleteObject {
            key: key("never-written"),
        }],
    ];
    for b in &batches {
        store.apply(b).await.expect("apply");
        reference.apply(b);
    }
    check(&store, &reference, "after replace and delete").await;
    let store = h.reopen(store, name).await;
    check(&store, &reference, "after a reload").await;
    store.close();
}

/// Within a batch the ops apply in order (a put then a delete of the same key leaves none).
pub async fn ops_apply_in_order<H: Harness>(h: &H, name: &str) {
    let store = h.open(name).await;
    let mut reference = MemoryStore::new();
    let batch = vec![
        StoreOp::PutObject {
            key: key("k"),
            versions: versions("tab-a", 1, b"one"),
        },
        StoreOp::PutObject {
            key: key("k"),
            versions: versions("tab-a", 2, b"two"),
        },
        StoreOp::PutObject {
            key: key("gone"),
            versions: versions("tab-a", 3, b"x"),
        },
        StoreOp::DeleteObject { key: key("gone") },
    ];
    store.apply(&batch).await.expect("apply");
    reference.apply(&batch);
    let store = h.reopen(store, name).await;
    check(&store, &reference, "ops in order").await;
    store.close();
}

/// A failed batch leaves nothing half-applied, reports a full quota as such, and the store
/// keeps working afterwards.
pub async fn failed_batch_applies_nothing<H: Harness>(h: &H, name: &str) {
    let store = h.open(name).await;
    let mut reference = MemoryStore::new();
    let first = full_batch();
    store.apply(&first).await.expect("apply");
    reference.apply(&first);
    let doomed = vec![
        StoreOp::PutObject {
            key: key("cart/ada"),
            versions: versions("tab-a", 7, b"overwritten?"),
        },
        StoreOp::DeleteHint {
            intended: NodeId::new("tab-b"),
            key: key("cart/bob"),
        },
        StoreOp::PutObject {
            key: key("new"),
            versions: versions("tab-a", 8, b"half"),
        },
        StoreOp::PutMeta(NodeMeta {
            dot_reserved: 9_000,
            fallback_generation: 0,
            handed_off_parts: Default::default(),
        }),
    ];
    store.fail_next_batch(2, true);
    let err = store.apply(&doomed).await.expect_err("the batch must fail");
    assert!(
        err.quota_exceeded,
        "a full quota is reported as such: {err:?}"
    );
    check(&store, &reference, "after a failed batch").await;
    store.fail_next_batch(0, false);
    let err = store.apply(&doomed).await.expect_err("the batch must fail");
    assert!(!err.quota_exceeded, "{err:?}");
    let store = h.reopen(store, name).await;
    check(&store, &reference, "after failed batches and a reload").await;
    store
        .apply(&doomed)
        .await
        .expect("the store works after a failure");
    reference.apply(&doomed);
    check(&store, &reference, "after the retry").await;
    store.close();
}

/// Batches started one after another without waiting are applied in that order.
pub async fn batches_apply_in_order<H: Harness>(h: &H, name: &str) {
    let store = h.open(name).await;
    let mut reference = MemoryStore::new();
    let batches: Vec<Vec<StoreOp>> = (1..=20)
        .map(|i| {
            vec![
                StoreOp::PutObject {
                    key: key("hot"),
                    versions: versions("tab-a", i, format!("v{i}").as_bytes()),
                },
                StoreOp::PutMeta(NodeMeta {
                    dot_reserved: i * 1000,
                    fallback_generation: 0,
                    handed_off_parts: Default::default(),
                }),
            ]
        })
        .collect();
    let pending: Vec<_> = batches.iter().map(|b| store.apply(b)).collect();
    for p in pending {
        p.await.expect("apply");
    }
    for b in &batches {
        reference.apply(b);
    }
    let store = h.reopen(store, name).await;
    check(&store, &reference, "concurrent batches").await;
    store.close();
}

/// A flipped byte in any stored record is caught at load: the record is left out of the
/// snapshot and listed as corrupt, with its store and (for objects and hints) its key; every
/// other record loads as before.
pub async fn corrupt_record_is_detected_at_load<H: Harness>(h: &H, name: &str) {
    use ringlet::core::{RecordId, RecordStore};
    let mut store = h.open(name).await;
    let batch = full_batch();
    store.apply(&batch).await.expect("apply");
    let clean = store.load().await.expect("load");
    assert!(clean.corrupt.is_empty());
    let targets = [
        (RecordId::Object(key("cart/ada")), RecordStore::Objects),
        (
            RecordId::Hint(NodeId::new("tab-c"), key("cart/bob")),
            RecordStore::Hints,
        ),
        (RecordId::Meta, RecordStore::Meta),
        (RecordId::Membership, RecordStore::Membership),
        (RecordId::Fallback(key("cart/cy")), RecordStore::Fallbacks),
        (
            RecordId::Forward(NodeId::new("tab-d"), 77),
            RecordStore::Forwards,
        ),
    ];
    for (i, (id, kind)) in targets.iter().enumerate() {
        // A different byte and bit each time: the payload, the header, the checksum.
        let at = [9, 1, 7, 200, 12, 3][i];
        assert!(
            store.corrupt_record(id, at, 1 << i).await.expect("corrupt"),
            "{id:?} is stored"
        );
        store = h.reopen(store, name).await;
        let got = store
            .load()
            .await
            .expect("a load with a corrupt record still loads");
        assert_eq!(got.corrupt.len(), 1, "{id:?}: exactly one corrupt record");
        let c = &got.corrupt[0];
        assert_eq!(c.store, *kind);
        let mut want = clean.clone();
        match id {
            RecordId::Object(k) => {
                assert_eq!(c.key.as_ref(), Some(k));
                want.objects.remove(k);
            }
            RecordId::Hint(n, k) => {
                assert_eq!((c.intended.as_ref(), c.key.as_ref()), (Some(n), Some(k)));
                want.hints.remove(&(n.clone(), k.clone()));
            }
            RecordId::Meta => want.meta = None,
            RecordId::Membership => want.membership = None,
            RecordId::Fallback(k) => {
                assert_eq!(c.key.as_ref(), Some(k));
                want.fallbacks.remove(k);
            }
            RecordId::Forward(n, rid) => {
                assert_eq!(c.intended.as_ref(), Some(n));
                assert_eq!(
                    c.key
                        .as_ref()
                        .and_then(ringlet::core::record::forward_rid_of),
                    Some(*rid)
                );
                want.forwards.remove(&(n.clone(), *rid));
            }
        }
        want.corrupt = got.corrupt.clone();
        assert_eq!(got, want, "{id:?}: everything else loads");
        // Writing the record again repairs it.
        store.apply(&batch).await.expect("apply");
        assert_eq!(store.load().await.expect("load"), clean, "rewritten");
    }
    store.close();
}
