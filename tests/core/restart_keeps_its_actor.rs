//! Dots are never reused, and a restart adds no actor (issue 15 defect 4). A primary writes
//! as its plain id in every run: dot counters continue from the reservation on disk, and
//! the coordinator's own store of a new version is durable before the version goes to any
//! other replica, so a restarted node holds every dot it ever issued for its keys. A crash
//! can only lose a version that never left its coordinator. A node that lost data (a
//! wiped disk) writes as a new incarnation, `<id>@i<n>`, in that run and every later one.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::Dot;
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
fn each_run_of_a_node_writes_as_the_same_actor_and_never_reuses_a_dot() {
    let mut c = Cluster::with_nodes(121, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let n0 = preflist(&c, key)[0];
    let id = c.id(n0).clone();
    let mut seen: BTreeSet<Dot> = BTreeSet::new();

    let (d1, mut ctx) = write(&mut c, n0, put(key, "first run"));
    assert_eq!(
        d1,
        Dot::new(id.clone(), 1),
        "the first run writes as the id"
    );
    seen.insert(d1);

    for run in 2..=4 {
        let epoch = reserved(&c, n0);
        c.crash(n0, run % 2 == 0);
        c.restart(n0);
        settle(&mut c);
        let (d, next) = write(&mut c, n0, put_ctx(key, &format!("run {run}"), &ctx));
        assert_eq!(d.node, id, "run {run} writes as {id} again");
        assert!(
            d.counter > epoch,
            "run {run} counts on from the reservation"
        );
        assert!(seen.insert(d), "a dot was reused");
        assert_eq!(next.version_vector().len(), 1, "one entry: {id}");
        assert!(
            reserved(&c, n0) > epoch,
            "the next run counts on from there"
        );
        ctx = next;
    }
}

#[test]
fn a_version_lost_in_a_crash_never_left_its_coordinator() {
    // Slow disks: the coordinator crashes before its own store of the write is durable.
    let mut c = Cluster::with_nodes(122, 3, config(3, 2, 2), fixed_net(2, 20));
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let n0 = pl[0];
    c.submit(n0, put(key, "lost at n0"));
    c.run_for(10);
    c.crash(n0, true);
    c.run_for(100);
    for &i in &pl {
        assert_eq!(
            local_dots(&c, i, key),
            Vec::<Dot>::new(),
            "no replica heard of a version its coordinator did not hold durably"
        );
    }

    // Restarted, n0 knows nothing of the key, and neither does anyone else: its next dot
    // for the key, whatever it is, names one version only.
    c.restart(n0);
    settle(&mut c);
    let (second, _) = write(&mut c, n0, put(key, "after restart"));
    assert_eq!(&second.node, c.id(n0));
    c.run_for(100);
    let r = read(&mut c, pl[1], key);
    assert_eq!(r.values(), vec!["after restart".to_string()]);
}

#[test]
fn a_node_that_lost_its_disk_writes_as_a_new_incarnation_for_good() {
    let mut c = Cluster::with_nodes(123, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let n0 = preflist(&c, key)[0];
    let id = c.id(n0).clone();
    let (before, _) = write(&mut c, n0, put(key, "before the loss"));
    assert_eq!(before.node, id);
    c.run_for(100);

    c.wipe_disk(n0);
    c.restart(n0);
    settle(&mut c);
    let (after, _) = write(&mut c, n0, put(key, "after the loss"));
    let incarnation = after.node.clone();
    assert_ne!(
        incarnation, id,
        "a node that may lack its dots is a new actor"
    );
    assert!(
        incarnation.as_str().starts_with(&format!("{id}@i")),
        "{incarnation}"
    );

    // Later runs keep that incarnation: the loss adds one actor, not one per restart.
    for _ in 0..3 {
        c.crash(n0, false);
        c.restart(n0);
        settle(&mut c);
        let (d, _) = write(&mut c, n0, put(key, "later"));
        assert_eq!(d.node, incarnation);
    }
    c.run_for(100);
    let r = read(&mut c, n0, key);
    let mut values = r.values();
    values.sort();
    values.dedup();
    assert_eq!(
        values,
        vec![
            "after the loss".to_string(),
            "before the loss".to_string(),
            "later".to_string()
        ],
        "blind writes stand beside each other: {:?}",
        dots(&r.versions)
    );
}
