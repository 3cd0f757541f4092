//! Liveness of the request state machines: under 30% message loss, duplication and a
//! network partition, every client request ends, with a reply or a typed error, within its
//! timeout (the cluster's or its own), and no request is left running.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{ClientRequest, Error, ReqId, RequestOptions};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeMap;

#[test]
fn every_request_ends_within_its_timeout_under_loss_and_partition() {
    let net = NetConfig {
        min_latency_ms: 1,
        max_latency_ms: 40,
        loss: 0.3,
        duplicate: 0.1,
        min_persist_ms: 0,
        max_persist_ms: 20,
    };
    let cfg = config(3, 2, 2);
    let default_timeout = cfg.request_timeout_ms;
    let mut c = Cluster::with_nodes(141, 5, cfg, net);
    settle(&mut c);
    c.partition(&[0, 1]);

    // id -> (submitted at, timeout)
    let mut pending: BTreeMap<ReqId, (u64, u64)> = BTreeMap::new();
    for i in 0..300u64 {
        if i == 150 {
            c.heal();
            c.partition(&[2]);
        }
        let key = format!("k{}", i % 7);
        let timeout_ms = match i % 3 {
            0 => None,
            1 => Some(300),
            _ => Some(1_000),
        };
        let options = RequestOptions {
            timeout_ms,
            ..opts()
        };
        let request = match i % 4 {
            0 => get_with(&key, options),
            1 | 2 => put_with(&key, &format!("v{i}"), None, options),
            _ => ClientRequest::Delete {
                key: key.as_str().into(),
                context: None,
                options,
            },
        };
        let node = (i % 5) as usize;
        let id = c.submit(node, request);
        pending.insert(id, (c.now(), timeout_ms.unwrap_or(default_timeout)));
        c.run_for(20);
    }
    c.run_for(default_timeout + 100);

    let (mut ok, mut quorum, mut timeout) = (0, 0, 0);
    for done in c.take_completed() {
        let (at, limit) = pending.remove(&done.id).expect("each request ends once");
        let took = done.at - at;
        assert!(
            took <= limit,
            "request {} ended after {took} ms, timeout {limit} ms: {:?}",
            done.id,
            done.result
        );
        match done.result {
            Ok(_) => ok += 1,
            Err(Error::QuorumFailed { .. }) => quorum += 1,
            Err(Error::Timeout { .. }) => timeout += 1,
            Err(e) => panic!("request {} ended with an unexpected error {e:?}", done.id),
        }
    }
    assert!(pending.is_empty(), "requests that never ended: {pending:?}");
    assert_eq!(c.in_flight(), 0);
    for i in 0..5 {
        assert_eq!(c.node(i).unwrap().requests_in_flight(), 0, "node {i}");
    }
    // The run means something: both outcomes happened.
    assert!(
        ok > 50,
        "{ok} ok, {quorum} quorum failures, {timeout} timeouts"
    );
    assert!(
        quorum + timeout > 10,
        "{ok} ok, {quorum} quorum failures, {timeout} timeouts"
    );
}
