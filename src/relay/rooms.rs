//! Clusters as rooms: which node ids are connected in each cluster, the routing of data
//! frames between them, and the counters behind `/stats`.
//!
//! Everything happens under one short lock and never waits. A data frame for a node whose
//! outbound queue is full is handed back to the sender's connection ([`Routed::blocked`]),
//! which waits for room without reading its socket (back-pressure), for a bounded time;
//! then the frame is dropped, counted and reported to the sender, and the node is *stalled*:
//! frames for it are dropped at once while its queue stays full, so one slow consumer holds
//! up each sender at most once, and cannot grow the relay's memory.

use super::frame::{
    self, ClusterName, Control, DropReason, ErrorCode, Inbound, Kind, NodeName, SIGNAL,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_tungstenite::tungstenite::Bytes;

/// What the relay queues for one connection: a control message or a data frame. A data
/// frame is shared between the recipients of a broadcast.
#[derive(Clone, Debug)]
pub(crate) enum Outbound {
    Control(String),
    Data(Bytes),
}

/// The counters of one cluster, as `/stats` shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Nodes connected now.
    pub connections: u64,
    /// Binary frames received from the cluster's nodes, and their bytes.
    pub frames_in: u64,
    pub bytes_in: u64,
    /// Binary frames queued for the cluster's nodes (one per recipient), and their bytes.
    pub frames_out: u64,
    pub bytes_out: u64,
    /// Frames not delivered, for any of the three reasons that follow.
    pub dropped: u64,
    /// Frames refused for their shape: bad binary header, or a TEXT frame after hello.
    pub malformed: u64,
    /// Frames for a node id not connected in the cluster (or leaving it).
    pub unknown_destination: u64,
    /// Frames longer than the maximum.
    pub too_large: u64,
    /// Frames for a node whose outbound queue stayed full for the longest wait.
    pub queue_full: u64,
    /// Messages from a node above its message rate, held until their token was due (not
    /// dropped: the connection was not read meanwhile).
    pub rate_limited: u64,
    /// Frames whose sender waited for room in a full queue (delivered or, after the
    /// longest wait, dropped as `queue_full`).
    #[serde(default)]
    pub queue_waits: u64,
    /// Signalling frames (kind 0x03) received and queued: not in the data frame counters
    /// above, so those show what the relay still carries once nodes talk directly.
    #[serde(default)]
    pub signal_frames_in: u64,
    #[serde(default)]
    pub signal_frames_out: u64,
}

/// Connections refused, or closed by the relay, by reason (since the relay started).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusals {
    /// `BAD_HELLO` (4002).
    pub bad_hello: u64,
    /// `UNAUTHORIZED` (4001): token missing or not valid.
    pub unauthorized: u64,
    /// `ORIGIN_NOT_ALLOWED` (4003).
    pub origin_not_allowed: u64,
    /// `NODE_ID_IN_USE` (4009).
    pub node_id_in_use: u64,
    /// `CLUSTER_FULL` (4029).
    pub cluster_full: u64,
    /// Closed with `RATE_LIMITED` (4008): kept sending above the rate.
    pub rate_limited: u64,
    /// Closed with 1009: a frame above what the WebSocket layer buffers.
    pub too_large: u64,
}

/// Why a connection was refused or closed, for [`Refusals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    BadHello,
    Unauthorized,
    OriginNotAllowed,
    NodeIdInUse,
    ClusterFull,
    RateLimited,
    TooLarge,
}

/// The body of `GET /stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub clusters: BTreeMap<String, ClusterStats>,
    pub connections: u64,
    pub refused: Refusals,
    pub uptime_s: u64,
}

/// Every cluster with at least one connected node. A cluster disappears, counters and
/// all, when its last node leaves, so cluster names cannot accumulate.
pub(crate) struct Rooms {
    clusters: Mutex<BTreeMap<ClusterName, Room>>,
    refused: Mutex<Refusals>,
    max_frame: usize,
    max_connections: usize,
    started: Instant,
}

#[derive(Default)]
struct Room {
    peers: BTreeMap<NodeName, mpsc::Sender<Outbound>>,
    /// Nodes whose queue stayed full for a sender's longest wait: frames for them are
    /// dropped at once until their queue takes one again.
    stalled: BTreeSet<NodeName>,
    stats: ClusterStats,
}

