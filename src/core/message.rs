//! Messages between nodes (the wire protocol). The core hands them to the host as values;
//! `encode`/`decode` give the compact binary form (postcard) the hosts put in frames.

use super::bytes::Bytes;
use super::dvv::Siblings;
use super::error::Error;
use super::gossip::GossipMsg;
use super::hashtree::TreeMsg;
use super::id::NodeId;
use super::io::{ClientReply, ClientRequest};
use super::membership::MemberInfo;
use super::resolve::ResolverRules;
use super::swim::Rumor;
use serde::{Deserialize, Serialize};

/// Internal request id, unique at the coordinator that allocated it.
pub type Rid = u64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Store these versions of `key` (§4.5 put). `hint` names the intended primary when the
    /// receiver is a fallback standing in for it (§4.6). `durable`: ack only once persisted.
    Replicate {
        rid: Rid,
        key: Bytes,
        versions: Siblings,
        hint: Option<NodeId>,
        durable: bool,
    },
    /// The versions were stored (`durable`: persisted, not only in memory).
    ReplicateAck {
        rid: Rid,
        durable: bool,
    },
    /// Send your versions of `key` (§4.5 get).
    Read {
        rid: Rid,
        key: Bytes,
    },
    /// The replica's versions (empty when it has none).
    ReadReply {
        rid: Rid,
        versions: Siblings,
    },
    /// Read repair: merge these newer versions (§4.5). No answer expected.
    Repair {
        key: Bytes,
        versions: Siblings,
    },
    /// A client write received by a node outside the key's preference list, handed to one
    /// inside it (§4.5: "forward to one of the top N").
    Forward {
        rid: Rid,
        request: ClientRequest,
        timeout_ms: u64,
    },
    ForwardReply {
        rid: Rid,
        result: Result<ClientReply, Error>,
    },
    /// Hinted handoff: versions a fallback held for the receiver while it was unreachable.
    Handoff {
        rid: Rid,
        key: Bytes,
        versions: Siblings,
    },
    /// The handed-off versions are persisted; the fallback may drop its hint.
    HandoffAck {
        rid: Rid,
    },
    /// Ownership handoff (§4.9): versions of a key the sender no longer replicates.
    Transfer {
        rid: Rid,
        key: Bytes,
        versions: Siblings,
    },
    /// The transferred versions are persisted.
    TransferAck {
        rid: Rid,
    },
    /// Membership gossip (§4.8), carrying failure-detector rumors (`swim.rs`).
    Gossip {
        msg: GossipMsg,
        rumors: Vec<Rumor>,
    },
    /// Ping `target` for me and tell me if it answers (SWIM's indirect probe).
    PingReq {
        target: NodeId,
        nonce: u64,
    },
    /// `target` answered the ping asked for by `PingReq`.
    PingReqAck {
        target: NodeId,
        nonce: u64,
    },
    /// Merkle anti-entropy (§4.7): one step of a tree exchange. `xid` is the opener's id
    /// of the exchange; `from_opener` tells which side sent it.
    AntiEntropy {
        xid: Rid,
        from_opener: bool,
        msg: TreeMsg,
    },
    /// Failure detection probe of a node believed down.
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
    },
    /// The receiver will not store what `rid` (a Replicate, Handoff or Transfer) sent it,
    /// and stored nothing: the sender must not count it and should replace it at once.
    /// `member` is the refuser's own membership entry, so the sender learns why.
    Refused {
        rid: Rid,
        reason: Refusal,
        member: Option<MemberInfo>,
    },
    /// The coordinator took forwarded request `rid` and will apply it (at most once):
    /// the forwarder must never apply or re-route it.
    ForwardAccepted {
        rid: Rid,
    },
    /// The forwarder heard no `ForwardAccepted`: if `rid` was not accepted, never accept it.
    ForwardCancel {
        rid: Rid,
    },
    /// `rid` was not accepted and never will be: the forwarder may send it elsewhere.
    ForwardCancelled {
        rid: Rid,
    },
    /// A `ReadReply` from a primary whose partition is still arriving (ownership handoff
    /// pending, issue 15 defect 8): its versions are merged, but it does not count toward R.
    ReadReplyPending {
        rid: Rid,
        versions: Siblings,
    },
    /// A new primary of `partition` asks a previous owner whether its handoff is complete.
    TransferQuery {
        partition: u32,
    },
    /// The sender holds no key of `partition` any more: everything it had was transferred.
    TransferDone {
        partition: u32,
    },
    /// Tell me when you store a new version of `key` (of any key starting with it, when
    /// `prefix`), for `ttl_ms`; 0 unsubscribes (`watch.rs`). Answered with what the receiver
    /// holds of it, as `WatchNotify`.
    Watch {
        key: Bytes,
        prefix: bool,
        ttl_ms: u64,
    },
    /// Every version of `key` the sender now holds, sent to its watchers after it stored a
    /// new one. No answer expected.
    WatchNotify {
        key: Bytes,
        versions: Siblings,
    },
    /// A joining node's resolver table, sent to the members before it joins: every node of
    /// a cluster must resolve every key alike. Answered with `ResolversAre`.
    ResolversProbe {
        rules: ResolverRules,
    },
    /// The receiver's resolver table.
    ResolversAre {
        rules: ResolverRules,
    },
}

