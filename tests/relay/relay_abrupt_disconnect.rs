//! A node that vanishes without a close frame (its TCP connection dropped or reset, or the
//! peer silent) is removed: the others get `left`, the stats follow, and its id is free.

use crate::relay_support;

use relay_support::{relay, relay_with, stats_until, Client};
use ringlet::relay::frame::Control;
use std::time::Duration;

async fn pair(relay: &ringlet::relay::Relay) -> (Client, Client) {
    let (mut a, _) = Client::join(relay, "demo", "Sa").await;
    let (b, _) = Client::join(relay, "demo", "Sb").await;
    a.control().await; // joined Sb
    (a, b)
}

#[tokio::test]
async fn a_dropped_tcp_connection_is_announced_as_left() {
    let relay = relay().await;
    let (mut a, b) = pair(&relay).await;
    assert_eq!(relay.stats().connections, 2);
    drop(b); // FIN without a WebSocket close frame
    assert_eq!(a.control().await, Control::Left { node: "Sb".into() });
    let stats = stats_until(&relay, |s| s.connections == 1).await;
    assert_eq!(stats.clusters["demo"].connections, 1);
    let (_b, peers) = Client::join(&relay, "demo", "Sb").await;
    assert_eq!(peers, ["Sa"]);
}

#[tokio::test]
async fn a_reset_tcp_connection_is_announced_as_left() {
    let relay = relay().await;
    let (mut a, b) = pair(&relay).await;
    b.ws.get_ref().set_zero_linger().unwrap();
    drop(b); // RST
    assert_eq!(a.control().await, Control::Left { node: "Sb".into() });
    stats_until(&relay, |s| s.connections == 1).await;
    a.close().await;
    stats_until(&relay, |s| s.connections == 0 && s.clusters.is_empty()).await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_dropped() {
    let relay = relay_with(|c| c.ping_interval = Duration::from_millis(200)).await;
    let (mut a, mut b) = pair(&relay).await;
    // `b` is never polled now, so it answers no ping; `a` answers while it waits.
    assert_eq!(a.control().await, Control::Left { node: "Sb".into() });
    assert_eq!(relay.stats().clusters["demo"].connections, 1);
    assert_eq!(b.closed().await, (1001, "no answer to pings".into()));
}
