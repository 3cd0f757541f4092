//! Membership as replicated state (paper §4.8): who is in the cluster, with which status
//! and capacity, and the ring they agreed on. Views merge as a join-semilattice, so any two
//! nodes that have exchanged their views hold the same one, whatever the order of merges.
//!
//! - Each member entry carries a version. The higher version wins; equal versions are
//!   ordered by status (`Joining < Valid < Leaving < Exiting < Down`) then capacity, so the
//!   merge is a pointwise maximum: commutative, associative, idempotent.
//! - A member's entry is changed by the member itself (join, leave, exit) or by an
//!   operator call on any node (remove = `Down`); every change bumps the version.
//! - The ring travels with the view as `(epoch, owners)`. Only the *claimant* (the smallest
//!   valid member) claims a new ring, when the members that should own partitions differ
//!   from the ring's owners; rings merge by the larger `(epoch, owners)`.
//! - An outage alone does not change the membership: status changes are explicit (join,
//!   leave, an operator's remove), or come from the membership lease (`members.rs`): a
//!   member SWIM has held dead for `Config::member_ttl_ms` (7 days by default, 0 = never)
//!   is set `Down` by the lease holder, as a remove would.
//!
//! For gossip at thousands of members the view keeps a two-level XOR digest: 4,096 leaves
//! (members hashed by id), 64 groups of 64 leaves, and a root. An exchange compares roots,
//! then group hashes, then leaf hashes, and ships only the entries of differing leaves
//! (`gossip.rs`).

use super::hash::{fnv1a64, fnv1a64_extend, mix64};
use super::id::NodeId;
use super::ring::{Member, Ring};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const GROUPS: usize = 64;
pub const LEAVES_PER_GROUP: usize = 64;
pub const LEAVES: usize = GROUPS * LEAVES_PER_GROUP;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Asked to join; owns partitions once the claimant has included it in the ring.
    Joining,
    /// A full member that owns partitions.
    Valid,
    /// Asked to leave: its partitions move away, then it hands off its data.
    Leaving,
    /// Left; holds nothing.
    Exiting,
    /// Removed by an operator or by the membership lease (a node that will not come back,
    /// or that rejoins as `Joining` if it does); owns nothing.
    Down,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Joining => "joining",
            Status::Valid => "valid",
            Status::Leaving => "leaving",
            Status::Exiting => "exiting",
            Status::Down => "down",
        }
    }

    /// Members with these statuses own partitions.
    pub fn owns(self) -> bool {
        matches!(self, Status::Joining | Status::Valid)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub version: u64,
    pub status: Status,
    pub capacity: u32,
    /// The member is a durable replica (`Config::durable_replica`).
    pub durable: bool,
}

impl MemberInfo {
    fn order(&self) -> (u64, Status, u32, bool) {
        (self.version, self.status, self.capacity, self.durable)
    }

    /// The digest of one entry, XOR-combined into leaves.
    fn digest(&self, node: &NodeId) -> u64 {
        let h = fnv1a64(node.as_str().as_bytes());
        let h = fnv1a64_extend(h, &self.version.to_le_bytes());
        let h = fnv1a64_extend(h, &[self.status as u8]);
        let h = fnv1a64_extend(h, &self.capacity.to_le_bytes());
        mix64(fnv1a64_extend(h, &[self.durable as u8]))
    }
}

/// The ring the members agreed on, versioned by the claimant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingState {
    pub epoch: u64,
    pub ring: Ring,
}

impl RingState {
    /// A short identity of the ring (for digests).
    pub fn hash(&self) -> u64 {
        let mut h = fnv1a64(&self.epoch.to_le_bytes());
        for o in self.ring.owners() {
            h = fnv1a64_extend(h, o.as_str().as_bytes());
            h = fnv1a64_extend(h, &[0]);
        }
        h
    }

    /// True when `self` wins over `other` in a merge.
    pub fn newer_than(&self, other: &RingState) -> bool {
        (self.epoch, self.ring.owners()) > (other.epoch, other.ring.owners())
    }
}

/// The leaf of the digest tree a member falls in.
pub fn leaf_of(node: &NodeId) -> usize {
    (mix64(fnv1a64(node.as_str().as_bytes())) % LEAVES as u64) as usize
}

/// A short summary of a view: equal summaries mean equal views (with overwhelming
/// probability).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub root: u64,
    pub ring_epoch: u64,
    pub ring_hash: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    members: BTreeMap<NodeId, MemberInfo>,
    ring: Option<RingState>,
    leaves: Vec<u64>,
    groups: Vec<u64>,
    root: u64,
}

impl Default for Membership {
    fn default() -> Self {
        Membership::new()
    }
}

impl Membership {
    pub fn new() -> Self {
        Membership {
            members: BTreeMap::new(),
            ring: None,
            leaves: vec![0; LEAVES],
            groups: vec![0; GROUPS],
            root: 0,
        }
    }

    pub fn members(&self) -> &BTreeMap<NodeId, MemberInfo> {
        &self.members
    }

