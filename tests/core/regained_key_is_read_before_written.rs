//! Issue 15 defect 4: a primary writes as its plain id in every ring, so a node that hands a
//! key off (a join moved it away) and gets it back (the joiner leaves) must not write the
//! key before it knows its own earlier dots of it: its new version would claim them. It
//! reads the key first (the request's R) and keeps what the replicas hold, so its blind
//! write stands beside its earlier one, and its next dot counts on above it.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, Config, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

fn config() -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        // Slow ownership transfers: the regained key comes back seconds after the ring.
        hint_interval_ms: 3_000,
        transfer_batch: 1,
        ..cluster_support::config(3, 2, 2)
    }
}

#[test]
fn a_primary_that_regains_a_key_reads_it_before_writing() {
    let mut c = Cluster::with_nodes(1551, 3, config(), NetConfig::default());
    settle(&mut c);
    let a = 0;
    let keys: Vec<String> = (0..40).map(|i| format!("rg/{i}")).collect();
    let mut before = Vec::new();
    for k in &keys {
        before.push(write(&mut c, a, put(k, "before")).0);
    }
    c.run_for(200);

    // A joiner takes some keys away from `a`, which hands them off and drops them.
    let x = c.join_node("x", 1, &[0, 1, 2]);
    let limit = c.now() + 120_000;
    let moved = loop {
        c.run_for(500);
        let moved: Vec<usize> = (0..keys.len())
            .filter(|&i| !replicates(&c, a, &keys[i]))
            .filter(|&i| {
                c.node(a)
                    .unwrap()
                    .objects()
                    .all(|(k, _)| k.as_ref() != keys[i].as_bytes())
            })
            .collect();
        if !moved.is_empty() && c.node(a).unwrap().objects().count() + moved.len() == keys.len() {
            break moved;
        }
        assert!(c.now() < limit, "the join never moved keys away from a");
    };
    let i = moved[0];
    let key = keys[i].as_str();

    // The joiner leaves: `a` replicates the key again before the transfer brings it back
    // (the link from the joiner to `a` is cut, so its transfer waits).
    c.cut_link(x, a);
    c.submit_admin(x, AdminRequest::Leave);
    let holds = |c: &Cluster| {
        c.node(a)
            .unwrap()
            .objects()
            .any(|(k, _)| k.as_ref() == key.as_bytes())
    };
    let limit = c.now() + 60_000;
    while !replicates(&c, a, key) {
        assert!(!holds(&c), "the key came back before the ring gave it back");
        c.run_for(1);
        assert!(c.now() < limit, "a never got the key back");
    }
    assert!(!holds(&c), "the transfer has not brought the key back yet");

    // A blind write through `a` now: it reads the key first, so its new version holds the
    // one from before (a sibling), and its dot counts on above it.
    let (after, _) = write(&mut c, a, put(key, "after"));
    assert_eq!(after.node, before[i].node, "the same actor");
    assert!(after.counter > before[i].counter);
    let r1 = RequestOptions {
        r: Some(1),
        ..RequestOptions::default()
    };
    let r = read_with(&mut c, a, get_with(key, r1));
    let mut values = r.values();
    values.sort();
    assert_eq!(
        values,
        vec!["after".to_string(), "before".to_string()],
        "a alone shows both: a context from it covers only what it shows ({:?})",
        dots(&r.versions)
    );
}
