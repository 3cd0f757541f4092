//! The storage port's failure path (§5): when the host cannot apply a persist batch
//! (`PersistFailed`, e.g. a full IndexedDB quota), the versions of that batch are not on
//! disk, so no later acknowledgement that promises durability (`ReplicateAck { durable:
//! true }`, `HandoffAck`, which lets a fallback delete its hint) may be sent for them until
//! a batch holding them has been applied.
//!
//! Driven on one `Node` directly (the simulator's disks never fail).
//!
//! The node keeps a failed batch's ops and re-issues them at the front of its next batch;
//! acks that wait for durability wait for that batch.

use ringlet::core::{
    Bytes, Config, Dot, Input, Member, Message, Node, NodeId, Output, Siblings, Snapshot, StoreOp,
    Value, Version, VersionVector,
};

fn drain(node: &mut Node) -> Vec<Output> {
    std::iter::from_fn(|| node.poll()).collect()
}

/// Node "a" of a three-node ring, its first dot reservation persisted.
fn replica() -> Node {
    let members: Vec<Member> = ["a", "b", "c"].iter().map(|n| Member::new(*n, 1)).collect();
    let mut node = Node::new(
        NodeId::new("a"),
        Config::default(),
        &members,
        1,
        Snapshot::default(),
    )
    .expect("a valid config");
    for o in drain(&mut node) {
        if let Output::Persist { batch, .. } = o {
            node.handle(1_000, Input::PersistDone { batch });
        }
    }
    drain(&mut node);
    node
}

fn versions() -> Siblings {
    Siblings::from_versions([Version {
        dot: Dot::new("b", 1),
        past: VersionVector::new(),
        value: Value::Data(Bytes::from("x")),
        timestamp_ms: 1,
    }])
}

fn from_b(msg: Message) -> Input {
    Input::Message {
        from: NodeId::new("b"),
        msg,
    }
}

/// Feed `msg`, fail every persist batch it causes, and return what else came out.
fn deliver_and_fail_persist(node: &mut Node, now: u64, msg: Message) -> Vec<Output> {
    node.handle(now, from_b(msg));
    let mut rest = Vec::new();
    for o in drain(node) {
        match o {
            Output::Persist { batch, .. } => node.handle(
                now,
                Input::PersistFailed {
                    batch,
                    reason: "quota".into(),
                    quota_exceeded: true,
                },
            ),
            other => rest.push(other),
        }
    }
    rest.extend(drain(node));
    rest
}

/// After a retry of the same message: no ack before a persist batch holding `key` is done.
/// `earlier` holds what came out after the failure (the node may already have re-issued
/// the failed ops as a new batch).
fn assert_ack_waits_for_disk(
    node: &mut Node,
    earlier: Vec<Output>,
    retry: Message,
    is_ack: fn(&Message) -> bool,
) {
    node.handle(2_000, from_b(retry));
    let mut out = earlier;
    out.extend(drain(node));
    let acked_now = out
        .iter()
        .any(|o| matches!(o, Output::Send { msg, .. } if is_ack(msg)));
    assert!(!acked_now, "acked as durable with nothing on disk: {out:?}");
    let persist = out.iter().rev().find_map(|o| match o {
        Output::Persist { batch, ops } => Some((*batch, ops.clone())),
        _ => None,
    });
    let (batch, ops) = persist.expect("the versions are persisted again");
    assert!(ops
        .iter()
        .any(|op| matches!(op, StoreOp::PutObject { key, .. } if key.as_slice() == b"k")));
    node.handle(2_001, Input::PersistDone { batch });
    let out = drain(node);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Send { msg, .. } if is_ack(msg))),
        "acked once durable: {out:?}"
    );
}

#[test]
fn a_failed_persist_is_not_acked() {
    // The failed batch's own ack is withheld.
    let mut node = replica();
    let msg = Message::Replicate {
        rid: 7,
        key: Bytes::from("k"),
        versions: versions(),
        hint: None,
        durable: true,
    };
    let out = deliver_and_fail_persist(&mut node, 1_001, msg);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Send { .. })),
        "no ack for a failed persist: {out:?}"
    );
}

#[test]
fn a_retried_replicate_after_a_failed_persist_is_acked_only_once_on_disk() {
    let mut node = replica();
    let msg = |rid| Message::Replicate {
        rid,
        key: Bytes::from("k"),
        versions: versions(),
        hint: None,
        durable: true,
    };
    let earlier = deliver_and_fail_persist(&mut node, 1_001, msg(7));
    assert_ack_waits_for_disk(&mut node, earlier, msg(8), |m| {
        matches!(m, Message::ReplicateAck { durable: true, .. })
    });
}

#[test]
fn a_retried_handoff_after_a_failed_persist_is_acked_only_once_on_disk() {
    let mut node = replica();
    let msg = |rid| Message::Handoff {
        rid,
        key: Bytes::from("k"),
        versions: versions(),
    };
    let earlier = deliver_and_fail_persist(&mut node, 1_001, msg(7));
    assert_ack_waits_for_disk(&mut node, earlier, msg(8), |m| {
        matches!(m, Message::HandoffAck { .. })
    });
}
