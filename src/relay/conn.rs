//! One WebSocket connection: the hello, then frames both ways until either side goes.
//!
//! A single task owns the socket. It reads frames and hands them to the node's seat in its room,
//! writes what the rooms queued for the node (in batches, one flush each), pings the peer,
//! and drops a peer that stopped answering. Whatever ends the loop, dropping the seat
//! removes the node from its cluster and tells the others it `left`.
//!
//! **Back-pressure.** The task reads the next message only once the last one is dealt
//! with. A message above the connection's rate waits until its token is due; a frame for
//! a node whose queue is full waits for room, up to `queue_wait`. Meanwhile the task keeps
//! writing what is queued for its own node, but reads nothing, so TCP slows the sender down
//! instead of the relay dropping its frames. What is still dropped is reported to the
//! sender with `dropped` notices ([`super::drops`]).

use super::access::Access;
use super::drops::Drops;
use super::frame::DropReason;
use super::frame::{
    self, Control, ErrorCode, Hello, CLOSE_BAD_HELLO, CLOSE_CLUSTER_FULL, CLOSE_GOING_AWAY,
    CLOSE_NODE_ID_IN_USE, CLOSE_ORIGIN_NOT_ALLOWED, CLOSE_RATE_LIMITED, CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED,
};
use super::rate::{Bucket, RateLimit, Verdict};
use super::rooms::{self, frame_too_large, JoinError, Outbound, Refusal, Rooms, Seat};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval_at, sleep, sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::{frame::CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;

pub(crate) type Ws = WebSocketStream<TcpStream>;

/// The per-connection limits, from [`super::Config`].
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub max_frame: usize,
    pub queue: usize,
    pub queue_wait: Duration,
    pub ping_interval: Duration,
    pub hello_timeout: Duration,
    pub rate: RateLimit,
}

impl Limits {
    /// A peer silent for this long (no frame, no pong) is gone; so is one whose socket
    /// accepts nothing for this long.
    fn idle(&self) -> Duration {
        self.ping_interval * 3
    }

    /// The WebSocket layer's own cap. Frames between `max_frame` and this are answered with
    /// `FRAME_TOO_LARGE` and the connection stays; larger ones end the connection (1009)
    /// before they are buffered, so a connection never holds more than this.
    pub(crate) fn websocket_config(&self) -> WebSocketConfig {
        let cap = self.max_frame.saturating_mul(2).max(64 * 1024);
        WebSocketConfig::default()
            .max_message_size(Some(cap))
            .max_frame_size(Some(cap))
    }
}

/// How long a closing handshake may take before the socket is simply dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// At most this many bytes of queued frames are written before one flush.
const BATCH_BYTES: usize = 64 * 1024;

/// Serves one upgraded connection. `origin` is the upgrade request's `Origin` header.
pub(crate) async fn run(
    mut ws: Ws,
    origin: Option<String>,
    rooms: Arc<Rooms>,
    access: &Access,
    limits: &Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    if !access.origin_allowed(origin.as_deref()) {
        rooms.refused(Refusal::OriginNotAllowed);
        let message = match &origin {
            Some(o) => format!("origin {o:?} is not allowed by this relay"),
            None => "this relay only accepts browsers from its allowed origins (no Origin header)"
                .into(),
        };
        let error = Control::error(ErrorCode::OriginNotAllowed, message);
        return refuse(ws, error, CLOSE_ORIGIN_NOT_ALLOWED, "origin not allowed").await;
    }
    let hello = match timeout(limits.hello_timeout, read_hello(&mut ws)).await {
        Ok(Some(Ok(hello))) => hello,
        Ok(Some(Err(message))) => return refuse_hello(ws, &rooms, message).await,
        Ok(None) => return,
        Err(_) => {
            let message = format!("no hello within {:?}", limits.hello_timeout);
            return refuse_hello(ws, &rooms, message).await;
        }
    };
    if let Err(why) = access.authorize(&hello, unix_now()) {
        rooms.refused(Refusal::Unauthorized);
        let error = Control::error(ErrorCode::Unauthorized, why.to_string());
        return refuse(ws, error, CLOSE_UNAUTHORIZED, "unauthorized").await;
    }
    let (tx, mut rx) = mpsc::channel(limits.queue.max(1));
    let seat = match rooms.join(hello.cluster, hello.node.clone(), tx) {
        Ok(seat) => seat,
        Err(JoinError::NodeIdInUse) => {
            rooms.refused(Refusal::NodeIdInUse);
            let error = Control::Error {
                code: ErrorCode::NodeIdInUse,
                node: Some(hello.node.to_string()),
                message: Some("node id in use".into()),
            };
            return refuse(ws, error, CLOSE_NODE_ID_IN_USE, "node id in use").await;
        }
        Err(JoinError::ClusterFull) => {
            rooms.refused(Refusal::ClusterFull);
            let error = Control::error(
                ErrorCode::ClusterFull,
                "the cluster has the most connections this relay allows",
            );
            return refuse(ws, error, CLOSE_CLUSTER_FULL, "cluster full").await;
        }
    };
    let ending = session(&mut ws, &seat, &mut rx, limits, &mut shutdown).await;
    // Leave the cluster (the others get `left`) before the closing handshake.
    drop(seat);
    match ending {
        Ending::Gone => {}
        Ending::Close(code, reason) => {
            flush_queued(&mut ws, &mut rx).await;
            close(ws, code, reason).await
        }
        Ending::Refuse(error, code, reason) => {
            flush_queued(&mut ws, &mut rx).await;
            refuse(ws, error, code, reason).await
        }
    }
}

