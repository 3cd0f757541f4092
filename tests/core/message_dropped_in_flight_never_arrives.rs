//! The teaching page's "click a message to drop it": `Cluster::drop_message` takes one
//! message off the network while it is in flight. The replica it was for never sees it,
//! the fault is traced, a message that already arrived cannot be dropped, and the same
//! drop at the same point replays the same run.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, Dot};
use ringlet::sim::{Cluster, TraceEvent};

struct Run {
    trace: Vec<TraceEvent>,
    hash: u64,
    /// What each node of the key's preference list holds of it after the put.
    held: Vec<Vec<Dot>>,
}

/// A put through the key's first replica; with `drop`, the `put` to its last replica is
/// dropped in flight.
fn run(drop: bool) -> Run {
    let config = Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(3, 3, config, fixed_net(10, 1));
    settle(&mut c);
    c.record_trace();
    c.record_flights();
    let key = "cart/ada";
    let pl = preflist(&c, key);
    c.submit(pl[0], put(key, "milk"));
    // Run until the coordinator has sent the version to the other replicas.
    let mut put_to_last = None;
    while put_to_last.is_none() {
        assert!(c.step_until(c.now() + 100), "the put is sent");
        put_to_last = c
            .take_flights()
            .into_iter()
            .find(|f| f.msg.kind() == "put" && c.index_of(&f.to) == Some(pl[2]));
    }
    let flight = put_to_last.unwrap();
    let seq = flight.seq.expect("in flight, not dropped by the network");
    let dropped_before = c.messages_dropped;
    if drop {
        assert!(c.drop_message(seq), "a message in flight can be dropped");
        assert!(!c.drop_message(seq), "and only once");
        assert_eq!(c.messages_dropped, dropped_before + 1);
    }
    c.run_for(500);
    let done = c.take_completed();
    assert_eq!(done.len(), 1);
    assert!(done[0].result.is_ok(), "W=2 is met by the other replica");
    if !drop {
        assert!(
            !c.drop_message(seq),
            "a delivered message cannot be dropped"
        );
    }
    Run {
        trace: c.take_trace(),
        hash: c.trace_hash(),
        held: pl.iter().map(|&i| local_dots(&c, i, key)).collect(),
    }
}

#[test]
fn a_dropped_put_never_reaches_its_replica() {
    let with = run(true);
    let without = run(false);
    assert_eq!(with.held[0].len(), 1, "the coordinator stored the version");
    assert_eq!(with.held[1], with.held[0], "the second replica got it");
    assert_eq!(
        with.held[2],
        Vec::<Dot>::new(),
        "the dropped put never arrived"
    );
    assert_eq!(
        without.held[2], without.held[0],
        "without the drop, it does"
    );
    let faults: Vec<&String> = with
        .trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Fault { what, .. } => Some(what),
            _ => None,
        })
        .collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(
        faults[0].starts_with("message dropped: put "),
        "{}",
        faults[0]
    );
    assert_ne!(with.hash, without.hash);
}

#[test]
fn the_same_drop_replays_the_same_run() {
    let a = run(true);
    let b = run(true);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.held, b.held);
}