/// What became of one data frame's copies (one per recipient) that were not queued at once.
#[derive(Debug, Default)]
pub(crate) struct Routed {
    /// Copies for full queues: the sender's connection waits for room (see the module doc).
    pub blocked: Vec<Blocked>,
    /// Copies dropped, for the sender's `dropped` notice.
    pub dropped: Vec<(NodeName, DropReason)>,
}

/// A copy of a frame for a node whose queue is full.
#[derive(Debug)]
pub(crate) struct Blocked {
    pub to: NodeName,
    pub tx: mpsc::Sender<Outbound>,
    pub out: Outbound,
}

impl Blocked {
    /// The frame's length, and whether it is a signalling frame (counted apart).
    pub(crate) fn size(&self) -> (u64, bool) {
        match &self.out {
            Outbound::Data(bytes) => (bytes.len() as u64, bytes.first() == Some(&SIGNAL)),
            Outbound::Control(text) => (text.len() as u64, false),
        }
    }
}

/// Queues a data frame for `to` without waiting; what did not fit goes into `routed`.
fn offer(
    stats: &mut ClusterStats,
    stalled: &mut BTreeSet<NodeName>,
    to: &NodeName,
    tx: &mpsc::Sender<Outbound>,
    data: Bytes,
    routed: &mut Routed,
) {
    let (len, signal) = (data.len() as u64, data.first() == Some(&SIGNAL));
    match tx.try_send(Outbound::Data(data)) {
        Ok(()) => {
            count_out(stats, len, signal);
            stalled.remove(to);
        }
        Err(TrySendError::Full(out)) => {
            stats.queue_waits += 1;
            if stalled.contains(to) {
                stats.dropped += 1;
                stats.queue_full += 1;
                routed.dropped.push((to.clone(), DropReason::QueueFull));
            } else {
                routed.blocked.push(Blocked {
                    to: to.clone(),
                    tx: tx.clone(),
                    out,
                });
            }
        }
        Err(TrySendError::Closed(_)) => {
            stats.dropped += 1;
            stats.unknown_destination += 1;
            routed.dropped.push((to.clone(), DropReason::Left));
        }
    }
}

fn count_out(stats: &mut ClusterStats, len: u64, signal: bool) {
    if signal {
        stats.signal_frames_out += 1;
    } else {
        stats.frames_out += 1;
        stats.bytes_out += len;
    }
}

impl Room {
    /// Queues `out` for every node but `except`.
    fn push_to_others(&mut self, except: &NodeName, out: &Outbound) {
        for (name, tx) in &self.peers {
            if name != except {
                push(&mut self.stats, tx, out.clone());
            }
        }
    }
}

/// Queues a control message without waiting, or drops and counts it when the queue is full.
fn push(stats: &mut ClusterStats, to: &mpsc::Sender<Outbound>, out: Outbound) {
    let len = match &out {
        Outbound::Data(bytes) => Some((bytes.len() as u64, bytes.first() == Some(&SIGNAL))),
        Outbound::Control(_) => None,
    };
    match to.try_send(out) {
        Ok(()) => match len {
            Some((_, true)) => stats.signal_frames_out += 1,
            Some((len, false)) => {
                stats.frames_out += 1;
                stats.bytes_out += len;
            }
            None => {}
        },
        Err(TrySendError::Full(_) | TrySendError::Closed(_)) => {
            stats.dropped += 1;
            stats.queue_full += 1;
        }
    }
}

/// Why a hello could not take a seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinError {
    /// The node id is live in the cluster.
    NodeIdInUse,
    /// The cluster has the most connections allowed.
    ClusterFull,
}

impl Rooms {
    pub(crate) fn new(max_frame: usize, max_connections: usize) -> Arc<Rooms> {
        Arc::new(Rooms {
            clusters: Mutex::new(BTreeMap::new()),
            refused: Mutex::new(Refusals::default()),
            max_frame,
            max_connections,
            started: Instant::now(),
        })
    }

