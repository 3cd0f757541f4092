//! The run loop: one input into the core, its outputs carried out (sends over a data
//! channel or the relay, persist batches to storage with group commit, replies and events
//! to JS), and the timer re-armed for `next_deadline()`.

use super::super::errors::from_core;
use super::super::now_ms;
use super::super::storage::{StorageError, Store};
use super::super::traffic::Path;
use super::*;
use crate::core::gossip;
use crate::core::{BatchId, Event, Input, Message, NodeId, Output, StoreOp};
use crate::link::bundle;
use crate::link::signal::{self, Signal};
use js_sys::{Function, Reflect};
use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen_futures::spawn_local;

impl Host {
    /// Handle `input` and everything it leads to (memory persists answer at once), carry out
    /// the outputs, and re-arm the timer. JS callbacks are returned, not run.
    pub(super) fn step(&mut self, input: Input, fx: &mut Vec<Effect>) {
        let mut inbox = vec![input];
        while let Some(input) = inbox.pop() {
            if let Input::Message { from, msg } = &input {
                if let Some(t) = &self.trace {
                    fx.push(Effect::Emit(t.clone(), trace_view("in", from, msg)));
                }
                self.on_host_message(from, msg, fx);
            }
            let Some(node) = self.node.as_mut() else {
                return;
            };
            node.handle(now_ms(), input);
            let outs: Vec<Output> = std::iter::from_fn(|| node.poll()).collect();
            for out in outs {
                match out {
                    Output::Send { to, msg } => {
                        if let Some(t) = &self.trace {
                            fx.push(Effect::Emit(t.clone(), trace_view("out", &to, &msg)));
                        }
                        self.send(&to, &msg)
                    }
                    Output::Persist { batch, ops } => {
                        self.on_stored(&ops, fx);
                        self.persist(batch, ops, &mut inbox);
                    }
                    Output::Reply { id, result } => {
                        if let Some(key) = self.write_keys.remove(&id) {
                            if let Some(n) = self.local_writes.get_mut(&key) {
                                *n -= 1;
                                if *n == 0 {
                                    self.local_writes.remove(&key);
                                }
                            }
                        }
                        if let Some(p) = self.replies.remove(&id) {
                            match result {
                                Ok(reply) => fx.push(Effect::Settle(p.resolve, reply_to_js(reply))),
                                Err(e) => fx.push(Effect::Settle(p.reject, from_core(&e))),
                            }
                        }
                    }
                    Output::Event(e) => {
                        if let Event::RingChanged { .. } = e {
                            self.watching.renew_now();
                        }
                        if let Some(l) = &self.listener {
                            let ev = self.event_to_js(&e);
                            fx.push(Effect::Emit(l.clone(), ev));
                        } else if self.early_events.len() < MAX_EARLY_EVENTS {
                            let ev = self.event_to_js(&e);
                            self.early_events.push(ev);
                        }
                    }
                }
            }
        }
        self.renew_watches();
        self.arm_timer();
    }

    /// Carry out one persist batch: memory storage answers at once (into `inbox`), the
    /// others asynchronously.
    fn persist(&mut self, batch: BatchId, ops: Vec<StoreOp>, inbox: &mut Vec<Input>) {
        match &self.store {
            Store::Memory(m) => inbox.insert(
                0,
                match m.apply(&ops) {
                    Ok(()) => Input::PersistDone { batch },
                    Err(e) => self.persist_failed(batch, e),
                },
            ),
            Store::IndexedDb(_) | Store::Js(_) => self.persist_async(batch, ops),
        }
    }

    pub(super) fn persist_failed(&mut self, batch: u64, e: StorageError) -> Input {
        self.stats.persist_failures += 1;
        Input::PersistFailed {
            batch,
            reason: e.reason,
            quota_exceeded: e.quota_exceeded,
        }
    }

    /// Queue the batch for storage. One transaction is in flight at a time; the batches
    /// that arrive meanwhile are committed together in the next one (group commit), so
    /// batches are applied in order and a busy node pays one transaction per group, not per
    /// batch.
    pub(super) fn persist_async(&mut self, batch: BatchId, ops: Vec<StoreOp>) {
        self.persists_in_flight += 1;
        self.idb_queue.push_back((batch, ops));
        if !self.idb_busy {
            self.idb_busy = true;
            let weak = self.me.clone();
            spawn_local(commit_queued(weak));
        }
    }

