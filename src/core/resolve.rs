//! Ready-made sibling resolvers (DYNAMO.md, "Limits of the design" item 2).
//!
//! The paper leaves semantic reconciliation to every application (§4.4). ringlet keeps that
//! as the default — [`Resolver::Siblings`] returns every concurrent value — and ships three
//! resolvers an application opts into per key prefix ("bucket", e.g. `b"cart/"`) with
//! [`ResolverRules`]:
//!
//! - [`Resolver::LastWriterWins`]: of the concurrent siblings, the one with the greatest
//!   `(timestamp_ms, dot)` wins (the dot breaks timestamp ties, so the choice is total).
//!   Causality still comes first: a write that had seen another always replaces it, whatever
//!   the timestamps. Among *concurrent* writes, LWW **drops all but one by design**, and with
//!   skewed coordinator clocks the one kept may not be the one written last in real time.
//!   That is why it is an explicit opt-in and never the default.
//! - [`Resolver::Counter`]: a PN-counter with observed resets. Each version holds `totals:
//!   node -> (incr, decr)` and `reset: node -> (incr, decr)`, both grow-only; siblings merge
//!   by pointwise maximum of each; the value is `Σ (incr − reset.incr) − Σ (decr −
//!   reset.decr)`. Concurrent increments through different coordinators all count. A delete
//!   of a counter key is an [`Op::CounterReset`] (the node turns it into one): `reset` takes
//!   the totals the delete's context had observed, so it removes exactly what its caller saw
//!   and never an increment made concurrently or later (docs/design.md, "Counter and set
//!   deletes").
//! - [`Resolver::AddWinsSet`]: an add-wins observed-remove set (ORSWOT-like; the shopping
//!   cart). Each version holds `element -> {dots of the adds still live for it}`. A remove
//!   deletes only the adds it had observed, so an add concurrent with a remove wins.
//!
//! ## Where resolution runs, and why every replica agrees
//!
//! Resolution happens at read time and never writes: [`resolve`] is a pure function of a
//! [`Siblings`] value. A `Siblings` is canonical (versions sorted by dot, ancestors already
//! discarded), so replicas holding the same versions hold equal values, and every merge
//! below is symmetric in the siblings (a pointwise maximum; a survival rule quantified over
//! all siblings) and uses only ordered maps. So any replica, in any replay, computes the same
//! result, and nothing but the versions themselves ever needs to be replicated.
//!
//! Writes to CRDT keys go through [`apply_op`] at the coordinator: it merges the coordinator's
//! local siblings, applies the operation and returns the new encoded state. The node stores
//! it as a version with dot `new_dot` and, as its past, the join of the local siblings'
//! clocks ([`Siblings::context`]), so it supersedes exactly what it merged. Operations
//! through different coordinators at the same time become siblings, and [`resolve`] merges
//! them on read.
//!
//! ## State encodings
//!
//! Varints are minimal unsigned LEB128; strings are a varint length then the bytes. Decoders
//! accept only canonical input and never panic; a bad value is reported as
//! [`ResolveError::Corrupt`]. A tombstone is the empty state.
//!
//! The first byte is the format's tag and version: a counter without resets is written in
//! the original format `'c'` (so nodes that predate resets still read it), a counter with a
//! reset in format `'r'`; each state has exactly one encoding.
//!
//! ```text
//! counter = 'c'  entries                                     (version 0: no reset)
//!         | 'r'  entries entries                             (version 1: totals, reset;
//!                                                            reset not empty)
//! entries = count  (node-len node incr decr)*count           nodes strictly increasing,
//!                                                            no entry with incr = decr = 0
//! set     = 's'  count  (elem-len elem ndots dot*ndots)*count   elements strictly increasing,
//! dot     = node-len node counter                               ndots >= 1, dots strictly
//!                                                               increasing, counters >= 1
//! ```

use super::bytes::Bytes;
use super::context::{put_varint, Context, ReadError, Reader};
use super::dvv::{Dot, Siblings, Value, VersionVector};
use super::id::NodeId;
use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How the siblings of a key are presented to the reader.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Resolver {
    /// Every concurrent value (the paper's behaviour, and the default).
    #[default]
    Siblings,
    /// The sibling with the greatest `(timestamp_ms, dot)`; drops concurrent writes.
    LastWriterWins,
    /// A PN-counter; values are counter states written by [`apply_op`].
    Counter,
    /// An add-wins observed-remove set; values are set states written by [`apply_op`].
    AddWinsSet,
}

