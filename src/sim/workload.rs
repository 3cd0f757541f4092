//! A seeded client workload: concurrent clients issuing gets, blind puts, read-modify-writes
//! and deletes (with and without context) against hot and cold keys, counter updates and
//! counter resets (`ctr/` keys), add-wins set adds and removes (`set/`), last-writer-wins
//! puts (`lww/`), some with per-request R/W overrides; each client one request at a time,
//! through a node picked at random (as a browser tab talks to its own node). Bursts of
//! hundreds of one-shot requests can be submitted in one instant. Every written value is
//! unique, so a duplicated application shows.

use crate::core::resolve::{Op, Resolved};
use crate::core::rng::Rng;
use crate::core::{Bytes, ClientReply, ClientRequest, Context, Error, ReqId, RequestOptions};
use crate::sim::check::WriteKind;
use crate::sim::{Cluster, History};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Follow {
    Put,
    Delete,
}

#[derive(Clone, Debug)]
enum Waiting {
    Read {
        key: Bytes,
        follow: Option<Follow>,
    },
    Write {
        key: Bytes,
        context: Option<Context>,
        kind: WriteKind,
        /// The W the put asked for (1 for a buffered write).
        w: usize,
        /// Issued in a fault-free window (its fault epoch, for read-your-writes).
        strict: Option<u64>,
        /// A counter increment's amount (0 for other writes).
        add: i64,
        /// A counter reset (a delete of a counter key): the value its get observed.
        reset: Option<i64>,
    },
}

#[derive(Clone, Debug)]
struct Client {
    waiting: Option<(ReqId, Waiting)>,
    next_at: u64,
    ops_left: u32,
    seq: u64,
    /// The R of this client's last request, if it overrode the cluster's.
    last_r: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct WorkloadSpec {
    pub clients: usize,
    pub ops_per_client: u32,
    pub hot_keys: usize,
    pub cold_keys: usize,
    /// Probability that an op goes to a hot key.
    pub hot_share: f64,
    pub think_ms: u64,
    /// Share of writes asking for the §6.1 write buffer (`durable: false`).
    pub buffered_share: f64,
    /// The wider workload of issue 15: counters, sets, LWW keys, per-request R/W, deletes
    /// without context (off: the classic workload, drawn exactly as before).
    pub mixed: bool,
}

pub struct Workload {
    spec: WorkloadSpec,
    clients: Vec<Client>,
    rng: Rng,
    /// One-shot requests of bursts: id -> what they wait for.
    oneshot: BTreeMap<ReqId, Waiting>,
    bursts: u64,
    /// The fault epoch (bumped by the run loop at every fault) and whether the cluster is
    /// fault-free right now: read-your-writes is checked only within one clean epoch.
    pub epoch: u64,
    pub clean: bool,
    /// Each client's last acknowledged strict put per key: (dot, epoch).
    last_put: BTreeMap<(usize, Bytes), (crate::core::Dot, u64, usize)>,
}

impl Workload {
    pub fn new(spec: WorkloadSpec, seed: u64, start_ms: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let clients = (0..spec.clients)
            .map(|_| Client {
                waiting: None,
                next_at: start_ms + rng.below(spec.think_ms.max(1)),
                ops_left: spec.ops_per_client,
                seq: 0,
                last_r: None,
            })
            .collect();
        Workload {
            spec,
            clients,
            rng,
            oneshot: BTreeMap::new(),
            bursts: 0,
            epoch: 0,
            clean: false,
            last_put: BTreeMap::new(),
        }
    }

    /// Requests submitted in bursts so far.
    pub fn burst_requests(&self) -> u64 {
        self.bursts
    }

    /// When the next idle client wants to issue a request.
    pub fn next_wake(&self) -> Option<u64> {
        self.clients
            .iter()
            .filter(|c| c.waiting.is_none() && c.ops_left > 0)
            .map(|c| c.next_at)
            .min()
    }

    pub fn is_done(&self) -> bool {
        self.clients
            .iter()
            .all(|c| c.waiting.is_none() && c.ops_left == 0)
    }

    /// Stop issuing new operations (in-flight ones still complete).
    pub fn stop(&mut self) {
        for c in &mut self.clients {
            c.ops_left = 0;
        }
    }

    fn pick_key(&mut self) -> Bytes {
        let hot = self.rng.chance(self.spec.hot_share) || self.spec.cold_keys == 0;
        if hot {
            Bytes::from(
                format!("hot{}", self.rng.below(self.spec.hot_keys.max(1) as u64)).into_bytes(),
            )
        } else {
            Bytes::from(format!("cold{}", self.rng.below(self.spec.cold_keys as u64)).into_bytes())
        }
    }

