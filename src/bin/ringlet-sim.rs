//! Run or replay deterministic cluster simulations.
//!
//!     ringlet-sim --seed 42            replay one seed, print its report
//!     ringlet-sim --seed 42 --trace    ... with every message, persist, reply and fault
//!     ringlet-sim --seeds 0..1000      run a range of seeds, print failures
//!     ringlet-sim --seeds 0..100 --no-faults
//!     ringlet-sim --seeds 0..1000 --checks all          every check of issue 15 on
//!     ringlet-sim --seed 7 --faults none,stalls --checks +ack_durable
//!
//! `--faults` and `--checks` take switch lists (`all`, `none`, `default`, `name`, `-name`,
//! applied in order to the defaults; see `src/sim/switches.rs`); without them the
//! `RINGLET_SIM_FAULTS` / `RINGLET_SIM_CHECKS` environment variables apply. `--summary`
//! prints the failures grouped by their first violation's kind.

use ringlet::core::config::Mutant;
use ringlet::sim::{run_seed, Checks, Faults, SimOptions, TraceEvent};
use std::collections::BTreeMap;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: ringlet-sim (--seed N | --seeds A..B) [--trace] [--no-faults] [--safety-ms MS] [--faults LIST] [--checks LIST] [--summary] [--until-fail] [--mutant NAME]\n  faults: {}\n  checks: {}\n  mutants (with --features mutants): {}",
        Faults::NAMES.join(", "),
        Checks::NAMES.join(", "),
        Mutant::ALL.map(Mutant::name).join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds: Option<(u64, u64)> = None;
    let mut trace = false;
    let mut faults = true;
    let mut safety_ms = None;
    let mut summary = false;
    let mut until_fail = false;
    let mut mutant = None;
    let base = match SimOptions::from_env(0) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return usage();
        }
    };
    let mut tab_faults = base.tab_faults;
    let mut checks = base.checks;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => match it.next().and_then(|s| s.parse::<u64>().ok()) {
                Some(s) => seeds = Some((s, s + 1)),
                None => return usage(),
            },
            "--seeds" => {
                let range = it.next().and_then(|s| {
                    let (a, b) = s.split_once("..")?;
                    Some((a.parse().ok()?, b.parse().ok()?))
                });
                match range {
                    Some(r) => seeds = Some(r),
                    None => return usage(),
                }
            }
            "--trace" => trace = true,
            "--summary" => summary = true,
            "--faults" => match it.next().map(|l| tab_faults.apply(l)) {
                Some(Ok(f)) => tab_faults = f,
                Some(Err(e)) => {
                    eprintln!("{e}");
                    return usage();
                }
                None => return usage(),
            },
            "--checks" => match it.next().map(|l| checks.apply(l)) {
                Some(Ok(c)) => checks = c,
                Some(Err(e)) => {
                    eprintln!("{e}");
                    return usage();
                }
                None => return usage(),
            },
            "--until-fail" => until_fail = true,
            "--mutant" => {
                let name = it.next().map(String::as_str).unwrap_or("");
                match Mutant::ALL.iter().find(|m| m.name() == name) {
                    Some(_) if !cfg!(feature = "mutants") => {
                        eprintln!("--mutant needs a build with `--features mutants`");
                        return usage();
                    }
                    Some(m) => mutant = Some(*m),
                    None => {
                        eprintln!("unknown mutant {name:?}");
                        return usage();
                    }
                }
            }
            "--no-faults" => faults = false,
            "--safety-ms" => match it.next().and_then(|s| s.parse().ok()) {
                Some(ms) => safety_ms = Some(ms),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let Some((from, to)) = seeds else {
        return usage();
    };
    let single = to == from + 1;
    let mut failed = 0u64;
    let mut kinds: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    // Totals for `--summary` (the figures `tests/sim_seeds.rs` prints).
    let (mut requests, mut acked, mut siblings, mut ambiguous, mut injected) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut fault_kinds: BTreeMap<String, u64> = BTreeMap::new();
    for seed in from..to {
        let mut opts = SimOptions::new(seed);
        opts.trace = trace;
        opts.faults = faults;
        opts.tab_faults = tab_faults;
        opts.checks = checks;
        opts.mutant = mutant;
        if let Some(ms) = safety_ms {
            opts.safety_ms = ms;
        }
        let report = run_seed(&opts);
        requests += report.requests_ok + report.requests_failed;
        acked += report.acked_writes as u64;
        siblings += report.gets_with_siblings;
        ambiguous += report.ambiguous;
        injected += report.faults.len() as u64;
        for (k, n) in &report.fault_counts {
            *fault_kinds.entry(k.clone()).or_default() += *n;
        }
        for e in &report.trace {
            println!("{}", show(e));
        }
        if single {
            for f in &report.faults {
                println!("fault at {f}");
            }
        }
        if single || !report.ok() {
            print!("{report}");
        }
        if !report.ok() {
            failed += 1;
            let mut seen = std::collections::BTreeSet::new();
            for v in &report.violations {
                seen.insert(violation_kind(&v.0));
            }
            for k in seen {
                let e = kinds.entry(k).or_insert((seed, 0));
                e.1 += 1;
            }
            if until_fail {
                println!("first failing seed: {seed}");
                return ExitCode::FAILURE;
            }
        }
    }
    if summary {
        let kinds_list: Vec<String> = fault_kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "{} seeds from {from}: {requests} requests, {acked} acknowledged writes checked, {siblings} gets with siblings, {ambiguous} ambiguous counter updates, {injected} faults injected ({})",
            to - from,
            kinds_list.join(", ")
        );
        for (k, (first, count)) in &kinds {
            println!("{k}: {count} seeds, first {first}");
        }
    }
    println!("{} passed, {} failed", (to - from) - failed, failed);
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn show(e: &TraceEvent) -> String {
    match e {
        TraceEvent::Send {
            at,
            from,
            to,
            kind,
            key,
            dropped,
        } => {
            let key = key.as_ref().map(|k| format!(" {k:?}")).unwrap_or_default();
            let dropped = if *dropped { " (dropped)" } else { "" };
            format!("{at:>8} {from} -> {to} {kind}{key}{dropped}")
        }
        TraceEvent::Deliver { at, from, to, kind } => format!("{at:>8} {to} <- {from} {kind}"),
        TraceEvent::Persist { at, node, ops } => format!("{at:>8} {node} persists {ops} ops"),
        TraceEvent::Reply { at, node, id, ok } => {
            format!(
                "{at:>8} {node} replies to request {id}: {}",
                if *ok { "ok" } else { "error" }
            )
        }
        TraceEvent::Event { at, node, event } => format!("{at:>8} {node} {event}"),
        TraceEvent::Fault { at, what } => format!("{at:>8} FAULT {what}"),
    }
}

/// A violation's kind, for `--summary`.
fn violation_kind(v: &str) -> String {
    const KINDS: [(&str, &str); 12] = [
        (
            "intended replicas hold it durably",
            "ack-durable: acked below W distinct intended replicas",
        ),
        ("twice, as siblings", "no-duplicates: one put stored twice"),
        (
            "outside [",
            "counters: value outside acked..acked+ambiguous",
        ),
        (
            "does not supersede exactly",
            "causality: clock is not context + dot",
        ),
        ("read-your-writes", "read-your-writes: missed own put"),
        ("the context of", "context-size: entries > coordinators + 2"),
        ("was lost", "end: acknowledged write lost"),
        ("past its", "end: request ended past its timeout"),
        ("never ended", "end: request never ended"),
        ("diverge", "end: replicas diverge"),
        ("still holds", "end: misplaced key or leftover hint"),
        ("membership views differ", "end: membership views differ"),
    ];
    KINDS
        .iter()
        .find(|(needle, _)| v.contains(needle))
        .map_or_else(
            || v.split_whitespace().take(5).collect::<Vec<_>>().join(" "),
            |(_, kind)| kind.to_string(),
        )
}
