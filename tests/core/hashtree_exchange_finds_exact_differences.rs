//! Two replicas of a partition compare their hash trees (paper §4.7) and both end with
//! exactly the keys they disagree on: keys only one side holds and keys whose versions
//! differ, never a key they agree on. Equal trees cost one round trip.

use proptest::prelude::*;
use ringlet::core::hashtree::{Exchange, HashTree, KeyDiff, Shape};
use ringlet::core::Bytes;
use std::collections::BTreeMap;

/// What a key is on the two sides.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Shared,
    OnlyA,
    OnlyB,
    Changed,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        6 => Just(Kind::Shared),
        1 => Just(Kind::OnlyA),
        1 => Just(Kind::OnlyB),
        1 => Just(Kind::Changed),
    ]
}

/// Two stored depths on the same fan-out: the stored depth is each replica's own choice.
fn shapes() -> impl Strategy<Value = (Shape, Shape)> {
    (prop::sample::select(vec![1u8, 2, 4, 8]), 0u8..4, 0u8..4).prop_map(|(b, x, y)| {
        let cap = 24 / b;
        (
            Shape::new(b, x.min(cap)).expect("valid"),
            Shape::new(b, y.min(cap)).expect("valid"),
        )
    })
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..40)
}

fn expected_diff(
    contents: &BTreeMap<Vec<u8>, (u64, Kind)>,
) -> BTreeMap<Bytes, (Option<u64>, Option<u64>)> {
    contents
        .iter()
        .filter_map(|(k, (d, kind))| {
            let (a, b) = match kind {
                Kind::Shared => return None,
                Kind::OnlyA => (Some(*d), None),
                Kind::OnlyB => (None, Some(*d)),
                Kind::Changed => (Some(*d), Some(d.wrapping_add(1))),
            };
            Some((Bytes::new(k), (a, b)))
        })
        .collect()
}

fn trees(
    contents: &BTreeMap<Vec<u8>, (u64, Kind)>,
    (sa, sb): (Shape, Shape),
) -> (HashTree, HashTree) {
    let mut a = HashTree::with_shape(sa);
    let mut b = HashTree::with_shape(sb);
    for (k, (d, kind)) in contents {
        match kind {
            Kind::Shared => {
                a.update(k, Some(*d));
                b.update(k, Some(*d));
            }
            Kind::OnlyA => a.update(k, Some(*d)),
            Kind::OnlyB => b.update(k, Some(*d)),
            Kind::Changed => {
                a.update(k, Some(*d));
                b.update(k, Some(d.wrapping_add(1)));
            }
        }
    }
    (a, b)
}

fn seen_from(ex: &Exchange) -> BTreeMap<Bytes, (Option<u64>, Option<u64>)> {
    ex.differences()
        .iter()
        .map(|(k, KeyDiff { mine, theirs })| (k.clone(), (*mine, *theirs)))
        .collect()
}

fn flip(
    m: &BTreeMap<Bytes, (Option<u64>, Option<u64>)>,
) -> BTreeMap<Bytes, (Option<u64>, Option<u64>)> {
    m.iter().map(|(k, (a, b))| (k.clone(), (*b, *a))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn both_sides_find_exactly_the_differing_keys(
        shapes in shapes(),
        contents in prop::collection::btree_map(key(), (any::<u64>(), kind()), 0..400),
        partition in any::<u32>(),
    ) {
        let (a, b) = trees(&contents, shapes);
        let expected = expected_diff(&contents);
        let max_depth = u64::from(shapes.0.max_depth());

        // A opens.
        let (x, y) = Exchange::run(partition, &a, &b).expect("clean exchange");
        prop_assert!(x.is_done() && y.is_done());
        prop_assert_eq!(&seen_from(&x), &expected);
        prop_assert_eq!(&seen_from(&y), &flip(&expected));
        let s = x.stats();
        prop_assert!(s.messages_sent + s.messages_received <= max_depth + 3);
        prop_assert_eq!(s.messages_sent, y.stats().messages_received);
        prop_assert_eq!(s.bytes_sent, y.stats().bytes_received);
        prop_assert_eq!(s.bytes_received, y.stats().bytes_sent);
        if expected.is_empty() {
            prop_assert_eq!(s.round_trips(), 1);
        }

        // B opens: the same differences.
        let (y, x) = Exchange::run(partition, &b, &a).expect("clean exchange");
        prop_assert_eq!(&seen_from(&x), &expected);
        prop_assert_eq!(&seen_from(&y), &flip(&expected));
    }

    #[test]
    fn equal_trees_take_one_round_trip_and_find_nothing(
        shapes in shapes(),
        contents in prop::collection::btree_map(key(), any::<u64>(), 0..400),
    ) {
        let mut a = HashTree::with_shape(shapes.0);
        let mut b = HashTree::with_shape(shapes.1);
        // Written in opposite orders.
        for (k, d) in &contents {
            a.update(k, Some(*d));
        }
        for (k, d) in contents.iter().rev() {
            b.update(k, Some(*d));
        }
        let (x, y) = Exchange::run(3, &a, &b).expect("clean exchange");
        prop_assert!(x.differences().is_empty() && y.differences().is_empty());
        let s = x.stats();
        prop_assert_eq!((s.messages_sent, s.messages_received, s.round_trips()), (1, 1, 1));
    }
}

#[test]
fn an_empty_replica_learns_every_key() {
    let mut full = HashTree::new();
    full.rebuild((0..5000u32).map(|i| (i.to_le_bytes().to_vec(), u64::from(i))));
    let empty = HashTree::new();
    for (x, y) in [
        Exchange::run(1, &full, &empty).expect("clean"),
        Exchange::run(1, &empty, &full).expect("clean"),
    ] {
        assert_eq!(x.differences().len(), 5000);
        assert_eq!(x.differing_keys(), y.differing_keys());
    }
}

#[test]
fn keys_longer_than_the_listing_budget_are_found_at_the_deepest_level() {
    // A subtree is listed once its entries fit in the budget; a key longer than the budget
    // never does, so the descent goes to the deepest level, where everything is listed.
    for bits in [1u8, 4, 8] {
        let shape = Shape::new(bits, 2).expect("valid");
        let budget = Exchange::start(0, &HashTree::with_shape(shape))
            .0
            .keys_budget();
        let mut a = HashTree::with_shape(shape);
        let mut b = HashTree::with_shape(shape);
        let long = |i: u8| vec![i; budget + 1];
        for i in 0..20u8 {
            a.update(&long(i), Some(1));
            b.update(&long(i), Some(u64::from(i % 2 == 0) + 1));
        }
        let (x, y) = Exchange::run(0, &a, &b).expect("clean");
        let expected: Vec<Bytes> = (0..20u8).step_by(2).map(|i| Bytes::from(long(i))).collect();
        assert_eq!(x.differing_keys(), expected);
        assert_eq!(y.differing_keys(), expected);
        let s = x.stats();
        assert_eq!(
            s.messages_sent + s.messages_received,
            u64::from(shape.max_depth()) + 3,
            "fan-out 2^{bits}"
        );
    }
}
