//! Node-to-node messages and bytes per path (data channel, relay) and per peer, for
//! `stats()`. A message is one core message, however many chunks or frames carried it.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    DataChannel,
    Relay,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counter {
    pub messages_sent: u64,
    pub bytes_sent: u64,
    pub messages_received: u64,
    pub bytes_received: u64,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PathCounters {
    pub datachannel: Counter,
    pub relay: Counter,
}

impl PathCounters {
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
    pub peers: BTreeMap<String, PathCounters>,
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
        if !self.peers.contains_key(peer) {
            self.peers.insert(peer.to_string(), PathCounters::default());
        }
        self.peers.get_mut(peer).expect("just inserted")
    }
}
