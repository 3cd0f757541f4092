//! Storage keys of the key-value storage engines: how a `StoreOp` becomes a string key and
//! the record to store there, and how stored records are loaded again. The records are the
//! core's checksummed record codec (`core::record`: version, kind, postcard payload,
//! CRC-32C), verified at load; a record that fails is reported in `Snapshot::corrupt` with
//! the key its storage key names. The JS storage engine (`storage_js.rs`, used by the edge
//! node's Durable Object storage) goes through this module.
//!
//! | key | record |
//! | --- | --- |
//! | `o/` + hex of the key | an object record |
//! | `h/` + hex of postcard `(intended, key)` | a hint record |
//! | `meta` | the meta record (the dot reservation) |
//! | `view` | the membership record (members and ring) |
//! | `f/` + hex of the key | a fallback record (what the fallback actor last sent) |
//! | `w/` + hex of postcard `(forwarder, rid)` | a forward record (a forward accepted here) |

use super::storage::StorageError;
use crate::core::record::{self, Loader, RecordStore};
use crate::core::{Bytes, NodeId, RecordId, StoreOp};

const OBJECT: &str = "o/";
const HINT: &str = "h/";
const META: &str = "meta";
const VIEW: &str = "view";
const FALLBACK: &str = "f/";
const FORWARD: &str = "w/";

/// One op as a key and the record to store there (`None`: delete the key).
pub fn encode_op(op: &StoreOp) -> Result<(String, Option<Vec<u8>>), StorageError> {
    let key = match op {
        StoreOp::PutObject { key, .. } | StoreOp::DeleteObject { key } => object_key(key),
        StoreOp::PutHint { intended, key, .. } | StoreOp::DeleteHint { intended, key } => {
            hint_key(intended, key)?
        }
        StoreOp::PutMeta(_) => META.to_string(),
        StoreOp::PutMembership(_) => VIEW.to_string(),
        StoreOp::PutFallback { key, .. } | StoreOp::DeleteFallback { key } => fallback_key(key),
        StoreOp::PutForward(m) => forward_key(&m.from, m.rid)?,
        StoreOp::DeleteForward { from, rid } => forward_key(from, *rid)?,
    };
    Ok((key, record::encode_op(op).map(|(_, bytes)| bytes)))
}

/// The storage key of one record (the conformance suite's corruption hook uses it).
pub fn record_key(id: &RecordId) -> Result<String, StorageError> {
    Ok(match id {
        RecordId::Object(k) => object_key(k),
        RecordId::Hint(n, k) => hint_key(n, k)?,
        RecordId::Meta => META.to_string(),
        RecordId::Membership => VIEW.to_string(),
        RecordId::Fallback(k) => fallback_key(k),
        RecordId::Forward(n, rid) => forward_key(n, *rid)?,
    })
}

/// Add the record stored under `key` (`None`: the engine returned something that is not
/// bytes) to `loader`. False when the key is not one of ours: it is skipped.
pub fn load_into(loader: &mut Loader, key: &str, record: Option<&[u8]>) -> bool {
    let (store, k, intended) = if let Some(h) = key.strip_prefix(OBJECT) {
        (RecordStore::Objects, unhex(h).map(|b| Bytes::new(&b)), None)
    } else if let Some(h) = key.strip_prefix(HINT) {
        let named = unhex(h).and_then(|b| postcard::from_bytes::<(NodeId, Bytes)>(&b).ok());
        let (n, k) = named.map_or((None, None), |(n, k)| (Some(n), Some(k)));
        (RecordStore::Hints, k, n)
    } else if key == META {
        (RecordStore::Meta, None, None)
    } else if key == VIEW {
        (RecordStore::Membership, None, None)
    } else if let Some(h) = key.strip_prefix(FALLBACK) {
        (
            RecordStore::Fallbacks,
            unhex(h).map(|b| Bytes::new(&b)),
            None,
        )
    } else if let Some(h) = key.strip_prefix(FORWARD) {
        let named = unhex(h).and_then(|b| postcard::from_bytes::<(NodeId, u64)>(&b).ok());
        let (n, rid) = named.map_or((None, None), |(n, rid)| (Some(n), Some(rid)));
        (RecordStore::Forwards, rid.map(record::forward_rid_key), n)
    } else {
        return false;
    };
    match record {
        Some(bytes) => loader.add(store, k, intended, bytes),
        None => loader.unreadable(store, k, "not a byte array"),
    }
    true
}

fn object_key(key: &Bytes) -> String {
    format!("{OBJECT}{}", hex(key.as_slice()))
}

fn fallback_key(key: &Bytes) -> String {
    format!("{FALLBACK}{}", hex(key.as_slice()))
}

fn hint_key(intended: &NodeId, key: &Bytes) -> Result<String, StorageError> {
    postcard::to_allocvec(&(intended, key))
        .map(|b| format!("{HINT}{}", hex(&b)))
        .map_err(|e| StorageError::new(format!("cannot encode a hint key: {e}")))
}

fn forward_key(from: &NodeId, rid: u64) -> Result<String, StorageError> {
    forward_id(from, rid).map(|h| format!("{FORWARD}{h}"))
}

/// Hex of postcard `(forwarder, rid)`: what names a forward record (the IndexedDB engine's
/// key in its `forwards` store).
pub fn forward_id(from: &NodeId, rid: u64) -> Result<String, StorageError> {
    postcard::to_allocvec(&(from, rid))
        .map(|b| hex(&b))
        .map_err(|e| StorageError::new(format!("cannot encode a forward key: {e}")))
}

/// Lower-case hex of `b` (storage keys of the IndexedDB and JS engines).
pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// The bytes of a hex string; `None` when it is not one.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
