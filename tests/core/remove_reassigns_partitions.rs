//! §4.8.1: an operator removes a node that will not come back. Its status becomes `Down`
//! in every view, a new ring gives its partitions to the others, and its replicas are
//! repopulated on the new primaries from the surviving ones (Merkle anti-entropy, §4.7;
//! read repair is off here). Writes taken while it was down, which fallbacks held as hints
//! for it, are not stranded either.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, ClientReply, Config, Dot, NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};

const NODES: usize = 5;
const GONE: usize = 3;

fn config() -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms: 50,
        ..cluster_support::config(3, 2, 2)
    }
}

#[test]
fn a_removed_node_is_replaced_and_its_keys_repopulated() {
    let mut c = Cluster::with_nodes(74, NODES, config(), NetConfig::default());
    settle(&mut c);
    let gone = c.id(GONE).clone();
    let live: Vec<usize> = (0..NODES).filter(|&i| i != GONE).collect();
    let epoch_before = c.node(0).unwrap().membership().summary().ring_epoch;
    let mut acked: Vec<(String, String, Dot)> = Vec::new();
    for i in 0..200 {
        let (key, value) = (format!("before/{i}"), format!("v{i}"));
        let (dot, _) = write(&mut c, i % NODES, put(&key, &value));
        acked.push((key, value, dot));
    }
    c.crash(GONE, false);
    // The failure detectors notice (a write forwarded to the node as it crashed would end
    // in an ambiguous TIMEOUT, issue 15 defect 2).
    c.run_for(20_000);
    for i in 0..100 {
        let (key, value) = (format!("after/{i}"), format!("w{i}"));
        let (dot, _) = write(&mut c, live[i % live.len()], put(&key, &value));
        acked.push((key, value, dot));
    }
    let hinted: usize = live
        .iter()
        .map(|&i| c.node(i).unwrap().hints().count())
        .sum();
    assert!(hinted > 0, "fallbacks hold hints for the crashed node");

    let id = c.submit_admin(0, AdminRequest::Remove { node: gone.clone() });
    let done = c.take_completed();
    assert!(
        done.iter()
            .any(|d| d.id == id && d.result == Ok(ClientReply::Done)),
        "{done:?}"
    );
    c.run_for(30_000);

    let ring = c.node(0).unwrap().ring().unwrap().clone();
    assert!(
        ring.partitions_of(&gone).is_empty(),
        "the new ring leaves it out"
    );
    for &i in &live {
        let n = c.node(i).unwrap();
        assert_eq!(
            n.membership().get(&gone).map(|m| m.status),
            Some(Status::Down),
            "{} does not see the removal",
            c.id(i)
        );
        assert!(n.membership().summary().ring_epoch > epoch_before);
        assert_eq!(n.ring(), Some(&ring), "{} has another ring", c.id(i));
        assert_eq!(
            n.hints().count(),
            0,
            "{} still holds hints: {:?}",
            c.id(i),
            n.hints().map(|((to, k), _)| (to, k)).collect::<Vec<_>>()
        );
    }

    // Every acknowledged write is on each of its key's three new primaries, and nowhere
    // else.
    for (key, _, dot) in &acked {
        let primaries: Vec<NodeId> = ring
            .preflist_for_key(key.as_bytes())
            .into_iter()
            .take(3)
            .collect();
        for &i in &live {
            let held = local_dots(&c, i, key);
            if primaries.contains(c.id(i)) {
                assert_eq!(held, vec![dot.clone()], "{key} on primary {}", c.id(i));
            } else {
                assert!(held.is_empty(), "{key} left behind on {}", c.id(i));
            }
        }
    }
    let repaired: u64 = live
        .iter()
        .map(|&i| c.node(i).unwrap().stats().ae_keys_repaired)
        .sum();
    assert!(
        repaired > 0,
        "the new primaries were filled by anti-entropy"
    );
    for (k, (key, value, _)) in acked.iter().enumerate() {
        let through = live[k % live.len()];
        assert_eq!(read(&mut c, through, key).values(), vec![value.clone()]);
    }
}
