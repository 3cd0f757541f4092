//! The node's side of membership (paper §4.8): gossip rounds, explicit join / leave /
//! remove, and what follows a change of view: the claimant claims a new ring, a new ring
//! starts ownership handoff, and a leaving node exits once it holds nothing.

use super::error::Error;
use super::gossip::{open, respond, GossipMsg};
use super::id::{NodeId, ReqId};
use super::io::{AdminRequest, ClientReply, Event};
use super::membership::{MemberInfo, Status};
use super::message::Message;
use super::node::{Node, Origin};
use super::swim::Life;

impl Node {
    /// Every `gossip_interval_ms`, open an exchange with a random member, or now and then
    /// (and whenever no member is known) with a seed.
    pub(crate) fn gossip_timer(&mut self) {
        if self.now_ms < self.next_gossip_ms {
            return;
        }
        self.next_gossip_ms = self.now_ms + self.config.gossip_interval_ms;
        self.gossip_rounds += 1;
        // Also after a restart, before the view next changes: gone members get their time.
        self.stamp_gone_members();
        self.lease_timer();
        let peers: Vec<NodeId> = self
            .membership
            .members()
            .iter()
            .filter(|(n, i)| {
                **n != self.id
                    && matches!(i.status, Status::Joining | Status::Valid | Status::Leaving)
                    && self.swim.life(n) != Life::Dead
            })
            .map(|(n, _)| n.clone())
            .collect();
        let every = u64::from(self.config.seed_gossip_every.max(1));
        let use_seed =
            !self.seeds.is_empty() && (peers.is_empty() || self.gossip_rounds % every == 0);
        let pool = if use_seed { &self.seeds } else { &peers };
        if pool.is_empty() {
            return;
        }
        let peer = pool[self.rng.below(pool.len() as u64) as usize].clone();
        let msg = open(&self.membership);
        self.swim.probe_sent(&peer, self.now_ms);
        self.send_gossip(peer, msg);
    }

    fn send_gossip(&mut self, to: NodeId, msg: GossipMsg) {
        let rumors = self.swim.take_rumors();
        self.send(to, Message::Gossip { msg, rumors });
    }

    pub(crate) fn on_gossip(&mut self, from: NodeId, msg: GossipMsg) {
        let mut changed = false;
        let reply = respond(&mut self.membership, msg, &mut changed);
        if let Some(r) = reply {
            self.send_gossip(from, r);
        }
        if changed {
            self.on_view_changed();
        }
    }

    pub(crate) fn on_admin(&mut self, id: ReqId, request: AdminRequest) {
        let origin = Origin::Client(id);
        match request {
            AdminRequest::Leave => {
                if self.membership.ring().is_none() {
                    let e = Error::NotReady("this node has not joined a cluster yet".into());
                    self.reply(origin, Err(e));
                    return;
                }
                if self.exited {
                    self.reply(origin, Ok(ClientReply::Done));
                    return;
                }
                if self.status() != Some(Status::Leaving) {
                    let me = self.id.clone();
                    self.membership.set(&me, Status::Leaving, self.capacity);
                }
                // Answered when the node has exited (`check_exit`), or with a timeout.
                let timeout = self.now_ms + self.config.leave_timeout_ms;
                self.leave_waiters.push((id, timeout));
                self.on_view_changed();
                return;
            }
            AdminRequest::Remove { node } => {
                let Some(info) = self.membership.get(&node).copied() else {
                    let e = Error::InvalidArgument(format!("{node} is not a member"));
                    self.reply(origin, Err(e));
                    return;
                };
                self.membership.set(&node, Status::Down, info.capacity);
            }
        }
        self.on_view_changed();
        self.reply(origin, Ok(ClientReply::Done));
    }

    /// The membership lease (`Config::member_ttl_ms`, issue 15 defect 8). Every node notes
    /// since when each member is down (SWIM-dead, and silent to its own detector); the
    /// lease holder (the smallest valid member this node believes up, itself included)
    /// removes a member down for longer than the TTL (any other valid member after twice
    /// the TTL), exactly as an operator's `Remove` would: its partitions move to live
    /// members by ownership handoff, hints for it are adopted (`handoff.rs`).
    fn lease_timer(&mut self) {
        let ttl = self.config.member_ttl_ms;
        if ttl == 0 {
            return;
        }
        let now = self.now_ms;
        let mut down_since = std::mem::take(&mut self.lease_down_since);
        down_since.retain(|n, _| {
            self.membership
                .get(n)
                .is_some_and(|i| i.status.owns() || i.status == Status::Leaving)
        });
        for (n, i) in self.membership.members() {
            if *n == self.id || !(i.status.owns() || i.status == Status::Leaving) {
                continue;
            }
            // Down for the lease: declared dead by SWIM (its suspicion went unrefuted, and
            // indirect probes through other members failed too, so a one-way cut or a
            // slow link is not enough) and not heard from here since.
            if self.swim.life(n) == Life::Dead && !self.detector.is_up(n) {
                down_since.entry(n.clone()).or_insert(now);
            } else {
                down_since.remove(n);
            }
        }
        self.lease_down_since = down_since;
        if self.status() != Some(Status::Valid) || self.exited {
            return;
        }
        let holder = self
            .membership
            .members()
            .iter()
            .find(|(n, i)| i.status == Status::Valid && !self.lease_down_since.contains_key(*n))
            .map(|(n, _)| n);
        // The holder acts after the TTL. Every other valid member backs it up after twice
        // the TTL: the clock lives in memory, so a holder that restarts more often than the
        // TTL never gets there. Removals by several members at once are the same entry
        // (same version, same status), so they merge into one.
        let wait = if holder == Some(&self.id) {
            ttl
        } else {
            ttl.saturating_mul(2)
        };
        let expired: Vec<NodeId> = self
            .lease_down_since
            .iter()
            .filter(|(_, since)| now.saturating_sub(**since) >= wait)
            .map(|(n, _)| n.clone())
            .collect();
        if expired.is_empty() {
            return;
        }
        for node in expired {
            if let Some(info) = self.membership.get(&node).copied() {
                self.membership.set(&node, Status::Down, info.capacity);
            }
            self.lease_down_since.remove(&node);
        }
        self.on_view_changed();
    }

