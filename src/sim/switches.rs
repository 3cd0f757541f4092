//! The switches of the simulator: which fault families of a browser tab's reality are
//! injected, and which checks run (issue 15). Each is a field, so a test or the lead can
//! turn one on when the core defect it exposes is fixed; `RINGLET_SIM_FAULTS` and
//! `RINGLET_SIM_CHECKS` (or `ringlet-sim --faults/--checks`) change them from outside.
//!
//! The list syntax: `all`, `none`, `default`, or names separated by commas, each optionally
//! prefixed with `-` (off) or `+` (on), applied in order to the defaults:
//! `RINGLET_SIM_CHECKS=+context_size,-ack_durable`.

/// Fault families beyond the classic ones (crash, restart, partition, loss, duplication).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Per-node persist latency from 1 ms up to ~3 s (slow IndexedDB).
    pub slow_disk: bool,
    /// `PersistFailed` (quota exceeded) on random persist batches.
    pub persist_fail: bool,
    /// Event-loop stalls of 0.1-5 s, then a burst of late timers and messages.
    pub stalls: bool,
    /// Reload storms: the same node restarted 20-300 times in a row.
    pub reload_storms: bool,
    /// Storms reload every 15-90 ms (hundreds of reloads per run); off: every 1.5-3 s.
    pub fast_reloads: bool,
    /// Asymmetric partitions: one direction of a link cut.
    pub asymmetric: bool,
    /// Membership turnover: nodes vanish for good (then are removed), new nodes keep
    /// arriving, beyond the two joins of the classic schedule.
    pub turnover: bool,
    /// Bursts of 100-500 client requests submitted in one instant.
    pub bursts: bool,
}

impl Faults {
    pub const NAMES: [&'static str; 8] = [
        "slow_disk",
        "persist_fail",
        "stalls",
        "reload_storms",
        "fast_reloads",
        "asymmetric",
        "turnover",
        "bursts",
    ];

    pub fn all() -> Self {
        Faults {
            slow_disk: true,
            persist_fail: true,
            stalls: true,
            reload_storms: true,
            fast_reloads: true,
            asymmetric: true,
            turnover: true,
            bursts: true,
        }
    }

    pub fn none() -> Self {
        Faults {
            slow_disk: false,
            persist_fail: false,
            stalls: false,
            reload_storms: false,
            fast_reloads: false,
            asymmetric: false,
            turnover: false,
            bursts: false,
        }
    }

    /// What `cargo test --test sim_seeds` runs on today's core (see docs/simulation.md).
    pub fn defaults() -> Self {
        Faults::all()
    }

    fn field(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "slow_disk" => &mut self.slow_disk,
            "persist_fail" => &mut self.persist_fail,
            "stalls" => &mut self.stalls,
            "reload_storms" => &mut self.reload_storms,
            "fast_reloads" => &mut self.fast_reloads,
            "asymmetric" => &mut self.asymmetric,
            "turnover" => &mut self.turnover,
            "bursts" => &mut self.bursts,
            _ => return None,
        })
    }

    /// Apply a switch list (see the module doc) to `self`.
    pub fn apply(mut self, list: &str) -> Result<Self, String> {
        apply_list(
            list,
            &mut self,
            Faults::all(),
            Faults::none(),
            Faults::defaults(),
            |s, n| s.field(n),
        )?;
        Ok(self)
    }

    pub fn on(&self) -> Vec<&'static str> {
        let mut me = *self;
        Faults::NAMES
            .into_iter()
            .filter(|n| me.field(n).is_some_and(|b| *b))
            .collect()
    }
}

/// Checks beyond the classic end-of-run invariants (which always run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// At each acknowledged put: >= W distinct intended replicas hold it durably (an object
    /// on a primary of the coordinator's ring, or a hint naming that primary; never an
    /// exited node). Catches defects 1 and 5.
    pub ack_durable: bool,
    /// A single put never appears as two siblings (every written value is unique).
    /// Catches defect 2.
    pub no_duplicates: bool,
    /// A counter ends within [acknowledged increments, + ambiguous ones] (minus what
    /// acknowledged deletes observed). Catches defects 2 and 3.
    pub counters: bool,
    /// A put with a get's context supersedes exactly what that get returned (its clock is
    /// the get's context plus its own dot).
    pub causality: bool,
    /// Read-your-writes in fault-free windows with R + W > N. Catches defect 8.
    pub read_your_writes: bool,
    /// At the end of every seed, every key's context has at most (distinct coordinating
    /// nodes + 2) entries. Catches defect 4.
    pub context_size: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks::defaults()
    }
}

impl Checks {
    pub const NAMES: [&'static str; 6] = [
        "ack_durable",
        "no_duplicates",
        "counters",
        "causality",
        "read_your_writes",
        "context_size",
    ];

    pub fn all() -> Self {
        Checks {
            ack_durable: true,
            no_duplicates: true,
            counters: true,
            causality: true,
            read_your_writes: true,
            context_size: true,
        }
    }

    pub fn none() -> Self {
        Checks {
            ack_durable: false,
            no_duplicates: false,
            counters: false,
            causality: false,
            read_your_writes: false,
            context_size: false,
        }
    }

    /// What `cargo test --test sim_seeds` runs: every check of issue 15.
    pub fn defaults() -> Self {
        Checks {
            ack_durable: true,
            no_duplicates: true,
            counters: true,
            causality: true,
            read_your_writes: true,
            context_size: true,
        }
    }

    fn field(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "ack_durable" => &mut self.ack_durable,
            "no_duplicates" => &mut self.no_duplicates,
            "counters" => &mut self.counters,
            "causality" => &mut self.causality,
            "read_your_writes" => &mut self.read_your_writes,
            "context_size" => &mut self.context_size,
            _ => return None,
        })
    }

    /// Apply a switch list (see the module doc) to `self`.
    pub fn apply(mut self, list: &str) -> Result<Self, String> {
        apply_list(
            list,
            &mut self,
            Checks::all(),
            Checks::none(),
            Checks::defaults(),
            |s, n| s.field(n),
        )?;
        Ok(self)
    }

    pub fn on(&self) -> Vec<&'static str> {
        let mut me = *self;
        Checks::NAMES
            .into_iter()
            .filter(|n| me.field(n).is_some_and(|b| *b))
            .collect()
    }
}

fn apply_list<T: Copy>(
    list: &str,
    me: &mut T,
    all: T,
    none: T,
    defaults: T,
    field: impl for<'a> Fn(&'a mut T, &str) -> Option<&'a mut bool>,
) -> Result<(), String> {
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "all" => *me = all,
            "none" => *me = none,
            "default" => *me = defaults,
            _ => {
                let (on, name) = match item.strip_prefix('-') {
                    Some(n) => (false, n),
                    None => (true, item.strip_prefix('+').unwrap_or(item)),
                };
                match field(me, name) {
                    Some(b) => *b = on,
                    None => return Err(format!("unknown switch {name:?}")),
                }
            }
        }
    }
    Ok(())
}
