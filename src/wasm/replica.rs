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

use super::auth::TokenSource;
use super::errors::{self, closed, from_core, js_error};
use super::ids;
use super::rtc::peer::{self, PeerEvent, Sink};
use super::rtc::{Rtc, RtcOptions};
use super::storage::Store;
use super::traffic::Traffic;
use super::transport::Relay;
use super::values::{context_from_js, key_to_bytes, value_to_bytes};
use super::{now_ms, random_bytes};
use crate::core::watch::{Subscriptions, Watching};
use crate::core::{
    AdminRequest, BatchId, ClientRequest, Config, Input, Node, NodeId, ReqId, Snapshot, StoreOp,
};
use crate::core::{Bytes, ResolverRules};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

mod admission;
mod app;
mod args;
mod events;
mod links;
mod run;
mod stats;
mod watching;

use args::*;
use links::*;
use run::*;

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
    /// Messages sent to peers, alone or in bundles (`framesOut` counts frames).
    messages_out: u64,
    /// Messages that left inside a bundle with others (`link::bundle`), not alone.
    messages_bundled: u64,
    frames_unsent: u64,
    bad_frames: u64,
    relay_errors: u64,
    /// This node's frames the relay reported it did not deliver (`dropped` notices, and
    /// the error messages that refuse a data frame).
    relay_drops: u64,
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
    /// Client requests waiting for admission into the core (`admission.rs`), and when the
    /// current admission slice began (None: no slice open).
    admission: VecDeque<Input>,
    slice_start_ms: Option<f64>,
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
    /// Encoded messages per peer, sent as one frame each (a bundle, `link::bundle`) at the
    /// end of the JavaScript task that made them (`Host::send`).
    outbox: BTreeMap<String, Vec<Vec<u8>>>,
    /// A microtask to send the outbox is queued.
    outbox_queued: bool,
    stats: HostStats,
    /// Data channels to other nodes (None: WebRTC disabled or not available here).
    rtc: Option<Rtc>,
    /// `webrtc.enabled` as asked (it may still be unavailable here).
    webrtc_requested: bool,
    rtc_interval: Option<JsValue>,
    rtc_check: Option<Closure<dyn FnMut()>>,
    traffic: Traffic,
    /// `disconnect()` was called: no relay connection until `connect()`.
    offline: bool,
    /// Who watches keys this node stores (`core::watch`), and what this node watches.
    subs: Subscriptions,
    watching: Watching,
    /// The key of each write request of this node in flight, and how many per key: a
    /// version stored while one is in flight is reported with `origin: 'local'`.
    write_keys: BTreeMap<ReqId, Bytes>,
    local_writes: BTreeMap<Bytes, usize>,
    /// Some JS listener wants `change` events (none: they are not built at all).
    emit_changes: bool,
    /// The resolver tables the members answered `ResolversProbe` with, while opening.
    resolver_answers: Vec<(String, ResolverRules)>,
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
                admission: VecDeque::new(),
                slice_start_ms: None,
                reconnect_timer: None,
                reconnect_cb: Some(reconnect_cb),
                listener: None,
                trace: None,
                early_events: Vec::new(),
                closed: false,
                persists_in_flight: 0,
                idb_queue: VecDeque::new(),
                idb_busy: false,
                outbox: BTreeMap::new(),
                outbox_queued: false,
                stats: HostStats::default(),
                rtc,
                webrtc_requested: opts.webrtc.enabled,
                rtc_interval,
                rtc_check,
                traffic: Traffic::default(),
                offline: false,
                subs: Subscriptions::default(),
                watching: Watching::default(),
                write_keys: BTreeMap::new(),
                local_writes: BTreeMap::new(),
                resolver_answers: Vec::new(),
                emit_changes: false,
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
        check_resolvers(&self.host, &peers, &opts.config.resolvers, deadline).await?;
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
        self.host.borrow().ring_js()
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
        self.host.borrow().stats_js()
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
            if let Input::Client {
                request:
                    ClientRequest::Put { key, .. }
                    | ClientRequest::Delete { key, .. }
                    | ClientRequest::Update { key, .. },
                ..
            } = &input
            {
                h.write_keys.insert(id, key.clone());
                *h.local_writes.entry(key.clone()).or_insert(0) += 1;
            }
            match input {
                Input::Client { request, .. } => Input::Client { id, request },
                Input::Admin { request, .. } => Input::Admin { id, request },
                other => other,
            }
        };
        match input {
            Input::Client { .. } => admission::admit(&self.host, input),
            _ => feed(&self.host, input),
        }
        promise
    }

    /// Stop everything now (synchronously): pending calls reject with `CLOSED`.
    fn shutdown(&self) {
        let (pending, welcome, relay) = {
            let mut h = self.host.borrow_mut();
            if h.closed {
                return;
            }
            // What the node said last (its leave, its answers) still goes out.
            h.flush_outbox();
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
