//! The per-connection message rate: a token bucket (`rate` messages a second, up to `burst`
//! at once). A message that finds no token is not dropped: the connection waits until one
//! is due (and reads nothing meanwhile, so TCP slows the sender). Optionally, a connection
//! that keeps sending above the rate is closed. Pure: the caller passes the time.

use std::time::{Duration, Instant};

/// The window over which waits for the rate are counted towards closing the connection.
pub const ABUSE_WINDOW: Duration = Duration::from_secs(10);

/// The longest single wait for a token (a rate of 0 would be forever).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The limits, from [`super::Config`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Messages per second, sustained.
    pub rate: f64,
    /// Messages accepted at once after a quiet spell (the bucket's size).
    pub burst: f64,
    /// Messages that had to wait for the rate within [`ABUSE_WINDOW`] that close the
    /// connection (4008); 0: never (the rate alone bounds what a connection costs).
    pub max_waits: u64,
}

/// What to do with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Accept it after this long: its token is due then. Read nothing else meanwhile.
    Wait(Duration),
    /// Drop it and close the connection: it kept sending above the rate.
    Close,
}

#[derive(Debug)]
pub struct Bucket {
    limit: RateLimit,
    /// Below zero while messages wait for tokens that are not there yet.
    tokens: f64,
    last: Instant,
    window_start: Instant,
    waits_in_window: u64,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Bucket {
        Bucket {
            limit,
            tokens: limit.burst,
            last: now,
            window_start: now,
            waits_in_window: 0,
        }
    }

    /// Takes one token for a message arriving at `now`, or says how long until it is due.
    /// A caller that waits that long before the next `take` never owes more than one token.
    pub fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.limit.rate).min(self.limit.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Accept;
        }
        if now.saturating_duration_since(self.window_start) > ABUSE_WINDOW {
            self.window_start = now;
            self.waits_in_window = 0;
        }
        self.waits_in_window += 1;
        if self.limit.max_waits > 0 && self.waits_in_window > self.limit.max_waits {
            return Verdict::Close;
        }
        let owed = 1.0 - self.tokens;
        self.tokens -= 1.0;
        let wait = Duration::try_from_secs_f64(owed / self.limit.rate).unwrap_or(MAX_WAIT);
        Verdict::Wait(wait.min(MAX_WAIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: f64, burst: f64, max_waits: u64) -> RateLimit {
        RateLimit {
            rate,
            burst,
            max_waits,
        }
    }

    fn ms(verdict: Verdict) -> Option<u128> {
        match verdict {
            Verdict::Wait(d) => Some(d.as_millis()),
            _ => None,
        }
    }

    #[test]
    fn a_burst_then_waits_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(10.0, 3.0, 0), t0);
        for _ in 0..3 {
            assert_eq!(b.take(t0), Verdict::Accept);
        }
        // The fourth message's token is due in 100 ms.
        assert_eq!(ms(b.take(t0)), Some(100));
        // The caller waited: the next one is due 100 ms after that.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(ms(b.take(t1)), Some(100));
        // A long pause refills to the burst, no more.
        let t2 = t1 + Duration::from_secs(60);
        let accepted = (0..10).filter(|_| b.take(t2) == Verdict::Accept).count();
        assert_eq!(accepted, 3);
    }

    #[test]
    fn waiting_as_told_keeps_the_rate_exactly() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(100.0, 1.0, 0), t0);
        let mut t = t0;
        let mut accepted = 0;
        while t < t0 + Duration::from_secs(1) {
            match b.take(t) {
                Verdict::Accept => {}
                Verdict::Wait(d) => t += d,
                Verdict::Close => panic!("never closes with max_waits 0"),
            }
            accepted += 1;
        }
        // The burst of one, then one every 10 ms for a second.
        assert!((100..=102).contains(&accepted), "{accepted}");
    }

    #[test]
    fn sending_on_above_the_rate_closes_when_asked() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(1.0, 2.0, 5), t0);
        let verdicts: Vec<_> = (0..8).map(|_| b.take(t0)).collect();
        assert_eq!(verdicts[..2], [Verdict::Accept, Verdict::Accept]);
        assert!(verdicts[2..7].iter().all(|v| matches!(v, Verdict::Wait(_))));
        assert_eq!(verdicts[7], Verdict::Close);
    }

    #[test]
    fn waits_spread_over_windows_do_not_close() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(1.0, 1.0, 3), t0);
        let mut t = t0;
        for _ in 0..10 {
            // Three waits a window, then a window later the same again.
            for _ in 0..3 {
                match b.take(t) {
                    Verdict::Wait(d) => t += d,
                    Verdict::Accept => {}
                    Verdict::Close => panic!("closed"),
                }
            }
            t += ABUSE_WINDOW + Duration::from_millis(1);
        }
    }

    #[test]
    fn a_zero_rate_waits_the_longest_wait() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(0.0, 1.0, 0), t0);
        assert_eq!(b.take(t0), Verdict::Accept);
        assert_eq!(b.take(t0), Verdict::Wait(MAX_WAIT));
    }
}
