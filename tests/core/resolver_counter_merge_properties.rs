//! The counter with observed resets is a join-semilattice: the merge of states (pointwise
//! maximum of the totals and of the resets) is commutative, associative and idempotent, so
//! every replica resolves the same value whatever order it merges siblings in. And through
//! random histories of increments, deletes (observed resets) and syncs, a reset never takes
//! away an increment its context had not seen.

use proptest::prelude::*;
use proptest::sample::Index;
use ringlet::core::dvv::{Dot, Siblings, Value, VersionVector};
use ringlet::core::id::NodeId;
use ringlet::core::resolve::{
    apply_op, resolve, CounterState, CounterTotals, Op, Resolved, Resolver,
};

const NODES: [&str; 3] = ["Sx", "Sy", "Sz"];

fn totals() -> impl Strategy<Value = CounterTotals> {
    prop::collection::btree_map(0..NODES.len(), (0u64..20, 0u64..20), 0..4).prop_map(|m| {
        m.into_iter()
            .map(|(n, v)| (NodeId::new(NODES[n]), v))
            .collect()
    })
}

fn state() -> impl Strategy<Value = CounterState> {
    (totals(), totals()).prop_map(|(totals, reset)| CounterState { totals, reset })
}

fn joined(a: &CounterState, b: &CounterState) -> CounterState {
    let mut out = a.clone();
    out.join(b);
    out
}

#[derive(Clone, Debug)]
enum Step {
    Add {
        replica: usize,
        delta: i64,
    },
    /// A delete at `replica` with the context of a random earlier read.
    Delete {
        replica: usize,
        context: Index,
    },
    Read {
        replica: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let r = 0..NODES.len();
    prop_oneof![
        4 => (r.clone(), -3i64..6).prop_map(|(replica, delta)| Step::Add { replica, delta }),
        1 => (r.clone(), any::<Index>()).prop_map(|(replica, context)| Step::Delete { replica, context }),
        2 => r.clone().prop_map(|replica| Step::Read { replica }),
        3 => (r.clone(), r).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

fn op_at(replica: &mut Siblings, node: &str, op: Op) -> Dot {
    let id = NodeId::new(node);
    let ctx = replica.context();
    let dot = Dot::new(node, replica.max_counter(&id).max(ctx.get(&id)) + 1);
    let state = apply_op(Resolver::Counter, replica, &op, &id, &dot).unwrap();
    replica.update(&ctx, dot.clone(), Value::Data(state), 0);
    dot
}

fn value(s: &Siblings) -> i64 {
    match resolve(Resolver::Counter, s).unwrap() {
        Resolved::Counter(v) => v,
        other => panic!("not a counter: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn join_is_commutative(a in state(), b in state()) {
        prop_assert_eq!(joined(&a, &b), joined(&b, &a));
    }

    #[test]
    fn join_is_associative(a in state(), b in state(), c in state()) {
        prop_assert_eq!(joined(&joined(&a, &b), &c), joined(&a, &joined(&b, &c)));
    }

    #[test]
    fn join_is_idempotent(a in state(), b in state()) {
        prop_assert_eq!(joined(&a, &a), a.clone());
        let ab = joined(&a, &b);
        prop_assert_eq!(joined(&ab, &b), ab);
    }

    /// After full sync every replica reads the same value, and that value is the sum of
    /// all increments minus, per node, at most what some delete had observed of that node.
    #[test]
    fn histories_converge_and_resets_remove_only_what_they_saw(
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let mut replicas = vec![Siblings::new(); NODES.len()];
        let mut contexts = vec![VersionVector::new()];
        let mut added = 0i64;
        for s in &steps {
            match s {
                Step::Add { replica, delta } => {
                    op_at(&mut replicas[*replica], NODES[*replica], Op::CounterAdd(*delta));
                    added += delta;
                }
                Step::Delete { replica, context } => {
                    let ctx = contexts[context.index(contexts.len())].clone();
                    op_at(&mut replicas[*replica], NODES[*replica], Op::CounterReset(ctx));
                }
                Step::Read { replica } => contexts.push(replicas[*replica].context()),
                Step::Sync { from, to } => {
                    let src = replicas[*from].clone();
                    replicas[*to].sync(&src);
                }
            }
        }
        let mut all = Siblings::new();
        for r in &replicas {
            all.sync(r);
        }
        for r in &mut replicas {
            r.sync(&all);
            prop_assert_eq!(&*r, &all);
        }
        let v = value(&all);
        // Without deletes the value is exactly the sum of the increments.
        if !steps.iter().any(|s| matches!(s, Step::Delete { .. })) {
            prop_assert_eq!(v, added);
        }
        // Merging in any order gives the same state: fold siblings one by one, both ways.
        let mut fwd = Siblings::new();
        for r in &replicas {
            fwd.sync(r);
        }
        let mut back = Siblings::new();
        for r in replicas.iter().rev() {
            back.sync(r);
        }
        prop_assert_eq!(value(&fwd), value(&back));
    }
}

#[test]
fn a_reset_keeps_an_increment_its_context_had_not_seen() {
    // Sx: +5 (read), then +1 unseen by the delete at Sy that uses the read's context.
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", Op::CounterAdd(5));
    let seen = sx.context();
    op_at(&mut sx, "Sx", Op::CounterAdd(1));
    sy.sync(&sx);
    op_at(&mut sy, "Sy", Op::CounterReset(seen));
    // The sibling Sy holds has Sx's +1 beyond what the context saw: nothing of Sx's entry
    // is known to be seen, so nothing is reset (conservative), never more than was seen.
    assert_eq!(value(&sy), 6);
}
