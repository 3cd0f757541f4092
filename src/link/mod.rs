//! The link layer between two nodes, as pure code (no IO, no clock, no randomness): what
//! the browser host (`src/wasm/rtc/`) needs to carry node-to-node messages over WebRTC data
//! channels, and that can be tested natively.
//!
//! - `bundle.rs`: the messages for one peer within one task, sent as one frame.
//! - `chunk.rs`: messages split into data-channel-sized chunks and reassembled.
//! - `signal.rs`: the signalling messages (offer, answer, ICE candidates, bye) the relay
//!   forwards between two nodes, and their encoding.
//! - `policy.rs`: which peers get a data channel (lazily, up to a maximum), glare, backoff
//!   after failures, connection timeouts and stall detection.
//! - `peer_map.rs`: per-peer state behind one shared index type.
//! - `inflight.rs`: the messages handed to a channel and possibly not sent yet, to be
//!   re-sent through the relay when the channel closes.

pub mod bundle;
pub mod chunk;
pub mod inflight;
pub mod peer_map;
pub mod policy;
pub mod signal;
