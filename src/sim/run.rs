//! One seeded simulation run: the seed chooses the cluster size, the workload, the network
//! and the fault schedule. A **safety phase** runs the workload under faults; a **liveness
//! phase** stops the faults (heal, restart every node, clean network), lets hinted handoff
//! run, reads every written key once (read repair), and then the invariants are checked.

use crate::core::rng::Rng;
use crate::core::{AdminRequest, ClientRequest, Config, RequestOptions};
use crate::sim::workload::{Workload, WorkloadSpec};
use crate::sim::{Cluster, History, NetConfig, TraceEvent, Violation};

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Inject faults during the safety phase (on by default).
    pub faults: bool,
    /// Length of the safety phase in virtual ms.
    pub safety_ms: u64,
    /// Keep the full trace of events in the report.
    pub trace: bool,
}

impl SimOptions {
    pub fn new(seed: u64) -> Self {
        SimOptions {
            seed,
            faults: true,
            safety_ms: 20_000,
            trace: false,
        }
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
            "cargo run --release --bin ringlet-sim -- --seed {}",
            self.seed
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
    let config = Config {
        q: 64,
        read_repair,
        max_siblings,
        warn_siblings,
        anti_entropy_interval_ms: 100,
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
    let spec = WorkloadSpec {
        clients: 2 + rng.below(5) as usize,
        ops_per_client: 1_000,
        hot_keys: 1 + rng.below(4) as usize,
        cold_keys: 5 + rng.below(40) as usize,
        hot_share: 0.5,
        think_ms: rng.range(5, 200),
        buffered_share: if rng.chance(0.5) { 0.3 } else { 0.0 },
    };
    let buffered = spec.buffered_share > 0.0;
    let mut workload = Workload::new(spec, rng.next_u64(), cluster.now());
    let mut history = History::new();
    let mut faults = Vec::new();
    let mut churn = Churn::default();
    let start = cluster.now();
    let safety_end = start + opts.safety_ms;
    let mut next_fault = start + rng.range(200, 2_000);

    // Safety phase: the workload under faults.
    while cluster.now() < safety_end {
        let mut t = safety_end;
        if let Some(w) = workload.next_wake() {
            t = t.min(w.max(cluster.now()));
        }
        if opts.faults {
            t = t.min(next_fault);
        }
        cluster.run_until_reply(t);
        for c in cluster.take_completed() {
            workload.on_reply(&mut cluster, &mut history, c.id, c.at, c.result);
        }
        retire_exited(&cluster, &mut churn);
        if opts.faults && cluster.now() >= next_fault {
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
        workload.issue_due(&mut cluster, &mut history);
    }

    // Liveness phase: faults stop; every node is up, the network is clean.
    workload.stop();
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
    let settle = cluster.now() + 20_000;
    while cluster.now() < settle {
        cluster.run_until_reply(settle);
        for c in cluster.take_completed() {
            workload.on_reply(&mut cluster, &mut history, c.id, c.at, c.result);
        }
        retire_exited(&cluster, &mut churn);
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
    let violations = history.check_final(&cluster);
    RunReport {
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
