//! One seeded simulation run: the seed chooses the cluster size, the workload, the network
//! and the fault schedule (the classic faults, and a browser tab's reality: see
//! `switches.rs` and docs/simulation.md). A **safety phase** runs the workload under faults,
//! ending in a 6 s fault-free window; a **liveness
//! phase** stops the faults (heal, restart every node, clean network), lets hinted handoff
//! run, reads every written key once (read repair), and then the invariants are checked.

use crate::core::config::Mutant;
use crate::core::resolve::{Resolver, ResolverRules};
use crate::core::rng::Rng;
use crate::core::{AdminRequest, ClientRequest, Config, RequestOptions, Status};
use crate::sim::switches::{Checks, Faults};
use crate::sim::workload::{Workload, WorkloadSpec};
use crate::sim::{Cluster, History, NetConfig, TraceEvent, Violation};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Inject faults during the safety phase (on by default).
    pub faults: bool,
    /// Which fault families of a tab's reality are injected (`Faults::defaults()`).
    pub tab_faults: Faults,
    /// Which of issue 15's checks run (`Checks::defaults()`).
    pub checks: Checks,
    /// Length of the safety phase in virtual ms.
    pub safety_ms: u64,
    /// Keep the full trace of events in the report.
    pub trace: bool,
    /// Put back one of issue 15's defects (needs the `mutants` feature; else ignored).
    pub mutant: Option<Mutant>,
}

impl SimOptions {
    pub fn new(seed: u64) -> Self {
        SimOptions {
            seed,
            faults: true,
            tab_faults: Faults::defaults(),
            checks: Checks::defaults(),
            safety_ms: 20_000,
            trace: false,
            mutant: None,
        }
    }

    /// The defaults, changed by `RINGLET_SIM_FAULTS` and `RINGLET_SIM_CHECKS` (switch
    /// lists, see `src/sim/switches.rs`). An unknown name is an error.
    pub fn from_env(seed: u64) -> Result<Self, String> {
        let mut o = SimOptions::new(seed);
        if let Ok(list) = std::env::var("RINGLET_SIM_FAULTS") {
            o.tab_faults = o.tab_faults.apply(&list)?;
        }
        if let Ok(list) = std::env::var("RINGLET_SIM_CHECKS") {
            o.checks = o.checks.apply(&list)?;
        }
        Ok(o)
    }
}

/// The totals of many seeds' reports: the line `tests/sim_seeds.rs` and
/// `ringlet-sim --summary` print.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    pub requests: u64,
    pub acked_writes: u64,
    pub gets_with_siblings: u64,
    pub ambiguous: u64,
    pub faults: u64,
    pub fault_counts: BTreeMap<String, u64>,
}

impl Totals {
    pub fn add(&mut self, r: &RunReport) {
        self.seeds += 1;
        self.requests += r.requests_ok + r.requests_failed;
        self.acked_writes += r.acked_writes as u64;
        self.gets_with_siblings += r.gets_with_siblings;
        self.ambiguous += r.ambiguous;
        self.faults += r.faults.len() as u64;
        for (k, n) in &r.fault_counts {
            *self.fault_counts.entry(k.clone()).or_default() += n;
        }
    }

    /// One line, for seeds from `start` on.
    pub fn line(&self, start: u64) -> String {
        let kinds: Vec<String> = self
            .fault_counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        format!(
            "{} seeds from {start}: {} requests, {} acknowledged writes checked, {} gets with siblings, {} ambiguous counter updates, {} faults injected ({})",
            self.seeds,
            self.requests,
            self.acked_writes,
            self.gets_with_siblings,
            self.ambiguous,
            self.faults,
            kinds.join(", ")
        )
    }
}

#[derive(Clone, Debug)]
pub struct RunReport {
    pub seed: u64,
    pub nodes: usize,
    pub trace_hash: u64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub acked_writes: usize,
    pub gets_ok: u64,
    pub gets_with_siblings: u64,
    pub keys: usize,
    pub messages: u64,
    pub messages_dropped: u64,
    pub faults: Vec<String>,
    /// Faults injected per kind (the first word of each fault log line).
    pub fault_counts: BTreeMap<String, u64>,
    pub persist_failures: u64,
    pub burst_requests: u64,
    /// Acknowledged writes checked for durability at their ack; ambiguous counter updates;
    /// gets checked for read-your-writes.
    pub acks_checked: u64,
    pub ambiguous: u64,
    pub ryw_checked: u64,
    /// Gets exempt from read-your-writes because they said they were `partial`.
    pub ryw_partial: u64,
    pub options: String,
    pub virtual_ms: u64,
    pub violations: Vec<Violation>,
    pub trace: Vec<TraceEvent>,
}