/// Write what was queued for the peer before the session ended (an earlier error message,
/// say), so that it arrives before the closing error and close frame.
async fn flush_queued(ws: &mut Ws, rx: &mut mpsc::Receiver<Outbound>) {
    while let Ok(out) = rx.try_recv() {
        let message = match out {
            Outbound::Control(text) => Message::text(text),
            Outbound::Data(bytes) => Message::binary(bytes),
        };
        if !matches!(timeout(CLOSE_WAIT, ws.feed(message)).await, Ok(Ok(()))) {
            return;
        }
    }
    let _ = timeout(CLOSE_WAIT, ws.flush()).await;
}

/// How a session ended, and what is left to tell the peer.
enum Ending {
    /// The peer closed, or the socket failed: nothing to send.
    Gone,
    Close(u16, &'static str),
    Refuse(Control, u16, &'static str),
}

async fn session(
    ws: &mut Ws,
    seat: &Seat,
    rx: &mut mpsc::Receiver<Outbound>,
    limits: &Limits,
    shutdown: &mut watch::Receiver<bool>,
) -> Ending {
    let idle = limits.idle();
    let mut bucket = Bucket::new(limits.rate, std::time::Instant::now());
    let mut drops = Drops::default();
    let mut last_heard = Instant::now();
    let mut ping = interval_at(Instant::now() + limits.ping_interval, limits.ping_interval);
    loop {
        let report = drops.due();
        tokio::select! {
            incoming = ws.next() => {
                last_heard = Instant::now();
                // Every message counts towards the rate, pings included (each costs a pong).
                if let Some(Ok(Message::Binary(_) | Message::Text(_) | Message::Ping(_))) = &incoming {
                    match bucket.take(std::time::Instant::now()) {
                        Verdict::Accept => {}
                        Verdict::Wait(wait) => {
                            seat.rate_limited();
                            if let Err(ending) = meanwhile(ws, rx, idle, shutdown, sleep(wait)).await {
                                return ending;
                            }
                        }
                        Verdict::Close => {
                            seat.rate_limited();
                            seat.rooms().refused(Refusal::RateLimited);
                            let error = rooms::rate_limited(limits.rate.rate);
                            return Ending::Refuse(error, CLOSE_RATE_LIMITED, "rate limit");
                        }
                    }
                }
                match incoming {
                    Some(Ok(Message::Binary(data))) => {
                        let routed = seat.forward(&data);
                        drops.extend(routed.dropped);
                        // One deadline for every copy of a broadcast.
                        let deadline = Instant::now() + limits.queue_wait;
                        for blocked in routed.blocked {
                            let size = blocked.size();
                            let send = timeout_at(deadline, blocked.tx.send(blocked.out));
                            match meanwhile(ws, rx, idle, shutdown, send).await {
                                Ok(Ok(Ok(()))) => seat.delivered_late(&blocked.to, size),
                                Ok(Ok(Err(_))) => {
                                    seat.dropped_late(&blocked.to, DropReason::Left);
                                    drops.add(blocked.to, DropReason::Left);
                                }
                                Ok(Err(_)) => {
                                    seat.dropped_late(&blocked.to, DropReason::QueueFull);
                                    drops.add(blocked.to, DropReason::QueueFull);
                                }
                                Err(ending) => return ending,
                            }
                        }
                    }
                    Some(Ok(Message::Text(_))) => seat.unexpected_text(),
                    // Ping, pong and close: tungstenite answers them itself.
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, .. }))) => {
                        seat.refused_oversize();
                        let error = frame_too_large(size, limits.max_frame);
                        return Ending::Refuse(error, CLOSE_TOO_BIG, "frame too large");
                    }
                    None | Some(Err(_)) => return Ending::Gone,
                }
            }
            Some(out) = rx.recv() => {
                if !matches!(timeout(idle, write_batch(ws, out, rx)).await, Ok(Ok(()))) {
                    return Ending::Gone;
                }
            }
            _ = sleep_until(report.unwrap_or_else(Instant::now)), if report.is_some() => {
                drops.report(|notice| seat.notify(notice));
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > idle {
                    return Ending::Close(CLOSE_GOING_AWAY, "no answer to pings");
                }
                if !matches!(timeout(idle, ws.send(Message::Ping(Bytes::new()))).await, Ok(Ok(()))) {
                    return Ending::Gone;
                }
            }
            _ = shutdown.changed() => return Ending::Close(CLOSE_GOING_AWAY, "relay shutting down"),
        }
    }
}

