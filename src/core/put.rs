//! put() (§4.5) with a sloppy quorum (§4.6) and the write buffer option (§6.1).
//!
//! A write arriving at a node outside the key's first N healthy nodes is forwarded to one of
//! them (`ForwardFsm`). The coordinator issues a fresh dot, makes the new version (its past
//! is the client's context), stores it, and replicates it to the first N healthy nodes of the
//! preference list; a fallback gets a hint naming the primary it stands in for. The put
//! succeeds after W stores, the coordinator's own included (`PutFsm`). A replica that has
//! not answered after `sloppy_retry_ms` is suspected and the next fallback is used.

use super::bytes::Bytes;

use super::config::Mutant;
use super::dvv::{Dot, Siblings, Value, Version, VersionVector};
use super::error::Error;
use super::id::NodeId;
use super::io::{ClientReply, ClientRequest};
use super::membership::MemberInfo;
use super::membership::Status;
use super::message::{Message, Refusal, Rid};
use super::node::{fallback_actor_name, Node, Origin, Waiter};
use super::quorum::PutQuorum;
use super::resolve::{apply_op, Op, Resolver};
use super::storage::{ForwardMark, StoreOp};
use std::collections::{BTreeMap, BTreeSet};

/// Keys whose fallback records a node keeps (`new_dot`); past them the fallback actor
/// moves on to its next generation.
const FALLBACK_KEYS: usize = 1024;
/// Keys a run remembers it read before writing (`coordinate_write_as`); forgetting them
/// only costs another read.
const READ_KEYS: usize = 65_536;

/// One replica a put was sent to.
#[derive(Clone, Debug)]
pub(crate) struct PutTarget {
    pub hint: Option<NodeId>,
    /// Replaced by a fallback after missing the retry deadline.
    pub replaced: bool,
}

/// The state machine of one coordinated put.
#[derive(Clone, Debug)]
pub(crate) struct PutFsm {
    /// Who waits for the outcome; `None` once answered (the put then lives on until every
    /// primary's slot is filled or its next retry, `put_timer`).
    pub origin: Option<Origin>,
    pub key: Bytes,
    pub versions: Siblings,
    pub version: Version,
    pub durable: bool,
    pub preflist: Vec<NodeId>,
    pub targets: BTreeMap<NodeId, PutTarget>,
    pub quorum: PutQuorum,
    /// Slots this node was to fill itself although it has left: replaced in `check_put`.
    pub orphan_slots: Vec<NodeId>,
    pub retry_at_ms: u64,
    pub deadline_ms: u64,
    /// Replicas (node, hint, durable ack) sent to only once the coordinator's own store is
    /// durable (issue 15 defect 4: no dot leaves before its coordinator holds it).
    pub held_back: Vec<(NodeId, Option<NodeId>, bool)>,
}

impl PutFsm {
    /// The `Replicate` of this put (request `rid`) for a replica, or a stand-in for `hint`.
    fn replicate(&self, rid: Rid, hint: Option<NodeId>, durable: bool) -> Message {
        Message::Replicate {
            rid,
            key: self.key.clone(),
            versions: self.versions.clone(),
            hint,
            durable,
        }
    }
}

impl super::timers::Timed for PutFsm {
    fn next_deadline(&self) -> u64 {
        self.retry_at_ms.min(self.deadline_ms)
    }
}

/// A write handed to another node of the preference list.
///
/// At most once (DYNAMO.md "Exactly once"): once the `Forward` left, the forwarder never
/// applies nor re-routes the write unless the coordinator confirmed it will never apply it
/// (`ForwardCancelled`). Without `ForwardAccepted` by `poll_at_ms` it asks to cancel; once
/// accepted, a reply missing after the coordinator's own deadline is asked for the same way
/// (the coordinator answers a cancel of an accepted forward with its outcome). Silence ends
/// in an ambiguous `Timeout`.
#[derive(Clone, Debug)]
pub(crate) struct ForwardFsm {
    pub origin: Origin,
    pub request: ClientRequest,
    pub to: NodeId,
    /// The coordinator said it accepted the request.
    pub accepted: bool,
    /// When to send `ForwardCancel` (asking to cancel, or for a missing reply), if ever.
    pub poll_at_ms: Option<u64>,
    /// The coordinator's own deadline: it has replied by then.
    pub reply_by_ms: u64,
    pub give_up_at_ms: u64,
    pub deadline_ms: u64,
}

impl super::timers::Timed for ForwardFsm {
    fn next_deadline(&self) -> u64 {
        self.poll_at_ms
            .unwrap_or(u64::MAX)
            .min(self.give_up_at_ms)
            .min(self.deadline_ms)
    }
}

/// A coordinator's memory of one forward it was sent, for twice the request timeout.
///
/// An accepted write is *marked*: its identity goes to disk (`StoreOp::PutForward`) and the
/// node acts on it (coordinates it, or hands it on) only once the mark is durable, so a
/// duplicate of the `Forward` that reaches a later run of this node finds the mark
/// (`Snapshot::forwards`) and is not applied again.
#[derive(Clone, Debug)]
pub(crate) struct ForwardSeen {
    pub expires_ms: u64,
    /// Accepted and coordinated here (else: cancelled, never to be accepted).
    pub accepted: bool,
    /// The mark is on disk or on its way there (deleted when this memory expires).
    pub marked: bool,
    /// The accepted request and its deadline, until its mark is durable.
    pub waiting: Option<(ClientRequest, u64)>,
    /// The outcome sent back, to send again to a forwarder that missed it.
    pub result: Option<Result<ClientReply, Error>>,
}

impl ForwardSeen {
    /// A mark a previous run of this node left on disk.
    pub fn restored(expires_ms: u64) -> Self {
        ForwardSeen {
            expires_ms,
            accepted: true,
            marked: true,
            waiting: None,
            result: None,
        }
    }
}

/// A write waiting for dots to be reserved on disk, or for its coordinator to read the key
/// from the other replicas first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingWrite {
    pub origin: Origin,
    pub request: ClientRequest,
    pub deadline_ms: u64,
    pub read: ReadFirst,
}

/// Whether a primary that did not hold the key read it from the other replicas before
/// coordinating a write of it (issue 15 defect 4, `coordinate_write_as`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadFirst {
    /// Not read (the key is held here, or not read yet).
    No,
    /// Read: what the replicas held is merged into this node's store.
    Done,
    /// The read failed: if the key's partition moved away during this run, the write goes
    /// out as this run's fallback actor.
    Failed,
}

