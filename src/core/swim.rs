//! Failure detection (paper §4.8.3, improved the SWIM way).
//!
//! The paper's detector is local: A considers B failed when B does not answer A's messages.
//! That stays (`detector.rs`: every missed request deadline suspects a peer for this node's
//! routing, and a ping brings it back). On top of it, so that a crashed node is known down
//! at *every* node and a merely slow node is not declared dead:
//!
//! 1. **Probe.** Each gossip round's exchange is also a probe of its partner: any message
//!    from the partner within `probe_timeout_ms` answers it.
//! 2. **Indirect probe.** Unanswered, the node asks `indirect_probes` other members to ping
//!    the partner for it (`PingReq`); any relayed answer (`PingReqAck`) before the end of the
//!    round clears it. A slow link or a slow node is told apart from a dead one here.
//! 3. **Suspect.** Still unanswered at the end of the round: the partner is *suspect*, and a
//!    `Suspect` rumor spreads. A suspect that hears it refutes it with a higher incarnation
//!    (`Alive`).
//! 4. **Dead.** A suspicion not refuted within `suspicion_rounds × ⌈log2(members + 1)⌉`
//!    gossip rounds becomes `Dead` at the node that raised it, and that rumor spreads too.
//!    Every node that learns it routes around the node (sloppy quorum) and probes it; the
//!    node itself refutes when it is back.
//!
//! Rumors ride on gossip messages (at most `MAX_RUMORS_PER_MESSAGE` each) and are passed on
//! `rumor_rounds × ⌈log2(members + 1)⌉` times, so dissemination takes O(log N) rounds with
//! bounded per-message overhead. Nothing here removes a member: membership changes stay
//! explicit (§4.8.1).

use super::id::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rumors piggybacked on one message, at most.
pub const MAX_RUMORS_PER_MESSAGE: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rumor {
    Alive { node: NodeId, incarnation: u64 },
    Suspect { node: NodeId, incarnation: u64 },
    Dead { node: NodeId, incarnation: u64 },
}

impl Rumor {
    pub fn node(&self) -> &NodeId {
        match self {
            Rumor::Alive { node, .. } | Rumor::Suspect { node, .. } | Rumor::Dead { node, .. } => {
                node
            }
        }
    }

    fn incarnation(&self) -> u64 {
        match self {
            Rumor::Alive { incarnation, .. }
            | Rumor::Suspect { incarnation, .. }
            | Rumor::Dead { incarnation, .. } => *incarnation,
        }
    }

    /// Precedence at equal incarnation: dead > suspect > alive.
    fn rank(&self) -> u8 {
        match self {
            Rumor::Alive { .. } => 0,
            Rumor::Suspect { .. } => 1,
            Rumor::Dead { .. } => 2,
        }
    }
}

/// What this node believes of a peer's liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    Alive,
    Suspect { since_ms: u64 },
    Dead,
}

#[derive(Clone, Debug)]
struct Peer {
    incarnation: u64,
    life: Life,
}

#[derive(Clone, Debug)]
struct Probe {
    target: NodeId,
    sent_ms: u64,
    acked: bool,
    indirect_sent: bool,
}

/// What the node must do after feeding the detector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwimAction {
    /// Ask these members to ping `target` for us.
    PingReq { via: Vec<NodeId>, target: NodeId },
    /// `node` is now believed down (suspect or dead).
    Down(NodeId),
    /// `node` refuted its suspicion.
    Up(NodeId),
}

#[derive(Clone, Debug, Default)]
pub struct Swim {
    incarnation: u64,
    peers: BTreeMap<NodeId, Peer>,
    rumors: BTreeMap<NodeId, (Rumor, u32)>,
    probe: Option<Probe>,
}

impl Swim {
    pub fn new() -> Self {
        Swim::default()
    }

    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    pub fn life(&self, node: &NodeId) -> Life {
        self.peers.get(node).map_or(Life::Alive, |p| p.life)
    }

    /// Peers believed suspect or dead.
    pub fn not_alive(&self) -> impl Iterator<Item = (&NodeId, Life)> {
        self.peers
            .iter()
            .filter(|(_, p)| p.life != Life::Alive)
            .map(|(n, p)| (n, p.life))
    }

    /// A gossip exchange with `target` was opened: it doubles as this round's probe.
    pub fn probe_sent(&mut self, target: &NodeId, now_ms: u64) {
        self.probe = Some(Probe {
            target: target.clone(),
            sent_ms: now_ms,
            acked: false,
            indirect_sent: false,
        });
    }

    /// Any message (or relayed ping answer) from `node` answers a probe of it.
    pub fn heard_from(&mut self, node: &NodeId) {
        if let Some(p) = self.probe.as_mut() {
            if &p.target == node {
                p.acked = true;
            }
        }
    }

