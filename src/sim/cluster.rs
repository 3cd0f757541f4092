//! A simulated cluster: the host run loop of many `Node`s, a seeded network and seeded disks.
//!
//! Everything happens on one virtual clock in milliseconds. Events (message deliveries,
//! persist completions, node timers) sit in an ordered queue keyed by (time, sequence), so a
//! run is a pure function of its seed.

use crate::core::membership::{MemberInfo, RingState};
use crate::core::rng::Rng;
use crate::core::{
    AdminRequest, BatchId, Bytes, ClientReply, ClientRequest, Config, Dot, Error, Event, Input,
    Member, Membership, MemoryStore, Message, Node, NodeId, Output, RecordId, ReqId, Ring,
    Siblings, Snapshot, Status, StoreOp,
};
use std::collections::{BTreeMap, VecDeque};

/// Virtual time starts here, so that nodes with a negative clock skew stay above zero.
const EPOCH_MS: u64 = 100_000;

/// The network and disk model.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    pub min_persist_ms: u64,
    pub max_persist_ms: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            min_latency_ms: 1,
            max_latency_ms: 10,
            loss: 0.0,
            duplicate: 0.0,
            min_persist_ms: 0,
            max_persist_ms: 2,
        }
    }
}

/// What happened, for the trace, the teaching page and debugging.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceEvent {
    Send {
        at: u64,
        from: NodeId,
        to: NodeId,
        kind: &'static str,
        key: Option<Bytes>,
        dropped: bool,
    },
    Deliver {
        at: u64,
        from: NodeId,
        to: NodeId,
        kind: &'static str,
    },
    Persist {
        at: u64,
        node: NodeId,
        ops: usize,
    },
    Reply {
        at: u64,
        node: NodeId,
        id: ReqId,
        ok: bool,
    },
    Event {
        at: u64,
        node: NodeId,
        event: String,
    },
    Fault {
        at: u64,
        what: String,
    },
}

/// One message as the teaching page animates it (`Cluster::record_flights`): the whole
/// message, when it left and when it arrives. `TraceEvent::Deliver { at, from, to, kind }`
/// of the same message has `at == arrives`; two flights of one sender, recipient, kind and
/// arrival time are delivered in the order they were sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    pub at: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub msg: Message,
    /// When it reaches `to`; `None` when the network dropped it (loss or a partition).
    pub arrives: Option<u64>,
    /// When the network's duplicate of it arrives, if it made one.
    pub duplicate_arrives: Option<u64>,
    /// The delivery's place in the event queue (`None` when the network dropped it), and
    /// the duplicate's: what `Cluster::drop_message` takes to drop it while in flight.
    pub seq: Option<u64>,
    pub duplicate_seq: Option<u64>,
}

#[derive(Clone, Debug)]
enum SimEvent {
    Deliver {
        to: usize,
        from: NodeId,
        msg: Message,
    },
    Persisted {
        node: usize,
        incarnation: u32,
        batch: BatchId,
    },
    Timer {
        node: usize,
        incarnation: u32,
    },
    /// The end of a node's event-loop stall: its deferred events run, in order.
    StallEnd {
        node: usize,
    },
    /// A client or admin input handed to a node while its event loop was stalled.
    Input {
        node: usize,
        incarnation: u32,
        input: Input,
    },
}

struct SimNode {
    id: NodeId,
    node: Option<Node>,
    store: MemoryStore,
    /// Batches handed to the disk and not yet durable.
    unpersisted: VecDeque<(BatchId, Vec<StoreOp>)>,
    last_persist_at: u64,
    incarnation: u32,
    skew_ms: i64,
    timer_at: Option<u64>,
    /// `None`: a member of the static configuration; `Some(seeds)`: joined dynamically.
    joined_via: Option<Vec<NodeId>>,
    capacity: u32,
    /// Runs with `Config::durable_replica` (an always-on edge node).
    durable_replica: bool,
    /// This node's own disk latency (a slow IndexedDB), overriding `NetConfig`'s.
    persist_ms: Option<(u64, u64)>,
    /// The node's event loop handles no input before this time (a throttled tab).
    stalled_until: u64,
    /// Events that fell due during the stall, in order, with the time they fell due.
    deferred: VecDeque<(u64, SimEvent)>,
    /// Every ring this node has held, with the time and the step (`Cluster::steps`) after
    /// which it held it (`None`: no ring, or down), for the checker's "the ring the put was
    /// coordinated with".
    rings: Vec<(u64, u64, Option<Ring>)>,
}

/// The outcome of one client request.
#[derive(Clone, Debug, PartialEq)]
pub struct Completed {
    pub id: ReqId,
    pub node: usize,
    pub at: u64,
    pub result: Result<ClientReply, Error>,
}

