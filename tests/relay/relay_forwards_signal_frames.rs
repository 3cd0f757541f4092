//! Signalling frames (kind 0x03: WebRTC offers, answers, candidates) are forwarded like a
//! unicast, with the sender stamped, and counted apart from data frames in `/stats`, so the
//! data counters show what the relay still carries once nodes talk over data channels.

use crate::relay_support;

use relay_support::{relay, stats_until, Client};
use ringlet::relay::frame::{self, Kind, NodeName};

#[tokio::test]
async fn signal_frames_are_forwarded_and_counted_apart() {
    let relay = relay().await;
    let (mut a, _) = Client::join(&relay, "demo", "Sa").await;
    let (mut b, _) = Client::join(&relay, "demo", "Sb").await;
    a.control().await;

    let to_b = NodeName::parse("Sb").unwrap();
    a.send_binary(frame::signal(&to_b, b"offer")).await;
    assert_eq!(
        b.data().await,
        (Kind::Signal, "Sa".into(), b"offer".to_vec())
    );
    a.unicast("Sb", b"data").await;
    assert_eq!(
        b.data().await,
        (Kind::Unicast, "Sa".into(), b"data".to_vec())
    );
    b.send_binary(frame::signal(&NodeName::parse("Sa").unwrap(), b"answer"))
        .await;
    assert_eq!(
        a.data().await,
        (Kind::Signal, "Sb".into(), b"answer".to_vec())
    );

    let stats = stats_until(&relay, |s| {
        s.clusters
            .get("demo")
            .is_some_and(|c| c.signal_frames_out == 2)
    })
    .await;
    let c = stats.clusters["demo"];
    assert_eq!((c.signal_frames_in, c.signal_frames_out), (2, 2));
    assert_eq!((c.frames_in, c.frames_out), (1, 1), "only the data frame");
    assert_eq!(c.bytes_in, 2 + 2 + 4);

    // To an unknown node: dropped and answered like a unicast.
    a.send_binary(frame::signal(&NodeName::parse("nobody").unwrap(), b"x"))
        .await;
    let err = a.control().await;
    assert_eq!(
        relay_support::error_code(&err),
        Some(frame::ErrorCode::UnknownDestination)
    );
}
