//! get() (§4.5).
//!
//! Any node coordinates a get: it asks the key's first N healthy nodes (sloppy, §4.6),
//! answers the client once R replied with every concurrent version and their context, then
//! waits up to `read_repair_window_ms` for the late replies and repairs the primaries that
//! answered with stale data or not-found (`read_repair.rs`; never one only for being slow).
//!
//! Only an authority's answer counts toward R (issue 15 defect 8): not a primary whose
//! partition is still arriving (`transfer.rs`, pending handoff, or just restarted), nor a
//! node that holds nothing of a key it does not replicate (an old owner that handed it off,
//! a fallback without a hint). Their versions are merged into the answer, and the next node
//! of the preference list is asked in their place; only when nobody is left to ask do they
//! count after all.
//!
//! A reply that reached R only by counting such answers is flagged `partial` (issue 14
//! item 5): its `values` may lack versions the key's primaries hold, and an empty one does
//! not mean the key is absent. The coordinator does not wait for a primary past what it
//! already waits (a silent node is replaced after `sloppy_retry_ms`, and "nobody left to
//! ask" needs every asked node answered or replaced): it answers at once, flagged, rather
//! than hold every read of a degraded small cluster until the request's deadline (Riak's
//! `basic_quorum`). A caller that needs certainty retries a partial read later.

use super::bytes::Bytes;
use super::context::Context;
use super::dvv::{Siblings, VersionVector};
use super::error::Error;
use super::id::NodeId;
use super::io::{ClientReply, Event};
use super::message::{Message, Rid};
use super::node::{Node, Origin};
use super::quorum::GetQuorum;
use super::resolve::{merge_counter_states, resolve, Resolver};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub(crate) struct GetFsm {
    /// `None` once the client has its answer (the read-repair phase).
    pub origin: Option<Origin>,
    pub key: Bytes,
    pub preflist: Vec<NodeId>,
    pub asked: BTreeSet<NodeId>,
    pub replaced: BTreeSet<NodeId>,
    pub quorum: GetQuorum,
    /// Replies of nodes that are no authority on the key: merged, not counted toward R.
    pub uncounted: BTreeMap<NodeId, Siblings>,
    pub retry_at_ms: u64,
    pub deadline_ms: u64,
    /// End of the read-repair window, once answered.
    pub repair_at_ms: Option<u64>,
    /// Replies of non-authorities counted toward R after all (nobody left to ask).
    pub counted_after_all: usize,
}

impl super::timers::Timed for GetFsm {
    fn next_deadline(&self) -> u64 {
        match self.repair_at_ms {
            Some(t) => t,
            None => self.retry_at_ms.min(self.deadline_ms),
        }
    }
}

impl GetFsm {
    fn has_replied(&self, node: &NodeId) -> bool {
        self.quorum.has_replied(node) || self.uncounted.contains_key(node)
    }

    /// Every version any asked node returned, counted or not.
    pub(crate) fn merged(&self) -> Siblings {
        let mut merged = self.quorum.merged().clone();
        for v in self.uncounted.values() {
            merged.sync(v);
        }
        merged
    }
}

impl Node {
    pub(crate) fn start_get(&mut self, origin: Origin, key: Bytes, r: usize, deadline_ms: u64) {
        let rid = self.alloc_rid();
        self.stats.gets += 1;
        let preflist = self.preflist(&key);
        let targets = self.sloppy_targets(&preflist);
        let mut fsm = GetFsm {
            origin: Some(origin),
            key: key.clone(),
            preflist,
            asked: BTreeSet::new(),
            replaced: BTreeSet::new(),
            quorum: GetQuorum::new(r),
            uncounted: BTreeMap::new(),
            retry_at_ms: self.now_ms + self.config.sloppy_retry_ms,
            deadline_ms,
            repair_at_ms: None,
            counted_after_all: 0,
        };
        for (node, _) in targets {
            // (A target may already be asked in place of a non-authoritative one.)
            if !fsm.asked.contains(&node) {
                self.ask(&mut fsm, rid, node);
            }
        }
        self.gets.insert(rid, fsm);
        self.check_get(rid);
    }

    fn ask(&mut self, fsm: &mut GetFsm, rid: Rid, node: NodeId) {
        fsm.asked.insert(node.clone());
        if node == self.id {
            let local = self.read_local(&fsm.key);
            if !self.authoritative(&fsm.key, &local) {
                self.add_uncounted(fsm, rid, node, local);
            } else {
                fsm.quorum.add_result(&node, local);
            }
        } else {
            self.send(
                node,
                Message::Read {
                    rid,
                    key: fsm.key.clone(),
                },
            );
        }
    }

    /// A replica's answer to `Read`: `ReadReplyPending` when it is no authority on the key
    /// (`authoritative`).
    pub(crate) fn on_read(&mut self, from: NodeId, rid: Rid, key: Bytes) {
        let versions = self.read_local(&key);
        let msg = if !self.authoritative(&key, &versions) {
            Message::ReadReplyPending { rid, versions }
        } else {
            Message::ReadReply { rid, versions }
        };
        self.send(from, msg);
    }

    /// Whether this node's answer for `key` counts toward R. Not when its partition is still
    /// arriving (pending handoff), nor a miss of a node that does not replicate the key in
    /// its ring (an old owner that handed it off, a fallback without a hint).
    fn authoritative(&self, key: &[u8], local: &Siblings) -> bool {
        !self.is_pending(key) && (!local.is_empty() || self.is_primary(key))
    }

