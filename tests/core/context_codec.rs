//! The client context's binary codec: compact, canonical, round-trips, never panics on
//! arbitrary bytes, and rejects each kind of malformed input with its own typed error.

use proptest::prelude::*;
use ringlet::core::context::{Context, ContextError};
use ringlet::core::dvv::VersionVector;

fn ctx(pairs: &[(&str, u64)]) -> Context {
    Context::from(VersionVector::from_pairs(pairs.iter().copied()))
}

fn decode(bytes: &[u8]) -> Result<Context, ContextError> {
    Context::from_bytes(bytes)
}

#[test]
fn paper_context_is_compact_and_exact() {
    let c = ctx(&[("Sx", 2), ("Sy", 1), ("Sz", 1)]);
    let bytes = c.to_bytes();
    assert_eq!(
        bytes,
        [1, 3, 2, b'S', b'x', 2, 2, b'S', b'y', 1, 2, b'S', b'z', 1]
    );
    assert!(bytes.len() < 20);
    assert_eq!(decode(&bytes), Ok(c.clone()));
    assert_eq!(c.to_string(), "[(Sx,2),(Sy,1),(Sz,1)]");
    assert_eq!(c.version_vector().to_string(), "[(Sx,2),(Sy,1),(Sz,1)]");
}

#[test]
fn empty_context_is_two_bytes() {
    let c = Context::default();
    assert!(c.is_empty());
    assert_eq!(c.to_bytes(), [1, 0]);
    assert_eq!(decode(&[1, 0]), Ok(c));
}

#[test]
fn each_rejection_has_its_typed_error() {
    use ContextError::*;
    let cases: Vec<(&str, Vec<u8>, ContextError)> = vec![
        ("empty input", vec![], Truncated { offset: 0 }),
        ("wrong version", vec![3, 0], UnsupportedVersion { found: 3 }),
        ("version zero", vec![0], UnsupportedVersion { found: 0 }),
        ("no count", vec![1], Truncated { offset: 1 }),
        (
            "count cut mid-varint",
            vec![1, 0x80],
            Truncated { offset: 1 },
        ),
        ("missing entry", vec![1, 1], TooManyEntries { count: 1 }),
        (
            "name cut short",
            vec![1, 1, 2, b'S'],
            Truncated { offset: 3 },
        ),
        (
            "missing counter",
            vec![1, 1, 2, b'S', b'x'],
            Truncated { offset: 5 },
        ),
        (
            "trailing bytes",
            vec![1, 1, 2, b'S', b'x', 1, 9, 9],
            TrailingBytes { extra: 2 },
        ),
        (
            "invalid utf-8",
            vec![1, 1, 2, 0xff, 0xfe, 1],
            InvalidUtf8 { entry: 0 },
        ),
        (
            "zero counter",
            vec![1, 1, 2, b'S', b'x', 0],
            ZeroCounter { entry: 0 },
        ),
        (
            "unsorted entries",
            vec![1, 2, 2, b'S', b'y', 1, 2, b'S', b'x', 1],
            NotCanonical { entry: 1 },
        ),
        (
            "repeated entry",
            vec![1, 2, 2, b'S', b'x', 1, 2, b'S', b'x', 2],
            NotCanonical { entry: 1 },
        ),
        (
            "name too long",
            vec![1, 1, 0x80, 0x02],
            NameTooLong { entry: 0, len: 256 },
        ),
        (
            "absurd count",
            vec![1, 0x91, 0x4e],
            TooManyEntries { count: 10_001 },
        ),
        (
            "huge count",
            [vec![1], vec![0xff; 9], vec![1]].concat(),
            TooManyEntries { count: u64::MAX },
        ),
        (
            "non-minimal varint",
            vec![1, 0x80, 0x00],
            BadVarint { offset: 1 },
        ),
        (
            "varint over 64 bits",
            [vec![1], vec![0xff; 9], vec![2]].concat(),
            BadVarint { offset: 1 },
        ),
        (
            "varint over 10 bytes",
            [vec![1], vec![0x80; 10], vec![0]].concat(),
            BadVarint { offset: 1 },
        ),
    ];
    for (what, bytes, want) in cases {
        let got = decode(&bytes);
        assert_eq!(got, Err(want.clone()), "{what}");
        // Every error reads as a sentence and has a stable code.
        assert!(!want.to_string().is_empty());
        assert!(want.code().starts_with("context_"));
        let _: &dyn std::error::Error = &want;
    }
}

#[test]
fn any_size_the_core_can_write_decodes() {
    // No entry limit below what the core can emit: 20,000 actors round-trip.
    let names: Vec<String> = (0..20_000).map(|i| format!("n{i:05}")).collect();
    let entries: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    let c = ctx(&entries);
    assert_eq!(decode(&c.to_bytes()), Ok(c));
}

#[test]
fn limits_are_inclusive() {
    let name = "n".repeat(255);
    let c = ctx(&[(name.as_str(), u64::MAX)]);
    assert_eq!(decode(&c.to_bytes()), Ok(c));
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9]{0,8}",
        ".{0,12}", // arbitrary unicode, including multi-byte characters
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn roundtrip(entries in prop::collection::vec((name(), 1..=u64::MAX), 0..12)) {
        let vv = VersionVector::from_pairs(entries.iter().map(|(n, c)| (n.as_str(), *c)));
        let c = Context::from(vv);
        let bytes = c.to_bytes();
        prop_assert_eq!(decode(&bytes), Ok(c));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_input_is_canonical(
        bytes in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        if let Ok(c) = decode(&bytes) {
            prop_assert_eq!(c.to_bytes(), bytes);
        }
    }

    #[test]
    fn plausible_bytes_never_panic_and_accepted_input_is_canonical(
        count in 0u8..5,
        body in prop::collection::vec(prop_oneof![0u8..4, Just(b'S'), Just(b'x'), Just(b'y'), any::<u8>()], 0..32),
    ) {
        // A valid header so that decoding gets into the entries.
        let bytes = [vec![1, count], body].concat();
        if let Ok(c) = decode(&bytes) {
            prop_assert_eq!(c.to_bytes(), bytes);
        }
    }
}
