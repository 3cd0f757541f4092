//! The teaching page's cluster (`www/index.html`): the real core's nodes run by the
//! deterministic simulator (`crate::sim::Cluster`) on virtual time, bound to JavaScript.
//!
//! The page owns the clock: it calls `runUntil(t)` (or `step()`) and gets back, as plain JS
//! objects, everything that happened meanwhile, in order: every message with its whole
//! payload summarised (the versions it carries in the paper's notation, the hint, the
//! Merkle step), its delivery, persist batches, replies, core events, faults, the quorum
//! counters of the requests in flight (§4.5), and every change of a watched key's versions
//! at a replica with the comparison that decided it (descends / concurrent, §4.4).
//!
//! A seeded client workload (read, read-modify-write and blind writes through a random
//! node, the paper's generic load balancer) runs inside, at exact virtual times, so one
//! seed gives one run however the page slices time. Nothing here changes the core: it only
//! feeds the simulator inputs and reads what the nodes expose.

use crate::core::hash::key_hash;
use crate::core::rng::Rng;
use crate::core::{
    AdminRequest, Bytes, ClientReply, ClientRequest, Config, Context, Message, NodeId, ReqId,
    RequestOptions, Resolved, Siblings, Value, Version,
};
use crate::sim::observe::{self, Requester};
use crate::sim::{Cluster, Flight, NetConfig, TraceEvent};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use wasm_bindgen::prelude::*;

mod collect;
mod intercept;
mod merkle;
mod timeline;
mod views;
mod workload;
use timeline::{Action, Timeline};
use views::*;

/// Node names of a new cluster (the paper's figure 2 calls them A, B, C, ...).
const NAMES: [&str; 26] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];
/// Keys of the workload whose versions the page follows (hot keys).
const HOT_KEYS: [&str; 4] = ["cart/ada", "cart/bob", "cart/cy", "profile/dee"];
/// Cold keys of the workload: spread over the ring, they make the load per node.
const COLD_KEYS: u64 = 512;
/// At most this many keys have their versions followed at every node.
const MAX_WATCHED: usize = 64;

/// Options of a new simulated cluster, from JS (every field optional).
#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct Options {
    seed: Option<u64>,
    nodes: Option<usize>,
    names: Option<Vec<String>>,
    n: Option<usize>,
    r: Option<usize>,
    w: Option<usize>,
    q: Option<u32>,
    min_latency_ms: Option<u64>,
    max_latency_ms: Option<u64>,
    read_repair: Option<bool>,
    anti_entropy_ms: Option<u64>,
    hints: Option<bool>,
    reconnect_notices: Option<bool>,
    gossip_ms: Option<u64>,
    clients: Option<usize>,
    think_ms: Option<u64>,
}

