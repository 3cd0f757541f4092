//! The add-wins observed-remove set (shopping cart): a remove deletes only the adds it had
//! observed, so an add concurrent with a remove wins; a remove that saw the add removes it.

use ringlet::core::bytes::Bytes;
use ringlet::core::dvv::{Dot, Siblings, Value, Version, VersionVector};
use ringlet::core::id::NodeId;
use ringlet::core::resolve::{
    apply_op, decode_set_state, encode_counter_state, encode_set_state, merge_set_states, resolve,
    CounterState, Op, ResolveError, Resolved, Resolver, SetState, StateError, SET_STATE_TAG,
};
use std::collections::BTreeSet;

fn op_at(replica: &mut Siblings, node: &str, op: Op) -> Dot {
    let id = NodeId::new(node);
    let ctx = replica.context();
    let dot = Dot::new(node, replica.max_counter(&id).max(ctx.get(&id)) + 1);
    let state = apply_op(Resolver::AddWinsSet, replica, &op, &id, &dot).unwrap();
    replica.update(&ctx, dot.clone(), Value::Data(state), 0);
    dot
}

fn add(items: &[&str]) -> Op {
    Op::SetAdd(items.iter().map(|&s| s.into()).collect())
}

fn remove(items: &[&str]) -> Op {
    Op::SetRemove(items.iter().map(|&s| s.into()).collect())
}

fn set(s: &Siblings) -> Vec<String> {
    match resolve(Resolver::AddWinsSet, s).unwrap() {
        Resolved::Set(v) => v
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect(),
        other => panic!("not a set: {other:?}"),
    }
}

fn sync_all(rs: &mut [&mut Siblings]) {
    for _ in 0..2 {
        for i in 0..rs.len() {
            let src = rs[i].clone();
            for (j, r) in rs.iter_mut().enumerate() {
                if i != j {
                    r.sync(&src);
                }
            }
        }
    }
}

#[test]
fn concurrent_add_and_remove_of_the_same_element_add_wins() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", add(&["milk", "bread"]));
    sy.sync(&sx);
    assert_eq!(set(&sy), ["bread", "milk"]);

    // Sx adds milk again while Sy, concurrently, removes it.
    op_at(&mut sx, "Sx", add(&["milk"]));
    op_at(&mut sy, "Sy", remove(&["milk"]));
    assert_eq!(set(&sy), ["bread"]);
    sync_all(&mut [&mut sx, &mut sy]);
    assert_eq!(sx.len(), 2);
    assert_eq!(set(&sx), ["bread", "milk"]);
    assert_eq!(set(&sy), ["bread", "milk"]);
}

#[test]
fn concurrent_first_add_survives_a_remove_that_never_saw_it() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", add(&["eggs"]));
    op_at(&mut sy, "Sy", remove(&["eggs"]));
    sync_all(&mut [&mut sx, &mut sy]);
    assert_eq!(set(&sx), ["eggs"]);
}

#[test]
fn a_remove_that_observed_the_add_removes_it() {
    let (mut sx, mut sy, mut sz) = (Siblings::new(), Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", add(&["milk", "tea"]));
    sy.sync(&sx);
    op_at(&mut sy, "Sy", remove(&["milk"]));
    // An unrelated concurrent add elsewhere does not bring milk back.
    op_at(&mut sz, "Sz", add(&["jam"]));
    sync_all(&mut [&mut sx, &mut sy, &mut sz]);
    assert_eq!(set(&sx), ["jam", "tea"]);
    assert_eq!(sx, sy);
    assert_eq!(sy, sz);
    // Later ops merge the siblings and keep the answer.
    op_at(&mut sz, "Sz", add(&[]));
    assert_eq!(sz.len(), 1);
    assert_eq!(set(&sz), ["jam", "tea"]);
}

#[test]
fn a_delete_removes_what_it_saw_and_keeps_concurrent_adds() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", add(&["a", "b"]));
    sy.sync(&sx);
    let ctx = sy.context();
    sy.update(&ctx, Dot::new("Sy", 1), Value::Tombstone, 0);
    assert_eq!(set(&sy), Vec::<String>::new());
    op_at(&mut sx, "Sx", add(&["c"]));
    sync_all(&mut [&mut sx, &mut sy]);
    assert_eq!(set(&sx), ["c"]);
}

