//! The opaque causal *context* of the paper's interface (§4.1, §4.4): what a client gets from
//! a get and hands back to the next put or delete, so that the write supersedes exactly the
//! versions the client had seen.
//!
//! In memory a context is a [`VersionVector`] (the join of the clocks of the siblings the read
//! returned). On the wire it is a compact, canonical byte string:
//!
//! ```text
//! context  = format-version (1 byte, = 1)
//!            count          (LEB128 varint; at most what the rest of the input can hold)
//!            entry*count    (sorted by node id, strictly increasing)
//! entry    = name-length    (LEB128 varint, <= 255)
//!            name           (UTF-8)
//!            counter        (LEB128 varint, >= 1)
//! ```
//!
//! A context read from a counter key also carries the counter state the read returned
//! (format version 2), so that a delete with it resets exactly what the client saw, even
//! when the coordinating replica has not received all of it yet (issue 15 defect 3):
//!
//! ```text
//! context2 = format-version (1 byte, = 2)
//!            count entry*count            (as above)
//!            state-length (LEB128 varint, >= 1)
//!            state        (a counter state, resolve.rs's canonical 'c'/'r' encoding)
//! ```
//!
//! `[(Sx,2),(Sy,1),(Sz,1)]` takes 14 bytes. Decoding never panics and accepts only canonical
//! input (minimal varints, sorted distinct names, no zero counters, nothing trailing), so a
//! context has exactly one encoding: `from_bytes(b)?.to_bytes() == b` for every accepted `b`.

use super::dvv::VersionVector;
use super::id::NodeId;
use super::resolve::{decode_counter_state, encode_counter_state, CounterState};
use core::fmt;

/// The format version of a plain context (a version vector).
pub const FORMAT_VERSION: u8 = 1;
/// The format version of a context that also carries an observed counter state.
pub const FORMAT_VERSION_COUNTER: u8 = 2;
/// The longest node id a context may carry, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// A client's causal context: the version vector of everything the client's read returned,
/// and for a counter key the counter state it returned (the join of the siblings).
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Context(pub VersionVector, pub Option<CounterState>);

impl Context {
    /// The empty context: a put with it is a blind write.
    pub fn new() -> Self {
        Context::default()
    }

    pub fn version_vector(&self) -> &VersionVector {
        &self.0
    }

    pub fn into_version_vector(self) -> VersionVector {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The context of a counter read: the clock and the state the client saw.
    pub fn with_counter(vv: VersionVector, state: CounterState) -> Self {
        Context(vv, Some(state))
    }

    /// The counter state the read returned, if this context came from a counter key.
    pub fn observed_counter(&self) -> Option<&CounterState> {
        self.1.as_ref()
    }

    /// Encode in the canonical format of the module doc. Node ids longer than
    /// [`MAX_NAME_LEN`] bytes are written as they are, and [`Context::from_bytes`] refuses
    /// them; membership must not admit such names.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.0.len() * 6);
        out.push(if self.1.is_some() {
            FORMAT_VERSION_COUNTER
        } else {
            FORMAT_VERSION
        });
        put_varint(&mut out, self.0.len() as u64);
        for (node, counter) in self.0.iter() {
            let name = node.as_str().as_bytes();
            put_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name);
            put_varint(&mut out, counter);
        }
        if let Some(state) = &self.1 {
            let state = encode_counter_state(state);
            put_varint(&mut out, state.len() as u64);
            out.extend_from_slice(&state);
        }
        out
    }

    /// Decode a context. Never panics; every malformed or non-canonical input gets its own
    /// [`ContextError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Context, ContextError> {
        let mut r = Reader::new(bytes);
        let version = r.byte()?;
        if version != FORMAT_VERSION && version != FORMAT_VERSION_COUNTER {
            return Err(ContextError::UnsupportedVersion { found: version });
        }
        let count = r.varint()?;
        // No limit of its own: a context decodes whatever the core wrote (issue 15: the JS
        // layer accepts every context the core produces). An entry takes at least 2 bytes,
        // so a count the input cannot hold is refused before anything is allocated.
        if count > (r.remaining() / 2) as u64 {
            return Err(ContextError::TooManyEntries { count });
        }
        let mut vv = VersionVector::new();
        let mut prev: Option<&str> = None;
        for entry in 0..count as usize {
            let len = r.varint()?;
            if len > MAX_NAME_LEN as u64 {
                return Err(ContextError::NameTooLong { entry, len });
            }
            let raw = r.bytes(len)?;
            let name =
                core::str::from_utf8(raw).map_err(|_| ContextError::InvalidUtf8 { entry })?;
            if prev.is_some_and(|p| name <= p) {
                return Err(ContextError::NotCanonical { entry });
            }
            let counter = r.varint()?;
            if counter == 0 {
                return Err(ContextError::ZeroCounter { entry });
            }
            vv.raise(&NodeId::new(name), counter);
            prev = Some(name);
        }
        let mut state = None;
        if version == FORMAT_VERSION_COUNTER {
            let offset = r.offset();
            let len = r.varint()?;
            let raw = r.bytes(len)?;
            let decoded =
                decode_counter_state(raw).map_err(|_| ContextError::BadCounterState { offset })?;
            if len == 0 || encode_counter_state(&decoded)[..] != raw[..] {
                return Err(ContextError::BadCounterState { offset });
            }
            state = Some(decoded);
        }
        if r.remaining() > 0 {
            return Err(ContextError::TrailingBytes {
                extra: r.remaining(),
            });
        }
        Ok(Context(vv, state))
    }
}

