//! Gossip of the membership view (paper §4.8), push-pull with digests so that per-round
//! traffic stays bounded as the cluster grows (ringlet goes further than the paper, whose
//! full-view gossip strains at a few hundred nodes).
//!
//! One exchange, started by A every `gossip_interval_ms` with a random peer B (now and then
//! a seed, so no logical partition persists):
//!
//! ```text
//! A -> B  Syn     { A's summary: root hash, ring epoch and hash }
//! B -> A  Groups  { B's summary, 64 group hashes if the roots differ, B's ring if the rings differ }
//! A -> B  Leaves  { A's 64 leaf hashes of each differing group, A's ring if it is still newer }
//! B -> A  Entries { B's entries of the differing leaves, and "want" = those leaves }
//! A -> B  Entries { A's entries of the wanted leaves }
//! ```
//!
//! With equal views the exchange stops after `Groups` (a few dozen bytes, which also serves
//! as the liveness answer). One new member costs one group and one leaf: about 1 KB whatever
//! the cluster size.

use super::id::NodeId;
use super::membership::{MemberInfo, Membership, RingState, Summary, GROUPS};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMsg {
    Syn {
        summary: Summary,
    },
    Groups {
        summary: Summary,
        hashes: Vec<u64>,
        ring: Option<RingState>,
    },
    Leaves {
        groups: Vec<(u16, Vec<u64>)>,
        ring: Option<RingState>,
    },
    Entries {
        entries: Vec<(NodeId, MemberInfo)>,
        want: Vec<u16>,
    },
}

impl GossipMsg {
    pub fn kind(&self) -> &'static str {
        match self {
            GossipMsg::Syn { .. } => "gossip",
            GossipMsg::Groups { .. } => "gossip-groups",
            GossipMsg::Leaves { .. } => "gossip-leaves",
            GossipMsg::Entries { .. } => "gossip-entries",
        }
    }
}

/// Our ring, when the peer's summary names another one.
fn ring_if_different(view: &Membership, theirs: &Summary) -> Option<RingState> {
    let mine = view.summary();
    let differ = mine.ring_epoch != theirs.ring_epoch || mine.ring_hash != theirs.ring_hash;
    if differ {
        view.ring_state().cloned()
    } else {
        None
    }
}

/// Handle one gossip message against our view: merge what it carries and return the answer
/// to send back, if any. `changed` is set when our view changed.
pub fn respond(view: &mut Membership, msg: GossipMsg, changed: &mut bool) -> Option<GossipMsg> {
    match msg {
        GossipMsg::Syn { summary } => {
            let mine = view.summary();
            let hashes = if summary.root != mine.root {
                view.group_hashes().to_vec()
            } else {
                Vec::new()
            };
            let ring = ring_if_different(view, &summary);
            Some(GossipMsg::Groups {
                summary: mine,
                hashes,
                ring,
            })
        }
        GossipMsg::Groups {
            summary,
            hashes,
            ring,
        } => {
            if let Some(r) = &ring {
                *changed |= view.merge_ring(r);
            }
            let groups: Vec<(u16, Vec<u64>)> = if hashes.len() == GROUPS {
                view.group_hashes()
                    .iter()
                    .zip(&hashes)
                    .enumerate()
                    .filter(|(_, (a, b))| a != b)
                    .map(|(g, _)| (g as u16, view.leaf_hashes(g).to_vec()))
                    .collect()
            } else {
                Vec::new()
            };
            // Our ring is still different from theirs: ours is the newer one.
            let ring = ring_if_different(view, &summary);
            if groups.is_empty() && ring.is_none() {
                return None;
            }
            Some(GossipMsg::Leaves { groups, ring })
        }
        GossipMsg::Leaves { groups, ring } => {
            if let Some(r) = &ring {
                *changed |= view.merge_ring(r);
            }
            let mut want: Vec<u16> = Vec::new();
            for (g, theirs) in groups {
                let g = g as usize;
                if g >= GROUPS {
                    continue;
                }
                let base = g * view.leaf_hashes(g).len();
                for (i, (a, b)) in view.leaf_hashes(g).iter().zip(&theirs).enumerate() {
                    if a != b {
                        want.push((base + i) as u16);
                    }
                }
            }
            if want.is_empty() {
                return None;
            }
            want.sort_unstable();
            Some(GossipMsg::Entries {
                entries: view.entries_in(&want),
                want,
            })
        }
        GossipMsg::Entries { entries, mut want } => {
            for (n, i) in entries {
                *changed |= view.merge_member(&n, i);
            }
            if want.is_empty() {
                return None;
            }
            want.sort_unstable();
            want.dedup();
            Some(GossipMsg::Entries {
                entries: view.entries_in(&want),
                want: Vec::new(),
            })
        }
    }
}

/// Open an exchange.
pub fn open(view: &Membership) -> GossipMsg {
    GossipMsg::Syn {
        summary: view.summary(),
    }
}
