//! §6.1 write buffer: with `durable: Some(false)` replicas acknowledge from memory, but the
//! put still answers only once one replica (the coordinator) has the version on disk. It is
//! therefore faster than a durable put, and a power cut of every other replica right after
//! the answer loses nothing.
//!
//! The coordinator's own store is durable before the version goes to the other replicas
//! (issue 15 defect 4: a restart must find every dot its node issued), so every put costs
//! one local persist before the network round; and a primary that does not hold the key yet
//! reads it first (R = 2: its own store and one more, 2 x 5 ms).

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::Dot;
use ringlet::sim::Cluster;

const LATENCY_MS: u64 = 5;
const PERSIST_MS: u64 = 50;

/// Three nodes, disks much slower than the network, so in-memory acks come first.
fn slow_disks() -> Cluster {
    let mut c = Cluster::with_nodes(101, 3, config(3, 2, 2), fixed_net(LATENCY_MS, PERSIST_MS));
    settle(&mut c);
    c
}

/// The replicas (by index) whose disk holds `dot` for `key`.
fn durable_on(c: &Cluster, key: &str, dot: &Dot) -> Vec<usize> {
    (0..c.len())
        .filter(|&i| durable_dots(c, i, key).contains(dot))
        .collect()
}

#[test]
fn a_buffered_put_answers_once_the_coordinator_has_it_on_disk() {
    let mut c = slow_disks();
    let key = "b";
    let p0 = preflist(&c, key)[0];
    let start = c.now();
    let (dot, _) = write(&mut c, p0, buffered(key, "v"));
    let elapsed = c.now() - start;
    // The read of the new key (2 x 5 ms), the coordinator's disk (50 ms), then acks from
    // memory after 2 x 5 ms.
    assert_eq!(elapsed, 2 * LATENCY_MS + PERSIST_MS + 2 * LATENCY_MS);
    assert_eq!(
        durable_on(&c, key, &dot),
        vec![p0],
        "exactly the coordinator's disk"
    );
    for i in 0..3 {
        assert_eq!(
            local_dots(&c, i, key),
            vec![dot.clone()],
            "in memory on replica {i}"
        );
    }
    c.run_for(PERSIST_MS + 2 * LATENCY_MS);
    assert_eq!(
        durable_on(&c, key, &dot),
        vec![0, 1, 2],
        "the others flush behind"
    );
}

#[test]
fn a_buffered_put_is_faster_than_a_durable_one() {
    let mut c = slow_disks();
    let p0 = preflist(&c, "d")[0];
    let start = c.now();
    let (dot, _) = write(&mut c, p0, put("d", "v"));
    let durable_ms = c.now() - start;
    // A durable put of a new key reads it (2 x 5 ms), waits for the coordinator's disk, then
    // for a second disk: 5 ms there, 50 ms to persist, 5 ms back.
    assert_eq!(
        durable_ms,
        2 * LATENCY_MS + PERSIST_MS + LATENCY_MS + PERSIST_MS + LATENCY_MS
    );
    assert!(
        durable_on(&c, "d", &dot).len() >= 2,
        "W = 2 disks hold it at the answer"
    );

    let p0 = preflist(&c, "b")[0];
    let start = c.now();
    write(&mut c, p0, buffered("b", "v"));
    let buffered_ms = c.now() - start;
    assert!(
        buffered_ms < durable_ms,
        "buffered {buffered_ms} ms, durable {durable_ms} ms"
    );
}

#[test]
fn a_power_cut_of_the_other_replicas_right_after_a_buffered_put_loses_nothing() {
    let mut c = slow_disks();
    let key = "b";
    let pl = preflist(&c, key);
    let (dot, _) = write(&mut c, pl[0], buffered(key, "kept"));
    c.crash(pl[1], true);
    c.crash(pl[2], true);
    assert_eq!(
        durable_dots(&c, pl[1], key),
        Vec::<Dot>::new(),
        "lost from memory"
    );
    assert_eq!(durable_dots(&c, pl[2], key), Vec::<Dot>::new());
    c.restart(pl[1]);
    c.restart(pl[2]);
    c.run_for(200);
    let r = read(&mut c, pl[1], key);
    assert_eq!(r.values(), vec!["kept".to_string()]);
    assert_eq!(dots(&r.versions), vec![dot]);
}
