//! The connection policy: which peers get a data channel, and what happens when one fails.
//!
//! - **Lazily.** A channel is opened to a peer the first time this node sends it a message
//!   (the peers a node talks to are its preference-list neighbours and gossip partners);
//!   that message and the next ones go through the relay until the channel is open.
//! - **Bounded.** At most `max_peers` channels are open or being opened at once; traffic to
//!   further peers goes through the relay. An offer from a peer beyond the maximum is
//!   refused (`Bye { Full }`).
//! - **Glare.** When both sides offer at once, the offer of the node with the smaller id
//!   (byte order) stands: that node ignores the other's offer, and the other drops its own
//!   attempt and answers. Both reach the same decision without another round trip.
//! - **Failures.** An attempt that does not open within `connect_timeout_ms`, a refused
//!   offer, a failed ICE check, a closed or stalled channel: the peer's traffic goes through
//!   the relay, and a new attempt waits `backoff_min_ms`, doubling per consecutive failure
//!   up to `backoff_max_ms` (a channel that stayed open `stable_ms` resets the count). A
//!   peer without WebRTC is retried only after `backoff_max_ms`.

use super::peer_map::PeerMap;
use super::signal::ByeReason;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub max_peers: usize,
    pub connect_timeout_ms: u64,
    /// A channel with data waiting and none of it sent for this long is stalled.
    pub stall_ms: u64,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    pub stable_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_peers: 16,
            connect_timeout_ms: 10_000,
            stall_ms: 4_000,
            backoff_min_ms: 1_000,
            backoff_max_ms: 60_000,
            stable_ms: 10_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Attempt `session` is under way; `offerer`: this node sent the offer.
    Connecting {
        session: u64,
        offerer: bool,
        since: u64,
    },
    Open {
        session: u64,
        since: u64,
    },
    /// No channel; no new attempt from this side before `until`.
    Waiting {
        until: u64,
    },
}

/// How to send a message to a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Over the open channel of `session`.
    Channel { session: u64 },
    /// Through the relay.
    Relay,
    /// Through the relay, and start attempt `session` (send an offer).
    Connect { session: u64 },
}

/// What to do with an offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfferAction {
    /// Answer it; the attempt or channel `replaced` (if any) is to be closed first.
    Accept { replaced: Option<u64> },
    /// Glare won by this node, or a duplicate: do nothing.
    Ignore,
    /// Answer `Bye { reason }`.
    Refuse(ByeReason),
}

/// Why a link went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down {
    /// Closed, failed, timed out or stalled; or the peer said bye.
    Failed,
    /// The peer has no WebRTC.
    Unsupported,
}

#[derive(Clone, Debug)]
struct Link {
    state: LinkState,
    failures: u32,
}

/// Every peer's link state, as seen by node `me`.
#[derive(Clone, Debug)]
pub struct Links {
    me: String,
    policy: Policy,
    links: PeerMap<Link>,
    next_session: u64,
}

