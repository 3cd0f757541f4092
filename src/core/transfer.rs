//! Ownership handoff (paper §4.9): when a new ring takes a key's partition away from this
//! node, its versions are sent to every new primary, and dropped here only after all of
//! them acknowledged a durable store (so a key is never lost in transfer, and a transfer
//! that raced with a newer write is simply done again). At most `transfer_batch` keys are in
//! flight at once, so background work never starves client requests (§6.5).

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::io::Event;
use super::message::{Message, Rid};
use super::node::{Node, Waiter};
use super::storage::StoreOp;
use std::collections::BTreeSet;

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
        if delivered && !self.is_primary(&t.key) {
            self.data.remove(&t.key);
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
}
