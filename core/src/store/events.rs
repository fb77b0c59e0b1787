//! Change events: the store says, after every commit, which record changed and why.
//!
//! Screens and the sync client's long-lived mode learn of changes from here instead of from
//! each caller remembering to notify (docs/adr/0019-change-events.md). An event is published
//! after the transaction has committed and after the store's locks are released, so a
//! subscriber may read the store (or write to it) from its callback; it runs on the thread that
//! committed, so it should only hand the event on (to a channel, a waker) and return.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::ids::RecordId;

/// Why a record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeOrigin {
    /// An edit made on this device (create, edit, workflow, signing, a rebuild).
    Local,
    /// Something the server sent: remote changes, a whole document, an acknowledgement that
    /// changed the record's sync status, or a revocation wipe.
    Sync,
}

/// One committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The record that changed; `None` when many may have (a wipe, a projection rebuild).
    pub record: Option<RecordId>,
    /// Why it changed.
    pub origin: ChangeOrigin,
}

type Callback = Arc<dyn Fn(&ChangeEvent) + Send + Sync>;

/// The store's subscriber list.
#[derive(Default)]
pub(crate) struct Publisher {
    next: AtomicU64,
    subscribers: Mutex<BTreeMap<u64, Callback>>,
}

impl Publisher {
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        callback: impl Fn(&ChangeEvent) + Send + Sync + 'static,
    ) -> ChangeSubscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::new(callback));
        ChangeSubscription {
            publisher: Arc::downgrade(self),
            id,
        }
    }

    /// Calls every subscriber with the event. The list is copied first, so a callback may
    /// subscribe or cancel without deadlocking; a panicking callback does not stop the others
    /// or reach the committing caller.
    pub(crate) fn publish(&self, record: Option<RecordId>, origin: ChangeOrigin) {
        let callbacks: Vec<Callback> = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        if callbacks.is_empty() {
            return;
        }
        let event = ChangeEvent { record, origin };
        for callback in callbacks {
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&event)));
            if outcome.is_err() {
                tracing::error!(?event, "a change subscriber panicked; the others still ran");
            }
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// A live subscription to a store's change events; dropping it (or [`cancel`]) ends it.
///
/// [`cancel`]: ChangeSubscription::cancel
#[must_use = "the subscription ends when it is dropped"]
pub struct ChangeSubscription {
    publisher: Weak<Publisher>,
    id: u64,
}

impl ChangeSubscription {
    /// Ends the subscription now; no callback starts after this returns.
    pub fn cancel(self) {}
}

impl Drop for ChangeSubscription {
    fn drop(&mut self) {
        if let Some(p) = self.publisher.upgrade() {
            p.subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&self.id);
        }
    }
}

impl std::fmt::Debug for ChangeSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeSubscription")
            .field("id", &self.id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_dropped_subscription_gets_nothing_more_and_a_panicking_one_does_not_stop_the_rest() {
        let p = Arc::new(Publisher::default());
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let counting = p.subscribe(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
        });
        let panicking = p.subscribe(|_| panic!("subscriber bug"));
        p.publish(None, ChangeOrigin::Local);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        drop(panicking);
        drop(counting);
        assert_eq!(p.count(), 0);
        p.publish(None, ChangeOrigin::Sync);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
