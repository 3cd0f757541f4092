//! Batches on the wire (issue 14 item 7): the messages a node sends one peer within one
//! JavaScript task travel as one frame, a *bundle*, instead of one frame each. A put's
//! `Replicate`s, a burst's acks, a catch-up's repairs: one relay frame (one WebSocket
//! header, one destination header, one routing step at the relay, one `onmessage` at the
//! peer) per peer per task, not per message.
//!
//! ```text
//! bundle  = magic (2 bytes: 0xFF 0xB1)
//!           count (varint, 2..=MAX_MESSAGES)
//!           count × ( length (varint, 1..) , message (length bytes) )
//! ```
//!
//! A message alone is sent as it is (no envelope). No message starts with 0xFF: a message's
//! first byte is its variant index as a postcard varint, below 128, so the magic cannot be
//! mistaken for one. Decoding never panics: a bundle that is truncated, holds a count
//! out of range, an empty message or bytes past its last message is an error.

use core::fmt;

/// The first two bytes of every bundle.
pub const MAGIC: [u8; 2] = [0xFF, 0xB1];
/// Messages in one bundle at most (a sender splits larger groups).
pub const MAX_MESSAGES: usize = 4096;

/// Why bytes that start as a bundle are not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleError(pub &'static str);

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed bundle: {}", self.0)
    }
}

impl std::error::Error for BundleError {}

/// One bundle of `messages` (2 or more; one message is sent as it is).
pub fn encode<M: AsRef<[u8]>>(messages: &[M]) -> Vec<u8> {
    let size: usize = messages.iter().map(|m| m.as_ref().len() + 5).sum();
    let mut out = Vec::with_capacity(MAGIC.len() + 5 + size);
    out.extend_from_slice(&MAGIC);
    put_varint(&mut out, messages.len() as u64);
    for m in messages {
        put_varint(&mut out, m.as_ref().len() as u64);
        out.extend_from_slice(m.as_ref());
    }
    out
}

/// True when `frame` is a bundle (it may still be malformed).
pub fn is_bundle(frame: &[u8]) -> bool {
    frame.starts_with(&MAGIC)
}

/// The messages of a bundle, in order.
pub fn decode(frame: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut rest = frame
        .strip_prefix(&MAGIC[..])
        .ok_or(BundleError("no bundle magic"))?;
    let count = take_varint(&mut rest)?;
    if !(2..=MAX_MESSAGES as u64).contains(&count) {
        return Err(BundleError("message count out of range"));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = take_varint(&mut rest)?;
        if len == 0 {
            return Err(BundleError("an empty message"));
        }
        if len > rest.len() as u64 {
            return Err(BundleError("a message runs past the end"));
        }
        let (m, tail) = rest.split_at(len as usize);
        out.push(m);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(BundleError("bytes after the last message"));
    }
    Ok(out)
}

/// Split `messages` into groups of at most `MAX_MESSAGES` messages and about `max_bytes`
/// bytes (a message larger than that goes in a group of its own).
pub fn groups<M: AsRef<[u8]>>(messages: &[M], max_bytes: usize) -> Vec<&[M]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let len = m.as_ref().len();
        let full = i - start == MAX_MESSAGES || (i > start && bytes + len > max_bytes);
        if full {
            out.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += len;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(rest: &mut &[u8]) -> Result<u64, BundleError> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let (&b, tail) = rest
            .split_first()
            .ok_or(BundleError("a length runs past the end"))?;
        *rest = tail;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(BundleError("a varint longer than 10 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Message;
    use proptest::prelude::*;

    #[test]
    fn a_bundle_round_trips_in_order() {
        let msgs: Vec<Vec<u8>> = vec![vec![1, 2, 3], vec![4], vec![5; 300]];
        let b = encode(&msgs);
        assert!(is_bundle(&b));
        let got: Vec<Vec<u8>> = decode(&b)
            .unwrap()
            .into_iter()
            .map(|m| m.to_vec())
            .collect();
        assert_eq!(got, msgs);
    }

    #[test]
    fn no_message_is_taken_for_a_bundle() {
        let ping = Message::Ping { nonce: u64::MAX }.encode();
        assert!(!is_bundle(&ping));
        assert!(Message::decode(&encode(&[ping.clone(), ping])).is_err());
    }

    #[test]
    fn malformed_bundles_are_errors() {
        let good = encode(&[vec![1u8], vec![2u8]]);
        for bad in [
            vec![0xFF],
            vec![0xFF, 0xB1],
            vec![0xFF, 0xB1, 1, 1, 9],
            vec![0xFF, 0xB1, 2, 0, 1, 9],
            vec![0xFF, 0xB1, 2, 1, 9, 5, 1],
            [good.clone(), vec![0]].concat(),
            good[..good.len() - 1].to_vec(),
            vec![
                0xFF, 0xB1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1,
            ],
        ] {
            assert!(decode(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn groups_respect_both_limits() {
        let msgs: Vec<Vec<u8>> = (0..10).map(|i| vec![i as u8; 100]).collect();
        let g = groups(&msgs, 250);
        assert_eq!(
            g.iter().map(|g| g.len()).collect::<Vec<_>>(),
            vec![2, 2, 2, 2, 2]
        );
        let big = vec![vec![0u8; 1000], vec![1u8; 10]];
        assert_eq!(groups(&big, 250).len(), 2);
        let many: Vec<Vec<u8>> = (0..MAX_MESSAGES + 1).map(|_| vec![1u8]).collect();
        assert_eq!(groups(&many, usize::MAX).len(), 2);
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&[&MAGIC[..], &b].concat());
        }

        #[test]
        fn any_messages_round_trip(msgs in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 2..20)) {
            let b = encode(&msgs);
            let got: Vec<Vec<u8>> = decode(&b).unwrap().into_iter().map(|m| m.to_vec()).collect();
            prop_assert_eq!(got, msgs);
        }
    }
}
