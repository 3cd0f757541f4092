//! Failure detection (§4.8.3, the SWIM way, `core/swim.rs`): a node that answers slowly is
//! not a dead node. With every link slower than `probe_timeout_ms` (so every probe goes on
//! to indirect probes) but answering within the gossip round, nobody suspects anybody over
//! many rounds; a crashed node is believed down by every other node within a few rounds.
//!
//! No client request is made: the local request-timeout detector would suspect a slow
//! replica on its own (that is its job, for routing); here only SWIM is at work.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, NodeId};
use ringlet::sim::Cluster;

const NODES: usize = 6;
/// One way; a round trip (900 ms) is above `probe_timeout_ms` and below the round.
const LATENCY_MS: u64 = 450;

fn config() -> Config {
    Config {
        anti_entropy_interval_ms: 0,
        ..Config::default()
    }
}

fn slow_cluster(seed: u64) -> Cluster {
    let cfg = config();
    assert!(2 * LATENCY_MS > cfg.probe_timeout_ms);
    assert!(2 * LATENCY_MS < cfg.gossip_interval_ms);
    Cluster::with_nodes(seed, NODES, cfg, fixed_net(LATENCY_MS, 1))
}

#[test]
fn slow_answers_are_never_taken_for_death() {
    let mut c = slow_cluster(91);
    c.count_bytes = true;
    for round in 0..90 {
        c.run_for(config().gossip_interval_ms);
        for i in 0..NODES {
            assert_eq!(
                c.node(i).unwrap().down_peers(),
                Vec::<NodeId>::new(),
                "round {round}: {} suspects a slow node",
                c.id(i)
            );
        }
    }
    let (ping_reqs, _) = c.bytes_by_kind.get("ping-req").copied().unwrap_or_default();
    assert!(
        ping_reqs >= 60,
        "direct probes timed out and went indirect ({ping_reqs} ping-req)"
    );
}

/// ⌈log2(members + 1)⌉, the factor of every SWIM period.
fn log2_members(n: usize) -> u64 {
    u64::from(usize::BITS - (n + 1).leading_zeros())
}

#[test]
fn a_crashed_node_is_believed_down_everywhere_within_a_few_rounds() {
    let cfg = config();
    // A probe of the crashed node goes unanswered for a round, then the `Suspect` rumor
    // rides on gossip, passed on `rumor_rounds × ⌈log2(N + 1)⌉` times: every node hears it
    // well within that many rounds (9 s here, on 450 ms links).
    let bound_ms = u64::from(cfg.rumor_rounds) * log2_members(NODES) * cfg.gossip_interval_ms;
    assert_eq!(bound_ms, 9_000);
    for seed in 1..=20 {
        let mut c = slow_cluster(seed);
        c.run_for(10 * cfg.gossip_interval_ms);
        let victim = (seed as usize) % NODES;
        let victim_id = c.id(victim).clone();
        c.crash(victim, false);
        let start = c.now();
        let everyone = |c: &Cluster| {
            (0..NODES)
                .filter(|&i| i != victim)
                .all(|i| c.node(i).unwrap().down_peers() == vec![victim_id.clone()])
        };
        while !everyone(&c) && c.now() - start <= bound_ms {
            c.run_for(100);
        }
        assert!(
            everyone(&c),
            "seed {seed}: {victim_id} not believed down everywhere after {} ms",
            c.now() - start
        );
    }
}
