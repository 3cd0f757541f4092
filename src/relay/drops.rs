//! The frames of one connection that the relay dropped after accepting them, waiting to be
//! reported to it: one `dropped` notice per destination and reason, with the count, sent
//! a short while after the first drop so that a run of drops makes few notices.

use super::frame::{Control, DropReason, NodeName};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long drops are gathered before they are reported.
pub(crate) const GATHER: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
pub(crate) struct Drops {
    counts: BTreeMap<(NodeName, DropReason), u64>,
    /// When the gathered drops are due to be reported (set by the first one).
    due: Option<Instant>,
}

impl Drops {
    pub(crate) fn add(&mut self, to: NodeName, reason: DropReason) {
        *self.counts.entry((to, reason)).or_default() += 1;
        self.due.get_or_insert_with(|| Instant::now() + GATHER);
    }

    pub(crate) fn extend(&mut self, dropped: impl IntoIterator<Item = (NodeName, DropReason)>) {
        for (to, reason) in dropped {
            self.add(to, reason);
        }
    }

    /// When to report, if anything is waiting to be.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Hands each notice to `send` (false: no room now, keep it for later).
    pub(crate) fn report(&mut self, mut send: impl FnMut(&Control) -> bool) {
        self.counts.retain(|(node, reason), count| {
            let notice = Control::Dropped {
                node: node.to_string(),
                reason: *reason,
                count: *count,
            };
            !send(&notice)
        });
        self.due = (!self.counts.is_empty()).then(|| Instant::now() + GATHER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_gathered_per_destination_and_reason() {
        let mut drops = Drops::default();
        assert_eq!(drops.due(), None);
        let b = NodeName::parse("b").unwrap();
        let c = NodeName::parse("c").unwrap();
        drops.extend([
            (b.clone(), DropReason::QueueFull),
            (c.clone(), DropReason::Left),
            (b.clone(), DropReason::QueueFull),
        ]);
        assert!(drops.due().is_some());
        let mut sent = Vec::new();
        let mut room = false;
        // No room: nothing is lost, it is tried again later.
        drops.report(|_| room);
        assert!(drops.due().is_some());
        room = true;
        drops.report(|n| {
            sent.push(n.to_json());
            room
        });
        assert_eq!(
            sent,
            [
                r#"{"type":"dropped","node":"b","reason":"queue_full","count":2}"#,
                r#"{"type":"dropped","node":"c","reason":"left","count":1}"#,
            ]
        );
        assert_eq!(drops.due(), None);
    }
}
