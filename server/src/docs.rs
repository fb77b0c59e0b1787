//! Documents in memory: one async lock per (team, document), a bounded cache of loaded
//! documents, and the single place where received changes are checked and committed.
//!
//! A connection applies an incoming sync message or whole document to a *copy* of the cached
//! document; [`Documents::commit`] then checks scope, size and domain rules, writes the new
//! changes durably, and only then replaces the cached document. Anything the server later says
//! about the document (sync replies, `hv-ack`) therefore reflects committed state only.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use automerge::{Automerge, ReadDoc, ROOT};
use homevisit_core::RecordId;
use tokio::sync::{broadcast, Mutex as AsyncMutex, OwnedMutexGuard};

use crate::{
    checks::{CheckContext, DomainCheck},
    metrics::Metrics,
    store::{DeviceAuth, DocumentCommit, NewFlag, ServerStore, StoreError, TeamId},
};

/// Incremental chunks after which a commit writes a full save instead (compaction).
const COMPACT_AFTER_CHUNKS: u64 = 64;

/// A document changed durably (sent to every connection so it can push the change on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocChanged {
    /// The team.
    pub team_id: TeamId,
    /// The document.
    pub document_id: RecordId,
    /// The connection that caused it (it already knows).
    pub origin: u64,
}

/// One document's in-memory state, held under its lock.
#[derive(Debug, Default)]
pub struct Slot {
    loaded: bool,
    /// The committed document; `None` if this team has no such document.
    pub doc: Option<Automerge>,
    seq: Option<u64>,
    size: u64,
    chunks: u64,
}

/// Per-(team, document) slots.
type SlotMap = HashMap<(TeamId, RecordId), Arc<AsyncMutex<Slot>>>;

/// What became of received changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new to store.
    Unchanged,
    /// Stored durably under this team sequence number.
    Committed {
        /// The team sequence number of the commit.
        seq: u64,
    },
    /// Refused (too large); nothing stored, the connection goes on.
    Rejected(String),
    /// A new document that does not claim the caller's team: kept out of every namespace.
    Quarantined(String),
}

/// Errors the document engine reports to the connection.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Storage failed; nothing was acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored bytes do not load.
    #[error("stored document {0} does not load: {1}")]
    Corrupt(RecordId, String),
}

/// The document engine shared by all connections.
#[derive(Debug)]
pub struct Documents<S> {
    store: Arc<S>,
    slots: Mutex<SlotMap>,
    checks: Vec<Box<dyn DomainCheck>>,
    max_document_bytes: u64,
    /// Loaded documents kept in memory; idle ones beyond this are dropped.
    cache_slots: usize,
    changes: broadcast::Sender<DocChanged>,
    metrics: Arc<Metrics>,
}

