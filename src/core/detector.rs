//! Local failure detection (§4.6, §4.8.3): a node considers a peer down when the peer does
//! not answer its messages in time, uses fallbacks instead, and pings the peer periodically
//! to notice its return. The view is local: nothing is gossiped, and a node believed down is
//! never removed from the ring (that takes an explicit leave).

use super::id::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Health {
    Up,
    Down { next_probe_ms: u64 },
}

#[derive(Clone, Debug)]
pub struct Detector {
    peers: BTreeMap<NodeId, Health>,
    probe_interval_ms: u64,
}

impl Detector {
    pub fn new(probe_interval_ms: u64) -> Self {
        Detector {
            peers: BTreeMap::new(),
            probe_interval_ms: probe_interval_ms.max(1),
        }
    }

    pub fn is_up(&self, node: &NodeId) -> bool {
        !matches!(self.peers.get(node), Some(Health::Down { .. }))
    }

    /// `node` missed a deadline. Returns true when it was up until now.
    pub fn suspect(&mut self, node: &NodeId, now_ms: u64) -> bool {
        let next_probe_ms = now_ms + self.probe_interval_ms;
        match self.peers.get_mut(node) {
            Some(Health::Down { .. }) => false,
            Some(h) => {
                *h = Health::Down { next_probe_ms };
                true
            }
            None => {
                self.peers
                    .insert(node.clone(), Health::Down { next_probe_ms });
                true
            }
        }
    }

    /// Any message from `node` proves it alive. Returns true when it was believed down.
    pub fn heard_from(&mut self, node: &NodeId) -> bool {
        match self.peers.get_mut(node) {
            Some(h @ Health::Down { .. }) => {
                *h = Health::Up;
                true
            }
            _ => false,
        }
    }

    /// Peers due for a probe at `now_ms`; their next probe is scheduled.
    pub fn due_probes(&mut self, now_ms: u64) -> Vec<NodeId> {
        let mut due = Vec::new();
        for (node, h) in self.peers.iter_mut() {
            if let Health::Down { next_probe_ms } = h {
                if *next_probe_ms <= now_ms {
                    *next_probe_ms = now_ms + self.probe_interval_ms;
                    due.push(node.clone());
                }
            }
        }
        due
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.peers
            .values()
            .filter_map(|h| match h {
                Health::Down { next_probe_ms } => Some(*next_probe_ms),
                Health::Up => None,
            })
            .min()
    }

    /// Peers currently believed down, in id order.
    pub fn down(&self) -> Vec<NodeId> {
        self.peers
            .iter()
            .filter(|(_, h)| matches!(h, Health::Down { .. }))
            .map(|(n, _)| n.clone())
            .collect()
    }
}
