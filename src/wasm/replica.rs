//! The `Replica` class JavaScript sees (the package's `js/index.js` wraps it) and the host
//! run loop around one `core::Node` (docs/protocol.md, "The run loop", event-driven instead of a
//! loop, so the page is never blocked):
//!
//! - a relay frame → `Message::decode` → `Input::Message` (a frame that does not decode is
//!   counted in `stats().badFrames` and dropped);
//! - an API call → `Input::Client` with a fresh `ReqId`; its `Output::Reply` settles the
//!   call's promise;
//! - `Output::Send` → a unicast relay frame; `Output::Persist` → one storage transaction, then
//!   `Input::PersistDone` or `Input::PersistFailed` (memory storage answers at once);
//! - `Output::Event` → the JS listener;
//! - `next_deadline()` → a `setTimeout`, then `Input::Tick`.
//!
//! Every input is handled to completion in one JS task, and JS callbacks (listeners, promise
//! settlements) run only after the host's state is released, so a listener may call back
//! into the replica.

use super::auth::{self, TokenSource};
use super::errors::{self, closed, from_core, invalid, js_error};
use super::ids;
use super::rtc::peer::{self, PeerEvent, Sink};
use super::rtc::{Rtc, RtcOptions};
use super::storage::{StorageError, Store};
use super::storage_idb::IdbStore;
use super::storage_js::JsStore;
use super::storage_memory::MemoryEngine;
use super::traffic::{object, Path, Traffic};
use super::transport::{Relay, RelayEvent};
use super::values::{
    context_from_js, context_to_js, key_to_bytes, key_to_js, value_from_bytes, value_to_bytes,
};
use super::{now_ms, random_bytes};
use crate::core::gossip;
use crate::core::{
    AdminRequest, BatchId, ClientReply, ClientRequest, Config, Event, Input, Message, Node, NodeId,
    Output, ReqId, RequestOptions, Resolved, Snapshot, StoreOp,
};
use crate::link::signal::{self, ByeReason, Signal};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_name = setInterval)]
    fn set_interval(f: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval(handle: &JsValue);
}

/// How often the WebRTC links are checked (connection timeouts, stalls).
const RTC_CHECK_MS: f64 = 500.0;

/// How long `Replica.open` waits for the relay's welcome and a ring, by default.
const OPEN_TIMEOUT_MS: u64 = 15_000;
/// The largest value by default: a replica message carries every sibling of a key, and the
/// relay routes frames of at most 1 MiB.
const DEFAULT_MAX_VALUE_BYTES: usize = 256 * 1024;
/// Reconnection backoff after the relay connection dropped.
/// The timer's delay when a tick left the node's deadline where it was.
const STUCK_DEADLINE_DELAY_MS: f64 = 25.0;
/// At most this many events wait for the first listener.
const MAX_EARLY_EVENTS: usize = 256;
/// At most this many store operations go into one group-commit transaction.
const MAX_GROUP_OPS: usize = 4096;
const RECONNECT_MIN_MS: u32 = 250;
const RECONNECT_MAX_MS: u32 = 10_000;

/// Where the relay is: a WebSocket URL, or a relay endpoint written in JS in this process
/// (`transport_js.rs`; the edge relay's own node).
#[derive(Clone)]
enum RelayTarget {
    Url(String),
    Endpoint(JsValue),
}

impl RelayTarget {
    fn describe(&self) -> &str {
        match self {
            RelayTarget::Url(u) => u,
            RelayTarget::Endpoint(_) => "(in-process endpoint)",
        }
    }
}

/// `Replica.open` options, checked.
struct Options {
    cluster: String,
    relay: RelayTarget,
    storage: &'static str,
    /// With `storage` `"js"`: the engine object (`storage_js.rs`).
    engine: JsValue,
    name: Option<String>,
    db_name: Option<String>,
    seeds: Vec<NodeId>,
    capacity: u32,
    config: Config,
    open_timeout_ms: u64,
    token: TokenSource,
    webrtc: RtcOptions,
}

#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct HostStats {
    frames_in: u64,
    frames_out: u64,
    frames_unsent: u64,
    bad_frames: u64,
    relay_errors: u64,
    reconnects: u64,
    persist_failures: u64,
}

enum Effect {
    Settle(Function, JsValue),
    Emit(Function, JsValue),
}

struct Pending {
    resolve: Function,
    reject: Function,
}

struct Host {
    me: Weak<RefCell<Host>>,
    id: NodeId,
    cluster: String,
    relay_url: RelayTarget,
    token: TokenSource,
    /// The message of the relay's last refusal (`UNAUTHORIZED`, ...), for the event that
    /// the close brings.
    refusal: Option<String>,
    /// A token is being fetched for a reconnection.
    fetching_token: bool,
    node: Option<Node>,
    store: Store,
    relay: Option<Relay>,
    connected: bool,
    /// While connecting: settles the wait for the welcome with the peers, or an error.
    welcome: Option<Pending>,
    reconnect_delay_ms: u32,
    replies: BTreeMap<ReqId, Pending>,
    next_req: ReqId,
    /// The deadline the timer is armed for, and its handle.
    timer: Option<(u64, JsValue)>,
    /// The deadline the timer last fired for.
    last_fired: Option<u64>,
    tick: Option<Closure<dyn FnMut()>>,
    reconnect_timer: Option<JsValue>,
    reconnect_cb: Option<Closure<dyn FnMut()>>,
    listener: Option<Function>,
    /// The opt-in trace (`setTrace`): every message sent and received, for a page that
    /// draws them. None: nothing is built.
    trace: Option<Function>,
    /// Events emitted before a listener was set (the corrupt records a node reports while
    /// it loads): delivered once one is, on the next task.
    early_events: Vec<JsValue>,
    closed: bool,
    /// Batches handed to the host and not yet reported back.
    persists_in_flight: usize,
    /// IndexedDB batches waiting for the transaction in flight to end.
    idb_queue: VecDeque<(BatchId, Vec<StoreOp>)>,
    idb_busy: bool,
    stats: HostStats,
    /// Data channels to other nodes (None: WebRTC disabled or not available here).
    rtc: Option<Rtc>,
    /// `webrtc.enabled` as asked (it may still be unavailable here).
    webrtc_requested: bool,
    rtc_interval: Option<JsValue>,
    rtc_check: Option<Closure<dyn FnMut()>>,
    traffic: Traffic,
}

type Shared = Rc<RefCell<Host>>;

/// One node of a ringlet cluster running in this page or process.
#[wasm_bindgen(js_name = WasmReplica)]
pub struct Replica {
    host: Shared,
}

