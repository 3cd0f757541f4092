//! The WebSocket relay: how nodes in browser tabs and Node.js reach each other. Browsers
//! cannot accept connections, so every node keeps one WebSocket to the relay, and the relay
//! routes frames between the nodes of a cluster by node id. It holds no protocol logic:
//! payloads are opaque bytes, membership is "who is connected now", and everything Dynamo
//! (the paper's sections 4.5–4.6: quorums, failure detection, handoff) stays in the nodes.
//! Native only; `ringlet-relay` is its command line.
//!
//! # Protocol
//!
//! **Connect** with a WebSocket to `GET /ws`. The first frame must be TEXT:
//!
//! ```json
//! {"type":"hello","cluster":"<name>","node":"<node id>","token":"<join token>"}
//! ```
//!
//! `token` is needed only by a relay with a secret ([`token`] documents the format).
//! A cluster name is 1..=64 characters from `[A-Za-z0-9_.-]`; a node id is 1..=64 printable
//! ASCII characters without spaces (bytes `0x21..=0x7e`). Unknown fields are ignored. The relay
//! answers TEXT `{"type":"welcome","node":"<id>","peers":["<id>",...]}`, the other nodes
//! connected in that cluster (sorted), and sends each of them `{"type":"joined","node":"<id>"}`.
//! When a connection ends, cleanly or not, the others get `{"type":"left","node":"<id>"}`.
//! The welcome precedes every other frame to the new node.
//!
//! Refusals end with an error message, then a close frame:
//!
//! | what | error message | close |
//! | --- | --- | --- |
//! | the token is missing, malformed, badly signed, expired, or for another cluster or node | `{"type":"error","code":"UNAUTHORIZED","message":"..."}` | 4001 `unauthorized` |
//! | hello not valid JSON, wrong type or names; BINARY data first; no hello within 10 s | `{"type":"error","code":"BAD_HELLO","message":"..."}` | 4002 `bad hello` |
//! | the upgrade's `Origin` is not on the allowlist (sent before any hello) | `{"type":"error","code":"ORIGIN_NOT_ALLOWED","message":"..."}` | 4003 `origin not allowed` |
//! | the node id is live in the cluster | `{"type":"error","code":"NODE_ID_IN_USE","node":"<id>","message":"node id in use"}` | 4009 `node id in use` |
//! | the cluster has `max_cluster_connections` nodes | `{"type":"error","code":"CLUSTER_FULL","message":"..."}` | 4029 `cluster full` |
//!
//! **Data** between nodes are BINARY frames:
//!
//! | direction | layout |
//! | --- | --- |
//! | client → relay, unicast | `[0x01][dest_len: u8][dest id][payload...]` |
//! | client → relay, broadcast to every other node of the cluster | `[0x02][payload...]` |
//! | relay → client, a unicast | `[0x01][src_len: u8][src id][payload...]` |
//! | relay → client, a broadcast | `[0x02][src_len: u8][src id][payload...]` |
//! | signalling, both ways (routed like a unicast) | `[0x03][id_len: u8][dest or src id][payload...]` |
//!
//! The relay stamps the sender's id, the one its connection registered, so no node can send
//! as another. A unicast to oneself is delivered. Payloads may be empty.
//!
//! **Errors** on data frames drop the frame, answer the sender with a TEXT message and keep
//! the connection open:
//!
//! | what | error message |
//! | --- | --- |
//! | no node of that id in the sender's cluster | `{"type":"error","code":"UNKNOWN_DESTINATION","node":"<dest>"}` |
//! | empty frame, unknown kind byte, header cut short, invalid id in the header; a TEXT frame after hello | `{"type":"error","code":"MALFORMED_FRAME","message":"..."}` |
//! | frame longer than the maximum (`--max-frame`, default 1 MiB) | `{"type":"error","code":"FRAME_TOO_LARGE","message":"..."}` |
//!
//! The WebSocket layer itself refuses messages above twice the maximum (at least 64 KiB)
//! before buffering them: `FRAME_TOO_LARGE`, then close 1009.
//!
//! **Back-pressure, not drops.** Every message after the hello (BINARY, TEXT, ping) takes a
//! token from the connection's bucket (`rate` a second, `burst` at once, see [`rate`]); one
//! that finds none waits until its token is due, and the relay reads nothing more from that
//! connection meanwhile, so TCP slows the sender down. Nothing is dropped for the rate.
//! Only when `max_waits` is set (0 by default: never), a connection with more than that many
//! messages held back within 10 s gets `RATE_LIMITED`, then close 4008 `rate limit`.
//!
//! A frame for a node whose outbound queue is full waits for room in it, up to `queue_wait`
//! (1 s by default), the sender's connection again unread meanwhile (it keeps receiving).
//! After that the frame is dropped and the destination is *stalled*: frames for it are
//! dropped at once until its queue takes one again.
//!
//! **Drops are reported.** Every frame dropped after it was accepted (above: the queue stayed
//! full, or the destination left while the frame waited) is reported to its sender, a few
//! milliseconds later, gathered per destination and reason:
//! `{"type":"dropped","node":"<dest>","reason":"queue_full"|"left","count":<n>}`.
//!
//! **Delivery** is best effort, in order per sender and recipient. Each connection has a
//! bounded outbound queue (default 1024 messages; when it is full, see back-pressure above).
//! The relay pings every 20 s and drops a peer it has not heard from in three intervals
//! (close 1001), or whose socket accepts nothing for as long.
//! A node that reconnects after an abrupt drop may be refused with 4009 until then.
//! On shutdown every connection is closed with 1001.
//!
//! **`GET /stats`** answers JSON (a cluster is listed while it has a connected node):
//!
//! ```json
//! {"clusters":{"<name>":{"connections":2,"frames_in":10,"bytes_in":900,"frames_out":10,
//!   "bytes_out":920,"dropped":0,"malformed":0,"unknown_destination":0,"too_large":0,
//!   "queue_full":0,"rate_limited":0,"queue_waits":0,"signal_frames_in":0,
//!   "signal_frames_out":0}},"connections":2,
//!   "refused":{"bad_hello":0,"unauthorized":0,"origin_not_allowed":0,"node_id_in_use":0,
//!   "cluster_full":0,"rate_limited":0,"too_large":0},"uptime_s":42}
//! ```
//!
//! `frames_in`/`bytes_in` count the BINARY frames received from the cluster's nodes;
//! `frames_out`/`bytes_out` those queued for them (a broadcast counts once per recipient);
//! `dropped` the frames not delivered, split by reason in `unknown_destination` (also: the
//! destination left while the frame waited), `too_large` and `queue_full`; `malformed` the
//! frames refused for their shape. `rate_limited` counts the messages held back for the
//! rate and `queue_waits` the frames that found a full queue (neither is a drop). `refused` counts, since start-up, the connections refused or closed by reason.
//! Signalling frames (`0x03`, WebRTC offers, answers and candidates between two nodes) are
//! counted only in `signal_frames_in` and `signal_frames_out`.
//!
//! **Static files**: `/pkg/...` from `--pkg` (default `pkg`), everything else from `--www`
//! (default `www`), `index.html` for a directory; `GET` and `HEAD` only, one request per
//! connection. Paths with a `..` segment (also percent-encoded), a backslash or a NUL are
//! refused with 400, missing files are 404.
//!
//! # Use
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use ringlet::relay::{Config, Relay};
//! let relay = Relay::start(Config { listen: "127.0.0.1:0".parse().unwrap(), ..Config::default() }).await?;
//! println!("ws://{}/ws", relay.local_addr());
//! relay.shutdown().await;
//! # Ok(()) }
//! ```

