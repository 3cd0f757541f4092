//! Causal versions (paper §4.4) as dotted version vectors (DVV).
//!
//! Every version carries a *dot* — the single event `(node, counter)` that created it — and
//! its causal *past*, the version vector the writer had seen (the client's context). The
//! paper's clock of a version is `past ∪ {dot}`: D3 written through Sy with context
//! `[(Sx,2)]` has dot `(Sy,1)` and clock `[(Sx,2),(Sy,1)]`.
//!
//! Why dots (ringlet goes further than the paper): with plain server-side vector clocks, two
//! blind writes through the same coordinator get clocks `[(Sx,1)]` and `[(Sx,2)]`, the second
//! dominating the first, and the first write is silently lost. With dots, the second write
//! has dot `(Sx,2)` and an empty past: the past does not cover `(Sx,1)`, so both survive as
//! siblings. A version is discarded only when another version's *past* covers its dot, i.e.
//! when a writer had actually seen it.

use super::bytes::Bytes;
use super::id::NodeId;
use core::fmt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One write event: the `counter`-th event coordinated by `node`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Dot {
    pub node: NodeId,
    pub counter: u64,
}

impl Dot {
    pub fn new(node: impl Into<NodeId>, counter: u64) -> Self {
        Dot {
            node: node.into(),
            counter,
        }
    }
}

impl fmt::Display for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.node, self.counter)
    }
}

/// A version vector: for each node, every event `1..=counter` of that node is known.
/// Decoding drops zero entries, so equal histories are equal values.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "BTreeMap<NodeId, u64>")]
pub struct VersionVector(BTreeMap<NodeId, u64>);

impl From<BTreeMap<NodeId, u64>> for VersionVector {
    fn from(mut m: BTreeMap<NodeId, u64>) -> Self {
        m.retain(|_, c| *c > 0);
        VersionVector(m)
    }
}

impl VersionVector {
    pub fn new() -> Self {
        VersionVector(BTreeMap::new())
    }

    /// Build from `(node, counter)` pairs (zero counters are dropped).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut vv = VersionVector::new();
        for (n, c) in pairs {
            vv.raise(&NodeId::new(n), c);
        }
        vv
    }

    pub fn get(&self, node: &NodeId) -> u64 {
        self.0.get(node).copied().unwrap_or(0)
    }

    /// Raise the entry for `node` to at least `counter`.
    pub fn raise(&mut self, node: &NodeId, counter: u64) {
        if counter == 0 {
            return;
        }
        match self.0.get_mut(node) {
            Some(c) => *c = (*c).max(counter),
            None => {
                self.0.insert(node.clone(), counter);
            }
        }
    }

    /// Pointwise maximum (the join of two causal histories).
    pub fn merge(&mut self, other: &VersionVector) {
        for (n, &c) in &other.0 {
            self.raise(n, c);
        }
    }

    /// True when the event `dot` is part of this history.
    pub fn covers(&self, dot: &Dot) -> bool {
        self.get(&dot.node) >= dot.counter
    }

    /// True when every event of `other` is part of this history (`other <= self`).
    pub fn descends(&self, other: &VersionVector) -> bool {
        other.0.iter().all(|(n, &c)| self.get(n) >= c)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, u64)> {
        self.0.iter().map(|(n, &c)| (n, c))
    }
}

/// The paper's notation: `[(Sx,2),(Sy,1)]`.
impl fmt::Display for VersionVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (n, c)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "({n},{c})")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for VersionVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a version holds: data, or a tombstone left by a delete (§4.1: deletes are puts).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Value {
    Data(Bytes),
    Tombstone,
}

impl Value {
    pub fn data(&self) -> Option<&Bytes> {
        match self {
            Value::Data(b) => Some(b),
            Value::Tombstone => None,
        }
    }

    pub fn size(&self) -> usize {
        match self {
            Value::Data(b) => b.len(),
            Value::Tombstone => 0,
        }
    }
}

/// One version of a key: the value, the dot that created it, the causal past its writer had
/// seen, and the coordinator's timestamp (used only by the last-writer-wins resolver).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Version {
    pub dot: Dot,
    pub past: VersionVector,
    pub value: Value,
    pub timestamp_ms: u64,
}

