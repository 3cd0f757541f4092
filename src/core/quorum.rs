//! Quorum arithmetic of §4.5, kept pure and apart from the request state machines (as
//! riak_kv's `get_core`/`put_core`): add a result, ask whether it is enough, and for a get,
//! which replicas answered with stale data (read repair).

use super::dvv::Siblings;
use super::id::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Acknowledgements of a put, counted per preference-list *slot* (DYNAMO.md "Per-slot
/// quorums"), never per responder.
///
/// A slot is an intended replica: one of the key's first N primaries. Every target of the
/// put is registered for exactly one slot (`add_target`): a primary for itself, a fallback
/// for the primary its hint names. A slot is *filled* by the first ack of any of its
/// targets; a later ack for a filled slot (a slow primary after its stand-in, or the other
/// way round) is a no-op, and an ack from a responder with no slot counts for nothing.
/// `enough` needs `w` filled slots and, for the §6.1 durable rule, one filled slot that
/// some responder holds durably (restricted to the designated durable replicas by
/// `durable_only_from`).
///
/// Safety: a filled slot means the intended primary holds the write, or a fallback holds a
/// hint naming that primary, which handoff delivers only to it. A responder is registered
/// for one slot only, so `w` filled slots are `w` distinct disks now and `w` distinct
/// intended replicas once hints are delivered: a slow primary and its stand-in never make
/// one replica count twice. A responder that refused (`refuse`) or left the ring fills
/// nothing.
#[derive(Clone, Debug)]
pub struct PutQuorum {
    w: usize,
    need_durable: bool,
    /// Responder -> the slot (intended primary) it stands for.
    slot_of: BTreeMap<NodeId, NodeId>,
    /// Filled slot -> the responder that filled it first.
    filled: BTreeMap<NodeId, NodeId>,
    /// Responders that acknowledged (each at most once), and which of them durably.
    acks: BTreeSet<NodeId>,
    durable: BTreeSet<NodeId>,
    /// When set, only a durable store by one of these nodes (the durable replicas among the
    /// targets) satisfies `need_durable`.
    durable_from: Option<BTreeSet<NodeId>>,
    /// Test builds only (feature `mutants`): count responders, not slots (defect 1).
    #[cfg(feature = "mutants")]
    pub(crate) count_responders: bool,
}

impl PutQuorum {
    /// `w` slots must be filled; with `need_durable`, at least one of them durably (§6.1:
    /// buffered writes, but one replica writes to disk).
    pub fn new(w: usize, need_durable: bool) -> Self {
        PutQuorum {
            w,
            need_durable,
            slot_of: BTreeMap::new(),
            filled: BTreeMap::new(),
            acks: BTreeSet::new(),
            durable: BTreeSet::new(),
            durable_from: None,
            #[cfg(feature = "mutants")]
            count_responders: false,
        }
    }

    /// `node` was sent the write for `slot` (a primary: itself; a fallback: the primary its
    /// hint names). A node keeps the first slot it was registered for.
    pub fn add_target(&mut self, node: &NodeId, slot: &NodeId) {
        self.slot_of
            .entry(node.clone())
            .or_insert_with(|| slot.clone());
    }

    /// The slot `node` stands for, if it is a target.
    pub fn slot_of(&self, node: &NodeId) -> Option<&NodeId> {
        self.slot_of.get(node)
    }

    /// True once some target acknowledged `slot`.
    pub fn is_filled(&self, slot: &NodeId) -> bool {
        self.filled.contains_key(slot)
    }

    /// Only a durable store by one of `nodes` counts as the durable one (none: any does).
    pub fn durable_only_from(&mut self, nodes: BTreeSet<NodeId>) {
        self.durable_from = (!nodes.is_empty()).then_some(nodes);
    }

    /// `node` will not store this write (it was replaced by a fallback): it no longer counts
    /// as a durable replica to wait for; with none left, any durable store counts again.
    pub fn drop_durable_candidate(&mut self, node: &NodeId) {
        if let Some(from) = &mut self.durable_from {
            from.remove(node);
            if from.is_empty() {
                self.durable_from = None;
            }
        }
    }

    /// `node` refused the write (it left the ring): it fills no slot, now or later, and is
    /// no durable candidate. Returns the slot it was registered for, if it had not filled it.
    pub fn refuse(&mut self, node: &NodeId) -> Option<NodeId> {
        self.drop_durable_candidate(node);
        let slot = self.slot_of.remove(node)?;
        if self.filled.get(&slot) == Some(node) {
            // An ack it gave before refusing is not trusted either.
            self.filled.remove(&slot);
            if let Some(other) = self
                .acks
                .iter()
                .find(|n| *n != node && self.slot_of.get(*n) == Some(&slot))
            {
                self.filled.insert(slot.clone(), other.clone());
            }
        }
        self.acks.remove(node);
        self.durable.remove(node);
        (!self.filled.contains_key(&slot)).then_some(slot)
    }

    /// `node` stored the write (`durable`: on disk). Fills its slot if still empty; a
    /// responder that is no target counts for nothing.
    pub fn add_ack(&mut self, node: &NodeId, durable: bool) {
        let Some(slot) = self.slot_of.get(node) else {
            return;
        };
        self.filled
            .entry(slot.clone())
            .or_insert_with(|| node.clone());
        self.acks.insert(node.clone());
        if durable {
            self.durable.insert(node.clone());
        }
    }

    pub fn has_acked(&self, node: &NodeId) -> bool {
        self.acks.contains(node)
    }

    pub fn enough(&self) -> bool {
        let durable = match &self.durable_from {
            None => !self.durable.is_empty(),
            Some(from) => self.durable.iter().any(|n| from.contains(n)),
        };
        self.got() >= self.w && (!self.need_durable || durable)
    }

    /// Filled slots.
    pub fn got(&self) -> usize {
        #[cfg(feature = "mutants")]
        if self.count_responders {
            return self.acks.len();
        }
        self.filled.len()
    }

    pub fn needed(&self) -> usize {
        self.w
    }
}

/// Replies to a get, merged as they come.
#[derive(Clone, Debug)]
pub struct GetQuorum {
    r: usize,
    replies: BTreeMap<NodeId, Siblings>,
    merged: Siblings,
}

impl GetQuorum {
    pub fn new(r: usize) -> Self {
        GetQuorum {
            r,
            replies: BTreeMap::new(),
            merged: Siblings::new(),
        }
    }

    /// Record one replica's versions (a duplicate reply is ignored).
    pub fn add_result(&mut self, node: &NodeId, versions: Siblings) {
        if self.replies.contains_key(node) {
            return;
        }
        self.merged.sync(&versions);
        self.replies.insert(node.clone(), versions);
    }

    pub fn has_replied(&self, node: &NodeId) -> bool {
        self.replies.contains_key(node)
    }

    /// What `node` answered, if it did.
    pub fn reply(&self, node: &NodeId) -> Option<&Siblings> {
        self.replies.get(node)
    }

    pub fn enough(&self) -> bool {
        self.replies.len() >= self.r
    }

    pub fn got(&self) -> usize {
        self.replies.len()
    }

    pub fn needed(&self) -> usize {
        self.r
    }

    /// The syntactically reconciled result: every concurrent version any replica returned.
    pub fn merged(&self) -> &Siblings {
        &self.merged
    }

    /// Replicas whose answer lacks some version of the merged result (read repair targets).
    pub fn stale(&self) -> Vec<NodeId> {
        self.replies
            .iter()
            .filter(|(_, v)| !self.merged.is_covered_by(v))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> NodeId {
        NodeId::new(s)
    }

    /// A: primary, B: slow primary, D: fallback with a hint for B.
    fn slow_b_and_its_stand_in() -> PutQuorum {
        let mut q = PutQuorum::new(3, true);
        q.add_target(&n("a"), &n("a"));
        q.add_target(&n("b"), &n("b"));
        q.add_target(&n("c"), &n("c"));
        q.add_target(&n("d"), &n("b"));
        q
    }

    #[test]
    fn a_primary_and_its_stand_in_fill_one_slot() {
        let mut q = slow_b_and_its_stand_in();
        q.add_ack(&n("a"), true);
        q.add_ack(&n("b"), true);
        q.add_ack(&n("d"), true);
        assert_eq!(q.got(), 2);
        assert!(!q.enough());
        q.add_ack(&n("c"), true);
        assert_eq!(q.got(), 3);
        assert!(q.enough());
    }

    #[test]
    fn whichever_of_the_two_acks_first_fills_the_slot() {
        let mut q = slow_b_and_its_stand_in();
        q.add_ack(&n("d"), false);
        assert!(q.is_filled(&n("b")));
        q.add_ack(&n("b"), true);
        assert_eq!(q.got(), 1);
    }

    #[test]
    fn repeated_acks_and_strangers_count_nothing() {
        let mut q = PutQuorum::new(2, false);
        q.add_target(&n("a"), &n("a"));
        q.add_ack(&n("a"), false);
        q.add_ack(&n("a"), false);
        q.add_ack(&n("x"), true);
        assert_eq!(q.got(), 1);
        assert!(!q.has_acked(&n("x")));
        assert!(!q.enough());
    }

    #[test]
    fn a_node_keeps_its_first_slot() {
        let mut q = PutQuorum::new(2, false);
        q.add_target(&n("a"), &n("a"));
        q.add_target(&n("a"), &n("b"));
        q.add_ack(&n("a"), true);
        assert_eq!(q.slot_of(&n("a")), Some(&n("a")));
        assert!(!q.is_filled(&n("b")));
        assert_eq!(q.got(), 1);
    }

    #[test]
    fn the_durable_rule_needs_a_durable_store_in_a_filled_slot() {
        let mut q = PutQuorum::new(2, true);
        q.add_target(&n("a"), &n("a"));
        q.add_target(&n("b"), &n("b"));
        q.add_target(&n("d"), &n("b"));
        q.durable_only_from([n("d")].into_iter().collect());
        q.add_ack(&n("a"), true);
        q.add_ack(&n("b"), false);
        assert_eq!(q.got(), 2);
        assert!(
            !q.enough(),
            "the designated durable replica has not stored it"
        );
        // D's durable hint for B: the slot is B's, already filled, but now durably held.
        q.add_ack(&n("d"), true);
        assert_eq!(q.got(), 2);
        assert!(q.enough());
    }

    #[test]
    fn a_refusal_empties_the_slot_for_a_replacement() {
        let mut q = PutQuorum::new(2, true);
        q.add_target(&n("a"), &n("a"));
        q.add_target(&n("b"), &n("b"));
        q.add_ack(&n("a"), true);
        q.add_ack(&n("b"), true);
        assert!(q.enough());
        assert_eq!(q.refuse(&n("b")), Some(n("b")));
        assert!(!q.enough());
        assert_eq!(q.got(), 1);
        q.add_ack(&n("b"), true); // a late ack of the refuser counts nothing
        assert_eq!(q.got(), 1);
        q.add_target(&n("d"), &n("b"));
        q.add_ack(&n("d"), true);
        assert!(q.enough());
    }

    #[test]
    fn a_refusal_of_a_second_candidate_keeps_the_slot_filled() {
        let mut q = slow_b_and_its_stand_in();
        q.add_ack(&n("b"), true);
        q.add_ack(&n("d"), true);
        assert_eq!(q.refuse(&n("b")), None, "D still fills B's slot");
        assert!(q.is_filled(&n("b")));
    }
}
