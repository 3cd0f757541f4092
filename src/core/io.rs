//! What goes into a node and what comes out of it (the sans-IO boundary).
//!
//! The host calls `Node::handle(now_ms, Input)`, then drains `Node::poll()` for `Output`s
//! and calls back at `Node::next_deadline()`.

use super::bytes::Bytes;
use super::context::Context;
use super::dvv::{Dot, Siblings};
use super::error::Error;
use super::id::{NodeId, ReqId};
use super::message::Message;
use super::record::RecordStore;
use super::resolve::{Op, Resolved};
use super::storage::StoreOp;
use serde::{Deserialize, Serialize};

/// Identifies one persist batch of one node.
pub type BatchId = u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message from a peer.
    Message { from: NodeId, msg: Message },
    /// A request from a local client (the app, a test, the simulator's workload).
    Client { id: ReqId, request: ClientRequest },
    /// A membership request from the app or an operator (answered with `ClientReply::Done`).
    Admin { id: ReqId, request: AdminRequest },
    /// The host has durably applied a persist batch.
    PersistDone { batch: BatchId },
    /// The host could not apply a persist batch (nothing of it was applied).
    PersistFailed {
        batch: BatchId,
        reason: String,
        quota_exceeded: bool,
    },
    /// Only time passed (the host's timer for `next_deadline()` fired). Harmless if early.
    Tick,
    /// The host's transport says `peer` is connected again: the relay announced it
    /// (`peerjoined`), or listed it when this node itself reconnected. What this node holds
    /// for the peer goes at once (issue 14: a returning tab catches up in milliseconds). A
    /// hint only: the peer is judged up when it answers.
    PeerReachable { peer: NodeId },
}

/// Per-request overrides of the cluster's quorum settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOptions {
    /// Replies a get waits for (default: the cluster's R).
    pub r: Option<usize>,
    /// Stores a put waits for (default: the cluster's W).
    pub w: Option<usize>,
    /// `Some(false)`: the write buffer of §6.1 — replicas ack from memory and only the
    /// coordinator's store must be durable. Default: every ack is durable.
    pub durable: Option<bool>,
    /// Request timeout in ms (default: the cluster's).
    pub timeout_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// Every concurrent version of `key`, resolved by the key's resolver, with the context.
    Get { key: Bytes, options: RequestOptions },
    /// Write `value`, superseding the versions `context` covers (none: a blind write).
    Put {
        key: Bytes,
        value: Bytes,
        context: Option<Context>,
        options: RequestOptions,
    },
    /// A put of a tombstone.
    Delete {
        key: Bytes,
        context: Option<Context>,
        options: RequestOptions,
    },
    /// An operation on a counter or add-wins-set key, applied by a replica coordinator.
    Update {
        key: Bytes,
        op: Op,
        options: RequestOptions,
    },
}

/// Explicit membership changes (§4.8.1): an outage never changes membership by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// This node leaves: its partitions move to others, it hands off its data, then it
    /// becomes `Exiting` and may be shut down.
    Leave,
    /// Remove a node that will not come back (status `Down`): its partitions are
    /// reassigned and repopulated from the other replicas.
    Remove { node: NodeId },
}

impl ClientRequest {
    pub fn key(&self) -> &Bytes {
        match self {
            ClientRequest::Get { key, .. }
            | ClientRequest::Put { key, .. }
            | ClientRequest::Delete { key, .. }
            | ClientRequest::Update { key, .. } => key,
        }
    }

    pub fn options(&self) -> &RequestOptions {
        match self {
            ClientRequest::Get { options, .. }
            | ClientRequest::Put { options, .. }
            | ClientRequest::Delete { options, .. }
            | ClientRequest::Update { options, .. } => options,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientReply {
    Get {
        /// The key's value(s) after its resolver (siblings by default).
        value: Resolved,
        /// Pass back with the next put to supersede what was read.
        context: Context,
        /// The raw versions that were merged (for inspection and teaching).
        versions: Siblings,
        /// R was reached only by counting answers of nodes that are no authority on the key
        /// (fallbacks without a hint, primaries whose partition is still arriving), because
        /// nobody else was left to ask: `versions` may lack what the key's primaries hold,
        /// and an empty answer does not mean the key is absent. False otherwise (and for a
        /// local read).
        partial: bool,
    },
    Put {
        /// The dot of the new version.
        dot: Dot,
        /// The new version's clock: a context that covers exactly what was written.
        context: Context,
    },
    /// A membership request was accepted (it spreads by gossip).
    Done,
}

/// Things a host may want to show or count; the core's behaviour does not depend on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    NodeDown(NodeId),
    NodeUp(NodeId),
    /// A get found more than one concurrent version.
    SiblingsDetected {
        key: Bytes,
        count: usize,
    },
    /// Read repair sent newer versions to these replicas.
    ReadRepair {
        key: Bytes,
        to: Vec<NodeId>,
    },
    /// This node stored a replica on behalf of `intended` (§4.6).
    HintStored {
        key: Bytes,
        intended: NodeId,
    },
    /// The intended node acknowledged a hinted replica; the hint was dropped.
    HintDelivered {
        key: Bytes,
        to: NodeId,
    },
    /// The membership view changed (a member joined, left, changed status).
    MembershipChanged,
    /// A new ring was installed (partitions changed owner).
    RingChanged {
        epoch: u64,
    },
    /// A key's versions reached all its new primaries and were dropped here (§4.9).
    Transferred {
        key: Bytes,
    },
    /// This node finished leaving: it holds nothing and can be shut down.
    Exited,
    /// A key reached `Config::warn_siblings` concurrent versions (at a put this node
    /// coordinated, or a get it answered): the application should reconcile it.
    SiblingsWarning {
        key: Bytes,
        count: usize,
    },
    /// A stored record failed verification at load (`record.rs`): it was not loaded, is never
    /// served, and the key is fetched again from the other replicas. `key` is known when the
    /// engine's storage key names it.
    CorruptRecord {
        store: RecordStore,
        key: Option<Bytes>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Send {
        to: NodeId,
        msg: Message,
    },
    /// Apply these operations atomically and in order, then report `PersistDone`.
    Persist {
        batch: BatchId,
        ops: Vec<StoreOp>,
    },
    Reply {
        id: ReqId,
        result: Result<ClientReply, Error>,
    },
    Event(Event),
}
