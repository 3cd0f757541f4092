//! Merkle-tree anti-entropy (paper §4.7): one [`HashTree`] per partition a node holds, kept
//! up to date on every write, and the [`Exchange`] through which two replicas of a partition
//! find the keys they disagree on. Pure data: no IO, clock or randomness; messages are values
//! the host carries. The node ships the versions of the differing keys afterwards with its
//! ordinary replication messages.
//!
//! # The tree
//!
//! A key `k` with version digest `d` (see [`versions_digest`]) has a 64-bit *key hash*
//! `kh = xxh64(k)` and a *contribution* `c(kh, d)`. The tree is a trie over the bits of `kh`
//! with fan-out `2^b`: the node at `(depth, index)` covers the keys whose `kh` starts with
//! the `depth * b` bits `index`, and its hash is the XOR of their contributions. The root
//! (depth 0) covers every key; the deepest level, `64 / b`, covers one key hash.
//!
//! Design choices:
//!
//! - **XOR aggregation, stored interior nodes.** Because a node's hash is the XOR of its
//!   keys' contributions (equivalently, of its children's hashes), a write changes the hash
//!   of every node on its path by the same delta `c(kh, old) ^ c(kh, new)`. The levels
//!   `0..=stored_depth` are kept in one dense array and an update XORs the delta into
//!   `stored_depth + 1` words: O(depth), no fan-out factor, no dirty flags and no lazy
//!   recomputation (a classic `H(children)` tree needs `fan-out × depth` work per write or
//!   dirty flags and a recomputation pass before each exchange). XOR is not a cryptographic
//!   accumulator: like the MD5 of [`hash`](super::hash) it detects accidental divergence,
//!   not a peer that forges contents. Two different contents of a node collide with
//!   probability about 2^-64, and for a fixed key `c` is a bijection of the digest, so a
//!   single key whose version changed always changes every hash on its path.
//! - **Stored levels are a cache; deeper levels are computed.** The key map is ordered by
//!   `(kh, key)`, so every node's keys form one contiguous range. Below `stored_depth`, a
//!   node's hash or its children's hashes come from one scan of that range (a few keys).
//!   The exchange can therefore descend as deep as the data needs (until a subtree is small
//!   enough to list) whatever the stored depth, and two replicas may store different depths:
//!   only the fan-out must agree.
//! - **The key map** (`(kh, key) → digest`) remembers each key's last digest so that a write
//!   can take its old contribution out. It is ordered by key hash rather than by key (as the
//!   brief suggested) so that a node's keys are one range.
//!
//! # The exchange
//!
//! The initiator sends its root ([`TreeMsg::Root`]). Every later message is a
//! [`TreeMsg::Step`] that answers the previous one, level by level:
//!
//! 1. for each node the peer sent a hash of and whose hash differs from mine: if my subtree
//!    is small (its entries fit in [`Exchange::keys_budget`] bytes) or at the deepest level,
//!    I send its `(key, digest)` entries (`keys`); otherwise I send the hashes of its
//!    children (`nodes`) and the peer repeats step 1 one level down;
//! 2. for each subtree the peer listed, I compare its entries with mine and send back the
//!    keys that differ with my digest (`diff`, `None` when I lack the key).
//!
//! A message with no `nodes` and no `keys` asks nothing and ends the exchange; every other
//! message gets exactly one reply. Equal trees cost one round trip (`Root`, then an empty
//! `Step`). Only differing branches are descended, so the bytes grow with the number of
//! differences `d` (about `fan-out × 8` bytes per level per differing branch, plus the
//! entries of the small subtrees at the bottom), not with the number of keys; the number of
//! round trips grows with `log_fanout(n)`. Both sides end with the same set of differing
//! keys ([`Exchange::differences`]) and each side's digest for them.
//!
//! An exchange checks everything the peer says against what it asked (partition, fan-out,
//! depth, node indices, that listed keys lie in their subtree) and never panics on a
//! message. Writes may land during an exchange: the tree is read afresh at each step, so a
//! concurrent write can only add a spurious difference or defer one to the next exchange.

use super::bytes::Bytes;
use super::dvv::{Siblings, Value};
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::ops::Bound;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// Hashing: XXH64, deterministic on every platform (little-endian reads, wrapping u64 math).
// ---------------------------------------------------------------------------------------

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// The seed of [`key_hash64`]. Changing it changes every tree: replicas must agree on it.
const KEY_SEED: u64 = 0;

#[inline]
fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

