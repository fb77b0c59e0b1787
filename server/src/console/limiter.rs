//! Failed sign-ins, counted per account and per source address: after `max` failures within
//! the window, sign-in under that key is refused until the window ends, right password or not
//! (guessing costs time).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Counts failures per key (`account:<login>`, `address:<ip>`).
#[derive(Debug)]
pub struct FailureLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureLimiter {
    /// At most `max` failures per key per `window`; `max == 0` disables the limit.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait, if it is blocked.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (start, n) = map.get(key)?;
        let elapsed = now.saturating_duration_since(*start);
        (*n >= self.max && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts a failure under `key`.
    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Forgets `key`'s failures (a successful sign-in of that account).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_max_failures_until_the_window_ends() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..2 {
            l.record_failure("account:a", t0);
        }
        assert_eq!(l.blocked("account:a", t0), None);
        l.record_failure("account:a", t0);
        assert!(l
            .blocked("account:a", t0 + Duration::from_secs(10))
            .is_some());
        assert_eq!(l.blocked("account:b", t0), None);
        assert_eq!(l.blocked("account:a", t0 + Duration::from_secs(61)), None);
    }
}
