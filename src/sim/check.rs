//! The invariants checked at the end of every simulated run, and the history they are
//! checked against.
//!
//! 1. No acknowledged write is lost: after the liveness phase every acknowledged put or
//!    delete is present at the key's replicas, or causally covered by a version whose writer
//!    had seen it.
//! 2. Causally ordered writes never become siblings: a write whose context covered an earlier
//!    one never stands beside it; every get returns an antichain.
//! 3. Concurrent writes are never silently dropped (follows from 1: a concurrent write is
//!    covered by nothing but a writer that saw it).
//! 4. All replicas of each key converge to the same sibling set, and no hint is left.
//! 5. Every request ends, successfully or with a typed error, within its timeout.
//!
//! And the checks of issue 15, each switchable (`Checks`, `src/sim/switches.rs`):
//! durability at the moment of the ack (>= W distinct intended replicas), no put applied
//! twice, counters within what was acknowledged and what is ambiguous, a put's clock is
//! exactly its context plus its dot, read-your-writes in fault-free windows, and a bound on
//! every key's context at the end.

use crate::core::resolve::{counter_value, merge_counter_states};
use crate::core::{Bytes, Dot, NodeId, ReqId, Ring, Siblings, Status, Value, VersionVector};
use crate::sim::switches::Checks;
use crate::sim::Cluster;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The class of a key, from its prefix (`ctr/`, `set/`, `lww/`, else plain siblings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Plain,
    Counter,
    Set,
    Lww,
}

impl WriteKind {
    pub fn of(key: &[u8]) -> WriteKind {
        if key.starts_with(b"ctr/") {
            WriteKind::Counter
        } else if key.starts_with(b"set/") {
            WriteKind::Set
        } else if key.starts_with(b"lww/") {
            WriteKind::Lww
        } else {
            WriteKind::Plain
        }
    }
}

/// What the clients know of one counter key.
#[derive(Clone, Debug, Default)]
struct CounterBook {
    acked: i64,
    ambiguous: i64,
    /// Values observed by acknowledged resets (deletes of the key).
    reset_sum: i64,
    reset_max: i64,
    /// A reset whose outcome is unknown: the key's value is then not checked.
    reset_ambiguous: bool,
}

/// The node id behind a dot actor (`n1`, `n1@3`, `n1@3.2`, `n1~5`).
pub fn actor_node(actor: &NodeId) -> String {
    let s = actor.to_string();
    let end = s.find(['@', '~']).unwrap_or(s.len());
    s[..end].to_string()
}

/// An actor name that lasts across a node's runs: `id`, `id@i<n>` (after a data loss),
/// and either one's fallback actor `…@f`.
fn is_lasting_actor(actor: &str) -> bool {
    let base = actor.strip_suffix("@f").unwrap_or(actor);
    if base.contains('~') {
        return false;
    }
    match base.split_once('@') {
        None => true,
        Some((_, inc)) => inc
            .strip_prefix('i')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug)]
struct RequestRecord {
    start: u64,
    timeout: u64,
    end: Option<u64>,
    lost: bool,
    /// The node it was submitted to.
    node: Option<usize>,
}

#[derive(Clone, Debug)]
struct AckedWrite {
    key: Bytes,
    dot: Dot,
    past: VersionVector,
    /// When the client got the acknowledgement.
    at: u64,
}

#[derive(Default, Debug)]
pub struct History {
    requests: BTreeMap<ReqId, RequestRecord>,
    acked: Vec<AckedWrite>,
    written: BTreeSet<Bytes>,
    violations: Vec<Violation>,
    pub gets_ok: u64,
    pub gets_with_siblings: u64,
    pub writes_ok: u64,
    pub failed: u64,
    pub checks: Checks,
    counters: BTreeMap<Bytes, CounterBook>,
    /// Acknowledged puts checked for durability at their ack, and ambiguous outcomes.
    pub acks_checked: u64,
    pub ambiguous: u64,
    pub ryw_checked: u64,
    /// Gets exempt from read-your-writes because they were flagged `partial`.
    pub ryw_partial: u64,
}

