//! Admission control: how many accepted connections may still be sending their first HTTP
//! request ([`PendingLimit`]), how many WebSocket connections the server holds at once
//! (overall and per device), and how many bad tokens one source address may present before it
//! is told to wait.
//!
//! All are checked before any document work: a refused caller costs a map lookup and a short
//! HTTP answer (`503`/`429` with `Retry-After`), never a WebSocket session.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::store::DeviceId;

/// Most source addresses the auth-failure limiter remembers; beyond this, expired windows are
/// forgotten first and then the oldest entries.
const MAX_TRACKED_ADDRESSES: usize = 65_536;

/// Connection counts, shared by every request handler.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_device: usize,
    total: AtomicUsize,
    per_device: Mutex<HashMap<DeviceId, usize>>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds its maximum number of connections.
    ServerFull,
    /// This device already holds its maximum number of connections.
    DeviceLimit,
}

/// A held place in the overall connection count; released when dropped.
#[derive(Debug)]
pub struct TotalSlot {
    limits: Arc<ConnectionLimits>,
}

impl Drop for TotalSlot {
    fn drop(&mut self) {
        self.limits.total.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A held place in one device's connection count; released when dropped.
#[derive(Debug)]
pub struct DeviceSlot {
    limits: Arc<ConnectionLimits>,
    device: DeviceId,
}

impl Drop for DeviceSlot {
    fn drop(&mut self) {
        let mut map = self
            .limits
            .per_device
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.device) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.device);
            }
        }
    }
}

impl ConnectionLimits {
    /// Limits of `max_total` connections overall and `max_per_device` per device (each at
    /// least 1).
    pub fn new(max_total: usize, max_per_device: usize) -> Self {
        Self {
            max_total: max_total.max(1),
            max_per_device: max_per_device.max(1),
            total: AtomicUsize::new(0),
            per_device: Mutex::new(HashMap::new()),
        }
    }

    /// Connections admitted and not yet ended.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Takes a place in the overall count, or refuses with [`Refusal::ServerFull`].
    pub fn admit(self: &Arc<Self>) -> Result<TotalSlot, Refusal> {
        let mut current = self.total.load(Ordering::Acquire);
        loop {
            if current >= self.max_total {
                return Err(Refusal::ServerFull);
            }
            match self.total.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Ok(TotalSlot {
                        limits: Arc::clone(self),
                    })
                }
                Err(now) => current = now,
            }
        }
    }

    /// Takes a place in `device`'s count, or refuses with [`Refusal::DeviceLimit`].
    pub fn admit_device(self: &Arc<Self>, device: DeviceId) -> Result<DeviceSlot, Refusal> {
        let mut map = self.per_device.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(device).or_insert(0);
        if *n >= self.max_per_device {
            return Err(Refusal::DeviceLimit);
        }
        *n += 1;
        Ok(DeviceSlot {
            limits: Arc::clone(self),
            device,
        })
    }
}

/// Accepted TCP connections that have not yet sent a complete HTTP request head (including
/// any TLS handshake before it): a connection takes a place when it is accepted and gives it
/// back when its first request's headers have been read, or when it ends. Beyond the limit,
/// new connections are answered `503` and closed at once, so a flood of half-open
/// connections costs the server a bounded number of file descriptors and the accept loop
/// never stops.
#[derive(Debug)]
pub struct PendingLimit {
    max: usize,
    held: AtomicUsize,
}

/// A place among the pending connections; given back by [`PendingSlot::release`] or on drop.
#[derive(Debug)]
pub struct PendingSlot {
    limit: Arc<PendingLimit>,
    released: std::sync::atomic::AtomicBool,
}

impl PendingSlot {
    /// Gives the place back (the request head has arrived); later calls do nothing.
    pub fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.limit.held.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.release();
    }
}

impl PendingLimit {
    /// At most `max` pending connections (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            held: AtomicUsize::new(0),
        }
    }

    /// Pending connections now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Takes a place, or `None` when the limit is full.
    pub fn admit(self: &Arc<Self>) -> Option<PendingSlot> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| PendingSlot {
                limit: Arc::clone(self),
                released: std::sync::atomic::AtomicBool::new(false),
            })
    }
}

/// Counts failed authentications per source address in fixed windows, and the
/// authentications of each address still being evaluated: those count against the limit too,
/// so a burst of concurrent bad tokens evaluates no more than the limit. A caller that finds
/// the limit full only of attempts still in flight waits for a place ([`AuthLimiter::admit`])
/// instead of being refused: many valid tablets behind one address (a proxy, a NAT)
/// reconnecting at once are let in a limit's worth at a time.
#[derive(Debug)]
pub struct AuthLimiter {
    max_failures: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, Window>>,
    /// Woken whenever an attempt ends (a place may have come free).
    ended: tokio::sync::Notify,
}

