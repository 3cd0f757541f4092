//! The seeded client workload (the paper's clients behind a generic load balancer: reads,
//! read-modify-writes and blind writes through a random live node, at exact virtual times)
//! and the page's own requests: how they are submitted and how their replies are reported.

use super::views::*;
use super::*;

impl SimCluster {
    pub(super) fn submit(
        &mut self,
        i: usize,
        request: ClientRequest,
        client: Option<usize>,
    ) -> Result<ReqId, JsValue> {
        self.check(i)?;
        let ctx =
            |c: &Option<Context>| Some(c.as_ref().map_or("[]".to_string(), |c| c.to_string()));
        let (op, value, context) = match &request {
            ClientRequest::Get { .. } => ("get", None, None),
            ClientRequest::Put { value, context, .. } => ("put", Some(text(value)), ctx(context)),
            ClientRequest::Delete { context, .. } => ("delete", None, ctx(context)),
            ClientRequest::Update { .. } => ("update", None, None),
        };
        let key = request.key().clone();
        if client.is_none() || HOT_KEYS.iter().any(|k| k.as_bytes() == key.as_slice()) {
            self.watch_key(&key);
        }
        self.collect(); // anything pending goes before the request
        let at = self.c.now();
        if let Some(l) = self.metrics.load.get_mut(i) {
            *l += 1;
        }
        // Announce the request before what the node does with it: the cluster hands out
        // request ids in sequence, so the next one is known.
        let id = self.c.submit(i, request);
        self.reqs.insert(
            id,
            PageReq {
                node: i,
                op,
                key: text(&key),
                at,
                client,
            },
        );
        self.out.push(PageEvent::Request {
            req: id,
            at,
            node: self.name(i),
            op,
            key: text(&key),
            value,
            context,
            workload: client.is_some(),
        });
        self.collect();
        Ok(id)
    }

    pub(super) fn submit_admin(
        &mut self,
        i: usize,
        request: AdminRequest,
        op: &'static str,
    ) -> ReqId {
        self.collect();
        let at = self.c.now();
        let id = self.c.submit_admin(i, request);
        self.reqs.insert(
            id,
            PageReq {
                node: i,
                op,
                key: String::new(),
                at,
                client: None,
            },
        );
        self.collect_all();
        id
    }

    pub(super) fn replies(&mut self) {
        for c in self.c.take_completed() {
            let Some(pr) = self.reqs.remove(&c.id) else {
                continue;
            };
            self.rid_req.retain(|x| x.2 != c.id);
            let latency = c.at.saturating_sub(pr.at);
            let mut ev_values = Vec::new();
            let mut ev_versions = Vec::new();
            let mut ev_context = None;
            let mut ev_dot = None;
            let (mut error, mut code) = (None, None);
            let mut next_write = None;
            match c.result {
                Ok(ClientReply::Get {
                    value,
                    context,
                    versions,
                    ..
                }) => {
                    ev_values = match value {
                        Resolved::Siblings(vs) | Resolved::Set(vs) => {
                            vs.iter().map(|v| text(v)).collect()
                        }
                        Resolved::Single(v) => v.iter().map(|v| text(v)).collect(),
                        Resolved::Counter(n) => vec![n.to_string()],
                    };
                    let live = versions
                        .versions()
                        .iter()
                        .filter(|v| !matches!(v.value, Value::Tombstone))
                        .count();
                    self.metrics.reads_by_versions[live.min(3)] += 1;
                    self.metrics.latency_get.push(latency);
                    ev_versions = versions_view(&versions);
                    ev_context = Some(context.to_string());
                    next_write = Some(context);
                    self.metrics.ok += 1;
                }
                Ok(ClientReply::Put { dot, context }) => {
                    self.metrics.latency_put.push(latency);
                    ev_dot = Some(dot.to_string());
                    ev_context = Some(context.to_string());
                    self.metrics.ok += 1;
                }
                Ok(ClientReply::Done) => self.metrics.ok += 1,
                Err(e) => {
                    // A crashed node cannot take a request: say so in the page's words (a
                    // real client would see its connection refused or time out).
                    error = Some(if matches!(e, crate::core::Error::Closed) {
                        format!(
                            "{} is crashed: nothing took the request",
                            self.name(pr.node)
                        )
                    } else {
                        e.to_string()
                    });
                    code = Some(e.code());
                    self.metrics.failed += 1;
                }
            }
            let ok = error.is_none();
            self.out.push(PageEvent::Reply {
                req: c.id,
                at: c.at,
                node: self.name(pr.node),
                op: pr.op,
                key: pr.key.clone(),
                ok,
                latency,
                error,
                code,
                values: ev_values,
                versions: ev_versions,
                context: ev_context,
                dot: ev_dot,
                workload: pr.client.is_some(),
            });
            if let Some(ci) = pr.client {
                self.client_done(ci, &pr, next_write);
            }
        }
    }