impl History {
    pub fn new() -> Self {
        History {
            checks: Checks::defaults(),
            ..History::default()
        }
    }

    pub fn with_checks(checks: Checks) -> Self {
        History {
            checks,
            ..History::default()
        }
    }

    fn violation(&mut self, v: String) {
        self.violations.push(Violation(v));
    }

    /// A write was acknowledged: check, at this very moment, that it is durable on `w`
    /// distinct intended replicas (object on a primary of the coordinator's ring, or a hint
    /// naming that primary; never an exited node), and that its clock is exactly its
    /// context plus its dot.
    #[allow(clippy::too_many_arguments)]
    pub fn write_acked_at(
        &mut self,
        cluster: &Cluster,
        key: &Bytes,
        dot: &Dot,
        past: &VersionVector,
        clock: &VersionVector,
        kind: WriteKind,
        w: usize,
        id: ReqId,
    ) {
        if self.checks.causality && kind == WriteKind::Plain {
            let mut want = past.clone();
            want.raise(&dot.node, dot.counter);
            if &want != clock {
                self.violation(format!(
                    "put {dot} of {key:?} with context {past:?} came back with clock {clock:?}: it does not supersede exactly what its context covers"
                ));
            }
        }
        if !self.checks.ack_durable {
            return;
        }
        self.acks_checked += 1;
        let since = self.requests.get(&id).map_or(cluster.now(), |r| r.start);
        // The ring the put was coordinated with: its coordinator's when it made the dot (the
        // one before that input, or the one that input installed: which came first inside
        // the input is not visible here). A ring installed while the put was in flight does
        // not move the slots it was sent to (the new ring's transfers move the copies
        // afterwards). Should the dot's birth be unknown, any ring the dot's node held since
        // the request started will do.
        let rings: Vec<&Ring> = match cluster.coordination_ring(dot) {
            Some((_, rings)) => rings,
            None => {
                let Some(coordinator) = cluster.index_of(&NodeId::new(&actor_node(&dot.node)))
                else {
                    return;
                };
                cluster.rings_between(coordinator, since, cluster.now())
            }
        };
        let mut best: Option<(BTreeSet<NodeId>, Vec<NodeId>)> = None;
        for ring in rings.into_iter().rev() {
            let primaries: Vec<NodeId> = ring
                .preflist_for_key(key)
                .into_iter()
                .take(cluster.config().n)
                .collect();
            let slots = durable_slots(cluster, &primaries, key, dot, since);
            if best.as_ref().is_none_or(|(b, _)| slots.len() > b.len()) {
                best = Some((slots, primaries));
            }
        }
        let Some((slots, primaries)) = best else {
            self.violation(format!(
                "put {dot} of {key:?} acknowledged at {} ms by a coordinator that had no ring",
                cluster.now()
            ));
            return;
        };
        if slots.len() < w {
            let names: Vec<String> = slots.iter().map(|s| s.to_string()).collect();
            self.violation(format!(
                "put {dot} of {key:?} acknowledged at {} ms with W={w} while only {} intended replicas hold it durably ({:?} of primaries {:?}; on disk: {})",
                cluster.now(),
                slots.len(),
                names,
                primaries.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                whereabouts(cluster, key, dot)
            ));
        }
    }

    /// A counter update or reset ended: acknowledged (`ok`) or ambiguous.
    pub fn counter_done(&mut self, key: &Bytes, add: i64, reset: Option<i64>, ok: bool) {
        let b = self.counters.entry(key.clone()).or_default();
        match (reset, ok) {
            (Some(v), true) => {
                b.reset_sum += v;
                b.reset_max = b.reset_max.max(v);
            }
            (Some(_), false) => b.reset_ambiguous = true,
            (None, true) => b.acked += add,
            (None, false) => {
                b.ambiguous += add;
                self.ambiguous += 1;
            }
        }
    }

