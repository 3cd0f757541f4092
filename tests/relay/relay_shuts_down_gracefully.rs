//! On shutdown the relay closes every WebSocket with 1001 and stops listening.

use crate::relay_support;

use relay_support::{relay, Client};

#[tokio::test]
async fn shutdown_closes_every_connection_with_going_away() {
    let relay = relay().await;
    let addr = relay.local_addr();
    let (mut a, _) = Client::join(&relay, "demo", "Sa").await;
    let (mut b, _) = Client::join(&relay, "other", "Sb").await;
    let shutdown = tokio::spawn(relay.shutdown());
    assert_eq!(a.closed().await, (1001, "relay shutting down".into()));
    assert_eq!(b.closed().await, (1001, "relay shutting down".into()));
    shutdown.await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
