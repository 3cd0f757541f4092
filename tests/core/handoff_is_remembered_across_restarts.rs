//! Issue 15 defect 4, across a restart (seed 1629's path, one run later): a node that hands
//! a key off no longer holds its actor's versions of it. A copy that reaches it later (a late
//! hint) need not hold them either, so the node must not write the key as its plain actor on
//! that copy; this held within one run, but the memory of the handoff was per run, and a
//! reload forgot it. The partitions a node handed keys off from are now in its metadata
//! record (`NodeMeta::handed_off_parts`, durable no later than the deletion), so after a
//! restart the node still writes such a key as its fallback actor (or forwards it to a
//! primary), and reads enough replicas first.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Config, Message, Resolver, ResolverRules};
use ringlet::sim::{Cluster, NetConfig};

fn config() -> Config {
    Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

#[test]
fn a_node_that_handed_a_key_off_does_not_write_it_as_itself_on_a_late_copy_after_a_reload() {
    let mut c = Cluster::with_nodes(1629, 3, config(), NetConfig::default());
    settle(&mut c);
    let a = 0;
    let keys: Vec<String> = (0..40).map(|i| format!("ctr/{i}")).collect();
    for k in &keys {
        write(&mut c, a, counter_add_w1(k, 5));
    }
    c.run_for(200);

    // A joiner takes a key away from `a`, which hands it off and drops it.
    c.join_node("x", 1, &[0, 1, 2]);
    let limit = c.now() + 120_000;
    let key = loop {
        c.run_for(500);
        if let Some(k) = keys
            .iter()
            .find(|k| !replicates(&c, a, k) && !holds(&c, a, k))
        {
            break k.clone();
        }
        assert!(c.now() < limit, "the join never moved a key away from a");
    };

    // `a` reloads, then a late copy of the key reaches it (a hint delivery from a primary),
    // and it is cut off from everyone before it can hand the copy on.
    c.crash(a, false);
    c.restart(a);
    c.run_for(200);
    let holder = (1..c.len())
        .find(|&i| holds(&c, i, &key))
        .expect("a primary holds the key");
    let versions = c
        .node(holder)
        .unwrap()
        .local_versions(key.as_bytes())
        .cloned()
        .unwrap();
    c.inject(
        holder,
        a,
        Message::Handoff {
            rid: 1,
            key: Bytes::from(key.as_str()),
            versions,
        },
    );
    let limit = c.now() + 10_000;
    while !holds(&c, a, &key) {
        c.run_for(1);
        assert!(c.now() < limit, "the late copy never reached a");
    }
    c.partition(&[a]);
    let limit = c.now() + 30_000;
    while c.node(a).unwrap().down_peers().len() + 1 < c.len() {
        c.run_for(10);
        assert!(c.now() < limit, "a never saw the others go down");
    }
    let plain = c.id(a).clone();

    // The add through `a` (W = 1, nobody else reachable) is not written as `a`'s plain
    // actor: that copy is no proof that `a` holds its own earlier adds of the key.
    let (dot, _) = write(&mut c, a, counter_add_w1(&key, 3));
    assert_ne!(
        dot.node, plain,
        "a wrote the key as its plain actor on a copy that came after its handoff"
    );
}
