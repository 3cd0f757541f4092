//! DYNAMO.md "Exactly once", through a coordinator's own stall (simulator seed 26296): n2
//! accepted a `Forward`, then its event loop stalled for 4.2 s (a throttled tab). A network
//! duplicate of the `Forward` had reached it in time and waited in the backlog; at the end
//! of the stall, the node swept its memory of accepted forwards (twice the request timeout
//! had passed on its clock) before it handled the backlog, so the duplicate was accepted
//! anew and the put was stored twice. A node does not forget accepted forwards while it is
//! still catching up on its own stall.

use ringlet::sim::{run_seed, SimOptions};

#[test]
fn a_duplicate_waiting_out_the_coordinators_stall_is_not_applied_again() {
    let report = run_seed(&SimOptions::new(26296));
    assert!(
        report.ok(),
        "seed 26296 must pass every check: {}",
        report.replay_command()
    );
}
