//! Issue 15, "a reload must not grow causal metadata", for the tab that is no replica of a
//! key: cut off from every primary (offline), it coordinates its own writes of the key
//! (W = 1) and is reloaded after each one. It used to write as a new actor `id@<epoch>` in
//! every run, so the key's context gained an entry per reload (the simulator's
//! `context_size` failures at seeds 6870, 9532 and 15395). Its fallback actor `id@f` now
//! lasts across runs: what it last sent for the key is persisted with the write, and the
//! next run's write builds on it. Every increment survives (none of them swallowed by a
//! dot that claims what its writer lacked) and the context holds one entry.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, RequestOptions, Resolved, Resolver, ResolverRules};
use ringlet::sim::{Cluster, NetConfig};

const RELOADS: usize = 200;

fn config() -> Config {
    Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        ..cluster_support::config(3, 2, 2)
    }
}

/// Cut `a` off from everyone and wait until it sees every other node down.
fn isolate(c: &mut Cluster, a: usize) {
    c.partition(&[a]);
    let limit = c.now() + 60_000;
    while c.node(a).unwrap().down_peers().len() + 1 < c.len() {
        c.run_for(10);
        assert!(c.now() < limit, "node {a} never saw the others go down");
    }
}

#[test]
fn an_offline_non_replica_reloaded_two_hundred_times_writes_as_one_actor() {
    let mut c = Cluster::with_nodes(6870, 5, config(), NetConfig::default());
    settle(&mut c);
    let key = key_where(&c, "ctr/", |p| p[..3].iter().all(|&i| i != 4));
    let tab = 4;
    let fallback_actor = format!("{}@f", c.id(tab));

    for i in 0..RELOADS {
        isolate(&mut c, tab);
        let (dot, _) = write(&mut c, tab, counter_add_w1(&key, 1));
        assert_eq!(
            dot.node.as_str(),
            fallback_actor,
            "write {i} (run {i}) is by the one fallback actor"
        );
        // Every other reload loses what was not yet on disk: the write's record was.
        c.crash(tab, i % 2 == 0);
        c.restart(tab);
        settle(&mut c);
    }

    c.heal();
    c.run_for(30_000);
    let primary = preflist(&c, &key)[0];
    let all = get_with(
        &key,
        RequestOptions {
            r: Some(3),
            ..opts()
        },
    );
    let r = read_with(&mut c, primary, all);
    assert_eq!(
        r.value,
        Resolved::Counter(RELOADS as i64),
        "every acknowledged add counts ({:?})",
        dots(&r.versions)
    );
    let entries: Vec<String> = r
        .context
        .version_vector()
        .iter()
        .map(|(a, n)| format!("{a}:{n}"))
        .collect();
    println!(
        "{RELOADS} reloads of an offline writer: {} context entries, {} bytes: {entries:?}",
        entries.len(),
        r.context.to_bytes().len()
    );
    assert_eq!(entries.len(), 1, "one actor: {entries:?}");
}
