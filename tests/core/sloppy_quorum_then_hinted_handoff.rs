//! §4.6 sloppy quorum and hinted handoff: while a primary is down, its replica goes to the
//! first healthy fallback with a hint naming it; the fallback keeps the hinted replica apart
//! from its own data, hands it to the primary once it is back, and then drops the hint.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Dot, NodeId, RequestOptions};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

/// The hints node `i` holds, as (intended node, key, dots).
fn hints_of(c: &Cluster, i: usize) -> Vec<(NodeId, Bytes, Vec<Dot>)> {
    c.node(i)
        .expect("node is up")
        .hints()
        .map(|((to, key), v)| (to.clone(), key.clone(), dots(v)))
        .collect()
}

fn durable_hints_of(c: &Cluster, i: usize) -> Vec<(NodeId, Bytes, Vec<Dot>)> {
    c.store(i)
        .state()
        .hints
        .iter()
        .map(|((to, key), v)| (to.clone(), key.clone(), dots(v)))
        .collect()
}

/// Hint deliveries that reached node `to`, as (from, to) names.
fn deliveries(trace: &[TraceEvent], kind: &str) -> Vec<(String, String)> {
    trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Deliver {
                from, to, kind: k, ..
            } if *k == kind => Some((from.to_string(), to.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn crashed_primary_gets_its_write_back_from_the_first_fallback() {
    let mut c = Cluster::with_nodes(11, 5, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "cart/alice";
    let pl = preflist(&c, key);
    let (p0, p1, p2, f0, f1) = (pl[0], pl[1], pl[2], pl[3], pl[4]);
    let p1_id = c.id(p1).clone();

    c.crash(p1, false);
    // The coordinator notices the crash the Dynamo way: p1 does not answer. A read that
    // needs all three replicas asks the first fallback instead and still succeeds.
    let r = read_with(
        &mut c,
        p0,
        get_with(
            key,
            RequestOptions {
                r: Some(3),
                ..opts()
            },
        ),
    );
    assert!(r.versions.is_empty());
    assert_eq!(c.node(p0).unwrap().down_peers(), vec![p1_id.clone()]);

    // The put goes to the first three healthy nodes: p0, p2 and f0 (for p1).
    let (dot, _) = write(&mut c, p0, put(key, "v1"));
    c.run_for(50);
    assert_eq!(local_dots(&c, p0, key), vec![dot.clone()]);
    assert_eq!(local_dots(&c, p2, key), vec![dot.clone()]);
    assert_eq!(
        hints_of(&c, f0),
        vec![(p1_id.clone(), Bytes::from(key), vec![dot.clone()])],
        "the first fallback holds the replica with a hint naming the crashed primary"
    );
    assert_eq!(
        durable_hints_of(&c, f0),
        hints_of(&c, f0),
        "the hint is persisted"
    );
    let fb = c.node(f0).unwrap();
    assert_eq!(
        fb.local_versions(key.as_bytes()),
        None,
        "hinted copies are kept apart"
    );
    assert_eq!(fb.stats().hints_stored, 1);
    assert!(c.store(f0).state().objects.is_empty());
    assert!(hints_of(&c, f1).is_empty(), "only one fallback is needed");
    assert_eq!(local_dots(&c, f1, key), Vec::<Dot>::new());

    // The primary comes back with nothing of the write; the fallback's periodic scan
    // (probe, then handoff) gives it the version and then drops the hint.
    c.restart(p1);
    assert_eq!(local_dots(&c, p1, key), Vec::<Dot>::new());
    c.record_trace();
    c.run_for(5_000);
    let trace = c.take_trace();
    assert_eq!(local_dots(&c, p1, key), vec![dot.clone()]);
    assert_eq!(durable_dots(&c, p1, key), vec![dot.clone()]);
    assert!(hints_of(&c, f0).is_empty(), "the delivered hint is deleted");
    assert!(
        durable_hints_of(&c, f0).is_empty(),
        "and the deletion is persisted"
    );
    assert_eq!(c.node(f0).unwrap().stats().hints_delivered, 1);
    let (f0n, p1n) = (c.id(f0).to_string(), p1_id.to_string());
    assert_eq!(
        deliveries(&trace, "hint-delivery"),
        vec![(f0n.clone(), p1n.clone())]
    );
    assert_eq!(deliveries(&trace, "hint-ack"), vec![(p1n, f0n)]);
    // The hinted replica never became the fallback's own data.
    assert_eq!(c.node(f0).unwrap().local_versions(key.as_bytes()), None);
}

#[test]
fn two_crashed_primaries_are_replaced_by_fallbacks_and_the_put_still_meets_w() {
    let cfg = config(3, 2, 2);
    let retry = cfg.sloppy_retry_ms;
    let mut c = Cluster::with_nodes(12, 5, cfg, NetConfig::default());
    settle(&mut c);
    let key = "cart/bob";
    let pl = preflist(&c, key);
    let (p0, p1, p2, f0, f1) = (pl[0], pl[1], pl[2], pl[3], pl[4]);
    c.crash(p1, false);
    c.crash(p2, false);

    // Only the coordinator stores at first; after the retry deadline both silent
    // primaries are replaced by the two fallbacks, whose acks make W = 2.
    let start = c.now();
    let (dot, _) = write(&mut c, p0, put(key, "v1"));
    let elapsed = c.now() - start;
    assert!(
        elapsed >= retry,
        "the fallbacks were asked only after {retry} ms, not {elapsed}"
    );
    c.run_for(50);

    let mut intended: Vec<NodeId> = Vec::new();
    for f in [f0, f1] {
        let h = hints_of(&c, f);
        assert_eq!(h.len(), 1, "fallback {} holds one hint: {h:?}", c.id(f));
        assert_eq!(h[0].1, Bytes::from(key));
        assert_eq!(h[0].2, vec![dot.clone()]);
        intended.push(h[0].0.clone());
        assert_eq!(c.node(f).unwrap().local_versions(key.as_bytes()), None);
    }
    intended.sort();
    let mut primaries = vec![c.id(p1).clone(), c.id(p2).clone()];
    primaries.sort();
    assert_eq!(intended, primaries, "each hint names one crashed primary");

    c.restart(p1);
    c.restart(p2);
    c.run_for(5_000);
    for p in [p1, p2] {
        assert_eq!(local_dots(&c, p, key), vec![dot.clone()]);
    }
    for f in [f0, f1] {
        assert!(hints_of(&c, f).is_empty());
        assert_eq!(c.node(f).unwrap().stats().hints_delivered, 1);
    }
}
