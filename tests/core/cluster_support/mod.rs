//! Helpers shared by the cluster-level integration tests: request builders, a blocking
//! read/write that insists on success, and where a key lives (its preference list as node
//! indices of the simulated cluster).

#![allow(dead_code)]

use ringlet::core::{
    Bytes, ClientReply, ClientRequest, Config, Context, Dot, Error, Member, RequestOptions,
    Resolved, Resolver, ResolverRules, Ring, Siblings, Value,
};
use ringlet::sim::{Cluster, NetConfig};

/// A config with the given replication and the defaults for everything else.
pub fn config(n: usize, r: usize, w: usize) -> Config {
    Config {
        n,
        r,
        w,
        ..Config::default()
    }
}

/// A network with a fixed one-way latency, no loss and a fixed persist latency, so that
/// timings in virtual ms are exact.
pub fn fixed_net(latency_ms: u64, persist_ms: u64) -> NetConfig {
    NetConfig {
        min_latency_ms: latency_ms,
        max_latency_ms: latency_ms,
        loss: 0.0,
        duplicate: 0.0,
        min_persist_ms: persist_ms,
        max_persist_ms: persist_ms,
    }
}

/// Six nodes, N = 3, R = W = 2, keys under `ctr/` counters, a fixed 5 ms network and 2 ms
/// disks, settled: where the forwarding tests send writes from a node outside a key's
/// preference list.
pub fn six_nodes_with_counters(seed: u64) -> Cluster {
    let cfg = Config {
        resolvers: ResolverRules::default().with(b"ctr/", Resolver::Counter),
        ..config(3, 2, 2)
    };
    let mut c = Cluster::with_nodes(seed, 6, cfg, fixed_net(5, 2));
    settle(&mut c);
    c
}

/// Let every node persist its first dot reservation, so that writes start at once.
pub fn settle(c: &mut Cluster) {
    c.run_for(100);
}

pub fn opts() -> RequestOptions {
    RequestOptions::default()
}

pub fn get(key: &str) -> ClientRequest {
    get_with(key, opts())
}

pub fn get_with(key: &str, options: RequestOptions) -> ClientRequest {
    ClientRequest::Get {
        key: Bytes::from(key),
        options,
    }
}

/// A blind put (no context).
pub fn put(key: &str, value: &str) -> ClientRequest {
    put_with(key, value, None, opts())
}

/// A put that supersedes what `context` covers.
pub fn put_ctx(key: &str, value: &str, context: &Context) -> ClientRequest {
    put_with(key, value, Some(context.clone()), opts())
}

pub fn put_with(
    key: &str,
    value: &str,
    context: Option<Context>,
    options: RequestOptions,
) -> ClientRequest {
    ClientRequest::Put {
        key: Bytes::from(key),
        value: Bytes::from(value),
        context,
        options,
    }
}

/// A blind put through the §6.1 write buffer (`durable: Some(false)`).
pub fn buffered(key: &str, value: &str) -> ClientRequest {
    put_with(
        key,
        value,
        None,
        RequestOptions {
            durable: Some(false),
            ..opts()
        },
    )
}

pub fn delete(key: &str, context: Option<Context>) -> ClientRequest {
    ClientRequest::Delete {
        key: Bytes::from(key),
        context,
        options: opts(),
    }
}

/// What a successful get returned.
#[derive(Clone, Debug)]
pub struct Read {
    pub value: Resolved,
    pub context: Context,
    pub versions: Siblings,
    pub partial: bool,
}

impl Read {
    /// The data values, when the key uses the default siblings resolver.
    pub fn values(&self) -> Vec<String> {
        match &self.value {
            Resolved::Siblings(vs) => vs.iter().map(text).collect(),
            other => panic!("expected siblings, got {other:?}"),
        }
    }
}

/// A get through node `i` that must succeed.
pub fn read(c: &mut Cluster, i: usize, key: &str) -> Read {
    read_with(c, i, get(key))
}

