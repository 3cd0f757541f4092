//! The invariants checked at the end of every simulated run, and the history they are
//! checked against.
//!
//! 1. No acknowledged write is lost: after the liveness phase every acknowledged put or
//!    delete is present at the key's replicas, or causally covered by a version whose writer
//!    had seen it.
//! 2. Causally ordered writes never become siblings: a write whose context covered an earlier
//!    one never stands beside it; every get returns an antichain.
//! 3. Concurrent writes are never silently dropped (follows from 1: a concurrent write is
//!    covered by nothing but a writer that saw it).
//! 4. All replicas of each key converge to the same sibling set, and no hint is left.
//! 5. Every request ends, successfully or with a typed error, within its timeout.

use crate::core::{Bytes, Dot, NodeId, ReqId, Siblings, Status, VersionVector};
use crate::sim::Cluster;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug)]
struct RequestRecord {
    start: u64,
    timeout: u64,
    end: Option<u64>,
    lost: bool,
}

#[derive(Clone, Debug)]
struct AckedWrite {
    key: Bytes,
    dot: Dot,
    past: VersionVector,
}

#[derive(Default, Debug)]
pub struct History {
    requests: BTreeMap<ReqId, RequestRecord>,
    acked: Vec<AckedWrite>,
    written: BTreeSet<Bytes>,
    violations: Vec<Violation>,
    pub gets_ok: u64,
    pub gets_with_siblings: u64,
    pub writes_ok: u64,
    pub failed: u64,
}

impl History {
    pub fn new() -> Self {
        History::default()
    }

    pub fn started(&mut self, id: ReqId, at: u64, timeout: u64, key: &Bytes, write: bool) {
        self.requests.insert(
            id,
            RequestRecord {
                start: at,
                timeout,
                end: None,
                lost: false,
            },
        );
        if write {
            self.written.insert(key.clone());
        }
    }

    pub fn ended(&mut self, id: ReqId, at: u64, ok: bool) {
        if let Some(r) = self.requests.get_mut(&id) {
            r.end = Some(at);
            if at > r.start + r.timeout {
                self.violations.push(Violation(format!(
                    "request {id} ended after {} ms, past its {} ms timeout",
                    at - r.start,
                    r.timeout
                )));
            }
        }
        if !ok {
            self.failed += 1;
        }
    }

    /// The node holding these requests crashed: their clients never hear back.
    pub fn lost(&mut self, ids: &[ReqId]) {
        for id in ids {
            if let Some(r) = self.requests.get_mut(id) {
                r.lost = true;
            }
        }
    }

    pub fn write_acked(&mut self, key: &Bytes, dot: Dot, past: VersionVector) {
        self.writes_ok += 1;
        self.acked.push(AckedWrite {
            key: key.clone(),
            dot,
            past,
        });
    }

    /// Check what a get returned: no version may be an ancestor of another.
    pub fn observed(&mut self, key: &Bytes, versions: &Siblings) {
        self.gets_ok += 1;
        if versions.len() > 1 {
            self.gets_with_siblings += 1;
        }
        let vs = versions.versions();
        for a in vs {
            for b in vs {
                if a.dot != b.dot && b.past.covers(&a.dot) {
                    self.violations.push(Violation(format!(
                        "get of {key:?} returned {} beside its descendant {}",
                        a.dot, b.dot
                    )));
                }
            }
        }
    }

    pub fn acked_writes(&self) -> usize {
        self.acked.len()
    }

    pub fn keys_written(&self) -> impl Iterator<Item = &Bytes> {
        self.written.iter()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The end-of-run checks, once the liveness phase is over.
    pub fn check_final(&mut self, cluster: &Cluster) -> Vec<Violation> {
        let mut v = std::mem::take(&mut self.violations);
        for (id, r) in &self.requests {
            if r.end.is_none() && !r.lost {
                v.push(Violation(format!("request {id} never ended")));
            }
        }
        // Membership has converged: every live member holds the same view.
        let live: Vec<usize> = (0..cluster.len())
            .filter(|&i| cluster.node(i).is_some_and(|n| !n.has_exited()))
            .collect();
        let Some(&first_live) = live.first() else {
            v.push(Violation("no node is up at the end".into()));
            return v;
        };
        let view = cluster
            .node(first_live)
            .map(|n| n.membership().clone())
            .unwrap_or_default();
        let Some(ring) = view.ring().cloned() else {
            v.push(Violation("no ring at the end".into()));
            return v;
        };
        for &i in &live {
            if let Some(n) = cluster.node(i) {
                if n.membership().summary() != view.summary() {
                    v.push(Violation(format!(
                        "membership views differ: {} and {}",
                        cluster.id(first_live),
                        cluster.id(i)
                    )));
                }
            }
        }
        for i in 0..cluster.len() {
            let status = view.get(cluster.id(i)).map(|m| m.status);
            let gone = matches!(status, Some(Status::Exiting | Status::Down));
            match cluster.node(i) {
                None if !gone => v.push(Violation(format!("{} is down at the end", cluster.id(i)))),
                None => {}
                Some(n) => {
                    if let Some(((to, key), _)) = n.hints().next() {
                        v.push(Violation(format!(
                            "{} still holds a hint of {key:?} for {to}",
                            cluster.id(i)
                        )));
                    }
                    let n_val = cluster.config().n;
                    for (key, _) in n.objects() {
                        let primaries = ring.preflist_for_key(key);
                        if !primaries.iter().take(n_val).any(|p| p == n.id()) {
                            v.push(Violation(format!(
                                "{} still holds {key:?}, which the ring places on {:?} ({} ring)",
                                cluster.id(i),
                                &primaries[..n_val.min(primaries.len())],
                                if n.ring() == Some(&ring) {
                                    "same"
                                } else {
                                    "a different"
                                }
                            )));
                            break;
                        }
                    }
                }
            }
        }
        let n = cluster.config().n;
        let mut final_state: BTreeMap<Bytes, Siblings> = BTreeMap::new();
        for key in &self.written {
            let primaries: Vec<NodeId> = ring.preflist_for_key(key).into_iter().take(n).collect();
            let mut first: Option<(NodeId, Siblings)> = None;
            let mut merged = Siblings::new();
            for p in &primaries {
                let Some(node) = cluster.index_of(p).and_then(|i| cluster.node(i)) else {
                    continue;
                };
                let held = node.local_versions(key).cloned().unwrap_or_default();
                merged.sync(&held);
                match &first {
                    None => first = Some((p.clone(), held)),
                    Some((q, s)) if s != &held => v.push(Violation(format!(
                        "replicas of {key:?} diverge: {q} holds {:?}, {p} holds {:?}",
                        dots(s),
                        dots(&held)
                    ))),
                    Some(_) => {}
                }
            }
            final_state.insert(key.clone(), merged);
        }
        for w in &self.acked {
            let Some(state) = final_state.get(&w.key) else {
                continue;
            };
            let kept = state
                .versions()
                .iter()
                .any(|x| x.dot == w.dot || x.past.covers(&w.dot));
            if !kept {
                v.push(Violation(format!(
                    "acknowledged write {} of {:?} was lost (replicas hold {:?})",
                    w.dot,
                    w.key,
                    dots(state)
                )));
            }
            for x in state.versions() {
                if w.past.covers(&x.dot) {
                    v.push(Violation(format!(
                        "{} of {:?} survives beside its descendant {}",
                        x.dot, w.key, w.dot
                    )));
                }
            }
        }
        v
    }
}

fn dots(s: &Siblings) -> Vec<String> {
    s.versions().iter().map(|v| v.dot.to_string()).collect()
}
