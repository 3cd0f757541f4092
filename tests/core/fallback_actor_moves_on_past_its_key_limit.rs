//! Issue 15: a node keeps what its fallback actor `id@f` last sent for at most 1,024 keys
//! (`FALLBACK_KEYS`). Writing a 1,025th key outside its replicas, it drops those records and
//! moves on to the next generation `id@f1` (kept in its metadata, so a restart goes on
//! with it): each key's context gains at most one entry per generation, never one per
//! write or per run, and no increment written under the old generation is lost.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Config, RequestOptions, Resolved, Resolver, ResolverRules};
use ringlet::sim::{Cluster, NetConfig};

const LIMIT: usize = 1024;

fn config() -> Config {
    Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        ..cluster_support::config(3, 2, 2)
    }
}

fn isolate(c: &mut Cluster, a: usize) {
    c.partition(&[a]);
    let limit = c.now() + 60_000;
    while c.node(a).unwrap().down_peers().len() + 1 < c.len() {
        c.run_for(10);
        assert!(c.now() < limit, "node {a} never saw the others go down");
    }
}

#[test]
fn the_fallback_actor_moves_to_its_next_generation_after_1024_keys() {
    let mut c = Cluster::with_nodes(1024, 5, config(), NetConfig::default());
    settle(&mut c);
    let tab = 4;
    let id = c.id(tab).to_string();
    let keys: Vec<String> = (0..)
        .map(|i| format!("ctr/{i}"))
        .filter(|k| preflist(&c, k)[..3].iter().all(|&i| i != tab))
        .take(LIMIT + 1)
        .collect();
    isolate(&mut c, tab);

    for (i, key) in keys.iter().enumerate() {
        let (dot, _) = write(&mut c, tab, counter_add_w1(key, 1));
        let want = if i < LIMIT {
            format!("{id}@f")
        } else {
            format!("{id}@f1")
        };
        assert_eq!(dot.node.as_str(), want, "key {i}");
    }
    // The first key again: its record went with the old generation, so the new actor
    // writes it, and it still does after a restart.
    let (dot, _) = write(&mut c, tab, counter_add_w1(&keys[0], 1));
    assert_eq!(dot.node.as_str(), format!("{id}@f1"));
    c.crash(tab, false);
    c.restart(tab);
    settle(&mut c);
    isolate(&mut c, tab);
    let (dot, _) = write(&mut c, tab, counter_add_w1(&keys[0], 1));
    assert_eq!(
        dot.node.as_str(),
        format!("{id}@f1"),
        "the generation is durable"
    );

    c.heal();
    c.run_for(30_000);
    let all = RequestOptions {
        r: Some(3),
        ..opts()
    };
    let p0 = preflist(&c, &keys[0])[0];
    let first = read_with(&mut c, p0, get_with(&keys[0], all.clone()));
    assert_eq!(
        first.value,
        Resolved::Counter(3),
        "one add of the old generation and two of the new ({:?})",
        dots(&first.versions)
    );
    let actors: Vec<String> = first
        .context
        .version_vector()
        .iter()
        .map(|(a, _)| a.to_string())
        .collect();
    assert_eq!(actors, vec![format!("{id}@f"), format!("{id}@f1")]);
    let pl = preflist(&c, &keys[LIMIT])[0];
    let last = read_with(&mut c, pl, get_with(&keys[LIMIT], all));
    assert_eq!(last.value, Resolved::Counter(1));
}