#[wasm_bindgen(js_class = WasmReplica)]
impl Replica {
    /// Open a node and join the cluster through the relay. Resolves once the node knows the
    /// ring; rejects with a typed error (`INVALID_ARGUMENT`, `TIMEOUT`, `RELAY_FAILED`,
    /// `NODE_ID_IN_USE`, `STORAGE_FAILED`, `NO_RANDOMNESS`).
    pub async fn open(options: JsValue) -> Result<Replica, JsValue> {
        let opts = parse_options(&options)?;
        let deadline = now_ms() + opts.open_timeout_ms;
        // The node's seed picks its dot epoch when it finds no metadata (a first run too):
        // cryptographic, so a node that reuses an id never reuses its dots.
        let seed = u64::from_le_bytes(ids::secure_random::<8>()?);
        let (store, id, snapshot) = open_storage(&opts).await?;
        let host: Shared = Rc::new_cyclic(|me: &Weak<RefCell<Host>>| {
            let weak = me.clone();
            let tick = Closure::<dyn FnMut()>::new(move || {
                if let Some(h) = weak.upgrade() {
                    {
                        let mut host = h.borrow_mut();
                        host.last_fired = host.timer.take().map(|(at, _)| at);
                    }
                    feed(&h, Input::Tick);
                }
            });
            let weak = me.clone();
            let reconnect_cb = Closure::<dyn FnMut()>::new(move || reconnect(&weak));
            let rtc = (opts.webrtc.enabled && peer::supported()).then(|| {
                let weak = me.clone();
                let sinks = Rc::new(move |peer: &str, session: u64| -> Sink {
                    let weak = weak.clone();
                    let peer = peer.to_string();
                    Rc::new(move |ev: PeerEvent| {
                        if let Some(h) = weak.upgrade() {
                            on_rtc(&h, &peer, session, ev);
                        }
                    })
                });
                let seed = u64::from_le_bytes(random_bytes::<8>());
                Rtc::new(id.as_str(), &opts.webrtc, seed, sinks)
            });
            let weak = me.clone();
            let rtc_check = rtc.as_ref().map(|_| {
                Closure::<dyn FnMut()>::new(move || {
                    if let Some(h) = weak.upgrade() {
                        check_links(&h);
                    }
                })
            });
            let rtc_interval = rtc_check
                .as_ref()
                .map(|cb| set_interval(cb.as_ref().unchecked_ref(), RTC_CHECK_MS));
            RefCell::new(Host {
                me: me.clone(),
                id: id.clone(),
                cluster: opts.cluster.clone(),
                relay_url: opts.relay.clone(),
                token: opts.token.clone(),
                refusal: None,
                fetching_token: false,
                node: None,
                store,
                relay: None,
                connected: false,
                welcome: None,
                reconnect_delay_ms: RECONNECT_MIN_MS,
                replies: BTreeMap::new(),
                next_req: 1,
                timer: None,
                last_fired: None,
                tick: Some(tick),
                reconnect_timer: None,
                reconnect_cb: Some(reconnect_cb),
                listener: None,
                trace: None,
                early_events: Vec::new(),
                closed: false,
                persists_in_flight: 0,
                idb_queue: VecDeque::new(),
                idb_busy: false,
                stats: HostStats::default(),
                rtc,
                webrtc_requested: opts.webrtc.enabled,
                rtc_interval,
                rtc_check,
                traffic: Traffic::default(),
            })
        });
        let replica = Replica { host };
        match replica.join(opts, id, snapshot, seed, deadline).await {
            Ok(()) => Ok(replica),
            Err(e) => {
                replica.shutdown();
                replica.host.borrow().store.close();
                Err(e)
            }
        }
    }

    async fn join(
        &self,
        opts: Options,
        id: NodeId,
        snapshot: Snapshot,
        seed: u64,
        deadline: u64,
    ) -> Result<(), JsValue> {
        let peers = connect_until_welcome(&self.host, deadline).await?;
        let mut seeds: BTreeSet<NodeId> = peers.iter().map(|p| NodeId::new(p)).collect();
        seeds.extend(opts.seeds.iter().cloned());
        seeds.remove(&id);
        let seeds: Vec<NodeId> = seeds.into_iter().collect();
        let node = Node::join(id, opts.config, opts.capacity, &seeds, seed, snapshot)
            .map_err(|e| from_core(&e))?;
        self.host.borrow_mut().node = Some(node);
        feed(&self.host, Input::Tick);
        // Joined means: the claimant put this node in the ring and this node knows it. A
        // cluster whose claimant is away cannot add members; then, after half the wait, a
        // node that knows the ring is good enough (it coordinates through the owners).
        let settle_at = now_ms() + deadline.saturating_sub(now_ms()) / 2;
        loop {
            {
                let h = self.host.borrow();
                if h.closed {
                    return Err(closed());
                }
                let ring = h.node.as_ref().and_then(|n| n.ring());
                let owner = ring.is_some_and(|r| r.owners().contains(&h.id));
                if owner || (ring.is_some() && now_ms() >= settle_at) {
                    return Ok(());
                }
            }
            if now_ms() >= deadline {
                return Err(js_error(
                    errors::TIMEOUT,
                    "the node did not learn the cluster's ring in time (are the seeds reachable?)",
                ));
            }
            TimeoutFuture::new(20).await;
        }
    }

