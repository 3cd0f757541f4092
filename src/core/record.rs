//! The one record codec every storage engine uses (memory, IndexedDB, edge storage): a stored
//! record is framed and checksummed, and verified on every load.
//!
//! ```text
//! record   = format-version (1 byte, = 1)
//!            kind           (1 byte: 1 object, 2 hint, 3 meta, 4 membership, 5 fallback,
//!                            6 forward)
//!            payload        (postcard)
//!            crc32c         (4 bytes, little endian, over version, kind and payload)
//! payload  = object: (key, Siblings) | hint: (intended, key, Siblings)
//!          | meta: NodeMeta          | membership: MembershipSnapshot
//!          | fallback: (key, Siblings) | forward: ForwardMark
//! ```
//!
//! Decoding never panics: a wrong length, version, kind or checksum, a payload that does not
//! decode (or decodes with bytes left over), or sibling sets that fail validation give
//! `Err(RecordError)`. CRC32C (Castagnoli) detects every burst error up to 32 bits and every
//! flip of up to 3 bits in records of this size, so a flipped byte is always caught.
//!
//! An engine loads with [`Loader`]: it hands over each stored `(store, storage key, bytes)`
//! and gets a [`Snapshot`] of what verified plus a [`CorruptRecord`] for each one that did
//! not. The node reports those (`Event::CorruptRecord`, `Stats::corrupt_records`), never
//! serves them, and repairs the keys from the other replicas (see `node.rs`).

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::id::NodeId;
use super::storage::{ForwardMark, MembershipSnapshot, NodeMeta, Snapshot, StoreOp};
use core::fmt;
use serde::{Deserialize, Serialize};

/// The only record format version this build writes and reads.
pub const RECORD_VERSION: u8 = 1;
/// Version and kind in front, checksum behind.
pub const RECORD_OVERHEAD: usize = 6;

/// The six kinds of record a node stores (one object store / table / prefix each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordStore {
    Objects,
    Hints,
    Meta,
    Membership,
    /// The versions this node last sent for a key as its fallback actor (`node.rs`
    /// `fallback_dots`).
    Fallbacks,
    /// The forwards this node accepted and that have not expired (`StoreOp::PutForward`).
    Forwards,
}

impl RecordStore {
    pub const ALL: [RecordStore; 6] = [
        RecordStore::Objects,
        RecordStore::Hints,
        RecordStore::Meta,
        RecordStore::Membership,
        RecordStore::Fallbacks,
        RecordStore::Forwards,
    ];

    /// The store's name, as engines name their tables and events report it.
    pub fn name(self) -> &'static str {
        match self {
            RecordStore::Objects => "objects",
            RecordStore::Hints => "hints",
            RecordStore::Meta => "meta",
            RecordStore::Membership => "membership",
            RecordStore::Fallbacks => "fallbacks",
            RecordStore::Forwards => "forwards",
        }
    }

    fn tag(self) -> u8 {
        match self {
            RecordStore::Objects => 1,
            RecordStore::Hints => 2,
            RecordStore::Meta => 3,
            RecordStore::Membership => 4,
            RecordStore::Fallbacks => 5,
            RecordStore::Forwards => 6,
        }
    }

    fn of_tag(tag: u8) -> Option<RecordStore> {
        RecordStore::ALL.into_iter().find(|s| s.tag() == tag)
    }
}

/// A decoded, verified record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Object {
        key: Bytes,
        versions: Siblings,
    },
    Hint {
        intended: NodeId,
        key: Bytes,
        versions: Siblings,
    },
    Meta(NodeMeta),
    Membership(MembershipSnapshot),
    Fallback {
        key: Bytes,
        versions: Siblings,
    },
    Forward(ForwardMark),
}

impl Record {
    pub fn store(&self) -> RecordStore {
        match self {
            Record::Object { .. } => RecordStore::Objects,
            Record::Hint { .. } => RecordStore::Hints,
            Record::Meta(_) => RecordStore::Meta,
            Record::Membership(_) => RecordStore::Membership,
            Record::Fallback { .. } => RecordStore::Fallbacks,
            Record::Forward(_) => RecordStore::Forwards,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            Record::Object { key, versions } => encode_object(key, versions),
            Record::Hint {
                intended,
                key,
                versions,
            } => encode_hint(intended, key, versions),
            Record::Meta(m) => encode_meta(m),
            Record::Membership(m) => encode_membership(m),
            Record::Fallback { key, versions } => encode_fallback(key, versions),
            Record::Forward(m) => encode_forward(m),
        }
    }
}

