//! §6.5 admission control for background work: a fallback offers at most `hint_batch`
//! hinted keys at a time to their returning owner, yet delivers them all, and each hint is
//! dropped only after its owner acknowledged it. Hints survive a restart of the fallback.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, RequestOptions};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

const KEYS: usize = 9;
const BATCH: usize = 2;

/// Five nodes; KEYS keys that all have primary `x` second and fallback `y` first, written
/// while `x` is down, so `y` holds KEYS hints for `x`.
fn hinted() -> (Cluster, usize, usize, Vec<String>) {
    let cfg = Config {
        hint_batch: BATCH,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(171, 5, cfg, NetConfig::default());
    settle(&mut c);
    let first = preflist(&c, "h0");
    let (x, y) = (first[1], first[3]);
    let keys: Vec<String> = (0..)
        .map(|i| format!("h{i}"))
        .filter(|k| {
            let pl = preflist(&c, k);
            pl[1] == x && pl[3] == y
        })
        .take(KEYS)
        .collect();
    c.crash(x, false);
    let w3 = RequestOptions {
        w: Some(3),
        ..opts()
    };
    for k in &keys {
        let p0 = preflist(&c, k)[0];
        write(&mut c, p0, put_with(k, "v", None, w3.clone()));
    }
    c.run_for(100);
    assert_eq!(c.node(y).unwrap().hints().count(), KEYS);
    (c, x, y, keys)
}

#[test]
fn a_fallback_offers_at_most_hint_batch_hints_at_a_time_and_delivers_them_all() {
    let (mut c, x, y, keys) = hinted();
    // Let the offers y made before it noticed x was down expire (one scan per
    // `hint_interval_ms`, each offer unanswered for `request_timeout_ms`), so that none
    // holds a slot.
    c.run_for(2 * c.config().request_timeout_ms + 100);
    c.restart(x);
    c.record_trace();
    c.run_for(10_000);
    let (xn, yn) = (c.id(x).clone(), c.id(y).clone());

    // Replay the trace: offers sent by y minus acks that reached y.
    let (mut offered, mut in_flight, mut most) = (0, 0i64, 0i64);
    for e in c.take_trace() {
        match e {
            TraceEvent::Send {
                from,
                to,
                kind: "hint-delivery",
                ..
            } if from == yn => {
                assert_eq!(to, xn);
                offered += 1;
                in_flight += 1;
                most = most.max(in_flight);
            }
            TraceEvent::Deliver {
                to,
                kind: "hint-ack",
                ..
            } if to == yn => in_flight -= 1,
            _ => {}
        }
    }
    assert_eq!(most, BATCH as i64, "at most {BATCH} offers outstanding");
    assert_eq!(
        offered, KEYS,
        "each hint was offered once (nothing was lost)"
    );
    assert_eq!(c.node(y).unwrap().hints().count(), 0);
    assert_eq!(c.node(y).unwrap().stats().hints_delivered, KEYS as u64);
    for k in &keys {
        assert_eq!(local_dots(&c, x, k).len(), 1, "{k} reached its primary");
    }
}

#[test]
fn hints_survive_a_restart_of_the_fallback() {
    let (mut c, x, y, keys) = hinted();
    c.crash(y, true);
    c.restart(y);
    assert_eq!(
        c.node(y).unwrap().hints().count(),
        KEYS,
        "hints were persisted"
    );
    c.restart(x);
    c.run_for(10_000);
    assert_eq!(c.node(y).unwrap().hints().count(), 0);
    for k in &keys {
        assert_eq!(local_dots(&c, x, k).len(), 1, "{k} reached its primary");
    }
}
