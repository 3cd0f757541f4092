//! Arguments from JS, checked (`Replica.open` options, request options), and replies to
//! JS; opening the storage an options object names.

use super::super::auth::TokenSource;
use super::super::errors::{self, invalid, js_error};
use super::super::ids;
use super::super::rtc::RtcOptions;
use super::super::storage::{StorageError, Store};
use super::super::storage_idb::IdbStore;
use super::super::storage_js::JsStore;
use super::super::storage_memory::MemoryEngine;
use super::super::values::{context_to_js, value_from_bytes};
use super::*;
use crate::core::{
    ClientReply, Config, NodeId, RequestOptions, Resolved, Resolver, ResolverRules, Snapshot,
};
use js_sys::{Array, Object, Reflect};
use serde::Serialize;
use std::rc::Rc;

pub(super) fn reply_to_js(reply: ClientReply) -> JsValue {
    let o = Object::new();
    match reply {
        ClientReply::Get {
            value,
            context,
            partial,
            ..
        } => {
            let values: Array = match value {
                Resolved::Siblings(vs) => {
                    vs.iter().map(|v| value_from_bytes(v.as_slice())).collect()
                }
                // A set is one resolved value: the array of its elements.
                Resolved::Set(vs) => {
                    let elems: Array = vs.iter().map(|v| value_from_bytes(v.as_slice())).collect();
                    std::iter::once(JsValue::from(elems)).collect()
                }
                Resolved::Single(v) => v.iter().map(|v| value_from_bytes(v.as_slice())).collect(),
                Resolved::Counter(n) => std::iter::once(JsValue::from_f64(n as f64)).collect(),
            };
            let _ = Reflect::set(&o, &"values".into(), &values);
            let _ = Reflect::set(&o, &"context".into(), &context_to_js(&context));
            // Issue 14 item 5: R was reached only with non-authoritative answers.
            let _ = Reflect::set(&o, &"partial".into(), &JsValue::from_bool(partial));
        }
        ClientReply::Put { context, .. } => {
            let _ = Reflect::set(&o, &"context".into(), &context_to_js(&context));
        }
        ClientReply::Done => return JsValue::UNDEFINED,
    }
    o.into()
}

pub(super) fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser).map_err(|e| invalid(e.to_string()))
}

pub(super) fn get(o: &JsValue, k: &str) -> JsValue {
    if o.is_object() {
        Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Options of one request: only `allowed` keys, each of the right type.
pub(super) fn request_options(o: &JsValue, allowed: &[&str]) -> Result<RequestOptions, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(RequestOptions::default());
    }
    if !o.is_object() {
        return Err(invalid("request options must be an object"));
    }
    for k in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown option `{k}` (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    let mut r = RequestOptions::default();
    if allowed.contains(&"r") {
        r.r = opt_int(o, "r", 1, 255)?.map(|v| v as usize);
    }
    if allowed.contains(&"w") {
        r.w = opt_int(o, "w", 1, 255)?.map(|v| v as usize);
    }
    r.timeout_ms = opt_int(o, "timeoutMs", 1, 3_600_000)?;
    let durable = get(o, "durable");
    if !durable.is_undefined() {
        r.durable = Some(
            durable
                .as_bool()
                .ok_or_else(|| invalid("`durable` must be a boolean"))?,
        );
    }
    Ok(r)
}

/// An optional integer option in `min..=max`.
pub(super) fn opt_int(o: &JsValue, k: &str, min: u64, max: u64) -> Result<Option<u64>, JsValue> {
    let v = get(o, k);
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= min as f64 && f <= max as f64 => Ok(Some(f as u64)),
        _ => Err(invalid(format!(
            "`{k}` must be an integer from {min} to {max}"
        ))),
    }
}

pub(super) fn opt_string(o: &JsValue, k: &str) -> Result<Option<String>, JsValue> {
    let v = get(o, k);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| invalid(format!("`{k}` must be a string")))
}

/// A name the relay accepts as a node id: 1..=64 printable ASCII characters, no spaces.
pub(super) fn valid_node_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

