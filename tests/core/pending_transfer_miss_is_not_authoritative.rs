//! §4.8/§4.9 join: a node that has just become a primary of a key whose transfer from the
//! old owner is still pending does not hold the key yet. Its miss is not authoritative: a
//! get with R = 1 through it must not answer not-found for a key acknowledged on W = N
//! replicas (old owners stay in the preference list until the transfer is acknowledged, or
//! the miss is forwarded).
//!
//! Issue 15 defect 8 (second half): `start_get` counts the coordinator's own empty
//! `read_local` as one of the R answers as soon as the new ring names it a primary.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{ClientReply, Config, RequestOptions};
use ringlet::sim::Cluster;

#[test]
fn a_new_primary_does_not_answer_not_found_for_keys_still_in_transfer() {
    let cfg = Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        transfer_batch: 1,
        ..config(3, 2, 3)
    };
    // Slow disks: each transfer takes ~60 ms to be acknowledged.
    let mut c = Cluster::with_nodes(1581, 4, cfg, fixed_net(5, 50));
    c.run_for(500);
    let keys: Vec<String> = (0..50).map(|i| format!("pt/{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        write(&mut c, i % 4, put(k, "held"));
    }
    c.run_for(500);

    let new = c.join_node("n4", 1, &[0]);
    let new_id = c.id(new).clone();
    let limit = c.now() + 30_000;
    while c.now() < limit {
        c.run_for(5);
        let owns = c
            .node(new)
            .and_then(|n| n.ring())
            .is_some_and(|r| r.owners().contains(&new_id));
        if owns {
            break;
        }
    }
    let ring = c.node(new).and_then(|n| n.ring()).cloned().expect("joined");
    assert!(
        ring.owners().contains(&new_id),
        "n4 never owned a partition"
    );

    // Every key n4 is now a primary of, read through n4 with R = 1, all in one instant.
    let mine: Vec<&String> = keys
        .iter()
        .filter(|k| ring.preflist_for_key(k.as_bytes())[..3].contains(&new_id))
        .collect();
    assert!(!mine.is_empty());
    let one = RequestOptions {
        r: Some(1),
        ..opts()
    };
    let ids: Vec<_> = mine
        .iter()
        .map(|k| c.submit(new, get_with(k, one.clone())))
        .collect();
    c.run_for(3_000);
    let done = c.take_completed();
    let mut missed = Vec::new();
    for (k, id) in mine.iter().zip(&ids) {
        match done.iter().find(|d| d.id == *id).map(|d| &d.result) {
            Some(Ok(ClientReply::Get { versions, .. })) if !versions.is_empty() => {}
            other => missed.push((k.to_string(), format!("{other:?}"))),
        }
    }
    // The misses are no lost data: once the transfers are done, every key reads back.
    c.run_for(30_000);
    let later_found = missed
        .iter()
        .filter(|(k, _)| {
            !read_with(&mut c, new, get_with(k, one.clone()))
                .versions
                .is_empty()
        })
        .count();
    assert!(
        missed.is_empty(),
        "new primary n4 answered not-found with R=1 for {} of {} keys acknowledged on all \
         3 replicas while their transfers were pending ({later_found} of them read back \
         once the transfers were done): {:?}",
        missed.len(),
        mine.len(),
        missed.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
}
