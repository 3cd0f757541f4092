//! Issue 15 defect 4, the required figure: read-modify-write of one key through each of its
//! primaries in turn, with a restart of the coordinator after every write (1,000 restarts, every other one losing unpersisted
//! writes) and 50 ring changes (a node joins, later leaves, 25 times). The context never
//! holds more than `SLACK` entries beyond the number of distinct nodes that coordinated
//! the key. Run with `--nocapture` for the entry count and encoded size.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, Context};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;

const RESTARTS: usize = 1_000;
const RING_CHANGES: usize = 50;
/// Entries allowed beyond the number of distinct coordinating nodes.
const SLACK: usize = 2;
const ORIGINAL: usize = 3;

/// The node behind an actor: `n0`, `n0@i7`, `n0@1000`, `n0~5` are all `n0`.
fn actor_node(actor: &str) -> String {
    actor.split(['@', '~']).next().unwrap_or("").to_string()
}

fn ring_epoch(c: &Cluster, i: usize) -> u64 {
    c.node(i)
        .and_then(|n| n.membership().ring_state())
        .map_or(0, |r| r.epoch)
}

/// The up members of the ring, as seen by node `i`.
fn live(c: &Cluster, members: &[usize]) -> Vec<usize> {
    members.iter().copied().filter(|&i| c.is_up(i)).collect()
}

/// Run until every node of `members` has a ring in which `owner` owns partitions (or owns
/// none, when `owns` is false), and they all agree on its epoch.
fn await_ring(c: &mut Cluster, members: &[usize], owner: usize, owns: bool) {
    let id = c.id(owner).clone();
    let limit = c.now() + 120_000;
    while c.now() < limit {
        let ok = live(c, members).iter().all(|&i| {
            c.node(i)
                .and_then(|n| n.ring())
                .is_some_and(|r| r.owners().contains(&id) == owns)
        });
        let epochs: BTreeSet<u64> = live(c, members).iter().map(|&i| ring_epoch(c, i)).collect();
        if ok && epochs.len() == 1 {
            return;
        }
        c.run_for(100);
    }
    panic!("the ring never settled (owner {id}, owns {owns})");
}

/// The up primaries of `key` in node 0's ring; write `i` goes through the `i`-th of them
/// in turn (every primary, joiners too, coordinates and restarts), or through the first.
fn coordinator(c: &Cluster, key: &str, i: usize, rotate: bool) -> usize {
    let ring = c.node(0).and_then(|n| n.ring()).expect("node 0 has a ring");
    let up: Vec<usize> = ring
        .preflist_for_key(key.as_bytes())
        .iter()
        .take(c.config().n)
        .filter_map(|id| c.index_of(id))
        .filter(|&i| c.is_up(i))
        .collect();
    if rotate {
        up[i % up.len()]
    } else {
        up[0]
    }
}

#[test]
fn a_thousand_restarts_and_fifty_ring_changes_keep_the_context_small() {
    let (entries, bytes, nodes) = run(1542, true);
    // 3 original primaries and 25 joiners (each left again: retired actors) coordinated.
    assert!(
        entries <= nodes + SLACK,
        "{entries} entries ({bytes} bytes)"
    );
}

#[test]
fn one_coordinator_restarted_a_thousand_times_through_fifty_ring_changes_is_one_entry() {
    let (entries, bytes, nodes) = run(1543, false);
    assert_eq!(nodes, 1, "the first primary coordinated every write");
    assert_eq!(entries, 1, "{bytes} bytes");
}

/// The loop; returns the final context's entries and encoded bytes, and how many distinct
/// nodes coordinated.
fn run(seed: u64, rotate: bool) -> (usize, usize, usize) {
    let mut c = Cluster::with_nodes(seed, ORIGINAL, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "ctx/one";
    let mut members: Vec<usize> = (0..ORIGINAL).collect();
    let mut coordinators: BTreeSet<String> = BTreeSet::new();
    let mut ctx = Context::default();
    let mut joined: Option<usize> = None;
    let mut ring_changes = 0;
    let first_epoch = ring_epoch(&c, 0);
    let every = RESTARTS / RING_CHANGES;
    for i in 0..RESTARTS {
        if i % every == every / 2 {
            // A ring change: a new node joins, or the last one to join leaves.
            match joined.take() {
                None => {
                    let j = c.join_node(&format!("x{i}"), 1, &[0, 1, 2]);
                    members.push(j);
                    await_ring(&mut c, &members, j, true);
                    joined = Some(j);
                }
                Some(j) => {
                    c.submit_admin(j, AdminRequest::Leave);
                    await_ring(&mut c, &members, j, false);
                    let limit = c.now() + 120_000;
                    while !c.node(j).is_some_and(|n| n.has_exited()) && c.now() < limit {
                        c.run_for(100);
                    }
                    members.retain(|&m| m != j);
                }
            }
            ring_changes += 1;
        }
        let at = coordinator(&c, key, i, rotate);
        let r = read(&mut c, at, key);
        let (dot, next) = write(&mut c, at, put_ctx(key, &format!("v{i}"), &r.context));
        coordinators.insert(actor_node(dot.node.as_str()));
        ctx = next;
        let entries = ctx.version_vector().len();
        assert!(
            entries <= coordinators.len() + SLACK,
            "after {i} restarts and {ring_changes} ring changes the context holds {entries} \
             entries for {} coordinating nodes: {:?}",
            coordinators.len(),
            ctx.version_vector()
        );
        c.run_for(50);
        c.crash(at, i % 2 == 0);
        c.restart(at);
        settle(&mut c);
    }
    let epochs = ring_epoch(&c, 0) - first_epoch;
    let entries = ctx.version_vector().len();
    let bytes = ctx.to_bytes().len();
    println!(
        "{}: after {RESTARTS} restarts and {ring_changes} ring changes ({epochs} ring epochs): \
         {entries} context entries, {bytes} bytes, {} coordinating nodes: {}",
        if rotate {
            "each primary in turn"
        } else {
            "first primary"
        },
        coordinators.len(),
        ctx.version_vector()
    );
    assert_eq!(ring_changes, RING_CHANGES);
    assert!(epochs >= RING_CHANGES as u64, "{epochs} ring epochs");
    (entries, bytes, coordinators.len())
}
