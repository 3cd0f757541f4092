//! DYNAMO.md "Version-vector growth": an actor is a replica's durable identity for a key,
//! not a process lifetime. A key's context holds at most a small constant more entries than
//! the number of distinct replicas that ever coordinated it, whatever the number of
//! restarts.
//!
//! Issue 15 defect 4: every run of a node wrote as a new actor `id@epoch`, so
//! read-modify-write through one node that restarts between writes grew the context by one
//! entry per restart. A primary now writes as its plain id in every run.

use crate::cluster_support;

use cluster_support::*;
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;

/// Entries allowed beyond the number of distinct coordinating nodes.
const SLACK: usize = 2;

#[test]
fn read_modify_write_through_a_restarting_node_keeps_the_context_small() {
    let mut c = Cluster::with_nodes(1541, 3, config(3, 2, 2), NetConfig::default());
    settle(&mut c);
    let key = "ctx/k";
    let a = preflist(&c, key)[0];
    let mut coordinators: BTreeSet<String> = BTreeSet::new();
    let mut sizes: Vec<(usize, usize)> = Vec::new();
    for i in 0..20 {
        let r = read(&mut c, a, key);
        let (dot, ctx) = write(&mut c, a, put_ctx(key, &format!("v{i}"), &r.context));
        // The physical node behind the actor (`n0`, `n0@123`, `n0@123.4` are all n0).
        let node = dot
            .node
            .as_str()
            .split(['@', '~'])
            .next()
            .unwrap_or("")
            .to_string();
        coordinators.insert(node);
        sizes.push((ctx.version_vector().len(), ctx.to_bytes().len()));
        c.run_for(50);
        c.crash(a, false);
        c.restart(a);
        settle(&mut c);
    }
    let (entries, bytes) = *sizes.last().unwrap();
    assert!(
        entries <= coordinators.len() + SLACK,
        "after 20 restarts of the only coordinator ({coordinators:?}) the context holds \
         {entries} entries ({bytes} bytes); growth per write (entries, bytes): {sizes:?}"
    );
}
