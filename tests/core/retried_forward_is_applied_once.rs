//! DYNAMO.md "Exactly once": a write forwarded to a coordinator whose reply is lost must not
//! be applied a second time when the forwarder gives up waiting and re-routes it. The
//! client gets the single outcome or an ambiguous timeout, never a second application.
//!
//! Issue 15 defect 2: `forward_timer` re-routes (an update) or coordinates itself (a put)
//! after the first coordinator already succeeded, and nothing identifies the retry as the
//! same request.

use crate::cluster_support;

use cluster_support::*;
use ringlet::core::{Bytes, ClientReply, ClientRequest, Error, Op, Resolved};
use ringlet::sim::Cluster;

/// Submit `request` at `outsider` (no replica of the key), let the forward reach the first
/// primary, then cut the outsider off until the primary's ForwardReply is lost, and heal.
/// Returns the client's outcome.
fn forward_and_lose_the_reply(
    c: &mut Cluster,
    outsider: usize,
    request: ClientRequest,
) -> Result<ClientReply, Error> {
    let id = c.submit(outsider, request);
    c.run_for(6); // the Forward (5 ms) is delivered; the primary coordinates
    c.partition(&[outsider]);
    c.run_for(100); // the primary's put succeeds; its ForwardReply is dropped
    c.heal();
    c.run_for(5_000);
    let done = c.take_completed();
    let mine: Vec<_> = done.into_iter().filter(|d| d.id == id).collect();
    assert_eq!(mine.len(), 1, "the client got one answer: {mine:?}");
    mine[0].result.clone()
}

#[test]
fn a_put_whose_forward_reply_was_lost_is_stored_once() {
    let mut c = six_nodes_with_counters(1521);
    let key = "fwd/put";
    let pl = preflist(&c, key);
    let outsider = pl[4];
    let outcome = forward_and_lose_the_reply(&mut c, outsider, put(key, "only-once"));
    c.run_for(1_000);
    let r = read(&mut c, pl[1], key);
    assert_eq!(
        r.values(),
        vec!["only-once".to_string()],
        "one put (client outcome {outcome:?}) was applied {} times: versions {:?}",
        r.versions.len(),
        dots(&r.versions),
    );
}

#[test]
fn a_counter_increment_whose_forward_reply_was_lost_counts_once() {
    let mut c = six_nodes_with_counters(1522);
    let key = "ctr/fwd";
    let pl = preflist(&c, key);
    let outsider = pl[4];
    let outcome = forward_and_lose_the_reply(
        &mut c,
        outsider,
        ClientRequest::Update {
            key: Bytes::from(key),
            op: Op::CounterAdd(1),
            options: opts(),
        },
    );
    c.run_for(1_000);
    let r = read(&mut c, pl[1], key);
    assert_eq!(
        r.value,
        Resolved::Counter(1),
        "one +1 (client outcome {outcome:?}) was applied more than once: versions {:?}",
        dots(&r.versions),
    );
}

#[test]
fn a_lost_reply_is_sent_again_when_the_forwarder_asks_to_cancel() {
    // The forwarder hears neither ForwardAccepted nor the reply (both lost); its
    // ForwardCancel reaches a coordinator that already applied the write, which answers
    // with the outcome instead of a cancellation.
    let mut c = six_nodes_with_counters(1523);
    let key = "fwd/again";
    let pl = preflist(&c, key);
    let outcome = forward_and_lose_the_reply(&mut c, pl[4], put(key, "once"));
    assert!(
        matches!(outcome, Ok(ClientReply::Put { .. })),
        "{outcome:?}"
    );
}

#[test]
fn a_forward_lost_on_the_way_is_cancelled_then_re_routed_and_applied_once() {
    // The Forward itself is lost: the coordinator confirms the cancellation (and will never
    // accept that forward), so the forwarder may send the write elsewhere.
    let mut c = six_nodes_with_counters(1524);
    // A node confirms cancellations only once every forward a previous run of it could
    // have accepted has expired (twice the request timeout after it started).
    c.run_for(5_000);
    let key = "fwd/lost";
    let pl = preflist(&c, key);
    let outsider = pl[4];
    c.partition(&[outsider]);
    let id = c.submit(outsider, put(key, "re-routed"));
    c.run_for(100);
    c.heal();
    c.run_for(5_000);
    let mine: Vec<_> = c
        .take_completed()
        .into_iter()
        .filter(|d| d.id == id)
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        matches!(mine[0].result, Ok(ClientReply::Put { .. })),
        "{:?}",
        mine[0].result
    );
    let r = read(&mut c, pl[1], key);
    assert_eq!(r.values(), vec!["re-routed".to_string()]);
}