/// Why stored bytes are not a valid record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    TooShort(usize),
    Version(u8),
    Kind(u8),
    /// The record is of another store than the one it was found in.
    WrongStore {
        expected: RecordStore,
        found: RecordStore,
    },
    Checksum {
        stored: u32,
        computed: u32,
    },
    Payload(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooShort(n) => write!(f, "a record of {n} bytes is too short"),
            RecordError::Version(v) => write!(f, "unknown record format version {v}"),
            RecordError::Kind(k) => write!(f, "unknown record kind {k}"),
            RecordError::WrongStore { expected, found } => write!(
                f,
                "a {} record found in the {} store",
                found.name(),
                expected.name()
            ),
            RecordError::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:08x}, computed {computed:08x})"
            ),
            RecordError::Payload(m) => write!(f, "the payload does not decode: {m}"),
        }
    }
}

impl std::error::Error for RecordError {}

pub fn encode_object(key: &Bytes, versions: &Siblings) -> Vec<u8> {
    seal(RecordStore::Objects, &(key, versions))
}

pub fn encode_hint(intended: &NodeId, key: &Bytes, versions: &Siblings) -> Vec<u8> {
    seal(RecordStore::Hints, &(intended, key, versions))
}

pub fn encode_meta(meta: &NodeMeta) -> Vec<u8> {
    seal(RecordStore::Meta, meta)
}

pub fn encode_membership(m: &MembershipSnapshot) -> Vec<u8> {
    seal(RecordStore::Membership, m)
}

pub fn encode_fallback(key: &Bytes, versions: &Siblings) -> Vec<u8> {
    seal(RecordStore::Fallbacks, &(key, versions))
}

pub fn encode_forward(m: &ForwardMark) -> Vec<u8> {
    seal(RecordStore::Forwards, m)
}

/// The record a put-like store op writes, with its store (`None` for deletes).
pub fn encode_op(op: &StoreOp) -> Option<(RecordStore, Vec<u8>)> {
    match op {
        StoreOp::PutObject { key, versions } => {
            Some((RecordStore::Objects, encode_object(key, versions)))
        }
        StoreOp::PutHint {
            intended,
            key,
            versions,
        } => Some((RecordStore::Hints, encode_hint(intended, key, versions))),
        StoreOp::PutMeta(m) => Some((RecordStore::Meta, encode_meta(m))),
        StoreOp::PutMembership(m) => Some((RecordStore::Membership, encode_membership(m))),
        StoreOp::PutFallback { key, versions } => {
            Some((RecordStore::Fallbacks, encode_fallback(key, versions)))
        }
        StoreOp::PutForward(m) => Some((RecordStore::Forwards, encode_forward(m))),
        StoreOp::DeleteObject { .. }
        | StoreOp::DeleteHint { .. }
        | StoreOp::DeleteFallback { .. }
        | StoreOp::DeleteForward { .. } => None,
    }
}

/// Verify and decode a record of any store.
pub fn decode(bytes: &[u8]) -> Result<Record, RecordError> {
    let (store, payload) = open(bytes)?;
    let bad = |e: postcard::Error| RecordError::Payload(e.to_string());
    Ok(match store {
        RecordStore::Objects => {
            let (key, versions) = exact::<(Bytes, Siblings)>(payload).map_err(bad)?;
            Record::Object { key, versions }
        }
        RecordStore::Hints => {
            let (intended, key, versions) =
                exact::<(NodeId, Bytes, Siblings)>(payload).map_err(bad)?;
            Record::Hint {
                intended,
                key,
                versions,
            }
        }
        RecordStore::Meta => Record::Meta(
            exact::<NodeMeta>(payload)
                .or_else(|e| {
                    // The records of older builds: the dot reservation and the fallback
                    // generation, or the dot reservation alone.
                    exact::<(u64, u64)>(payload)
                        .map(|(dot_reserved, fallback_generation)| NodeMeta {
                            dot_reserved,
                            fallback_generation,
                            ..NodeMeta::default()
                        })
                        .or_else(|_| {
                            exact::<u64>(payload).map(|dot_reserved| NodeMeta {
                                dot_reserved,
                                ..NodeMeta::default()
                            })
                        })
                        .map_err(|_| e)
                })
                .map_err(bad)?,
        ),
        RecordStore::Membership => Record::Membership(exact(payload).map_err(bad)?),
        RecordStore::Fallbacks => {
            let (key, versions) = exact::<(Bytes, Siblings)>(payload).map_err(bad)?;
            Record::Fallback { key, versions }
        }
        RecordStore::Forwards => Record::Forward(exact(payload).map_err(bad)?),
    })
}