    /// Send a core message: over the peer's data channel when there is one (`src/wasm/rtc`),
    /// else through the relay. The core never knows which.
    ///
    /// Batches on the wire (issue 14): the message waits in the outbox until the end of the
    /// JavaScript task that made it (a microtask), and everything the task made for one
    /// peer then leaves as one frame (`link::bundle`; a message alone goes as it is).
    pub(super) fn send(&mut self, to: &NodeId, msg: &Message) {
        self.outbox
            .entry(to.as_str().to_string())
            .or_default()
            .push(msg.encode());
        if !self.outbox_queued {
            self.outbox_queued = true;
            queue_flush(self.me.clone());
        }
    }

    /// Send what the outbox holds: per peer, bundles of up to `BUNDLE_BYTES`.
    pub(super) fn flush_outbox(&mut self) {
        self.outbox_queued = false;
        for (to, msgs) in std::mem::take(&mut self.outbox) {
            self.stats.messages_out += msgs.len() as u64;
            for group in bundle::groups(&msgs, BUNDLE_BYTES) {
                match group {
                    [one] => self.send_bytes(&to, one),
                    many => {
                        self.stats.messages_bundled += many.len() as u64;
                        self.send_bytes(&to, &bundle::encode(many));
                    }
                }
            }
        }
    }

    /// One frame to `to`: over its data channel when there is one, else the relay.
    fn send_bytes(&mut self, to: &str, bytes: &[u8]) {
        if let Some(rtc) = self.rtc.as_mut() {
            if rtc.send(to, bytes, now_ms()) {
                self.traffic.sent(Path::DataChannel, to, bytes.len());
                self.flush_rtc();
                return;
            }
        }
        self.send_relay(to, bytes);
        self.flush_rtc();
    }

    pub(super) fn send_relay(&mut self, to: &str, bytes: &[u8]) {
        let sent = self.connected && self.relay.as_ref().is_some_and(|r| r.send_to(to, bytes));
        if sent {
            self.stats.frames_out += 1;
            self.traffic.sent(Path::Relay, to, bytes.len());
        } else {
            // The core treats the network as lossy: an unsent frame is a lost message.
            self.stats.frames_unsent += 1;
        }
    }

    pub(super) fn send_signal(&mut self, to: &str, s: &Signal) {
        let sent = self.connected
            && self
                .relay
                .as_ref()
                .is_some_and(|r| r.send_signal(to, &signal::encode(s)));
        if let (true, Some(rtc)) = (sent, self.rtc.as_mut()) {
            rtc.counters.signals_sent += 1;
        }
    }

    /// Carry out what the links asked for: signals, and re-sends through the relay.
    pub(super) fn flush_rtc(&mut self) {
        let Some(rtc) = self.rtc.as_mut() else {
            return;
        };
        if rtc.outbox.is_empty() && rtc.resend.is_empty() {
            return;
        }
        let signals = std::mem::take(&mut rtc.outbox);
        let resend = std::mem::take(&mut rtc.resend);
        for (to, s) in signals {
            self.send_signal(&to, &s);
        }
        for (to, m) in resend {
            self.send_relay(&to, &m);
        }
    }

    pub(super) fn arm_timer(&mut self) {
        let deadline = if self.closed {
            None
        } else {
            self.node.as_ref().and_then(|n| n.next_deadline())
        };
        if self.timer.as_ref().map(|t| t.0) == deadline {
            return;
        }
        if let Some((_, handle)) = self.timer.take() {
            clear_timeout(&handle);
        }
        if let (Some(at), Some(tick)) = (deadline, &self.tick) {
            let mut delay = at.saturating_sub(now_ms()).min(i32::MAX as u64) as f64;
            // A deadline that a tick did not move is not worth a busy loop.
            if self.last_fired == Some(at) {
                delay = delay.max(STUCK_DEADLINE_DELAY_MS);
            }
            let handle = set_timeout(tick.as_ref().unchecked_ref(), delay);
            self.timer = Some((at, handle));
        }
    }

    /// Nudge a node that knows no ring yet: open a gossip exchange with `peer` (the core
    /// only gossips with the seeds it was given, and a relay `joined` notice may name a
    /// better one).
    pub(super) fn kick(&mut self, peer: &str) {
        let Some(node) = &self.node else {
            return;
        };
        if node.ring().is_some() || peer == self.id.as_str() {
            return;
        }
        let msg = Message::Gossip {
            msg: gossip::open(node.membership()),
            rumors: Vec::new(),
        };
        self.send(&NodeId::new(peer), &msg);
    }
}