    /// The view changed: claim a new ring if this node is the claimant, and react to a
    /// new ring (ownership handoff) and to our own leaving.
    pub(crate) fn on_view_changed(&mut self) {
        // Removed (by the lease, or an operator) while it was away, and running again: a
        // node that did not leave rejoins, and hands what it holds to the current owners.
        if self.status() == Some(Status::Down) && !self.exited && self.membership.ring().is_some() {
            let me = self.id.clone();
            let durable = self.config.durable_replica;
            self.membership
                .set_with(&me, Status::Joining, self.capacity, durable);
        }
        // Only a valid member claims (or the founder of a new cluster, which has no seed
        // and no ring yet): a joining node's first, partial view must never replace the
        // cluster's ring.
        let founder = self.seeds.is_empty() && self.membership.ring().is_none();
        let valid = self.status() == Some(Status::Valid);
        if (valid || founder) && self.membership.claimant() == Some(&self.id) {
            self.membership
                .claim_if_needed(self.config.q, self.config.n);
        }
        let ring = self.membership.ring_state().map(|r| (r.epoch, r.hash()));
        self.stamp_gone_members();
        self.membership_dirty = true;
        self.emit(Event::MembershipChanged);
        if ring != self.ring_seen {
            // The actor stays (issue 15 defect 4: no ring generation in actor names); this
            // run remembers the partitions it stopped replicating.
            let now = self.partitions_replicated();
            let lost: Vec<u32> = self.replicated_parts.difference(&now).copied().collect();
            self.lost_parts.extend(lost);
            self.replicated_parts = now;
            self.ring_seen = ring;
            if let Some((epoch, _)) = ring {
                self.emit(Event::RingChanged { epoch });
            }
            self.note_new_ring();
            self.find_misplaced();
            self.rebuild_trees();
        }
        self.check_exit();
    }

    /// A leaving node exits once the ring no longer names it and it holds nothing.
    pub(crate) fn check_exit(&mut self) {
        if self.exited || self.status() != Some(Status::Leaving) {
            return;
        }
        let owns = self
            .membership
            .ring()
            .is_some_and(|r| r.owners().contains(&self.id));
        if owns
            || !self.data.is_empty()
            || !self.hints.is_empty()
            || !self.transfers.is_empty()
            || !self.misplaced.is_empty()
        {
            return;
        }
        let me = self.id.clone();
        self.membership.set(&me, Status::Exiting, self.capacity);
        self.membership_dirty = true;
        self.exited = true;
        self.emit(Event::MembershipChanged);
        self.emit(Event::Exited);
        for (id, _) in std::mem::take(&mut self.leave_waiters) {
            self.reply(Origin::Client(id), Ok(ClientReply::Done));
        }
        // Tell a peer at once, so the cluster learns without waiting for our next round.
        self.next_gossip_ms = self.now_ms;
        self.gossip_timer();
    }

    /// Answer `Leave` requests past `leave_timeout_ms` with a timeout; leaving goes on.
    pub(crate) fn leave_timers(&mut self) {
        let now = self.now_ms;
        if self.leave_waiters.iter().all(|(_, t)| *t > now) {
            return;
        }
        let (due, waiting) = std::mem::take(&mut self.leave_waiters)
            .into_iter()
            .partition(|(_, t)| *t <= now);
        self.leave_waiters = waiting;
        let after_ms = self.config.leave_timeout_ms;
        for (id, _) in due {
            self.reply(
                Origin::Client(id),
                Err(Error::Timeout {
                    after_ms,
                    ambiguous: false,
                }),
            );
        }
    }

    /// Note when each member was first seen `Exiting` or `Down` (and forget a member that
    /// came back under the same id).
    fn stamp_gone_members(&mut self) {
        let now = self.now_ms;
        for (node, info) in self.membership.members() {
            if matches!(info.status, Status::Exiting | Status::Down) {
                self.gone_since.entry(node.clone()).or_insert(now);
            } else if !self.gone_since.is_empty() {
                self.gone_since.remove(node);
            }
        }
    }

    /// The members to list (the hosts' `members()`): every member except those this node
    /// has seen exited or removed for longer than `Config::exited_grace_ms`. This node is
    /// always listed. The membership itself keeps them (see [`Node::membership`]).
    pub fn listed_members(&self) -> impl Iterator<Item = (&NodeId, &MemberInfo)> + '_ {
        let grace = self.config.exited_grace_ms;
        self.membership.members().iter().filter(move |(node, _)| {
            **node == self.id
                || self
                    .gone_since
                    .get(*node)
                    .is_none_or(|since| self.now_ms.saturating_sub(*since) < grace)
        })
    }
}
