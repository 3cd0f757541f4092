//! Clusters are rooms: a node of one cluster never sees another cluster's members, frames or
//! notifications, and the same node id may live in two clusters.

use crate::relay_support;

use relay_support::{error_code, relay, Client};
use ringlet::relay::frame::{Control, ErrorCode, Kind};

#[tokio::test]
async fn a_node_of_one_cluster_never_sees_another_clusters_traffic() {
    let relay = relay().await;
    let (mut a1, _) = Client::join(&relay, "alpha", "n1").await;
    let (mut a2, _) = Client::join(&relay, "alpha", "n2").await;
    assert_eq!(a1.control().await, Control::Joined { node: "n2".into() });

    let (mut b1, peers) = Client::join(&relay, "beta", "n1").await;
    assert!(peers.is_empty(), "alpha's members are not beta's peers");
    let (mut b3, peers) = Client::join(&relay, "beta", "n3").await;
    assert_eq!(peers, ["n1"]);
    assert_eq!(b1.control().await, Control::Joined { node: "n3".into() });

    a1.broadcast(b"alpha only").await;
    assert_eq!(
        a2.data().await,
        (Kind::Broadcast, "n1".into(), b"alpha only".to_vec())
    );
    a1.unicast("n3", b"across").await;
    let error = a1.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::UnknownDestination));
    b1.broadcast(b"beta only").await;
    assert_eq!(
        b3.data().await,
        (Kind::Broadcast, "n1".into(), b"beta only".to_vec())
    );

    a2.close().await;
    assert_eq!(a1.control().await, Control::Left { node: "n2".into() });
    b1.silent(200).await;
    b3.silent(0).await;

    let stats = relay.stats();
    assert_eq!(stats.connections, 3);
    let (alpha, beta) = (stats.clusters["alpha"], stats.clusters["beta"]);
    assert_eq!(
        (
            alpha.connections,
            alpha.frames_in,
            alpha.frames_out,
            alpha.dropped
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(
        (
            beta.connections,
            beta.frames_in,
            beta.frames_out,
            beta.dropped
        ),
        (2, 1, 1, 0)
    );
}
