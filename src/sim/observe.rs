//! Read-only views of a node's request state machines (§4.5) for the teaching page: which
//! puts and gets a node coordinates, whom it asked, who answered, and how far each quorum
//! counter is from W or R. Nothing here changes a node.

use crate::core::node::Origin;
use crate::core::{Bytes, Node, NodeId, ReqId};

/// Where a coordinated request came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requester {
    /// A client of this node (the id the host gave the request).
    Client(ReqId),
    /// Another node forwarded the write here (§4.5: writes go to a node of the top N).
    Forwarded { from: NodeId, rid: u64 },
    /// A get that has answered its client and waits for late replies (read repair).
    Answered,
}

/// One replica a request was sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub node: NodeId,
    /// The primary a fallback stands in for (§4.6), for a put.
    pub hint: Option<NodeId>,
    /// Acked (put) or replied (get).
    pub answered: bool,
}

/// The progress of one request a node coordinates or forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The coordinator's internal id of the request.
    pub rid: u64,
    /// `put`, `get` or `forward`.
    pub kind: &'static str,
    pub key: Bytes,
    pub requester: Requester,
    /// Stores acked (put) or replies received (get), the coordinator's own included.
    pub got: usize,
    /// W or R (1 for a forward: the remote coordinator's answer).
    pub needed: usize,
    pub targets: Vec<Target>,
}

fn requester(origin: &Origin) -> Requester {
    match origin {
        Origin::Client(id) => Requester::Client(*id),
        Origin::ReadFirst(pending) => requester(&pending.origin),
        Origin::Forwarded { from, rid } => Requester::Forwarded {
            from: from.clone(),
            rid: *rid,
        },
    }
}

/// Every request `node` has in flight: puts and gets it coordinates, writes it forwarded.
pub fn requests(node: &Node) -> Vec<Progress> {
    let mut out = Vec::new();
    for (rid, f) in &node.puts {
        // An answered put that only waits to remember a silent primary is no request.
        let Some(origin) = &f.origin else {
            continue;
        };
        out.push(Progress {
            rid: *rid,
            kind: "put",
            key: f.key.clone(),
            requester: requester(origin),
            got: f.quorum.got(),
            needed: f.quorum.needed(),
            targets: f
                .targets
                .iter()
                .map(|(n, t)| Target {
                    node: n.clone(),
                    hint: t.hint.clone(),
                    answered: f.quorum.has_acked(n),
                })
                // Replicas the version goes to once the coordinator's own store is durable.
                .chain(f.held_back.iter().map(|(n, hint, _)| Target {
                    node: n.clone(),
                    hint: hint.clone(),
                    answered: false,
                }))
                .collect(),
        });
    }
    for (rid, f) in &node.gets {
        out.push(Progress {
            rid: *rid,
            kind: "get",
            key: f.key.clone(),
            requester: f.origin.as_ref().map_or(Requester::Answered, requester),
            got: f.quorum.got(),
            needed: f.quorum.needed(),
            targets: f
                .asked
                .iter()
                .map(|n| Target {
                    node: n.clone(),
                    hint: None,
                    answered: f.quorum.has_replied(n),
                })
                .collect(),
        });
    }
    for (rid, f) in &node.forwards {
        out.push(Progress {
            rid: *rid,
            kind: "forward",
            key: f.request.key().clone(),
            requester: requester(&f.origin),
            got: 0,
            needed: 1,
            targets: vec![Target {
                node: f.to.clone(),
                hint: None,
                answered: false,
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{ClientRequest, Config, RequestOptions};
    use crate::sim::{Cluster, NetConfig, TraceEvent};

    fn put(key: &str, value: &str) -> ClientRequest {
        ClientRequest::Put {
            key: Bytes::from(key),
            value: Bytes::from(value),
            context: None,
            options: RequestOptions::default(),
        }
    }

    fn run(flights: bool) -> (u64, Vec<TraceEvent>, Vec<crate::sim::Flight>, Vec<Progress>) {
        let mut c = Cluster::with_nodes(5, 4, Config::default(), NetConfig::default());
        c.record_trace();
        if flights {
            c.record_flights();
        }
        c.run_for(100);
        let id = c.submit(0, put("k", "v"));
        let progress: Vec<Progress> = (0..c.len())
            .filter_map(|i| c.node(i))
            .flat_map(requests)
            .collect();
        c.run_for(2_000);
        assert!(c
            .take_completed()
            .iter()
            .any(|r| r.id == id && r.result.is_ok()));
        (c.trace_hash(), c.take_trace(), c.take_flights(), progress)
    }

    #[test]
    fn recording_flights_changes_nothing_and_matches_every_send_and_delivery() {
        let (hash_off, trace_off, none, _) = run(false);
        let (hash_on, trace_on, flights, progress) = run(true);
        assert!(none.is_empty());
        assert_eq!(hash_off, hash_on, "recording draws nothing from the RNG");
        assert_eq!(trace_off, trace_on);
        let sends: Vec<(&NodeId, &NodeId, &str)> = trace_on
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Send { from, to, kind, .. } => Some((from, to, *kind)),
                _ => None,
            })
            .collect();
        let flown: Vec<(&NodeId, &NodeId, &str)> = flights
            .iter()
            .map(|f| (&f.from, &f.to, f.msg.kind()))
            .collect();
        assert_eq!(sends, flown, "one flight per traced send, in order");
        for e in &trace_on {
            if let TraceEvent::Deliver { at, from, to, kind } = e {
                assert!(
                    flights.iter().any(|f| f.arrives == Some(*at)
                        && &f.from == from
                        && &f.to == to
                        && f.msg.kind() == *kind),
                    "a delivery at {at} matches a flight"
                );
            }
        }
        // Right after the submit, the put is in flight at its coordinator (or forwarded, or
        // read first: the coordinator does not hold the key yet).
        let p = progress
            .iter()
            .find(|p| p.kind == "put" || p.kind == "forward" || p.kind == "get")
            .expect("the put is in flight");
        assert_eq!(p.key, Bytes::from("k"));
        if p.kind == "put" {
            assert_eq!(p.needed, 2);
            assert!(p.got <= 1, "at most the coordinator's own store so far");
            assert_eq!(p.targets.len(), 3);
        }
    }
}
