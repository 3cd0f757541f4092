//! The links to other nodes: the relay connection (welcome, refusals, reconnection with
//! backoff and fresh tokens) and the WebRTC data channels' events.

use super::super::auth::{self, TokenSource};
use super::super::errors::{self, closed, js_error};
use super::super::now_ms;
use super::super::rtc::peer::PeerEvent;
use super::super::traffic::Path;
use super::super::transport::{Relay, RelayEvent};
use super::*;
use crate::core::{Input, Message, NodeId};
use crate::link::bundle;
use crate::link::signal::{self, ByeReason, Signal};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Promise, Reflect};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;

/// Connect to the relay and wait for its welcome (the peers), retrying while the relay
/// says the id is still in use (a reloaded tab whose old connection has not ended yet).
pub(super) async fn connect_until_welcome(
    host: &Shared,
    deadline: u64,
) -> Result<Vec<String>, JsValue> {
    loop {
        let mut settle = None;
        let promise =
            Promise::new(&mut |resolve, reject| settle = Some(Pending { resolve, reject }));
        let Some(pending) = settle else {
            return Err(js_error(errors::RELAY_FAILED, "cannot wait for the relay"));
        };
        let source = host.borrow().token.clone();
        let (cluster, id) = {
            let h = host.borrow();
            (h.cluster.clone(), h.id.to_string())
        };
        let token = source
            .fetch(&cluster, &id, deadline.saturating_sub(now_ms()))
            .await?;
        {
            let mut h = host.borrow_mut();
            if h.closed {
                return Err(closed());
            }
            h.welcome = Some(pending);
            let relay = connect(&h, token.as_deref())?;
            h.relay = Some(relay);
        }
        // Give up at the deadline (a cancelled timer, so a Node.js process is not kept
        // alive by it after the welcome).
        let weak = Rc::downgrade(host);
        let wait = deadline.saturating_sub(now_ms()) as f64;
        let give_up = Closure::<dyn FnMut()>::new(move || {
            let Some(h) = weak.upgrade() else {
                return;
            };
            let w = h.borrow_mut().welcome.take();
            if let Some(p) = w {
                let e = js_error(
                    errors::TIMEOUT,
                    "the relay did not welcome this node in time",
                );
                let _ = p.reject.call1(&JsValue::NULL, &e);
            }
        });
        let handle = set_timeout(give_up.as_ref().unchecked_ref(), wait);
        let settled = wasm_bindgen_futures::JsFuture::from(promise).await;
        clear_timeout(&handle);
        drop(give_up);
        match settled {
            Ok(peers) => {
                let peers = peers
                    .dyn_ref::<Array>()
                    .map(|a| a.iter().filter_map(|p| p.as_string()).collect())
                    .unwrap_or_default();
                return Ok(peers);
            }
            Err(e) => {
                let in_use = Reflect::get(&e, &"code".into())
                    .ok()
                    .and_then(|c| c.as_string())
                    == Some(errors::NODE_ID_IN_USE.to_string());
                let retryable = Reflect::get(&e, &"retryable".into())
                    .ok()
                    .and_then(|r| r.as_bool())
                    == Some(true);
                if (in_use || retryable) && now_ms() + 500 < deadline {
                    TimeoutFuture::new(500).await;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

pub(super) fn connect(h: &Host, token: Option<&str>) -> Result<Relay, JsValue> {
    let weak = h.me.clone();
    let sink: Rc<dyn Fn(RelayEvent)> = Rc::new(move |ev| {
        if let Some(h) = weak.upgrade() {
            on_relay(&h, ev);
        }
    });
    let relay = match &h.relay_url {
        RelayTarget::Url(url) => Relay::connect(url, &h.cluster, h.id.as_str(), token, sink),
        RelayTarget::Endpoint(e) => Relay::connect_js(e, &h.cluster, h.id.as_str(), sink),
    };
    relay.map_err(|e| {
        js_error(
            errors::RELAY_FAILED,
            format!(
                "cannot connect to the relay {}: {e}",
                h.relay_url.describe()
            ),
        )
    })
}

pub(super) fn on_relay(host: &Shared, ev: RelayEvent) {
    let mut fx = Vec::new();
    let mut inputs = Vec::new();
    {
        let mut h = host.borrow_mut();
        if h.closed {
            return;
        }
        match ev {
            RelayEvent::Signal { from, payload } => {
                match (signal::decode(&payload), h.rtc.as_mut()) {
                    (Ok(s), Some(rtc)) => rtc.on_signal(&from, s, now_ms()),
                    (Ok(Signal::Offer { session, .. }), None) => {
                        // No WebRTC here: the other side uses the relay for this node.
                        let bye = Signal::Bye {
                            session,
                            reason: ByeReason::Unsupported,
                        };
                        h.send_signal(&from, &bye);
                    }
                    (Ok(_), None) => {}
                    (Err(_), Some(rtc)) => rtc.counters.bad_signals += 1,
                    (Err(_), None) => h.stats.bad_frames += 1,
                }
                h.flush_rtc();
            }
            RelayEvent::Frame { from, payload } => {
                h.stats.frames_in += 1;
                h.traffic.received(Path::Relay, &from, payload.len());
                for decoded in messages_of(&payload) {
                    match decoded {
                        // Answers to the resolver check arrive before the node exists.
                        Ok(Message::ResolversAre { rules }) if h.node.is_none() => {
                            if h.resolver_answers.len() < 64 {
                                h.resolver_answers.push((from.clone(), rules));
                            }
                        }
                        Ok(msg) if h.node.is_some() => inputs.push(Input::Message {
                            from: NodeId::new(&from),
                            msg,
                        }),
                        Ok(_) => {}
                        Err(()) => h.stats.bad_frames += 1,
                    }
                }
            }
            RelayEvent::BadFrame => h.stats.bad_frames += 1,
            RelayEvent::Welcome { peers } => {
                h.connected = true;
                h.reconnect_delay_ms = RECONNECT_MIN_MS;
                match h.welcome.take() {
                    Some(p) => {
                        let arr: Array = peers.iter().map(|p| JsValue::from_str(p)).collect();
                        fx.push(Effect::Settle(p.resolve, arr.into()));
                    }
                    None => {
                        h.stats.reconnects += 1;
                        h.host_event("connected", None, &mut fx);
                        for p in &peers {
                            h.kick(p);
                        }
                        // Back after an outage: what this node wrote meanwhile goes out,
                        // and it compares its partitions with each peer at once.
                        if h.node.is_some() {
                            inputs.extend(peers.iter().map(|p| Input::PeerReachable {
                                peer: NodeId::new(p),
                            }));
                        }
                        h.resync_watches();
                        h.renew_watches();
                    }
                }
            }
            RelayEvent::Joined(node) => {
                h.host_event("peerjoined", Some(&node), &mut fx);
                h.kick(&node);
                // A peer back: what this node holds for it goes at once.
                if h.node.is_some() {
                    inputs.push(Input::PeerReachable {
                        peer: NodeId::new(&node),
                    });
                }
            }
            RelayEvent::Left(node) => h.host_event("peerleft", Some(&node), &mut fx),
            RelayEvent::Dropped {
                node,
                reason,
                count,
            } => h.relay_dropped(&node, &reason, count, &mut fx),
            RelayEvent::Error { code, message } => {
                h.stats.relay_errors += 1;
                // The relay refused one of this node's data frames.
                let refused = match code.as_str() {
                    "UNKNOWN_DESTINATION" => Some("unknown_destination"),
                    "MALFORMED_FRAME" => Some("malformed"),
                    "FRAME_TOO_LARGE" => Some("too_large"),
                    _ => None,
                };
                if let Some(reason) = refused {
                    let node = if reason == "unknown_destination" {
                        message.as_str()
                    } else {
                        ""
                    };
                    h.relay_dropped(node, reason, 1, &mut fx);
                }
                let refusal = match code.as_str() {
                    "BAD_HELLO" => Some(errors::RELAY_FAILED),
                    "NODE_ID_IN_USE" => Some(errors::NODE_ID_IN_USE),
                    "UNAUTHORIZED" => Some(errors::UNAUTHORIZED),
                    "ORIGIN_NOT_ALLOWED" => Some(errors::ORIGIN_NOT_ALLOWED),
                    "CLUSTER_FULL" => Some(errors::CLUSTER_FULL),
                    _ => None,
                };
                // A refusal's error message precedes its close frame.
                h.refusal = Some(message.clone());
                if let Some(c) = refusal {
                    if let Some(p) = h.welcome.take() {
                        let e = js_error(
                            c,
                            format!("the relay refused this node ({code}): {message}"),
                        );
                        fx.push(Effect::Settle(p.reject, e));
                    }
                }
            }
            RelayEvent::Closed {
                code,
                reason,
                opened,
            } => {
                let was_connected = h.connected;
                h.connected = false;
                if let Some(p) = h.welcome.take() {
                    let e = if code == 4009 {
                        js_error(
                            errors::NODE_ID_IN_USE,
                            "another live node of the cluster has this id",
                        )
                    } else if let Some((c, _)) = auth::refusal(code, false) {
                        js_error(c, format!("the relay refused this node ({code} {reason})"))
                    } else {
                        let e = js_error(
                            errors::RELAY_FAILED,
                            format!(
                                "the relay connection closed before the welcome ({code} {reason})"
                            ),
                        );
                        // A relay that accepted the socket and then dropped it (a restart, or
                        // the previous connection of this id still being torn down) is worth
                        // another try; no relay at all is not.
                        if opened && code != 4002 {
                            let _ = Reflect::set(&e, &"retryable".into(), &JsValue::TRUE);
                        }
                        e
                    };
                    fx.push(Effect::Settle(p.reject, e));
                } else {
                    if was_connected {
                        h.host_event("disconnected", None, &mut fx);
                    }
                    match auth::refusal(code, h.token.is_call()) {
                        None => schedule_reconnect(&mut h),
                        Some((c, retrying)) => {
                            let message = h.refusal.take().unwrap_or(reason);
                            h.refused_event(c, &message, retrying, &mut fx);
                            if retrying {
                                // Refused: back off as far as the backoff goes.
                                h.reconnect_delay_ms = RECONNECT_MAX_MS;
                                schedule_reconnect(&mut h);
                            }
                        }
                    }
                }
            }
        }
    }
    for i in inputs {
        feed(host, i);
    }
    run(fx);
}

/// An event of WebRTC attempt `session` with `peer`; a whole message is fed to the node.
pub(super) fn on_rtc(host: &Shared, peer: &str, session: u64, ev: PeerEvent) {
    // Browsers report these events in tasks of their own, never from inside a call into the
    // host; were one to arrive there, it is dropped like a lost message (an attempt that
    // misses its open event times out and is retried).
    let Ok(mut h) = host.try_borrow_mut() else {
        return;
    };
    if h.closed {
        return;
    }
    let now = now_ms();
    let Some(rtc) = h.rtc.as_mut() else {
        return;
    };
    let msg = rtc.on_event(peer, session, ev, now);
    h.flush_rtc();
    let mut inputs = Vec::new();
    if let Some(bytes) = msg {
        h.traffic.received(Path::DataChannel, peer, bytes.len());
        for decoded in messages_of(&bytes) {
            match decoded {
                Ok(msg) if h.node.is_some() => inputs.push(Input::Message {
                    from: NodeId::new(peer),
                    msg,
                }),
                Ok(_) => {}
                Err(()) => h.stats.bad_frames += 1,
            }
        }
    }
    drop(h);
    for i in inputs {
        feed(host, i);
    }
}

/// The messages of one frame: a bundle's, in order, or the frame's one message. A malformed
/// bundle is one error; a message of a bundle that does not decode is an error of its own.
fn messages_of(frame: &[u8]) -> Vec<Result<Message, ()>> {
    if !bundle::is_bundle(frame) {
        return vec![Message::decode(frame).map_err(|_| ())];
    }
    match bundle::decode(frame) {
        Ok(msgs) => msgs
            .into_iter()
            .map(|m| Message::decode(m).map_err(|_| ()))
            .collect(),
        Err(_) => vec![Err(())],
    }
}

/// The periodic check of the WebRTC links (timeouts, stalls).
pub(super) fn check_links(host: &Shared) {
    let Ok(mut h) = host.try_borrow_mut() else {
        return;
    };
    if h.closed {
        return;
    }
    if let Some(rtc) = h.rtc.as_mut() {
        rtc.tick(now_ms());
    }
    h.flush_rtc();
}

/// Reconnect after a growing delay; the node keeps running meanwhile (its messages are lost,
/// which the protocol tolerates).
pub(super) fn schedule_reconnect(h: &mut Host) {
    if h.reconnect_timer.is_some() || h.closed || h.offline {
        return;
    }
    let delay = h.reconnect_delay_ms;
    h.reconnect_delay_ms = (delay * 2).min(RECONNECT_MAX_MS);
    if let Some(cb) = &h.reconnect_cb {
        h.reconnect_timer = Some(set_timeout(cb.as_ref().unchecked_ref(), delay as f64));
    }
}

/// The reconnection timer's callback: connect again unless closed or already connected,
/// with a fresh token when a function gives them.
pub(super) fn reconnect(weak: &Weak<RefCell<Host>>) {
    let Some(host) = weak.upgrade() else {
        return;
    };
    let mut h = host.borrow_mut();
    h.reconnect_timer = None;
    if h.closed || h.connected || h.fetching_token || h.offline {
        return;
    }
    let token = match &h.token {
        TokenSource::Call(_) => {
            h.fetching_token = true;
            let weak = weak.clone();
            spawn_local(async move { reconnect_with_fresh_token(weak).await });
            return;
        }
        TokenSource::Fixed(t) => Some(t.clone()),
        TokenSource::None => None,
    };
    match connect(&h, token.as_deref()) {
        // The old relay (closed) is dropped here, outside its own callbacks.
        Ok(r) => h.relay = Some(r),
        Err(_) => schedule_reconnect(&mut h),
    }
}

pub(super) async fn reconnect_with_fresh_token(weak: Weak<RefCell<Host>>) {
    let Some((source, cluster, id)) = weak.upgrade().map(|host| {
        let h = host.borrow();
        (h.token.clone(), h.cluster.clone(), h.id.to_string())
    }) else {
        return;
    };
    let fetched = source.fetch(&cluster, &id, OPEN_TIMEOUT_MS).await;
    let Some(host) = weak.upgrade() else {
        return;
    };
    let mut fx = Vec::new();
    {
        let mut h = host.borrow_mut();
        h.fetching_token = false;
        if h.closed || h.connected || h.offline {
            return;
        }
        match fetched.map(|t| connect(&h, t.as_deref())) {
            Ok(Ok(r)) => h.relay = Some(r),
            Ok(Err(_)) => schedule_reconnect(&mut h),
            Err(e) => {
                // The app's server did not give a token: tell the app, try again later.
                let message = super::super::values::describe(&e);
                h.refused_event(errors::UNAUTHORIZED, &message, true, &mut fx);
                h.reconnect_delay_ms = RECONNECT_MAX_MS;
                schedule_reconnect(&mut h);
            }
        }
    }
    run(fx);
}

/// Before joining: ask the members for their resolver table, and refuse to join a cluster
/// that resolves keys otherwise (`RESOLVERS_DIFFER`): two nodes reading the same siblings
/// would show different values. Waits for the first answer (at most 3 s; no member, or no
/// answer from one, is no objection).
pub(super) async fn check_resolvers(
    host: &Shared,
    peers: &[String],
    rules: &ResolverRules,
    deadline: u64,
) -> Result<(), JsValue> {
    if peers.is_empty() {
        return Ok(());
    }
    {
        let mut h = host.borrow_mut();
        h.resolver_answers.clear();
        let probe = Message::ResolversProbe {
            rules: rules.clone(),
        };
        for p in peers {
            h.send(&NodeId::new(p), &probe);
        }
    }
    let until = (now_ms() + 3_000).min(deadline);
    loop {
        {
            let h = host.borrow();
            if h.closed {
                return Err(closed());
            }
            if let Some((from, theirs)) = h.resolver_answers.first() {
                if theirs != rules {
                    let show = |r: &ResolverRules| {
                        let v: Vec<String> = r
                            .rules()
                            .iter()
                            .map(|(p, r)| {
                                format!("{}: {}", String::from_utf8_lossy(p.as_slice()), r)
                            })
                            .collect();
                        format!("{{{}}}", v.join(", "))
                    };
                    return Err(js_error(
                        errors::RESOLVERS_DIFFER,
                        format!(
                            "member {from} resolves keys with {} but this node was opened with {}; every node of a cluster needs the same `resolvers`",
                            show(theirs),
                            show(rules)
                        ),
                    ));
                }
                return Ok(());
            }
        }
        if now_ms() >= until {
            return Ok(());
        }
        TimeoutFuture::new(20).await;
    }
}