pub mod access;
pub mod frame;
pub mod rate;
pub mod token;

mod conn;
mod drops;
mod http;
mod rooms;

pub use access::Access;
pub use rate::RateLimit;
pub use rooms::{ClusterStats, Refusals, Stats};
pub use token::Secret;

use conn::Limits;
use rooms::Rooms;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long connections get to close on shutdown before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The relay's settings. `Config::default()` is what `ringlet-relay` runs with no flags.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; 127.0.0.1:8080 by default. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Static files served at `/`.
    pub www: PathBuf,
    /// Static files served at `/pkg/` (the wasm build).
    pub pkg: PathBuf,
    /// The largest BINARY frame routed, in bytes (header included).
    pub max_frame: usize,
    /// Messages queued per connection; a sender of a frame for a full queue waits.
    pub queue: usize,
    /// How long a sender waits for room in a full queue (reading nothing meanwhile) before
    /// the frame is dropped and reported to it; the destination is then stalled, and frames
    /// for it are dropped at once while its queue stays full.
    pub queue_wait: Duration,
    /// How often the relay pings each node; silence for three intervals drops it.
    pub ping_interval: Duration,
    /// How long a new connection has to send its hello.
    pub hello_timeout: Duration,
    /// Who may connect and join: the secret for join tokens, the origin allowlist.
    pub access: Access,
    /// The most nodes connected in one cluster; further hellos are refused (4029).
    pub max_cluster_connections: usize,
    /// Messages a second per connection, the burst, and the waits that close it (4008).
    ///
    /// The defaults (100,000 a second, a burst of 200,000) are set well above what one
    /// healthy replica sends at full speed, so that they never slow one down. Measured with
    /// `scripts/bench-relay-rate.mjs` (one Node.js replica of three, N=3, R=2, W=2, doing
    /// 10,000 puts or gets with 32 to 2,000 in flight, on the 2-core development machine) a
    /// replica sent at most 18,500 messages a second over any second, and 3,600 in its
    /// busiest 100 ms (`docs/figures.md`): the rate is 5 times the first, the burst 2 s at
    /// the rate. Above the rate a connection is slowed, never dropped from.
    pub rate: RateLimit,
    /// Whether `GET /stats` answers (it names the clusters and their traffic).
    pub stats: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            www: PathBuf::from("www"),
            pkg: PathBuf::from("pkg"),
            max_frame: 1 << 20,
            queue: 1024,
            queue_wait: Duration::from_secs(1),
            ping_interval: Duration::from_secs(20),
            hello_timeout: Duration::from_secs(10),
            access: Access {
                clock_skew_s: 60,
                ..Access::default()
            },
            max_cluster_connections: 256,
            rate: RateLimit {
                rate: 100_000.0,
                burst: 200_000.0,
                max_waits: 0,
            },
            stats: true,
        }
    }
}

