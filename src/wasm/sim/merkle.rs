//! The page's drawing of Merkle anti-entropy (§4.7): two replicas' hash trees of one
//! partition, compared the way an exchange descends them (`core::hashtree`): the roots, then
//! the children of differing nodes only, down to the stored levels, then the keys under the
//! differing leaves. Read-only: it reads the nodes' trees and changes nothing.

use super::views::*;
use super::*;
use crate::core::hashtree::{key_hash64, HashTree};

/// A hash as the page prints it: its first four hex digits (0: an empty subtree).
fn short_hash(h: u64) -> String {
    if h == 0 {
        "·".into()
    } else {
        format!("{:04x}", h >> 48)
    }
}

impl SimCluster {
    /// Node `i`'s tree of `partition` (an empty one when it replicates none).
    fn tree_of(&self, i: usize, partition: u32) -> HashTree {
        self.c
            .node(i)
            .and_then(|n| n.trees.get(&partition).cloned())
            .unwrap_or_default()
    }

    pub(super) fn merkle_view(&self, partition: u32, a: usize, b: usize) -> MerkleView {
        let (ta, tb) = (self.tree_of(a, partition), self.tree_of(b, partition));
        let shape = ta.shape();
        let bits = u32::from(shape.fanout_bits());
        let fanout = shape.fanout() as u64;
        let mut nodes = Vec::new();
        // The descent: the children of every differing node, level by level.
        let mut frontier: Vec<u64> = if ta.root() != tb.root() {
            vec![0]
        } else {
            Vec::new()
        };
        let mut depth = 0u8;
        while !frontier.is_empty() && depth < shape.stored_depth() {
            let mut next = Vec::new();
            for &parent in &frontier {
                for c in 0..fanout {
                    let index = parent * fanout + c;
                    let (ha, hb) = (ta.node(depth + 1, index), tb.node(depth + 1, index));
                    if ha != hb {
                        next.push(index);
                    }
                    nodes.push(TreeNodeView {
                        depth: depth + 1,
                        index,
                        parent,
                        a: short_hash(ha),
                        b: short_hash(hb),
                        differ: ha != hb,
                    });
                }
            }
            frontier = next;
            depth += 1;
        }
        // The keys under the differing leaves, from both sides.
        let leaf = |key: &[u8]| -> u64 {
            let s = u32::from(depth) * bits;
            if s == 0 {
                0
            } else {
                key_hash64(key) >> (64 - s)
            }
        };
        let mut keys: BTreeMap<Bytes, (Option<u64>, Option<u64>)> = BTreeMap::new();
        for (k, d) in ta.iter() {
            if frontier.contains(&leaf(k)) {
                keys.entry(k.clone()).or_default().0 = Some(d);
            }
        }
        for (k, d) in tb.iter() {
            if frontier.contains(&leaf(k)) {
                keys.entry(k.clone()).or_default().1 = Some(d);
            }
        }
        let full_bytes = ta.iter().chain(tb.iter()).map(|(k, _)| k.len() + 8).sum();
        MerkleView {
            partition,
            a: self.name(a),
            b: self.name(b),
            fanout: shape.fanout(),
            root_a: short_hash(ta.root()),
            root_b: short_hash(tb.root()),
            keys_a: ta.len(),
            keys_b: tb.len(),
            nodes,
            keys: keys
                .into_iter()
                .map(|(k, (da, db))| TreeKeyView {
                    leaf: leaf(&k),
                    key: text(&k),
                    a: da.map(short_hash),
                    b: db.map(short_hash),
                    differ: da != db,
                })
                .collect(),
            full_bytes,
        }
    }
}
