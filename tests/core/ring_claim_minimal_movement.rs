//! When members join or leave, the claim moves only the partitions it must: a joining node
//! takes exactly its share and nothing else changes owner; a leaving node's partitions go
//! to the others and nothing else moves (§4.2, §6.2 strategy 3).

use proptest::prelude::*;
use ringlet::core::id::NodeId;
use ringlet::core::ring::{Member, Ring};

/// `s` nodes of capacity 1, named `n000`, `n010`, `n020`, ... so that a new name can sort
/// anywhere among them.
fn nodes(s: usize) -> Vec<Member> {
    (0..s)
        .map(|i| Member::new(NodeId::new(&format!("n{:03}", i * 10)), 1))
        .collect()
}

/// The least number of moves from `old` to any ring with the loads of `new`: each node
/// that owns fewer partitions must hand over the difference.
fn least_moves(old: &Ring, new: &Ring) -> usize {
    let new_load = new.load();
    old.load()
        .iter()
        .map(|(node, &n)| n.saturating_sub(new_load.get(node).copied().unwrap_or(0)) as usize)
        .sum()
}

fn q_strategy() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![64u32, 256, 1024])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_joining_node_takes_exactly_its_share_and_nothing_else_moves(
        q in q_strategy(),
        s in 1usize..=16,
        slot in 0usize..=160,
    ) {
        let before = nodes(s);
        let old = Ring::claim(q, None, &before, 3).unwrap();
        // A name between (or around) the existing ones, never equal to one of them.
        let new_node = NodeId::new(&format!("n{:03}", slot / 10 * 10 + 5));
        let mut after = before.clone();
        after.push(Member::new(new_node.clone(), 1));
        let ring = Ring::claim(q, Some(&old), &after, 3).unwrap();

        let moves = ring.moves_from(&old);
        prop_assert!(moves.iter().all(|(_, _, to)| to == &new_node));
        let share = ring.partitions_of(&new_node).len();
        prop_assert_eq!(moves.len(), share);
        let ideal = q as usize / (s + 1);
        prop_assert!(share == ideal || share == ideal + 1);
        for p in 0..q {
            if ring.owner(p) != &new_node {
                prop_assert_eq!(ring.owner(p), old.owner(p));
            }
        }
    }

    #[test]
    fn a_leaving_node_gives_up_only_its_partitions(
        q in q_strategy(),
        s in 2usize..=16,
        leaver in any::<prop::sample::Index>(),
    ) {
        let before = nodes(s);
        let old = Ring::claim(q, None, &before, 3).unwrap();
        let mut after = before.clone();
        let gone = after.remove(leaver.index(s)).node;
        let ring = Ring::claim(q, Some(&old), &after, 3).unwrap();

        let moves = ring.moves_from(&old);
        prop_assert!(moves.iter().all(|(_, from, _)| from == &gone));
        prop_assert_eq!(moves.len(), old.partitions_of(&gone).len());
        prop_assert!(ring.partitions_of(&gone).is_empty());
    }

    #[test]
    fn any_membership_change_moves_the_least_possible(
        q in q_strategy(),
        history in prop::collection::vec(prop::collection::btree_map(0u8..24, 1u32..=4, 1..=12), 2..=6),
    ) {
        // Successive memberships with weights; each claim starts from the previous ring.
        let mut previous: Option<Ring> = None;
        for step in &history {
            let members: Vec<Member> = step
                .iter()
                .map(|(&i, &c)| Member::new(NodeId::new(&format!("n{i:02}")), c))
                .collect();
            let ring = Ring::claim(q, previous.as_ref(), &members, 3).unwrap();
            if let Some(old) = &previous {
                let moves = ring.moves_from(old);
                prop_assert_eq!(moves.len(), least_moves(old, &ring));
                // Every move goes from a node that lost partitions to one that gained.
                let (old_load, new_load) = (old.load(), ring.load());
                let count = |load: &std::collections::BTreeMap<NodeId, u32>, n: &NodeId| {
                    load.get(n).copied().unwrap_or(0)
                };
                for (_, from, to) in &moves {
                    prop_assert!(count(&new_load, from) < count(&old_load, from));
                    prop_assert!(count(&new_load, to) > count(&old_load, to));
                }
            }
            previous = Some(ring);
        }
    }
}

#[test]
fn the_same_members_move_nothing() {
    let old = Ring::claim(256, None, &nodes(5), 3).unwrap();
    let again = Ring::claim(256, Some(&old), &nodes(5), 3).unwrap();
    assert_eq!(again, old);
    assert!(again.moves_from(&old).is_empty());
}

#[test]
fn doubling_q_moves_only_what_rounding_asks() {
    // Each old partition splits in two halves that keep its owner.
    let old = Ring::claim(64, None, &nodes(4), 3).unwrap();
    let doubled = Ring::claim(128, Some(&old), &nodes(4), 3).unwrap();
    assert!(doubled.moves_from(&old).is_empty());

    // 64 = 4 * 13 + 12 but 128 = 3 * 26 + 2 * 25: the fourth node hands one half to the fifth.
    let old = Ring::claim(64, None, &nodes(5), 3).unwrap();
    let doubled = Ring::claim(128, Some(&old), &nodes(5), 3).unwrap();
    let moves = doubled.moves_from(&old);
    assert_eq!(moves.len(), 1);
    assert_eq!((moves[0].1.as_str(), moves[0].2.as_str()), ("n030", "n040"));
}
