//! The counter and set state codecs: round-trip, never panic on arbitrary bytes, and accept
//! only canonical encodings (so equal states are equal bytes on every replica).

use proptest::prelude::*;
use ringlet::core::bytes::Bytes;
use ringlet::core::dvv::Dot;
use ringlet::core::id::NodeId;
use ringlet::core::resolve::{
    decode_counter_state, decode_set_state, encode_counter_state, encode_set_state, CounterState,
    CounterTotals, SetState, COUNTER_RESET_STATE_TAG, COUNTER_STATE_TAG,
};

fn totals() -> impl Strategy<Value = CounterTotals> {
    prop::collection::btree_map(".{0,6}", (any::<u64>(), any::<u64>()), 0..6).prop_map(|m| {
        m.into_iter()
            .filter(|(_, (i, d))| *i > 0 || *d > 0)
            .map(|(n, v)| (NodeId::new(&n), v))
            .collect()
    })
}

fn counter_state() -> impl Strategy<Value = CounterState> {
    prop_oneof![
        totals().prop_map(CounterState::from_totals),
        (totals(), totals()).prop_map(|(totals, reset)| CounterState { totals, reset }),
    ]
}

#[test]
fn counter_format_follows_the_reset() {
    let mut st = CounterState::from_totals([(NodeId::new("a"), (5, 0))].into());
    // Without a reset: the original format, readable by nodes that predate resets.
    assert_eq!(
        encode_counter_state(&st).to_vec(),
        [COUNTER_STATE_TAG, 1, 1, b'a', 5, 0]
    );
    st.reset.insert(NodeId::new("a"), (5, 0));
    let bytes = encode_counter_state(&st);
    assert_eq!(
        bytes.to_vec(),
        [COUNTER_RESET_STATE_TAG, 1, 1, b'a', 5, 0, 1, 1, b'a', 5, 0]
    );
    assert_eq!(decode_counter_state(&bytes), Ok(st));
    // A reset format with an empty reset is a second encoding of a 'c' state: refused.
    assert!(decode_counter_state(&[COUNTER_RESET_STATE_TAG, 1, 1, b'a', 5, 0, 0]).is_err());
}

fn set_state() -> impl Strategy<Value = SetState> {
    let dot = ("[a-z]{0,3}", 1..=u64::MAX).prop_map(|(n, c)| Dot::new(n.as_str(), c));
    prop::collection::btree_map(
        prop::collection::vec(any::<u8>(), 0..6),
        prop::collection::btree_set(dot, 1..4),
        0..6,
    )
    .prop_map(|m| m.into_iter().map(|(e, d)| (Bytes::from(e), d)).collect())
}

fn plausible(tag: u8) -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..4,
        prop::collection::vec(prop_oneof![0u8..4, Just(b'x'), any::<u8>()], 0..40),
    )
        .prop_map(move |(n, body)| [vec![tag, n], body].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counter_roundtrip(st in counter_state()) {
        prop_assert_eq!(decode_counter_state(&encode_counter_state(&st)), Ok(st));
    }

    #[test]
    fn set_roundtrip(st in set_state()) {
        prop_assert_eq!(decode_set_state(&encode_set_state(&st)), Ok(st));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_states_are_canonical(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            plausible(b'c'),
            plausible(b'r'),
            plausible(b's'),
        ],
    ) {
        if let Ok(st) = decode_counter_state(&bytes) {
            prop_assert_eq!(encode_counter_state(&st).to_vec(), bytes.clone());
        }
        if let Ok(st) = decode_set_state(&bytes) {
            prop_assert_eq!(encode_set_state(&st).to_vec(), bytes);
        }
    }
}
