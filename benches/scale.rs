//! Membership at scale (issue: "membership that scales to thousands"), in the simulator with
//! membership, gossip and failure detection only (no client traffic):
//!
//! - rounds until a join is known to every node (target: a small constant × log2 N);
//! - gossip bytes per node per round, in steady state and while a join spreads (target:
//!   bounded, not growing with N);
//! - time until every node believes a crashed node down.
//!
//! `cargo bench --bench scale` (N = 10, 100, 1000, 5000; `RINGLET_SCALE=10,100` to choose).

use ringlet::core::Config;
use ringlet::sim::{Cluster, NetConfig};
use std::time::Instant;

const ROUND_MS: u64 = 1_000;

fn gossip_bytes(c: &Cluster) -> u64 {
    c.bytes_by_kind
        .iter()
        .filter(|(k, _)| k.starts_with("gossip") || k.starts_with("ping"))
        .map(|(_, (_, b))| *b)
        .sum()
}

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("RINGLET_SCALE")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 5_000]);
    println!(
        "{:>6} | {:>12} | {:>8} | {:>14} | {:>14} | {:>16} | {:>8}",
        "nodes",
        "join rounds",
        "log2 N",
        "B/node/round",
        "B/node/round",
        "crash known by",
        "wall s"
    );
    println!(
        "{:>6} | {:>12} | {:>8} | {:>14} | {:>14} | {:>16} | {:>8}",
        "", "(all nodes)", "", "steady", "during join", "all nodes (s)", ""
    );
    for n in sizes {
        let t0 = Instant::now();
        let config = Config {
            q: 1024,
            ..Config::default()
        };
        let net = NetConfig {
            min_latency_ms: 1,
            max_latency_ms: 20,
            ..NetConfig::default()
        };
        let mut c = Cluster::with_view(7, n, config, net);
        c.count_bytes = true;
        // Warm up, then measure steady-state gossip.
        c.run_for(3 * ROUND_MS);
        let b0 = gossip_bytes(&c);
        c.run_for(5 * ROUND_MS);
        let steady = (gossip_bytes(&c) - b0) as f64 / n as f64 / 5.0;

        // A join: rounds until every node's view has it.
        let seed = n / 2;
        let b0 = gossip_bytes(&c);
        let joined_at = c.now();
        let j = c.join_node("joiner", 1, &[seed]);
        let joiner = c.id(j).clone();
        let mut rounds = 0u64;
        loop {
            c.run_for(ROUND_MS / 10);
            let all = (0..c.len()).all(|i| {
                c.node(i)
                    .is_some_and(|x| x.membership().get(&joiner).is_some())
            });
            if all {
                rounds = (c.now() - joined_at).div_ceil(ROUND_MS);
                break;
            }
            if c.now() - joined_at > 200 * ROUND_MS {
                break;
            }
        }
        let join_rounds = (c.now() - joined_at) as f64 / ROUND_MS as f64;
        let during = (gossip_bytes(&c) - b0) as f64 / c.len() as f64 / join_rounds.max(1.0);
        c.run_for(5 * ROUND_MS);

        // A crash: time until every live node believes it down.
        let victim = 1;
        let victim_id = c.id(victim).clone();
        c.crash(victim, false);
        let crashed_at = c.now();
        let mut detect_s = f64::NAN;
        while c.now() - crashed_at < 300 * ROUND_MS {
            c.run_for(ROUND_MS / 10);
            let all = (0..c.len()).filter(|&i| i != victim).all(|i| {
                c.node(i)
                    .is_some_and(|x| x.down_peers().contains(&victim_id))
            });
            if all {
                detect_s = (c.now() - crashed_at) as f64 / 1000.0;
                break;
            }
        }
        let log2 = (n as f64).log2();
        println!(
            "{:>6} | {:>12} | {:>8.1} | {:>14.0} | {:>14.0} | {:>16.1} | {:>8.1}",
            n,
            rounds,
            log2,
            steady,
            during,
            detect_s,
            t0.elapsed().as_secs_f64()
        );
    }
}
