//! Context format 2: a context read from a counter key carries the counter state the read
//! returned. It round-trips, has exactly one encoding, and malformed states are typed
//! errors (never a panic).

use ringlet::core::context::{Context, ContextError, FORMAT_VERSION_COUNTER};
use ringlet::core::resolve::{encode_counter_state, CounterState};
use ringlet::core::{NodeId, VersionVector};

fn state(totals: &[(&str, u64, u64)], reset: &[(&str, u64, u64)]) -> CounterState {
    let map = |e: &[(&str, u64, u64)]| {
        e.iter()
            .map(|&(n, i, d)| (NodeId::new(n), (i, d)))
            .collect()
    };
    CounterState {
        totals: map(totals),
        reset: map(reset),
    }
}

fn counter_ctx() -> Context {
    Context::with_counter(
        VersionVector::from_pairs([("Sx", 2), ("Sy", 1)]),
        state(&[("Sx", 5, 1), ("Sy", 3, 0)], &[("Sx", 2, 0)]),
    )
}

#[test]
fn a_counter_context_round_trips_with_its_state() {
    let c = counter_ctx();
    let bytes = c.to_bytes();
    assert_eq!(bytes[0], FORMAT_VERSION_COUNTER);
    let back = Context::from_bytes(&bytes).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.to_bytes(), bytes, "one encoding");
    assert_eq!(back.observed_counter().unwrap().value(), 5);
    // A plain context stays format 1, byte for byte what older builds wrote.
    let plain = Context::from(VersionVector::from_pairs([("Sx", 2)]));
    assert_eq!(plain.to_bytes(), vec![1, 1, 2, b'S', b'x', 2]);
}

#[test]
fn malformed_states_are_typed_errors() {
    let good = counter_ctx().to_bytes();
    let vv_len = Context::from(counter_ctx().version_vector().clone())
        .to_bytes()
        .len();
    let mut cases: Vec<(&str, Vec<u8>, ContextError)> = Vec::new();
    // Truncated anywhere in the state.
    for cut in vv_len..good.len() {
        let got = Context::from_bytes(&good[..cut]).unwrap_err();
        assert!(
            matches!(
                got,
                ContextError::Truncated { .. } | ContextError::BadCounterState { .. }
            ),
            "cut at {cut}: {got:?}"
        );
    }
    // A state of the wrong kind (a set state's tag).
    let mut wrong = good[..vv_len].to_vec();
    wrong[0] = FORMAT_VERSION_COUNTER;
    wrong.extend_from_slice(&[1, b's']);
    cases.push((
        "wrong tag",
        wrong,
        ContextError::BadCounterState { offset: vv_len },
    ));
    // A non-canonical state: format 'r' with an empty reset.
    let mut noncanon = good[..vv_len].to_vec();
    noncanon[0] = FORMAT_VERSION_COUNTER;
    let body = encode_counter_state(&state(&[("Sx", 1, 0)], &[]));
    let mut r = body.to_vec();
    r[0] = b'r';
    r.push(0);
    noncanon.push(r.len() as u8);
    noncanon.extend_from_slice(&r);
    cases.push((
        "empty reset",
        noncanon,
        ContextError::BadCounterState { offset: vv_len },
    ));
    // Bytes after the state.
    let mut trailing = good.clone();
    trailing.push(0);
    cases.push((
        "trailing",
        trailing,
        ContextError::TrailingBytes { extra: 1 },
    ));
    // An unknown format version.
    let mut v3 = good.clone();
    v3[0] = 3;
    cases.push((
        "version 3",
        v3,
        ContextError::UnsupportedVersion { found: 3 },
    ));
    for (what, bytes, want) in cases {
        assert_eq!(Context::from_bytes(&bytes), Err(want.clone()), "{what}");
        assert!(want.code().starts_with("context_"));
        assert!(!want.to_string().is_empty());
    }
}
