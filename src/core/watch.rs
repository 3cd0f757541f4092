//! Watching keys (issue 12), the Dynamo way: a watcher registers its interest with the
//! key's replicas, and they tell it when they store a new version. The paper has no
//! notifications; this keeps its shape (no central broker, every replica alike, soft state):
//!
//! - **Subscribe.** A node that watches a key sends `Message::Watch { key, prefix: false,
//!   ttl_ms }` to the key's N primaries (for a prefix, to every owner of the ring). The
//!   subscription is soft state at the replica ([`Subscriptions`]): it expires after
//!   `ttl_ms` unless renewed, so a watcher that closes, crashes or goes offline costs
//!   nothing after [`WATCH_TTL_MS`]. `ttl_ms: 0` is an unwatch.
//! - **Renew.** The watcher renews every [`WATCH_RENEW_MS`], and at once after a ring change
//!   (the key may have new primaries) and after it reconnects.
//! - **Notify.** A replica that stores a new version of a watched key (a put it coordinated
//!   or replicated, a hint, read repair, anti-entropy, a transfer) sends
//!   `Message::WatchNotify { key, versions }` with every sibling it now holds. On a new
//!   subscription it also sends what it holds of the key (of a prefix: of at most
//!   [`MAX_HELD_ON_SUBSCRIBE`] keys), so a watcher that reconnects learns what it missed.
//! - **Deduplicate.** The watcher merges notifications into the versions it has seen
//!   ([`Watching::merge`], the DVV merge), and reports a change only when they bring a
//!   version it had not seen: N replicas notifying the same write is one change. After a
//!   reconnect (and on a new watch) the next notification is reported once even if nothing
//!   changed ([`Watching::resync`]), so the watcher is given the current value.
//!
//! Nothing here is needed for safety: a lost notification is a missed screen update, never
//! a lost write. The state machine is a pure value like the rest of the core; the host feeds
//! it what its node stores (`Output::Persist`) and the watch messages it receives.

use super::bytes::Bytes;
use super::dvv::{Dot, Siblings};
use super::error::Error;
use super::id::NodeId;
use super::io::ClientReply;
use super::message::Message;
use super::node::Node;
use super::resolve::resolve;
use std::collections::{BTreeMap, BTreeSet};

/// A subscription lives this long at a replica unless renewed.
pub const WATCH_TTL_MS: u64 = 30_000;
/// A watcher renews its subscriptions this often.
pub const WATCH_RENEW_MS: u64 = 10_000;
/// A replica keeps at most this many subscriptions (one per watcher and key or prefix).
pub const MAX_SUBSCRIPTIONS: usize = 10_000;
/// After a reconnect or a new watch, the answers to the subscription are reported even
/// when unchanged for this long.
pub const RESYNC_WINDOW_MS: u64 = 5_000;
/// On a new prefix subscription a replica sends what it holds of at most this many keys.
pub const MAX_HELD_ON_SUBSCRIBE: usize = 256;

/// What a subscription is for: one key, or every key that starts with a prefix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub key: Bytes,
    pub prefix: bool,
}

impl Target {
    pub fn matches(&self, key: &[u8]) -> bool {
        if self.prefix {
            key.starts_with(self.key.as_slice())
        } else {
            key == self.key.as_slice()
        }
    }
}

/// Replica side: who watches what here, until when.
#[derive(Clone, Debug, Default)]
pub struct Subscriptions {
    subs: BTreeMap<Target, BTreeMap<NodeId, u64>>,
    count: usize,
}

impl Subscriptions {
    /// A `Watch` message from `from`: subscribe (or renew) until `now + ttl_ms`, or
    /// unsubscribe when `ttl_ms` is 0. True when this is a new subscription.
    pub fn on_watch(&mut self, from: &NodeId, target: Target, ttl_ms: u64, now: u64) -> bool {
        if ttl_ms == 0 {
            if let Some(w) = self.subs.get_mut(&target) {
                if w.remove(from).is_some() {
                    self.count -= 1;
                }
                if w.is_empty() {
                    self.subs.remove(&target);
                }
            }
            return false;
        }
        let expires = now.saturating_add(ttl_ms.min(WATCH_TTL_MS));
        if let Some(at) = self.subs.get_mut(&target).and_then(|w| w.get_mut(from)) {
            *at = expires;
            return false;
        }
        if self.count >= MAX_SUBSCRIPTIONS {
            self.expire(now);
            if self.count >= MAX_SUBSCRIPTIONS {
                return false;
            }
        }
        self.subs
            .entry(target)
            .or_default()
            .insert(from.clone(), expires);
        self.count += 1;
        true
    }

