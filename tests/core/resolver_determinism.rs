//! Resolution is a pure function of the sibling set: it does not depend on the order the
//! siblings arrived in nor on which replica computes it, and the CRDT resolvers give the
//! answer their specification predicts for any history of concurrent ops and syncs:
//! - counter: the sum of every op the replica has seen;
//! - add-wins set: element `e` is present iff some add of `e` the replica has seen was not
//!   seen by any other op on `e` (add or remove) nor by any delete.

use proptest::prelude::*;
use proptest::sample::Index;
use ringlet::core::bytes::Bytes;
use ringlet::core::dvv::{Dot, Siblings, Value, VersionVector};
use ringlet::core::id::NodeId;
use ringlet::core::resolve::{apply_op, resolve, Op, Resolved, Resolver};

const NODES: [&str; 3] = ["Sx", "Sy", "Sz"];
const ELEMS: [&str; 4] = ["a", "b", "c", "d"];

#[derive(Clone, Debug)]
enum Step {
    Count {
        replica: usize,
        delta: i64,
    },
    Add {
        replica: usize,
        elems: Vec<usize>,
    },
    Remove {
        replica: usize,
        elems: Vec<usize>,
    },
    /// A client delete of the set key with the replica's context.
    Delete {
        replica: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
    Snapshot {
        replica: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let r = 0..NODES.len();
    let elems = prop::collection::vec(0..ELEMS.len(), 0..3);
    prop_oneof![
        3 => (r.clone(), -5i64..=5).prop_map(|(replica, delta)| Step::Count { replica, delta }),
        3 => (r.clone(), elems.clone()).prop_map(|(replica, elems)| Step::Add { replica, elems }),
        2 => (r.clone(), elems).prop_map(|(replica, elems)| Step::Remove { replica, elems }),
        1 => r.clone().prop_map(|replica| Step::Delete { replica }),
        4 => (r.clone(), r.clone()).prop_map(|(from, to)| Step::Sync { from, to }),
        1 => r.prop_map(|replica| Step::Snapshot { replica }),
    ]
}

#[derive(Clone, Default)]
struct Replica {
    counter: Siblings,
    set: Siblings,
}

/// A set-key write, as the specification sees it.
struct SetWrite {
    dot: Dot,
    past: VersionVector,
    /// `None` for a delete (touches every element).
    touched: Option<Vec<Bytes>>,
    added: Vec<Bytes>,
}

struct Run {
    replicas: Vec<Replica>,
    counts: Vec<(Dot, i64)>,
    set_writes: Vec<SetWrite>,
    pool: Vec<Replica>,
}

fn write_op(
    key: &mut Siblings,
    resolver: Resolver,
    node: &str,
    op: &Op,
    ts: u64,
) -> (Dot, VersionVector) {
    let id = NodeId::new(node);
    let ctx = key.context();
    let dot = Dot::new(node, key.max_counter(&id).max(ctx.get(&id)) + 1);
    let state = apply_op(resolver, key, op, &id, &dot).expect("states written by apply_op decode");
    key.update(&ctx, dot.clone(), Value::Data(state), ts);
    (dot, ctx)
}

fn run(steps: &[Step]) -> Run {
    let mut rs = vec![Replica::default(); NODES.len()];
    let (mut counts, mut set_writes, mut pool) = (Vec::new(), Vec::new(), Vec::new());
    let bytes = |ix: &[usize]| -> Vec<Bytes> { ix.iter().map(|&i| ELEMS[i].into()).collect() };
    for (i, s) in steps.iter().enumerate() {
        let ts = (i as u64 * 7919) % 13; // skewed, colliding timestamps for LWW
        match s {
            Step::Count { replica, delta } => {
                let op = Op::CounterAdd(*delta);
                let (dot, _) = write_op(
                    &mut rs[*replica].counter,
                    Resolver::Counter,
                    NODES[*replica],
                    &op,
                    ts,
                );
                counts.push((dot, *delta));
            }
            Step::Add { replica, elems } | Step::Remove { replica, elems } => {
                let es = bytes(elems);
                let is_add = matches!(s, Step::Add { .. });
                let op = if is_add {
                    Op::SetAdd(es.clone())
                } else {
                    Op::SetRemove(es.clone())
                };
                let (dot, past) = write_op(
                    &mut rs[*replica].set,
                    Resolver::AddWinsSet,
                    NODES[*replica],
                    &op,
                    ts,
                );
                let added = if is_add { es.clone() } else { Vec::new() };
                set_writes.push(SetWrite {
                    dot,
                    past,
                    touched: Some(es),
                    added,
                });
            }
            Step::Delete { replica } => {
                let key = &mut rs[*replica].set;
                let id = NodeId::new(NODES[*replica]);
                let ctx = key.context();
                let dot = Dot::new(NODES[*replica], key.max_counter(&id) + 1);
                key.update(&ctx, dot.clone(), Value::Tombstone, ts);
                set_writes.push(SetWrite {
                    dot,
                    past: ctx,
                    touched: None,
                    added: Vec::new(),
                });
            }
            Step::Sync { from, to } => {
                let src = rs[*from].clone();
                rs[*to].counter.sync(&src.counter);
                rs[*to].set.sync(&src.set);
            }
            Step::Snapshot { replica } => pool.push(rs[*replica].clone()),
        }
    }
    pool.extend(rs.iter().cloned());
    Run {
        replicas: rs,
        counts,
        set_writes,
        pool,
    }
}

fn counter_of(s: &Siblings) -> i64 {
    match resolve(Resolver::Counter, s) {
        Ok(Resolved::Counter(v)) => v,
        other => panic!("counter resolution failed: {other:?}"),
    }
}

fn set_of(s: &Siblings) -> Vec<Bytes> {
    match resolve(Resolver::AddWinsSet, s) {
        Ok(Resolved::Set(v)) => v,
        other => panic!("set resolution failed: {other:?}"),
    }
}

/// The counter's specification over the ops a replica has seen.
fn expected_count(run: &Run, seen: &VersionVector) -> i64 {
    run.counts
        .iter()
        .filter(|(d, _)| seen.covers(d))
        .map(|(_, n)| n)
        .sum()
}

/// The add-wins set's specification over the writes a replica has seen.
fn expected_set(run: &Run, seen: &VersionVector) -> Vec<Bytes> {
    let known: Vec<&SetWrite> = run
        .set_writes
        .iter()
        .filter(|w| seen.covers(&w.dot))
        .collect();
    let mut out: Vec<Bytes> = ELEMS
        .iter()
        .map(|&e| Bytes::from(e))
        .filter(|e| {
            known.iter().any(|a| {
                a.added.contains(e)
                    && !known.iter().any(|o| {
                        o.dot != a.dot
                            && o.past.covers(&a.dot)
                            && o.touched.as_ref().is_none_or(|t| t.contains(e))
                    })
            })
        })
        .collect();
    out.sort();
    out
}

fn reversed(s: &Siblings) -> Siblings {
    Siblings::from_versions(s.versions().iter().rev().cloned())
}

fn join(a: &Siblings, b: &Siblings) -> Siblings {
    let mut out = a.clone();
    out.sync(b);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn every_replica_resolves_to_the_specification(steps in prop::collection::vec(step(), 1..48)) {
        let mut run = run(&steps);
        // Before convergence: each replica answers for exactly the ops it has seen.
        for r in &run.replicas {
            prop_assert_eq!(counter_of(&r.counter), expected_count(&run, &r.counter.context()));
            prop_assert_eq!(set_of(&r.set), expected_set(&run, &r.set.context()));
        }
        // After full sync: all replicas hold the same siblings and give the same answers,
        // which account for every op.
        let n = run.replicas.len();
        for _ in 0..2 {
            for i in 0..n {
                let src = run.replicas[i].clone();
                let dst = &mut run.replicas[(i + 1) % n];
                dst.counter.sync(&src.counter);
                dst.set.sync(&src.set);
            }
        }
        let total: i64 = run.counts.iter().map(|(_, d)| d).sum();
        let everything = run.replicas[0].set.context();
        let want_set = expected_set(&run, &everything);
        for r in &run.replicas {
            prop_assert_eq!(counter_of(&r.counter), total);
            prop_assert_eq!(&set_of(&r.set), &want_set);
            for resolver in Resolver::ALL {
                prop_assert_eq!(resolve(resolver, &r.set).ok(), resolve(resolver, &run.replicas[0].set).ok());
            }
        }
    }

    #[test]
    fn resolution_ignores_sibling_order_and_merge_order(
        steps in prop::collection::vec(step(), 1..48),
        picks in [any::<Index>(), any::<Index>()],
    ) {
        let run = run(&steps);
        let [a, b] = picks.map(|i| &run.pool[i.index(run.pool.len())]);
        for (x, y) in [(&a.counter, &b.counter), (&a.set, &b.set)] {
            let xy = join(x, y);
            let yx = join(y, x);
            for resolver in Resolver::ALL {
                let r = resolve(resolver, &xy);
                prop_assert_eq!(&r, &resolve(resolver, &yx));
                prop_assert_eq!(&r, &resolve(resolver, &reversed(&xy)));
                prop_assert_eq!(resolve(resolver, x), resolve(resolver, &reversed(x)));
            }
        }
    }
}
