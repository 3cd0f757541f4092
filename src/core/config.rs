//! A node's configuration: replication (N, R, W: §4.5), the ring size Q (§6.2), timeouts of
//! the request state machines, failure detection and hinted handoff (§4.6), and resolvers.

use super::resolve::ResolverRules;
use serde::{Deserialize, Serialize};

/// `Config::member_ttl_ms` by default: 7 days (a node with durable storage).
pub const DEFAULT_MEMBER_TTL_MS: u64 = 7 * 24 * 3_600_000;

/// `Config::member_ttl_ms` for a node on memory storage (the wasm host's default there):
/// 5 minutes. Such a node comes back empty, if ever; its replicas are better moved soon.
pub const MEMORY_MEMBER_TTL_MS: u64 = 5 * 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Replicas per key.
    pub n: usize,
    /// Replies a get waits for.
    pub r: usize,
    /// Stores a put waits for (the coordinator's own included).
    pub w: usize,
    /// Partitions in the ring (a power of two, much larger than N and the node count).
    pub q: u32,
    /// A client request ends (success or typed error) within this time.
    pub request_timeout_ms: u64,
    /// A replica that has not answered a request after this long is suspected down and the
    /// next fallback of the preference list is used instead (sloppy quorum).
    pub sloppy_retry_ms: u64,
    /// After a get has answered its client, late replies are awaited this long (100 ms by
    /// default) before the replicas that answered with stale data or not-found are repaired.
    /// A replica that has not answered by then is not repaired (`read_repair.rs`).
    pub read_repair_window_ms: u64,
    /// A node believed down is pinged this often; it is used again when it answers.
    pub probe_interval_ms: u64,
    /// Hinted replicas are offered to their intended node this often.
    pub hint_interval_ms: u64,
    /// At most this many hinted keys are offered per scan (background work is throttled).
    pub hint_batch: usize,
    /// A node gossips its membership view with a random peer this often (§4.8).
    pub gossip_interval_ms: u64,
    /// One gossip round in this many goes to a seed, so no logical partition persists.
    pub seed_gossip_every: u32,
    /// A gossip partner that has not answered within this is probed indirectly (SWIM).
    pub probe_timeout_ms: u64,
    /// Members asked to probe an unanswering partner indirectly.
    pub indirect_probes: u32,
    /// A suspicion not refuted within this many rounds × ⌈log2(members+1)⌉ becomes dead.
    pub suspicion_rounds: u32,
    /// Each failure-detector rumor is passed on this many × ⌈log2(members+1)⌉ times.
    pub rumor_rounds: u32,
    /// Merkle anti-entropy opens one tree exchange this often (0 = off) (§4.7).
    pub anti_entropy_interval_ms: u64,
    /// At most this many exchanges opened by peers are answered at once (§6.5).
    pub anti_entropy_max_sessions: usize,
    /// At most this many keys are repaired per exchange (§6.5).
    pub anti_entropy_max_keys: usize,
    /// Write the merged versions back to stale replicas after a get (§4.5).
    pub read_repair: bool,
    /// At most this many keys are in ownership handoff at once (§4.9, throttled).
    pub transfer_batch: usize,
    /// Largest value a put accepts (`VALUE_TOO_LARGE` above it).
    pub max_value_bytes: usize,
    /// A put that would leave a key with more concurrent versions than this (in its
    /// coordinator's view) is refused with `TOO_MANY_SIBLINGS` (Riak's `max_siblings`).
    /// Replicas never refuse versions sent to them, so nothing acknowledged is dropped.
    pub max_siblings: usize,
    /// From this many concurrent versions on, `Event::SiblingsWarning` is emitted (0: never).
    pub warn_siblings: usize,
    /// Sibling resolvers by key prefix (siblings stay the default).
    pub resolvers: ResolverRules,
    /// This node is a durable replica (an always-on edge node): announced in the membership,
    /// and a buffered write (§6.1) whose targets include a durable replica counts as durable
    /// only once a durable replica stored it.
    pub durable_replica: bool,
    /// A `Leave` is answered when the node has exited (every key handed off and
    /// acknowledged); past this it is answered `TIMEOUT` and the node keeps leaving.
    pub leave_timeout_ms: u64,
    /// A member this node has seen `Exiting` (left) or `Down` (removed) for this long is no
    /// longer listed by [`crate::core::Node::listed_members`] (the hosts' `members()`). Its
    /// membership entry stays, as a tombstone gossip needs so that no old view brings it back.
    pub exited_grace_ms: u64,
    /// The membership lease (issue 15 defect 8): a member that this node's failure
    /// detector has held down for this long is removed (`Down`, as an operator's `Remove`)
    /// by the lease holder, the smallest valid member it believes up; its partitions move
    /// to live members through ownership handoff, and the hints held for it are adopted and
    /// handed on to the key's live primaries. A removed member that comes back rejoins.
    /// 0 turns the lease off (an outage never changes the membership). Default 7 days: a
    /// tab with durable storage (IndexedDB) comes back with its data; the wasm host uses 5
    /// minutes for memory storage (`memberTtlMs`).
    pub member_ttl_ms: u64,
    /// Test-only (feature `mutants`): reintroduce one of issue 15's defects.
    #[cfg(feature = "mutants")]
    #[serde(skip)]
    pub mutant: Option<Mutant>,
}

/// A defect of issue 15 that a test build can put back (feature `mutants`), to show that
/// the simulator's checks catch it (`scripts/mutation-check.sh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// Defect 1: a put's W counts responders, not preference-list slots.
    CountResponders,
    /// Defect 2: a forward that timed out is coordinated again here.
    RetryForward,
    /// Defect 3: a counter delete is a plain tombstone.
    CounterTombstone,
    /// Defect 4: every run of a node writes as a new actor.
    ActorPerRun,
}

impl Mutant {
    pub const ALL: [Mutant; 4] = [
        Mutant::CountResponders,
        Mutant::RetryForward,
        Mutant::CounterTombstone,
        Mutant::ActorPerRun,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mutant::CountResponders => "count_responders",
            Mutant::RetryForward => "retry_forward",
            Mutant::CounterTombstone => "counter_tombstone",
            Mutant::ActorPerRun => "actor_per_run",
        }
    }
}

impl Config {
    /// Is defect `m` put back? Always false without the `mutants` feature.
    #[inline]
    pub fn mutant(&self, m: Mutant) -> bool {
        #[cfg(feature = "mutants")]
        {
            self.mutant == Some(m)
        }
        #[cfg(not(feature = "mutants"))]
        {
            let _ = m;
            false
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            n: 3,
            r: 2,
            w: 2,
            q: 64,
            request_timeout_ms: 2_000,
            sloppy_retry_ms: 250,
            read_repair_window_ms: 100,
            probe_interval_ms: 500,
            hint_interval_ms: 1_000,
            hint_batch: 64,
            gossip_interval_ms: 1_000,
            seed_gossip_every: 10,
            anti_entropy_interval_ms: 500,
            anti_entropy_max_sessions: 4,
            anti_entropy_max_keys: 512,
            read_repair: true,
            probe_timeout_ms: 400,
            indirect_probes: 3,
            suspicion_rounds: 2,
            rumor_rounds: 3,
            transfer_batch: 64,
            max_value_bytes: 1 << 20,
            max_siblings: 100,
            warn_siblings: 25,
            resolvers: ResolverRules::default(),
            durable_replica: false,
            leave_timeout_ms: 120_000,
            exited_grace_ms: 3_600_000,
            member_ttl_ms: DEFAULT_MEMBER_TTL_MS,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }
}
