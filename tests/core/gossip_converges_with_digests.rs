//! Push-pull gossip with digests (§4.8): two views that run one exchange end equal, and an
//! exchange between equal views costs one small round trip.

use ringlet::core::gossip::{open, respond, GossipMsg};
use ringlet::core::membership::{Membership, Status};
use ringlet::core::NodeId;

/// Run one exchange from `a` to `b`; returns the messages' encoded sizes.
fn exchange(a: &mut Membership, b: &mut Membership) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut msg: Option<GossipMsg> = Some(open(a));
    let mut to_b = true;
    let mut changed = false;
    while let Some(m) = msg {
        sizes.push(postcard::to_allocvec(&m).map(|v| v.len()).unwrap_or(0));
        msg = if to_b {
            respond(b, m, &mut changed)
        } else {
            respond(a, m, &mut changed)
        };
        to_b = !to_b;
    }
    sizes
}

fn view(names: impl Iterator<Item = String>) -> Membership {
    let mut m = Membership::new();
    for n in names {
        m.set(&NodeId::new(&n), Status::Valid, 1);
    }
    m
}

#[test]
fn one_exchange_makes_two_views_equal() {
    let mut a = view((0..1000).map(|i| format!("node{i}")));
    let mut b = a.clone();
    a.set(&NodeId::new("new-a"), Status::Joining, 1);
    b.set(&NodeId::new("new-b"), Status::Joining, 2);
    b.set(&NodeId::new("node7"), Status::Leaving, 1);
    let sizes = exchange(&mut a, &mut b);
    assert_eq!(a, b);
    assert_eq!(
        a.get(&NodeId::new("node7")).map(|i| i.status),
        Some(Status::Leaving)
    );
    assert_eq!(sizes.len(), 5, "syn, groups, leaves, entries, entries");
    let total: usize = sizes.iter().sum();
    assert!(
        total < 3_000,
        "a 3-entry difference among 1000 members cost {total} bytes"
    );
}

#[test]
fn equal_views_cost_one_round_trip() {
    let mut a = view((0..5000).map(|i| format!("node{i}")));
    let mut b = a.clone();
    let sizes = exchange(&mut a, &mut b);
    assert_eq!(sizes.len(), 2, "syn and its answer");
    assert!(sizes.iter().sum::<usize>() < 100, "{sizes:?}");
}

#[test]
fn cost_of_one_difference_does_not_grow_with_the_cluster() {
    let mut costs = Vec::new();
    for n in [100usize, 1000, 5000] {
        let mut a = view((0..n).map(|i| format!("node{i}")));
        let mut b = a.clone();
        b.set(&NodeId::new("joiner"), Status::Joining, 1);
        costs.push(exchange(&mut a, &mut b).iter().sum::<usize>());
        assert_eq!(a, b);
    }
    assert!(
        costs[2] < costs[0] * 2,
        "bytes per exchange grew with the cluster: {costs:?}"
    );
}