impl Links {
    /// `seed` makes this node's session numbers differ from other nodes'.
    pub fn new(me: &str, policy: Policy, seed: u64) -> Links {
        Links {
            me: me.to_string(),
            policy,
            links: PeerMap::default(),
            next_session: seed,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn fresh_session(&mut self) -> u64 {
        // splitmix64: distinct, well-spread numbers from a counter.
        self.next_session = self.next_session.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.next_session;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Channels open or being opened.
    pub fn active(&self) -> usize {
        self.links
            .values()
            .filter(|l| !matches!(l.state, LinkState::Waiting { .. }))
            .count()
    }

    pub fn open(&self) -> usize {
        self.links
            .values()
            .filter(|l| matches!(l.state, LinkState::Open { .. }))
            .count()
    }

    pub fn state(&self, peer: &str) -> Option<&LinkState> {
        self.links.get(peer).map(|l| &l.state)
    }

    /// The session of the attempt or channel in force with `peer`.
    pub fn session(&self, peer: &str) -> Option<u64> {
        match self.state(peer)? {
            LinkState::Connecting { session, .. } | LinkState::Open { session, .. } => {
                Some(*session)
            }
            LinkState::Waiting { .. } => None,
        }
    }

    /// How to send a message to `peer` now (may start an attempt).
    pub fn route(&mut self, peer: &str, now: u64) -> Route {
        if peer == self.me {
            return Route::Relay;
        }
        match self.state(peer) {
            Some(LinkState::Open { session, .. }) => return Route::Channel { session: *session },
            Some(LinkState::Connecting { .. }) => return Route::Relay,
            Some(LinkState::Waiting { until }) if now < *until => return Route::Relay,
            _ => {}
        }
        if self.active() >= self.policy.max_peers {
            return Route::Relay;
        }
        let session = self.fresh_session();
        self.start_connecting(peer, session, true, now);
        Route::Connect { session }
    }

    /// `peer`'s link is now attempt `session` (ours when `offerer`), keeping its failure count
    /// for the backoff.
    fn start_connecting(&mut self, peer: &str, session: u64, offerer: bool, now: u64) {
        let failures = self.links.get(peer).map_or(0, |l| l.failures);
        self.links.insert(
            peer,
            Link {
                state: LinkState::Connecting {
                    session,
                    offerer,
                    since: now,
                },
                failures,
            },
        );
    }

    /// An offer of attempt `session` arrived from `peer`.
    pub fn on_offer(&mut self, peer: &str, session: u64, now: u64) -> OfferAction {
        let replaced = match self.state(peer) {
            Some(LinkState::Connecting {
                session: mine,
                offerer: true,
                ..
            }) => {
                if self.me.as_bytes() < peer.as_bytes() {
                    return OfferAction::Ignore;
                }
                Some(*mine)
            }
            Some(LinkState::Connecting { session: s, .. })
            | Some(LinkState::Open { session: s, .. }) => {
                if *s == session {
                    return OfferAction::Ignore;
                }
                // The peer started over (it restarted, or gave up its side of the old one).
                Some(*s)
            }
            Some(LinkState::Waiting { .. }) | None => {
                if self.active() >= self.policy.max_peers {
                    return OfferAction::Refuse(ByeReason::Full);
                }
                None
            }
        };
        self.start_connecting(peer, session, false, now);
        OfferAction::Accept { replaced }
    }

    /// The channel of `session` opened. False when that attempt is no longer in force.
    pub fn on_open(&mut self, peer: &str, session: u64, now: u64) -> bool {
        match self.links.get_mut(peer) {
            Some(l) if matches!(l.state, LinkState::Connecting { session: s, .. } if s == session) =>
            {
                l.state = LinkState::Open {
                    session,
                    since: now,
                };
                true
            }
            _ => false,
        }
    }

    /// Attempt or channel `session` with `peer` ended. False when it was not in force.
    pub fn on_down(&mut self, peer: &str, session: u64, now: u64, why: Down) -> bool {
        let p = self.policy.clone();
        let Some(l) = self.links.get_mut(peer) else {
            return false;
        };
        let stable = match l.state {
            LinkState::Open { session: s, since } if s == session => {
                now.saturating_sub(since) >= p.stable_ms
            }
            LinkState::Connecting { session: s, .. } if s == session => false,
            _ => return false,
        };
        if stable {
            l.failures = 0;
        }
        let wait = match why {
            Down::Unsupported => p.backoff_max_ms,
            Down::Failed => {
                let doubled = p.backoff_min_ms.saturating_mul(1u64 << l.failures.min(20));
                doubled.min(p.backoff_max_ms)
            }
        };
        l.failures = l.failures.saturating_add(1);
        l.state = LinkState::Waiting { until: now + wait };
        true
    }

    /// Attempts that did not open in time: the caller closes them and reports `on_down`.
    pub fn timed_out(&self, now: u64) -> Vec<(String, u64)> {
        self.links
            .iter()
            .filter_map(|(peer, l)| match l.state {
                LinkState::Connecting { session, since, .. }
                    if now.saturating_sub(since) >= self.policy.connect_timeout_ms =>
                {
                    Some((peer.clone(), session))
                }
                _ => None,
            })
            .collect()
    }
}

/// Stall detection for one channel: bytes keep leaving its send buffer, or the buffer is
/// empty; data waiting with nothing sent for `stall_ms` is a stall.
#[derive(Clone, Debug)]
pub struct Progress {
    left: u64,
    since: u64,
}

impl Progress {
    pub fn new(now: u64) -> Progress {
        Progress {
            left: 0,
            since: now,
        }
    }

    /// `handed`: bytes handed to the channel so far; `buffered`: its `bufferedAmount`.
    /// True when the channel is stalled.
    pub fn observe(&mut self, handed: u64, buffered: u64, now: u64, stall_ms: u64) -> bool {
        let left = handed.saturating_sub(buffered);
        if buffered == 0 || left > self.left {
            self.since = now;
        }
        self.left = self.left.max(left);
        buffered > 0 && now.saturating_sub(self.since) >= stall_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(me: &str, max: usize) -> Links {
        Links::new(
            me,
            Policy {
                max_peers: max,
                ..Policy::default()
            },
            42,
        )
    }

    fn session(r: Route) -> u64 {
        match r {
            Route::Connect { session } | Route::Channel { session } => session,
            Route::Relay => panic!("relay"),
        }
    }

    #[test]
    fn lazily_connects_then_uses_the_channel() {
        let mut l = links("a", 16);
        let s = session(l.route("b", 0));
        assert_eq!(l.route("b", 1), Route::Relay, "still connecting");
        assert!(l.on_open("b", s, 5));
        assert_eq!(l.route("b", 6), Route::Channel { session: s });
        assert_eq!(l.route("a", 6), Route::Relay, "never a channel to itself");
        assert_eq!(l.open(), 1);
    }

    #[test]
    fn at_most_max_peers_and_full_refuses_offers() {
        let mut l = links("a", 2);
        assert!(matches!(l.route("b", 0), Route::Connect { .. }));
        assert!(matches!(l.route("c", 0), Route::Connect { .. }));
        assert_eq!(l.route("d", 0), Route::Relay);
        assert_eq!(l.on_offer("e", 9, 0), OfferAction::Refuse(ByeReason::Full));
        assert_eq!(l.active(), 2);
    }

    #[test]
    fn glare_keeps_the_smaller_ids_offer_on_both_sides() {
        let mut a = links("a", 16);
        let mut b = links("b", 16);
        let sa = session(a.route("b", 0));
        let sb = session(b.route("a", 0));
        // Each receives the other's offer.
        assert_eq!(a.on_offer("b", sb, 1), OfferAction::Ignore);
        assert_eq!(
            b.on_offer("a", sa, 1),
            OfferAction::Accept { replaced: Some(sb) }
        );
        assert_eq!(a.session("b"), Some(sa));
        assert_eq!(b.session("a"), Some(sa));
        assert!(a.on_open("b", sa, 2) && b.on_open("a", sa, 2));
        assert!(!b.on_open("a", sb, 2), "the dropped attempt never opens");
    }

    #[test]
    fn a_new_offer_replaces_an_open_channel() {
        let mut l = links("b", 16);
        assert_eq!(
            l.on_offer("a", 1, 0),
            OfferAction::Accept { replaced: None }
        );
        assert!(l.on_open("a", 1, 1));
        assert_eq!(l.on_offer("a", 1, 2), OfferAction::Ignore, "a duplicate");
        assert_eq!(
            l.on_offer("a", 2, 2),
            OfferAction::Accept { replaced: Some(1) }
        );
    }

    #[test]
    fn failures_back_off_and_a_stable_channel_resets() {
        let mut l = links("a", 16);
        let s = session(l.route("b", 0));
        assert!(l.on_down("b", s, 100, Down::Failed));
        assert!(!l.on_down("b", s, 100, Down::Failed), "reported once");
        assert_eq!(l.route("b", 1_099), Route::Relay);
        let s = session(l.route("b", 1_100));
        assert!(l.on_down("b", s, 1_100, Down::Failed));
        assert_eq!(
            l.route("b", 3_099),
            Route::Relay,
            "2 s after a second failure"
        );
        let s = session(l.route("b", 3_100));
        assert!(l.on_open("b", s, 3_100));
        assert!(l.on_down("b", s, 20_000, Down::Failed));
        assert!(
            matches!(l.route("b", 21_000), Route::Connect { .. }),
            "1 s again"
        );
        assert_eq!(l.state("b").map(|_| ()), Some(()));
        let mut l = links("a", 16);
        let s = session(l.route("n", 0));
        assert!(l.on_down("n", s, 0, Down::Unsupported));
        assert_eq!(l.route("n", 59_999), Route::Relay);
    }

    #[test]
    fn attempts_time_out() {
        let mut l = links("a", 16);
        let s = session(l.route("b", 0));
        assert!(l.timed_out(9_999).is_empty());
        assert_eq!(l.timed_out(10_000), vec![("b".to_string(), s)]);
    }

    #[test]
    fn stall_is_data_waiting_with_nothing_sent() {
        let mut p = Progress::new(0);
        assert!(!p.observe(100, 100, 0, 1_000));
        assert!(!p.observe(100, 100, 999, 1_000));
        assert!(p.observe(100, 100, 1_000, 1_000));
        // Some bytes left the buffer: progress, even though more were added since.
        assert!(!p.observe(300, 250, 1_500, 1_000));
        assert!(
            !p.observe(300, 0, 5_000, 1_000),
            "an empty buffer never stalls"
        );
    }
}
