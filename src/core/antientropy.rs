//! Merkle-tree anti-entropy (paper §4.7): one hash tree per partition this node replicates,
//! updated on every write (never rebuilt on the hot path) and rebuilt when ownership
//! changes or the node restarts. Every `anti_entropy_interval_ms` the node takes its next
//! partition and compares its tree with a random other replica of it (`hashtree.rs`: roots,
//! then only differing branches, then only differing keys). Both sides then send their
//! versions of the differing keys (`Repair`), so tombstones and siblings repair like values.
//!
//! Throttling (§6.5): one exchange opened per interval, at most `anti_entropy_max_sessions`
//! answered at once, and at most `anti_entropy_max_keys` keys repaired per exchange; the
//! rest is found by the next exchange.
//!
//! Catch-up (issue 14): when a peer this node believed down answers again, every partition
//! both replicate is compared with it at once, `CATCH_UP_SESSIONS` exchanges at a time,
//! each opened as soon as the previous one ends, ahead of the round-robin: what hints did
//! not cover converges in one exchange per partition instead of a full sweep.

use super::bytes::Bytes;
use super::hashtree::{versions_digest, Exchange, HashTree, TreeMsg};
use super::id::NodeId;
use super::message::{Message, Rid};
use super::node::Node;
use std::collections::{BTreeMap, BTreeSet};

/// Catch-up exchanges a node keeps open at once (the peer answers up to
/// `anti_entropy_max_sessions`, shared with every other opener).
const CATCH_UP_SESSIONS: usize = 2;

#[derive(Clone, Debug)]
pub(crate) struct AeSession {
    pub exchange: Exchange,
    pub peer: NodeId,
    pub expires_ms: u64,
}

impl Node {
    /// The partitions this node replicates under the current ring.
    fn replicated_partitions(&self) -> Vec<u32> {
        let Some(ring) = self.membership.ring() else {
            return Vec::new();
        };
        (0..ring.q())
            .filter(|&p| {
                ring.preflist_iter(p)
                    .take(self.config.n)
                    .any(|n| n == &self.id)
            })
            .collect()
    }

    /// Rebuild every tree from the data (a new ring, a restart).
    pub(crate) fn rebuild_trees(&mut self) {
        let Some(ring) = self.membership.ring().cloned() else {
            self.trees.clear();
            return;
        };
        let mut trees: BTreeMap<u32, Vec<(Bytes, u64)>> = self
            .replicated_partitions()
            .into_iter()
            .map(|p| (p, Vec::new()))
            .collect();
        for (key, versions) in &self.data {
            if let Some(entries) = trees.get_mut(&ring.partition_of_key(key)) {
                entries.push((key.clone(), versions_digest(versions)));
            }
        }
        self.trees = trees
            .into_iter()
            .map(|(p, entries)| {
                let mut t = HashTree::new();
                t.rebuild(entries);
                (p, t)
            })
            .collect();
        self.ae_out.clear();
        self.ae_in.clear();
    }

    /// Keep the key's tree in step with `data` (called on every change of a key).
    pub(crate) fn tree_update(&mut self, key: &Bytes) {
        let Some(p) = self.membership.ring().map(|r| r.partition_of_key(key)) else {
            return;
        };
        if let Some(tree) = self.trees.get_mut(&p) {
            let digest = self.data.get(key).map(versions_digest);
            tree.update(key, digest);
        }
    }

    pub(crate) fn ae_deadline(&self) -> Option<u64> {
        if self.config.anti_entropy_interval_ms == 0 || self.trees.is_empty() {
            return None;
        }
        let sessions = self.ae_out.values().chain(self.ae_in.values());
        let expiry = sessions.map(|s| s.expires_ms).min();
        Some(expiry.map_or(self.next_ae_ms, |e| e.min(self.next_ae_ms)))
    }

    /// Queue every partition this node and `peer` both replicate for comparison.
    pub(crate) fn catch_up_with(&mut self, peer: &NodeId) {
        if self.config.anti_entropy_interval_ms == 0 {
            return;
        }
        let Some(ring) = self.membership.ring() else {
            return;
        };
        let n = self.config.n;
        let shared: BTreeSet<u32> = self
            .trees
            .keys()
            .copied()
            .filter(|&p| ring.preflist_iter(p).take(n).any(|x| x == peer))
            .collect();
        if !shared.is_empty() {
            self.ae_catch_up.insert(peer.clone(), shared);
            self.catch_up();
        }
    }

    /// Open queued catch-up exchanges, up to `CATCH_UP_SESSIONS` at a time.
    fn catch_up(&mut self) {
        while self.ae_out.len() < CATCH_UP_SESSIONS {
            let next = self
                .ae_catch_up
                .iter_mut()
                .find_map(|(peer, parts)| parts.pop_first().map(|p| (peer.clone(), p)));
            self.ae_catch_up.retain(|_, parts| !parts.is_empty());
            let Some((peer, partition)) = next else {
                return;
            };
            if self.trees.contains_key(&partition) && self.detector.is_up(&peer) {
                self.open_exchange(partition, peer);
            }
        }
    }

