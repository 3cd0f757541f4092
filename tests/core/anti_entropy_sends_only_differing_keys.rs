//! §4.7: two replicas that disagree on d keys out of n find them by comparing hash trees,
//! descending only into differing branches, and send each other only those d keys: the
//! repair traffic follows d, not n.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, ClientRequest, Config};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

const STALE: usize = 2;
const WINDOW_MS: u64 = 3_000;

/// What crossed the network while anti-entropy repaired the stale replica.
#[derive(Debug)]
struct Repair {
    /// Keys every replica holds.
    n: usize,
    /// Keys of the `Repair` messages sent, with how many times each was sent.
    repaired: BTreeMap<Bytes, u32>,
    /// The differing keys.
    differing: BTreeSet<Bytes>,
    merkle_bytes: u64,
    repair_bytes: u64,
}

fn submit_all(c: &mut Cluster, requests: Vec<(usize, ClientRequest)>) {
    let n = requests.len();
    for (i, r) in requests {
        c.submit(i, r);
    }
    c.run_for(2_000);
    let done = c.take_completed();
    assert_eq!(done.len(), n);
    assert!(
        done.iter().all(|d| d.result.is_ok()),
        "every write succeeds"
    );
}

/// Three replicas of every key share `n` keys; then node 2 misses `d` writes behind a
/// partition. Returns what anti-entropy sent in the first `WINDOW_MS` after the heal.
fn repair(n: usize, d: usize) -> Repair {
    let config = Config {
        q: 16,
        read_repair: false,
        anti_entropy_interval_ms: 20,
        // Only anti-entropy repairs (the hints kept for the stale replica stay put).
        hint_batch: 0,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(5, 3, config, NetConfig::default());
    settle(&mut c);
    let shared = (0..n)
        .map(|i| (i % 3, put(&format!("shared/{i}"), "v")))
        .collect();
    submit_all(&mut c, shared);
    c.partition(&[STALE]);
    let fresh = (0..d)
        .map(|i| (i % 2, put(&format!("fresh/{i}"), "v")))
        .collect();
    submit_all(&mut c, fresh);
    let differing: BTreeSet<Bytes> = (0..d)
        .map(|i| Bytes::from(format!("fresh/{i}").as_str()))
        .collect();
    for k in &differing {
        let k = String::from_utf8_lossy(k).into_owned();
        assert!(local_dots(&c, STALE, &k).is_empty());
    }
    c.heal();
    c.record_trace();
    c.count_bytes = true;
    c.run_for(WINDOW_MS);

    // Converged: all three replicas agree on every key.
    for i in 0..n {
        let k = format!("shared/{i}");
        assert_eq!(local_dots(&c, 0, &k).len(), 1, "{k}");
        assert_eq!(local_dots(&c, 1, &k), local_dots(&c, 0, &k), "{k}");
        assert_eq!(local_dots(&c, STALE, &k), local_dots(&c, 0, &k), "{k}");
    }
    for i in 0..d {
        let k = format!("fresh/{i}");
        assert_eq!(local_dots(&c, STALE, &k).len(), 1, "{k} was repaired");
        assert_eq!(local_dots(&c, STALE, &k), local_dots(&c, 0, &k), "{k}");
    }

    // Anti-entropy ships the versions of differing keys in `Repair` messages (kind
    // "read-repair"); read repair itself is off and nothing is read.
    let mut repaired = BTreeMap::new();
    for e in c.take_trace() {
        if let TraceEvent::Send {
            kind: "read-repair",
            key: Some(key),
            ..
        } = e
        {
            *repaired.entry(key).or_insert(0) += 1;
        }
    }
    let bytes = |kind: &str| c.bytes_by_kind.get(kind).map_or(0, |(_, b)| *b);
    Repair {
        n,
        repaired,
        differing,
        merkle_bytes: bytes("merkle"),
        repair_bytes: bytes("read-repair"),
    }
}

/// The three runs both tests look at: (n, d) = (500, 10), (4,000, 10), (4,000, 200).
static RUNS: LazyLock<[Repair; 3]> =
    LazyLock::new(|| [repair(500, 10), repair(4_000, 10), repair(4_000, 200)]);

#[test]
fn exactly_the_differing_keys_are_sent() {
    for r in RUNS.iter() {
        let (n, d) = (r.n, r.differing.len());
        let sent: BTreeSet<Bytes> = r.repaired.keys().cloned().collect();
        assert_eq!(
            sent, r.differing,
            "n = {n}, d = {d}: every differing key is sent, and no other"
        );
        // Exchanges of the same partition opened from different replicas may overlap and
        // send a key more than once, but the repair messages stay within 2 × d.
        let total: u32 = r.repaired.values().sum();
        assert!(
            total as usize <= 2 * d,
            "n = {n}, d = {d}: {total} repair messages"
        );
    }
}

#[test]
fn tree_traffic_follows_the_differences_not_the_key_count() {
    let [small, large, many] = &*RUNS;
    // Eight times the keys, the same differences: the tree exchanges cost about the same
    // (an exchange that listed whole partitions would cost about eight times as much).
    assert!(
        large.merkle_bytes < 2 * small.merkle_bytes,
        "tree bytes: {} for n = 500, {} for n = 4,000 (d = 10)",
        small.merkle_bytes,
        large.merkle_bytes
    );
    // Listing every key with its digest once would cost at least n × 16 bytes; the whole
    // window of exchanges (about 450 of them) costs less.
    assert!(
        large.merkle_bytes < 4_000 * 16,
        "tree bytes: {} for n = 4,000",
        large.merkle_bytes
    );
    // Twenty times the differences: the tree and the repair traffic grow with them.
    assert!(
        many.merkle_bytes > large.merkle_bytes,
        "tree bytes: {} for d = 10, {} for d = 200",
        large.merkle_bytes,
        many.merkle_bytes
    );
    assert!(
        many.repair_bytes >= 15 * large.repair_bytes,
        "repair bytes: {} for d = 10, {} for d = 200",
        large.repair_bytes,
        many.repair_bytes
    );
}
