//! DYNAMO.md "Exactly once", across a coordinator's restart: a `Forward` that a node accepted
//! and coordinated, and whose network duplicate reaches the node's next run (a tab reloads;
//! its peer re-sends through the relay every frame it could not confirm), is not applied a
//! second time.
//!
//! The memory of accepted forwards must outlive the run that accepted them: a node acts on
//! a forward (coordinates it, or hands it on) only once the forward's identity (forwarder,
//! request id) is on its disk, and a restarted node loads those identities back.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, ClientRequest, Message, Op, RecordId, Resolved};
use ringlet::sim::Cluster;

/// Submit `request` at an outsider of `key` (no replica of it) and let it complete through
/// the first primary; restart that primary (a clean exit; with `corrupt`, the record of the
/// forward is damaged on its disk) and hand its next run a duplicate of the `Forward` it
/// accepted.
fn apply_then_duplicate_across_restart(
    c: &mut Cluster,
    key: &str,
    request: ClientRequest,
    corrupt: bool,
) {
    let pl = preflist(c, key);
    let outsider = pl[4];
    c.record_flights();
    let id = c.submit(outsider, request);
    c.run_for(200);
    let done = c.take_completed();
    assert!(
        done.iter().any(|d| d.id == id && d.result.is_ok()),
        "the forwarded write completed: {done:?}"
    );
    let forward = c
        .take_flights()
        .into_iter()
        .find(|f| matches!(f.msg, Message::Forward { .. }))
        .expect("the outsider forwarded the write");
    let coordinator = (0..6)
        .find(|&i| *c.id(i) == forward.to)
        .expect("the coordinator is a node of the cluster");
    c.crash(coordinator, false);
    if corrupt {
        let Message::Forward { rid, .. } = forward.msg else {
            unreachable!()
        };
        let record = RecordId::Forward(forward.from.clone(), rid);
        assert!(
            c.corrupt_record(coordinator, &record, 3, 0x10),
            "{record:?}"
        );
    }
    c.restart(coordinator);
    c.run_for(20);
    c.inject(outsider, coordinator, forward.msg);
    c.run_for(2_000);
}

#[test]
fn a_put_duplicated_to_its_coordinators_next_run_is_stored_once() {
    let mut c = six_nodes_with_counters(1531);
    let key = "fwd/restart";
    apply_then_duplicate_across_restart(&mut c, key, put(key, "only-once"), false);
    let pl = preflist(&c, key);
    let r = read(&mut c, pl[1], key);
    assert_eq!(
        r.values(),
        vec!["only-once".to_string()],
        "one put was applied {} times: versions {:?}",
        r.versions.len(),
        dots(&r.versions),
    );
}

#[test]
fn a_counter_increment_duplicated_to_its_coordinators_next_run_counts_once() {
    let mut c = six_nodes_with_counters(1532);
    let key = "ctr/restart";
    let add = ClientRequest::Update {
        key: Bytes::from(key),
        op: Op::CounterAdd(1),
        options: opts(),
    };
    apply_then_duplicate_across_restart(&mut c, key, add, false);
    let pl = preflist(&c, key);
    let r = read(&mut c, pl[1], key);
    assert_eq!(
        r.value,
        Resolved::Counter(1),
        "one +1 was applied more than once: versions {:?}",
        dots(&r.versions),
    );
}

#[test]
fn a_duplicate_is_not_applied_when_the_record_of_its_forward_was_corrupted() {
    // The restarted coordinator finds the forward's record damaged: it no longer knows which
    // forward it accepted, so it acts on no unknown forward until every one its previous run
    // could have accepted has expired.
    let mut c = six_nodes_with_counters(1533);
    let key = "fwd/corrupt";
    apply_then_duplicate_across_restart(&mut c, key, put(key, "only-once"), true);
    let pl = preflist(&c, key);
    let r = read(&mut c, pl[1], key);
    assert_eq!(
        r.values(),
        vec!["only-once".to_string()],
        "{:?}",
        dots(&r.versions)
    );
}
