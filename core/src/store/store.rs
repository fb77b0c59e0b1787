//! The [`Store`]: one writer connection behind a mutex, a few reader connections, the document
//! cache, and every operation that changes a record done as one SQLite transaction holding the
//! record's new change bytes, its projection rows and its sync status.
//!
//! Invariants (what "nothing typed is ever lost" rests on):
//! - A cached document equals what is committed on disk whenever its lock is free. An edit
//!   mutates the cached document, then commits; if anything fails the entry is marked stale and
//!   dropped, so the unsaved change is never seen again and nothing half-written remains.
//! - Only the writer (under its mutex) changes documents on disk. While it does, a sequence
//!   counter is odd; a reader that loaded a document while the counter moved does not cache
//!   that copy (it may predate the write), so the cache never holds an old version.
//! - Opening loads no document; list screens read projections only.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, PoisonError, RwLock,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use automerge::{
    sync, sync::SyncDoc, transaction::Transactable, AutoCommit, ChangeHash, LoadOptions,
    OnPartialLoad,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, InterruptHandle, OptionalExtension};
use uuid::Uuid;

use super::events::{ChangeEvent, ChangeOrigin, ChangeSubscription, Publisher};
use super::{
    audit::{self, LoggedAudit},
    blobs,
    cache::{CacheStats, CachedDoc, DocCache, DocHandle},
    db::{self, Encryption, Mode, Role, SqlResult, StoreKey},
    projection::{self, Projection},
    query::{self, CaseloadEntry, RecordSummary},
    schema,
    sync_state::{self, SyncRow, SyncStatus},
};
use crate::{
    doc,
    error::{Error, Result, StoreFileProblem},
    ids::RecordId,
    model::common::Schema,
    rules::record_keeping::AuditEntry,
    sync::{
        local::LocalDocs,
        opcount::{self, CostError, DocumentCost, DocumentLimits},
        orphans::Orphans,
    },
};

/// When a document's increments are folded into a new snapshot (docs/adr/0004).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Compact once a document has this many increments since its snapshot.
    pub max_chunks: u32,
    /// …or once its increments add up to at least the snapshot's size and this many bytes.
    pub min_chunk_bytes: u64,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        Self {
            max_chunks: 100,
            min_chunk_bytes: 64 * 1024,
        }
    }
}

impl CompactionPolicy {
    /// Whether a document with these increments should be compacted now.
    pub fn is_due(&self, chunk_count: u64, chunk_bytes: u64, snapshot_bytes: u64) -> bool {
        chunk_count >= u64::from(self.max_chunks.max(1))
            || chunk_bytes >= self.min_chunk_bytes.max(snapshot_bytes)
    }
}

/// Tuning of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Documents kept loaded (least recently used leave first).
    pub cache_capacity: usize,
    /// Reader connections for queries and loads.
    pub readers: usize,
    /// When to compact a document.
    pub compaction: CompactionPolicy,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            cache_capacity: 64,
            readers: 2,
            compaction: CompactionPolicy::default(),
        }
    }
}

/// Cancels the store's running queries (e.g. when the app goes to the background). A query
/// that is cancelled fails with [`Error::Interrupted`]; the writer is never interrupted, so a
/// save is never cut short.
#[derive(Clone)]
pub struct StoreInterruptHandle {
    handles: Arc<Vec<InterruptHandle>>,
}

impl std::fmt::Debug for StoreInterruptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreInterruptHandle")
            .field("readers", &self.handles.len())
            .finish()
    }
}

impl StoreInterruptHandle {
    /// Interrupts every query running on the store's reader connections now.
    pub fn interrupt(&self) {
        for h in self.handles.iter() {
            h.interrupt();
        }
    }
}

/// What [`Store::rebuild_projections`] did.
#[derive(Debug, Default)]
pub struct RebuildReport {
    /// Records whose projection was recomputed from their document.
    pub rebuilt: usize,
    /// Records whose document could not be decoded, each as [`Error::Corrupt`] naming it; they
    /// stay listed as damaged and are kept for recovery.
    pub corrupt: Vec<Error>,
}

/// Storage figures of one record, for compaction tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentStorage {
    /// Bytes of the snapshot.
    pub snapshot_bytes: u64,
    /// Increments written since the snapshot.
    pub chunk_count: u64,
    /// Their bytes.
    pub chunk_bytes: u64,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    interrupt: StoreInterruptHandle,
    cache: Mutex<DocCache>,
    /// Odd while the writer is changing documents (see the module documentation).
    write_seq: AtomicU64,
    loads: AtomicU64,
    options: StoreOptions,
    /// Changes received by sync before the changes they depend on: kept apart from the
    /// document cache, which may drop the document (and automerge's queue with it) before the
    /// rest arrives (`crate::sync::orphans`).
    orphans: Mutex<Orphans>,
}

/// Most bytes of received changes kept waiting for their dependencies.
const ORPHAN_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// The encrypted, crash-safe local store of record documents.
pub struct Store {
    inner: RwLock<Option<Arc<Inner>>>,
    /// Change events (`events`): outlives a close, so subscriptions end only when dropped.
    events: Arc<Publisher>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let guard = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(i) => f
                .debug_struct("Store")
                .field("path", &i.path)
                .field("cache", &lock(&i.cache).stats())
                .finish(),
            None => f.write_str("Store(closed)"),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves no open transaction (rusqlite rolls back on
    // drop), and the cache map itself is always consistent: recovering is safe.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Decodes snapshot + increments strictly: a damaged or truncated chunk, or changes whose
/// dependencies are missing, is `Corrupt` naming the record (automerge's own incremental load
/// would silently skip a damaged tail).
pub(crate) fn decode_document(id: RecordId, bytes: &[u8]) -> Result<AutoCommit> {
    let corrupt = |detail: String| Error::Corrupt {
        record: Some(id),
        detail,
    };
    crate::sync::guard::check_chunks(bytes).map_err(&corrupt)?;
    let mut doc = crate::sync::guard::guarded("a document", || {
        AutoCommit::load_with_options(
            bytes,
            LoadOptions::new().on_partial_load(OnPartialLoad::Error),
        )
    })
    .map_err(&corrupt)?
    .map_err(|e| corrupt(format!("the document cannot be decoded: {e}")))?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(corrupt(
            "the document has changes whose history is missing".into(),
        ));
    }
    Ok(doc)
}

/// Reads a record's snapshot and increments (in one read transaction, so a concurrent
/// compaction is seen whole or not at all) and decodes them.
fn load_document(conn: &Connection, id: RecordId) -> Result<Option<AutoCommit>> {
    // Inside a caller's transaction (rebuild) that one already gives the consistency.
    let tx = if conn.is_autocommit() {
        Some(conn.unchecked_transaction().sql()?)
    } else {
        None
    };
    let key = id.to_string();
    let snapshot: Option<Vec<u8>> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE id = ?1",
            [&key],
            |r| r.get(0),
        )
        .optional()
        .sql()?;
    let Some(mut bytes) = snapshot else {
        return Ok(None);
    };
    {
        let mut stmt = conn
            .prepare("SELECT bytes FROM chunks WHERE record_id = ?1 ORDER BY seq")
            .sql()?;
        let mut rows = stmt.query([&key]).sql()?;
        while let Some(row) = rows.next().sql()? {
            let chunk = row.get_ref(0).sql()?;
            bytes.extend_from_slice(chunk.as_blob().map_err(|e| Error::Corrupt {
                record: Some(id),
                detail: format!("a change chunk is not a blob: {e}"),
            })?);
        }
    }
    drop(tx);
    decode_document(id, &bytes).map(Some)
}

fn insert_document(
    tx: &Connection,
    id: RecordId,
    snapshot: &[u8],
    heads: &[ChangeHash],
) -> Result<()> {
    let now = now_ms();
    tx.execute(
        "INSERT INTO documents(id, snapshot, snapshot_bytes, chunk_count, chunk_bytes, heads,
                               created_ms, updated_ms)
         VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, ?5)",
        params![
            id.to_string(),
            snapshot,
            snapshot.len() as i64,
            sync_state::encode_heads(heads),
            now
        ],
    )
    .sql()?;
    Ok(())
}

/// Appends one increment; returns the document's storage figures after it.
fn append_chunk(
    tx: &Connection,
    id: RecordId,
    bytes: &[u8],
    heads: &[ChangeHash],
) -> Result<DocumentStorage> {
    let key = id.to_string();
    tx.execute(
        "INSERT INTO chunks(record_id, bytes) VALUES (?1, ?2)",
        params![key, bytes],
    )
    .sql()?;
    tx.query_row(
        "UPDATE documents SET chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + ?2,
                              heads = ?3, updated_ms = ?4
         WHERE id = ?1
         RETURNING snapshot_bytes, chunk_count, chunk_bytes",
        params![
            key,
            bytes.len() as i64,
            sync_state::encode_heads(heads),
            now_ms()
        ],
        |r| {
            Ok(DocumentStorage {
                snapshot_bytes: r.get::<_, i64>(0)?.max(0) as u64,
                chunk_count: r.get::<_, i64>(1)?.max(0) as u64,
                chunk_bytes: r.get::<_, i64>(2)?.max(0) as u64,
            })
        },
    )
    .sql()
}