impl RunReport {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "cargo run --release --bin ringlet-sim -- --seed {}{}",
            self.seed, self.options
        )
    }
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seed {}: {} nodes, {} requests ok, {} failed, {} acknowledged writes, {} keys, {} messages ({} dropped), {} faults, {} s virtual, trace {:016x}",
            self.seed,
            self.nodes,
            self.requests_ok,
            self.requests_failed,
            self.acked_writes,
            self.keys,
            self.messages,
            self.messages_dropped,
            self.faults.len(),
            self.virtual_ms / 1000,
            self.trace_hash
        )?;
        if !self.fault_counts.is_empty() {
            let kinds: Vec<String> = self
                .fault_counts
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            writeln!(
                f,
                "  faults by kind: {}; {} failed persists, {} burst requests; {} acks checked, {} ambiguous, {} read-your-writes checked ({} partial gets exempt)",
                kinds.join(", "),
                self.persist_failures,
                self.burst_requests,
                self.acks_checked,
                self.ambiguous,
                self.ryw_checked,
                self.ryw_partial
            )?;
        }
        for v in &self.violations {
            writeln!(f, "  VIOLATION: {v}")?;
        }
        if !self.ok() {
            writeln!(f, "  reproduce with: {}", self.replay_command())?;
        }
        Ok(())
    }
}

/// What the fault schedule has done to the cluster's membership.
#[derive(Default)]
struct Churn {
    /// Nodes that left (and exited) or were removed: never restarted.
    gone: Vec<usize>,
    /// Nodes asked to leave, not yet exited.
    leaving: Vec<usize>,
    joins: usize,
    wipes: usize,
    removed: usize,
    /// Turnover: a vanished node waiting to be removed (node, at).
    vanished: Option<(usize, u64)>,
    /// Turnover: nodes that arrived (beyond the classic two joins).
    arrivals: usize,
    /// The last time a vanished node was removed.
    last_removal: u64,
    /// Every node that vanished.
    vanished_all: Vec<usize>,
    /// Every node removed (vanished, or removed by the operator): the liveness phase
    /// confirms each removal happened.
    removals: Vec<usize>,
    /// The core's membership lease removes vanished nodes (`Config::member_ttl_ms`), so the
    /// operator does not.
    lease: bool,
}

/// The membership lease of the simulated nodes when turnover is injected: long above the
/// classic crash-restart times, short against a run.
const SIM_MEMBER_TTL_MS: u64 = 10_000;

/// A reload storm: node `node` closed and reopened `left` more times.
struct Storm {
    node: usize,
    left: u32,
    next_at: u64,
}

