//! What the teaching page sees: the plain objects `SimCluster` hands to JavaScript (page
//! events, versions in the paper's notation, node, key and metrics views) and the one-line
//! summaries of messages for the log. Formatting only: nothing here touches the cluster.

use crate::core::hashtree::TreeMsg;
use crate::core::{
    ClientReply, ClientRequest, Message, NodeId, ReqId, Siblings, Value, Version, VersionVector,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// One version as the page shows it.
#[derive(Serialize, Clone)]
pub(super) struct VersionView {
    pub(super) value: String,
    pub(super) deleted: bool,
    /// The dot, `(Sx,2)`.
    pub(super) dot: String,
    pub(super) actor: String,
    pub(super) counter: u64,
    /// The causal past the writer had seen, `[(Sx,1)]`.
    pub(super) past: String,
    /// The paper's clock `past ∪ {dot}`, `[(Sx,2)]`.
    pub(super) clock: String,
    /// Its clock would be misread next to a sibling's (a blind write's `(Sx,2)` with past
    /// `[]` beside `(Sx,1)`): the page shows its dot and past.
    pub(super) detached: bool,
}

#[derive(Serialize, Clone)]
pub(super) struct HintView {
    pub(super) intended: String,
    pub(super) versions: Vec<VersionView>,
}

#[derive(Serialize)]
pub(super) struct Verdict {
    pub(super) incoming: String,
    pub(super) existing: String,
    /// `descends` (incoming supersedes existing), `ancestor` (incoming is older and is
    /// dropped), `equal`, or `concurrent` (both are kept: siblings).
    pub(super) rel: &'static str,
}

/// A Merkle exchange message, for the page's tree view.
#[derive(Serialize)]
pub(super) struct MerkleMsgView {
    pub(super) xid: u64,
    pub(super) partition: u32,
    pub(super) bytes: usize,
    /// The message closes the exchange.
    pub(super) last: bool,
    /// The first message of the exchange that found a difference carries both trees as
    /// they were then (before any repair).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) trees: Option<MerkleView>,
}

/// One node of the two trees compared: its position and both replicas' hashes.
#[derive(Serialize)]
pub(super) struct TreeNodeView {
    pub(super) depth: u8,
    pub(super) index: u64,
    pub(super) parent: u64,
    pub(super) a: String,
    pub(super) b: String,
    pub(super) differ: bool,
}

/// A key under a differing leaf: both replicas' digests (`None`: the replica lacks it).
#[derive(Serialize)]
pub(super) struct TreeKeyView {
    pub(super) key: String,
    pub(super) leaf: u64,
    pub(super) a: Option<String>,
    pub(super) b: Option<String>,
    pub(super) differ: bool,
}

/// Two replicas' hash trees of one partition, compared as an exchange descends them:
/// the roots, then the children of differing nodes only, then the keys under differing
/// leaves; and what sending every key digest would cost instead.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MerkleView {
    pub(super) partition: u32,
    pub(super) a: String,
    pub(super) b: String,
    pub(super) fanout: usize,
    pub(super) root_a: String,
    pub(super) root_b: String,
    pub(super) keys_a: usize,
    pub(super) keys_b: usize,
    pub(super) nodes: Vec<TreeNodeView>,
    pub(super) keys: Vec<TreeKeyView>,
    /// Bytes of every key and digest of both replicas: a comparison without the tree.
    pub(super) full_bytes: usize,
}

