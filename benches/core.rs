//! Benchmarks of the core (not timed tests): `cargo bench --bench core`.
//!
//! - put and get through the full quorum path (5 nodes, N=3, R=W=2, 1 KB values) on the
//!   simulator's zero-fault network: ops per wall-clock second and heap allocations per op;
//! - context merge / compare / encode / decode;
//! - whole simulated runs with faults: simulated client ops per wall-clock second;
//! - the cost of one input with 10 to 10,000 requests in flight (issue 14: flat, since
//!   deadlines live in a timer table, not in a scan of every request).

use ringlet::core::{
    Bytes, ClientReply, ClientRequest, Config, Context, Dot, RequestOptions, Siblings, Value,
    Version, VersionVector,
};
use ringlet::sim::{run_seed, Cluster, NetConfig, SimOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

fn quorum_path() {
    let net = NetConfig {
        min_latency_ms: 1,
        max_latency_ms: 1,
        min_persist_ms: 0,
        max_persist_ms: 0,
        ..NetConfig::default()
    };
    let mut cluster = Cluster::with_nodes(1, 5, Config::default(), net);
    let value = Bytes::from(vec![7u8; 1024]);
    let keys: Vec<Bytes> = (0..1000)
        .map(|i| Bytes::from(format!("key{i}").into_bytes()))
        .collect();
    let ops = 20_000;
    // Each put passes the context of the previous one, so keys keep one version.
    let mut contexts: Vec<Option<Context>> = vec![None; keys.len()];
    let mut put_chained = |cluster: &mut Cluster, i: usize| {
        let k = i % keys.len();
        match cluster.call(i % 5, put(&keys[k], &value, contexts[k].take())) {
            Ok(ClientReply::Put { context, .. }) => contexts[k] = Some(context),
            other => panic!("put failed: {other:?}"),
        }
    };
    for i in 0..keys.len() {
        put_chained(&mut cluster, i); // warm up: every key exists once
    }
    let a0 = allocs();
    let t0 = Instant::now();
    for i in 0..ops {
        put_chained(&mut cluster, i);
    }
    let put_secs = t0.elapsed().as_secs_f64();
    let put_allocs = (allocs() - a0) as f64 / ops as f64;
    let a0 = allocs();
    let t0 = Instant::now();
    for i in 0..ops {
        let key = keys[i % keys.len()].clone();
        let r = cluster.call(
            i % 5,
            ClientRequest::Get {
                key,
                options: RequestOptions::default(),
            },
        );
        assert!(matches!(r, Ok(ClientReply::Get { .. })));
    }
    let get_secs = t0.elapsed().as_secs_f64();
    let get_allocs = (allocs() - a0) as f64 / ops as f64;
    println!("quorum path (5 nodes, N=3 R=2 W=2, 1 KB values, 1000 keys, each put with the previous context, simulator host included):");
    println!(
        "  put: {:>9.0} ops/s  {:>6.1} allocations/op",
        ops as f64 / put_secs,
        put_allocs
    );
    println!(
        "  get: {:>9.0} ops/s  {:>6.1} allocations/op",
        ops as f64 / get_secs,
        get_allocs
    );
}

fn put(key: &Bytes, value: &Bytes, context: Option<Context>) -> ClientRequest {
    ClientRequest::Put {
        key: key.clone(),
        value: value.clone(),
        context,
        options: RequestOptions::default(),
    }
}

fn time_ns(iters: u64, mut f: impl FnMut()) -> f64 {
    let t0 = Instant::now();
    for _ in 0..iters {
        f();
    }
    t0.elapsed().as_nanos() as f64 / iters as f64
}

fn contexts() {
    let names = ["Sa", "Sb", "Sc", "Sd", "Se", "Sf", "Sg", "Sh", "Si", "Sj"];
    let vv = |off: u64, n: usize| {
        VersionVector::from_pairs(
            names
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, s)| (*s, i as u64 * 3 + off)),
        )
    };
    println!("contexts (version vectors):");
    for n in [3usize, 10] {
        let a = vv(1, n);
        let b = vv(2, n);
        let merge = time_ns(1_000_000, || {
            let mut x = a.clone();
            x.merge(black_box(&b));
            black_box(x);
        });
        let cmp = time_ns(1_000_000, || {
            black_box(black_box(&a).descends(black_box(&b)));
        });
        let ctx = Context::from(a.clone());
        let bytes = ctx.to_bytes();
        let enc = time_ns(1_000_000, || {
            black_box(black_box(&ctx).to_bytes());
        });
        let dec = time_ns(1_000_000, || {
            black_box(Context::from_bytes(black_box(&bytes)).ok());
        });
        println!(
            "  {n:>2} entries: merge {merge:>6.0} ns  compare {cmp:>5.0} ns  encode {enc:>5.0} ns  decode {dec:>5.0} ns  ({} bytes)",
            bytes.len()
        );
    }
    let version = |node: &str, c: u64, past: VersionVector| Version {
        dot: Dot::new(node, c),
        past,
        value: Value::Data(Bytes::from("v")),
        timestamp_ms: 0,
    };
    let left = Siblings::from_versions([version("Sa", 5, vv(1, 3)), version("Sb", 9, vv(1, 3))]);
    let right = Siblings::from_versions([version("Sc", 9, vv(2, 3))]);
    let sync = time_ns(500_000, || {
        let mut x = left.clone();
        x.sync(black_box(&right));
        black_box(x);
    });
    println!("  sibling sync (2 + 1 versions, 3-entry clocks): {sync:.0} ns");
}