/// Run one seed to the end and check every invariant.
pub fn run_seed(opts: &SimOptions) -> RunReport {
    let mut rng = Rng::new(opts.seed ^ 0x5151_5eed);
    let nodes = 3 + rng.below(5) as usize; // 3..=7
    let membership_changes = rng.chance(0.5);
    // Half the seeds turn read repair off and skip the final reads: anti-entropy alone
    // must then bring every replica of every key to the same versions.
    let read_repair = rng.chance(0.5);
    // One seed in four runs with a tiny sibling limit: refused puts (`TOO_MANY_SIBLINGS`)
    // fail like any other, and no acknowledged write may be lost. One in three damages
    // stored records instead of wiping a whole disk. (Both derive from the seed without
    // drawing from the RNG, so the other seeds replay as before.)
    let (max_siblings, warn_siblings) = if opts.seed % 4 == 1 {
        (3, 2)
    } else {
        (100, 25)
    };
    let corrupt_records = opts.seed % 3 == 2;
    let tf = if opts.faults {
        opts.tab_faults
    } else {
        Faults::none()
    };
    // The tab faults and the mixed workload draw from their own generator, so that the
    // classic schedule of a seed stays what it was.
    let mut frng = Rng::new(opts.seed ^ 0x7ab_fa17);
    let mixed = !tf.on().is_empty() || opts.checks != Checks::none();
    let resolvers = ResolverRules::new()
        .with("ctr/", Resolver::Counter)
        .with("set/", Resolver::AddWinsSet)
        .with("lww/", Resolver::LastWriterWins);
    let config = Config {
        resolvers,
        q: 64,
        read_repair,
        max_siblings,
        warn_siblings,
        anti_entropy_interval_ms: 100,
        // With turnover, the core's membership lease removes a vanished node (defect 8),
        // and any node down for longer (a crash, a long partition) is removed and rejoins
        // when it comes back.
        member_ttl_ms: if tf.turnover {
            SIM_MEMBER_TTL_MS
        } else {
            Config::default().member_ttl_ms
        },
        #[cfg(feature = "mutants")]
        mutant: opts.mutant,
        ..Config::default()
    };
    let max_latency_ms = rng.range(2, 40);
    let net = NetConfig {
        min_latency_ms: 1,
        max_latency_ms,
        loss: 0.0,
        duplicate: 0.0,
        min_persist_ms: 0,
        max_persist_ms: rng.range(1, 8),
    };
    let mut cluster = Cluster::with_nodes(rng.next_u64(), nodes, config, net.clone());
    if opts.trace {
        cluster.record_trace();
    }
    for i in 0..nodes {
        let skew = rng.range(0, 4_000) as i64 - 2_000;
        cluster.set_skew(i, skew);
    }
    // Slow IndexedDB: in 30 % of seeds, 1 to half of the nodes take 1 ms up to 0.3-3 s
    // per persist, above `sloppy_retry_ms`.
    let mut slow_disks = false;
    let mut early = Vec::new();
    if tf.slow_disk && frng.chance(0.3) {
        slow_disks = true;
        let count = 1 + frng.below((nodes / 2) as u64) as usize;
        for _ in 0..count {
            let i = frng.below(nodes as u64) as usize;
            let hi = frng.range(300, 3_000);
            cluster.set_persist_latency(i, Some((1, hi)));
            early.push(format!("0 ms: slow disk {} 1-{hi} ms", cluster.id(i)));
        }
    }
    // Quota: in 25 % of seeds, 1 %, 5 % or 20 % of persist batches fail.
    if tf.persist_fail && frng.chance(0.25) {
        cluster.persist_fail = [0.01, 0.05, 0.2][frng.below(3) as usize];
        let what = format!("persist_fail {}", cluster.persist_fail);
        cluster.note_fault(what.clone());
        early.push(format!("0 ms: {what}"));
    }
    // Reload storms in 20 % of seeds; membership turnover in 30 % (not with buffered
    // writes, whose one durable copy a vanished node takes along).
    let storms_on = tf.reload_storms && frng.chance(0.2);
    let turnover_on = tf.turnover && frng.chance(0.3);
    let spec = WorkloadSpec {
        clients: 2 + rng.below(5) as usize,
        ops_per_client: 1_000,
        hot_keys: 1 + rng.below(4) as usize,
        cold_keys: 5 + rng.below(40) as usize,
        hot_share: 0.5,
        think_ms: rng.range(5, 200),
        buffered_share: if rng.chance(0.5) { 0.3 } else { 0.0 },
        mixed,
    };
    let buffered = spec.buffered_share > 0.0;
    let turnover_on = turnover_on && !buffered;
    let mut workload = Workload::new(spec, rng.next_u64(), cluster.now());
    let mut history = History::with_checks(opts.checks);
    let mut faults = early;
    let mut churn = Churn {
        lease: tf.turnover,
        ..Churn::default()
    };
    let start = cluster.now();
    let safety_end = start + opts.safety_ms;
    let mut next_fault = start + rng.range(200, 2_000);
    let tab_on = !tf.on().is_empty();
    let mut next_tab_fault = start + frng.range(300, 3_000);
    let mut storms: Vec<Storm> = Vec::new();
    let mut last_fault = start;
    let mut epoch = 0u64;
    // The last 6 s of the safety phase are a fault-free window (with the workload still
    // running): everything heals, so read-your-writes can be checked in its last 3 s.
    let quiet_from = safety_end.saturating_sub(6_000);
    let mut quiet = false;

    // Safety phase: the workload under faults.
    while cluster.now() < safety_end {
        let mut t = safety_end;
        if let Some(w) = workload.next_wake() {
            t = t.min(w.max(cluster.now()));
        }
        if opts.faults && !quiet {
            t = t.min(next_fault).min(quiet_from);
        }
        if tab_on && !quiet {
            t = t.min(next_tab_fault);
        }
        if let Some((_, at)) = churn.vanished {
            t = t.min(at.max(cluster.now()));
        }
        for s in &storms {
            t = t.min(s.next_at.max(cluster.now()));
        }
        cluster.run_until_reply(t);
        // Read-your-writes is checked only in a fault-free window: nothing down, cut,
        // lossy, slow, stalled or storming, 3 s after the last fault, and every live node
        // acting on the same ring. While a new ring is still spreading, a node with the old
        // one may answer a get from its own stale copy (R = 1) of a key the new ring moved
        // to a put's W replicas, and R + W > N promises no overlap between two preference
        // lists (seed 12378). A put acknowledged before a ring change and a get after every
        // node has the new ring are still checked (defect 8: transfers and authorities).
        workload.clean = live_ring(&cluster, &churn).is_some()
            && !slow_disks
            && cluster.persist_fail == 0.0
            && storms.is_empty()
            && !cluster.is_partitioned()
            && cluster.net.loss == 0.0
            && cluster.now() >= last_fault + 3_000
            && (0..cluster.len())
                .all(|i| churn.gone.contains(&i) || (cluster.is_up(i) && !cluster.is_stalled(i)));
        for c in cluster.take_completed() {
            workload.on_reply(&mut cluster, &mut history, c.id, c.at, c.result);
        }
        retire_exited(&cluster, &mut churn);
        let before = faults.len();
        run_storms(
            tf.fast_reloads,
            &mut cluster,
            &mut frng,
            &mut storms,
            &mut workload,
            &mut history,
            &mut faults,
        );
        if let Some((i, at)) = churn.vanished {
            if cluster.now() >= at {
                churn.vanished = None;
                let what = if churn.lease {
                    format!("lease of vanished {} due", cluster.id(i))
                } else {
                    remove_vanished(&mut cluster, &churn, i)
                };
                churn.last_removal = cluster.now();
                faults.push(format!("{} ms: {what}", cluster.now()));
            }
        }
        if opts.faults && !quiet && cluster.now() >= quiet_from {
            quiet = true;
            for s in storms.drain(..) {
                cluster.restart(s.node);
            }
            cluster.heal();
            cluster.net.loss = 0.0;
            cluster.persist_fail = 0.0;
            for i in 0..cluster.len() {
                if !churn.gone.contains(&i) {
                    cluster.restart(i);
                }
            }
            faults.push(format!(
                "{} ms: quiet window: heal, restart all",
                cluster.now()
            ));
        }
        if tab_on && !quiet && cluster.now() >= next_tab_fault {
            let what = inject_tab_fault(
                tf,
                storms_on,
                turnover_on,
                &mut cluster,
                &mut frng,
                &mut churn,
                &mut storms,
                &mut workload,
                &mut history,
            );
            faults.push(format!("{} ms: {what}", cluster.now()));
            // A node that vanished for good is not reloaded by a storm any more.
            storms.retain(|s| !churn.gone.contains(&s.node));
            next_tab_fault = cluster.now() + frng.range(300, 3_000);
        }
        if opts.faults && !quiet && cluster.now() >= next_fault {
            let what = if membership_changes && rng.chance(0.25) {
                change_membership(
                    buffered,
                    corrupt_records,
                    &mut cluster,
                    &mut rng,
                    &mut churn,
                    &mut workload,
                    &mut history,
                )
            } else {
                inject_fault(&mut cluster, &mut rng, &churn, &mut workload, &mut history)
            };
            faults.push(format!("{} ms: {what}", cluster.now()));
            next_fault = cluster.now() + rng.range(200, 2_000);
        }
        if faults.len() > before {
            last_fault = cluster.now();
            epoch += 1;
            workload.epoch = epoch;
        }
        workload.issue_due(&mut cluster, &mut history);
    }
    workload.clean = false;

    // Liveness phase: faults stop; every node is up, the network is clean.
    workload.stop();
    for s in storms.drain(..) {
        cluster.restart(s.node);
    }
    if let Some((i, _)) = churn.vanished.take() {
        if !churn.lease {
            let what = remove_vanished(&mut cluster, &churn, i);
            faults.push(format!("{} ms: {what}", cluster.now()));
        }
    }
    cluster.persist_fail = 0.0;
    cluster.heal();
    cluster.net = NetConfig {
        loss: 0.0,
        duplicate: 0.0,
        ..net
    };
    for i in 0..cluster.len() {
        if !churn.gone.contains(&i) {
            cluster.restart(i);
        }
    }
    // Settle twice, confirming the removals before each: one that did not take effect the
    // first time (its node stalled, then crashed) is sent again.
    for settle_ms in [10_000, 20_000] {
        confirm_removals(&mut cluster, &churn, &mut faults);
        let settle = cluster.now() + settle_ms;
        while cluster.now() < settle {
            cluster.run_until_reply(settle);
            for c in cluster.take_completed() {
                workload.on_reply(&mut cluster, &mut history, c.id, c.at, c.result);
            }
            retire_exited(&cluster, &mut churn);
        }
    }
    // With read repair on, read every written key once.
    let keys: Vec<_> = history.keys_written().cloned().collect();
    let live: Vec<usize> = (0..cluster.len()).filter(|&i| cluster.is_up(i)).collect();
    let reads = if read_repair { keys.len() } else { 0 };
    for (k, key) in keys.iter().take(reads).enumerate() {
        let node = live[k % live.len()];
        let options = RequestOptions::default();
        let timeout = cluster.config().request_timeout_ms;
        let id = cluster.submit(
            node,
            ClientRequest::Get {
                key: key.clone(),
                options,
            },
        );
        history.started(id, cluster.now(), timeout, key, false);
    }
    let end = cluster.now() + 5_000;
    while cluster.now() < end {
        cluster.run_until_reply(end);
        for c in cluster.take_completed() {
            history.ended(c.id, c.at, c.result.is_ok());
        }
    }
    let mut violations = history.check_final(&cluster);
    if churn.lease {
        violations.extend(unremoved_vanished(&cluster, &churn));
    }
    let mut fault_counts: BTreeMap<String, u64> = BTreeMap::new();
    for f in &faults {
        let what = f.split_once(": ").map_or(f.as_str(), |(_, w)| w);
        *fault_counts.entry(fault_kind(what)).or_default() += 1;
    }
    if cluster.persist_failures > 0 {
        *fault_counts.entry("persist-failed".into()).or_default() += cluster.persist_failures;
    }
    let mut options = String::new();
    if opts.tab_faults != Faults::defaults() {
        options += &format!(" --faults none,{}", opts.tab_faults.on().join(","));
    }
    if opts.checks != Checks::defaults() {
        options += &format!(" --checks none,{}", opts.checks.on().join(","));
    }
    if !opts.faults {
        options += " --no-faults";
    }
    RunReport {
        fault_counts,
        persist_failures: cluster.persist_failures,
        burst_requests: workload.burst_requests(),
        acks_checked: history.acks_checked,
        ambiguous: history.ambiguous,
        ryw_checked: history.ryw_checked,
        ryw_partial: history.ryw_partial,
        options,
        seed: opts.seed,
        nodes: cluster.len(),
        trace_hash: cluster.trace_hash(),
        requests_ok: history.gets_ok + history.writes_ok,
        requests_failed: history.failed,
        acked_writes: history.acked_writes(),
        gets_ok: history.gets_ok,
        gets_with_siblings: history.gets_with_siblings,
        keys: keys.len(),
        messages: cluster.messages_sent,
        messages_dropped: cluster.messages_dropped,
        faults,
        virtual_ms: cluster.now() - start,
        violations,
        trace: cluster.take_trace(),
    }
}