/// What the page gets from `runUntil` and `step`, in order.
#[derive(Serialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub(super) enum PageEvent {
    /// A message left `from` for `to`; `arrives` is `None` when the network dropped it.
    Send {
        id: u64,
        at: u64,
        arrives: Option<u64>,
        dup: Option<u64>,
        from: String,
        to: String,
        kind: &'static str,
        key: Option<String>,
        /// Who asked: the client request this message serves, when known.
        req: Option<ReqId>,
        detail: String,
        versions: Vec<VersionView>,
        /// A Merkle message (§4.7): its exchange, partition and size on the wire.
        #[serde(skip_serializing_if = "Option::is_none")]
        merkle: Option<MerkleMsgView>,
    },
    Deliver {
        id: u64,
        at: u64,
        from: String,
        to: String,
        kind: &'static str,
    },
    /// A message reached a crashed node: it is lost; or (`by_you`) the page dropped it in
    /// flight (`dropMessage`).
    Lost {
        id: u64,
        at: u64,
        to: String,
        by_you: bool,
    },
    Persist {
        at: u64,
        node: String,
        ops: usize,
    },
    /// A client request handed to a node (by the page, a scenario or the workload).
    Request {
        req: ReqId,
        at: u64,
        node: String,
        op: &'static str,
        key: String,
        value: Option<String>,
        context: Option<String>,
        workload: bool,
    },
    Reply {
        req: ReqId,
        at: u64,
        node: String,
        op: &'static str,
        key: String,
        ok: bool,
        latency: u64,
        error: Option<String>,
        code: Option<&'static str>,
        values: Vec<String>,
        versions: Vec<VersionView>,
        /// A get's context, or a put's new clock (paper notation).
        context: Option<String>,
        dot: Option<String>,
        workload: bool,
    },
    /// A quorum counter moved (or its request ended at this node: `done`).
    Quorum {
        at: u64,
        node: String,
        rid: u64,
        kind: &'static str,
        key: String,
        req: Option<ReqId>,
        got: usize,
        needed: usize,
        answered: Vec<String>,
        asked: Vec<String>,
        hints: Vec<(String, String)>,
        phase: &'static str,
        done: bool,
    },
    /// A watched key's versions changed at a node.
    Versions {
        at: u64,
        node: String,
        key: String,
        /// `write` (the coordinator's new version), or the kind of the message that brought
        /// the versions (`put`, `read-repair`, `hint-delivery`, `transfer`, ...), or
        /// `restart` / `drop`.
        cause: String,
        msg: Option<u64>,
        before: Vec<VersionView>,
        incoming: Vec<VersionView>,
        after: Vec<VersionView>,
        hints_before: Vec<HintView>,
        hints_after: Vec<HintView>,
        verdicts: Vec<Verdict>,
    },
    Event {
        at: u64,
        node: String,
        text: String,
    },
    Fault {
        at: u64,
        what: String,
    },
}

pub(super) fn text(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

pub(super) fn version_view(v: &Version) -> VersionView {
    let (value, deleted) = match &v.value {
        Value::Data(b) => (text(b), false),
        Value::Tombstone => ("(deleted)".to_string(), true),
    };
    VersionView {
        value,
        deleted,
        dot: v.dot.to_string(),
        actor: v.dot.node.to_string(),
        counter: v.dot.counter,
        past: v.past.to_string(),
        clock: v.clock().to_string(),
        detached: false,
    }
}

/// Plain vector clocks would misread these two versions: one clock descends from the other
/// (`[(Sx,2)]` from `[(Sx,1)]`) while the dotted version vectors are concurrent (B's past
/// `[]` does not cover A's dot), as two blind writes through one node are.
pub(super) fn clocks_mislead(a: &Version, b: &Version) -> bool {
    let (ca, cb) = (a.clock(), b.clock());
    let by_clock = ca.descends(&cb) || cb.descends(&ca);
    let by_dots = a.past.covers(&b.dot) || b.past.covers(&a.dot) || a.dot == b.dot;
    by_clock && !by_dots
}

/// A version as a comparison with `other` names it: its clock, or dot and past when the
/// clocks alone would mislead (`(Sx,2) past []` is concurrent with `(Sx,1) past []`).
pub(super) fn version_label(v: &Version, other: &Version) -> String {
    if clocks_mislead(v, other) {
        format!("{} past {}", v.dot, v.past)
    } else {
        v.clock().to_string()
    }
}

/// The versions of a key; a sibling whose clock would mislead next to another sibling's
/// (see `clocks_mislead`) is marked `detached`, so the page shows its dot and past.
pub(super) fn versions_view(s: &Siblings) -> Vec<VersionView> {
    let vs = s.versions();
    vs.iter()
        .map(|v| {
            let mut view = version_view(v);
            view.detached = vs.iter().any(|w| clocks_mislead(v, w));
            view
        })
        .collect()
}

pub(super) fn relation(incoming: &Version, existing: &Version) -> &'static str {
    if incoming.dot == existing.dot {
        "equal"
    } else if incoming.past.covers(&existing.dot) {
        "descends"
    } else if existing.past.covers(&incoming.dot) {
        "ancestor"
    } else {
        "concurrent"
    }
}

/// The versions a message carries, if any.
pub(super) fn carried(msg: &Message) -> Option<&Siblings> {
    match msg {
        Message::Replicate { versions, .. }
        | Message::ReadReply { versions, .. }
        | Message::Repair { versions, .. }
        | Message::Handoff { versions, .. }
        | Message::Transfer { versions, .. } => Some(versions),
        _ => None,
    }
}

