//! A put whose value exceeds `Config::max_value_bytes` is refused at once with
//! `ValueTooLarge { size, max }` (code `VALUE_TOO_LARGE`) and stores nothing anywhere;
//! a value of exactly the maximum is accepted.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, ClientRequest, Config, Error};
use ringlet::sim::{Cluster, NetConfig};

const MAX: usize = 16;

fn put_bytes(key: &str, len: usize) -> ClientRequest {
    ClientRequest::Put {
        key: Bytes::from(key),
        value: Bytes::from(vec![b'x'; len]),
        context: None,
        options: opts(),
    }
}

fn cluster() -> Cluster {
    let cfg = Config {
        max_value_bytes: MAX,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(131, 5, cfg, NetConfig::default());
    settle(&mut c);
    c
}

#[test]
fn a_value_over_the_maximum_is_refused_and_nothing_is_stored() {
    let mut c = cluster();
    let key = "big";
    let pl = preflist(&c, key);
    // Through a primary (which would coordinate) and through an outsider (which would
    // forward): both refuse before doing anything.
    for via in [pl[0], pl[4]] {
        let start = c.now();
        let err = fail(&mut c, via, put_bytes(key, MAX + 1));
        assert_eq!(
            err,
            Error::ValueTooLarge {
                size: MAX + 1,
                max: MAX
            }
        );
        assert_eq!(err.code(), "VALUE_TOO_LARGE");
        assert_eq!(
            err.to_string(),
            "value of 17 bytes exceeds the maximum of 16 bytes"
        );
        assert_eq!(c.now(), start, "refused at once");
    }
    c.run_for(500);
    for i in 0..5 {
        let n = c.node(i).unwrap();
        assert_eq!(n.local_versions(key.as_bytes()), None, "node {i}");
        assert_eq!(n.hints().count(), 0);
        let st = n.stats();
        assert_eq!((st.puts, st.forwarded), (0, 0), "node {i}");
        assert!(c.store(i).state().objects.is_empty());
    }
    let r = read(&mut c, pl[1], key);
    assert!(r.versions.is_empty());
}

#[test]
fn a_value_of_exactly_the_maximum_is_accepted() {
    let mut c = cluster();
    let key = "fits";
    let p0 = preflist(&c, key)[0];
    let (dot, _) = write(&mut c, p0, put_bytes(key, MAX));
    let r = read(&mut c, 0, key);
    assert_eq!(dots(&r.versions), vec![dot]);
    assert_eq!(r.versions.value_bytes(), MAX);
}
