//! The PN-counter resolver: concurrent increments through different coordinators all count,
//! decrements work, deletes reset what they saw, and bad states are typed errors.

use ringlet::core::bytes::Bytes;
use ringlet::core::dvv::{Dot, Siblings, Value, VersionVector};
use ringlet::core::id::NodeId;
use ringlet::core::resolve::{
    apply_op, counter_value, decode_counter_state, encode_counter_state, resolve, CounterState, Op,
    ResolveError, Resolved, Resolver, StateError, COUNTER_STATE_TAG,
};

/// What a node does for a CRDT write: merge local siblings, apply, store with the local
/// context as past.
fn op_at(replica: &mut Siblings, node: &str, op: Op) -> Dot {
    let id = NodeId::new(node);
    let ctx = replica.context();
    let dot = Dot::new(node, replica.max_counter(&id).max(ctx.get(&id)) + 1);
    let state = apply_op(Resolver::Counter, replica, &op, &id, &dot).unwrap();
    replica.update(&ctx, dot.clone(), Value::Data(state), 0);
    dot
}

fn value(s: &Siblings) -> i64 {
    match resolve(Resolver::Counter, s).unwrap() {
        Resolved::Counter(v) => v,
        other => panic!("not a counter: {other:?}"),
    }
}

#[test]
fn concurrent_increments_through_two_coordinators_both_count() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    assert_eq!(value(&sx), 0);
    op_at(&mut sx, "Sx", Op::CounterAdd(1));
    sy.sync(&sx);

    op_at(&mut sx, "Sx", Op::CounterAdd(3));
    op_at(&mut sy, "Sy", Op::CounterAdd(4));
    assert_eq!((value(&sx), value(&sy)), (4, 5));

    sx.sync(&sy);
    sy.sync(&sx);
    assert_eq!(sx.len(), 2, "concurrent ops are siblings");
    assert_eq!((value(&sx), value(&sy)), (8, 8));

    // The next op merges the siblings into one version.
    op_at(&mut sx, "Sx", Op::CounterAdd(2));
    assert_eq!(sx.len(), 1);
    assert_eq!(value(&sx), 10);
    sy.sync(&sx);
    assert_eq!(sy, sx);
}

#[test]
fn decrements_work_and_go_negative() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", Op::CounterAdd(5));
    op_at(&mut sx, "Sx", Op::CounterAdd(-2));
    assert_eq!(value(&sx), 3);
    op_at(&mut sy, "Sy", Op::CounterAdd(-10));
    sx.sync(&sy);
    assert_eq!(value(&sx), -7);
    op_at(&mut sx, "Sx", Op::CounterAdd(0));
    assert_eq!(value(&sx), -7);

    let state = decode_counter_state(sx.values().next().unwrap()).unwrap();
    assert_eq!(state.totals[&NodeId::new("Sx")], (5, 2));
    assert_eq!(state.totals[&NodeId::new("Sy")], (0, 10));
    assert!(state.reset.is_empty());
}

/// What a node does for the delete of a counter key: an observed reset with the caller's
/// context.
fn delete_at(replica: &mut Siblings, node: &str, observed: &VersionVector) -> Dot {
    op_at(replica, node, Op::CounterReset(observed.clone().into()))
}

#[test]
fn a_delete_resets_what_it_observed_and_keeps_the_rest() {
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", Op::CounterAdd(5));
    sy.sync(&sx);
    let seen = sx.context();

    // A delete that saw everything resets to zero, and later ops count from there.
    let mut alone = sy.clone();
    delete_at(&mut alone, "Sy", &seen);
    assert_eq!(value(&alone), 0);
    op_at(&mut alone, "Sx", Op::CounterAdd(2));
    assert_eq!(value(&alone), 2);

    // A delete concurrent with an increment resets only what it saw: the +5. The concurrent
    // +1 at Sx and the +2 made after the delete at Sy both count.
    op_at(&mut sx, "Sx", Op::CounterAdd(1));
    delete_at(&mut sy, "Sy", &seen);
    op_at(&mut sy, "Sy", Op::CounterAdd(2));
    sx.sync(&sy);
    sy.sync(&sx);
    assert_eq!(sx.len(), 2);
    assert_eq!((value(&sx), value(&sy)), (3, 3));
    op_at(&mut sx, "Sx", Op::CounterAdd(0));
    assert_eq!(sx.len(), 1);
    assert_eq!(value(&sx), 3);

    // A delete with an old context resets only what that context saw.
    let mut late = sx.clone();
    delete_at(&mut late, "Sz", &seen);
    assert_eq!(
        value(&late),
        3,
        "the +5 was already reset; nothing else was seen"
    );
    let all = late.context();
    delete_at(&mut late, "Sz", &all);
    assert_eq!(value(&late), 0);

    // A blind delete (no context) sees nothing and resets nothing.
    let mut blind = sx.clone();
    delete_at(&mut blind, "Sz", &VersionVector::new());
    assert_eq!(value(&blind), 3);
}