#[inline]
fn merge_round(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

#[inline]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

#[inline]
fn read64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read32(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u64::from(u32::from_le_bytes(w))
}

/// XXH64 of `data` with `seed` (the reference algorithm, bit for bit): a fast,
/// non-cryptographic 64-bit hash that gives the same answer on wasm32 and x86_64.
pub fn xxh64(data: &[u8], seed: u64) -> u64 {
    let mut rest = data;
    let mut h = if data.len() >= 32 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, read64(&rest[i * 8..]));
            }
            rest = &rest[32..];
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge_round(h, lane);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(data.len() as u64);
    while rest.len() >= 8 {
        h ^= round(0, read64(rest));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        h ^= read32(rest).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    avalanche(h)
}

/// The 64-bit hash that places a key in the tree (independent of the ring's MD5 position,
/// so the keys of one partition spread over all the tree's buckets).
pub fn key_hash64(key: &[u8]) -> u64 {
    xxh64(key, KEY_SEED)
}

/// A key's share of every hash on its path. For a fixed key it is a bijection of the
/// digest, so two different digests of one key never contribute the same value.
#[inline]
fn contribution(kh: u64, digest: u64) -> u64 {
    avalanche(round(kh, digest) ^ kh.rotate_left(29))
}

/// A streaming 64-bit digest over u64 words and length-prefixed byte strings.
struct Digest64(u64);

impl Digest64 {
    fn word(&mut self, x: u64) {
        self.0 = merge_round(self.0, x);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        self.word(xxh64(b, 0));
    }
}

/// The digest of a key's sibling set, the `digest` a [`HashTree`] holds for the key.
///
/// Two replicas holding equal [`Siblings`] compute equal digests on every platform; any
/// difference (a dot, a causal past, a value, a tombstone, a timestamp) changes it with
/// probability about 1 - 2^-64. It covers every field of every version, in the set's own
/// canonical (dot) order, each field length-prefixed so that no two sets share an encoding.
/// Values are hashed with XXH64: good against accidents, not against a client that crafts
/// colliding values (which could only hide a difference between two versions with the same
/// dot, something an honest cluster never creates).
pub fn versions_digest(siblings: &Siblings) -> u64 {
    let mut d = Digest64(P5);
    d.word(siblings.len() as u64);
    for v in siblings.versions() {
        d.bytes(v.dot.node.as_str().as_bytes());
        d.word(v.dot.counter);
        d.word(v.past.len() as u64);
        for (node, counter) in v.past.iter() {
            d.bytes(node.as_str().as_bytes());
            d.word(counter);
        }
        match &v.value {
            Value::Data(b) => {
                d.word(1);
                d.bytes(b);
            }
            Value::Tombstone => d.word(0),
        }
        d.word(v.timestamp_ms);
    }
    avalanche(d.0)
}

// ---------------------------------------------------------------------------------------
// The tree.
// ---------------------------------------------------------------------------------------

/// The shape of a tree: fan-out `2^fanout_bits`, and how many levels below the root are
/// stored (the rest are computed on demand from the keys). Replicas that exchange must
/// agree on the fan-out; the stored depth is a local speed/memory choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    fanout_bits: u8,
    stored_depth: u8,
}

impl Shape {
    /// Fan-out 16, three stored levels: 4,096 leaf buckets, 4,369 stored hashes (35 KB).
    pub const DEFAULT: Shape = Shape {
        fanout_bits: 4,
        stored_depth: 3,
    };

    /// A shape with fan-out `2^fanout_bits` (`fanout_bits` in 1..=8) and `stored_depth`
    /// stored levels below the root; `None` when out of range or when the stored levels
    /// would exceed 2^24 leaves.
    pub fn new(fanout_bits: u8, stored_depth: u8) -> Option<Shape> {
        let ok = (1..=8).contains(&fanout_bits)
            && u32::from(stored_depth) * u32::from(fanout_bits) <= 24;
        ok.then_some(Shape {
            fanout_bits,
            stored_depth,
        })
    }

    pub fn fanout_bits(&self) -> u8 {
        self.fanout_bits
    }

    pub fn fanout(&self) -> usize {
        1 << self.fanout_bits
    }

    pub fn stored_depth(&self) -> u8 {
        self.stored_depth
    }

    /// The deepest level: one node per key hash prefix of `max_depth * fanout_bits` bits.
    pub fn max_depth(&self) -> u8 {
        64 / self.fanout_bits
    }

    /// The number of nodes at `depth` that the stored array holds (`fanout^depth`).
    fn level_len(&self, depth: u8) -> usize {
        1 << (u32::from(depth) * u32::from(self.fanout_bits))
    }