impl Node {
    /// Coordinate the write here if this node is a healthy primary of the key, else forward
    /// it to the first healthy primary; only when no primary is healthy, coordinate here if
    /// this node is one of the first N healthy nodes, else forward to the first of them.
    /// (Issue 15 defect 4: a write coordinated by a primary adds no actor to the key.)
    pub(crate) fn route_write(&mut self, origin: Origin, request: ClientRequest, deadline_ms: u64) {
        match self.write_coordinator(request.key()) {
            None => self.coordinate_write(origin, request, deadline_ms),
            Some(Some(to)) => self.forward(origin, request, to, deadline_ms),
            Some(None) => {
                self.reply(origin, Err(Error::QuorumFailed { needed: 1, got: 0 }));
            }
        }
    }

    /// Where a write of `key` is coordinated (`route_write`): `None` here, else the node
    /// to forward it to (`Some(None)`: nowhere).
    fn write_coordinator(&self, key: &Bytes) -> Option<Option<NodeId>> {
        let preflist = self.preflist(key);
        let targets = self.sloppy_targets(&preflist);
        let primary = |x: &NodeId| is_primary_of(&preflist, self.config.n, x);
        let first_primary = targets.iter().find(|(t, _)| primary(t)).map(|(t, _)| t);
        let here = match first_primary {
            Some(_) => targets.iter().any(|(t, _)| t == &self.id && primary(t)),
            None => targets.iter().any(|(t, _)| t == &self.id),
        };
        if here {
            return None;
        }
        let to = first_primary.or_else(|| targets.first().map(|(t, _)| t));
        Some(to.cloned())
    }

    fn forward(&mut self, origin: Origin, request: ClientRequest, to: NodeId, deadline_ms: u64) {
        let rid = self.alloc_rid();
        let budget = deadline_ms.saturating_sub(self.now_ms);
        // The remote coordinator answers (success or a typed error) within 2/3 of the
        // budget; silence beyond that (plus a retry margin) means it is unreachable.
        let timeout_ms = (budget * 2 / 3).max(1);
        let give_up_at_ms = self.now_ms + timeout_ms + self.config.sloppy_retry_ms;
        self.stats.forwarded += 1;
        self.send(
            to.clone(),
            Message::Forward {
                rid,
                request: request.clone(),
                timeout_ms,
            },
        );
        self.forwards.insert(
            rid,
            ForwardFsm {
                origin,
                request,
                to,
                accepted: false,
                poll_at_ms: Some(self.now_ms + self.config.sloppy_retry_ms),
                reply_by_ms: self.now_ms + timeout_ms,
                give_up_at_ms,
                deadline_ms,
            },
        );
    }

    fn forward_seen(&mut self, from: &NodeId, rid: Rid, accepted: bool) {
        let expires_ms = self.now_ms + 2 * self.config.request_timeout_ms;
        self.forwards_seen.insert(
            (from.clone(), rid),
            ForwardSeen {
                expires_ms,
                accepted,
                marked: false,
                waiting: None,
                result: None,
            },
        );
    }

    /// From then on, every forward a previous run of this node accepted has expired at its
    /// forwarder: twice the request timeout after this run began.
    fn forwards_remembered_from(&self) -> u64 {
        self.started_ms.unwrap_or(self.now_ms) + 2 * self.config.request_timeout_ms
    }

    /// Forget the forwards whose memory expired, and their marks on disk.
    pub(crate) fn expire_forwards_seen(&mut self) {
        let now = self.now_ms;
        let mut marks = Vec::new();
        self.forwards_seen.retain(|id, seen| {
            let keep = seen.expires_ms > now;
            if !keep && seen.marked {
                marks.push(id.clone());
            }
            keep
        });
        for (from, rid) in marks {
            self.queue_op(StoreOp::DeleteForward { from, rid });
        }
    }

    pub(crate) fn on_forward(
        &mut self,
        from: NodeId,
        rid: Rid,
        request: ClientRequest,
        timeout_ms: u64,
    ) {
        let now = self.now_ms;
        if let Some(seen) = self.forwards_seen.get(&(from.clone(), rid)) {
            // A duplicated frame, or one that arrives after its cancellation: never
            // coordinated a second time (nor after a cancel).
            if seen.accepted {
                self.send(from, Message::ForwardAccepted { rid });
            }
            return;
        }
        if self.forwards_unsure && now < self.forwards_remembered_from() {
            // It may be a duplicate of one a previous run accepted, whose record was lost
            // (`Node::forwards_unsure`): stay silent, the forwarder times out ambiguously.
            return;
        }
        let timeout_ms = timeout_ms.min(self.config.request_timeout_ms);
        self.forward_seen(&from, rid, true);
        self.send(from.clone(), Message::ForwardAccepted { rid });
        if matches!(request, ClientRequest::Get { .. }) {
            self.reply(
                Origin::Forwarded { from, rid },
                Err(Error::InvalidArgument("only writes are forwarded".into())),
            );
            return;
        }
        // Acted on once its mark is durable (see `ForwardSeen`): a crash before then leaves
        // no trace of it anywhere, so a duplicate in the next run is its only application.
        let id = (from.clone(), rid);
        let expires_ms = match self.forwards_seen.get_mut(&id) {
            Some(seen) => {
                seen.marked = true;
                seen.waiting = Some((request, now + timeout_ms));
                seen.expires_ms
            }
            None => return,
        };
        self.queue_op(StoreOp::PutForward(ForwardMark {
            from: from.clone(),
            rid,
            expires_ms,
        }));
        self.after_durable(Waiter::ForwardMarked(from, rid));
    }

