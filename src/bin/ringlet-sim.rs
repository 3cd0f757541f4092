//! Run or replay deterministic cluster simulations.
//!
//!     ringlet-sim --seed 42            replay one seed, print its report
//!     ringlet-sim --seed 42 --trace    ... with every message, persist, reply and fault
//!     ringlet-sim --seeds 0..1000      run a range of seeds, print failures
//!     ringlet-sim --seeds 0..100 --no-faults

use ringlet::sim::{run_seed, SimOptions, TraceEvent};
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: ringlet-sim (--seed N | --seeds A..B) [--trace] [--no-faults] [--safety-ms MS]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds: Option<(u64, u64)> = None;
    let mut trace = false;
    let mut faults = true;
    let mut safety_ms = None;
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
    for seed in from..to {
        let mut opts = SimOptions::new(seed);
        opts.trace = trace;
        opts.faults = faults;
        if let Some(ms) = safety_ms {
            opts.safety_ms = ms;
        }
        let report = run_seed(&opts);
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