/// Why a node refused to store data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// It left the ring (`Exiting`) or was removed (`Down`): it is no replica of anything.
    Exited,
}

impl Message {
    /// A short name for logs, traces and the teaching page.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Replicate { hint: None, .. } => "put",
            Message::Replicate { hint: Some(_), .. } => "put-hinted",
            Message::ReplicateAck { .. } => "put-ack",
            Message::Read { .. } => "get",
            Message::ReadReply { .. } => "get-reply",
            Message::Repair { .. } => "read-repair",
            Message::Forward { .. } => "forward",
            Message::ForwardReply { .. } => "forward-reply",
            Message::Handoff { .. } => "hint-delivery",
            Message::HandoffAck { .. } => "hint-ack",
            Message::Transfer { .. } => "transfer",
            Message::TransferAck { .. } => "transfer-ack",
            Message::Gossip { msg, .. } => msg.kind(),
            Message::AntiEntropy { .. } => "merkle",
            Message::PingReq { .. } => "ping-req",
            Message::PingReqAck { .. } => "ping-req-ack",
            Message::Ping { .. } => "ping",
            Message::Pong { .. } => "pong",
            Message::Refused { .. } => "refused",
            Message::ForwardAccepted { .. } => "forward-accepted",
            Message::ForwardCancel { .. } => "forward-cancel",
            Message::ForwardCancelled { .. } => "forward-cancelled",
            Message::ReadReplyPending { .. } => "get-reply-pending",
            Message::TransferQuery { .. } => "transfer-query",
            Message::TransferDone { .. } => "transfer-done",
            Message::Watch { .. } => "watch",
            Message::WatchNotify { .. } => "watch-notify",
            Message::ResolversProbe { .. } => "resolvers-probe",
            Message::ResolversAre { .. } => "resolvers-are",
        }
    }

    /// The key a data message is about, if any.
    pub fn key(&self) -> Option<&Bytes> {
        match self {
            Message::Replicate { key, .. }
            | Message::Read { key, .. }
            | Message::Repair { key, .. }
            | Message::Handoff { key, .. }
            | Message::Transfer { key, .. }
            | Message::Watch { key, .. }
            | Message::WatchNotify { key, .. } => Some(key),
            Message::Forward { request, .. } => Some(request.key()),
            _ => None,
        }
    }

    /// The binary form for the wire.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain owned data into a Vec cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Decode a frame received from the network; never panics on arbitrary bytes.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        postcard::from_bytes(bytes).map_err(|e| DecodeError(e.to_string()))
    }
}

/// A frame that is not a valid message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "malformed message: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}