    /// The live watchers of `key` (each once), in order. The cost does not grow with the
    /// subscriptions held: one lookup for the key, and one per prefix of it (`len + 1`).
    pub fn watchers_of(&self, key: &[u8], now: u64) -> Vec<NodeId> {
        if self.subs.is_empty() {
            return Vec::new();
        }
        let mut out = BTreeSet::new();
        let exact = std::iter::once((key, false));
        let prefixes = (0..=key.len()).map(|i| (&key[..i], true));
        for (k, prefix) in exact.chain(prefixes) {
            let t = Target {
                key: Bytes::new(k),
                prefix,
            };
            if let Some(w) = self.subs.get(&t) {
                let live = w.iter().filter(|(_, at)| **at > now);
                out.extend(live.map(|(n, _)| n.clone()));
            }
        }
        out.into_iter().collect()
    }

    /// Drop the expired subscriptions.
    pub fn expire(&mut self, now: u64) {
        let mut dropped = 0;
        self.subs.retain(|_, w| {
            let before = w.len();
            w.retain(|_, at| *at > now);
            dropped += before - w.len();
            !w.is_empty()
        });
        self.count -= dropped;
    }

    /// Subscriptions held (expired ones included until the next `expire`).
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Watcher side: what this node watches, and the versions of each watched key it has seen.
#[derive(Clone, Debug, Default)]
pub struct Watching {
    /// How many listeners watch each target.
    targets: BTreeMap<Target, usize>,
    seen: BTreeMap<Bytes, Siblings>,
    /// Targets whose next notification of each key is reported even if it brings nothing
    /// new, until the given time (a key's ends at its first notification).
    resync: BTreeMap<Target, u64>,
    /// Keys already reported in the current resync of a prefix.
    resynced: BTreeSet<Bytes>,
    next_renew_ms: u64,
}

impl Watching {
    /// One more listener of `target`; true when the target is new (subscribe now).
    pub fn add(&mut self, target: Target, now: u64) -> bool {
        let n = self.targets.entry(target.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.resync.insert(target, now + RESYNC_WINDOW_MS);
            self.renew_now();
            true
        } else {
            false
        }
    }

    /// One listener fewer; true when it was the last (unsubscribe now).
    pub fn remove(&mut self, target: &Target) -> bool {
        let Some(n) = self.targets.get_mut(target) else {
            return false;
        };
        *n -= 1;
        if *n > 0 {
            return false;
        }
        self.targets.remove(target);
        self.resync.remove(target);
        let targets = &self.targets;
        self.seen
            .retain(|k, _| targets.keys().any(|t| t.matches(k.as_slice())));
        true
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// True when some listener watches `key`.
    pub fn watches(&self, key: &[u8]) -> bool {
        self.targets.keys().any(|t| t.matches(key))
    }

    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.targets.keys()
    }

    /// After a reconnect: report the next notification of every target once, changed or not.
    pub fn resync_all(&mut self, now: u64) {
        let until = now + RESYNC_WINDOW_MS;
        // Inserted one by one: a collect into a map would add a sort to the wasm build.
        self.resync.clear();
        for t in self.targets.keys() {
            self.resync.insert(t.clone(), until);
        }
        self.resynced.clear();
        self.renew_now();
    }

    /// Merge `versions` of `key` into what was seen. `Some((merged, new dots))` when there
    /// is something to report: a version not seen before, or a resync of the key.
    pub fn merge(
        &mut self,
        key: &Bytes,
        versions: &Siblings,
        now: u64,
    ) -> Option<(Siblings, Vec<Dot>)> {
        if !self.watches(key) {
            return None;
        }
        let seen = self.seen.entry(key.clone()).or_default();
        let before: Vec<Dot> = seen.versions().iter().map(|v| v.dot.clone()).collect();
        let changed = seen.sync(versions);
        let merged = seen.clone();
        self.resync.retain(|_, until| *until > now);
        let resync: Vec<Target> = self
            .resync
            .keys()
            .filter(|t| t.matches(key))
            .cloned()
            .collect();
        let mut resyncing = false;
        for t in &resync {
            if !t.prefix {
                // A key's resync ends with its first notification.
                self.resync.remove(t);
                resyncing = true;
            } else if self.resynced.insert(key.clone()) {
                // A prefix's covers each of its keys once, within the window.
                resyncing = true;
            }
        }
        if !changed && !resyncing {
            return None;
        }
        let new = merged
            .versions()
            .iter()
            .map(|v| v.dot.clone())
            .filter(|d| !before.contains(d))
            .collect();
        Some((merged, new))
    }

