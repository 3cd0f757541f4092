//! The per-connection message rate: a token bucket (`rate` messages a second, up to `burst`
//! at once) and the rule that ends a connection that keeps sending above it. Pure: the
//! caller passes the time.

use std::time::{Duration, Instant};

/// The window over which rate drops are counted towards closing the connection.
pub const ABUSE_WINDOW: Duration = Duration::from_secs(10);

/// The limits, from [`super::Config`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Messages per second, sustained.
    pub rate: f64,
    /// Messages accepted at once after a quiet spell (the bucket's size).
    pub burst: f64,
    /// Messages dropped for the rate within [`ABUSE_WINDOW`] that close the connection.
    pub max_drops: u64,
}

/// What to do with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Drop it; `first` when the message before it was accepted (answer once per run).
    Drop {
        first: bool,
    },
    /// Drop it and close the connection: it kept sending above the rate.
    Close,
}

#[derive(Debug)]
pub struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
    dropping: bool,
    window_start: Instant,
    drops_in_window: u64,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Bucket {
        Bucket {
            limit,
            tokens: limit.burst,
            last: now,
            dropping: false,
            window_start: now,
            drops_in_window: 0,
        }
    }

    /// Takes one token for a message arriving at `now`.
    pub fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.limit.rate).min(self.limit.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.dropping = false;
            return Verdict::Accept;
        }
        if now.saturating_duration_since(self.window_start) > ABUSE_WINDOW {
            self.window_start = now;
            self.drops_in_window = 0;
        }
        self.drops_in_window += 1;
        if self.drops_in_window > self.limit.max_drops {
            return Verdict::Close;
        }
        let first = !self.dropping;
        self.dropping = true;
        Verdict::Drop { first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: f64, burst: f64, max_drops: u64) -> RateLimit {
        RateLimit {
            rate,
            burst,
            max_drops,
        }
    }

    #[test]
    fn a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(10.0, 3.0, 100), t0);
        let verdicts: Vec<_> = (0..5).map(|_| b.take(t0)).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Accept,
                Verdict::Accept,
                Verdict::Accept,
                Verdict::Drop { first: true },
                Verdict::Drop { first: false }
            ]
        );
        // 100 ms later one token is back, and a new run of drops is answered again.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(b.take(t1), Verdict::Accept);
        assert_eq!(b.take(t1), Verdict::Drop { first: true });
        // A long pause refills to the burst, no more.
        let t2 = t1 + Duration::from_secs(60);
        let accepted = (0..10).filter(|_| b.take(t2) == Verdict::Accept).count();
        assert_eq!(accepted, 3);
    }

    #[test]
    fn sending_on_above_the_rate_closes() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(1.0, 2.0, 5), t0);
        let verdicts: Vec<_> = (0..8).map(|_| b.take(t0)).collect();
        assert_eq!(verdicts[..2], [Verdict::Accept, Verdict::Accept]);
        assert!(verdicts[2..7]
            .iter()
            .all(|v| matches!(v, Verdict::Drop { .. })));
        assert_eq!(verdicts[7], Verdict::Close);
    }

    #[test]
    fn drops_spread_over_windows_do_not_close() {
        let t0 = Instant::now();
        let mut b = Bucket::new(limit(1.0, 1.0, 3), t0);
        let mut t = t0;
        for _ in 0..10 {
            // One accepted, three dropped, then a window later the same again.
            assert_eq!(b.take(t), Verdict::Accept);
            for _ in 0..3 {
                assert!(matches!(b.take(t), Verdict::Drop { .. }));
            }
            t += ABUSE_WINDOW + Duration::from_millis(1);
        }
    }
}
