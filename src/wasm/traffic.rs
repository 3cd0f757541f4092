//! Node-to-node messages and bytes per path (data channel, relay) and per peer, for
//! `stats()`. A message is one core message, however many chunks or frames carried it.

use crate::link::peer_map::PeerMap;
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// Set `fields` on a new plain object (by hand rather than through serde: a smaller wasm).
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    DataChannel,
    Relay,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Counter {
    pub messages_sent: u64,
    pub bytes_sent: u64,
    pub messages_received: u64,
    pub bytes_received: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PathCounters {
    pub datachannel: Counter,
    pub relay: Counter,
}

impl Counter {
    pub fn to_js(&self) -> JsValue {
        let n = |x: u64| JsValue::from_f64(x as f64);
        object(&[
            ("messagesSent", n(self.messages_sent)),
            ("bytesSent", n(self.bytes_sent)),
            ("messagesReceived", n(self.messages_received)),
            ("bytesReceived", n(self.bytes_received)),
        ])
        .into()
    }
}

impl PathCounters {
    /// `{ datachannel, relay }`, plus `path` when given.
    pub fn to_js(&self, path: Option<&str>) -> JsValue {
        let o = object(&[
            ("datachannel", self.datachannel.to_js()),
            ("relay", self.relay.to_js()),
        ]);
        if let Some(p) = path {
            let _ = Reflect::set(&o, &"path".into(), &p.into());
        }
        o.into()
    }

    fn of(&mut self, path: Path) -> &mut Counter {
        match path {
            Path::DataChannel => &mut self.datachannel,
            Path::Relay => &mut self.relay,
        }
    }
}

#[derive(Debug, Default)]
pub struct Traffic {
    pub paths: PathCounters,
    pub peers: PeerMap<PathCounters>,
}

impl Traffic {
    pub fn sent(&mut self, path: Path, peer: &str, bytes: usize) {
        let add = |c: &mut Counter| {
            c.messages_sent += 1;
            c.bytes_sent += bytes as u64;
        };
        add(self.paths.of(path));
        add(self.peer(peer).of(path));
    }

    pub fn received(&mut self, path: Path, peer: &str, bytes: usize) {
        let add = |c: &mut Counter| {
            c.messages_received += 1;
            c.bytes_received += bytes as u64;
        };
        add(self.paths.of(path));
        add(self.peer(peer).of(path));
    }

    fn peer(&mut self, peer: &str) -> &mut PathCounters {
        self.peers.entry(peer, PathCounters::default)
    }
}