    pub(crate) fn ae_timer(&mut self) {
        let now = self.now_ms;
        self.ae_out.retain(|_, s| s.expires_ms > now);
        self.ae_in.retain(|_, s| s.expires_ms > now);
        if !self.ae_catch_up.is_empty() {
            // The round-robin waits for the catch-up (its deadline moves on, so a full
            // catch-up never leaves a deadline in the past).
            if now >= self.next_ae_ms {
                self.next_ae_ms = now + self.config.anti_entropy_interval_ms;
            }
            self.catch_up();
            return;
        }
        if self.config.anti_entropy_interval_ms == 0 || now < self.next_ae_ms {
            return;
        }
        self.next_ae_ms = now + self.config.anti_entropy_interval_ms;
        if !self.ae_out.is_empty() || self.trees.is_empty() {
            return;
        }
        // A partition that lost a corrupt record first; else the next after the cursor,
        // round-robin.
        self.ae_urgent.retain(|p| self.trees.contains_key(p));
        let urgent = self.ae_urgent.pop_first();
        let next = urgent.or_else(|| {
            self.trees
                .range(self.ae_cursor..)
                .next()
                .or_else(|| self.trees.iter().next())
                .map(|(p, _)| *p)
        });
        let Some(partition) = next else {
            return;
        };
        if urgent.is_none() {
            self.ae_cursor = partition + 1;
        }
        let Some(ring) = self.membership.ring() else {
            return;
        };
        let peers: Vec<NodeId> = ring
            .preflist_iter(partition)
            .take(self.config.n)
            .filter(|n| **n != self.id && self.detector.is_up(n))
            .cloned()
            .collect();
        if peers.is_empty() {
            if let Some(p) = urgent {
                self.ae_urgent.insert(p); // no other replica is up: try again later
            }
            return;
        }
        let peer = peers[self.rng.below(peers.len() as u64) as usize].clone();
        self.open_exchange(partition, peer);
    }

    /// Start comparing `partition` with `peer`.
    fn open_exchange(&mut self, partition: u32, peer: NodeId) {
        let now = self.now_ms;
        let Some(tree) = self.trees.get(&partition) else {
            return;
        };
        let (exchange, msg) = Exchange::start(partition, tree);
        let xid = self.alloc_rid();
        self.ae_out.insert(
            xid,
            AeSession {
                exchange,
                peer: peer.clone(),
                expires_ms: now + self.config.request_timeout_ms,
            },
        );
        self.stats.ae_exchanges += 1;
        self.send(
            peer,
            Message::AntiEntropy {
                xid,
                from_opener: true,
                msg,
            },
        );
    }

    pub(crate) fn on_anti_entropy(
        &mut self,
        from: NodeId,
        xid: Rid,
        from_opener: bool,
        msg: TreeMsg,
    ) {
        let partition = msg.partition();
        let Some(tree) = self.trees.get(&partition) else {
            return; // not a replica of it (any more): the opener's session expires
        };
        let expires_ms = self.now_ms + self.config.request_timeout_ms;
        if from_opener {
            let slot = (from.clone(), xid);
            let reply = match self.ae_in.get_mut(&slot) {
                Some(s) => s.exchange.handle(tree, &msg).ok().flatten(),
                None => {
                    if self.ae_in.len() >= self.config.anti_entropy_max_sessions {
                        return; // throttled: the opener tries again later
                    }
                    match Exchange::accept(tree, &msg) {
                        Ok((exchange, reply)) => {
                            let peer = from.clone();
                            self.ae_in.insert(
                                slot.clone(),
                                AeSession {
                                    exchange,
                                    peer,
                                    expires_ms,
                                },
                            );
                            Some(reply)
                        }
                        Err(_) => None,
                    }
                }
            };
            if let Some(m) = reply {
                self.send(
                    from,
                    Message::AntiEntropy {
                        xid,
                        from_opener: false,
                        msg: m,
                    },
                );
            }
            let done = self.ae_in.get(&slot).is_some_and(|s| s.exchange.is_done());
            if done {
                if let Some(s) = self.ae_in.remove(&slot) {
                    self.ae_repair(s);
                }
            }
        } else {
            let reply = match self.ae_out.get_mut(&xid) {
                Some(s) if s.peer == from => s.exchange.handle(tree, &msg),
                _ => return,
            };
            match reply {
                Ok(Some(m)) => self.send(
                    from,
                    Message::AntiEntropy {
                        xid,
                        from_opener: true,
                        msg: m,
                    },
                ),
                Ok(None) => {}
                Err(_) => {
                    self.ae_out.remove(&xid);
                    self.catch_up();
                    return;
                }
            }
            let done = self.ae_out.get(&xid).is_some_and(|s| s.exchange.is_done());
            if done {
                if let Some(s) = self.ae_out.remove(&xid) {
                    self.ae_repair(s);
                }
                self.catch_up();
            }
        }
    }

    /// Send our versions of every key the exchange found different. An exchange that found
    /// nothing the peer holds and this node lacks lets the peer vouch for a pending
    /// partition (`transfer.rs`).
    fn ae_repair(&mut self, s: AeSession) {
        let lacks_nothing = s
            .exchange
            .differences()
            .values()
            .all(|d| d.theirs.is_none());
        if lacks_nothing {
            self.partition_vouched(&s.peer, s.exchange.partition());
        }
        let keys: Vec<Bytes> = s
            .exchange
            .differences()
            .iter()
            .filter(|(_, d)| d.mine.is_some())
            .map(|(k, _)| k.clone())
            .take(self.config.anti_entropy_max_keys)
            .collect();
        if s.exchange.differences().is_empty() {
            return;
        }
        self.stats.ae_keys_repaired += keys.len() as u64;
        for key in keys {
            if let Some(versions) = self.data.get(&key).cloned() {
                self.send(s.peer.clone(), Message::Repair { key, versions });
            }
        }
    }
}
