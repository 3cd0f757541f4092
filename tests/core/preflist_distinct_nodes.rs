//! The preference list of a partition starts at its owner, walks clockwise and names every
//! member exactly once: the first N are the distinct primaries, the rest the fallbacks
//! (§4.3). A key's partition is the top bits of its MD5 hash (§4.2).

use proptest::prelude::*;
use ringlet::core::hash::{key_hash, partition_of};
use ringlet::core::id::NodeId;
use ringlet::core::ring::{Member, Ring};

const N: usize = 3;

fn assert_preflists(ring: &Ring) {
    let members = ring.members();
    for p in 0..ring.q() {
        let preflist = ring.preflist(p);
        assert_eq!(&preflist[0], ring.owner(p));
        let mut sorted = preflist.clone();
        sorted.sort();
        assert_eq!(
            sorted, members,
            "partition {p} lists every member exactly once"
        );
        let primaries: Vec<&NodeId> = ring.preflist_iter(p).take(N).collect();
        assert_eq!(primaries.len(), N.min(members.len()));
        assert_eq!(primaries, preflist.iter().take(N).collect::<Vec<_>>());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_preflist_names_each_member_once_from_scratch_and_after_joins(
        q in prop::sample::select(vec![64u32, 256]),
        capacities in prop::collection::vec(1u32..=4, 1..=12),
    ) {
        let mut members = Vec::new();
        let mut ring: Option<Ring> = None;
        for (i, &c) in capacities.iter().enumerate() {
            members.push(Member::new(NodeId::new(&format!("n{i:02}")), c));
            let joined = Ring::claim(q, ring.as_ref(), &members, N).unwrap();
            assert_preflists(&joined);
            assert_preflists(&Ring::claim(q, None, &members, N).unwrap());
            ring = Some(joined);
        }
    }

    #[test]
    fn a_key_uses_the_preflist_of_the_top_bits_of_its_hash(
        key in prop::collection::vec(any::<u8>(), 0..32),
        bits in 0u32..=16,
    ) {
        let q = 1u32 << bits;
        let hash = key_hash(&key);
        let top = if bits == 0 { 0 } else { (hash >> (128 - bits)) as u32 };
        prop_assert_eq!(partition_of(hash, q), top);

        let members: Vec<Member> = ["a", "b", "c", "d"].map(|n| Member::new(n, 1)).to_vec();
        let ring = Ring::claim(q, None, &members, N).unwrap();
        prop_assert_eq!(ring.partition_of_key(&key), top);
        prop_assert_eq!(ring.preflist_for_key(&key), ring.preflist(top));
    }
}

#[test]
fn key_hash_is_md5_big_endian() {
    assert_eq!(key_hash(b""), 0xd41d8cd98f00b204e9800998ecf8427e);
    assert_eq!(
        key_hash(b"The quick brown fox jumps over the lazy dog"),
        0x9e107d9d372bb6826bd81d3542a419d6
    );
    let ring = Ring::claim(256, None, &[Member::new("a", 1)], N).unwrap();
    assert_eq!(ring.partition_of_key(b""), 0xd4);
}

#[test]
fn preflist_walks_clockwise_skipping_nodes_already_listed() {
    let owners = ["a", "a", "b", "a", "c", "b", "d", "c"]
        .map(NodeId::new)
        .to_vec();
    let ring = Ring::from_owners(owners).unwrap();
    let names = |p: u32| -> String { ring.preflist(p).iter().map(|n| n.as_str()).collect() };
    assert_eq!(names(0), "abcd");
    assert_eq!(names(4), "cbda");
    // Wraps past the last partition, and partition numbers wrap too.
    assert_eq!(names(7), "cabd");
    assert_eq!(names(15), "cabd");
    let key = b"any key";
    let p = ring.partition_of_key(key);
    assert_eq!(ring.preflist_for_key(key), ring.preflist(p));
}