    /// The mark of the forward `(from, rid)` is durable: coordinate it, or hand it on.
    pub(crate) fn act_on_forward(&mut self, from: NodeId, rid: Rid) {
        let Some((request, deadline_ms)) = self
            .forwards_seen
            .get_mut(&(from.clone(), rid))
            .and_then(|seen| seen.waiting.take())
        else {
            return;
        };
        let from_node = from.clone();
        let origin = Origin::Forwarded { from, rid };
        if self.now_ms >= deadline_ms {
            // The mark took the whole budget (a slow disk): the write was never applied,
            // and now never will be.
            let after_ms = self.request_timeout(&request);
            self.reply(
                origin,
                Err(Error::Timeout {
                    after_ms,
                    ambiguous: false,
                }),
            );
            return;
        }
        // Coordinate here even if our view of health differs: the sender chose us. But a
        // node that is no primary of the key in its own view of the ring (one of the two
        // views is stale) and does not hold it hands the write on to a healthy primary of
        // its view, never back to the sender: a primary coordinating adds no actor to the
        // key's context (issue 15 defect 4).
        if !self.is_primary(request.key()) && !self.data.contains_key(request.key()) {
            if let Some(Some(to)) = self.write_coordinator(request.key()) {
                if to != from_node && self.is_primary_in_view(&to, request.key()) {
                    self.forward(origin, request, to, deadline_ms);
                    return;
                }
            }
        }
        self.coordinate_write(origin, request, deadline_ms);
    }

    /// `node` is one of `key`'s first N nodes in this node's ring.
    fn is_primary_in_view(&self, node: &NodeId, key: &Bytes) -> bool {
        is_primary_of(&self.preflist(key), self.config.n, node)
    }

    pub(crate) fn on_forward_reply(&mut self, rid: Rid, result: Result<ClientReply, Error>) {
        if let Some(f) = self.forwards.remove(&rid) {
            self.reply(f.origin, result);
        }
    }

    pub(crate) fn on_forward_accepted(&mut self, from: NodeId, rid: Rid) {
        let now = self.now_ms;
        let retry = self.config.sloppy_retry_ms;
        if let Some(f) = self.forwards.get_mut(&rid) {
            if f.to == from && !f.accepted {
                f.accepted = true;
                // Ask once more if the reply is missing after the coordinator's deadline.
                f.poll_at_ms = Some((f.reply_by_ms + 1).max(now + retry));
            }
        }
    }

    /// The forwarder of `rid` heard no acceptance: confirm the cancellation if the forward
    /// was not accepted here, and promise never to accept it; else tell it again that it
    /// was accepted (with the outcome, if known).
    pub(crate) fn on_forward_cancel(&mut self, from: NodeId, rid: Rid) {
        if let Some(seen) = self.forwards_seen.get(&(from.clone(), rid)) {
            if !seen.accepted {
                self.send(from, Message::ForwardCancelled { rid });
            } else if let Some(result) = seen.result.clone() {
                self.send(from, Message::ForwardReply { rid, result });
            } else {
                self.send(from, Message::ForwardAccepted { rid });
            }
            return;
        }
        // Not seen in this run. A previous run (before a restart) may have accepted it, and
        // that memory is gone: confirm only once every forward it could have accepted has
        // expired at its forwarder. Otherwise stay silent (the forwarder times out,
        // ambiguously).
        if self.now_ms < self.forwards_remembered_from() {
            return;
        }
        self.forward_seen(&from, rid, false);
        self.send(from, Message::ForwardCancelled { rid });
    }

    /// The coordinator promised never to apply `rid`: the forwarder may send it elsewhere.
    pub(crate) fn on_forward_cancelled(&mut self, from: NodeId, rid: Rid) {
        let cancelled = self
            .forwards
            .get(&rid)
            .is_some_and(|f| f.to == from && !f.accepted);
        if !cancelled {
            return;
        }
        let Some(f) = self.forwards.remove(&rid) else {
            return;
        };
        if self.now_ms >= f.deadline_ms {
            let after_ms = self.request_timeout(&f.request);
            self.reply(
                f.origin,
                Err(Error::Timeout {
                    after_ms,
                    ambiguous: false,
                }),
            );
            return;
        }
        // The chosen coordinator did not take it: suspect it and route the write again, to
        // the next healthy primary (or here). Counter and set operations need a replica's
        // local state, and a primary coordinating adds no actor to the key's context.
        self.suspect_now(&f.to);
        self.route_write(f.origin, f.request, f.deadline_ms);
    }

    /// The request's own timeout (a per-request override, else the cluster's).
    fn request_timeout(&self, request: &ClientRequest) -> u64 {
        request
            .options()
            .timeout_ms
            .unwrap_or(self.config.request_timeout_ms)
    }

    pub(crate) fn forward_timer(&mut self, rid: Rid) {
        let Some(mut f) = self.forwards.remove(&rid) else {
            return;
        };
        let now = self.now_ms;
        if now < f.deadline_ms && self.config.mutant(Mutant::RetryForward) {
            if now >= f.give_up_at_ms {
                // Defect 2 put back (test builds only): coordinate it here as well.
                self.suspect(&f.to);
                self.coordinate_write(f.origin, f.request, f.deadline_ms);
                return;
            }
        } else if now >= f.deadline_ms || now >= f.give_up_at_ms {
            // Never later, even after a stall of this node: the coordinator confirms a cancel
            // of a forward it forgot only 2 x the timeout after accepting it, which is safe
            // only because no forwarder acts on a confirmation past its deadline (seed 2275).
            // The Forward may have been delivered and applied: never apply it here nor
            // re-route it (issue 15 defect 2); the client hears an ambiguous timeout.
            self.suspect(&f.to);
            let after_ms = self.request_timeout(&f.request);
            self.reply(
                f.origin,
                Err(Error::Timeout {
                    after_ms,
                    ambiguous: true,
                }),
            );
            return;
        }
        if f.poll_at_ms.is_some_and(|t| now >= t) {
            // Not accepted yet: cancel unless it was taken. Accepted: the reply is late, ask
            // for it (a cancel of an accepted forward is answered with its outcome).
            f.poll_at_ms = None;
            self.send(f.to.clone(), Message::ForwardCancel { rid });
        }
        self.forwards.insert(rid, f);
    }

    /// Create the new version and replicate it (§4.5 put).
    pub(crate) fn coordinate_write(
        &mut self,
        origin: Origin,
        request: ClientRequest,
        deadline_ms: u64,
    ) {
        self.coordinate_write_as(origin, request, deadline_ms, ReadFirst::No);
    }

