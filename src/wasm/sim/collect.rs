//! The page's view of a run: every message, delivery, persist, core event and fault the
//! simulator recorded since the last call becomes a page event; the quorum counters of the
//! requests in flight (§4.5) and each change of a watched key's versions at a node, with the
//! comparison that decided it (§4.4), are reported too.

use super::views::*;
use super::*;

impl SimCluster {
    /// Collect, and compare every node's versions of the watched keys (after a fault).
    pub(super) fn collect_all(&mut self) {
        self.collect();
        let all = vec![true; self.c.len()];
        self.version_changes(&all, &Brought::new(), "restart");
    }

    /// Turn what the cluster recorded since the last call into page events, then report
    /// the quorum counters and the versions that changed.
    pub(super) fn collect(&mut self) {
        let first = self.out.len();
        let trace = self.c.take_trace();
        let mut flights: VecDeque<Flight> = self.c.take_flights().into();
        let progress = self.progress();
        let mut touched = vec![false; self.c.len()];
        let mut brought = Brought::new();
        for e in trace {
            match e {
                TraceEvent::Send { .. } => {
                    // One flight per traced send, in the same order.
                    let Some(f) = flights.pop_front() else {
                        continue;
                    };
                    self.on_send(f, &mut touched);
                }
                TraceEvent::Deliver { at, from, to, kind } => {
                    // Same sender, recipient, kind and arrival: delivered in send order.
                    let landed = self
                        .flying
                        .iter()
                        .position(|a| {
                            a.arrives == at && a.kind == kind && a.from == from && a.to == to
                        })
                        .map(|p| self.flying.remove(p));
                    let id = landed.as_ref().map_or(0, |a| a.id);
                    if let Some(i) = self.c.index_of(&to) {
                        touched[i] = true;
                        if is_request_work(kind) {
                            if let Some(l) = self.metrics.load.get_mut(i) {
                                *l += 1;
                            }
                        }
                        let msg = landed.and_then(|a| a.msg);
                        if let Some(msg) = msg {
                            if let (Some(key), Some(vs)) = (msg.key(), carried(&msg)) {
                                if let Some(k) = self.watched.iter().position(|w| w == key) {
                                    brought.retain(|b| !(b.0 == i && b.1 == k));
                                    brought.push((i, k, id, kind, vs.clone()));
                                }
                            }
                        }
                    }
                    let kind = if self.ae_repairs.remove(&id) {
                        "ae-repair"
                    } else {
                        kind
                    };
                    self.out.push(PageEvent::Deliver {
                        id,
                        at,
                        from: from.to_string(),
                        to: to.to_string(),
                        kind,
                    });
                }
                TraceEvent::Persist { at, node, ops } => {
                    if let Some(i) = self.c.index_of(&node) {
                        touched[i] = true;
                    }
                    self.out.push(PageEvent::Persist {
                        at,
                        node: node.to_string(),
                        ops,
                    });
                }
                TraceEvent::Reply { node, .. } => {
                    if let Some(i) = self.c.index_of(&node) {
                        touched[i] = true;
                    }
                }
                TraceEvent::Event { at, node, event } => {
                    if let Some(i) = self.c.index_of(&node) {
                        touched[i] = true;
                    }
                    self.out.push(PageEvent::Event {
                        at,
                        node: node.to_string(),
                        text: event,
                    });
                }
                TraceEvent::Fault { at, what } => self.out.push(PageEvent::Fault { at, what }),
            }
        }
        // Messages that reached a crashed node are lost there.
        let now = self.c.now();
        let mut k = 0;
        while k < self.flying.len() {
            let a = &self.flying[k];
            let gone = a.to_index.is_none_or(|t| !self.c.is_up(t));
            if a.arrives <= now && gone {
                let a = self.flying.remove(k);
                self.ae_repairs.remove(&a.id);
                self.out.push(PageEvent::Lost {
                    id: a.id,
                    at: a.arrives,
                    to: a.to.to_string(),
                    by_you: false,
                });
            } else {
                k += 1;
            }
        }
        self.name_repairs(first);
        self.quorum_changes(progress);
        self.replies();
        self.version_changes(&touched, &brought, "write");
    }

    /// Every request in flight at every live node, with the client request it serves.
    pub(super) fn progress(&mut self) -> Vec<(usize, observe::Progress, Option<ReqId>)> {
        let mut out = Vec::new();
        for i in 0..self.c.len() {
            let Some(node) = self.c.node(i) else {
                continue;
            };
            if node.requests_in_flight() == 0 && !self.quorums.iter().any(|(k, _)| k.0 == i) {
                continue;
            }
            for p in observe::requests(node) {
                let req = match &p.requester {
                    Requester::Client(r) => Some(*r),
                    Requester::Forwarded { from, rid } => {
                        self.c.index_of(from).and_then(|f| self.req_of(f, *rid))
                    }
                    Requester::Answered => self.req_of(i, p.rid),
                };
                out.push((i, p, req));
            }
        }
        for (i, p, req) in &out {
            if let Some(r) = req {
                if self.req_of(*i, p.rid).is_none() {
                    self.rid_req.push((*i, p.rid, *r));
                }
            }
        }
        out
    }