    /// Where level `depth` starts in the stored array.
    fn level_offset(&self, depth: u8) -> usize {
        (0..depth).map(|e| self.level_len(e)).sum()
    }

    fn prefix_bits(&self, depth: u8) -> u32 {
        u32::from(depth) * u32::from(self.fanout_bits)
    }

    /// The index at `depth` of the node that covers key hash `kh`.
    #[inline]
    fn prefix(&self, kh: u64, depth: u8) -> u64 {
        let s = self.prefix_bits(depth);
        if s == 0 {
            0
        } else {
            kh >> (64 - s)
        }
    }

    /// True when `(depth, index)` names a node of the tree.
    fn is_node(&self, depth: u8, index: u64) -> bool {
        let s = self.prefix_bits(depth);
        depth <= self.max_depth() && (s >= 64 || index >> s == 0)
    }

    /// The key hashes `(depth, index)` covers: `lo..hi`, `hi = None` for "to the end".
    fn span(&self, depth: u8, index: u64) -> (u64, Option<u64>) {
        let s = self.prefix_bits(depth);
        if s == 0 {
            return (0, None);
        }
        let shift = 64 - s;
        let lo = index << shift;
        (lo, lo.checked_add(1u64 << shift))
    }
}

impl Default for Shape {
    fn default() -> Self {
        Shape::DEFAULT
    }
}

/// A key in the map, ordered by key hash then by key bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Slot {
    hash: u64,
    key: Bytes,
}

/// Lets the map be searched with a borrowed `(hash, &[u8])`, without allocating a `Bytes`.
trait SlotKey {
    fn hash(&self) -> u64;
    fn key(&self) -> &[u8];
}

impl SlotKey for Slot {
    fn hash(&self) -> u64 {
        self.hash
    }
    fn key(&self) -> &[u8] {
        &self.key
    }
}

impl SlotKey for (u64, &[u8]) {
    fn hash(&self) -> u64 {
        self.0
    }
    fn key(&self) -> &[u8] {
        self.1
    }
}

impl<'a> Borrow<dyn SlotKey + 'a> for Slot {
    fn borrow(&self) -> &(dyn SlotKey + 'a) {
        self
    }
}

impl PartialEq for dyn SlotKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.hash() == other.hash() && self.key() == other.key()
    }
}

impl Eq for dyn SlotKey + '_ {}

impl PartialOrd for dyn SlotKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn SlotKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.hash(), self.key()).cmp(&(other.hash(), other.key()))
    }
}

/// The anti-entropy hash tree of one partition on one node (paper §4.7). See the module
/// documentation for the layout and the costs.
#[derive(Clone)]
pub struct HashTree {
    shape: Shape,
    /// Levels `0..=stored_depth`, concatenated: level `e` has `fanout^e` hashes.
    nodes: Vec<u64>,
    /// Every key the tree holds, with its current digest.
    keys: BTreeMap<Slot, u64>,
}

impl Default for HashTree {
    fn default() -> Self {
        HashTree::new()
    }
}

impl fmt::Debug for HashTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashTree")
            .field("shape", &self.shape)
            .field("len", &self.len())
            .field("root", &format_args!("{:016x}", self.root()))
            .finish()
    }
}

impl HashTree {
    /// An empty tree of the [default shape](Shape::DEFAULT).
    pub fn new() -> Self {
        HashTree::with_shape(Shape::DEFAULT)
    }

