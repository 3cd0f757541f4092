//! §4.7 Merkle anti-entropy on its own: a replica cut off by a partition misses writes
//! (values, siblings and tombstones) while the two others miss the writes it took alone;
//! after the partition heals, tree exchanges bring all three to identical sibling sets.
//!
//! The cluster has exactly N = 3 nodes, so no fallback exists; coordinators keep hints for
//! the primaries their puts missed (issue 14), but hint delivery is off here
//! (`hint_batch: 0`). Read repair is off and nothing is read, and the ring never changes
//! (no ownership transfer). Anti-entropy is the only mechanism left, which the second test
//! shows by turning it off: then nothing converges.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, RequestOptions, Siblings};
use ringlet::sim::{Cluster, NetConfig};

const ISOLATED: usize = 2;

/// What the scenario wrote, by key.
struct Written {
    /// One value through the majority side.
    single: Vec<String>,
    /// Two concurrent blind writes through the two majority nodes: two siblings.
    siblings: Vec<String>,
    /// Written then deleted with its context: one tombstone.
    deleted: Vec<String>,
    /// Written with W = 1 through the isolated node alone.
    island: Vec<String>,
}

impl Written {
    fn majority_keys(&self) -> impl Iterator<Item = &String> {
        self.single
            .iter()
            .chain(&self.siblings)
            .chain(&self.deleted)
    }

    fn all_keys(&self) -> impl Iterator<Item = &String> {
        self.majority_keys().chain(&self.island)
    }
}

fn config(anti_entropy_interval_ms: u64) -> Config {
    Config {
        q: 16,
        read_repair: false,
        anti_entropy_interval_ms,
        // Hints are kept but never offered.
        hint_batch: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

/// Partition node 2 away, write on both sides, heal.
fn partitioned_writes(anti_entropy_interval_ms: u64) -> (Cluster, Written) {
    let mut c = Cluster::with_nodes(
        31,
        3,
        config(anti_entropy_interval_ms),
        NetConfig::default(),
    );
    // Anti-entropy alone: no node hears that a peer is back (which sends it what it missed).
    c.without_reconnect_notices();
    settle(&mut c);
    c.partition(&[ISOLATED]);
    let mut w = Written {
        single: Vec::new(),
        siblings: Vec::new(),
        deleted: Vec::new(),
        island: Vec::new(),
    };
    for i in 0..40 {
        let key = format!("single/{i}");
        write(&mut c, i % 2, put(&key, &format!("v{i}")));
        w.single.push(key);
    }
    for i in 0..10 {
        let key = format!("siblings/{i}");
        write(&mut c, 0, put(&key, "from n0"));
        write(&mut c, 1, put(&key, "from n1"));
        w.siblings.push(key);
    }
    for i in 0..10 {
        let key = format!("deleted/{i}");
        let (_, ctx) = write(&mut c, 0, put(&key, "doomed"));
        write(&mut c, 1, delete(&key, Some(ctx)));
        w.deleted.push(key);
    }
    let alone = RequestOptions {
        w: Some(1),
        ..opts()
    };
    for i in 0..10 {
        let key = format!("island/{i}");
        write(
            &mut c,
            ISOLATED,
            put_with(&key, "alone", None, alone.clone()),
        );
        w.island.push(key);
    }
    // Before the heal each side lacks the other side's writes.
    for key in w.majority_keys() {
        assert!(local_dots(&c, ISOLATED, key).is_empty(), "{key}");
    }
    for key in &w.island {
        assert!(local_dots(&c, 0, key).is_empty(), "{key}");
        assert!(local_dots(&c, 1, key).is_empty(), "{key}");
    }
    c.heal();
    (c, w)
}

fn versions(c: &Cluster, i: usize, key: &str) -> Option<Siblings> {
    c.node(i).unwrap().local_versions(key.as_bytes()).cloned()
}

#[test]
fn tree_exchanges_alone_bring_every_replica_to_the_same_siblings() {
    let (mut c, w) = partitioned_writes(20);
    c.run_for(5_000);

    for key in w.all_keys() {
        let first = versions(&c, 0, key).unwrap_or_else(|| panic!("n0 lacks {key}"));
        for i in 1..3 {
            assert_eq!(
                versions(&c, i, key).as_ref(),
                Some(&first),
                "{key}: {} differs from n0",
                c.id(i)
            );
        }
    }
    for key in &w.single {
        assert_eq!(versions(&c, ISOLATED, key).unwrap().len(), 1, "{key}");
    }
    for key in &w.siblings {
        let mut got = contents(&versions(&c, ISOLATED, key).unwrap());
        got.sort();
        assert_eq!(
            got,
            vec![Some("from n0".to_string()), Some("from n1".to_string())],
            "{key}: siblings repair like values"
        );
    }
    for key in &w.deleted {
        assert_eq!(
            contents(&versions(&c, ISOLATED, key).unwrap()),
            vec![None],
            "{key}: the tombstone repairs like a value"
        );
    }
    for key in &w.island {
        assert_eq!(
            contents(&versions(&c, 0, key).unwrap()),
            vec![Some("alone".to_string())],
            "{key}: repair runs both ways"
        );
    }

    let repaired: u64 = (0..3)
        .map(|i| c.node(i).unwrap().stats().ae_keys_repaired)
        .sum();
    let missing = w.all_keys().count() as u64;
    assert!(
        repaired >= missing,
        "{repaired} keys repaired for {missing} missing"
    );
    for i in 0..3 {
        let s = c.node(i).unwrap().stats();
        assert_eq!(s.read_repairs, 0);
        assert_eq!(s.hints_delivered, 0);
        assert_eq!(s.keys_transferred, 0);
    }
}

#[test]
fn without_anti_entropy_the_replicas_stay_apart() {
    let (mut c, w) = partitioned_writes(0);
    c.run_for(5_000);

    for key in w.majority_keys() {
        assert!(local_dots(&c, ISOLATED, key).is_empty(), "{key} reached n2");
        assert!(!local_dots(&c, 0, key).is_empty(), "{key}");
    }
    for key in &w.island {
        assert!(local_dots(&c, 0, key).is_empty(), "{key} reached n0");
        assert!(local_dots(&c, 1, key).is_empty(), "{key} reached n1");
    }
    for i in 0..3 {
        let s = c.node(i).unwrap().stats();
        assert_eq!(s.ae_exchanges, 0);
        assert_eq!(s.ae_keys_repaired, 0);
    }
}
