//! Observers: foreign callbacks told about changes, each behind a handle that stops it on
//! `cancel()` or when dropped (matrix-rust-sdk's `TaskHandle` pattern), so no callback
//! outlives the screen that registered it.
//!
//! They are driven by the core store's change events (docs/adr/0019-change-events.md): no
//! exported method has to remember to notify. Events go to one thread per store
//! ("homevisit-observers"), which runs the list queries and the callbacks off the caller's
//! thread, and coalesces a burst of changes (a sync bringing 1,000 records) into one refresh.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex, Weak,
    },
    thread,
};

use homevisit_core::{
    store::{ChangeSubscription, Store as CoreStore},
    RecordId,
};

use crate::store::{CaseloadItem, RecordItem};

/// Told the caseload after every change (the app's caseload screen).
#[uniffi::export(with_foreign)]
pub trait CaseloadObserver: Send + Sync {
    /// The caseload as it now stands.
    fn on_caseload(&self, caseload: Vec<CaseloadItem>);
}

/// Told that a record changed (its screen reloads it).
#[uniffi::export(with_foreign)]
pub trait RecordObserver: Send + Sync {
    /// The record `record_id` changed (locally or by sync).
    fn on_record_changed(&self, record_id: String);
}

/// Told the records the server lacks changes of, after every change and every sync (the
/// app's sync-status badge and "unsynced" filter).
#[uniffi::export(with_foreign)]
pub trait SyncStatusObserver: Send + Sync {
    /// The records that are not `synced` now (local only, pending or in conflict).
    fn on_sync_status(&self, unsynced: Vec<RecordItem>);
}

enum Entry {
    Caseload(Arc<dyn CaseloadObserver>),
    Record(RecordId, Arc<dyn RecordObserver>),
    SyncStatus(Arc<dyn SyncStatusObserver>),
}

/// The registered observers of one store.
#[derive(Default)]
pub struct Observers {
    next: AtomicU64,
    entries: Mutex<BTreeMap<u64, Entry>>,
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|e| e.len()).unwrap_or_default();
        write!(f, "Observers({n})")
    }
}

impl Observers {
    fn add(self: &Arc<Self>, e: Entry) -> Arc<ObserverHandle> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(id, e);
        }
        Arc::new(ObserverHandle {
            id,
            observers: Arc::downgrade(self),
        })
    }

    /// Registers a caseload observer.
    pub fn add_caseload(self: &Arc<Self>, o: Arc<dyn CaseloadObserver>) -> Arc<ObserverHandle> {
        self.add(Entry::Caseload(o))
    }

    /// Registers an observer of one record.
    pub fn add_record(
        self: &Arc<Self>,
        id: RecordId,
        o: Arc<dyn RecordObserver>,
    ) -> Arc<ObserverHandle> {
        self.add(Entry::Record(id, o))
    }

    /// Registers a sync-status observer.
    pub fn add_sync_status(
        self: &Arc<Self>,
        o: Arc<dyn SyncStatusObserver>,
    ) -> Arc<ObserverHandle> {
        self.add(Entry::SyncStatus(o))
    }

    fn remove(&self, id: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }

    /// Drops every observer (the store was closed).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// How many observers are registered.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or_default()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tells the observers that the records in `changed` (or, with `None`, possibly any
    /// record) changed. The callbacks run outside the registry lock, so a callback may cancel
    /// its own handle.
    fn notify(&self, store: &CoreStore, changed: Option<&BTreeSet<RecordId>>) {
        let (caseload, records, statuses) = match self.entries.lock() {
            Ok(entries) => {
                let mut c = Vec::new();
                let mut r = Vec::new();
                let mut st = Vec::new();
                for e in entries.values() {
                    match e {
                        Entry::Caseload(o) => c.push(o.clone()),
                        Entry::SyncStatus(o) => st.push(o.clone()),
                        Entry::Record(id, o) if changed.is_none_or(|c| c.contains(id)) => {
                            r.push((*id, o.clone()))
                        }
                        Entry::Record(..) => {}
                    }
                }
                (c, r, st)
            }
            Err(_) => return,
        };
        if !statuses.is_empty() {
            if let Ok(rows) = store.unsynced_records() {
                let items: Vec<RecordItem> = rows.into_iter().map(RecordItem::from).collect();
                for o in statuses {
                    o.on_sync_status(items.clone());
                }
            }
        }
        if !caseload.is_empty() {
            if let Ok(rows) = store.caseload() {
                let items: Vec<CaseloadItem> = rows.into_iter().map(CaseloadItem::from).collect();
                for o in caseload {
                    o.on_caseload(items.clone());
                }
            }
        }
        for (id, o) in records {
            o.on_record_changed(id.to_string());
        }
    }
}

/// Keeps an observer registered; `cancel()` or dropping it stops the callbacks.
#[derive(Debug, uniffi::Object)]
pub struct ObserverHandle {
    id: u64,
    observers: Weak<Observers>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops the observer; calling it twice is harmless.
    pub fn cancel(&self) {
        if let Some(o) = self.observers.upgrade() {
            o.remove(self.id);
        }
    }
}

impl Drop for ObserverHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The name of the thread that runs a store's observer callbacks.
pub(crate) const OBSERVER_THREAD: &str = "homevisit-observers";

enum Signal {
    /// A commit changed this record (`None`: possibly any).
    Changed(Option<RecordId>),
    /// Answer once every signal sent before this one has been delivered.
    Flush(mpsc::SyncSender<()>),
}

/// Carries a store's change events to its observers on a thread of its own. Dropping it ends
/// the subscription; the thread then finishes what is queued and exits.
pub(crate) struct Dispatcher {
    signals: Mutex<mpsc::Sender<Signal>>,
    _subscription: ChangeSubscription,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dispatcher")
    }
}