/// Marks a writer's period of changing documents (the counter is odd while it lives).
struct WriteEpoch<'a>(&'a AtomicU64);

impl<'a> WriteEpoch<'a> {
    fn begin(seq: &'a AtomicU64) -> Self {
        seq.fetch_add(1, Ordering::SeqCst);
        Self(seq)
    }
}

impl Drop for WriteEpoch<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Inner {
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        for r in &self.readers {
            if let Ok(conn) = r.try_lock() {
                return f(&conn);
            }
        }
        let n = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len().max(1);
        match self.readers.get(n) {
            Some(r) => f(&lock(r)),
            None => Err(Error::Internal("the store has no reader connection".into())),
        }
    }

    /// Drops a cache entry that may hold something not on disk.
    fn discard(&self, id: RecordId, cached: &mut CachedDoc) {
        cached.stale = true;
        lock(&self.cache).remove(id);
    }

    /// Discards the document if `f` left it different from what is saved.
    fn discard_if_changed(&self, id: RecordId, cached: &mut CachedDoc) {
        let pending = cached.doc.rollback() > 0;
        if pending || cached.doc.get_heads() != cached.saved_heads {
            self.discard(id, cached);
        }
    }

    /// Runs a mutation on a locked document. If it fails, or leaves operations uncommitted
    /// (unattributed, `RK-ATTRIB`), whatever it did is discarded so nothing unsaved lingers in
    /// the cache.
    fn mutate_locked<T>(
        &self,
        id: RecordId,
        cached: &mut CachedDoc,
        f: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        let out = match f(&mut cached.doc) {
            Ok(v) => v,
            Err(e) => {
                self.discard_if_changed(id, cached);
                return Err(e);
            }
        };
        if cached.doc.pending_ops() > 0 {
            self.discard_if_changed(id, cached);
            return Err(refuse_unattributed());
        }
        Ok(out)
    }

    /// Locks a handle; `None` when it is stale (or was poisoned by a panic mid-change).
    fn lock_doc<'h>(
        &self,
        id: RecordId,
        handle: &'h DocHandle,
    ) -> Option<MutexGuard<'h, CachedDoc>> {
        match handle.lock() {
            Ok(g) if !g.stale => Some(g),
            Ok(_) => None,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                self.discard(id, &mut g);
                None
            }
        }
    }

    /// The cached document for the writer (which holds `conn`, the writer connection).
    fn writer_doc(&self, conn: &Connection, id: RecordId) -> Result<DocHandle> {
        loop {
            let cached = lock(&self.cache).get(id);
            let handle = match cached {
                Some(h) => h,
                None => {
                    let doc = load_document(conn, id)?.ok_or(Error::NotFound(id))?;
                    self.loads.fetch_add(1, Ordering::Relaxed);
                    lock(&self.cache).insert_if_absent(id, CachedDoc::new(doc))
                }
            };
            if self.lock_doc(id, &handle).is_some() {
                return Ok(handle);
            }
        }
    }

    /// The document for a reader: cached, or loaded through a reader connection.
    fn reader_doc(&self, id: RecordId) -> Result<DocHandle> {
        if let Some(h) = lock(&self.cache).get(id) {
            return Ok(h);
        }
        let before = self.write_seq.load(Ordering::SeqCst);
        let doc = self
            .with_reader(|conn| load_document(conn, id))?
            .ok_or(Error::NotFound(id))?;
        self.loads.fetch_add(1, Ordering::Relaxed);
        let mut cache = lock(&self.cache);
        if before.is_multiple_of(2) && self.write_seq.load(Ordering::SeqCst) == before {
            Ok(cache.insert_if_absent(id, CachedDoc::new(doc)))
        } else {
            // A write overlapped the load: this copy is a consistent committed state, good for
            // this read, but it may already be older than the disk, so it is not cached.
            Ok(Arc::new(Mutex::new(CachedDoc::new(doc))))
        }
    }

    fn maybe_compact(
        &self,
        conn: &mut Connection,
        id: RecordId,
        cached: &mut CachedDoc,
        storage: DocumentStorage,
    ) {
        if !self.options.compaction.is_due(
            storage.chunk_count,
            storage.chunk_bytes,
            storage.snapshot_bytes,
        ) {
            return;
        }
        // The edit is already durable; a failed compaction only postpones the next one.
        if let Err(e) = compact_with(conn, id, &mut cached.doc) {
            tracing::warn!(record = %id, error = %e, "compaction failed; will retry later");
        }
    }
}

/// Folds a document's increments into a new snapshot, in one transaction. The document's
/// content and heads do not change.
fn compact_with(conn: &mut Connection, id: RecordId, doc: &mut AutoCommit) -> Result<()> {
    let snapshot = doc.save();
    let tx = conn.transaction().sql()?;
    let key = id.to_string();
    tx.execute(
        "UPDATE documents SET snapshot = ?2, snapshot_bytes = ?3, chunk_count = 0,
                              chunk_bytes = 0
         WHERE id = ?1",
        params![key, snapshot, snapshot.len() as i64],
    )
    .sql()?;
    tx.execute("DELETE FROM chunks WHERE record_id = ?1", [&key])
        .sql()?;
    tx.commit().sql()
}

fn read_sync_row_or(tx: &Connection, id: RecordId, default: SyncStatus) -> Result<SyncRow> {
    Ok(sync_state::read_row(tx, id)?.unwrap_or(SyncRow {
        status: default,
        acked_heads: None,
    }))
}

fn conflict_count(conn: &Connection, id: RecordId) -> Result<usize> {
    let n: Option<i64> = conn
        .query_row(
            "SELECT conflict_count FROM records WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()
        .sql()?;
    Ok(n.unwrap_or(0).max(0) as usize)
}

fn refuse_unattributed() -> Error {
    Error::Internal(
        "[RK-ATTRIB] the change left uncommitted, unattributed operations; nothing was saved"
            .into(),
    )
}

fn check_document_id(id: RecordId, doc: &AutoCommit) -> Result<()> {
    match doc::record_id(doc) {
        Ok(inside) if inside != id => Err(Error::InvalidId(format!(
            "the document says it is record {inside}, not {id}"
        ))),
        _ => Ok(()),
    }
}

fn store_file(problem: StoreFileProblem, path: &Path) -> Error {
    Error::StoreFile {
        problem,
        path: path.display().to_string(),
    }
}

/// What a failed `stat` or `open` of the store path means for the app.
fn io_problem(e: &std::io::Error) -> StoreFileProblem {
    match e.kind() {
        std::io::ErrorKind::NotFound => StoreFileProblem::Missing,
        std::io::ErrorKind::IsADirectory => StoreFileProblem::NotAFile,
        _ => StoreFileProblem::Unreadable,
    }
}

/// An existing store: a readable regular file that is not empty (or whose write-ahead log
/// holds what a crash left before the first checkpoint).
fn check_existing(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| store_file(io_problem(&e), path))?;
    if !meta.is_file() {
        return Err(store_file(StoreFileProblem::NotAFile, path));
    }
    std::fs::File::open(path).map_err(|e| store_file(io_problem(&e), path))?;
    let wal_len = std::fs::metadata(db::wal_path(path))
        .map(|m| m.len())
        .unwrap_or(0);
    if meta.len() == 0 && wal_len == 0 {
        return Err(store_file(StoreFileProblem::Empty, path));
    }
    Ok(())
}

/// A new store: nothing at the path yet, or an empty file with no write-ahead log (nothing
/// to lose); its folder must exist.
fn check_new(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(store_file(StoreFileProblem::NotAFile, path)),
        Ok(meta) if !meta.is_file() || meta.len() > 0 || db::wal_path(path).exists() => {
            return Err(store_file(StoreFileProblem::AlreadyExists, path))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(store_file(io_problem(&e), path)),
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(store_file(StoreFileProblem::Unreadable, path)),
        Err(e) => Err(store_file(io_problem(&e), path)),
    }
}

/// SQLite's "cannot open" after the checks above (a race, permissions) as a typed file error.
fn file_error(path: &Path, e: Error) -> Error {
    match e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied
            ) =>
        {
            store_file(StoreFileProblem::Unreadable, path)
        }
        other => other,
    }
}

