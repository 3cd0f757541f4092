//! §4.7 permanent failures: a node that loses its whole disk comes back empty and Merkle
//! anti-entropy alone (read repair is off, nothing is read) brings back every key it
//! replicates, durably. Its new writes use a fresh actor, so no dot it issued before the
//! loss is ever issued again: a blind write after the loss stands beside the one before.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, Dot, Siblings};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeMap;

const NODES: usize = 5;
const WIPED: usize = 1;

fn config(anti_entropy_interval_ms: u64) -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms,
        ..cluster_support::config(3, 2, 2)
    }
}

/// Write 300 keys (and `twice`, coordinated by the node to be wiped), wipe its disk,
/// restart it. Returns the cluster, the key `twice` and its dot before the loss.
fn wiped(anti_entropy_interval_ms: u64) -> (Cluster, String, Dot) {
    let mut c = Cluster::with_nodes(
        85,
        NODES,
        config(anti_entropy_interval_ms),
        NetConfig::default(),
    );
    settle(&mut c);
    for i in 0..300 {
        write(&mut c, i % NODES, put(&format!("k/{i}"), &format!("v{i}")));
    }
    let twice = key_where(&c, "twice/", |pl| pl[0] == WIPED);
    let (before, _) = write(&mut c, WIPED, put(&twice, "before the loss"));
    c.run_for(100);
    assert!(c.node(WIPED).unwrap().objects().count() > 100);

    c.wipe_disk(WIPED);
    c.restart(WIPED);
    let n = c.node(WIPED).unwrap();
    assert_eq!(n.objects().count(), 0, "it comes back empty");
    assert_eq!(n.hints().count(), 0);
    (c, twice, before)
}

/// The keys (and versions) node `i` should hold: those whose primaries include it, as the
/// other primaries hold them.
fn expected(c: &Cluster, i: usize) -> BTreeMap<Vec<u8>, Siblings> {
    let ring = c.node(i).unwrap().ring().unwrap().clone();
    let mut want = BTreeMap::new();
    for other in (0..NODES).filter(|&o| o != i) {
        for (key, versions) in c.node(other).unwrap().objects() {
            let primaries = ring.preflist_for_key(key);
            if primaries[..3].contains(c.id(i)) {
                let prev = want.insert(key.to_vec(), versions.clone());
                if let Some(prev) = prev {
                    assert_eq!(&prev, versions, "the other replicas of {key:?} agree");
                }
            }
        }
    }
    want
}

fn held(c: &Cluster, i: usize) -> BTreeMap<Vec<u8>, Siblings> {
    c.node(i)
        .unwrap()
        .objects()
        .map(|(k, v)| (k.to_vec(), v.clone()))
        .collect()
}

#[test]
fn anti_entropy_brings_back_every_key_and_new_writes_use_a_fresh_actor() {
    let (mut c, twice, before) = wiped(50);

    // A blind write through the wiped node, as soon as it is back.
    let (after, _) = write(&mut c, WIPED, put(&twice, "after the loss"));
    assert_ne!(
        after.node, before.node,
        "the wiped node writes as a new actor ({} before, {} after)",
        before.node, after.node
    );
    c.run_for(15_000);

    let want = expected(&c, WIPED);
    assert!(want.len() > 150, "it replicates about 3/5 of 301 keys");
    assert_eq!(held(&c, WIPED), want, "every key it replicates is back");
    let durable: BTreeMap<Vec<u8>, Siblings> = c
        .store(WIPED)
        .state()
        .objects
        .iter()
        .map(|(k, v)| (k.to_vec(), v.clone()))
        .collect();
    assert_eq!(durable, want, "and on its disk");
    let repaired: u64 = (0..NODES)
        .map(|i| c.node(i).unwrap().stats().ae_keys_repaired)
        .sum();
    // Every key came back by anti-entropy but `twice`, which the write after the loss read
    // from the other replicas before coordinating it (`coordinate_write_as`).
    assert!(
        repaired as usize >= want.len() - 1,
        "{repaired} keys repaired of {}",
        want.len()
    );
    for i in 0..NODES {
        assert_eq!(c.node(i).unwrap().stats().read_repairs, 0);
        assert_eq!(c.node(i).unwrap().hints().count(), 0);
    }

    // Both blind writes survive as siblings on every replica of the key.
    for &p in &preflist(&c, &twice)[..3] {
        let mut got = local_dots(&c, p, &twice);
        got.sort();
        let mut both = vec![before.clone(), after.clone()];
        both.sort();
        assert_eq!(got, both, "{} holds both writes", c.id(p));
    }
}

#[test]
fn without_anti_entropy_the_wiped_node_stays_empty() {
    let (mut c, _, _) = wiped(0);
    c.run_for(15_000);
    assert_eq!(c.node(WIPED).unwrap().objects().count(), 0);
    assert!(!expected(&c, WIPED).is_empty());
}