impl Dispatcher {
    /// Subscribes to `store`'s change events and starts the observer thread.
    pub(crate) fn start(store: Arc<CoreStore>, observers: Arc<Observers>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Signal>();
        let events = Mutex::new(tx.clone());
        let subscription = store.subscribe(move |e| {
            if let Ok(tx) = events.lock() {
                // The thread is gone only when the store is being dropped: nothing to tell.
                let _ = tx.send(Signal::Changed(e.record));
            }
        });
        thread::Builder::new()
            .name(OBSERVER_THREAD.into())
            .spawn(move || deliver(&store, &observers, &rx))?;
        Ok(Self {
            signals: Mutex::new(tx),
            _subscription: subscription,
        })
    }

    /// Blocks until every change committed before the call has reached the observers. A
    /// callback calling it (on the observer thread) returns at once instead of waiting for
    /// itself.
    pub(crate) fn flush(&self) {
        if thread::current().name() == Some(OBSERVER_THREAD) {
            return;
        }
        let (ack, done) = mpsc::sync_channel(1);
        let sent = match self.signals.lock() {
            Ok(tx) => tx.send(Signal::Flush(ack)).is_ok(),
            Err(_) => false,
        };
        if sent {
            let _ = done.recv();
        }
    }
}

/// The observer thread: waits for a signal, takes every other one already queued, and
/// delivers them as one refresh (a record observer hears once per burst; the list observers
/// get the lists once).
fn deliver(store: &CoreStore, observers: &Observers, rx: &mpsc::Receiver<Signal>) {
    while let Ok(first) = rx.recv() {
        let mut changed = false;
        let mut every_record = false;
        let mut records = BTreeSet::new();
        let mut acks = Vec::new();
        for signal in std::iter::once(first).chain(rx.try_iter()) {
            match signal {
                Signal::Changed(Some(id)) => {
                    changed = true;
                    records.insert(id);
                }
                Signal::Changed(None) => {
                    changed = true;
                    every_record = true;
                }
                Signal::Flush(ack) => acks.push(ack),
            }
        }
        if changed {
            observers.notify(store, (!every_record).then_some(&records));
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::mpsc::{Receiver, Sender};

    use super::*;
    use crate::{
        store::Store,
        types::{Identity, Role},
    };

    fn store(dir: &tempfile::TempDir) -> Arc<Store> {
        let identity = Identity {
            user_id: uuid::Uuid::new_v4().to_string(),
            role: Role::Ot,
            device_id: uuid::Uuid::new_v4().to_string(),
            team_id: uuid::Uuid::new_v4().to_string(),
            hcpc_number: Some("OT12345".into()),
            hcpc_verified_until: Some("2099-12-31".into()),
        };
        Store::create_unencrypted_for_tests(
            dir.path().join("s.db").to_string_lossy().into_owned(),
            identity,
        )
        .unwrap()
    }

    /// Sends each notification's thread name, then waits for `gate` (when given) before
    /// returning, so a test can hold the observer thread.
    struct Probe {
        seen: Mutex<Sender<Option<String>>>,
        gate: Mutex<Option<Receiver<()>>>,
    }

    impl RecordObserver for Probe {
        fn on_record_changed(&self, _record_id: String) {
            let name = thread::current().name().map(str::to_owned);
            self.seen.lock().unwrap().send(name).unwrap();
            if let Some(gate) = self.gate.lock().unwrap().take() {
                gate.recv().unwrap();
            }
        }
    }

    #[test]
    fn an_edit_reaches_a_record_observer_on_the_observer_thread_without_any_notify_call() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let id = store
            .create_child("Amara".into(), "Okafor".into(), "2016-05-01".into())
            .unwrap();
        // The create's own event is delivered before the observer exists.
        store.wait_for_observers();
        let (tx, rx) = mpsc::channel();
        let probe = Arc::new(Probe {
            seen: Mutex::new(tx),
            gate: Mutex::new(None),
        });
        let _handle = store.observe_record(id.clone(), probe).unwrap();
        store.wait_for_observers();
        assert!(rx.try_recv().is_err(), "registering is not a change");

        store
            .set_text(id, "preferred_name".into(), "Mara".into())
            .unwrap();
        store.wait_for_observers();
        assert_eq!(rx.try_recv().unwrap().as_deref(), Some(OBSERVER_THREAD));
        assert!(rx.try_recv().is_err(), "one edit, one notification");
    }

    #[test]
    fn changes_made_while_the_observer_thread_is_busy_arrive_as_one_notification() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let id = store
            .create_child("Amara".into(), "Okafor".into(), "2016-05-01".into())
            .unwrap();
        store.wait_for_observers();
        let (tx, rx) = mpsc::channel();
        let (open, gate) = mpsc::channel();
        let probe = Arc::new(Probe {
            seen: Mutex::new(tx),
            gate: Mutex::new(Some(gate)),
        });
        let _handle = store.observe_record(id.clone(), probe).unwrap();

        // The first edit's notification holds the observer thread at the gate ...
        store
            .set_text(id.clone(), "preferred_name".into(), "M".into())
            .unwrap();
        rx.recv().unwrap();
        // ... while 20 more edits are committed: they queue up behind it.
        for i in 0..20 {
            store
                .set_text(id.clone(), "preferred_name".into(), format!("M{i}"))
                .unwrap();
        }
        open.send(()).unwrap();
        store.wait_for_observers();
        assert!(rx.try_recv().is_ok(), "the queued edits are delivered");
        assert!(rx.try_recv().is_err(), "as a single notification");
    }
}
