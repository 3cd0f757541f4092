//! §4.8 and issue 15 defect 5, on the coordinator's side: a node that has left the ring
//! stores nothing and never fills a slot, even while its own (stale) ring still names it
//! a primary of the key it coordinates.
//!
//! Found by the simulator's `ack_durable` check at seeds 4621 and 6726: j1 joins, leaves at
//! once (it owns nothing yet, so it exits at once), and later installs a ring that a
//! claimant computed before it heard of the leave, which names j1 a primary. A client of j1
//! then puts `hot1` with W=2: `sloppy_targets` lists j1 itself, `send_replica` stored the
//! object in j1's own store and `on_put_ack` counted it, so the put was acknowledged with
//! one member slot (j2) and the copy of a node that had left. Now its slot goes to the next
//! member of the preference list, as a refusal's does.
//!
//! The scenario needs a membership race that only the simulator's schedule produces, so it
//! replays those two seeds with the `ack_durable` check alone.

use ringlet::sim::{run_seed, Checks, SimOptions};

#[test]
fn a_coordinator_that_left_never_counts_its_own_store() {
    for seed in [4621, 6726] {
        let mut opts = SimOptions::new(seed);
        opts.checks = Checks::none();
        opts.checks.ack_durable = true;
        let report = run_seed(&opts);
        let below_w: Vec<String> = report
            .violations
            .iter()
            .map(|v| v.to_string())
            .filter(|v| v.contains("intended replicas hold it durably"))
            .collect();
        assert!(
            below_w.is_empty(),
            "seed {seed}: {below_w:#?}\nreplay: {}",
            report.replay_command()
        );
        assert!(report.acks_checked > 0, "seed {seed} checked no ack");
    }
}
