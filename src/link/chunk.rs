//! Messages larger than a data channel's safe message size are split into chunks and
//! reassembled on the other side. A data channel here is reliable and ordered, so the
//! chunks of one message arrive together and in order; the reassembler still checks every
//! header and refuses, with a typed error, anything a well-behaved sender cannot produce.
//!
//! Chunk layout (`[tag][...]`):
//!
//! | tag | meaning | rest |
//! | --- | --- | --- |
//! | `0x00` | a whole message | the message |
//! | `0x01` | first chunk of several | total length (u32, little endian), then data |
//! | `0x02` | a middle chunk | data |
//! | `0x03` | the last chunk | data |

use std::fmt;

/// The largest data channel message this layer sends: 16 KiB, which every browser's SCTP
/// stack delivers without fragmentation trouble.
pub const SAFE_CHUNK_BYTES: usize = 16 * 1024;

const WHOLE: u8 = 0x00;
const FIRST: u8 = 0x01;
const MIDDLE: u8 = 0x02;
const LAST: u8 = 0x03;
const FIRST_HEADER: usize = 5;

/// Split `msg` into chunks of at most `chunk_bytes` bytes each (headers included).
/// `chunk_bytes` below 16 is raised to 16.
pub fn split(msg: &[u8], chunk_bytes: usize) -> Vec<Vec<u8>> {
    let chunk_bytes = chunk_bytes.max(16);
    if msg.len() < chunk_bytes {
        let mut c = Vec::with_capacity(msg.len() + 1);
        c.push(WHOLE);
        c.extend_from_slice(msg);
        return vec![c];
    }
    let mut out = Vec::with_capacity(msg.len() / (chunk_bytes - 1) + 2);
    let first_len = chunk_bytes - FIRST_HEADER;
    let mut c = Vec::with_capacity(chunk_bytes);
    c.push(FIRST);
    c.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    c.extend_from_slice(&msg[..first_len]);
    out.push(c);
    let mut rest = &msg[first_len..];
    loop {
        let take = rest.len().min(chunk_bytes - 1);
        let last = take == rest.len();
        let mut c = Vec::with_capacity(take + 1);
        c.push(if last { LAST } else { MIDDLE });
        c.extend_from_slice(&rest[..take]);
        out.push(c);
        rest = &rest[take..];
        if last {
            return out;
        }
    }
}

/// Why a chunk was refused. The message being assembled, if any, is dropped with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkError {
    Empty,
    UnknownTag(u8),
    /// A first chunk without its length.
    Truncated,
    /// The announced length is above the reassembler's maximum.
    TooLarge {
        size: usize,
        max: usize,
    },
    /// A middle or last chunk with no message being assembled.
    NoFirstChunk,
    /// A first or whole chunk while another message was still being assembled.
    Interrupted,
    /// The chunks carried more, or (at the last one) fewer, bytes than announced.
    LengthMismatch {
        announced: usize,
        got: usize,
    },
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::Empty => f.write_str("empty chunk"),
            ChunkError::UnknownTag(t) => write!(f, "unknown chunk tag 0x{t:02x}"),
            ChunkError::Truncated => f.write_str("first chunk cut short"),
            ChunkError::TooLarge { size, max } => {
                write!(f, "message of {size} bytes exceeds the maximum of {max}")
            }
            ChunkError::NoFirstChunk => f.write_str("a continuation chunk without a first chunk"),
            ChunkError::Interrupted => f.write_str("a new message before the last one ended"),
            ChunkError::LengthMismatch { announced, got } => {
                write!(f, "announced {announced} bytes, got {got}")
            }
        }
    }
}

/// Reassembles the chunks of one channel, one message at a time.
#[derive(Debug)]
pub struct Reassembler {
    max_message: usize,
    partial: Option<(usize, Vec<u8>)>,
}

impl Reassembler {
    /// Messages above `max_message` bytes are refused (before any of them is buffered).
    pub fn new(max_message: usize) -> Reassembler {
        Reassembler {
            max_message,
            partial: None,
        }
    }

    /// Bytes buffered for the message being assembled.
    pub fn buffered(&self) -> usize {
        self.partial.as_ref().map_or(0, |(_, b)| b.len())
    }