/// Commit the queued IndexedDB batches, a group per transaction, until the queue is empty.
/// A group that fails is retried batch by batch, so each batch still gets its own outcome
/// (`PersistDone` or `PersistFailed`, nothing of a failed batch applied) exactly as if it had
/// been committed alone.
pub(super) async fn commit_queued(weak: Weak<RefCell<Host>>) {
    loop {
        let Some(host) = weak.upgrade() else {
            return;
        };
        let (store, group) = {
            let mut h = host.borrow_mut();
            if h.idb_queue.is_empty() {
                h.idb_busy = false;
                return;
            }
            let mut group = Vec::new();
            let mut ops = 0;
            while let Some((b, o)) = h.idb_queue.pop_front() {
                ops += o.len();
                group.push((b, o));
                if ops >= MAX_GROUP_OPS {
                    break;
                }
            }
            (h.store.clone(), group)
        };
        drop(host);
        let mut outcomes = Vec::with_capacity(group.len());
        let all: Vec<StoreOp> = group.iter().flat_map(|(_, o)| o.iter().cloned()).collect();
        match store.apply(&all).await {
            Ok(()) => outcomes.extend(group.iter().map(|(b, _)| (*b, Ok(())))),
            Err(_) if group.len() > 1 => {
                for (b, o) in &group {
                    outcomes.push((*b, store.apply(o).await));
                }
            }
            Err(e) => outcomes.extend(group.iter().map(|(b, _)| (*b, Err(e.clone())))),
        }
        let Some(host) = weak.upgrade() else {
            return;
        };
        for (batch, result) in outcomes {
            let input = {
                let mut h = host.borrow_mut();
                h.persists_in_flight = h.persists_in_flight.saturating_sub(1);
                match result {
                    Ok(()) => Input::PersistDone { batch },
                    Err(e) => h.persist_failed(batch, e),
                }
            };
            feed(&host, input);
        }
    }
}

/// Feed one input and run what it leads to, then the JS callbacks.
pub(super) fn feed(host: &Shared, input: Input) {
    let mut fx = Vec::new();
    host.borrow_mut().step(input, &mut fx);
    run(fx);
}

/// Bytes of messages per bundle at most (well below the relay's 1 MiB frame limit, so that
/// a bundle is never refused and one peer's bundle does not hold a data channel for long).
const BUNDLE_BYTES: usize = 64 * 1024;

/// Send the outbox in a microtask: after the task that filled it, before the next task.
fn queue_flush(weak: Weak<RefCell<Host>>) {
    spawn_local(async move {
        let Some(host) = weak.upgrade() else {
            return;
        };
        let Ok(mut h) = host.try_borrow_mut() else {
            // Never expected in a microtask; try again in the next one rather than lose it.
            queue_flush(weak);
            return;
        };
        if !h.closed {
            h.flush_outbox();
        }
    });
}

pub(super) fn run(fx: Vec<Effect>) {
    for e in fx {
        match e {
            Effect::Settle(f, v) => {
                let _ = f.call1(&JsValue::NULL, &v);
            }
            Effect::Emit(f, v) => {
                // A throwing listener must not break the node.
                if let Err(err) = f.call1(&JsValue::NULL, &v) {
                    web_sys_console_error(&err);
                }
            }
        }
    }
}

pub(super) fn web_sys_console_error(err: &JsValue) {
    if let Ok(console) = Reflect::get(&js_sys::global(), &"console".into()) {
        if let Ok(f) = Reflect::get(&console, &"error".into()) {
            if let Some(f) = f.dyn_ref::<Function>() {
                let _ = f.call2(&console, &"ringlet: an event listener threw".into(), err);
            }
        }
    }
}

/// One traced message: direction, peer, kind, key (as text when it is UTF-8, else hex) and
/// the clocks of the versions it carries (paper notation).
fn trace_view(dir: &str, peer: &NodeId, msg: &Message) -> JsValue {
    #[derive(serde::Serialize)]
    struct TraceMsg<'a> {
        dir: &'a str,
        peer: &'a str,
        kind: &'static str,
        key: Option<String>,
        versions: Vec<String>,
    }
    let versions = match msg {
        Message::Replicate { versions, .. }
        | Message::ReadReply { versions, .. }
        | Message::Repair { versions, .. }
        | Message::Handoff { versions, .. }
        | Message::Transfer { versions, .. } => versions
            .versions()
            .iter()
            .map(|v| v.clock().to_string())
            .collect(),
        _ => Vec::new(),
    };
    let key = msg.key().map(|k| match std::str::from_utf8(k) {
        Ok(s) => s.to_string(),
        Err(_) => k.iter().map(|b| format!("{b:02x}")).collect(),
    });
    to_js(&TraceMsg {
        dir,
        peer: peer.as_str(),
        kind: msg.kind(),
        key,
        versions,
    })
    .unwrap_or(JsValue::NULL)
}
