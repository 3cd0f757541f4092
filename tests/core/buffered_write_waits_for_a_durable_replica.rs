//! A durable replica (an always-on edge node, `Config::durable_replica`) announces itself in
//! the membership. A buffered write (§6.1, `durable: Some(false)`) whose targets include it
//! answers only once the durable replica has the version on disk, not the coordinator's own
//! disk; when the durable replica is unreachable, the write falls back to the plain rule.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::NodeId;
use ringlet::sim::Cluster;

const LATENCY_MS: u64 = 5;
const PERSIST_MS: u64 = 50;

/// Two tabs (n0, n1) and an edge node that joined and became a durable replica; N = 3, so
/// every key lives on all three. Returns the cluster and the edge's index.
fn with_edge() -> (Cluster, usize) {
    let mut c = Cluster::with_nodes(7, 2, config(3, 2, 2), fixed_net(LATENCY_MS, PERSIST_MS));
    settle(&mut c);
    let edge = c.join_node("edge", 1, &[0]);
    c.run_for(5_000);
    c.make_durable_replica(edge);
    let id = NodeId::new("edge");
    for _ in 0..100 {
        let known = (0..3).all(|i| {
            c.node(i).is_some_and(|n| {
                n.membership().get(&id).is_some_and(|m| m.durable)
                    && n.ring().is_some_and(|r| r.owners().contains(&id))
            })
        });
        if known {
            c.run_for(500);
            return (c, edge);
        }
        c.run_for(200);
    }
    panic!("the edge node was never known as a durable replica owning partitions");
}

#[test]
fn a_buffered_put_answers_once_the_durable_replica_has_it_on_disk() {
    let (mut c, edge) = with_edge();
    let start = c.now();
    let (dot, _) = write(&mut c, 0, buffered("cart", "v"));
    let elapsed = c.now() - start;
    // The edge's disk, 5 ms away and back, after the read of the new key (5 ms away and
    // back) and the coordinator's own store (durable before any replica hears of the
    // version: issue 15 defect 4).
    assert_eq!(
        elapsed,
        2 * LATENCY_MS + PERSIST_MS + LATENCY_MS + PERSIST_MS + LATENCY_MS
    );
    assert!(
        durable_dots(&c, edge, "cart").contains(&dot),
        "on the edge's disk at the answer"
    );
}

#[test]
fn a_durable_put_is_unchanged_by_a_durable_replica() {
    let (mut c, _) = with_edge();
    let start = c.now();
    write(&mut c, 0, put("plain", "v"));
    // W = 2: the read of the new key (5 + 5 ms), the coordinator's disk (50 ms, before
    // anything is sent), then the first other disk, 5 + 50 + 5 ms.
    assert_eq!(
        c.now() - start,
        2 * LATENCY_MS + PERSIST_MS + LATENCY_MS + PERSIST_MS + LATENCY_MS
    );
}

#[test]
fn without_its_durable_replica_a_buffered_put_falls_back_to_the_coordinators_disk() {
    let (mut c, edge) = with_edge();
    c.crash(edge, false);
    let start = c.now();
    let (dot, _) = write(&mut c, 0, buffered("away", "v"));
    let elapsed = c.now() - start;
    // The edge stays silent until the sloppy retry gives up on it; then n0's disk counts.
    assert!(elapsed >= c.config().sloppy_retry_ms, "{elapsed} ms");
    assert!(elapsed < c.config().request_timeout_ms, "{elapsed} ms");
    assert!(durable_dots(&c, 0, "away").contains(&dot));
}

#[test]
fn the_durable_flag_reaches_every_member_and_survives_gossip() {
    let (c, _) = with_edge();
    for i in 0..3 {
        let n = c.node(i).expect("up");
        let flags: Vec<(String, bool)> = n
            .membership()
            .members()
            .iter()
            .map(|(id, m)| (id.to_string(), m.durable))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("edge".to_string(), true),
                ("n0".to_string(), false),
                ("n1".to_string(), false)
            ],
            "at node {i}"
        );
    }
}