pub(super) fn short(vs: &Siblings) -> String {
    if vs.is_empty() {
        return "no versions".into();
    }
    vs.versions()
        .iter()
        .map(|v| match &v.value {
            Value::Data(b) => format!("{} {}", text(b), v.clock()),
            Value::Tombstone => format!("(deleted) {}", v.clock()),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A one-line summary of a message for the log.
pub(super) fn detail(msg: &Message) -> String {
    match msg {
        Message::Replicate {
            versions,
            hint,
            durable,
            ..
        } => {
            let mut s = short(versions);
            if let Some(h) = hint {
                s.push_str(&format!(" — hinted: for {h}"));
            }
            if !durable {
                s.push_str(" — buffered");
            }
            s
        }
        Message::ReplicateAck { durable, .. } => {
            if *durable {
                "stored on disk".into()
            } else {
                "stored in memory".into()
            }
        }
        Message::Read { .. } => "send me your versions".into(),
        Message::ReadReply { versions, .. } => short(versions),
        Message::ReadReplyPending { versions, .. } => format!(
            "{} (my partition is still arriving: do not count my miss)",
            short(versions)
        ),
        Message::Repair { versions, .. } => short(versions),
        Message::Forward { request, .. } => match request {
            ClientRequest::Put { value, context, .. } => format!(
                "put {} with context {}",
                text(value),
                context
                    .as_ref()
                    .map_or("[] (blind)".to_string(), |c| c.to_string())
            ),
            ClientRequest::Delete { .. } => "delete".into(),
            ClientRequest::Update { .. } => "update".into(),
            ClientRequest::Get { .. } => "get".into(),
        },
        Message::ForwardReply { result, .. } => match result {
            Ok(ClientReply::Put { context, .. }) => format!("ok {context}"),
            Ok(_) => "ok".into(),
            Err(e) => e.code().to_string(),
        },
        Message::Handoff { versions, .. } | Message::Transfer { versions, .. } => short(versions),
        Message::HandoffAck { .. } => "hint stored: drop it".into(),
        Message::TransferAck { .. } => "stored: the sender may drop it".into(),
        Message::Gossip { rumors, .. } => {
            if rumors.is_empty() {
                "membership digest".into()
            } else {
                format!("membership digest, {} rumor(s)", rumors.len())
            }
        }
        Message::AntiEntropy {
            msg, from_opener, ..
        } => merkle_detail(msg, *from_opener),
        Message::PingReq { target, .. } => format!("ping {target} for me"),
        Message::PingReqAck { target, .. } => format!("{target} answered"),
        Message::Ping { .. } => "are you there?".into(),
        Message::Pong { .. } => "yes".into(),
        Message::Refused { .. } => "I have left the ring: not stored".into(),
        Message::ForwardAccepted { .. } => "I coordinate it (at most once)".into(),
        Message::ForwardCancel { .. } => "no answer: cancel it unless you took it".into(),
        Message::ForwardCancelled { .. } => "cancelled: I will never apply it".into(),
        Message::TransferQuery { partition } => {
            format!("partition {partition}: have you handed me everything?")
        }
        Message::TransferDone { partition } => {
            format!("partition {partition}: yes, I hold none of its keys")
        }
        Message::Watch { .. } => "tell me when this key changes".into(),
        Message::WatchNotify { .. } => "it changed: here are its versions".into(),
        Message::ResolversProbe { .. } | Message::ResolversAre { .. } => "my resolver table".into(),
    }
}

pub(super) fn merkle_detail(msg: &TreeMsg, from_opener: bool) -> String {
    match msg {
        TreeMsg::Root {
            partition, hash, ..
        } => format!("partition {partition}: my root hash {:04x}…", hash.0 >> 48),
        TreeMsg::Step {
            partition,
            depth,
            nodes,
            keys,
            diff,
        } => {
            let mut parts = Vec::new();
            if !nodes.is_empty() {
                parts.push(format!(
                    "{} differing branch(es) at depth {depth}: my child hashes",
                    nodes.len()
                ));
            }
            if !keys.is_empty() {
                let n: usize = keys.iter().map(|k| k.entries.len()).sum();
                parts.push(format!(
                    "{} small subtree(s): my {n} key digest(s)",
                    keys.len()
                ));
            }
            if !diff.is_empty() {
                let names: Vec<String> = diff.iter().map(|d| text(&d.key)).collect();
                parts.push(format!("keys that differ: {}", names.join(", ")));
            }
            if parts.is_empty() {
                parts.push(if from_opener {
                    "nothing differs".into()
                } else {
                    "roots equal: nothing to do".into()
                });
            }
            format!("partition {partition}: {}", parts.join("; "))
        }
    }
}

/// Parse a context in the paper's notation, `[(Sx,2),(Sy,1)]` (empty: `[]`).
pub(super) fn parse_clock(s: &str) -> Result<VersionVector, JsValue> {
    let body = s.trim();
    let body = body
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .ok_or_else(|| JsValue::from_str("a context looks like [(Sx,2),(Sy,1)]"))?;
    let mut vv = VersionVector::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ']);
        if rest.is_empty() {
            break;
        }
        let inner = rest
            .strip_prefix('(')
            .ok_or_else(|| JsValue::from_str("a context entry looks like (Sx,2)"))?;
        let close = inner
            .find(')')
            .ok_or_else(|| JsValue::from_str("unclosed ( in a context"))?;
        let entry = &inner[..close];
        let comma = entry
            .rfind(',')
            .ok_or_else(|| JsValue::from_str("a context entry looks like (Sx,2)"))?;
        let name = entry[..comma].trim();
        let counter: u64 = entry[comma + 1..]
            .trim()
            .parse()
            .map_err(|_| JsValue::from_str("a context counter is a number"))?;
        if name.is_empty() {
            return Err(JsValue::from_str("a context entry needs a node name"));
        }
        vv.raise(&NodeId::new(name), counter);
        rest = &inner[close + 1..];
    }
    Ok(vv)
}

pub(super) fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser)
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

pub(super) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[i])
}

