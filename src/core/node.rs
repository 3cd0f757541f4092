//! The node: one member of the ring as a sans-IO state machine.
//!
//! `handle(now_ms, input)` feeds it time and one input; `poll()` drains what it wants done
//! (messages to send, batches to persist, replies, events); `next_deadline()` says when to
//! call back with `Input::Tick`. Any order of inputs is legal and an early tick is a no-op.
//!
//! The request state machines live in `put.rs` (§4.5 put, §4.6 sloppy quorum), `get.rs`
//! (§4.5 get and read repair) and `handoff.rs` (§4.6 hinted handoff); this file holds the
//! node's state, the dispatch of inputs, and the persist batches (§5 storage port, §6.1).

use super::antientropy::AeSession;
use super::bytes::Bytes;
use super::config::{Config, Mutant};
use super::detector::Detector;
use super::dvv::Siblings;
use super::error::Error;
use super::get::GetFsm;
use super::handoff::HandoffInFlight;
use super::hashtree::HashTree;
use super::id::{NodeId, ReqId};
use super::io::{BatchId, ClientRequest, Event, Input, Output};
use super::membership::{MemberInfo, Membership, RingState, Status};
use super::message::{Message, Rid};
use super::put::{ForwardFsm, ForwardSeen, PendingWrite, PutFsm};
use super::record::{self, CorruptRecord, RecordStore};
use super::resolve::{Op, Resolver};
use super::ring::{Member, Ring};
use super::rng::Rng;
use super::storage::{ForwardMark, MembershipSnapshot, NodeMeta, Snapshot, StoreOp};
use super::swim::Swim;
use super::timers::TimedMap;
use super::transfer::{Handover, TransferInFlight};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Dots are reserved on disk in blocks of this many before they are issued.
const DOT_BLOCK: u64 = 1_000;

/// An input this much later than the deadline the node asked for means the node itself
/// stalled (a throttled background tab, a long task, a slow host), not that its peers did.
pub const STALL_MS: u64 = 50;

/// Where the reply to a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Client(ReqId),
    Forwarded {
        from: NodeId,
        rid: Rid,
    },
    /// A primary's read of a key it did not hold, before it coordinates this write.
    ReadFirst(Box<PendingWrite>),
}

/// Something to do once a persist batch is durable.
#[derive(Clone, Debug)]
pub(crate) enum Waiter {
    /// The coordinator's own store for put `rid` is durable: count it in the quorum.
    OwnStore(Rid),
    /// The fallback record of put `rid` is durable (its coordinator stores no copy of
    /// the key): the version may leave the node.
    FallbackStore(Rid),
    /// Send this message (an ack that promises durability).
    Send { to: NodeId, msg: Message },
    /// Dots up to this counter are reserved on disk.
    DotsReserved(u64),
    /// The mark of the forward `(from, rid)` is durable: act on the forward now.
    ForwardMarked(NodeId, Rid),
}

/// What a persist op wrote, without its payload: on a failed batch the op is rebuilt from
/// the node's current state (which is at least as new).
#[derive(Clone, Debug)]
enum Written {
    Object(Bytes),
    Hint(NodeId, Bytes),
    Fallback(Bytes),
    Meta,
    Membership,
    Forward(NodeId, Rid),
}

impl Written {
    fn of(op: &StoreOp) -> Written {
        match op {
            // A delete too is rewritten from the current state: the key may be back by then
            // (a corrupt record's key repaired, a transferred key written again), and a
            // replayed delete must not remove what a later batch stored.
            StoreOp::PutObject { key, .. } | StoreOp::DeleteObject { key } => {
                Written::Object(key.clone())
            }
            StoreOp::PutHint { intended, key, .. } | StoreOp::DeleteHint { intended, key } => {
                Written::Hint(intended.clone(), key.clone())
            }
            StoreOp::PutFallback { key, .. } | StoreOp::DeleteFallback { key } => {
                Written::Fallback(key.clone())
            }
            StoreOp::PutMembership(_) => Written::Membership,
            StoreOp::PutMeta(_) => Written::Meta,
            StoreOp::PutForward(m) => Written::Forward(m.from.clone(), m.rid),
            StoreOp::DeleteForward { from, rid } => Written::Forward(from.clone(), *rid),
        }
    }
}

/// Counters a host can show (`stats()`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub gets: u64,
    pub puts: u64,
    pub forwarded: u64,
    pub quorum_failures: u64,
    pub read_repairs: u64,
    pub hints_stored: u64,
    pub hints_delivered: u64,
    pub messages_in: u64,
    pub persist_batches: u64,
    pub keys_transferred: u64,
    pub ae_exchanges: u64,
    pub ae_keys_repaired: u64,
    /// Stored records that failed verification at load (reported, never served, repaired).
    pub corrupt_records: u64,
    /// Puts refused with `TOO_MANY_SIBLINGS`.
    pub sibling_limit_refusals: u64,
    /// Inputs that came more than `STALL_MS` after the deadline this node asked for (its
    /// own stalls, which it does not blame on its peers).
    pub stalls: u64,
}