    /// This node's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.host.borrow().id.to_string()
    }

    /// The storage engine in use: `"memory"` or `"indexeddb"`.
    #[wasm_bindgen(getter)]
    pub fn storage(&self) -> String {
        self.host.borrow().store.kind().to_string()
    }

    /// Every event goes to this one function (the JS wrapper dispatches by `type`).
    #[wasm_bindgen(js_name = setListener)]
    pub fn set_listener(&self, listener: Option<Function>) {
        let mut h = self.host.borrow_mut();
        h.listener = listener.clone();
        let early = std::mem::take(&mut h.early_events);
        drop(h);
        if let (Some(f), false) = (listener, early.is_empty()) {
            // On the next task, so a listener added right after `open` resolves gets them.
            let deliver = Closure::once_into_js(move || {
                for ev in early {
                    let _ = f.call1(&JsValue::NULL, &ev);
                }
            });
            set_timeout(deliver.unchecked_ref(), 0.0);
        }
    }

    /// The opt-in message trace: `f` gets `{ dir: 'in' | 'out', peer, kind, key, versions }`
    /// for every message this node receives or sends (`versions`: the clocks it carries),
    /// `null` turns it off. Off by default; off, it costs one branch per message.
    #[wasm_bindgen(js_name = setTrace)]
    pub fn set_trace(&self, f: Option<Function>) {
        self.host.borrow_mut().trace = f;
    }

    /// Every sibling of `key` with the context to write back: `{ values, context }`.
    pub fn get(&self, key: JsValue, options: JsValue) -> Promise {
        self.call(|| {
            let key = key_to_bytes(&key)?;
            let options = request_options(&options, &["r", "timeoutMs"])?;
            Ok(Input::Client {
                id: 0,
                request: ClientRequest::Get { key, options },
            })
        })
    }

    /// Write `value`; `options.context` supersedes what that get returned. Resolves with
    /// `{ context }` of the new version.
    pub fn put(&self, key: JsValue, value: JsValue, options: JsValue) -> Promise {
        self.call(|| {
            let key = key_to_bytes(&key)?;
            let value = crate::core::Bytes::new(&value_to_bytes(&value)?);
            let context = context_from_js(&get(&options, "context"))?;
            let options = request_options(&options, &["w", "durable", "timeoutMs", "context"])?;
            Ok(Input::Client {
                id: 0,
                request: ClientRequest::Put {
                    key,
                    value,
                    context,
                    options,
                },
            })
        })
    }

    /// Delete `key` (a tombstone that supersedes what `options.context` covers).
    pub fn delete(&self, key: JsValue, options: JsValue) -> Promise {
        self.call(|| {
            let key = key_to_bytes(&key)?;
            let context = context_from_js(&get(&options, "context"))?;
            let options = request_options(&options, &["w", "durable", "timeoutMs", "context"])?;
            Ok(Input::Client {
                id: 0,
                request: ClientRequest::Delete {
                    key,
                    context,
                    options,
                },
            })
        })
    }

    /// Ask to leave the cluster: partitions move away, then the node holds nothing.
    pub fn leave(&self) -> Promise {
        self.call(|| {
            Ok(Input::Admin {
                id: 0,
                request: AdminRequest::Leave,
            })
        })
    }

    /// The members this node knows: `[{ node, status, capacity, up, self }]`.
    pub fn members(&self) -> Result<JsValue, JsValue> {
        to_js(&self.host.borrow().members())
    }

    /// The ring in force: `{ epoch, q, owners, partitions }` (`null` before joining).
    pub fn ring(&self) -> Result<JsValue, JsValue> {
        let h = self.host.borrow();
        let Some(state) = h.node.as_ref().and_then(|n| n.membership().ring_state()) else {
            return Ok(JsValue::NULL);
        };
        let owners: Vec<String> = state.ring.owners().iter().map(|o| o.to_string()).collect();
        let partitions: BTreeMap<String, u32> = state
            .ring
            .load()
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        to_js(&RingView {
            epoch: state.epoch,
            q: state.ring.q(),
            owners,
            partitions,
        })
    }

    /// The preference list of `key`: the N primaries first, then the fallbacks.
    pub fn preflist(&self, key: JsValue) -> Result<JsValue, JsValue> {
        let key = key_to_bytes(&key)?;
        let h = self.host.borrow();
        let list: Vec<String> = h
            .node
            .as_ref()
            .and_then(|n| n.ring())
            .map(|r| {
                r.preflist_for_key(&key)
                    .iter()
                    .map(|n| n.to_string())
                    .collect()
            })
            .unwrap_or_default();
        to_js(&list)
    }

    /// Counters: requests, hints held, repairs, frames, storage.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let h = self.host.borrow();
        let core = h
            .node
            .as_ref()
            .map(|n| n.stats().clone())
            .unwrap_or_default();
        let view = StatsView {
            node: h.id.to_string(),
            storage: h.store.kind(),
            connected: h.connected && !h.closed,
            gets: core.gets,
            puts: core.puts,
            forwarded: core.forwarded,
            quorum_failures: core.quorum_failures,
            read_repairs: core.read_repairs,
            hints_stored: core.hints_stored,
            hints_delivered: core.hints_delivered,
            hints_held: h.node.as_ref().map_or(0, |n| n.hints().count()),
            keys_held: h.node.as_ref().map_or(0, |n| n.objects().count()),
            keys_transferred: core.keys_transferred,
            messages_in: core.messages_in,
            persist_batches: core.persist_batches,
            requests_in_flight: h.node.as_ref().map_or(0, |n| n.requests_in_flight()),
            corrupt_records: core.corrupt_records,
            sibling_limit_refusals: core.sibling_limit_refusals,
            host: &h.stats,
        };
        let out = to_js(&view)?;
        let _ = Reflect::set(&out, &"webrtc".into(), &h.webrtc_stats());
        let _ = Reflect::set(&out, &"paths".into(), &h.traffic.paths.to_js(None));
        let peers = Object::new();
        for (p, c) in h.traffic.peers.iter() {
            let path = h.rtc.as_ref().map_or("relay", |r| r.path(p));
            let _ = Reflect::set(&peers, &p.as_str().into(), &c.to_js(Some(path)));
        }
        let _ = Reflect::set(&out, &"peers".into(), &peers);
        Ok(out)
    }

    /// Close the node: pending calls reject with `CLOSED`, the relay connection closes, and
    /// the promise resolves once storage has finished the batches in flight.
    pub fn close(&self) -> Promise {
        self.shutdown();
        let host = self.host.clone();
        future_to_promise(async move {
            for _ in 0..250 {
                if host.borrow().persists_in_flight == 0 {
                    break;
                }
                TimeoutFuture::new(20).await;
            }
            host.borrow().store.close();
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Test hook: send raw bytes to the relay as one binary frame.
    #[wasm_bindgen(js_name = sendRawFrame)]
    pub fn send_raw_frame(&self, bytes: &[u8]) -> bool {
        self.host
            .borrow()
            .relay
            .as_ref()
            .is_some_and(|r| r.send_raw(bytes))
    }

    /// Test hook: close the data channel with `peer` as if it had dropped (its traffic falls
    /// back to the relay). False when there is none open.
    #[wasm_bindgen(js_name = closeDataChannel)]
    pub fn close_data_channel(&self, peer: &str) -> bool {
        let mut h = self.host.borrow_mut();
        let closed = h
            .rtc
            .as_mut()
            .is_some_and(|r| r.close_channel(peer, now_ms()));
        h.flush_rtc();
        closed
    }

    /// When the node next needs a timer tick (ms since the Unix epoch), or `undefined`. A
    /// host that may be suspended (a Durable Object) arms its own wake-up for it.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> Option<f64> {
        let h = self.host.borrow();
        h.node
            .as_ref()
            .and_then(|n| n.next_deadline())
            .map(|d| d as f64)
    }

    /// Run the node's timers now (a host's wake-up, e.g. a Durable Object alarm, calls it;
    /// the node's own timer does the same while the host runs).
    pub fn tick(&self) {
        if self.host.borrow().node.is_some() {
            feed(&self.host, Input::Tick);
        }
    }

    /// Test hook: the next persist batch fails (as a full quota when `quota_exceeded`).
    #[wasm_bindgen(js_name = failNextPersist)]
    pub fn fail_next_persist(&self, quota_exceeded: bool) {
        self.host.borrow().store.fail_next_batch(0, quota_exceeded);
    }
}

impl Replica {
    /// Submit a request built by `make` (its id is filled in) and return its promise.
    fn call(&self, make: impl FnOnce() -> Result<Input, JsValue>) -> Promise {
        let mut settle = None;
        let promise =
            Promise::new(&mut |resolve, reject| settle = Some(Pending { resolve, reject }));
        let Some(pending) = settle else {
            return promise;
        };
        let input = match make() {
            Ok(i) => i,
            Err(e) => {
                let _ = pending.reject.call1(&JsValue::NULL, &e);
                return promise;
            }
        };
        let input = {
            let mut h = self.host.borrow_mut();
            if h.closed || h.node.is_none() {
                drop(h);
                let _ = pending.reject.call1(&JsValue::NULL, &closed());
                return promise;
            }
            let id = h.next_req;
            h.next_req += 1;
            h.replies.insert(id, pending);
            match input {
                Input::Client { request, .. } => Input::Client { id, request },
                Input::Admin { request, .. } => Input::Admin { id, request },
                other => other,
            }
        };
        feed(&self.host, input);
        promise
    }

    /// Stop everything now (synchronously): pending calls reject with `CLOSED`.
    fn shutdown(&self) {
        let (pending, welcome, relay) = {
            let mut h = self.host.borrow_mut();
            if h.closed {
                return;
            }
            h.closed = true;
            h.connected = false;
            if let Some((_, handle)) = h.timer.take() {
                clear_timeout(&handle);
            }
            if let Some(handle) = h.reconnect_timer.take() {
                clear_timeout(&handle);
            }
            if let Some(handle) = h.rtc_interval.take() {
                clear_interval(&handle);
            }
            if let Some(rtc) = h.rtc.as_mut() {
                rtc.close_all();
            }
            h.node = None;
            h.listener = None;
            (
                std::mem::take(&mut h.replies),
                h.welcome.take(),
                h.relay.take(),
            )
        };
        for p in pending.into_values().chain(welcome) {
            let _ = p.reject.call1(&JsValue::NULL, &closed());
        }
        if let Some(r) = relay {
            // Close now, but free the socket's callbacks only after the current JS task:
            // `close()` may be called from inside one of them (a listener).
            r.close();
            spawn_local(async move { drop(r) });
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // The JS object was freed: nothing can call this node any more.
        self.shutdown();
        if let Ok(mut h) = self.host.try_borrow_mut() {
            h.tick = None;
            h.reconnect_cb = None;
            h.rtc_check = None;
        }
    }
}

#[derive(Serialize)]
struct MemberView {
    node: String,
    status: &'static str,
    capacity: u32,
    up: bool,
    durable: bool,
    #[serde(rename = "self")]
    is_self: bool,
}

#[derive(Serialize)]
struct RingView {
    epoch: u64,
    q: u32,
    owners: Vec<String>,
    partitions: BTreeMap<String, u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsView<'a> {
    node: String,
    storage: &'static str,
    connected: bool,
    gets: u64,
    puts: u64,
    forwarded: u64,
    quorum_failures: u64,
    read_repairs: u64,
    hints_stored: u64,
    hints_delivered: u64,
    hints_held: usize,
    keys_held: usize,
    keys_transferred: u64,
    messages_in: u64,
    persist_batches: u64,
    requests_in_flight: usize,
    corrupt_records: u64,
    sibling_limit_refusals: u64,
    #[serde(flatten)]
    host: &'a HostStats,
}

impl Host {
    /// `stats().webrtc`: whether data channels are in use, how many, and their counters.
    fn webrtc_stats(&self) -> JsValue {
        let n = |x: usize| JsValue::from_f64(x as f64);
        let r = self.rtc.as_ref();
        let o = object(&[
            // Data channels are in use: asked for, and WebRTC exists here.
            ("enabled", r.is_some().into()),
            ("requested", self.webrtc_requested.into()),
            ("maxPeers", n(r.map_or(0, |r| r.max_peers()))),
            ("open", n(r.map_or(0, |r| r.open_count()))),
            ("connecting", n(r.map_or(0, |r| r.connecting_count()))),
        ]);
        let counters = r.map(|r| r.counters.clone()).unwrap_or_default();
        for (k, v) in counters.fields() {
            let _ = Reflect::set(&o, &k.into(), &JsValue::from_f64(v as f64));
        }
        o.into()
    }

    fn members(&self) -> Vec<MemberView> {
        let Some(node) = &self.node else {
            return Vec::new();
        };
        let down = node.down_peers();
        // Members that exited or were removed drop out after `Config::exited_grace_ms`.
        node.listed_members()
            .map(|(n, info)| MemberView {
                node: n.to_string(),
                status: info.status.name(),
                capacity: info.capacity,
                up: !down.contains(n),
                durable: info.durable,
                is_self: *n == self.id,
            })
            .collect()
    }

    /// Handle `input` and everything it leads to (memory persists answer at once), carry out
    /// the outputs, and re-arm the timer. JS callbacks are returned, not run.
    fn step(&mut self, input: Input, fx: &mut Vec<Effect>) {
        let mut inbox = vec![input];
        while let Some(input) = inbox.pop() {
            if let (Some(t), Input::Message { from, msg }) = (&self.trace, &input) {
                fx.push(Effect::Emit(t.clone(), trace_view("in", from, msg)));
            }
            let Some(node) = self.node.as_mut() else {
                return;
            };
            node.handle(now_ms(), input);
            let outs: Vec<Output> = std::iter::from_fn(|| node.poll()).collect();
            for out in outs {
                match out {
                    Output::Send { to, msg } => {
                        if let Some(t) = &self.trace {
                            fx.push(Effect::Emit(t.clone(), trace_view("out", &to, &msg)));
                        }
                        self.send(&to, &msg)
                    }
                    Output::Persist { batch, ops } => match &self.store {
                        Store::Memory(m) => inbox.insert(
                            0,
                            match m.apply(&ops) {
                                Ok(()) => Input::PersistDone { batch },
                                Err(e) => self.persist_failed(batch, e),
                            },
                        ),
                        Store::IndexedDb(_) | Store::Js(_) => self.persist_async(batch, ops),
                    },
                    Output::Reply { id, result } => {
                        if let Some(p) = self.replies.remove(&id) {
                            match result {
                                Ok(reply) => fx.push(Effect::Settle(p.resolve, reply_to_js(reply))),
                                Err(e) => fx.push(Effect::Settle(p.reject, from_core(&e))),
                            }
                        }
                    }
                    Output::Event(e) => {
                        if let Some(l) = &self.listener {
                            let ev = self.event_to_js(&e);
                            fx.push(Effect::Emit(l.clone(), ev));
                        } else if self.early_events.len() < MAX_EARLY_EVENTS {
                            let ev = self.event_to_js(&e);
                            self.early_events.push(ev);
                        }
                    }
                }
            }
        }
        self.arm_timer();
    }

    fn persist_failed(&mut self, batch: u64, e: StorageError) -> Input {
        self.stats.persist_failures += 1;
        Input::PersistFailed {
            batch,
            reason: e.reason,
            quota_exceeded: e.quota_exceeded,
        }
    }

    /// Queue the batch for storage. One transaction is in flight at a time; the batches
    /// that arrive meanwhile are committed together in the next one (group commit), so
    /// batches are applied in order and a busy node pays one transaction per group, not per
    /// batch.
    fn persist_async(&mut self, batch: BatchId, ops: Vec<StoreOp>) {
        self.persists_in_flight += 1;
        self.idb_queue.push_back((batch, ops));
        if !self.idb_busy {
            self.idb_busy = true;
            let weak = self.me.clone();
            spawn_local(commit_queued(weak));
        }
    }

    /// Send a core message: over the peer's data channel when there is one (`src/wasm/rtc`),
    /// else through the relay. The core never knows which.
    fn send(&mut self, to: &NodeId, msg: &Message) {
        let bytes = msg.encode();
        if let Some(rtc) = self.rtc.as_mut() {
            if rtc.send(to.as_str(), &bytes, now_ms()) {
                self.traffic
                    .sent(Path::DataChannel, to.as_str(), bytes.len());
                self.flush_rtc();
                return;
            }
        }
        self.send_relay(to.as_str(), &bytes);
        self.flush_rtc();
    }

    fn send_relay(&mut self, to: &str, bytes: &[u8]) {
        let sent = self.connected && self.relay.as_ref().is_some_and(|r| r.send_to(to, bytes));
        if sent {
            self.stats.frames_out += 1;
            self.traffic.sent(Path::Relay, to, bytes.len());
        } else {
            // The core treats the network as lossy: an unsent frame is a lost message.
            self.stats.frames_unsent += 1;
        }
    }

    fn send_signal(&mut self, to: &str, s: &Signal) {
        let sent = self.connected
            && self
                .relay
                .as_ref()
                .is_some_and(|r| r.send_signal(to, &signal::encode(s)));
        if let (true, Some(rtc)) = (sent, self.rtc.as_mut()) {
            rtc.counters.signals_sent += 1;
        }
    }

    /// Carry out what the links asked for: signals, and re-sends through the relay.
    fn flush_rtc(&mut self) {
        let Some(rtc) = self.rtc.as_mut() else {
            return;
        };
        if rtc.outbox.is_empty() && rtc.resend.is_empty() {
            return;
        }
        let signals = std::mem::take(&mut rtc.outbox);
        let resend = std::mem::take(&mut rtc.resend);
        for (to, s) in signals {
            self.send_signal(&to, &s);
        }
        for (to, m) in resend {
            self.send_relay(&to, &m);
        }
    }

    fn arm_timer(&mut self) {
        let deadline = if self.closed {
            None
        } else {
            self.node.as_ref().and_then(|n| n.next_deadline())
        };
        if self.timer.as_ref().map(|t| t.0) == deadline {
            return;
        }
        if let Some((_, handle)) = self.timer.take() {
            clear_timeout(&handle);
        }
        if let (Some(at), Some(tick)) = (deadline, &self.tick) {
            let mut delay = at.saturating_sub(now_ms()).min(i32::MAX as u64) as f64;
            // A deadline that a tick did not move is not worth a busy loop.
            if self.last_fired == Some(at) {
                delay = delay.max(STUCK_DEADLINE_DELAY_MS);
            }
            let handle = set_timeout(tick.as_ref().unchecked_ref(), delay);
            self.timer = Some((at, handle));
        }
    }

    /// Nudge a node that knows no ring yet: open a gossip exchange with `peer` (the core
    /// only gossips with the seeds it was given, and a relay `joined` notice may name a
    /// better one).
    fn kick(&mut self, peer: &str) {
        let Some(node) = &self.node else {
            return;
        };
        if node.ring().is_some() || peer == self.id.as_str() {
            return;
        }
        let msg = Message::Gossip {
            msg: gossip::open(node.membership()),
            rumors: Vec::new(),
        };
        self.send(&NodeId::new(peer), &msg);
    }

    fn event_to_js(&self, e: &Event) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        let kind = match e {
            Event::NodeUp(n) => {
                set("node", n.as_str().into());
                "nodeup"
            }
            Event::NodeDown(n) => {
                set("node", n.as_str().into());
                "nodedown"
            }
            Event::SiblingsDetected { key, count } => {
                set("key", key_to_js(key.as_slice()));
                set("count", (*count as f64).into());
                "siblings"
            }
            Event::ReadRepair { key, to } => {
                set("key", key_to_js(key.as_slice()));
                set(
                    "to",
                    to.iter()
                        .map(|n| JsValue::from_str(n.as_str()))
                        .collect::<Array>()
                        .into(),
                );
                "readrepair"
            }
            Event::HintStored { key, intended } => {
                set("key", key_to_js(key.as_slice()));
                set("node", intended.as_str().into());
                "hintstored"
            }
            Event::HintDelivered { key, to } => {
                set("key", key_to_js(key.as_slice()));
                set("node", to.as_str().into());
                "hintdelivered"
            }
            Event::MembershipChanged => {
                set("members", to_js(&self.members()).unwrap_or(JsValue::NULL));
                "membership"
            }
            Event::RingChanged { epoch } => {
                set("epoch", (*epoch as f64).into());
                "ring"
            }
            Event::SiblingsWarning { key, count } => {
                set("key", key_to_js(key.as_slice()));
                set("count", (*count as f64).into());
                "siblingswarning"
            }
            Event::CorruptRecord { store, key } => {
                set("store", store.name().into());
                set(
                    "key",
                    key.as_ref()
                        .map_or(JsValue::NULL, |k| key_to_js(k.as_slice())),
                );
                "corruptrecord"
            }
            // Events added to the core later reach JS too, described.
            other => {
                set("detail", format!("{other:?}").into());
                "other"
            }
        };
        set("type", kind.into());
        o.into()
    }

    /// The relay refused this node after it had joined: `{ type: 'refused', code, message,
    /// retrying }`.
    fn refused_event(&self, code: &str, message: &str, retrying: bool, fx: &mut Vec<Effect>) {
        if let Some(l) = &self.listener {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &"refused".into());
            let _ = Reflect::set(&o, &"code".into(), &code.into());
            let _ = Reflect::set(&o, &"message".into(), &message.into());
            let _ = Reflect::set(&o, &"retrying".into(), &retrying.into());
            fx.push(Effect::Emit(l.clone(), o.into()));
        }
    }

    fn host_event(&self, kind: &str, node: Option<&str>, fx: &mut Vec<Effect>) {
        if let Some(l) = &self.listener {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &kind.into());
            if let Some(n) = node {
                let _ = Reflect::set(&o, &"node".into(), &n.into());
            }
            fx.push(Effect::Emit(l.clone(), o.into()));
        }
    }
}