    pub(super) fn req_of(&self, node: usize, rid: u64) -> Option<ReqId> {
        self.rid_req
            .iter()
            .find(|(n, r, _)| *n == node && *r == rid)
            .map(|x| x.2)
    }

    pub(super) fn on_send(&mut self, f: Flight, touched: &mut [bool]) {
        self.flight_seq += 1;
        let id = self.flight_seq;
        let kind = f.msg.kind();
        let from_i = self.c.index_of(&f.from);
        let to_i = self.c.index_of(&f.to);
        if let Some(i) = from_i {
            touched[i] = true;
        }
        let key = f.msg.key().cloned();
        let keep =
            carried(&f.msg).is_some() && key.as_ref().is_some_and(|k| self.watched.contains(k));
        for (arrives, seq) in [(f.arrives, f.seq), (f.duplicate_arrives, f.duplicate_seq)] {
            let Some(at) = arrives else {
                continue;
            };
            self.flying.push(Airborne {
                id,
                from: f.from.clone(),
                to: f.to.clone(),
                to_index: to_i,
                kind,
                arrives: at,
                seq,
                msg: keep.then(|| f.msg.clone()),
            });
        }
        let req = from_i
            .and_then(|fi| message_rid(&f.msg, fi, to_i))
            .and_then(|(n, r)| self.req_of(n, r));
        let versions = carried(&f.msg).map(versions_view).unwrap_or_default();
        let merkle = match &f.msg {
            Message::AntiEntropy { xid, msg, .. } => Some(MerkleMsgView {
                xid: *xid,
                partition: msg.partition(),
                bytes: msg.wire_size(),
                last: msg.is_final(),
                trees: self.first_difference(*xid, msg, from_i, to_i),
            }),
            _ => None,
        };
        self.out.push(PageEvent::Send {
            id,
            at: f.at,
            arrives: f.arrives,
            dup: f.duplicate_arrives,
            from: f.from.to_string(),
            to: f.to.to_string(),
            kind,
            key: key.map(|k| text(&k)),
            req,
            detail: detail(&f.msg),
            versions,
            merkle,
        });
    }

    pub(super) fn quorum_changes(
        &mut self,
        progress: Vec<(usize, observe::Progress, Option<ReqId>)>,
    ) {
        let at = self.c.now();
        let mut live: Vec<QuorumKey> = Vec::new();
        for (i, p, req) in progress {
            let k = (i, p.kind, p.rid);
            live.push(k);
            let counter = (p.got, p.needed);
            match self.quorums.iter_mut().find(|(q, _)| *q == k) {
                Some((_, c)) if *c == counter => continue,
                Some((_, c)) => *c = counter,
                None => self.quorums.push((k, counter)),
            }
            let phase = match (&p.requester, p.kind) {
                (Requester::Answered, _) => "read-repair window",
                (_, "forward") => "forwarded",
                _ => "collecting",
            };
            self.out.push(PageEvent::Quorum {
                at,
                node: self.name(i),
                rid: p.rid,
                kind: p.kind,
                key: text(&p.key),
                req,
                got: p.got,
                needed: p.needed,
                answered: p
                    .targets
                    .iter()
                    .filter(|t| t.answered)
                    .map(|t| t.node.to_string())
                    .collect(),
                asked: p.targets.iter().map(|t| t.node.to_string()).collect(),
                hints: p
                    .targets
                    .iter()
                    .filter_map(|t| t.hint.as_ref().map(|h| (t.node.to_string(), h.to_string())))
                    .collect(),
                phase,
                done: false,
            });
        }
        let ended: Vec<(QuorumKey, (usize, usize))> = self
            .quorums
            .iter()
            .filter(|(k, _)| !live.contains(k))
            .copied()
            .collect();
        self.quorums.retain(|(k, _)| live.contains(k));
        for ((i, kind, rid), (got, needed)) in ended {
            let req = self.req_of(i, rid);
            self.out.push(PageEvent::Quorum {
                at,
                node: self.name(i),
                rid,
                kind,
                key: String::new(),
                req,
                got,
                needed,
                answered: Vec::new(),
                asked: Vec::new(),
                hints: Vec::new(),
                phase: "ended",
                done: true,
            });
        }
    }

