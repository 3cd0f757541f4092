//! §4.8.1 and §4.9: a node asked to leave gives its partitions up in a new ring, hands every
//! key it holds to the key's new primaries, and only then exits (status `Exiting`, holding
//! nothing). Every acknowledged write is still there, on the right nodes.
//!
//! Anti-entropy and read repair are off, so only the leaver's handoff can have moved the
//! keys.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, ClientReply, Config, Dot, NodeId, Status};
use ringlet::sim::{Cluster, NetConfig};

const NODES: usize = 5;
const LEAVER: usize = 2;

fn config() -> Config {
    Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..cluster_support::config(3, 2, 2)
    }
}

#[test]
fn the_leaver_hands_everything_off_and_exits() {
    let mut c = Cluster::with_nodes(52, NODES, config(), NetConfig::default());
    settle(&mut c);
    let leaver = c.id(LEAVER).clone();
    let mut acked: Vec<(String, String, Dot)> = Vec::new();
    for i in 0..300 {
        let (key, value) = (format!("k/{i}"), format!("v{i}"));
        let (dot, _) = write(&mut c, i % NODES, put(&key, &value));
        acked.push((key, value, dot));
    }
    let held_before = c.node(LEAVER).unwrap().objects().count();
    assert!(
        held_before > 100,
        "the leaver replicates about 3/5 of the keys"
    );

    let id = c.submit_admin(LEAVER, AdminRequest::Leave);
    let early = c.take_completed();
    assert!(
        early.iter().all(|d| d.id != id),
        "leave answers once the node has exited, not at once: {early:?}"
    );
    assert_eq!(c.node(LEAVER).unwrap().status(), Some(Status::Leaving));
    c.run_for(30_000);
    let done = c.take_completed();
    assert!(
        done.iter()
            .any(|d| d.id == id && d.result == Ok(ClientReply::Done)),
        "{done:?}"
    );

    let n = c.node(LEAVER).expect("an exited node keeps running");
    assert!(n.has_exited());
    assert_eq!(n.status(), Some(Status::Exiting));
    assert_eq!(n.objects().count(), 0, "it holds no key");
    assert_eq!(n.hints().count(), 0, "and no hint");
    assert_eq!(n.stats().keys_transferred as usize, held_before);
    assert!(
        c.store(LEAVER).state().objects.is_empty(),
        "its disk is empty too"
    );

    let ring = c.node(0).unwrap().ring().unwrap().clone();
    for i in 0..NODES {
        let view = c.node(i).unwrap();
        assert_eq!(
            view.membership().get(&leaver).map(|m| m.status),
            Some(Status::Exiting),
            "{} does not see the leaver as exiting",
            c.id(i)
        );
        assert_eq!(view.ring(), Some(&ring), "{} has another ring", c.id(i));
        assert!(
            view.ring().unwrap().partitions_of(&leaver).is_empty(),
            "the leaver owns no partition in the view of {}",
            c.id(i)
        );
    }

    // Each acknowledged write is on exactly its key's three primaries, none of them the
    // leaver, and reads back through every remaining node.
    for (k, (key, value, dot)) in acked.iter().enumerate() {
        let primaries: Vec<NodeId> = ring
            .preflist_for_key(key.as_bytes())
            .into_iter()
            .take(3)
            .collect();
        assert!(!primaries.contains(&leaver));
        for i in 0..NODES {
            let held = local_dots(&c, i, key);
            if primaries.contains(c.id(i)) {
                assert_eq!(held, vec![dot.clone()], "{key} on primary {}", c.id(i));
            } else {
                assert!(held.is_empty(), "{key} left behind on {}", c.id(i));
            }
        }
        let through = [0, 1, 3, 4][k % 4];
        assert_eq!(read(&mut c, through, key).values(), vec![value.clone()]);
    }
}