impl Store {
    /// Opens the existing encrypted store at `path` with the app's key.
    ///
    /// A key that does not open the file is [`Error::WrongKey`], and the file (with its
    /// write-ahead log, even one a crash left behind) is left byte for byte as it was. A
    /// missing or empty (0-byte) file, a directory or an unreadable path is
    /// [`Error::StoreFile`]: opening never creates a new, empty store where one was expected
    /// (use [`Store::create_new`] at set-up). Opening runs pending migrations but loads no
    /// document.
    pub fn open(path: impl AsRef<Path>, key: StoreKey) -> Result<Self> {
        Self::open_with(path, Encryption::Key(key), StoreOptions::default())
    }

    /// Creates a new encrypted store at `path` (set-up, first enrolment). Refused with
    /// [`Error::StoreFile`] (`AlreadyExists`) when a store or any other data is already there,
    /// so set-up never overwrites a store holding unsynced work.
    pub fn create_new(path: impl AsRef<Path>, key: StoreKey) -> Result<Self> {
        Self::create_new_with(path, Encryption::Key(key), StoreOptions::default())
    }

    /// Opens an existing *unencrypted* store: for tests and the demo only, never for clinical
    /// data.
    pub fn open_plain_for_tests_and_demo(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(
            path,
            Encryption::PlainForTestsAndDemo,
            StoreOptions::default(),
        )
    }

    /// Creates a new *unencrypted* store: for tests and the demo only, never for clinical
    /// data.
    pub fn create_new_plain_for_tests_and_demo(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_new_with(
            path,
            Encryption::PlainForTestsAndDemo,
            StoreOptions::default(),
        )
    }

    /// Opens an existing store with explicit encryption choice and tuning (see [`Store::open`]).
    pub fn open_with(
        path: impl AsRef<Path>,
        encryption: Encryption,
        options: StoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        check_existing(&path)?;
        Self::connect(path, encryption, options, Mode::Existing)
    }

    /// Creates a new store with explicit encryption choice and tuning (see
    /// [`Store::create_new`]).
    pub fn create_new_with(
        path: impl AsRef<Path>,
        encryption: Encryption,
        options: StoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        check_new(&path)?;
        Self::connect(path, encryption, options, Mode::New)
    }

    fn connect(
        path: PathBuf,
        encryption: Encryption,
        options: StoreOptions,
        mode: Mode,
    ) -> Result<Self> {
        let mut writer = db::open_connection(&path, &encryption, Role::Writer, mode)
            .map_err(|e| file_error(&path, e))?;
        schema::migrate(&mut writer)?;
        let readers = (0..options.readers.max(1))
            .map(|_| db::open_connection(&path, &encryption, Role::Reader, Mode::Existing))
            .collect::<Result<Vec<_>>>()?;
        let interrupt = StoreInterruptHandle {
            handles: Arc::new(
                readers
                    .iter()
                    .map(Connection::get_interrupt_handle)
                    .collect(),
            ),
        };
        let inner = Inner {
            path,
            writer: Mutex::new(writer),
            readers: readers.into_iter().map(Mutex::new).collect(),
            next_reader: AtomicUsize::new(0),
            interrupt,
            cache: Mutex::new(DocCache::new(options.cache_capacity)),
            write_seq: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            options,
            orphans: Mutex::new(Orphans::new(ORPHAN_LIMIT_BYTES)),
        };
        Ok(Self {
            inner: RwLock::new(Some(Arc::new(inner))),
            events: Arc::default(),
        })
    }

