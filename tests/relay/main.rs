//! The native relay (`ringlet-relay`): routing, limits, access and shutdown, one behaviour
//! per file, against real relays on loopback. One test binary for all of them.

mod relay_support;

mod relay_abrupt_disconnect;
mod relay_applies_back_pressure;
mod relay_binds_node_identity;
mod relay_bounds_slow_consumers;
mod relay_checks_origin;
mod relay_cli_access;
mod relay_clusters_are_isolated;
mod relay_forwards_signal_frames;
mod relay_limits_cluster_connections;
mod relay_rate_limits_connections;
mod relay_rejects_bad_input;
mod relay_reports_drops_to_the_sender;
mod relay_requires_valid_tokens;
mod relay_routes_unicast_and_broadcast;
mod relay_serves_static_files;
mod relay_shuts_down_gracefully;
