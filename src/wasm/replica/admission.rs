//! Admission (issue 14): client requests enter the core when the task that made them ends,
//! in slices of at most `ADMIT_SLICE_MS` of work per JS task. What arrives past a slice's budget waits, in order,
//! and is admitted on the next tasks, after the messages, acks and timers queued meanwhile.
//! So any number of concurrent calls from one task queues instead of starving the node (its
//! retry timers firing before the acks it was sent could be read) and failing.
//!
//! A request's timeout starts when it is admitted: waiting here never fails it.

use super::run::feed;
use super::*;

/// The most JS time (ms) one task spends admitting requests before it yields.
pub(super) const ADMIT_SLICE_MS: f64 = 8.0;

fn clock() -> f64 {
    js_sys::Date::now()
}

/// Submit a client request. It is admitted when the current JS task ends (a microtask): a
/// task that issues thousands of calls sends nothing while it runs, since no ack could be
/// read before it ends anyway, and its calls are then admitted a slice at a time.
pub(super) fn admit(host: &Shared, input: Input) {
    let mut h = host.borrow_mut();
    h.admission.push_back(input);
    if h.slice_start_ms.is_none() {
        h.slice_start_ms = Some(clock());
        // `spawn_local` runs it as a microtask: once the current task's own code is done.
        let weak = h.me.clone();
        spawn_local(async move {
            if let Some(h) = weak.upgrade() {
                admit_slice(&h);
            }
        });
    }
}

/// Requests waiting for admission.
pub(super) fn queued(host: &Host) -> usize {
    host.admission.len()
}

/// Admit what waits for up to `ADMIT_SLICE_MS`; the rest on a later task (a timer, so the
/// messages and timers queued meanwhile run first).
fn admit_slice(host: &Shared) {
    let start = clock();
    {
        let mut h = host.borrow_mut();
        if h.closed || h.node.is_none() {
            // Their promises were rejected with `CLOSED` by `shutdown`.
            h.admission.clear();
            h.slice_start_ms = None;
            return;
        }
        h.slice_start_ms = Some(start);
    }
    while clock() - start < ADMIT_SLICE_MS {
        let Some(input) = host.borrow_mut().admission.pop_front() else {
            break;
        };
        feed(host, input);
    }
    let mut h = host.borrow_mut();
    if h.admission.is_empty() {
        h.slice_start_ms = None;
        return;
    }
    let weak = h.me.clone();
    let next = Closure::once_into_js(move || {
        if let Some(h) = weak.upgrade() {
            admit_slice(&h);
        }
    });
    set_timeout(next.unchecked_ref(), 0.0);
}