    /// What has been seen of `key` (a watched key's cache).
    pub fn seen(&self, key: &[u8]) -> Option<&Siblings> {
        self.seen.get(key)
    }

    /// Time to renew the subscriptions (periodically; `renew_now` forces the next one).
    pub fn renew_due(&self, now: u64) -> bool {
        !self.targets.is_empty() && now >= self.next_renew_ms
    }

    pub fn renewed(&mut self, now: u64) {
        self.next_renew_ms = now + WATCH_RENEW_MS;
    }

    pub fn renew_now(&mut self) {
        self.next_renew_ms = 0;
    }
}

impl Node {
    /// Where a subscription to `target` goes: the key's N primaries, or, for a prefix,
    /// every owner of the ring; never this node itself.
    pub fn watch_targets(&self, target: &Target) -> Vec<NodeId> {
        let Some(ring) = self.ring() else {
            return Vec::new();
        };
        // Distinct and ordered, inserted one by one (no new sort in the wasm build).
        let mut to = BTreeSet::new();
        if target.prefix {
            to.extend(ring.owners().iter().cloned());
        } else {
            let pl = ring.preflist_for_key(target.key.as_slice());
            to.extend(pl.into_iter().take(self.config().n));
        }
        to.remove(self.id());
        to.into_iter().collect()
    }

    /// The `Watch` messages that subscribe to `target` (`ttl_ms` 0: unsubscribe).
    pub fn watch_messages(&self, target: &Target, ttl_ms: u64) -> Vec<(NodeId, Message)> {
        self.watch_targets(target)
            .into_iter()
            .map(|to| {
                let msg = Message::Watch {
                    key: target.key.clone(),
                    prefix: target.prefix,
                    ttl_ms,
                };
                (to, msg)
            })
            .collect()
    }

    /// What this node holds of the keys `target` covers (for a new subscriber), at most
    /// [`MAX_HELD_ON_SUBSCRIBE`] keys.
    pub fn held_for(&self, target: &Target) -> Vec<(Bytes, Siblings)> {
        if !target.prefix {
            let s = self.read_local(&target.key);
            return if s.is_empty() {
                Vec::new()
            } else {
                vec![(target.key.clone(), s)]
            };
        }
        let mut keys = BTreeSet::new();
        keys.extend(
            self.objects()
                .map(|(k, _)| k)
                .chain(self.hints().map(|((_, k), _)| k))
                .filter(|k| target.matches(k.as_slice()))
                .cloned(),
        );
        while keys.len() > MAX_HELD_ON_SUBSCRIBE {
            keys.pop_last();
        }
        keys.into_iter()
            .map(|k| {
                let s = self.read_local(&k);
                (k, s)
            })
            .collect()
    }

    /// `versions` of `key` as a get would answer them (the key's resolver, the context),
    /// without asking anyone: a local read, and what a watcher is told.
    pub fn reply_for(&self, key: &Bytes, versions: Siblings) -> Result<ClientReply, Error> {
        let resolver = self.config().resolvers.for_key(key);
        let value = resolve(resolver, &versions).map_err(|e| Error::Corrupt(e.to_string()))?;
        Ok(ClientReply::Get {
            value,
            context: self.reply_context(key, versions.context(), &versions),
            versions,
            partial: false,
        })
    }

