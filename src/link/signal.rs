//! Signalling: what two nodes exchange through the relay to open a WebRTC data channel.
//! The relay forwards these as SIGNAL frames (`[0x03][id_len][id][payload]`, see
//! `src/relay/mod.rs`), unicast like data frames but counted apart in its `/stats`; the
//! payload is one [`Signal`] encoded by [`encode`].
//!
//! Every signal names the `session` it belongs to: a random number the offering side chose
//! for one connection attempt. Signals of an attempt that was replaced are ignored.

use std::fmt;

/// The first byte of an encoded signal: the encoding's version.
pub const VERSION: u8 = 1;
/// An encoded signal larger than this is refused (an SDP is a few KB).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// Why a node will not (or no longer) keep a data channel with the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByeReason {
    /// This node has no WebRTC (Node.js) or it is disabled: use the relay.
    Unsupported,
    /// This node has its maximum of data channels.
    Full,
    /// The attempt or the channel ended (closed, failed, timed out).
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
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

const OFFER: u8 = 1;
const ANSWER: u8 = 2;
const CANDIDATE: u8 = 3;
const BYE: u8 = 4;

/// `[VERSION][tag][session: u64 LE]`, then: offer and answer, the SDP (UTF-8, to the end);
/// candidate, `[len: u16 LE][candidate]`, `[0 | 1 len: u8 mid]`, `[0 | 1 line: u16 LE]`;
/// bye, `[reason: 0 unsupported | 1 full | 2 closed]`. Hand-written rather than derived:
/// it keeps the wasm small.
pub fn encode(s: &Signal) -> Vec<u8> {
    let mut out = vec![VERSION];
    let (tag, session) = match s {
        Signal::Offer { session, .. } => (OFFER, session),
        Signal::Answer { session, .. } => (ANSWER, session),
        Signal::Candidate { session, .. } => (CANDIDATE, session),
        Signal::Bye { session, .. } => (BYE, session),
    };
    out.push(tag);
    out.extend_from_slice(&session.to_le_bytes());
    match s {
        Signal::Offer { sdp, .. } | Signal::Answer { sdp, .. } => {
            out.extend_from_slice(sdp.as_bytes())
        }
        Signal::Candidate {
            candidate,
            mid,
            line,
            ..
        } => {
            let c = &candidate.as_bytes()[..candidate.len().min(u16::MAX as usize)];
            out.extend_from_slice(&(c.len() as u16).to_le_bytes());
            out.extend_from_slice(c);
            match mid {
                Some(m) => {
                    let m = &m.as_bytes()[..m.len().min(255)];
                    out.push(1);
                    out.push(m.len() as u8);
                    out.extend_from_slice(m);
                }
                None => out.push(0),
            }
            match line {
                Some(l) => {
                    out.push(1);
                    out.extend_from_slice(&l.to_le_bytes());
                }
                None => out.push(0),
            }
        }
        Signal::Bye { reason, .. } => out.push(match reason {
            ByeReason::Unsupported => 0,
            ByeReason::Full => 1,
            ByeReason::Closed => 2,
        }),
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SignalError> {
        if self.0.len() < n {
            return Err(SignalError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, SignalError> {
        Ok(self.take(1)?[0])
    }

    fn text(&mut self, n: usize) -> Result<String, SignalError> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| SignalError::Malformed)
    }
}

pub fn decode(b: &[u8]) -> Result<Signal, SignalError> {
    if b.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge(b.len()));
    }
    let (&version, rest) = b.split_first().ok_or(SignalError::Empty)?;
    if version != VERSION {
        return Err(SignalError::UnknownVersion(version));
    }
    let mut r = Reader(rest);
    let tag = r.byte()?;
    let mut session = [0u8; 8];
    session.copy_from_slice(r.take(8)?);
    let session = u64::from_le_bytes(session);
    let signal = match tag {
        OFFER | ANSWER => {
            let sdp = r.text(r.0.len())?;
            if tag == OFFER {
                Signal::Offer { session, sdp }
            } else {
                Signal::Answer { session, sdp }
            }
        }
        CANDIDATE => {
            let len = u16::from_le_bytes([r.byte()?, r.byte()?]) as usize;
            let candidate = r.text(len)?;
            let mid = match r.byte()? {
                0 => None,
                1 => {
                    let n = r.byte()? as usize;
                    Some(r.text(n)?)
                }
                _ => return Err(SignalError::Malformed),
            };
            let line = match r.byte()? {
                0 => None,
                1 => Some(u16::from_le_bytes([r.byte()?, r.byte()?])),
                _ => return Err(SignalError::Malformed),
            };
            Signal::Candidate {
                session,
                candidate,
                mid,
                line,
            }
        }
        BYE => {
            let reason = match r.byte()? {
                0 => ByeReason::Unsupported,
                1 => ByeReason::Full,
                2 => ByeReason::Closed,
                _ => return Err(SignalError::Malformed),
            };
            Signal::Bye { session, reason }
        }
        _ => return Err(SignalError::Malformed),
    };
    if !r.0.is_empty() {
        return Err(SignalError::Malformed);
    }
    Ok(signal)
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
        let no_mid = Signal::Candidate {
            session: 3,
            candidate: "c".into(),
            mid: None,
            line: None,
        };
        assert_eq!(decode(&encode(&no_mid)), Ok(no_mid));
    }

    #[test]
    fn bad_payloads_are_typed_errors() {
        assert_eq!(decode(&[]), Err(SignalError::Empty));
        assert_eq!(decode(&[9, 0]), Err(SignalError::UnknownVersion(9)));
        assert_eq!(decode(&[VERSION, 200]), Err(SignalError::Malformed));
        assert_eq!(
            decode(&[VERSION, BYE, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(SignalError::Malformed)
        );
        assert_eq!(
            decode(&[VERSION, BYE, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
            Err(SignalError::Malformed)
        );
        let mut trailing = encode(&Signal::Bye {
            session: 1,
            reason: ByeReason::Closed,
        });
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(SignalError::Malformed));
        let mut bad_utf8 = encode(&Signal::Offer {
            session: 1,
            sdp: String::new(),
        });
        bad_utf8.push(0xff);
        assert_eq!(decode(&bad_utf8), Err(SignalError::Malformed));
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

        #[test]
        fn candidates_round_trip(session in any::<u64>(), c in ".{0,80}", mid in proptest::option::of("[a-z0-9]{0,8}"), line in proptest::option::of(any::<u16>())) {
            let s = Signal::Candidate { session, candidate: c, mid, line };
            prop_assert_eq!(decode(&encode(&s)), Ok(s));
        }
    }
}
