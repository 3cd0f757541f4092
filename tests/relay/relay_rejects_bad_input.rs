//! Bad input gets a typed error and breaks nothing: a bad hello or data before hello is
//! refused (4002), a duplicate node id too (4009); malformed frames, unknown destinations and
//! oversize frames are dropped, counted and answered; the relay keeps serving the others.

use crate::relay_support;

use relay_support::{error_code, relay, relay_with, stats_until, Client};
use ringlet::relay::frame::{Control, ErrorCode, Kind};

/// Two nodes that can still talk: the relay is serving.
async fn still_serving(a: &mut Client, b: &mut Client) {
    a.unicast("Sb", b"still here").await;
    assert_eq!(
        b.data().await,
        (Kind::Unicast, "Sa".into(), b"still here".to_vec())
    );
}

async fn pair(relay: &ringlet::relay::Relay) -> (Client, Client) {
    let (mut a, _) = Client::join(relay, "demo", "Sa").await;
    let (b, _) = Client::join(relay, "demo", "Sb").await;
    a.control().await; // joined Sb
    (a, b)
}

#[tokio::test]
async fn bad_hello_is_refused_with_4002() {
    let relay = relay().await;
    let (mut a, mut b) = pair(&relay).await;
    let long = "n".repeat(65);
    let bad = [
        "not json".to_string(),
        "{}".into(),
        r#"{"type":"welcome","node":"x","peers":[]}"#.into(),
        r#"{"type":"hello","cluster":"demo"}"#.into(),
        r#"{"type":"hello","cluster":"de/mo","node":"x"}"#.into(),
        r#"{"type":"hello","cluster":"","node":"x"}"#.into(),
        r#"{"type":"hello","cluster":"demo","node":"has space"}"#.into(),
        r#"{"type":"hello","cluster":"demo","node":""}"#.into(),
        format!(r#"{{"type":"hello","cluster":"demo","node":"{long}"}}"#),
    ];
    for hello in bad {
        let mut c = Client::connect(&relay).await;
        c.send_text(&hello).await;
        let error = c.control().await;
        assert_eq!(error_code(&error), Some(ErrorCode::BadHello), "{hello}");
        assert_eq!(c.closed().await, (4002, "bad hello".into()), "{hello}");
    }
    a.silent(100).await; // nobody joined
    still_serving(&mut a, &mut b).await;
}

#[tokio::test]
async fn data_before_hello_is_a_bad_hello() {
    let relay = relay().await;
    let mut c = Client::connect(&relay).await;
    c.broadcast(b"too early").await;
    let error = c.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::BadHello));
    assert_eq!(c.closed().await.0, 4002);
}

#[tokio::test]
async fn no_hello_in_time_is_a_bad_hello() {
    let relay = relay_with(|c| c.hello_timeout = std::time::Duration::from_millis(200)).await;
    let mut c = Client::connect(&relay).await;
    let error = c.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::BadHello));
    assert_eq!(c.closed().await.0, 4002);
}

#[tokio::test]
async fn malformed_frames_are_dropped_counted_and_answered() {
    let relay = relay().await;
    let (mut a, mut b) = pair(&relay).await;
    let malformed: [&[u8]; 6] = [
        &[],                       // empty
        &[0x07, 1, 2],             // unknown kind
        &[0x01],                   // no length byte
        &[0x01, 5, b'S', b'b'],    // id cut short
        &[0x01, 0, b'x'],          // empty id
        &[0x01, 2, b'S', b' ', 1], // not a valid id
    ];
    for frame in malformed {
        a.send_binary(frame.to_vec()).await;
        let error = a.control().await;
        assert_eq!(
            error_code(&error),
            Some(ErrorCode::MalformedFrame),
            "{frame:?}"
        );
    }
    a.send_text(r#"{"type":"hello","cluster":"demo","node":"Sa"}"#)
        .await;
    assert_eq!(
        error_code(&a.control().await),
        Some(ErrorCode::MalformedFrame)
    );
    b.silent(100).await;
    still_serving(&mut a, &mut b).await;
    let demo = relay.stats().clusters["demo"];
    assert_eq!((demo.malformed, demo.frames_in, demo.frames_out), (7, 7, 1));
}

#[tokio::test]
async fn unknown_destination_is_answered_with_an_error() {
    let relay = relay().await;
    let (mut a, mut b) = pair(&relay).await;
    a.unicast("nobody", b"hello?").await;
    assert_eq!(
        a.control().await,
        Control::Error {
            code: ErrorCode::UnknownDestination,
            node: Some("nobody".into()),
            message: None
        }
    );
    still_serving(&mut a, &mut b).await;
    assert_eq!(relay.stats().clusters["demo"].dropped, 1);
}

#[tokio::test]
async fn oversize_frames_are_refused() {
    let relay = relay_with(|c| c.max_frame = 1000).await;
    let (mut a, mut b) = pair(&relay).await;
    a.broadcast(&[7; 999]).await; // 1000 bytes with its header: the maximum
    assert_eq!(b.data().await.2.len(), 999);

    a.broadcast(&[7; 1000]).await;
    let error = a.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::FrameTooLarge));
    b.silent(100).await;
    still_serving(&mut a, &mut b).await;

    // Far above the maximum, the WebSocket layer refuses it and the connection closes.
    a.broadcast(&[7; 200_000]).await;
    assert_eq!(
        error_code(&a.control().await),
        Some(ErrorCode::FrameTooLarge)
    );
    assert_eq!(a.closed().await, (1009, "frame too large".into()));
    assert_eq!(b.control().await, Control::Left { node: "Sa".into() });
    let demo = stats_until(&relay, |s| s.clusters["demo"].connections == 1).await;
    assert_eq!(demo.clusters["demo"].dropped, 2);
}

#[tokio::test]
async fn a_second_connection_with_a_live_node_id_is_refused() {
    let relay = relay().await;
    let (mut a, mut b) = pair(&relay).await;
    let mut imposter = Client::connect(&relay).await;
    imposter.hello("demo", "Sa").await;
    assert_eq!(
        imposter.control().await,
        Control::Error {
            code: ErrorCode::NodeIdInUse,
            node: Some("Sa".into()),
            message: Some("node id in use".into())
        }
    );
    assert_eq!(imposter.closed().await, (4009, "node id in use".into()));
    b.silent(100).await; // no joined, no left
    still_serving(&mut a, &mut b).await;
    assert_eq!(relay.stats().clusters["demo"].connections, 2);
}
