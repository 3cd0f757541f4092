//! Node ids of the browser and Node.js hosts (issue 15 defect 6).
//!
//! A node without a `name` gets a random id: `tab-` (IndexedDB, kept across reloads) or
//! `node-` (memory storage, new per open) and 32 lowercase hex digits, 128 random bits from
//! the platform's cryptographic source (`crypto.getRandomValues`). With 32 bits two ids of
//! one cluster collided with probability ~1% after ~9,300 ids, and a colliding node
//! inherited the other's member entry and reused its dots; 128 bits make that negligible
//! for any number of tabs. There is no fallback to `Math.random` or the clock: without a
//! cryptographic source `Replica.open` rejects with `NO_RANDOMNESS`. Ids are at most 37
//! characters, within the relay's limit (`relay::frame::MAX_NAME_LEN`, 64) and the join
//! token's. Pages may show the short form: the prefix and the first 8 digits.

use super::errors::{js_error, NO_RANDOMNESS};
use wasm_bindgen::JsValue;

/// Random bytes in an id.
pub const ID_RANDOM_BYTES: usize = 16;

/// `N` bytes from the platform's cryptographic source, or `NO_RANDOMNESS`.
pub fn secure_random<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        js_error(
            NO_RANDOMNESS,
            format!("no cryptographic random source (crypto.getRandomValues): {e}"),
        )
    })?;
    Ok(b)
}

/// `<prefix>-` and the bytes as lowercase hex.
pub fn format_id(prefix: &str, bytes: &[u8]) -> String {
    let mut out = String::with_capacity(prefix.len() + 1 + 2 * bytes.len());
    out.push_str(prefix);
    out.push('-');
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A fresh id: `<prefix>-` and 32 random lowercase hex digits.
pub fn random_id(prefix: &str) -> Result<String, JsValue> {
    Ok(format_id(prefix, &secure_random::<ID_RANDOM_BYTES>()?))
}