    fn inner(&self) -> Result<Arc<Inner>> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Arc::clone)
            .ok_or(Error::DatabaseClosed)
    }

    /// Closes the store: every later call answers [`Error::DatabaseClosed`]. Operations already
    /// running finish first; the connections close when the last of them ends.
    pub fn close(&self) -> Result<()> {
        let taken = self
            .inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(inner) = taken {
            if let Ok(inner) = Arc::try_unwrap(inner) {
                let writer = inner
                    .writer
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                drop(inner.readers);
                // Closing the last connection checkpoints the WAL into the main file.
                writer.close().map_err(|(_, e)| db::sql_error(e))?;
            }
        }
        Ok(())
    }

    /// The file this store lives in.
    pub fn path(&self) -> Result<PathBuf> {
        Ok(self.inner()?.path.clone())
    }

    /// A handle that cancels running queries from another thread.
    pub fn interrupt_handle(&self) -> Result<StoreInterruptHandle> {
        Ok(self.inner()?.interrupt.clone())
    }

    // -- change events ----------------------------------------------------------------------

    /// Calls `callback` after every commit that changed a record, with the record and why it
    /// changed (`events`), until the returned subscription is dropped. It is called on the
    /// committing thread with no store lock held: hand the event on and return.
    pub fn subscribe(
        &self,
        callback: impl Fn(&ChangeEvent) + Send + Sync + 'static,
    ) -> ChangeSubscription {
        self.events.subscribe(callback)
    }

    /// How many subscriptions are live (tests and diagnostics).
    pub fn subscriber_count(&self) -> usize {
        self.events.count()
    }

    // -- documents ------------------------------------------------------------------------------

    /// Stores a new record's document (its first snapshot), projection and status `LocalOnly`,
    /// in one transaction. The document must carry no uncommitted operations (`RK-ATTRIB`).
    pub fn create(&self, id: RecordId, doc: AutoCommit) -> Result<()> {
        self.create_unpublished(id, doc)?;
        self.events.publish(Some(id), ChangeOrigin::Local);
        Ok(())
    }

    fn create_unpublished(&self, id: RecordId, mut doc: AutoCommit) -> Result<()> {
        if doc.pending_ops() > 0 {
            return Err(refuse_unattributed());
        }
        check_document_id(id, &doc)?;
        let projection = projection::project(id, &mut doc)?;
        let snapshot = doc.save();
        let heads = doc.get_heads();
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        let tx = conn.transaction().sql()?;
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM documents WHERE id = ?1)",
                [id.to_string()],
                |r| r.get(0),
            )
            .sql()?;
        if exists {
            return Err(Error::InvalidId(format!("record {id} already exists")));
        }
        let row = SyncRow {
            status: SyncStatus::LocalOnly,
            acked_heads: None,
        };
        insert_document(&tx, id, &snapshot, &heads)?;
        projection::write(&tx, &projection, row.status)?;
        sync_state::write_row(&tx, id, &row)?;
        tx.commit().sql()?;
        lock(&inner.cache).insert_if_absent(id, CachedDoc::new(doc));
        Ok(())
    }

    /// Stores many new records in one transaction (an import, a first download, a test
    /// fixture): all of them or none. Each is as [`Store::create`] would store it.
    pub fn create_batch(&self, docs: Vec<(RecordId, AutoCommit)>) -> Result<()> {
        let ids: Vec<RecordId> = docs.iter().map(|(id, _)| *id).collect();
        self.create_batch_unpublished(docs)?;
        for id in ids {
            self.events.publish(Some(id), ChangeOrigin::Local);
        }
        Ok(())
    }

    fn create_batch_unpublished(&self, docs: Vec<(RecordId, AutoCommit)>) -> Result<()> {
        let mut prepared = Vec::with_capacity(docs.len());
        for (id, mut doc) in docs {
            if doc.pending_ops() > 0 {
                return Err(refuse_unattributed());
            }
            check_document_id(id, &doc)?;
            let projection = projection::project(id, &mut doc)?;
            let snapshot = doc.save();
            let heads = doc.get_heads();
            prepared.push((id, projection, snapshot, heads));
        }
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        let tx = conn.transaction().sql()?;
        let row = SyncRow {
            status: SyncStatus::LocalOnly,
            acked_heads: None,
        };
        for (id, projection, snapshot, heads) in &prepared {
            insert_document(&tx, *id, snapshot, heads).map_err(|e| match e {
                Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::InvalidId(format!("record {id} already exists"))
                }
                other => other,
            })?;
            projection::write(&tx, projection, row.status)?;
            sync_state::write_row(&tx, *id, &row)?;
        }
        tx.commit().sql()?;
        Ok(())
    }

    /// Changes a record: `f` mutates the document (through the `doc` layer's attributed
    /// setters); its new changes, the projection and the sync status are then saved in one
    /// transaction before `edit` returns. If `f` fails, or saving fails (e.g.
    /// [`Error::DiskFull`]), nothing of the change remains, on disk or in memory.
    ///
    /// Edits are serialised (one writer). `f` must not call back into the store for the same
    /// record: the record is locked while `f` runs.
    pub fn edit<T>(&self, id: RecordId, f: impl FnOnce(&mut AutoCommit) -> Result<T>) -> Result<T> {
        let (out, changed) = self.edit_unpublished(id, f)?;
        if changed {
            self.events.publish(Some(id), ChangeOrigin::Local);
        }
        Ok(out)
    }

    /// [`Store::edit`]; also says whether anything was saved.
    fn edit_unpublished<T>(
        &self,
        id: RecordId,
        f: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<(T, bool)> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        let handle = inner.writer_doc(&conn, id)?;
        let Some(mut cached) = inner.lock_doc(id, &handle) else {
            return Err(Error::Internal(
                "the document changed while it was being opened".into(),
            ));
        };
        let out = inner.mutate_locked(id, &mut cached, f)?;
        let saved = save_changes(
            &mut conn,
            id,
            &mut cached,
            |prev, _, _| sync_state::after_local_edit(prev),
            None,
        );
        match saved {
            Ok(Some(storage)) => {
                inner.maybe_compact(&mut conn, id, &mut cached, storage);
                Ok((out, true))
            }
            Ok(None) => Ok((out, false)),
            Err(e) => {
                inner.discard(id, &mut cached);
                Err(e)
            }
        }
    }

    /// [`Store::edit`] that also stores photo bytes: `f` changes the document and returns the
    /// metadata item's id, and `blobs` (deduplicated by hash) with the item's references to
    /// them are written in the same transaction as the change. A crash or a failure leaves
    /// the whole photo (document item and bytes) or nothing.
    pub fn edit_with_blobs<T>(
        &self,
        id: RecordId,
        blobs: &[blobs::NewBlob],
        f: impl FnOnce(&mut AutoCommit) -> Result<(T, String)>,
    ) -> Result<T> {
        let inner = self.inner()?;
        let (out, changed) = {
            let mut conn = lock(&inner.writer);
            let _epoch = WriteEpoch::begin(&inner.write_seq);
            let handle = inner.writer_doc(&conn, id)?;
            let Some(mut cached) = inner.lock_doc(id, &handle) else {
                return Err(Error::Internal(
                    "the document changed while it was being opened".into(),
                ));
            };
            let (out, item_id) = inner.mutate_locked(id, &mut cached, f)?;
            let saved = save_changes_with(
                &mut conn,
                id,
                &mut cached,
                |prev, _, _| sync_state::after_local_edit(prev),
                None,
                |tx| blobs::write(tx, id, &item_id, blobs, now_ms()),
            );
            match saved {
                Ok(Some(storage)) => {
                    inner.maybe_compact(&mut conn, id, &mut cached, storage);
                    (out, true)
                }
                Ok(None) => (out, false),
                Err(e) => {
                    inner.discard(id, &mut cached);
                    return Err(e);
                }
            }
        };
        if changed {
            self.events.publish(Some(id), ChangeOrigin::Local);
        }
        Ok(out)
    }

    /// The stored blob with content address `hash` (SHA-256 hex), if this device has it.
    pub fn blob(&self, hash: &str) -> Result<Option<blobs::Blob>> {
        self.inner()?.with_reader(|c| blobs::read(c, hash))
    }

    /// What the blob tables hold (tests, storage screens).
    pub fn blob_counts(&self) -> Result<blobs::BlobCounts> {
        self.inner()?.with_reader(blobs::counts)
    }

    /// Reads a record's document. `f` gets `&mut` only because automerge needs it to read the
    /// change graph; a closure that changes the document is refused and the change dropped.
    /// `f` must not call back into the store for the same record (it is locked meanwhile).
    pub fn read<T>(&self, id: RecordId, f: impl FnOnce(&mut AutoCommit) -> Result<T>) -> Result<T> {
        let inner = self.inner()?;
        let handle = loop {
            let h = inner.reader_doc(id)?;
            if inner.lock_doc(id, &h).is_some() {
                break h;
            }
        };
        let Some(mut cached) = inner.lock_doc(id, &handle) else {
            // Went stale between the two locks: an edit failed meanwhile. Read again.
            drop(handle);
            return self.read(id, f);
        };
        // Damage found while reading this record is this record's (the document layer cannot
        // always name it: a hostile document may lack a readable `id`).
        let out = f(&mut cached.doc).map_err(|e| match e {
            Error::Corrupt {
                record: None,
                detail,
            } => Error::Corrupt {
                record: Some(id),
                detail,
            },
            other => other,
        });
        if cached.doc.pending_ops() > 0 || cached.doc.get_heads() != cached.saved_heads {
            inner.discard_if_changed(id, &mut cached);
            return Err(Error::Internal(
                "a read changed the document; the change was dropped".into(),
            ));
        }
        out
    }

    /// Whether the record exists locally.
    pub fn contains(&self, id: RecordId) -> Result<bool> {
        self.inner()?.with_reader(|conn| {
            conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM documents WHERE id = ?1)",
                [id.to_string()],
                |r| r.get(0),
            )
            .sql()
        })
    }

    /// How many records the store holds.
    pub fn document_count(&self) -> Result<u64> {
        self.inner()?.with_reader(|conn| {
            conn.query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))
                .sql()
                .map(|n| n.max(0) as u64)
        })
    }

    /// Every record id, in id order.
    pub fn ids(&self) -> Result<Vec<RecordId>> {
        self.inner()?.with_reader(all_ids)
    }

    /// Documents decoded from disk since the store was opened (cache misses that loaded).
    pub fn loaded_documents(&self) -> Result<u64> {
        Ok(self.inner()?.loads.load(Ordering::Relaxed))
    }

    /// The document cache's counters.
    pub fn cache_stats(&self) -> Result<CacheStats> {
        Ok(lock(&self.inner()?.cache).stats())
    }

    /// A record's snapshot and increment sizes.
    pub fn storage(&self, id: RecordId) -> Result<DocumentStorage> {
        self.inner()?.with_reader(|conn| {
            conn.query_row(
                "SELECT snapshot_bytes, chunk_count, chunk_bytes FROM documents WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(DocumentStorage {
                        snapshot_bytes: r.get::<_, i64>(0)?.max(0) as u64,
                        chunk_count: r.get::<_, i64>(1)?.max(0) as u64,
                        chunk_bytes: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                },
            )
            .optional()
            .sql()?
            .ok_or(Error::NotFound(id))
        })
    }

    /// Folds a record's increments into one snapshot now, in one transaction; content and
    /// heads stay identical. Returns whether there was anything to fold.
    pub fn compact(&self, id: RecordId) -> Result<bool> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        let handle = inner.writer_doc(&conn, id)?;
        let Some(mut cached) = inner.lock_doc(id, &handle) else {
            return Err(Error::Internal(
                "the document changed while it was being opened".into(),
            ));
        };
        let chunks: i64 = conn
            .query_row(
                "SELECT count(*) FROM chunks WHERE record_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .sql()?;
        if chunks == 0 {
            return Ok(false);
        }
        compact_with(&mut conn, id, &mut cached.doc)?;
        Ok(true)
    }

    // -- projections and queries ---------------------------------------------------------------

    /// Recomputes every projection row from the documents, in one transaction. A document that
    /// cannot be decoded does not stop the others: it keeps its last projection (or, if it has
    /// none, is listed as a damaged record), stays on disk for recovery, and is reported.
    pub fn rebuild_projections(&self) -> Result<RebuildReport> {
        let report = self.rebuild_projections_unpublished()?;
        self.events.publish(None, ChangeOrigin::Local);
        Ok(report)
    }

    fn rebuild_projections_unpublished(&self) -> Result<RebuildReport> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let tx = conn.transaction().sql()?;
        let ids = all_ids(&tx)?;
        let mut report = RebuildReport::default();
        for id in ids {
            let status = read_sync_row_or(&tx, id, SyncStatus::Pending)?.status;
            let cached = lock(&inner.cache).get(id);
            let projected = match cached {
                Some(h) => match inner.lock_doc(id, &h) {
                    Some(mut g) => projection::project(id, &mut g.doc),
                    None => load_and_project(&inner, &tx, id),
                },
                None => load_and_project(&inner, &tx, id),
            };
            match projected {
                Ok(p) => {
                    projection::write(&tx, &p, status)?;
                    report.rebuilt += 1;
                }
                Err(e @ Error::Corrupt { .. }) => {
                    let listed: bool = tx
                        .query_row(
                            "SELECT EXISTS(SELECT 1 FROM records WHERE id = ?1)",
                            [id.to_string()],
                            |r| r.get(0),
                        )
                        .sql()?;
                    if !listed {
                        projection::write(&tx, &damaged(id), status)?;
                    }
                    tracing::error!(record = %id, error = %e, "damaged record kept for recovery");
                    report.corrupt.push(e);
                }
                Err(e) => return Err(e),
            }
        }
        // The name index is derived from `children` alone: recreate it whole.
        tx.execute_batch(schema::REBUILD_CHILDREN_FTS).sql()?;
        tx.commit().sql()?;
        Ok(report)
    }

    /// The caseload: every active child with counts of their records, by family name. Reads
    /// projections only.
    pub fn caseload(&self) -> Result<Vec<CaseloadEntry>> {
        self.inner()?.with_reader(query::caseload)
    }

    /// Children matching a search box: name words (prefixes, accents ignored), an NHS number
    /// with or without spaces (or its first digits), or a date of birth (`YYYY-MM-DD` or
    /// `DD/MM/YYYY`).
    pub fn search_children(&self, text: &str) -> Result<Vec<CaseloadEntry>> {
        self.inner()?.with_reader(|c| query::search(c, text))
    }

    /// One record's list row.
    pub fn record_summary(&self, id: RecordId) -> Result<Option<RecordSummary>> {
        self.inner()?.with_reader(|c| query::record(c, id))
    }

    /// The records about a child, newest first.
    pub fn records_of_child(&self, child_id: RecordId) -> Result<Vec<RecordSummary>> {
        self.inner()?
            .with_reader(|c| query::records_of_child(c, child_id))
    }

    /// Records the server lacks changes of (`local_only` or `pending`).
    pub fn unsynced_records(&self) -> Result<Vec<RecordSummary>> {
        self.inner()?.with_reader(query::unsynced)
    }

    /// Records with open clinical conflicts.
    pub fn records_with_conflicts(&self) -> Result<Vec<RecordSummary>> {
        self.inner()?.with_reader(query::with_conflicts)
    }

    /// Records of one kind in one status code (sign state or workflow status).
    pub fn records_by_kind_and_status(
        &self,
        schema: Schema,
        status: &str,
    ) -> Result<Vec<RecordSummary>> {
        let code = doc::record::schema_code(schema);
        self.inner()?
            .with_reader(|c| query::by_kind_status(c, code, status))
    }

    /// Forms waiting for a signature or a countersignature.
    pub fn records_awaiting_signature(&self) -> Result<Vec<RecordSummary>> {
        self.inner()?.with_reader(query::awaiting_signature)
    }

    // -- sync ------------------------------------------------------------------------------------

    /// The record's sync status.
    pub fn sync_status(&self, id: RecordId) -> Result<SyncStatus> {
        self.inner()?.with_reader(|c| {
            sync_state::read_row(c, id)?
                .map(|r| r.status)
                .ok_or(Error::NotFound(id))
        })
    }

    /// Records with status `local_only` or `pending`.
    pub fn unsynced_ids(&self) -> Result<Vec<RecordId>> {
        self.inner()?.with_reader(query::unsynced_ids)
    }

    /// The record's current heads (from the documents table: no document is loaded); `None`
    /// when the record is absent.
    pub fn local_heads(&self, id: RecordId) -> Result<Option<Vec<ChangeHash>>> {
        self.inner()?.with_reader(|c| stored_heads(c, id))
    }

    /// Whether the device has every change named by `heads`.
    pub fn has_heads(&self, id: RecordId, heads: &[ChangeHash]) -> Result<bool> {
        let Some(local) = self.local_heads(id)? else {
            return Ok(false);
        };
        if heads.iter().all(|h| local.contains(h)) {
            return Ok(true);
        }
        self.read(id, |d| Ok(sync_state::contains_all(d, heads)))
    }

    /// The persisted automerge sync state with the server for the record, if any.
    pub fn load_sync_state(&self, id: RecordId) -> Result<Option<Vec<u8>>> {
        self.inner()?
            .with_reader(|c| sync_state::read_sync_state(c, id))
    }

    /// Applies changes received from the server: `f` merges them into the document, then the
    /// new change bytes, projection, sync status and (if given) the new sync state are saved in
    /// one transaction. Creates the record if it is new and `f` gave it changes.
    pub fn apply_remote<T>(
        &self,
        id: RecordId,
        f: impl FnOnce(&mut AutoCommit) -> Result<T>,
        new_sync_state: Option<Vec<u8>>,
    ) -> Result<T> {
        self.apply_remote_with(id, |d| Ok((f(d)?, new_sync_state)))
    }

    fn apply_remote_with<T>(
        &self,
        id: RecordId,
        f: impl FnOnce(&mut AutoCommit) -> Result<(T, Option<Vec<u8>>)>,
    ) -> Result<T> {
        self.apply_remote_acked(id, None, f)
    }

    /// [`Store::apply_remote_with`]; a record it creates whose heads are exactly
    /// `server_heads` is written as acknowledged in the same transaction.
    fn apply_remote_acked<T>(
        &self,
        id: RecordId,
        server_heads: Option<&[ChangeHash]>,
        f: impl FnOnce(&mut AutoCommit) -> Result<(T, Option<Vec<u8>>)>,
    ) -> Result<T> {
        let (out, changed) = self.apply_remote_unpublished(id, server_heads, f)?;
        if changed {
            self.events.publish(Some(id), ChangeOrigin::Sync);
        }
        Ok(out)
    }

    /// [`Store::apply_remote_acked`]; also says whether the record changed.
    fn apply_remote_unpublished<T>(
        &self,
        id: RecordId,
        server_heads: Option<&[ChangeHash]>,
        f: impl FnOnce(&mut AutoCommit) -> Result<(T, Option<Vec<u8>>)>,
    ) -> Result<(T, bool)> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        let handle = match inner.writer_doc(&conn, id) {
            Ok(h) => h,
            Err(Error::NotFound(_)) => {
                return create_remote(&inner, &mut conn, id, server_heads, f)
            }
            Err(e) => return Err(e),
        };
        let Some(mut cached) = inner.lock_doc(id, &handle) else {
            return Err(Error::Internal(
                "the document changed while it was being opened".into(),
            ));
        };
        let (out, state) = inner.mutate_locked(id, &mut cached, f)?;
        let saved = save_changes(
            &mut conn,
            id,
            &mut cached,
            sync_state::after_remote_change,
            state.as_deref(),
        );
        match saved {
            Ok(Some(storage)) => {
                inner.maybe_compact(&mut conn, id, &mut cached, storage);
                Ok((out, true))
            }
            Ok(None) => Ok((out, false)),
            Err(e) => {
                inner.discard(id, &mut cached);
                Err(e)
            }
        }
    }

    /// Stores a whole document received from the server: creates the record, or merges into
    /// the local one, in one transaction. Undecodable bytes are [`Error::Corrupt`] naming it.
    pub fn insert_remote_document(&self, id: RecordId, bytes: &[u8]) -> Result<()> {
        self.insert_document_from_server(id, bytes, None)
    }

    /// [`Store::insert_remote_document`] for `hv-doc`, which carries the server's committed
    /// heads: a record new to this device whose heads are exactly those is stored as
    /// acknowledged (`synced`, or `conflict`) in the same transaction, so a first sync costs
    /// one durable commit per record rather than two. A merge into an existing record is
    /// acknowledged afterwards with [`Store::mark_acknowledged`], which checks containment.
    pub fn insert_acknowledged_document(
        &self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<()> {
        self.insert_document_from_server(id, bytes, Some(server_heads))
    }

    /// Many whole documents from the server (`hv-doc`) at once, each with the heads the server
    /// committed: the records new to this device are decoded and projected, then written
    /// together in **one** transaction, each stored acknowledged as
    /// [`Store::insert_acknowledged_document`] would. What the server sent whole it can send
    /// again, so nothing is lost if the batch does not commit: none of its records is then
    /// stored, and none is marked synced. Records the device already has (merges), repeats of
    /// an id and documents with no change go one at a time, as before.
    ///
    /// Returns one result per document, in order: a document that cannot be decoded is an
    /// error for that record alone. `Err` of the whole call is a storage failure.
    pub fn insert_acknowledged_documents(
        &self,
        docs: &[(RecordId, Vec<u8>, Vec<ChangeHash>)],
    ) -> Result<Vec<Result<()>>> {
        let inner = self.inner()?;
        let mut results: Vec<Option<Result<()>>> = docs.iter().map(|_| None).collect();
        // Decoding and projecting touch only the received bytes: done before the writer lock.
        let mut seen = std::collections::HashSet::new();
        let mut prepared = Vec::new();
        for (i, (id, bytes, heads)) in docs.iter().enumerate() {
            if !seen.insert(*id) {
                continue;
            }
            match NewRemote::from_server(*id, bytes, heads) {
                Ok(Some(new)) => prepared.push((i, new)),
                Ok(None) => {}
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let mut stored = Vec::new();
        if !prepared.is_empty() {
            let mut conn = lock(&inner.writer);
            let _epoch = WriteEpoch::begin(&inner.write_seq);
            let tx = conn.transaction().sql()?;
            let mut written = Vec::with_capacity(prepared.len());
            for (i, new) in prepared {
                let exists = tx
                    .query_row(
                        "SELECT 1 FROM documents WHERE id = ?1",
                        [new.id.to_string()],
                        |_| Ok(()),
                    )
                    .optional()
                    .sql()?
                    .is_some();
                if exists {
                    continue;
                }
                new.write(&tx)?;
                written.push((i, new));
            }
            tx.commit().sql()?;
            let mut cache = lock(&inner.cache);
            for (i, new) in written {
                stored.push(new.id);
                cache.insert_if_absent(new.id, CachedDoc::new(new.doc));
                results[i] = Some(Ok(()));
            }
        }
        for id in stored {
            self.events.publish(Some(id), ChangeOrigin::Sync);
        }
        Ok(docs
            .iter()
            .zip(results)
            .map(|((id, bytes, heads), done)| {
                done.unwrap_or_else(|| self.insert_acknowledged_document(*id, bytes, heads))
            })
            .collect())
    }

    fn insert_document_from_server(
        &self,
        id: RecordId,
        bytes: &[u8],
        server_heads: Option<&[ChangeHash]>,
    ) -> Result<()> {
        // What the bytes cost once loaded, read before automerge materialises them (ADR 0017).
        let limits = DocumentLimits::default();
        let cost = opcount::cost(bytes, limits.max_inflated_bytes)
            .and_then(|cost| limits.check(&cost).map(|()| cost))
            .map_err(|e| refuse_cost(id, e))?;
        let mut incoming = decode_document(id, bytes)?;
        check_document_id(id, &incoming)?;
        self.apply_remote_acked(id, server_heads, |d| {
            // With the record's own operations (none when it is new).
            limits
                .check(&DocumentCost::of_document(d.document()).plus(cost))
                .map_err(|e| refuse_cost(id, e))?;
            crate::sync::guard::guarded("a document", || d.merge(&mut incoming)).map_err(
                |detail| Error::Corrupt {
                    record: Some(id),
                    detail,
                },
            )??;
            Ok(((), None))
        })
    }

    /// The record's whole document in saved (compressed) form; `None` when absent.
    pub fn save_document(&self, id: RecordId) -> Result<Option<Vec<u8>>> {
        let inner = self.inner()?;
        let stored = inner.with_reader(|c| {
            c.query_row(
                "SELECT snapshot, chunk_count FROM documents WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .sql()
        })?;
        match stored {
            None => Ok(None),
            // A compacted document's snapshot is already its saved form.
            Some((snapshot, 0)) => Ok(Some(snapshot)),
            Some(_) => self.read(id, |d| Ok(d.save())).map(Some),
        }
    }

    /// Records the server's durably committed heads for the record; the status becomes
    /// `synced` (or `conflict`) only when they contain every local change (`SAF-LOST-EDIT`).
    pub fn mark_acknowledged(
        &self,
        id: RecordId,
        server_heads: &[ChangeHash],
    ) -> Result<SyncStatus> {
        let (status, changed) = self.mark_acknowledged_unpublished(id, server_heads)?;
        if changed {
            self.events.publish(Some(id), ChangeOrigin::Sync);
        }
        Ok(status)
    }

    /// [`Store::mark_acknowledged`]; also says whether the sync status row changed.
    fn mark_acknowledged_unpublished(
        &self,
        id: RecordId,
        server_heads: &[ChangeHash],
    ) -> Result<(SyncStatus, bool)> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let stored = stored_heads(&conn, id)?.ok_or(Error::NotFound(id))?;
        let prev = read_sync_row_or(&conn, id, SyncStatus::Pending)?;
        let conflicts = conflict_count(&conn, id)?;
        let mut sorted_server = server_heads.to_vec();
        sorted_server.sort();
        let mut sorted_local = stored;
        sorted_local.sort();
        let next = if sorted_server == sorted_local {
            // The common case (catch-up found equal heads): decided without loading the doc.
            SyncRow {
                status: sync_state::acknowledged_status(conflicts),
                acked_heads: Some(sorted_server),
            }
        } else {
            let handle = inner.writer_doc(&conn, id)?;
            let Some(mut cached) = inner.lock_doc(id, &handle) else {
                return Err(Error::Internal(
                    "the document changed while it was being opened".into(),
                ));
            };
            sync_state::after_acknowledgement(&mut cached.doc, &prev, server_heads, conflicts)
        };
        let changed = next.status != prev.status;
        if changed || next.acked_heads != prev.acked_heads {
            let tx = conn.transaction().sql()?;
            sync_state::write_row(&tx, id, &next)?;
            tx.commit().sql()?;
        }
        Ok((next.status, changed))
    }

    /// Reads a sync bookkeeping value (`sync_meta`).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.inner()?.with_reader(|c| sync_state::read_meta(c, key))
    }

    /// Writes a sync bookkeeping value (`sync_meta`).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let inner = self.inner()?;
        let conn = lock(&inner.writer);
        sync_state::write_meta(&conn, key, value)
    }

    // -- audit log (`RK-AUDIT`) ---------------------------------------------------------------

    /// Appends an audit entry and returns its id. Entries are never edited or deleted (the
    /// table's triggers refuse it); only [`Store::wipe`] removes them, with everything else.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<Uuid> {
        let inner = self.inner()?;
        let conn = lock(&inner.writer);
        audit::append(&conn, entry)
    }

    /// Appends a `view` entry unless this user already has one for this record on this device
    /// at or after `since` (a screen refreshing is not a new viewing). `None` when covered.
    pub fn append_view_audit(
        &self,
        entry: &AuditEntry,
        since: DateTime<Utc>,
    ) -> Result<Option<Uuid>> {
        let inner = self.inner()?;
        let conn = lock(&inner.writer);
        audit::append_view(&conn, entry, since)
    }

    /// The audit entries about `record`, or all of them, oldest first.
    pub fn audit_log(&self, record: Option<RecordId>) -> Result<Vec<LoggedAudit>> {
        self.inner()?.with_reader(|c| audit::entries(c, record))
    }

    /// Up to `limit` audit entries the team server does not have yet, oldest first.
    pub fn pending_audit(&self, limit: usize) -> Result<Vec<LoggedAudit>> {
        self.inner()?.with_reader(|c| audit::pending(c, limit))
    }

    /// Records that the team server has these audit entries.
    pub fn mark_audit_uploaded(&self, ids: &[Uuid], at: DateTime<Utc>) -> Result<()> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        audit::mark_uploaded(&mut conn, ids, at)
    }

    /// Removes every record and all sync bookkeeping, overwriting the freed pages and
    /// shrinking the file: the device was revoked (`SAF-DEVICE-LOST`). The only deletion the
    /// store ever does, and only when asked.
    pub fn wipe(&self) -> Result<()> {
        self.wipe_unpublished()?;
        self.events.publish(None, ChangeOrigin::Sync);
        Ok(())
    }

    fn wipe_unpublished(&self) -> Result<()> {
        let inner = self.inner()?;
        let mut conn = lock(&inner.writer);
        let _epoch = WriteEpoch::begin(&inner.write_seq);
        conn.execute_batch("PRAGMA secure_delete = ON;").sql()?;
        let tx = conn.transaction().sql()?;
        tx.execute_batch(
            "DELETE FROM children_fts; DELETE FROM children; DELETE FROM records;
             DELETE FROM record_sync; DELETE FROM chunks; DELETE FROM documents;
             DELETE FROM sync_state; DELETE FROM sync_meta;
             DELETE FROM blob_refs; DELETE FROM blobs;
             DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log;",
        )
        .sql()?;
        tx.execute_batch(schema::AUDIT_NO_DELETE).sql()?;
        tx.commit().sql()?;
        lock(&inner.cache).clear();
        *lock(&inner.orphans) = Orphans::new(ORPHAN_LIMIT_BYTES);
        // Rewrite the file without the freed pages and empty the WAL, so no old page survives.
        conn.execute_batch("VACUUM;").sql()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .sql()?;
        Ok(())
    }

    // -- health ------------------------------------------------------------------------------------

    /// `PRAGMA quick_check` (or the slower, complete `integrity_check`); damage is
    /// [`Error::Corrupt`]. The file is never deleted or recreated.
    pub fn check_integrity(&self, full: bool) -> Result<()> {
        self.inner()?.with_reader(|c| db::check_integrity(c, full))
    }

    /// The database file's size in pages.
    pub fn page_count(&self) -> Result<u64> {
        let inner = self.inner()?;
        let conn = lock(&inner.writer);
        conn.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))
            .sql()
            .map(|n| n.max(0) as u64)
    }

    /// Caps the database file at `pages` pages (never below its current size), or lifts the
    /// cap. A write that would grow past it fails with [`Error::DiskFull`] and saves nothing:
    /// a storage quota, and how tests exercise the full-disk path.
    pub fn set_max_pages(&self, pages: Option<u64>) -> Result<()> {
        let inner = self.inner()?;
        let conn = lock(&inner.writer);
        let n = pages.unwrap_or(u64::from(u32::MAX) - 1);
        conn.query_row(&format!("PRAGMA max_page_count = {n}"), [], |_| Ok(()))
            .sql()
    }
}

