//! Observers: foreign callbacks told about changes, each behind a handle that stops it on
//! `cancel()` or when dropped (matrix-rust-sdk's `TaskHandle` pattern), so no callback
//! outlives the screen that registered it.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, Weak,
    },
};

use homevisit_core::{store::Store as CoreStore, RecordId};

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

    /// Tells the observers that `changed` (or, with `None`, possibly any record) changed. The
    /// callbacks run outside the registry lock, so a callback may cancel its own handle.
    pub fn notify(&self, store: &CoreStore, changed: Option<RecordId>) {
        let (caseload, records, statuses) = match self.entries.lock() {
            Ok(entries) => {
                let mut c = Vec::new();
                let mut r = Vec::new();
                let mut st = Vec::new();
                for e in entries.values() {
                    match e {
                        Entry::Caseload(o) => c.push(o.clone()),
                        Entry::SyncStatus(o) => st.push(o.clone()),
                        Entry::Record(id, o) if changed.is_none() || changed == Some(*id) => {
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
