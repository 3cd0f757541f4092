//! The calls an app makes beyond get/put/delete (issue 12): local reads, batches, counter
//! and set updates, watches, and going offline and back.

use super::super::errors::{self, from_core, invalid, js_error};
use super::super::now_ms;
use super::super::values::{key_to_bytes, value_to_bytes};
use super::*;
use crate::core::watch::{Target, WATCH_TTL_MS};
use crate::core::{ClientRequest, Input, Op};
use js_sys::{Array, Object, Reflect};

#[wasm_bindgen(js_class = WasmReplica)]
impl Replica {
    /// `get(key, { local: true })`: what this node holds of `key` (as replica, hint, or the
    /// versions a watch of it has seen), without asking anyone: `{ values, context, local:
    /// true }`, or `NOT_HELD`.
    #[wasm_bindgen(js_name = getLocal)]
    pub fn get_local(&self, key: JsValue) -> Result<JsValue, JsValue> {
        let key = key_to_bytes(&key)?;
        let h = self.host.borrow();
        if h.closed {
            return Err(errors::closed());
        }
        let Some(node) = h.node.as_ref() else {
            return Err(errors::closed());
        };
        let mut versions = node.read_local(&key);
        if let Some(seen) = h.watching.seen(key.as_slice()) {
            versions.sync(seen);
        }
        if versions.is_empty() {
            return Err(js_error(
                errors::NOT_HELD,
                "this node holds nothing of the key (it is no replica of it and holds no hint or watched copy)",
            ));
        }
        let reply = node.reply_for(&key, versions).map_err(|e| from_core(&e))?;
        let out = reply_to_js(reply);
        let _ = Reflect::set(&out, &"local".into(), &JsValue::TRUE);
        Ok(out)
    }

    /// `getMany(keys, options)`: one promise per key, submitted in one call.
    #[wasm_bindgen(js_name = getMany)]
    pub fn get_many(&self, keys: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let keys = array_arg(&keys, "getMany needs an array of keys")?;
        let options = request_options(&options, &["r", "timeoutMs"])?;
        Ok(keys
            .iter()
            .map(|k| -> JsValue {
                let options = options.clone();
                self.call(move || {
                    Ok(Input::Client {
                        id: 0,
                        request: ClientRequest::Get {
                            key: key_to_bytes(&k)?,
                            options,
                        },
                    })
                })
                .into()
            })
            .collect())
    }

    /// `putMany(entries)`: `entries` are `{ key, value, context?, w?, durable?, timeoutMs? }`
    /// or `[key, value]`; one promise per entry, submitted in one call.
    #[wasm_bindgen(js_name = putMany)]
    pub fn put_many(&self, entries: JsValue) -> Result<Array, JsValue> {
        let entries = array_arg(&entries, "putMany needs an array of entries")?;
        Ok(entries
            .iter()
            .map(|e| -> JsValue {
                self.call(move || {
                    let (key, value, opts) = if Array::is_array(&e) {
                        let a: Array = e.unchecked_into();
                        if a.length() != 2 {
                            return Err(invalid(
                                "a putMany entry is [key, value] or { key, value }",
                            ));
                        }
                        (a.get(0), a.get(1), JsValue::UNDEFINED)
                    } else if e.is_object() {
                        let rest = Object::assign(&Object::new(), e.unchecked_ref());
                        let _ = Reflect::delete_property(&rest, &"key".into());
                        let _ = Reflect::delete_property(&rest, &"value".into());
                        (get(&e, "key"), get(&e, "value"), rest.into())
                    } else {
                        return Err(invalid("a putMany entry is [key, value] or { key, value }"));
                    };
                    let key = key_to_bytes(&key)?;
                    let value = crate::core::Bytes::new(&value_to_bytes(&value)?);
                    let context = context_from_js(&get(&opts, "context"))?;
                    let options =
                        request_options(&opts, &["w", "durable", "timeoutMs", "context"])?;
                    Ok(Input::Client {
                        id: 0,
                        request: ClientRequest::Put {
                            key,
                            value,
                            context,
                            options,
                        },
                    })
                })
                .into()
            })
            .collect())
    }

    /// `update(key, { add } | { insert } | { remove }, options)`: a counter or set operation,
    /// applied by a replica of the key. Resolves with `{ context }`.
    pub fn update(&self, key: JsValue, op: JsValue, options: JsValue) -> Promise {
        self.call(|| {
            let key = key_to_bytes(&key)?;
            let op = parse_op(&op)?;
            let options = request_options(&options, &["w", "durable", "timeoutMs"])?;
            Ok(Input::Client {
                id: 0,
                request: ClientRequest::Update { key, op, options },
            })
        })
    }

    /// Watch a key (or every key starting with it, when `prefix`): subscribe at its
    /// replicas. Several listeners of one target share one subscription.
    pub fn watch(&self, key: JsValue, prefix: bool) -> Result<(), JsValue> {
        let key = key_to_bytes(&key)?;
        let target = Target { key, prefix };
        let mut fx = Vec::new();
        {
            let mut h = self.host.borrow_mut();
            if h.closed || h.node.is_none() {
                return Err(errors::closed());
            }
            if h.watching.add(target.clone(), now_ms()) {
                // What this node holds itself counts as a replica's first answer.
                let held = h
                    .node
                    .as_ref()
                    .map(|n| n.held_for(&target))
                    .unwrap_or_default();
                for (k, v) in held {
                    h.watched(&k, &v, &mut fx);
                }
                h.renew_watches();
            }
        }
        run(fx);
        Ok(())
    }

