//! Documents in memory: one async lock per (team, document), a bounded cache of loaded
//! documents, and the single place where received changes are checked and committed.
//!
//! A connection applies an incoming sync message or whole document to a *copy* of the cached
//! document; [`Documents::commit`] then checks scope, size and domain rules, writes the new
//! changes durably, and only then replaces the cached document. Anything the server later says
//! about the document (sync replies, `hv-ack`) therefore reflects committed state only.
//!
//! Loading, merging and saving documents run on tokio's blocking pool, a bounded number at
//! once ([`crate::blocking`]), never on the runtime's worker threads.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use automerge::{ActorId, AutoCommit, Automerge, Change, ChangeHash, ReadDoc, ROOT};
use chrono::Utc;
use homevisit_core::{model::risk::RiskAssessment, RecordId};
use tokio::sync::{broadcast, Mutex as AsyncMutex, OwnedMutexGuard};

use crate::{
    blocking::{Blocking, BlockingError},
    checks::{CheckContext, DomainCheck},
    metrics::Metrics,
    store::{
        ChangeReceipt, DeviceAuth, DocumentCommit, NewFlag, ServerStore, StoreError, StoreEvent,
        TeamId,
    },
    verify,
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
    /// The connection that caused it (it already knows); 0 for a commit made through another
    /// server instance.
    pub origin: u64,
    /// Notifications from other instances may have been missed: every connection re-offers
    /// every document it syncs (`document_id` is then meaningless).
    pub everything: bool,
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

impl Slot {
    /// Runs `f` with the slot's document on the blocking pool of `pool`. While it runs the
    /// slot counts as not loaded: if the caller stops waiting or `f` panics, the document is
    /// gone from the slot and its next user reloads it from storage.
    pub async fn with_doc<T, F>(
        &mut self,
        pool: &Blocking,
        what: &'static str,
        f: F,
    ) -> Result<T, BlockingError>
    where
        F: FnOnce(Option<&Automerge>) -> T + Send + 'static,
        T: Send + 'static,
    {
        let doc = self.doc.take();
        let loaded = std::mem::replace(&mut self.loaded, false);
        let (doc, out) = pool
            .run(what, move || {
                let out = f(doc.as_ref());
                (doc, out)
            })
            .await?;
        self.doc = doc;
        self.loaded = loaded;
        Ok(out)
    }
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
    /// The server could not write a rule-breach flag into the document; nothing was stored.
    #[error("could not record a flag: {0}")]
    Flag(String),
    /// Automerge work on the blocking pool did not complete; nothing was stored.
    #[error(transparent)]
    Blocking(#[from] BlockingError),
}

/// The document engine shared by all connections.
#[derive(Debug)]
pub struct Documents<S> {
    store: Arc<S>,
    slots: Mutex<SlotMap>,
    checks: Arc<Vec<Box<dyn DomainCheck>>>,
    max_document_bytes: u64,
    /// Loaded documents kept in memory; idle ones beyond this are dropped.
    cache_slots: usize,
    changes: broadcast::Sender<DocChanged>,
    metrics: Arc<Metrics>,
    /// Other server instances write the same storage: a cached document is checked against
    /// the stored sequence number before each use, and a stale one is reloaded.
    shared: bool,
    /// The automerge actor the server writes its `system` changes (flags) as.
    system_actor: ActorId,
    /// Where loading, merging and saving run.
    blocking: Arc<Blocking>,
}

/// A root string value (`None` if absent or not a string).
fn root_str(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key) {
        Ok(Some((v, _))) => v.as_str().map(str::to_owned),
        _ => None,
    }
}

/// A commit that found the document changed by another instance since it was loaded: the
/// received changes come back to be merged onto the stored document.
#[derive(Debug)]
struct Raced {
    candidate: Automerge,
    why: String,
}

/// How often a commit is tried when other instances keep committing the same document first
/// (a record many tablets edit at once, on several instances). Each retry waits a random
/// moment of up to [`RACE_BACKOFF_MS`] × the attempt number, so that two instances racing on
/// one document stop meeting in the same instant.
const COMMIT_ATTEMPTS: usize = 16;

/// The step of the random wait between retries of a raced commit, in milliseconds.
const RACE_BACKOFF_MS: u64 = 5;

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
    /// Checks the new changes with the core's rules as their true author (the uploader) and,
    /// when anything is flagged, writes the flags into the candidate as one `system` change
    /// (module `verify`). Flags the checks raise are added to `flags` for the server's table.
    /// The automerge work runs on the blocking pool; only the risk assessment's lookup (for
    /// `EQ-HOIST-RA`) runs here.
    async fn verify(
        &self,
        examined: Examined,
        uploader: &DeviceAuth,
        received_at: chrono::DateTime<Utc>,
    ) -> Result<Examined, DocError> {
        let Some(risk_assessment_id) = examined.verify else {
            return Ok(examined);
        };
        // The uploader's team: the namespace the document is committed in.
        let team_id = uploader.team_id;
        let risk_assessment = match risk_assessment_id {
            Some(ra) => self.risk_assessment(team_id, ra).await?,
            None => None,
        };
        let system_actor = self.system_actor.clone();
        let uploader = uploader.clone();
        self.blocking
            .run("checking the core's rules", move || {
                let mut examined = examined;
                let v = verify::Verify {
                    team_id,
                    uploader: &uploader,
                    received_at,
                    risk_assessment: risk_assessment.as_ref(),
                };
                apply_rules(&mut examined, system_actor, &v).map(|()| examined)
            })
            .await?
    }

    /// A team's risk assessment as committed, for `EQ-HOIST-RA`; `None` if the team does not
    /// have it or it does not read as one.
    async fn risk_assessment(
        &self,
        team_id: TeamId,
        id: RecordId,
    ) -> Result<Option<RiskAssessment>, DocError> {
        let Some(stored) = self.store.load_document(team_id, id).await? else {
            return Ok(None);
        };
        let chunks = stored.chunks;
        let json = self
            .blocking
            .run("loading a risk assessment", move || {
                let mut doc = AutoCommit::new();
                for chunk in &chunks {
                    doc.load_incremental(chunk).ok()?;
                }
                homevisit_core::doc::to_json(&doc).ok()
            })
            .await?;
        Ok(json.and_then(|j| serde_json::from_value(j).ok()))
    }

    /// A new engine over `store`.
    pub fn new(
        store: Arc<S>,
        checks: Vec<Box<dyn DomainCheck>>,
        max_document_bytes: u64,
        cache_slots: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let events = store.events();
        let shared = events.is_some();
        if let (Some(events), Ok(runtime)) = (events, tokio::runtime::Handle::try_current()) {
            runtime.spawn(forward_store_events(events, changes.clone()));
        }
        Self {
            store,
            slots: Mutex::new(HashMap::new()),
            checks: Arc::new(checks),
            max_document_bytes,
            cache_slots: cache_slots.max(1),
            changes,
            metrics,
            shared,
            system_actor: ActorId::random(),
            blocking: Arc::new(Blocking::new(Blocking::default_permits())),
        }
    }

    /// Where automerge work on this engine's documents runs (connections use it too).
    pub fn blocking(&self) -> &Blocking {
        &self.blocking
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
        if guard.loaded && self.shared {
            let stored = self.store.document_seq(team_id, document_id).await?;
            if stored != guard.seq {
                // Another instance committed since this copy was loaded.
                *guard = Slot::default();
            }
        }
        if !guard.loaded {
            self.load(&mut guard, team_id, document_id).await?;
        }
        Ok(guard)
    }

    /// Fills `slot` from storage (it stays empty if the team has no such document).
    async fn load(
        &self,
        slot: &mut Slot,
        team_id: TeamId,
        document_id: RecordId,
    ) -> Result<(), DocError> {
        *slot = Slot::default();
        if let Some(stored) = self.store.load_document(team_id, document_id).await? {
            let n_chunks = stored.chunks.len() as u64;
            let chunks = stored.chunks;
            let doc = self
                .blocking
                .run("loading a document", move || {
                    let mut doc = Automerge::new();
                    for chunk in &chunks {
                        doc.load_incremental(chunk).map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(doc)
                })
                .await?
                .map_err(|e| DocError::Corrupt(document_id, e))?;
            slot.doc = Some(doc);
            slot.seq = Some(stored.seq);
            slot.size = stored.size_bytes;
            slot.chunks = n_chunks;
        }
        slot.loaded = true;
        Ok(())
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
        mut candidate: Automerge,
    ) -> Result<Outcome, DocError> {
        let mut attempt = 1;
        loop {
            match self
                .commit_once(slot, team_id, document_id, uploader, origin, candidate)
                .await?
            {
                Ok(outcome) => return Ok(outcome),
                Err(Raced {
                    candidate: mut raced,
                    why,
                }) => {
                    if attempt >= COMMIT_ATTEMPTS {
                        return Err(DocError::Store(StoreError::Conflict(why)));
                    }
                    // Another instance committed this document first: start again from what
                    // is stored, with the received changes merged in. Nothing was written.
                    tracing::debug!(%document_id, attempt, %why, "commit raced another instance; retrying");
                    Metrics::add(&self.metrics.commit_races_total, 1);
                    let jitter = rand::random::<u64>() % (RACE_BACKOFF_MS * attempt as u64 + 1);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                    self.load(slot, team_id, document_id).await?;
                    candidate = slot
                        .with_doc(&self.blocking, "merging a raced commit", move |stored| {
                            match stored {
                                Some(stored) => {
                                    let mut merged = stored.clone();
                                    merged.merge(&mut raced).map(|_| merged)
                                }
                                None => Ok(raced),
                            }
                        })
                        .await?
                        .map_err(|e| DocError::Corrupt(document_id, e.to_string()))?;
                    attempt += 1;
                }
            }
        }
    }

    async fn commit_once(
        &self,
        slot: &mut Slot,
        team_id: TeamId,
        document_id: RecordId,
        uploader: &DeviceAuth,
        origin: u64,
        candidate: Automerge,
    ) -> Result<Result<Outcome, Raced>, DocError> {
        let before = slot.doc.as_ref().map(|d| d.get_heads()).unwrap_or_default();
        let after = candidate.get_heads();
        if after == before {
            // Changes whose dependencies have not arrived stay queued in memory only; the
            // sync protocol asks for the rest and they are committed once they apply.
            if slot.doc.is_some() {
                slot.doc = Some(candidate);
            }
            return Ok(Ok(Outcome::Unchanged));
        }
        // Everything about the new changes that needs the document, on the blocking pool.
        let examined = {
            let checks = Arc::clone(&self.checks);
            let uploader = uploader.clone();
            let before = before.clone();
            let first = slot.doc.is_none();
            self.blocking
                .run("examining new changes", move || {
                    examine(candidate, &before, team_id, &uploader, &checks, first)
                })
                .await?
        };
        let examined = match examined {
            Err(quarantined) => {
                let (candidate, reason) = *quarantined;
                let saved = self
                    .blocking
                    .run("saving a quarantined document", move || candidate.save())
                    .await?;
                self.store
                    .quarantine_document(team_id, document_id, saved, &reason)
                    .await?;
                tracing::warn!(%document_id, %team_id, device = %uploader.device_id, "quarantined a document claiming another team");
                return Ok(Ok(Outcome::Quarantined(reason)));
            }
            Ok(examined) => examined,
        };
        let received_at = Utc::now();
        let receipts: Vec<ChangeReceipt> = examined
            .new_changes
            .iter()
            .map(|c| ChangeReceipt {
                change_hash: c.hash(),
                document_id,
                device_id: uploader.device_id,
                user_id: uploader.user_id,
                received_at,
            })
            .collect();
        let Examined {
            candidate, flags, ..
        } = self.verify(examined, uploader, received_at).await?;
        let after = candidate.get_heads();

        let (first, size, chunks, max) = (
            slot.doc.is_none(),
            slot.size,
            slot.chunks,
            self.max_document_bytes,
        );
        let since = before.clone();
        let (candidate, chunk, compact) = self
            .blocking
            .run("saving a document", move || {
                let mut chunk = candidate.save_after(&since);
                let mut compact = first || chunks + 1 >= COMPACT_AFTER_CHUNKS;
                if !compact && size + chunk.len() as u64 > max {
                    // A full save is often far smaller than the sum of increments; try it
                    // first.
                    compact = true;
                }
                if compact {
                    chunk = candidate.save();
                }
                (candidate, chunk, compact)
            })
            .await?;
        let new_size = if compact {
            chunk.len() as u64
        } else {
            slot.size + chunk.len() as u64
        };
        if new_size > self.max_document_bytes {
            return Ok(Ok(Outcome::Rejected(format!(
                "document would be {new_size} bytes; the limit is {}",
                self.max_document_bytes
            ))));
        }
        let n_flags = flags.len() as u64;
        let committed = self
            .store
            .commit_document(DocumentCommit {
                team_id,
                document_id,
                expected_seq: slot.seq,
                chunk,
                compact,
                heads: after,
                flags,
                receipts,
            })
            .await;
        let seq = match committed {
            Ok(seq) => seq,
            Err(StoreError::Conflict(why)) => return Ok(Err(Raced { candidate, why })),
            Err(e) => return Err(e.into()),
        };
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
            everything: false,
        });
        Ok(Ok(Outcome::Committed { seq }))
    }
}

