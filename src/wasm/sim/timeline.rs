//! The page's timeline: rewind by deterministic replay. One seed and the same inputs at the
//! same points give the same run, so the host keeps a journal of every input the page gave
//! (requests, faults, settings) with the event count and virtual time at which it came, and
//! going back to event `k` is building the cluster afresh from its options and replaying the
//! journal up to `k`. After a rewind, running forward re-applies the journal (the run goes on
//! as it went); a new input in the past discards the journal's future (a new branch).

use super::*;

/// An input of the page, as the journal keeps it.
#[derive(Clone)]
pub(super) enum Action {
    Put {
        node: usize,
        key: String,
        value: String,
        context: Option<String>,
        w: Option<usize>,
    },
    Get {
        node: usize,
        key: String,
        r: Option<usize>,
    },
    Delete {
        node: usize,
        key: String,
        context: Option<String>,
    },
    Crash(usize, bool),
    Restart(usize),
    Partition(Vec<u32>),
    Heal,
    Latency(u32, u32),
    Loss(f64),
    Join(u32),
    Leave(usize),
    Remove(usize),
    Clients(usize, u32),
    /// The page dropped message `id` (its page id) in flight.
    Drop(u64),
}

/// One input: after `event` simulator events, at virtual time `now`.
#[derive(Clone)]
pub(super) struct Entry {
    event: u64,
    now: u64,
    action: Action,
}

#[derive(Default)]
pub(super) struct Timeline {
    /// Simulator events run so far (deliveries, persists, timers, client requests).
    pub(super) count: u64,
    /// The furthest event of the run (the slider's end).
    pub(super) end: u64,
    journal: Vec<Entry>,
    /// The next journal entry to apply when running forward.
    next: usize,
    /// Applying the journal: the inputs are not recorded again.
    replaying: bool,
}

impl SimCluster {
    /// Record an input of the page at this point of the run. An input in the past (after a
    /// rewind) starts a new branch: the journal's future is dropped.
    pub(super) fn record(&mut self, action: Action) {
        let tl = &mut self.timeline;
        if tl.replaying {
            return;
        }
        if tl.next < tl.journal.len() {
            tl.journal.truncate(tl.next);
            tl.end = tl.count;
        }
        tl.journal.push(Entry {
            event: tl.count,
            now: self.c.now(),
            action,
        });
        tl.next = tl.journal.len();
    }

    /// One simulator event ran.
    pub(super) fn counted(&mut self) {
        self.timeline.count += 1;
        self.timeline.end = self.timeline.end.max(self.timeline.count);
    }

    /// Apply the journal's inputs due at this event count (when running forward over a
    /// stretch of the run that was rewound), if they are due by `t`. True when one was.
    pub(super) fn apply_due(&mut self, t: u64) -> bool {
        let Some(e) = self.timeline.journal.get(self.timeline.next) else {
            return false;
        };
        if e.event != self.timeline.count || e.now > t {
            return false;
        }
        let e = e.clone();
        self.timeline.next += 1;
        // The original input came at this clock: no event was due before it.
        if self.c.now() < e.now && self.c.next_event_at().is_none_or(|n| n > e.now) {
            self.c.step_until(e.now);
        }
        self.timeline.replaying = true;
        // An input the simulator refused then is refused again: the replay is the same run.
        let _ = self.apply(&e.action);
        self.timeline.replaying = false;
        true
    }

    fn apply(&mut self, a: &Action) -> Result<(), JsValue> {
        match a.clone() {
            Action::Put {
                node,
                key,
                value,
                context,
                w,
            } => self.put(node, &key, &value, context, w).map(drop),
            Action::Get { node, key, r } => self.get(node, &key, r).map(drop),
            Action::Delete { node, key, context } => self.delete_key(node, &key, context).map(drop),
            Action::Crash(i, lose) => self.crash(i, lose),
            Action::Restart(i) => self.restart(i),
            Action::Partition(g) => self.partition(g),
            Action::Heal => {
                self.heal();
                Ok(())
            }
            Action::Latency(a, b) => {
                self.set_latency(a, b);
                Ok(())
            }
            Action::Loss(p) => {
                self.set_loss(p);
                Ok(())
            }
            Action::Join(cap) => self.join(cap).map(drop),
            Action::Leave(i) => self.leave(i),
            Action::Remove(i) => self.remove(i),
            Action::Clients(n, think) => {
                self.set_clients(n, think);
                Ok(())
            }
            Action::Drop(id) => {
                self.drop_message(id as f64);
                Ok(())
            }
        }
    }

    /// Run events (and the journal's inputs) up to virtual time `t`, or until `max_events`
    /// events have run.
    pub(super) fn run_events(&mut self, t: u64, max_events: Option<u64>) {
        loop {
            if max_events.is_some_and(|m| self.timeline.count >= m) {
                break;
            }
            if self.apply_due(t) {
                continue;
            }
            // A reply can make a client ready at any step: look again after each one, so
            // that the request goes out at its exact time however the page slices time.
            let wake = self.next_wake().filter(|&w| w <= t);
            let limit = wake.unwrap_or(t);
            if self.c.step_until(limit) {
                self.counted();
                self.collect();
            } else if wake.is_some() {
                self.counted();
                self.fire_clients();
            } else {
                break;
            }
        }
    }

    /// The same cluster, built afresh and replayed to event `target` (at most the run's
    /// end) with the same keys watched and the whole journal kept for running forward. The
    /// page events of the last `tail` events are kept for the page to show.
    pub(super) fn replayed(&self, target: u64, tail: u64) -> Result<SimCluster, JsValue> {
        let mut s = SimCluster::build(self.options.clone())?;
        for k in &self.watched {
            if !s.watched.contains(k) {
                s.watch_key(k);
            }
        }
        s.timeline.journal = self.timeline.journal.clone();
        s.timeline.end = self.timeline.end;
        let target = target.min(self.timeline.end);
        let quiet_until = target.saturating_sub(tail);
        while s.timeline.count < target {
            let before = s.timeline.count;
            let horizon = s.next_event_at().map_or(u64::MAX, |t| t as u64);
            s.run_events(
                horizon,
                Some(if before < quiet_until {
                    quiet_until
                } else {
                    target
                }),
            );
            if s.timeline.count < quiet_until {
                s.out.clear();
            }
            if s.timeline.count == before && s.apply_due(u64::MAX) {
                continue;
            }
            if s.timeline.count == before
                && s.c.next_event_at().is_none()
                && s.next_wake().is_none()
            {
                break;
            }
        }
        s.collect();
        Ok(s)
    }
}
