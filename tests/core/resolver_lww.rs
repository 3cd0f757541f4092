//! Last-writer-wins (explicit opt-in): among concurrent siblings the greatest
//! `(timestamp_ms, dot)` wins; causality still comes first; siblings stay stored.

use ringlet::core::dvv::{Dot, Siblings, Value, Version, VersionVector};
use ringlet::core::resolve::{resolve, Resolved, Resolver};

fn version(
    node: &str,
    counter: u64,
    past: &[(&str, u64)],
    value: Option<&str>,
    ts: u64,
) -> Version {
    Version {
        dot: Dot::new(node, counter),
        past: VersionVector::from_pairs(past.iter().copied()),
        value: value.map_or(Value::Tombstone, |v| Value::Data(v.into())),
        timestamp_ms: ts,
    }
}

fn lww(s: &Siblings) -> Resolved {
    resolve(Resolver::LastWriterWins, s).unwrap()
}

fn single(v: &str) -> Resolved {
    Resolved::Single(Some(v.into()))
}

#[test]
fn greatest_timestamp_wins_whatever_the_dot() {
    let s = Siblings::from_versions([
        version("Sx", 1, &[], Some("early"), 100),
        version("Sy", 1, &[], Some("late"), 200),
        version("Sz", 1, &[], Some("middle"), 150),
    ]);
    assert_eq!(s.len(), 3, "LWW resolves on read; the siblings stay stored");
    assert_eq!(lww(&s), single("late"));
    // Reversing which node wrote last reverses the winner.
    let s = Siblings::from_versions([
        version("Sx", 1, &[], Some("late"), 200),
        version("Sy", 1, &[], Some("early"), 100),
    ]);
    assert_eq!(lww(&s), single("late"));
}

#[test]
fn equal_timestamps_break_ties_by_dot() {
    let s = Siblings::from_versions([
        version("Sy", 1, &[], Some("from Sy"), 100),
        version("Sx", 7, &[], Some("from Sx"), 100),
    ]);
    assert_eq!(
        lww(&s),
        single("from Sy"),
        "(Sy,1) > (Sx,7): node first, then counter"
    );
    let s = Siblings::from_versions([
        version("Sx", 2, &[], Some("second"), 100),
        version("Sx", 1, &[], Some("first"), 100),
    ]);
    assert_eq!(lww(&s), single("second"));
}

#[test]
fn causality_beats_timestamps() {
    // A write that had seen the other replaces it even with a smaller (skewed) timestamp.
    let s = Siblings::from_versions([
        version("Sx", 1, &[], Some("old"), 500),
        version("Sy", 1, &[("Sx", 1)], Some("new"), 100),
    ]);
    assert_eq!(s.len(), 1);
    assert_eq!(lww(&s), single("new"));
}

#[test]
fn tombstone_or_nothing_gives_none() {
    let s = Siblings::from_versions([
        version("Sx", 1, &[], Some("data"), 100),
        version("Sy", 1, &[], None, 200),
    ]);
    assert_eq!(lww(&s), Resolved::Single(None));
    assert_eq!(lww(&Siblings::new()), Resolved::Single(None));
    // The siblings resolver leaves the tombstone out and keeps dot order.
    assert_eq!(
        resolve(Resolver::Siblings, &s).unwrap(),
        Resolved::Siblings(vec!["data".into()])
    );
}