fn simulation() {
    let t0 = Instant::now();
    let mut ops = 0u64;
    let mut virtual_ms = 0u64;
    let seeds = 200;
    for seed in 0..seeds {
        let r = run_seed(&SimOptions::new(seed));
        assert!(r.ok(), "seed {seed} failed");
        ops += r.requests_ok + r.requests_failed;
        virtual_ms += r.virtual_ms;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!("simulation ({seeds} seeds with faults, 3-7 nodes):");
    println!(
        "  {:.0} simulated client ops per wall second, {:.0}x faster than real time, {:.1} ms per seed",
        ops as f64 / secs,
        virtual_ms as f64 / 1000.0 / secs,
        secs * 1000.0 / seeds as f64
    );
}

/// Per-input cost at one node with `k` puts in flight (none answered: the network is not
/// run), for growing `k`.
fn in_flight() {
    println!("one input with requests in flight (3 nodes, puts never answered):");
    let mut first = None;
    // The first round warms the allocator and caches up; it is not printed.
    for (round, k) in [10usize, 10, 100, 1_000, 10_000].into_iter().enumerate() {
        let mut cluster = Cluster::with_nodes(1, 3, Config::default(), NetConfig::default());
        cluster.run_for(1_000);
        let value = Bytes::from(vec![7u8; 100]);
        for i in 0..k {
            let key = Bytes::from(format!("held{i}").into_bytes());
            cluster.submit(0, put(&key, &value, None));
        }
        let probes = 1_000;
        let t0 = Instant::now();
        for i in 0..probes {
            let key = Bytes::from(format!("probe{i}").into_bytes());
            cluster.submit(0, put(&key, &value, None));
        }
        let us = t0.elapsed().as_secs_f64() * 1e6 / probes as f64;
        if round == 0 {
            continue;
        }
        let base = *first.get_or_insert(us);
        println!(
            "  {k:>6} in flight: {us:.1} us per input ({:.2}x the cost at 10)",
            us / base
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return; // `cargo test --benches` compiles us; nothing to check here
    }
    if std::env::args().any(|a| a == "in_flight") {
        in_flight();
        return;
    }
    in_flight();
    quorum_path();
    contexts();
    simulation();
}
