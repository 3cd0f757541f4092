//! Anti-entropy costs what the replicas disagree on, not what they hold (paper §4.7: "cost
//! grows with the differences, not the data size"): between two replicas of a 100,000-key
//! partition, one differing key costs under 4 KB; the bytes then grow with the number of
//! differences d, and for a fixed d hardly move when the partition grows tenfold.

use ringlet::core::hashtree::{Exchange, HashTree};

/// A 16-byte key.
fn key(i: usize) -> Vec<u8> {
    format!("key-{i:012}").into_bytes()
}

fn digest(i: usize, generation: u64) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ generation
}

fn tree_of(n: usize) -> HashTree {
    let mut t = HashTree::new();
    t.rebuild((0..n).map(|i| (key(i), digest(i, 0))));
    t
}

/// `a` with `d` differences spread over the keys: newer versions, missing and extra keys.
fn with_differences(a: &HashTree, n: usize, d: usize) -> HashTree {
    let mut b = a.clone();
    for j in 0..d {
        let i = j * (n / d);
        match j % 3 {
            0 => b.update(&key(i), Some(digest(i, 1))),
            1 => b.update(&key(i), None),
            _ => b.update(format!("new-{j:012}").as_bytes(), Some(digest(j, 2))),
        }
    }
    b
}

/// Bytes both ways and round trips of the exchange; checks it found exactly `d` keys.
fn cost(a: &HashTree, n: usize, d: usize) -> (u64, u64) {
    let b = with_differences(a, n, d);
    let (x, y) = Exchange::run(0, a, &b).expect("clean exchange");
    assert_eq!(x.differences().len(), d);
    assert_eq!(x.differing_keys(), y.differing_keys());
    let s = x.stats();
    (s.bytes(), s.round_trips())
}

#[test]
fn bytes_grow_with_differences_not_with_keys() {
    let n = 100_000;
    let a = tree_of(n);
    let (same, same_trips) = cost(&a, n, 0);
    let (one, one_trips) = cost(&a, n, 1);
    let (hundred, _) = cost(&a, n, 100);
    let (ten_k, _) = cost(&a, n, 10_000);
    eprintln!("n = {n}: d = 0: {same} B, 1: {one} B, 100: {hundred} B, 10,000: {ten_k} B");

    // In sync: one round trip, a few bytes.
    assert_eq!(same_trips, 1);
    assert!(same < 64, "{same}");
    // One difference: a few levels of child hashes and one small bucket.
    assert!(one < 4 * 1024, "{one}");
    assert!(one_trips <= 5, "{one_trips}");
    // Linear in d at most: no more per difference than for a single one...
    assert!(hundred < 100 * one, "{hundred}");
    assert!(ten_k < 10_000 * one, "{ten_k}");
    // ...and growing with d: the branches of far-apart differences are not shared.
    assert!(hundred > 10 * one, "{hundred}");
    assert!(ten_k > 10 * hundred, "{ten_k}");
    // Within a small factor of the lower bound d x (16-byte key + 32-byte version).
    assert!(ten_k < 4 * 10_000 * 48, "{ten_k}");
    // Far from shipping the partition (n x 24 bytes of keys and digests).
    assert!(hundred * 50 < (n as u64) * 24, "{hundred}");
}

#[test]
fn for_fixed_differences_bytes_barely_move_with_the_partition_size() {
    let (small_n, large_n) = (10_000, 100_000);
    let (small, _) = cost(&tree_of(small_n), small_n, 100);
    let (large, _) = cost(&tree_of(large_n), large_n, 100);
    eprintln!("d = 100: n = {small_n}: {small} B, n = {large_n}: {large} B");
    // Ten times the keys adds at most one level of the descent: far from ten times the bytes.
    assert!(large < 2 * small, "{small} -> {large}");
}