pub fn read_with(c: &mut Cluster, i: usize, request: ClientRequest) -> Read {
    match c.call(i, request) {
        Ok(ClientReply::Get {
            value,
            context,
            versions,
            partial,
        }) => Read {
            value,
            context,
            versions,
            partial,
        },
        other => panic!("get through node {i} failed: {other:?}"),
    }
}

/// A write through node `i` that must succeed: the new version's dot and context.
pub fn write(c: &mut Cluster, i: usize, request: ClientRequest) -> (Dot, Context) {
    match c.call(i, request) {
        Ok(ClientReply::Put { dot, context }) => (dot, context),
        other => panic!("write through node {i} failed: {other:?}"),
    }
}

/// A call that must fail: the error.
pub fn fail(c: &mut Cluster, i: usize, request: ClientRequest) -> Error {
    match c.call(i, request) {
        Err(e) => e,
        Ok(reply) => panic!("expected an error through node {i}, got {reply:?}"),
    }
}

/// The key's preference list as node indices: primaries first, then fallbacks in order.
/// Computed from the cluster's members the way every node claims its ring (§6.2), so it
/// needs no live node.
pub fn preflist(c: &Cluster, key: &str) -> Vec<usize> {
    let members: Vec<Member> = (0..c.len())
        .map(|i| Member::new(c.id(i).clone(), 1))
        .collect();
    let cfg = c.config();
    let ring = Ring::claim(cfg.q, None, &members, cfg.n).expect("the cluster's ring");
    ring.preflist_for_key(key.as_bytes())
        .iter()
        .map(|id| c.index_of(id).expect("a ring member is a cluster node"))
        .collect()
}

/// The first key `prefix0`, `prefix1`, ... whose preference list satisfies `want`.
pub fn key_where(c: &Cluster, prefix: &str, want: impl Fn(&[usize]) -> bool) -> String {
    (0..10_000)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| want(&preflist(c, k)))
        .expect("some key has the wanted preference list")
}

/// The dots of a sibling set, in order.
pub fn dots(s: &Siblings) -> Vec<Dot> {
    s.versions().iter().map(|v| v.dot.clone()).collect()
}

/// The dots node `i` holds for `key` as a replica (in memory; empty when crashed or absent).
pub fn local_dots(c: &Cluster, i: usize, key: &str) -> Vec<Dot> {
    c.node(i)
        .and_then(|n| n.local_versions(key.as_bytes()))
        .map(dots)
        .unwrap_or_default()
}

/// The dots node `i` has durably stored for `key` as a replica.
pub fn durable_dots(c: &Cluster, i: usize, key: &str) -> Vec<Dot> {
    c.store(i)
        .state()
        .objects
        .get(key.as_bytes())
        .map(dots)
        .unwrap_or_default()
}

/// The values of a sibling set as text, tombstones as `None`, in dot order.
pub fn contents(s: &Siblings) -> Vec<Option<String>> {
    s.versions()
        .iter()
        .map(|v| match &v.value {
            Value::Data(b) => Some(text(b)),
            Value::Tombstone => None,
        })
        .collect()
}

pub fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether node `i`'s ring names it a replica (one of the first N) of `key`.
pub fn replicates(c: &Cluster, i: usize, key: &str) -> bool {
    let id = c.id(i).clone();
    let n = c.config().n;
    c.node(i).and_then(|x| x.ring()).is_some_and(|r| {
        r.preflist_for_key(key.as_bytes())
            .iter()
            .take(n)
            .any(|p| *p == id)
    })
}

/// Whether node `i` (running) holds `key` as an object in its store.
pub fn holds(c: &Cluster, i: usize, key: &str) -> bool {
    c.node(i)
        .is_some_and(|x| x.objects().any(|(k, _)| k.as_ref() == key.as_bytes()))
}

/// A counter add of `n` to `key` with W = 1 (a node alone can coordinate it).
pub fn counter_add_w1(key: &str, n: i64) -> ClientRequest {
    ClientRequest::Update {
        key: Bytes::from(key),
        op: ringlet::core::Op::CounterAdd(n),
        options: RequestOptions {
            w: Some(1),
            ..opts()
        },
    }
}