    pub(super) fn version_changes(
        &mut self,
        touched: &[bool],
        brought: &Brought,
        default_cause: &str,
    ) {
        if self.watched.is_empty() {
            return;
        }
        let at = self.c.now();
        let keys: Vec<Bytes> = self.watched.clone();
        for (i, _) in touched.iter().enumerate().filter(|(_, t)| **t) {
            for (k, key) in keys.iter().enumerate() {
                let now_h = self.held(i, key);
                let Some(before) = self.seen.get(i).and_then(|s| s.get(k)).cloned() else {
                    continue;
                };
                if before == now_h {
                    continue;
                }
                let before_vs: Vec<Version> = before
                    .data
                    .as_ref()
                    .map(|s| s.versions().to_vec())
                    .unwrap_or_default();
                let from_msg = brought.iter().find(|b| b.0 == i && b.1 == k);
                let (cause, msg, incoming): (String, Option<u64>, Vec<Version>) = match from_msg {
                    Some((_, _, id, kind, vs)) => {
                        (kind.to_string(), Some(*id), vs.versions().to_vec())
                    }
                    None => {
                        let new: Vec<Version> = now_h
                            .data
                            .as_ref()
                            .map(|s| {
                                s.versions()
                                    .iter()
                                    .filter(|v| !before_vs.iter().any(|b| b.dot == v.dot))
                                    .cloned()
                                    .collect()
                            })
                            .unwrap_or_default();
                        let cause = if !self.c.is_up(i) {
                            "crash"
                        } else if new.is_empty() && now_h.data.is_none() {
                            "drop"
                        } else {
                            default_cause
                        };
                        (cause.to_string(), None, new)
                    }
                };
                let mut verdicts = Vec::new();
                for inc in &incoming {
                    for ex in &before_vs {
                        verdicts.push(Verdict {
                            incoming: version_label(inc, ex),
                            existing: version_label(ex, inc),
                            rel: relation(inc, ex),
                        });
                    }
                }
                let hint_view = |h: &Held| -> Vec<HintView> {
                    h.hints
                        .iter()
                        .map(|(n, s)| HintView {
                            intended: n.to_string(),
                            versions: versions_view(s),
                        })
                        .collect()
                };
                self.out.push(PageEvent::Versions {
                    at,
                    node: self.name(i),
                    key: text(key),
                    cause,
                    msg,
                    before: before_vs.iter().map(version_view).collect(),
                    incoming: incoming.iter().map(version_view).collect(),
                    after: now_h.data.as_ref().map(versions_view).unwrap_or_default(),
                    hints_before: hint_view(&before),
                    hints_after: hint_view(&now_h),
                    verdicts,
                });
                self.seen[i][k] = now_h;
            }
        }
    }

    /// What node `i` holds for `key`: from memory when up, from its disk when crashed.
    pub(super) fn held(&self, i: usize, key: &Bytes) -> Held {
        match self.c.node(i) {
            Some(node) => Held {
                data: node.local_versions(key).cloned(),
                hints: node
                    .hints()
                    .filter(|((_, k), _)| k == key)
                    .map(|((n, _), v)| (n.clone(), v.clone()))
                    .collect(),
            },
            None => {
                let st = self.c.store(i).state();
                Held {
                    data: st.objects.get(key).cloned(),
                    hints: st
                        .hints
                        .iter()
                        .filter(|((_, k), _)| k == key)
                        .map(|((n, _), v)| (n.clone(), v.clone()))
                        .collect(),
                }
            }
        }
    }

    pub(super) fn watch_key(&mut self, key: &Bytes) {
        if self.watched.contains(key) || self.watched.len() >= MAX_WATCHED {
            return;
        }
        self.watched.push(key.clone());
        for i in 0..self.c.len() {
            let h = self.held(i, key);
            self.seen[i].push(h);
        }
    }

    /// The core sends one `Repair` message for two reasons: a get's read repair (§4.5, the
    /// coordinator then reports a read-repair event) and anti-entropy pushing a key its
    /// Merkle exchange found different (§4.7). The page names the second `ae-repair`.
    fn name_repairs(&mut self, first: usize) {
        let read_repairs: Vec<(u64, String)> = self.out[first..]
            .iter()
            .filter_map(|e| match e {
                PageEvent::Event { at, node, text } if text.starts_with("read repair") => {
                    Some((*at, node.clone()))
                }
                _ => None,
            })
            .collect();
        for e in &mut self.out[first..] {
            if let PageEvent::Send {
                id, at, from, kind, ..
            } = e
            {
                if *kind == "read-repair" && !read_repairs.iter().any(|(a, n)| a == at && n == from)
                {
                    *kind = "ae-repair";
                    self.ae_repairs.insert(*id);
                }
            }
        }
    }

    /// Both trees, for the first message of exchange `xid` that descends (its roots differ).
    fn first_difference(
        &mut self,
        xid: u64,
        msg: &crate::core::hashtree::TreeMsg,
        from: Option<usize>,
        to: Option<usize>,
    ) -> Option<MerkleView> {
        use crate::core::hashtree::TreeMsg;
        let descends = match msg {
            TreeMsg::Root { .. } => false,
            TreeMsg::Step {
                nodes, keys, diff, ..
            } => !(nodes.is_empty() && keys.is_empty() && diff.is_empty()),
        };
        let (a, b) = (from?, to?);
        if !descends || self.drawn_exchanges.contains(&(a.min(b), xid)) {
            return None;
        }
        self.drawn_exchanges.push((a.min(b), xid));
        if self.drawn_exchanges.len() > 256 {
            self.drawn_exchanges.remove(0);
        }
        Some(self.merkle_view(msg.partition(), a, b))
    }
}
