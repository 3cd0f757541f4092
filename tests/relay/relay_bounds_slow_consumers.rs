//! A node that does not read cannot make the relay buffer without bound: its queue is
//! bounded; a sender of frames for it waits for room (reading nothing meanwhile) up to
//! `queue_wait`, then its frames for the slow node are dropped, counted and reported to it,
//! and what the slow node does get is in order.

use crate::relay_support;

use relay_support::{relay_with, stats_until, Client};
use std::time::Duration;

#[tokio::test]
async fn frames_for_a_full_queue_wait_then_are_dropped_and_counted() {
    const FRAMES: u32 = 4000;
    let relay = relay_with(|c| {
        c.queue = 16;
        c.queue_wait = Duration::from_millis(200);
        // The sender's whole burst must reach the relay: this test is about the queue.
        c.rate.burst = f64::from(FRAMES);
    })
    .await;
    let (mut fast, _) = Client::join(&relay, "demo", "fast").await;
    let (mut slow, _) = Client::join(&relay, "demo", "slow").await;
    fast.control().await;

    // 64 MiB for `slow`, which reads nothing meanwhile: far more than the socket buffers hold.
    let mut payload = vec![0u8; 16 * 1024];
    for i in 0..FRAMES {
        payload[..4].copy_from_slice(&i.to_be_bytes());
        fast.broadcast(&payload).await;
    }
    let stats = stats_until(&relay, |s| {
        s.clusters["demo"].frames_in == u64::from(FRAMES)
    })
    .await;
    let demo = stats.clusters["demo"];
    assert!(demo.dropped > 0, "{demo:?}");
    assert_eq!(demo.dropped, demo.queue_full, "{demo:?}");
    assert!(demo.queue_waits > 0, "the sender waited first: {demo:?}");
    assert_eq!(demo.frames_out + demo.dropped, u64::from(FRAMES));

    let mut last = None;
    for _ in 0..demo.frames_out {
        let (_, from, data) = slow.data().await;
        assert_eq!(from, "fast");
        let i = u32::from_be_bytes(data[..4].try_into().unwrap());
        assert!(last < Some(i), "in order");
        last = Some(i);
    }
    slow.silent(100).await;
}