/// Commit the queued IndexedDB batches, a group per transaction, until the queue is empty.
/// A group that fails is retried batch by batch, so each batch still gets its own outcome
/// (`PersistDone` or `PersistFailed`, nothing of a failed batch applied) exactly as if it had
/// been committed alone.
async fn commit_queued(weak: Weak<RefCell<Host>>) {
    loop {
        let Some(host) = weak.upgrade() else {
            return;
        };
        let (store, group) = {
            let mut h = host.borrow_mut();
            if h.idb_queue.is_empty() {
                h.idb_busy = false;
                return;
            }
            let mut group = Vec::new();
            let mut ops = 0;
            while let Some((b, o)) = h.idb_queue.pop_front() {
                ops += o.len();
                group.push((b, o));
                if ops >= MAX_GROUP_OPS {
                    break;
                }
            }
            (h.store.clone(), group)
        };
        drop(host);
        let mut outcomes = Vec::with_capacity(group.len());
        let all: Vec<StoreOp> = group.iter().flat_map(|(_, o)| o.iter().cloned()).collect();
        match store.apply(&all).await {
            Ok(()) => outcomes.extend(group.iter().map(|(b, _)| (*b, Ok(())))),
            Err(_) if group.len() > 1 => {
                for (b, o) in &group {
                    outcomes.push((*b, store.apply(o).await));
                }
            }
            Err(e) => outcomes.extend(group.iter().map(|(b, _)| (*b, Err(e.clone())))),
        }
        let Some(host) = weak.upgrade() else {
            return;
        };
        for (batch, result) in outcomes {
            let input = {
                let mut h = host.borrow_mut();
                h.persists_in_flight = h.persists_in_flight.saturating_sub(1);
                match result {
                    Ok(()) => Input::PersistDone { batch },
                    Err(e) => h.persist_failed(batch, e),
                }
            };
            feed(&host, input);
        }
    }
}