/// One node of the ring.
pub struct Node {
    pub(crate) id: NodeId,
    pub(crate) config: Config,
    /// The membership view and the ring (§4.8); the ring is `None` until joined.
    pub(crate) membership: Membership,
    pub(crate) seeds: Vec<NodeId>,
    pub(crate) capacity: u32,
    pub(crate) next_gossip_ms: u64,
    pub(crate) gossip_rounds: u64,
    pub(crate) membership_dirty: bool,
    /// Keys this node holds but no longer replicates, waiting for ownership handoff.
    pub(crate) misplaced: BTreeSet<Bytes>,
    pub(crate) transfers: BTreeMap<Rid, TransferInFlight>,
    pub(crate) next_transfer_ms: u64,
    /// Partitions newly replicated here whose data is still arriving (`transfer.rs`).
    pub(crate) handover: Handover,
    /// The ring (epoch, hash) this node last acted on.
    pub(crate) ring_seen: Option<(u64, u64)>,
    pub(crate) exited: bool,
    /// Parked `Leave` requests and when each times out (answered by `check_exit`).
    pub(crate) leave_waiters: Vec<(ReqId, u64)>,
    /// When this node first saw each member `Exiting` or `Down` (its local clock), for
    /// `Config::exited_grace_ms`.
    pub(crate) gone_since: BTreeMap<NodeId, u64>,
    /// Since when this node's failure detector holds each member down (the lease,
    /// `Config::member_ttl_ms`).
    pub(crate) lease_down_since: BTreeMap<NodeId, u64>,
    pub(crate) now_ms: u64,
    pub(crate) rng: Rng,
    /// Versions this node holds as a replica.
    pub(crate) data: BTreeMap<Bytes, Siblings>,
    /// Versions held for an unreachable node (§4.6), kept apart from `data`.
    pub(crate) hints: BTreeMap<(NodeId, Bytes), Siblings>,
    pub(crate) detector: Detector,
    /// One Merkle tree per partition this node replicates (§4.7).
    pub(crate) trees: BTreeMap<u32, HashTree>,
    pub(crate) ae_out: BTreeMap<Rid, AeSession>,
    pub(crate) ae_in: BTreeMap<(NodeId, Rid), AeSession>,
    pub(crate) next_ae_ms: u64,
    pub(crate) ae_cursor: u32,
    /// Partitions holding keys whose stored record was corrupt: compared first.
    pub(crate) ae_urgent: BTreeSet<u32>,
    /// Partitions to compare with a peer that came back (issue 14): exchanged at once,
    /// ahead of the round-robin (`antientropy.rs` `catch_up`).
    pub(crate) ae_catch_up: BTreeMap<NodeId, BTreeSet<u32>>,
    /// When each peer was last heard from (any message): a peer heard within half
    /// `sloppy_retry_ms` is slow, not down, and is not suspected for a missed deadline.
    pub(crate) heard_ms: BTreeMap<NodeId, u64>,
    /// The end of this node's own last stall (its input came more than `STALL_MS` after the
    /// deadline it asked for): until `sloppy_retry_ms` later, silence proves nothing, as
    /// the answers that came during the stall are still queued (issue 14).
    pub(crate) listening_since_ms: u64,
    /// The deadline this node asked to be called back at after its last input.
    pub(crate) wake_ms: Option<u64>,
    /// Cluster-wide failure detection (SWIM): probes, suspicion, rumors.
    pub(crate) swim: Swim,
    /// Indirect probes relayed for others: (target, nonce) -> (requester, expiry).
    pub(crate) relays: BTreeMap<(NodeId, u64), (NodeId, u64)>,
    /// When a doubted peer was last told of our doubt.
    pub(crate) reminded: BTreeMap<NodeId, u64>,
    pub(crate) puts: TimedMap<PutFsm>,
    pub(crate) gets: TimedMap<GetFsm>,
    pub(crate) forwards: TimedMap<ForwardFsm>,
    /// Forwards accepted (and coordinated) or cancelled here, so neither a duplicated
    /// frame nor a forwarder's retry is ever applied twice (`put.rs`, `ForwardSeen`).
    pub(crate) forwards_seen: BTreeMap<(NodeId, Rid), ForwardSeen>,
    /// When `forwards_seen` is next swept of expired entries (once per request timeout,
    /// not at every input: an entry kept a little longer only dedupes longer).
    pub(crate) forwards_seen_sweep_ms: u64,
    /// Every node this node has held a hint for since it started: `read_local` looks a key
    /// up once per such node instead of scanning every hint.
    pub(crate) hinted_nodes: BTreeSet<NodeId>,
    /// A forward record failed verification at load: a previous run's memory of the
    /// forwards it accepted is incomplete (`put.rs` `on_forward`).
    pub(crate) forwards_unsure: bool,
    /// The time of this run's first input: cancellations are confirmed only once every
    /// forward a previous run may have accepted has expired.
    pub(crate) started_ms: Option<u64>,
    /// Writes waiting for dots to be reserved on disk.
    pub(crate) pending_writes: VecDeque<PendingWrite>,
    pub(crate) handoffs: BTreeMap<Rid, HandoffInFlight>,
    pub(crate) next_hint_scan_ms: u64,
    next_rid: Rid,
    /// The last dot counter issued, and the highest one safely reserved on disk.
    pub(crate) dot_next: u64,
    dot_durable: u64,
    dot_reserving: bool,
    /// Identifies this run of the node (the dot reservation it started from).
    pub(crate) epoch: u64,
    /// The actor of the dots this node issues as a primary (issue 15 defect 4): its id, the
    /// same in every run and ring, or `id@i<incarnation>` once it lost data (a wiped disk,
    /// a corrupt record): the incarnation is the dot reservation's high 32 bits, so it is
    /// durable and survives restarts. Dot counters come from the node-wide reservation
    /// (never reused), and a primary holds every dot of its actor for a key because its
    /// own store of a new version is durable before the version leaves (`put.rs`).
    pub(crate) actor: NodeId,
    /// The actor of the writes this node coordinates outside a key's replicas (no primary
    /// reachable, not holding the key): `<actor>@f`, the same in every run and ring.
    pub(crate) fallback_actor: NodeId,
    /// The newest metadata queued for storage (dot reservation, fallback generation).
    pub(crate) meta: NodeMeta,
    /// Keys this node coordinated as `fallback_actor`, with the whole object it last sent
    /// for each: the next write of the key, in this run or a later one, starts from it, so
    /// the actor goes on without ever claiming a dot its writer lacks (`put.rs` `new_dot`).
    /// Persisted (`StoreOp::PutFallback`, durable before the version leaves the node), so
    /// a reload does not make a new actor. At most `FALLBACK_KEYS` keys; past them the
    /// records are dropped and the actor moves on to its next generation.
    pub(crate) fallback_dots: BTreeMap<Bytes, Siblings>,
    /// Keys this run wrote as `fallback_actor` (its own store may then hold the key only
    /// because of that write, `put.rs`).
    pub(crate) fallback_written: BTreeSet<Bytes>,
    /// The partitions this node replicates in the ring it last acted on, and those it
    /// stopped replicating during this run (their keys, and its dots in them, may have
    /// moved away): a write of such a key it does not hold, when it cannot read the key
    /// first, goes out as its run's fallback actor (`put.rs` `coordinate_write_as`).
    pub(crate) replicated_parts: BTreeSet<u32>,
    pub(crate) lost_parts: BTreeSet<u32>,
    /// Keys this run read from the replicas before writing them (`put.rs`).
    pub(crate) read_keys: BTreeSet<Bytes>,
    pending_ops: Vec<StoreOp>,
    pending_waiters: Vec<Waiter>,
    next_batch: BatchId,
    /// Batches handed to the host and not yet durable: what they wrote (to rewrite it if
    /// the batch fails) and what waits for them.
    inflight: BTreeMap<BatchId, (Vec<Written>, Vec<Waiter>)>,
    out: VecDeque<Output>,
    pub(crate) stats: Stats,
}