/// A node that finished leaving holds nothing; it keeps running (and gossiping its
/// `Exiting` status) but is never crashed or restarted again.
fn retire_exited(cluster: &Cluster, churn: &mut Churn) {
    let exited: Vec<usize> = churn
        .leaving
        .iter()
        .copied()
        .filter(|&i| cluster.node(i).is_some_and(|n| n.has_exited()))
        .collect();
    for i in exited {
        churn.leaving.retain(|&x| x != i);
        churn.gone.push(i);
    }
}

/// Join a node, ask one to leave, or wipe a node's disk (§4.7, §4.8).
fn change_membership(
    buffered_writes: bool,
    corrupt_records: bool,
    cluster: &mut Cluster,
    rng: &mut Rng,
    churn: &mut Churn,
    workload: &mut Workload,
    history: &mut History,
) -> String {
    let n = cluster.len();
    let members: Vec<usize> = (0..n)
        .filter(|i| !churn.gone.contains(i) && !churn.leaving.contains(i))
        .collect();
    let roll = rng.below(4);
    let crashed: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| !cluster.is_up(i))
        .collect();
    // At most one permanent loss per run (a wiped disk or a removed node): with W=2, two
    // such losses can take both durable copies of a write, which no replication survives.
    let losses = churn.wipes + churn.removed;
    if roll == 3 && !crashed.is_empty() && members.len() > 3 && losses == 0 && !buffered_writes {
        // An operator removes a crashed node for good: it never comes back, its partitions
        // are reassigned, and hints held for it must still reach the new primaries.
        churn.removed += 1;
        let i = crashed[rng.below(crashed.len() as u64) as usize];
        let id = cluster.id(i).clone();
        let knows = |x: usize| {
            cluster
                .node(x)
                .is_some_and(|n| n.ring().is_some() && n.membership().get(&id).is_some())
        };
        let Some(&via) = members.iter().find(|&&x| x != i && knows(x)) else {
            return "no node up to remove through".into();
        };
        churn.gone.push(i);
        churn.removals.push(i);
        let node = cluster.id(i).clone();
        cluster.submit_admin(via, AdminRequest::Remove { node });
        format!("{} removed through {}", cluster.id(i), cluster.id(via))
    } else if roll == 0 && churn.joins < 2 {
        // A new node is configured with up to three distinct seeds that are up (a seed that
        // is gone for good could never introduce it).
        let mut up: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| cluster.is_up(i))
            .collect();
        if up.is_empty() {
            return "no seed up to join through".into();
        }
        churn.joins += 1;
        let mut seeds = Vec::new();
        while seeds.len() < 3 && !up.is_empty() {
            seeds.push(up.swap_remove(rng.below(up.len() as u64) as usize));
        }
        let name = format!("j{}", churn.joins);
        let capacity = 1 + rng.below(2) as u32;
        cluster.join_node(&name, capacity, &seeds);
        let names: Vec<String> = seeds.iter().map(|&s| cluster.id(s).to_string()).collect();
        format!("join {name} through {}", names.join(", "))
    } else if roll == 1 && members.len() > 3 && churn.leaving.is_empty() {
        let up: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| cluster.is_up(i))
            .collect();
        let Some(&i) = up.get(rng.below(up.len().max(1) as u64) as usize) else {
            return "no node up to leave".into();
        };
        churn.leaving.push(i);
        cluster.submit_admin(i, AdminRequest::Leave);
        format!("{} leaves", cluster.id(i))
    } else if losses == 0 && !buffered_writes && corrupt_records {
        // Damaged records instead of a lost disk (the same one-loss budget): the node
        // crashes, up to three of its stored records get a flipped byte, and it restarts;
        // it must report them, never serve them, and get the keys back from the others.
        churn.wipes += 1;
        let i = members[rng.below(members.len() as u64) as usize];
        let lost = cluster.crash(i, false);
        workload.on_lost(history, &lost, cluster.now());
        let ids = cluster.store(i).record_ids();
        let mut damaged = 0;
        for _ in 0..3 {
            if ids.is_empty() {
                break;
            }
            let id = &ids[rng.below(ids.len() as u64) as usize];
            let at = rng.below(1 << 16) as usize;
            let mask = 1 << rng.below(8);
            damaged += cluster.corrupt_record(i, id, at, mask) as usize;
        }
        cluster.restart(i);
        format!("{} restarts with {damaged} damaged records", cluster.id(i))
    } else if losses == 0 && !buffered_writes {
        // One disk per run: with W=2 durable stores, a second wipe could take the last
        // copy, which no replication scheme survives. Buffered writes have only one
        // durable copy, so they never meet a wipe.
        churn.wipes += 1;
        let i = members[rng.below(members.len() as u64) as usize];
        let lost = cluster.wipe_disk(i);
        workload.on_lost(history, &lost, cluster.now());
        format!("{} loses its whole disk", cluster.id(i))
    } else {
        "no membership change".into()
    }
}

