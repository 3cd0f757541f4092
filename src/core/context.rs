//! The opaque causal *context* of the paper's interface (§4.1, §4.4): what a client gets from
//! a get and hands back to the next put or delete, so that the write supersedes exactly the
//! versions the client had seen.
//!
//! In memory a context is a [`VersionVector`] (the join of the clocks of the siblings the read
//! returned). On the wire it is a compact, canonical byte string:
//!
//! ```text
//! context  = format-version (1 byte, = 1)
//!            count          (LEB128 varint, <= 10_000)
//!            entry*count    (sorted by node id, strictly increasing)
//! entry    = name-length    (LEB128 varint, <= 255)
//!            name           (UTF-8)
//!            counter        (LEB128 varint, >= 1)
//! ```
//!
//! `[(Sx,2),(Sy,1),(Sz,1)]` takes 14 bytes. Decoding never panics and accepts only canonical
//! input (minimal varints, sorted distinct names, no zero counters, nothing trailing), so a
//! context has exactly one encoding: `from_bytes(b)?.to_bytes() == b` for every accepted `b`.

use super::dvv::VersionVector;
use super::id::NodeId;
use core::fmt;

/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// The longest node id a context may carry, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// The most entries a context may carry (far above any real cluster's replica count).
pub const MAX_ENTRIES: usize = 10_000;

/// A client's causal context: the version vector of everything the client's read returned.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Context(pub VersionVector);

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

    /// Encode in the canonical format of the module doc. Node ids longer than
    /// [`MAX_NAME_LEN`] bytes are written as they are, and [`Context::from_bytes`] refuses
    /// them; membership must not admit such names.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.0.len() * 6);
        out.push(FORMAT_VERSION);
        put_varint(&mut out, self.0.len() as u64);
        for (node, counter) in self.0.iter() {
            let name = node.as_str().as_bytes();
            put_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name);
            put_varint(&mut out, counter);
        }
        out
    }

    /// Decode a context. Never panics; every malformed or non-canonical input gets its own
    /// [`ContextError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Context, ContextError> {
        let mut r = Reader::new(bytes);
        let version = r.byte()?;
        if version != FORMAT_VERSION {
            return Err(ContextError::UnsupportedVersion { found: version });
        }
        let count = r.varint()?;
        if count > MAX_ENTRIES as u64 {
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
        if r.remaining() > 0 {
            return Err(ContextError::TrailingBytes {
                extra: r.remaining(),
            });
        }
        Ok(Context(vv))
    }
}

impl From<VersionVector> for Context {
    fn from(vv: VersionVector) -> Self {
        Context(vv)
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
    /// The entry count exceeds [`MAX_ENTRIES`].
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
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::UnsupportedVersion { found } => {
                write!(
                    f,
                    "unsupported context format version {found} (expected {FORMAT_VERSION})"
                )
            }
            ContextError::Truncated { offset } => write!(f, "context truncated at byte {offset}"),
            ContextError::BadVarint { offset } => {
                write!(f, "malformed varint in context at byte {offset}")
            }
            ContextError::TooManyEntries { count } => {
                write!(f, "context has {count} entries (at most {MAX_ENTRIES})")
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
