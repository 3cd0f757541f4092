//! Read repair (§4.5), only where a replica is known to lack something (issue 14 item 4).
//!
//! Once a get has answered its client (R replies), its coordinator keeps waiting for the
//! other nodes it asked, up to `Config::read_repair_window_ms` (100 ms by default), or until
//! every one of them has answered. Then it writes the merged versions back to each primary
//! whose answer lacked some of them: a stale version set, or not-found while the merge
//! holds data. A primary that did not answer within the window is not written to: it may
//! be slow but current, and a full-object write to every slow replica is what made reading
//! back 1,000 keys of an idle, converged cluster cost 2,000 writes. What such a replica
//! really misses, hinted handoff and anti-entropy (§4.6, §4.7) bring it.
//!
//! Only primaries (the key's first N nodes) are repaired: a fallback holds what it holds as
//! a hint for someone else.

use super::id::NodeId;
use super::io::Event;
use super::message::{Message, Rid};
use super::node::Node;

impl Node {
    /// The get is over (every asked node answered, or the window or deadline passed): repair
    /// the primaries that answered with less than the merged versions.
    pub(crate) fn finish_get(&mut self, rid: Rid) {
        let Some(f) = self.gets.remove(&rid) else {
            return;
        };
        let merged = &f.merged();
        if merged.is_empty() || !self.config.read_repair {
            return;
        }
        let n = self.config.n.min(f.preflist.len());
        let repaired: Vec<NodeId> = f.preflist[..n]
            .iter()
            .filter(|p| {
                // Counted or not (a primary whose partition is still arriving), its answer.
                let answer = f.quorum.reply(p).or_else(|| f.uncounted.get(*p));
                answer.is_some_and(|v| !merged.is_covered_by(v))
            })
            .cloned()
            .collect();
        if repaired.is_empty() {
            return;
        }
        self.stats.read_repairs += 1;
        for p in &repaired {
            if p == &self.id {
                self.store(&f.key, merged, None);
            } else {
                self.send(
                    p.clone(),
                    Message::Repair {
                        key: f.key.clone(),
                        versions: merged.clone(),
                    },
                );
            }
        }
        self.emit(Event::ReadRepair {
            key: f.key,
            to: repaired,
        });
    }
}