impl Version {
    /// The paper's vector clock of this version: `past ∪ {dot}`.
    pub fn clock(&self) -> VersionVector {
        let mut c = self.past.clone();
        c.raise(&self.dot.node, self.dot.counter);
        c
    }

    /// True when `other` is a strict ancestor of `self` (its dot is in our past).
    pub fn descends_from(&self, other: &Version) -> bool {
        self.past.covers(&other.dot)
    }
}

/// The set of causally concurrent versions of one key (a DVV set). Invariant: no version's
/// dot is covered by another's past, and no two versions share a dot. Versions are kept
/// sorted by dot so that equal sets are equal values and iterate identically everywhere.
/// Decoding re-establishes the invariant whatever the bytes said.
#[derive(Clone, PartialEq, Eq, Default, Debug, Serialize, Deserialize)]
#[serde(from = "SiblingsWire")]
pub struct Siblings {
    versions: Vec<Version>,
}

impl Siblings {
    pub fn new() -> Self {
        Siblings::default()
    }

    /// Build a set from arbitrary versions, discarding ancestors and duplicates.
    pub fn from_versions(versions: impl IntoIterator<Item = Version>) -> Self {
        let mut s = Siblings::new();
        for v in versions {
            s.add(v);
        }
        s
    }

    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    pub fn len(&self) -> usize {
        self.versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The causal context a client gets on read: the join of every sibling's clock. A put
    /// with this context supersedes exactly these siblings.
    pub fn context(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        for v in &self.versions {
            vv.merge(&v.past);
            vv.raise(&v.dot.node, v.dot.counter);
        }
        vv
    }

    /// The highest counter of `node` that this key's history mentions.
    pub fn max_counter(&self, node: &NodeId) -> u64 {
        self.versions
            .iter()
            .map(|v| {
                let c = v.past.get(node);
                if &v.dot.node == node {
                    c.max(v.dot.counter)
                } else {
                    c
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// Add one version (syntactic reconciliation): it is dropped if a present version already
    /// has it in its past (or is it), and it evicts every present version it descends from.
    /// Returns true when the set changed.
    pub fn add(&mut self, v: Version) -> bool {
        if self
            .versions
            .iter()
            .any(|x| x.dot == v.dot || x.past.covers(&v.dot))
        {
            return false;
        }
        self.versions.retain(|x| !v.past.covers(&x.dot));
        let at = self.versions.partition_point(|x| x.dot < v.dot);
        self.versions.insert(at, v);
        true
    }

    /// Merge another replica's set into this one (DVV sync). Returns true when this changed.
    pub fn sync(&mut self, other: &Siblings) -> bool {
        let mut changed = false;
        for v in &other.versions {
            changed |= self.add(v.clone());
        }
        changed
    }

    /// A coordinator's write: the new version (with `dot`, past `context`) supersedes every
    /// sibling the context covers; siblings the writer had not seen stay.
    pub fn update(&mut self, context: &VersionVector, dot: Dot, value: Value, timestamp_ms: u64) {
        self.add(Version {
            dot,
            past: context.clone(),
            value,
            timestamp_ms,
        });
    }

    /// True when every version here is also in (or superseded by) `other`.
    pub fn is_covered_by(&self, other: &Siblings) -> bool {
        self.versions.iter().all(|v| {
            other
                .versions
                .iter()
                .any(|o| o.dot == v.dot || o.past.covers(&v.dot))
        })
    }

    /// The data values (tombstones left out), in dot order.
    pub fn values(&self) -> impl Iterator<Item = &Bytes> {
        self.versions.iter().filter_map(|v| v.value.data())
    }

    /// Bytes held by the values, for size accounting.
    pub fn value_bytes(&self) -> usize {
        self.versions.iter().map(|v| v.value.size()).sum()
    }
}

#[derive(Deserialize)]
struct SiblingsWire {
    versions: Vec<Version>,
}

impl From<SiblingsWire> for Siblings {
    fn from(w: SiblingsWire) -> Self {
        Siblings::from_versions(w.versions)
    }
}