    /// Feed one chunk: `Ok(Some(message))` when it completes one.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, ChunkError> {
        let result = self.accept(chunk);
        if result.is_err() {
            self.partial = None;
        }
        result
    }

    fn accept(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, ChunkError> {
        let (&tag, data) = chunk.split_first().ok_or(ChunkError::Empty)?;
        match tag {
            WHOLE | FIRST if self.partial.is_some() => Err(ChunkError::Interrupted),
            WHOLE => {
                if data.len() > self.max_message {
                    return Err(ChunkError::TooLarge {
                        size: data.len(),
                        max: self.max_message,
                    });
                }
                Ok(Some(data.to_vec()))
            }
            FIRST => {
                let len: [u8; 4] = data
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(ChunkError::Truncated)?;
                let total = u32::from_le_bytes(len) as usize;
                if total > self.max_message {
                    return Err(ChunkError::TooLarge {
                        size: total,
                        max: self.max_message,
                    });
                }
                let body = &data[4..];
                if body.len() >= total {
                    return Err(ChunkError::LengthMismatch {
                        announced: total,
                        got: body.len(),
                    });
                }
                let mut buf = Vec::with_capacity(total);
                buf.extend_from_slice(body);
                self.partial = Some((total, buf));
                Ok(None)
            }
            MIDDLE | LAST => {
                let (total, buf) = self.partial.as_mut().ok_or(ChunkError::NoFirstChunk)?;
                let got = buf.len() + data.len();
                let too_long = got > *total || (tag == MIDDLE && got == *total);
                if too_long || (tag == LAST && got != *total) {
                    return Err(ChunkError::LengthMismatch {
                        announced: *total,
                        got,
                    });
                }
                buf.extend_from_slice(data);
                if tag == LAST {
                    Ok(self.partial.take().map(|(_, b)| b))
                } else {
                    Ok(None)
                }
            }
            other => Err(ChunkError::UnknownTag(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reassemble(chunks: &[Vec<u8>], max: usize) -> Result<Vec<Vec<u8>>, ChunkError> {
        let mut r = Reassembler::new(max);
        let mut out = Vec::new();
        for c in chunks {
            if let Some(m) = r.push(c)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    #[test]
    fn small_messages_are_one_chunk() {
        assert_eq!(split(b"abc", 16), vec![vec![0, b'a', b'b', b'c']]);
        assert_eq!(split(b"", 16), vec![vec![0]]);
        assert_eq!(split(&[7; 15], 16).len(), 1);
    }

    #[test]
    fn every_chunk_fits_and_large_messages_round_trip() {
        let msg: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let chunks = split(&msg, SAFE_CHUNK_BYTES);
        assert!(chunks.len() > 18);
        assert!(chunks.iter().all(|c| c.len() <= SAFE_CHUNK_BYTES));
        assert_eq!(chunks[0][0], FIRST);
        assert_eq!(chunks.last().unwrap()[0], LAST);
        assert_eq!(reassemble(&chunks, 1 << 20).unwrap(), vec![msg]);
    }

    #[test]
    fn bad_chunks_are_typed_errors_and_reset() {
        let mut r = Reassembler::new(100);
        assert_eq!(r.push(&[]), Err(ChunkError::Empty));
        assert_eq!(r.push(&[9, 1]), Err(ChunkError::UnknownTag(9)));
        assert_eq!(r.push(&[MIDDLE, 1]), Err(ChunkError::NoFirstChunk));
        assert_eq!(r.push(&[LAST, 1]), Err(ChunkError::NoFirstChunk));
        assert_eq!(r.push(&[FIRST, 1, 0]), Err(ChunkError::Truncated));
        assert_eq!(
            r.push(&[FIRST, 200, 0, 0, 0, 1]),
            Err(ChunkError::TooLarge {
                size: 200,
                max: 100
            })
        );
        // A first chunk, then a new message before its end: both dropped.
        assert_eq!(r.push(&[FIRST, 4, 0, 0, 0, 1]), Ok(None));
        assert_eq!(r.buffered(), 1);
        assert_eq!(r.push(&[WHOLE, 5]), Err(ChunkError::Interrupted));
        assert_eq!(r.buffered(), 0);
        // Longer or shorter than announced.
        assert_eq!(r.push(&[FIRST, 3, 0, 0, 0, 1]), Ok(None));
        assert_eq!(
            r.push(&[MIDDLE, 2, 3]),
            Err(ChunkError::LengthMismatch {
                announced: 3,
                got: 3
            })
        );
        assert_eq!(r.push(&[FIRST, 3, 0, 0, 0, 1]), Ok(None));
        assert_eq!(
            r.push(&[LAST, 2]),
            Err(ChunkError::LengthMismatch {
                announced: 3,
                got: 2
            })
        );
        // The reassembler works again afterwards.
        assert_eq!(r.push(&[FIRST, 3, 0, 0, 0, 1]), Ok(None));
        assert_eq!(r.push(&[MIDDLE, 2]), Ok(None));
        assert_eq!(r.push(&[LAST, 3]), Ok(Some(vec![1, 2, 3])));
        assert_eq!(
            r.push(&[WHOLE; 102]),
            Err(ChunkError::TooLarge {
                size: 101,
                max: 100
            })
        );
    }

    proptest! {
        #[test]
        fn any_messages_round_trip(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..6),
            chunk in 16usize..200,
        ) {
            let chunks: Vec<Vec<u8>> = msgs.iter().flat_map(|m| split(m, chunk)).collect();
            prop_assert!(chunks.iter().all(|c| c.len() <= chunk));
            prop_assert_eq!(reassemble(&chunks, 600).unwrap(), msgs);
        }

        #[test]
        fn arbitrary_chunks_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20)) {
            let mut r = Reassembler::new(64);
            for c in &chunks {
                if let Ok(Some(m)) = r.push(c) {
                    prop_assert!(m.len() <= 64);
                }
                prop_assert!(r.buffered() <= 64);
            }
        }
    }
}
