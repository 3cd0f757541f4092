//! §4.5: any node accepts a write, but a node outside the key's first N forwards it to one
//! of them, which coordinates it; the version lands on the primaries, not on the forwarder.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::Error;
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn a_put_through_a_node_outside_the_preflist_is_stored_on_the_primaries() {
    let mut c = Cluster::with_nodes(31, 6, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "user/42";
    let pl = preflist(&c, key);
    assert_eq!(pl.len(), 6);
    let outsider = pl[4];

    let (dot, _) = write(&mut c, outsider, put(key, "hello"));
    c.run_for(50);

    let fwd = c.node(outsider).unwrap().stats().clone();
    assert_eq!(fwd.forwarded, 1);
    assert_eq!(fwd.puts, 0, "the forwarder coordinated nothing");
    assert_eq!(
        &dot.node,
        c.id(pl[0]),
        "the first primary coordinated the write"
    );
    let coord = c.node(pl[0]).unwrap().stats().clone();
    assert_eq!((coord.puts, coord.forwarded), (1, 0));
    for &p in &pl[..3] {
        assert_eq!(
            local_dots(&c, p, key),
            vec![dot.clone()],
            "primary {}",
            c.id(p)
        );
        assert_eq!(durable_dots(&c, p, key), vec![dot.clone()]);
    }
    for &f in &pl[3..] {
        let n = c.node(f).unwrap();
        assert_eq!(
            n.local_versions(key.as_bytes()),
            None,
            "fallback {} holds nothing",
            c.id(f)
        );
        assert_eq!(n.hints().count(), 0);
    }
    assert!(c.store(outsider).state().objects.is_empty());
}

#[test]
fn a_put_through_a_primary_and_a_get_through_any_node_are_not_forwarded() {
    let mut c = Cluster::with_nodes(32, 6, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "user/43";
    let pl = preflist(&c, key);
    // A primary other than the first coordinates a write itself.
    let (dot, _) = write(&mut c, pl[2], put(key, "v"));
    assert_eq!(&dot.node, c.id(pl[2]));
    // Gets are coordinated wherever they arrive, and see the write.
    let r = read(&mut c, pl[5], key);
    assert_eq!(r.values(), vec!["v".to_string()]);
    for i in 0..6 {
        assert_eq!(c.node(i).unwrap().stats().forwarded, 0, "node {i}");
    }
    assert_eq!(c.node(pl[5]).unwrap().stats().gets, 1);
}

#[test]
fn a_forward_to_a_crashed_primary_times_out_ambiguously_and_is_never_applied_twice() {
    // Issue 15 defect 2: the forwarder cannot tell a coordinator that crashed before the
    // Forward from one that crashed after applying it, so it never coordinates the write
    // itself: the client hears an ambiguous TIMEOUT. Once the forwarder suspects the
    // crashed primary, the next write goes to a live primary.
    let cfg = config(3, 2, 2);
    let timeout = cfg.request_timeout_ms;
    let mut c = Cluster::with_nodes(33, 6, cfg, NetConfig::default());
    settle(&mut c);
    let key = "user/44";
    let pl = preflist(&c, key);
    let outsider = pl[4];
    c.crash(pl[0], false);

    let start = c.now();
    let err = fail(&mut c, outsider, put(key, "first"));
    assert!(
        c.now() - start <= timeout,
        "the put ended within its timeout"
    );
    assert!(
        matches!(
            err,
            Error::Timeout {
                ambiguous: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        c.node(outsider).unwrap().down_peers(),
        vec![c.id(pl[0]).clone()]
    );
    c.run_for(50);
    for &p in &pl[1..4] {
        assert_eq!(local_dots(&c, p, key), vec![], "node {}", c.id(p));
    }

    let (dot, _) = write(&mut c, outsider, put(key, "v"));
    assert_eq!(
        &dot.node,
        c.id(pl[1]),
        "coordinated by the next live primary"
    );
    c.run_for(50);
    for &p in &pl[1..3] {
        assert_eq!(
            local_dots(&c, p, key),
            vec![dot.clone()],
            "primary {}",
            c.id(p)
        );
    }
    assert_eq!(
        c.node(outsider).unwrap().local_versions(key.as_bytes()),
        None
    );
}
