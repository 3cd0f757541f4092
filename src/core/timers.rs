//! The request state machines keyed by request id, with their deadlines kept in order
//! (issue 14: a node with 10,000 requests in flight pays O(log n) per input, not a scan of
//! every request, to find what is due and when to be called back; quinn-proto keeps a timer
//! table for the same reason).
//!
//! Every way to change an entry re-arms its deadline: `insert` at once, `get_mut` by marking
//! the entry, which `due` and `next_deadline` read as it is now, and `settle` (at the end of
//! every input) puts back in order. So the order is never stale.

use super::message::Rid;
use std::collections::{btree_map, BTreeMap, BTreeSet};

/// A state machine that wants to be called back at a time.
pub(crate) trait Timed {
    /// The next time (ms) it has something to do.
    fn next_deadline(&self) -> u64;
}

/// Request state machines by id, with an ordered index of their deadlines.
#[derive(Clone, Debug)]
pub(crate) struct TimedMap<V> {
    /// Each entry with the deadline it is filed under in `order`.
    items: BTreeMap<Rid, (u64, V)>,
    order: BTreeSet<(u64, Rid)>,
    /// Entries handed out by `get_mut` since the last `settle`: their deadline may have moved.
    touched: BTreeSet<Rid>,
}

impl<V> Default for TimedMap<V> {
    fn default() -> Self {
        TimedMap {
            items: BTreeMap::new(),
            order: BTreeSet::new(),
            touched: BTreeSet::new(),
        }
    }
}

impl<V: Timed> TimedMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, rid: Rid, v: V) -> Option<V> {
        let old = self.remove(&rid);
        let at = v.next_deadline();
        self.order.insert((at, rid));
        self.items.insert(rid, (at, v));
        old
    }

    pub fn remove(&mut self, rid: &Rid) -> Option<V> {
        let (at, v) = self.items.remove(rid)?;
        self.order.remove(&(at, *rid));
        self.touched.remove(rid);
        Some(v)
    }

    pub fn get(&self, rid: &Rid) -> Option<&V> {
        self.items.get(rid).map(|(_, v)| v)
    }

    /// The entry, to change: its deadline is read again (`settle`).
    pub fn get_mut(&mut self, rid: &Rid) -> Option<&mut V> {
        let (_, v) = self.items.get_mut(rid)?;
        self.touched.insert(*rid);
        Some(v)
    }

    pub fn contains_key(&self, rid: &Rid) -> bool {
        self.items.contains_key(rid)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.items.values().map(|(_, v)| v)
    }

    pub fn iter(&self) -> Iter<'_, V> {
        Iter(self.items.iter())
    }

    /// File every changed entry under its deadline as it is now.
    pub fn settle(&mut self) {
        for rid in std::mem::take(&mut self.touched) {
            if let Some((at, v)) = self.items.get_mut(&rid) {
                let new = v.next_deadline();
                if new != *at {
                    self.order.remove(&(*at, rid));
                    self.order.insert((new, rid));
                    *at = new;
                }
            }
        }
    }

    /// The ids whose deadline has come at `now`, earliest first.
    pub fn due(&mut self, now: u64) -> Vec<Rid> {
        self.settle();
        self.order
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, rid)| *rid)
            .collect()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        let filed = self
            .order
            .iter()
            .find(|(_, rid)| !self.touched.contains(rid))
            .map(|(at, _)| *at);
        let touched = self
            .touched
            .iter()
            .filter_map(|rid| self.items.get(rid))
            .map(|(_, v)| v.next_deadline())
            .min();
        filed.into_iter().chain(touched).min()
    }
}

/// The entries in id order.
pub(crate) struct Iter<'a, V>(btree_map::Iter<'a, Rid, (u64, V)>);

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a Rid, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(r, (_, v))| (r, v))
    }
}

impl<'a, V: Timed> IntoIterator for &'a TimedMap<V> {
    type Item = (&'a Rid, &'a V);
    type IntoIter = Iter<'a, V>;
    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct T(u64);
    impl Timed for T {
        fn next_deadline(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn due_and_next_deadline_follow_every_change() {
        let mut m = TimedMap::new();
        m.insert(1, T(30));
        m.insert(2, T(10));
        m.insert(3, T(20));
        assert_eq!(m.next_deadline(), Some(10));
        assert_eq!(m.due(20), vec![2, 3]);
        m.get_mut(&2).unwrap().0 = 40;
        assert_eq!(m.next_deadline(), Some(20));
        assert_eq!(m.due(30), vec![3, 1]);
        m.insert(3, T(50));
        assert_eq!(m.remove(&1).map(|t| t.0), Some(30));
        assert_eq!(m.due(45), vec![2]);
        assert_eq!(m.next_deadline(), Some(40));
        m.remove(&2);
        m.remove(&3);
        assert_eq!(m.len(), 0);
        assert_eq!(m.next_deadline(), None);
    }
}