    /// The end of the probe window or of the round. `members` are the live members this
    /// node could ask (itself excluded); `pick` chooses `k` of them at random.
    #[allow(clippy::too_many_arguments)]
    pub fn on_timer(
        &mut self,
        me: &NodeId,
        now_ms: u64,
        probe_timeout_ms: u64,
        round_ms: u64,
        suspicion_ms: u64,
        helpers: impl FnOnce(&NodeId) -> Vec<NodeId>,
        fanout: u32,
        actions: &mut Vec<SwimAction>,
    ) {
        if let Some(p) = self.probe.as_mut() {
            if !p.acked && !p.indirect_sent && now_ms >= p.sent_ms + probe_timeout_ms {
                p.indirect_sent = true;
                let via = helpers(&p.target);
                if !via.is_empty() {
                    actions.push(SwimAction::PingReq {
                        via,
                        target: p.target.clone(),
                    });
                }
            }
            if !p.acked && now_ms >= p.sent_ms + round_ms {
                let target = p.target.clone();
                self.probe = None;
                let incarnation = self.peers.get(&target).map_or(0, |x| x.incarnation);
                self.learn(
                    me,
                    Rumor::Suspect {
                        node: target,
                        incarnation,
                    },
                    now_ms,
                    fanout,
                    actions,
                );
            } else if p.acked && now_ms >= p.sent_ms + round_ms {
                self.probe = None;
            }
        }
        let expired: Vec<(NodeId, u64)> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.life, Life::Suspect { since_ms } if now_ms >= since_ms + suspicion_ms))
            .map(|(n, p)| (n.clone(), p.incarnation))
            .collect();
        for (node, incarnation) in expired {
            self.learn(
                me,
                Rumor::Dead { node, incarnation },
                now_ms,
                fanout,
                actions,
            );
        }
    }

    /// The next time `on_timer` has something to do.
    pub fn next_deadline(
        &self,
        probe_timeout_ms: u64,
        round_ms: u64,
        suspicion_ms: u64,
    ) -> Option<u64> {
        let mut d: Option<u64> = None;
        let mut at = |t: u64| d = Some(d.map_or(t, |x| x.min(t)));
        if let Some(p) = &self.probe {
            if !p.acked && !p.indirect_sent {
                at(p.sent_ms + probe_timeout_ms);
            }
            at(p.sent_ms + round_ms);
        }
        for p in self.peers.values() {
            if let Life::Suspect { since_ms } = p.life {
                at(since_ms + suspicion_ms);
            }
        }
        d
    }

    /// Merge one rumor (received or raised here).
    pub fn learn(
        &mut self,
        me: &NodeId,
        rumor: Rumor,
        now_ms: u64,
        fanout: u32,
        actions: &mut Vec<SwimAction>,
    ) {
        let node = rumor.node().clone();
        if &node == me {
            // Refute any doubt about ourselves with a higher incarnation.
            if !matches!(rumor, Rumor::Alive { .. }) && rumor.incarnation() >= self.incarnation {
                self.incarnation = rumor.incarnation() + 1;
                let alive = Rumor::Alive {
                    node,
                    incarnation: self.incarnation,
                };
                self.rumors.insert(me.clone(), (alive, fanout));
            }
            return;
        }
        let known = self.peers.get(&node);
        let newer = match known {
            None => !matches!(rumor, Rumor::Alive { .. }),
            Some(p) => {
                let known_rank = match p.life {
                    Life::Alive => 0,
                    Life::Suspect { .. } => 1,
                    Life::Dead => 2,
                };
                (rumor.incarnation(), rumor.rank()) > (p.incarnation, known_rank)
            }
        };
        if !newer {
            return;
        }
        let was_alive = known.is_none_or(|p| p.life == Life::Alive);
        let life = match rumor {
            Rumor::Alive { .. } => Life::Alive,
            Rumor::Suspect { .. } => match known.map(|p| p.life) {
                Some(Life::Suspect { since_ms }) => Life::Suspect { since_ms },
                _ => Life::Suspect { since_ms: now_ms },
            },
            Rumor::Dead { .. } => Life::Dead,
        };
        self.peers.insert(
            node.clone(),
            Peer {
                incarnation: rumor.incarnation(),
                life,
            },
        );
        self.rumors.insert(node.clone(), (rumor, fanout));
        match life {
            Life::Alive if !was_alive => actions.push(SwimAction::Up(node)),
            Life::Suspect { .. } | Life::Dead if was_alive => actions.push(SwimAction::Down(node)),
            _ => {}
        }
    }

    /// A peer we doubt talked to us: make sure our doubt reaches it, so it can refute.
    pub fn remind(&mut self, node: &NodeId) {
        let Some(p) = self.peers.get(node) else {
            return;
        };
        let rumor = match p.life {
            Life::Alive => return,
            Life::Suspect { .. } => Rumor::Suspect {
                node: node.clone(),
                incarnation: p.incarnation,
            },
            Life::Dead => Rumor::Dead {
                node: node.clone(),
                incarnation: p.incarnation,
            },
        };
        let entry = self.rumors.entry(node.clone()).or_insert((rumor, 0));
        entry.1 = entry.1.max(2);
    }

    /// Rumors to piggyback on one outgoing message (the least spread first).
    pub fn take_rumors(&mut self) -> Vec<Rumor> {
        let mut by_need: Vec<(&NodeId, u32)> = self
            .rumors
            .iter()
            .map(|(n, (_, left))| (n, *left))
            .collect();
        by_need.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let chosen: Vec<NodeId> = by_need
            .into_iter()
            .take(MAX_RUMORS_PER_MESSAGE)
            .map(|(n, _)| n.clone())
            .collect();
        let mut out = Vec::with_capacity(chosen.len());
        for n in chosen {
            if let Some((rumor, left)) = self.rumors.get_mut(&n) {
                out.push(rumor.clone());
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.rumors.remove(&n);
                }
            }
        }
        out
    }

    pub fn rumors_pending(&self) -> usize {
        self.rumors.len()
    }
}
