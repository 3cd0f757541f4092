//! §4.6: "With W = 1 a write is refused only when every node in the system is down." A
//! lone survivor (once its failure detector has noticed the others are down) accepts a
//! W = 1 write, within the request timeout, even for a key of which
//! it is the very last fallback, and holds it as a hint until the primaries are back.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::RequestOptions;
use ringlet::sim::{Cluster, NetConfig};

fn lone_survivor_accepts_w1_write(nodes: usize) {
    let mut c = Cluster::with_nodes(61, nodes, config(3, 1, 1), NetConfig::default());
    settle(&mut c);
    let key = "k";
    let pl = preflist(&c, key);
    let survivor = pl[nodes - 1];
    for &p in &pl[..nodes - 1] {
        c.crash(p, false);
    }
    // The survivor's failure detector notices (issue 15 defect 2: a write forwarded to a
    // node that just crashed ends in an ambiguous TIMEOUT, never in a second application).
    c.run_for(20_000);

    let timeout = c.config().request_timeout_ms;
    let start = c.now();
    let (dot, _) = write(&mut c, survivor, put(key, "alone"));
    let elapsed = c.now() - start;
    assert!(
        elapsed <= timeout,
        "{nodes} nodes: answered after {elapsed} ms, timeout {timeout} ms"
    );

    // The survivor is no primary: it holds the version as a hint for one of them.
    c.run_for(10);
    let n = c.node(survivor).unwrap();
    let hints: Vec<_> = n
        .hints()
        .map(|((to, _), v)| (to.clone(), dots(v)))
        .collect();
    assert_eq!(hints.len(), 1, "{nodes} nodes: {hints:?}");
    assert!(pl[..3].iter().any(|&p| c.id(p) == &hints[0].0), "{hints:?}");
    assert_eq!(hints[0].1, vec![dot.clone()]);
    assert_eq!(n.local_versions(key.as_bytes()), None);
    assert_eq!(
        c.store(survivor).state().hints.len(),
        1,
        "the hint is durable"
    );

    // Once everyone is back the write reaches the primaries.
    for &p in &pl[..nodes - 1] {
        c.restart(p);
    }
    c.run_for(5_000);
    let all3 = RequestOptions {
        r: Some(3),
        ..opts()
    };
    let got = read_with(&mut c, pl[0], get_with(key, all3));
    assert_eq!(got.values(), vec!["alone".to_string()]);
    assert_eq!(dots(&got.versions), vec![dot]);
    assert_eq!(c.node(survivor).unwrap().hints().count(), 0);
}

#[test]
fn a_lone_survivor_of_five_accepts_a_w1_write() {
    lone_survivor_accepts_w1_write(5);
}

#[test]
fn a_lone_survivor_that_is_the_last_of_eight_fallbacks_accepts_a_w1_write() {
    // Before the coordinator took the first replacement itself, the retries walked the
    // crashed fallbacks ahead of it in the preference list and the deadline came first:
    // `QuorumFailed { needed: 1, got: 0 }`.
    lone_survivor_accepts_w1_write(8);
}