#[test]
fn an_add_replaces_the_dots_it_observed() {
    let mut sx = Siblings::new();
    let d1 = op_at(&mut sx, "Sx", add(&["x"]));
    let d2 = op_at(&mut sx, "Sx", add(&["x"]));
    let state = merge_set_states(&sx).unwrap();
    assert_eq!(state[&Bytes::from("x")], BTreeSet::from([d2.clone()]));
    assert_ne!(d1, d2);
}

#[test]
fn merge_rule_on_hand_built_siblings() {
    // Sibling A (clock [(Sx,1),(Sy,1)]) lists x with dot (Sx,1); sibling B (clock
    // [(Sx,1),(Sz,1)]) has seen (Sx,1) but lacks it: B removed x. A's (Sy,1) add of y is
    // unseen by B, so it survives.
    let st = |entries: &[(&str, &[(&str, u64)])]| -> Bytes {
        let mut s = SetState::new();
        for (e, dots) in entries {
            s.insert(
                (*e).into(),
                dots.iter().map(|&(n, c)| Dot::new(n, c)).collect(),
            );
        }
        encode_set_state(&s)
    };
    let a = Version {
        dot: Dot::new("Sy", 1),
        past: VersionVector::from_pairs([("Sx", 1)]),
        value: Value::Data(st(&[("x", &[("Sx", 1)]), ("y", &[("Sy", 1)])])),
        timestamp_ms: 0,
    };
    let b = Version {
        dot: Dot::new("Sz", 1),
        past: VersionVector::from_pairs([("Sx", 1)]),
        value: Value::Data(st(&[])),
        timestamp_ms: 0,
    };
    let s = Siblings::from_versions([a, b]);
    assert_eq!(s.len(), 2);
    assert_eq!(set(&s), ["y"]);
}

#[test]
fn wrong_op_and_corrupt_state_are_typed_errors() {
    let id = NodeId::new("Sx");
    let dot = Dot::new("Sx", 1);
    let op = add(&["x"]);
    assert_eq!(
        apply_op(Resolver::Counter, &Siblings::new(), &op, &id, &dot),
        Err(ResolveError::OpMismatch {
            resolver: Resolver::Counter,
            op
        })
    );

    // A counter state on a set key.
    let mut s = Siblings::new();
    let counter = encode_counter_state(&CounterState::from_totals([(id.clone(), (1, 0))].into()));
    s.update(&VersionVector::new(), dot.clone(), Value::Data(counter), 0);
    assert_eq!(
        resolve(Resolver::AddWinsSet, &s),
        Err(ResolveError::Corrupt {
            resolver: Resolver::AddWinsSet,
            dot: dot.clone(),
            error: StateError::WrongTag {
                expected: SET_STATE_TAG,
                found: Some(b'c')
            },
        })
    );
    // The siblings resolver does not care what the bytes are.
    assert!(resolve(Resolver::Siblings, &s).is_ok());

    let cases: Vec<(Vec<u8>, StateError)> = vec![
        (vec![b's'], StateError::Truncated { offset: 1 }),
        (
            vec![b's', 1, 1, b'x', 0],
            StateError::EmptyEntry { offset: 2 },
        ),
        (
            vec![b's', 1, 1, b'x', 1, 2, b'S', b'x', 0],
            StateError::ZeroCounter { offset: 5 },
        ),
        (
            vec![b's', 1, 1, b'x', 2, 2, b'S', b'x', 2, 2, b'S', b'x', 1],
            StateError::NotCanonical { offset: 9 },
        ),
        (
            vec![b's', 2, 1, b'y', 1, 1, b'a', 1, 1, b'x', 1, 1, b'a', 1],
            StateError::NotCanonical { offset: 8 },
        ),
        (vec![b's', 1, 5, b'x'], StateError::Truncated { offset: 3 }),
        (
            vec![b's', 1, 1, b'x', 1, 1, 0xc0, 1],
            StateError::InvalidUtf8 { offset: 5 },
        ),
        (vec![b's', 0, 7], StateError::TrailingBytes { extra: 1 }),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode_set_state(&bytes), Err(want), "{bytes:?}");
    }
}
