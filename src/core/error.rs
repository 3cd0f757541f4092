//! Typed errors a client request can end with. Each has a stable `code()` that hosts hand to
//! JavaScript as `error.code`.

use core::fmt;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Error {
    /// Fewer than the needed replicas answered before the request's deadline.
    QuorumFailed { needed: usize, got: usize },
    /// A forwarded request got no answer from any coordinator in time. `ambiguous`: the
    /// write may have been applied (a coordinator may have accepted it); it is never
    /// applied a second time by a retry of this node.
    Timeout { after_ms: u64, ambiguous: bool },
    /// A request argument is out of range (R or W of zero or above N, an undecodable
    /// context, an operation that does not match the key's resolver).
    InvalidArgument(String),
    /// A value larger than the configured maximum.
    ValueTooLarge { size: usize, max: usize },
    /// The host's storage refused a write (for example a full IndexedDB quota).
    Storage {
        reason: String,
        quota_exceeded: bool,
    },
    /// A stored value could not be decoded by the key's resolver.
    Corrupt(String),
    /// The node has been closed.
    Closed,
    /// The node has not joined a cluster yet (it knows no ring).
    NotReady(String),
    /// The write would leave the key with more than `max` concurrent versions (the
    /// coordinator's view): read the key and write with its context to reconcile first.
    TooManySiblings { count: usize, max: usize },
}

impl Error {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        match self {
            Error::QuorumFailed { .. } => "QUORUM_FAILED",
            Error::Timeout { .. } => "TIMEOUT",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::ValueTooLarge { .. } => "VALUE_TOO_LARGE",
            Error::Storage {
                quota_exceeded: true,
                ..
            } => "QUOTA_EXCEEDED",
            Error::Storage { .. } => "STORAGE_FAILED",
            Error::Corrupt(_) => "CORRUPT",
            Error::Closed => "CLOSED",
            Error::NotReady(_) => "NOT_READY",
            Error::TooManySiblings { .. } => "TOO_MANY_SIBLINGS",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::QuorumFailed { needed, got } => {
                write!(
                    f,
                    "quorum failed: {got} of {needed} replicas answered in time"
                )
            }
            Error::Timeout {
                after_ms,
                ambiguous,
            } => {
                write!(f, "no coordinator answered within {after_ms} ms")?;
                if *ambiguous {
                    f.write_str(" (the write may have been applied)")?;
                }
                Ok(())
            }
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::ValueTooLarge { size, max } => {
                write!(
                    f,
                    "value of {size} bytes exceeds the maximum of {max} bytes"
                )
            }
            Error::Storage { reason, .. } => write!(f, "storage failed: {reason}"),
            Error::Corrupt(m) => write!(f, "corrupt value: {m}"),
            Error::Closed => f.write_str("the node is closed"),
            Error::NotReady(m) => write!(f, "not ready: {m}"),
            Error::TooManySiblings { count, max } => write!(
                f,
                "the write would leave {count} concurrent versions (the maximum is {max}); \
                 read the key and write with its context to reconcile them"
            ),
        }
    }
}

impl std::error::Error for Error {}