fn all_ids(conn: &Connection) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare("SELECT id FROM documents ORDER BY id").sql()?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).sql()?;
    rows.map(|r| r.sql().and_then(|s| Ok(s.parse::<RecordId>()?)))
        .collect()
}

fn stored_heads(conn: &Connection, id: RecordId) -> Result<Option<Vec<ChangeHash>>> {
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT heads FROM documents WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()
        .sql()?;
    bytes.map(|b| sync_state::decode_heads(id, &b)).transpose()
}

fn load_and_project(inner: &Inner, conn: &Connection, id: RecordId) -> Result<Projection> {
    let mut doc = load_document(conn, id)?.ok_or(Error::NotFound(id))?;
    inner.loads.fetch_add(1, Ordering::Relaxed);
    projection::project(id, &mut doc)
}

/// The list row of a record whose document cannot be decoded: still listed, never hidden.
fn damaged(id: RecordId) -> Projection {
    Projection {
        id,
        schema: projection::UNKNOWN_SCHEMA.to_owned(),
        team_id: None,
        child_id: None,
        title: "Damaged record (kept for recovery)".to_owned(),
        state: "active".to_owned(),
        status: "corrupt".to_owned(),
        updated_at: None,
        conflict_count: 0,
        flag_count: 0,
        needs_signature: false,
        needs_countersignature: false,
        child: None,
    }
}