pub struct Cluster {
    now: u64,
    rng: Rng,
    config: Config,
    members: Vec<Member>,
    nodes: Vec<SimNode>,
    index: BTreeMap<NodeId, usize>,
    queue: BTreeMap<(u64, u64), SimEvent>,
    seq: u64,
    pub net: NetConfig,
    /// `side[i]`: which side of a partition node i is on (all 0 when healed).
    side: Vec<u8>,
    /// Directed links that are cut (`(from, to)`: `to` does not hear `from`).
    cut: std::collections::BTreeSet<(usize, usize)>,
    /// Every stall: (node, from, until), in the order they were injected.
    stall_log: Vec<(usize, u64, u64)>,
    /// Every disk loss (a wipe, a corrupted record): the node, when, and what its disk held
    /// just before, for the checker (a replica that acknowledged a write durably and then
    /// lost its disk did hold it).
    disk_losses: Vec<(usize, u64, Snapshot)>,
    /// Inputs handled so far (one step per `Node::handle`).
    steps: u64,
    /// Where and when each dot first left a node (in a Replicate or a persist batch): the
    /// node that coordinated it, and the step in which it did.
    born: BTreeMap<Dot, (usize, u64)>,
    /// The step in which each node first handed each dot to its disk (an object or a hint).
    stored: BTreeMap<(usize, Dot), u64>,
    /// Per node, key and actor, the steps in which the node first handed to its disk a
    /// version whose context covers higher counters of that actor (rising: (counter,
    /// step)): a later version covering a dot stands for it (seed 15497).
    stored_past: BTreeMap<(usize, Bytes, NodeId), Vec<(u64, u64)>>,
    /// The step in which each node exited (its leave completed), if it did.
    exited: BTreeMap<usize, u64>,
    /// Every object or hint a node deleted from its disk (it handed an object on to the
    /// key's new primaries, §4.9; delivered a hint; adopted a hint whose node left): the
    /// node, when, the hint's intended node (`None`: an object), the key, what it held.
    dropped: Vec<(usize, u64, Option<NodeId>, Bytes, Siblings)>,
    /// Probability that a persist batch fails (`Input::PersistFailed`, quota exceeded).
    pub persist_fail: f64,
    /// Persist batches that failed so far.
    pub persist_failures: u64,
    next_req: ReqId,
    /// Requests in flight: id -> node.
    in_flight: BTreeMap<ReqId, usize>,
    completed: VecDeque<Completed>,
    trace_hash: u64,
    trace: Option<Vec<TraceEvent>>,
    flights: Option<Vec<Flight>>,
    /// Nodes hear when a peer reconnects (`announce`); off for tests of the slower paths.
    reconnect_notices: bool,
    pub messages_sent: u64,
    pub messages_dropped: u64,
    /// A prepared view for every static node (see `with_view`).
    view: Option<Membership>,
    /// Count encoded bytes per message kind (costs an encode per message; off by default).
    pub count_bytes: bool,
    pub bytes_by_kind: BTreeMap<&'static str, (u64, u64)>,
    /// Keep the encodings of the first few messages of each kind (the fuzzers' seed corpus,
    /// `examples/fuzz_seeds.rs`); off by default.
    pub sample_frames: bool,
    pub frame_samples: BTreeMap<&'static str, Vec<Vec<u8>>>,
}

impl Cluster {
    /// A cluster of nodes named `names`, every node created from `config`.
    pub fn new(seed: u64, names: &[&str], config: Config, net: NetConfig) -> Cluster {
        let mut rng = Rng::new(seed);
        let members: Vec<Member> = names
            .iter()
            .map(|n| Member {
                node: NodeId::new(n),
                capacity: 1,
            })
            .collect();
        let mut cluster = Cluster {
            now: EPOCH_MS,
            config,
            members,
            nodes: Vec::new(),
            index: BTreeMap::new(),
            queue: BTreeMap::new(),
            seq: 0,
            net,
            side: Vec::new(),
            cut: std::collections::BTreeSet::new(),
            persist_fail: 0.0,
            persist_failures: 0,
            stall_log: Vec::new(),
            disk_losses: Vec::new(),
            steps: 0,
            born: BTreeMap::new(),
            stored: BTreeMap::new(),
            stored_past: BTreeMap::new(),
            exited: BTreeMap::new(),
            dropped: Vec::new(),
            next_req: 1,
            in_flight: BTreeMap::new(),
            completed: VecDeque::new(),
            trace_hash: 0xcbf2_9ce4_8422_2325,
            trace: None,
            flights: None,
            reconnect_notices: true,
            messages_sent: 0,
            messages_dropped: 0,
            view: None,
            count_bytes: false,
            bytes_by_kind: BTreeMap::new(),
            sample_frames: false,
            frame_samples: BTreeMap::new(),
            rng: rng.fork(),
        };
        for name in names {
            cluster.add_node(name, None, 1);
        }
        cluster
    }

    /// `n` nodes named n0, n1, ... sharing one prepared view (every node valid, the ring
    /// claimed once): for simulations of thousands of nodes.
    pub fn with_view(seed: u64, n: usize, config: Config, net: NetConfig) -> Cluster {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let members: Vec<Member> = names.iter().map(|s| Member::new(s.as_str(), 1)).collect();
        let mut view = Membership::new();
        for m in &members {
            let info = MemberInfo {
                version: 1,
                status: Status::Valid,
                capacity: 1,
                durable: false,
            };
            view.merge_member(&m.node, info);
        }
        if let Ok(ring) = Ring::claim(config.q, None, &members, config.n) {
            view.install_ring(RingState { epoch: 1, ring });
        }
        let mut cluster = Cluster::new(seed, &[], config, net);
        cluster.view = Some(view);
        cluster.members = members;
        for name in &names {
            cluster.add_node(name, None, 1);
        }
        cluster
    }

