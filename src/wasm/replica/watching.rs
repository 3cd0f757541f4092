//! Watches and change events (issue 12) in the host: the `core::watch` state machines fed
//! with what this node stores (`Output::Persist`) and the watch messages it receives.
//!
//! - As a replica: a `Watch` from another node subscribes it ([`Subscriptions`]) and is
//!   answered with what this node holds of the key; every new version this node stores
//!   (`StoreOp::PutObject`, `PutHint`) goes to the key's live subscribers as `WatchNotify`,
//!   and to this node's own `change` listeners.
//! - As a watcher: `WatchNotify`s and this node's own stores are merged into what it has
//!   seen ([`Watching`]); a new version (or the first answer after a reconnect) is a `watch`
//!   event the JS wrapper hands to the listeners whose key or prefix matches.
//! - The resolver check: a `ResolversProbe` is answered with this node's resolver table.

use super::super::now_ms;
use super::super::values::key_to_js;
use super::*;
use crate::core::watch::{Target, WATCH_TTL_MS};
use crate::core::{Message, NodeId, Siblings, StoreOp};
use js_sys::Reflect;

impl Host {
    /// A message only the host acts on (the node ignores these). Returns nothing: answers
    /// are sent and events queued in `fx`.
    pub(super) fn on_host_message(&mut self, from: &NodeId, msg: &Message, fx: &mut Vec<Effect>) {
        let now = now_ms();
        match msg {
            Message::Watch {
                key,
                prefix,
                ttl_ms,
            } => {
                let target = Target {
                    key: key.clone(),
                    prefix: *prefix,
                };
                let new = self.subs.on_watch(from, target.clone(), *ttl_ms, now);
                // A key's subscriber is told what is held at every (re)subscription, a
                // prefix's only at a new one (a reconnecting watcher resubscribes).
                if *ttl_ms > 0 && (new || !prefix) {
                    let held = self
                        .node
                        .as_ref()
                        .map(|n| n.held_for(&target))
                        .unwrap_or_default();
                    for (key, versions) in held {
                        self.send(from, &Message::WatchNotify { key, versions });
                    }
                }
            }
            Message::WatchNotify { key, versions } => self.watched(key, versions, fx),
            Message::ResolversProbe { .. } => {
                if let Some(rules) = self.node.as_ref().map(|n| n.config().resolvers.clone()) {
                    self.send(from, &Message::ResolversAre { rules });
                }
            }
            Message::ResolversAre { rules } if self.resolver_answers.len() < 64 => {
                self.resolver_answers
                    .push((from.to_string(), rules.clone()));
            }
            _ => {}
        }
    }

    /// This node stored `ops`: tell the subscribers of each key, this node's own watchers,
    /// and the `change` listeners.
    pub(super) fn on_stored(&mut self, ops: &[StoreOp], fx: &mut Vec<Effect>) {
        let now = now_ms();
        for op in ops {
            let (key, versions) = match op {
                StoreOp::PutObject { key, versions } => (key, versions),
                StoreOp::PutHint { key, versions, .. } => (key, versions),
                _ => continue,
            };
            for to in self.subs.watchers_of(key.as_slice(), now) {
                let msg = Message::WatchNotify {
                    key: key.clone(),
                    versions: versions.clone(),
                };
                self.send(&to, &msg);
            }
            if self.emit_changes {
                if let Some(ev) = self.key_event("change", key, versions.clone()) {
                    self.emit(ev, fx);
                }
            }
            self.watched(key, versions, fx);
        }
    }

    /// Versions of a watched key, from a replica or this node's own store.
    pub(super) fn watched(&mut self, key: &Bytes, versions: &Siblings, fx: &mut Vec<Effect>) {
        let Some((merged, _new)) = self.watching.merge(key, versions, now_ms()) else {
            return;
        };
        if let Some(ev) = self.key_event("watch", key, merged) {
            self.emit(ev, fx);
        }
    }

    /// `{ type, key, values, context, origin }`: `origin` is `'local'` while a write of the
    /// key by this node is in flight.
    fn key_event(&self, kind: &str, key: &Bytes, versions: Siblings) -> Option<JsValue> {
        let node = self.node.as_ref()?;
        let reply = node.reply_for(key, versions).ok()?;
        let ev = reply_to_js(reply);
        // A change is no read: it has no `partial`.
        let _ = Reflect::delete_property(ev.unchecked_ref::<js_sys::Object>(), &"partial".into());
        let origin = if self.local_writes.contains_key(key) {
            "local"
        } else {
            "remote"
        };
        let _ = Reflect::set(&ev, &"type".into(), &kind.into());
        let _ = Reflect::set(&ev, &"key".into(), &key_to_js(key.as_slice()));
        let _ = Reflect::set(&ev, &"origin".into(), &origin.into());
        Some(ev)
    }

    fn emit(&self, ev: JsValue, fx: &mut Vec<Effect>) {
        if let Some(l) = &self.listener {
            fx.push(Effect::Emit(l.clone(), ev));
        }
    }

    /// Subscribe to `target` at its replicas (`ttl_ms` 0: unsubscribe).
    pub(super) fn send_watch(&mut self, target: &Target, ttl_ms: u64) {
        let msgs = self
            .node
            .as_ref()
            .map(|n| n.watch_messages(target, ttl_ms))
            .unwrap_or_default();
        for (to, msg) in msgs {
            self.send(&to, &msg);
        }
    }

    /// Renew every subscription when due (periodically, and at once after a new watch, a
    /// ring change or a reconnection). A resyncing prefix is unsubscribed first, so that
    /// its replicas answer with what they hold.
    pub(super) fn renew_watches(&mut self) {
        let now = now_ms();
        if !self.connected || self.offline || !self.watching.renew_due(now) {
            return;
        }
        self.watching.renewed(now);
        let targets: Vec<Target> = self.watching.targets().cloned().collect();
        for t in &targets {
            self.send_watch(t, WATCH_TTL_MS);
        }
        self.subs.expire(now);
    }

    /// A reconnection: resubscribe everything now, and report each watched key's next
    /// answer once (what the watcher may have missed).
    pub(super) fn resync_watches(&mut self) {
        self.watching.resync_all(now_ms());
        let prefixes: Vec<Target> = self
            .watching
            .targets()
            .filter(|t| t.prefix)
            .cloned()
            .collect();
        for t in &prefixes {
            self.send_watch(t, 0);
        }
    }
}