    /// `get(key, { local: true })`: what this node holds of `key` as a replica or a hint,
    /// `None` when it holds nothing. No message is sent and nothing is repaired.
    pub fn read_held(&self, key: &Bytes) -> Option<Result<ClientReply, Error>> {
        let s = self.read_local(key);
        if s.is_empty() {
            return None;
        }
        Some(self.reply_for(key, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dvv::{Value, Version, VersionVector};

    fn t(key: &str, prefix: bool) -> Target {
        Target {
            key: Bytes::new(key.as_bytes()),
            prefix,
        }
    }

    fn version(node: &str, counter: u64, past: &[(&str, u64)], v: &str) -> Siblings {
        Siblings::from_versions([Version {
            dot: Dot::new(node, counter),
            past: VersionVector::from_pairs(past.iter().copied()),
            value: Value::Data(Bytes::new(v.as_bytes())),
            timestamp_ms: 0,
        }])
    }

    #[test]
    fn subscriptions_expire_renew_and_unsubscribe() {
        let mut s = Subscriptions::default();
        let a = NodeId::new("a");
        assert!(s.on_watch(&a, t("cart/1", false), 1_000, 0));
        assert!(!s.on_watch(&a, t("cart/1", false), 1_000, 500), "a renewal");
        assert!(s.on_watch(&a, t("cart/", true), 1_000, 500));
        assert_eq!(s.watchers_of(b"cart/1", 1_200), vec![a.clone()]);
        assert_eq!(s.watchers_of(b"cart/2", 1_200), vec![a.clone()]);
        assert_eq!(s.watchers_of(b"likes/1", 1_200), Vec::<NodeId>::new());
        assert_eq!(
            s.watchers_of(b"cart/1", 1_600),
            Vec::<NodeId>::new(),
            "expired"
        );
        s.expire(1_600);
        assert!(s.is_empty());
        assert!(s.on_watch(&a, t("k", false), 1_000, 0));
        s.on_watch(&a, t("k", false), 0, 10);
        assert_eq!(s.len(), 0);
        assert_eq!(
            s.watchers_of(b"k", 20),
            Vec::<NodeId>::new(),
            "unsubscribed"
        );
        // A TTL above the maximum is cut to it.
        s.on_watch(&a, t("k", false), u64::MAX, 0);
        assert!(s.watchers_of(b"k", WATCH_TTL_MS + 1).is_empty());
    }

    #[test]
    fn a_version_is_reported_once_whatever_the_replicas_notifying_it() {
        let mut w = Watching::default();
        let key = Bytes::new(b"cart/1");
        assert!(w.add(t("cart/1", false), 0));
        assert!(
            !w.add(t("cart/1", false), 0),
            "a second listener of the same key"
        );
        let v1 = version("a", 1, &[], "milk");
        // A new watch is given the current value once, even with nothing new later.
        let (merged, new) = w.merge(&key, &v1, 0).expect("first notification");
        assert_eq!(merged.len(), 1);
        assert_eq!(new, vec![Dot::new("a", 1)]);
        assert!(
            w.merge(&key, &v1, 0).is_none(),
            "the same version from another replica"
        );
        let v2 = version("b", 1, &[("a", 1)], "eggs");
        let (merged, new) = w.merge(&key, &v2, 0).expect("a newer version");
        assert_eq!(merged.len(), 1, "v2 supersedes v1");
        assert_eq!(new, vec![Dot::new("b", 1)]);
        // After a reconnect: reported once though nothing changed.
        w.resync_all(0);
        assert!(w.merge(&key, &v2, 0).is_some());
        assert!(w.merge(&key, &v2, 0).is_none());
        assert!(
            w.merge(&Bytes::new(b"other"), &v2, 0).is_none(),
            "not watched"
        );
        assert!(!w.remove(&t("cart/1", false)));
        assert!(w.remove(&t("cart/1", false)), "the last listener");
        assert!(w.seen(b"cart/1").is_none());
        assert!(w.merge(&key, &v2, 0).is_none());
    }

    #[test]
    fn renewal_is_periodic_and_can_be_forced() {
        let mut w = Watching::default();
        assert!(!w.renew_due(0), "nothing watched");
        w.add(t("p/", true), 0);
        assert!(w.renew_due(0), "a new watch subscribes at once");
        w.renewed(0);
        assert!(!w.renew_due(WATCH_RENEW_MS - 1));
        assert!(w.renew_due(WATCH_RENEW_MS));
        w.renew_now();
        assert!(w.renew_due(1));
    }

    #[test]
    fn a_prefix_resync_reports_each_key_once_within_its_window() {
        let mut w = Watching::default();
        w.add(t("cart/", true), 0);
        let v = version("a", 1, &[], "x");
        let (k1, k2) = (Bytes::new(b"cart/1"), Bytes::new(b"cart/2"));
        assert!(w.merge(&k1, &v, 10).is_some());
        assert!(w.merge(&k2, &v, 10).is_some());
        w.resync_all(100);
        assert!(w.merge(&k1, &v, 200).is_some(), "resync of k1");
        assert!(w.merge(&k1, &v, 300).is_none(), "once");
        assert!(
            w.merge(&k2, &v, 100 + RESYNC_WINDOW_MS).is_none(),
            "window over"
        );
    }
}