    /// `coordinate_write`, knowing whether the key was read from the other replicas first.
    ///
    /// A primary that does not hold the key (a new key, or one its ring gave back to it
    /// before the transfer arrived, or after a lost record) may have issued dots for it
    /// before, which others hold: it reads the key first (R replicas, like a client's read)
    /// and stores what they hold, so its own actor's next dot is above them and its new
    /// version holds them (issue 15 defect 4). A node that holds the key reads it once per
    /// run too: a version of its own that a read or anti-entropy served from memory before
    /// a crash lost it may live on elsewhere.
    pub(crate) fn coordinate_write_as(
        &mut self,
        origin: Origin,
        request: ClientRequest,
        deadline_ms: u64,
        read: ReadFirst,
    ) {
        let key = request.key().clone();
        let holds = self.data.contains_key(&key);
        let unread = !holds || !self.read_keys.contains(&key);
        if read == ReadFirst::No && unread && (holds || self.is_primary(&key)) {
            // R replicas, as a client's read: with R + W > N it meets every acknowledged
            // version of the key.
            // A node that stopped replicating the key's partition at some point of this run
            // (its own store may have handed off versions of its actor) reads no fewer than
            // the configured R, nor than N + 1 - W: a client's R = 1 read misses a version
            // that W = 2 of N = 3 replicas acknowledged, and a dot built on that read would
            // swallow this actor's acknowledged increments (seed 4159). So does one that
            // holds the key again: what came back (a late hint, a repair) may lack this
            // actor's versions that left with the handoff (seed 11960).
            let n = self.config.n;
            let mut r = request.options().r.unwrap_or(self.config.r);
            if self.lost_partition_of(&key) {
                r = r
                    .max(self.config.r)
                    .max((n + 1).saturating_sub(self.config.w.min(n)))
                    .min(n);
            }
            // Half the budget for the read, the rest for the write.
            let read_by = self.now_ms + deadline_ms.saturating_sub(self.now_ms) / 2;
            let pending = PendingWrite {
                origin,
                request,
                deadline_ms,
                read: ReadFirst::Done,
            };
            self.start_get(Origin::ReadFirst(Box::new(pending)), key, r, read_by);
            return;
        }
        let options = request.options().clone();
        let resolver = self.config.resolvers.for_key(&key);
        let mut local = self.read_local(&key);
        if let Some(sent) = self.fallback_dots.get(&key) {
            // What this node last sent for the key as its fallback actor (`new_dot`).
            local.sync(sent);
        }
        let mut context = match &request {
            ClientRequest::Put { context, .. } | ClientRequest::Delete { context, .. } => context
                .as_ref()
                .map(|c| c.version_vector().clone())
                .unwrap_or_default(),
            ClientRequest::Update { op, .. } => {
                let mut past = local.context();
                if let Op::CounterReset(seen) = op {
                    // A reset that carries the state its context saw joins that state
                    // (resolve.rs `apply_op`), so it supersedes all the context covers.
                    if seen.observed_counter().is_some() {
                        past.merge(seen.version_vector());
                    }
                }
                past
            }
            ClientRequest::Get { .. } => VersionVector::new(),
        };
        if resolver == Resolver::LastWriterWins {
            // The newest write wins anyway: supersede what this replica knows, so LWW keys
            // do not accumulate siblings.
            context.merge(&local.context());
        }
        // The sibling limit (Riak's max_siblings): the new version supersedes what the
        // context covers and stands beside the rest. Refused here, before any version
        // exists, so nothing acknowledged is ever dropped; replicas never refuse.
        let count = 1 + local
            .versions()
            .iter()
            .filter(|v| !context.covers(&v.dot))
            .count();
        if count > self.config.max_siblings {
            self.stats.sibling_limit_refusals += 1;
            self.reply(
                origin,
                Err(Error::TooManySiblings {
                    count,
                    max: self.config.max_siblings,
                }),
            );
            return;
        }
        let preflist = self.preflist(&key);
        // A failed read leaves the history unknown only for a key whose partition this run
        // stopped replicating at some point (else the key is new to this node, or held
        // since the run began), even if it holds the key again: what came back (a late
        // hint, a repair, a transfer) need not hold the versions of this actor that left
        // with the handoff (seed 11960: a late hint's copy, then `(n1, 349)` over a read
        // that failed covered the acknowledged `(n1, 340)` it never saw).
        let trusted = read != ReadFirst::Failed || !self.lost_partition_of(&key);
        let Some(dot) = self.new_dot(&key, &preflist, &context, &local, trusted) else {
            self.pending_writes.push_back(PendingWrite {
                origin,
                request,
                deadline_ms,
                read,
            });
            return;
        };
        let value = match &request {
            ClientRequest::Put { value, .. } => Value::Data(value.clone()),
            ClientRequest::Delete { .. } => Value::Tombstone,
            ClientRequest::Update { op, .. } => {
                match apply_op(resolver, &local, op, &dot.node, &dot) {
                    Ok(state) => Value::Data(state),
                    Err(e) => {
                        self.reply(origin, Err(Error::InvalidArgument(e.to_string())));
                        return;
                    }
                }
            }
            ClientRequest::Get { .. } => return,
        };
        // Timestamps only matter to last-writer-wins: never behind what the key has seen.
        let newest = local
            .versions()
            .iter()
            .map(|v| v.timestamp_ms)
            .max()
            .unwrap_or(0);
        let timestamp_ms = self.now_ms.max(newest + 1);
        let version = Version {
            dot,
            past: context,
            value,
            timestamp_ms,
        };
        // Replicate the whole object, not only the new version: every holder of a dot then
        // also holds (or supersedes) the same actor's earlier dots of this key, which is
        // what lets a version vector stand for a causal history.
        let mut versions = local;
        versions.add(version.clone());
        let as_fallback = version.dot.node == self.fallback_actor;
        if as_fallback || self.fallback_dots.contains_key(&key) {
            // The whole object sent, persisted with the write, so that the next write of
            // this actor, in any later run, holds it too. Whole: a version of another actor
            // that superseded this actor's versions carries their state (a counter's total
            // for this actor), which a write starting from this actor's versions alone
            // would restart below (seed 17393).
            self.fallback_dots.insert(key.clone(), versions.clone());
            self.queue_op(StoreOp::PutFallback {
                key: key.clone(),
                versions: versions.clone(),
            });
        }
        if as_fallback {
            self.fallback_written.insert(key.clone());
        }
        self.warn_siblings(&key, versions.len());
        let targets = self.sloppy_targets(&preflist);
        let w = options.w.unwrap_or(self.config.w);
        let durable = options.durable.unwrap_or(true);
        let rid = self.alloc_rid();
        self.stats.puts += 1;
        let mut fsm = PutFsm {
            origin: Some(origin),
            key: key.clone(),
            versions,
            version,
            durable,
            preflist,
            targets: BTreeMap::new(),
            quorum: PutQuorum::new(w, true),
            orphan_slots: Vec::new(),
            retry_at_ms: self.now_ms + self.config.sloppy_retry_ms,
            deadline_ms,
            held_back: Vec::new(),
        };
        #[cfg(feature = "mutants")]
        if self.config.mutant(Mutant::CountResponders) {
            // Defect 1 put back (test builds only): W counts responders.
            fsm.quorum.count_responders = true;
        }
        // With buffered writes one store must still be durable: a durable replica's when one
        // is among the targets (an always-on edge node), else ours, or the first target's.
        let durable_replicas: BTreeSet<NodeId> = targets
            .iter()
            .map(|(n, _)| n)
            .filter(|n| self.is_durable_replica(n))
            .cloned()
            .collect();
        if !durable {
            fsm.quorum.durable_only_from(durable_replicas.clone());
        }
        let designated = if let Some(d) = durable_replicas.first() {
            d.clone()
        } else if targets.iter().any(|(n, _)| n == &self.id) {
            self.id.clone()
        } else {
            targets
                .first()
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| self.id.clone())
        };
        // The coordinator's own store goes first, and the other replicas hear of the version
        // only once it is durable (`release_replicas`): a restart then finds every dot this
        // node issued for the key in its own store, and continues above it (issue 15
        // defect 4). Costs one local persist per put, before the network round.
        let mut targets = targets;
        if fsm.version.dot.node == self.actor {
            // A node that holds the key outside its replicas (its ring moved the key away,
            // not handed off yet) writes as its own actor (`new_dot`): it keeps the new
            // object too (no quorum slot; the transfer takes it to the primaries), so it
            // still holds every dot it issued for the key.
            match targets.iter().find(|(n, _)| n == &self.id) {
                None => targets.insert(0, (self.id.clone(), None)),
                // It is also a stand-in for a primary that is down: its copy there is a
                // hint, dropped once delivered, so it keeps the object in its own store as
                // well (a later write of its actor would build on a store without this
                // version, and a counter's own total would restart below it).
                Some((_, Some(intended))) if intended != &self.id => {
                    self.store(&key, &fsm.versions, None);
                }
                Some(_) => {}
            }
        }
        // A write of the fallback actor waits for its `PutFallback` record to be durable
        // even when this node stores no copy of the key.
        let stores_here = targets.iter().any(|(n, _)| n == &self.id);
        let own = stores_here || as_fallback;
        let waits_alone = as_fallback && !stores_here;
        for (node, hint) in targets {
            let durable_ack = durable || node == designated || durable_replicas.contains(&node);
            if own && node != self.id {
                fsm.held_back.push((node, hint, durable_ack));
            } else {
                self.send_replica(&mut fsm, rid, node, hint, durable_ack);
            }
        }
        if waits_alone {
            self.after_durable(Waiter::FallbackStore(rid));
        }
        self.puts.insert(rid, fsm);
        self.check_put(rid);
    }

    /// The coordinator's own store of put `rid` is durable: send the version to the other
    /// replicas (they get a full retry interval before they count as silent).
    pub(crate) fn release_replicas(&mut self, rid: Rid) {
        let Some(mut f) = self.puts.remove(&rid) else {
            return;
        };
        let held = std::mem::take(&mut f.held_back);
        if !held.is_empty() {
            f.retry_at_ms = f.retry_at_ms.max(self.now_ms + self.config.sloppy_retry_ms);
        }
        for (node, hint, durable) in held {
            self.send_replica(&mut f, rid, node, hint, durable);
        }
        self.puts.insert(rid, f);
    }

    /// The dot of a new version of `key` coordinated here, or `None` until its counter is
    /// safely reserved on disk.
    ///
    /// Issue 15 defect 4. A primary issues dots of its own actor (`Node::actor`: the node
    /// id, the same in every run and ring): the counter is above every dot of that actor the
    /// key's history (held here) or the client's context mentions, and comes from the
    /// node-wide reservation, so no counter is ever issued twice. Its own store holds every
    /// dot it issued for the key (the store is durable before the version leaves,
    /// `coordinate_write`; a node that lost data is a new incarnation), so the new version's
    /// clock claims no dot of this actor that the coordinator lacks.
    ///
    /// A node that is no primary and does not hold the key (it was sent the write by a node
    /// with another view of the ring, or no primary was healthy) writes as its fallback
    /// actor `id@f`, starting from the whole object it last sent for the key
    /// (`Node::fallback_dots`, persisted: the same actor in every run), so it holds every
    /// earlier dot of that actor and its state; past `FALLBACK_KEYS` such keys the actor
    /// moves on to its next generation `id@f<g>`.
    fn new_dot(
        &mut self,
        key: &Bytes,
        preflist: &[NodeId],
        context: &VersionVector,
        local: &Siblings,
        trusted: bool,
    ) -> Option<Dot> {
        if !self.epoch_durable() {
            self.reserve_dots(0);
            return None;
        }
        // A replica that still holds the key (a primary, or one whose ring moved the key
        // away and has not handed it off yet) has every dot it issued for it.
        // (`trusted` is false when a primary lacking the key could not read it first.)
        let primary = is_primary_of(preflist, self.config.n, &self.id);
        if trusted && (primary || self.holds_own_history(key)) {
            let actor = if self.config.mutant(Mutant::ActorPerRun) {
                // Defect 4 put back (test builds only): a new actor in every run.
                NodeId::new(&format!("{}@{}", self.id, self.epoch))
            } else {
                self.actor.clone()
            };
            let above = local.max_counter(&actor).max(context.get(&actor));
            let counter = self.issue_dot(above + 1)?;
            return Some(Dot {
                node: actor,
                counter,
            });
        }
        // The write starts from the object this actor last sent for the key (merged into
        // `local` by `coordinate_write`), so it holds every dot of the actor for the key.
        if !self.fallback_dots.contains_key(key) && self.fallback_dots.len() >= FALLBACK_KEYS {
            self.next_fallback_generation();
        }
        let actor = self.fallback_actor.clone();
        let known = local.max_counter(&actor).max(context.get(&actor));
        let counter = self.issue_dot(known + 1)?;
        Some(Dot {
            node: actor,
            counter,
        })
    }

    /// The fallback records reached `FALLBACK_KEYS`: drop them all and write as the next
    /// generation of the fallback actor (`id@f<g>`, a new actor with no dots yet), in the
    /// same batch, so no later write of the old actor can happen. A key's context gains at
    /// most one entry per generation, and a generation lasts `FALLBACK_KEYS` distinct keys.
    fn next_fallback_generation(&mut self) {
        for key in std::mem::take(&mut self.fallback_dots).into_keys() {
            self.queue_op(StoreOp::DeleteFallback { key });
        }
        self.meta.fallback_generation += 1;
        self.fallback_actor = fallback_actor_name(&self.actor, self.meta.fallback_generation);
        self.queue_op(StoreOp::PutMeta(self.meta.clone()));
    }

    fn send_replica(
        &mut self,
        fsm: &mut PutFsm,
        rid: Rid,
        node: NodeId,
        hint: Option<NodeId>,
        durable: bool,
    ) {
        // The slot this target fills: the primary its hint names, or itself as a primary.
        let primary = is_primary_of(&fsm.preflist, self.config.n, &node);
        let slot = hint.clone().or_else(|| primary.then(|| node.clone()));
        if node == self.id && self.refuses_data() {
            // This node has left (its ring may still name it): it stores nothing and fills
            // no slot (issue 15 defect 5). Its slot goes to a member as soon as every target
            // is known (`check_put`), so the stand-in is no node the put is sent to anyway.
            fsm.targets.insert(
                node,
                PutTarget {
                    hint,
                    replaced: true,
                },
            );
            fsm.orphan_slots.extend(slot);
            return;
        }
        if let Some(slot) = &slot {
            fsm.quorum.add_target(&node, slot);
        }
        fsm.targets.insert(
            node.clone(),
            PutTarget {
                hint: hint.clone(),
                replaced: false,
            },
        );
        if node == self.id {
            let key = fsm.key.clone();
            self.store(&key, &fsm.versions, hint.as_ref());
            self.after_durable(Waiter::OwnStore(rid));
        } else {
            self.send(node, fsm.replicate(rid, hint, durable));
        }
    }

    /// `Event::SiblingsWarning` once a key has `warn_siblings` concurrent versions or more.
    pub(crate) fn warn_siblings(&mut self, key: &Bytes, count: usize) {
        let at = self.config.warn_siblings;
        if at > 0 && count >= at {
            self.emit(super::io::Event::SiblingsWarning {
                key: key.clone(),
                count,
            });
        }
    }

    /// A replica (or fallback) was asked to store versions.
    pub(crate) fn on_replicate(
        &mut self,
        from: NodeId,
        rid: Rid,
        key: Bytes,
        versions: Siblings,
        hint: Option<NodeId>,
        durable: bool,
    ) {
        if self.refuses_data() {
            self.refuse(from, rid);
            return;
        }
        self.store(&key, &versions, hint.as_ref());
        if durable {
            self.after_durable(Waiter::Send {
                to: from,
                msg: Message::ReplicateAck { rid, durable: true },
            });
        } else {
            // §6.1 write buffer: acknowledge from memory; the batch is persisted behind.
            self.send(
                from,
                Message::ReplicateAck {
                    rid,
                    durable: false,
                },
            );
        }
    }

    pub(crate) fn on_replicate_ack(&mut self, from: NodeId, rid: Rid, durable: bool) {
        self.on_put_ack(&from, rid, durable);
    }

    pub(crate) fn on_put_ack(&mut self, from: &NodeId, rid: Rid, durable: bool) {
        if from != &self.id && self.is_gone(from) {
            // A node that left is no replica: its ack (an old peer, or one that exited
            // since) never counts; it is replaced like a refusal.
            self.on_put_refused(from, rid);
            return;
        }
        if let Some(f) = self.puts.get_mut(&rid) {
            f.quorum.add_ack(from, durable);
        }
        self.check_put(rid);
    }

    /// This node has left: refuse what `rid` asked it to store, with its own membership
    /// entry so the sender learns why (issue 15 defect 5).
    pub(crate) fn refuse(&mut self, to: NodeId, rid: Rid) {
        let member = self.membership.get(&self.id).copied();
        self.send(
            to,
            Message::Refused {
                rid,
                reason: Refusal::Exited,
                member,
            },
        );
    }

    /// `from` refused to store what `rid` sent it (it left the ring): learn its status,
    /// then replace it in a put at once, adopt a hint meant for it, or retry a transfer
    /// once the ring no longer names it.
    pub(crate) fn on_refused(&mut self, from: NodeId, rid: Rid, member: Option<MemberInfo>) {
        if let Some(info) = member {
            if matches!(info.status, Status::Exiting | Status::Down)
                && self.membership.merge_member(&from, info)
            {
                self.on_view_changed();
            }
        }
        self.suspect_now(&from);
        if self.puts.contains_key(&rid) {
            self.on_put_refused(&from, rid);
        } else if self.handoffs.get(&rid).is_some_and(|h| h.intended == from) {
            self.handoffs.remove(&rid);
            // The hint is an orphan once its node is known gone: adopt it at the next scan.
            self.next_hint_scan_ms = self.now_ms;
        } else if let Some(t) = self.transfers.get(&rid) {
            if t.awaiting.contains(&from) {
                if let Some(t) = self.transfers.remove(&rid) {
                    self.misplaced.insert(t.key);
                }
            }
        }
    }

    /// A target of put `rid` will not store it: it fills no slot, and its slot (if still
    /// unfilled) gets a replacement now rather than at the next retry.
    fn on_put_refused(&mut self, from: &NodeId, rid: Rid) {
        let Some(mut f) = self.puts.remove(&rid) else {
            return;
        };
        if let Some(t) = f.targets.get_mut(from) {
            let already = t.replaced;
            t.replaced = true;
            if let Some(slot) = f.quorum.refuse(from) {
                if !already {
                    self.replace_target(&mut f, rid, Some(slot));
                }
            }
        }
        self.puts.insert(rid, f);
        self.check_put(rid);
    }

    fn check_put(&mut self, rid: Rid) {
        if self
            .puts
            .get(&rid)
            .is_some_and(|f| !f.orphan_slots.is_empty())
        {
            if let Some(mut f) = self.puts.remove(&rid) {
                for slot in std::mem::take(&mut f.orphan_slots) {
                    self.replace_target(&mut f, rid, Some(slot));
                }
                self.puts.insert(rid, f);
            }
        }
        let done = self.puts.get(&rid).is_some_and(|f| f.quorum.enough());
        if !done {
            return;
        }
        let Some(mut f) = self.puts.remove(&rid) else {
            return;
        };
        if let Some(origin) = f.origin.take() {
            let reply = ClientReply::Put {
                dot: f.version.dot.clone(),
                context: self.reply_context(
                    &f.key,
                    f.version.clock(),
                    &Siblings::from_versions(vec![f.version.clone()]),
                ),
            };
            self.reply(origin, Ok(reply));
        }
        // Answered with W. The put stays until every primary's slot is filled, or its next
        // retry: a primary still silent then is remembered in a hint (`remember_missed`).
        if !self.missed_primaries(&f).is_empty() {
            self.puts.insert(rid, f);
        }
    }

    /// The transport says `peer` is connected again: the writes it missed that this node
    /// coordinated and still tracks (answered, waiting for their retry to keep a hint) go
    /// to it now; hints already kept for it go at the next hint scan, now; the partitions
    /// both replicate are compared at once (`catch_up_with`); and it is probed, so that a
    /// node that suspected it hears it answer without waiting for a probe round.
    pub(crate) fn on_peer_reachable(&mut self, peer: NodeId) {
        if peer == self.id || self.membership.get(&peer).is_none() || self.is_gone(&peer) {
            return;
        }
        let missed: Vec<Rid> = self
            .puts
            .iter()
            .filter(|(_, f)| f.origin.is_none() && self.missed_primaries(f).contains(&peer))
            .map(|(rid, _)| *rid)
            .collect();
        for rid in missed {
            if let Some(f) = self.puts.get(&rid) {
                let msg = f.replicate(rid, None, true);
                self.send(peer.clone(), msg);
            }
        }
        let nonce = self.rng.next_u64();
        self.send(peer.clone(), Message::Ping { nonce });
        self.next_hint_scan_ms = self.now_ms;
        self.catch_up_with(&peer);
    }

    /// The primaries of the put whose slot nobody filled (no ack from them, nor from a
    /// node standing in for them), other than this node.
    fn missed_primaries(&self, f: &PutFsm) -> Vec<NodeId> {
        f.preflist
            .iter()
            .take(self.config.n)
            .filter(|p| **p != self.id && !f.quorum.is_filled(p) && !self.is_gone(p))
            .cloned()
            .collect()
    }

    /// Issue 14: every replica a put missed is remembered. When no node stood in for a
    /// silent primary (a cluster of N nodes has no fallback; an offline tab reaches
    /// nobody), the coordinator keeps the object as a hint for it: the hint counts toward
    /// no quorum, and is delivered as soon as the primary is heard from again
    /// (`handoff_timers`), so a returning node catches up by hints instead of waiting for
    /// anti-entropy to sweep every partition.
    fn remember_missed(&mut self, f: &PutFsm) {
        if self.refuses_data() {
            return;
        }
        for primary in self.missed_primaries(f) {
            self.store(&f.key, &f.versions, Some(&primary));
        }
    }

    /// Retry or deadline of a put.
    pub(crate) fn put_timer(&mut self, rid: Rid) {
        let Some(mut f) = self.puts.remove(&rid) else {
            return;
        };
        let now = self.now_ms;
        if f.origin.is_none() {
            // Answered: a primary still silent at the retry after the answer gets a hint,
            // and is suspected like any silent target (`suspect` spares a peer heard from
            // lately, and every peer while this node catches up on its own stall): so its
            // return is noticed, and the hint delivered and its partitions compared at once.
            for p in self.missed_primaries(&f) {
                self.suspect(&p);
            }
            self.remember_missed(&f);
            return;
        }
        if now < self.deaf_until() {
            // This node stalled: the answers sent meanwhile are still queued. Neither the
            // deadline nor a retry is judged before it has listened again.
            f.retry_at_ms = self.deaf_until();
            f.deadline_ms = f.deadline_ms.max(f.retry_at_ms);
            self.puts.insert(rid, f);
            return;
        }
        if now >= f.deadline_ms {
            let got = f.quorum.got();
            let needed = f.quorum.needed();
            // Enough stores but none durable yet is reported as a quorum of durable stores.
            if let Some(origin) = f.origin.take() {
                self.reply(origin, Err(Error::QuorumFailed { needed, got }));
            }
            // The version lives on where it was stored: the primaries it missed are
            // remembered too.
            self.remember_missed(&f);
            return;
        }
        // Sloppy quorum: every silent target of a slot still unfilled is replaced by the
        // next healthy fallback. The silent one stays a candidate for the same slot (it may
        // be slow, not down): whichever of the two acks first fills it, the other counts
        // nothing (`PutQuorum`).
        let unfilled = |n: &NodeId| {
            f.quorum
                .slot_of(n)
                .is_some_and(|slot| !f.quorum.is_filled(slot))
        };
        let silent: Vec<(NodeId, Option<NodeId>)> = f
            .targets
            .iter()
            .filter(|(n, t)| !t.replaced && !f.quorum.has_acked(n) && **n != self.id && unfilled(n))
            .map(|(n, t)| (n.clone(), t.hint.clone()))
            .collect();
        for (node, hint) in silent {
            self.suspect(&node);
            if let Some(t) = f.targets.get_mut(&node) {
                t.replaced = true;
            }
            f.quorum.drop_durable_candidate(&node);
            let primary = is_primary_of(&f.preflist, self.config.n, &node);
            let stands_for = if primary { Some(node.clone()) } else { hint };
            self.replace_target(&mut f, rid, stands_for);
        }
        f.retry_at_ms = now + self.config.sloppy_retry_ms;
        self.puts.insert(rid, f);
        self.check_put(rid);
    }

    /// Send the put to one more node, standing in for `stands_for` (a slot whose target
    /// is silent or refused).
    fn replace_target(&mut self, f: &mut PutFsm, rid: Rid, stands_for: Option<NodeId>) {
        // A coordinator that is no target yet (it was forwarded the write, or took it
        // over from a silent node) is the one node sure to be up: it takes the first
        // replacement itself, so a lone survivor still meets W = 1 (§4.6), and its
        // own store is the durable one a buffered write needs. Unless it has left the
        // ring itself: an exited node stores nothing and never fills a slot (a peer with a
        // stale ring may still forward it a write; issue 15 defect 5).
        // Never a node some target already stands in for: once that hint is delivered
        // the node would hold two of the write's copies, and one lost disk could then
        // lose an acknowledged write. Never a node that left the ring.
        let stood_for = |c: &NodeId| f.targets.values().any(|t| t.hint.as_ref() == Some(c));
        let next = if f.targets.contains_key(&self.id) || self.refuses_data() {
            f.preflist
                .iter()
                .find(|c| {
                    !f.targets.contains_key(*c)
                        && !stood_for(c)
                        && self.is_up(c)
                        && !self.is_gone(c)
                })
                .cloned()
        } else {
            Some(self.id.clone())
        };
        if let Some(next) = next {
            let durable = f.durable || self.is_durable_replica(&next);
            self.send_replica(f, rid, next, stands_for, durable);
        }
    }

    /// `node` announced itself a durable replica (`Config::durable_replica`).
    pub(crate) fn is_durable_replica(&self, node: &NodeId) -> bool {
        self.membership.get(node).is_some_and(|i| i.durable)
    }

    pub(crate) fn retry_pending_writes(&mut self) {
        let pending = std::mem::take(&mut self.pending_writes);
        for p in pending {
            self.coordinate_write_as(p.origin, p.request, p.deadline_ms, p.read);
        }
    }

    /// This node holds `key` as a replica that never handed it off, in this run or an
    /// earlier one (its ring may have moved the key away since): its store then holds every
    /// dot its actor issued for the key. A copy that reached it after a handoff (a late
    /// hint, a repair) need not (seed 1629: a hint delivered to an old owner cut off from
    /// the primaries, then `(n0, 31)` built on it swallowed the acknowledged `(n0, 14)`).
    pub(crate) fn holds_own_history(&self, key: &Bytes) -> bool {
        self.data.contains_key(key) && !self.handed_off_partition_of(key)
    }

    /// The read a primary made before coordinating a write of a key it did not hold
    /// (`coordinate_write_as`) is over: keep what the replicas held, then write.
    pub(crate) fn after_read_first(
        &mut self,
        pending: PendingWrite,
        result: Result<ClientReply, Error>,
    ) {
        let key = pending.request.key().clone();
        if !self.is_primary(&key) && !self.holds_own_history(&key) {
            // The ring moved the key away meanwhile, and this node no longer holds it (a
            // handoff may have taken away versions this actor wrote since the read began),
            // or holds it again only by a late copy (a hint, a repair) after its handoff:
            // what the read saw is no base for a dot of this actor. Hand the write to a
            // primary, and keep nothing of the read; with no primary to take it, write here
            // as this run's fallback actor (`new_dot`), which holds all its own dots.
            if let Some(Some(to)) = self.write_coordinator(&key) {
                self.forward(pending.origin, pending.request, to, pending.deadline_ms);
            } else {
                let read = if result.is_ok() {
                    ReadFirst::Done
                } else {
                    ReadFirst::Failed
                };
                self.coordinate_write_as(
                    pending.origin,
                    pending.request,
                    pending.deadline_ms,
                    read,
                );
            }
            return;
        }
        let read = match result {
            Ok(ClientReply::Get {
                versions, partial, ..
            }) => {
                if !versions.is_empty() {
                    self.store(pending.request.key(), &versions, None);
                }
                if partial {
                    // R was met only by answers that are no authority on the key (a
                    // fallback without it, a primary still waiting for its partition):
                    // what they hold is kept, but the read may have missed versions of
                    // this actor (seed 31678: a primary that had handed the key off read
                    // nothing that way, and its new total swallowed its earlier adds).
                    ReadFirst::Failed
                } else {
                    if self.read_keys.len() >= READ_KEYS {
                        self.read_keys.clear();
                    }
                    self.read_keys.insert(pending.request.key().clone());
                    ReadFirst::Done
                }
            }
            _ => ReadFirst::Failed,
        };
        self.coordinate_write_as(pending.origin, pending.request, pending.deadline_ms, read);
    }

    pub(crate) fn expire_pending_writes(&mut self) {
        let now = self.now_ms;
        if !self.pending_writes.iter().any(|p| p.deadline_ms <= now) {
            return;
        }
        let (expired, waiting) = std::mem::take(&mut self.pending_writes)
            .into_iter()
            .partition(|p| p.deadline_ms <= now);
        self.pending_writes = waiting;
        for p in Vec::from(expired) {
            self.reply(p.origin, Err(Error::QuorumFailed { needed: 1, got: 0 }));
        }
    }
}

