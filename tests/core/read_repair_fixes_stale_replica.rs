//! §4.5 read repair: after a get has answered, its coordinator writes the merged versions
//! back to replicas that answered with stale data.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Dot};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

#[test]
fn a_replica_that_missed_a_write_is_repaired_by_the_next_read() {
    let cfg = config(3, 2, 2);
    let window = cfg.read_repair_window_ms;
    let mut c = Cluster::with_nodes(21, 3, cfg, NetConfig::default());
    // Read repair alone: no node hears that a peer is back (which sends it what it missed).
    c.without_reconnect_notices();
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let (p0, p1, p2) = (pl[0], pl[1], pl[2]);

    // p2 misses two concurrent writes: they reach only p0 and p1 (W = 2 is met).
    c.partition(&[p2]);
    let (a, _) = write(&mut c, p0, put(key, "a"));
    let (b, _) = write(&mut c, p1, put(key, "b"));
    c.heal();
    c.run_for(50);
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(local_dots(&c, p0, key), both);
    assert_eq!(local_dots(&c, p1, key), both);
    assert_eq!(
        local_dots(&c, p2, key),
        Vec::<Dot>::new(),
        "p2 missed the writes"
    );

    c.record_trace();
    let r = read(&mut c, p0, key);
    assert_eq!(dots(&r.versions), both, "the read returns both siblings");
    assert_eq!(
        c.node(p0).unwrap().stats().read_repairs,
        0,
        "repair waits for the window"
    );
    c.run_for(window + 50);
    let trace = c.take_trace();

    let repaired = c.node(p2).unwrap().local_versions(key.as_bytes()).cloned();
    assert_eq!(
        repaired.as_ref(),
        Some(&r.versions),
        "the stale replica holds the same siblings"
    );
    assert_eq!(durable_dots(&c, p2, key), both);
    assert_eq!(c.node(p0).unwrap().stats().read_repairs, 1);
    let repairs: Vec<(String, String)> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Deliver {
                from,
                to,
                kind: "read-repair",
                ..
            } => Some((from.to_string(), to.to_string())),
            _ => None,
        })
        .collect();
    // (p1 read the key before its own write, issue 15 defect 4, and may repair p2 too.)
    assert!(
        repairs.iter().all(|(_, to)| *to == c.id(p2).to_string()),
        "only the stale replica is repaired: {repairs:?}"
    );
    assert_eq!(
        repairs
            .iter()
            .filter(|(from, _)| *from == c.id(p0).to_string())
            .count(),
        1,
        "the read repairs it once"
    );
    // An up-to-date read now repairs nothing.
    let repairs_before = c.node(p1).unwrap().stats().read_repairs;
    read(&mut c, p1, key);
    c.run_for(window + 50);
    assert_eq!(c.node(p1).unwrap().stats().read_repairs, repairs_before);
    assert_eq!(c.node(p0).unwrap().stats().read_repairs, 1);
}

#[test]
fn a_replica_holding_an_older_version_gets_the_newer_one_which_supersedes_it() {
    let mut c = Cluster::with_nodes(22, 3, config(3, 2, 2), NetConfig::default());
    // Read repair alone: no node hears that a peer is back (which sends it what it missed).
    c.without_reconnect_notices();
    settle(&mut c);
    let key = "k2";
    let pl = preflist(&c, key);
    let (v1, ctx) = write(&mut c, pl[0], put(key, "v1"));
    c.run_for(50);
    assert_eq!(local_dots(&c, pl[1], key), vec![v1.clone()]);

    // v2 supersedes v1, but p1 is cut off while it is written.
    c.partition(&[pl[1]]);
    let (v2, _) = write(&mut c, pl[0], put_ctx(key, "v2", &ctx));
    c.heal();
    c.run_for(50);
    assert_eq!(
        local_dots(&c, pl[1], key),
        vec![v1],
        "p1 still holds the old version"
    );

    c.record_trace();
    let r = read(&mut c, pl[2], key);
    assert_eq!(r.values(), vec!["v2".to_string()]);
    c.run_for(200);
    let events: Vec<String> = c
        .take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Event { node, event, .. } if event.starts_with("read repair") => {
                Some(format!("{node}: {event}"))
            }
            _ => None,
        })
        .collect();
    let expected = format!(
        "{}: read repair of {:?} to {:?}",
        c.id(pl[2]),
        Bytes::from(key),
        vec![c.id(pl[1]).clone()]
    );
    assert_eq!(events, vec![expected]);
    assert_eq!(
        local_dots(&c, pl[1], key),
        vec![v2],
        "the old version is superseded"
    );
    assert_eq!(c.node(pl[2]).unwrap().stats().read_repairs, 1);
}