pub(super) fn parse_options(o: &JsValue) -> Result<Options, JsValue> {
    if !o.is_object() {
        return Err(invalid("Replica.open needs an options object"));
    }
    const KNOWN: [&str; 22] = [
        "cluster",
        "relay",
        "storage",
        "n",
        "r",
        "w",
        "q",
        "seeds",
        "name",
        "dbName",
        "capacity",
        "timeoutMs",
        "openTimeoutMs",
        "maxValueBytes",
        "maxSiblings",
        "warnSiblings",
        "gossipIntervalMs",
        "token",
        "webrtc",
        "durableReplica",
        "memberTtlMs",
        "resolvers",
    ];
    for k in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !KNOWN.contains(&k.as_str()) {
            return Err(invalid(format!("unknown option `{k}`")));
        }
    }
    let cluster = opt_string(o, "cluster")?.ok_or_else(|| invalid("`cluster` is required"))?;
    let cluster_ok = !cluster.is_empty()
        && cluster.len() <= 64
        && cluster
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !cluster_ok {
        return Err(invalid(
            "`cluster` must be 1 to 64 characters from [A-Za-z0-9_.-]",
        ));
    }
    let relay_v = get(o, "relay");
    let relay = if relay_v.is_object() && !relay_v.is_function() {
        RelayTarget::Endpoint(relay_v)
    } else {
        let relay = opt_string(o, "relay")?
            .ok_or_else(|| invalid("`relay` (the relay's ws:// URL) is required"))?;
        if !(relay.starts_with("ws://") || relay.starts_with("wss://")) {
            return Err(invalid(
                "`relay` must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:8080/ws",
            ));
        }
        RelayTarget::Url(relay)
    };
    let has_idb = !Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap_or(JsValue::UNDEFINED)
        .is_undefined();
    let storage_v = get(o, "storage");
    let engine = if storage_v.is_object() {
        storage_v
    } else {
        JsValue::UNDEFINED
    };
    let named = if engine.is_undefined() {
        opt_string(o, "storage")?
    } else {
        None
    };
    let storage = match named.as_deref() {
        _ if !engine.is_undefined() => "js",
        Some("memory") => "memory",
        Some("indexeddb") => "indexeddb",
        None if has_idb => "indexeddb",
        None => "memory",
        Some(other) => {
            return Err(invalid(format!(
            "`storage` must be \"indexeddb\", \"memory\" or a storage engine object, got {other:?}"
        )))
        }
    };
    if storage == "indexeddb" && !has_idb {
        return Err(js_error(
            errors::STORAGE_FAILED,
            "IndexedDB is not available here; use storage: \"memory\"",
        ));
    }
    let name = opt_string(o, "name")?;
    if let Some(n) = &name {
        if !valid_node_name(n) {
            return Err(invalid(
                "`name` must be 1 to 64 printable ASCII characters without spaces",
            ));
        }
    }
    let db_name = opt_string(o, "dbName")?;
    let seeds_v = get(o, "seeds");
    let mut seeds = Vec::new();
    if !seeds_v.is_undefined() && !seeds_v.is_null() {
        let arr = seeds_v
            .dyn_ref::<Array>()
            .ok_or_else(|| invalid("`seeds` must be an array of node ids"))?;
        for s in arr.iter() {
            match s.as_string() {
                Some(s) if valid_node_name(&s) => seeds.push(NodeId::new(&s)),
                _ => return Err(invalid("`seeds` must be an array of node ids")),
            }
        }
    }
    let mut config = Config {
        max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        ..Config::default()
    };
    if let Some(n) = opt_int(o, "n", 1, 64)? {
        config.n = n as usize;
    }
    if let Some(r) = opt_int(o, "r", 1, 64)? {
        config.r = r as usize;
    } else {
        config.r = config.r.min(config.n);
    }
    if let Some(w) = opt_int(o, "w", 1, 64)? {
        config.w = w as usize;
    } else {
        config.w = config.w.min(config.n);
    }
    if config.r > config.n || config.w > config.n {
        return Err(invalid(format!(
            "need 1 <= r, w <= n, got n={} r={} w={}",
            config.n, config.r, config.w
        )));
    }
    if let Some(q) = opt_int(o, "q", 1, 1 << 16)? {
        if !q.is_power_of_two() {
            return Err(invalid("`q` must be a power of two"));
        }
        config.q = q as u32;
    }
    if let Some(t) = opt_int(o, "timeoutMs", 1, 3_600_000)? {
        config.request_timeout_ms = t;
    }
    if let Some(m) = opt_int(o, "maxValueBytes", 1, 64 << 20)? {
        config.max_value_bytes = m as usize;
    }
    if let Some(m) = opt_int(o, "maxSiblings", 1, 100_000)? {
        config.max_siblings = m as usize;
    }
    if let Some(w) = opt_int(o, "warnSiblings", 0, 100_000)? {
        config.warn_siblings = w as usize;
    }
    if let Some(g) = opt_int(o, "gossipIntervalMs", 10, 3_600_000)? {
        config.gossip_interval_ms = g;
    }
    // The membership lease: a member down this long is removed. A node on memory storage
    // comes back empty if ever, so its replicas move after minutes; IndexedDB (and a storage
    // engine object) keep their data, so the core's long default applies.
    config.member_ttl_ms = match opt_int(o, "memberTtlMs", 0, 365 * 24 * 3_600_000)? {
        Some(t) => t,
        None if storage == "memory" => crate::core::MEMORY_MEMBER_TTL_MS,
        None => crate::core::DEFAULT_MEMBER_TTL_MS,
    };
    let durable_replica = get(o, "durableReplica");
    if !durable_replica.is_undefined() {
        config.durable_replica = durable_replica
            .as_bool()
            .ok_or_else(|| invalid("`durableReplica` must be a boolean"))?;
    }
    config.resolvers = parse_resolvers(&get(o, "resolvers"))?;
    let capacity = opt_int(o, "capacity", 1, 1_000)?.unwrap_or(1) as u32;
    let open_timeout_ms = opt_int(o, "openTimeoutMs", 1, 3_600_000)?.unwrap_or(OPEN_TIMEOUT_MS);
    let token = TokenSource::from_option(&get(o, "token"))?;
    let webrtc = parse_webrtc(&get(o, "webrtc"))?;
    if storage == "js" && name.is_none() {
        return Err(invalid(
            "a node with a storage engine object needs a `name`",
        ));
    }
    Ok(Options {
        cluster,
        relay,
        storage,
        engine,
        name,
        db_name,
        seeds,
        capacity,
        config,
        open_timeout_ms,
        token,
        webrtc,
    })
}

