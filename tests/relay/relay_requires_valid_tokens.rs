//! Authentication: a relay with a secret admits a hello only with a token signed with that
//! secret, for that cluster and that node id, and not expired; every other hello is refused
//! with `UNAUTHORIZED` and close 4001, and counted. Without a secret the relay is open.

use crate::relay_support;

use relay_support::{error_code, relay, relay_with, Client};
use ringlet::relay::frame::{Control, ErrorCode};
use ringlet::relay::token::{self, Secret};
use ringlet::relay::Relay;
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &str = "a relay secret for the tests";

fn secret() -> Secret {
    Secret::new(SECRET).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn secured() -> Relay {
    relay_with(|c| {
        c.access.secret = Some(secret());
        c.access.clock_skew_s = 5;
    })
    .await
}

/// Says hello as `node` of `cluster` with `token` and expects a refusal naming `why`.
async fn refused(relay: &Relay, cluster: &str, node: &str, token: Option<&str>, why: &str) {
    let mut client = Client::connect(relay).await;
    client.hello_with_token(cluster, node, token).await;
    let error = client.control().await;
    assert_eq!(
        error_code(&error),
        Some(ErrorCode::Unauthorized),
        "{error:?}"
    );
    let Control::Error { message, .. } = &error else {
        unreachable!()
    };
    let message = message.as_deref().unwrap_or("");
    assert!(message.contains(why), "{message:?} should say {why:?}");
    assert_eq!(client.closed().await, (4001, "unauthorized".into()));
}

#[tokio::test]
async fn a_valid_token_joins() {
    let relay = secured().await;
    let t = token::issue(&secret(), "demo", "a", now() + 60);
    let mut a = Client::connect(&relay).await;
    a.hello_with_token("demo", "a", Some(&t)).await;
    assert_eq!(
        a.control().await,
        Control::Welcome {
            node: "a".into(),
            peers: vec![]
        }
    );
    let tb = token::issue(&secret(), "demo", "b", now() + 60);
    let mut b = Client::connect(&relay).await;
    b.hello_with_token("demo", "b", Some(&tb)).await;
    assert!(matches!(b.control().await, Control::Welcome { .. }));
    b.unicast("a", b"hi").await;
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    assert_eq!(a.data().await.2, b"hi");
    assert_eq!(relay.stats().refused.unauthorized, 0);
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_and_counted() {
    let relay = secured().await;
    let s = secret();
    refused(&relay, "demo", "a", None, "requires a token").await;
    let expired = token::issue(&s, "demo", "a", now() - 60);
    refused(&relay, "demo", "a", Some(&expired), "expired").await;
    let other_cluster = token::issue(&s, "other", "a", now() + 60);
    refused(
        &relay,
        "demo",
        "a",
        Some(&other_cluster),
        "cluster \"other\"",
    )
    .await;
    let other_node = token::issue(&s, "demo", "b", now() + 60);
    refused(&relay, "demo", "a", Some(&other_node), "node \"b\"").await;
    let wrong_secret = Secret::new("not the relay's secret at all").unwrap();
    let forged = token::issue(&wrong_secret, "demo", "a", now() + 60);
    refused(&relay, "demo", "a", Some(&forged), "signature").await;
    refused(&relay, "demo", "a", Some("not-a-token"), "malformed").await;
    assert_eq!(relay.stats().refused.unauthorized, 6);
    // Nobody was seated.
    assert!(relay.stats().clusters.is_empty());
}

#[tokio::test]
async fn the_clock_skew_allowance_admits_a_just_expired_token() {
    let relay = secured().await; // 5 s of skew
    let t = token::issue(&secret(), "demo", "a", now() - 2);
    let mut a = Client::connect(&relay).await;
    a.hello_with_token("demo", "a", Some(&t)).await;
    assert!(matches!(a.control().await, Control::Welcome { .. }));
}

#[tokio::test]
async fn without_a_secret_the_relay_is_open() {
    let relay = relay().await;
    let (_a, peers) = Client::join(&relay, "demo", "a").await;
    assert!(peers.is_empty());
    // A token is ignored when there is no secret to check it with.
    let mut b = Client::connect(&relay).await;
    b.hello_with_token("demo", "b", Some("anything")).await;
    assert!(matches!(b.control().await, Control::Welcome { .. }));
}
