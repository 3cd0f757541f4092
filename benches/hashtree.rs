//! Benchmarks of the Merkle anti-entropy tree (paper §4.7): `cargo bench --bench hashtree`.
//!
//! - the exchange between two replicas of a partition of n keys that differ in d keys:
//!   bytes (postcard encoding, both directions), messages, round trips, against the lower
//!   bound d × (key + version) with 16-byte keys and 32 bytes per version (an assumed
//!   digest + compact clock: what one would have to send for each differing key at least);
//! - the same exchange for a fixed d and growing n;
//! - incremental update cost, rebuild time, memory per key; `versions_digest` cost.

use ringlet::core::hashtree::{versions_digest, Exchange, HashTree};
use ringlet::core::{Bytes, Dot, Siblings, Value, VersionVector};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes, to measure the tree's memory.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEY_BYTES: usize = 16;
const VERSION_BYTES: usize = 32;

/// A 16-byte key.
fn key(i: usize) -> Vec<u8> {
    format!("key-{i:012}").into_bytes()
}

/// A stand-in version digest of key `i` at generation `g`.
fn digest(i: usize, g: u64) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ g
}

fn tree_of(n: usize) -> HashTree {
    let mut t = HashTree::new();
    t.rebuild((0..n).map(|i| (key(i), digest(i, 0))));
    t
}

/// A copy of `a` (n keys) differing in `d` keys spread over the key space: a third with a
/// newer version, a third missing, a third extra.
fn with_differences(a: &HashTree, n: usize, d: usize) -> HashTree {
    let mut b = a.clone();
    for j in 0..d {
        let i = j * (n / d.max(1));
        match j % 3 {
            0 => b.update(&key(i), Some(digest(i, 1))),
            1 => b.update(&key(i), None),
            _ => b.update(format!("new-{j:012}").as_bytes(), Some(digest(j, 2))),
        }
    }
    b
}

fn exchange_row(n: usize, d: usize, a: &HashTree) {
    let b = with_differences(a, n, d);
    let t = Instant::now();
    let (x, y) = Exchange::run(7, a, &b).expect("exchange");
    let elapsed = t.elapsed();
    assert_eq!(x.differing_keys(), y.differing_keys());
    assert_eq!(x.differences().len(), d);
    let s = x.stats();
    let bytes = s.bytes();
    let bound = (d * (KEY_BYTES + VERSION_BYTES)) as u64;
    let ratio = if bound == 0 {
        "-".to_string()
    } else {
        format!("{:.1}x", bytes as f64 / bound as f64)
    };
    let per_diff = if d == 0 {
        "-".to_string()
    } else {
        format!("{:.0}", bytes as f64 / d as f64)
    };
    println!(
        "| {n:>9} | {d:>6} | {bytes:>11} | {per_diff:>6} | {:>8} | {:>11} | {bound:>11} | {ratio:>6} | {:>9.2} |",
        s.messages_sent + s.messages_received,
        s.round_trips(),
        elapsed.as_secs_f64() * 1e3,
    );
}

fn exchanges() {
    println!("## Exchange (fan-out 16, 3 stored levels = 4,096 leaf buckets; 16-byte keys)");
    println!();
    println!(
        "lower bound = d x ({KEY_BYTES}-byte key + {VERSION_BYTES}-byte version digest and clock, assumed)"
    );
    println!();
    let header = "|         n |      d |       bytes | B/diff | messages | round trips | lower bound |  ratio | cpu ms    |";
    let rule = "| --------: | -----: | ----------: | -----: | -------: | ----------: | ----------: | -----: | --------: |";
    println!("{header}");
    println!("{rule}");
    let n = 100_000;
    let a = tree_of(n);
    for d in [0, 1, 100, 10_000] {
        exchange_row(n, d, &a);
    }
    println!();
    println!("## Exchange, d = 100, growing n");
    println!();
    println!("{header}");
    println!("{rule}");
    for n in [10_000, 100_000, 1_000_000] {
        let a = tree_of(n);
        exchange_row(n, 100, &a);
    }
    println!();
}

fn time_per_op(ops: usize, mut f: impl FnMut(usize)) -> f64 {
    let t = Instant::now();
    for i in 0..ops {
        f(i);
    }
    t.elapsed().as_nanos() as f64 / ops as f64
}

fn maintenance() {
    let n = 100_000;
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let extra: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("xtr-{i:012}").into_bytes())
        .collect();

    // Memory: the tree's own allocations (keys copied in by `update`).
    let before = LIVE.load(Ordering::Relaxed);
    let mut t = HashTree::new();
    for (i, k) in keys.iter().enumerate() {
        t.update(k, Some(digest(i, 0)));
    }
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    let stored = HashTree::new();
    let empty_bytes: usize = (0..=stored.shape().stored_depth())
        .filter_map(|e| stored.level(e))
        .map(|l| 8 * l.len())
        .sum();

    let change = time_per_op(n, |i| t.update(&keys[i], Some(digest(i, 1))));
    let insert = time_per_op(n, |i| t.update(&extra[i], Some(digest(i, 1))));
    let remove = time_per_op(n, |i| t.update(&extra[i], None));
    let noop = time_per_op(n, |i| t.update(&keys[i], Some(digest(i, 1))));
    black_box(t.root());

    let rounds = 10;
    let entries: Vec<(Bytes, u64)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (Bytes::new(k), digest(i, 0)))
        .collect();
    let mut r = HashTree::new();
    let t0 = Instant::now();
    for _ in 0..rounds {
        r.rebuild(entries.iter().cloned());
    }
    let rebuild_ms = t0.elapsed().as_secs_f64() * 1e3 / rounds as f64;
    black_box(r.root());

    let one = Siblings::from_versions([ringlet::core::Version {
        dot: Dot::new("Sx", 42),
        past: VersionVector::from_pairs([("Sx", 41), ("Sy", 7), ("Sz", 3)]),
        value: Value::Data(Bytes::from(vec![7u8; 1024])),
        timestamp_ms: 1_700_000_000_000,
    }]);
    let small = Siblings::from_versions((1..=3).map(|c| ringlet::core::Version {
        dot: Dot::new(["Sx", "Sy", "Sz"][c as usize - 1], c),
        past: VersionVector::from_pairs([("Sx", 1)]),
        value: Value::Data(Bytes::from(vec![c as u8; 32])),
        timestamp_ms: c,
    }));
    let digest_1k = time_per_op(200_000, |_| {
        black_box(versions_digest(black_box(&one)));
    });
    let digest_3 = time_per_op(200_000, |_| {
        black_box(versions_digest(black_box(&small)));
    });

    println!("## Maintenance (n = {n}, default shape)");
    println!();
    println!("| what | figure |");
    println!("| --- | --- |");
    println!("| incremental update, existing key, new digest | {change:.0} ns |");
    println!("| incremental update, new key | {insert:.0} ns |");
    println!("| incremental update, remove key | {remove:.0} ns |");
    println!("| incremental update, unchanged digest (no-op) | {noop:.0} ns |");
    println!("| rebuild from {n} (key, digest) pairs | {rebuild_ms:.1} ms |");
    println!(
        "| memory, tree holding {n} 16-byte keys | {:.1} MB, {:.0} bytes/key (incl. {empty_bytes} bytes of stored hashes) |",
        bytes as f64 / 1e6,
        bytes as f64 / n as f64
    );
    println!("| versions_digest, 1 version, 3-entry past, 1 KB value | {digest_1k:.0} ns |");
    println!("| versions_digest, 3 siblings, 32-byte values | {digest_3:.0} ns |");
    println!();
}

fn main() {
    exchanges();
    maintenance();
}
