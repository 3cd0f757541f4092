//! §4.5: R and W may be chosen per request. An override changes how many replicas the
//! request waits for; one out of range (0 or above N) is refused at once as
//! `InvalidArgument` (code `INVALID_ARGUMENT`) and does nothing.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Error, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

fn w(w: usize) -> RequestOptions {
    RequestOptions {
        w: Some(w),
        ..opts()
    }
}

fn r(r: usize) -> RequestOptions {
    RequestOptions {
        r: Some(r),
        ..opts()
    }
}

/// Three nodes (N = 3, R = W = 2), one of them crashed.
fn one_down() -> (Cluster, [usize; 3]) {
    let mut c = Cluster::with_nodes(51, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let pl = preflist(&c, "k");
    c.crash(pl[2], false);
    (c, [pl[0], pl[1], pl[2]])
}

#[test]
fn w3_fails_and_w1_succeeds_with_one_of_three_replicas_down() {
    let (mut c, [a, b, _]) = one_down();
    let err = fail(&mut c, a, put_with("k", "all", None, w(3)));
    assert_eq!(err, Error::QuorumFailed { needed: 3, got: 2 });

    let start = c.now();
    let (dot, _) = write(&mut c, a, put_with("k", "one", None, w(1)));
    let elapsed = c.now() - start;
    // W = 1: the coordinator's own durable store is enough; no replica is waited for.
    assert!(
        elapsed < c.config().sloppy_retry_ms,
        "W=1 answered after {elapsed} ms"
    );
    assert_eq!(local_dots(&c, a, "k").last(), Some(&dot));
    // The default W = 2 still succeeds with two replicas up.
    write(&mut c, b, put("k", "two"));
}

#[test]
fn r3_fails_and_r1_succeeds_with_one_of_three_replicas_down() {
    let (mut c, [a, _, _]) = one_down();
    write(&mut c, a, put("k", "v"));
    let err = fail(&mut c, a, get_with("k", r(3)));
    assert_eq!(err, Error::QuorumFailed { needed: 3, got: 2 });

    let start = c.now();
    let got = read_with(&mut c, a, get_with("k", r(1)));
    assert_eq!(got.values(), vec!["v".to_string()]);
    assert_eq!(
        c.now(),
        start,
        "R=1 through a replica answers from its own copy at once"
    );
}

#[test]
fn out_of_range_r_and_w_are_invalid_arguments_and_change_nothing() {
    let mut c = Cluster::with_nodes(52, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let bad = [
        put_with("k", "v", None, w(0)),
        put_with("k", "v", None, w(4)),
        get_with("k", r(0)),
        get_with("k", r(4)),
        put_with(
            "k",
            "v",
            None,
            RequestOptions {
                timeout_ms: Some(0),
                ..opts()
            },
        ),
    ];
    for request in bad {
        let start = c.now();
        let err = fail(&mut c, 0, request.clone());
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{request:?} gave {err:?}"
        );
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert_eq!(c.now(), start, "refused at once");
    }
    match fail(&mut c, 0, put_with("k", "v", None, w(4))) {
        Error::InvalidArgument(m) => assert_eq!(m, "w must be between 1 and N=3, got 4"),
        other => panic!("{other:?}"),
    }
    c.run_for(500);
    for i in 0..3 {
        let n = c.node(i).unwrap();
        assert_eq!(n.local_versions(b"k"), None);
        assert_eq!((n.stats().puts, n.stats().gets), (0, 0));
        assert!(c.store(i).state().objects.is_empty());
    }
}