impl Node {
    /// A node of a statically configured cluster: every member in `members` is valid and
    /// every node claims the same ring from them (§6.2 strategy 3). Pass what storage held
    /// to restart a node (`Snapshot::default()` for a new one).
    pub fn new(
        id: NodeId,
        config: Config,
        members: &[Member],
        seed: u64,
        restored: Snapshot,
    ) -> Result<Node, Error> {
        check_config(&config)?;
        let ring = Ring::claim(config.q, None, members, config.n)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let mut view = Membership::new();
        for m in members {
            let info = MemberInfo {
                version: 1,
                status: Status::Valid,
                capacity: m.capacity.max(1),
                durable: false,
            };
            view.merge_member(&m.node, info);
        }
        view.install_ring(RingState { epoch: 1, ring });
        Node::with_view(id, config, view, seed, restored)
    }

    /// A node of a statically configured cluster whose view (members and ring) the host
    /// prepared once for every node (large simulations).
    pub fn with_view(
        id: NodeId,
        config: Config,
        view: Membership,
        seed: u64,
        restored: Snapshot,
    ) -> Result<Node, Error> {
        check_config(&config)?;
        let capacity = view.get(&id).map_or(1, |i| i.capacity.max(1));
        let seeds = view.members().keys().cloned().collect();
        Node::build(id, config, view, seeds, capacity, seed, restored)
    }

    /// A node that joins a cluster through `seeds` (§4.8): it starts as `Joining`, learns
    /// the cluster by gossip, and owns partitions once the claimant includes it in the
    /// ring. With no seed but itself it founds a new cluster. A restarted node comes back
    /// with the view it persisted.
    pub fn join(
        id: NodeId,
        config: Config,
        capacity: u32,
        seeds: &[NodeId],
        seed: u64,
        restored: Snapshot,
    ) -> Result<Node, Error> {
        check_config(&config)?;
        let view = Membership::new();
        let seeds: Vec<NodeId> = seeds.iter().filter(|s| **s != id).cloned().collect();
        let mut node = Node::build(id, config, view, seeds, capacity.max(1), seed, restored)?;
        let me = node.id.clone();
        let needs_join = node
            .membership
            .get(&me)
            .is_none_or(|i| matches!(i.status, Status::Exiting | Status::Down));
        let durable = node.config.durable_replica;
        if needs_join {
            node.membership
                .set_with(&me, Status::Joining, node.capacity, durable);
            node.membership_dirty = true;
        } else if let Some(i) = node.membership.get(&me).filter(|i| i.durable != durable) {
            // Restarted with a different durable-replica setting: announce it.
            node.membership.set_with(&me, i.status, i.capacity, durable);
            node.membership_dirty = true;
        }
        if node.seeds.is_empty() {
            node.on_view_changed(); // a cluster of one: claim the ring now
        }
        node.flush();
        Ok(node)
    }

    fn build(
        id: NodeId,
        config: Config,
        mut view: Membership,
        seeds: Vec<NodeId>,
        capacity: u32,
        seed: u64,
        mut restored: Snapshot,
    ) -> Result<Node, Error> {
        // Records that failed verification are not in `restored`: a corrupt meta record
        // leaves `meta` empty (a fresh random epoch below, as after a lost disk, so no dot is
        // reused), a corrupt membership record leaves the view to gossip, and corrupt objects
        // are fetched again from the other replicas.
        let corrupt = std::mem::take(&mut restored.corrupt);
        let restarted = restored
            .membership
            .as_ref()
            .is_some_and(|m| m.ring.is_some());
        if let Some(saved) = &restored.membership {
            view.merge(&saved.to_view());
        }
        let mut rng = Rng::new(seed);
        // Dot counters continue from the reservation on disk, so no run reuses one. A node
        // that lost data (no metadata: maybe its whole disk; or a corrupt object or hint
        // record) may lack dots it issued, which other replicas hold: it starts a new
        // incarnation (a new actor, `incarnation_of`), a random one when the old
        // reservation is unknown. (`Snapshot::first_run()` says the id is brand new: the
        // plain id is the actor.)
        let lost_records = corrupt.iter().any(|c| {
            matches!(
                c.store,
                RecordStore::Objects | RecordStore::Hints | RecordStore::Fallbacks
            )
        });
        let epoch = match &restored.meta {
            Some(m) if !lost_records => m.dot_reserved,
            Some(m) => (incarnation_of(m.dot_reserved) + 1) << INCARNATION_SHIFT,
            None => (1 + rng.below(1 << 31)) << INCARNATION_SHIFT,
        };
        let fallback_generation = restored.meta.as_ref().map_or(0, |m| m.fallback_generation);
        // A new incarnation is a new actor, with no dots to have handed off.
        let handed_off_parts = match &restored.meta {
            Some(m) if !lost_records => m.handed_off_parts.clone(),
            _ => BTreeSet::new(),
        };
        let detector = Detector::new(config.probe_interval_ms);
        let first_gossip = rng.below(config.gossip_interval_ms.max(1));
        // Request ids start at a random point in every run (issue 15 defect 9): a reply or
        // a duplicate that was sent to an earlier run of this node (or by one) can then
        // never be taken for a request of this run. 2^48 starting points: two runs' ranges
        // overlap with odds of about (rids per run) / 2^47.
        let first_rid = (rng.next_u64() >> 16) | 1;
        let hinted_nodes = restored.hints.keys().map(|(n, _)| n.clone()).collect();
        let mut node = Node {
            id: id.clone(),
            membership: view,
            seeds,
            capacity,
            next_gossip_ms: first_gossip,
            gossip_rounds: 0,
            membership_dirty: false,
            misplaced: BTreeSet::new(),
            transfers: BTreeMap::new(),
            next_transfer_ms: 0,
            handover: Handover::default(),
            ring_seen: None,
            exited: false,
            leave_waiters: Vec::new(),
            gone_since: BTreeMap::new(),
            lease_down_since: BTreeMap::new(),
            now_ms: 0,
            rng,
            data: restored.objects,
            hints: restored.hints,
            detector,
            swim: Swim::new(),
            trees: BTreeMap::new(),
            ae_out: BTreeMap::new(),
            ae_in: BTreeMap::new(),
            next_ae_ms: 0,
            ae_cursor: 0,
            ae_urgent: BTreeSet::new(),
            ae_catch_up: BTreeMap::new(),
            heard_ms: BTreeMap::new(),
            listening_since_ms: 0,
            wake_ms: None,
            relays: BTreeMap::new(),
            reminded: BTreeMap::new(),
            puts: TimedMap::new(),
            gets: TimedMap::new(),
            forwards: TimedMap::new(),
            forwards_seen: restored
                .forwards
                .into_iter()
                .map(|(id, expires_ms)| (id, ForwardSeen::restored(expires_ms)))
                .collect(),
            forwards_seen_sweep_ms: 0,
            hinted_nodes,
            forwards_unsure: false,
            started_ms: None,
            pending_writes: VecDeque::new(),
            handoffs: BTreeMap::new(),
            next_hint_scan_ms: config.hint_interval_ms,
            next_rid: first_rid,
            dot_next: epoch,
            dot_durable: epoch,
            dot_reserving: false,
            epoch,
            actor: actor_name(&id, incarnation_of(epoch)),
            fallback_actor: fallback_actor_name(
                &actor_name(&id, incarnation_of(epoch)),
                fallback_generation,
            ),
            meta: NodeMeta {
                dot_reserved: epoch,
                fallback_generation,
                handed_off_parts,
            },
            fallback_dots: restored.fallbacks,
            fallback_written: BTreeSet::new(),
            replicated_parts: BTreeSet::new(),
            lost_parts: BTreeSet::new(),
            read_keys: BTreeSet::new(),
            pending_ops: Vec::new(),
            pending_waiters: Vec::new(),
            next_batch: 1,
            inflight: BTreeMap::new(),
            out: VecDeque::new(),
            stats: Stats::default(),
            config,
        };
        node.ring_seen = node.membership.ring_state().map(|r| (r.epoch, r.hash()));
        node.handover.ring = node.membership.ring().cloned();
        if restarted {
            node.pending_after_restart();
        }
        node.replicated_parts = node.partitions_replicated();
        node.find_misplaced();
        node.rebuild_trees();
        node.next_ae_ms = node.rng.below(node.config.anti_entropy_interval_ms.max(1));
        node.report_corrupt(corrupt);
        node.reserve_dots(0);
        node.flush();
        Ok(node)
    }

