//! Choosing a resolver per key: names parse and print, the longest matching prefix wins,
//! and siblings stay the default.

use ringlet::core::resolve::{Resolver, ResolverRules};

#[test]
fn names_roundtrip_and_unknown_names_are_typed_errors() {
    for r in Resolver::ALL {
        assert_eq!(r.name().parse::<Resolver>(), Ok(r));
        assert_eq!(r.to_string(), r.name());
    }
    assert_eq!("lww".parse(), Ok(Resolver::LastWriterWins));
    assert_eq!("set".parse(), Ok(Resolver::AddWinsSet));
    let err = "LWW".parse::<Resolver>().unwrap_err();
    assert_eq!(err.name, "LWW");
    assert!(err.to_string().contains("LWW"));
    assert_eq!(Resolver::default(), Resolver::Siblings);
    assert!(Resolver::Counter.is_crdt() && Resolver::AddWinsSet.is_crdt());
    assert!(!Resolver::Siblings.is_crdt() && !Resolver::LastWriterWins.is_crdt());
}

#[test]
fn longest_prefix_wins_and_siblings_is_the_default() {
    let rules = ResolverRules::new()
        .with(b"cart/", Resolver::AddWinsSet)
        .with("cart/vip/", Resolver::LastWriterWins)
        .with("likes/", Resolver::Counter)
        .with("cart/vip/raw/", Resolver::Siblings);
    assert_eq!(rules.for_key(b"cart/alice"), Resolver::AddWinsSet);
    assert_eq!(rules.for_key(b"cart/"), Resolver::AddWinsSet);
    assert_eq!(rules.for_key(b"cart/vip/bob"), Resolver::LastWriterWins);
    assert_eq!(rules.for_key(b"cart/vip/raw/x"), Resolver::Siblings);
    assert_eq!(rules.for_key(b"likes/post1"), Resolver::Counter);
    assert_eq!(rules.for_key(b"cart"), Resolver::Siblings);
    assert_eq!(rules.for_key(b"profile/alice"), Resolver::Siblings);
    assert_eq!(rules.for_key(b""), Resolver::Siblings);
    assert_eq!(
        ResolverRules::default().for_key(b"anything"),
        Resolver::Siblings
    );
}

#[test]
fn rules_are_canonical_values() {
    let a = ResolverRules::new()
        .with("b/", Resolver::Counter)
        .with("a/", Resolver::AddWinsSet)
        .with("b/", Resolver::LastWriterWins);
    let b = ResolverRules::new()
        .with("a/", Resolver::AddWinsSet)
        .with("b/", Resolver::LastWriterWins);
    assert_eq!(a, b);
    assert_eq!(a.rules().len(), 2);
    assert_eq!(a.for_key(b"b/1"), Resolver::LastWriterWins);

    // The empty prefix sets the default.
    let all_lww = ResolverRules::new().with("", Resolver::LastWriterWins);
    assert_eq!(all_lww.for_key(b"x"), Resolver::LastWriterWins);
}
