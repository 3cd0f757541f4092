//! The add-wins set (DYNAMO.md "Limits" item 2; issue 15 defect 3, the set's review): a
//! delete of a set key removes only the adds its context observed. Adds made after the
//! delete (at the deleting node) or concurrently with it (elsewhere) all survive the heal,
//! including a concurrent re-add of an element the delete removed.
//!
//! Why it holds: a delete is a tombstone whose clock covers the adds it saw; the set merge
//! keeps an add-dot unless a sibling whose clock covers it no longer lists it
//! (`merge_set_states`), and every later add has a new dot that the tombstone never covers.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{
    Bytes, ClientRequest, Config, Op, RequestOptions, Resolved, Resolver, ResolverRules,
};
use ringlet::sim::{Cluster, NetConfig};

fn add(key: &str, elems: &[&str]) -> ClientRequest {
    ClientRequest::Update {
        key: Bytes::from(key),
        op: Op::SetAdd(elems.iter().map(|e| Bytes::from(*e)).collect()),
        options: opts(),
    }
}

fn set_at(c: &mut Cluster, i: usize, key: &str) -> Vec<String> {
    let all = get_with(
        key,
        RequestOptions {
            r: Some(3),
            ..opts()
        },
    );
    match read_with(c, i, all).value {
        Resolved::Set(xs) => xs.iter().map(text).collect(),
        other => panic!("a set reads as a set: {other:?}"),
    }
}

#[test]
fn adds_after_and_beside_a_delete_survive_the_heal() {
    let cfg = Config {
        resolvers: ResolverRules::default().with(b"set/", Resolver::AddWinsSet),
        ..config(3, 1, 1)
    };
    let mut c = Cluster::with_nodes(1532, 3, cfg, NetConfig::default());
    settle(&mut c);
    let key = "set/del";
    let pl = preflist(&c, key);
    let (a, b) = (pl[0], pl[1]);

    write(&mut c, a, add(key, &["old", "again"]));
    c.run_for(100);
    let seen = read(&mut c, a, key);
    assert_eq!(
        seen.value,
        Resolved::Set(vec!["again".into(), "old".into()])
    );

    c.partition(&[a]);
    write(&mut c, a, delete(key, Some(seen.context.clone())));
    assert_eq!(read(&mut c, a, key).value, Resolved::Set(vec![]));
    write(&mut c, b, add(key, &["beside", "again"]));
    write(&mut c, a, add(key, &["after"]));
    c.heal();
    c.run_for(3_000);

    // "old" was observed by the delete and re-added by nobody: gone. "again" was re-added
    // concurrently at B: add wins. "beside" (B) and "after" (A, after the delete) stay.
    let want = vec!["after", "again", "beside"];
    for i in [a, b] {
        assert_eq!(set_at(&mut c, i, key), want, "read through node {i}");
    }
}