/// Waits for `work` without reading the socket (the back-pressure), while writing what is
/// queued for this node, so that two nodes waiting for each other's queues both get room.
async fn meanwhile<T>(
    ws: &mut Ws,
    rx: &mut mpsc::Receiver<Outbound>,
    idle: Duration,
    shutdown: &mut watch::Receiver<bool>,
    work: impl Future<Output = T>,
) -> Result<T, Ending> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            done = &mut work => return Ok(done),
            _ = shutdown.changed() => {
                return Err(Ending::Close(CLOSE_GOING_AWAY, "relay shutting down"));
            }
            Some(out) = rx.recv() => {
                if !matches!(timeout(idle, write_batch(ws, out, rx)).await, Ok(Ok(()))) {
                    return Err(Ending::Gone);
                }
            }
        }
    }
}

/// The first data message: `None` if the peer went away first.
async fn read_hello(ws: &mut Ws) -> Option<Result<Hello, String>> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return Some(frame::parse_hello(&text)),
            Ok(Message::Binary(_)) => {
                return Some(Err(
                    "data before hello: the first frame must be a TEXT hello".into(),
                ))
            }
            Ok(_) => continue,
            Err(WsError::Capacity(_)) => return Some(Err("hello too large".into())),
            Err(_) => return None,
        }
    }
}

/// Writes `first` and whatever else is queued, up to [`BATCH_BYTES`], then flushes once.
async fn write_batch(
    ws: &mut Ws,
    first: Outbound,
    rx: &mut mpsc::Receiver<Outbound>,
) -> Result<(), WsError> {
    let mut bytes = 0;
    let mut next = Some(first);
    while let Some(out) = next {
        let message = match out {
            Outbound::Control(json) => Message::text(json),
            Outbound::Data(data) => Message::Binary(data),
        };
        bytes += message.len();
        ws.feed(message).await?;
        next = if bytes < BATCH_BYTES {
            rx.try_recv().ok()
        } else {
            None
        };
    }
    ws.flush().await
}

async fn refuse_hello(ws: Ws, rooms: &Rooms, message: String) {
    rooms.refused(Refusal::BadHello);
    let error = Control::error(ErrorCode::BadHello, message);
    refuse(ws, error, CLOSE_BAD_HELLO, "bad hello").await
}

/// The wall clock in Unix seconds, for token expiry.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sends an error message, then closes.
async fn refuse(mut ws: Ws, error: Control, code: u16, reason: &str) {
    if let Ok(Ok(())) = timeout(CLOSE_WAIT, ws.send(Message::text(error.to_json()))).await {
        close(ws, code, reason).await;
    }
}

/// Sends a close frame and waits briefly for the peer's, as RFC 6455 asks. Whatever the peer
/// still sends meanwhile (the rest of a frame too large to read, say) is read and dropped:
/// closing a socket with unread input resets the connection, and the peer could then lose
/// the error and close frames it was sent.
async fn close(mut ws: Ws, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: code.into(),
        reason: reason.into(),
    };
    let _ = timeout(CLOSE_WAIT, async {
        if ws.send(Message::Close(Some(frame))).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
            let tcp = ws.get_mut();
            let _ = tcp.shutdown().await;
            let mut sink = vec![0u8; 64 * 1024];
            while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
        }
    })
    .await;
}
