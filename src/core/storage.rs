//! The storage port (§5: pluggable storage engines). The core never calls storage: it emits
//! persist batches of `StoreOp`s, the host applies each batch atomically and answers
//! `PersistDone`. On restart the host hands the node a `Snapshot` of what was applied.
//!
//! `MemoryStore` is the in-memory engine (the paper's "in-memory buffer" engine); the
//! IndexedDB and Durable Object engines of the hosts apply the same operations. Every engine
//! stores each record through the one record codec (`record.rs`: checksummed, verified at
//! load), and a record that fails verification reaches the node in `Snapshot::corrupt`.

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::membership::{MemberInfo, Membership, RingState};
use super::record::{self, CorruptRecord, Loader, RecordStore};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the node must find again after a restart besides its data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMeta {
    /// Dots up to this counter may have been issued: a restarted node starts above it, so a
    /// dot is never reused even when unpersisted writes were lost in a crash.
    pub dot_reserved: u64,
    /// The generation of the fallback actor (`id@f`, then `id@f<g>`): it moves on, and the
    /// fallback records are dropped, when they reach their limit (`put.rs`
    /// `FALLBACK_KEYS`). Records of older builds lack it (0).
    pub fallback_generation: u64,
    /// The partitions of which this actor handed a key off (and deleted it) in any run: a
    /// copy of such a key that reaches the node later need not hold the actor's dots
    /// (`put.rs` `holds_own_history`), and a write of such a key reads enough replicas
    /// first (`lost_partition_of`). Records of older builds lack it (empty).
    pub handed_off_parts: BTreeSet<u32>,
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
    /// Replace the object this node last sent for `key` as its fallback actor `id@f`
    /// (a write it coordinated outside the key's replicas): the next such write, in this
    /// run or a later one, starts from them (`put.rs` `new_dot`).
    PutFallback {
        key: Bytes,
        versions: Siblings,
    },
    /// Drop a fallback record (one that failed verification at load).
    DeleteFallback {
        key: Bytes,
    },
    /// Remember that the forward `(from, rid)` was accepted here (`put.rs` `on_forward`):
    /// a duplicate of it that reaches a later run of this node is not applied again.
    PutForward(ForwardMark),
    /// Forget an accepted forward once it expired.
    DeleteForward {
        from: NodeId,
        rid: u64,
    },
}

/// One forward a node accepted, durable until it expires: no duplicate of the `Forward` is
/// acted on by this node before then, in this run or a later one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardMark {
    /// The forwarder and its request id.
    pub from: NodeId,
    pub rid: u64,
    /// Twice the request timeout after it was accepted (the node's clock).
    pub expires_ms: u64,
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
    /// What the fallback actor last sent, per key (`StoreOp::PutFallback`).
    pub fallbacks: BTreeMap<Bytes, Siblings>,
    /// The forwards accepted and not yet expired (`StoreOp::PutForward`), with their expiry.
    pub forwards: BTreeMap<(NodeId, u64), u64>,
    /// Records that failed verification at load (`record.rs`): left out of everything above,
    /// reported by the node and repaired from the other replicas.
    pub corrupt: Vec<CorruptRecord>,
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

/// Names one stored record (to inspect or damage it in tests).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordId {
    Object(Bytes),
    Hint(NodeId, Bytes),
    Meta,
    Membership,
    Fallback(Bytes),
    Forward(NodeId, u64),
}

/// The in-memory storage engine: keeps every record encoded and checksummed through the
/// record codec (`record.rs`), as a disk would, and verifies each one at `snapshot()`. A
/// decoded mirror (`state()`) serves inspection without decoding.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Snapshot,
    records: BTreeMap<RecordId, Vec<u8>>,
    batches_applied: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store for a node id that has never run before (see `Snapshot::first_run`).
    pub fn first_run() -> Self {
        let mut s = MemoryStore::new();
        s.apply(&[StoreOp::PutMeta(NodeMeta::default())]);
        s.batches_applied = 0;
        s
    }

    /// Apply one batch atomically (in memory nothing can fail part-way).
    pub fn apply(&mut self, ops: &[StoreOp]) {
        for op in ops {
            let id = match op {
                StoreOp::PutObject { key, .. } | StoreOp::DeleteObject { key } => {
                    RecordId::Object(key.clone())
                }
                StoreOp::PutHint { intended, key, .. } | StoreOp::DeleteHint { intended, key } => {
                    RecordId::Hint(intended.clone(), key.clone())
                }
                StoreOp::PutMeta(_) => RecordId::Meta,
                StoreOp::PutMembership(_) => RecordId::Membership,
                StoreOp::PutFallback { key, .. } | StoreOp::DeleteFallback { key } => {
                    RecordId::Fallback(key.clone())
                }
                StoreOp::PutForward(ForwardMark { from, rid, .. })
                | StoreOp::DeleteForward { from, rid } => RecordId::Forward(from.clone(), *rid),
            };
            match record::encode_op(op) {
                Some((_, bytes)) => self.records.insert(id, bytes),
                None => self.records.remove(&id),
            };
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
                StoreOp::PutFallback { key, versions } => {
                    self.state.fallbacks.insert(key.clone(), versions.clone());
                }
                StoreOp::DeleteFallback { key } => {
                    self.state.fallbacks.remove(key);
                }
                StoreOp::PutForward(m) => {
                    self.state
                        .forwards
                        .insert((m.from.clone(), m.rid), m.expires_ms);
                }
                StoreOp::DeleteForward { from, rid } => {
                    self.state.forwards.remove(&(from.clone(), *rid));
                }
            }
        }
        self.batches_applied += 1;
    }

    /// What a restarted node loads: every stored record, verified.
    pub fn snapshot(&self) -> Snapshot {
        let mut loader = Loader::new();
        for (id, bytes) in &self.records {
            let (store, key, intended) = match id {
                RecordId::Object(k) => (RecordStore::Objects, Some(k.clone()), None),
                RecordId::Hint(n, k) => (RecordStore::Hints, Some(k.clone()), Some(n.clone())),
                RecordId::Meta => (RecordStore::Meta, None, None),
                RecordId::Membership => (RecordStore::Membership, None, None),
                RecordId::Fallback(k) => (RecordStore::Fallbacks, Some(k.clone()), None),
                RecordId::Forward(n, rid) => (
                    RecordStore::Forwards,
                    Some(record::forward_rid_key(*rid)),
                    Some(n.clone()),
                ),
            };
            loader.add(store, key, intended, bytes);
        }
        loader.finish()
    }

    /// What was applied, decoded (not verified: the records are what `snapshot()` checks).
    pub fn state(&self) -> &Snapshot {
        &self.state
    }

    /// Every stored record, in order.
    pub fn record_ids(&self) -> Vec<RecordId> {
        self.records.keys().cloned().collect()
    }

    /// The stored bytes of one record.
    pub fn record(&self, id: &RecordId) -> Option<&[u8]> {
        self.records.get(id).map(|r| r.as_slice())
    }

    /// Damage a stored record as a bad disk would: flip the bits of `mask` in its byte
    /// `at` (modulo its length). False when no such record is stored.
    pub fn corrupt(&mut self, id: &RecordId, at: usize, mask: u8) -> bool {
        match self.records.get_mut(id) {
            Some(r) if !r.is_empty() => {
                let i = at % r.len();
                r[i] ^= mask;
                true
            }
            _ => false,
        }
    }

    pub fn batches_applied(&self) -> u64 {
        self.batches_applied
    }

    /// Forget everything (a node that lost its whole disk).
    pub fn wipe(&mut self) {
        self.state = Snapshot::default();
        self.records.clear();
    }
}
