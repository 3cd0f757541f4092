//! The browser origin check: with an allowlist, a WebSocket whose `Origin` is not on it is
//! refused with `ORIGIN_NOT_ALLOWED` and close 4003 before any hello; a client without an
//! `Origin` (not a browser) only with `allow_no_origin`. Without a list, any origin.

use crate::relay_support;

use relay_support::{error_code, relay, relay_with, Client};
use ringlet::relay::frame::{Control, ErrorCode};
use ringlet::relay::Relay;

async fn listed(allow_no_origin: bool) -> Relay {
    relay_with(|c| {
        c.access.allowed_origins =
            vec!["https://app.example".into(), "http://127.0.0.1:8080".into()];
        c.access.allow_no_origin = allow_no_origin;
    })
    .await
}

async fn joins(relay: &Relay, origin: Option<&str>, node: &str) -> Client {
    let mut c = Client::connect_from(relay, origin).await;
    c.hello("demo", node).await;
    assert!(
        matches!(c.control().await, Control::Welcome { .. }),
        "{origin:?}"
    );
    c
}

async fn refused(relay: &Relay, origin: Option<&str>) {
    let mut c = Client::connect_from(relay, origin).await;
    let error = c.control().await;
    assert_eq!(
        error_code(&error),
        Some(ErrorCode::OriginNotAllowed),
        "{origin:?}"
    );
    assert_eq!(c.closed().await, (4003, "origin not allowed".into()));
}

#[tokio::test]
async fn listed_origins_join_and_others_are_refused() {
    let relay = listed(false).await;
    let _a = joins(&relay, Some("https://app.example"), "a").await;
    let _b = joins(&relay, Some("http://127.0.0.1:8080"), "b").await;
    refused(&relay, Some("https://evil.example")).await;
    refused(&relay, Some("https://app.example.evil.example")).await;
    refused(&relay, Some("null")).await;
    refused(&relay, None).await;
    assert_eq!(relay.stats().refused.origin_not_allowed, 4);
    assert_eq!(relay.stats().connections, 2);
}

#[tokio::test]
async fn clients_without_an_origin_only_when_allowed() {
    let relay = listed(true).await;
    let _n = joins(&relay, None, "node-js").await;
    refused(&relay, Some("https://evil.example")).await;
}

#[tokio::test]
async fn without_a_list_any_origin_joins() {
    let relay = relay().await;
    let _a = joins(&relay, Some("https://anywhere.example"), "a").await;
    let _b = joins(&relay, None, "b").await;
}
