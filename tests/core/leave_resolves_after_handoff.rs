//! §4.8.1 and §4.9 (issue 15 defect 7): `leave` is answered only once the node has exited,
//! that is, when every key it held is durably stored by its new primaries (every transfer
//! acknowledged); a leave that takes longer than `leave_timeout_ms` is answered `TIMEOUT`
//! and the node keeps leaving. An exited member stays in the membership (a tombstone for
//! gossip) but is no longer listed after `exited_grace_ms`.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, ClientReply, Config, Error, NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};

const NODES: usize = 5;
const LEAVER: usize = 2;
const GRACE_MS: u64 = 20_000;

fn config() -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        exited_grace_ms: GRACE_MS,
        ..cluster_support::config(3, 2, 2)
    }
}

fn listed(c: &Cluster, i: usize) -> Vec<NodeId> {
    c.node(i)
        .unwrap()
        .listed_members()
        .map(|(n, _)| n.clone())
        .collect()
}

#[test]
fn leave_answers_after_every_transfer_is_acknowledged() {
    let mut c = Cluster::with_nodes(71, NODES, config(), NetConfig::default());
    settle(&mut c);
    let leaver = c.id(LEAVER).clone();
    let mut keys = Vec::new();
    for i in 0..200 {
        let key = format!("k/{i}");
        write(&mut c, i % NODES, put(&key, &format!("v{i}")));
        keys.push(key);
    }
    let held: Vec<String> = keys
        .iter()
        .filter(|k| !local_dots(&c, LEAVER, k).is_empty())
        .cloned()
        .collect();
    assert!(held.len() > 50, "the leaver holds about 3/5 of the keys");

    let id = c.submit_admin(LEAVER, AdminRequest::Leave);
    // Step event by event until the answer arrives; until then the node still holds data.
    let limit = c.now() + 60_000;
    let mut answer = None;
    while answer.is_none() {
        assert!(c.step_until(limit), "no answer to leave within 60 s");
        if let Some(d) = c.take_completed().into_iter().find(|d| d.id == id) {
            answer = Some(d.result);
        } else if !c.node(LEAVER).unwrap().has_exited() {
            continue;
        } else {
            panic!("the node exited but its leave was not answered");
        }
    }
    assert_eq!(answer, Some(Ok(ClientReply::Done)));

    // At the moment of the answer: the node has exited and holds nothing, and every key it
    // held is durably stored on all three of its new primaries.
    let n = c.node(LEAVER).unwrap();
    assert!(n.has_exited());
    assert_eq!(n.status(), Some(Status::Exiting));
    assert_eq!(n.objects().count(), 0);
    assert_eq!(n.hints().count(), 0);
    assert_eq!(n.stats().keys_transferred as usize, held.len());
    let ring = n.ring().unwrap().clone();
    for key in &held {
        for p in ring.preflist_for_key(key.as_bytes()).into_iter().take(3) {
            assert_ne!(p, leaver);
            let i = (0..NODES).find(|&i| *c.id(i) == p).unwrap();
            assert!(
                !durable_dots(&c, i, key).is_empty(),
                "{key} not yet durable on its new primary {p} when leave answered"
            );
        }
    }

    // The exited member is listed while the grace lasts, then no longer; the membership
    // keeps it as `Exiting` (the tombstone gossip needs).
    c.run_for(GRACE_MS / 2);
    for i in (0..NODES).filter(|&i| i != LEAVER) {
        assert!(listed(&c, i).contains(&leaver), "listed during the grace");
    }
    c.run_for(GRACE_MS);
    for i in (0..NODES).filter(|&i| i != LEAVER) {
        let l = listed(&c, i);
        assert!(!l.contains(&leaver), "{} still lists {leaver}", c.id(i));
        assert_eq!(l.len(), NODES - 1);
        assert_eq!(
            c.node(i)
                .unwrap()
                .membership()
                .get(&leaver)
                .map(|m| m.status),
            Some(Status::Exiting)
        );
    }
    // A node always lists itself.
    assert!(listed(&c, LEAVER).contains(&leaver));
}

#[test]
fn a_slow_leave_times_out_and_the_node_keeps_leaving() {
    let cfg = Config {
        leave_timeout_ms: 5,
        ..config()
    };
    let mut c = Cluster::with_nodes(72, NODES, cfg, NetConfig::default());
    settle(&mut c);
    for i in 0..100 {
        write(&mut c, i % NODES, put(&format!("k/{i}"), "v"));
    }
    let id = c.submit_admin(LEAVER, AdminRequest::Leave);
    c.run_until_reply(c.now() + 1_000);
    let done = c.take_completed();
    let d = done.iter().find(|d| d.id == id).expect("an answer");
    assert_eq!(
        d.result,
        Err(Error::Timeout {
            after_ms: 5,
            ambiguous: false
        })
    );
    assert!(!c.node(LEAVER).unwrap().has_exited());
    c.run_for(30_000);
    assert!(c.node(LEAVER).unwrap().has_exited(), "it kept leaving");
    // A second leave of an exited node is answered at once.
    let again = c.submit_admin(LEAVER, AdminRequest::Leave);
    let done = c.take_completed();
    assert!(done
        .iter()
        .any(|d| d.id == again && d.result == Ok(ClientReply::Done)));
}

#[test]
fn a_restarted_node_also_stops_listing_a_gone_member_after_the_grace() {
    let mut c = Cluster::with_nodes(73, NODES, config(), NetConfig::default());
    settle(&mut c);
    let leaver = c.id(LEAVER).clone();
    c.submit_admin(LEAVER, AdminRequest::Leave);
    c.run_for(10_000);
    assert!(c.node(LEAVER).unwrap().has_exited());
    // Node 0 restarts knowing the leaver as exiting (its stored view); nothing changes after.
    c.crash(0, false);
    c.restart(0);
    c.run_for(GRACE_MS / 2);
    assert!(listed(&c, 0).contains(&leaver), "listed during the grace");
    c.run_for(GRACE_MS);
    assert!(!listed(&c, 0).contains(&leaver), "gone after the grace");
}
