//! Errors as JavaScript sees them: `Error` objects named `RingletError` with a stable `code`
//! (the core's `Error::code()`, plus the host's own below) and, where the core says more, the
//! numbers (`needed`/`got` of a failed quorum, `size`/`max` of a value too large, `count`/`max`
//! of too many siblings).

use crate::core::Error;
use js_sys::Reflect;
use std::fmt::Display;
use wasm_bindgen::JsValue;

/// A request argument or an option of `Replica.open` is out of range or of the wrong type.
pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
/// The replica has been closed.
pub const CLOSED: &str = "CLOSED";
/// `Replica.open` gave up: the relay or the cluster did not answer in time.
pub const TIMEOUT: &str = "TIMEOUT";
/// The relay could not be reached, or refused this node.
pub const RELAY_FAILED: &str = "RELAY_FAILED";
/// Another live node of the cluster has this node id.
pub const NODE_ID_IN_USE: &str = "NODE_ID_IN_USE";
/// The relay requires a join token and the node's was missing or not valid (close 4001).
pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
/// The relay does not accept pages of this origin (close 4003).
pub const ORIGIN_NOT_ALLOWED: &str = "ORIGIN_NOT_ALLOWED";
/// The cluster has the most connections the relay allows (close 4029).
pub const CLUSTER_FULL: &str = "CLUSTER_FULL";
/// The relay closed the connection: the node kept sending above its message rate (4008).
pub const RATE_LIMITED: &str = "RATE_LIMITED";
/// The storage could not be opened or read (no IndexedDB here, a blocked upgrade, ...).
pub const STORAGE_FAILED: &str = "STORAGE_FAILED";
/// The storage refused a write because the origin's quota is full.
pub const QUOTA_EXCEEDED: &str = "QUOTA_EXCEEDED";
/// The platform has no cryptographic random source (`crypto.getRandomValues`), which node
/// ids and dot epochs need (`ids.rs`).
pub const NO_RANDOMNESS: &str = "NO_RANDOMNESS";
/// `get(key, { local: true })`: this node holds nothing of the key (as replica, hint or
/// watcher).
pub const NOT_HELD: &str = "NOT_HELD";
/// `Replica.open`: the cluster's members resolve keys with another resolver table.
pub const RESOLVERS_DIFFER: &str = "RESOLVERS_DIFFER";

/// A `RingletError` with `code` and `message`.
pub fn js_error(code: &str, message: impl Display) -> JsValue {
    let e = js_sys::Error::new(&message.to_string());
    e.set_name("RingletError");
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

pub fn invalid(message: impl Display) -> JsValue {
    js_error(INVALID_ARGUMENT, message)
}

pub fn closed() -> JsValue {
    js_error(CLOSED, "the replica is closed")
}

/// The core's typed error, with its numbers as properties.
pub fn from_core(e: &Error) -> JsValue {
    let v = js_error(e.code(), e);
    let set = |k: &str, n: f64| {
        let _ = Reflect::set(&v, &k.into(), &n.into());
    };
    match e {
        Error::QuorumFailed { needed, got } => {
            set("needed", *needed as f64);
            set("got", *got as f64);
        }
        Error::ValueTooLarge { size, max } => {
            set("size", *size as f64);
            set("max", *max as f64);
        }
        Error::Timeout {
            after_ms,
            ambiguous,
        } => {
            set("afterMs", *after_ms as f64);
            let _ = Reflect::set(&v, &"ambiguous".into(), &(*ambiguous).into());
        }
        Error::TooManySiblings { count, max } => {
            set("count", *count as f64);
            set("max", *max as f64);
        }
        _ => {}
    }
    v
}
