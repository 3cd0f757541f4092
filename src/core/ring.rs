//! The ring: which node owns each partition of the key space, and the preference list of
//! nodes that store a key. Implements paper §4.2 (consistent hashing with virtual nodes),
//! §4.3 (preference list) with the placement of §6.2 strategy 3: the hash space is cut into
//! `Q` equal-size partitions (`Q` a power of two, fixed), and each partition is owned by one
//! node.
//!
//! [`Ring::claim`] computes the owners deterministically from the member list, so every node
//! that knows the same members (and the same previous ring) computes the same ring, with:
//! - **balance**: each member owns its capacity-weighted share of `Q`, rounded by largest
//!   remainder, so no node is more than one partition away from its exact share;
//! - **minimal movement**: a partition changes owner only when its owner left or is above its
//!   new target, and it then goes to a member below target, so the number of moved partitions
//!   is the least that reaches the new loads (a join moves only partitions to the new node,
//!   a departure only the departed node's partitions, when capacities are equal);
//! - **spacing**: like riak_core's claim with `target_n_val`, a partition goes preferably to a
//!   node that owns none of the `n_val - 1` partitions either side of it, so that `N`
//!   consecutive partitions name `N` distinct nodes wherever the targets allow.
//!
//! [`Ring::preflist`] walks clockwise from a key's partition and lists each node once: the
//! first `N` entries are the key's primaries, the rest its fallbacks in order (§4.3, §4.6).

use crate::core::hash::{key_hash, partition_of};
use crate::core::id::NodeId;
use core::fmt;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// The largest number of partitions a ring may have.
pub const MAX_Q: u32 = 1 << 16;

/// A member of the ring as the claim sees it: a node and its capacity, the weight of its
/// share of the partitions (a node of capacity 2 owns twice as many as one of capacity 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub node: NodeId,
    /// Weight of the node's share of the partitions; at least 1.
    pub capacity: u32,
}

impl Member {
    pub fn new(node: impl Into<NodeId>, capacity: u32) -> Self {
        Member {
            node: node.into(),
            capacity,
        }
    }
}

/// Why a ring could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingError {
    /// The number of partitions is not a power of two in `1..=MAX_Q`.
    QNotPowerOfTwo(u32),
    /// A claim needs at least one member.
    NoMembers,
    /// This member has capacity 0; every member must have capacity at least 1.
    ZeroCapacity(NodeId),
    /// A ring received from elsewhere whose owner list does not have one entry per partition.
    OwnerCount { q: u32, owners: usize },
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingError::QNotPowerOfTwo(q) => {
                write!(f, "ring size {q} is not a power of two in 1..={MAX_Q}")
            }
            RingError::NoMembers => f.write_str("a ring needs at least one member"),
            RingError::ZeroCapacity(node) => {
                write!(
                    f,
                    "member {node} has capacity 0; capacities must be at least 1"
                )
            }
            RingError::OwnerCount { q, owners } => {
                write!(f, "a ring of {q} partitions lists {owners} owners")
            }
        }
    }
}

impl std::error::Error for RingError {}

/// The owner of each of the `q` partitions. Partition `p` holds the keys whose hash has
/// `p` as its top `log2(q)` bits (see [`partition_of`]).
///
/// A ring is a small value (one owner per partition) that nodes gossip; decoding one checks
/// that it is well formed, so the accessors below never panic on a ring from the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RingWire")]
pub struct Ring {
    q: u32,
    /// `owners[p]` owns partition `p`; `q` entries.
    owners: Vec<NodeId>,
    /// The distinct owners, sorted: derived from `owners`, never sent.
    #[serde(skip)]
    members: Vec<NodeId>,
}

/// The encoded form of a [`Ring`], checked before it becomes one.
#[derive(Deserialize)]
struct RingWire {
    q: u32,
    owners: Vec<NodeId>,
}

impl TryFrom<RingWire> for Ring {
    type Error = RingError;

    fn try_from(wire: RingWire) -> Result<Self, RingError> {
        check_q(wire.q)?;
        if wire.owners.len() != wire.q as usize {
            return Err(RingError::OwnerCount {
                q: wire.q,
                owners: wire.owners.len(),
            });
        }
        Ok(Ring::new(wire.q, wire.owners))
    }
}

impl Ring {
    /// Builds a ring from an explicit owner list (one entry per partition). The claim is the
    /// usual way to get a ring; this is for tests, tools and rings read from storage.
    pub fn from_owners(owners: Vec<NodeId>) -> Result<Ring, RingError> {
        let q = u32::try_from(owners.len()).unwrap_or(u32::MAX);
        check_q(q)?;
        Ok(Ring::new(q, owners))
    }

