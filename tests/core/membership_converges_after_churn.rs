//! §4.8: membership is replicated state that converges. After joins, a leave, crashes and
//! partitions (some of them at once), once the faults stop every live node holds the same
//! view (the same members, statuses and versions: equal digests) and the same ring, and
//! that ring is the one the explicit changes asked for.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, Config, NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;

fn config() -> Config {
    Config {
        anti_entropy_interval_ms: 200,
        ..cluster_support::config(3, 2, 2)
    }
}

/// One churn scenario; `seed` varies the network and the groups cut off.
fn churn(seed: u64) -> Cluster {
    let net = NetConfig {
        min_latency_ms: 1,
        max_latency_ms: 30,
        ..NetConfig::default()
    };
    let mut c = Cluster::with_nodes(seed, 5, config(), net);
    settle(&mut c);
    for i in 0..40 {
        write(&mut c, i % 5, put(&format!("k/{i}"), "v"));
    }
    let s = seed as usize;
    // A join, then a partition that cuts its seed off with a crash on the other side.
    let j1 = c.join_node("j1", 1, &[1]);
    c.run_for(700);
    c.partition(&[1, j1, (s % 3) + 2]);
    c.crash(if s % 2 == 0 { 0 } else { 4 }, s % 3 == 0);
    c.run_for(3_000);
    // A second join and a leave while still partitioned.
    let j2 = c.join_node("j2", 2, &[2]);
    c.submit_admin(3, AdminRequest::Leave);
    c.run_for(4_000);
    // Another cut, the crashed node back, another crash.
    c.partition(&[0, 3, j2]);
    c.restart(0);
    c.restart(4);
    c.crash(1, true);
    c.run_for(5_000);
    c.heal();
    c.net.loss = 0.05;
    c.run_for(3_000);
    // Faults stop.
    c.net.loss = 0.0;
    c.restart(1);
    c.run_for(60_000);
    c
}

#[test]
fn every_live_node_ends_with_the_same_view_and_ring() {
    for seed in 1..=6 {
        let c = churn(seed);
        let ids: Vec<NodeId> = (0..c.len()).map(|i| c.id(i).clone()).collect();
        let leaver = NodeId::new("n3");
        let reference = c.node(0).unwrap().membership().clone();
        for (i, id) in ids.iter().enumerate() {
            let n = c
                .node(i)
                .unwrap_or_else(|| panic!("seed {seed}: {id} is down"));
            if n.has_exited() {
                continue;
            }
            assert_eq!(
                n.membership().summary(),
                reference.summary(),
                "seed {seed}: {id} and n0 disagree: {:?} vs {:?}",
                n.membership().members(),
                reference.members()
            );
            assert_eq!(n.membership().members(), reference.members(), "seed {seed}");
            assert_eq!(n.ring(), reference.ring(), "seed {seed}");
        }
        // The view is the one the explicit changes asked for: both joiners valid, the
        // leaver gone, nobody else touched by the crashes and partitions.
        for (i, id) in ids.iter().enumerate() {
            let status = reference.get(id).map(|m| m.status);
            let want = if *id == leaver {
                Status::Exiting
            } else {
                Status::Valid
            };
            assert_eq!(status, Some(want), "seed {seed}: status of {id}");
            if *id == leaver {
                assert!(
                    c.node(i).unwrap().has_exited(),
                    "seed {seed}: the leaver exited"
                );
            }
        }
        let owners: BTreeSet<NodeId> = reference.ring().unwrap().members().into_iter().collect();
        let want: BTreeSet<NodeId> = ids.iter().filter(|id| **id != leaver).cloned().collect();
        assert_eq!(owners, want, "seed {seed}: the ring's owners");
    }
}