/// Why an attempt cannot start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotNow {
    /// The address used up its failures: wait this long.
    Blocked(Duration),
    /// Attempts still being evaluated fill the limit: they end within moments.
    Busy,
}

/// One address's window: when it started, its failures, and its attempts in flight.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
    in_flight: u32,
}

/// An authentication being evaluated, holding one place of its address's limit until it ends:
/// [`AuthAttempt::failed`] turns the place into a failure, dropping it gives the place back.
#[derive(Debug)]
pub struct AuthAttempt {
    limiter: Option<Arc<AuthLimiter>>,
    ip: IpAddr,
}

impl AuthAttempt {
    /// The token was bad: counts a failure for the address.
    pub fn failed(mut self, now: Instant) {
        if let Some(limiter) = self.limiter.take() {
            limiter.finish(self.ip, now, true);
        }
    }
}

impl Drop for AuthAttempt {
    fn drop(&mut self) {
        if let Some(limiter) = self.limiter.take() {
            limiter.finish(self.ip, Instant::now(), false);
        }
    }
}

impl AuthLimiter {
    /// At most `max_failures` bad tokens per address per `window`; `0` disables the limit.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            seen: Mutex::new(HashMap::new()),
            ended: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// If `ip` used up its failures in the current window: how long until it may try again.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.max_failures == 0 {
            return None;
        }
        let seen = self.lock();
        let w = seen.get(&ip)?;
        let elapsed = now.saturating_duration_since(w.start);
        (elapsed < self.window && w.failures >= self.max_failures).then(|| self.window - elapsed)
    }

    /// Starts evaluating an authentication from `ip`: refused (with how long to wait) when its
    /// failures plus its attempts in flight already fill the limit.
    pub fn begin(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<AuthAttempt, Duration> {
        self.try_begin(ip, now).map_err(|n| match n {
            NotNow::Blocked(wait) => wait,
            NotNow::Busy => Duration::from_secs(1),
        })
    }

    /// Like [`AuthLimiter::begin`], but while the limit is full only of attempts still being
    /// evaluated, waits (at most `max_wait`) for one of them to end instead of refusing. An
    /// address that used up its failures is refused at once.
    pub async fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        max_wait: Duration,
    ) -> Result<AuthAttempt, Duration> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            // Registered before looking, so an attempt that ends in between still wakes us.
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match self.try_begin(ip, Instant::now()) {
                Ok(attempt) => return Ok(attempt),
                Err(NotNow::Blocked(wait)) => return Err(wait),
                Err(NotNow::Busy) => {
                    if tokio::time::timeout_at(deadline, ended).await.is_err() {
                        return Err(Duration::from_secs(1));
                    }
                }
            }
        }
    }

    fn try_begin(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<AuthAttempt, NotNow> {
        if self.max_failures == 0 {
            return Ok(AuthAttempt { limiter: None, ip });
        }
        let mut seen = self.lock();
        self.make_room(&mut seen, ip, now);
        let w = seen.entry(ip).or_insert(Window {
            start: now,
            failures: 0,
            in_flight: 0,
        });
        let elapsed = now.saturating_duration_since(w.start);
        if elapsed >= self.window {
            w.start = now;
            w.failures = 0;
        }
        if w.failures >= self.max_failures {
            let elapsed = now.saturating_duration_since(w.start);
            return Err(NotNow::Blocked(
                self.window
                    .saturating_sub(elapsed)
                    .max(Duration::from_secs(1)),
            ));
        }
        if w.failures.saturating_add(w.in_flight) >= self.max_failures {
            return Err(NotNow::Busy);
        }
        w.in_flight += 1;
        Ok(AuthAttempt {
            limiter: Some(Arc::clone(self)),
            ip,
        })
    }

    fn finish(&self, ip: IpAddr, now: Instant, failed: bool) {
        let mut seen = self.lock();
        let Some(w) = seen.get_mut(&ip) else {
            return;
        };
        w.in_flight = w.in_flight.saturating_sub(1);
        if failed {
            if now.saturating_duration_since(w.start) >= self.window {
                w.start = now;
                w.failures = 0;
            }
            w.failures = w.failures.saturating_add(1);
        }
        drop(seen);
        self.ended.notify_waiters();
    }

    fn make_room(&self, seen: &mut HashMap<IpAddr, Window>, ip: IpAddr, now: Instant) {
        if seen.len() >= MAX_TRACKED_ADDRESSES && !seen.contains_key(&ip) {
            let window = self.window;
            seen.retain(|_, w| w.in_flight > 0 || now.saturating_duration_since(w.start) < window);
            if seen.len() >= MAX_TRACKED_ADDRESSES {
                // Still full of live windows: forget the oldest one to make room.
                if let Some(oldest) = seen
                    .iter()
                    .filter(|(_, w)| w.in_flight == 0)
                    .min_by_key(|(_, w)| w.start)
                    .map(|(k, _)| *k)
                {
                    seen.remove(&oldest);
                }
            }
        }
    }

    /// Records one failed authentication from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) {
        if self.max_failures == 0 {
            return;
        }
        let mut seen = self.lock();
        self.make_room(&mut seen, ip, now);
        let w = seen.entry(ip).or_insert(Window {
            start: now,
            failures: 0,
            in_flight: 0,
        });
        if now.saturating_duration_since(w.start) >= self.window {
            w.start = now;
            w.failures = 0;
        }
        w.failures = w.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_and_per_device_places_are_given_back_on_drop() {
        let limits = Arc::new(ConnectionLimits::new(2, 1));
        let a = limits.admit().unwrap();
        let b = limits.admit().unwrap();
        assert_eq!(limits.admit().unwrap_err(), Refusal::ServerFull);
        drop(a);
        let _c = limits.admit().unwrap();
        drop(b);
        let device = uuid::Uuid::new_v4();
        let d = limits.admit_device(device).unwrap();
        assert_eq!(
            limits.admit_device(device).unwrap_err(),
            Refusal::DeviceLimit
        );
        let _other = limits.admit_device(uuid::Uuid::new_v4()).unwrap();
        drop(d);
        let _again = limits.admit_device(device).unwrap();
    }

    #[test]
    fn auth_failures_block_an_address_until_its_window_ends() {
        let limiter = AuthLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.blocked(ip, t0), None);
            limiter.record_failure(ip, t0);
        }
        let wait = limiter.blocked(ip, t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(limiter.blocked(other, t0), None);
        assert_eq!(limiter.blocked(ip, t0 + Duration::from_secs(60)), None);
        limiter.record_failure(ip, t0 + Duration::from_secs(61));
        assert_eq!(limiter.blocked(ip, t0 + Duration::from_secs(61)), None);
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let limiter = Arc::new(AuthLimiter::new(3, Duration::from_secs(60)));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        let held: Vec<AuthAttempt> = (0..3).map(|_| limiter.begin(ip, t0).unwrap()).collect();
        assert!(
            limiter.begin(ip, t0).is_err(),
            "three in flight fill the limit"
        );
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(limiter.begin(other, t0).is_ok(), "per address");
        let mut held = held.into_iter();
        // A good token gives its place back; a bad one turns it into a failure.
        drop(held.next());
        let again = limiter.begin(ip, t0).unwrap();
        for a in held.chain([again]) {
            a.failed(t0);
        }
        assert_eq!(
            limiter.blocked(ip, t0 + Duration::from_secs(1)),
            Some(Duration::from_secs(59))
        );
        assert_eq!(limiter.begin(ip, t0).unwrap_err(), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_caller_waits_for_a_place_held_by_attempts_in_flight_but_not_for_failures() {
        let limiter = Arc::new(AuthLimiter::new(2, Duration::from_secs(60)));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        let first = limiter.begin(ip, t0).unwrap();
        let second = limiter.begin(ip, t0).unwrap();
        // Full of attempts in flight: a third caller waits, and is let in when one ends.
        let waiting = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move { limiter.admit(ip, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "it waits while both are in flight");
        drop(first); // a valid token: its place is given back
        let third = waiting
            .await
            .unwrap()
            .expect("let in once a place came free");
        // With nobody ending, a bounded wait gives up with a short Retry-After.
        assert_eq!(
            limiter
                .admit(ip, Duration::from_millis(50))
                .await
                .unwrap_err(),
            Duration::from_secs(1)
        );
        // Failures are not waited out: refused at once with the rest of the window.
        second.failed(Instant::now());
        third.failed(Instant::now());
        let wait = limiter
            .admit(ip, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
    }

    #[test]
    fn pending_places_are_given_back_once_on_release_or_drop() {
        let limit = Arc::new(PendingLimit::new(2));
        let a = limit.admit().unwrap();
        let b = limit.admit().unwrap();
        assert!(limit.admit().is_none(), "two pending fill the limit");
        a.release();
        a.release();
        assert_eq!(limit.held(), 1, "a second release gives nothing back");
        drop(a);
        assert_eq!(
            limit.held(),
            1,
            "a released slot gives nothing back when dropped"
        );
        let c = limit.admit().unwrap();
        assert!(limit.admit().is_none());
        drop((b, c));
        assert_eq!(limit.held(), 0);
    }

    #[test]
    fn a_zero_limit_never_blocks() {
        let limiter = AuthLimiter::new(0, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..100 {
            limiter.record_failure(ip, t0);
        }
        assert_eq!(limiter.blocked(ip, t0), None);
    }
}
