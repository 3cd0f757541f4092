//! A map from peer ids to per-peer state: a `Vec` of entries behind one
//! `BTreeMap<String, u32>` index. Lookups cost what a `BTreeMap` costs, but every value
//! type shares the one index type, which keeps the wasm build small (each `BTreeMap<K, V>`
//! instantiates its own tree code). Iteration is in insertion order.

use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct PeerMap<V> {
    index: BTreeMap<String, u32>,
    entries: Vec<(String, V)>,
}

impl<V> Default for PeerMap<V> {
    fn default() -> Self {
        PeerMap {
            index: BTreeMap::new(),
            entries: Vec::new(),
        }
    }
}

impl<V> PeerMap<V> {
    pub fn get(&self, peer: &str) -> Option<&V> {
        let &i = self.index.get(peer)?;
        Some(&self.entries[i as usize].1)
    }

    pub fn get_mut(&mut self, peer: &str) -> Option<&mut V> {
        let &i = self.index.get(peer)?;
        Some(&mut self.entries[i as usize].1)
    }

    /// Insert or replace; returns the value replaced.
    pub fn insert(&mut self, peer: &str, v: V) -> Option<V> {
        match self.index.get(peer) {
            Some(&i) => Some(std::mem::replace(&mut self.entries[i as usize].1, v)),
            None => {
                self.index
                    .insert(peer.to_string(), self.entries.len() as u32);
                self.entries.push((peer.to_string(), v));
                None
            }
        }
    }

    pub fn remove(&mut self, peer: &str) -> Option<V> {
        let i = self.index.remove(peer)? as usize;
        let (_, v) = self.entries.swap_remove(i);
        if let Some((moved, _)) = self.entries.get(i) {
            self.index.insert(moved.clone(), i as u32);
        }
        Some(v)
    }

    /// The entry for `peer`, inserted with `make` when absent.
    pub fn entry(&mut self, peer: &str, make: impl FnOnce() -> V) -> &mut V {
        if !self.index.contains_key(peer) {
            self.insert(peer, make());
        }
        let i = self.index[peer] as usize;
        &mut self.entries[i].1
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Every entry, leaving the map empty.
    pub fn drain(&mut self) -> Vec<(String, V)> {
        self.index.clear();
        std::mem::take(&mut self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of inserts and removes leaves the map equal to a BTreeMap.
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec((any::<bool>(), 0u8..8, any::<u16>()), 0..60)) {
            let mut m = PeerMap::default();
            let mut r = BTreeMap::new();
            for (insert, k, v) in ops {
                let k = format!("n{k}");
                if insert {
                    prop_assert_eq!(m.insert(&k, v), r.insert(k.clone(), v));
                } else {
                    prop_assert_eq!(m.remove(&k), r.remove(&k));
                }
                prop_assert_eq!(m.len(), r.len());
                for (k, v) in &r {
                    prop_assert_eq!(m.get(k), Some(v));
                }
            }
            *m.entry("n9", || 5) += 1;
            prop_assert_eq!(m.get("n9"), Some(&6));
            let mut all: Vec<(String, u16)> = m.drain();
            all.sort();
            r.insert("n9".into(), 6);
            prop_assert_eq!(all, r.into_iter().collect::<Vec<_>>());
            prop_assert!(m.is_empty());
        }
    }
}