    pub fn id(&self) -> &NodeId {
        &self.id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The ring in force (`None` until this node has joined).
    pub fn ring(&self) -> Option<&Ring> {
        self.membership.ring()
    }

    /// The membership view (members, statuses, the ring and its epoch).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// This node's own membership status.
    pub fn status(&self) -> Option<Status> {
        self.membership.get(&self.id).map(|i| i.status)
    }

    /// True once this node has left (status `Exiting`, nothing held).
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The versions of `key` this node holds as a replica (hinted copies not included).
    pub fn local_versions(&self, key: &[u8]) -> Option<&Siblings> {
        self.data.get(key)
    }

    /// Every key this node holds as a replica, with its versions.
    pub fn objects(&self) -> impl Iterator<Item = (&Bytes, &Siblings)> {
        self.data.iter()
    }

    /// Hinted replicas held for other nodes: ((intended node, key), versions).
    pub fn hints(&self) -> impl Iterator<Item = (&(NodeId, Bytes), &Siblings)> {
        self.hints.iter()
    }

    /// Peers this node currently believes down.
    pub fn down_peers(&self) -> Vec<NodeId> {
        self.detector.down()
    }

    /// Requests in progress (puts, gets, forwards, writes waiting for dots).
    pub fn requests_in_flight(&self) -> usize {
        self.puts.values().filter(|f| f.origin.is_some()).count()
            + self.gets.len()
            + self.forwards.len()
            + self.pending_writes.len()
    }

    /// Feed one input at time `now_ms` (a clock that never goes back; earlier values are
    /// treated as `now_ms` of the previous call).
    pub fn handle(&mut self, now_ms: u64, input: Input) {
        self.now_ms = self.now_ms.max(now_ms);
        self.started_ms.get_or_insert(self.now_ms);
        if self.wake_ms.is_some_and(|w| self.now_ms > w + STALL_MS) {
            // Called back late: this node stalled (a throttled tab, a long task). What it
            // was sent meanwhile is still queued, so it listens before it blames anyone.
            self.listening_since_ms = self.now_ms;
            self.stats.stalls += 1;
        }
        match input {
            Input::Message { from, msg } => self.on_message(from, msg),
            Input::Client { id, request } => {
                let timeout = request
                    .options()
                    .timeout_ms
                    .unwrap_or(self.config.request_timeout_ms);
                self.on_request(Origin::Client(id), request, self.now_ms + timeout);
            }
            Input::Admin { id, request } => self.on_admin(id, request),
            Input::PersistDone { batch } => self.on_persisted(batch),
            Input::PersistFailed {
                batch,
                reason,
                quota_exceeded,
            } => self.on_persist_failed(batch, reason, quota_exceeded),
            Input::Tick => {}
            Input::PeerReachable { peer } => self.on_peer_reachable(peer),
        }
        self.on_timers();
        self.flush();
        self.puts.settle();
        self.gets.settle();
        self.forwards.settle();
        self.wake_ms = self.next_deadline();
    }

    /// The next thing the host must do, if any.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When the host must call `handle(.., Input::Tick)` next (absolute ms), if ever.
    pub fn next_deadline(&self) -> Option<u64> {
        let mut d = self.detector.next_deadline();
        let mut at = |t: u64| d = Some(d.map_or(t, |x: u64| x.min(t)));
        for t in [
            self.puts.next_deadline(),
            self.gets.next_deadline(),
            self.forwards.next_deadline(),
        ]
        .into_iter()
        .flatten()
        {
            at(t);
        }
        for p in &self.pending_writes {
            at(p.deadline_ms);
        }
        for (_, t) in &self.leave_waiters {
            at(*t);
        }
        for h in self.handoffs.values() {
            at(h.expires_ms);
        }
        if !self.hints.is_empty() {
            at(self.next_hint_scan_ms);
        }
        if !self.misplaced.is_empty() {
            at(self.next_transfer_ms);
        }
        for t in self.transfers.values() {
            at(t.expires_ms);
        }
        if let Some(t) = self.handover_deadline() {
            at(t);
        }
        at(self.next_gossip_ms);
        if let Some(t) = self.swim_deadline() {
            at(t);
        }
        if let Some(t) = self.ae_deadline() {
            at(t);
        }
        if let Some(t) = self.relays.values().map(|(_, e)| *e).min() {
            at(t);
        }
        d
    }

    fn on_message(&mut self, from: NodeId, msg: Message) {
        self.stats.messages_in += 1;
        self.heard_ms.insert(from.clone(), self.now_ms);
        if self.detector.heard_from(&from) {
            self.on_peer_back(&from);
        }
        self.swim_heard_from(&from);
        match msg {
            Message::Replicate {
                rid,
                key,
                versions,
                hint,
                durable,
            } => self.on_replicate(from, rid, key, versions, hint, durable),
            Message::ReplicateAck { rid, durable } => self.on_replicate_ack(from, rid, durable),
            Message::Read { rid, key } => self.on_read(from, rid, key),
            Message::ReadReply { rid, versions } => self.on_read_reply(from, rid, versions, true),
            Message::ReadReplyPending { rid, versions } => {
                self.on_read_reply(from, rid, versions, false)
            }
            Message::Repair { key, versions } => {
                self.store(&key, &versions, None);
            }
            Message::Forward {
                rid,
                request,
                timeout_ms,
            } => self.on_forward(from, rid, request, timeout_ms),
            Message::ForwardReply { rid, result } => self.on_forward_reply(rid, result),
            Message::Handoff { rid, key, versions } => self.on_handoff(from, rid, key, versions),
            Message::HandoffAck { rid } => self.on_handoff_ack(from, rid),
            Message::Transfer { rid, key, versions } => self.on_transfer(from, rid, key, versions),
            Message::TransferAck { rid } => self.on_transfer_ack(from, rid),
            Message::Gossip { msg, rumors } => {
                self.learn_rumors(rumors);
                self.on_gossip(from, msg)
            }
            Message::AntiEntropy {
                xid,
                from_opener,
                msg,
            } => self.on_anti_entropy(from, xid, from_opener, msg),
            Message::PingReq { target, nonce } => self.on_ping_req(from, target, nonce),
            Message::PingReqAck { target, .. } => self.swim.heard_from(&target),
            Message::Pong { nonce } => self.on_pong(from, nonce),
            Message::Ping { nonce } => self.send(from, Message::Pong { nonce }),
            Message::Refused { rid, member, .. } => self.on_refused(from, rid, member),
            Message::ForwardAccepted { rid } => self.on_forward_accepted(from, rid),
            Message::ForwardCancel { rid } => self.on_forward_cancel(from, rid),
            Message::ForwardCancelled { rid } => self.on_forward_cancelled(from, rid),
            Message::TransferQuery { partition } => self.on_transfer_query(from, partition),
            Message::TransferDone { partition } => self.partition_vouched(&from, partition),
            // Watches and the resolver check are the host's (`watch.rs`): they change no data.
            Message::Watch { .. }
            | Message::WatchNotify { .. }
            | Message::ResolversProbe { .. }
            | Message::ResolversAre { .. } => {}
        }
    }

    fn on_request(&mut self, origin: Origin, request: ClientRequest, deadline_ms: u64) {
        if self.membership.ring().is_none() {
            let e = Error::NotReady("this node has not joined a cluster yet".into());
            self.reply(origin, Err(e));
            return;
        }
        if let Err(e) = self.validate(&request) {
            self.reply(origin, Err(e));
            return;
        }
        match request {
            ClientRequest::Get { key, options } => {
                let r = options.r.unwrap_or(self.config.r);
                self.start_get(origin, key, r, deadline_ms);
            }
            ClientRequest::Delete {
                key,
                context,
                options,
            } if self.config.resolvers.for_key(&key) == Resolver::Counter
                && !self.config.mutant(Mutant::CounterTombstone) =>
            {
                // A counter delete is an observed reset, not a tombstone: it removes what
                // its context saw and keeps every other increment (resolve.rs).
                let observed = context.unwrap_or_default();
                let op = Op::CounterReset(observed);
                let reset = ClientRequest::Update { key, op, options };
                self.route_write(origin, reset, deadline_ms);
            }
            write => self.route_write(origin, write, deadline_ms),
        }
    }

    fn validate(&self, request: &ClientRequest) -> Result<(), Error> {
        let o = request.options();
        let n = self.config.n;
        for (name, v) in [("r", o.r), ("w", o.w)] {
            if let Some(v) = v {
                if v == 0 || v > n {
                    return Err(Error::InvalidArgument(format!(
                        "{name} must be between 1 and N={n}, got {v}"
                    )));
                }
            }
        }
        if o.timeout_ms == Some(0) {
            return Err(Error::InvalidArgument("timeout_ms must be positive".into()));
        }
        if let ClientRequest::Put { key, .. } = request {
            let resolver = self.config.resolvers.for_key(key);
            if resolver.is_crdt() {
                return Err(Error::InvalidArgument(format!(
                    "keys under the {} resolver are changed with update operations, not put",
                    resolver.name()
                )));
            }
        }
        if let ClientRequest::Update { key, .. } = request {
            let resolver = self.config.resolvers.for_key(key);
            if !resolver.is_crdt() {
                return Err(Error::InvalidArgument(format!(
                    "update operations need a counter or set resolver; this key uses {}",
                    resolver.name()
                )));
            }
        }
        if let ClientRequest::Update { op, .. } = request {
            let size = match op {
                Op::CounterAdd(_) | Op::CounterReset(_) => 0,
                Op::SetAdd(elems) | Op::SetRemove(elems) => elems.iter().map(|e| e.len()).sum(),
            };
            if size > self.config.max_value_bytes {
                return Err(Error::ValueTooLarge {
                    size,
                    max: self.config.max_value_bytes,
                });
            }
        }
        if let ClientRequest::Put { value, .. } = request {
            if value.len() > self.config.max_value_bytes {
                return Err(Error::ValueTooLarge {
                    size: value.len(),
                    max: self.config.max_value_bytes,
                });
            }
        }
        Ok(())
    }

    fn on_timers(&mut self) {
        let now = self.now_ms;
        for node in self.detector.due_probes(now) {
            let nonce = self.rng.next_u64();
            self.send(node, Message::Ping { nonce });
        }
        for rid in self.puts.due(now) {
            self.put_timer(rid);
        }
        for rid in self.gets.due(now) {
            self.get_timer(rid);
        }
        for rid in self.forwards.due(now) {
            self.forward_timer(rid);
        }
        self.expire_pending_writes();
        self.leave_timers();
        // Not while this node catches up on its own stall: a duplicate `Forward` that arrived
        // in time may wait in the backlog, and must still find its forward remembered (seed
        // 26296: a 4.2 s stall, then the duplicate accepted again and applied twice).
        if now >= self.forwards_seen_sweep_ms && now >= self.deaf_until() {
            self.expire_forwards_seen();
            self.forwards_seen_sweep_ms = now + self.config.request_timeout_ms.max(1);
        }
        self.handoff_timers();
        self.transfer_timers();
        self.swim_timer();
        self.gossip_timer();
        self.ae_timer();
        if self.membership_dirty {
            self.membership_dirty = false;
            self.pending_ops
                .push(StoreOp::PutMembership(MembershipSnapshot::of(
                    &self.membership,
                )));
        }
    }

    // ---- shared helpers of the request state machines -------------------------------

    pub(crate) fn alloc_rid(&mut self) -> Rid {
        let r = self.next_rid;
        self.next_rid += 1;
        r
    }

    pub(crate) fn send(&mut self, to: NodeId, msg: Message) {
        self.out.push_back(Output::Send { to, msg });
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    pub(crate) fn reply(&mut self, origin: Origin, result: Result<super::io::ClientReply, Error>) {
        if matches!(result, Err(Error::QuorumFailed { .. }))
            && !matches!(origin, Origin::ReadFirst(_))
        {
            self.stats.quorum_failures += 1;
        }
        match origin {
            Origin::ReadFirst(pending) => self.after_read_first(*pending, result),
            Origin::Client(id) => self.out.push_back(Output::Reply { id, result }),
            Origin::Forwarded { from, rid } => {
                // Kept for the forward's lifetime: a forwarder that missed this reply and
                // asks to cancel gets it again instead.
                if let Some(seen) = self.forwards_seen.get_mut(&(from.clone(), rid)) {
                    seen.result = Some(result.clone());
                }
                self.send(from, Message::ForwardReply { rid, result })
            }
        }
    }

    /// `node` missed a deadline: suspect it, unless the silence proves nothing (this node
    /// was not listening: `deaf_until`; or it heard from `node` within the last half
    /// `sloppy_retry_ms`: slow, not down; a message older than that may have left before a
    /// crash).
    pub(crate) fn suspect(&mut self, node: &NodeId) {
        let heard = self
            .heard_ms
            .get(node)
            .is_some_and(|t| t + self.config.sloppy_retry_ms / 2 > self.now_ms);
        if self.now_ms < self.deaf_until() || heard {
            return;
        }
        self.suspect_now(node);
    }

    /// Until when this node's silence from its peers proves nothing (it stalled).
    pub(crate) fn deaf_until(&self) -> u64 {
        if self.listening_since_ms == 0 {
            return 0;
        }
        self.listening_since_ms + self.config.sloppy_retry_ms
    }

    /// Suspect `node` for what it said (it refused, it left), not for its silence.
    pub(crate) fn suspect_now(&mut self, node: &NodeId) {
        if node != &self.id && self.detector.suspect(node, self.now_ms) {
            self.ae_catch_up.remove(node);
            self.emit(Event::NodeDown(node.clone()));
        }
    }

    /// A peer this node believed down answers again: deliver its hints now, and compare
    /// the partitions both replicate right away (issue 14: a returning tab catches up in
    /// one exchange per partition, not one anti-entropy sweep).
    pub(crate) fn on_peer_back(&mut self, peer: &NodeId) {
        self.emit(Event::NodeUp(peer.clone()));
        self.next_hint_scan_ms = self.now_ms;
        self.catch_up_with(peer);
    }

    pub(crate) fn is_up(&self, node: &NodeId) -> bool {
        node == &self.id || self.detector.is_up(node)
    }

    /// `node` left the ring or was removed, in this node's view: it stores nothing more.
    pub(crate) fn is_gone(&self, node: &NodeId) -> bool {
        self.membership
            .get(node)
            .is_some_and(|i| matches!(i.status, Status::Exiting | Status::Down))
    }

    /// This node has left (or was removed): it refuses to store data (`Message::Refused`).
    pub(crate) fn refuses_data(&self) -> bool {
        self.exited || self.is_gone(&self.id)
    }

    /// The key's preference list: every member, primaries first (§4.3).
    pub(crate) fn preflist(&self, key: &[u8]) -> Vec<NodeId> {
        self.membership
            .ring()
            .map(|r| r.preflist_for_key(key))
            .unwrap_or_default()
    }

    /// The first N healthy nodes of the preference list, each fallback paired with the
    /// unreachable primary it stands in for (§4.6). If every node seems down, the
    /// primaries are tried anyway.
    pub(crate) fn sloppy_targets(&self, preflist: &[NodeId]) -> Vec<(NodeId, Option<NodeId>)> {
        let n = self.config.n.min(preflist.len());
        let primaries = &preflist[..n];
        let mut down: VecDeque<&NodeId> = primaries
            .iter()
            .filter(|p| !self.is_up(p) || (*p != &self.id && self.is_gone(p)))
            .collect();
        let mut chosen = Vec::with_capacity(n);
        for node in preflist {
            if chosen.len() == n {
                break;
            }
            if !self.is_up(node) || (node != &self.id && self.is_gone(node)) {
                continue;
            }
            if primaries.contains(node) {
                chosen.push((node.clone(), None));
            } else {
                chosen.push((node.clone(), down.pop_front().cloned()));
            }
        }
        if chosen.is_empty() {
            chosen = primaries.iter().map(|p| (p.clone(), None)).collect();
        }
        chosen
    }

    /// Everything this node holds for `key`: its replica plus hinted copies.
    pub(crate) fn read_local(&self, key: &Bytes) -> Siblings {
        let mut s = self.data.get(key).cloned().unwrap_or_default();
        for n in &self.hinted_nodes {
            if let Some(v) = self.hints.get(&(n.clone(), key.clone())) {
                s.sync(v);
            }
        }
        s
    }

    /// Merge versions into local storage, as a replica (`hint` None, or this node) or on
    /// behalf of `hint`. Queues the persist op when something changed.
    pub(crate) fn store(
        &mut self,
        key: &Bytes,
        versions: &Siblings,
        hint: Option<&NodeId>,
    ) -> bool {
        match hint {
            Some(intended) if intended != &self.id => {
                if !self.hinted_nodes.contains(intended) {
                    self.hinted_nodes.insert(intended.clone());
                }
                let slot = self
                    .hints
                    .entry((intended.clone(), key.clone()))
                    .or_default();
                if !slot.sync(versions) {
                    return false;
                }
                let versions = slot.clone();
                self.pending_ops.push(StoreOp::PutHint {
                    intended: intended.clone(),
                    key: key.clone(),
                    versions,
                });
                self.stats.hints_stored += 1;
                self.emit(Event::HintStored {
                    key: key.clone(),
                    intended: intended.clone(),
                });
                true
            }
            _ => {
                let primary = self.is_primary(key);
                let slot = self.data.entry(key.clone()).or_default();
                if !slot.sync(versions) {
                    return false;
                }
                // Sent here under another ring (a stale coordinator, a late hint or
                // transfer): hand it on to the key's replicas.
                if !primary {
                    self.misplaced.insert(key.clone());
                }
                let versions = slot.clone();
                self.pending_ops.push(StoreOp::PutObject {
                    key: key.clone(),
                    versions,
                });
                self.tree_update(key);
                true
            }
        }
    }

    pub(crate) fn queue_op(&mut self, op: StoreOp) {
        self.pending_ops.push(op);
    }

    /// Run `w` once everything stored so far is durable: with the pending batch, or with
    /// the last batch in flight, or now if nothing is outstanding.
    pub(crate) fn after_durable(&mut self, w: Waiter) {
        if !self.pending_ops.is_empty() {
            self.pending_waiters.push(w);
        } else if let Some((_, (_, ws))) = self.inflight.iter_mut().next_back() {
            ws.push(w);
        } else {
            self.run_waiter(w);
        }
    }

    /// Emit the pending persist ops as one batch (one transaction per batch, not per key).
    fn flush(&mut self) {
        if self.pending_ops.is_empty() {
            return;
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        let ops = std::mem::take(&mut self.pending_ops);
        let waiters = std::mem::take(&mut self.pending_waiters);
        let written = ops.iter().map(Written::of).collect();
        self.inflight.insert(batch, (written, waiters));
        self.stats.persist_batches += 1;
        self.out.push_back(Output::Persist { batch, ops });
    }

    fn on_persisted(&mut self, batch: BatchId) {
        // Batches are applied in order: a later batch done means earlier ones are too.
        let done: Vec<BatchId> = self.inflight.range(..=batch).map(|(b, _)| *b).collect();
        for b in done {
            if let Some((_, ws)) = self.inflight.remove(&b) {
                for w in ws {
                    self.run_waiter(w);
                }
            }
        }
    }

    /// Nothing of the batch was applied. Its ops go back to the front of the next batch
    /// (memory already holds them, and a later durable ack must not vouch for them before
    /// they are on disk); later batches in flight keep their ops but their waiters move to
    /// the next batch too, so no ack overtakes the retry.
    fn on_persist_failed(&mut self, batch: BatchId, reason: String, quota_exceeded: bool) {
        let Some((written, ws)) = self.inflight.remove(&batch) else {
            return;
        };
        let mut retry: Vec<StoreOp> = written.iter().map(|w| self.rewrite(w)).collect();
        retry.append(&mut self.pending_ops);
        self.pending_ops = retry;
        let later: Vec<BatchId> = self.inflight.range(batch..).map(|(b, _)| *b).collect();
        for b in later {
            if let Some((_, moved)) = self.inflight.get_mut(&b) {
                let moved = std::mem::take(moved);
                self.pending_waiters.extend(moved);
            }
        }
        for w in ws {
            match w {
                Waiter::OwnStore(rid) | Waiter::FallbackStore(rid) => {
                    if let Some(origin) = self.puts.remove(&rid).and_then(|f| f.origin) {
                        self.reply(
                            origin,
                            Err(Error::Storage {
                                reason: reason.clone(),
                                quota_exceeded,
                            }),
                        );
                    }
                }
                // A durable ack we cannot give: the coordinator will time out on us.
                Waiter::Send { .. } => {}
                Waiter::DotsReserved(_) => self.dot_reserving = false,
                // The forward was not acted on and never will be: its forwarder hears a
                // definite failure (the mark is written again with the retried batch, so a
                // duplicate is still recognised).
                Waiter::ForwardMarked(from, rid) => {
                    if let Some(seen) = self.forwards_seen.get_mut(&(from.clone(), rid)) {
                        seen.waiting = None;
                    }
                    self.reply(
                        Origin::Forwarded { from, rid },
                        Err(Error::Storage {
                            reason: reason.clone(),
                            quota_exceeded,
                        }),
                    );
                }
            }
        }
    }

    /// The op that writes what `w` wrote, from the current state.
    fn rewrite(&self, w: &Written) -> StoreOp {
        match w {
            Written::Object(key) => match self.data.get(key) {
                Some(versions) => StoreOp::PutObject {
                    key: key.clone(),
                    versions: versions.clone(),
                },
                None => StoreOp::DeleteObject { key: key.clone() },
            },
            Written::Hint(intended, key) => {
                match self.hints.get(&(intended.clone(), key.clone())) {
                    Some(versions) => StoreOp::PutHint {
                        intended: intended.clone(),
                        key: key.clone(),
                        versions: versions.clone(),
                    },
                    None => StoreOp::DeleteHint {
                        intended: intended.clone(),
                        key: key.clone(),
                    },
                }
            }
            Written::Fallback(key) => match self.fallback_dots.get(key) {
                Some(versions) => StoreOp::PutFallback {
                    key: key.clone(),
                    versions: versions.clone(),
                },
                None => StoreOp::DeleteFallback { key: key.clone() },
            },
            // The newest metadata queued, never an older reservation over a newer one.
            Written::Meta => StoreOp::PutMeta(self.meta.clone()),
            Written::Membership => StoreOp::PutMembership(MembershipSnapshot::of(&self.membership)),
            Written::Forward(from, rid) => match self.forwards_seen.get(&(from.clone(), *rid)) {
                Some(seen) if seen.marked => StoreOp::PutForward(ForwardMark {
                    from: from.clone(),
                    rid: *rid,
                    expires_ms: seen.expires_ms,
                }),
                _ => StoreOp::DeleteForward {
                    from: from.clone(),
                    rid: *rid,
                },
            },
        }
    }

    fn run_waiter(&mut self, w: Waiter) {
        match w {
            Waiter::OwnStore(rid) => {
                self.release_replicas(rid);
                let me = self.id.clone();
                self.on_put_ack(&me, rid, true);
            }
            Waiter::FallbackStore(rid) => self.release_replicas(rid),
            Waiter::Send { to, msg } => self.send(to, msg),
            Waiter::DotsReserved(upto) => {
                self.dot_durable = self.dot_durable.max(upto);
                self.dot_reserving = false;
                self.retry_pending_writes();
            }
            Waiter::ForwardMarked(from, rid) => self.act_on_forward(from, rid),
        }
    }

    // ---- integrity -------------------------------------------------------------------

    /// Report each record that failed verification at load, drop its bytes from storage
    /// (they are never served), and have anti-entropy compare the partitions of the lost
    /// keys first. The node does not hold those keys (they are absent from `data` and so
    /// from its Merkle trees), so the exchange brings them back from the other replicas;
    /// a get meanwhile reads them from the other replicas and read repair stores them here.
    fn report_corrupt(&mut self, corrupt: Vec<CorruptRecord>) {
        for c in corrupt {
            self.stats.corrupt_records += 1;
            match (c.store, &c.key, &c.intended) {
                (RecordStore::Objects, Some(key), _) => {
                    if !self.data.contains_key(key) {
                        self.pending_ops
                            .push(StoreOp::DeleteObject { key: key.clone() });
                    }
                    if let Some(p) = self.membership.ring().map(|r| r.partition_of_key(key)) {
                        self.ae_urgent.insert(p);
                    }
                }
                (RecordStore::Fallbacks, Some(key), _) => {
                    // The node is a new incarnation (`build`), so its new fallback actor
                    // has no dots yet: the record is dropped.
                    self.pending_ops
                        .push(StoreOp::DeleteFallback { key: key.clone() });
                }
                (RecordStore::Forwards, key, from) => {
                    // Which forward it named is lost: no unknown forward is acted on until
                    // every one a previous run could have accepted has expired.
                    self.forwards_unsure = true;
                    let rid = key.as_ref().and_then(record::forward_rid_of);
                    if let (Some(from), Some(rid)) = (from.clone(), rid) {
                        self.pending_ops.push(StoreOp::DeleteForward { from, rid });
                    }
                }
                (RecordStore::Hints, Some(key), Some(intended)) => {
                    let id = (intended.clone(), key.clone());
                    if !self.hints.contains_key(&id) {
                        self.pending_ops.push(StoreOp::DeleteHint {
                            intended: intended.clone(),
                            key: key.clone(),
                        });
                    }
                }
                _ => {}
            }
            self.emit(Event::CorruptRecord {
                store: c.store,
                key: c.key,
            });
        }
    }

    // ---- dots ------------------------------------------------------------------------

    /// The partitions whose first N nodes include this one, in the current ring.
    pub(crate) fn partitions_replicated(&self) -> BTreeSet<u32> {
        let Some(ring) = self.membership.ring() else {
            return BTreeSet::new();
        };
        (0..ring.q())
            .filter(|&p| {
                ring.preflist_iter(p)
                    .take(self.config.n)
                    .any(|x| x == &self.id)
            })
            .collect()
    }

    /// This run stopped replicating the partition of `key` at some point (see
    /// `lost_parts`), or this actor handed a key of it off in any run.
    pub(crate) fn lost_partition_of(&self, key: &[u8]) -> bool {
        self.handed_off_partition_of(key)
            || self
                .membership
                .ring()
                .is_some_and(|r| self.lost_parts.contains(&r.partition_of_key(key)))
    }

    /// This actor handed a key of `key`'s partition off, in this run or an earlier one (a
    /// restart does not bring back what left with the handoff: `NodeMeta::handed_off_parts`).
    pub(crate) fn handed_off_partition_of(&self, key: &[u8]) -> bool {
        self.membership.ring().is_some_and(|r| {
            self.meta
                .handed_off_parts
                .contains(&r.partition_of_key(key))
        })
    }

    /// True once this run's first dot reservation is on disk, so a crash cannot restart
    /// the node with the same epoch (and actor).
    pub(crate) fn epoch_durable(&self) -> bool {
        self.dot_durable > self.epoch
    }

    /// Issue the next dot counter, at least `min` (above any counter of this node that the
    /// key's history or the client's context mentions). `None` while the counter is not yet
    /// reserved on disk (a reservation is then under way).
    pub(crate) fn issue_dot(&mut self, min: u64) -> Option<u64> {
        let counter = (self.dot_next + 1).max(min);
        if counter > self.dot_durable {
            self.reserve_dots(counter);
            return None;
        }
        self.dot_next = counter;
        if self.dot_durable - counter < DOT_BLOCK / 2 {
            self.reserve_dots(counter);
        }
        Some(counter)
    }

    pub(crate) fn reserve_dots(&mut self, at_least: u64) {
        if self.dot_reserving {
            return;
        }
        self.dot_reserving = true;
        let upto = at_least.max(self.dot_durable).max(self.dot_next) + DOT_BLOCK;
        self.meta.dot_reserved = self.meta.dot_reserved.max(upto);
        self.pending_ops.push(StoreOp::PutMeta(self.meta.clone()));
        self.pending_waiters.push(Waiter::DotsReserved(upto));
    }
}

fn check_config(config: &Config) -> Result<(), Error> {
    if config.max_siblings == 0 {
        return Err(Error::InvalidArgument(
            "max_siblings must be at least 1".into(),
        ));
    }
    if config.n == 0 || config.r == 0 || config.w == 0 || config.r > config.n || config.w > config.n
    {
        return Err(Error::InvalidArgument(format!(
            "need 1 <= R, W <= N, got N={} R={} W={}",
            config.n, config.r, config.w
        )));
    }
    Ok(())
}

/// The dot reservation's bits above this count a node's incarnations (data-loss events).
const INCARNATION_SHIFT: u32 = 32;

/// The incarnation a dot reservation belongs to: 0 until the node first lost data.
pub(crate) fn incarnation_of(dot_reserved: u64) -> u64 {
    dot_reserved >> INCARNATION_SHIFT
}

/// The primary actor of node `id` in `incarnation`: the plain id, or `id@i<incarnation>`
/// after a data loss. (Older builds wrote `id@<epoch>`, `id@<epoch>.<generation>` and
/// `id~<n>`: those stay distinct actors, and never equal a name made here.)
pub(crate) fn actor_name(id: &NodeId, incarnation: u64) -> NodeId {
    match incarnation {
        0 => id.clone(),
        i => NodeId::new(&format!("{id}@i{i}")),
    }
}

/// The actor of the writes that `actor` (a node's id, or its incarnation `id@i<n>`)
/// coordinates outside a key's replicas: `<actor>@f`, the same in every run, then
/// `<actor>@f<g>` in the fallback generation `g` (`put.rs` `FALLBACK_KEYS`).
pub(crate) fn fallback_actor_name(actor: &NodeId, generation: u64) -> NodeId {
    match generation {
        0 => NodeId::new(&format!("{actor}@f")),
        g => NodeId::new(&format!("{actor}@f{g}")),
    }
}
