//! The per-connection message rate: a token bucket of `burst` messages refilled at `rate`
//! a second. Messages above it are dropped and counted, and the first of each run of drops
//! is answered with `RATE_LIMITED`; a connection that has more than `max_drops` dropped
//! within 10 s is closed with 4008. Other nodes keep their own budgets.

use crate::relay_support;

use relay_support::{error_code, relay_with, stats_until, Client};
use ringlet::relay::frame::{Control, ErrorCode, Kind};
use ringlet::relay::RateLimit;

#[tokio::test]
async fn messages_above_the_rate_are_dropped_with_one_answer() {
    // One message a second: in a test's few milliseconds, the burst is all there is.
    let relay = relay_with(|c| {
        c.rate = RateLimit {
            rate: 1.0,
            burst: 5.0,
            max_drops: 1000,
        }
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut b, _) = Client::join(&relay, "demo", "b").await;
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    for i in 0..8u8 {
        a.unicast("b", &[i]).await;
    }
    for i in 0..5u8 {
        assert_eq!(b.data().await, (Kind::Unicast, "a".into(), vec![i]));
    }
    b.silent(200).await;
    let error = a.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::RateLimited));
    a.silent(200).await; // one answer for the run of three drops
    let stats = stats_until(&relay, |s| s.clusters["demo"].rate_limited == 3).await;
    assert_eq!(stats.clusters["demo"].frames_out, 5);
    assert_eq!(stats.clusters["demo"].dropped, 3);
    assert_eq!(stats.refused.rate_limited, 0);

    // b has its own bucket.
    b.unicast("a", b"b's turn").await;
    assert_eq!(
        a.data().await,
        (Kind::Unicast, "b".into(), b"b's turn".to_vec())
    );
}

#[tokio::test]
async fn a_connection_that_keeps_sending_above_the_rate_is_closed() {
    let relay = relay_with(|c| {
        c.rate = RateLimit {
            rate: 1.0,
            burst: 2.0,
            max_drops: 10,
        }
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut b, _) = Client::join(&relay, "demo", "b").await;
    for _ in 0..20 {
        a.broadcast(b"flood").await;
    }
    // The burst went through; then a was closed, and b told it left.
    for _ in 0..2 {
        assert_eq!(
            b.data().await,
            (Kind::Broadcast, "a".into(), b"flood".to_vec())
        );
    }
    assert_eq!(b.control().await, Control::Left { node: "a".into() });
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    let mut first = a.control().await;
    assert_eq!(error_code(&first), Some(ErrorCode::RateLimited));
    // Then the closing error and the close frame.
    first = a.control().await;
    assert_eq!(error_code(&first), Some(ErrorCode::RateLimited));
    assert_eq!(a.closed().await, (4008, "rate limit".into()));
    let stats = stats_until(&relay, |s| s.refused.rate_limited == 1).await;
    assert_eq!(stats.connections, 1);
}
