//! The deterministic cluster simulator: many nodes in one process on virtual time, with
//! seeded faults (latency, loss, duplication, reordering, partitions, crashes with and
//! without loss of unpersisted writes, clock skew, and a browser tab's reality: slow and
//! failing disks, event-loop stalls, reload storms, one-way partitions, membership
//! turnover, request bursts), a seeded client workload, and invariants checked at every
//! acknowledgement and at the end of every run. One seed chooses the whole scenario; the same
//! seed replays the same run, event for event.

pub mod check;
pub mod cluster;
pub mod observe;
pub mod run;
pub mod switches;
pub mod workload;

pub use check::{History, Violation};
pub use cluster::{Cluster, Flight, NetConfig, TraceEvent};
pub use run::{run_seed, RunReport, SimOptions, Totals};
pub use switches::{Checks, Faults};
