//! A put is acknowledged only when it is on disk somewhere (W durable stores by default,
//! one with the §6.1 write buffer). So a power cut of every replica right after the
//! acknowledgement, losing all unpersisted batches, never loses an acknowledged write.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Dot, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn every_acknowledged_write_survives_a_power_cut_of_its_replicas() {
    // Disks slower than the network, so much is unpersisted at any moment.
    let net = NetConfig {
        min_persist_ms: 20,
        max_persist_ms: 40,
        ..NetConfig::default()
    };
    let mut c = Cluster::with_nodes(111, 5, config(3, 2, 2), net);
    settle(&mut c);
    let mut acked: Vec<(String, String, Dot)> = Vec::new();
    for i in 0..20 {
        let key = format!("k{i}");
        let value = format!("v{i}");
        let options = RequestOptions {
            durable: Some(i % 2 == 0),
            ..opts()
        };
        // Through every node in turn: some coordinate, some forward.
        let via = i % 5;
        let (dot, _) = write(&mut c, via, put_with(&key, &value, None, options));
        let replicas = preflist(&c, &key)[..3].to_vec();
        for &p in &replicas {
            c.crash(p, true);
        }
        for &p in &replicas {
            c.restart(p);
        }
        assert!(
            replicas
                .iter()
                .any(|&p| durable_dots(&c, p, &key).contains(&dot)),
            "{key}: no replica's disk holds the acknowledged write {dot}"
        );
        acked.push((key, value, dot));
    }
    c.run_for(1_000);
    let all = RequestOptions {
        r: Some(3),
        ..opts()
    };
    for (key, value, dot) in &acked {
        let r = read_with(&mut c, 0, get_with(key, all.clone()));
        assert_eq!(r.values(), vec![value.clone()], "{key}");
        assert_eq!(dots(&r.versions), vec![dot.clone()], "{key}");
    }
}

#[test]
fn an_acknowledged_overwrite_is_not_rolled_back_by_a_power_cut() {
    let net = NetConfig {
        min_persist_ms: 30,
        max_persist_ms: 30,
        ..NetConfig::default()
    };
    let mut c = Cluster::with_nodes(112, 3, config(3, 2, 2), net);
    settle(&mut c);
    let key = "k";
    let (_, ctx) = write(&mut c, 0, put(key, "old"));
    c.run_for(100);
    let (new, _) = write(&mut c, 1, put_ctx(key, "new", &ctx));
    for i in 0..3 {
        c.crash(i, true);
    }
    for i in 0..3 {
        c.restart(i);
    }
    c.run_for(100);
    let r = read(&mut c, 2, key);
    assert_eq!(r.values(), vec!["new".to_string()]);
    assert_eq!(dots(&r.versions), vec![new]);
}
