//! Quorum arithmetic of §4.5, kept pure and apart from the request state machines (as
//! riak_kv's `get_core`/`put_core`): add a result, ask whether it is enough, and for a get,
//! which replicas answered with stale data (read repair).

use super::dvv::Siblings;
use super::id::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Acknowledgements of a put. Acks count once per node, however often they arrive.
#[derive(Clone, Debug)]
pub struct PutQuorum {
    w: usize,
    need_durable: bool,
    acks: BTreeSet<NodeId>,
    durable: BTreeSet<NodeId>,
    /// When set, only a durable store by one of these nodes (the durable replicas among the
    /// targets) satisfies `need_durable`.
    durable_from: Option<BTreeSet<NodeId>>,
}

impl PutQuorum {
    /// `w` stores are needed; with `need_durable`, at least one of them must be durable
    /// (§6.1: buffered writes, but one replica writes to disk).
    pub fn new(w: usize, need_durable: bool) -> Self {
        PutQuorum {
            w,
            need_durable,
            acks: BTreeSet::new(),
            durable: BTreeSet::new(),
            durable_from: None,
        }
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

    pub fn add_ack(&mut self, node: &NodeId, durable: bool) {
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
        self.acks.len() >= self.w && (!self.need_durable || durable)
    }

    pub fn got(&self) -> usize {
        self.acks.len()
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