#[derive(Clone)]
struct PageReq {
    node: usize,
    op: &'static str,
    key: String,
    at: u64,
    client: Option<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum ClientState {
    Idle,
    Busy,
}

struct Client {
    next_at: u64,
    state: ClientState,
    /// A read-modify-write's read is done: the write follows with its context.
    then_write: Option<(Bytes, Context)>,
}

#[derive(Default)]
struct Metrics {
    reads_by_versions: [u64; 4],
    latency_get: Vec<u64>,
    latency_put: Vec<u64>,
    ok: u64,
    failed: u64,
    /// Client requests and replica messages handled, per node index.
    load: Vec<u64>,
}

/// A message on its way.
struct Airborne {
    id: u64,
    from: NodeId,
    to: NodeId,
    to_index: Option<usize>,
    kind: &'static str,
    arrives: u64,
    /// Its delivery in the simulator's queue (`Flight::seq`): what dropping it takes.
    seq: Option<u64>,
    /// The message, when it carries versions of a watched key.
    msg: Option<Message>,
}

#[derive(Clone, PartialEq, Default)]
struct Held {
    data: Option<Siblings>,
    hints: Vec<(NodeId, Siblings)>,
}

/// The simulated cluster of the teaching page.
#[wasm_bindgen(js_name = SimCluster)]
pub struct SimCluster {
    c: Cluster,
    seed: u64,
    rng: Rng,
    reqs: BTreeMap<ReqId, PageReq>,
    /// Messages on their way, in send order (a duplicated message twice).
    flying: Vec<Airborne>,
    flight_seq: u64,
    /// Keys whose versions are followed; `seen[node][k]` is what node held of `watched[k]`.
    watched: Vec<Bytes>,
    seen: Vec<Vec<Held>>,
    /// The quorum counters last reported: (node, kind, rid) -> (got, needed).
    quorums: Vec<(QuorumKey, (usize, usize))>,
    /// (node, rid) -> the client request a put, get or forward of that node serves.
    rid_req: Vec<(usize, u64, ReqId)>,
    clients: Vec<Client>,
    /// Clients from this index on have been stopped (`setClients`).
    active_clients: usize,
    think_ms: u64,
    next_value: u64,
    metrics: Metrics,
    out: Vec<PageEvent>,
    joined: usize,
    /// Merkle exchanges already drawn: (the smaller node index, exchange id).
    drawn_exchanges: Vec<(usize, u64)>,
    /// Ids of the anti-entropy repairs in the air (`collect::name_repairs`).
    ae_repairs: BTreeSet<u64>,
    /// The options it was built with (a rewind builds it again).
    options: Options,
    /// The journal of the page's inputs and the event count (rewind).
    timeline: Timeline,
}

/// A quorum counter: (node index, kind, the coordinator's request id).
type QuorumKey = (usize, &'static str, u64);
/// A delivered message that brought versions of a watched key: (node, key index, message
/// id, kind, versions).
type Brought = Vec<(usize, usize, u64, &'static str, Siblings)>;

/// Kinds of the messages that serve a client's request at a replica (the load of §6.2).
fn is_request_work(kind: &str) -> bool {
    matches!(
        kind,
        "put" | "put-hinted" | "get" | "forward" | "read-repair" | "hint-delivery"
    )
}

/// The request id a message names and the node that allocated it: the sender of a request,
/// the recipient of its answer.
fn message_rid(msg: &Message, from: usize, to: Option<usize>) -> Option<(usize, u64)> {
    match msg {
        Message::Replicate { rid, .. }
        | Message::Read { rid, .. }
        | Message::Forward { rid, .. } => Some((from, *rid)),
        Message::ReplicateAck { rid, .. }
        | Message::ReadReply { rid, .. }
        | Message::ForwardReply { rid, .. } => to.map(|t| (t, *rid)),
        _ => None,
    }
}

impl SimCluster {
    fn name(&self, i: usize) -> String {
        self.c.id(i).to_string()
    }

    /// What node `i` holds for `key` (its replica and hinted copies), as the page shows it.
    fn replica_view(&self, i: usize, key: &Bytes, role: &'static str, rank: usize) -> ReplicaView {
        let h = self.held(i, key);
        ReplicaView {
            index: i,
            node: self.name(i),
            up: self.c.is_up(i),
            role,
            rank,
            versions: h.data.as_ref().map(versions_view).unwrap_or_default(),
            hints: h
                .hints
                .iter()
                .map(|(n, s)| HintView {
                    intended: n.to_string(),
                    versions: versions_view(s),
                })
                .collect(),
            on_disk: !self.c.is_up(i),
        }
    }

    fn check(&self, i: usize) -> Result<(), JsValue> {
        if i < self.c.len() {
            Ok(())
        } else {
            Err(JsValue::from_str(&format!("no node {i}")))
        }
    }

    /// The ring most nodes act on: the highest epoch any live node holds.
    fn reference_ring(&self) -> Option<(u64, u64, crate::core::Ring)> {
        let mut best: Option<(u64, u64, crate::core::Ring)> = None;
        for i in 0..self.c.len() {
            if let Some(rs) = self.c.node(i).and_then(|n| n.membership().ring_state()) {
                if best.as_ref().is_none_or(|(e, _, _)| rs.epoch > *e) {
                    best = Some((rs.epoch, rs.hash(), rs.ring.clone()));
                }
            }
        }
        best
    }

    fn take_events(&mut self) -> Result<JsValue, JsValue> {
        let out = std::mem::take(&mut self.out);
        to_js(&out)
    }

    fn node_view(&self, i: usize, ring: Option<&(u64, u64, crate::core::Ring)>) -> NodeView {
        let id = self.c.id(i);
        let node = self.c.node(i);
        let status = match node.and_then(|n| n.status()) {
            Some(s) => s.name().to_string(),
            None => (0..self.c.len())
                .find_map(|j| self.c.node(j).and_then(|n| n.membership().get(id)))
                .map_or("unknown".to_string(), |info| info.status.name().to_string()),
        };
        let suspected_by = (0..self.c.len())
            .filter(|&j| j != i)
            .filter(|&j| {
                self.c
                    .node(j)
                    .is_some_and(|n| n.down_peers().iter().any(|p| p == id))
            })
            .map(|j| self.name(j))
            .collect();
        let partitions = ring.map_or(0, |(_, _, r)| {
            r.owners().iter().filter(|o| *o == id).count() as u32
        });
        let stats = node.map(|n| n.stats().clone()).unwrap_or_default();
        NodeView {
            index: i,
            name: id.to_string(),
            up: node.is_some(),
            status,
            side: self.c.side(i),
            partitions,
            keys: node.map_or(self.c.store(i).state().objects.len(), |n| {
                n.objects().count()
            }),
            hints: node.map_or(self.c.store(i).state().hints.len(), |n| n.hints().count()),
            suspected_by,
            ring_epoch: node.and_then(|n| n.membership().ring_state().map(|r| r.epoch)),
            requests: node.map_or(0, |n| n.requests_in_flight()),
            gets: stats.gets,
            puts: stats.puts,
            forwarded: stats.forwarded,
            read_repairs: stats.read_repairs,
            hints_stored: stats.hints_stored,
            hints_delivered: stats.hints_delivered,
            keys_transferred: stats.keys_transferred,
            ae_exchanges: stats.ae_exchanges,
            ae_keys_repaired: stats.ae_keys_repaired,
        }
    }

    /// Per-node bookkeeping, also for nodes that joined.
    fn ensure_node_slots(&mut self) {
        while self.metrics.load.len() < self.c.len() {
            self.metrics.load.push(0);
        }
        while self.seen.len() < self.c.len() {
            let i = self.seen.len();
            let held = self.watched.iter().map(|k| self.held(i, k)).collect();
            self.seen.push(held);
        }
    }
}

impl SimCluster {
    /// A new cluster from its options (the constructor, and a rewind's fresh replay).
    fn build(o: Options) -> Result<SimCluster, JsValue> {
        let options = o.clone();
        let names: Vec<String> = match o.names {
            Some(n) => n,
            None => {
                let count = o.nodes.unwrap_or(5);
                if !(1..=NAMES.len()).contains(&count) {
                    return Err(JsValue::from_str("nodes must be between 1 and 26"));
                }
                NAMES[..count].iter().map(|s| s.to_string()).collect()
            }
        };
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        if names.is_empty()
            || unique.len() != names.len()
            || names.iter().any(|n| {
                n.is_empty() || n.len() > 16 || !n.chars().all(|c| c.is_ascii_alphanumeric())
            })
        {
            return Err(JsValue::from_str(
                "node names must be 1 to 16 distinct letters or digits",
            ));
        }
        let defaults = Config::default();
        let n = o.n.unwrap_or(3);
        let r = o.r.unwrap_or(2);
        let w = o.w.unwrap_or(2);
        let q = o.q.unwrap_or(64);
        if n == 0 || r == 0 || w == 0 || r > n || w > n || n > names.len() {
            return Err(JsValue::from_str(
                "need 1 <= R, W <= N <= the number of nodes",
            ));
        }
        if !q.is_power_of_two() || !(8..=1024).contains(&q) {
            return Err(JsValue::from_str("Q must be a power of two from 8 to 1024"));
        }
        let config = Config {
            n,
            r,
            w,
            q,
            read_repair: o.read_repair.unwrap_or(true),
            anti_entropy_interval_ms: o.anti_entropy_ms.unwrap_or(2_000),
            // Hints are still kept, but never offered.
            hint_batch: if o.hints == Some(false) {
                0
            } else {
                defaults.hint_batch
            },
            gossip_interval_ms: o.gossip_ms.unwrap_or(defaults.gossip_interval_ms).max(50),
            ..defaults
        };
        let min_latency_ms = o.min_latency_ms.unwrap_or(10).clamp(1, 5_000);
        let max_latency_ms = o.max_latency_ms.unwrap_or(30).clamp(min_latency_ms, 5_000);
        let net = NetConfig {
            min_latency_ms,
            max_latency_ms,
            loss: 0.0,
            duplicate: 0.0,
            min_persist_ms: 1,
            max_persist_ms: 3,
        };
        let seed = o.seed.unwrap_or(1);
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let mut c = Cluster::new(seed, &refs, config, net);
        if o.reconnect_notices == Some(false) {
            c.without_reconnect_notices();
        }
        c.record_trace();
        c.record_flights();
        let think_ms = o.think_ms.unwrap_or(800).clamp(10, 60_000);
        let mut rng = Rng::new(seed ^ 0x7ea_c4e5);
        let clients: Vec<Client> = (0..o.clients.unwrap_or(0).min(16))
            .map(|_| Client {
                next_at: c.now() + 200 + rng.below(think_ms),
                state: ClientState::Idle,
                then_write: None,
            })
            .collect();
        let mut s = SimCluster {
            c,
            seed,
            rng,
            reqs: BTreeMap::new(),
            flying: Vec::new(),
            flight_seq: 0,
            watched: Vec::new(),
            seen: Vec::new(),
            quorums: Vec::new(),
            rid_req: Vec::new(),
            active_clients: clients.len(),
            clients,
            think_ms,
            next_value: 0,
            metrics: Metrics::default(),
            out: Vec::new(),
            joined: 0,
            drawn_exchanges: Vec::new(),
            ae_repairs: BTreeSet::new(),
            options,
            timeline: Timeline::default(),
        };
        s.ensure_node_slots();
        for k in HOT_KEYS {
            s.watch_key(&Bytes::from(k));
        }
        s.collect();
        Ok(s)
    }
}

#[wasm_bindgen(js_class = SimCluster)]
impl SimCluster {
    /// A new simulated cluster. Options (all optional): `seed`, `nodes` (3..=26) or
    /// `names`, `n`, `r`, `w`, `q` (a power of two, 8..=1024), `minLatencyMs`,
    /// `maxLatencyMs`, `readRepair`, `antiEntropyMs` (0 = off), `hints` (false: hinted
    /// handoff delivers nothing), `reconnectNotices` (false: nodes are not told a peer is
    /// back, `Input::PeerReachable`), `gossipMs`, `clients`
    /// (workload clients, 0..=16), `thinkMs`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<SimCluster, JsValue> {
        let o: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsValue::from_str(&e.to_string()))?
        };
        SimCluster::build(o)
    }

