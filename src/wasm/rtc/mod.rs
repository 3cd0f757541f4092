//! WebRTC data channels between nodes, signalled through the relay, with the relay as the
//! fallback. The host's `send` asks [`Rtc::send`] first; when it declines (no channel yet,
//! beyond the maximum, backpressure, a closed or stalled channel), the message goes through
//! the relay. The core never knows which path a message took.
//!
//! The decisions are the pure `crate::link` modules (policy, chunking, signalling, the
//! in-flight window); `peer.rs` wraps one `RTCPeerConnection`. This file ties them together:
//! each peer's channel, its reassembler, its in-flight messages, and the signals and relay
//! re-sends it asks the host to carry out (`outbox`, `resend`).

pub mod peer;

use crate::link::chunk::{self, Reassembler, SAFE_CHUNK_BYTES};
use crate::link::inflight::InFlight;
use crate::link::peer_map::PeerMap;
use crate::link::policy::{Down, LinkState, Links, OfferAction, Policy, Progress, Route};
use crate::link::signal::{ByeReason, Signal};
use peer::{Peer, PeerEvent, Sink};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

/// At most this many bytes wait in a channel's send buffer; a message that would go beyond
/// is sent through the relay instead, so a slow peer cannot grow this node's memory.
pub const HIGH_WATER_BYTES: u32 = 1 << 20;
/// The largest message a channel reassembles.
pub const MAX_MESSAGE_BYTES: usize = 2 << 20;
/// A channel this node closes keeps delivering what the other side had already sent on it
/// until its close completes, or for this long at most.
pub const DRAIN_MS: u64 = 3_000;

/// `Replica.open({ webrtc })`, checked.
#[derive(Clone, Debug)]
pub struct RtcOptions {
    pub enabled: bool,
    pub max_peers: usize,
    /// An array of `RTCIceServer`s, or undefined (none: host candidates, enough on loopback
    /// and on one LAN).
    pub ice_servers: JsValue,
}

/// Counters of the WebRTC path, for `stats().webrtc`.
#[derive(Clone, Debug, Default)]
pub struct RtcCounters {
    /// Channels that opened.
    pub opened: u64,
    /// Open channels that closed or stalled (their traffic fell back to the relay).
    pub fallbacks: u64,
    /// Attempts that failed, timed out or were refused.
    pub failures: u64,
    /// Messages handed to a channel that closed before they were known sent, re-sent
    /// through the relay.
    pub resent: u64,
    /// Messages sent through the relay because their channel's buffer was full.
    pub spilled: u64,
    pub signals_sent: u64,
    pub signals_received: u64,
    /// Chunks or signals refused for their shape.
    pub bad_chunks: u64,
    pub bad_signals: u64,
}

impl RtcCounters {
    /// `[(camelCase name, value)]`, for `stats().webrtc`.
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        [
            ("opened", self.opened),
            ("fallbacks", self.fallbacks),
            ("failures", self.failures),
            ("resent", self.resent),
            ("spilled", self.spilled),
            ("signalsSent", self.signals_sent),
            ("signalsReceived", self.signals_received),
            ("badChunks", self.bad_chunks),
            ("badSignals", self.bad_signals),
        ]
    }
}

struct Channel {
    session: u64,
    peer: Peer,
    /// The local description was sent: local candidates may follow.
    described: bool,
    held_candidates: Vec<Signal>,
    reassembler: Reassembler,
    inflight: InFlight<Vec<u8>>,
    progress: Progress,
}

/// Builds the event sink of one attempt: (peer id, session) → the host's handler.
pub type SinkFactory = Rc<dyn Fn(&str, u64) -> Sink>;

pub struct Rtc {
    links: Links,
    channels: PeerMap<Channel>,
    /// Channels closed by this node, still delivering until their close completes:
    /// (peer, channel, drop at).
    draining: Vec<(String, Channel, u64)>,
    now: u64,
    ice_servers: JsValue,
    sinks: SinkFactory,
    /// Signals for the host to send through the relay.
    pub outbox: Vec<(String, Signal)>,
    /// Messages for the host to send through the relay (in flight on a channel that ended).
    pub resend: Vec<(String, Vec<u8>)>,
    pub counters: RtcCounters,
}