    /// Counts a refused (or closed) connection.
    pub(crate) fn refused(&self, why: Refusal) {
        let mut r = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        let counter = match why {
            Refusal::BadHello => &mut r.bad_hello,
            Refusal::Unauthorized => &mut r.unauthorized,
            Refusal::OriginNotAllowed => &mut r.origin_not_allowed,
            Refusal::NodeIdInUse => &mut r.node_id_in_use,
            Refusal::ClusterFull => &mut r.cluster_full,
            Refusal::RateLimited => &mut r.rate_limited,
            Refusal::TooLarge => &mut r.too_large,
        };
        *counter += 1;
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<ClusterName, Room>> {
        // Nothing panics while holding the lock; if something did, the map is still whole.
        self.clusters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seats `node` in `cluster`: queues the welcome on `tx` (so it precedes every frame
    /// for the node) and a `joined` for every other node.
    pub(crate) fn join(
        self: &Arc<Self>,
        cluster: ClusterName,
        node: NodeName,
        tx: mpsc::Sender<Outbound>,
    ) -> Result<Seat, JoinError> {
        let mut clusters = self.lock();
        if let Some(room) = clusters.get(&cluster) {
            if room.peers.contains_key(&node) {
                return Err(JoinError::NodeIdInUse);
            }
            if room.peers.len() >= self.max_connections {
                return Err(JoinError::ClusterFull);
            }
        }
        let room = clusters.entry(cluster.clone()).or_default();
        let welcome = Control::Welcome {
            node: node.to_string(),
            peers: room.peers.keys().map(|n| n.to_string()).collect(),
        };
        push(&mut room.stats, &tx, Outbound::Control(welcome.to_json()));
        let joined = Control::Joined {
            node: node.to_string(),
        };
        room.push_to_others(&node, &Outbound::Control(joined.to_json()));
        room.peers.insert(node.clone(), tx.clone());
        room.stats.connections += 1;
        Ok(Seat {
            rooms: Arc::clone(self),
            cluster,
            node,
            tx,
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        let clusters: BTreeMap<String, ClusterStats> = self
            .lock()
            .iter()
            .map(|(name, room)| (name.to_string(), room.stats))
            .collect();
        Stats {
            connections: clusters.values().map(|c| c.connections).sum(),
            clusters,
            refused: *self.refused.lock().unwrap_or_else(PoisonError::into_inner),
            uptime_s: self.started.elapsed().as_secs(),
        }
    }
}

/// A connected node's place in its cluster. Dropping it (on any kind of disconnect) removes
/// the node and tells the others it `left`.
pub(crate) struct Seat {
    rooms: Arc<Rooms>,
    cluster: ClusterName,
    node: NodeName,
    tx: mpsc::Sender<Outbound>,
}

impl Seat {
    pub(crate) fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    fn with_room<T>(&self, f: impl FnOnce(&mut Room) -> T) -> Option<T> {
        self.rooms.lock().get_mut(&self.cluster).map(f)
    }

    /// Routes one BINARY frame from this node: parses it, stamps the sender and queues it
    /// for its recipients, or answers this node with an error message. What could not be
    /// queued at once is returned, for the connection to wait for or to report.
    pub(crate) fn forward(&self, frame: &[u8]) -> Routed {
        let max_frame = self.rooms.max_frame;
        let mut routed = Routed::default();
        self.with_room(|room| {
            if frame.first() == Some(&SIGNAL) {
                room.stats.signal_frames_in += 1;
            } else {
                room.stats.frames_in += 1;
                room.stats.bytes_in += frame.len() as u64;
            }
            let error = if frame.len() > max_frame {
                room.stats.dropped += 1;
                room.stats.too_large += 1;
                frame_too_large(frame.len(), max_frame)
            } else {
                match frame::parse_inbound(frame) {
                    Ok(inbound) => match self.route(room, inbound, &mut routed) {
                        Ok(()) => return,
                        Err(error) => error,
                    },
                    Err(malformed) => {
                        room.stats.malformed += 1;
                        Control::error(ErrorCode::MalformedFrame, malformed.to_string())
                    }
                }
            };
            push(
                &mut room.stats,
                &self.tx,
                Outbound::Control(error.to_json()),
            );
        });
        routed
    }

    /// A blocked copy found room after a wait.
    pub(crate) fn delivered_late(&self, to: &NodeName, (len, signal): (u64, bool)) {
        self.with_room(|room| {
            count_out(&mut room.stats, len, signal);
            room.stalled.remove(to);
        });
    }

    /// A blocked copy is dropped: `to`'s queue stayed full for the longest wait (it is
    /// stalled from now on), or `to` left meanwhile.
    pub(crate) fn dropped_late(&self, to: &NodeName, reason: DropReason) {
        self.with_room(|room| {
            room.stats.dropped += 1;
            match reason {
                DropReason::QueueFull => {
                    room.stats.queue_full += 1;
                    if room.peers.contains_key(to) {
                        room.stalled.insert(to.clone());
                    }
                }
                DropReason::Left => room.stats.unknown_destination += 1,
            }
        });
    }

    /// Queues a control message for this node itself; false when its queue is full.
    pub(crate) fn notify(&self, control: &Control) -> bool {
        self.tx
            .try_send(Outbound::Control(control.to_json()))
            .is_ok()
    }

    fn route(
        &self,
        room: &mut Room,
        inbound: Inbound<'_>,
        routed: &mut Routed,
    ) -> Result<(), Control> {
        let Room {
            peers,
            stalled,
            stats,
        } = room;
        let (to, data) = match inbound {
            Inbound::Unicast { to, payload } => {
                let data = frame::delivery(Kind::Unicast, &self.node, payload);
                (to, data)
            }
            Inbound::Signal { to, payload } => {
                let data = frame::delivery(Kind::Signal, &self.node, payload);
                (to, data)
            }
            Inbound::Broadcast { payload } => {
                let data = Bytes::from(frame::delivery(Kind::Broadcast, &self.node, payload));
                for (name, tx) in peers.iter() {
                    if *name != self.node {
                        offer(stats, stalled, name, tx, data.clone(), routed);
                    }
                }
                return Ok(());
            }
        };
        let Some(tx) = peers.get(&to) else {
            stats.dropped += 1;
            if data.first() != Some(&SIGNAL) {
                stats.unknown_destination += 1;
            }
            return Err(Control::Error {
                code: ErrorCode::UnknownDestination,
                node: Some(to.to_string()),
                message: None,
            });
        };
        offer(stats, stalled, &to, tx, data.into(), routed);
        Ok(())
    }

    /// A TEXT frame after hello: not part of the protocol.
    pub(crate) fn unexpected_text(&self) {
        self.with_room(|room| {
            room.stats.malformed += 1;
            let error = Control::error(
                ErrorCode::MalformedFrame,
                "TEXT frames after hello are not part of the protocol",
            );
            push(
                &mut room.stats,
                &self.tx,
                Outbound::Control(error.to_json()),
            );
        });
    }

    /// A frame so large that the WebSocket layer refused it; the connection closes.
    pub(crate) fn refused_oversize(&self) {
        self.with_room(|room| {
            room.stats.dropped += 1;
            room.stats.too_large += 1;
        });
        self.rooms.refused(Refusal::TooLarge);
    }

    /// A message above this node's rate: held until its token is due.
    pub(crate) fn rate_limited(&self) {
        self.with_room(|room| room.stats.rate_limited += 1);
    }
}

/// The `RATE_LIMITED` error message.
pub(crate) fn rate_limited(limit: f64) -> Control {
    Control::error(
        ErrorCode::RateLimited,
        format!("kept sending above {limit} messages a second"),
    )
}

/// The `FRAME_TOO_LARGE` error message.
pub(crate) fn frame_too_large(len: usize, max_frame: usize) -> Control {
    Control::error(
        ErrorCode::FrameTooLarge,
        format!("frame of {len} bytes exceeds the maximum of {max_frame} bytes"),
    )
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut clusters = self.rooms.lock();
        let Some(room) = clusters.get_mut(&self.cluster) else {
            return;
        };
        if room
            .peers
            .get(&self.node)
            .is_some_and(|tx| tx.same_channel(&self.tx))
        {
            room.peers.remove(&self.node);
            room.stalled.remove(&self.node);
            room.stats.connections -= 1;
            let left = Control::Left {
                node: self.node.to_string(),
            };
            room.push_to_others(&self.node, &Outbound::Control(left.to_json()));
        }
        if room.peers.is_empty() {
            clusters.remove(&self.cluster);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(rooms: &Arc<Rooms>, cluster: &str, node: &str) -> (Seat, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(4);
        let seat = rooms
            .join(
                ClusterName::parse(cluster).unwrap(),
                NodeName::parse(node).unwrap(),
                tx,
            )
            .unwrap();
        (seat, rx)
    }

    fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(o) = rx.try_recv() {
            out.push(match o {
                Outbound::Control(json) => json,
                Outbound::Data(bytes) => format!("{:?}", &bytes[..]),
            });
        }
        out
    }

    #[test]
    fn join_route_leave() {
        let rooms = Rooms::new(100, 10);
        let (a, mut ra) = seat(&rooms, "c", "a");
        let (b, mut rb) = seat(&rooms, "c", "b");
        assert_eq!(
            drain(&mut ra),
            [
                r#"{"type":"welcome","node":"a","peers":[]}"#,
                r#"{"type":"joined","node":"b"}"#
            ]
        );
        assert_eq!(
            drain(&mut rb),
            [r#"{"type":"welcome","node":"b","peers":["a"]}"#]
        );
        let (tx, _rx) = mpsc::channel(1);
        let dup = rooms.join(
            ClusterName::parse("c").unwrap(),
            NodeName::parse("a").unwrap(),
            tx,
        );
        assert!(dup.is_err());

        a.forward(&frame::unicast(&NodeName::parse("b").unwrap(), &[7]));
        assert_eq!(drain(&mut rb), ["[1, 1, 97, 7]"]);
        a.forward(&[9]);
        assert!(drain(&mut ra)[0].contains("MALFORMED_FRAME"));
        a.forward(&[2; 101]);
        assert!(drain(&mut ra)[0].contains("FRAME_TOO_LARGE"));

        let stats = rooms.stats().clusters["c"];
        assert_eq!(
            (stats.connections, stats.frames_in, stats.frames_out),
            (2, 3, 1)
        );
        assert_eq!((stats.malformed, stats.dropped, stats.too_large), (1, 1, 1));

        drop(a);
        assert_eq!(drain(&mut rb), [r#"{"type":"left","node":"a"}"#]);
        drop(b);
        assert!(rooms.stats().clusters.is_empty());
    }

    #[test]
    fn a_full_queue_blocks_then_a_stalled_node_drops_at_once() {
        let rooms = Rooms::new(100, 10);
        let (a, _ra) = seat(&rooms, "c", "a");
        let (_b, mut rb) = seat(&rooms, "c", "b"); // capacity 4, one slot taken by the welcome
        let routed: Vec<Routed> = (0..5).map(|_| a.forward(&frame::broadcast(&[1]))).collect();
        assert!(routed[..3].iter().all(|r| r.blocked.is_empty()));
        assert_eq!(routed[3].blocked.len(), 1, "handed back to wait for room");
        assert_eq!(routed[3].blocked[0].to.as_str(), "b");
        let stats = rooms.stats().clusters["c"];
        assert_eq!(
            (stats.frames_out, stats.dropped, stats.queue_waits),
            (3, 0, 2)
        );

        // The wait ran out: b is stalled, and frames for it are dropped at once.
        let b = NodeName::parse("b").unwrap();
        a.dropped_late(&b, DropReason::QueueFull);
        let now = a.forward(&frame::broadcast(&[2]));
        assert!(now.blocked.is_empty());
        assert_eq!(now.dropped, [(b.clone(), DropReason::QueueFull)]);
        let stats = rooms.stats().clusters["c"];
        assert_eq!((stats.dropped, stats.queue_full), (2, 2));

        // Once b's queue takes a frame again, it is no longer stalled.
        drain(&mut rb);
        let later = a.forward(&frame::broadcast(&[3]));
        assert!(later.blocked.is_empty() && later.dropped.is_empty());
        for _ in 0..3 {
            a.forward(&frame::broadcast(&[4]));
        }
        assert_eq!(a.forward(&frame::broadcast(&[5])).blocked.len(), 1);
    }

    #[test]
    fn a_full_cluster_refuses_new_ids_but_not_other_clusters() {
        let rooms = Rooms::new(100, 2);
        let _a = seat(&rooms, "c", "a");
        let _b = seat(&rooms, "c", "b");
        let join = |cluster: &str, node: &str| {
            let (tx, _rx) = mpsc::channel(1);
            let name = NodeName::parse(node).unwrap();
            rooms
                .join(ClusterName::parse(cluster).unwrap(), name, tx)
                .err()
        };
        assert_eq!(join("c", "z"), Some(JoinError::ClusterFull));
        assert_eq!(join("c", "a"), Some(JoinError::NodeIdInUse));
        assert_eq!(join("d", "z"), None);
    }
}
