//! A seeded client workload: concurrent clients issuing gets, blind puts, read-modify-writes
//! and deletes against hot and cold keys, each client one request at a time, through a node
//! picked at random (as a browser tab talks to its own node).

use crate::core::rng::Rng;
use crate::core::{Bytes, ClientReply, ClientRequest, Context, Error, ReqId, RequestOptions};
use crate::sim::{Cluster, History};

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
    },
}

#[derive(Clone, Debug)]
struct Client {
    waiting: Option<(ReqId, Waiting)>,
    next_at: u64,
    ops_left: u32,
    seq: u64,
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
}

pub struct Workload {
    spec: WorkloadSpec,
    clients: Vec<Client>,
    rng: Rng,
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
            })
            .collect();
        Workload { spec, clients, rng }
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
        RequestOptions {
            durable,
            timeout_ms: Some(cluster.config().request_timeout_ms),
            ..RequestOptions::default()
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
            let key = self.pick_key();
            let options = self.options(cluster);
            let roll = self.rng.below(100);
            let (request, waiting) = if roll < 30 {
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
                self.put(c, key.clone(), None, options)
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

    fn put(
        &mut self,
        c: usize,
        key: Bytes,
        context: Option<Context>,
        options: RequestOptions,
    ) -> (ClientRequest, Waiting) {
        self.clients[c].seq += 1;
        let value = Bytes::from(format!("c{c}-{}", self.clients[c].seq).into_bytes());
        let w = Waiting::Write {
            key: key.clone(),
            context: context.clone(),
        };
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
        let id = cluster.submit(node, request);
        history.started(id, start, timeout, &key, write);
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
        history.ended(id, at, result.is_ok());
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
        match (waiting, result) {
            (Waiting::Write { key, context }, Ok(ClientReply::Put { dot, .. })) => {
                let past = context
                    .map(|c| c.version_vector().clone())
                    .unwrap_or_default();
                history.write_acked(&key, dot, past);
            }
            (
                Waiting::Read { key, follow },
                Ok(ClientReply::Get {
                    context, versions, ..
                }),
            ) => {
                history.observed(&key, &versions);
                let options = self.options(cluster);
                let next = match follow {
                    Some(Follow::Put) => Some(self.put(c, key.clone(), Some(context), options)),
                    Some(Follow::Delete) => Some((
                        ClientRequest::Delete {
                            key: key.clone(),
                            context: Some(context.clone()),
                            options,
                        },
                        Waiting::Write {
                            key: key.clone(),
                            context: Some(context),
                        },
                    )),
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
        for c in &mut self.clients {
            if c.waiting.as_ref().is_some_and(|(r, _)| ids.contains(r)) {
                c.waiting = None;
                c.next_at = now + 1;
            }
        }
    }
}