    pub fn with_shape(shape: Shape) -> Self {
        HashTree {
            shape,
            nodes: vec![0; shape.level_offset(shape.stored_depth + 1)],
            keys: BTreeMap::new(),
        }
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The digest held for `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<u64> {
        self.get_hashed(key_hash64(key), key)
    }

    fn get_hashed(&self, kh: u64, key: &[u8]) -> Option<u64> {
        self.keys.get(&(kh, key) as &dyn SlotKey).copied()
    }

    /// Record that `key` now has versions with digest `digest` (`None`: the key is absent).
    /// O(stored_depth) hash updates plus one map operation.
    pub fn update(&mut self, key: &[u8], digest: Option<u64>) {
        let kh = key_hash64(key);
        let probe = (kh, key);
        let delta = match (self.keys.get_mut(&probe as &dyn SlotKey), digest) {
            (None, None) => return,
            (Some(old), Some(new)) => {
                if *old == new {
                    return;
                }
                let delta = contribution(kh, *old) ^ contribution(kh, new);
                *old = new;
                delta
            }
            (Some(old), None) => {
                let delta = contribution(kh, *old);
                self.keys.remove(&probe as &dyn SlotKey);
                delta
            }
            (None, Some(new)) => {
                let slot = Slot {
                    hash: kh,
                    key: Bytes::new(key),
                };
                self.keys.insert(slot, new);
                contribution(kh, new)
            }
        };
        let shape = self.shape;
        let mut offset = 0;
        for depth in 0..=shape.stored_depth {
            self.nodes[offset + shape.prefix(kh, depth) as usize] ^= delta;
            offset += shape.level_len(depth);
        }
    }

    /// Replace the whole contents (after an ownership change or on restart): O(n log n) for
    /// the sort plus O(stored nodes). A key given twice keeps its last digest.
    pub fn rebuild<I, K>(&mut self, entries: I)
    where
        I: IntoIterator<Item = (K, u64)>,
        K: Into<Bytes>,
    {
        let mut all: Vec<(Slot, u64)> = entries
            .into_iter()
            .map(|(k, d)| {
                let key = k.into();
                (
                    Slot {
                        hash: key_hash64(&key),
                        key,
                    },
                    d,
                )
            })
            .collect();
        // Stable: of equal keys, the last given stays last.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<(Slot, u64)> = Vec::with_capacity(all.len());
        for e in all {
            match unique.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => unique.push(e),
            }
        }
        let shape = self.shape;
        let leaves = shape.stored_depth;
        let leaf_off = shape.level_offset(leaves);
        self.nodes.iter_mut().for_each(|h| *h = 0);
        for (slot, d) in &unique {
            self.nodes[leaf_off + shape.prefix(slot.hash, leaves) as usize] ^=
                contribution(slot.hash, *d);
        }
        // Each level from the one below: a parent is the XOR of its children.
        let fanout = shape.fanout();
        for depth in (0..leaves).rev() {
            let off = shape.level_offset(depth);
            let child_off = shape.level_offset(depth + 1);
            for i in 0..shape.level_len(depth) {
                let c = child_off + i * fanout;
                self.nodes[off + i] = self.nodes[c..c + fanout].iter().fold(0, |a, h| a ^ h);
            }
        }
        // Sorted input: the map is bulk-built.
        self.keys = unique.into_iter().collect();
    }

    /// The root hash: equal roots mean equal contents (up to a 2^-64 accident).
    pub fn root(&self) -> u64 {
        self.nodes[0]
    }

    /// The stored hashes of level `depth` (`fanout^depth` of them), or `None` below the
    /// stored levels.
    pub fn level(&self, depth: u8) -> Option<&[u64]> {
        (depth <= self.shape.stored_depth).then(|| {
            let off = self.shape.level_offset(depth);
            &self.nodes[off..off + self.shape.level_len(depth)]
        })
    }

    /// The hash of node `(depth, index)`, at any depth up to [`Shape::max_depth`]: read from
    /// the stored levels, or computed from the node's keys below them. A position outside
    /// the tree holds no key and hashes to 0.
    pub fn node(&self, depth: u8, index: u64) -> u64 {
        if !self.shape.is_node(depth, index) {
            return 0;
        }
        if depth <= self.shape.stored_depth {
            return self.nodes[self.shape.level_offset(depth) + index as usize];
        }
        self.range(depth, index)
            .fold(0, |a, (s, d)| a ^ contribution(s.hash, *d))
    }

    /// The hashes of the `fanout` children of `(depth, index)`; `depth < max_depth`.
    fn children(&self, depth: u8, index: u64) -> Vec<u64> {
        let shape = self.shape;
        let fanout = shape.fanout();
        if depth < shape.stored_depth {
            let off = shape.level_offset(depth + 1) + index as usize * fanout;
            return self.nodes[off..off + fanout].to_vec();
        }
        let mut out = vec![0; fanout];
        let mask = fanout as u64 - 1;
        for (s, d) in self.range(depth, index) {
            out[(shape.prefix(s.hash, depth + 1) & mask) as usize] ^= contribution(s.hash, *d);
        }
        out
    }

    /// The keys of node `(depth, index)`, in tree order.
    fn range(&self, depth: u8, index: u64) -> impl Iterator<Item = (&Slot, &u64)> + '_ {
        let (lo, hi) = self.shape.span(depth, index);
        let lo_key: (u64, &[u8]) = (lo, &[]);
        let hi_key: Option<(u64, &[u8])> = hi.map(|h| (h, &[][..]));
        let upper = match &hi_key {
            Some(h) => Bound::Excluded(h as &dyn SlotKey),
            None => Bound::Unbounded,
        };
        self.keys
            .range::<dyn SlotKey, _>((Bound::Included(&lo_key as &dyn SlotKey), upper))
    }

    /// The entries of `(depth, index)` if they fit in `budget` wire bytes.
    fn entries_within(&self, depth: u8, index: u64, budget: usize) -> Option<Vec<Entry>> {
        let mut used = 0;
        let mut out = Vec::new();
        for (s, d) in self.range(depth, index) {
            used += entry_wire_size(s.key.len());
            if used > budget {
                return None;
            }
            out.push(Entry {
                key: s.key.clone(),
                digest: Hash64(*d),
            });
        }
        Some(out)
    }

    /// Every `(key, digest)` held, in tree (key hash) order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, u64)> + '_ {
        self.keys.iter().map(|(s, d)| (&s.key, *d))
    }
}

/// Upper estimate of an entry's postcard size: key length varint, key, 8-byte digest.
fn entry_wire_size(key_len: usize) -> usize {
    let varint = if key_len < 128 {
        1
    } else if key_len < 16_384 {
        2
    } else {
        5
    };
    varint + key_len + 8
}

// ---------------------------------------------------------------------------------------
// The exchange.
// ---------------------------------------------------------------------------------------

/// A 64-bit hash or digest, sent as 8 little-endian bytes (a varint would take 10).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Hash64(pub u64);

impl Serialize for Hash64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_le_bytes().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Hash64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <[u8; 8]>::deserialize(d).map(|b| Hash64(u64::from_le_bytes(b)))
    }
}

/// The sender's hashes of the children of node `index` (one level below the message's
/// `depth`), in child order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Children {
    pub index: u64,
    pub hashes: Vec<Hash64>,
}

/// Every key the sender holds under node `index` (at the message's `depth`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Subtree {
    pub index: u64,
    pub entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub key: Bytes,
    pub digest: Hash64,
}

/// A key that differs, with the sender's digest (`None`: the sender lacks the key).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DiffEntry {
    pub key: Bytes,
    pub digest: Option<Hash64>,
}

/// The messages of an exchange. See the module documentation for the protocol.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TreeMsg {
    /// Opens an exchange: the initiator's root hash and fan-out.
    Root {
        partition: u32,
        fanout_bits: u8,
        hash: Hash64,
    },
    /// One step of the descent, answering the peer's previous message.
    Step {
        partition: u32,
        /// The depth of the nodes this step is about: `nodes` gives children (at
        /// `depth + 1`) of nodes at `depth`, `keys` lists subtrees at `depth`.
        depth: u8,
        /// Nodes at `depth` whose hashes differ and are too big to list: my children.
        nodes: Vec<Children>,
        /// Nodes at `depth` whose hashes differ and are small (or at the deepest level):
        /// all my entries under them.
        keys: Vec<Subtree>,
        /// The differing keys of the subtrees the peer listed last, with my digests.
        diff: Vec<DiffEntry>,
    },
}

/// Counts postcard's output bytes without storing them.
struct SizeFlavor(usize);

impl postcard::ser_flavors::Flavor for SizeFlavor {
    type Output = usize;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0 += data.len();
        Ok(())
    }

    fn try_push(&mut self, _: u8) -> postcard::Result<()> {
        self.0 += 1;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.0)
    }
}

impl TreeMsg {
    pub fn partition(&self) -> u32 {
        match self {
            TreeMsg::Root { partition, .. } | TreeMsg::Step { partition, .. } => *partition,
        }
    }

    /// True when the message asks nothing: the receiver does not answer it and the exchange
    /// is over.
    pub fn is_final(&self) -> bool {
        match self {
            TreeMsg::Root { .. } => false,
            TreeMsg::Step { nodes, keys, .. } => nodes.is_empty() && keys.is_empty(),
        }
    }

    /// The exact size of the message's postcard encoding, in bytes.
    pub fn wire_size(&self) -> usize {
        postcard::serialize_with_flavor(self, SizeFlavor(0)).unwrap_or(0)
    }
}

/// How one key differs between the two replicas.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyDiff {
    /// My digest, `None` when I lack the key.
    pub mine: Option<u64>,
    /// The peer's digest, `None` when the peer lacks the key.
    pub theirs: Option<u64>,
}

/// Messages and bytes one side of an exchange sent and received.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ExchangeStats {
    pub messages_sent: u64,
    pub messages_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl ExchangeStats {
    /// Request/reply pairs: every message but the last answers the one before it.
    pub fn round_trips(&self) -> u64 {
        (self.messages_sent + self.messages_received).div_ceil(2)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_sent + self.bytes_received
    }
}

/// Why an exchange refused a message. The exchange is over after any of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExchangeError {
    /// The message is about another partition.
    WrongPartition { expected: u32, got: u32 },
    /// The peer's tree has another fan-out: the trees cannot be compared.
    FanoutMismatch { mine: u8, theirs: u8 },
    /// A message out of turn: a `Step` to open, a `Root` in the middle, or anything after
    /// the end.
    Unexpected(&'static str),
    /// A message that does not answer what was asked (wrong depth, a node never asked
    /// about or answered twice, a wrong number of child hashes, a key outside its subtree).
    Malformed(&'static str),
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::WrongPartition { expected, got } => {
                write!(
                    f,
                    "exchange of partition {expected} got a message for {got}"
                )
            }
            ExchangeError::FanoutMismatch { mine, theirs } => write!(
                f,
                "hash trees differ in shape: fan-out 2^{mine} here, 2^{theirs} at the peer"
            ),
            ExchangeError::Unexpected(what) => write!(f, "unexpected exchange message: {what}"),
            ExchangeError::Malformed(what) => write!(f, "malformed exchange message: {what}"),
        }
    }
}

impl std::error::Error for ExchangeError {}

/// One side of the comparison of two replicas' trees of a partition: a state machine that
/// turns the peer's message into my next one. The tree is passed in at each step (it may
/// have changed in between; see the module documentation).
#[derive(Clone, Debug)]
pub struct Exchange {
    partition: u32,
    shape: Shape,
    done: bool,
    /// The nodes I last sent hashes of, at `asked_depth`: the peer may descend into them.
    asked_depth: u8,
    asked: BTreeSet<u64>,
    /// The subtrees I last listed, at `listed_depth`: the peer's `diff` lies in them.
    listed_depth: u8,
    listed: BTreeSet<u64>,
    differences: BTreeMap<Bytes, KeyDiff>,
    stats: ExchangeStats,
}

impl Exchange {
    fn new(partition: u32, shape: Shape) -> Self {
        Exchange {
            partition,
            shape,
            done: false,
            asked_depth: 0,
            asked: BTreeSet::new(),
            listed_depth: 0,
            listed: BTreeSet::new(),
            differences: BTreeMap::new(),
            stats: ExchangeStats::default(),
        }
    }

    /// Opens an exchange of `partition` with a peer: the state and the first message.
    pub fn start(partition: u32, tree: &HashTree) -> (Exchange, TreeMsg) {
        let mut ex = Exchange::new(partition, tree.shape);
        ex.asked.insert(0);
        let msg = TreeMsg::Root {
            partition,
            fanout_bits: tree.shape.fanout_bits,
            hash: Hash64(tree.root()),
        };
        ex.count_sent(&msg);
        (ex, msg)
    }

    /// Answers a peer's opening [`TreeMsg::Root`] with my tree of that partition: the state
    /// and the reply (final when the roots agree).
    pub fn accept(tree: &HashTree, msg: &TreeMsg) -> Result<(Exchange, TreeMsg), ExchangeError> {
        let TreeMsg::Root {
            partition,
            fanout_bits,
            hash,
        } = msg
        else {
            return Err(ExchangeError::Unexpected("an exchange must open with Root"));
        };
        if *fanout_bits != tree.shape.fanout_bits {
            return Err(ExchangeError::FanoutMismatch {
                mine: tree.shape.fanout_bits,
                theirs: *fanout_bits,
            });
        }
        let mut ex = Exchange::new(*partition, tree.shape);
        ex.count_received(msg);
        let mut nodes = Vec::new();
        let mut keys = Vec::new();
        if hash.0 != tree.root() {
            ex.descend(tree, 0, 0, &mut nodes, &mut keys);
        }
        let reply = ex.reply(0, nodes, keys, Vec::new());
        Ok((ex, reply))
    }

    /// Runs a whole exchange in-process between two trees of `partition` (for tests,
    /// benchmarks and a host that holds both replicas): the initiator's and the responder's
    /// final states. It ends after at most `max_depth + 3` messages: every step goes one
    /// level deeper and nothing is descended below the deepest level.
    pub fn run(
        partition: u32,
        initiator: &HashTree,
        responder: &HashTree,
    ) -> Result<(Exchange, Exchange), ExchangeError> {
        let (mut a, open) = Exchange::start(partition, initiator);
        let (mut b, mut msg) = Exchange::accept(responder, &open)?;
        let mut a_turn = true;
        loop {
            let next = if a_turn {
                a.handle(initiator, &msg)?
            } else {
                b.handle(responder, &msg)?
            };
            match next {
                Some(m) => msg = m,
                None => return Ok((a, b)),
            }
            a_turn = !a_turn;
        }
    }

    /// Feeds the peer's next message. Returns my reply, or `None` when the peer's message
    /// was final. After either a final message or an error, [`is_done`](Self::is_done).
    pub fn handle(
        &mut self,
        tree: &HashTree,
        msg: &TreeMsg,
    ) -> Result<Option<TreeMsg>, ExchangeError> {
        let result = self.handle_inner(tree, msg);
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn handle_inner(
        &mut self,
        tree: &HashTree,
        msg: &TreeMsg,
    ) -> Result<Option<TreeMsg>, ExchangeError> {
        if msg.partition() != self.partition {
            return Err(ExchangeError::WrongPartition {
                expected: self.partition,
                got: msg.partition(),
            });
        }
        if self.done {
            return Err(ExchangeError::Unexpected(
                "a message after the exchange ended",
            ));
        }
        let TreeMsg::Step {
            depth,
            nodes,
            keys,
            diff,
            ..
        } = msg
        else {
            return Err(ExchangeError::Unexpected(
                "Root in the middle of an exchange",
            ));
        };
        self.count_received(msg);
        let depth = *depth;
        let shape = self.shape;
        if !msg.is_final() && depth != self.asked_depth {
            return Err(ExchangeError::Malformed(
                "step at a depth that was not asked",
            ));
        }

        // The peer's verdict on the subtrees I listed.
        for e in diff {
            let kh = key_hash64(&e.key);
            if !self.listed.contains(&shape.prefix(kh, self.listed_depth)) {
                return Err(ExchangeError::Malformed(
                    "diff key outside the listed subtrees",
                ));
            }
            let mine = tree.get_hashed(kh, &e.key);
            let theirs = e.digest.map(|h| h.0);
            if mine != theirs {
                self.differences
                    .insert(e.key.clone(), KeyDiff { mine, theirs });
            }
        }

        // The peer's full contents of subtrees I sent hashes of: compare key by key.
        let mut out_diff = Vec::new();
        for sub in keys {
            if !self.asked.remove(&sub.index) {
                return Err(ExchangeError::Malformed(
                    "keys of a node that was not asked",
                ));
            }
            let mut theirs: BTreeMap<&[u8], u64> = BTreeMap::new();
            for e in &sub.entries {
                if shape.prefix(key_hash64(&e.key), depth) != sub.index {
                    return Err(ExchangeError::Malformed("key outside its subtree"));
                }
                theirs.insert(&e.key, e.digest.0);
            }
            for (slot, &d) in tree.range(depth, sub.index) {
                let t = theirs.remove(slot.key.as_slice());
                if t != Some(d) {
                    self.differences.insert(
                        slot.key.clone(),
                        KeyDiff {
                            mine: Some(d),
                            theirs: t,
                        },
                    );
                    out_diff.push(DiffEntry {
                        key: slot.key.clone(),
                        digest: Some(Hash64(d)),
                    });
                }
            }
            for (key, t) in theirs {
                let key = Bytes::new(key);
                self.differences.insert(
                    key.clone(),
                    KeyDiff {
                        mine: None,
                        theirs: Some(t),
                    },
                );
                out_diff.push(DiffEntry { key, digest: None });
            }
        }

        // The peer's children of nodes I sent hashes of: descend where they differ.
        let mut out_nodes = Vec::new();
        let mut out_keys = Vec::new();
        for parent in nodes {
            if !self.asked.remove(&parent.index) {
                return Err(ExchangeError::Malformed(
                    "children of a node that was not asked",
                ));
            }
            if depth >= shape.max_depth() || parent.hashes.len() != shape.fanout() {
                return Err(ExchangeError::Malformed("wrong children for a node"));
            }
            let mine = tree.children(depth, parent.index);
            for (j, (m, t)) in mine.iter().zip(&parent.hashes).enumerate() {
                if *m != t.0 {
                    let child = (parent.index << shape.fanout_bits) | j as u64;
                    self.descend(tree, depth + 1, child, &mut out_nodes, &mut out_keys);
                }
            }
        }

        if msg.is_final() {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(self.reply(depth + 1, out_nodes, out_keys, out_diff)))
    }

    /// Node `(depth, index)` differs: list it if small or deepest, else send its children.
    fn descend(
        &self,
        tree: &HashTree,
        depth: u8,
        index: u64,
        nodes: &mut Vec<Children>,
        keys: &mut Vec<Subtree>,
    ) {
        let listed = if depth >= self.shape.max_depth() {
            Some(
                tree.range(depth, index)
                    .map(|(s, d)| Entry {
                        key: s.key.clone(),
                        digest: Hash64(*d),
                    })
                    .collect(),
            )
        } else {
            tree.entries_within(depth, index, self.keys_budget())
        };
        match listed {
            Some(entries) => keys.push(Subtree { index, entries }),
            None => nodes.push(Children {
                index,
                hashes: tree
                    .children(depth, index)
                    .into_iter()
                    .map(Hash64)
                    .collect(),
            }),
        }
    }

    /// Builds my step at `depth` and remembers what it asks.
    fn reply(
        &mut self,
        depth: u8,
        nodes: Vec<Children>,
        keys: Vec<Subtree>,
        diff: Vec<DiffEntry>,
    ) -> TreeMsg {
        let bits = self.shape.fanout_bits;
        let fanout = self.shape.fanout() as u64;
        self.asked = nodes
            .iter()
            .flat_map(|c| (0..fanout).map(move |j| (c.index << bits) | j))
            .collect();
        self.asked_depth = depth.saturating_add(1);
        self.listed = keys.iter().map(|s| s.index).collect();
        self.listed_depth = depth;
        let msg = TreeMsg::Step {
            partition: self.partition,
            depth,
            nodes,
            keys,
            diff,
        };
        if msg.is_final() {
            self.done = true;
        }
        self.count_sent(&msg);
        msg
    }

    /// A differing subtree whose entries fit in this many bytes is listed rather than
    /// descended: twice the size of one node's child hashes, and at least 256 bytes.
    pub fn keys_budget(&self) -> usize {
        (16 * self.shape.fanout()).max(256)
    }

    fn count_sent(&mut self, msg: &TreeMsg) {
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += msg.wire_size() as u64;
    }

    fn count_received(&mut self, msg: &TreeMsg) {
        self.stats.messages_received += 1;
        self.stats.bytes_received += msg.wire_size() as u64;
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// True once the last message has been sent or received (or a message was refused).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The keys found to differ so far, with both sides' digests. Complete once
    /// [`is_done`](Self::is_done) (after a clean end).
    pub fn differences(&self) -> &BTreeMap<Bytes, KeyDiff> {
        &self.differences
    }

    /// The differing keys, in key order.
    pub fn differing_keys(&self) -> Vec<Bytes> {
        self.differences.keys().cloned().collect()
    }

    pub fn stats(&self) -> ExchangeStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_reference_vectors() {
        assert_eq!(xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
        assert_eq!(xxh64(b"hello", 0), 0x26C7_827D_889F_6DA3);
        assert_eq!(xxh64(b"abc", 12345), 0x0170_0E64_F6F2_3509);
        assert_eq!(
            xxh64(b"0123456789abcdef0123456789abcdef", 0),
            0x642A_9495_8E71_E6C5
        );
        assert_eq!(
            xxh64(b"Nobody inspects the spammish repetition", 0),
            0xFBCE_A83C_8A37_8BF1
        );
        assert_eq!(
            xxh64(b"The quick brown fox jumps over the lazy dog", 0),
            0x0B24_2D36_1FDA_71BC
        );
    }

    #[test]
    fn contribution_is_a_bijection_of_the_digest() {
        let kh = key_hash64(b"k");
        let cs: BTreeSet<u64> = (0..10_000).map(|d| contribution(kh, d)).collect();
        assert_eq!(cs.len(), 10_000);
    }

    #[test]
    fn shape_bounds() {
        assert!(Shape::new(0, 1).is_none());
        assert!(Shape::new(9, 1).is_none());
        assert!(Shape::new(4, 7).is_none());
        assert_eq!(Shape::new(4, 6).map(|s| s.max_depth()), Some(16));
        assert_eq!(Shape::new(3, 0).map(|s| s.max_depth()), Some(21));
        let s = Shape::DEFAULT;
        assert!(s.is_node(16, u64::MAX));
        assert!(!s.is_node(1, 16));
        assert_eq!(s.span(16, u64::MAX), (u64::MAX, None));
        assert_eq!(s.span(1, 15), (0xF << 60, None));
        assert_eq!(s.span(1, 1), (1 << 60, Some(2 << 60)));
    }

    #[test]
    fn removing_the_last_key_empties_the_tree() {
        let mut t = HashTree::new();
        t.update(b"a", Some(1));
        t.update(b"b", Some(2));
        assert_ne!(t.root(), 0);
        t.update(b"a", None);
        t.update(b"b", None);
        assert_eq!(t.root(), 0);
        assert!(t.nodes.iter().all(|h| *h == 0));
        assert!(t.is_empty());
    }
}