/// A candidate whose new changes have been examined: what the checks flagged so far and
/// whether the core's rules must look at it.
#[derive(Debug)]
struct Examined {
    candidate: Automerge,
    before: Vec<ChangeHash>,
    new_changes: Vec<Change>,
    flags: Vec<NewFlag>,
    /// `Some` when the core's rules must check the changes, with the risk assessment an
    /// equipment request names (for `EQ-HOIST-RA`).
    verify: Option<Option<RecordId>>,
}

/// Scope, domain checks and the flag-list check of the changes `candidate` adds to `before`
/// (CPU work: run on the blocking pool). A new document that does not claim the uploader's
/// team comes back as `Err` with the reason, to be quarantined.
fn examine(
    candidate: Automerge,
    before: &[ChangeHash],
    team_id: TeamId,
    uploader: &DeviceAuth,
    checks: &[Box<dyn DomainCheck>],
    first: bool,
) -> Result<Examined, Box<(Automerge, String)>> {
    let team = team_id.to_string();
    let claimed = root_team_ids(&candidate);
    let scope_ok = !claimed.is_empty() && claimed.iter().all(|t| *t == team);
    if first && !scope_ok {
        let reason = format!("the document's root team_id is {claimed:?}, not the uploader's team");
        return Err(Box::new((candidate, reason)));
    }

    let new_changes = candidate.get_changes(before);
    let mut flags: Vec<NewFlag> = Vec::new();
    if !scope_ok {
        // The changes that wrote `team_id` are to blame; the record shows the flag
        // (`SAF-WRONG-CHILD`: the envelope is immutable).
        let detail = format!("root team_id became {claimed:?}; the document stays in its team");
        let writers: Vec<ChangeHash> = new_changes
            .iter()
            .filter(|c| verify::writes_root_key(&candidate, c, "team_id"))
            .map(Change::hash)
            .collect();
        flags.push(NewFlag {
            rule_id: "scope-team-id".into(),
            change_hash: None,
            item: None,
            detail: detail.clone(),
        });
        for h in writers {
            flags.push(NewFlag {
                rule_id: "SAF-WRONG-CHILD".into(),
                change_hash: Some(h),
                item: None,
                detail: detail.clone(),
            });
        }
    }
    let ctx = CheckContext {
        team_id,
        uploader,
        document: &candidate,
        new_changes: &new_changes,
    };
    for check in checks {
        flags.extend(check.check(&ctx));
    }
    let schema = root_str(&candidate, "schema");
    let checked = matches!(
        schema.as_deref(),
        Some("homevisit/equipment_request" | "homevisit/assessment" | "homevisit/risk_assessment")
    );
    flags.extend(verify::flag_list_writes(&candidate, before, &new_changes));
    let mismatch = new_changes
        .iter()
        .any(|c| verify::attribution_mismatch(c, uploader).is_some());
    let named = flags.iter().any(|f| f.change_hash.is_some());
    let verify = (checked || mismatch || named).then(|| {
        root_str(&candidate, "risk_assessment_id")
            .filter(|_| schema.as_deref() == Some("homevisit/equipment_request"))
            .and_then(|s| uuid::Uuid::parse_str(&s).ok())
            .map(RecordId::from_uuid)
    });
    Ok(Examined {
        candidate,
        before: before.to_vec(),
        new_changes,
        flags,
        verify,
    })
}

