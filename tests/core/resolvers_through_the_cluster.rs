//! Ready resolvers (DYNAMO.md "Limits" item 2) through a live cluster: counter increments
//! through different coordinators at once all count, an add-wins set keeps an element
//! added concurrently with its removal, last-writer-wins presents one value everywhere,
//! and an operation that does not fit the key's resolver is refused.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{
    Bytes, ClientReply, ClientRequest, Config, Error, Op, RequestOptions, Resolved, Resolver,
    ResolverRules,
};
use ringlet::sim::{Cluster, NetConfig};

fn cluster(seed: u64) -> Cluster {
    let cfg = Config {
        resolvers: ResolverRules::default()
            .with(b"ctr/", Resolver::Counter)
            .with(b"set/", Resolver::AddWinsSet)
            .with(b"lww/", Resolver::LastWriterWins),
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(seed, 5, cfg, NetConfig::default());
    settle(&mut c);
    c
}

fn update(key: &str, op: Op) -> ClientRequest {
    ClientRequest::Update {
        key: Bytes::from(key),
        op,
        options: opts(),
    }
}

fn elems(xs: &[&str]) -> Vec<Bytes> {
    xs.iter().map(|x| Bytes::from(*x)).collect()
}

/// Submit every request at the same instant, run, and insist that all succeeded.
fn concurrently(c: &mut Cluster, requests: Vec<(usize, ClientRequest)>) {
    let n = requests.len();
    for (i, r) in requests {
        c.submit(i, r);
    }
    c.run_for(500);
    let done = c.take_completed();
    assert_eq!(done.len(), n);
    for d in done {
        assert!(
            matches!(d.result, Ok(ClientReply::Put { .. })),
            "{:?}",
            d.result
        );
    }
}

#[test]
fn concurrent_counter_increments_through_different_nodes_all_count() {
    let mut c = cluster(151);
    let key = "ctr/visits";
    let pl = preflist(&c, key);
    concurrently(
        &mut c,
        vec![
            (pl[0], update(key, Op::CounterAdd(5))),
            (pl[1], update(key, Op::CounterAdd(7))),
            (pl[2], update(key, Op::CounterAdd(-2))),
        ],
    );
    let r = read(&mut c, pl[0], key);
    assert_eq!(r.value, Resolved::Counter(10));
    assert!(
        r.versions.len() > 1,
        "the increments were concurrent siblings"
    );

    // More, one after the other, one of them through a node that is no replica.
    write(&mut c, pl[1], update(key, Op::CounterAdd(-3)));
    write(&mut c, pl[4], update(key, Op::CounterAdd(100)));
    c.run_for(100);
    for i in 0..5 {
        assert_eq!(
            read(&mut c, i, key).value,
            Resolved::Counter(107),
            "read via node {i}"
        );
    }
}

#[test]
fn an_add_concurrent_with_a_remove_of_the_same_element_wins() {
    let mut c = cluster(152);
    let key = "set/cart";
    let pl = preflist(&c, key);
    write(
        &mut c,
        pl[0],
        update(key, Op::SetAdd(elems(&["apple", "pear"]))),
    );
    c.run_for(100);
    assert_eq!(
        read(&mut c, pl[2], key).value,
        Resolved::Set(elems(&["apple", "pear"]))
    );

    // One client removes apple while another adds it again elsewhere. (R = 1: neither
    // coordinator's read before its write, issue 15 defect 4, waits for the other.)
    let r1 = |op: Op| ClientRequest::Update {
        key: Bytes::from(key),
        op,
        options: RequestOptions {
            r: Some(1),
            ..opts()
        },
    };
    concurrently(
        &mut c,
        vec![
            (pl[0], r1(Op::SetRemove(elems(&["apple"])))),
            (pl[1], r1(Op::SetAdd(elems(&["apple", "fig"])))),
        ],
    );
    let r = read(&mut c, pl[2], key);
    assert_eq!(r.value, Resolved::Set(elems(&["apple", "fig", "pear"])));
    assert_eq!(r.versions.len(), 2, "the remove and the add are siblings");

    // A remove that saw every add does remove.
    write(
        &mut c,
        pl[2],
        update(key, Op::SetRemove(elems(&["apple", "pear"]))),
    );
    c.run_for(100);
    assert_eq!(
        read(&mut c, pl[0], key).value,
        Resolved::Set(elems(&["fig"]))
    );
}

#[test]
fn last_writer_wins_presents_the_same_single_value_everywhere() {
    let mut c = cluster(153);
    let key = "lww/profile";
    let pl = preflist(&c, key);
    // R = 1: neither coordinator reads the other's write before writing (a primary that
    // does not hold a key reads it first with the request's R: issue 15 defect 4).
    let r1 = RequestOptions {
        r: Some(1),
        ..opts()
    };
    concurrently(
        &mut c,
        vec![
            (pl[0], put_with(key, "from-a", None, r1.clone())),
            (pl[1], put_with(key, "from-b", None, r1)),
        ],
    );
    let r = read(&mut c, pl[2], key);
    // Both writes are stored; the resolver picks the greatest (timestamp, dot).
    assert_eq!(r.versions.len(), 2);
    let winner = r
        .versions
        .versions()
        .iter()
        .max_by(|a, b| (a.timestamp_ms, &a.dot).cmp(&(b.timestamp_ms, &b.dot)))
        .and_then(|v| v.value.data().cloned());
    assert!(winner.is_some());
    assert_eq!(r.value, Resolved::Single(winner.clone()));
    for i in 0..5 {
        assert_eq!(
            read(&mut c, i, key).value,
            Resolved::Single(winner.clone()),
            "node {i}"
        );
    }

    // A later blind write supersedes what its coordinator holds: one version remains.
    let (dot, _) = write(&mut c, pl[0], put(key, "later"));
    c.run_for(100);
    let r = read(&mut c, pl[1], key);
    assert_eq!(r.value, Resolved::Single(Some(Bytes::from("later"))));
    assert_eq!(dots(&r.versions), vec![dot]);
}

#[test]
fn an_operation_that_does_not_fit_the_keys_resolver_is_refused() {
    let mut c = cluster(154);
    let refused = [
        (put("ctr/x", "7"), "put on a counter"),
        (put("set/x", "a"), "put on a set"),
        (
            update("plain", Op::CounterAdd(1)),
            "update on a siblings key",
        ),
        (
            update("lww/x", Op::SetAdd(elems(&["a"]))),
            "update on an lww key",
        ),
        (
            update("ctr/x", Op::SetAdd(elems(&["a"]))),
            "set op on a counter",
        ),
        (update("set/x", Op::CounterAdd(1)), "counter op on a set"),
    ];
    for (request, what) in refused {
        let key = String::from_utf8(request.key().to_vec()).unwrap();
        let p0 = preflist(&c, &key)[0];
        let err = fail(&mut c, p0, request);
        assert!(matches!(err, Error::InvalidArgument(_)), "{what}: {err:?}");
        assert_eq!(err.code(), "INVALID_ARGUMENT", "{what}");
    }
    c.run_for(100);
    for i in 0..5 {
        assert!(
            c.store(i).state().objects.is_empty(),
            "node {i} stored something"
        );
    }
}
