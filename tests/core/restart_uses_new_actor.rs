//! Dots are never reused. A restarted node may have lost dots it issued (unpersisted when
//! it crashed), so each run writes as a new actor, `<id>@<epoch>`, where the epoch is the
//! dot reservation it found on disk. A write made after the restart therefore never
//! collides with one from before, even one the node itself no longer has.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Dot, NodeId};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;

fn reserved(c: &Cluster, i: usize) -> u64 {
    c.store(i)
        .state()
        .meta
        .as_ref()
        .expect("the dot reservation is on disk")
        .dot_reserved
}

#[test]
fn each_run_of_a_node_writes_as_a_new_actor() {
    let mut c = Cluster::with_nodes(121, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let n0 = preflist(&c, key)[0];
    let id = c.id(n0).clone();
    let mut seen: BTreeSet<Dot> = BTreeSet::new();

    let (d1, ctx) = write(&mut c, n0, put(key, "first run"));
    assert_eq!(
        d1,
        Dot::new(id.clone(), 1),
        "the first run writes as the bare id"
    );
    seen.insert(d1);

    for run in 2..=4 {
        let epoch = reserved(&c, n0);
        c.crash(n0, run % 2 == 0);
        c.restart(n0);
        settle(&mut c);
        let (d, _) = write(&mut c, n0, put_ctx(key, &format!("run {run}"), &ctx));
        assert_eq!(
            d,
            Dot::new(NodeId::new(&format!("{id}@{epoch}")), 1),
            "run {run} writes as {id}@{epoch}"
        );
        assert!(seen.insert(d), "a dot was reused");
        assert!(reserved(&c, n0) > epoch, "the next run's epoch will differ");
    }
}

#[test]
fn a_write_lost_in_a_crash_does_not_hide_the_next_one() {
    // Slow disks: the coordinator crashes before its own store of the write is durable,
    // but the replicas got the version over the network.
    let mut c = Cluster::with_nodes(122, 3, config(3, 2, 2), fixed_net(2, 20));
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let n0 = pl[0];
    c.submit(n0, put(key, "lost at n0"));
    c.crash(n0, true);
    c.run_for(100);
    let first: Vec<Dot> = local_dots(&c, pl[1], key);
    assert_eq!(first.len(), 1, "the replicas hold the first write");
    assert_eq!(&first[0].node, c.id(n0));
    assert_eq!(durable_dots(&c, n0, key), Vec::<Dot>::new(), "n0 lost it");

    // Restarted, n0 knows nothing of the key. Reusing its old actor it would issue
    // (n0,1) again, and the replicas would drop the new write as one they already have.
    c.restart(n0);
    settle(&mut c);
    let (second, _) = write(&mut c, n0, put(key, "after restart"));
    assert_ne!(second, first[0]);
    c.run_for(100);
    let r = read(&mut c, pl[1], key);
    let mut values = r.values();
    values.sort();
    assert_eq!(
        values,
        vec!["after restart".to_string(), "lost at n0".to_string()]
    );
}
