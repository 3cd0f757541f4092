//! The per-connection message rate: a token bucket of `burst` messages refilled at `rate`
//! a second, each connection its own. Above it the relay holds messages back rather than
//! dropping them (`relay_applies_back_pressure.rs`); a connection that has more than
//! `max_waits` messages held back within 10 s, when that bound is set, is closed with 4008.

use crate::relay_support;

use relay_support::{error_code, relay_with, stats_until, Client};
use ringlet::relay::frame::{Control, ErrorCode, Kind};
use ringlet::relay::RateLimit;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn each_connection_has_its_own_bucket() {
    // One message a second: in a test's few milliseconds, the burst is all there is.
    let relay = relay_with(|c| {
        c.rate = RateLimit {
            rate: 1.0,
            burst: 2.0,
            max_waits: 0,
        }
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut b, _) = Client::join(&relay, "demo", "b").await;
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    // a spends its burst, and its third message is held back for a second.
    for i in 0..3u8 {
        a.unicast("b", &[i]).await;
    }
    for i in 0..2u8 {
        assert_eq!(b.data().await, (Kind::Unicast, "a".into(), vec![i]));
    }
    stats_until(&relay, |s| s.clusters["demo"].rate_limited == 1).await;
    // b has its own bucket: its message goes through while a's waits.
    b.unicast("a", b"b's turn").await;
    assert_eq!(
        a.data().await,
        (Kind::Unicast, "b".into(), b"b's turn".to_vec())
    );
    // Then a's third message, not dropped.
    assert_eq!(b.data().await, (Kind::Unicast, "a".into(), vec![2]));
    let stats = relay.stats();
    assert_eq!(stats.clusters["demo"].dropped, 0);
    assert_eq!(stats.refused.rate_limited, 0);
}

#[tokio::test]
async fn a_connection_that_keeps_sending_above_the_rate_is_closed_when_asked() {
    let relay = relay_with(|c| {
        c.rate = RateLimit {
            rate: 10.0,
            burst: 2.0,
            max_waits: 10,
        }
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut b, _) = Client::join(&relay, "demo", "b").await;
    for _ in 0..20 {
        a.broadcast(b"flood").await;
    }
    // The burst and the ten held back went through (more, had a sent slowly); then a was
    // closed, and b told it left.
    let mut floods = 0;
    loop {
        match b.next().await {
            Some(Message::Binary(_)) => floods += 1,
            Some(Message::Text(text)) => {
                let left = Control::from_json(&text).unwrap();
                assert_eq!(left, Control::Left { node: "a".into() });
                break;
            }
            other => panic!("expected floods, then left: {other:?}"),
        }
    }
    assert!((12..20).contains(&floods), "{floods}");
    assert_eq!(a.control().await, Control::Joined { node: "b".into() });
    let error = a.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::RateLimited));
    assert_eq!(a.closed().await, (4008, "rate limit".into()));
    let stats = stats_until(&relay, |s| s.refused.rate_limited == 1).await;
    assert_eq!(stats.connections, 1);
}
