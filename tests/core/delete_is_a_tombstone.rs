//! §4.1: a delete is a put of a tombstone with a context. A get then returns no value, but
//! the replicas keep the tombstone version (so the delete replicates and supersedes what it
//! saw); a write the delete did not see survives it.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Resolved, Value};
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn a_delete_with_context_leaves_a_tombstone_and_reads_return_nothing() {
    let mut c = Cluster::with_nodes(81, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "cart/carol";
    let p0 = preflist(&c, key)[0];
    let (v, _) = write(&mut c, p0, put(key, "book"));
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["book".to_string()]);

    let (t, ctx) = write(&mut c, p0, delete(key, Some(r.context.clone())));
    assert!(
        ctx.version_vector().covers(&v),
        "the delete supersedes what it read"
    );
    c.run_for(50);

    let r = read(&mut c, p0, key);
    assert_eq!(r.value, Resolved::Siblings(vec![]));
    assert_eq!(
        contents(&r.versions),
        vec![None],
        "one version: the tombstone"
    );
    assert_eq!(dots(&r.versions), vec![t.clone()]);
    for i in 0..3 {
        let held = c.node(i).unwrap().local_versions(key.as_bytes()).unwrap();
        assert_eq!(held.len(), 1, "replica {i}");
        assert_eq!(held.versions()[0].dot, t);
        assert_eq!(held.versions()[0].value, Value::Tombstone);
        assert_eq!(durable_dots(&c, i, key), vec![t.clone()]);
    }

    // Writing after the delete, with its context, brings the key back as one value.
    let (back, _) = write(&mut c, p0, put_ctx(key, "pen", &r.context));
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["pen".to_string()]);
    assert_eq!(dots(&r.versions), vec![back]);
}

#[test]
fn a_concurrent_put_survives_a_delete_that_did_not_see_it() {
    let mut c = Cluster::with_nodes(82, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "cart/dave";
    let pl = preflist(&c, key);
    write(&mut c, pl[0], put(key, "old"));
    let seen = read(&mut c, pl[0], key);

    // Another client adds a value blindly; the delete only knows "old".
    let (added, _) = write(&mut c, pl[1], put(key, "new"));
    let (tomb, _) = write(&mut c, pl[0], delete(key, Some(seen.context)));
    c.run_for(50);

    let r = read(&mut c, pl[2], key);
    assert_eq!(r.values(), vec!["new".to_string()]);
    let mut expected = vec![added, tomb];
    expected.sort();
    assert_eq!(
        dots(&r.versions),
        expected,
        "the tombstone and the unseen put are siblings"
    );
    assert_eq!(r.versions.len(), 2);
    assert!(contents(&r.versions).contains(&None));
}

#[test]
fn a_blind_delete_of_an_existing_key_deletes_nothing() {
    let mut c = Cluster::with_nodes(83, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "k";
    write(&mut c, 0, put(key, "kept"));
    write(&mut c, 0, delete(key, None));
    let r = read(&mut c, 1, key);
    assert_eq!(r.values(), vec!["kept".to_string()]);
    assert_eq!(r.versions.len(), 2, "the value and a concurrent tombstone");
}
