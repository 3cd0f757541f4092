//! A hinted replica whose stored record is damaged is caught at load: the fallback reports it,
//! does not load it (so never hands the damaged bytes to the primary), and deletes the bad
//! record. The write it carried is not lost: its other copies (the primaries that stored it)
//! bring the returning primary up to date through anti-entropy.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, Config, RecordId, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn a_damaged_hint_is_dropped_and_the_primary_still_gets_the_write() {
    let config = Config {
        anti_entropy_interval_ms: 100,
        read_repair: false,
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(331, 5, config, NetConfig::default());
    settle(&mut c);
    let key = "cart/alice";
    let pl = preflist(&c, key);
    let (p0, p1, p2, f0) = (pl[0], pl[1], pl[2], pl[3]);
    let p1_id = c.id(p1).clone();

    c.crash(p1, false);
    // A read that needs all three replicas makes p0 notice p1 is down (as in
    // `sloppy_quorum_then_hinted_handoff.rs`), so the put goes to f0 with a hint.
    let all = RequestOptions {
        r: Some(3),
        ..opts()
    };
    read_with(&mut c, p0, get_with(key, all));
    let (dot, _) = write(&mut c, p0, put(key, "v1"));
    c.run_for(50);
    assert_eq!(
        c.node(f0).unwrap().hints().count(),
        1,
        "f0 holds a hint for p1"
    );

    // The fallback crashes and its hint record is damaged on disk.
    c.crash(f0, false);
    let id = RecordId::Hint(p1_id.clone(), Bytes::from(key));
    assert!(c.corrupt_record(f0, &id, 20, 0x10));
    c.restart(f0);
    let fb = c.node(f0).unwrap();
    assert_eq!(fb.stats().corrupt_records, 1);
    assert_eq!(fb.hints().count(), 0, "the damaged hint is not loaded");
    c.run_for(50);
    assert_eq!(c.store(f0).record(&id), None, "and its record is deleted");

    // The primary comes back; the write reaches it from the other primaries.
    c.restart(p1);
    c.run_for(10_000);
    for p in [p0, p1, p2] {
        assert_eq!(local_dots(&c, p, key), vec![dot.clone()], "node {p}");
    }
    assert_eq!(read(&mut c, p1, key).values(), vec!["v1".to_string()]);
}
