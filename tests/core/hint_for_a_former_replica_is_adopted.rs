//! Hinted handoff across a ring change (simulator seed 20804): a fallback held hints for a
//! primary that was cut off; meanwhile a node joined and the ring gave the key to it, so the
//! hinted node was no replica of the key any more. The fallback still offered each hint to
//! that node once it answered again, which stored the copy and handed it on to the key's
//! primaries, two of which held the same hint for it and offered it back: with a slow disk
//! on the old node the round trips never ended, and hints were held to the end of the run.
//! Now a hint whose intended node the holder's ring no longer names a replica of the key is
//! adopted by its holder (the same batch stores the object and deletes the hint), and
//! ownership handoff passes it to the key's primaries: the old node never sees it.

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

/// Whether node `i`'s ring names node `j` a replica of `key`.
fn replicates(c: &Cluster, i: usize, j: usize, key: &str) -> bool {
    let id = c.id(j).clone();
    c.node(i).and_then(|n| n.ring()).is_some_and(|r| {
        r.preflist_for_key(key.as_bytes())
            .iter()
            .take(3)
            .any(|p| *p == id)
    })
}

fn holds(c: &Cluster, i: usize, key: &str) -> bool {
    c.node(i)
        .is_some_and(|n| n.objects().any(|(k, _)| k.as_ref() == key.as_bytes()))
}

/// The hints node `i` holds for `intended`, by key.
fn hints_for(c: &Cluster, i: usize, intended: &NodeId) -> Vec<Bytes> {
    c.node(i).map_or_else(Vec::new, |n| {
        n.hints()
            .filter(|((to, _), _)| to == intended)
            .map(|((_, k), _)| k.clone())
            .collect()
    })
}

#[test]
fn a_hint_for_a_node_that_no_longer_replicates_its_key_goes_to_the_keys_primaries() {
    let mut c = Cluster::with_nodes(20804, 4, config(), fixed_net(5, 2));
    settle(&mut c);
    // Node 3 is cut off (the claimant, node 0, stays with the others) until the others
    // see it down; then writes that it replicates leave hints for it on a fallback.
    let gone = 3;
    let gone_id = c.id(gone).clone();
    c.partition(&[gone]);
    let limit = c.now() + 30_000;
    while !(0..3).all(|i| c.node(i).unwrap().down_peers().contains(&gone_id)) {
        c.run_for(10);
        assert!(c.now() < limit, "node 3 was never seen down");
    }
    let keys: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
    for k in &keys {
        write(&mut c, 0, put(k, "v"));
    }
    c.run_for(200);
    let hinted = |c: &Cluster| -> Vec<(usize, String)> {
        (0..c.len())
            .filter(|&i| i != gone)
            .flat_map(|i| {
                hints_for(c, i, &gone_id)
                    .into_iter()
                    .map(move |k| (i, String::from_utf8_lossy(k.as_slice()).to_string()))
            })
            .collect()
    };
    let before = hinted(&c);
    assert!(!before.is_empty(), "writes left hints for the cut-off node");

    // A node joins (node 3 still cut off): the ring gives some hinted keys to it, so node 3
    // no longer replicates them.
    let x = c.join_node("x", 1, &[0, 1, 2]);
    let limit = c.now() + 120_000;
    let moved: Vec<(usize, String)> = loop {
        c.run_for(100);
        let moved: Vec<(usize, String)> = before
            .iter()
            .filter(|(holder, k)| !replicates(&c, *holder, gone, k))
            .cloned()
            .collect();
        if !moved.is_empty() && (0..3).all(|i| replicates_any(&c, i, x)) {
            break moved;
        }
        assert!(
            c.now() < limit,
            "the join never took a hinted key from node 3"
        );
    };

    // Healed: the moved keys' hints are adopted and handed to the primaries, and node 3
    // never stores them.
    c.heal();
    let limit = c.now() + 60_000;
    loop {
        for (_, k) in &moved {
            assert!(
                !holds(&c, gone, k),
                "{k:?} was offered to node 3, which no longer replicates it"
            );
        }
        let left: Vec<(usize, String)> = hinted(&c)
            .into_iter()
            .filter(|h| moved.contains(h))
            .collect();
        let placed = moved.iter().all(|(holder, k)| {
            let ring = c.node(*holder).unwrap().ring().unwrap().clone();
            ring.preflist_for_key(k.as_bytes())
                .iter()
                .take(3)
                .filter_map(|id| c.index_of(id))
                .all(|p| holds(&c, p, k))
        });
        if left.is_empty() && placed {
            break;
        }
        c.run_for(10);
        assert!(
            c.now() < limit,
            "hints still held for node 3: {left:?}, or a primary lacks a moved key"
        );
    }
}

/// Whether node `i`'s ring gives node `j` any partition.
fn replicates_any(c: &Cluster, i: usize, j: usize) -> bool {
    let id = c.id(j).clone();
    c.node(i)
        .and_then(|n| n.ring())
        .is_some_and(|r| r.owners().contains(&id))
}
