//! Clusters as rooms: which node ids are connected in each cluster, the routing of data
//! frames between them, and the counters behind `/stats`.
//!
//! Everything happens under one short lock and never waits: a frame for a node whose
//! outbound queue is full is dropped and counted, so one slow consumer cannot hold up a
//! cluster or grow the relay's memory.

use super::frame::{self, ClusterName, Control, ErrorCode, Inbound, Kind, NodeName, SIGNAL};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Messages not delivered, for any of the four reasons that follow.
    pub dropped: u64,
    /// Frames refused for their shape: bad binary header, or a TEXT frame after hello.
    pub malformed: u64,
    /// Frames for a node id not connected in the cluster.
    pub unknown_destination: u64,
    /// Frames longer than the maximum.
    pub too_large: u64,
    /// Messages for a node whose outbound queue was full.
    pub queue_full: u64,
    /// Messages from a node above its message rate.
    pub rate_limited: u64,
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
    stats: ClusterStats,
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

/// Queues `out` without waiting, or drops and counts it when the queue is full.
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
    /// for its recipients, or answers this node with an error message.
    pub(crate) fn forward(&self, frame: &[u8]) {
        let max_frame = self.rooms.max_frame;
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
                    Ok(inbound) => match self.route(room, inbound) {
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
    }

    fn route(&self, room: &mut Room, inbound: Inbound<'_>) -> Result<(), Control> {
        match inbound {
            Inbound::Unicast { to, payload } => {
                let Some(tx) = room.peers.get(&to) else {
                    room.stats.dropped += 1;
                    room.stats.unknown_destination += 1;
                    return Err(Control::Error {
                        code: ErrorCode::UnknownDestination,
                        node: Some(to.to_string()),
                        message: None,
                    });
                };
                let data = frame::delivery(Kind::Unicast, &self.node, payload);
                push(&mut room.stats, tx, Outbound::Data(data.into()));
            }
            Inbound::Signal { to, payload } => {
                let Some(tx) = room.peers.get(&to) else {
                    room.stats.dropped += 1;
                    return Err(Control::Error {
                        code: ErrorCode::UnknownDestination,
                        node: Some(to.to_string()),
                        message: None,
                    });
                };
                let data = frame::delivery(Kind::Signal, &self.node, payload);
                push(&mut room.stats, tx, Outbound::Data(data.into()));
            }
            Inbound::Broadcast { payload } => {
                let data = frame::delivery(Kind::Broadcast, &self.node, payload);
                room.push_to_others(&self.node, &Outbound::Data(data.into()));
            }
        }
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

    /// A message above this node's rate, dropped; the first of a run is answered with
    /// `RATE_LIMITED`.
    pub(crate) fn rate_limited(&self, len: usize, answer: bool, limit: f64) {
        self.with_room(|room| {
            room.stats.frames_in += 1;
            room.stats.bytes_in += len as u64;
            room.stats.dropped += 1;
            room.stats.rate_limited += 1;
            if answer {
                let error = rate_limited(limit);
                push(
                    &mut room.stats,
                    &self.tx,
                    Outbound::Control(error.to_json()),
                );
            }
        });
    }
}

/// The `RATE_LIMITED` error message.
pub(crate) fn rate_limited(limit: f64) -> Control {
    Control::error(
        ErrorCode::RateLimited,
        format!("more than {limit} messages a second: messages dropped"),
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
    fn a_full_queue_drops_and_counts() {
        let rooms = Rooms::new(100, 10);
        let (a, _ra) = seat(&rooms, "c", "a");
        let (_b, _rb) = seat(&rooms, "c", "b"); // capacity 4, one slot taken by the welcome
        for _ in 0..10 {
            a.forward(&frame::broadcast(&[1]));
        }
        let stats = rooms.stats().clusters["c"];
        assert_eq!(
            (stats.frames_out, stats.dropped, stats.queue_full),
            (3, 7, 7)
        );
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
