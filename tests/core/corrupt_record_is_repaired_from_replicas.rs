//! A stored object record damaged on disk (one flipped byte, inside the value, where the
//! damaged record would still decode to a plausible value without a checksum) is caught at
//! load: the node reports it (`Event::CorruptRecord`, `Stats::corrupt_records`), never serves
//! it, does not claim the key (its Merkle tree leaves it out), and gets it back from the other
//! replicas: by anti-entropy alone, or by read repair after a get. Every acknowledged write
//! stays readable throughout.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Config, RecordId, Value};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

const NODES: usize = 5;
const KEYS: usize = 40;

fn config(anti_entropy_interval_ms: u64, read_repair: bool) -> Config {
    Config {
        read_repair,
        anti_entropy_interval_ms,
        ..cluster_support::config(3, 2, 2)
    }
}

/// Write KEYS keys, crash a primary of `victim` cleanly, flip one byte of the value inside
/// its stored record, restart it. Returns the cluster, the node and the victim key.
fn damaged(seed: u64, cfg: Config) -> (Cluster, usize, String) {
    let mut c = Cluster::with_nodes(seed, NODES, cfg, NetConfig::default());
    c.record_trace();
    settle(&mut c);
    for i in 0..KEYS {
        write(
            &mut c,
            i % NODES,
            put(&format!("k/{i}"), &format!("value {i}")),
        );
    }
    let victim = "k/7".to_string();
    let node = preflist(&c, &victim)[0];
    c.run_for(200);
    c.crash(node, false);
    let id = RecordId::Object(Bytes::from(victim.as_str()));
    let record = c
        .store(node)
        .record(&id)
        .expect("the record is stored")
        .to_vec();
    // Flip a bit of the value's text: "value 7" would become "walue 7".
    let at = record
        .windows(7)
        .position(|w| w == b"value 7")
        .expect("the value is in the record");
    assert!(c.corrupt_record(node, &id, at, 0x01));
    let loaded = c.store(node).snapshot();
    assert_eq!(loaded.corrupt.len(), 1, "the load finds the damage");
    assert!(!loaded.objects.contains_key(victim.as_bytes()));
    assert_eq!(
        loaded.objects.len() + 1,
        c.store(node).state().objects.len()
    );
    c.restart(node);
    (c, node, victim)
}

fn never_served(c: &Cluster) {
    for i in 0..NODES {
        if let Some(n) = c.node(i) {
            for (_, versions) in n.objects() {
                for v in versions.versions() {
                    if let Value::Data(b) = &v.value {
                        assert_ne!(b.as_slice(), b"walue 7", "the damaged value was loaded");
                    }
                }
            }
        }
    }
}

fn reported(c: &mut Cluster, node: usize) -> usize {
    let id = c.id(node).clone();
    c.take_trace()
        .iter()
        .filter(|e| {
            matches!(e, TraceEvent::Event { node, event, .. }
            if *node == id && event == "found a corrupt objects record Some(\"k/7\")")
        })
        .count()
}

fn all_readable(c: &mut Cluster) {
    for i in 0..KEYS {
        let key = format!("k/{i}");
        let r = read(c, i % NODES, &key);
        assert_eq!(r.values(), vec![format!("value {i}")], "{key}");
    }
}

#[test]
fn anti_entropy_brings_back_a_corrupt_record() {
    let (mut c, node, victim) = damaged(301, config(50, false));
    let n = c.node(node).unwrap();
    assert_eq!(n.stats().corrupt_records, 1);
    assert_eq!(n.local_versions(victim.as_bytes()), None, "not held");
    assert_eq!(reported(&mut c, node), 1, "one CorruptRecord event");
    never_served(&c);

    c.run_for(3_000);
    never_served(&c);
    let others: Vec<usize> = preflist(&c, &victim)[1..3].to_vec();
    let want = c
        .node(others[0])
        .unwrap()
        .local_versions(victim.as_bytes())
        .cloned();
    assert!(want.is_some());
    assert_eq!(
        c.node(node)
            .unwrap()
            .local_versions(victim.as_bytes())
            .cloned(),
        want,
        "anti-entropy repaired it"
    );
    let on_disk = c.store(node).snapshot();
    assert!(on_disk.corrupt.is_empty(), "the repaired record verifies");
    assert_eq!(on_disk.objects.get(victim.as_bytes()).cloned(), want);
    for i in 0..NODES {
        assert_eq!(c.node(i).unwrap().stats().read_repairs, 0);
    }
    all_readable(&mut c);

    // A later restart loads it cleanly: nothing is reported again.
    c.crash(node, false);
    c.restart(node);
    assert_eq!(c.node(node).unwrap().stats().corrupt_records, 0);
}

#[test]
fn a_get_serves_the_replicas_version_and_read_repair_restores_it() {
    let (mut c, node, victim) = damaged(302, config(0, true));
    assert_eq!(c.node(node).unwrap().stats().corrupt_records, 1);
    // Read through the damaged node itself, right away: the other replicas answer.
    let r = read(&mut c, node, &victim);
    assert_eq!(r.values(), vec!["value 7".to_string()]);
    c.run_for(500);
    let got = c.node(node).unwrap().local_versions(victim.as_bytes());
    assert_eq!(
        got.map(contents),
        Some(vec![Some("value 7".to_string())]),
        "read repair stored it again"
    );
    never_served(&c);
    all_readable(&mut c);
}

#[test]
fn without_repair_the_key_stays_absent_but_is_never_served() {
    let (mut c, node, victim) = damaged(303, config(0, false));
    c.run_for(3_000);
    assert_eq!(
        c.node(node).unwrap().local_versions(victim.as_bytes()),
        None
    );
    never_served(&c);
    all_readable(&mut c);
    assert_eq!(
        c.node(node).unwrap().local_versions(victim.as_bytes()),
        None
    );
}
