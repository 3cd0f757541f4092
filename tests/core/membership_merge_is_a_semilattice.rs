//! Membership views merge as a join-semilattice (§4.8): commutative, associative and
//! idempotent, so any two nodes that exchanged views hold the same one, in any order.

use proptest::prelude::*;
use ringlet::core::membership::{MemberInfo, Membership, RingState, Status};
use ringlet::core::{Member, NodeId, Ring};

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Joining),
        Just(Status::Valid),
        Just(Status::Leaving),
        Just(Status::Exiting),
        Just(Status::Down)
    ]
}

fn view() -> impl Strategy<Value = Membership> {
    let entry = (0u8..8, 1u64..5, status(), 1u32..4);
    let ring = proptest::option::of((1u64..4, 1usize..5));
    (proptest::collection::vec(entry, 0..12), ring).prop_map(|(entries, ring)| {
        let mut m = Membership::new();
        for (n, version, status, capacity) in entries {
            let node = NodeId::new(&format!("n{n}"));
            m.merge_member(
                &node,
                MemberInfo {
                    version,
                    status,
                    capacity,
                    durable: false,
                },
            );
        }
        if let Some((epoch, owners)) = ring {
            let members: Vec<Member> = (0..owners)
                .map(|i| Member::new(format!("n{i}").as_str(), 1))
                .collect();
            let ring = Ring::claim(16, None, &members, 3).expect("valid claim");
            m.merge_ring(&RingState { epoch, ring });
        }
        m
    })
}

fn merged(a: &Membership, b: &Membership) -> Membership {
    let mut x = a.clone();
    x.merge(b);
    x
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn commutative(a in view(), b in view()) {
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn associative(a in view(), b in view(), c in view()) {
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
    }

    #[test]
    fn idempotent(a in view(), b in view()) {
        let ab = merged(&a, &b);
        prop_assert_eq!(merged(&ab, &b), ab.clone());
        prop_assert_eq!(merged(&a, &a), a);
    }

    #[test]
    fn equal_views_have_equal_summaries(a in view(), b in view()) {
        let x = merged(&a, &b);
        let y = merged(&b, &a);
        prop_assert_eq!(x.summary(), y.summary());
        prop_assert_eq!(x.group_hashes(), y.group_hashes());
    }
}

#[test]
fn a_local_change_wins_over_the_old_entry() {
    let n = NodeId::new("a");
    let mut m = Membership::new();
    m.set(&n, Status::Joining, 1);
    let mut other = m.clone();
    other.set(&n, Status::Leaving, 1);
    assert!(m.merge(&other));
    assert_eq!(m.get(&n).map(|i| i.status), Some(Status::Leaving));
    assert!(
        !m.merge(&other),
        "merging the same view twice changes nothing"
    );
}