fn inject_fault(
    cluster: &mut Cluster,
    rng: &mut Rng,
    churn: &Churn,
    workload: &mut Workload,
    history: &mut History,
) -> String {
    let n = cluster.len();
    let down: Vec<usize> = (0..n)
        .filter(|&i| !cluster.is_up(i) && !churn.gone.contains(&i))
        .collect();
    let roll = rng.below(100);
    if roll < 25 && down.len() < n / 2 + 1 {
        let i = rng.below(n as u64) as usize;
        if churn.gone.contains(&i) {
            return "no crash".into();
        }
        let lose = rng.chance(0.5);
        let lost = cluster.crash(i, lose);
        workload.on_lost(history, &lost, cluster.now());
        format!(
            "crash {}{}",
            cluster.id(i),
            if lose { " losing unpersisted" } else { "" }
        )
    } else if roll < 50 && !down.is_empty() {
        let i = down[rng.below(down.len() as u64) as usize];
        cluster.restart(i);
        format!("restart {}", cluster.id(i))
    } else if roll < 62 {
        let mut group: Vec<usize> = (0..n).filter(|_| rng.chance(0.5)).collect();
        if group.is_empty() {
            group.push(0);
        }
        cluster.partition(&group);
        format!("partition {group:?}")
    } else if roll < 77 {
        cluster.heal();
        "heal".to_string()
    } else if roll < 90 {
        cluster.net.loss = [0.0, 0.01, 0.05, 0.2][rng.below(4) as usize];
        format!("loss {}", cluster.net.loss)
    } else {
        cluster.net.duplicate = [0.0, 0.02, 0.1][rng.below(3) as usize];
        format!("duplicate {}", cluster.net.duplicate)
    }
}

