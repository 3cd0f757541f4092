//! Hinted handoff to a node whose disk is slower than the request timeout (simulator seed
//! 20804: disks of up to 3 s against a 2 s timeout). The intended node acknowledges a hint
//! only once it is durable, so every ack came after its offer had expired; the fallback
//! ignored those acks and offered the hint again, and again, to the end of the run. A late
//! ack now still drops the hint (for `LATE_ACK_TIMEOUTS` request timeouts), if nothing newer
//! arrived for it since that offer.
//!
//! (With an idle disk the old code got there in the end: a later offer's ack rode on the
//! batch already in flight. A node that keeps writing, as a busy tab does, never got there.)

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Config, NodeId};
use ringlet::sim::Cluster;

fn config() -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

fn hinted(c: &Cluster, i: usize, intended: &NodeId, key: &str) -> bool {
    c.node(i).is_some_and(|n| {
        n.hints()
            .any(|((to, k), _)| to == intended && k == &Bytes::from(key))
    })
}

#[test]
fn a_hint_whose_ack_comes_after_the_timeout_is_still_dropped() {
    let mut c = Cluster::with_nodes(20804, 4, config(), fixed_net(5, 2));
    settle(&mut c);
    // A key whose first primary is node 3 (node 0, the claimant, stays with the others).
    let key = key_where(&c, "k", |p| p[0] == 3);
    let fallback = preflist(&c, &key)[3];
    let slow = 3;
    let slow_id = c.id(slow).clone();
    c.partition(&[slow]);
    let limit = c.now() + 30_000;
    while !(0..3).all(|i| c.node(i).unwrap().down_peers().contains(&slow_id)) {
        c.run_for(10);
        assert!(c.now() < limit, "node 3 was never seen down");
    }
    let coordinator = preflist(&c, &key)[1];
    write(&mut c, coordinator, put(&key, "v"));
    c.run_for(100);
    assert!(
        hinted(&c, fallback, &slow_id, &key),
        "the fallback holds a hint for node 3"
    );

    // Node 3 comes back with a disk three times slower than the request timeout, and
    // busy: other writes it replicates keep arriving, so every ack waits for a new batch.
    let persist = 3 * c.config().request_timeout_ms;
    c.set_persist_latency(slow, Some((persist, persist)));
    c.heal();
    let limit = c.now() + 120_000;
    let mut i = 0;
    while hinted(&c, fallback, &slow_id, &key) {
        let other = key_where(&c, &format!("busy{i}-"), |p| p[..3].contains(&slow));
        c.submit(0, put(&other, "x"));
        i += 1;
        c.run_for(300);
        assert!(
            c.now() < limit,
            "the hint is still held: every ack came after its offer expired"
        );
    }
    assert!(
        !durable_dots(&c, slow, &key).is_empty(),
        "node 3 holds the key on disk"
    );
}