/// `webrtc`: `true`/`false`, or `{ enabled?, maxPeers?, iceServers? }`. Default: enabled
/// (where WebRTC exists), 16 peers, no ICE servers.
pub(super) fn parse_webrtc(v: &JsValue) -> Result<RtcOptions, JsValue> {
    let mut opts = RtcOptions {
        enabled: true,
        max_peers: 16,
        ice_servers: JsValue::UNDEFINED,
    };
    if v.is_undefined() || v.is_null() {
        return Ok(opts);
    }
    if let Some(b) = v.as_bool() {
        opts.enabled = b;
        return Ok(opts);
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(invalid(
            "`webrtc` must be a boolean or { enabled, maxPeers, iceServers }",
        ));
    }
    for k in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let k = k.as_string().unwrap_or_default();
        if !["enabled", "maxPeers", "iceServers"].contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown option `webrtc.{k}` (allowed: enabled, maxPeers, iceServers)"
            )));
        }
    }
    let enabled = get(v, "enabled");
    if !enabled.is_undefined() {
        opts.enabled = enabled
            .as_bool()
            .ok_or_else(|| invalid("`webrtc.enabled` must be a boolean"))?;
    }
    if let Some(m) = opt_int(v, "maxPeers", 0, 256)? {
        opts.max_peers = m as usize;
    }
    let servers = get(v, "iceServers");
    if !servers.is_undefined() && !servers.is_null() {
        let bad = || {
            invalid("`webrtc.iceServers` must be an array of { urls, username?, credential? } (urls: a string or an array of strings)")
        };
        let arr = servers.dyn_ref::<Array>().ok_or_else(bad)?;
        for s in arr.iter() {
            if !s.is_object() {
                return Err(bad());
            }
            let urls = get(&s, "urls");
            let urls_ok = urls.as_string().is_some_and(|u| !u.is_empty())
                || urls
                    .dyn_ref::<Array>()
                    .is_some_and(|a| a.length() > 0 && a.iter().all(|u| u.as_string().is_some()));
            let str_or_absent = |k: &str| {
                let x = get(&s, k);
                x.is_undefined() || x.as_string().is_some()
            };
            if !urls_ok || !str_or_absent("username") || !str_or_absent("credential") {
                return Err(bad());
            }
        }
        opts.ice_servers = servers;
    }
    Ok(opts)
}

