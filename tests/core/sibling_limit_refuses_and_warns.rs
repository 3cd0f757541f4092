//! The sibling limit (Riak's `max_siblings`, default 100; `warn_siblings`, default 25): a put
//! that would leave a key with more concurrent versions than `max_siblings` in its
//! coordinator's view is refused at once with `TOO_MANY_SIBLINGS`, before any version is
//! created; a put with the read's context reconciles the siblings and is accepted. Replicas
//! never refuse: versions replicated to them are merged even above the limit, so nothing
//! acknowledged is dropped. From `warn_siblings` versions on, `Event::SiblingsWarning` is
//! emitted by the coordinator of the put and by a get that sees them.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, Error, RequestOptions};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

fn config(max_siblings: usize, warn_siblings: usize) -> Config {
    Config {
        max_siblings,
        warn_siblings,
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

fn warnings(c: &mut Cluster) -> Vec<String> {
    c.take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Event { event, .. } if event.starts_with("warns:") => Some(event),
            _ => None,
        })
        .collect()
}

#[test]
fn defaults_follow_riak() {
    let c = Config::default();
    assert_eq!((c.max_siblings, c.warn_siblings), (100, 25));
}

#[test]
fn a_put_over_the_limit_is_refused_and_a_reconciling_put_is_accepted() {
    let mut c = Cluster::with_nodes(321, 3, config(4, 3), NetConfig::default());
    c.record_trace();
    settle(&mut c);
    let key = "k";
    let p0 = preflist(&c, key)[0];
    for i in 0..4 {
        write(&mut c, p0, put(key, &format!("v{i}")));
    }
    let w = warnings(&mut c);
    assert_eq!(w.len(), 2, "at 3 and 4 siblings: {w:?}");
    assert!(w[0].contains("warns: 3 siblings"), "{w:?}");

    let err = fail(&mut c, p0, put(key, "one too many"));
    assert_eq!(err, Error::TooManySiblings { count: 5, max: 4 });
    assert_eq!(err.code(), "TOO_MANY_SIBLINGS");
    assert_eq!(c.node(p0).unwrap().stats().sibling_limit_refusals, 1);
    // Refused before any version existed: every replica still holds the four.
    c.run_for(200);
    for i in 0..3 {
        assert_eq!(local_dots(&c, i, key).len(), 4, "node {i}");
    }
    // A blind delete would add a fifth version too.
    let err = fail(&mut c, p0, delete(key, None));
    assert_eq!(err, Error::TooManySiblings { count: 5, max: 4 });

    // The read warns, and its context lets the application reconcile.
    let r = read(&mut c, p0, key);
    assert_eq!(r.versions.len(), 4);
    assert_eq!(warnings(&mut c).len(), 1, "the get warns");
    write(&mut c, p0, put_ctx(key, "merged", &r.context));
    assert_eq!(read(&mut c, p0, key).values(), vec!["merged".to_string()]);
    assert!(warnings(&mut c).is_empty());
}

#[test]
fn a_forwarded_put_over_the_limit_gets_the_typed_error() {
    let mut c = Cluster::with_nodes(322, 5, config(2, 0), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    write(&mut c, pl[0], put(key, "a"));
    write(&mut c, pl[0], put(key, "b"));
    // Through a node outside the preference list: forwarded, refused by the coordinator.
    let err = fail(&mut c, pl[4], put(key, "c"));
    assert_eq!(err, Error::TooManySiblings { count: 3, max: 2 });
}

#[test]
fn replicas_keep_every_concurrent_version_even_above_the_limit() {
    let mut c = Cluster::with_nodes(323, 3, config(2, 0), NetConfig::default());
    // `late` stays behind: no node hears that it is back (which sends it what it missed).
    c.without_reconnect_notices();
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let (a, b, late) = (pl[0], pl[1], pl[2]);
    // `late` is down while two concurrent versions are written (W=2 on a and b).
    c.crash(late, false);
    write(&mut c, a, put(key, "x"));
    write(&mut c, a, put(key, "y"));
    c.restart(late);
    settle(&mut c);
    // `late` knows none of them (with R = 1 it does not read the key from the others
    // before writing, issue 15 defect 4): in its view the blind write makes one version,
    // so it accepts; a and b merge it beside their two and keep all three.
    let r1 = RequestOptions {
        r: Some(1),
        ..RequestOptions::default()
    };
    let (dot, _) = write(&mut c, late, put_with(key, "z", None, r1));
    c.run_for(200);
    for i in [a, b] {
        let held = local_dots(&c, i, key);
        assert_eq!(held.len(), 3, "node {i} keeps all three: {held:?}");
        assert!(held.contains(&dot));
    }
    let r = read(&mut c, a, key);
    assert_eq!(
        r.versions.len(),
        3,
        "every acknowledged version is readable"
    );
    // Now the coordinator's view holds three: another blind write is refused.
    let err = fail(&mut c, a, put(key, "w"));
    assert_eq!(err, Error::TooManySiblings { count: 4, max: 2 });
    write(&mut c, a, put_ctx(key, "merged", &r.context));
    assert_eq!(read(&mut c, b, key).values(), vec!["merged".to_string()]);
}
