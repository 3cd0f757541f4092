//! Above its rate a connection is slowed down, not dropped from: the relay reads its next
//! message only when that message's token is due, so every frame arrives, in order, at the
//! rate, and TCP holds the sender back meanwhile.

use crate::relay_support;

use relay_support::{relay_with, stats_until, Client};
use ringlet::relay::frame::Kind;
use ringlet::relay::RateLimit;
use std::time::Instant;

#[tokio::test]
async fn a_sender_over_the_rate_is_slowed_and_nothing_is_dropped() {
    const RATE: f64 = 200.0;
    const BURST: f64 = 10.0;
    const FRAMES: u32 = 110;
    let relay = relay_with(|c| {
        c.rate = RateLimit {
            rate: RATE,
            burst: BURST,
            max_waits: 0,
        }
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut b, _) = Client::join(&relay, "demo", "b").await;
    a.control().await; // b joined

    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for i in 0..FRAMES {
            a.unicast("b", &i.to_be_bytes()).await;
        }
        a
    });
    for i in 0..FRAMES {
        assert_eq!(
            b.data().await,
            (Kind::Unicast, "a".into(), i.to_be_bytes().to_vec())
        );
    }
    // Everything above the burst came at the rate: no faster than it allows.
    let floor = (f64::from(FRAMES) - BURST - 1.0) / RATE;
    let took = start.elapsed().as_secs_f64();
    assert!(
        took >= floor,
        "{FRAMES} frames in {took:.3} s, the rate allows {floor:.3} s"
    );

    let mut a = sender.await.unwrap();
    let stats = stats_until(&relay, |s| {
        s.clusters["demo"].frames_out == u64::from(FRAMES)
    })
    .await;
    let demo = stats.clusters["demo"];
    assert_eq!(demo.dropped, 0, "{demo:?}");
    assert!(demo.rate_limited > 0, "held back: {demo:?}");
    assert_eq!(stats.refused.rate_limited, 0);
    // Held back, not told off: no error, no notice.
    a.silent(100).await;
}
