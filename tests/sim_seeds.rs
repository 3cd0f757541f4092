//! Every invariant of `ringlet::sim::check` holds on many seeds: a safety phase under faults
//! (crashes with and without loss of unpersisted writes, partitions, loss, duplication,
//! reordering, clock skew), then a liveness phase.
//!
//! `RINGLET_SEEDS=N` runs N seeds (default 1000); `RINGLET_SEED_START` shifts the range;
//! `RINGLET_SIM_FAULTS` and `RINGLET_SIM_CHECKS` change the switches (docs/simulation.md).
//! A failure prints the command that replays the failing seed.

use ringlet::sim::{run_seed, RunReport, SimOptions, Totals};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn invariants_hold_on_every_seed() {
    let count = env_u64("RINGLET_SEEDS", 1000);
    let start = env_u64("RINGLET_SEED_START", 0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                (start..start + count)
                    .filter(|s| s % threads == t)
                    .map(|s| run_seed(&SimOptions::from_env(s).expect("RINGLET_SIM_FAULTS/CHECKS")))
                    .collect::<Vec<RunReport>>()
            })
        })
        .collect();
    let mut reports: Vec<RunReport> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("simulation thread panicked"))
        .collect();
    reports.sort_by_key(|r| r.seed);
    let failed: Vec<&RunReport> = reports.iter().filter(|r| !r.ok()).collect();
    let mut totals = Totals::default();
    for r in &reports {
        totals.add(r);
    }
    let summary = totals.line(start);
    println!("{summary}");
    // `npm test` prints this line after the (captured) test run: target/tmp/sim_seeds_summary.txt
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim_seeds_summary.txt"),
        format!("{summary}\n"),
    );
    for r in &failed {
        print!("{r}");
    }
    assert!(
        failed.is_empty(),
        "{} of {} seeds violated an invariant",
        failed.len(),
        reports.len()
    );
    assert!(
        totals.acked_writes > 0 && totals.faults > 0,
        "the workload or the fault schedule did nothing"
    );
}
