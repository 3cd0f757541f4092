//! A corrupt meta record (the dot reservation) must not let a node reuse dots: without a
//! trustworthy reservation the node cannot know which counters it issued, so it treats its
//! past as unknown, as after a lost disk, and writes as a fresh random actor.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Dot, NodeId, RecordId};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;

#[test]
fn a_node_with_a_corrupt_reservation_writes_as_a_fresh_actor() {
    let mut c = Cluster::with_nodes(311, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let n0 = preflist(&c, key)[0];
    let id = c.id(n0).clone();
    let mut seen: BTreeSet<Dot> = BTreeSet::new();

    // A clean restart first, so the node writes as `id@epoch`.
    c.crash(n0, false);
    c.restart(n0);
    settle(&mut c);
    let (d1, ctx) = write(&mut c, n0, put(key, "before"));
    seen.insert(d1.clone());
    let reserved = c.store(n0).state().meta.as_ref().unwrap().dot_reserved;

    for round in 0..3 {
        c.crash(n0, true);
        assert!(c.corrupt_record(n0, &RecordId::Meta, 3 + round, 0x40));
        c.restart(n0);
        let n = c.node(n0).unwrap();
        assert_eq!(n.stats().corrupt_records, 1);
        settle(&mut c);
        let (d, _) = write(&mut c, n0, put_ctx(key, &format!("after {round}"), &ctx));
        assert_ne!(d.node, d1.node, "not the actor of the previous run");
        assert_ne!(
            d.node,
            NodeId::new(&format!("{id}@{reserved}")),
            "not the actor a clean restart would have used"
        );
        assert!(seen.insert(d.clone()), "dot {d:?} reused");
    }
    // Every write stands: the three after the damage supersede the first one (their
    // context covered it) and stand beside each other as siblings.
    let r = read(&mut c, n0, key);
    assert_eq!(r.versions.len(), 3);
}