/// Saves what changed in a cached document since its saved heads: the increment, projection,
/// status (from `next_status`) and optional sync state, in one transaction. `Ok(None)` when
/// nothing changed (then only a given sync state is written).
fn save_changes(
    conn: &mut Connection,
    id: RecordId,
    cached: &mut CachedDoc,
    next_status: impl FnOnce(&SyncRow, &[ChangeHash], usize) -> SyncRow,
    sync_state_bytes: Option<&[u8]>,
) -> Result<Option<DocumentStorage>> {
    save_changes_with(conn, id, cached, next_status, sync_state_bytes, |_| Ok(()))
}

/// [`save_changes`] with `extra` rows (a photo's blobs) written in the same transaction.
fn save_changes_with(
    conn: &mut Connection,
    id: RecordId,
    cached: &mut CachedDoc,
    next_status: impl FnOnce(&SyncRow, &[ChangeHash], usize) -> SyncRow,
    sync_state_bytes: Option<&[u8]>,
    extra: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
) -> Result<Option<DocumentStorage>> {
    let bytes = cached.doc.save_after(&cached.saved_heads);
    if bytes.is_empty() {
        let tx = conn.transaction().sql()?;
        if let Some(s) = sync_state_bytes {
            sync_state::write_sync_state(&tx, id, s)?;
        }
        extra(&tx)?;
        tx.commit().sql()?;
        return Ok(None);
    }
    let heads = cached.doc.get_heads();
    let projection = projection::project(id, &mut cached.doc)?;
    let tx = conn.transaction().sql()?;
    let prev = read_sync_row_or(&tx, id, SyncStatus::Pending)?;
    let next = next_status(&prev, &heads, projection.conflict_count as usize);
    let storage = append_chunk(&tx, id, &bytes, &heads)?;
    projection::write(&tx, &projection, next.status)?;
    sync_state::write_row(&tx, id, &next)?;
    if let Some(s) = sync_state_bytes {
        sync_state::write_sync_state(&tx, id, s)?;
    }
    extra(&tx)?;
    tx.commit().sql()?;
    cached.saved_heads = heads;
    Ok(Some(storage))
}

