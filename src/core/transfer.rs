//! Ownership handoff (paper §4.9): when a new ring takes a key's partition away from this
//! node, its versions are sent to every new primary, and dropped here only after all of
//! them acknowledged a durable store (so a key is never lost in transfer, and a transfer
//! that raced with a newer write is simply done again). At most `transfer_batch` keys are in
//! flight at once, so background work never starves client requests (§6.5).
//!
//! The receiving side (issue 15 defect 8): a partition the ring newly gives this node is
//! *pending* until one of its previous primaries vouches that everything it held has
//! arrived: an old owner that handed the partition off answers a `TransferQuery` with
//! `TransferDone` once it holds no key of it (nothing left to send), and an old primary that
//! stays a primary vouches by a Merkle exchange that finds nothing it holds and this node
//! lacks. Meanwhile this node's miss is not authoritative: its read replies
//! (`ReadReplyPending`) and its own local read do not count toward R (`get.rs`), and the
//! get asks one more node of the preference list instead.

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::io::Event;
use super::membership::Status;
use super::message::{Message, Rid};
use super::node::{Node, Origin, Waiter};
use super::ring::Ring;
use super::storage::StoreOp;
use std::collections::{BTreeMap, BTreeSet};

/// Partitions this node became a primary of whose data may not all have arrived yet.
#[derive(Clone, Debug, Default)]
pub(crate) struct Handover {
    /// The ring this node last acted on, to tell which partitions a new ring adds.
    pub ring: Option<Ring>,
    /// Pending partition -> the previous primaries any one of which can vouch for it.
    pub pending: BTreeMap<u32, BTreeSet<NodeId>>,
    /// When the owners that handed off pending partitions are asked again.
    pub next_query_ms: u64,
    /// Partitions this node stopped replicating while they were still pending here: it
    /// cannot vouch that it handed everything off (it may never have had it all).
    pub unvouched: BTreeSet<u32>,
}

#[derive(Clone, Debug)]
pub(crate) struct TransferInFlight {
    pub key: Bytes,
    pub versions: Siblings,
    pub awaiting: BTreeSet<NodeId>,
    pub expires_ms: u64,
}

impl Node {
    pub(crate) fn is_primary(&self, key: &[u8]) -> bool {
        self.membership.ring().is_none_or(|r| {
            r.preflist_iter(r.partition_of_key(key))
                .take(self.config.n)
                .any(|n| n == &self.id)
        })
    }

