//! Issue 14 item 5: a get that reached R only by counting answers of nodes that are no
//! authority on the key (fallbacks without a hint, owners whose partition is still arriving)
//! says so with `partial: true`, so that its not-found does not look like "absent". The
//! coordinator does not wait for a primary until the deadline (no Riak `basic_quorum`): it
//! answers as soon as nobody is left to ask, flagged.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::ClientReply;
use ringlet::sim::{Cluster, NetConfig};

/// A get through node `i`, and how long it took (virtual ms).
fn timed_read(c: &mut Cluster, i: usize, key: &str) -> (Read, u64) {
    let start = c.now();
    let r = read(c, i, key);
    (r, c.now() - start)
}

#[test]
fn get_answered_by_fallbacks_is_partial() {
    let cfg = config(3, 2, 2);
    let timeout = cfg.request_timeout_ms;
    let mut c = Cluster::with_nodes(44, 5, cfg, NetConfig::default());
    settle(&mut c);
    let key = "cart/ada";
    let pl = preflist(&c, key);
    let (p0, p1, p2, f3) = (pl[0], pl[1], pl[2], pl[3]);
    write(&mut c, p0, put(key, "milk"));
    c.run_for(50);

    // An authoritative read: not partial.
    let (r, _) = timed_read(&mut c, f3, key);
    assert_eq!(r.values(), vec!["milk".to_string()]);
    assert!(!r.partial);

    // Every primary is cut off from the fallbacks: a read through a fallback gets only the
    // fallbacks' not-found (neither holds a hint for the key).
    c.partition(&[p0, p1, p2]);
    let (r, took) = timed_read(&mut c, f3, key);
    assert_eq!(r.values(), Vec::<String>::new());
    assert!(r.partial, "a not-found of fallbacks only is flagged");
    assert!(
        took < timeout,
        "it answers once nobody is left to ask ({took} ms), not at the deadline"
    );

    // With one primary reachable, R = 2 still needs a fallback's answer: the value found
    // is returned, flagged, since the other primaries may hold newer versions.
    c.heal();
    c.run_for(1_000);
    c.partition(&[p1, p2]);
    let (r, _) = timed_read(&mut c, p0, key);
    assert_eq!(r.values(), vec!["milk".to_string()]);
    assert!(r.partial);
    // ... while R = 1 is met by p0 alone.
    let one = get_with(
        key,
        ringlet::core::RequestOptions {
            r: Some(1),
            ..opts()
        },
    );
    match c.call(p0, one) {
        Ok(ClientReply::Get { partial, .. }) => assert!(!partial),
        other => panic!("r=1 get failed: {other:?}"),
    }

    // Healed, the same read is authoritative again.
    c.heal();
    c.run_for(2_000);
    let (r, _) = timed_read(&mut c, f3, key);
    assert_eq!(r.values(), vec!["milk".to_string()]);
    assert!(!r.partial);
}
