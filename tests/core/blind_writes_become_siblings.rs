//! §4.4 with dotted version vectors, through the cluster: a write that did not see another
//! never overwrites it. Blind writes (no context) become siblings, whether they go through
//! the same coordinator one after the other or through different coordinators at once; a
//! write with the context of a read that returned the siblings collapses them.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{ClientReply, Dot};
use ringlet::sim::{Cluster, NetConfig};

fn sorted(mut d: Vec<Dot>) -> Vec<Dot> {
    d.sort();
    d
}

#[test]
fn two_blind_puts_through_the_same_node_become_siblings() {
    let mut c = Cluster::with_nodes(71, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "doc";
    let p0 = preflist(&c, key)[0];
    let (a, _) = write(&mut c, p0, put(key, "a"));
    let (b, _) = write(&mut c, p0, put(key, "b"));
    assert_eq!(&a.node, c.id(p0));
    assert_eq!((a.counter, b.counter), (1, 2));
    assert_eq!(b.node, a.node);

    // Plain server-side vector clocks would give b the clock [(p0,2)], dominating a's.
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["a".to_string(), "b".to_string()]);
    assert_eq!(dots(&r.versions), vec![a.clone(), b.clone()]);
    assert_eq!(r.context.version_vector().get(c.id(p0)), 2);

    // A write with the read's context supersedes both.
    let (m, ctx) = write(&mut c, p0, put_ctx(key, "merged", &r.context));
    assert_eq!(m.counter, 3);
    assert!(ctx.version_vector().covers(&a) && ctx.version_vector().covers(&b));
    c.run_for(50);
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["merged".to_string()]);
    for i in 0..3 {
        assert_eq!(local_dots(&c, i, key), vec![m.clone()], "replica {i}");
    }
}

#[test]
fn two_blind_puts_through_different_nodes_at_once_become_siblings() {
    let mut c = Cluster::with_nodes(72, 5, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "doc";
    let pl = preflist(&c, key);
    let ia = c.submit(pl[0], put(key, "from-a"));
    let ib = c.submit(pl[1], put(key, "from-b"));
    c.run_for(200);
    let done = c.take_completed();
    assert_eq!(done.len(), 2);
    let mut written = Vec::new();
    for d in &done {
        assert!([ia, ib].contains(&d.id));
        match &d.result {
            Ok(ClientReply::Put { dot, .. }) => written.push(dot.clone()),
            other => panic!("{other:?}"),
        }
    }

    let r = read(&mut c, pl[2], key);
    let mut values = r.values();
    values.sort();
    assert_eq!(values, vec!["from-a".to_string(), "from-b".to_string()]);
    assert_eq!(dots(&r.versions), sorted(written.clone()));
    c.run_for(200);
    for &p in &pl[..3] {
        assert_eq!(
            local_dots(&c, p, key),
            sorted(written.clone()),
            "replica {}",
            c.id(p)
        );
    }

    // A blind write after the fact still does not replace them: three siblings.
    let (third, _) = write(&mut c, pl[2], put(key, "blind"));
    let r = read(&mut c, pl[0], key);
    assert_eq!(r.versions.len(), 3);
    assert!(dots(&r.versions).contains(&third));

    // Reading and writing back with the context leaves one version everywhere.
    let (one, _) = write(&mut c, pl[1], put_ctx(key, "resolved", &r.context));
    c.run_for(200);
    for &p in &pl[..3] {
        assert_eq!(local_dots(&c, p, key), vec![one.clone()]);
    }
}