/// The root `team_id` values of a document (several if concurrently set), each read as a
/// scalar string or a text object (stock automerge 3 clients write strings as text; see
/// docs/DOCUMENT-LAYOUT.md). Anything else reads as empty, which no team matches.
pub fn root_team_ids(doc: &Automerge) -> Vec<String> {
    doc.get_all(ROOT, "team_id")
        .map(|vals| {
            vals.into_iter()
                .map(|(v, id)| homevisit_core::doc::string_value(doc, &v, &id).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

impl<S: ServerStore> Documents<S> {
    /// A new engine over `store`.
    pub fn new(
        store: Arc<S>,
        checks: Vec<Box<dyn DomainCheck>>,
        max_document_bytes: u64,
        cache_slots: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (changes, _) = broadcast::channel(1024);
        Self {
            store,
            slots: Mutex::new(HashMap::new()),
            checks,
            max_document_bytes,
            cache_slots: cache_slots.max(1),
            changes,
            metrics,
        }
    }

    /// Subscribes to durable document changes.
    pub fn subscribe(&self) -> broadcast::Receiver<DocChanged> {
        self.changes.subscribe()
    }

    /// The storage behind the engine.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Locks a team's document, loading it on first use.
    pub async fn lock(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> Result<OwnedMutexGuard<Slot>, DocError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= self.cache_slots {
                // Only slots nobody holds (the map's is the only reference) are dropped.
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            Arc::clone(slots.entry((team_id, document_id)).or_default())
        };
        let mut guard = slot.lock_owned().await;
        if !guard.loaded {
            if let Some(stored) = self.store.load_document(team_id, document_id).await? {
                let mut doc = Automerge::new();
                for chunk in &stored.chunks {
                    doc.load_incremental(chunk)
                        .map_err(|e| DocError::Corrupt(document_id, e.to_string()))?;
                }
                guard.doc = Some(doc);
                guard.seq = Some(stored.seq);
                guard.size = stored.size_bytes;
                guard.chunks = stored.chunks.len() as u64;
            }
            guard.loaded = true;
        }
        Ok(guard)
    }

    /// Checks and durably stores whatever `candidate` (the slot's document plus received
    /// changes) adds, then makes it the slot's document. On `Rejected`/`Quarantined` the slot
    /// is left as it was.
    pub async fn commit(
        &self,
        slot: &mut Slot,
        team_id: TeamId,
        document_id: RecordId,
        uploader: &DeviceAuth,
        origin: u64,
        candidate: Automerge,
    ) -> Result<Outcome, DocError> {
        let before = slot.doc.as_ref().map(|d| d.get_heads()).unwrap_or_default();
        let after = candidate.get_heads();
        if after == before {
            // Changes whose dependencies have not arrived stay queued in memory only; the
            // sync protocol asks for the rest and they are committed once they apply.
            if slot.doc.is_some() {
                slot.doc = Some(candidate);
            }
            return Ok(Outcome::Unchanged);
        }
        let team = team_id.to_string();
        let claimed = root_team_ids(&candidate);
        let scope_ok = !claimed.is_empty() && claimed.iter().all(|t| *t == team);
        if slot.doc.is_none() && !scope_ok {
            let reason =
                format!("the document's root team_id is {claimed:?}, not the uploader's team");
            self.store
                .quarantine_document(team_id, document_id, candidate.save(), &reason)
                .await?;
            tracing::warn!(%document_id, %team_id, device = %uploader.device_id, "quarantined a document claiming another team");
            return Ok(Outcome::Quarantined(reason));
        }

        let new_changes = candidate.get_changes(&before);
        let mut flags: Vec<NewFlag> = Vec::new();
        if !scope_ok {
            flags.push(NewFlag {
                rule_id: "scope-team-id".into(),
                change_hash: None,
                detail: format!("root team_id became {claimed:?}; the document stays in its team"),
            });
        }
        let ctx = CheckContext {
            team_id,
            uploader,
            document: &candidate,
            new_changes: &new_changes,
        };
        for check in &self.checks {
            flags.extend(check.check(&ctx));
        }

        let mut chunk = candidate.save_after(&before);
        let mut compact = slot.doc.is_none() || slot.chunks + 1 >= COMPACT_AFTER_CHUNKS;
        if !compact && slot.size + chunk.len() as u64 > self.max_document_bytes {
            // A full save is often far smaller than the sum of increments; try it first.
            compact = true;
        }
        if compact {
            chunk = candidate.save();
        }
        let new_size = if compact {
            chunk.len() as u64
        } else {
            slot.size + chunk.len() as u64
        };
        if new_size > self.max_document_bytes {
            return Ok(Outcome::Rejected(format!(
                "document would be {new_size} bytes; the limit is {}",
                self.max_document_bytes
            )));
        }
        let n_flags = flags.len() as u64;
        let seq = self
            .store
            .commit_document(DocumentCommit {
                team_id,
                document_id,
                expected_seq: slot.seq,
                chunk,
                compact,
                heads: after,
                flags,
            })
            .await?;
        slot.doc = Some(candidate);
        slot.seq = Some(seq);
        slot.size = new_size;
        slot.chunks = if compact { 1 } else { slot.chunks + 1 };
        Metrics::add(&self.metrics.docs_synced_total, 1);
        Metrics::add(&self.metrics.flags_total, n_flags);
        // Nobody listening is fine: there are no other connections.
        let _ = self.changes.send(DocChanged {
            team_id,
            document_id,
            origin,
        });
        Ok(Outcome::Committed { seq })
    }
}
