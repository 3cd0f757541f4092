//! The relay routes by node id within a cluster: a unicast reaches only its destination and
//! a broadcast every other node, both stamped with the sender; the welcome lists the peers,
//! and the others hear `joined` and `left`.

use crate::relay_support;

use relay_support::{relay, Client};
use ringlet::relay::frame::{Control, Kind};

fn joined(node: &str) -> Control {
    Control::Joined { node: node.into() }
}

#[tokio::test]
async fn welcome_lists_peers_and_the_others_hear_joined_and_left() {
    let relay = relay().await;
    let (mut a, peers) = Client::join(&relay, "demo", "Sa").await;
    assert!(peers.is_empty());
    let (mut b, peers) = Client::join(&relay, "demo", "Sb").await;
    assert_eq!(peers, ["Sa"]);
    assert_eq!(a.control().await, joined("Sb"));
    let (mut c, peers) = Client::join(&relay, "demo", "Sc").await;
    assert_eq!(peers, ["Sa", "Sb"]);
    assert_eq!(a.control().await, joined("Sc"));
    assert_eq!(b.control().await, joined("Sc"));

    b.close().await;
    let left = Control::Left { node: "Sb".into() };
    assert_eq!(a.control().await, left);
    assert_eq!(c.control().await, left);
    let (_b, peers) = Client::join(&relay, "demo", "Sb").await;
    assert_eq!(
        peers,
        ["Sa", "Sc"],
        "a node id is free again once its node left"
    );
}

#[tokio::test]
async fn unicast_reaches_only_its_destination_with_the_sender_stamped() {
    let relay = relay().await;
    let (mut a, _) = Client::join(&relay, "demo", "Sa").await;
    let (mut b, _) = Client::join(&relay, "demo", "Sb").await;
    let (mut c, _) = Client::join(&relay, "demo", "Sc").await;
    a.control().await;
    a.control().await;
    b.control().await;

    a.unicast("Sb", b"for b only").await;
    assert_eq!(
        b.data().await,
        (Kind::Unicast, "Sa".into(), b"for b only".to_vec())
    );
    c.silent(200).await;
    a.silent(0).await;

    // Payloads are opaque: every byte value, and empty.
    let every_byte: Vec<u8> = (0..=255).collect();
    c.unicast("Sa", &every_byte).await;
    c.unicast("Sa", &[]).await;
    assert_eq!(a.data().await, (Kind::Unicast, "Sc".into(), every_byte));
    assert_eq!(a.data().await, (Kind::Unicast, "Sc".into(), vec![]));

    // In order per sender and recipient.
    for i in 0..200u16 {
        b.unicast("Sc", &i.to_be_bytes()).await;
    }
    for i in 0..200u16 {
        assert_eq!(c.data().await.2, i.to_be_bytes());
    }

    // A node may address itself.
    a.unicast("Sa", b"me").await;
    assert_eq!(a.data().await, (Kind::Unicast, "Sa".into(), b"me".to_vec()));
}

#[tokio::test]
async fn broadcast_reaches_every_other_node() {
    let relay = relay().await;
    let (mut a, _) = Client::join(&relay, "demo", "Sa").await;
    let (mut b, _) = Client::join(&relay, "demo", "Sb").await;
    let (mut c, _) = Client::join(&relay, "demo", "Sc").await;
    a.control().await;
    a.control().await;
    b.control().await;

    c.broadcast(b"to all").await;
    let expected = (Kind::Broadcast, "Sc".to_string(), b"to all".to_vec());
    assert_eq!(a.data().await, expected);
    assert_eq!(b.data().await, expected);
    c.silent(200).await;

    let stats = relay.stats().clusters["demo"];
    assert_eq!(
        (stats.connections, stats.frames_in, stats.frames_out),
        (3, 1, 2)
    );
    assert_eq!(stats.bytes_in, 1 + 6);
    assert_eq!(stats.bytes_out, 2 * (2 + 2 + 6));
    assert_eq!((stats.dropped, stats.malformed), (0, 0));
}