    fn options(&mut self, cluster: &Cluster) -> RequestOptions {
        let durable = if self.rng.chance(self.spec.buffered_share) {
            Some(false)
        } else {
            None
        };
        let n = cluster.config().n as u64;
        let (r, w) = if self.spec.mixed && self.rng.chance(0.2) {
            // W >= 2: a W=1 write has one durable copy, which a lost disk or a vanished
            // node takes along (no replication survives that).
            (
                Some(1 + self.rng.below(n) as usize),
                Some(2 + self.rng.below(n.saturating_sub(1).max(1)) as usize)
                    .map(|w| w.min(n as usize)),
            )
        } else {
            (None, None)
        };
        RequestOptions {
            r,
            w,
            durable,
            timeout_ms: Some(cluster.config().request_timeout_ms),
        }
    }

    /// A key of the mixed workload's other classes, or None for a plain key.
    fn pick_class(&mut self) -> Option<(WriteKind, Bytes)> {
        if !self.spec.mixed {
            return None;
        }
        let roll = self.rng.below(100);
        let n = self.rng.below(3);
        match roll {
            0..=14 => Some((WriteKind::Counter, format!("ctr/{n}").into_bytes().into())),
            15..=24 => Some((WriteKind::Set, format!("set/{n}").into_bytes().into())),
            25..=34 => Some((WriteKind::Lww, format!("lww/{n}").into_bytes().into())),
            _ => None,
        }
    }

    fn value(&mut self, c: usize) -> Bytes {
        self.clients[c].seq += 1;
        Bytes::from(format!("c{c}-{}", self.clients[c].seq).into_bytes())
    }

    fn write_waiting(
        &self,
        cluster: &Cluster,
        key: &Bytes,
        context: Option<Context>,
        kind: WriteKind,
        options: &RequestOptions,
    ) -> Waiting {
        let cfg = cluster.config();
        let w = if options.durable == Some(false) {
            1
        } else {
            options.w.unwrap_or(cfg.w)
        };
        let strict = (kind == WriteKind::Plain && self.clean).then_some(self.epoch);
        Waiting::Write {
            key: key.clone(),
            context,
            kind,
            w,
            strict,
            add: 0,
            reset: None,
        }
    }

    /// Submit `count` one-shot requests in this instant (blind puts, gets, counter
    /// increments), each to a random node.
    pub fn burst(&mut self, cluster: &mut Cluster, history: &mut History, count: usize) {
        for _ in 0..count {
            self.bursts += 1;
            let options = self.options(cluster);
            let roll = self.rng.below(100);
            let (request, waiting) = if roll < 30 {
                let key = self.pick_key();
                (
                    ClientRequest::Get {
                        key: key.clone(),
                        options,
                    },
                    Waiting::Read { key, follow: None },
                )
            } else if roll < 45 && self.spec.mixed {
                let key: Bytes = format!("ctr/{}", self.rng.below(3)).into_bytes().into();
                let by = 1 + self.rng.below(9) as i64;
                let mut waiting =
                    self.write_waiting(cluster, &key, None, WriteKind::Counter, &options);
                set_add(&mut waiting, by);
                (
                    ClientRequest::Update {
                        key,
                        op: Op::CounterAdd(by),
                        options,
                    },
                    waiting,
                )
            } else {
                let key = self.pick_key();
                let value = Bytes::from(format!("b{}", self.bursts).into_bytes());
                let waiting = self.write_waiting(cluster, &key, None, WriteKind::Plain, &options);
                (
                    ClientRequest::Put {
                        key,
                        value,
                        context: None,
                        options,
                    },
                    waiting,
                )
            };
            let node = self.rng.below(cluster.len() as u64) as usize;
            let write = !matches!(request, ClientRequest::Get { .. });
            let key = request.key().clone();
            let timeout = request
                .options()
                .timeout_ms
                .unwrap_or(cluster.config().request_timeout_ms);
            let id = cluster.submit(node, request);
            history.started(id, cluster.now(), timeout, &key, write);
            history.at_node(id, node);
            self.oneshot.insert(id, waiting);
        }
    }

