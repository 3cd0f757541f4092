//! Counters (DYNAMO.md "Limits" item 2): a delete of a counter key must never swallow an
//! increment it did not observe. Increments made after the delete (by its own coordinator)
//! or concurrently with it (elsewhere) all count after the partition heals.
//!
//! Issue 15 defect 3: after a delete, the coordinator's own counter entry restarts from 0
//! (`apply_op` merges a tombstone as the empty state) and siblings merge by pointwise max
//! (`merge_counter_states`), so the coordinator's later +2 hides under its older +5.
//!
//! Acceptable outcomes: 3 (an observed reset: the delete removes the +5 it saw, B's
//! concurrent +1 and A's later +2 stay), or 8 (the module's documented semantics, where a
//! concurrent sibling brings the whole count back, or a delete refused on counter keys with
//! a typed error). Never 6.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{
    Bytes, ClientRequest, Config, Op, RequestOptions, Resolved, Resolver, ResolverRules,
};
use ringlet::sim::{Cluster, NetConfig};

fn add(key: &str, n: i64) -> ClientRequest {
    ClientRequest::Update {
        key: Bytes::from(key),
        op: Op::CounterAdd(n),
        options: opts(),
    }
}

#[test]
fn increments_after_and_beside_a_delete_both_count() {
    let cfg = Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        ..config(3, 1, 1)
    };
    let mut c = Cluster::with_nodes(1531, 3, cfg, NetConfig::default());
    settle(&mut c);
    let key = "ctr/del";
    let pl = preflist(&c, key);
    let (a, b) = (pl[0], pl[1]);

    write(&mut c, a, add(key, 5));
    c.run_for(100);
    let seen = read(&mut c, a, key);
    assert_eq!(seen.value, Resolved::Counter(5));

    c.partition(&[a]);
    let deleted = c.call(a, delete(key, Some(seen.context.clone())));
    write(&mut c, b, add(key, 1));
    write(&mut c, a, add(key, 2));
    c.heal();
    c.run_for(3_000);

    let all = get_with(
        key,
        RequestOptions {
            r: Some(3),
            ..opts()
        },
    );
    let v = match read_with(&mut c, b, all).value {
        Resolved::Counter(v) => v,
        other => panic!("a counter reads as a counter: {other:?}"),
    };
    match &deleted {
        Ok(_) => assert!(
            v == 3 || v == 8,
            "+5, delete (saw 5), then +1 at B and +2 at A: got {v}, want 3 (observed reset) \
             or 8 (concurrent sibling brings the count back); the +2 made after the delete \
             was swallowed by the pointwise max with the older +5"
        ),
        Err(e) => assert_eq!(v, 8, "the delete was refused ({e}), so every add counts"),
    }
}
