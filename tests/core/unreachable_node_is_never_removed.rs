//! §4.8.1: an outage is not a membership change. A node that stays unreachable for minutes
//! keeps its status (`Valid`) and its partitions everywhere: no new ring, no rebalancing.
//! The others believe it down (§4.8.3), route around it with a sloppy quorum and hints
//! (§4.6), keep probing it, and take it back as soon as it answers.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};

const NODES: usize = 5;
const DEAD: usize = 3;

fn check_membership_unchanged(c: &Cluster, dead: &NodeId, epoch: u64, at: &str) {
    for i in (0..NODES).filter(|&i| i != DEAD) {
        let n = c.node(i).unwrap();
        assert_eq!(
            n.membership().get(dead).map(|m| m.status),
            Some(Status::Valid),
            "{at}: {} changed the status of the unreachable node",
            c.id(i)
        );
        assert_eq!(
            n.membership().summary().ring_epoch,
            epoch,
            "{at}: {} installed a new ring",
            c.id(i)
        );
        assert!(
            n.ring().unwrap().partitions_of(dead).len() >= 12,
            "{at}: the unreachable node keeps its partitions"
        );
    }
}

#[test]
fn minutes_of_silence_change_no_membership_and_the_node_is_taken_back() {
    let mut c = Cluster::with_nodes(63, NODES, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let dead = c.id(DEAD).clone();
    let epoch = c.node(0).unwrap().membership().summary().ring_epoch;
    let ring = c.node(0).unwrap().ring().unwrap().clone();
    c.crash(DEAD, false);

    for minute in 1..=5 {
        c.run_for(60_000);
        let at = format!("after {minute} min");
        check_membership_unchanged(&c, &dead, epoch, &at);
        for i in (0..NODES).filter(|&i| i != DEAD) {
            let n = c.node(i).unwrap();
            assert_eq!(n.down_peers(), vec![dead.clone()], "{at}: {}", c.id(i));
            assert_eq!(n.ring(), Some(&ring), "{at}");
        }
    }

    // Writes to keys the dead node replicates still succeed: a fallback takes its replica
    // with a hint.
    let key = key_where(&c, "cart/", |pl| pl[..3].contains(&DEAD) && pl[0] != DEAD);
    let coordinator = preflist(&c, &key)[0];
    let (dot, _) = write(&mut c, coordinator, put(&key, "while it was away"));
    c.run_for(100);
    let hinted: Vec<usize> = (0..NODES)
        .filter(|&i| i != DEAD)
        .filter(|&i| {
            c.node(i)
                .unwrap()
                .hints()
                .any(|((to, k), _)| to == &dead && k.as_ref() == key.as_bytes())
        })
        .collect();
    assert_eq!(hinted.len(), 1, "one fallback holds the hint");
    check_membership_unchanged(&c, &dead, epoch, "after the write");

    // It comes back: probed, answered, taken back by every node, and handed its hint.
    c.restart(DEAD);
    c.run_for(10_000);
    for i in 0..NODES {
        let n = c.node(i).unwrap();
        assert!(
            n.down_peers().is_empty(),
            "{} still believes {:?} down",
            c.id(i),
            n.down_peers()
        );
        assert_eq!(n.hints().count(), 0, "{} still holds a hint", c.id(i));
        assert_eq!(n.ring(), Some(&ring));
    }
    assert_eq!(local_dots(&c, DEAD, &key), vec![dot]);
    check_membership_unchanged(&c, &dead, epoch, "after its return");
}
