//! Node identity: the relay binds each connection to the node id it joined as (and, with a
//! secret, was authenticated for) and stamps that id on every frame it forwards, so no
//! node can send as another; a second connection claiming a live id is refused (4009),
//! even with a valid token for that id.

use crate::relay_support;

use relay_support::{error_code, relay_with, Client};
use ringlet::relay::frame::{self, Control, ErrorCode, Kind, NodeName};
use ringlet::relay::token::{self, Secret};
use std::time::{SystemTime, UNIX_EPOCH};

fn secret() -> Secret {
    Secret::new("a relay secret for the tests").unwrap()
}

fn token(node: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    token::issue(&secret(), "demo", node, now + 60)
}

async fn join(relay: &ringlet::relay::Relay, node: &str) -> Client {
    let mut c = Client::connect(relay).await;
    c.hello_with_token("demo", node, Some(&token(node))).await;
    assert!(matches!(c.control().await, Control::Welcome { .. }));
    c
}

#[tokio::test]
async fn frames_carry_the_authenticated_sender_whatever_they_claim() {
    let relay = relay_with(|c| c.access.secret = Some(secret())).await;
    let mut a = join(&relay, "a").await;
    let mut b = join(&relay, "b").await;
    let _c = join(&relay, "c").await;
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    assert_eq!(a.control().await, Control::Joined { node: "c".into() });
    assert_eq!(b.control().await, Control::Joined { node: "c".into() });

    // `b` dresses a frame up as a delivery from `c`: the relay reads its own header only.
    let fake = frame::delivery(Kind::Unicast, &NodeName::parse("c").unwrap(), b"pay me");
    b.unicast("a", &fake).await;
    let (kind, from, payload) = a.data().await;
    assert_eq!((kind, from.as_str()), (Kind::Unicast, "b"));
    assert_eq!(payload, fake, "the payload is opaque, the sender is b");

    b.broadcast(b"from b").await;
    assert_eq!(
        a.data().await,
        (Kind::Broadcast, "b".into(), b"from b".to_vec())
    );
}

#[tokio::test]
async fn a_valid_token_cannot_take_over_a_live_node_id() {
    let relay = relay_with(|c| c.access.secret = Some(secret())).await;
    let mut a = join(&relay, "a").await;
    let mut imposter = Client::connect(&relay).await;
    imposter
        .hello_with_token("demo", "a", Some(&token("a")))
        .await;
    let error = imposter.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::NodeIdInUse));
    assert_eq!(imposter.closed().await, (4009, "node id in use".into()));
    assert_eq!(relay.stats().refused.node_id_in_use, 1);
    // The live node was not disturbed.
    a.unicast("a", b"still me").await;
    assert_eq!(
        a.data().await,
        (Kind::Unicast, "a".into(), b"still me".to_vec())
    );
    // Once it has gone, the id is free for a new connection with a token for it.
    a.close().await;
    relay_support::stats_until(&relay, |s| s.connections == 0).await;
    let _again = join(&relay, "a").await;
}
