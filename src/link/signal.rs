//! Signalling: what two nodes exchange through the relay to open a WebRTC data channel.
//! The relay forwards these as SIGNAL frames (`[0x03][id_len][id][payload]`, see
//! `src/relay/mod.rs`), unicast like data frames but counted apart in its `/stats`; the
//! payload is one [`Signal`] encoded by [`encode`].
//!
//! Every signal names the `session` it belongs to: a random number the offering side chose
//! for one connection attempt. Signals of an attempt that was replaced are ignored.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The first byte of an encoded signal: the encoding's version.
pub const VERSION: u8 = 1;
/// An encoded signal larger than this is refused (an SDP is a few KB).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// Why a node will not (or no longer) keep a data channel with the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ByeReason {
    /// This node has no WebRTC (Node.js) or it is disabled: use the relay.
    Unsupported,
    /// This node has its maximum of data channels.
    Full,
    /// The attempt or the channel ended (closed, failed, timed out).
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// An SDP offer starting attempt `session`.
    Offer { session: u64, sdp: String },
    /// The SDP answer to the offer of `session`.
    Answer { session: u64, sdp: String },
    /// A trickled ICE candidate (`candidate`, `sdpMid`, `sdpMLineIndex`).
    Candidate {
        session: u64,
        candidate: String,
        mid: Option<String>,
        line: Option<u16>,
    },
    /// The sender gives up attempt `session` or closes its channel.
    Bye { session: u64, reason: ByeReason },
}

impl Signal {
    pub fn session(&self) -> u64 {
        match self {
            Signal::Offer { session, .. }
            | Signal::Answer { session, .. }
            | Signal::Candidate { session, .. }
            | Signal::Bye { session, .. } => *session,
        }
    }
}

/// Why a signal payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalError {
    Empty,
    UnknownVersion(u8),
    TooLarge(usize),
    Malformed,
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalError::Empty => f.write_str("empty signal"),
            SignalError::UnknownVersion(v) => write!(f, "unknown signal version {v}"),
            SignalError::TooLarge(n) => write!(f, "signal of {n} bytes is too large"),
            SignalError::Malformed => f.write_str("signal does not decode"),
        }
    }
}

pub fn encode(s: &Signal) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Encoding plain strings and integers into a Vec cannot fail.
    out.extend(postcard::to_allocvec(s).unwrap_or_default());
    out
}

pub fn decode(b: &[u8]) -> Result<Signal, SignalError> {
    if b.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge(b.len()));
    }
    match b.split_first() {
        None => Err(SignalError::Empty),
        Some((&VERSION, rest)) => match postcard::from_bytes::<Signal>(rest) {
            Ok(s) => Ok(s),
            Err(_) => Err(SignalError::Malformed),
        },
        Some((&v, _)) => Err(SignalError::UnknownVersion(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signals_round_trip() {
        let all = [
            Signal::Offer {
                session: 7,
                sdp: "v=0\r\n".into(),
            },
            Signal::Answer {
                session: u64::MAX,
                sdp: String::new(),
            },
            Signal::Candidate {
                session: 1,
                candidate: "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host".into(),
                mid: Some("0".into()),
                line: Some(0),
            },
            Signal::Bye {
                session: 2,
                reason: ByeReason::Full,
            },
        ];
        for s in all {
            assert_eq!(decode(&encode(&s)), Ok(s.clone()));
        }
    }

    #[test]
    fn bad_payloads_are_typed_errors() {
        assert_eq!(decode(&[]), Err(SignalError::Empty));
        assert_eq!(decode(&[9, 0]), Err(SignalError::UnknownVersion(9)));
        assert_eq!(decode(&[VERSION, 200]), Err(SignalError::Malformed));
        assert_eq!(
            decode(&vec![VERSION; MAX_SIGNAL_BYTES + 1]),
            Err(SignalError::TooLarge(MAX_SIGNAL_BYTES + 1))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&b);
        }
    }
}