    /// Issue requests for every client that is due at the cluster's current time.
    pub fn issue_due(&mut self, cluster: &mut Cluster, history: &mut History) {
        let now = cluster.now();
        for c in 0..self.clients.len() {
            let cl = &self.clients[c];
            if cl.waiting.is_some() || cl.ops_left == 0 || cl.next_at > now {
                continue;
            }
            self.clients[c].ops_left -= 1;
            if let Some((kind, key)) = self.pick_class() {
                let options = self.options(cluster);
                let (request, waiting) = self.mixed_op(c, cluster, kind, key, options);
                self.submit(c, cluster, history, request, waiting);
                continue;
            }
            let key = self.pick_key();
            let options = self.options(cluster);
            let roll = self.rng.below(100);
            let (request, waiting) = if self.spec.mixed && roll < 3 {
                // A delete without context: a blind tombstone, concurrent with what exists.
                let waiting = self.write_waiting(cluster, &key, None, WriteKind::Plain, &options);
                (
                    ClientRequest::Delete {
                        key: key.clone(),
                        context: None,
                        options,
                    },
                    waiting,
                )
            } else if roll < 30 {
                let w = Waiting::Read {
                    key: key.clone(),
                    follow: None,
                };
                (
                    ClientRequest::Get {
                        key: key.clone(),
                        options,
                    },
                    w,
                )
            } else if roll < 55 {
                self.put(c, cluster, key.clone(), None, options)
            } else {
                let follow = if roll < 92 {
                    Follow::Put
                } else {
                    Follow::Delete
                };
                let w = Waiting::Read {
                    key: key.clone(),
                    follow: Some(follow),
                };
                (
                    ClientRequest::Get {
                        key: key.clone(),
                        options,
                    },
                    w,
                )
            };
            self.submit(c, cluster, history, request, waiting);
        }
    }

    /// An op on a counter, set or LWW key.
    fn mixed_op(
        &mut self,
        c: usize,
        cluster: &Cluster,
        kind: WriteKind,
        key: Bytes,
        options: RequestOptions,
    ) -> (ClientRequest, Waiting) {
        let roll = self.rng.below(100);
        let get = |key: Bytes, options, follow| {
            (
                ClientRequest::Get {
                    key: key.clone(),
                    options,
                },
                Waiting::Read { key, follow },
            )
        };
        match kind {
            WriteKind::Counter if roll < 10 => get(key, options, None),
            // A reset: read, then delete with that context (defect 3's scenario).
            WriteKind::Counter if roll < 15 => get(key, options, Some(Follow::Delete)),
            WriteKind::Counter => {
                let by = 1 + self.rng.below(9) as i64;
                let mut waiting = self.write_waiting(cluster, &key, None, kind, &options);
                set_add(&mut waiting, by);
                (
                    ClientRequest::Update {
                        key,
                        op: Op::CounterAdd(by),
                        options,
                    },
                    waiting,
                )
            }
            WriteKind::Set if roll < 15 => get(key, options, None),
            WriteKind::Set => {
                let element = if roll < 70 {
                    self.value(c)
                } else {
                    // Remove an element some client may have added.
                    let who = self.rng.below(self.clients.len() as u64);
                    let seq = 1 + self.rng.below(self.clients[who as usize].seq.max(1));
                    Bytes::from(format!("c{who}-{seq}").into_bytes())
                };
                let op = if roll < 70 {
                    Op::SetAdd(vec![element])
                } else {
                    Op::SetRemove(vec![element])
                };
                let waiting = self.write_waiting(cluster, &key, None, kind, &options);
                (ClientRequest::Update { key, op, options }, waiting)
            }
            _ => {
                // LWW (and plain) keys: a blind put or a read-modify-write.
                if roll < 50 {
                    let (request, mut waiting) = self.put(c, cluster, key, None, options);
                    if let Waiting::Write { kind: k, .. } = &mut waiting {
                        *k = kind;
                    }
                    (request, waiting)
                } else {
                    get(key, options, Some(Follow::Put))
                }
            }
        }
    }

    fn put(
        &mut self,
        c: usize,
        cluster: &Cluster,
        key: Bytes,
        context: Option<Context>,
        options: RequestOptions,
    ) -> (ClientRequest, Waiting) {
        let value = self.value(c);
        let kind = WriteKind::of(&key);
        let w = self.write_waiting(cluster, &key, context.clone(), kind, &options);
        (
            ClientRequest::Put {
                key,
                value,
                context,
                options,
            },
            w,
        )
    }

    fn submit(
        &mut self,
        c: usize,
        cluster: &mut Cluster,
        history: &mut History,
        request: ClientRequest,
        waiting: Waiting,
    ) {
        let node = self.rng.below(cluster.len() as u64) as usize;
        let write = !matches!(request, ClientRequest::Get { .. });
        let key = request.key().clone();
        let timeout = request
            .options()
            .timeout_ms
            .unwrap_or(cluster.config().request_timeout_ms);
        let start = cluster.now();
        self.clients[c].last_r = request.options().r;
        let id = cluster.submit(node, request);
        history.started(id, start, timeout, &key, write);
        history.at_node(id, node);
        self.clients[c].waiting = Some((id, waiting));
    }