    /// `owners.len() == q` and `q` is valid: checked by every caller.
    fn new(q: u32, owners: Vec<NodeId>) -> Ring {
        let members = owners
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Ring { q, owners, members }
    }

    /// Assigns the `q` partitions to `members` (§6.2 strategy 3).
    ///
    /// Deterministic: the result depends only on the arguments, not on the order of
    /// `members` (they are sorted by node id; a node listed twice counts once, with its
    /// largest capacity). Each member gets `q * capacity / total capacity` partitions,
    /// rounded by largest remainder with ties going to the smaller node id.
    ///
    /// With a `previous` ring, partitions move as little as possible: a partition keeps its
    /// owner while that owner is a member and not above its target; only partitions of
    /// departed members and the excess of members above target move, each to a member below
    /// target. If `previous` has another `q`, each partition starts from the owner of the old
    /// partition holding its first hash (so doubling `q` moves only what rounding asks).
    ///
    /// When it assigns a partition, the claim prefers a member that owns none of the
    /// `n_val - 1` partitions either side of it (or, with fewer members than `n_val`, of the
    /// `members - 1`), then the member furthest below its target, then the smallest node id;
    /// if every candidate owns one nearby, the one whose nearest is furthest away. With no
    /// previous ring, partitions are dealt out clockwise this way, so consecutive partitions
    /// rotate among the nodes. `n_val` of 0 or 1 asks for no spacing.
    pub fn claim(
        q: u32,
        previous: Option<&Ring>,
        members: &[Member],
        n_val: usize,
    ) -> Result<Ring, RingError> {
        check_q(q)?;
        let members = normalize(members)?;
        let nodes: Vec<NodeId> = members.iter().map(|m| m.node.clone()).collect();
        let capacities: Vec<u32> = members.iter().map(|m| m.capacity).collect();

        let mut claim = Claim::new(q, targets(q, &capacities), n_val);
        if let Some(previous) = previous {
            claim.keep_previous(previous, &nodes);
        }
        claim.assign_free();
        claim.take_excess();
        let owners = claim
            .owner
            .iter()
            .map(|o| {
                // assign_free gives every free partition an owner: the free partitions are
                // never more than the members' total deficit, which keeps a taker available.
                let i = o.expect("the claim assigns every partition");
                nodes[i].clone()
            })
            .collect();
        Ok(Ring::new(q, owners))
    }

    /// The number of partitions.
    pub fn q(&self) -> u32 {
        self.q
    }

    /// The owner of partition `p`. Partition numbers wrap around the ring: `p` is taken
    /// modulo `q`.
    pub fn owner(&self, p: u32) -> &NodeId {
        &self.owners[(p % self.q) as usize]
    }

    /// The owner of every partition, indexed by partition.
    pub fn owners(&self) -> &[NodeId] {
        &self.owners
    }

    /// The partition that holds `key`.
    pub fn partition_of_key(&self, key: &[u8]) -> u32 {
        partition_of(key_hash(key), self.q)
    }

    /// The nodes that own at least one partition, sorted, each once.
    pub fn members(&self) -> Vec<NodeId> {
        self.members.clone()
    }

    /// The partitions owned by `node`, in increasing order.
    pub fn partitions_of(&self, node: &NodeId) -> Vec<u32> {
        (0..self.q)
            .filter(|&p| &self.owners[p as usize] == node)
            .collect()
    }

    /// The number of partitions each member owns.
    pub fn load(&self) -> BTreeMap<NodeId, u32> {
        let mut load = BTreeMap::new();
        for owner in &self.owners {
            *load.entry(owner.clone()).or_insert(0) += 1;
        }
        load
    }

    /// The partitions whose owner differs between `old` and `self`, as
    /// `(partition, old owner, new owner)`: the ownership handoffs a ring change asks for.
    /// If the rings have different `q`, partition `p` of `self` is compared with the old
    /// partition that holds its first hash.
    pub fn moves_from(&self, old: &Ring) -> Vec<(u32, NodeId, NodeId)> {
        (0..self.q)
            .filter_map(|p| {
                let from = &old.owners[old_partition(p, self.q, old.q)];
                let to = &self.owners[p as usize];
                (from != to).then(|| (p, from.clone(), to.clone()))
            })
            .collect()
    }