/// Open the storage and find the node's id and what it stored before.
pub(super) async fn open_storage(opts: &Options) -> Result<(Store, NodeId, Snapshot), JsValue> {
    let fail = |e: StorageError| {
        let code = if e.quota_exceeded {
            errors::QUOTA_EXCEEDED
        } else {
            errors::STORAGE_FAILED
        };
        js_error(code, e)
    };
    if opts.storage == "memory" {
        // No metadata, even for a brand-new random id: the node then takes a random epoch
        // from its seed, so an id that collides with an earlier node's never reuses its dots.
        let id = match &opts.name {
            Some(name) => name.clone(),
            None => ids::random_id("node")?,
        };
        let engine = MemoryEngine::new(false);
        let snapshot = engine.load();
        return Ok((Store::Memory(Rc::new(engine)), NodeId::new(&id), snapshot));
    }
    if opts.storage == "js" {
        // A named node: its id is its name, and dots are never reused (see `Snapshot`).
        let store = JsStore::new(opts.engine.clone()).map_err(invalid)?;
        let snapshot = store.load().await.map_err(fail)?;
        let id = opts.name.clone().unwrap_or_default();
        return Ok((Store::Js(Rc::new(store)), NodeId::new(&id), snapshot));
    }
    let db_name = opts.db_name.clone().unwrap_or_else(|| {
        format!(
            "ringlet/{}/{}",
            opts.cluster,
            opts.name.as_deref().unwrap_or("default")
        )
    });
    let db = IdbStore::open(&db_name).await.map_err(fail)?;
    let stored = db.identity().await.map_err(fail)?;
    let (id, first_run) = match (stored, &opts.name) {
        (Some(id), _) => (id, false),
        (None, Some(name)) => (name.clone(), false),
        (None, None) => (ids::random_id("tab")?, true),
    };
    if first_run || opts.name.is_some() {
        db.set_identity(&id).await.map_err(fail)?;
    }
    // A first run keeps `meta` empty: a random epoch (see the memory case above).
    let snapshot = db.load().await.map_err(fail)?;
    Ok((Store::IndexedDb(Rc::new(db)), NodeId::new(&id), snapshot))
}

/// `resolvers`: `{ 'likes/': 'counter', 'tags/': 'set', 'profile/': 'lww' }`, a resolver
/// per key prefix (the longest matching prefix wins; others keep every sibling).
fn parse_resolvers(v: &JsValue) -> Result<ResolverRules, JsValue> {
    let mut rules = ResolverRules::new();
    if v.is_undefined() || v.is_null() {
        return Ok(rules);
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(invalid(
            "`resolvers` must be an object of key prefix -> 'siblings', 'lww', 'counter' or 'set'",
        ));
    }
    let entries = Object::entries(v.unchecked_ref::<Object>());
    if entries.length() > 64 {
        return Err(invalid("`resolvers` may name at most 64 prefixes"));
    }
    for e in entries.iter() {
        let pair: Array = e.unchecked_into();
        let prefix = pair.get(0).as_string().unwrap_or_default();
        let name = pair.get(1).as_string().ok_or_else(|| {
            invalid(format!(
                "`resolvers['{prefix}']` must be 'siblings', 'lww', 'counter' or 'set'"
            ))
        })?;
        let resolver: Resolver = name
            .parse()
            .map_err(|e| invalid(format!("`resolvers['{prefix}']`: {e}")))?;
        rules.set(prefix.as_bytes(), resolver);
    }
    Ok(rules)
}
