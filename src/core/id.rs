//! Identities: the name of a node (a physical member of the ring) and of a client request.

use core::fmt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The name of a node. Cheap to clone (shared string) and totally ordered, so that every
/// map keyed by it iterates in the same order on every replica and in every replay.
///
/// In the paper's notation nodes are `Sx`, `Sy`, `Sz`; a browser tab uses a random id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(Arc<str>);

impl NodeId {
    pub fn new(name: &str) -> Self {
        NodeId(Arc::from(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId::new(s)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifies one client request at the node that received it. Chosen by the host
/// (unique per node), echoed back in the reply.
pub type ReqId = u64;