    /// Stop one listener's watch of `key`; the last one unsubscribes at the replicas.
    pub fn unwatch(&self, key: JsValue, prefix: bool) -> Result<(), JsValue> {
        let key = key_to_bytes(&key)?;
        let target = Target { key, prefix };
        let mut h = self.host.borrow_mut();
        if h.watching.remove(&target) && !h.closed && h.connected {
            h.send_watch(&target, 0);
        }
        Ok(())
    }

    /// Go offline: close the relay connection and the data channels, keep every state and
    /// timer. Requests go on (a `w: 1` write of a key this node replicates, or as the
    /// fallback actor, succeeds locally; others time out) until `connect()`.
    pub fn disconnect(&self) {
        let mut fx = Vec::new();
        let relay = {
            let mut h = self.host.borrow_mut();
            if h.closed || h.offline {
                return;
            }
            h.offline = true;
            let was = h.connected;
            h.connected = false;
            if let Some(handle) = h.reconnect_timer.take() {
                clear_timeout(&handle);
            }
            let peers: Vec<String> = h.traffic.peers.iter().map(|(p, _)| p.clone()).collect();
            let now = now_ms();
            if let Some(rtc) = h.rtc.as_mut() {
                for p in &peers {
                    rtc.close_channel(p, now);
                }
            }
            h.flush_rtc();
            if was {
                h.host_event("disconnected", None, &mut fx);
            }
            h.relay.take()
        };
        if let Some(r) = relay {
            r.close();
            spawn_local(async move { drop(r) });
        }
        run(fx);
    }

    /// Come back online after `disconnect()`: connect to the relay again (the `connected`
    /// event follows its welcome); hints and anti-entropy then bring the others this node's
    /// writes, and watches are renewed.
    pub fn connect(&self) {
        let weak = {
            let mut h = self.host.borrow_mut();
            if h.closed || !h.offline {
                return;
            }
            h.offline = false;
            h.reconnect_delay_ms = RECONNECT_MIN_MS;
            h.me.clone()
        };
        reconnect(&weak);
    }

    /// Connected to the relay (and not `disconnect()`ed).
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        let h = self.host.borrow();
        h.connected && !h.offline && !h.closed
    }

    /// Build `change` events (the JS wrapper turns this on while a listener wants them).
    #[wasm_bindgen(js_name = setChangeEvents)]
    pub fn set_change_events(&self, on: bool) {
        self.host.borrow_mut().emit_changes = on;
    }

    /// The subscriptions this node holds for watchers, and the targets it watches.
    #[wasm_bindgen(js_name = watchStats)]
    pub fn watch_stats(&self) -> JsValue {
        let h = self.host.borrow();
        let o = Object::new();
        let _ = Reflect::set(&o, &"subscribers".into(), &(h.subs.len() as f64).into());
        let watching = h.watching.targets().count() as f64;
        let _ = Reflect::set(&o, &"watching".into(), &watching.into());
        let _ = Reflect::set(&o, &"ttlMs".into(), &(WATCH_TTL_MS as f64).into());
        o.into()
    }
}

fn array_arg(v: &JsValue, message: &str) -> Result<Array, JsValue> {
    if !Array::is_array(v) {
        return Err(invalid(message));
    }
    let a: Array = v.clone().unchecked_into();
    if a.length() > 10_000 {
        return Err(invalid("at most 10,000 entries per batch"));
    }
    Ok(a)
}

/// `{ add: n }` (a counter), `{ insert: [..] }` or `{ remove: [..] }` (a set).
fn parse_op(v: &JsValue) -> Result<Op, JsValue> {
    const HOW: &str = "an update is { add: <integer> }, { insert: [...] } or { remove: [...] }";
    if !v.is_object() || Array::is_array(v) {
        return Err(invalid(HOW));
    }
    let keys = Object::keys(v.unchecked_ref::<Object>());
    if keys.length() != 1 {
        return Err(invalid(HOW));
    }
    let name = keys.get(0).as_string().unwrap_or_default();
    let arg = get(v, &name);
    match name.as_str() {
        "add" => match arg.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0 => {
                Ok(Op::CounterAdd(f as i64))
            }
            _ => Err(invalid("`add` must be a safe integer (negative subtracts)")),
        },
        "insert" | "remove" => {
            if !Array::is_array(&arg) {
                return Err(invalid(format!("`{name}` must be an array of elements")));
            }
            let a: Array = arg.unchecked_into();
            let mut elems = Vec::with_capacity(a.length() as usize);
            for e in a.iter() {
                elems.push(crate::core::Bytes::new(&value_to_bytes(&e)?));
            }
            Ok(if name == "insert" {
                Op::SetAdd(elems)
            } else {
                Op::SetRemove(elems)
            })
        }
        _ => Err(invalid(HOW)),
    }
}