/// Verify and decode a record found in `store`: a valid record of another store is an error.
pub fn decode_in(store: RecordStore, bytes: &[u8]) -> Result<Record, RecordError> {
    let record = decode(bytes)?;
    if record.store() != store {
        return Err(RecordError::WrongStore {
            expected: store,
            found: record.store(),
        });
    }
    Ok(record)
}

fn seal<T: Serialize + ?Sized>(store: RecordStore, payload: &T) -> Vec<u8> {
    // Serializing into a Vec fails only for types postcard cannot express, and every stored
    // type can; were it ever to fail, the kind byte 0 makes the record fail at load (reported
    // as corrupt and repaired) rather than panic here.
    let mut out = postcard::to_extend(payload, vec![RECORD_VERSION, store.tag()])
        .unwrap_or_else(|_| vec![RECORD_VERSION, 0]);
    let crc = crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Check framing and checksum; the record's store and its payload.
fn open(bytes: &[u8]) -> Result<(RecordStore, &[u8]), RecordError> {
    if bytes.len() < RECORD_OVERHEAD {
        return Err(RecordError::TooShort(bytes.len()));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32c(body);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    if body[0] != RECORD_VERSION {
        return Err(RecordError::Version(body[0]));
    }
    let store = RecordStore::of_tag(body[1]).ok_or(RecordError::Kind(body[1]))?;
    Ok((store, &body[2..]))
}

fn exact<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, postcard::Error> {
    let (v, rest) = postcard::take_from_bytes(payload)?;
    if !rest.is_empty() {
        return Err(postcard::Error::DeserializeBadEncoding);
    }
    Ok(v)
}

/// A stored record that failed verification at load. `key` (and `intended` for a hint) are
/// known when the engine's storage key names them; the record itself is never trusted. For
/// a forward record, `intended` is the forwarder and `key` the request id
/// (`forward_rid_key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptRecord {
    pub store: RecordStore,
    pub key: Option<Bytes>,
    pub intended: Option<NodeId>,
    pub reason: String,
}

/// Builds the `Snapshot` an engine loads: verified records go in, the others are listed in
/// `Snapshot::corrupt`.
#[derive(Debug, Default)]
pub struct Loader {
    snap: Snapshot,
}

impl Loader {
    pub fn new() -> Self {
        Loader::default()
    }

    /// One stored record of `store`. `key` / `intended`: what the engine's own storage key
    /// says the record holds (reported if the record is corrupt).
    pub fn add(
        &mut self,
        store: RecordStore,
        key: Option<Bytes>,
        intended: Option<NodeId>,
        bytes: &[u8],
    ) {
        match decode_in(store, bytes) {
            Ok(Record::Object { key, versions }) => {
                self.snap.objects.insert(key, versions);
            }
            Ok(Record::Hint {
                intended,
                key,
                versions,
            }) => {
                self.snap.hints.insert((intended, key), versions);
            }
            Ok(Record::Meta(m)) => self.snap.meta = Some(m),
            Ok(Record::Membership(m)) => self.snap.membership = Some(m),
            Ok(Record::Fallback { key, versions }) => {
                self.snap.fallbacks.insert(key, versions);
            }
            Ok(Record::Forward(m)) => {
                self.snap.forwards.insert((m.from, m.rid), m.expires_ms);
            }
            Err(e) => self.snap.corrupt.push(CorruptRecord {
                store,
                key,
                intended,
                reason: e.to_string(),
            }),
        }
    }

    /// A record the engine could not even read as bytes (reported like a corrupt one).
    pub fn unreadable(&mut self, store: RecordStore, key: Option<Bytes>, reason: &str) {
        self.snap.corrupt.push(CorruptRecord {
            store,
            key,
            intended: None,
            reason: reason.to_string(),
        });
    }

    pub fn finish(self) -> Snapshot {
        self.snap
    }
}

/// How a corrupt forward record's request id is reported (`CorruptRecord::key`): its 8
/// big-endian bytes.
pub fn forward_rid_key(rid: u64) -> Bytes {
    Bytes::new(&rid.to_be_bytes())
}

/// The request id `forward_rid_key` reported, if `key` is one.
pub fn forward_rid_of(key: &Bytes) -> Option<u64> {
    <[u8; 8]>::try_from(key.as_slice())
        .ok()
        .map(u64::from_be_bytes)
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI and ext4.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC_TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}
