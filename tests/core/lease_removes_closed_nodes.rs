//! Issue 15 defect 8: the membership lease. Tabs that close for good must not stay members
//! for ever (owning partitions, collecting hints without end). A member that SWIM holds dead
//! for longer than `Config::member_ttl_ms` is removed by the lease holder through the
//! ordinary `Remove` path: its partitions move to live nodes, hints held for it become
//! objects on the keys' live primaries, and a new node that then becomes a primary reads
//! every acknowledged key with R = 1 (its pending partitions do not answer not-found).

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Config, Dot, NodeId, RequestOptions, Status};
use ringlet::sim::Cluster;
use std::collections::BTreeMap;

const TTL_MS: u64 = 5_000;

fn lease_config() -> Config {
    Config {
        member_ttl_ms: TTL_MS,
        ..config(3, 2, 2)
    }
}

/// Every live node's status of `gone`.
fn statuses(c: &Cluster, gone: &NodeId) -> Vec<(NodeId, Option<Status>)> {
    (0..c.len())
        .filter(|&i| c.is_up(i))
        .map(|i| {
            let n = c.node(i).unwrap();
            (c.id(i).clone(), n.membership().get(gone).map(|m| m.status))
        })
        .collect()
}

/// Run until every live node holds `gone` as `Down` and a ring without it, at most `limit`.
fn run_until_removed(c: &mut Cluster, gone: &NodeId, limit_ms: u64) -> u64 {
    let start = c.now();
    while c.now() < start + limit_ms {
        c.run_for(250);
        let removed = (0..c.len()).filter(|&i| c.is_up(i)).all(|i| {
            let n = c.node(i).unwrap();
            n.membership().get(gone).map(|m| m.status) == Some(Status::Down)
                && n.ring().is_some_and(|r| !r.owners().contains(gone))
        });
        if removed {
            return c.now() - start;
        }
    }
    panic!(
        "{gone} was not removed within {limit_ms} ms: {:?}",
        statuses(c, gone)
    );
}

/// The live primaries of `key` under live node `via`'s ring that do not hold `dot`.
fn primaries_missing(c: &Cluster, via: usize, key: &str, dot: &Dot) -> Vec<NodeId> {
    let ring = c.node(via).unwrap().ring().unwrap();
    ring.preflist_for_key(key.as_bytes())[..3]
        .iter()
        .filter(|p| {
            let i = c.index_of(p).unwrap();
            !local_dots(c, i, key).contains(dot)
        })
        .cloned()
        .collect()
}

