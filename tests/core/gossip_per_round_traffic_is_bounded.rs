//! Membership gossip at scale (§4.8, and the paper's first limit: full-view gossip strains at
//! a few hundred nodes). Exchanging digests first and only then the differing entries keeps
//! each node's gossip traffic per round flat as the cluster grows, and a join still reaches
//! every node in O(log N) rounds. A small in-test version of `benches/scale.rs`.

use ringlet::core::{Config, NodeId};
use ringlet::sim::{Cluster, NetConfig};

const ROUND_MS: u64 = 1_000;

fn config() -> Config {
    Config {
        q: 512,
        gossip_interval_ms: ROUND_MS,
        // Membership, gossip and failure detection only.
        anti_entropy_interval_ms: 0,
        ..Config::default()
    }
}

fn net() -> NetConfig {
    NetConfig {
        min_latency_ms: 1,
        max_latency_ms: 20,
        ..NetConfig::default()
    }
}

/// Bytes of membership gossip and failure-detector probes sent so far.
fn gossip_bytes(c: &Cluster) -> u64 {
    c.bytes_by_kind
        .iter()
        .filter(|(k, _)| k.starts_with("gossip") || k.starts_with("ping"))
        .map(|(_, (_, b))| *b)
        .sum()
}

struct Figures {
    steady_bytes_per_node_round: f64,
    join_rounds: u64,
    ring_rounds: u64,
}

fn measure(n: usize) -> Figures {
    let mut c = Cluster::with_view(3, n, config(), net());
    c.count_bytes = true;
    c.run_for(3 * ROUND_MS);
    let b0 = gossip_bytes(&c);
    c.run_for(10 * ROUND_MS);
    let steady_bytes_per_node_round = (gossip_bytes(&c) - b0) as f64 / n as f64 / 10.0;

    let start = c.now();
    let j = c.join_node("joiner", 1, &[n / 2]);
    let joiner = c.id(j).clone();
    let knows = |c: &Cluster, i: usize| {
        c.node(i)
            .is_some_and(|x| x.membership().get(&joiner).is_some())
    };
    let owns = |c: &Cluster, i: usize, joiner: &NodeId| {
        c.node(i)
            .and_then(|x| x.ring())
            .is_some_and(|r| !r.partitions_of(joiner).is_empty())
    };
    let mut join_rounds = 0;
    let mut ring_rounds = 0;
    while c.now() - start < 100 * ROUND_MS && ring_rounds == 0 {
        c.run_for(ROUND_MS / 10);
        let rounds = (c.now() - start).div_ceil(ROUND_MS);
        if join_rounds == 0 && (0..c.len()).all(|i| knows(&c, i)) {
            join_rounds = rounds;
        }
        if (0..c.len()).all(|i| owns(&c, i, &joiner)) {
            ring_rounds = rounds;
        }
    }
    Figures {
        steady_bytes_per_node_round,
        join_rounds,
        ring_rounds,
    }
}

#[test]
fn per_node_traffic_stays_flat_and_a_join_spreads_in_log_rounds() {
    let sizes = [50usize, 400];
    let figures: Vec<Figures> = sizes.iter().map(|&n| measure(n)).collect();
    let (small, large) = (&figures[0], &figures[1]);
    // Eight times the nodes: about the same bytes per node per round (a full view of 400
    // members would be several KB per exchange).
    assert!(
        large.steady_bytes_per_node_round < 2.0 * small.steady_bytes_per_node_round,
        "steady gossip per node per round: {:.0} B at 50 nodes, {:.0} B at 400",
        small.steady_bytes_per_node_round,
        large.steady_bytes_per_node_round
    );
    assert!(
        large.steady_bytes_per_node_round < 200.0,
        "{:.0} B per node per round at 400 nodes",
        large.steady_bytes_per_node_round
    );
    for (n, f) in sizes.iter().zip(&figures) {
        let log2 = (*n as f64).log2();
        // Every node knows the joiner within 3 × log2 N rounds; the ring that includes it
        // (claimed once the claimant heard of it, then spread) within twice that.
        assert!(
            f.join_rounds > 0 && f.join_rounds as f64 <= 3.0 * log2,
            "{n} nodes: the join took {} rounds to reach everyone (log2 N = {log2:.1})",
            f.join_rounds
        );
        assert!(
            f.ring_rounds > 0 && f.ring_rounds as f64 <= 6.0 * log2,
            "{n} nodes: the new ring took {} rounds to reach everyone",
            f.ring_rounds
        );
    }
}