    /// A reply that does not count toward R: keep its versions and ask the next node of
    /// the preference list that was not asked yet. Once every node asked has answered and
    /// R is still not met (nobody left to ask: a small cluster), these replies count after
    /// all (`check_get`): an answer from every replica there is beats none.
    fn add_uncounted(&mut self, fsm: &mut GetFsm, rid: Rid, node: NodeId, versions: Siblings) {
        if fsm.has_replied(&node) {
            return;
        }
        let next = fsm
            .preflist
            .iter()
            .find(|c| !fsm.asked.contains(*c) && self.is_up(c) && !self.is_gone(c))
            .cloned();
        fsm.uncounted.insert(node, versions);
        if let Some(next) = next {
            self.ask(fsm, rid, next);
        }
    }

    pub(crate) fn on_read_reply(
        &mut self,
        from: NodeId,
        rid: Rid,
        versions: Siblings,
        counts: bool,
    ) {
        let Some(mut f) = self.gets.remove(&rid) else {
            return;
        };
        if f.asked.contains(&from) {
            if counts {
                if !f.uncounted.contains_key(&from) {
                    f.quorum.add_result(&from, versions);
                }
            } else {
                self.add_uncounted(&mut f, rid, from, versions);
            }
        }
        self.gets.insert(rid, f);
        self.check_get(rid);
    }

    /// Answer the client once R replied; finish once every asked node replied.
    fn check_get(&mut self, rid: Rid) {
        let Some(f) = self.gets.get_mut(&rid) else {
            return;
        };
        let exhausted = f
            .asked
            .iter()
            .all(|n| f.has_replied(n) || f.replaced.contains(n));
        if f.origin.is_some() && !f.quorum.enough() && !f.uncounted.is_empty() && exhausted {
            for (n, v) in std::mem::take(&mut f.uncounted) {
                if !f.quorum.has_replied(&n) {
                    f.quorum.add_result(&n, v);
                    f.counted_after_all += 1;
                }
            }
        }
        if f.origin.is_some() && f.quorum.enough() {
            let origin = f.origin.take();
            f.repair_at_ms = Some(self.now_ms + self.config.read_repair_window_ms);
            let key = f.key.clone();
            let merged = f.merged();
            // R was reached only with some non-authoritative answer.
            let partial = f.quorum.got() - f.counted_after_all < f.quorum.needed();
            if let Some(origin) = origin {
                self.answer_get(origin, key, merged, partial);
            }
        }
        let Some(f) = self.gets.get(&rid) else {
            return;
        };
        if f.origin.is_none() && f.asked.iter().all(|n| f.has_replied(n)) {
            self.finish_get(rid);
        }
    }

    fn answer_get(&mut self, origin: Origin, key: Bytes, merged: Siblings, partial: bool) {
        if merged.len() > 1 {
            self.emit(Event::SiblingsDetected {
                key: key.clone(),
                count: merged.len(),
            });
        }
        self.warn_siblings(&key, merged.len());
        let resolver = self.config.resolvers.for_key(&key);
        let result = match resolve(resolver, &merged) {
            Ok(value) => Ok(ClientReply::Get {
                value,
                context: self.reply_context(&key, merged.context(), &merged),
                versions: merged,
                partial,
            }),
            Err(e) => Err(Error::Corrupt(e.to_string())),
        };
        self.reply(origin, result);
    }

    /// The context a client gets back with `versions`: their clock `clock`, and for a
    /// counter key the state they hold (so a delete with it resets exactly what was seen).
    pub(crate) fn reply_context(
        &self,
        key: &Bytes,
        clock: VersionVector,
        versions: &Siblings,
    ) -> Context {
        if self.config.resolvers.for_key(key) == Resolver::Counter {
            if let Ok(state) = merge_counter_states(versions) {
                return Context::with_counter(clock, state);
            }
        }
        Context::from(clock)
    }

    pub(crate) fn get_timer(&mut self, rid: Rid) {
        let now = self.now_ms;
        let deaf_until = self.deaf_until();
        let Some(f) = self.gets.get_mut(&rid) else {
            return;
        };
        if f.origin.is_none() {
            // The read-repair window is over.
            self.finish_get(rid);
            return;
        }
        if now < deaf_until {
            // This node stalled: the answers sent meanwhile are still queued (`put_timer`).
            f.retry_at_ms = deaf_until;
            f.deadline_ms = f.deadline_ms.max(f.retry_at_ms);
            return;
        }
        if now >= f.deadline_ms {
            let (needed, got) = (f.quorum.needed(), f.quorum.got());
            if let Some(origin) = f.origin.take() {
                self.reply(origin, Err(Error::QuorumFailed { needed, got }));
            }
            self.finish_get(rid);
            return;
        }
        // Sloppy quorum for reads: replace silent nodes by the next healthy fallbacks.
        f.retry_at_ms = now + self.config.sloppy_retry_ms;
        let silent: Vec<NodeId> = f
            .asked
            .iter()
            .filter(|n| !f.has_replied(n) && !f.replaced.contains(*n))
            .cloned()
            .collect();
        let Some(mut f) = self.gets.remove(&rid) else {
            return;
        };
        for node in silent {
            self.suspect(&node);
            f.replaced.insert(node);
            let next = f
                .preflist
                .iter()
                .find(|c| !f.asked.contains(*c) && self.is_up(c))
                .cloned();
            if let Some(next) = next {
                self.ask(&mut f, rid, next);
            }
        }
        self.gets.insert(rid, f);
        self.check_get(rid);
    }
}