impl From<VersionVector> for Context {
    fn from(vv: VersionVector) -> Self {
        Context(vv, None)
    }
}

impl From<Context> for VersionVector {
    fn from(c: Context) -> Self {
        c.0
    }
}

/// The paper's notation: `[(Sx,2),(Sy,1)]`.
impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why a byte string is not a context. Offsets are byte positions in the input; `entry` is
/// the 0-based index of the offending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextError {
    /// The first byte is not [`FORMAT_VERSION`].
    UnsupportedVersion { found: u8 },
    /// The input ends in the middle of a field that starts or continues at `offset`.
    Truncated { offset: usize },
    /// A varint at `offset` is longer than needed or exceeds 64 bits.
    BadVarint { offset: usize },
    /// The entry count is more than the rest of the input can hold.
    TooManyEntries { count: u64 },
    /// A node id is longer than [`MAX_NAME_LEN`] bytes.
    NameTooLong { entry: usize, len: u64 },
    /// A node id is not UTF-8.
    InvalidUtf8 { entry: usize },
    /// A counter is zero (a zero entry is never written: it means "absent").
    ZeroCounter { entry: usize },
    /// A node id is not strictly greater than the previous one (unsorted or repeated).
    NotCanonical { entry: usize },
    /// Bytes remain after the last entry.
    TrailingBytes { extra: usize },
    /// The counter state of a version-2 context (at `offset`) is malformed or not canonical.
    BadCounterState { offset: usize },
}

impl ContextError {
    /// A stable, machine-readable code (for hosts and the JS binding).
    pub fn code(&self) -> &'static str {
        match self {
            ContextError::UnsupportedVersion { .. } => "context_unsupported_version",
            ContextError::Truncated { .. } => "context_truncated",
            ContextError::BadVarint { .. } => "context_bad_varint",
            ContextError::TooManyEntries { .. } => "context_too_many_entries",
            ContextError::NameTooLong { .. } => "context_name_too_long",
            ContextError::InvalidUtf8 { .. } => "context_invalid_utf8",
            ContextError::ZeroCounter { .. } => "context_zero_counter",
            ContextError::NotCanonical { .. } => "context_not_canonical",
            ContextError::TrailingBytes { .. } => "context_trailing_bytes",
            ContextError::BadCounterState { .. } => "context_bad_counter_state",
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::UnsupportedVersion { found } => {
                write!(
                    f,
                    "unsupported context format version {found} (expected {FORMAT_VERSION} or {FORMAT_VERSION_COUNTER})"
                )
            }
            ContextError::Truncated { offset } => write!(f, "context truncated at byte {offset}"),
            ContextError::BadVarint { offset } => {
                write!(f, "malformed varint in context at byte {offset}")
            }
            ContextError::TooManyEntries { count } => {
                write!(
                    f,
                    "context claims {count} entries, more than its bytes can hold"
                )
            }
            ContextError::NameTooLong { entry, len } => write!(
                f,
                "context entry {entry}: node id of {len} bytes (at most {MAX_NAME_LEN})"
            ),
            ContextError::InvalidUtf8 { entry } => {
                write!(f, "context entry {entry}: node id is not UTF-8")
            }
            ContextError::ZeroCounter { entry } => write!(f, "context entry {entry}: zero counter"),
            ContextError::NotCanonical { entry } => write!(
                f,
                "context entry {entry}: node id not strictly after the previous one"
            ),
            ContextError::TrailingBytes { extra } => {
                write!(f, "{extra} trailing bytes after the context")
            }
            ContextError::BadCounterState { offset } => {
                write!(f, "malformed counter state in context at byte {offset}")
            }
        }
    }
}

impl std::error::Error for ContextError {}

impl From<ReadError> for ContextError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated { offset } => ContextError::Truncated { offset },
            ReadError::BadVarint { offset } => ContextError::BadVarint { offset },
        }
    }
}

// ---- byte-level helpers, shared with the resolver state codecs -------------------------

/// Append `v` as an unsigned LEB128 varint (7 bits a byte, low bits first, minimal length).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A failure of the low-level [`Reader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    Truncated { offset: usize },
    BadVarint { offset: usize },
}

/// A bounds-checked cursor over untrusted bytes. Nothing here can panic or allocate.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn byte(&mut self) -> Result<u8, ReadError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(ReadError::Truncated { offset: self.pos }),
        }
    }

    /// A minimal LEB128 varint of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, ReadError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let b = self
                .byte()
                .map_err(|_| ReadError::Truncated { offset: start })?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte carries bit 63 only.
            if i == 9 && b > 1 {
                return Err(ReadError::BadVarint { offset: start });
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    // A zero final byte means a shorter encoding existed.
                    return Err(ReadError::BadVarint { offset: start });
                }
                return Ok(value);
            }
        }
        Err(ReadError::BadVarint { offset: start })
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: u64) -> Result<&'a [u8], ReadError> {
        let truncated = ReadError::Truncated { offset: self.pos };
        let len = usize::try_from(len).map_err(|_| truncated)?;
        if len > self.remaining() {
            return Err(truncated);
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }
}