/// The core's rules over the examined changes as their true author; flags they raise go to
/// `examined.flags`, and the record's flags are written into the candidate as one `system`
/// change (CPU work: run on the blocking pool).
fn apply_rules(
    examined: &mut Examined,
    system_actor: ActorId,
    v: &verify::Verify<'_>,
) -> Result<(), DocError> {
    let mut doc = match AutoCommit::load(&examined.candidate.save()) {
        Ok(d) => d.with_actor(system_actor),
        Err(e) => {
            tracing::error!(error = %e, "a committed candidate did not reload; not checked");
            return Ok(());
        }
    };
    let flags = verify::rule_flags(&mut doc, &examined.before, &examined.new_changes, v);
    examined.flags.extend(flags);
    let in_record = verify::record_flags(&examined.flags, v);
    if in_record.is_empty() {
        return Ok(());
    }
    let system = verify::system_actor(v.team_id);
    match homevisit_core::doc::record_flags(&mut doc, &system, v.received_at, &in_record) {
        Ok(written) if written.is_empty() => Ok(()),
        Ok(_) => {
            let change = doc
                .get_last_local_change()
                .ok_or_else(|| DocError::Flag("the flag change was not committed".into()))?;
            examined
                .candidate
                .apply_changes([change])
                .map_err(|e| DocError::Flag(e.to_string()))
        }
        Err(e) => Err(DocError::Flag(e.to_string())),
    }
}

/// Turns commits made through other instances into [`DocChanged`] events for this instance's
/// connections, until the storage or this engine goes away.
async fn forward_store_events(
    mut events: broadcast::Receiver<StoreEvent>,
    changes: broadcast::Sender<DocChanged>,
) {
    loop {
        let event = match events.recv().await {
            Ok(StoreEvent::DocumentCommitted {
                team_id,
                document_id,
                ..
            }) => DocChanged {
                team_id,
                document_id,
                origin: 0,
                everything: false,
            },
            Ok(StoreEvent::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => DocChanged {
                team_id: TeamId::nil(),
                document_id: RecordId::from_bytes([0; 16]),
                origin: 0,
                everything: true,
            },
            Err(broadcast::error::RecvError::Closed) => return,
        };
        // No connection listening is fine.
        let _ = changes.send(event);
    }
}
