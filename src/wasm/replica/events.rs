//! Core events and the host's own (`connected`, `refused`, ...) as JS event objects.

use super::super::values::key_to_js;
use super::*;
use crate::core::Event;
use js_sys::{Array, Object, Reflect};

impl Host {
    pub(super) fn event_to_js(&self, e: &Event) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        let kind = match e {
            Event::NodeUp(n) => {
                set("node", n.as_str().into());
                "nodeup"
            }
            Event::NodeDown(n) => {
                set("node", n.as_str().into());
                "nodedown"
            }
            Event::SiblingsDetected { key, count } => {
                set("key", key_to_js(key.as_slice()));
                set("count", (*count as f64).into());
                "siblings"
            }
            Event::ReadRepair { key, to } => {
                set("key", key_to_js(key.as_slice()));
                set(
                    "to",
                    to.iter()
                        .map(|n| JsValue::from_str(n.as_str()))
                        .collect::<Array>()
                        .into(),
                );
                "readrepair"
            }
            Event::HintStored { key, intended } => {
                set("key", key_to_js(key.as_slice()));
                set("node", intended.as_str().into());
                "hintstored"
            }
            Event::HintDelivered { key, to } => {
                set("key", key_to_js(key.as_slice()));
                set("node", to.as_str().into());
                "hintdelivered"
            }
            Event::MembershipChanged => {
                set("members", to_js(&self.members()).unwrap_or(JsValue::NULL));
                "membership"
            }
            Event::RingChanged { epoch } => {
                set("epoch", (*epoch as f64).into());
                "ring"
            }
            Event::SiblingsWarning { key, count } => {
                set("key", key_to_js(key.as_slice()));
                set("count", (*count as f64).into());
                "siblingswarning"
            }
            Event::CorruptRecord { store, key } => {
                set("store", store.name().into());
                set(
                    "key",
                    key.as_ref()
                        .map_or(JsValue::NULL, |k| key_to_js(k.as_slice())),
                );
                "corruptrecord"
            }
            // Events added to the core later reach JS too, described.
            other => {
                set("detail", format!("{other:?}").into());
                "other"
            }
        };
        set("type", kind.into());
        o.into()
    }

    /// The relay refused this node after it had joined: `{ type: 'refused', code, message,
    /// retrying }`.
    pub(super) fn refused_event(
        &self,
        code: &str,
        message: &str,
        retrying: bool,
        fx: &mut Vec<Effect>,
    ) {
        if let Some(l) = &self.listener {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &"refused".into());
            let _ = Reflect::set(&o, &"code".into(), &code.into());
            let _ = Reflect::set(&o, &"message".into(), &message.into());
            let _ = Reflect::set(&o, &"retrying".into(), &retrying.into());
            fx.push(Effect::Emit(l.clone(), o.into()));
        }
    }

    /// The relay did not deliver `count` of this node's frames (for `node`, when known):
    /// counted in `stats().relayDrops` and reported as `{ type: 'relaydrop', node, reason,
    /// count }`.
    pub(super) fn relay_dropped(
        &mut self,
        node: &str,
        reason: &str,
        count: u64,
        fx: &mut Vec<Effect>,
    ) {
        self.stats.relay_drops += count;
        if let Some(l) = &self.listener {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &"relaydrop".into());
            let node = if node.is_empty() {
                JsValue::NULL
            } else {
                node.into()
            };
            let _ = Reflect::set(&o, &"node".into(), &node);
            let _ = Reflect::set(&o, &"reason".into(), &reason.into());
            let _ = Reflect::set(&o, &"count".into(), &(count as f64).into());
            fx.push(Effect::Emit(l.clone(), o.into()));
        }
    }

    pub(super) fn host_event(&self, kind: &str, node: Option<&str>, fx: &mut Vec<Effect>) {
        if let Some(l) = &self.listener {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &kind.into());
            if let Some(n) = node {
                let _ = Reflect::set(&o, &"node".into(), &n.into());
            }
            fx.push(Effect::Emit(l.clone(), o.into()));
        }
    }
}
