//! §4.8 leave: a node that has left (status `Exiting`, holding nothing) is no replica any
//! more. A peer with a stale view may still send it Replicate, Handoff or Transfer; it must
//! refuse them with a typed answer and never acknowledge a durable store, so it never
//! counts in a quorum and never ends up holding the only copy of a write.
//!
//! Issue 15 defect 5: `on_replicate`, `on_handoff` and `on_transfer` store and ack
//! whatever arrives; nothing checks `Node::exited`.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{AdminRequest, Bytes, Config, Message, RequestOptions, Siblings, Status};
use ringlet::sim::{Cluster, NetConfig, TraceEvent};

const LEAVER: usize = 2;

#[test]
fn an_exited_node_acks_no_replicate_handoff_or_transfer() {
    let cfg = Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(1551, 5, cfg, NetConfig::default());
    settle(&mut c);
    write(&mut c, 0, put("exit/k", "v"));
    let versions: Siblings = read(&mut c, 0, "exit/k").versions;
    c.submit_admin(LEAVER, AdminRequest::Leave);
    c.run_for(30_000);
    let n = c.node(LEAVER).expect("an exited node keeps running");
    assert!(n.has_exited() && n.status() == Some(Status::Exiting));

    // A peer that still believes the leaver is a replica (a node restarted with a stale
    // ring) sends it a write, a hint delivery and an ownership transfer.
    c.record_trace();
    let key = Bytes::from("exit/k");
    let sent = [
        Message::Replicate {
            rid: 9_001,
            key: key.clone(),
            versions: versions.clone(),
            hint: None,
            durable: true,
        },
        Message::Handoff {
            rid: 9_002,
            key: key.clone(),
            versions: versions.clone(),
        },
        Message::Transfer {
            rid: 9_003,
            key: key.clone(),
            versions: versions.clone(),
        },
    ];
    for msg in sent {
        c.inject(0, LEAVER, msg);
    }
    c.run_for(50);
    let leaver = c.id(LEAVER).clone();
    let trace = c.take_trace();
    let refused = trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Send { from, kind: "refused", .. } if *from == leaver))
        .count();
    assert_eq!(refused, 3, "each store request gets a typed refusal");
    let acks: Vec<&'static str> = trace
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Send { from, kind, .. }
                if from == leaver && ["put-ack", "hint-ack", "transfer-ack"].contains(&kind) =>
            {
                Some(kind)
            }
            _ => None,
        })
        .collect();
    assert!(
        acks.is_empty(),
        "the exited node {leaver} acknowledged durable stores: {acks:?}"
    );
    assert!(
        c.store(LEAVER).state().objects.is_empty() && c.store(LEAVER).state().hints.is_empty(),
        "the exited node {leaver} stored what it was sent"
    );
}

#[test]
fn a_coordinator_with_a_stale_ring_replaces_an_exited_target_at_once() {
    // Node STALE is down while the leaver (holding nothing, so it exits as soon as the ring
    // no longer names it) leaves; STALE comes back with its stored ring, which still names
    // the leaver, and at once coordinates a put with w = 3. The leaver's refusal fills no
    // slot, and its slot gets a fallback before any retry timer.
    const STALE: usize = 4;
    let cfg = Config {
        read_repair: false,
        anti_entropy_interval_ms: 0,
        ..config(3, 2, 2)
    };
    let retry = cfg.sloppy_retry_ms;
    let mut c = Cluster::with_nodes(1552, 5, cfg, NetConfig::default());
    settle(&mut c);
    let key = key_where(&c, "stale/", |pl| {
        pl[..3].contains(&STALE) && pl[..3].contains(&LEAVER)
    });
    c.crash(STALE, false);
    c.submit_admin(LEAVER, AdminRequest::Leave);
    c.run_for(30_000);
    assert!(c.node(LEAVER).unwrap().has_exited());
    c.restart(STALE);
    let leaver = c.id(LEAVER).clone();
    let stale = c
        .node(STALE)
        .unwrap()
        .membership()
        .get(&leaver)
        .map(|i| i.status);
    assert_eq!(stale, Some(Status::Valid), "restarted with the old view");

    c.record_trace();
    let start = c.now();
    // R = 1: the read before its first write of the key (issue 15 defect 4) is answered by
    // its own store, so the put itself is what meets the leaver.
    let w3 = RequestOptions {
        w: Some(3),
        r: Some(1),
        ..opts()
    };
    write(&mut c, STALE, put_with(&key, "v", None, w3));
    let elapsed = c.now() - start;
    assert!(
        elapsed < retry,
        "acknowledged after {elapsed} ms: the refusal did not replace the leaver at once"
    );
    let refused = c
        .take_trace()
        .into_iter()
        .any(|e| matches!(e, TraceEvent::Send { from, kind: "refused", .. } if from == leaver));
    assert!(refused, "the put went to the leaver, which refused it");
    assert!(c.store(LEAVER).state().objects.is_empty());
    let learned = c
        .node(STALE)
        .unwrap()
        .membership()
        .get(&leaver)
        .map(|i| i.status);
    assert_eq!(learned, Some(Status::Exiting), "the refusal told why");
}