    /// The preference list of partition `p` (modulo `q`): the owners of `p, p + 1, ...`
    /// clockwise, wrapping, each node once, until every member is listed. The first `N`
    /// entries are the primaries, the rest the fallbacks in order (§4.3).
    pub fn preflist(&self, p: u32) -> Vec<NodeId> {
        self.preflist_iter(p).cloned().collect()
    }

    /// The preference list of the partition that holds `key`.
    pub fn preflist_for_key(&self, key: &[u8]) -> Vec<NodeId> {
        self.preflist(self.partition_of_key(key))
    }

    /// The preference list of partition `p`, lazily: `preflist_iter(p).take(n)` walks only
    /// as far round the ring as it needs to find `n` distinct nodes.
    pub fn preflist_iter(&self, p: u32) -> impl Iterator<Item = &NodeId> + '_ {
        let start = (p % self.q) as usize;
        let mut seen = BTreeSet::new();
        self.owners[start..]
            .iter()
            .chain(&self.owners[..start])
            .filter(move |node| seen.insert(*node))
            .take(self.members.len())
    }
}

fn check_q(q: u32) -> Result<(), RingError> {
    if q.is_power_of_two() && q <= MAX_Q {
        Ok(())
    } else {
        Err(RingError::QNotPowerOfTwo(q))
    }
}

/// The partition of a ring of `old_q` partitions that holds the first hash of partition `p`
/// of a ring of `q` partitions. Both are powers of two, so partitions nest.
fn old_partition(p: u32, q: u32, old_q: u32) -> usize {
    (u64::from(p) * u64::from(old_q) / u64::from(q)) as usize
}

/// The members sorted by node id, each once (with its largest capacity), all of capacity
/// at least 1.
fn normalize(members: &[Member]) -> Result<Vec<&Member>, RingError> {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by(|a, b| a.node.cmp(&b.node).then(b.capacity.cmp(&a.capacity)));
    if let Some(m) = sorted.iter().find(|m| m.capacity == 0) {
        return Err(RingError::ZeroCapacity(m.node.clone()));
    }
    sorted.dedup_by(|later, earlier| later.node == earlier.node);
    if sorted.is_empty() {
        return Err(RingError::NoMembers);
    }
    Ok(sorted)
}

/// Each member's number of partitions: `q * capacity / total`, rounded down, plus one for
/// the members with the largest remainders (ties to the smaller id, i.e. the smaller index)
/// until the targets add up to `q`. Capacities are at least 1 and there is one at least.
fn targets(q: u32, capacities: &[u32]) -> Vec<u32> {
    let q = u128::from(q);
    let total: u128 = capacities.iter().map(|&c| u128::from(c)).sum();
    let share = |c: u32| q * u128::from(c);
    // Each target is at most q, which fits in a u32.
    let mut targets: Vec<u32> = capacities
        .iter()
        .map(|&c| (share(c) / total) as u32)
        .collect();
    let left = q as u32 - targets.iter().sum::<u32>();
    let mut by_remainder: Vec<usize> = (0..capacities.len()).collect();
    // A stable sort keeps the id order among equal remainders.
    by_remainder.sort_by_key(|&i| Reverse(share(capacities[i]) % total));
    for &i in by_remainder.iter().take(left as usize) {
        targets[i] += 1;
    }
    targets
}

/// The working state of one claim. Members are named by their index in the list sorted by
/// node id, so index order is id order.
struct Claim {
    q: usize,
    /// How many partitions either side of a partition count as its neighbourhood for
    /// spacing: `n_val - 1`, or one less than the number of members that own partitions if
    /// that is fewer (`k` nodes cannot fill windows of more than `k`), capped at half the
    /// ring.
    reach: usize,
    targets: Vec<u32>,
    counts: Vec<u32>,
    /// The owner of each partition so far.
    owner: Vec<Option<usize>>,
    /// The members below target, furthest below first, then by index.
    takers: BTreeSet<(Reverse<u32>, usize)>,
}

impl Claim {
    fn new(q: u32, targets: Vec<u32>, n_val: usize) -> Claim {
        let q = q as usize;
        let owning = targets.iter().filter(|&&t| t > 0).count();
        let takers = targets
            .iter()
            .enumerate()
            .filter(|&(_, &t)| t > 0)
            .map(|(i, &t)| (Reverse(t), i))
            .collect();
        Claim {
            q,
            reach: n_val.min(owning).saturating_sub(1).min(q / 2),
            counts: vec![0; targets.len()],
            targets,
            owner: vec![None; q],
            takers,
        }
    }

