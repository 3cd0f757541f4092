//! A hash tree kept up to date write by write (paper §4.7: "updated incrementally") holds
//! exactly the hashes a rebuild from its final contents computes, at every stored level and
//! below, whatever the order of the writes.

use proptest::prelude::*;
use ringlet::core::hashtree::{HashTree, Shape};
use std::collections::BTreeMap;

/// Distinct keys of assorted lengths: the empty key, short keys, keys longer than 32 bytes.
fn key(i: u8) -> Vec<u8> {
    if i == 0 {
        return Vec::new();
    }
    format!("k{i}-")
        .repeat(1 + usize::from(i % 13))
        .into_bytes()
}

fn shape() -> impl Strategy<Value = Shape> {
    prop::sample::select(vec![(4, 3), (4, 0), (1, 6), (2, 4), (3, 2), (8, 1), (8, 2)])
        .prop_map(|(b, d)| Shape::new(b, d).expect("valid shape"))
}

/// Every hash the two trees can be asked for: all stored levels, the root, and the nodes on
/// the path of every key down to the deepest level.
fn assert_same_hashes(a: &HashTree, b: &HashTree, keys: &[Vec<u8>]) {
    let shape = a.shape();
    assert_eq!(a.root(), b.root());
    assert_eq!(a.len(), b.len());
    for depth in 0..=shape.stored_depth() {
        assert_eq!(a.level(depth), b.level(depth), "level {depth}");
    }
    assert_eq!(a.level(shape.stored_depth() + 1), None);
    let bits = u32::from(shape.fanout_bits());
    for k in keys {
        assert_eq!(a.get(k), b.get(k));
        let kh = ringlet::core::hashtree::key_hash64(k);
        for depth in 0..=shape.max_depth() {
            let s = u32::from(depth) * bits;
            let index = if s == 0 { 0 } else { kh >> (64 - s) };
            assert_eq!(
                a.node(depth, index),
                b.node(depth, index),
                "node ({depth}, {index})"
            );
        }
    }
    let ea: Vec<_> = a.iter().collect();
    let eb: Vec<_> = b.iter().collect();
    assert_eq!(ea, eb);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn incremental_updates_equal_a_rebuild(
        shape in shape(),
        ops in prop::collection::vec((0u8..60, prop::option::weighted(0.7, 0u64..4)), 0..300),
    ) {
        let mut tree = HashTree::with_shape(shape);
        let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for (k, d) in &ops {
            tree.update(&key(*k), *d);
            match d {
                Some(d) => model.insert(key(*k), *d),
                None => model.remove(&key(*k)),
            };
        }
        let mut rebuilt = HashTree::with_shape(shape);
        // Start from other contents: a rebuild replaces them.
        rebuilt.update(b"stale", Some(99));
        rebuilt.rebuild(model.iter().map(|(k, d)| (k.clone(), *d)));
        let keys: Vec<Vec<u8>> = (0..60).map(key).chain([b"stale".to_vec()]).collect();
        assert_same_hashes(&tree, &rebuilt, &keys);
        prop_assert_eq!(tree.len(), model.len());
        if model.is_empty() {
            prop_assert_eq!(tree.root(), 0);
        }
    }

    #[test]
    fn the_order_of_writes_does_not_matter(
        shape in shape(),
        contents in prop::collection::btree_map(0u8..60, any::<u64>(), 0..60),
        order in any::<u64>(),
        churn in prop::collection::vec(0u8..60, 0..40),
    ) {
        // Tree 1: the contents in key order.
        let mut first = HashTree::with_shape(shape);
        for (k, d) in &contents {
            first.update(&key(*k), Some(*d));
        }
        // Tree 2: other keys written and removed in between, the contents in another order.
        let mut entries: Vec<(u8, u64)> = contents.iter().map(|(k, d)| (*k, *d)).collect();
        let n = entries.len();
        let mut seed = order;
        for i in (1..n).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            entries.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut second = HashTree::with_shape(shape);
        for k in &churn {
            second.update(&key(*k), Some(7));
        }
        for (k, d) in &entries {
            second.update(&key(*k), Some(d.wrapping_add(1)));
            second.update(&key(*k), Some(*d));
        }
        for k in &churn {
            if !contents.contains_key(k) {
                second.update(&key(*k), None);
            }
        }
        let keys: Vec<Vec<u8>> = (0..60).map(key).collect();
        assert_same_hashes(&first, &second, &keys);
        // A rebuild given the pairs in any order, with duplicates, keeps the last digest.
        let mut rebuilt = HashTree::with_shape(shape);
        rebuilt.rebuild(
            entries.iter().map(|(k, d)| (key(*k), d ^ 1)).chain(entries.iter().map(|(k, d)| (key(*k), *d))),
        );
        assert_same_hashes(&first, &rebuilt, &keys);
    }
}

#[test]
fn a_write_changes_the_root_and_undoing_it_restores_it() {
    let mut t = HashTree::new();
    t.rebuild((0..1000u32).map(|i| (i.to_be_bytes().to_vec(), u64::from(i))));
    let root = t.root();
    t.update(&7u32.to_be_bytes(), Some(8));
    assert_ne!(t.root(), root);
    t.update(&7u32.to_be_bytes(), Some(7));
    assert_eq!(t.root(), root);
    t.update(b"new", Some(1));
    assert_ne!(t.root(), root);
    t.update(b"new", None);
    assert_eq!(t.root(), root);
}
