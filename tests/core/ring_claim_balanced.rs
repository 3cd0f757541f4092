//! A claim gives every member its capacity-weighted share of the partitions, within one
//! partition, and the same members give the same ring whatever their order (§6.2 strategy 3).

use proptest::prelude::*;
use ringlet::core::id::NodeId;
use ringlet::core::ring::{Member, Ring};

fn members(capacities: &[u32]) -> Vec<Member> {
    capacities
        .iter()
        .enumerate()
        .map(|(i, &c)| Member::new(NodeId::new(&format!("n{i:02}")), c))
        .collect()
}

/// Every member owns within one partition of `q * capacity / total`, and only members own.
fn assert_balanced(ring: &Ring, members: &[Member]) {
    let q = u64::from(ring.q());
    let total: u64 = members.iter().map(|m| u64::from(m.capacity)).sum();
    let load = ring.load();
    assert_eq!(load.values().map(|&n| u64::from(n)).sum::<u64>(), q);
    for m in members {
        let count = u64::from(load.get(&m.node).copied().unwrap_or(0));
        // |count - q * capacity / total| < 1, in integers.
        let exact = q * u64::from(m.capacity);
        assert!(
            count * total + total > exact && exact + total > count * total,
            "{} owns {count} of {q} with capacity {} of {total}",
            m.node,
            m.capacity
        );
    }
    assert!(load.keys().all(|n| members.iter().any(|m| &m.node == n)));
    assert_eq!(ring.members(), load.keys().cloned().collect::<Vec<_>>());
}

fn q_strategy() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![8u32, 64, 256, 1024])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn first_claim_is_balanced_and_order_independent(
        q in q_strategy(),
        capacities in prop::collection::vec(1u32..=4, 1..=20),
        n_val in 1usize..=5,
        order in any::<prop::sample::Index>(),
    ) {
        let sorted = members(&capacities);
        let ring = Ring::claim(q, None, &sorted, n_val).unwrap();
        assert_balanced(&ring, &sorted);

        // Reversed and rotated: the ring depends on the set of members, not their order.
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.rotate_left(order.index(sorted.len()));
        prop_assert_eq!(&Ring::claim(q, None, &shuffled, n_val).unwrap(), &ring);
        prop_assert_eq!(&Ring::claim(q, None, &sorted, n_val).unwrap(), &ring);
    }

    #[test]
    fn claim_over_a_previous_ring_is_balanced_and_order_independent(
        q in q_strategy(),
        before in prop::collection::vec(1u32..=4, 1..=20),
        after in prop::collection::vec(1u32..=4, 1..=20),
        n_val in 1usize..=5,
    ) {
        // The two member lists share their first nodes, with capacities that may differ.
        let previous = Ring::claim(q, None, &members(&before), n_val).unwrap();
        let now = members(&after);
        let ring = Ring::claim(q, Some(&previous), &now, n_val).unwrap();
        assert_balanced(&ring, &now);

        let reversed: Vec<Member> = now.iter().rev().cloned().collect();
        prop_assert_eq!(&Ring::claim(q, Some(&previous), &reversed, n_val).unwrap(), &ring);
    }
}

#[test]
fn capacity_weights_the_share() {
    let ring = Ring::claim(64, None, &[Member::new("a", 1), Member::new("b", 3)], 3).unwrap();
    let load = ring.load();
    assert_eq!(load[&NodeId::new("a")], 16);
    assert_eq!(load[&NodeId::new("b")], 48);
}

#[test]
fn largest_remainders_get_the_leftover_partitions_ties_to_the_smaller_id() {
    // 8 / 3 = 2 rem 2: the two smallest ids get 3.
    let three = [
        Member::new("c", 1),
        Member::new("a", 1),
        Member::new("b", 1),
    ];
    let load = Ring::claim(8, None, &three, 3).unwrap().load();
    let counts: Vec<u32> = load.values().copied().collect();
    assert_eq!(counts, vec![3, 3, 2]);
}

#[test]
fn a_node_listed_twice_counts_once() {
    let twice = [
        Member::new("a", 1),
        Member::new("b", 1),
        Member::new("a", 1),
    ];
    let once = [Member::new("a", 1), Member::new("b", 1)];
    assert_eq!(
        Ring::claim(64, None, &twice, 3).unwrap(),
        Ring::claim(64, None, &once, 3).unwrap()
    );
}

#[test]
fn consecutive_partitions_rotate_among_equal_nodes() {
    let four: Vec<Member> = ["a", "b", "c", "d"].map(|n| Member::new(n, 1)).to_vec();
    let ring = Ring::claim(16, None, &four, 3).unwrap();
    let names: String = ring.owners().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, "abcdabcdabcdabcd");
}
