//! The scenario of issue 14's catch-up tests: three nodes, N = 3, one of them offline while
//! 100 keys change at another; then the network heals and the test measures how long the
//! returning node takes to hold every key's newest version.

use crate::cluster_support::*;
use ringlet::core::{Config, Dot};
use ringlet::sim::{Cluster, NetConfig};

pub const KEYS: usize = 100;

/// Node 2 offline while node 0 writes `KEYS` keys (W = 2, node 1 and node 0 store them);
/// returns the virtual ms from the heal until node 2 holds every one of them (or panics
/// after `limit_ms`). With `notices`, the nodes hear when the others reconnect
/// (`Input::PeerReachable`, as the relay tells them); without, they find out by themselves.
pub fn offline_then_back(seed: u64, config: Config, limit_ms: u64, notices: bool) -> u64 {
    let mut c = Cluster::with_nodes(seed, 3, config, NetConfig::default());
    if !notices {
        c.without_reconnect_notices();
    }
    settle(&mut c);
    c.partition(&[2]);
    let limit = c.now() + 30_000;
    while c.node(0).unwrap().down_peers().is_empty() {
        c.run_for(10);
        assert!(c.now() < limit, "node 0 never saw node 2 go down");
    }
    let mut written: Vec<(String, Dot)> = Vec::new();
    for i in 0..KEYS {
        let key = format!("cart/{i}");
        let (dot, _) = write(&mut c, 0, put(&key, &format!("item {i}")));
        written.push((key, dot));
    }
    // Whatever the coordinator still does for the missed replica happens before the heal.
    c.run_for(1_000);
    assert!(
        written
            .iter()
            .all(|(k, d)| !local_dots(&c, 2, k).contains(d)),
        "node 2 was offline"
    );
    c.heal();
    let healed = c.now();
    loop {
        let behind = written
            .iter()
            .filter(|(k, d)| !local_dots(&c, 2, k).contains(d))
            .count();
        if behind == 0 {
            return c.now() - healed;
        }
        assert!(
            c.now() - healed < limit_ms,
            "{behind} of {KEYS} keys still missing at node 2 {limit_ms} ms after the heal"
        );
        c.run_for(5);
    }
}
