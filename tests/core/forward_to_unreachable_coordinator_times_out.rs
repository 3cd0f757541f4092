//! A write forwarded to a coordinator that never answers ends with the typed
//! `Timeout { after_ms, ambiguous: true }` (code `TIMEOUT`) by the request's own deadline:
//! `after_ms` is that request's timeout, and the outcome is ambiguous because the forward
//! may have been applied (issue 15 defect 2: it is never applied a second time).

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Error, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn a_forwarded_put_with_a_short_timeout_times_out_with_that_timeout() {
    let mut c = Cluster::with_nodes(161, 6, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let outsider = pl[5];
    // The outsider and the coordinator it picks cannot talk.
    c.partition(&[pl[0]]);
    let short = RequestOptions {
        timeout_ms: Some(300),
        ..opts()
    };
    let start = c.now();
    let err = fail(&mut c, outsider, put_with(key, "v", None, short));
    let elapsed = c.now() - start;
    assert_eq!(
        err,
        Error::Timeout {
            after_ms: 300,
            ambiguous: true
        }
    );
    assert_eq!(err.code(), "TIMEOUT");
    assert_eq!(
        err.to_string(),
        "no coordinator answered within 300 ms (the write may have been applied)"
    );
    assert!(elapsed <= 300, "ended after {elapsed} ms");
    assert_eq!(c.node(outsider).unwrap().stats().forwarded, 1);
}
