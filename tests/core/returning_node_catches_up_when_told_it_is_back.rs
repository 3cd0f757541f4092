//! Issue 14: when the transport says a peer is back (the relay's `peerjoined`, or the peers
//! it lists to a node that reconnects: `Input::PeerReachable`), what the others hold for it
//! goes at once: the writes it missed that their coordinators still track, their hints, and
//! a comparison of every partition both replicate. With the default settings, the returning
//! node holds all 100 changed keys within 100 ms (virtual) of reconnecting: no probe round,
//! no anti-entropy interval to wait for. Each path alone is tested in
//! `returning_node_catches_up_by_hints.rs` and `..._by_anti_entropy.rs` (without notices).

use crate::catch_up_support::*;
use crate::cluster_support;

#[test]
fn a_node_back_from_offline_has_every_change_within_100_ms_of_its_reconnect_notice() {
    let took = offline_then_back(1403, cluster_support::config(3, 2, 2), 100, true);
    println!("caught up {took} ms after the heal ({KEYS} keys), told the peer was back");
}

#[test]
fn without_notices_it_catches_up_later_by_itself() {
    let told = offline_then_back(1404, cluster_support::config(3, 2, 2), 100, true);
    let alone = offline_then_back(1404, cluster_support::config(3, 2, 2), 5_000, false);
    assert!(told < alone, "told: {told} ms, by itself: {alone} ms");
}
