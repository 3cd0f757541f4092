//! `members()`, `ring()` and `stats()` as JS sees them: the views serialised to JS objects.

use super::super::traffic::object;
use super::*;
use js_sys::{Object, Reflect};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub(super) struct MemberView {
    node: String,
    status: &'static str,
    capacity: u32,
    up: bool,
    durable: bool,
    #[serde(rename = "self")]
    is_self: bool,
}

#[derive(Serialize)]
pub(super) struct RingView {
    epoch: u64,
    q: u32,
    owners: Vec<String>,
    partitions: BTreeMap<String, u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatsView<'a> {
    node: String,
    storage: &'static str,
    connected: bool,
    gets: u64,
    puts: u64,
    forwarded: u64,
    quorum_failures: u64,
    read_repairs: u64,
    hints_stored: u64,
    hints_delivered: u64,
    hints_held: usize,
    keys_held: usize,
    keys_transferred: u64,
    messages_in: u64,
    persist_batches: u64,
    requests_in_flight: usize,
    /// Requests waiting for admission into the core (`admission.rs`).
    requests_queued: usize,
    /// The node's own stalls (called back late), which it does not blame on its peers.
    stalls: u64,
    corrupt_records: u64,
    sibling_limit_refusals: u64,
    #[serde(flatten)]
    host: &'a HostStats,
}

impl Host {
    /// `stats().webrtc`: whether data channels are in use, how many, and their counters.
    pub(super) fn webrtc_stats(&self) -> JsValue {
        let n = |x: usize| JsValue::from_f64(x as f64);
        let r = self.rtc.as_ref();
        let o = object(&[
            // Data channels are in use: asked for, and WebRTC exists here.
            ("enabled", r.is_some().into()),
            ("requested", self.webrtc_requested.into()),
            ("maxPeers", n(r.map_or(0, |r| r.max_peers()))),
            ("open", n(r.map_or(0, |r| r.open_count()))),
            ("connecting", n(r.map_or(0, |r| r.connecting_count()))),
        ]);
        let counters = r.map(|r| r.counters.clone()).unwrap_or_default();
        for (k, v) in counters.fields() {
            let _ = Reflect::set(&o, &k.into(), &JsValue::from_f64(v as f64));
        }
        o.into()
    }

    pub(super) fn members(&self) -> Vec<MemberView> {
        let Some(node) = &self.node else {
            return Vec::new();
        };
        let down = node.down_peers();
        // Members that exited or were removed drop out after `Config::exited_grace_ms`.
        node.listed_members()
            .map(|(n, info)| MemberView {
                node: n.to_string(),
                status: info.status.name(),
                capacity: info.capacity,
                up: !down.contains(n),
                durable: info.durable,
                is_self: *n == self.id,
            })
            .collect()
    }

    /// `ring()`: `{ epoch, q, owners, partitions }` (`null` before joining).
    pub(super) fn ring_js(&self) -> Result<JsValue, JsValue> {
        let h = self;
        let Some(state) = h.node.as_ref().and_then(|n| n.membership().ring_state()) else {
            return Ok(JsValue::NULL);
        };
        let owners: Vec<String> = state.ring.owners().iter().map(|o| o.to_string()).collect();
        let partitions: BTreeMap<String, u32> = state
            .ring
            .load()
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        to_js(&RingView {
            epoch: state.epoch,
            q: state.ring.q(),
            owners,
            partitions,
        })
    }

    /// `stats()`: the core's counters and the host's.
    pub(super) fn stats_js(&self) -> Result<JsValue, JsValue> {
        let h = self;
        let core = h
            .node
            .as_ref()
            .map(|n| n.stats().clone())
            .unwrap_or_default();
        let view = StatsView {
            node: h.id.to_string(),
            storage: h.store.kind(),
            connected: h.connected && !h.closed,
            gets: core.gets,
            puts: core.puts,
            forwarded: core.forwarded,
            quorum_failures: core.quorum_failures,
            read_repairs: core.read_repairs,
            hints_stored: core.hints_stored,
            hints_delivered: core.hints_delivered,
            hints_held: h.node.as_ref().map_or(0, |n| n.hints().count()),
            keys_held: h.node.as_ref().map_or(0, |n| n.objects().count()),
            keys_transferred: core.keys_transferred,
            messages_in: core.messages_in,
            persist_batches: core.persist_batches,
            requests_in_flight: h.node.as_ref().map_or(0, |n| n.requests_in_flight()),
            requests_queued: super::admission::queued(h),
            stalls: core.stalls,
            corrupt_records: core.corrupt_records,
            sibling_limit_refusals: core.sibling_limit_refusals,
            host: &h.stats,
        };
        let out = to_js(&view)?;
        let _ = Reflect::set(&out, &"webrtc".into(), &h.webrtc_stats());
        let _ = Reflect::set(&out, &"paths".into(), &h.traffic.paths.to_js(None));
        let peers = Object::new();
        for (p, c) in h.traffic.peers.iter() {
            let path = h.rtc.as_ref().map_or("relay", |r| r.path(p));
            let _ = Reflect::set(&peers, &p.as_str().into(), &c.to_js(Some(path)));
        }
        let _ = Reflect::set(&out, &"peers".into(), &peers);
        Ok(out)
    }
}
