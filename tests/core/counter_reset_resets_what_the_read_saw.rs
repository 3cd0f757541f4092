//! Counters (issue 15 defect 3, second half): a delete of a counter key resets exactly what
//! the client's read returned, even when the replica that coordinates the delete has not
//! received those increments yet. The read's context carries the counter state it saw
//! (context format 2), and the reset joins it before resetting it.
//!
//! Without that, the coordinator could only reset the part of the read it held itself:
//! here nothing, so the +5 the client saw and deleted came back after the partition healed.

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

fn counter(c: &mut Cluster, at: usize, key: &str) -> i64 {
    let all = get_with(
        key,
        RequestOptions {
            r: Some(3),
            ..opts()
        },
    );
    match read_with(c, at, all).value {
        Resolved::Counter(v) => v,
        other => panic!("a counter reads as a counter: {other:?}"),
    }
}

#[test]
fn a_delete_coordinated_by_a_replica_that_missed_the_increments_resets_them() {
    let cfg = Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        ..config(3, 1, 1)
    };
    let mut c = Cluster::with_nodes(2027, 3, cfg, NetConfig::default());
    settle(&mut c);
    let key = "ctr/seen";
    let pl = preflist(&c, key);
    let (a, b) = (pl[0], pl[1]);

    // A is cut off: B coordinates +5, which A never receives.
    c.partition(&[a]);
    c.run_for(3_000);
    write(&mut c, b, add(key, 5));
    let seen = read(&mut c, b, key);
    assert_eq!(seen.value, Resolved::Counter(5));
    assert!(
        seen.context.observed_counter().is_some(),
        "a counter read's context carries the state it saw"
    );
    assert!(
        local_dots(&c, a, key).is_empty(),
        "A has not received the +5 it is about to reset"
    );

    // The client deletes through A with that context; B adds +2 meanwhile.
    write(&mut c, a, delete(key, Some(seen.context.clone())));
    write(&mut c, b, add(key, 2));
    c.heal();
    c.run_for(5_000);

    assert_eq!(
        counter(&mut c, b, key),
        2,
        "the delete removes the +5 the client saw (though A never held it) and keeps the \
         concurrent +2"
    );
}