/// The kind of a fault log line, for the report's counts.
fn fault_kind(what: &str) -> String {
    const KINDS: [(&str, &str); 19] = [
        ("crash", "crash"),
        ("restart", "restart"),
        ("partition", "partition"),
        ("heal", "heal"),
        ("loss", "loss"),
        ("duplicate", "duplicate"),
        ("join", "join"),
        ("stall", "stall"),
        ("reload storm", "reload-storm"),
        ("reload", "reload"),
        ("cut", "one-way-cut"),
        ("vanish", "vanish"),
        ("arrive", "arrival"),
        ("burst", "burst"),
        ("slow disk", "slow-disk"),
        ("persist_fail", "persist-fail-rate"),
        ("remove", "removal"),
        ("no ", "none"),
        ("quiet", "quiet-window"),
    ];
    for (prefix, kind) in KINDS {
        if what.starts_with(prefix) {
            return kind.to_string();
        }
    }
    if what.contains(" leaves") {
        "leave".into()
    } else if what.contains(" removed") {
        "removal".into()
    } else if what.contains("disk") || what.contains("damaged") {
        "disk-loss".into()
    } else {
        "other".into()
    }
}

/// Advance the reload storms: close the node (a reload loses nothing persisted; a third of
/// the closes also lose what was not), reopen it a few ms later.
fn run_storms(
    fast: bool,
    cluster: &mut Cluster,
    frng: &mut Rng,
    storms: &mut Vec<Storm>,
    workload: &mut Workload,
    history: &mut History,
    faults: &mut Vec<String>,
) {
    let now = cluster.now();
    for s in storms.iter_mut() {
        if s.next_at > now {
            continue;
        }
        if cluster.is_up(s.node) {
            let lose = frng.chance(0.3);
            let lost = cluster.crash(s.node, lose);
            workload.on_lost(history, &lost, now);
            s.next_at = now + frng.range(5, 30);
        } else {
            cluster.restart(s.node);
            s.left = s.left.saturating_sub(1);
            s.next_at = now
                + if fast {
                    frng.range(10, 60)
                } else {
                    frng.range(1_500, 3_000)
                };
            faults.push(format!("{now} ms: reload {}", cluster.id(s.node)));
        }
    }
    storms.retain(|s| s.left > 0 || !cluster.is_up(s.node));
}

