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

    /// After full sync every replica reads the same value, whatever order it merged in;
    /// without deletes it is exactly the sum of the increments.
    #[test]
    fn histories_converge(steps in prop::collection::vec(step(), 1..40)) {
        let h = run(&steps);
        let v = value(&h.all);
        if !steps.iter().any(|s| matches!(s, Step::Delete { .. })) {
            prop_assert_eq!(v, h.added);
        }
        let mut back = Siblings::new();
        for r in h.replicas.iter().rev() {
            back.sync(r);
        }
        prop_assert_eq!(value(&back), v);
    }

    /// With increments only: a delete removes at most, per node, what its context had seen
    /// of that node, so the value never drops below the increments no delete had seen.
    #[test]
    fn resets_remove_only_what_their_context_saw(steps in prop::collection::vec(step(), 1..40)) {
        let steps: Vec<Step> = steps
            .into_iter()
            .map(|s| match s {
                Step::Add { replica, delta } => Step::Add { replica, delta: delta.abs() },
                other => other,
            })
            .collect();
        let h = run(&steps);
        let v = value(&h.all);
        let mut floor = 0i64;
        for (n, adds) in h.adds.iter().enumerate() {
            let total = adds.last().map_or(0, |&(_, t)| t);
            let id = NodeId::new(NODES[n]);
            let seen = h
                .deletes
                .iter()
                .map(|ctx| {
                    let upto = ctx.get(&id);
                    adds.iter().filter(|&&(d, _)| d <= upto).map(|&(_, t)| t).next_back().unwrap_or(0)
                })
                .max()
                .unwrap_or(0);
            floor += total - seen;
        }
        prop_assert!(v >= floor, "value {} below the unseen increments {}", v, floor);
        prop_assert!(v <= h.added, "value {} above all increments {}", v, h.added);
    }
}

struct History {
    replicas: Vec<Siblings>,
    /// Every replica's versions, fully synced.
    all: Siblings,
    added: i64,
    /// Per node: (dot counter, that node's cumulative adds after it) for each of its adds.
    adds: Vec<Vec<(u64, i64)>>,
    /// The contexts deletes were made with.
    deletes: Vec<VersionVector>,
}

fn run(steps: &[Step]) -> History {
    let mut replicas = vec![Siblings::new(); NODES.len()];
    let mut contexts = vec![VersionVector::new()];
    let mut h = History {
        replicas: Vec::new(),
        all: Siblings::new(),
        added: 0,
        adds: vec![Vec::new(); NODES.len()],
        deletes: Vec::new(),
    };
    for s in steps {
        match s {
            Step::Add { replica, delta } => {
                let dot = op_at(
                    &mut replicas[*replica],
                    NODES[*replica],
                    Op::CounterAdd(*delta),
                );
                h.added += delta;
                let before = h.adds[*replica].last().map_or(0, |&(_, t)| t);
                h.adds[*replica].push((dot.counter, before + delta));
            }
            Step::Delete { replica, context } => {
                let ctx = contexts[context.index(contexts.len())].clone();
                h.deletes.push(ctx.clone());
                op_at(
                    &mut replicas[*replica],
                    NODES[*replica],
                    Op::CounterReset(ctx.into()),
                );
            }
            Step::Read { replica } => contexts.push(replicas[*replica].context()),
            Step::Sync { from, to } => {
                let src = replicas[*from].clone();
                replicas[*to].sync(&src);
            }
        }
    }
    for r in &replicas {
        h.all.sync(r);
    }
    for r in &mut replicas {
        r.sync(&h.all);
        assert_eq!(*r, h.all, "full sync leaves every replica equal");
    }
    h.replicas = replicas;
    h
}

#[test]
fn a_reset_keeps_an_increment_its_context_had_not_seen() {
    // Sx: +5 (read), then +1 unseen by the delete at Sy that uses the read's context.
    let (mut sx, mut sy) = (Siblings::new(), Siblings::new());
    op_at(&mut sx, "Sx", Op::CounterAdd(5));
    let seen = sx.context();
    op_at(&mut sx, "Sx", Op::CounterAdd(1));
    sy.sync(&sx);
    op_at(&mut sy, "Sy", Op::CounterReset(seen.into()));
    // The sibling Sy holds has Sx's +1 beyond what the context saw: nothing of Sx's entry
    // is known to be seen, so nothing is reset (conservative), never more than was seen.
    assert_eq!(value(&sy), 6);
}
