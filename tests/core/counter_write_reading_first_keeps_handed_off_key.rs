//! Issue 15 defect 4, counters (simulator seed 13153): a node whose ring moved a counter key
//! away still held it (transfer not finished), so it coordinated two adds forwarded to it as
//! its plain actor. The first add began by reading the key from the replicas (read first);
//! while that read was still out, the second add (its read done) wrote dot (t2,1) and the
//! transfer of the key to its primaries finished, which deleted the key from the node. Then
//! the first read ended: its replies predate (t2,1), the node's store no longer had it, and
//! the new dot (t2,2) was built on a state whose t2 total lacked the first add. The join of
//! the two versions (a pointwise maximum per actor) lost that add, and (t2,2) covers and
//! replaces (t2,1): an acknowledged increment vanished.
//!
//! Now a finished transfer keeps the object while a write of the key waits at the node (its
//! read first, or its dots), and hands it off again later; and a read first that ends on a
//! node that neither replicates nor holds the key any longer forwards the write to a primary
//! instead of building on what the read saw.
//!
//! Two more paths of the same class are replayed too. Seed 4159: a primary that had handed
//! the key off earlier in the run got it back and read it first with the client's R = 1,
//! which met a replica with nothing, while earlier adds of its actor had been acknowledged
//! by W = 2 of N = 3; the read first now asks at least max(R, N + 1 - W) replicas. Seed
//! 17195: a node handed the key off, then a stale copy reached it again; it still counted
//! the key as read in this run, so it wrote on that copy without reading first; a handoff
//! now forgets that the key was read. Seed 5769: a joiner whose ring did not name it yet held
//! the key (nodes with the newer ring sent it versions), wrote it as its plain actor, and
//! handed it off to the old ring's primaries; once its ring named it a primary, its read
//! first used the client's R, because it had never *replicated* the partition in this run,
//! and its own empty store answered it: the next add restarted its actor's total at zero. A
//! handoff now counts the key's partition as lost, so that read asks max(R, N + 1 - W).
//! Seed 17393: a node's fallback actor `j1@f` kept only its own versions of the object it
//! last sent; its plain actor's write then superseded them (carrying `j1@f`'s counter total)
//! and its next fallback add restarted `j1@f`'s total below it. The fallback record now
//! keeps the whole object. Seed 11960: a node that had handed the key off held it again (a
//! late hint's copy, without the versions of its own actor that left with the handoff); its
//! read first failed, and it trusted that copy because it held one, so its plain actor's
//! next dot covered an acknowledged add of its own it never saw. Now a failed read of a key
//! whose partition the run stopped replicating is never trusted, held or not.

use ringlet::sim::{run_seed, SimOptions};

#[test]
fn replayed_seeds_lose_no_counter_increment() {
    for seed in [13153, 4159, 17195, 5769, 17393, 11960] {
        let report = run_seed(&SimOptions::new(seed));
        assert!(
            report.ok(),
            "seed {seed} must pass every check: {}",
            report.replay_command()
        );
    }
}