/// Is `node` one of the first `n` nodes (the primaries) of `preflist`?
fn is_primary_of(preflist: &[NodeId], n: usize, node: &NodeId) -> bool {
    preflist.iter().take(n).any(|p| p == node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::io::RequestOptions;
    use crate::core::timers::Timed;

    fn forward_fsm() -> ForwardFsm {
        ForwardFsm {
            origin: Origin::Client(1),
            request: ClientRequest::Put {
                key: Bytes::from("k"),
                context: None,
                value: Bytes::from("v"),
                options: RequestOptions::default(),
            },
            to: NodeId::new("b"),
            accepted: false,
            poll_at_ms: Some(250),
            reply_by_ms: 1_333,
            give_up_at_ms: 1_583,
            deadline_ms: 2_000,
        }
    }

    #[test]
    fn a_forward_wakes_to_poll_then_to_give_up_never_to_re_route_by_itself() {
        let mut f = forward_fsm();
        assert_eq!(
            f.next_deadline(),
            250,
            "ask to cancel without an acceptance"
        );
        f.poll_at_ms = None;
        assert_eq!(
            f.next_deadline(),
            1_583,
            "then only the ambiguous give-up is left"
        );
        f.give_up_at_ms = 3_000;
        assert_eq!(
            f.next_deadline(),
            2_000,
            "never past the request's deadline"
        );
    }
}
