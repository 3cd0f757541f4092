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
//! | above the connection's message rate (once per run of drops) | `{"type":"error","code":"RATE_LIMITED","message":"..."}` |
//!
//! Every message after the hello (BINARY, TEXT, ping) takes a token from the connection's
//! bucket (`rate` a second, `burst` at once, see [`rate`]); one that finds none is dropped.
//! More than `max_drops` dropped within 10 s: `RATE_LIMITED`, then close 4008 `rate limit`.
//!
//! The WebSocket layer itself refuses messages above twice the maximum (at least 64 KiB)
//! before buffering them: `FRAME_TOO_LARGE`, then close 1009.
//!
//! **Delivery** is best effort, in order per sender and recipient. Each connection has a
//! bounded outbound queue (default 1024 messages); when it is full, further messages for
//! that node are dropped and counted. The relay pings every 20 s and drops a peer it has not
//! heard from in three intervals (close 1001), or whose socket accepts nothing for as long.
//! A node that reconnects after an abrupt drop may be refused with 4009 until then.
//! On shutdown every connection is closed with 1001.
//!
//! **`GET /stats`** answers JSON (a cluster is listed while it has a connected node):
//!
//! ```json
//! {"clusters":{"<name>":{"connections":2,"frames_in":10,"bytes_in":900,"frames_out":10,
//!   "bytes_out":920,"dropped":0,"malformed":0,"unknown_destination":0,"too_large":0,
//!   "queue_full":0,"rate_limited":0}},"connections":2,
//!   "refused":{"bad_hello":0,"unauthorized":0,"origin_not_allowed":0,"node_id_in_use":0,
//!   "cluster_full":0,"rate_limited":0,"too_large":0},"uptime_s":42}
//! ```
//!
//! `frames_in`/`bytes_in` count the BINARY frames received from the cluster's nodes;
//! `frames_out`/`bytes_out` those queued for them (a broadcast counts once per recipient);
//! `dropped` the messages not delivered, split by reason in `unknown_destination`,
//! `too_large`, `queue_full` and `rate_limited`; `malformed` the frames refused for their
//! shape. `refused` counts, since start-up, the connections refused or closed by reason.
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
    /// Messages queued per connection before further ones are dropped.
    pub queue: usize,
    /// How often the relay pings each node; silence for three intervals drops it.
    pub ping_interval: Duration,
    /// How long a new connection has to send its hello.
    pub hello_timeout: Duration,
    /// Who may connect and join: the secret for join tokens, the origin allowlist.
    pub access: Access,
    /// The most nodes connected in one cluster; further hellos are refused (4029).
    pub max_cluster_connections: usize,
    /// Messages a second per connection, the burst, and the drops that close it (4008).
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
            ping_interval: Duration::from_secs(20),
            hello_timeout: Duration::from_secs(10),
            access: Access {
                clock_skew_s: 60,
                ..Access::default()
            },
            max_cluster_connections: 256,
            rate: RateLimit {
                rate: 1000.0,
                burst: 2000.0,
                max_drops: 4000,
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