#[test]
fn a_reset_at_a_replica_that_missed_a_version_leaves_that_part() {
    // The reader saw Sx's +5 and Sy's +3; the coordinator (Sz) only ever received the +5.
    let (mut sx, mut sy, mut sz) = (Siblings::new(), Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", Op::CounterAdd(5));
    op_at(&mut sy, "Sy", Op::CounterAdd(3));
    sz.sync(&sx);
    let mut seen = sx.context();
    seen.merge(&sy.context());
    delete_at(&mut sz, "Sz", &seen);
    assert_eq!(value(&sz), 0);
    // Once the +3 arrives it counts again: documented (docs/design.md), never a lost add.
    sz.sync(&sy);
    assert_eq!(value(&sz), 3);
}

#[test]
fn the_deleting_node_continues_its_totals() {
    // The coordinator's own entry never restarts: A goes 5 -> 7, and the reset keeps the 5.
    let mut sa = Siblings::new();
    op_at(&mut sa, "A", Op::CounterAdd(5));
    let seen = sa.context();
    delete_at(&mut sa, "A", &seen);
    op_at(&mut sa, "A", Op::CounterAdd(2));
    let state = decode_counter_state(sa.values().next().unwrap()).unwrap();
    assert_eq!(state.totals[&NodeId::new("A")], (7, 0));
    assert_eq!(state.reset[&NodeId::new("A")], (5, 0));
    assert_eq!(value(&sa), 2);
}

#[test]
fn an_old_tombstone_is_still_the_empty_state() {
    // Deletes written before resets existed: a tombstone supersedes what its clock covers.
    let mut s = Siblings::new();
    op_at(&mut s, "Sx", Op::CounterAdd(5));
    let ctx = s.context();
    s.update(&ctx, Dot::new("Sy", 1), Value::Tombstone, 0);
    assert_eq!(value(&s), 0);
    op_at(&mut s, "Sx", Op::CounterAdd(2));
    assert_eq!(value(&s), 2);
}

#[test]
fn wrong_op_or_resolver_is_a_typed_error() {
    let s = Siblings::new();
    let id = NodeId::new("Sx");
    let dot = Dot::new("Sx", 1);
    for resolver in [
        Resolver::Siblings,
        Resolver::LastWriterWins,
        Resolver::AddWinsSet,
    ] {
        let op = Op::CounterAdd(1);
        assert_eq!(
            apply_op(resolver, &s, &op, &id, &dot),
            Err(ResolveError::OpMismatch { resolver, op })
        );
    }
    let op = Op::SetAdd(vec!["x".into()]);
    let err = apply_op(Resolver::Counter, &s, &op, &id, &dot).unwrap_err();
    assert_eq!(err.code(), "resolve_op_mismatch");
    assert!(err.to_string().contains("counter"));
}

#[test]
fn corrupt_state_is_a_typed_error() {
    // A plain put on a counter key.
    let mut s = Siblings::new();
    s.update(
        &VersionVector::new(),
        Dot::new("Sx", 1),
        Value::Data("hello".into()),
        0,
    );
    let err = resolve(Resolver::Counter, &s).unwrap_err();
    assert_eq!(
        err,
        ResolveError::Corrupt {
            resolver: Resolver::Counter,
            dot: Dot::new("Sx", 1),
            error: StateError::WrongTag {
                expected: COUNTER_STATE_TAG,
                found: Some(b'h')
            },
        }
    );
    assert_eq!(err.code(), "resolve_corrupt_state");
    assert!(std::error::Error::source(&err).is_some());
    // apply_op refuses to build on it too.
    let id = NodeId::new("Sx");
    assert!(apply_op(
        Resolver::Counter,
        &s,
        &Op::CounterAdd(1),
        &id,
        &Dot::new("Sx", 2)
    )
    .is_err());

    let cases: Vec<(Vec<u8>, StateError)> = vec![
        (
            vec![],
            StateError::WrongTag {
                expected: b'c',
                found: None,
            },
        ),
        (vec![b'c'], StateError::Truncated { offset: 1 }),
        (
            vec![b'c', 1, 2, b'S', b'x', 1],
            StateError::Truncated { offset: 6 },
        ),
        (
            vec![b'c', 1, 2, b'S', b'x', 0, 0],
            StateError::EmptyEntry { offset: 2 },
        ),
        (
            vec![b'c', 1, 1, 0xff, 1, 0],
            StateError::InvalidUtf8 { offset: 2 },
        ),
        (
            vec![b'c', 2, 1, b'b', 1, 0, 1, b'a', 1, 0],
            StateError::NotCanonical { offset: 6 },
        ),
        (vec![b'c', 0, 0], StateError::TrailingBytes { extra: 1 }),
        (vec![b'c', 0x80, 0], StateError::BadVarint { offset: 1 }),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode_counter_state(&bytes), Err(want), "{bytes:?}");
    }
}

#[test]
fn state_codec_roundtrips_and_value_saturates() {
    let mut st = CounterState::new();
    st.totals.insert(NodeId::new("Sx"), (u64::MAX, 0));
    st.totals.insert(NodeId::new("Sy"), (u64::MAX, 1));
    st.totals.insert(NodeId::new("Sz"), (0, 0)); // empty entries are not written
    let bytes: Bytes = encode_counter_state(&st);
    let back = decode_counter_state(&bytes).unwrap();
    assert_eq!(back.totals.len(), 2);
    assert_eq!(counter_value(&back), i64::MAX);
    let mut neg = CounterState::new();
    neg.totals.insert(NodeId::new("a"), (0, u64::MAX));
    neg.totals.insert(NodeId::new("b"), (0, u64::MAX));
    assert_eq!(counter_value(&neg), i64::MIN);
    assert_eq!(
        encode_counter_state(&CounterState::new()).to_vec(),
        [b'c', 0]
    );
}
