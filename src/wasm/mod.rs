//! The browser and Node.js host: the core's run loop bound to JavaScript (§4 of the paper
//! run in a browser tab). Compiled only for `wasm32`; `scripts/build-wasm.sh` turns it into
//! the `pkg/` the npm package loads.
//!
//! One file per concept, like the core:
//!
//! - `replica.rs`: the exported `Replica` class (split by concern under `replica/`: `args.rs`
//!   argument parsing and replies, `run.rs` the run loop, `links.rs` the relay and data
//!   channels, `events.rs` events, `stats.rs` members, ring and stats); the run loop: relay frames in as
//!   `Input::Message`, `Output::Send` out as relay frames, persist batches to storage, replies
//!   to JS promises, events to a JS listener, `next_deadline()` through a timer.
//! - `transport.rs`: the WebSocket to the relay (`src/relay` documents the protocol).
//! - `auth.rs`: the join token of a relay with a secret, and the relay's refusals.
//! - `rtc/`: WebRTC data channels to other tabs, signalled through the relay, the relay
//!   being the fallback (`rtc/peer.rs` wraps one `RTCPeerConnection`; the decisions are the
//!   pure `crate::link` modules); `traffic.rs` counts messages per path and peer.
//! - `storage.rs`: the storage port as the host sees it, over `storage_memory.rs` (the core's
//!   `MemoryStore`) and `storage_idb.rs` (IndexedDB, one transaction per persist batch).
//! - `storage_js.rs`: a storage engine written in JS (`load()`, `apply(ops)`), over the
//!   record codec of `records.rs`; the edge node's Durable Object storage.
//! - `transport_js.rs`: an in-process link to a relay written in JS (the edge relay's own
//!   node speaks the relay protocol without a socket).
//! - `values.rs`: JS values, keys and contexts to and from bytes.
//! - `ids.rs`: random node ids (128 bits from the platform's cryptographic source).
//! - `errors.rs`: JS `Error`s with a stable `code`.

pub mod auth;
pub mod errors;
pub mod ids;
pub mod records;
pub mod replica;
pub mod rtc;
#[cfg(feature = "teaching")]
pub mod sim;
pub mod storage;
pub mod storage_idb;
pub mod storage_js;
pub mod storage_memory;
pub mod traffic;
pub mod transport;
pub mod transport_js;
pub mod values;

/// Milliseconds since the Unix epoch: the host's clock (the core clamps it to never go back).
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// `n` random bytes from the platform (crypto.getRandomValues in the browser and Node.js).
/// Only for seeds of timing jitter (the WebRTC retry schedule, the teaching page); node ids
/// and the node's own seed (its dot epoch) use `ids::secure_random`, which has no fallback.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        // No crypto source at all: fall back to the clock and Math.random, which is enough
        // for a jitter seed (not for ids or epochs; see `ids.rs`).
        let mix = (js_sys::Math::random() * 2f64.powi(52)) as u64 ^ now_ms().rotate_left(17);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (mix >> ((i % 8) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    b
}