    fn deficit(&self, i: usize) -> u32 {
        self.targets[i].saturating_sub(self.counts[i])
    }

    fn excess(&self, i: usize) -> u32 {
        self.counts[i].saturating_sub(self.targets[i])
    }

    /// Changes a member's count, keeping `takers` in step.
    fn add_count(&mut self, i: usize, up: bool) {
        self.takers.remove(&(Reverse(self.deficit(i)), i));
        if up {
            self.counts[i] += 1;
        } else {
            self.counts[i] -= 1;
        }
        let deficit = self.deficit(i);
        if deficit > 0 {
            self.takers.insert((Reverse(deficit), i));
        }
    }

    fn set_owner(&mut self, p: usize, i: usize) {
        if let Some(old) = self.owner[p].replace(i) {
            self.add_count(old, false);
        }
        self.add_count(i, true);
    }

    /// Each previous owner that is still a member keeps its partitions (for now).
    fn keep_previous(&mut self, previous: &Ring, nodes: &[NodeId]) {
        for p in 0..self.q {
            let old = &previous.owners[old_partition(p as u32, self.q as u32, previous.q)];
            if let Ok(i) = nodes.binary_search(old) {
                self.set_owner(p, i);
            }
        }
    }

    /// The owners of the partitions within `reach` of `p` (`p` excluded), each with its
    /// distance to the nearest one it owns.
    fn neighbours(&self, p: usize) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        for d in 1..=self.reach {
            for n in [(p + self.q - d) % self.q, (p + d) % self.q] {
                if let Some(i) = self.owner[n] {
                    if n != p && !found.iter().any(|&(j, _)| j == i) {
                        found.push((i, d));
                    }
                }
            }
        }
        found
    }

    /// The member below target that should take partition `p`: the furthest below target
    /// (then the smallest index) among those with no partition within `reach` of `p`. If
    /// there is none and `strict` is false, the one whose nearest partition is furthest.
    ///
    /// Walks `takers` only until it finds a member not in `neighbours`, so it looks at no
    /// more than `neighbours.len() + 1` members.
    fn pick_taker(&self, neighbours: &[(usize, usize)], strict: bool) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for &(_, i) in &self.takers {
            match neighbours.iter().find(|&&(j, _)| j == i) {
                None => return Some(i),
                Some(&(_, d)) => {
                    let further = match best {
                        None => true,
                        Some((best_d, _)) => d > best_d,
                    };
                    if !strict && further {
                        best = Some((d, i));
                    }
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// Gives every partition without an owner (all of them on a first claim, those of
    /// departed members otherwise) to a member below target, clockwise from partition 0.
    fn assign_free(&mut self) {
        for p in 0..self.q {
            if self.owner[p].is_none() {
                let neighbours = self.neighbours(p);
                if let Some(i) = self.pick_taker(&neighbours, false) {
                    self.set_owner(p, i);
                }
            }
        }
    }

    /// Moves partitions from members above target to members below, until every member is
    /// at its target. Each pass moves only from above to below target, so every move is
    /// one that any balanced claim would need too.
    fn take_excess(&mut self) {
        let q = self.q;
        // First the partitions whose owner also owns one nearby: moving them improves the
        // giver's spacing as well as balancing.
        for p in 0..q {
            let Some(o) = self.owner[p] else { continue };
            if self.excess(o) > 0 {
                let neighbours = self.neighbours(p);
                if neighbours.iter().any(|&(j, _)| j == o) {
                    if let Some(t) = self.pick_taker(&neighbours, true) {
                        self.set_owner(p, t);
                    }
                }
            }
        }
        // Then paced around the ring, so the partitions taken are spread over it rather
        // than bunched at its start, to members with no partition nearby.
        let to_move: usize = (0..self.targets.len())
            .map(|i| self.excess(i) as usize)
            .sum();
        let mut moved = 0;
        for p in 0..q {
            if moved * q < (p + 1) * to_move {
                let Some(o) = self.owner[p] else { continue };
                if self.excess(o) > 0 {
                    if let Some(t) = self.pick_taker(&self.neighbours(p), true) {
                        self.set_owner(p, t);
                        moved += 1;
                    }
                }
            }
        }
        // Then whatever is left: unpaced with spacing, and last without.
        for strict in [true, false] {
            for p in 0..q {
                let Some(o) = self.owner[p] else { continue };
                if self.excess(o) > 0 {
                    if let Some(t) = self.pick_taker(&self.neighbours(p), strict) {
                        self.set_owner(p, t);
                    }
                }
            }
        }
    }
}