impl Resolver {
    pub const ALL: [Resolver; 4] = [
        Resolver::Siblings,
        Resolver::LastWriterWins,
        Resolver::Counter,
        Resolver::AddWinsSet,
    ];

    /// The stable name: `siblings`, `lww`, `counter` or `set`.
    pub fn name(self) -> &'static str {
        match self {
            Resolver::Siblings => "siblings",
            Resolver::LastWriterWins => "lww",
            Resolver::Counter => "counter",
            Resolver::AddWinsSet => "set",
        }
    }

    /// True for the resolvers whose values are CRDT states written through [`apply_op`].
    pub fn is_crdt(self) -> bool {
        matches!(self, Resolver::Counter | Resolver::AddWinsSet)
    }
}

impl fmt::Display for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A resolver name that is none of `siblings`, `lww`, `counter`, `set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownResolver {
    pub name: String,
}

impl fmt::Display for UnknownResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown resolver {:?} (expected siblings, lww, counter or set)",
            self.name
        )
    }
}

impl std::error::Error for UnknownResolver {}

impl FromStr for Resolver {
    type Err = UnknownResolver;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resolver::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownResolver { name: s.into() })
    }
}

/// Which resolver each key uses: the rule with the longest prefix of the key, else
/// [`Resolver::Siblings`]. Rules are kept sorted by prefix, one per prefix, so equal rule
/// sets are equal values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolverRules {
    rules: Vec<(Bytes, Resolver)>,
}

impl ResolverRules {
    pub fn new() -> Self {
        ResolverRules::default()
    }

    /// Builder form of [`ResolverRules::set`]: `ResolverRules::new().with("cart/", Resolver::AddWinsSet)`.
    pub fn with(mut self, prefix: impl AsRef<[u8]>, resolver: Resolver) -> Self {
        self.set(prefix, resolver);
        self
    }

    /// Use `resolver` for keys starting with `prefix` (replacing any rule for that prefix).
    /// The empty prefix changes the default.
    pub fn set(&mut self, prefix: impl AsRef<[u8]>, resolver: Resolver) {
        let prefix = prefix.as_ref();
        match self
            .rules
            .binary_search_by(|(p, _)| p.as_slice().cmp(prefix))
        {
            Ok(i) => self.rules[i].1 = resolver,
            Err(i) => self.rules.insert(i, (Bytes::new(prefix), resolver)),
        }
    }

    /// The resolver for `key`: longest matching prefix wins; [`Resolver::Siblings`] if none.
    pub fn for_key(&self, key: &[u8]) -> Resolver {
        let mut best: Option<(usize, Resolver)> = None;
        for (prefix, resolver) in &self.rules {
            if key.starts_with(prefix) && best.is_none_or(|(len, _)| prefix.len() > len) {
                best = Some((prefix.len(), *resolver));
            }
        }
        best.map(|(_, r)| r).unwrap_or_default()
    }

    /// The rules, sorted by prefix.
    pub fn rules(&self) -> &[(Bytes, Resolver)] {
        &self.rules
    }
}

/// What a read presents after resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolved {
    /// [`Resolver::Siblings`]: every data value (tombstones left out), in dot order.
    Siblings(Vec<Bytes>),
    /// [`Resolver::LastWriterWins`]: the winner, or `None` if it is a tombstone or the key
    /// has no version.
    Single(Option<Bytes>),
    /// [`Resolver::Counter`]: the counter's value.
    Counter(i64),
    /// [`Resolver::AddWinsSet`]: the elements present, sorted and distinct.
    Set(Vec<Bytes>),
}

/// A coordinator-side operation on a CRDT key (see [`apply_op`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Add to a [`Resolver::Counter`] (negative: subtract).
    CounterAdd(i64),
    /// Add elements to a [`Resolver::AddWinsSet`].
    SetAdd(Vec<Bytes>),
    /// Remove elements (only the adds this replica has observed) from a [`Resolver::AddWinsSet`].
    SetRemove(Vec<Bytes>),
    /// Reset a [`Resolver::Counter`] by what the context observed: the delete of a counter
    /// key with that context. A context read from the counter carries the state the client
    /// saw, and the reset removes exactly that; a bare version vector resets what this
    /// replica holds of it. Increments the context has not seen are kept.
    CounterReset(Context),
}

/// Per node, the total it has added and the total it has subtracted.
pub type CounterTotals = BTreeMap<NodeId, (u64, u64)>;

/// A PN-counter state with observed resets: the totals of every node, and the part of them
/// that deletes have observed and removed. Both grow only; the value is their difference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    pub totals: CounterTotals,
    pub reset: CounterTotals,
}

impl CounterState {
    pub fn new() -> Self {
        CounterState::default()
    }

    /// A state without resets.
    pub fn from_totals(totals: CounterTotals) -> Self {
        CounterState {
            totals,
            reset: CounterTotals::new(),
        }
    }

    /// The join: pointwise maximum of the totals and of the resets. Commutative,
    /// associative and idempotent, so replicas agree whatever order they merge in.
    pub fn join(&mut self, other: &CounterState) {
        join_totals(&mut self.totals, &other.totals);
        join_totals(&mut self.reset, &other.reset);
    }

    /// The counter's value (see [`counter_value`]).
    pub fn value(&self) -> i64 {
        counter_value(self)
    }
}

fn join_totals(into: &mut CounterTotals, from: &CounterTotals) {
    for (node, &(i, d)) in from {
        let e = into.entry(node.clone()).or_insert((0, 0));
        e.0 = e.0.max(i);
        e.1 = e.1.max(d);
    }
}

/// An add-wins set state: for each element, the dots of the adds still live for it.
pub type SetState = BTreeMap<Bytes, BTreeSet<Dot>>;

/// First byte of an encoded counter state without resets (format version 0).
pub const COUNTER_STATE_TAG: u8 = b'c';
/// First byte of an encoded counter state with resets (format version 1).
pub const COUNTER_RESET_STATE_TAG: u8 = b'r';
/// First byte of an encoded set state.
pub const SET_STATE_TAG: u8 = b's';

/// Why a value is not a valid CRDT state. Offsets are byte positions in the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// The value is empty or starts with the wrong tag (e.g. a plain put on a counter key).
    WrongTag {
        expected: u8,
        found: Option<u8>,
    },
    Truncated {
        offset: usize,
    },
    BadVarint {
        offset: usize,
    },
    InvalidUtf8 {
        offset: usize,
    },
    /// A node, element or dot is not strictly after the previous one.
    NotCanonical {
        offset: usize,
    },
    /// A counter entry with nothing added nor subtracted, or an element without dots.
    EmptyEntry {
        offset: usize,
    },
    /// A dot with counter 0.
    ZeroCounter {
        offset: usize,
    },
    TrailingBytes {
        extra: usize,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::WrongTag { expected, found } => match found {
                Some(b) => write!(f, "state tag {b:#04x}, expected {expected:#04x}"),
                None => write!(f, "empty state, expected tag {expected:#04x}"),
            },
            StateError::Truncated { offset } => write!(f, "state truncated at byte {offset}"),
            StateError::BadVarint { offset } => write!(f, "malformed varint at byte {offset}"),
            StateError::InvalidUtf8 { offset } => write!(f, "node id at byte {offset} not UTF-8"),
            StateError::NotCanonical { offset } => {
                write!(
                    f,
                    "entry at byte {offset} not strictly after the previous one"
                )
            }
            StateError::EmptyEntry { offset } => write!(f, "empty entry at byte {offset}"),
            StateError::ZeroCounter { offset } => write!(f, "zero dot counter at byte {offset}"),
            StateError::TrailingBytes { extra } => write!(f, "{extra} trailing bytes"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<ReadError> for StateError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated { offset } => StateError::Truncated { offset },
            ReadError::BadVarint { offset } => StateError::BadVarint { offset },
        }
    }
}

/// A failed resolution or operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// The version with `dot` does not hold a valid state for `resolver`.
    Corrupt {
        resolver: Resolver,
        dot: Dot,
        error: StateError,
    },
    /// `op` does not apply to keys resolved by `resolver`.
    OpMismatch { resolver: Resolver, op: Op },
}

impl ResolveError {
    /// A stable, machine-readable code (for hosts and the JS binding).
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::Corrupt { .. } => "resolve_corrupt_state",
            ResolveError::OpMismatch { .. } => "resolve_op_mismatch",
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Corrupt {
                resolver,
                dot,
                error,
            } => write!(f, "version {dot} is not a valid {resolver} state: {error}"),
            ResolveError::OpMismatch { resolver, op } => {
                write!(f, "operation {op:?} does not apply to a {resolver} key")
            }
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResolveError::Corrupt { error, .. } => Some(error),
            ResolveError::OpMismatch { .. } => None,
        }
    }
}

// ---- resolution ------------------------------------------------------------------------

/// Present the siblings of a key as `resolver` says. Pure: the same sibling set gives the
/// same result on every replica.
pub fn resolve(resolver: Resolver, siblings: &Siblings) -> Result<Resolved, ResolveError> {
    match resolver {
        Resolver::Siblings => Ok(Resolved::Siblings(siblings.values().cloned().collect())),
        Resolver::LastWriterWins => {
            let winner = siblings
                .versions()
                .iter()
                .max_by(|a, b| (a.timestamp_ms, &a.dot).cmp(&(b.timestamp_ms, &b.dot)));
            Ok(Resolved::Single(
                winner.and_then(|v| v.value.data().cloned()),
            ))
        }
        Resolver::Counter => Ok(Resolved::Counter(counter_value(&merge_counter_states(
            siblings,
        )?))),
        Resolver::AddWinsSet => Ok(Resolved::Set(
            merge_set_states(siblings)?.into_keys().collect(),
        )),
    }
}

/// The value of a counter state: `Σ (incr − reset.incr) − Σ (decr − reset.decr)`,
/// saturated to the `i64` range.
pub fn counter_value(state: &CounterState) -> i64 {
    let (p, n) = state
        .totals
        .iter()
        .fold((0u128, 0u128), |(p, n), (node, &(i, d))| {
            let (ri, rd) = state.reset.get(node).copied().unwrap_or((0, 0));
            (
                p.saturating_add(u128::from(i.saturating_sub(ri))),
                n.saturating_add(u128::from(d.saturating_sub(rd))),
            )
        });
    if p >= n {
        i64::try_from(p - n).unwrap_or(i64::MAX)
    } else {
        i64::try_from(n - p).map(|v| -v).unwrap_or(i64::MIN)
    }
}

/// The join of the siblings' counter states ([`CounterState::join`]). A tombstone (a delete
/// written before deletes of counters became resets) is the empty state.
pub fn merge_counter_states(siblings: &Siblings) -> Result<CounterState, ResolveError> {
    let mut out = CounterState::new();
    for v in siblings.versions() {
        let Value::Data(bytes) = &v.value else {
            continue;
        };
        out.join(&decode_version_counter(v.dot.clone(), bytes)?);
    }
    Ok(out)
}

fn decode_version_counter(dot: Dot, bytes: &[u8]) -> Result<CounterState, ResolveError> {
    decode_counter_state(bytes).map_err(|error| ResolveError::Corrupt {
        resolver: Resolver::Counter,
        dot,
        error,
    })
}

/// The totals a delete with context `observed` has seen in the `siblings`: for every node
/// `n`, the greatest `n` entry of a sibling whose own operations by `n` the context all
/// covers. A version's `n` entry counts exactly `n`'s operations up to its clock's `n`
/// counter (only `n` writes it, with `n`'s dots, each merging what `n` wrote before), so
/// that part was seen by whoever read a version at or after that dot. Anything later stays.
fn observed_totals(
    siblings: &Siblings,
    observed: &VersionVector,
) -> Result<CounterTotals, ResolveError> {
    let mut out = CounterTotals::new();
    for v in siblings.versions() {
        let Value::Data(bytes) = &v.value else {
            continue;
        };
        let state = decode_version_counter(v.dot.clone(), bytes)?;
        let clock = v.clock();
        let seen: CounterTotals = state
            .totals
            .into_iter()
            .filter(|(node, _)| {
                let upto = clock.get(node);
                upto > 0 && observed.get(node) >= upto
            })
            .collect();
        join_totals(&mut out, &seen);
    }
    Ok(out)
}

/// The join of the siblings' set states. An add-dot `d` of element `e` survives iff every
/// sibling whose clock covers `d` still lists `d` for `e` (a sibling that saw the add and
/// lacks it removed it, or replaced it by a newer add); an add no other sibling has seen
/// survives. Elements with no surviving dot are absent.
pub fn merge_set_states(siblings: &Siblings) -> Result<SetState, ResolveError> {
    let mut states: Vec<(VersionVector, SetState)> = Vec::with_capacity(siblings.len());
    for v in siblings.versions() {
        let state = match &v.value {
            Value::Data(bytes) => {
                decode_set_state(bytes).map_err(|error| ResolveError::Corrupt {
                    resolver: Resolver::AddWinsSet,
                    dot: v.dot.clone(),
                    error,
                })?
            }
            Value::Tombstone => SetState::new(),
        };
        states.push((v.clock(), state));
    }
    let mut out = SetState::new();
    for (_, state) in &states {
        for (elem, dots) in state {
            for dot in dots {
                if out.get(elem).is_some_and(|live| live.contains(dot)) {
                    continue;
                }
                let survives = states.iter().all(|(clock, other)| {
                    !clock.covers(dot) || other.get(elem).is_some_and(|ds| ds.contains(dot))
                });
                if survives {
                    out.entry(elem.clone()).or_default().insert(dot.clone());
                }
            }
        }
    }
    Ok(out)
}

// ---- coordinator-side operations -------------------------------------------------------

/// Apply `op` at a coordinator: merge the `local` siblings' states, apply the operation as
/// `actor` with the new version's dot `new_dot`, and return the encoded new state.
///
/// The caller stores the result as a version with dot `new_dot` and past
/// `local.context()`. `actor` must be the coordinator that assigns `new_dot` (normally
/// `new_dot.node`), whose local siblings hold or supersede every earlier write of its own
/// to this key — the same assumption that makes its dots unique.
///
/// - `CounterAdd(d)`: adds `|d|` to `actor`'s increments (`d > 0`) or decrements (`d < 0`),
///   saturating at `u64::MAX`.
/// - `CounterReset(observed)`: the totals stay (joined with the counter state the context
///   carries, if any); `reset` grows to the totals the context had seen (an observed reset:
///   the delete of a counter key).
/// - `SetAdd(es)`: each element gets the single live dot `new_dot`; its older dots are
///   dropped, since this add observed them.
/// - `SetRemove(es)`: each element loses every dot (only the adds observed here).
pub fn apply_op(
    resolver: Resolver,
    local: &Siblings,
    op: &Op,
    actor: &NodeId,
    new_dot: &Dot,
) -> Result<Bytes, ResolveError> {
    match (resolver, op) {
        (Resolver::Counter, Op::CounterAdd(delta)) => {
            let mut state = merge_counter_states(local)?;
            let e = state.totals.entry(actor.clone()).or_insert((0, 0));
            if *delta > 0 {
                e.0 = e.0.saturating_add(delta.unsigned_abs());
            } else {
                e.1 = e.1.saturating_add(delta.unsigned_abs());
            }
            Ok(encode_counter_state(&state))
        }
        (Resolver::Counter, Op::CounterReset(observed)) => {
            let mut state = merge_counter_states(local)?;
            let mut seen = observed_totals(local, observed.version_vector())?;
            if let Some(saw) = observed.observed_counter() {
                // The new version supersedes every version the context covers, so it must
                // hold all they held: join what the client saw, then reset all of it.
                state.join(saw);
                join_totals(&mut seen, &saw.totals);
            }
            join_totals(&mut state.reset, &seen);
            Ok(encode_counter_state(&state))
        }
        (Resolver::AddWinsSet, Op::SetAdd(elems)) => {
            let mut state = merge_set_states(local)?;
            for e in elems {
                state.insert(e.clone(), BTreeSet::from([new_dot.clone()]));
            }
            Ok(encode_set_state(&state))
        }
        (Resolver::AddWinsSet, Op::SetRemove(elems)) => {
            let mut state = merge_set_states(local)?;
            for e in elems {
                state.remove(e);
            }
            Ok(encode_set_state(&state))
        }
        _ => Err(ResolveError::OpMismatch {
            resolver,
            op: op.clone(),
        }),
    }
}

// ---- state codecs ----------------------------------------------------------------------

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Encode a counter state (entries with nothing added nor subtracted are left out): format
/// `'c'` without a reset, `'r'` with one.
pub fn encode_counter_state(state: &CounterState) -> Bytes {
    let has_reset = state.reset.values().any(|&(i, d)| i > 0 || d > 0);
    let tag = if has_reset {
        COUNTER_RESET_STATE_TAG
    } else {
        COUNTER_STATE_TAG
    };
    let mut out = vec![tag];
    put_entries(&mut out, &state.totals);
    if has_reset {
        put_entries(&mut out, &state.reset);
    }
    Bytes::from(out)
}

fn put_entries(out: &mut Vec<u8>, entries: &CounterTotals) {
    let live: Vec<_> = entries
        .iter()
        .filter(|(_, &(i, d))| i > 0 || d > 0)
        .collect();
    put_varint(out, live.len() as u64);
    for (node, &(i, d)) in live {
        put_str(out, node.as_str().as_bytes());
        put_varint(out, i);
        put_varint(out, d);
    }
}

/// Decode a counter state written by [`encode_counter_state`] (either format). Never panics.
pub fn decode_counter_state(bytes: &[u8]) -> Result<CounterState, StateError> {
    let mut r = Reader::new(bytes);
    let with_reset = match r.byte() {
        Ok(COUNTER_STATE_TAG) => false,
        Ok(COUNTER_RESET_STATE_TAG) => true,
        found => {
            return Err(StateError::WrongTag {
                expected: COUNTER_STATE_TAG,
                found: found.ok(),
            })
        }
    };
    let totals = read_entries(&mut r)?;
    let reset = if with_reset {
        let at = r.offset();
        let reset = read_entries(&mut r)?;
        if reset.is_empty() {
            // Written as format 'c'; a second encoding would break byte equality.
            return Err(StateError::NotCanonical { offset: at });
        }
        reset
    } else {
        CounterTotals::new()
    };
    expect_end(&r)?;
    Ok(CounterState { totals, reset })
}

fn read_entries<'a>(r: &mut Reader<'a>) -> Result<CounterTotals, StateError> {
    let count = r.varint()?;
    let mut out = CounterTotals::new();
    let mut prev: Option<&str> = None;
    for _ in 0..count {
        let at = r.offset();
        let node = read_name(r)?;
        if prev.is_some_and(|p| node <= p) {
            return Err(StateError::NotCanonical { offset: at });
        }
        let i = r.varint()?;
        let d = r.varint()?;
        if i == 0 && d == 0 {
            return Err(StateError::EmptyEntry { offset: at });
        }
        out.insert(NodeId::new(node), (i, d));
        prev = Some(node);
    }
    Ok(out)
}

/// Encode a set state (elements without dots are left out).
pub fn encode_set_state(state: &SetState) -> Bytes {
    let live: Vec<_> = state.iter().filter(|(_, dots)| !dots.is_empty()).collect();
    let mut out = vec![SET_STATE_TAG];
    put_varint(&mut out, live.len() as u64);
    for (elem, dots) in live {
        put_str(&mut out, elem);
        put_varint(&mut out, dots.len() as u64);
        for dot in dots {
            put_str(&mut out, dot.node.as_str().as_bytes());
            put_varint(&mut out, dot.counter);
        }
    }
    Bytes::from(out)
}

/// Decode a set state written by [`encode_set_state`]. Never panics.
pub fn decode_set_state(bytes: &[u8]) -> Result<SetState, StateError> {
    let mut r = Reader::new(bytes);
    expect_tag(&mut r, SET_STATE_TAG)?;
    let count = r.varint()?;
    let mut out = SetState::new();
    let mut prev_elem: Option<&[u8]> = None;
    for _ in 0..count {
        let at = r.offset();
        let len = r.varint()?;
        let elem = r.bytes(len)?;
        if prev_elem.is_some_and(|p| elem <= p) {
            return Err(StateError::NotCanonical { offset: at });
        }
        let ndots = r.varint()?;
        if ndots == 0 {
            return Err(StateError::EmptyEntry { offset: at });
        }
        let mut dots = BTreeSet::new();
        let mut prev_dot: Option<Dot> = None;
        for _ in 0..ndots {
            let dot_at = r.offset();
            let node = read_name(&mut r)?;
            let counter = r.varint()?;
            if counter == 0 {
                return Err(StateError::ZeroCounter { offset: dot_at });
            }
            let dot = Dot::new(node, counter);
            if prev_dot.as_ref().is_some_and(|p| &dot <= p) {
                return Err(StateError::NotCanonical { offset: dot_at });
            }
            dots.insert(dot.clone());
            prev_dot = Some(dot);
        }
        out.insert(Bytes::new(elem), dots);
        prev_elem = Some(elem);
    }
    expect_end(&r)?;
    Ok(out)
}

fn expect_tag(r: &mut Reader<'_>, expected: u8) -> Result<(), StateError> {
    match r.byte() {
        Ok(b) if b == expected => Ok(()),
        Ok(b) => Err(StateError::WrongTag {
            expected,
            found: Some(b),
        }),
        Err(_) => Err(StateError::WrongTag {
            expected,
            found: None,
        }),
    }
}

fn read_name<'a>(r: &mut Reader<'a>) -> Result<&'a str, StateError> {
    let at = r.offset();
    let len = r.varint()?;
    let raw = r.bytes(len)?;
    core::str::from_utf8(raw).map_err(|_| StateError::InvalidUtf8 { offset: at })
}

fn expect_end(r: &Reader<'_>) -> Result<(), StateError> {
    match r.remaining() {
        0 => Ok(()),
        extra => Err(StateError::TrailingBytes { extra }),
    }
}