#[derive(Serialize)]
pub(super) struct LatencyView {
    pub(super) count: usize,
    pub(super) p50: Option<u64>,
    pub(super) p99: Option<u64>,
    pub(super) p999: Option<u64>,
    pub(super) max: Option<u64>,
}

pub(super) fn latency_view(v: &[u64]) -> LatencyView {
    let mut s = v.to_vec();
    s.sort_unstable();
    LatencyView {
        count: s.len(),
        p50: percentile(&s, 0.5),
        p99: percentile(&s, 0.99),
        p999: percentile(&s, 0.999),
        max: s.last().copied(),
    }
}

#[derive(Serialize)]
pub(super) struct NodeView {
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) up: bool,
    pub(super) status: String,
    pub(super) side: u8,
    pub(super) partitions: u32,
    pub(super) keys: usize,
    pub(super) hints: usize,
    /// Other live nodes whose failure detector believes this one down.
    pub(super) suspected_by: Vec<String>,
    pub(super) ring_epoch: Option<u64>,
    pub(super) requests: usize,
    pub(super) gets: u64,
    pub(super) puts: u64,
    pub(super) forwarded: u64,
    pub(super) read_repairs: u64,
    pub(super) hints_stored: u64,
    pub(super) hints_delivered: u64,
    pub(super) keys_transferred: u64,
    pub(super) ae_exchanges: u64,
    pub(super) ae_keys_repaired: u64,
}

#[derive(Serialize)]
pub(super) struct StateView {
    pub(super) now: u64,
    pub(super) seed: u64,
    pub(super) n: usize,
    pub(super) r: usize,
    pub(super) w: usize,
    pub(super) q: u32,
    pub(super) min_latency_ms: u64,
    pub(super) max_latency_ms: u64,
    pub(super) loss: f64,
    pub(super) partitioned: bool,
    pub(super) ring_epoch: u64,
    pub(super) ring_hash: String,
    pub(super) nodes: Vec<NodeView>,
    pub(super) messages: u64,
    pub(super) dropped: u64,
    pub(super) clients: usize,
    pub(super) next_event_at: Option<u64>,
}

#[derive(Serialize)]
pub(super) struct ReplicaView {
    pub(super) index: usize,
    pub(super) node: String,
    pub(super) up: bool,
    /// `primary` (the first N of the preference list) or `fallback`.
    pub(super) role: &'static str,
    pub(super) rank: usize,
    pub(super) versions: Vec<VersionView>,
    pub(super) hints: Vec<HintView>,
    /// A crashed node: what its disk holds.
    pub(super) on_disk: bool,
}

#[derive(Serialize)]
pub(super) struct KeyView {
    pub(super) key: String,
    /// The key's position on the ring, 0..1 clockwise from the top (its MD5 hash).
    pub(super) position: f64,
    pub(super) hash: String,
    pub(super) partition: u32,
    pub(super) q: u32,
    pub(super) n: usize,
    pub(super) r: usize,
    pub(super) w: usize,
    pub(super) preflist: Vec<String>,
    /// The first N healthy nodes a coordinator would use now (sloppy quorum), with the
    /// primary each fallback stands in for.
    pub(super) replicas: Vec<ReplicaView>,
}

#[derive(Serialize)]
pub(super) struct LoadView {
    pub(super) node: String,
    pub(super) requests: u64,
    pub(super) partitions: u32,
}

#[derive(Serialize)]
pub(super) struct MetricsView {
    pub(super) reads: u64,
    pub(super) reads_by_versions: [u64; 4],
    pub(super) get: LatencyView,
    pub(super) put: LatencyView,
    pub(super) ok: u64,
    pub(super) failed: u64,
    pub(super) load: Vec<LoadView>,
}
