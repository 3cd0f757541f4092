//! Issue 15 defect 4, counters (simulator seed 565): a node whose ring moved a key away
//! but that still holds it (the transfer to the new primaries has not finished) writes the
//! key as its own plain actor. When a new primary is down, the same node is also the
//! sloppy stand-in for it, so its own copy of the new version was only a hint. Once that
//! hint was delivered it was gone from the node, whose store still held the object from
//! before: its next counter add built its actor's total on a state without its previous
//! add, so the two versions' join (a pointwise maximum per actor) lost the previous add, and
//! a new dot that covers the previous one replaces it outright. An acknowledged increment
//! vanished. The node now keeps its own version in its store as well.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{
    Bytes, ClientRequest, Config, NodeId, Op, RequestOptions, Resolved, Resolver, ResolverRules,
};
use ringlet::sim::{Cluster, NetConfig};

fn config() -> Config {
    Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        read_repair: false,
        anti_entropy_interval_ms: 0,
        // Slow ownership transfers, so the moved key stays on its old holder for a while.
        hint_interval_ms: 3_000,
        transfer_batch: 1,
        ..cluster_support::config(3, 2, 2)
    }
}

fn add(key: &str, n: i64) -> ClientRequest {
    ClientRequest::Update {
        key: Bytes::from(key),
        op: Op::CounterAdd(n),
        options: opts(),
    }
}

fn hints_for(c: &Cluster, i: usize, key: &str) -> Vec<NodeId> {
    c.node(i)
        .unwrap()
        .hints()
        .filter(|((_, k), _)| k.as_ref() == key.as_bytes())
        .map(|((n, _), _)| n.clone())
        .collect()
}

/// Cut `a` off from everyone and wait until it sees every other node down.
fn isolate(c: &mut Cluster, a: usize) {
    c.partition(&[a]);
    let limit = c.now() + 30_000;
    while c.node(a).unwrap().down_peers().len() + 1 < c.len() {
        c.run_for(10);
        assert!(c.now() < limit, "a never saw the others go down");
    }
}

#[test]
fn a_counter_add_by_a_stand_in_that_still_holds_the_key_survives_its_hint() {
    let mut c = Cluster::with_nodes(565, 3, config(), NetConfig::default());
    settle(&mut c);
    let a = 0;
    let keys: Vec<String> = (0..40).map(|i| format!("ctr/{i}")).collect();
    for k in &keys {
        write(&mut c, a, add(k, 5));
    }
    c.run_for(200);

    // A joiner takes some keys away from `a`, which still holds one of them (its transfer
    // needs every new primary's ack, and `a` is cut off at once).
    c.join_node("x", 1, &[0, 1, 2]);
    let limit = c.now() + 120_000;
    let key = loop {
        c.run_for(1);
        if let Some(k) = keys
            .iter()
            .find(|k| !replicates(&c, a, k) && holds(&c, a, k))
        {
            break k.clone();
        }
        assert!(c.now() < limit, "the join never moved a key away from a");
    };
    isolate(&mut c, a);
    assert!(holds(&c, a, &key) && !replicates(&c, a, &key));
    let primaries: Vec<NodeId> = c
        .node(a)
        .unwrap()
        .ring()
        .unwrap()
        .preflist_for_key(key.as_bytes())[..3]
        .to_vec();

    // With no primary reachable, `a` coordinates the add itself (W = 1), as its plain actor
    // (it holds the key), and stands in for the first primary: its copy is a hint.
    let (first, _) = write(&mut c, a, counter_add_w1(&key, 3));
    assert_eq!(
        &first.node,
        c.id(a),
        "a writes the key it holds as its plain actor"
    );
    assert_eq!(hints_for(&c, a, &key), vec![primaries[0].clone()]);

    // Healed, except that the transfer to another primary still cannot finish: `a`
    // delivers the hint and drops it, and still holds the key.
    c.heal();
    c.cut_link(a, c.index_of(&primaries[1]).unwrap());
    let limit = c.now() + 60_000;
    while !hints_for(&c, a, &key).is_empty() {
        c.run_for(10);
        assert!(c.now() < limit, "the hint was never delivered");
    }
    assert!(holds(&c, a, &key), "the transfer has not taken the key yet");

    // Cut off again, `a` adds once more: on top of its previous add.
    isolate(&mut c, a);
    let (second, _) = write(&mut c, a, counter_add_w1(&key, 4));
    assert_eq!(second.node, first.node, "the same actor");
    assert!(second.counter > first.counter);

    c.heal();
    c.run_for(20_000);
    let all = get_with(
        &key,
        RequestOptions {
            r: Some(3),
            ..opts()
        },
    );
    let r = read_with(&mut c, 1, all);
    assert_eq!(
        r.value,
        Resolved::Counter(5 + 3 + 4),
        "every acknowledged add counts ({:?})",
        dots(&r.versions)
    );
}
