//! Every frame the relay drops after accepting it is reported to its sender: a `dropped`
//! notice per destination and reason, with the count, gathered over a few milliseconds.

use crate::relay_support;

use relay_support::{relay_with, stats_until, Client};
use ringlet::relay::frame::{Control, DropReason, Kind};
use std::time::Duration;

#[tokio::test]
async fn frames_dropped_for_a_stalled_node_are_reported_with_their_count() {
    const FRAMES: u64 = 40;
    let relay = relay_with(|c| {
        c.queue = 4;
        c.queue_wait = Duration::from_millis(100);
    })
    .await;
    let (mut a, _) = Client::join(&relay, "demo", "a").await;
    let (mut stuck, _) = Client::join(&relay, "demo", "stuck").await;
    a.control().await; // stuck joined
                       // `stuck` reads nothing; its queue takes 4, its socket some more.
    let payload = vec![1u8; 256 * 1024];
    for _ in 0..FRAMES {
        a.unicast("stuck", &payload).await;
    }
    let stats = stats_until(&relay, |s| s.clusters["demo"].frames_in == FRAMES).await;
    let demo = stats.clusters["demo"];
    assert!(demo.queue_full > 0, "{demo:?}");

    // a is told about every one of them.
    let mut reported = 0;
    while reported < demo.queue_full {
        match a.control().await {
            Control::Dropped {
                node,
                reason,
                count,
            } => {
                assert_eq!((node.as_str(), reason), ("stuck", DropReason::QueueFull));
                reported += count;
            }
            other => panic!("expected a dropped notice, got {other:?}"),
        }
    }
    assert_eq!(reported, demo.queue_full);
    a.silent(100).await;

    // What was not dropped arrives.
    for _ in 0..demo.frames_out {
        assert_eq!(stuck.data().await.0, Kind::Unicast);
    }
}