    /// A get in the same fault-free window as this client's last put of the key (with
    /// R + W > N) must see that put. Unless the get said it is `partial`: it reached R only
    /// with answers of non-authorities (issue 14 item 5), so the R + W > N overlap is not
    /// promised, and the flag is what tells the client so; such gets are counted apart.
    pub fn read_your_write(&mut self, key: &Bytes, dot: &Dot, versions: &Siblings, partial: bool) {
        if !self.checks.read_your_writes {
            return;
        }
        if partial {
            self.ryw_partial += 1;
            return;
        }
        self.ryw_checked += 1;
        let seen = versions
            .versions()
            .iter()
            .any(|v| v.dot == *dot || v.past.covers(dot));
        if !seen {
            self.violation(format!(
                "read-your-writes: a get of {key:?} in a fault-free window missed the client's acknowledged put {dot} (got {:?})",
                dots(versions)
            ));
        }
    }

    pub fn started(&mut self, id: ReqId, at: u64, timeout: u64, key: &Bytes, write: bool) {
        self.requests.insert(
            id,
            RequestRecord {
                start: at,
                timeout,
                end: None,
                lost: false,
                node: None,
            },
        );
        if write {
            self.written.insert(key.clone());
        }
    }

    /// Request `id` went to node `node`.
    pub fn at_node(&mut self, id: ReqId, node: usize) {
        if let Some(r) = self.requests.get_mut(&id) {
            r.node = Some(node);
        }
    }

    /// A request ended; its node's event-loop stalls in the meantime excuse that much
    /// lateness (its timers could not fire), and the `sloppy_retry_ms` a node listens after
    /// a stall before it judges a deadline (`Node::deaf_until`).
    pub fn ended_in(&mut self, cluster: &Cluster, id: ReqId, at: u64, ok: bool) {
        let slack = self
            .requests
            .get(&id)
            .and_then(|r| {
                let listen = cluster.config().sloppy_retry_ms;
                Some(cluster.stalled_and_listening(r.node?, r.start, at, listen))
            })
            .unwrap_or(0);
        self.ended_with(id, at, ok, slack);
    }

    pub fn ended(&mut self, id: ReqId, at: u64, ok: bool) {
        self.ended_with(id, at, ok, 0);
    }

    fn ended_with(&mut self, id: ReqId, at: u64, ok: bool, slack: u64) {
        if let Some(r) = self.requests.get_mut(&id) {
            r.end = Some(at);
            if at > r.start + r.timeout + slack {
                self.violations.push(Violation(format!(
                    "request {id} ended after {} ms, past its {} ms timeout",
                    at - r.start,
                    r.timeout
                )));
            }
        }
        if !ok {
            self.failed += 1;
        }
    }

    /// The node holding these requests crashed: their clients never hear back.
    pub fn lost(&mut self, ids: &[ReqId]) {
        for id in ids {
            if let Some(r) = self.requests.get_mut(id) {
                r.lost = true;
            }
        }
    }

    pub fn write_acked(&mut self, key: &Bytes, dot: Dot, past: VersionVector, at: u64) {
        self.writes_ok += 1;
        self.acked.push(AckedWrite {
            key: key.clone(),
            dot,
            past,
            at,
        });
    }

    /// Check what a get returned: no version may be an ancestor of another.
    pub fn observed(&mut self, key: &Bytes, versions: &Siblings) {
        self.gets_ok += 1;
        if versions.len() > 1 {
            self.gets_with_siblings += 1;
        }
        if self.checks.no_duplicates {
            if let Some(d) = duplicate(key, versions) {
                self.violation(format!("get {d}"));
            }
        }
        let vs = versions.versions();
        for a in vs {
            for b in vs {
                if a.dot != b.dot && b.past.covers(&a.dot) {
                    self.violations.push(Violation(format!(
                        "get of {key:?} returned {} beside its descendant {}",
                        a.dot, b.dot
                    )));
                }
            }
        }
    }

    pub fn acked_writes(&self) -> usize {
        self.acked.len()
    }