    pub fn get(&self, node: &NodeId) -> Option<&MemberInfo> {
        self.members.get(node)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn ring_state(&self) -> Option<&RingState> {
        self.ring.as_ref()
    }

    pub fn ring(&self) -> Option<&Ring> {
        self.ring.as_ref().map(|r| &r.ring)
    }

    fn toggle(&mut self, node: &NodeId, info: &MemberInfo) {
        let d = info.digest(node);
        let leaf = leaf_of(node);
        self.leaves[leaf] ^= d;
        self.groups[leaf / LEAVES_PER_GROUP] ^= d;
        self.root ^= d;
    }

    /// Merge one entry. Returns true when the view changed.
    pub fn merge_member(&mut self, node: &NodeId, info: MemberInfo) -> bool {
        match self.members.get(node).copied() {
            Some(old) if old.order() >= info.order() => false,
            old => {
                if let Some(old) = old {
                    self.toggle(node, &old);
                }
                self.toggle(node, &info);
                self.members.insert(node.clone(), info);
                true
            }
        }
    }

    /// Merge a ring. Returns true when it replaced ours.
    pub fn merge_ring(&mut self, ring: &RingState) -> bool {
        let newer = match &self.ring {
            None => true,
            Some(mine) => ring.newer_than(mine),
        };
        if newer {
            self.ring = Some(ring.clone());
        }
        newer
    }

    /// Merge a whole view.
    pub fn merge(&mut self, other: &Membership) -> bool {
        let mut changed = false;
        for (n, i) in &other.members {
            changed |= self.merge_member(n, *i);
        }
        if let Some(r) = &other.ring {
            changed |= self.merge_ring(r);
        }
        changed
    }

    /// Change a member's status or capacity (a local decision): the version goes up.
    pub fn set(&mut self, node: &NodeId, status: Status, capacity: u32) -> MemberInfo {
        let durable = self.members.get(node).is_some_and(|i| i.durable);
        self.set_with(node, status, capacity, durable)
    }

    /// `set`, also choosing whether the member is a durable replica.
    pub fn set_with(
        &mut self,
        node: &NodeId,
        status: Status,
        capacity: u32,
        durable: bool,
    ) -> MemberInfo {
        let version = self.members.get(node).map_or(0, |i| i.version) + 1;
        let info = MemberInfo {
            version,
            status,
            capacity: capacity.max(1),
            durable,
        };
        self.merge_member(node, info);
        info
    }

    /// The members that should own partitions, as the claim takes them.
    pub fn owners_wanted(&self) -> Vec<Member> {
        self.members
            .iter()
            .filter(|(_, i)| i.status.owns())
            .map(|(n, i)| Member {
                node: n.clone(),
                capacity: i.capacity,
            })
            .collect()
    }

    /// The member that claims new rings: the smallest valid member, or, while none is
    /// valid (a new cluster), the smallest joining one.
    pub fn claimant(&self) -> Option<&NodeId> {
        let pick = |s: Status| {
            self.members
                .iter()
                .find(|(_, i)| i.status == s)
                .map(|(n, _)| n)
        };
        pick(Status::Valid).or_else(|| pick(Status::Joining))
    }

    /// As the claimant: claim a new ring if the owners should change. Joining members that
    /// the new ring includes become valid. Returns true when the ring changed.
    pub fn claim_if_needed(&mut self, q: u32, n_val: usize) -> bool {
        let wanted = self.owners_wanted();
        if wanted.is_empty() {
            return false;
        }
        // A view that lacks some owner of the current ring is incomplete: wait for gossip.
        if let Some(r) = &self.ring {
            if r.ring
                .members()
                .iter()
                .any(|o| !self.members.contains_key(o))
            {
                return false;
            }
        }
        let current = self.ring.as_ref();
        let owners_match = current.is_some_and(|r| {
            let load = r.ring.load();
            wanted.iter().all(|m| load.contains_key(&m.node))
                && load.keys().all(|n| wanted.iter().any(|m| &m.node == n))
        });
        let mut changed = false;
        if !owners_match {
            let previous = current.map(|r| &r.ring);
            let Ok(ring) = Ring::claim(q, previous, &wanted, n_val) else {
                return false;
            };
            let epoch = current.map_or(0, |r| r.epoch) + 1;
            self.ring = Some(RingState { epoch, ring });
            changed = true;
        }
        let joining: Vec<(NodeId, u32)> = self
            .members
            .iter()
            .filter(|(_, i)| i.status == Status::Joining)
            .map(|(n, i)| (n.clone(), i.capacity))
            .collect();
        for (n, cap) in joining {
            self.set(&n, Status::Valid, cap);
        }
        changed
    }

    /// Install a ring directly (a statically configured cluster).
    pub fn install_ring(&mut self, ring: RingState) {
        self.ring = Some(ring);
    }

    pub fn summary(&self) -> Summary {
        Summary {
            root: self.root,
            ring_epoch: self.ring.as_ref().map_or(0, |r| r.epoch),
            ring_hash: self.ring.as_ref().map_or(0, |r| r.hash()),
        }
    }

    pub fn group_hashes(&self) -> &[u64] {
        &self.groups
    }

    /// The leaf hashes of one group.
    pub fn leaf_hashes(&self, group: usize) -> &[u64] {
        let g = group.min(GROUPS - 1);
        &self.leaves[g * LEAVES_PER_GROUP..(g + 1) * LEAVES_PER_GROUP]
    }

    /// The entries of the given leaves.
    pub fn entries_in(&self, leaves: &[u16]) -> Vec<(NodeId, MemberInfo)> {
        if leaves.is_empty() {
            return Vec::new();
        }
        self.members
            .iter()
            .filter(|(n, _)| leaves.binary_search(&(leaf_of(n) as u16)).is_ok())
            .map(|(n, i)| (n.clone(), *i))
            .collect()
    }

    /// Every entry, for persistence.
    pub fn entries(&self) -> Vec<(NodeId, MemberInfo)> {
        self.members.iter().map(|(n, i)| (n.clone(), *i)).collect()
    }
}
