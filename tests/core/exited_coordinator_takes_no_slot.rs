//! §4.6 and §4.8: a node that has left the ring stores nothing and never fills a slot of a
//! write quorum, not even when it coordinates a write itself. A peer with a stale ring may
//! still forward it a write (and a tab that left may still have clients); it coordinates
//! it with the ring it holds, and when a target is silent, the replacement must be one of
//! the key's members, never the exited coordinator standing in with a hint of its own.
//!
//! Found by the simulator's `ack_durable` check (seeds 1133, 1259, 2241, 3204, 3661):
//! `replace_target` had the coordinator take the first replacement itself whenever it was
//! no target yet ("the one node sure to be up"), so an exited n0 coordinating `hot0` with
//! W=2 on [n3, n4, n2] replaced the silent n2 by a hint for n2 in its own store and
//! acknowledged the put with one member slot (n4) and its own hint.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, Bytes, Config, Message, RequestOptions};
use ringlet::sim::Cluster;

const LEAVER: usize = 2;

#[test]
fn an_exited_coordinator_never_stands_in_for_a_silent_target() {
    let cfg = Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..config(3, 2, 2)
    };
    let retry = cfg.sloppy_retry_ms;
    let mut c = Cluster::with_nodes(1259, 5, cfg, fixed_net(5, 5));
    settle(&mut c);
    c.submit_admin(LEAVER, AdminRequest::Leave);
    c.run_for(30_000);
    let leaver = c.node(LEAVER).expect("an exited node keeps running");
    assert!(leaver.has_exited());
    // The key's preference list in the ring the exited node holds (it no longer names it):
    // three primaries and one fallback.
    let ring = leaver.ring().expect("a ring").clone();
    let key = "exited-coord/k";
    let pl: Vec<usize> = ring
        .preflist_for_key(key.as_bytes())
        .iter()
        .map(|id| c.index_of(id).expect("a cluster node"))
        .collect();
    assert_eq!(pl.len(), 4);
    assert!(!pl.contains(&LEAVER));
    let (silent, fallback) = (pl[2], pl[3]);

    // A primary goes silent (the exited node has not noticed yet), and a peer with a
    // stale ring forwards the exited node a put with W=3.
    c.crash(silent, false);
    c.inject(
        pl[0],
        LEAVER,
        Message::Forward {
            rid: 77_001,
            request: put_with(
                key,
                "v",
                None,
                RequestOptions {
                    w: Some(3),
                    ..opts()
                },
            ),
            timeout_ms: 2_000,
        },
    );
    c.run_for(retry * 4);

    let held = c.store(LEAVER).state();
    assert!(
        held.objects.is_empty() && held.hints.is_empty(),
        "the exited coordinator stored the write itself (objects {:?}, hints for {:?})",
        held.objects.keys().collect::<Vec<_>>(),
        held.hints.keys().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let stand_in = c
        .store(fallback)
        .state()
        .hints
        .contains_key(&(c.id(silent).clone(), Bytes::from(key)));
    assert!(
        stand_in,
        "the silent primary's slot went to the key's fallback {}",
        c.id(fallback)
    );
}