/// Feed one input and run what it leads to, then the JS callbacks.
/// One traced message: direction, peer, kind, key (as text when it is UTF-8, else hex) and
/// the clocks of the versions it carries (paper notation).
fn trace_view(dir: &str, peer: &NodeId, msg: &Message) -> JsValue {
    #[derive(Serialize)]
    struct TraceMsg<'a> {
        dir: &'a str,
        peer: &'a str,
        kind: &'static str,
        key: Option<String>,
        versions: Vec<String>,
    }
    let versions = match msg {
        Message::Replicate { versions, .. }
        | Message::ReadReply { versions, .. }
        | Message::Repair { versions, .. }
        | Message::Handoff { versions, .. }
        | Message::Transfer { versions, .. } => versions
            .versions()
            .iter()
            .map(|v| v.clock().to_string())
            .collect(),
        _ => Vec::new(),
    };
    let key = msg.key().map(|k| match std::str::from_utf8(k) {
        Ok(s) => s.to_string(),
        Err(_) => k.iter().map(|b| format!("{b:02x}")).collect(),
    });
    to_js(&TraceMsg {
        dir,
        peer: peer.as_str(),
        kind: msg.kind(),
        key,
        versions,
    })
    .unwrap_or(JsValue::NULL)
}

fn feed(host: &Shared, input: Input) {
    let mut fx = Vec::new();
    host.borrow_mut().step(input, &mut fx);
    run(fx);
}

fn run(fx: Vec<Effect>) {
    for e in fx {
        match e {
            Effect::Settle(f, v) => {
                let _ = f.call1(&JsValue::NULL, &v);
            }
            Effect::Emit(f, v) => {
                // A throwing listener must not break the node.
                if let Err(err) = f.call1(&JsValue::NULL, &v) {
                    web_sys_console_error(&err);
                }
            }
        }
    }
}

fn web_sys_console_error(err: &JsValue) {
    if let Ok(console) = Reflect::get(&js_sys::global(), &"console".into()) {
        if let Ok(f) = Reflect::get(&console, &"error".into()) {
            if let Some(f) = f.dyn_ref::<Function>() {
                let _ = f.call2(&console, &"ringlet: an event listener threw".into(), err);
            }
        }
    }
}

