//! The connections-per-cluster limit: once a cluster has `max_cluster_connections` nodes,
//! a further hello is refused with `CLUSTER_FULL` and close 4029; other clusters are not
//! affected, and a seat freed by a leaving node can be taken again.

use crate::relay_support;

use relay_support::{error_code, relay_with, stats_until, Client};
use ringlet::relay::frame::{Control, ErrorCode};

#[tokio::test]
async fn a_full_cluster_refuses_further_nodes() {
    let relay = relay_with(|c| c.max_cluster_connections = 3).await;
    let (_a, _) = Client::join(&relay, "demo", "a").await;
    let (_b, _) = Client::join(&relay, "demo", "b").await;
    let (c, _) = Client::join(&relay, "demo", "c").await;

    let mut d = Client::connect(&relay).await;
    d.hello("demo", "d").await;
    let error = d.control().await;
    assert_eq!(error_code(&error), Some(ErrorCode::ClusterFull));
    assert_eq!(d.closed().await, (4029, "cluster full".into()));

    // Another cluster has its own seats.
    let (_x, _) = Client::join(&relay, "other", "d").await;

    c.close().await;
    stats_until(&relay, |s| s.clusters["demo"].connections == 2).await;
    let (_d, peers) = Client::join(&relay, "demo", "d").await;
    assert_eq!(peers, ["a", "b"]);
    let stats = relay.stats();
    assert_eq!(stats.refused.cluster_full, 1);
    assert_eq!(stats.clusters["demo"].connections, 3);
    assert!(matches!(error, Control::Error { .. }));
}