    /// Partitions this node replicates whose data may not all have arrived yet (a new
    /// primary waiting for a previous one to vouch): its misses there do not count.
    pub fn pending_partitions(&self) -> impl Iterator<Item = u32> + '_ {
        self.handover.pending.keys().copied()
    }

    /// The partition of `key` is pending here (`Handover`): a miss is not authoritative.
    pub(crate) fn is_pending(&self, key: &[u8]) -> bool {
        !self.handover.pending.is_empty()
            && self
                .membership
                .ring()
                .is_some_and(|r| self.handover.pending.contains_key(&r.partition_of_key(key)))
    }

    /// A new ring is in force: every partition it makes this node a primary of, and that
    /// the previous ring did not, becomes pending, vouched for by the previous primaries.
    /// Without a previous ring (a node that joined and learnt the ring with itself in it),
    /// the other primaries vouch. Partitions this node no longer replicates are dropped.
    pub(crate) fn note_new_ring(&mut self) {
        let Some(ring) = self.membership.ring().cloned() else {
            return;
        };
        let n = self.config.n;
        let prev = self.handover.ring.take();
        let founder = self.seeds.is_empty();
        for p in 0..ring.q() {
            let now: Vec<NodeId> = ring.preflist_iter(p).take(n).cloned().collect();
            if !now.contains(&self.id) {
                if self.handover.pending.remove(&p).is_some() {
                    self.handover.unvouched.insert(p);
                }
                continue;
            }
            self.handover.unvouched.remove(&p);
            let before: Vec<NodeId> = match &prev {
                Some(r) => r.preflist_iter(p).take(n).cloned().collect(),
                None if founder => continue,
                None => now.clone(),
            };
            if prev.is_some() && before.contains(&self.id) {
                continue; // held it already (or still pending from before)
            }
            let sources: BTreeSet<NodeId> = before.into_iter().filter(|x| x != &self.id).collect();
            if !sources.is_empty() {
                self.handover.pending.entry(p).or_default().extend(sources);
            }
        }
        self.handover.ring = Some(ring);
        self.handover.next_query_ms = self.now_ms;
    }

    /// A restarted node does not know which of its partitions were still arriving (nor
    /// whether a crash lost unpersisted writes): every partition it replicates is pending
    /// until a fellow primary vouches for it through a Merkle exchange.
    pub(crate) fn pending_after_restart(&mut self) {
        if self.config.anti_entropy_interval_ms == 0 {
            return; // nothing could ever vouch for them
        }
        let Some(ring) = self.membership.ring().cloned() else {
            return;
        };
        for p in 0..ring.q() {
            let now: Vec<NodeId> = ring.preflist_iter(p).take(self.config.n).cloned().collect();
            if !now.contains(&self.id) {
                continue;
            }
            let sources: BTreeSet<NodeId> = now
                .into_iter()
                .filter(|x| x != &self.id && !self.is_gone(x))
                .collect();
            if !sources.is_empty() {
                self.handover.pending.insert(p, sources);
            }
        }
    }

    /// While partitions are pending: forget vouchers that were removed (a removed owner
    /// will never answer; the current fellow primaries vouch instead), ask each previous
    /// owner that handed a partition off whether it is done, and have anti-entropy compare
    /// pending partitions first.
    fn handover_timer(&mut self) {
        if self.handover.pending.is_empty() || self.now_ms < self.handover.next_query_ms {
            return;
        }
        self.handover.next_query_ms = self.now_ms + self.config.hint_interval_ms;
        let Some(ring) = self.membership.ring().cloned() else {
            return;
        };
        let n = self.config.n;
        let mut queries = Vec::new();
        let pending = std::mem::take(&mut self.handover.pending);
        let mut kept = BTreeMap::new();
        for (p, mut sources) in pending {
            // A source that left (`Exiting`) handed everything off before it exited.
            if sources.iter().any(|s| {
                self.membership
                    .get(s)
                    .is_some_and(|i| i.status == Status::Exiting)
            }) {
                continue;
            }
            sources.retain(|s| !self.is_gone(s));
            let now: Vec<NodeId> = ring.preflist_iter(p).take(n).cloned().collect();
            if sources.is_empty() {
                sources = now
                    .iter()
                    .filter(|x| **x != self.id && !self.is_gone(x))
                    .cloned()
                    .collect();
            }
            if sources.is_empty() {
                continue; // nobody else holds it: nothing can arrive
            }
            let handed_off: Vec<&NodeId> = sources.iter().filter(|s| !now.contains(s)).collect();
            if handed_off.is_empty() && self.config.anti_entropy_interval_ms == 0 {
                continue; // only a Merkle exchange could vouch, and there is none
            }
            for s in handed_off {
                queries.push((s.clone(), p));
            }
            self.ae_urgent.insert(p);
            kept.insert(p, sources);
        }
        self.handover.pending = kept;
        for (to, partition) in queries {
            self.send(to, Message::TransferQuery { partition });
        }
    }

    /// A new primary asks whether this node still has keys of `partition` to hand off:
    /// answer `TransferDone` once it holds none and replicates it no more.
    pub(crate) fn on_transfer_query(&mut self, from: NodeId, partition: u32) {
        let Some(ring) = self.membership.ring() else {
            return;
        };
        let mine = ring
            .preflist_iter(partition)
            .take(self.config.n)
            .any(|x| x == &self.id);
        if mine && !self.refuses_data() {
            return; // still a replica in this node's view: the asker waits for gossip
        }
        if self.handover.unvouched.contains(&partition) {
            return; // it never had all of it: the asker relies on the other replicas
        }
        let holds = self
            .data
            .keys()
            .any(|k| ring.partition_of_key(k) == partition)
            || self
                .transfers
                .values()
                .any(|t| ring.partition_of_key(&t.key) == partition);
        if !holds {
            self.send(from, Message::TransferDone { partition });
        }
    }

    /// `from` vouches for `partition` (it handed off all it held, or an anti-entropy
    /// exchange with it found nothing this node lacks): a miss here is authoritative again.
    pub(crate) fn partition_vouched(&mut self, from: &NodeId, partition: u32) {
        let vouches = self
            .handover
            .pending
            .get(&partition)
            .is_some_and(|s| s.contains(from));
        if vouches {
            self.handover.pending.remove(&partition);
        }
    }

    /// Queue every key held here that the ring no longer places here.
    pub(crate) fn find_misplaced(&mut self) {
        if self.membership.ring().is_none() {
            return;
        }
        let in_flight: BTreeSet<&Bytes> = self.transfers.values().map(|t| &t.key).collect();
        let misplaced: BTreeSet<Bytes> = self
            .data
            .keys()
            .filter(|k| !in_flight.contains(k) && !self.is_primary(k))
            .cloned()
            .collect();
        self.misplaced = misplaced;
    }

    pub(crate) fn transfer_timers(&mut self) {
        let now = self.now_ms;
        let expired: Vec<Rid> = self
            .transfers
            .iter()
            .filter(|(_, t)| t.expires_ms <= now)
            .map(|(r, _)| *r)
            .collect();
        for rid in expired {
            if let Some(t) = self.transfers.remove(&rid) {
                for n in &t.awaiting {
                    self.suspect(n);
                }
                self.misplaced.insert(t.key);
            }
        }
        if now >= self.next_transfer_ms {
            self.next_transfer_ms = now + self.config.hint_interval_ms;
            self.start_transfers();
        }
        self.handover_timer();
    }

    pub(crate) fn handover_deadline(&self) -> Option<u64> {
        (!self.handover.pending.is_empty()).then_some(self.handover.next_query_ms)
    }

    pub(crate) fn start_transfers(&mut self) {
        while self.transfers.len() < self.config.transfer_batch {
            let Some(key) = self.misplaced.pop_first() else {
                break;
            };
            let Some(versions) = self.data.get(&key).cloned() else {
                continue;
            };
            if self.is_primary(&key) {
                continue;
            }
            let primaries: BTreeSet<NodeId> = self
                .preflist(&key)
                .into_iter()
                .take(self.config.n)
                .collect();
            let rid = self.alloc_rid();
            for p in &primaries {
                self.send(
                    p.clone(),
                    Message::Transfer {
                        rid,
                        key: key.clone(),
                        versions: versions.clone(),
                    },
                );
            }
            let expires_ms = self.now_ms + self.config.request_timeout_ms;
            self.transfers.insert(
                rid,
                TransferInFlight {
                    key,
                    versions,
                    awaiting: primaries,
                    expires_ms,
                },
            );
        }
    }

    pub(crate) fn on_transfer(&mut self, from: NodeId, rid: Rid, key: Bytes, versions: Siblings) {
        if self.refuses_data() {
            self.refuse(from, rid);
            return;
        }
        self.store(&key, &versions, None);
        self.after_durable(Waiter::Send {
            to: from,
            msg: Message::TransferAck { rid },
        });
    }

    pub(crate) fn on_transfer_ack(&mut self, from: NodeId, rid: Rid) {
        let done = match self.transfers.get_mut(&rid) {
            Some(t) => {
                t.awaiting.remove(&from);
                t.awaiting.is_empty()
            }
            None => false,
        };
        if !done {
            return;
        }
        let Some(t) = self.transfers.remove(&rid) else {
            return;
        };
        let delivered = self
            .data
            .get(&t.key)
            .is_none_or(|held| held.is_covered_by(&t.versions));
        if delivered && !self.is_primary(&t.key) && self.writes_key(&t.key) {
            // A write of the key waits here (its read first, or its dots): it builds on this
            // store, which holds every dot this node's actor issued for the key; a read that
            // began before this actor's last write may not. Keep the object until the write
            // is over, and hand it off again then.
            self.misplaced.insert(t.key);
        } else if delivered && !self.is_primary(&t.key) {
            self.data.remove(&t.key);
            // What the node read of the key went with it: a copy that reaches it later (a
            // stale transfer, hint or repair) lacks this actor's versions, so a write of the
            // key reads it first again (seed 17195).
            self.read_keys.remove(&t.key);
            // Its dots went with it too, also when this ring never named the node a
            // replica of the key (it held it because a node with a newer ring sent it
            // there): a later write of the key, in this run or a later one, reads enough
            // replicas to meet them (`lost_partition_of`, seed 5769).
            if let Some(p) = self.membership.ring().map(|r| r.partition_of_key(&t.key)) {
                if self.meta.handed_off_parts.insert(p) {
                    // Durable no later than the deletion below (batches land in order).
                    self.queue_op(StoreOp::PutMeta(self.meta.clone()));
                }
            }
            self.tree_update(&t.key);
            self.queue_op(StoreOp::DeleteObject { key: t.key.clone() });
            self.stats.keys_transferred += 1;
            self.emit(Event::Transferred { key: t.key });
        } else if !self.is_primary(&t.key) {
            self.misplaced.insert(t.key);
        }
        self.start_transfers();
        self.check_exit();
    }

    /// A write of `key` coordinated here is reading the key first or waiting for its dots
    /// (`coordinate_write_as`): it will build on this node's store of the key.
    pub(crate) fn writes_key(&self, key: &Bytes) -> bool {
        let reading = self
            .gets
            .values()
            .any(|g| &g.key == key && matches!(g.origin, Some(Origin::ReadFirst(_))));
        reading || self.pending_writes.iter().any(|p| p.request.key() == key)
    }
}