    /// Virtual time in ms.
    pub fn now(&self) -> f64 {
        self.c.now() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.seed as f64
    }

    /// When the next thing happens (a queued event or a client's next request).
    #[wasm_bindgen(js_name = nextEventAt)]
    pub fn next_event_at(&self) -> Option<f64> {
        match (self.c.next_event_at(), self.next_wake()) {
            (Some(a), Some(b)) => Some(a.min(b) as f64),
            (a, b) => a.or(b).map(|t| t as f64),
        }
    }

    /// Run every event up to virtual time `t` (workload requests at their exact times) and
    /// return what happened, in order.
    #[wasm_bindgen(js_name = runUntil)]
    pub fn run_until(&mut self, t: f64) -> Result<JsValue, JsValue> {
        let t = (t.max(0.0) as u64).max(self.c.now());
        self.run_events(t, None);
        self.collect();
        self.take_events()
    }

    /// Run exactly one event (a delivery, a persist completion, a timer, or a client's
    /// request) and return what happened.
    pub fn step(&mut self) -> Result<JsValue, JsValue> {
        let horizon = self.next_event_at().map_or(self.c.now(), |t| t as u64);
        self.run_events(horizon, Some(self.timeline.count + 1));
        self.collect();
        self.take_events()
    }

    /// Simulator events run so far: the position on the timeline.
    #[wasm_bindgen(js_name = eventCount)]
    pub fn event_count(&self) -> f64 {
        self.timeline.count as f64
    }