    pub fn keys_written(&self) -> impl Iterator<Item = &Bytes> {
        self.written.iter()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The end-of-run checks, once the liveness phase is over.
    pub fn check_final(&mut self, cluster: &Cluster) -> Vec<Violation> {
        let mut v = std::mem::take(&mut self.violations);
        for (id, r) in &self.requests {
            if r.end.is_none() && !r.lost {
                v.push(Violation(format!("request {id} never ended")));
            }
        }
        // Membership has converged: every live member holds the same view.
        let live: Vec<usize> = (0..cluster.len())
            .filter(|&i| cluster.node(i).is_some_and(|n| !n.has_exited()))
            .collect();
        let Some(&first_live) = live.first() else {
            v.push(Violation("no node is up at the end".into()));
            return v;
        };
        let view = cluster
            .node(first_live)
            .map(|n| n.membership().clone())
            .unwrap_or_default();
        let Some(ring) = view.ring().cloned() else {
            v.push(Violation("no ring at the end".into()));
            return v;
        };
        for &i in &live {
            if let Some(n) = cluster.node(i) {
                if n.membership().summary() != view.summary() {
                    v.push(Violation(format!(
                        "membership views differ: {} and {}",
                        cluster.id(first_live),
                        cluster.id(i)
                    )));
                }
            }
        }
        for i in 0..cluster.len() {
            let status = view.get(cluster.id(i)).map(|m| m.status);
            let gone = matches!(status, Some(Status::Exiting | Status::Down));
            match cluster.node(i) {
                // A node no live member has ever heard of (an arrival that vanished before
                // its join spread) is no member: its being down is no violation.
                None if !gone && status.is_some() => {
                    v.push(Violation(format!("{} is down at the end", cluster.id(i))))
                }
                None => {}
                Some(n) => {
                    if let Some(((to, key), _)) = n.hints().next() {
                        v.push(Violation(format!(
                            "{} still holds a hint of {key:?} for {to}",
                            cluster.id(i)
                        )));
                    }
                    let n_val = cluster.config().n;
                    for (key, _) in n.objects() {
                        let primaries = ring.preflist_for_key(key);
                        if !primaries.iter().take(n_val).any(|p| p == n.id()) {
                            v.push(Violation(format!(
                                "{} still holds {key:?}, which the ring places on {:?} ({} ring)",
                                cluster.id(i),
                                &primaries[..n_val.min(primaries.len())],
                                if n.ring() == Some(&ring) {
                                    "same"
                                } else {
                                    "a different"
                                }
                            )));
                            break;
                        }
                    }
                }
            }
        }
        let n = cluster.config().n;
        let mut final_state: BTreeMap<Bytes, Siblings> = BTreeMap::new();
        for key in &self.written {
            let primaries: Vec<NodeId> = ring.preflist_for_key(key).into_iter().take(n).collect();
            let mut first: Option<(NodeId, Siblings)> = None;
            let mut merged = Siblings::new();
            for p in &primaries {
                let Some(node) = cluster.index_of(p).and_then(|i| cluster.node(i)) else {
                    continue;
                };
                let held = node.local_versions(key).cloned().unwrap_or_default();
                merged.sync(&held);
                match &first {
                    None => first = Some((p.clone(), held)),
                    Some((q, s)) if s != &held => v.push(Violation(format!(
                        "replicas of {key:?} diverge: {q} holds {:?}, {p} holds {:?}",
                        dots(s),
                        dots(&held)
                    ))),
                    Some(_) => {}
                }
            }
            if traced_key(key) {
                for x in merged.versions() {
                    // A counter's state decoded (per-actor totals), else the value as is.
                    let counter = match &x.value {
                        Value::Data(b) => crate::core::resolve::decode_counter_state(b.as_slice())
                            .ok()
                            .map(|s| format!("{s:?}")),
                        Value::Tombstone => None,
                    };
                    eprintln!(
                        "key trace: end holds {} past {:?} value {}",
                        x.dot,
                        x.past,
                        counter.unwrap_or_else(|| format!("{:?}", x.value))
                    );
                }
            }
            final_state.insert(key.clone(), merged);
        }
        for (key, state) in &final_state {
            if self.checks.no_duplicates {
                if let Some(d) = duplicate(key, state) {
                    v.push(Violation(format!("at the end, {d}")));
                }
            }
            if self.checks.context_size {
                let ctx = state.context();
                // A node writes as its id (or, after it lost data, a new incarnation
                // `id@i<n>`), and outside a key's replicas as that actor's `@f`: never a
                // new actor per run, ring or restart. So every entry is one of those names,
                // and there are at most two per node and data-loss incarnation.
                let per_run: Vec<String> = ctx
                    .iter()
                    .map(|(a, _)| a.to_string())
                    .filter(|a| !is_lasting_actor(a))
                    .collect();
                let incarnations: BTreeSet<String> = ctx
                    .iter()
                    .map(|(a, _)| a.to_string().trim_end_matches("@f").to_string())
                    .collect();
                if !per_run.is_empty() || ctx.len() > 2 * incarnations.len() {
                    v.push(Violation(format!(
                        "the context of {key:?} has {} entries for {} node incarnations (bound: two each, no per-run actor; per-run: {per_run:?}): {:?}",
                        ctx.len(),
                        incarnations.len(),
                        ctx.iter().map(|(a, c)| format!("{a}:{c}")).collect::<Vec<_>>()
                    )));
                }
            }
        }
        if self.checks.counters {
            for (key, b) in &self.counters {
                if b.reset_ambiguous {
                    continue;
                }
                let Some(state) = final_state.get(key) else {
                    continue;
                };
                let value = match merge_counter_states(state) {
                    Ok(s) => counter_value(&s),
                    Err(e) => {
                        v.push(Violation(format!("counter {key:?} unreadable: {e:?}")));
                        continue;
                    }
                };
                // Increments are positive: the value counts every acknowledged one, maybe
                // some ambiguous ones, minus what the acknowledged resets observed (at
                // least the largest such value, at most their sum).
                let low = b.acked - b.reset_sum;
                let high = b.acked + b.ambiguous - b.reset_max;
                if value < low || value > high {
                    v.push(Violation(format!(
                        "counter {key:?} reads {value}, outside [{low}, {high}] ({} acknowledged, {} ambiguous, resets observed {} in all, {} at most)",
                        b.acked, b.ambiguous, b.reset_sum, b.reset_max
                    )));
                }
            }
        }
        for w in &self.acked {
            let Some(state) = final_state.get(&w.key) else {
                continue;
            };
            let kept = state
                .versions()
                .iter()
                .any(|x| x.dot == w.dot || x.past.covers(&w.dot));
            if !kept {
                v.push(Violation(format!(
                    "acknowledged write {} of {:?} (acknowledged at {} ms) was lost (replicas hold {:?})",
                    w.dot,
                    w.key,
                    w.at,
                    dots(state)
                )));
            }
            for x in state.versions() {
                if w.past.covers(&x.dot) {
                    v.push(Violation(format!(
                        "{} of {:?} survives beside its descendant {}",
                        x.dot, w.key, w.dot
                    )));
                }
            }
        }
        v
    }
}

/// The intended replicas (of `primaries`) that durably hold `dot` of `key`: an object on
/// the primary itself, or a hint naming it on any node; never an exited node. A disk lost
/// since `since` (a wipe, a corrupted record) counts with what it held just before: a
/// replica that acknowledged durably and then lost its disk did hold the write when it
/// said so, and no coordinator can know better. So does a copy its holder has deleted
/// since: an object handed on to the key's new primaries (§4.9: a transfer deletes its copy
/// only once every new primary acknowledged a durable store), a hint delivered to its node
/// (deleted once that node acknowledged a durable store), or a hint adopted as its holder's
/// own replica because its node left (written as an object in the same batch, then handed
/// on to the key's primaries).
fn durable_slots(
    cluster: &Cluster,
    primaries: &[NodeId],
    key: &Bytes,
    dot: &Dot,
    since: u64,
) -> BTreeSet<NodeId> {
    let holds = |s: &Siblings| {
        s.versions()
            .iter()
            .any(|v| v.dot == *dot || v.past.covers(dot))
    };
    let mut slots = BTreeSet::new();
    for i in 0..cluster.len() {
        // A node that has left counts only for what it stored before it exited: its leave
        // could complete only once every key it held was durably on the key's new
        // primaries. What it stored after (issue 15 defect 5) never counts.
        if cluster.node(i).is_some_and(|n| n.has_exited())
            && !cluster.stored_before_exit(i, key, dot)
        {
            continue;
        }
        for (hint, s) in cluster.dropped_between(i, key, since, cluster.now()) {
            let slot = hint.unwrap_or(cluster.id(i));
            if primaries.contains(slot) && holds(s) {
                slots.insert(slot.clone());
            }
        }
        let lost = cluster.disks_lost_between(i, since, cluster.now());
        for state in std::iter::once(cluster.store(i).state()).chain(lost) {
            if primaries.contains(cluster.id(i)) {
                if let Some(s) = state.objects.get(key) {
                    if holds(s) {
                        slots.insert(cluster.id(i).clone());
                    }
                }
            }
            for ((intended, k), s) in &state.hints {
                if k == key && primaries.contains(intended) && holds(s) {
                    slots.insert(intended.clone());
                }
            }
        }
    }
    // A hint for a primary that has left or was removed is adopted by its holder as its own
    // object (`adopt_orphan_hints`), possibly before the hint ever reached its disk: such an
    // object on a node outside the primaries fills the slot of one primary its holder knows
    // is gone (one slot per holder, never a slot already filled).
    for i in 0..cluster.len() {
        let id = cluster.id(i);
        if primaries.contains(id) || !cluster.store(i).state().objects.get(key).is_some_and(holds) {
            continue;
        }
        let Some(node) = cluster.node(i) else {
            continue;
        };
        if node.has_exited() {
            continue;
        }
        if let Some(p) = primaries
            .iter()
            .find(|p| !slots.contains(*p) && node.is_gone(p))
        {
            slots.insert(p.clone());
        }
    }
    slots
}

/// Every durable copy of `dot` of `key`, for a violation's report: `n1` (an object),
/// `n2 for n1` (a hint).
fn whereabouts(cluster: &Cluster, key: &Bytes, dot: &Dot) -> String {
    let holds = |s: &Siblings| {
        s.versions()
            .iter()
            .any(|v| v.dot == *dot || v.past.covers(dot))
    };
    let mut at = Vec::new();
    for i in 0..cluster.len() {
        let state = cluster.store(i).state();
        if state.objects.get(key).is_some_and(holds) {
            at.push(cluster.id(i).to_string());
        }
        for ((intended, k), s) in &state.hints {
            if k == key && holds(s) {
                at.push(format!("{} for {intended}", cluster.id(i)));
            }
        }
    }
    if at.is_empty() {
        "none".into()
    } else {
        at.join(", ")
    }
}

/// Two versions of a plain key with the same value: one put applied twice.
fn duplicate(key: &Bytes, versions: &Siblings) -> Option<String> {
    if WriteKind::of(key) != WriteKind::Plain {
        return None;
    }
    let mut seen: BTreeMap<&[u8], &Dot> = BTreeMap::new();
    for v in versions.versions() {
        if let Value::Data(b) = &v.value {
            if let Some(first) = seen.insert(&b[..], &v.dot) {
                return Some(format!(
                    "{key:?} holds the single put {:?} twice, as siblings {first} and {}",
                    String::from_utf8_lossy(b),
                    v.dot
                ));
            }
        }
    }
    None
}

/// `RINGLET_SIM_KEY=<key>`: print every acknowledged write of that key (dot, context,
/// returned clock) and the versions it ends with, to stderr (docs/simulation.md).
pub(crate) fn traced_key(key: &Bytes) -> bool {
    std::env::var("RINGLET_SIM_KEY").is_ok_and(|k| k.as_bytes() == &key[..])
}

fn dots(s: &Siblings) -> Vec<String> {
    s.versions().iter().map(|v| v.dot.to_string()).collect()
}
