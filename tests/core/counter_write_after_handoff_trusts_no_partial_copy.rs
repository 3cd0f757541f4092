//! Issue 15 defect 4, counters: two more ways a node built its plain actor's next counter
//! total on a copy of the key that lacked its own earlier adds, once it had handed the key
//! off earlier in the run. The join of the two versions (a pointwise maximum per actor) then
//! lost acknowledged increments.
//!
//! Seed 1629: the node, no replica of the key any more, got a late hint's copy delivered;
//! cut off from the primaries with one other node, its read first met R through that node
//! (a fallback holding hints) and itself, and it wrote as its plain actor because it held
//! the key. A node now counts as holding its actor's history of a key only if this run never
//! handed that key's partition off; otherwise it forwards to a primary, or writes as its
//! fallback actor, whose record holds all its dots.
//!
//! Seed 31678: a primary that had handed the key off read it first and met R only through
//! answers that are no authority on the key (counted after all, a partial read), which held
//! nothing: its add restarted its actor's total. A partial read first now counts as failed.

use ringlet::sim::{run_seed, SimOptions};

#[test]
fn replayed_seeds_lose_no_counter_increment() {
    for seed in [1629, 31678] {
        let report = run_seed(&SimOptions::new(seed));
        assert!(
            report.ok(),
            "seed {seed} must pass every check: {}",
            report.replay_command()
        );
    }
}
