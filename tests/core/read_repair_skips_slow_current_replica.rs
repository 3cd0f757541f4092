//! Issue 14 item 4: read repair writes only to replicas that answered with less than the
//! merged versions. After R is met the coordinator waits up to `read_repair_window_ms` for
//! the late replies; a replica still silent then is not written to, since it may be slow
//! but current (hints and anti-entropy cover one that really missed something).

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::Dot;
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

/// `Repair` messages sent, as (from, to) node names.
fn repairs_sent(trace: &[TraceEvent]) -> Vec<(String, String)> {
    trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Send {
                from,
                to,
                kind: "read-repair",
                ..
            } => Some((from.to_string(), to.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn read_repair_skips_slow_current_replica() {
    let cfg = config(3, 2, 2);
    let window = cfg.read_repair_window_ms;
    let mut c = Cluster::with_nodes(41, 3, cfg, NetConfig::default());
    settle(&mut c);
    let key = "slow/current";
    let pl = preflist(&c, key);
    let (p0, p2) = (pl[0], pl[2]);
    let (dot, _) = write(&mut c, p0, put(key, "v"));
    c.run_for(50);
    for &i in &pl {
        assert_eq!(local_dots(&c, i, key), vec![dot.clone()], "converged");
    }

    // p2 is current but slow: its event loop stalls for ten read-repair windows, so it
    // answers the read long after the window (R = 2 is met by p0 and p1).
    c.record_trace();
    c.stall(p2, 10 * window);
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["v".to_string()]);
    assert!(!r.partial);
    // Wait for p2 to come back and answer (too late), and for anything it would be sent.
    c.run_for(10 * window + 200);
    assert!(!c.is_stalled(p2));
    let trace = c.take_trace();
    assert!(
        trace.iter().any(|e| matches!(e,
            TraceEvent::Send { from, kind: "get-reply", .. } if *from == *c.id(p2))),
        "p2 did answer, late"
    );
    assert_eq!(
        repairs_sent(&trace),
        vec![],
        "nothing is written to the slow replica"
    );
    assert_eq!(c.node(p0).unwrap().stats().read_repairs, 0);
    assert_eq!(local_dots(&c, p2, key), vec![dot]);
}

#[test]
fn a_late_stale_answer_within_the_window_is_repaired() {
    let cfg = config(3, 2, 2);
    let window = cfg.read_repair_window_ms;
    let mut c = Cluster::with_nodes(42, 3, cfg, NetConfig::default());
    // Read repair alone: no node hears that a peer is back (which sends it what it missed).
    c.without_reconnect_notices();
    settle(&mut c);
    let key = "slow/stale";
    let pl = preflist(&c, key);
    let (p0, p2) = (pl[0], pl[2]);

    // p2 misses the write.
    c.partition(&[p2]);
    let (dot, _) = write(&mut c, p0, put(key, "v"));
    c.heal();
    c.run_for(20);
    assert_eq!(
        local_dots(&c, p2, key),
        Vec::<Dot>::new(),
        "p2 missed the write"
    );

    // p2 answers after R is met but inside the window: its not-found is repaired.
    c.record_trace();
    c.stall(p2, window / 2);
    let r = read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["v".to_string()]);
    assert_eq!(
        c.node(p0).unwrap().stats().read_repairs,
        0,
        "the answer does not wait for the slow replica"
    );
    c.run_for(window + 50);
    let trace = c.take_trace();
    let to_p2 = (c.id(p0).to_string(), c.id(p2).to_string());
    assert_eq!(
        repairs_sent(&trace),
        vec![to_p2],
        "only the stale replica, once"
    );
    assert_eq!(c.node(p0).unwrap().stats().read_repairs, 1);
    assert_eq!(local_dots(&c, p2, key), vec![dot]);
}
