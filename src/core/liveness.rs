//! The node's side of SWIM failure detection (`swim.rs`): timers, indirect probes relayed
//! for others, rumors in and out, and the bridge to the local detector that routing uses.

use super::gossip::open;
use super::id::NodeId;
use super::membership::Status;
use super::message::Message;
use super::node::Node;
use super::swim::{Life, Rumor, SwimAction};

impl Node {
    fn log2_members(&self) -> u64 {
        let n = self.membership.len() as u64 + 1;
        u64::from(64 - n.leading_zeros()).max(1)
    }

    fn suspicion_ms(&self) -> u64 {
        u64::from(self.config.suspicion_rounds)
            * self.log2_members()
            * self.config.gossip_interval_ms
    }

    fn rumor_fanout(&self) -> u32 {
        self.config
            .rumor_rounds
            .saturating_mul(self.log2_members() as u32)
    }

    pub(crate) fn swim_deadline(&self) -> Option<u64> {
        // After a stall of its own, a node probes and judges probes only once it listened.
        self.swim
            .next_deadline(
                self.config.probe_timeout_ms,
                self.config.gossip_interval_ms,
                self.suspicion_ms(),
            )
            .map(|t| t.max(self.deaf_until()))
    }

    pub(crate) fn swim_timer(&mut self) {
        let now = self.now_ms;
        if !self.relays.is_empty() {
            self.relays.retain(|_, (_, expiry)| *expiry > now);
        }
        if self.swim_deadline().is_none_or(|t| t > now) {
            return;
        }
        let k = self.config.indirect_probes as usize;
        let candidates: Vec<NodeId> = self
            .membership
            .members()
            .iter()
            .filter(|(n, i)| {
                **n != self.id
                    && matches!(i.status, Status::Joining | Status::Valid | Status::Leaving)
                    && self.swim.life(n) == Life::Alive
            })
            .map(|(n, _)| n.clone())
            .collect();
        let mut rng = self.rng.fork();
        let helpers = |target: &NodeId| {
            let mut pool: Vec<NodeId> = candidates
                .iter()
                .filter(|n| *n != target)
                .cloned()
                .collect();
            let mut chosen = Vec::new();
            while chosen.len() < k && !pool.is_empty() {
                let i = rng.below(pool.len() as u64) as usize;
                chosen.push(pool.swap_remove(i));
            }
            chosen
        };
        let mut actions = Vec::new();
        let (timeout, round, suspicion, fanout) = (
            self.config.probe_timeout_ms,
            self.config.gossip_interval_ms,
            self.suspicion_ms(),
            self.rumor_fanout(),
        );
        let me = self.id.clone();
        self.swim.on_timer(
            &me,
            now,
            timeout,
            round,
            suspicion,
            helpers,
            fanout,
            &mut actions,
        );
        self.apply_swim(actions);
    }

    pub(crate) fn learn_rumors(&mut self, rumors: Vec<Rumor>) {
        let mut actions = Vec::new();
        let fanout = self.rumor_fanout();
        let me = self.id.clone();
        for r in rumors {
            self.swim.learn(&me, r, self.now_ms, fanout, &mut actions);
        }
        self.apply_swim(actions);
    }

    fn apply_swim(&mut self, actions: Vec<SwimAction>) {
        for a in actions {
            match a {
                SwimAction::PingReq { via, target } => {
                    let nonce = self.rng.next_u64();
                    for v in via {
                        self.send(
                            v,
                            Message::PingReq {
                                target: target.clone(),
                                nonce,
                            },
                        );
                    }
                }
                SwimAction::Down(node) => self.suspect(&node),
                SwimAction::Up(node) => {
                    if self.detector.heard_from(&node) {
                        self.on_peer_back(&node);
                    }
                }
            }
        }
    }

    /// A message from `from`: it answers our probe; if we doubt it, tell it (it refutes).
    pub(crate) fn swim_heard_from(&mut self, from: &NodeId) {
        self.swim.heard_from(from);
        if self.swim.life(from) == Life::Alive {
            return;
        }
        let due = self
            .reminded
            .get(from)
            .is_none_or(|t| self.now_ms >= t + self.config.gossip_interval_ms);
        if !due {
            return;
        }
        self.reminded.insert(from.clone(), self.now_ms);
        self.swim.remind(from);
        let msg = open(&self.membership);
        let rumors = self.swim.take_rumors();
        self.send(from.clone(), Message::Gossip { msg, rumors });
    }

    pub(crate) fn on_ping_req(&mut self, from: NodeId, target: NodeId, nonce: u64) {
        let expiry = self.now_ms + self.config.gossip_interval_ms;
        self.relays.insert((target.clone(), nonce), (from, expiry));
        self.send(target, Message::Ping { nonce });
    }

    pub(crate) fn on_pong(&mut self, from: NodeId, nonce: u64) {
        if let Some((requester, _)) = self.relays.remove(&(from.clone(), nonce)) {
            self.send(
                requester,
                Message::PingReqAck {
                    target: from,
                    nonce,
                },
            );
        }
    }
}