/// What every connection task shares.
struct Shared {
    rooms: Arc<Rooms>,
    limits: Limits,
    access: Access,
    stats: bool,
    www: PathBuf,
    pkg: PathBuf,
}

/// A running relay.
pub struct Relay {
    addr: SocketAddr,
    rooms: Arc<Rooms>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Binds `config.listen` and serves on the current tokio runtime until [`Relay::shutdown`].
    pub async fn start(config: Config) -> std::io::Result<Relay> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let rooms = Rooms::new(config.max_frame, config.max_cluster_connections.max(1));
        let shared = Arc::new(Shared {
            rooms: Arc::clone(&rooms),
            limits: Limits {
                max_frame: config.max_frame,
                queue: config.queue,
                queue_wait: config.queue_wait,
                ping_interval: config.ping_interval,
                hello_timeout: config.hello_timeout,
                rate: config.rate,
            },
            access: config.access,
            stats: config.stats,
            www: config.www,
            pkg: config.pkg,
        });
        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared, signal));
        Ok(Relay {
            addr,
            rooms,
            shutdown,
            task,
        })
    }

    /// The address the relay listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters `GET /stats` shows.
    pub fn stats(&self) -> Stats {
        self.rooms.stats()
    }

    /// Stops accepting, closes every WebSocket with 1001, and returns when the connections
    /// have ended (or after a short grace period, cutting the rest).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(http::handle(stream, Arc::clone(&shared), signal.clone()));
                }
                // Out of file descriptors, say: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next() => {}
            _ = signal.changed() => break,
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drained).await;
    connections.shutdown().await;
}
