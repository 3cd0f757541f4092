//! A claim with a bad ring size, no members or a zero capacity, and a ring decoded from
//! malformed bytes, are refused with a typed error rather than a panic.

use ringlet::core::id::NodeId;
use ringlet::core::ring::{Member, Ring, RingError, MAX_Q};

fn two() -> Vec<Member> {
    vec![Member::new("a", 1), Member::new("b", 1)]
}

#[test]
fn q_must_be_a_power_of_two_within_bounds() {
    for q in [0, 3, 6, 100, 65535, MAX_Q * 2, u32::MAX] {
        assert_eq!(
            Ring::claim(q, None, &two(), 3),
            Err(RingError::QNotPowerOfTwo(q))
        );
    }
    for q in [1, 2, 4, MAX_Q] {
        assert_eq!(Ring::claim(q, None, &two(), 3).unwrap().q(), q);
    }
}

#[test]
fn a_claim_needs_members() {
    assert_eq!(Ring::claim(64, None, &[], 3), Err(RingError::NoMembers));
}

#[test]
fn capacity_zero_names_the_member() {
    let members = [
        Member::new("b", 0),
        Member::new("a", 2),
        Member::new("c", 0),
    ];
    assert_eq!(
        Ring::claim(64, None, &members, 3),
        Err(RingError::ZeroCapacity(NodeId::new("b")))
    );
}

#[test]
fn errors_say_what_happened() {
    assert_eq!(
        RingError::QNotPowerOfTwo(100).to_string(),
        "ring size 100 is not a power of two in 1..=65536"
    );
    assert_eq!(
        RingError::ZeroCapacity(NodeId::new("b")).to_string(),
        "member b has capacity 0; capacities must be at least 1"
    );
    let _: &dyn std::error::Error = &RingError::NoMembers;
}

#[test]
fn an_owner_list_must_have_a_power_of_two_length() {
    let three = ["a", "b", "c"].map(NodeId::new).to_vec();
    assert_eq!(Ring::from_owners(three), Err(RingError::QNotPowerOfTwo(3)));
    assert_eq!(
        Ring::from_owners(Vec::new()),
        Err(RingError::QNotPowerOfTwo(0))
    );
}

#[test]
fn a_decoded_ring_is_checked() {
    let ring = Ring::claim(8, None, &two(), 3).unwrap();
    let bytes = postcard::to_allocvec(&ring).unwrap();
    assert_eq!(postcard::from_bytes::<Ring>(&bytes).unwrap(), ring);

    // The same owners under a claimed size of 16: one entry per partition is missing.
    let mut wrong_q = bytes.clone();
    assert_eq!(wrong_q[0], 8);
    wrong_q[0] = 16;
    let err = postcard::from_bytes::<Ring>(&wrong_q).unwrap_err();
    assert!(matches!(err, postcard::Error::SerdeDeCustom));

    // A size that is not a power of two.
    let mut odd_q = bytes;
    odd_q[0] = 6;
    assert!(postcard::from_bytes::<Ring>(&odd_q).is_err());
}