/// Remove a vanished node through a live member that knows it (the membership lease of
/// defect 8, played by an operator until the core has one).
fn remove_vanished(cluster: &mut Cluster, churn: &Churn, i: usize) -> String {
    let id = cluster.id(i).clone();
    let via = (0..cluster.len()).find(|&x| {
        x != i
            && !churn.gone.contains(&x)
            && !churn.leaving.contains(&x)
            && cluster
                .node(x)
                .is_some_and(|n| n.ring().is_some() && n.membership().get(&id).is_some())
    });
    match via {
        Some(via) => {
            cluster.submit_admin(via, AdminRequest::Remove { node: id.clone() });
            format!("remove vanished {id} through {}", cluster.id(via))
        }
        None => format!("no node up to remove vanished {id} through"),
    }
}

/// One fault of a browser tab's reality, drawn among the enabled families.
#[allow(clippy::too_many_arguments)]
fn inject_tab_fault(
    tf: Faults,
    storms_on: bool,
    turnover_on: bool,
    cluster: &mut Cluster,
    frng: &mut Rng,
    churn: &mut Churn,
    storms: &mut Vec<Storm>,
    workload: &mut Workload,
    history: &mut History,
) -> String {
    let n = cluster.len();
    let members: Vec<usize> = (0..n)
        .filter(|i| !churn.gone.contains(i) && !churn.leaving.contains(i))
        .collect();
    let up: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| cluster.is_up(i))
        .collect();
    let roll = frng.below(100);
    if roll < 25 && tf.stalls && !up.is_empty() {
        // A throttled background tab: 0.1-5 s without handling anything.
        let i = up[frng.below(up.len() as u64) as usize];
        let ms = frng.range(100, 5_000);
        cluster.stall(i, ms);
        format!("stall {} for {ms} ms", cluster.id(i))
    } else if roll < 40 && storms_on && storms.is_empty() && !up.is_empty() {
        let i = up[frng.below(up.len() as u64) as usize];
        let times = frng.range(20, 300) as u32;
        storms.push(Storm {
            node: i,
            left: times,
            next_at: cluster.now(),
        });
        format!("reload storm of {}: {times} reloads", cluster.id(i))
    } else if roll < 55 && tf.asymmetric && n >= 2 {
        let a = frng.below(n as u64) as usize;
        let b = (a + 1 + frng.below(n as u64 - 1) as usize) % n;
        cluster.cut_link(a, b);
        format!("cut {} -> {} one way", cluster.id(a), cluster.id(b))
    } else if roll < 75 && turnover_on {
        turnover(cluster, frng, churn, &members, &up, workload, history)
    } else if roll < 90 && tf.bursts {
        let count = frng.range(100, 500) as usize;
        workload.burst(cluster, history, count);
        format!("burst of {count} requests")
    } else {
        "no tab fault".into()
    }
}