/// Connect to the relay and wait for its welcome (the peers), retrying while the relay
/// says the id is still in use (a reloaded tab whose old connection has not ended yet).
async fn connect_until_welcome(host: &Shared, deadline: u64) -> Result<Vec<String>, JsValue> {
    loop {
        let mut settle = None;
        let promise =
            Promise::new(&mut |resolve, reject| settle = Some(Pending { resolve, reject }));
        let Some(pending) = settle else {
            return Err(js_error(errors::RELAY_FAILED, "cannot wait for the relay"));
        };
        let source = host.borrow().token.clone();
        let (cluster, id) = {
            let h = host.borrow();
            (h.cluster.clone(), h.id.to_string())
        };
        let token = source
            .fetch(&cluster, &id, deadline.saturating_sub(now_ms()))
            .await?;
        {
            let mut h = host.borrow_mut();
            if h.closed {
                return Err(closed());
            }
            h.welcome = Some(pending);
            let relay = connect(&h, token.as_deref())?;
            h.relay = Some(relay);
        }
        // Give up at the deadline (a cancelled timer, so a Node.js process is not kept
        // alive by it after the welcome).
        let weak = Rc::downgrade(host);
        let wait = deadline.saturating_sub(now_ms()) as f64;
        let give_up = Closure::<dyn FnMut()>::new(move || {
            let Some(h) = weak.upgrade() else {
                return;
            };
            let w = h.borrow_mut().welcome.take();
            if let Some(p) = w {
                let e = js_error(
                    errors::TIMEOUT,
                    "the relay did not welcome this node in time",
                );
                let _ = p.reject.call1(&JsValue::NULL, &e);
            }
        });
        let handle = set_timeout(give_up.as_ref().unchecked_ref(), wait);
        let settled = wasm_bindgen_futures::JsFuture::from(promise).await;
        clear_timeout(&handle);
        drop(give_up);
        match settled {
            Ok(peers) => {
                let peers = peers
                    .dyn_ref::<Array>()
                    .map(|a| a.iter().filter_map(|p| p.as_string()).collect())
                    .unwrap_or_default();
                return Ok(peers);
            }
            Err(e) => {
                let in_use = Reflect::get(&e, &"code".into())
                    .ok()
                    .and_then(|c| c.as_string())
                    == Some(errors::NODE_ID_IN_USE.to_string());
                let retryable = Reflect::get(&e, &"retryable".into())
                    .ok()
                    .and_then(|r| r.as_bool())
                    == Some(true);
                if (in_use || retryable) && now_ms() + 500 < deadline {
                    TimeoutFuture::new(500).await;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

fn connect(h: &Host, token: Option<&str>) -> Result<Relay, JsValue> {
    let weak = h.me.clone();
    let sink: Rc<dyn Fn(RelayEvent)> = Rc::new(move |ev| {
        if let Some(h) = weak.upgrade() {
            on_relay(&h, ev);
        }
    });
    let relay = match &h.relay_url {
        RelayTarget::Url(url) => Relay::connect(url, &h.cluster, h.id.as_str(), token, sink),
        RelayTarget::Endpoint(e) => Relay::connect_js(e, &h.cluster, h.id.as_str(), sink),
    };
    relay.map_err(|e| {
        js_error(
            errors::RELAY_FAILED,
            format!(
                "cannot connect to the relay {}: {e}",
                h.relay_url.describe()
            ),
        )
    })
}

fn on_relay(host: &Shared, ev: RelayEvent) {
    let mut fx = Vec::new();
    let mut input = None;
    {
        let mut h = host.borrow_mut();
        if h.closed {
            return;
        }
        match ev {
            RelayEvent::Signal { from, payload } => {
                match (signal::decode(&payload), h.rtc.as_mut()) {
                    (Ok(s), Some(rtc)) => rtc.on_signal(&from, s, now_ms()),
                    (Ok(Signal::Offer { session, .. }), None) => {
                        // No WebRTC here: the other side uses the relay for this node.
                        let bye = Signal::Bye {
                            session,
                            reason: ByeReason::Unsupported,
                        };
                        h.send_signal(&from, &bye);
                    }
                    (Ok(_), None) => {}
                    (Err(_), Some(rtc)) => rtc.counters.bad_signals += 1,
                    (Err(_), None) => h.stats.bad_frames += 1,
                }
                h.flush_rtc();
            }
            RelayEvent::Frame { from, payload } => {
                h.stats.frames_in += 1;
                h.traffic.received(Path::Relay, &from, payload.len());
                match Message::decode(&payload) {
                    Ok(msg) if h.node.is_some() => {
                        input = Some(Input::Message {
                            from: NodeId::new(&from),
                            msg,
                        })
                    }
                    Ok(_) => {}
                    Err(_) => h.stats.bad_frames += 1,
                }
            }
            RelayEvent::BadFrame => h.stats.bad_frames += 1,
            RelayEvent::Welcome { peers } => {
                h.connected = true;
                h.reconnect_delay_ms = RECONNECT_MIN_MS;
                match h.welcome.take() {
                    Some(p) => {
                        let arr: Array = peers.iter().map(|p| JsValue::from_str(p)).collect();
                        fx.push(Effect::Settle(p.resolve, arr.into()));
                    }
                    None => {
                        h.stats.reconnects += 1;
                        h.host_event("connected", None, &mut fx);
                        for p in &peers {
                            h.kick(p);
                        }
                    }
                }
            }
            RelayEvent::Joined(node) => {
                h.host_event("peerjoined", Some(&node), &mut fx);
                h.kick(&node);
            }
            RelayEvent::Left(node) => h.host_event("peerleft", Some(&node), &mut fx),
            RelayEvent::Error { code, message } => {
                h.stats.relay_errors += 1;
                let refusal = match code.as_str() {
                    "BAD_HELLO" => Some(errors::RELAY_FAILED),
                    "NODE_ID_IN_USE" => Some(errors::NODE_ID_IN_USE),
                    "UNAUTHORIZED" => Some(errors::UNAUTHORIZED),
                    "ORIGIN_NOT_ALLOWED" => Some(errors::ORIGIN_NOT_ALLOWED),
                    "CLUSTER_FULL" => Some(errors::CLUSTER_FULL),
                    _ => None,
                };
                // A refusal's error message precedes its close frame.
                h.refusal = Some(message.clone());
                if let Some(c) = refusal {
                    if let Some(p) = h.welcome.take() {
                        let e = js_error(
                            c,
                            format!("the relay refused this node ({code}): {message}"),
                        );
                        fx.push(Effect::Settle(p.reject, e));
                    }
                }
            }
            RelayEvent::Closed {
                code,
                reason,
                opened,
            } => {
                let was_connected = h.connected;
                h.connected = false;
                if let Some(p) = h.welcome.take() {
                    let e = if code == 4009 {
                        js_error(
                            errors::NODE_ID_IN_USE,
                            "another live node of the cluster has this id",
                        )
                    } else if let Some((c, _)) = auth::refusal(code, false) {
                        js_error(c, format!("the relay refused this node ({code} {reason})"))
                    } else {
                        let e = js_error(
                            errors::RELAY_FAILED,
                            format!(
                                "the relay connection closed before the welcome ({code} {reason})"
                            ),
                        );
                        // A relay that accepted the socket and then dropped it (a restart, or
                        // the previous connection of this id still being torn down) is worth
                        // another try; no relay at all is not.
                        if opened && code != 4002 {
                            let _ = Reflect::set(&e, &"retryable".into(), &JsValue::TRUE);
                        }
                        e
                    };
                    fx.push(Effect::Settle(p.reject, e));
                } else {
                    if was_connected {
                        h.host_event("disconnected", None, &mut fx);
                    }
                    match auth::refusal(code, h.token.is_call()) {
                        None => schedule_reconnect(&mut h),
                        Some((c, retrying)) => {
                            let message = h.refusal.take().unwrap_or(reason);
                            h.refused_event(c, &message, retrying, &mut fx);
                            if retrying {
                                // Refused: back off as far as the backoff goes.
                                h.reconnect_delay_ms = RECONNECT_MAX_MS;
                                schedule_reconnect(&mut h);
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(i) = input {
        feed(host, i);
    }
    run(fx);
}

/// An event of WebRTC attempt `session` with `peer`; a whole message is fed to the node.
fn on_rtc(host: &Shared, peer: &str, session: u64, ev: PeerEvent) {
    // Browsers report these events in tasks of their own, never from inside a call into the
    // host; were one to arrive there, it is dropped like a lost message (an attempt that
    // misses its open event times out and is retried).
    let Ok(mut h) = host.try_borrow_mut() else {
        return;
    };
    if h.closed {
        return;
    }
    let now = now_ms();
    let Some(rtc) = h.rtc.as_mut() else {
        return;
    };
    let msg = rtc.on_event(peer, session, ev, now);
    h.flush_rtc();
    let mut input = None;
    if let Some(bytes) = msg {
        h.traffic.received(Path::DataChannel, peer, bytes.len());
        match Message::decode(&bytes) {
            Ok(msg) if h.node.is_some() => {
                input = Some(Input::Message {
                    from: NodeId::new(peer),
                    msg,
                })
            }
            Ok(_) => {}
            Err(_) => h.stats.bad_frames += 1,
        }
    }
    drop(h);
    if let Some(i) = input {
        feed(host, i);
    }
}

/// The periodic check of the WebRTC links (timeouts, stalls).
fn check_links(host: &Shared) {
    let Ok(mut h) = host.try_borrow_mut() else {
        return;
    };
    if h.closed {
        return;
    }
    if let Some(rtc) = h.rtc.as_mut() {
        rtc.tick(now_ms());
    }
    h.flush_rtc();
}

/// Reconnect after a growing delay; the node keeps running meanwhile (its messages are lost,
/// which the protocol tolerates).
fn schedule_reconnect(h: &mut Host) {
    if h.reconnect_timer.is_some() || h.closed {
        return;
    }
    let delay = h.reconnect_delay_ms;
    h.reconnect_delay_ms = (delay * 2).min(RECONNECT_MAX_MS);
    if let Some(cb) = &h.reconnect_cb {
        h.reconnect_timer = Some(set_timeout(cb.as_ref().unchecked_ref(), delay as f64));
    }
}

/// The reconnection timer's callback: connect again unless closed or already connected,
/// with a fresh token when a function gives them.
fn reconnect(weak: &Weak<RefCell<Host>>) {
    let Some(host) = weak.upgrade() else {
        return;
    };
    let mut h = host.borrow_mut();
    h.reconnect_timer = None;
    if h.closed || h.connected || h.fetching_token {
        return;
    }
    let token = match &h.token {
        TokenSource::Call(_) => {
            h.fetching_token = true;
            let weak = weak.clone();
            spawn_local(async move { reconnect_with_fresh_token(weak).await });
            return;
        }
        TokenSource::Fixed(t) => Some(t.clone()),
        TokenSource::None => None,
    };
    match connect(&h, token.as_deref()) {
        // The old relay (closed) is dropped here, outside its own callbacks.
        Ok(r) => h.relay = Some(r),
        Err(_) => schedule_reconnect(&mut h),
    }
}

async fn reconnect_with_fresh_token(weak: Weak<RefCell<Host>>) {
    let Some((source, cluster, id)) = weak.upgrade().map(|host| {
        let h = host.borrow();
        (h.token.clone(), h.cluster.clone(), h.id.to_string())
    }) else {
        return;
    };
    let fetched = source.fetch(&cluster, &id, OPEN_TIMEOUT_MS).await;
    let Some(host) = weak.upgrade() else {
        return;
    };
    let mut fx = Vec::new();
    {
        let mut h = host.borrow_mut();
        h.fetching_token = false;
        if h.closed || h.connected {
            return;
        }
        match fetched.map(|t| connect(&h, t.as_deref())) {
            Ok(Ok(r)) => h.relay = Some(r),
            Ok(Err(_)) => schedule_reconnect(&mut h),
            Err(e) => {
                // The app's server did not give a token: tell the app, try again later.
                let message = super::values::describe(&e);
                h.refused_event(errors::UNAUTHORIZED, &message, true, &mut fx);
                h.reconnect_delay_ms = RECONNECT_MAX_MS;
                schedule_reconnect(&mut h);
            }
        }
    }
    run(fx);
}

fn reply_to_js(reply: ClientReply) -> JsValue {
    let o = Object::new();
    match reply {
        ClientReply::Get { value, context, .. } => {
            let values: Array = match value {
                Resolved::Siblings(vs) | Resolved::Set(vs) => {
                    vs.iter().map(|v| value_from_bytes(v.as_slice())).collect()
                }
                Resolved::Single(v) => v.iter().map(|v| value_from_bytes(v.as_slice())).collect(),
                Resolved::Counter(n) => std::iter::once(JsValue::from_f64(n as f64)).collect(),
            };
            let _ = Reflect::set(&o, &"values".into(), &values);
            let _ = Reflect::set(&o, &"context".into(), &context_to_js(&context));
        }
        ClientReply::Put { context, .. } => {
            let _ = Reflect::set(&o, &"context".into(), &context_to_js(&context));
        }
        ClientReply::Done => return JsValue::UNDEFINED,
    }
    o.into()
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser).map_err(|e| invalid(e.to_string()))
}

fn get(o: &JsValue, k: &str) -> JsValue {
    if o.is_object() {
        Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Options of one request: only `allowed` keys, each of the right type.
fn request_options(o: &JsValue, allowed: &[&str]) -> Result<RequestOptions, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(RequestOptions::default());
    }
    if !o.is_object() {
        return Err(invalid("request options must be an object"));
    }
    for k in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown option `{k}` (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    let mut r = RequestOptions::default();
    if allowed.contains(&"r") {
        r.r = opt_int(o, "r", 1, 255)?.map(|v| v as usize);
    }
    if allowed.contains(&"w") {
        r.w = opt_int(o, "w", 1, 255)?.map(|v| v as usize);
    }
    r.timeout_ms = opt_int(o, "timeoutMs", 1, 3_600_000)?;
    let durable = get(o, "durable");
    if !durable.is_undefined() {
        r.durable = Some(
            durable
                .as_bool()
                .ok_or_else(|| invalid("`durable` must be a boolean"))?,
        );
    }
    Ok(r)
}

/// An optional integer option in `min..=max`.
fn opt_int(o: &JsValue, k: &str, min: u64, max: u64) -> Result<Option<u64>, JsValue> {
    let v = get(o, k);
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= min as f64 && f <= max as f64 => Ok(Some(f as u64)),
        _ => Err(invalid(format!(
            "`{k}` must be an integer from {min} to {max}"
        ))),
    }
}

fn opt_string(o: &JsValue, k: &str) -> Result<Option<String>, JsValue> {
    let v = get(o, k);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| invalid(format!("`{k}` must be a string")))
}

/// A name the relay accepts as a node id: 1..=64 printable ASCII characters, no spaces.
fn valid_node_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn parse_options(o: &JsValue) -> Result<Options, JsValue> {
    if !o.is_object() {
        return Err(invalid("Replica.open needs an options object"));
    }
    const KNOWN: [&str; 21] = [
        "cluster",
        "relay",
        "storage",
        "n",
        "r",
        "w",
        "q",
        "seeds",
        "name",
        "dbName",
        "capacity",
        "timeoutMs",
        "openTimeoutMs",
        "maxValueBytes",
        "maxSiblings",
        "warnSiblings",
        "gossipIntervalMs",
        "token",
        "webrtc",
        "durableReplica",
        "memberTtlMs",
    ];
    for k in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !KNOWN.contains(&k.as_str()) {
            return Err(invalid(format!("unknown option `{k}`")));
        }
    }
    let cluster = opt_string(o, "cluster")?.ok_or_else(|| invalid("`cluster` is required"))?;
    let cluster_ok = !cluster.is_empty()
        && cluster.len() <= 64
        && cluster
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !cluster_ok {
        return Err(invalid(
            "`cluster` must be 1 to 64 characters from [A-Za-z0-9_.-]",
        ));
    }
    let relay_v = get(o, "relay");
    let relay = if relay_v.is_object() && !relay_v.is_function() {
        RelayTarget::Endpoint(relay_v)
    } else {
        let relay = opt_string(o, "relay")?
            .ok_or_else(|| invalid("`relay` (the relay's ws:// URL) is required"))?;
        if !(relay.starts_with("ws://") || relay.starts_with("wss://")) {
            return Err(invalid(
                "`relay` must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:8080/ws",
            ));
        }
        RelayTarget::Url(relay)
    };
    let has_idb = !Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap_or(JsValue::UNDEFINED)
        .is_undefined();
    let storage_v = get(o, "storage");
    let engine = if storage_v.is_object() {
        storage_v
    } else {
        JsValue::UNDEFINED
    };
    let named = if engine.is_undefined() {
        opt_string(o, "storage")?
    } else {
        None
    };
    let storage = match named.as_deref() {
        _ if !engine.is_undefined() => "js",
        Some("memory") => "memory",
        Some("indexeddb") => "indexeddb",
        None if has_idb => "indexeddb",
        None => "memory",
        Some(other) => {
            return Err(invalid(format!(
            "`storage` must be \"indexeddb\", \"memory\" or a storage engine object, got {other:?}"
        )))
        }
    };
    if storage == "indexeddb" && !has_idb {
        return Err(js_error(
            errors::STORAGE_FAILED,
            "IndexedDB is not available here; use storage: \"memory\"",
        ));
    }
    let name = opt_string(o, "name")?;
    if let Some(n) = &name {
        if !valid_node_name(n) {
            return Err(invalid(
                "`name` must be 1 to 64 printable ASCII characters without spaces",
            ));
        }
    }
    let db_name = opt_string(o, "dbName")?;
    let seeds_v = get(o, "seeds");
    let mut seeds = Vec::new();
    if !seeds_v.is_undefined() && !seeds_v.is_null() {
        let arr = seeds_v
            .dyn_ref::<Array>()
            .ok_or_else(|| invalid("`seeds` must be an array of node ids"))?;
        for s in arr.iter() {
            match s.as_string() {
                Some(s) if valid_node_name(&s) => seeds.push(NodeId::new(&s)),
                _ => return Err(invalid("`seeds` must be an array of node ids")),
            }
        }
    }
    let mut config = Config {
        max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        ..Config::default()
    };
    if let Some(n) = opt_int(o, "n", 1, 64)? {
        config.n = n as usize;
    }
    if let Some(r) = opt_int(o, "r", 1, 64)? {
        config.r = r as usize;
    } else {
        config.r = config.r.min(config.n);
    }
    if let Some(w) = opt_int(o, "w", 1, 64)? {
        config.w = w as usize;
    } else {
        config.w = config.w.min(config.n);
    }
    if config.r > config.n || config.w > config.n {
        return Err(invalid(format!(
            "need 1 <= r, w <= n, got n={} r={} w={}",
            config.n, config.r, config.w
        )));
    }
    if let Some(q) = opt_int(o, "q", 1, 1 << 16)? {
        if !q.is_power_of_two() {
            return Err(invalid("`q` must be a power of two"));
        }
        config.q = q as u32;
    }
    if let Some(t) = opt_int(o, "timeoutMs", 1, 3_600_000)? {
        config.request_timeout_ms = t;
    }
    if let Some(m) = opt_int(o, "maxValueBytes", 1, 64 << 20)? {
        config.max_value_bytes = m as usize;
    }
    if let Some(m) = opt_int(o, "maxSiblings", 1, 100_000)? {
        config.max_siblings = m as usize;
    }
    if let Some(w) = opt_int(o, "warnSiblings", 0, 100_000)? {
        config.warn_siblings = w as usize;
    }
    if let Some(g) = opt_int(o, "gossipIntervalMs", 10, 3_600_000)? {
        config.gossip_interval_ms = g;
    }
    // The membership lease: a member down this long is removed. A node on memory storage
    // comes back empty if ever, so its replicas move after minutes; IndexedDB (and a storage
    // engine object) keep their data, so the core's long default applies.
    config.member_ttl_ms = match opt_int(o, "memberTtlMs", 0, 365 * 24 * 3_600_000)? {
        Some(t) => t,
        None if storage == "memory" => crate::core::MEMORY_MEMBER_TTL_MS,
        None => crate::core::DEFAULT_MEMBER_TTL_MS,
    };
    let durable_replica = get(o, "durableReplica");
    if !durable_replica.is_undefined() {
        config.durable_replica = durable_replica
            .as_bool()
            .ok_or_else(|| invalid("`durableReplica` must be a boolean"))?;
    }
    let capacity = opt_int(o, "capacity", 1, 1_000)?.unwrap_or(1) as u32;
    let open_timeout_ms = opt_int(o, "openTimeoutMs", 1, 3_600_000)?.unwrap_or(OPEN_TIMEOUT_MS);
    let token = TokenSource::from_option(&get(o, "token"))?;
    let webrtc = parse_webrtc(&get(o, "webrtc"))?;
    if storage == "js" && name.is_none() {
        return Err(invalid(
            "a node with a storage engine object needs a `name`",
        ));
    }
    Ok(Options {
        cluster,
        relay,
        storage,
        engine,
        name,
        db_name,
        seeds,
        capacity,
        config,
        open_timeout_ms,
        token,
        webrtc,
    })
}

/// `webrtc`: `true`/`false`, or `{ enabled?, maxPeers?, iceServers? }`. Default: enabled
/// (where WebRTC exists), 16 peers, no ICE servers.
fn parse_webrtc(v: &JsValue) -> Result<RtcOptions, JsValue> {
    let mut opts = RtcOptions {
        enabled: true,
        max_peers: 16,
        ice_servers: JsValue::UNDEFINED,
    };
    if v.is_undefined() || v.is_null() {
        return Ok(opts);
    }
    if let Some(b) = v.as_bool() {
        opts.enabled = b;
        return Ok(opts);
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(invalid(
            "`webrtc` must be a boolean or { enabled, maxPeers, iceServers }",
        ));
    }
    for k in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !["enabled", "maxPeers", "iceServers"].contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown option `webrtc.{k}` (allowed: enabled, maxPeers, iceServers)"
            )));
        }
    }
    let enabled = get(v, "enabled");
    if !enabled.is_undefined() {
        opts.enabled = enabled
            .as_bool()
            .ok_or_else(|| invalid("`webrtc.enabled` must be a boolean"))?;
    }
    if let Some(m) = opt_int(v, "maxPeers", 0, 256)? {
        opts.max_peers = m as usize;
    }
    let servers = get(v, "iceServers");
    if !servers.is_undefined() && !servers.is_null() {
        let bad = || {
            invalid("`webrtc.iceServers` must be an array of { urls, username?, credential? } (urls: a string or an array of strings)")
        };
        let arr = servers.dyn_ref::<Array>().ok_or_else(bad)?;
        for s in arr.iter() {
            if !s.is_object() {
                return Err(bad());
            }
            let urls = get(&s, "urls");
            let urls_ok = urls.as_string().is_some_and(|u| !u.is_empty())
                || urls
                    .dyn_ref::<Array>()
                    .is_some_and(|a| a.length() > 0 && a.iter().all(|u| u.as_string().is_some()));
            let str_or_absent = |k: &str| {
                let x = get(&s, k);
                x.is_undefined() || x.as_string().is_some()
            };
            if !urls_ok || !str_or_absent("username") || !str_or_absent("credential") {
                return Err(bad());
            }
        }
        opts.ice_servers = servers;
    }
    Ok(opts)
}

/// Open the storage and find the node's id and what it stored before.
async fn open_storage(opts: &Options) -> Result<(Store, NodeId, Snapshot), JsValue> {
    let fail = |e: StorageError| {
        let code = if e.quota_exceeded {
            errors::QUOTA_EXCEEDED
        } else {
            errors::STORAGE_FAILED
        };
        js_error(code, e)
    };
    if opts.storage == "memory" {
        // No metadata, even for a brand-new random id: the node then takes a random epoch
        // from its seed, so an id that collides with an earlier node's never reuses its dots.
        let id = match &opts.name {
            Some(name) => name.clone(),
            None => ids::random_id("node")?,
        };
        let engine = MemoryEngine::new(false);
        let snapshot = engine.load();
        return Ok((Store::Memory(Rc::new(engine)), NodeId::new(&id), snapshot));
    }
    if opts.storage == "js" {
        // A named node: its id is its name, and dots are never reused (see `Snapshot`).
        let store = JsStore::new(opts.engine.clone()).map_err(invalid)?;
        let snapshot = store.load().await.map_err(fail)?;
        let id = opts.name.clone().unwrap_or_default();
        return Ok((Store::Js(Rc::new(store)), NodeId::new(&id), snapshot));
    }
    let db_name = opts.db_name.clone().unwrap_or_else(|| {
        format!(
            "ringlet/{}/{}",
            opts.cluster,
            opts.name.as_deref().unwrap_or("default")
        )
    });
    let db = IdbStore::open(&db_name).await.map_err(fail)?;
    let stored = db.identity().await.map_err(fail)?;
    let (id, first_run) = match (stored, &opts.name) {
        (Some(id), _) => (id, false),
        (None, Some(name)) => (name.clone(), false),
        (None, None) => (ids::random_id("tab")?, true),
    };
    if first_run || opts.name.is_some() {
        db.set_identity(&id).await.map_err(fail)?;
    }
    // A first run keeps `meta` empty: a random epoch (see the memory case above).
    let snapshot = db.load().await.map_err(fail)?;
    Ok((Store::IndexedDb(Rc::new(db)), NodeId::new(&id), snapshot))
}
