//! Retry delays for the sync client: exponential backoff with full jitter.
//!
//! Full jitter (a uniformly random delay between zero and the exponential ceiling) spreads the
//! reconnects of a whole team's tablets after a server restart, instead of having them arrive
//! in synchronised waves. The delay itself is a pure function of the attempt number and a
//! random sample, so it is unit-tested without a clock or a random generator.

use std::time::Duration;

use rand::Rng;

/// How the client spaces out its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling of the first retry's delay.
    pub base: Duration,
    /// Largest delay ever waited, however many attempts failed.
    pub cap: Duration,
    /// Failed attempts after which [`crate::sync::SyncClient::sync_with_retry`] gives up and
    /// returns the last error (`None`: never). The long-lived mode ignores it.
    pub max_attempts: Option<u32>,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(5 * 60),
            max_attempts: Some(8),
        }
    }
}

/// The ceiling of the delay before retry number `attempt` (0 for the first retry):
/// `min(cap, base · 2^attempt)`, computed without overflow.
pub fn ceiling(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
    base.checked_mul(factor).map_or(cap, |d| d.min(cap))
}

/// The delay before retry number `attempt`, given `sample`, a uniform random number in
/// `[0, 1)`: `sample · ceiling(attempt)` (full jitter). A sample outside `[0, 1)` is clamped,
/// so the result never exceeds the ceiling.
pub fn full_jitter(attempt: u32, base: Duration, cap: Duration, sample: f64) -> Duration {
    let sample = if sample.is_finite() {
        sample.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling(attempt, base, cap).mul_f64(sample)
}

/// Counts failed attempts and hands out jittered delays; reset after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    /// A fresh backoff (no failures yet).
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Failed attempts since the last reset.
    pub fn failures(&self) -> u32 {
        self.attempt
    }

    /// Whether the policy allows another attempt after the failures so far.
    pub fn may_retry(&self) -> bool {
        self.policy
            .max_attempts
            .is_none_or(|max| self.attempt < max)
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let delay = full_jitter(
            self.attempt,
            self.policy.base,
            self.policy.cap,
            rng.gen::<f64>(),
        );
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Forgets the failures: the connection worked.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    const BASE: Duration = Duration::from_millis(500);
    const CAP: Duration = Duration::from_secs(300);

    #[test]
    fn ceiling_doubles_from_the_base_until_the_cap() {
        assert_eq!(ceiling(0, BASE, CAP), Duration::from_millis(500));
        assert_eq!(ceiling(1, BASE, CAP), Duration::from_secs(1));
        assert_eq!(ceiling(4, BASE, CAP), Duration::from_secs(8));
        assert_eq!(ceiling(9, BASE, CAP), Duration::from_secs(256));
        assert_eq!(ceiling(10, BASE, CAP), CAP);
    }

    #[test]
    fn ceiling_does_not_overflow_for_huge_attempt_numbers() {
        assert_eq!(ceiling(31, BASE, CAP), CAP);
        assert_eq!(ceiling(32, BASE, CAP), CAP);
        assert_eq!(ceiling(u32::MAX, BASE, CAP), CAP);
        assert_eq!(
            ceiling(u32::MAX, Duration::MAX, Duration::MAX),
            Duration::MAX
        );
    }

    #[test]
    fn full_jitter_scales_the_ceiling_by_the_sample() {
        assert_eq!(full_jitter(3, BASE, CAP, 0.0), Duration::ZERO);
        assert_eq!(full_jitter(3, BASE, CAP, 0.5), Duration::from_secs(2));
        assert_eq!(full_jitter(3, BASE, CAP, 0.25), Duration::from_secs(1));
        assert_eq!(full_jitter(20, BASE, CAP, 0.5), Duration::from_secs(150));
    }

    #[test]
    fn full_jitter_never_exceeds_the_ceiling_even_for_bad_samples() {
        assert_eq!(full_jitter(2, BASE, CAP, 7.0), ceiling(2, BASE, CAP));
        assert_eq!(full_jitter(2, BASE, CAP, -1.0), Duration::ZERO);
        assert_eq!(full_jitter(2, BASE, CAP, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn backoff_counts_failures_and_stops_at_max_attempts() {
        let mut b = Backoff::new(BackoffPolicy {
            base: BASE,
            cap: CAP,
            max_attempts: Some(3),
        });
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 0..3 {
            assert!(b.may_retry());
            let d = b.next_delay(&mut rng);
            assert!(d <= ceiling(attempt, BASE, CAP));
        }
        assert!(!b.may_retry());
        b.reset();
        assert_eq!(b.failures(), 0);
        assert!(b.may_retry());
    }

    #[test]
    fn backoff_delays_are_spread_over_the_whole_window() {
        // Full jitter: over many draws the delays cover both halves of [0, ceiling].
        let mut rng = StdRng::seed_from_u64(42);
        let (mut low, mut high) = (0, 0);
        for _ in 0..200 {
            let mut b = Backoff::new(BackoffPolicy::default());
            let d = b.next_delay(&mut rng);
            if d < BASE / 2 {
                low += 1;
            } else {
                high += 1;
            }
        }
        assert!(low > 50 && high > 50, "low {low}, high {high}");
    }
}