impl Rtc {
    pub fn new(me: &str, opts: &RtcOptions, seed: u64, sinks: SinkFactory) -> Rtc {
        let policy = Policy {
            max_peers: opts.max_peers,
            ..Policy::default()
        };
        Rtc {
            links: Links::new(me, policy, seed),
            channels: PeerMap::default(),
            draining: Vec::new(),
            now: 0,
            ice_servers: opts.ice_servers.clone(),
            sinks,
            outbox: Vec::new(),
            resend: Vec::new(),
            counters: RtcCounters::default(),
        }
    }

    pub fn max_peers(&self) -> usize {
        self.links.policy().max_peers
    }

    /// `"datachannel"`, `"connecting"` or `"relay"`: how messages to `peer` go now.
    pub fn path(&self, peer: &str) -> &'static str {
        match self.links.state(peer) {
            Some(LinkState::Open { .. }) => "datachannel",
            Some(LinkState::Connecting { .. }) => "connecting",
            _ => "relay",
        }
    }

    pub fn open_count(&self) -> usize {
        self.links.open()
    }

    pub fn connecting_count(&self) -> usize {
        self.links.active() - self.links.open()
    }

    /// Send `msg` to `to` over its data channel. False: the caller sends it through the
    /// relay (this may have started a connection attempt for the next messages).
    pub fn send(&mut self, to: &str, msg: &[u8], now: u64) -> bool {
        self.now = now;
        match self.links.route(to, now) {
            Route::Relay => false,
            Route::Connect { session } => {
                self.start(to, session, now);
                false
            }
            Route::Channel { session } => {
                let stall_ms = self.links.policy().stall_ms;
                let Some(ch) = self.channels.get_mut(to).filter(|c| c.session == session) else {
                    self.down(to, session, now, Down::Failed, true);
                    return false;
                };
                let buffered = ch.peer.buffered();
                ch.inflight.trim(buffered as u64);
                let stalled =
                    ch.progress
                        .observe(ch.inflight.handed(), buffered as u64, now, stall_ms);
                if stalled || !ch.peer.is_open() {
                    self.down(to, session, now, Down::Failed, true);
                    return false;
                }
                if buffered as usize + msg.len() > HIGH_WATER_BYTES as usize {
                    self.counters.spilled += 1;
                    return false;
                }
                let chunks = chunk::split(msg, SAFE_CHUNK_BYTES);
                let len: usize = chunks.iter().map(|c| c.len()).sum();
                for (i, c) in chunks.iter().enumerate() {
                    if !ch.peer.send(c) {
                        if i == 0 {
                            // Nothing of it went: the relay carries it, the channel is done.
                            self.down(to, session, now, Down::Failed, true);
                            return false;
                        }
                        // Part of it went: re-send it whole through the relay with the rest.
                        ch.inflight.push(len, msg.to_vec());
                        self.down(to, session, now, Down::Failed, true);
                        return true;
                    }
                }
                ch.inflight.push(len, msg.to_vec());
                true
            }
        }
    }

    /// Start attempt `session` with `to` as the offering side.
    fn start(&mut self, to: &str, session: u64, now: u64) {
        match self.new_channel(to, session) {
            Some(ch) => {
                ch.peer.offer();
            }
            None => {
                self.links.on_down(to, session, now, Down::Failed);
                self.counters.failures += 1;
            }
        }
    }

    fn new_channel(&mut self, to: &str, session: u64) -> Option<&mut Channel> {
        let peer = Peer::new(&self.ice_servers, (self.sinks)(to, session))?;
        if let Some(old) = self.channels.insert(
            to,
            Channel {
                session,
                peer,
                described: false,
                held_candidates: Vec::new(),
                reassembler: Reassembler::new(MAX_MESSAGE_BYTES),
                inflight: InFlight::default(),
                progress: Progress::new(0),
            },
        ) {
            self.retire(to, old);
        }
        self.channels.get_mut(to)
    }

    /// Close a channel; its in-flight messages go to the relay.
    ///
    /// An open channel closes gracefully: what the other side already handed to it is still
    /// delivered until its close completes (at most `DRAIN_MS`); a message may then arrive
    /// on both paths, which the core tolerates.
    fn retire(&mut self, to: &str, mut ch: Channel) {
        let again = ch.inflight.take();
        self.counters.resent += again.len() as u64;
        self.resend
            .extend(again.into_iter().map(|m| (to.to_string(), m)));
        if ch.peer.is_open() {
            ch.peer.close_channel();
            self.draining
                .push((to.to_string(), ch, self.now + DRAIN_MS));
        } else {
            drop_later(ch);
        }
    }

    /// Attempt or channel `session` with `peer` ended: traffic falls back to the relay.
    fn down(&mut self, peer: &str, session: u64, now: u64, why: Down, notify: bool) {
        let was_open = matches!(
            self.links.state(peer),
            Some(LinkState::Open { session: s, .. }) if *s == session
        );
        if !self.links.on_down(peer, session, now, why) {
            return;
        }
        if was_open {
            self.counters.fallbacks += 1;
        } else {
            self.counters.failures += 1;
        }
        if self
            .channels
            .get(peer)
            .is_some_and(|c| c.session == session)
        {
            if let Some(ch) = self.channels.remove(peer) {
                self.retire(peer, ch);
            }
        }
        if notify {
            self.outbox.push((
                peer.to_string(),
                Signal::Bye {
                    session,
                    reason: ByeReason::Closed,
                },
            ));
        }
    }

    /// A signal from `from` (through the relay).
    pub fn on_signal(&mut self, from: &str, signal: Signal, now: u64) {
        self.now = now;
        self.counters.signals_received += 1;
        match signal {
            Signal::Offer { session, sdp } => match self.links.on_offer(from, session, now) {
                OfferAction::Accept { replaced } => {
                    if let Some(old) = replaced {
                        if let Some(ch) = self.channels.remove(from).filter(|c| c.session == old) {
                            self.retire(from, ch);
                        }
                    }
                    match self.new_channel(from, session) {
                        Some(ch) => ch.peer.answer(&sdp),
                        None => self.down(from, session, now, Down::Failed, true),
                    }
                }
                OfferAction::Ignore => {}
                OfferAction::Refuse(reason) => self
                    .outbox
                    .push((from.to_string(), Signal::Bye { session, reason })),
            },
            Signal::Answer { session, sdp } => {
                if let Some(ch) = self.current(from, session) {
                    ch.peer.accept_answer(&sdp);
                }
            }
            Signal::Candidate {
                session,
                candidate,
                mid,
                line,
            } => {
                if let Some(ch) = self.current(from, session) {
                    ch.peer.add_candidate(&candidate, mid.as_deref(), line);
                }
            }
            Signal::Bye { session, reason } => {
                let why = match reason {
                    ByeReason::Unsupported => Down::Unsupported,
                    ByeReason::Full | ByeReason::Closed => Down::Failed,
                };
                self.down(from, session, now, why, false);
            }
        }
    }

    fn current(&mut self, peer: &str, session: u64) -> Option<&mut Channel> {
        self.channels
            .get_mut(peer)
            .filter(|c| c.session == session && self.links.session(peer) == Some(session))
    }

    /// An event of attempt `session` with `peer`. Returns a message that arrived whole.
    pub fn on_event(
        &mut self,
        peer: &str,
        session: u64,
        ev: PeerEvent,
        now: u64,
    ) -> Option<Vec<u8>> {
        self.now = now;
        if self.links.session(peer) != Some(session) {
            return self.on_draining(peer, session, ev);
        }
        let ch = self
            .channels
            .get_mut(peer)
            .filter(|c| c.session == session)?;
        match ev {
            PeerEvent::Description { offer, sdp } => {
                ch.described = true;
                let held = std::mem::take(&mut ch.held_candidates);
                let s = if offer {
                    Signal::Offer { session, sdp }
                } else {
                    Signal::Answer { session, sdp }
                };
                self.outbox.push((peer.to_string(), s));
                self.outbox
                    .extend(held.into_iter().map(|c| (peer.to_string(), c)));
            }
            PeerEvent::Candidate {
                candidate,
                mid,
                line,
            } => {
                let s = Signal::Candidate {
                    session,
                    candidate,
                    mid,
                    line,
                };
                if ch.described {
                    self.outbox.push((peer.to_string(), s));
                } else {
                    ch.held_candidates.push(s);
                }
            }
            PeerEvent::Open => {
                ch.progress = Progress::new(now);
                if self.links.on_open(peer, session, now) {
                    self.counters.opened += 1;
                }
            }
            PeerEvent::Chunk(bytes) => match ch.reassembler.push(&bytes) {
                Ok(done) => return done,
                Err(_) => self.counters.bad_chunks += 1,
            },
            PeerEvent::Closed | PeerEvent::Failed => {
                self.down(peer, session, now, Down::Failed, true);
            }
        }
        None
    }

    /// An event of a channel this node closed: its chunks still count until it is closed.
    fn on_draining(&mut self, peer: &str, session: u64, ev: PeerEvent) -> Option<Vec<u8>> {
        let i = self
            .draining
            .iter()
            .position(|(p, c, _)| p == peer && c.session == session)?;
        match ev {
            PeerEvent::Chunk(bytes) => match self.draining[i].1.reassembler.push(&bytes) {
                Ok(done) => return done,
                Err(_) => self.counters.bad_chunks += 1,
            },
            PeerEvent::Closed | PeerEvent::Failed => {
                let (_, ch, _) = self.draining.swap_remove(i);
                drop_later(ch);
            }
            _ => {}
        }
        None
    }

    /// Periodic checks: attempts that did not open in time, stalled channels, and the
    /// in-flight windows trimmed to what is still buffered.
    pub fn tick(&mut self, now: u64) {
        self.now = now;
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.draining)
            .into_iter()
            .partition(|(_, _, until)| *until <= now);
        self.draining = keep;
        for (_, ch, _) in done {
            drop_later(ch);
        }
        for (peer, session) in self.links.timed_out(now) {
            self.down(&peer, session, now, Down::Failed, true);
        }
        let stall_ms = self.links.policy().stall_ms;
        let mut stalled = Vec::new();
        for (peer, ch) in self.channels.iter_mut() {
            if self
                .links
                .state(peer)
                .is_some_and(|s| matches!(s, LinkState::Open { .. }))
            {
                let buffered = ch.peer.buffered() as u64;
                ch.inflight.trim(buffered);
                if ch
                    .progress
                    .observe(ch.inflight.handed(), buffered, now, stall_ms)
                {
                    stalled.push((peer.clone(), ch.session));
                }
            }
        }
        for (peer, session) in stalled {
            self.down(&peer, session, now, Down::Failed, true);
        }
    }

    /// Test hook: close the channel with `peer` as if it had dropped. False: none open.
    pub fn close_channel(&mut self, peer: &str, now: u64) -> bool {
        self.now = now;
        match self.links.state(peer) {
            Some(LinkState::Open { session, .. }) => {
                let session = *session;
                self.down(peer, session, now, Down::Failed, true);
                true
            }
            _ => false,
        }
    }

    /// Close every connection (the replica closes).
    pub fn close_all(&mut self) {
        for (_, ch) in self.channels.drain() {
            drop_later(ch);
        }
        for (_, ch, _) in std::mem::take(&mut self.draining) {
            drop_later(ch);
        }
        self.outbox.clear();
        self.resend.clear();
    }
}

/// Close a channel's connection now; its callbacks may be running (this may be called from
/// one of them), so they are freed after this task.
fn drop_later(ch: Channel) {
    ch.peer.close();
    spawn_local(async move { drop(ch) });
}
