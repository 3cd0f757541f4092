//! The storage port (§5: pluggable storage engines). The core never calls storage: it emits
//! persist batches of `StoreOp`s, the host applies each batch atomically and answers
//! `PersistDone`. On restart the host hands the node a `Snapshot` of what was applied.
//!
//! `MemoryStore` is the in-memory engine (the paper's "in-memory buffer" engine); the
//! IndexedDB and Durable Object engines of the hosts apply the same operations.

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::membership::{MemberInfo, Membership, RingState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the node must find again after a restart besides its data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMeta {
    /// Dots up to this counter may have been issued: a restarted node starts above it, so a
    /// dot is never reused even when unpersisted writes were lost in a crash.
    pub dot_reserved: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreOp {
    /// Replace the stored versions of a key this node holds as a replica.
    PutObject {
        key: Bytes,
        versions: Siblings,
    },
    /// Replace the versions held for `intended` (hinted handoff), kept apart from own data.
    PutHint {
        intended: NodeId,
        key: Bytes,
        versions: Siblings,
    },
    DeleteHint {
        intended: NodeId,
        key: Bytes,
    },
    /// Drop a key this node no longer replicates (after its ownership handoff).
    DeleteObject {
        key: Bytes,
    },
    PutMeta(NodeMeta),
    /// The membership view and ring, so a restarted node rejoins with what it knew.
    PutMembership(MembershipSnapshot),
}

/// A membership view as persisted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipSnapshot {
    pub entries: Vec<(NodeId, MemberInfo)>,
    pub ring: Option<RingState>,
}

impl MembershipSnapshot {
    pub fn of(view: &Membership) -> Self {
        MembershipSnapshot {
            entries: view.entries(),
            ring: view.ring_state().cloned(),
        }
    }

    pub fn to_view(&self) -> Membership {
        let mut m = Membership::new();
        for (n, i) in &self.entries {
            m.merge_member(n, *i);
        }
        if let Some(r) = &self.ring {
            m.merge_ring(r);
        }
        m
    }
}

/// Everything a node persisted, as the host loads it on restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub objects: BTreeMap<Bytes, Siblings>,
    pub hints: BTreeMap<(NodeId, Bytes), Siblings>,
    pub meta: Option<NodeMeta>,
    pub membership: Option<MembershipSnapshot>,
}

impl Snapshot {
    /// The storage of a node id that has never run before (a new cluster, a test, the
    /// teaching page): the node may issue dots under its plain id. A host that cannot be
    /// sure (a disk that may have been wiped) passes `Snapshot::default()` instead, and the
    /// node then writes under a random incarnation of its id.
    pub fn first_run() -> Snapshot {
        Snapshot {
            meta: Some(NodeMeta::default()),
            ..Snapshot::default()
        }
    }
}

/// The in-memory storage engine: applies batches to a `Snapshot`.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Snapshot,
    batches_applied: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store for a node id that has never run before (see `Snapshot::first_run`).
    pub fn first_run() -> Self {
        MemoryStore {
            state: Snapshot::first_run(),
            batches_applied: 0,
        }
    }

    /// Apply one batch atomically (in memory nothing can fail part-way).
    pub fn apply(&mut self, ops: &[StoreOp]) {
        for op in ops {
            match op {
                StoreOp::PutObject { key, versions } => {
                    self.state.objects.insert(key.clone(), versions.clone());
                }
                StoreOp::PutHint {
                    intended,
                    key,
                    versions,
                } => {
                    self.state
                        .hints
                        .insert((intended.clone(), key.clone()), versions.clone());
                }
                StoreOp::DeleteHint { intended, key } => {
                    self.state.hints.remove(&(intended.clone(), key.clone()));
                }
                StoreOp::DeleteObject { key } => {
                    self.state.objects.remove(key);
                }
                StoreOp::PutMeta(meta) => self.state.meta = Some(meta.clone()),
                StoreOp::PutMembership(m) => self.state.membership = Some(m.clone()),
            }
        }
        self.batches_applied += 1;
    }

    pub fn snapshot(&self) -> Snapshot {
        self.state.clone()
    }

    pub fn state(&self) -> &Snapshot {
        &self.state
    }

    pub fn batches_applied(&self) -> u64 {
        self.batches_applied
    }

    /// Forget everything (a node that lost its whole disk).
    pub fn wipe(&mut self) {
        self.state = Snapshot::default();
    }
}