/// A record the device does not have yet, built from what the server sent.
/// A refusal of [`opcount`] as the store's error: over a limit is [`Error::TooManyOps`],
/// unreadable bytes are [`Error::Corrupt`].
fn refuse_cost(id: RecordId, e: CostError) -> Error {
    match e {
        CostError::TooManyOps(_) => Error::TooManyOps {
            record: Some(id),
            detail: e.to_string(),
        },
        CostError::Malformed(detail) => Error::Corrupt {
            record: Some(id),
            detail,
        },
    }
}

fn create_remote<T>(
    inner: &Inner,
    conn: &mut Connection,
    id: RecordId,
    server_heads: Option<&[ChangeHash]>,
    f: impl FnOnce(&mut AutoCommit) -> Result<(T, Option<Vec<u8>>)>,
) -> Result<(T, bool)> {
    let mut doc = AutoCommit::new();
    let (out, state) = f(&mut doc)?;
    if doc.pending_ops() > 0 {
        return Err(refuse_unattributed());
    }
    let Some(new) = NewRemote::prepare(id, doc, server_heads)? else {
        // Nothing arrived yet (e.g. the first sync message carries only heads).
        if let Some(s) = state {
            let tx = conn.transaction().sql()?;
            sync_state::write_sync_state(&tx, id, &s)?;
            tx.commit().sql()?;
        }
        return Ok((out, false));
    };
    let tx = conn.transaction().sql()?;
    new.write(&tx)?;
    if let Some(s) = &state {
        sync_state::write_sync_state(&tx, id, s)?;
    }
    tx.commit().sql()?;
    lock(&inner.cache).insert_if_absent(id, CachedDoc::new(new.doc));
    Ok((out, true))
}

/// A record new to this device, built from what the server sent and projected, ready to be
/// written in a transaction.
struct NewRemote {
    id: RecordId,
    doc: AutoCommit,
    projection: Projection,
    snapshot: Vec<u8>,
    heads: Vec<ChangeHash>,
    row: SyncRow,
}

impl NewRemote {
    /// `None` when the document has no change yet.
    fn prepare(
        id: RecordId,
        mut doc: AutoCommit,
        server_heads: Option<&[ChangeHash]>,
    ) -> Result<Option<Self>> {
        let heads = doc.get_heads();
        if heads.is_empty() {
            return Ok(None);
        }
        check_document_id(id, &doc)?;
        let projection = projection::project(id, &mut doc)?;
        let snapshot = doc.save();
        // The server has it. Acknowledged when the server's committed heads are exactly these
        // (a whole document from the server); otherwise not yet.
        let mut sorted_heads = heads.clone();
        sorted_heads.sort();
        let acked = server_heads.map(|h| {
            let mut h = h.to_vec();
            h.sort();
            h
        });
        let row = match acked {
            Some(h) if h == sorted_heads => SyncRow {
                status: sync_state::acknowledged_status(projection.conflict_count as usize),
                acked_heads: Some(h),
            },
            _ => SyncRow {
                status: SyncStatus::Pending,
                acked_heads: None,
            },
        };
        Ok(Some(Self {
            id,
            doc,
            projection,
            snapshot,
            heads,
            row,
        }))
    }

    /// A whole document from the server (`hv-doc`) for a record the device lacks.
    fn from_server(
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<Option<Self>> {
        let mut incoming = decode_document(id, bytes)?;
        check_document_id(id, &incoming)?;
        let mut doc = AutoCommit::new();
        crate::sync::guard::guarded("a document", || doc.merge(&mut incoming)).map_err(
            |detail| Error::Corrupt {
                record: Some(id),
                detail,
            },
        )??;
        if doc.pending_ops() > 0 {
            return Err(refuse_unattributed());
        }
        Self::prepare(id, doc, Some(server_heads))
    }

    fn write(&self, tx: &Connection) -> Result<()> {
        insert_document(tx, self.id, &self.snapshot, &self.heads)?;
        projection::write(tx, &self.projection, self.row.status)?;
        sync_state::write_row(tx, self.id, &self.row)
    }
}

/// Same variants, possibly different types until the sync module uses this one.
fn local_status(s: SyncStatus) -> crate::sync::local::SyncStatus {
    match s {
        SyncStatus::LocalOnly => crate::sync::local::SyncStatus::LocalOnly,
        SyncStatus::Pending => crate::sync::local::SyncStatus::Pending,
        SyncStatus::Synced => crate::sync::local::SyncStatus::Synced,
        SyncStatus::Conflict => crate::sync::local::SyncStatus::Conflict,
    }
}

impl LocalDocs for Store {
    fn on_local_change(&self, wake: Box<dyn Fn() + Send + Sync>) -> ChangeSubscription {
        self.subscribe(move |event| {
            if event.origin == ChangeOrigin::Local {
                wake();
            }
        })
    }

    fn unsynced_ids(&self) -> Result<Vec<RecordId>> {
        Store::unsynced_ids(self)
    }

    fn all_ids(&self) -> Result<Vec<RecordId>> {
        Store::ids(self)
    }