#[test]
fn closed_nodes_are_removed_after_the_ttl_and_a_new_node_finds_every_key() {
    let mut c = Cluster::with_nodes(815, 5, lease_config(), fixed_net(5, 5));
    c.run_for(1_000);
    let mut acked: BTreeMap<String, Dot> = BTreeMap::new();
    for i in 0..40 {
        let key = format!("lease/{i}");
        let (dot, _) = write(&mut c, i % 5, put(&key, "before"));
        acked.insert(key, dot);
    }
    c.run_for(1_000);

    // n4 closes for good. Writes while it is away leave hints for it on fallbacks.
    let n4 = c.id(4).clone();
    c.crash(4, false);
    c.run_for(3_000);
    for i in 40..100 {
        let key = format!("lease/{i}");
        // A write routed to n4 before the others noticed it gone times out (ambiguous):
        // only acknowledged writes are counted.
        if let Ok(ringlet::core::ClientReply::Put { dot, .. }) =
            c.call(i % 4, put(&key, "while n4 was away"))
        {
            acked.insert(key, dot);
        }
    }
    c.run_for(200);
    let hinted: Vec<Bytes> = (0..4)
        .flat_map(|i| {
            c.node(i)
                .unwrap()
                .hints()
                .filter(|((to, _), _)| to == &n4)
                .map(|((_, k), _)| k.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!hinted.is_empty(), "fallbacks hold hints for the closed n4");

    // Not before the TTL (an outage shorter than the lease changes nothing) ...
    assert!(
        statuses(&c, &n4)
            .iter()
            .all(|(_, s)| *s == Some(Status::Valid)),
        "removed before its lease ran out: {:?}",
        statuses(&c, &n4)
    );
    // ... but once it ran out.
    let took = run_until_removed(&mut c, &n4, 60_000);
    eprintln!("n4 removed {took} ms after the writes (TTL {TTL_MS} ms)");

    // Its partitions moved: every key on all 3 of its live primaries, and no hint for n4
    // is left anywhere (they became objects on the keys' live primaries).
    c.run_for(20_000);
    for i in 0..4 {
        let left = c
            .node(i)
            .unwrap()
            .hints()
            .filter(|((to, _), _)| to == &n4)
            .count();
        assert_eq!(
            left,
            0,
            "{} still holds {left} hints for removed n4",
            c.id(i)
        );
    }
    for (key, dot) in &acked {
        let missing = primaries_missing(&c, 0, key, dot);
        assert!(
            missing.is_empty(),
            "{key}: primaries {missing:?} lack {dot:?}"
        );
    }
    for k in &hinted {
        let key = String::from_utf8_lossy(k.as_ref()).into_owned();
        assert!(primaries_missing(&c, 0, &key, &acked[&key]).is_empty());
    }

    // n3 closes for good too; removed after the TTL in turn.
    let n3 = c.id(3).clone();
    c.crash(3, false);
    run_until_removed(&mut c, &n3, 60_000);
    c.run_for(5_000);

    // A new node joins and becomes a primary; at once, it reads every acknowledged key
    // with R = 1 and finds each one.
    let new = c.join_node("n5", 1, &[0]);
    let new_id = c.id(new).clone();
    let limit = c.now() + 30_000;
    while c.now() < limit {
        c.run_for(5);
        if c.node(new)
            .and_then(|n| n.ring())
            .is_some_and(|r| r.owners().contains(&new_id))
        {
            break;
        }
    }
    let ring = c.node(new).unwrap().ring().unwrap().clone();
    assert!(
        ring.owners().contains(&new_id),
        "n5 never owned a partition"
    );
    assert!(!ring.owners().contains(&n3) && !ring.owners().contains(&n4));
    let one = RequestOptions {
        r: Some(1),
        ..opts()
    };
    let ids: Vec<_> = acked
        .keys()
        .map(|k| (k.clone(), c.submit(new, get_with(k, one.clone()))))
        .collect();
    c.run_for(3_000);
    let done = c.take_completed();
    let mut missed = Vec::new();
    for (k, id) in &ids {
        match done.iter().find(|d| d.id == *id).map(|d| &d.result) {
            Some(Ok(ringlet::core::ClientReply::Get { versions, .. }))
                if dots(versions).contains(&acked[k]) => {}
            other => missed.push((k.clone(), format!("{other:?}"))),
        }
    }
    assert!(
        missed.is_empty(),
        "new node n5 (R=1) missed {} of {} acknowledged keys: {:?}",
        missed.len(),
        acked.len(),
        missed
    );
}

#[test]
fn a_zero_ttl_never_removes_a_member() {
    let cfg = Config {
        member_ttl_ms: 0,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(816, 4, cfg, fixed_net(5, 5));
    c.run_for(1_000);
    let n3 = c.id(3).clone();
    c.crash(3, false);
    c.run_for(60_000);
    assert!(statuses(&c, &n3)
        .iter()
        .all(|(_, s)| *s == Some(Status::Valid)));
}

/// A tab with durable storage that comes back after its lease ran out rejoins: it learns it
/// was removed, joins again and gets partitions back (its stored keys are handed on to
/// their current owners), and every acknowledged key stays readable through every node.
#[test]
fn a_removed_node_that_comes_back_rejoins() {
    let mut c = Cluster::with_nodes(817, 5, lease_config(), fixed_net(5, 5));
    c.run_for(1_000);
    let mut acked: BTreeMap<String, Dot> = BTreeMap::new();
    for i in 0..30 {
        let key = format!("back/{i}");
        let (dot, _) = write(&mut c, i % 5, put(&key, "v"));
        acked.insert(key, dot);
    }
    c.run_for(1_000);
    let n2 = c.id(2).clone();
    c.crash(2, false);
    run_until_removed(&mut c, &n2, 60_000);
    c.restart(2);
    let limit = c.now() + 30_000;
    while c.now() < limit {
        c.run_for(250);
        let back = (0..c.len()).all(|i| {
            let n = c.node(i).unwrap();
            n.membership().get(&n2).map(|m| m.status) == Some(Status::Valid)
                && n.ring().is_some_and(|r| r.owners().contains(&n2))
        });
        if back {
            break;
        }
    }
    assert_eq!(
        statuses(&c, &n2)
            .iter()
            .filter(|(_, s)| *s != Some(Status::Valid))
            .count(),
        0,
        "n2 did not rejoin: {:?}",
        statuses(&c, &n2)
    );
    c.run_for(10_000);
    for (key, dot) in &acked {
        for i in 0..5 {
            let r = read(&mut c, i, key);
            assert!(dots(&r.versions).contains(dot), "{key} through {i}");
        }
    }
}
