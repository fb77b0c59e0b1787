//! `SyncClient`: syncs a `Store` with the team server (async; the app calls it on reconnect
//! and periodically). Progress goes to a foreign callback; the store's observers hear of what
//! sync stored through the store's change events, as they do of local edits.

use std::sync::Arc;

use homevisit_core::{
    store::Store as CoreStore,
    sync::{
        client::SyncClient as CoreClient,
        progress::{SyncProgress as CoreProgress, SyncReport},
    },
};

use crate::{
    error::{FfiResult, HomeVisitError},
    store::Store,
    types::truncate,
};

/// Documents and bytes done so far, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// Documents finished.
    pub docs_done: u64,
    /// Documents to do in all (grows while the server lists changes).
    pub docs_total: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

impl From<CoreProgress> for SyncProgress {
    fn from(p: CoreProgress) -> Self {
        Self {
            docs_done: p.docs_done,
            docs_total: p.docs_total,
            bytes_sent: p.bytes_sent,
            bytes_received: p.bytes_received,
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// Documents uploaded (changes or whole).
    pub docs_sent: u64,
    /// Documents that received changes.
    pub docs_received: u64,
    /// Bytes on the wire, out.
    pub bytes_sent: u64,
    /// Bytes on the wire, in.
    pub bytes_received: u64,
    /// Request/response round trips.
    pub round_trips: u64,
    /// Records with a clinical conflict after the sync.
    pub conflicts: u64,
    /// Records the server refused or that failed, with the reason (others carried on).
    pub problems: Vec<String>,
    /// Whether every document was brought up to date.
    pub complete: bool,
}

impl From<SyncReport> for SyncSummary {
    fn from(r: SyncReport) -> Self {
        Self {
            docs_sent: r.docs_sent,
            docs_received: r.docs_received,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            round_trips: r.round_trips,
            conflicts: r.conflicts,
            problems: r
                .rejected
                .iter()
                .chain(r.failed.iter())
                .map(|p| format!("{}: {}", p.id, p.reason))
                .collect(),
            complete: r.complete,
        }
    }
}

/// Told the sync's progress.
#[uniffi::export(with_foreign)]
pub trait SyncProgressObserver: Send + Sync {
    /// Progress so far.
    fn on_progress(&self, progress: SyncProgress);
}

/// Syncs one store with the team server at `url` (`ws://` or `wss://…/sync`) using the
/// device's token.
#[derive(uniffi::Object)]
pub struct SyncClient {
    inner: CoreClient<CoreStore>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncClient")
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SyncClient {
    /// A client for `store` talking to `url` with the device `token` (shown once by
    /// `homevisit-server device add`).
    #[uniffi::constructor]
    pub fn new(store: Arc<Store>, url: String, token: String) -> FfiResult<Arc<Self>> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(HomeVisitError::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: format!("`{}` is not a ws:// or wss:// URL", truncate(&url)),
            });
        }
        let inner = CoreClient::new(url, token, store.core().clone())?;
        Ok(Arc::new(Self { inner }))
    }

    /// One sync: uploads local changes, downloads the team's, reports progress. Records become
    /// `synced` only when the server acknowledged them. A revoked device gets `Revoked` and
    /// its local data is wiped.
    pub async fn sync(&self, progress: Arc<dyn SyncProgressObserver>) -> FfiResult<SyncSummary> {
        // What sync stores reaches the observers through the store's change events.
        let result = self
            .inner
            .sync(move |p| progress.on_progress(SyncProgress::from(p)))
            .await;
        Ok(result?.into())
    }
}
