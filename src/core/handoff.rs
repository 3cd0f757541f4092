//! Hinted handoff (§4.6): a fallback keeps replicas it stored for an unreachable node apart
//! (`Node::hints`), offers them to that node every `hint_interval_ms` once it answers again
//! (at most `hint_batch` keys per scan, so background work never starves requests), and
//! drops each hint only after the intended node acknowledged it durably. A hint for a node
//! that left or was removed (`Exiting`, `Down`) can never be delivered: the fallback takes
//! it as its own replica, and ownership handoff (§4.9) passes it on to the key's current
//! primaries.

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::io::Event;
use super::membership::Status;
use super::message::{Message, Rid};
use super::node::{Node, Waiter};
use super::storage::StoreOp;

/// A hinted replica offered to its intended node, not yet acknowledged.
#[derive(Clone, Debug)]
pub(crate) struct HandoffInFlight {
    pub intended: NodeId,
    pub key: Bytes,
    pub versions: Siblings,
    pub expires_ms: u64,
}

impl Node {
    /// Offer due hints to their intended nodes, and retire offers that went unanswered.
    pub(crate) fn handoff_timers(&mut self) {
        let now = self.now_ms;
        let expired: Vec<Rid> = self
            .handoffs
            .iter()
            .filter(|(_, h)| h.expires_ms <= now)
            .map(|(r, _)| *r)
            .collect();
        for rid in expired {
            if let Some(h) = self.handoffs.remove(&rid) {
                self.suspect(&h.intended);
            }
        }
        if self.hints.is_empty() || now < self.next_hint_scan_ms {
            return;
        }
        self.next_hint_scan_ms = now + self.config.hint_interval_ms;
        self.adopt_orphan_hints();
        let offered: Vec<(NodeId, Bytes)> = self
            .handoffs
            .values()
            .map(|h| (h.intended.clone(), h.key.clone()))
            .collect();
        let room = self.config.hint_batch.saturating_sub(self.handoffs.len());
        let due: Vec<(NodeId, Bytes, Siblings)> = self
            .hints
            .iter()
            .filter(|((node, _), _)| self.detector.is_up(node))
            .filter(|(k, _)| !offered.contains(k))
            .take(room)
            .map(|((n, k), v)| (n.clone(), k.clone(), v.clone()))
            .collect();
        for (intended, key, versions) in due {
            let rid = self.alloc_rid();
            self.send(
                intended.clone(),
                Message::Handoff {
                    rid,
                    key: key.clone(),
                    versions: versions.clone(),
                },
            );
            self.handoffs.insert(
                rid,
                HandoffInFlight {
                    intended,
                    key,
                    versions,
                    expires_ms: now + self.config.request_timeout_ms,
                },
            );
        }
    }

    /// Hints whose intended node left or was removed, or no longer replicates the key in
    /// this node's ring, become this node's own replicas (one batch writes the object and
    /// deletes the hint, so the versions are never lost); a key this node does not
    /// replicate is then transferred to its primaries.
    pub(crate) fn adopt_orphan_hints(&mut self) {
        let gone = |n: &NodeId| {
            self.membership
                .get(n)
                .is_some_and(|i| matches!(i.status, Status::Exiting | Status::Down))
        };
        // A node the ring no longer names a replica of the key would only hand the hint on
        // to the key's primaries (seed 20804: two primaries offered their hints to such a
        // node with a slow disk, which handed them back, over and over to the end).
        let replica = |n: &NodeId, key: &Bytes| {
            self.membership.ring().is_none_or(|r| {
                r.preflist_iter(r.partition_of_key(key))
                    .take(self.config.n)
                    .any(|x| x == n)
            })
        };
        let orphans: Vec<(NodeId, Bytes)> = self
            .hints
            .keys()
            .filter(|(n, k)| gone(n) || !replica(n, k))
            .cloned()
            .collect();
        for slot in orphans {
            let Some(versions) = self.hints.remove(&slot) else {
                continue;
            };
            let (intended, key) = slot;
            self.store(&key, &versions, None);
            self.queue_op(StoreOp::DeleteHint { intended, key });
        }
    }

    /// The intended node receives its hinted replica: store it and ack once durable.
    pub(crate) fn on_handoff(&mut self, from: NodeId, rid: Rid, key: Bytes, versions: Siblings) {
        if self.refuses_data() {
            self.refuse(from, rid);
            return;
        }
        self.store(&key, &versions, None);
        self.after_durable(Waiter::Send {
            to: from,
            msg: Message::HandoffAck { rid },
        });
    }

    /// Drop the hint if nothing newer arrived for it since it was offered.
    pub(crate) fn on_handoff_ack(&mut self, from: NodeId, rid: Rid) {
        let Some(h) = self.handoffs.remove(&rid) else {
            return;
        };
        if h.intended != from {
            return;
        }
        let slot = (h.intended.clone(), h.key.clone());
        let delivered = self
            .hints
            .get(&slot)
            .is_some_and(|held| held.is_covered_by(&h.versions));
        if !delivered {
            return; // newer versions arrived meanwhile: offered again at the next scan
        }
        self.hints.remove(&slot);
        self.queue_op(StoreOp::DeleteHint {
            intended: h.intended.clone(),
            key: h.key.clone(),
        });
        self.stats.hints_delivered += 1;
        self.emit(Event::HintDelivered {
            key: h.key,
            to: h.intended,
        });
        // More hints may be waiting for this node: scan again soon.
        if self.hints.keys().any(|(n, _)| n == &from) {
            self.next_hint_scan_ms = self.now_ms;
        }
    }
}
