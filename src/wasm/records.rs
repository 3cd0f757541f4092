//! The record codec of the key-value storage engines: how a `StoreOp` becomes a string key
//! and bytes, and how stored records become a `Snapshot` again. The JS storage engine
//! (`storage_js.rs`, used by the edge node's Durable Object storage) goes through this one
//! module, so its encoding can be swapped (e.g. for a checksummed codec) in one place.
//!
//! Records are postcard-encoded exactly as the IndexedDB engine encodes them:
//!
//! | key | record |
//! | --- | --- |
//! | `o/` + hex of the key | `(key, Siblings)` |
//! | `h/` + hex of postcard `(intended, key)` | `(intended, key, Siblings)` |
//! | `meta` | `NodeMeta` (the dot reservation) |
//! | `view` | `MembershipSnapshot` (members and ring) |

use super::storage::StorageError;
use crate::core::dvv::Siblings;
use crate::core::{Bytes, MembershipSnapshot, NodeId, NodeMeta, Snapshot, StoreOp};

const OBJECT: &str = "o/";
const HINT: &str = "h/";
const META: &str = "meta";
const VIEW: &str = "view";

/// One op as a key and the record to store there (`None`: delete the key).
pub fn encode_op(op: &StoreOp) -> Result<(String, Option<Vec<u8>>), StorageError> {
    Ok(match op {
        StoreOp::PutObject { key, versions } => (object_key(key), Some(encode(&(key, versions))?)),
        StoreOp::DeleteObject { key } => (object_key(key), None),
        StoreOp::PutHint {
            intended,
            key,
            versions,
        } => (
            hint_key(intended, key)?,
            Some(encode(&(intended, key, versions))?),
        ),
        StoreOp::DeleteHint { intended, key } => (hint_key(intended, key)?, None),
        StoreOp::PutMeta(m) => (META.to_string(), Some(encode(m)?)),
        StoreOp::PutMembership(m) => (VIEW.to_string(), Some(encode(m)?)),
    })
}

/// Add the record stored under `key` to `snap`. False when it does not decode (or the key is
/// not one of ours): the caller counts it as corrupt and skips it.
pub fn decode_into(snap: &mut Snapshot, key: &str, record: &[u8]) -> bool {
    if key.starts_with(OBJECT) {
        match postcard::from_bytes::<(Bytes, Siblings)>(record) {
            Ok((k, v)) => {
                snap.objects.insert(k, v);
                true
            }
            Err(_) => false,
        }
    } else if key.starts_with(HINT) {
        match postcard::from_bytes::<(NodeId, Bytes, Siblings)>(record) {
            Ok((n, k, v)) => {
                snap.hints.insert((n, k), v);
                true
            }
            Err(_) => false,
        }
    } else if key == META {
        postcard::from_bytes::<NodeMeta>(record)
            .map(|m| snap.meta = Some(m))
            .is_ok()
    } else if key == VIEW {
        postcard::from_bytes::<MembershipSnapshot>(record)
            .map(|m| snap.membership = Some(m))
            .is_ok()
    } else {
        false
    }
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StorageError> {
    postcard::to_allocvec(v).map_err(|e| StorageError::new(format!("cannot encode a record: {e}")))
}

fn object_key(key: &Bytes) -> String {
    format!("{OBJECT}{}", hex(key.as_slice()))
}

fn hint_key(intended: &NodeId, key: &Bytes) -> Result<String, StorageError> {
    postcard::to_allocvec(&(intended, key))
        .map(|b| format!("{HINT}{}", hex(&b)))
        .map_err(|e| StorageError::new(format!("cannot encode a hint key: {e}")))
}

fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}
