//! A request that cannot reach its quorum ends, by its deadline, with the typed error
//! `QuorumFailed { needed, got }` (code `QUORUM_FAILED`), never with a hang or a panic.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Error, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

/// Three nodes, two of them crashed: with N = 3 there is no fallback to turn to.
fn one_survivor() -> (Cluster, usize) {
    let mut c = Cluster::with_nodes(41, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    c.crash(1, false);
    c.crash(2, false);
    (c, 0)
}

#[test]
fn a_put_that_cannot_reach_w_fails_with_quorum_failed_at_its_deadline() {
    let (mut c, s) = one_survivor();
    let timeout = c.config().request_timeout_ms;
    let start = c.now();
    let err = fail(&mut c, s, put("k", "v"));
    let elapsed = c.now() - start;
    assert_eq!(err, Error::QuorumFailed { needed: 2, got: 1 });
    assert_eq!(err.code(), "QUORUM_FAILED");
    assert_eq!(
        err.to_string(),
        "quorum failed: 1 of 2 replicas answered in time"
    );
    assert!(
        elapsed <= timeout,
        "ended after {elapsed} ms, timeout {timeout} ms"
    );
    assert!(
        elapsed > c.config().sloppy_retry_ms,
        "it kept trying until the deadline"
    );
    let st = c.node(s).unwrap().stats().clone();
    assert_eq!((st.puts, st.quorum_failures), (1, 1));
    assert_eq!(
        c.node(s).unwrap().requests_in_flight(),
        0,
        "nothing is left running"
    );
}

#[test]
fn a_get_that_cannot_reach_r_fails_with_quorum_failed_at_its_deadline() {
    let (mut c, s) = one_survivor();
    let timeout = c.config().request_timeout_ms;
    let start = c.now();
    let err = fail(&mut c, s, get("k"));
    let elapsed = c.now() - start;
    assert_eq!(err, Error::QuorumFailed { needed: 2, got: 1 });
    assert_eq!(err.code(), "QUORUM_FAILED");
    assert!(
        elapsed <= timeout,
        "ended after {elapsed} ms, timeout {timeout} ms"
    );
    assert_eq!(c.node(s).unwrap().stats().quorum_failures, 1);
    assert_eq!(c.node(s).unwrap().requests_in_flight(), 0);
}

#[test]
fn a_shorter_per_request_timeout_ends_the_request_sooner() {
    let (mut c, s) = one_survivor();
    let short = RequestOptions {
        timeout_ms: Some(400),
        ..opts()
    };
    for request in [
        put_with("k", "v", None, short.clone()),
        get_with("k", short.clone()),
    ] {
        let start = c.now();
        let err = fail(&mut c, s, request);
        let elapsed = c.now() - start;
        assert_eq!(err, Error::QuorumFailed { needed: 2, got: 1 });
        assert!(elapsed <= 400, "ended after {elapsed} ms, timeout 400 ms");
    }
}

#[test]
fn a_forwarded_put_returns_the_coordinators_quorum_failure() {
    // Four nodes: the key's three primaries and one outsider. Two primaries are down, so
    // even with the outsider standing in as a fallback only two of W = 3 stores happen.
    let mut c = Cluster::with_nodes(42, 4, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    c.crash(pl[1], false);
    c.crash(pl[2], false);
    let w3 = RequestOptions {
        w: Some(3),
        ..opts()
    };
    let start = c.now();
    let err = fail(&mut c, pl[3], put_with(key, "v", None, w3));
    let elapsed = c.now() - start;
    assert_eq!(err, Error::QuorumFailed { needed: 3, got: 2 });
    assert!(
        elapsed <= c.config().request_timeout_ms,
        "ended after {elapsed} ms"
    );
    assert_eq!(c.node(pl[3]).unwrap().stats().forwarded, 1);
    assert_eq!(c.node(pl[0]).unwrap().stats().quorum_failures, 1);
}