    /// The furthest event the run reached (the timeline's end).
    #[wasm_bindgen(js_name = timelineEnd)]
    pub fn timeline_end(&self) -> f64 {
        self.timeline.end as f64
    }

    /// Go to event `target` of this run (back or forward, at most its end) by replaying it
    /// from the seed; returns the page events of the last `tail` events before it, so the
    /// page can show what was in the air. The page's inputs are replayed at their points.
    pub fn rewind(&mut self, target: f64, tail: f64) -> Result<JsValue, JsValue> {
        let fresh = self.replayed(target.max(0.0) as u64, tail.max(0.0) as u64)?;
        *self = fresh;
        self.take_events()
    }

    /// A put through node `node`. `context` in the paper's notation (`[(Sx,2)]`); none or
    /// empty: a blind write. `w` overrides W for this request. Returns the request id its
    /// reply will carry.
    pub fn put(
        &mut self,
        node: usize,
        key: &str,
        value: &str,
        context: Option<String>,
        w: Option<usize>,
    ) -> Result<f64, JsValue> {
        self.record(Action::Put {
            node,
            key: key.into(),
            value: value.into(),
            context: context.clone(),
            w,
        });
        let context = match context.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(Context::from(parse_clock(c)?)),
        };
        let request = ClientRequest::Put {
            key: Bytes::from(key),
            value: Bytes::from(value),
            context,
            options: RequestOptions {
                w,
                ..RequestOptions::default()
            },
        };
        self.submit(node, request, None).map(|id| id as f64)
    }

    /// A get through node `node`, with R overridden when `r` is given.
    pub fn get(&mut self, node: usize, key: &str, r: Option<usize>) -> Result<f64, JsValue> {
        self.record(Action::Get {
            node,
            key: key.into(),
            r,
        });
        let request = ClientRequest::Get {
            key: Bytes::from(key),
            options: RequestOptions {
                r,
                ..RequestOptions::default()
            },
        };
        self.submit(node, request, None).map(|id| id as f64)
    }

    /// A delete (a tombstone superseding what `context` covers).
    #[wasm_bindgen(js_name = delete)]
    pub fn delete_key(
        &mut self,
        node: usize,
        key: &str,
        context: Option<String>,
    ) -> Result<f64, JsValue> {
        self.record(Action::Delete {
            node,
            key: key.into(),
            context: context.clone(),
        });
        let context = match context.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(Context::from(parse_clock(c)?)),
        };
        let request = ClientRequest::Delete {
            key: Bytes::from(key),
            context,
            options: RequestOptions::default(),
        };
        self.submit(node, request, None).map(|id| id as f64)
    }

    /// Follow this key's versions at every node (`versions` events).
    pub fn watch(&mut self, key: &str) {
        self.watch_key(&Bytes::from(key));
    }

    /// Crash node `i`; with `lose_unpersisted`, batches not yet on disk are lost.
    pub fn crash(&mut self, i: usize, lose_unpersisted: bool) -> Result<(), JsValue> {
        self.record(Action::Crash(i, lose_unpersisted));
        self.check(i)?;
        self.collect();
        let lost = self.c.crash(i, lose_unpersisted);
        self.rid_req.retain(|x| x.0 != i);
        let at = self.c.now();
        for id in lost {
            if let Some(pr) = self.reqs.remove(&id) {
                self.metrics.failed += 1;
                self.out.push(PageEvent::Reply {
                    req: id,
                    at,
                    node: self.name(i),
                    op: pr.op,
                    key: pr.key.clone(),
                    ok: false,
                    latency: at.saturating_sub(pr.at),
                    error: Some("the coordinator crashed: the client never hears back".into()),
                    code: Some("LOST"),
                    values: Vec::new(),
                    versions: Vec::new(),
                    context: None,
                    dot: None,
                    workload: pr.client.is_some(),
                });
                if let Some(ci) = pr.client {
                    if let Some(cl) = self.clients.get_mut(ci) {
                        cl.state = ClientState::Idle;
                        cl.then_write = None;
                        cl.next_at = at + self.think_ms;
                    }
                }
            }
        }
        self.collect_all();
        Ok(())
    }

    /// Restart crashed node `i` from what its disk holds.
    pub fn restart(&mut self, i: usize) -> Result<(), JsValue> {
        self.record(Action::Restart(i));
        self.check(i)?;
        self.collect();
        self.c.restart(i);
        self.collect_all();
        Ok(())
    }

    /// Cut the network: the nodes in `group` on one side, the rest on the other.
    pub fn partition(&mut self, group: Vec<u32>) -> Result<(), JsValue> {
        self.record(Action::Partition(group.clone()));
        let group: Vec<usize> = group.into_iter().map(|g| g as usize).collect();
        for &g in &group {
            self.check(g)?;
        }
        self.collect();
        self.c.partition(&group);
        self.collect();
        Ok(())
    }

    pub fn heal(&mut self) {
        self.record(Action::Heal);
        self.collect();
        self.c.heal();
        self.collect();
    }

    /// One-way message latency, uniform in `min..=max` ms.
    #[wasm_bindgen(js_name = setLatency)]
    pub fn set_latency(&mut self, min: u32, max: u32) {
        self.record(Action::Latency(min, max));
        let min = (min as u64).clamp(1, 5_000);
        self.c.net.min_latency_ms = min;
        self.c.net.max_latency_ms = (max as u64).clamp(min, 5_000);
        self.out.push(PageEvent::Fault {
            at: self.c.now(),
            what: format!("latency {min}..{} ms", self.c.net.max_latency_ms),
        });
    }

    /// The probability that a message is lost (0..=1).
    #[wasm_bindgen(js_name = setLoss)]
    pub fn set_loss(&mut self, p: f64) {
        self.record(Action::Loss(p));
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.c.net.loss = p;
        self.out.push(PageEvent::Fault {
            at: self.c.now(),
            what: format!("message loss {:.0}%", p * 100.0),
        });
    }

    /// A new node joins through two live members (§4.8); returns its index.
    pub fn join(&mut self, capacity: u32) -> Result<usize, JsValue> {
        self.record(Action::Join(capacity));
        let used: Vec<String> = (0..self.c.len()).map(|i| self.name(i)).collect();
        let Some(name) = NAMES
            .iter()
            .find(|n| !used.iter().any(|u| u == **n))
            .map(|s| s.to_string())
        else {
            return Err(JsValue::from_str("no more node names"));
        };
        let seeds: Vec<usize> = (0..self.c.len())
            .filter(|&i| {
                self.c
                    .node(i)
                    .is_some_and(|n| n.ring().is_some() && !n.has_exited())
            })
            .take(2)
            .collect();
        if seeds.is_empty() {
            return Err(JsValue::from_str("no live member to join through"));
        }
        self.collect();
        let i = self.c.join_node(&name, capacity.clamp(1, 4), &seeds);
        self.joined += 1;
        self.ensure_node_slots();
        self.collect_all();
        Ok(i)
    }

    /// Node `i` leaves for good: its partitions move away, it hands off its data (§4.9).
    pub fn leave(&mut self, i: usize) -> Result<(), JsValue> {
        self.record(Action::Leave(i));
        self.check(i)?;
        if !self.c.is_up(i) {
            return Err(JsValue::from_str(
                "a crashed node cannot leave; remove it instead",
            ));
        }
        self.submit_admin(i, AdminRequest::Leave, "leave");
        Ok(())
    }

    /// An operator removes node `i` (it will not come back), through another live member.
    pub fn remove(&mut self, i: usize) -> Result<(), JsValue> {
        self.record(Action::Remove(i));
        self.check(i)?;
        let via = (0..self.c.len())
            .find(|&j| j != i && self.c.node(j).is_some_and(|n| n.ring().is_some()))
            .ok_or_else(|| JsValue::from_str("no live member to remove through"))?;
        let node = self.c.id(i).clone();
        self.submit_admin(via, AdminRequest::Remove { node }, "remove");
        Ok(())
    }

    /// The workload: `count` clients, each thinking about `think_ms` between requests.
    #[wasm_bindgen(js_name = setClients)]
    pub fn set_clients(&mut self, count: usize, think_ms: u32) {
        self.record(Action::Clients(count, think_ms));
        self.think_ms = (think_ms as u64).clamp(10, 60_000);
        let now = self.c.now();
        let count = count.min(16);
        self.active_clients = count;
        for c in self.clients.iter_mut().take(count) {
            if c.state == ClientState::Idle && c.next_at == u64::MAX {
                c.next_at = now + 1;
            }
        }
        while self.clients.len() < count {
            let at = now + self.rng.below(self.think_ms);
            self.clients.push(Client {
                next_at: at,
                state: ClientState::Idle,
                then_write: None,
            });
        }
        // Clients beyond `count` stop once their request in flight ends.
        while self.clients.len() > count {
            if self
                .clients
                .last()
                .is_some_and(|c| c.state == ClientState::Busy)
            {
                break;
            }
            self.clients.pop();
        }
        for c in self.clients.iter_mut().skip(count) {
            c.then_write = None;
            c.next_at = u64::MAX;
        }
    }

    /// The cluster now: nodes, their status and counters, the ring's epoch.
    pub fn state(&self) -> Result<JsValue, JsValue> {
        let ring = self.reference_ring();
        let cfg = self.c.config();
        let nodes = (0..self.c.len())
            .map(|i| self.node_view(i, ring.as_ref()))
            .collect();
        to_js(&StateView {
            now: self.c.now(),
            seed: self.seed,
            n: cfg.n,
            r: cfg.r,
            w: cfg.w,
            q: cfg.q,
            min_latency_ms: self.c.net.min_latency_ms,
            max_latency_ms: self.c.net.max_latency_ms,
            loss: self.c.net.loss,
            partitioned: self.c.is_partitioned(),
            ring_epoch: ring.as_ref().map_or(0, |r| r.0),
            ring_hash: ring
                .as_ref()
                .map_or(String::new(), |r| format!("{:016x}", r.1)),
            nodes,
            messages: self.c.messages_sent,
            dropped: self.c.messages_dropped,
            clients: self
                .clients
                .iter()
                .filter(|c| c.next_at != u64::MAX)
                .count(),
            next_event_at: self.c.next_event_at(),
        })
    }

    /// The ring in force: `{ epoch, q, owners }` with `owners[p]` the owner of partition p.
    pub fn ring(&self) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct RingView {
            epoch: u64,
            q: u32,
            owners: Vec<String>,
        }
        let (epoch, q, owners) = match self.reference_ring() {
            Some((e, _, r)) => (e, r.q(), r.owners().iter().map(|o| o.to_string()).collect()),
            None => (0, self.c.config().q, Vec::new()),
        };
        to_js(&RingView { epoch, q, owners })
    }

    /// Where `key` lives: its ring position, partition, preference list, and the versions
    /// every node of the list holds (hinted copies included).
    #[wasm_bindgen(js_name = keyInfo)]
    pub fn key_info(&self, key: &str) -> Result<JsValue, JsValue> {
        let cfg = self.c.config();
        let bytes = Bytes::from(key);
        let hash = key_hash(key.as_bytes());
        let position = (hash >> 64) as u64 as f64 / 18_446_744_073_709_551_616.0;
        let (partition, preflist) = match self.reference_ring() {
            Some((_, _, r)) => (
                r.partition_of_key(key.as_bytes()),
                r.preflist_for_key(key.as_bytes()),
            ),
            None => (0, Vec::new()),
        };
        let mut replicas = Vec::new();
        for (rank, id) in preflist.iter().enumerate() {
            let Some(i) = self.c.index_of(id) else {
                continue;
            };
            let role = if rank < cfg.n { "primary" } else { "fallback" };
            replicas.push(self.replica_view(i, &bytes, role, rank));
        }
        // Nodes outside the ring (joining, left) that still hold something for the key.
        for i in 0..self.c.len() {
            if preflist.iter().any(|p| p == self.c.id(i)) {
                continue;
            }
            let view = self.replica_view(i, &bytes, "outside", usize::MAX);
            if !view.versions.is_empty() || !view.hints.is_empty() {
                replicas.push(view);
            }
        }
        to_js(&KeyView {
            key: key.to_string(),
            position,
            hash: format!("{hash:032x}"),
            partition,
            q: cfg.q,
            n: cfg.n,
            r: cfg.r,
            w: cfg.w,
            preflist: preflist.iter().map(|p| p.to_string()).collect(),
            replicas,
        })
    }

    /// Two replicas' Merkle trees of `partition` compared (§4.7): the differing branches
    /// down to the keys that differ, and the bytes a comparison without the tree would send.
    pub fn merkle(&self, partition: u32, a: usize, b: usize) -> Result<JsValue, JsValue> {
        self.check(a)?;
        self.check(b)?;
        to_js(&self.merkle_view(partition, a, b))
    }

    /// The paper's measurements on this run: versions seen per read (§6: 99.94% of reads
    /// saw one version), request load per node against the mean (§6.2), and latency
    /// percentiles in virtual ms (§6.1).
    pub fn metrics(&self) -> Result<JsValue, JsValue> {
        let ring = self.reference_ring();
        let load = (0..self.c.len())
            .map(|i| LoadView {
                node: self.name(i),
                requests: self.metrics.load.get(i).copied().unwrap_or(0),
                partitions: ring.as_ref().map_or(0, |(_, _, r)| {
                    r.owners().iter().filter(|o| *o == self.c.id(i)).count() as u32
                }),
            })
            .collect();
        let m = &self.metrics;
        to_js(&MetricsView {
            reads: m.reads_by_versions.iter().sum(),
            reads_by_versions: m.reads_by_versions,
            get: latency_view(&m.latency_get),
            put: latency_view(&m.latency_put),
            ok: m.ok,
            failed: m.failed,
            load,
        })
    }
}
