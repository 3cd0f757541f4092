//! §4.8.1 and §4.9: a node that joins through a seed gets its share of the partitions in a
//! new ring; the old owners hand the keys of those partitions over (ownership handoff), drop
//! them only once the new primaries stored them, and no acknowledged write is lost, neither
//! the ones written before the join nor those written while the partitions move.
//!
//! Anti-entropy and read repair are off, so only the handoff can have moved the keys.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, Dot, NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};

const OLD: usize = 4;

fn config() -> Config {
    Config {
        q: 64,
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

#[test]
fn the_joiner_takes_its_share_and_every_acknowledged_write_survives() {
    let q = config().q;
    let mut c = Cluster::with_nodes(41, OLD, config(), NetConfig::default());
    settle(&mut c);
    let mut acked: Vec<(String, String, Dot)> = Vec::new();
    for i in 0..200 {
        let (key, value) = (format!("before/{i}"), format!("v{i}"));
        let (dot, _) = write(&mut c, i % OLD, put(&key, &value));
        acked.push((key, value, dot));
    }
    let epoch_before = c.node(0).unwrap().membership().summary().ring_epoch;

    let j = c.join_node("joiner", 1, &[0]);
    let joiner = c.id(j).clone();
    // Writes go on while the joiner is learned, the ring changes and the keys move.
    for i in 0..150 {
        let (key, value) = (format!("during/{i}"), format!("w{i}"));
        let (dot, _) = write(&mut c, i % OLD, put(&key, &value));
        acked.push((key, value, dot));
        c.run_for(50);
    }
    c.run_for(20_000);

    // Every node installed the same new ring, which gives the joiner about Q/5 partitions.
    let ring = c.node(0).unwrap().ring().unwrap().clone();
    for i in 0..=OLD {
        let n = c.node(i).unwrap();
        assert!(
            n.membership().summary().ring_epoch > epoch_before,
            "{} still has the old ring",
            c.id(i)
        );
        assert_eq!(n.ring(), Some(&ring), "{} has another ring", c.id(i));
        assert_eq!(
            n.membership().get(&joiner).map(|m| m.status),
            Some(Status::Valid),
            "{} does not see the joiner as valid",
            c.id(i)
        );
    }
    let load = ring.load();
    let share = load.get(&joiner).copied().unwrap_or(0);
    assert!(
        share == q / 5 || share == q / 5 + 1,
        "the joiner owns {share} of {q} partitions: {load:?}"
    );

    // Every acknowledged write is on each of its key's primaries under the new ring, and
    // on no other node.
    for (key, _, dot) in &acked {
        let primaries: Vec<NodeId> = ring
            .preflist_for_key(key.as_bytes())
            .into_iter()
            .take(3)
            .collect();
        for i in 0..=OLD {
            let held = local_dots(&c, i, key);
            if primaries.contains(c.id(i)) {
                assert_eq!(held, vec![dot.clone()], "{key} on primary {}", c.id(i));
            } else {
                assert!(held.is_empty(), "{key} left behind on {}", c.id(i));
            }
        }
    }
    // Keys written before the join reach the joiner only by ownership handoff (read repair
    // and anti-entropy are off); keys written during it may also be stored there directly
    // by a coordinator that already knew the new ring.
    let moved_to_joiner = c
        .node(j)
        .unwrap()
        .objects()
        .filter(|(k, _)| k.starts_with(b"before/"))
        .count();
    assert!(moved_to_joiner > 0);
    let transferred: u64 = (0..=OLD)
        .map(|i| c.node(i).unwrap().stats().keys_transferred)
        .sum();
    assert!(
        transferred as usize >= moved_to_joiner,
        "{transferred} keys transferred, the joiner holds {moved_to_joiner}"
    );
    for i in 0..=OLD {
        assert_eq!(c.node(i).unwrap().hints().count(), 0);
    }

    // And every acknowledged value reads back, through any node.
    for (k, (key, value, _)) in acked.iter().enumerate() {
        let r = read(&mut c, k % (OLD + 1), key);
        assert_eq!(r.values(), vec![value.clone()], "{key}");
    }
}