    fn local_heads(&self, id: RecordId) -> Result<Option<Vec<ChangeHash>>> {
        Store::local_heads(self, id)
    }

    fn has_heads(&self, id: RecordId, heads: &[ChangeHash]) -> Result<bool> {
        Store::has_heads(self, id, heads)
    }

    fn load_sync_state(&self, id: RecordId) -> Result<Option<Vec<u8>>> {
        Store::load_sync_state(self, id)
    }

    fn generate_sync_message(
        &self,
        id: RecordId,
        state: &mut sync::State,
    ) -> Result<Option<sync::Message>> {
        match self.read(id, |d| Ok(d.sync().generate_sync_message(state))) {
            Err(Error::NotFound(_)) => Ok(AutoCommit::new().sync().generate_sync_message(state)),
            other => other,
        }
    }

    fn receive_sync_message(
        &self,
        id: RecordId,
        state: &mut sync::State,
        mut message: sync::Message,
    ) -> Result<()> {
        // Changes that came earlier without their dependencies go in again with this message.
        let mut carried = lock(&self.inner()?.orphans).carry(id, &mut message);
        let waiting = self.apply_remote_with(id, |d| {
            // What the record would cost with the carried changes (waiting ones included),
            // read before automerge parses them (ADR 0017).
            DocumentLimits::default()
                .check_sync_message(Some(d.document()), &message)
                .map_err(|e| refuse_cost(id, e))?;
            // A panic inside automerge on hostile input is an error: the edit is discarded.
            crate::sync::guard::guarded("a sync message", || {
                d.sync().receive_sync_message(state, message)
            })
            .map_err(|detail| Error::Corrupt {
                record: Some(id),
                detail,
            })??;
            let waiting = crate::sync::orphans::still_waiting(d.document(), &mut carried);
            Ok((waiting, Some(state.encode())))
        })?;
        lock(&self.inner()?.orphans)
            .settle(id, carried, &waiting)
            .map_err(|e| Error::Corrupt {
                record: Some(id),
                detail: e.to_string(),
            })
    }

    fn save_document(&self, id: RecordId) -> Result<Option<Vec<u8>>> {
        Store::save_document(self, id)
    }

    fn insert_remote_document(&self, id: RecordId, bytes: &[u8]) -> Result<()> {
        Store::insert_remote_document(self, id, bytes)
    }

    fn insert_acknowledged_document(
        &self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<()> {
        Store::insert_acknowledged_document(self, id, bytes, server_heads)
    }

    fn insert_acknowledged_documents(
        &self,
        docs: &[(RecordId, Vec<u8>, Vec<ChangeHash>)],
    ) -> Result<Vec<Result<()>>> {
        Store::insert_acknowledged_documents(self, docs)
    }

    fn mark_acknowledged(
        &self,
        id: RecordId,
        server_heads: &[ChangeHash],
    ) -> Result<crate::sync::local::SyncStatus> {
        Store::mark_acknowledged(self, id, server_heads).map(local_status)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Store::meta(self, key)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        Store::set_meta(self, key, value)
    }

    fn wipe(&self) -> Result<()> {
        Store::wipe(self)
    }

    fn pending_audit(&self, limit: usize) -> Result<Vec<LoggedAudit>> {
        Store::pending_audit(self, limit)
    }

    fn mark_audit_uploaded(&self, ids: &[Uuid], at: DateTime<Utc>) -> Result<()> {
        Store::mark_audit_uploaded(self, ids, at)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use automerge::{ReadDoc, ROOT};
    use chrono::{TimeZone, Utc};
    use rusqlite::functions::FunctionFlags;
    use uuid::Uuid;

    use super::*;
    use crate::{
        doc::Scalar,
        model::user::{Actor, Role},
    };

    fn actor() -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role: Role::Ot,
            device_id: Uuid::new_v4(),
            team_id: Uuid::new_v4(),
            hcpc_number: Some("OT12345".into()),
            hcpc_verified_until: None,
        }
    }

    fn child(store: &Store, a: &Actor, name: &str) -> RecordId {
        let at = Utc.with_ymd_and_hms(2026, 3, 15, 10, 0, 0).unwrap();
        let id = RecordId::new();
        let mut d = doc::create(Schema::Child, id, a.team_id, None, a, at).unwrap();
        doc::set_scalar(&mut d, "given_name", Scalar::Str(name.into()), a, at).unwrap();
        store.create(id, d).unwrap();
        id
    }

    fn open(dir: &tempfile::TempDir) -> Store {
        Store::create_new_plain_for_tests_and_demo(dir.path().join("s.db")).unwrap()
    }

    #[test]
    fn interrupting_a_running_query_gives_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let inner = store.inner().unwrap();
        let handle = store.interrupt_handle().unwrap();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let worker = {
            let inner = Arc::clone(&inner);
            std::thread::spawn(move || {
                inner.with_reader(|conn| {
                    let started = Mutex::new(Some(started_tx));
                    // Tells the test the statement is running, so the interrupt cannot come
                    // before it (an interrupt with no statement running does nothing).
                    conn.create_scalar_function(
                        "started",
                        0,
                        FunctionFlags::SQLITE_UTF8,
                        move |_| {
                            if let Some(tx) = lock(&started).take() {
                                let _ = tx.send(());
                            }
                            Ok(1)
                        },
                    )
                    .sql()?;
                    conn.query_row(
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
                         SELECT count(*) FROM c WHERE started()",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .sql()
                })
            })
        };
        started_rx.recv().unwrap();
        handle.interrupt();
        let result = worker.join().unwrap();
        assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
        // The store is still usable afterwards.
        assert_eq!(store.document_count().unwrap(), 0);
    }

    #[test]
    fn a_failed_edit_leaves_no_trace_in_memory_or_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = actor();
        let id = child(&store, &a, "Amara");
        let before = store.local_heads(id).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 16, 10, 0, 0).unwrap();
        let err = store
            .edit(id, |d| {
                doc::set_scalar(d, "family_name", Scalar::Str("Okafor".into()), &a, at)?;
                Err::<(), _>(Error::Internal("refused after the change".into()))
            })
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
        assert_eq!(store.local_heads(id).unwrap(), before);
        let family = store
            .read(id, |d| doc::record::get(d, "family_name"))
            .unwrap();
        assert_eq!(family, None, "the refused change is not visible");
    }

    #[test]
    fn rk_attrib_an_edit_leaving_uncommitted_operations_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = actor();
        let id = child(&store, &a, "Amara");
        let err = store
            .edit(id, |d| {
                d.put(ROOT, "family_name", "Okafor")?;
                Ok(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("RK-ATTRIB"), "{err}");
        let family = store
            .read(id, |d| Ok(d.get(ROOT, "family_name")?.is_some()))
            .unwrap();
        assert!(!family);
    }

    #[test]
    fn a_read_that_changes_the_document_is_refused_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = actor();
        let id = child(&store, &a, "Amara");
        let err = store
            .read(id, |d| {
                d.put(ROOT, "family_name", "Okafor")?;
                d.commit();
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
        let family = store
            .read(id, |d| Ok(d.get(ROOT, "family_name")?.is_some()))
            .unwrap();
        assert!(!family);
    }

    #[test]
    fn reads_from_many_threads_during_edits_see_only_saved_states() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            Store::create_new_with(
                dir.path().join("s.db"),
                Encryption::PlainForTestsAndDemo,
                StoreOptions {
                    cache_capacity: 1,
                    ..StoreOptions::default()
                },
            )
            .unwrap(),
        );
        let a = actor();
        let ids: Vec<RecordId> = (0..3)
            .map(|i| child(&store, &a, &format!("C{i}")))
            .collect();
        let readers: Vec<_> = (0..3)
            .map(|t| {
                let store = Arc::clone(&store);
                let ids = ids.clone();
                std::thread::spawn(move || {
                    for n in 0..60 {
                        let id = ids[(n + t) % ids.len()];
                        store.read(id, |d| doc::to_json(d)).unwrap();
                    }
                })
            })
            .collect();
        let at = Utc.with_ymd_and_hms(2026, 3, 16, 10, 0, 0).unwrap();
        for n in 0..60i64 {
            let id = ids[n as usize % ids.len()];
            store
                .edit(id, |d| {
                    doc::set_scalar(d, "family_name", Scalar::Str(format!("F{n}")), &a, at)
                })
                .unwrap();
        }
        for r in readers {
            r.join().unwrap();
        }
        // With a one-document cache and concurrent loads, every edit was still made on top of
        // the latest saved state: one linear history per record (no accidental branches).
        for id in ids {
            let heads = store.read(id, |d| Ok(d.get_heads())).unwrap();
            assert_eq!(
                heads.len(),
                1,
                "a single head: no edit was made on an old copy"
            );
        }
    }
}