    /// Add and start a node with a brand-new disk: a static member (`joined_via` None) or
    /// one that joins through seeds.
    fn add_node(&mut self, name: &str, joined_via: Option<Vec<NodeId>>, capacity: u32) -> usize {
        let i = self.nodes.len();
        let id = NodeId::new(name);
        self.index.insert(id.clone(), i);
        self.side.push(0);
        self.nodes.push(SimNode {
            id,
            node: None,
            store: MemoryStore::first_run(),
            unpersisted: VecDeque::new(),
            last_persist_at: 0,
            incarnation: 0,
            skew_ms: 0,
            timer_at: None,
            joined_via,
            capacity,
            durable_replica: false,
            persist_ms: None,
            stalled_until: 0,
            deferred: VecDeque::new(),
            rings: Vec::new(),
        });
        self.start_node(i);
        i
    }

    /// `n` nodes named n0, n1, ...
    pub fn with_nodes(seed: u64, n: usize, config: Config, net: NetConfig) -> Cluster {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        Cluster::new(seed, &refs, config, net)
    }

    /// Keep every trace event (for the teaching page and debugging); off by default.
    pub fn record_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// No node hears that a peer reconnected (`Input::PeerReachable`, on by default): for
    /// tests of what read repair, hinted handoff or anti-entropy alone repair.
    pub fn without_reconnect_notices(&mut self) {
        self.reconnect_notices = false;
    }

    /// Keep every message sent, whole, with its arrival time (for the teaching page); off
    /// by default. Recording draws nothing from the RNG, so runs stay identical.
    pub fn record_flights(&mut self) {
        self.flights = Some(Vec::new());
    }

