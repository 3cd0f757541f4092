//! §4.5 and DYNAMO.md "Per-slot quorums": a write quorum counts intended replicas
//! (preference-list slots). A primary and the fallback standing in for it are one slot, so
//! when a put is acknowledged at least W distinct intended replicas hold it durably (an
//! object on a primary, or a hint naming that primary), checked at the moment of the ack.
//!
//! Issue 15 defect 1: with a disk slower than `sloppy_retry_ms`, `put_timer` replaces a
//! primary that is only slow by a fallback (a hint for it) and leaves it among the targets;
//! `PutQuorum::add_ack` counts any responder, so the slow primary's late ack and its
//! stand-in's ack both count.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{ClientReply, Dot, NodeId, RequestOptions};
use ringlet::sim::Cluster;
use std::collections::BTreeSet;

/// The intended replicas (slots) among the key's primaries that durably hold `dot`: a
/// primary with the dot in its objects, or any node with a hint naming that primary.
fn durable_slots(c: &Cluster, key: &str, primaries: &[usize], dot: &Dot) -> BTreeSet<NodeId> {
    let primary_ids: Vec<NodeId> = primaries.iter().map(|&p| c.id(p).clone()).collect();
    let mut slots = BTreeSet::new();
    for i in 0..c.len() {
        let state = c.store(i).state();
        if primaries.contains(&i) {
            if let Some(s) = state.objects.get(key.as_bytes()) {
                if dots(s).contains(dot) {
                    slots.insert(c.id(i).clone());
                }
            }
        }
        for ((intended, k), s) in &state.hints {
            if &k[..] == key.as_bytes() && primary_ids.contains(intended) && dots(s).contains(dot) {
                slots.insert(intended.clone());
            }
        }
    }
    slots
}

#[test]
fn an_acknowledged_put_is_durable_on_w_distinct_intended_replicas() {
    // Every disk takes 300 ms, above the 250 ms sloppy retry: B is slow, not down.
    let cfg = config(3, 2, 2);
    assert!(cfg.sloppy_retry_ms < 300);
    let mut c = Cluster::with_nodes(1501, 5, cfg, fixed_net(1, 300));
    c.run_for(1_000); // every node's dot reservation is durable
    let key = "slot/k";
    let pl = preflist(&c, key);
    let (a, b, cc, d, e) = (pl[0], pl[1], pl[2], pl[3], pl[4]);
    // C (a primary) and E (the second fallback) are cut off; A, B and D are healthy.
    c.partition(&[cc, e]);

    let start = c.now();
    let id = c.submit(
        a,
        put_with(
            key,
            "v",
            None,
            RequestOptions {
                w: Some(3),
                ..opts()
            },
        ),
    );
    let limit = start + 10_000;
    while !c.has_completed() && c.step_until(limit) {}
    let done = c.take_completed();
    assert_eq!(done.len(), 1, "the put ended: {done:?}");
    assert_eq!(done[0].id, id);
    // Checked at the instant of the reply, before anything else runs.
    if let Ok(ClientReply::Put { dot, .. }) = &done[0].result {
        let slots = durable_slots(&c, key, &[a, b, cc], dot);
        let hints_at_d: Vec<NodeId> = c
            .store(d)
            .state()
            .hints
            .keys()
            .map(|(n, _)| n.clone())
            .collect();
        assert!(
            slots.len() >= 3,
            "put with w=3 acknowledged after {} ms while only {} distinct intended replicas \
             durably hold it: {:?} (D={} holds hints for {:?}; B={} counted twice)",
            done[0].at - start,
            slots.len(),
            slots,
            c.id(d),
            hints_at_d,
            c.id(b),
        );
    }
}
