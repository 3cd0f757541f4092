//! Properties of DVV sync over random histories: replicas write with contexts taken from
//! random earlier reads (anywhere in the cluster), and sync at random. Sync must be a join
//! (commutative, associative, idempotent, an upper bound), keep an antichain, never discard
//! a version nobody had seen, and lose nothing: after full sync every written version is
//! present or in the past of a present one.

use proptest::prelude::*;
use proptest::sample::Index;
use ringlet::core::dvv::{Dot, Siblings, Value, Version, VersionVector};
use ringlet::core::id::NodeId;

const NODES: [&str; 3] = ["Sx", "Sy", "Sz"];

#[derive(Clone, Debug)]
enum Step {
    /// A put through `replica` with the context of a random earlier read.
    Write {
        replica: usize,
        context: Index,
        tombstone: bool,
    },
    /// A get at `replica`; its context becomes available to later writes.
    Read { replica: usize },
    /// `to` merges `from`'s set.
    Sync { from: usize, to: usize },
    /// Keep a copy of `replica`'s current (soon stale) set for the join properties.
    Snapshot { replica: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let r = 0..NODES.len();
    prop_oneof![
        4 => (r.clone(), any::<Index>(), prop::bool::weighted(0.15)).prop_map(
            |(replica, context, tombstone)| Step::Write { replica, context, tombstone }
        ),
        2 => r.clone().prop_map(|replica| Step::Read { replica }),
        3 => (r.clone(), r.clone()).prop_map(|(from, to)| Step::Sync { from, to }),
        1 => r.prop_map(|replica| Step::Snapshot { replica }),
    ]
}

struct History {
    replicas: Vec<Siblings>,
    written: Vec<Version>,
    /// Snapshots and final states: every set a sync could ever be asked to merge.
    pool: Vec<Siblings>,
}

fn run(steps: &[Step]) -> History {
    let mut replicas = vec![Siblings::new(); NODES.len()];
    let mut contexts = vec![VersionVector::new()];
    let mut written = Vec::new();
    let mut pool = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Write {
                replica,
                context,
                tombstone,
            } => {
                let ctx = contexts[context.index(contexts.len())].clone();
                let node = NodeId::new(NODES[*replica]);
                let counter = replicas[*replica].max_counter(&node).max(ctx.get(&node)) + 1;
                let value = if *tombstone {
                    Value::Tombstone
                } else {
                    Value::Data(format!("w{i}").as_str().into())
                };
                let v = Version {
                    dot: Dot::new(node, counter),
                    past: ctx,
                    value,
                    timestamp_ms: i as u64,
                };
                assert!(
                    replicas[*replica].add(v.clone()),
                    "a fresh dot is always stored"
                );
                written.push(v);
            }
            Step::Read { replica } => contexts.push(replicas[*replica].context()),
            Step::Sync { from, to } => {
                let src = replicas[*from].clone();
                replicas[*to].sync(&src);
            }
            Step::Snapshot { replica } => pool.push(replicas[*replica].clone()),
        }
    }
    pool.extend(replicas.iter().cloned());
    History {
        replicas,
        written,
        pool,
    }
}

fn join(a: &Siblings, b: &Siblings) -> Siblings {
    let mut out = a.clone();
    out.sync(b);
    out
}

/// No version's dot is in another's past, and no dot appears twice.
fn is_antichain(s: &Siblings) -> bool {
    let v = s.versions();
    v.iter().enumerate().all(|(i, x)| {
        v.iter()
            .enumerate()
            .all(|(j, y)| i == j || (x.dot != y.dot && !y.past.covers(&x.dot)))
    })
}

fn contains(s: &Siblings, v: &Version) -> bool {
    s.versions().iter().any(|x| x == v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sync_is_a_join_that_discards_only_seen_versions(
        steps in prop::collection::vec(step(), 1..48),
        picks in [any::<Index>(), any::<Index>(), any::<Index>()],
    ) {
        let h = run(&steps);
        for s in &h.pool {
            prop_assert!(is_antichain(s), "replica state is not an antichain: {s:?}");
        }
        let [a, b, c] = picks.map(|i| &h.pool[i.index(h.pool.len())]);
        let ab = join(a, b);

        // Commutative (as sets: a Siblings is sorted by dot), associative, idempotent.
        prop_assert_eq!(&ab, &join(b, a));
        prop_assert_eq!(join(&ab, c), join(a, &join(b, c)));
        prop_assert_eq!(&join(a, a), a);
        prop_assert_eq!(&join(&ab, b), &ab);
        prop_assert_eq!(&join(&ab, &ab), &ab);

        // An upper bound made only of the inputs' versions, with ancestors discarded.
        prop_assert!(a.is_covered_by(&ab) && b.is_covered_by(&ab));
        prop_assert!(ab.versions().iter().all(|v| contains(a, v) || contains(b, v)));
        prop_assert!(is_antichain(&ab), "join is not an antichain: {ab:?}");

        // A version no other version has seen always survives.
        let all: Vec<&Version> = a.versions().iter().chain(b.versions()).collect();
        for v in &all {
            let seen = all.iter().any(|w| w.dot != v.dot && w.past.covers(&v.dot));
            if !seen {
                prop_assert!(contains(&ab, v), "concurrent version {} was dropped", v.dot);
            }
        }
    }

    #[test]
    fn full_sync_converges_and_loses_nothing(steps in prop::collection::vec(step(), 1..64)) {
        let mut h = run(&steps);
        let n = h.replicas.len();
        // Anti-entropy in a ring, twice round: every replica ends with everything.
        for _ in 0..2 {
            for i in 0..n {
                let src = h.replicas[i].clone();
                h.replicas[(i + 1) % n].sync(&src);
            }
        }
        for r in &h.replicas[1..] {
            prop_assert_eq!(r, &h.replicas[0]);
        }
        let fin = &h.replicas[0];
        prop_assert!(is_antichain(fin));
        for w in &h.written {
            let kept = fin
                .versions()
                .iter()
                .any(|v| v.dot == w.dot || v.past.covers(&w.dot));
            prop_assert!(kept, "write {} silently lost; final {:?}", w.dot, fin);
        }
        // The final set is exactly the written versions no other written version has seen.
        let expected = Siblings::from_versions(h.written.iter().filter(|w| {
            !h.written.iter().any(|o| o.dot != w.dot && o.past.covers(&w.dot))
        }).cloned());
        prop_assert_eq!(fin, &expected);
    }
}