    /// A request finished: record it and let its client continue.
    pub fn on_reply(
        &mut self,
        cluster: &mut Cluster,
        history: &mut History,
        id: ReqId,
        at: u64,
        result: Result<ClientReply, Error>,
    ) {
        history.ended_in(cluster, id, at, result.is_ok());
        let (c, waiting) = if let Some(w) = self.oneshot.remove(&id) {
            (None, w)
        } else {
            let Some(c) = self
                .clients
                .iter()
                .position(|c| c.waiting.as_ref().is_some_and(|(r, _)| *r == id))
            else {
                return;
            };
            let Some((_, waiting)) = self.clients[c].waiting.take() else {
                return;
            };
            self.clients[c].next_at = at + 1 + self.rng.below(self.spec.think_ms.max(1));
            (Some(c), waiting)
        };
        let clean_now = self.clean;
        match (waiting, result) {
            (
                Waiting::Write {
                    key,
                    context,
                    kind,
                    w,
                    strict,
                    add,
                    reset,
                },
                Ok(ClientReply::Put { dot, context: got }),
            ) => {
                if kind == WriteKind::Counter {
                    history.counter_done(&key, add, reset, true);
                }
                let past = context
                    .map(|c| c.version_vector().clone())
                    .unwrap_or_default();
                if super::check::traced_key(&key) {
                    eprintln!("key trace: {at} ms acked {dot} past {past:?} clock {:?} add {add:?} reset {reset:?}", got.version_vector());
                }
                history.write_acked_at(
                    cluster,
                    &key,
                    &dot,
                    &past,
                    got.version_vector(),
                    kind,
                    w,
                    id,
                );
                if let (Some(c), Some(e)) = (c, strict) {
                    if clean_now && e == self.epoch {
                        self.last_put.insert((c, key.clone()), (dot.clone(), e, w));
                    }
                }
                history.write_acked(&key, dot, past, at);
            }
            // A refused request (the node was down) was never applied; any other failure
            // may or may not have been: ambiguous.
            (
                Waiting::Write {
                    key,
                    kind: WriteKind::Counter,
                    add,
                    reset,
                    ..
                },
                Err(e),
            ) if e != Error::Closed => {
                history.counter_done(&key, add, reset, false);
            }
            (
                Waiting::Read { key, follow },
                Ok(ClientReply::Get {
                    context,
                    versions,
                    value,
                    partial,
                }),
            ) => {
                history.observed(&key, &versions);
                if let Some(c) = c {
                    if let Some((dot, e, w)) = self.last_put.get(&(c, key.clone())) {
                        let cfg = cluster.config();
                        let r = self.clients[c].last_r.unwrap_or(cfg.r);
                        if clean_now && *e == self.epoch && r + w > cfg.n {
                            history.read_your_write(&key, dot, &versions, partial);
                        }
                    }
                }
                let Some(c) = c else {
                    return;
                };
                let options = self.options(cluster);
                let next = match follow {
                    Some(Follow::Put) => {
                        Some(self.put(c, cluster, key.clone(), Some(context), options))
                    }
                    Some(Follow::Delete) => {
                        let kind = WriteKind::of(&key);
                        let mut waiting = self.write_waiting(
                            cluster,
                            &key,
                            Some(context.clone()),
                            kind,
                            &options,
                        );
                        if let (Resolved::Counter(v), Waiting::Write { reset, .. }) =
                            (value, &mut waiting)
                        {
                            *reset = Some(v);
                        }
                        Some((
                            ClientRequest::Delete {
                                key: key.clone(),
                                context: Some(context),
                                options,
                            },
                            waiting,
                        ))
                    }
                    None => None,
                };
                if let Some((request, waiting)) = next {
                    self.submit(c, cluster, history, request, waiting);
                }
            }
            _ => {}
        }
    }

    /// The node these requests went to crashed: their clients give up on them.
    pub fn on_lost(&mut self, history: &mut History, ids: &[ReqId], now: u64) {
        history.lost(ids);
        let mut lost = Vec::new();
        for c in &mut self.clients {
            if c.waiting.as_ref().is_some_and(|(r, _)| ids.contains(r)) {
                if let Some((_, w)) = c.waiting.take() {
                    lost.push(w);
                }
                c.next_at = now + 1;
            }
        }
        for id in ids {
            if let Some(w) = self.oneshot.remove(id) {
                lost.push(w);
            }
        }
        // The client never hears back: a counter update's outcome is ambiguous.
        for w in lost {
            if let Waiting::Write {
                key,
                kind: WriteKind::Counter,
                add,
                reset,
                ..
            } = w
            {
                history.counter_done(&key, add, reset, false);
            }
        }
    }
}

fn set_add(waiting: &mut Waiting, by: i64) {
    if let Waiting::Write { add, .. } = waiting {
        *add = by;
    }
}