    pub fn take_flights(&mut self) -> Vec<Flight> {
        self.flights
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The virtual time of the next queued event (a delivery, a persist completion or a
    /// node timer), if any.
    pub fn next_event_at(&self) -> Option<u64> {
        self.queue.keys().next().map(|&(at, _)| at)
    }

    /// Which side of the current network partition node `i` is on (0 when healed).
    pub fn side(&self, i: usize) -> u8 {
        self.side[i]
    }

    /// A hash of everything that happened: equal for two runs of the same seed.
    pub fn trace_hash(&self) -> u64 {
        self.trace_hash
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn id(&self, i: usize) -> &NodeId {
        &self.nodes[i].id
    }

    pub fn index_of(&self, id: &NodeId) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The live node `i` (None while crashed).
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.nodes[i].node.as_ref()
    }

    pub fn is_up(&self, i: usize) -> bool {
        self.nodes[i].node.is_some()
    }

    /// What node `i` has durably stored.
    pub fn store(&self, i: usize) -> &MemoryStore {
        &self.nodes[i].store
    }

    pub fn set_skew(&mut self, i: usize, skew_ms: i64) {
        self.nodes[i].skew_ms = skew_ms.clamp(-(EPOCH_MS as i64) / 2, EPOCH_MS as i64);
    }

    fn node_time(&self, i: usize) -> u64 {
        (self.now as i64 + self.nodes[i].skew_ms).max(0) as u64
    }

    fn mix(&mut self, x: u64) {
        self.trace_hash = (self.trace_hash ^ x).wrapping_mul(0x0100_0000_01b3);
    }

    fn mix_str(&mut self, s: &str) {
        for b in s.bytes() {
            self.mix(b as u64);
        }
    }

    fn record(&mut self, e: TraceEvent) {
        if let Some(t) = self.trace.as_mut() {
            t.push(e);
        }
    }

    /// Queue `e` at `at`; returns its sequence number (its place among events due at once).
    fn schedule(&mut self, at: u64, e: SimEvent) -> u64 {
        self.seq += 1;
        self.queue.insert((at, self.seq), e);
        self.seq
    }

    fn start_node(&mut self, i: usize) {
        let seed = self.rng.next_u64();
        let snapshot = self.nodes[i].store.snapshot();
        let id = self.nodes[i].id.clone();
        let node = match &self.nodes[i].joined_via {
            None => match &self.view {
                Some(view) => {
                    Node::with_view(id, self.config.clone(), view.clone(), seed, snapshot)
                }
                None => Node::new(id, self.config.clone(), &self.members, seed, snapshot),
            },
            Some(seeds) => Node::join(
                id,
                Config {
                    durable_replica: self.nodes[i].durable_replica,
                    ..self.config.clone()
                },
                self.nodes[i].capacity,
                seeds,
                seed,
                snapshot,
            ),
        };
        match node {
            Ok(node) => {
                self.nodes[i].node = Some(node);
                self.nodes[i].incarnation += 1;
                self.nodes[i].timer_at = None;
                self.log_ring(i);
                self.drain(i);
            }
            Err(e) => panic!("simulated node config rejected: {e}"),
        }
    }

    /// Start a new node `name` that joins through the nodes `seeds` (§4.8). Returns its
    /// index.
    pub fn join_node(&mut self, name: &str, capacity: u32, seeds: &[usize]) -> usize {
        let seeds = seeds.iter().map(|&s| self.nodes[s].id.clone()).collect();
        self.fault(format!("join {name}"));
        self.add_node(name, Some(seeds), capacity)
    }

    /// Mark node `i` (a node that joined, see `join_node`) a durable replica and restart it
    /// with its disk, as an always-on edge node: it announces itself through gossip.
    pub fn make_durable_replica(&mut self, i: usize) {
        self.nodes[i].durable_replica = true;
        self.fault(format!("{} becomes a durable replica", self.nodes[i].id));
        self.crash(i, false);
        self.restart(i);
    }

    /// Hand a membership request (leave, remove) to node `i`.
    pub fn submit_admin(&mut self, i: usize, request: AdminRequest) -> ReqId {
        self.submit_input(i, |id| Input::Admin { id, request })
    }

    /// Send `msg` from node `from` to node `to` as if `from`'s core had emitted it (the usual
    /// latency, loss and partitions apply): a message a peer with a stale view could send,
    /// for tests of how a node answers it.
    pub fn inject(&mut self, from: usize, to: usize, msg: Message) {
        self.fault(format!(
            "inject {} from {} to {}",
            msg.kind(),
            self.nodes[from].id,
            self.nodes[to].id
        ));
        let to = self.nodes[to].id.clone();
        self.send(from, to, msg);
    }

    /// Damage one record on node `i`'s disk (flip the bits of `mask` in its byte `at`), as a
    /// bad sector would; the node finds out when it next loads. False if no such record.
    pub fn corrupt_record(&mut self, i: usize, record: &RecordId, at: usize, mask: u8) -> bool {
        self.fault(format!("corrupt {record:?} on {}", self.nodes[i].id));
        let before = self.nodes[i].store.state().clone();
        self.disk_losses.push((i, self.now, before));
        self.nodes[i].store.corrupt(record, at, mask)
    }

    /// Crash node `i` and lose its whole disk; it restarts empty.
    pub fn wipe_disk(&mut self, i: usize) -> Vec<ReqId> {
        let lost = self.crash(i, true);
        self.fault(format!("wipe the disk of {}", self.nodes[i].id));
        let before = self.nodes[i].store.state().clone();
        self.disk_losses.push((i, self.now, before));
        self.nodes[i].store.wipe();
        lost
    }

    /// Hand a client request to node `i`. A crashed node refuses it at once (`Closed`).
    pub fn submit(&mut self, i: usize, request: ClientRequest) -> ReqId {
        self.submit_input(i, |id| Input::Client { id, request })
    }

    fn submit_input(&mut self, i: usize, input: impl FnOnce(ReqId) -> Input) -> ReqId {
        let id = self.next_req;
        self.next_req += 1;
        if self.nodes[i].node.is_none() {
            self.completed.push_back(Completed {
                id,
                node: i,
                at: self.now,
                result: Err(Error::Closed),
            });
            return id;
        }
        self.in_flight.insert(id, i);
        if self.nodes[i].stalled_until > self.now || !self.nodes[i].deferred.is_empty() {
            let incarnation = self.nodes[i].incarnation;
            let at = self.now;
            self.nodes[i].deferred.push_back((
                at,
                SimEvent::Input {
                    node: i,
                    incarnation,
                    input: input(id),
                },
            ));
        } else {
            self.handle(i, input(id));
        }
        id
    }

    /// Submit and run until the reply (or `max_ms` of virtual time).
    pub fn call(&mut self, i: usize, request: ClientRequest) -> Result<ClientReply, Error> {
        let id = self.submit(i, request);
        let limit = self.now + 60_000;
        loop {
            if let Some(pos) = self.completed.iter().position(|c| c.id == id) {
                if let Some(c) = self.completed.remove(pos) {
                    return c.result;
                }
            }
            if self.now >= limit || !self.step_until(limit) {
                return Err(Error::Timeout {
                    after_ms: 60_000,
                    ambiguous: true,
                });
            }
        }
    }

    /// Completed requests, oldest first.
    pub fn take_completed(&mut self) -> Vec<Completed> {
        self.completed.drain(..).collect()
    }

    pub fn has_completed(&self) -> bool {
        !self.completed.is_empty()
    }

    /// Requests lost because their node crashed are returned by `crash`.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn handle(&mut self, i: usize, input: Input) {
        let t = self.node_time(i);
        self.steps += 1;
        if let Some(node) = self.nodes[i].node.as_mut() {
            node.handle(t, input);
        }
        self.log_ring(i);
        if !self.exited.contains_key(&i)
            && self.nodes[i].node.as_ref().is_some_and(|n| n.has_exited())
        {
            self.exited.insert(i, self.steps);
        }
        self.drain(i);
    }

    /// Note node `i`'s ring if it changed (installed, reloaded, or gone with the node).
    fn log_ring(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        let ring = n.node.as_ref().and_then(|x| x.ring());
        if n.rings.last().map(|(_, _, r)| r.as_ref()) != Some(ring) {
            let ring = ring.cloned();
            n.rings.push((self.now, self.steps, ring));
        }
    }

    /// Note the dots of versions node `i` sends or persists that no node has sent or
    /// persisted before: it coordinated them in this step.
    fn note_born(&mut self, i: usize, versions: &Siblings) {
        for v in versions.versions() {
            if !self.born.contains_key(&v.dot) {
                self.born.insert(v.dot.clone(), (i, self.steps));
            }
        }
    }

    /// Whether node `i` handed `dot` of `key` to its disk (the version itself, or a version
    /// whose context covers it) no later than the step in which it exited (for a node that
    /// never exited: whether it ever did).
    pub fn stored_before_exit(&self, i: usize, key: &Bytes, dot: &Dot) -> bool {
        let exact = self.stored.get(&(i, dot.clone())).copied();
        let covered = self
            .stored_past
            .get(&(i, key.clone(), dot.node.clone()))
            .and_then(|log| log.iter().find(|&&(c, _)| c >= dot.counter))
            .map(|&(_, step)| step);
        let Some(at) = exact.into_iter().chain(covered).min() else {
            return false;
        };
        self.exited.get(&i).is_none_or(|&exit| at <= exit)
    }

    /// The node that coordinated `dot`, and the rings it may have held when it did: the
    /// one before the input it was handling then changed anything, and, if that input
    /// installed a ring, the one it held after it (the input may have installed the ring
    /// first and coordinated the write after, seed 3346: a gossip message installs the ring
    /// and the pending write is then coordinated with it).
    pub fn coordination_ring(&self, dot: &Dot) -> Option<(usize, Vec<&Ring>)> {
        let &(i, step) = self.born.get(dot)?;
        let log = &self.nodes[i].rings;
        let before = log
            .iter()
            .rev()
            .find(|(_, s, _)| *s < step)
            .and_then(|(_, _, r)| r.as_ref());
        let during = log
            .iter()
            .rev()
            .find(|(_, s, _)| *s == step)
            .and_then(|(_, _, r)| r.as_ref());
        Some((i, before.into_iter().chain(during).collect()))
    }

    /// Every ring node `i` held at some moment between `from` and `to` (the one it held
    /// before it handled anything at `from`, and each it installed until `to`).
    pub fn rings_between(&self, i: usize, from: u64, to: u64) -> Vec<&Ring> {
        let log = &self.nodes[i].rings;
        let first = log.iter().rposition(|(at, _, _)| *at < from).unwrap_or(0);
        log[first..]
            .iter()
            .take_while(|(at, _, _)| *at <= to)
            .filter_map(|(_, _, r)| r.as_ref())
            .collect()
    }

    /// Apply a batch to node `i`'s disk, noting each object or hint it deletes (with what
    /// it held: from the disk, or written earlier in the same batch).
    fn apply_ops(&mut self, i: usize, ops: &[StoreOp]) {
        for (j, op) in ops.iter().enumerate() {
            let state = self.nodes[i].store.state();
            let (intended, key, held) = match op {
                StoreOp::DeleteObject { key } => {
                    let earlier = ops[..j].iter().rev().find_map(|o| match o {
                        StoreOp::PutObject { key: k, versions } if k == key => Some(versions),
                        _ => None,
                    });
                    (None, key, earlier.or_else(|| state.objects.get(key)))
                }
                StoreOp::DeleteHint { intended, key } => {
                    let earlier = ops[..j].iter().rev().find_map(|o| match o {
                        StoreOp::PutHint {
                            intended: n,
                            key: k,
                            versions,
                        } if n == intended && k == key => Some(versions),
                        _ => None,
                    });
                    let held = state.hints.get(&(intended.clone(), key.clone()));
                    (Some(intended.clone()), key, earlier.or(held))
                }
                _ => continue,
            };
            if let Some(held) = held.cloned() {
                self.dropped
                    .push((i, self.now, intended, key.clone(), held));
            }
        }
        self.nodes[i].store.apply(ops);
    }

    /// What node `i` deleted of `key` from its disk between `from` and `to`, object
    /// (`None`) or hint (`Some(intended)`): a handed-on object (§4.9), a delivered hint, a
    /// hint it adopted as its own replica because its node left.
    pub fn dropped_between(
        &self,
        i: usize,
        key: &Bytes,
        from: u64,
        to: u64,
    ) -> Vec<(Option<&NodeId>, &Siblings)> {
        self.dropped
            .iter()
            .filter(|(n, at, _, k, _)| *n == i && k == key && *at >= from && *at <= to)
            .map(|(_, _, h, _, s)| (h.as_ref(), s))
            .collect()
    }

    /// What node `i`'s disk held just before each disk loss it suffered between `from` and
    /// `to`.
    pub fn disks_lost_between(&self, i: usize, from: u64, to: u64) -> Vec<&Snapshot> {
        self.disk_losses
            .iter()
            .filter(|(n, at, _)| *n == i && *at >= from && *at <= to)
            .map(|(_, _, s)| s)
            .collect()
    }

    /// Carry out node `i`'s outputs and re-arm its timer.
    fn drain(&mut self, i: usize) {
        while let Some(out) = self.nodes[i].node.as_mut().and_then(|n| n.poll()) {
            match &out {
                Output::Send {
                    msg: Message::Replicate { versions, .. },
                    ..
                } => self.note_born(i, versions),
                Output::Persist { ops, .. } => {
                    for op in ops {
                        // A fallback write is coordinated in the input that persists its
                        // record (its Replicates leave once that is durable).
                        if let StoreOp::PutFallback { versions, .. } = op {
                            self.note_born(i, versions);
                        }
                        if let StoreOp::PutObject { key, versions }
                        | StoreOp::PutHint { key, versions, .. } = op
                        {
                            self.note_born(i, versions);
                            let steps = self.steps;
                            for v in versions.versions() {
                                self.stored.entry((i, v.dot.clone())).or_insert(steps);
                                for (actor, counter) in v.past.iter() {
                                    let log = self
                                        .stored_past
                                        .entry((i, key.clone(), actor.clone()))
                                        .or_default();
                                    if log.last().is_none_or(|&(c, _)| c < counter) {
                                        log.push((counter, steps));
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            match out {
                Output::Send { to, msg } => self.send(i, to, msg),
                Output::Persist { batch, ops } => {
                    let (lo, hi) = self.nodes[i]
                        .persist_ms
                        .unwrap_or((self.net.min_persist_ms, self.net.max_persist_ms));
                    let lat = self.rng.range(lo, hi);
                    let at = (self.now + lat).max(self.nodes[i].last_persist_at);
                    self.nodes[i].last_persist_at = at;
                    let incarnation = self.nodes[i].incarnation;
                    self.record(TraceEvent::Persist {
                        at: self.now,
                        node: self.nodes[i].id.clone(),
                        ops: ops.len(),
                    });
                    self.nodes[i].unpersisted.push_back((batch, ops));
                    self.schedule(
                        at,
                        SimEvent::Persisted {
                            node: i,
                            incarnation,
                            batch,
                        },
                    );
                }
                Output::Reply { id, result } => {
                    self.mix(0x5e5e ^ id);
                    self.mix(result.is_ok() as u64);
                    self.record(TraceEvent::Reply {
                        at: self.now,
                        node: self.nodes[i].id.clone(),
                        id,
                        ok: result.is_ok(),
                    });
                    self.in_flight.remove(&id);
                    self.completed.push_back(Completed {
                        id,
                        node: i,
                        at: self.now,
                        result,
                    });
                }
                Output::Event(e) => {
                    if self.trace.is_some() {
                        let event = describe(&e);
                        self.record(TraceEvent::Event {
                            at: self.now,
                            node: self.nodes[i].id.clone(),
                            event,
                        });
                    }
                }
            }
        }
        let deadline = self.nodes[i].node.as_ref().and_then(|n| n.next_deadline());
        let virtual_at = deadline.map(|d| {
            let v = d as i64 - self.nodes[i].skew_ms;
            (v.max(0) as u64).max(self.now)
        });
        if virtual_at != self.nodes[i].timer_at {
            self.nodes[i].timer_at = virtual_at;
            if let Some(at) = virtual_at {
                let incarnation = self.nodes[i].incarnation;
                self.schedule(
                    at,
                    SimEvent::Timer {
                        node: i,
                        incarnation,
                    },
                );
            }
        }
    }

    fn send(&mut self, from: usize, to: NodeId, msg: Message) {
        self.messages_sent += 1;
        let kind = msg.kind();
        if self.count_bytes {
            let e = self.bytes_by_kind.entry(kind).or_insert((0, 0));
            e.0 += 1;
            e.1 += msg.encode().len() as u64;
        }
        if self.sample_frames {
            let kept = self.frame_samples.entry(kind).or_default();
            if kept.len() < 3 {
                kept.push(msg.encode());
            }
        }
        let Some(&dest) = self.index.get(&to) else {
            self.messages_dropped += 1;
            return;
        };
        let dropped = self.side[from] != self.side[dest]
            || self.cut.contains(&(from, dest))
            || self.rng.chance(self.net.loss);
        self.mix(((from as u64) << 32) ^ dest as u64 ^ (dropped as u64) << 63);
        self.mix_str(kind);
        if self.trace.is_some() {
            let key = msg.key().cloned();
            self.record(TraceEvent::Send {
                at: self.now,
                from: self.nodes[from].id.clone(),
                to: to.clone(),
                kind,
                key,
                dropped,
            });
        }
        if dropped {
            self.messages_dropped += 1;
            self.record_flight(from, to, &msg, [None, None], [None, None]);
            return;
        }
        let from_id = self.nodes[from].id.clone();
        let mut duplicate = (None, None);
        if self.rng.chance(self.net.duplicate) {
            let lat = self
                .rng
                .range(self.net.min_latency_ms, self.net.max_latency_ms);
            let seq = self.schedule(
                self.now + lat,
                SimEvent::Deliver {
                    to: dest,
                    from: from_id.clone(),
                    msg: msg.clone(),
                },
            );
            duplicate = (Some(self.now + lat), Some(seq));
        }
        let lat = self
            .rng
            .range(self.net.min_latency_ms, self.net.max_latency_ms);
        // The delivery is queued just below, as the next sequence number.
        self.record_flight(
            from,
            to,
            &msg,
            [Some(self.now + lat), duplicate.0],
            [Some(self.seq + 1), duplicate.1],
        );
        self.schedule(
            self.now + lat,
            SimEvent::Deliver {
                to: dest,
                from: from_id,
                msg,
            },
        );
    }

    fn record_flight(
        &mut self,
        from: usize,
        to: NodeId,
        msg: &Message,
        [arrives, duplicate_arrives]: [Option<u64>; 2],
        [seq, duplicate_seq]: [Option<u64>; 2],
    ) {
        if let Some(flights) = self.flights.as_mut() {
            flights.push(Flight {
                at: self.now,
                from: self.nodes[from].id.clone(),
                to,
                msg: msg.clone(),
                arrives,
                duplicate_arrives,
                seq,
                duplicate_seq,
            });
        }
    }

    /// Process the next event if it is due by `limit`. Returns false when there is none.
    pub fn step_until(&mut self, limit: u64) -> bool {
        let Some((&(at, seq), _)) = self.queue.iter().next() else {
            self.now = self.now.max(limit);
            return false;
        };
        if at > limit {
            self.now = self.now.max(limit);
            return false;
        }
        let Some(event) = self.queue.remove(&(at, seq)) else {
            return false;
        };
        self.now = self.now.max(at);
        // A stalled node's events wait for the end of the stall and then arrive as one
        // burst, in their original order.
        let target = match &event {
            SimEvent::Deliver { to, .. } => Some(*to),
            SimEvent::Persisted { node, .. }
            | SimEvent::Timer { node, .. }
            | SimEvent::Input { node, .. } => Some(*node),
            SimEvent::StallEnd { .. } => None,
        };
        if let Some(t) = target {
            if self.nodes[t].stalled_until > self.now || !self.nodes[t].deferred.is_empty() {
                self.nodes[t].deferred.push_back((at, event));
                return true;
            }
        }
        self.process(at, event);
        true
    }

    fn process(&mut self, at: u64, event: SimEvent) {
        match event {
            SimEvent::StallEnd { node } => {
                if self.nodes[node].stalled_until > self.now {
                    return;
                }
                while let Some((t, e)) = self.nodes[node].deferred.pop_front() {
                    self.process(t, e);
                }
            }
            SimEvent::Input {
                node,
                incarnation,
                input,
            } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].node.is_some() {
                    self.handle(node, input);
                }
            }
            SimEvent::Deliver { to, from, msg } => {
                if self.nodes[to].node.is_some() {
                    self.mix(0xde11 ^ to as u64);
                    self.record(TraceEvent::Deliver {
                        at: self.now,
                        from: from.clone(),
                        to: self.nodes[to].id.clone(),
                        kind: msg.kind(),
                    });
                    self.handle(to, Input::Message { from, msg });
                }
            }
            SimEvent::Persisted {
                node,
                incarnation,
                batch,
            } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].node.is_some() {
                    // A failed batch (quota exceeded): nothing of it reaches the disk, and
                    // the node is told so; it queues the ops again with its next batch.
                    if self.rng.chance(self.persist_fail) {
                        self.nodes[node].unpersisted.pop_front();
                        self.persist_failures += 1;
                        self.mix(0xfa11 ^ batch);
                        self.handle(
                            node,
                            Input::PersistFailed {
                                batch,
                                reason: "QuotaExceededError (simulated)".into(),
                                quota_exceeded: true,
                            },
                        );
                        return;
                    }
                    if let Some((b, ops)) = self.nodes[node].unpersisted.pop_front() {
                        debug_assert_eq!(b, batch);
                        self.apply_ops(node, &ops);
                    }
                    self.handle(node, Input::PersistDone { batch });
                }
            }
            SimEvent::Timer { node, incarnation } => {
                let n = &self.nodes[node];
                if n.incarnation == incarnation && n.node.is_some() && n.timer_at == Some(at) {
                    self.nodes[node].timer_at = None;
                    self.handle(node, Input::Tick);
                }
            }
        }
    }

    /// Run every event up to `t`, then set the clock to `t`.
    pub fn run_until(&mut self, t: u64) {
        while self.step_until(t) {}
    }

    /// Run until `t`, or until a request completes.
    pub fn run_until_reply(&mut self, t: u64) {
        while self.completed.is_empty() && self.step_until(t) {}
    }

    pub fn run_for(&mut self, ms: u64) {
        let t = self.now + ms;
        self.run_until(t);
    }

    // ---- faults ----------------------------------------------------------------------

    /// Crash node `i`. With `lose_unpersisted`, batches not yet durable are lost (a power
    /// cut); without, they reach the disk first (a clean process exit). Returns the ids of
    /// the requests that were in flight at that node (their clients never get an answer).
    pub fn crash(&mut self, i: usize, lose_unpersisted: bool) -> Vec<ReqId> {
        if self.nodes[i].node.is_none() {
            return Vec::new();
        }
        self.fault(format!(
            "crash {}{}",
            self.nodes[i].id,
            if lose_unpersisted {
                " (losing unpersisted writes)"
            } else {
                ""
            }
        ));
        let pending: Vec<(BatchId, Vec<StoreOp>)> = self.nodes[i].unpersisted.drain(..).collect();
        if !lose_unpersisted {
            for (_, ops) in pending {
                self.apply_ops(i, &ops);
            }
        }
        self.nodes[i].node = None;
        self.log_ring(i);
        self.nodes[i].timer_at = None;
        self.nodes[i].stalled_until = 0;
        self.nodes[i].deferred.clear();
        let lost: Vec<ReqId> = self
            .in_flight
            .iter()
            .filter(|(_, &n)| n == i)
            .map(|(r, _)| *r)
            .collect();
        for r in &lost {
            self.in_flight.remove(r);
        }
        lost
    }

    /// Drop one message in flight, as a lossy network would: its delivery `seq`
    /// (`Flight::seq` or `Flight::duplicate_seq`) leaves the queue, and the fault is traced.
    /// False when there is no such delivery any more (it arrived, or was dropped already).
    /// Deterministic: no draw from the RNG, so a replay that drops the same message at the
    /// same point is the same run.
    pub fn drop_message(&mut self, seq: u64) -> bool {
        let found = self.queue.iter().find_map(|(&k, e)| match e {
            SimEvent::Deliver { to, from, msg } if k.1 == seq => {
                Some((k, *to, from.clone(), msg.kind()))
            }
            _ => None,
        });
        let Some((k, to, from, kind)) = found else {
            return false;
        };
        self.queue.remove(&k);
        self.messages_dropped += 1;
        let to = self.nodes[to].id.clone();
        self.fault(format!("message dropped: {kind} {from} → {to}"));
        true
    }

    /// Restart a crashed node from what its disk holds.
    pub fn restart(&mut self, i: usize) {
        if self.nodes[i].node.is_some() {
            return;
        }
        self.fault(format!("restart {}", self.nodes[i].id));
        self.start_node(i);
        // As the relay would: the others hear that it joined, and it is welcomed with the
        // list of those connected.
        for j in 0..self.nodes.len() {
            if j != i && self.nodes[j].node.is_some() {
                self.announce(j, i);
                self.announce(i, j);
            }
        }
    }

    /// Tell node `to`, as its transport would (`Input::PeerReachable`), that `peer` is
    /// connected again; it arrives like a message (1 ms later, after a stall).
    fn announce(&mut self, to: usize, peer: usize) {
        if !self.reconnect_notices || self.nodes[to].node.is_none() {
            return;
        }
        let input = Input::PeerReachable {
            peer: self.nodes[peer].id.clone(),
        };
        let incarnation = self.nodes[to].incarnation;
        let at = self.now + 1;
        self.schedule(
            at,
            SimEvent::Input {
                node: to,
                incarnation,
                input,
            },
        );
    }

    /// Cut the network: nodes in `group` on one side, the rest on the other.
    pub fn partition(&mut self, group: &[usize]) {
        let names: Vec<String> = group
            .iter()
            .map(|&i| self.nodes[i].id.to_string())
            .collect();
        self.fault(format!("partition [{}] | rest", names.join(",")));
        for (i, s) in self.side.iter_mut().enumerate() {
            *s = group.contains(&i) as u8;
        }
    }

    pub fn heal(&mut self) {
        self.fault("heal".into());
        let apart: Vec<(usize, usize)> = (0..self.nodes.len())
            .flat_map(|i| (0..self.nodes.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && self.side[i] != self.side[j])
            .collect();
        self.side.iter_mut().for_each(|s| *s = 0);
        self.cut.clear();
        // Each side hears the other is back (a tab that was offline reconnects).
        for (i, j) in apart {
            self.announce(i, j);
        }
    }

    pub fn is_partitioned(&self) -> bool {
        self.side.iter().any(|&s| s != 0) || !self.cut.is_empty()
    }

    /// An asymmetric partition: `to` no longer hears `from` (`from` still hears `to`).
    pub fn cut_link(&mut self, from: usize, to: usize) {
        self.fault(format!(
            "cut {} -> {} (one way)",
            self.nodes[from].id, self.nodes[to].id
        ));
        self.cut.insert((from, to));
    }

    /// Give node `i` its own disk latency (`None`: the network's `min/max_persist_ms`).
    pub fn set_persist_latency(&mut self, i: usize, range: Option<(u64, u64)>) {
        self.fault(format!("{} disk latency {range:?}", self.nodes[i].id));
        self.nodes[i].persist_ms = range;
    }

    /// Stall node `i`'s event loop for `ms`: it handles nothing until then, and then every
    /// late timer, message, persist completion and request at once, in order.
    pub fn stall(&mut self, i: usize, ms: u64) {
        if self.nodes[i].node.is_none() {
            return;
        }
        self.fault(format!("stall {} for {ms} ms", self.nodes[i].id));
        let until = self.nodes[i].stalled_until.max(self.now + ms);
        self.nodes[i].stalled_until = until;
        self.stall_log.push((i, self.now, until));
        self.schedule(until, SimEvent::StallEnd { node: i });
    }

    /// How long node `i`'s event loop was stalled between `from` and `to` (a request it
    /// holds may answer that much past its timeout: its timers could not fire).
    pub fn stalled_between(&self, i: usize, from: u64, to: u64) -> u64 {
        self.stalled_and_listening(i, from, to, 0)
    }

    /// `stalled_between`, each stall followed by `listen_ms` during which the node judges
    /// no deadline (`Node::deaf_until`).
    pub fn stalled_and_listening(&self, i: usize, from: u64, to: u64, listen_ms: u64) -> u64 {
        let mut covered = 0;
        let mut reach = from;
        for &(n, a, b) in &self.stall_log {
            let b = b + listen_ms;
            if n != i || b <= reach || a >= to {
                continue;
            }
            let a = a.max(reach);
            let b = b.min(to);
            if b > a {
                covered += b - a;
                reach = b;
            }
        }
        covered
    }

    /// True while node `i`'s event loop is stalled.
    pub fn is_stalled(&self, i: usize) -> bool {
        self.nodes[i].stalled_until > self.now
    }

    /// Record a fault decided outside the cluster (it enters the trace and its hash).
    pub fn note_fault(&mut self, what: String) {
        self.fault(what);
    }

    fn fault(&mut self, what: String) {
        self.mix_str(&what);
        self.record(TraceEvent::Fault { at: self.now, what });
    }

    /// Uniform draw from the cluster's RNG (for workloads and fault schedules that want to
    /// share the seed).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

fn describe(e: &Event) -> String {
    match e {
        Event::NodeDown(n) => format!("suspects {n} down"),
        Event::NodeUp(n) => format!("sees {n} up"),
        Event::SiblingsDetected { key, count } => format!("{count} siblings for {key:?}"),
        Event::ReadRepair { key, to } => format!("read repair of {key:?} to {to:?}"),
        Event::HintStored { key, intended } => format!("holds {key:?} for {intended}"),
        Event::HintDelivered { key, to } => format!("delivered hint {key:?} to {to}"),
        Event::MembershipChanged => "membership changed".to_string(),
        Event::RingChanged { epoch } => format!("installs ring epoch {epoch}"),
        Event::Transferred { key } => format!("handed off {key:?}"),
        Event::Exited => "has left the cluster".to_string(),
        Event::SiblingsWarning { key, count } => format!("warns: {count} siblings for {key:?}"),
        Event::CorruptRecord { store, key } => {
            format!("found a corrupt {} record {key:?}", store.name())
        }
    }
}