/// Membership turnover: a node vanishes for good (removed a few seconds later), or a new
/// node arrives. One vanished node at a time, 15 s after the last removal (so in practice
/// one per 20 s run), so that the others repopulate its keys first: a tab that vanishes
/// takes its disk along, and two vanishes 5-9 s apart lost acknowledged W=2 writes whose
/// repair had not finished (seeds 9056, 16328 before this rule).
fn turnover(
    cluster: &mut Cluster,
    frng: &mut Rng,
    churn: &mut Churn,
    members: &[usize],
    up: &[usize],
    workload: &mut Workload,
    history: &mut History,
) -> String {
    // Never after another permanent loss (a wiped disk, an operator's removal).
    let can_vanish = churn.vanished.is_none()
        && churn.wipes == 0
        && churn.removed == churn.vanished_all.len()
        && churn.leaving.is_empty()
        && (churn.vanished_all.is_empty() || cluster.now() >= churn.last_removal + 15_000)
        && up.len() > 3
        && members.len() > 3;
    if frng.chance(0.5) && can_vanish {
        let i = up[frng.below(up.len() as u64) as usize];
        let lost = cluster.crash(i, false);
        workload.on_lost(history, &lost, cluster.now());
        churn.gone.push(i);
        churn.removed += 1;
        let wait = if churn.lease {
            SIM_MEMBER_TTL_MS + 5_000
        } else {
            frng.range(1_000, 4_000)
        };
        churn.vanished = Some((i, cluster.now() + wait));
        churn.vanished_all.push(i);
        churn.removals.push(i);
        format!("vanish {} (never returns)", cluster.id(i))
    } else if churn.arrivals < 12 && !up.is_empty() {
        churn.arrivals += 1;
        let mut pool = up.to_vec();
        let mut seeds = Vec::new();
        while seeds.len() < 3 && !pool.is_empty() {
            seeds.push(pool.swap_remove(frng.below(pool.len() as u64) as usize));
        }
        let name = format!("t{}", churn.arrivals);
        cluster.join_node(&name, 1, &seeds);
        format!("arrive {name}")
    } else {
        "no turnover".into()
    }
}

/// A removal sent through a node that then stalled and crashed may never have happened, and
/// a node may learn of a vanished arrival only late: ask again for every vanished node that
/// some live node still holds as a member.
fn confirm_removals(cluster: &mut Cluster, churn: &Churn, faults: &mut Vec<String>) {
    for &i in &churn.removals {
        if churn.lease && churn.vanished_all.contains(&i) {
            continue; // the lease removes it (checked at the end: `unremoved_vanished`)
        }
        let id = cluster.id(i).clone();
        let removed = (0..cluster.len()).filter(|&x| x != i).all(|x| {
            cluster.node(x).is_none_or(|n| {
                n.membership()
                    .get(&id)
                    .is_none_or(|m| matches!(m.status, Status::Down | Status::Exiting))
            })
        });
        if !removed {
            let what = remove_vanished(cluster, churn, i);
            faults.push(format!("{} ms: {what} (again)", cluster.now()));
        }
    }
}

/// With the membership lease on: every vanished node must have been removed by the core,
/// in the view of every live node, by the end of the liveness phase.
fn unremoved_vanished(cluster: &Cluster, churn: &Churn) -> Vec<Violation> {
    let mut out = Vec::new();
    for &i in &churn.vanished_all {
        let id = cluster.id(i);
        for x in (0..cluster.len()).filter(|&x| x != i && cluster.is_up(x)) {
            let still = cluster.node(x).is_some_and(|n| {
                !n.has_exited()
                    && n.membership()
                        .get(id)
                        .is_some_and(|m| !matches!(m.status, Status::Down | Status::Exiting))
            });
            if still {
                out.push(Violation(format!(
                    "vanished {id} is still a member at {} after the liveness phase (lease)",
                    cluster.id(x)
                )));
                break;
            }
        }
    }
    out
}

/// The ring every live node acts on (`Some(hash)`; `Some(None)` before any ring), or
/// `None` while they disagree.
fn live_ring(cluster: &Cluster, churn: &Churn) -> Option<Option<u64>> {
    let mut rings = (0..cluster.len())
        .filter(|i| !churn.gone.contains(i) && cluster.is_up(*i))
        .filter_map(|i| cluster.node(i))
        .filter(|n| !n.has_exited())
        .map(|n| n.membership().ring_state().map(|r| r.hash()));
    let first = rings.next()?;
    rings.all(|r| r == first).then_some(first)
}