    pub(super) fn client_done(&mut self, ci: usize, pr: &PageReq, read: Option<Context>) {
        let now = self.c.now();
        let think = self.think_ms.max(10);
        let stopped = ci >= self.active_clients;
        let Some(cl) = self.clients.get_mut(ci) else {
            return;
        };
        cl.state = ClientState::Idle;
        if stopped {
            cl.then_write = None;
            cl.next_at = u64::MAX;
            return;
        }
        match (cl.then_write.take(), read) {
            // The read of a read-modify-write: write back soon with what was read.
            (Some(_), Some(ctx)) => {
                cl.then_write = Some((Bytes::from(pr.key.as_str()), ctx));
                cl.next_at = now + 5;
            }
            _ => cl.next_at = now + self.rng.range(think / 2, think + think / 2),
        }
    }

    pub(super) fn next_wake(&self) -> Option<u64> {
        self.clients
            .iter()
            .filter(|c| c.state == ClientState::Idle)
            .map(|c| c.next_at)
            .min()
    }

    /// Clients whose time has come issue their next request through a random live node.
    pub(super) fn fire_clients(&mut self) {
        let now = self.c.now();
        let think = self.think_ms.max(10);
        for ci in 0..self.clients.len() {
            let cl = &self.clients[ci];
            if cl.state != ClientState::Idle || cl.next_at > now {
                continue;
            }
            let ready: Vec<usize> = (0..self.c.len())
                .filter(|&i| {
                    self.c.node(i).is_some_and(|n| {
                        n.ring().is_some()
                            && !n.has_exited()
                            && n.status().is_some_and(|s| s.owns())
                    })
                })
                .collect();
            if ready.is_empty() {
                self.clients[ci].next_at = now + think;
                continue;
            }
            let node = ready[self.rng.below(ready.len() as u64) as usize];
            let options = RequestOptions::default();
            let request = match self.clients[ci].then_write.take() {
                Some((key, context)) => {
                    self.next_value += 1;
                    ClientRequest::Put {
                        key,
                        value: Bytes::from(format!("v{}", self.next_value).as_str()),
                        context: Some(context),
                        options,
                    }
                }
                None => {
                    let key = if self.rng.chance(0.3) {
                        HOT_KEYS[self.rng.below(HOT_KEYS.len() as u64) as usize].to_string()
                    } else {
                        format!("item/{}", self.rng.below(COLD_KEYS))
                    };
                    let key = Bytes::from(key.as_str());
                    let roll = self.rng.below(100);
                    if roll < 10 {
                        self.next_value += 1;
                        ClientRequest::Put {
                            key,
                            value: Bytes::from(format!("v{}", self.next_value).as_str()),
                            context: None,
                            options,
                        }
                    } else {
                        if roll < 55 {
                            // A read-modify-write: the write follows the read.
                            self.clients[ci].then_write = Some((key.clone(), Context::new()));
                        }
                        ClientRequest::Get { key, options }
                    }
                }
            };
            self.clients[ci].state = ClientState::Busy;
            if self.submit(node, request, Some(ci)).is_err() {
                self.clients[ci].state = ClientState::Idle;
                self.clients[ci].next_at = now + think;
            }
        }
    }
}
