//! [`ServerStore`] on an embedded SQLite database: the default, needing no setup (ADR 0008).
//!
//! One connection behind a mutex, used from `spawn_blocking` so the async runtime never waits
//! on disk. WAL lets the admin commands write (from another process) while the server runs;
//! `synchronous=FULL` makes a commit durable when it returns, which is what lets the server
//! acknowledge heads right after it.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use automerge::ChangeHash;
use chrono::{NaiveDate, Utc};
use homevisit_core::{model::user::Role, RecordId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use crate::store::{
    blob_slice, heads_from_bytes, heads_to_bytes, BlobAppend, BlobHash, BlobOffer, BlobRead,
    ChangePage, ChangeReceipt, DeviceAuth, DeviceId, DocumentCommit, Flag, NewFlag, NewUser,
    RevokeBy, ServerStore, StoreError, StoreResult, StoredDocument, TeamId, UserId,
};

/// The database file's name inside `--data-dir`.
pub const DB_FILE: &str = "homevisit-server.db";

/// Schema migrations; entry `n` brings `user_version` from `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hcpc_number TEXT,
    hcpc_verified_until TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE documents (
    team_id TEXT NOT NULL REFERENCES teams(id),
    doc_id BLOB NOT NULL,
    heads BLOB NOT NULL,
    seq INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    next_chunk INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (team_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX documents_by_seq ON documents(team_id, seq);
CREATE TABLE document_chunks (
    team_id TEXT NOT NULL,
    doc_id BLOB NOT NULL,
    n INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (team_id, doc_id, n),
    FOREIGN KEY (team_id, doc_id) REFERENCES documents(team_id, doc_id)
);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    doc_id BLOB NOT NULL,
    bytes_sha256 BLOB NOT NULL,
    bytes BLOB NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (team_id, doc_id, bytes_sha256)
);
CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    doc_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    change_hash BLOB,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX flags_by_doc ON flags(team_id, doc_id);
CREATE TABLE sync_states (
    device_id TEXT NOT NULL REFERENCES devices(id),
    doc_id BLOB NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (device_id, doc_id)
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE change_receipts (
    team_id TEXT NOT NULL REFERENCES teams(id),
    change_hash BLOB NOT NULL,
    doc_id BLOB NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (team_id, change_hash)
) WITHOUT ROWID;
ALTER TABLE flags ADD COLUMN item TEXT;
"#,
    // Step 3: the team console's tables (console/sqlite.rs).
    crate::console::sqlite::CONSOLE_SCHEMA,
    // Step 4: attachment bytes per team, content-addressed (ADR 0021). The chunks are a rowid
    // table: SQLite keeps large rows out of the b-tree's interior pages that way.
    r#"
CREATE TABLE blobs (
    team_id TEXT NOT NULL REFERENCES teams(id),
    hash BLOB NOT NULL,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (team_id, hash)
) WITHOUT ROWID;
CREATE TABLE blob_chunks (
    team_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    start INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (team_id, hash, start),
    FOREIGN KEY (team_id, hash) REFERENCES blobs(team_id, hash)
);
"#,
];

/// The SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

pub(crate) fn backend(e: impl std::fmt::Display + 'static) -> StoreError {
    let full = (&e as &dyn std::any::Any)
        .downcast_ref::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error_code)
        == Some(rusqlite::ErrorCode::DiskFull);
    if full {
        StoreError::Full(e.to_string())
    } else {
        StoreError::Backend(e.to_string())
    }
}

fn now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("stored id {s:?}: {e}")))
}

fn doc_from_blob(b: &[u8]) -> StoreResult<RecordId> {
    <[u8; 16]>::try_from(b)
        .map(RecordId::from_bytes)
        .map_err(|_| StoreError::Corrupt("document id blob".into()))
}

fn u64_from(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative counter {v}")))
}

fn i64_from(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("counter {v} out of range")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open_dir(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut conn = Connection::open(path).map_err(backend)?;
        // Admin commands in another process may hold the write lock briefly.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        // FULL: a commit is on disk when it returns, so an acknowledgement sent after it
        // survives power loss, not just a process crash.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Caps the database file at `pages` pages (SQLite's `max_page_count`; it never goes below
    /// the current size), or lifts the cap with `None`. A commit that would grow the file past
    /// it fails with [`StoreError::Full`] and writes nothing: a storage quota, and how tests
    /// exercise a full disk.
    pub async fn set_max_pages(&self, pages: Option<u64>) -> StoreResult<u64> {
        self.run(move |c| {
            let n = pages.unwrap_or(u64::from(u32::MAX) - 1);
            let set: i64 = c
                .query_row(&format!("PRAGMA max_page_count = {n}"), [], |r| r.get(0))
                .map_err(backend)?;
            u64_from(set)
        })
        .await
    }

    /// The database file's size in pages.
    pub async fn page_count(&self) -> StoreResult<u64> {
        self.run(|c| {
            let n: i64 = c
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .map_err(backend)?;
            u64_from(n)
        })
        .await
    }

    /// Writes a consistent copy of the database to `target` while the server runs
    /// (`VACUUM INTO`: one read transaction, so concurrent commits are either wholly in it or
    /// not at all). `target` must not exist. Restore by placing the copy in an empty data
    /// directory as [`DB_FILE`].
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        if target.exists() {
            return Err(StoreError::Backend(format!(
                "{} already exists; a backup never overwrites a file",
                target.display()
            )));
        }
        let target = target
            .to_str()
            .ok_or_else(|| StoreError::Backend("the backup path is not UTF-8".into()))?
            .to_string();
        self.run(move |c| {
            c.execute("VACUUM INTO ?1", [target]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    /// Every row, for `migrate` ([`crate::migrate`]); one read transaction.
    pub async fn dump(&self) -> StoreResult<crate::migrate::Dump> {
        use crate::migrate::{DocumentRow, Dump};
        self.run(|c| {
            let tx = c.transaction().map_err(backend)?;
            let mut dump = Dump::default();
            fn rows<T>(
                tx: &rusqlite::Transaction<'_>,
                sql: &str,
                f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
            ) -> StoreResult<Vec<T>> {
                let mut stmt = tx.prepare(sql).map_err(backend)?;
                let out = stmt
                    .query_map([], f)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(out)
            }
            dump.teams = rows(&tx, "SELECT id, name, created_at, last_seq FROM teams ORDER BY id", |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            dump.users = rows(
                &tx,
                "SELECT id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at FROM users ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )?;
            dump.devices = rows(
                &tx,
                "SELECT id, user_id, name, token_hash, created_at, revoked_at FROM devices ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?;
            let mut docs = rows(
                &tx,
                "SELECT team_id, doc_id, heads, seq, size_bytes, next_chunk, updated_at FROM documents ORDER BY team_id, seq",
                |r| {
                    Ok(DocumentRow {
                        team_id: r.get(0)?,
                        doc_id: r.get(1)?,
                        heads: r.get(2)?,
                        seq: r.get(3)?,
                        size_bytes: r.get(4)?,
                        next_chunk: r.get(5)?,
                        updated_at: r.get(6)?,
                        chunks: Vec::new(),
                    })
                },
            )?;
            {
                let mut stmt = tx
                    .prepare("SELECT n, bytes FROM document_chunks WHERE team_id = ?1 AND doc_id = ?2 ORDER BY n")
                    .map_err(backend)?;
                for d in &mut docs {
                    d.chunks = stmt
                        .query_map(params![d.team_id, d.doc_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(backend)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(backend)?;
                }
            }
            dump.documents = docs;
            dump.quarantine = rows(
                &tx,
                "SELECT team_id, doc_id, bytes_sha256, bytes, reason, created_at FROM quarantine ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?;
            dump.flags = rows(
                &tx,
                "SELECT team_id, doc_id, seq, rule_id, change_hash, detail, created_at, item FROM flags ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
            )?;
            dump.sync_states = rows(
                &tx,
                "SELECT device_id, doc_id, state FROM sync_states ORDER BY device_id, doc_id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            dump.receipts = rows(
                &tx,
                "SELECT team_id, change_hash, doc_id, device_id, user_id, received_at FROM change_receipts
                 ORDER BY team_id, change_hash",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?;
            dump.console.credentials = rows(
                &tx,
                "SELECT user_id, login, password_hash, set_at FROM console_credentials ORDER BY user_id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            dump.console.devices = rows(
                &tx,
                "SELECT user_id, device_id FROM console_devices ORDER BY user_id",
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            dump.console.events = rows(
                &tx,
                "SELECT team_id, user_id, action, detail, address, at FROM console_events ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?;
            dump.console.contacts = rows(
                &tx,
                "SELECT device_id, at, result FROM device_contacts ORDER BY id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            dump.console.reports = rows(
                &tx,
                "SELECT device_id, core_version, unsynced, at FROM device_reports ORDER BY device_id",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            dump.console.access_log = rows(
                &tx,
                "SELECT team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, purpose, received_at
                 FROM access_log ORDER BY team_id, at, entry_id",
                |r| {
                    Ok(crate::migrate::AccessLogRow {
                        team_id: r.get(0)?,
                        entry_id: r.get(1)?,
                        user_id: r.get(2)?,
                        device_id: r.get(3)?,
                        uploaded_by: r.get(4)?,
                        record_id: r.get(5)?,
                        action: r.get(6)?,
                        at: r.get(7)?,
                        purpose: r.get(8)?,
                        received_at: r.get(9)?,
                    })
                },
            )?;
            Ok(dump)
        })
        .await
    }

    pub(crate) async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("connection mutex poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("storage task failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    let version = usize::try_from(version).map_err(backend)?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {version} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).map_err(backend)?)
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// Bytes of a team's attachments that count towards its quota: complete ones in full,
/// partial ones as far as they are received.
fn sqlite_blob_usage(c: &Connection, team: &str) -> StoreResult<u64> {
    let used: i64 = c
        .query_row(
            "SELECT COALESCE(SUM(CASE WHEN complete THEN size ELSE received END), 0)
             FROM blobs WHERE team_id = ?1",
            [team],
            |r| r.get(0),
        )
        .map_err(backend)?;
    u64_from(used)
}

/// Removes an attachment's bytes and its row.
fn delete_blob(tx: &rusqlite::Transaction<'_>, team: &str, hash: &[u8]) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM blob_chunks WHERE team_id = ?1 AND hash = ?2",
        params![team, hash],
    )
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM blobs WHERE team_id = ?1 AND hash = ?2",
        params![team, hash],
    )
    .map_err(backend)?;
    Ok(())
}

/// A device row as read: device, user, team, role, HCPC number, HCPC verified until, revoked.
type DeviceRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
);

fn device_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get::<_, Option<String>>(6)?.is_some(),
    ))
}

fn device_auth(raw: DeviceRow) -> StoreResult<DeviceAuth> {
    let (device, user, team, role, hcpc_number, hcpc_until, revoked) = raw;
    let hcpc_verified_until = hcpc_until
        .map(|d| {
            d.parse::<NaiveDate>()
                .map_err(|e| StoreError::Corrupt(format!("hcpc_verified_until {d:?}: {e}")))
        })
        .transpose()?;
    Ok(DeviceAuth {
        device_id: parse_uuid(&device)?,
        user_id: parse_uuid(&user)?,
        team_id: parse_uuid(&team)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        hcpc_number,
        hcpc_verified_until,
        revoked,
    })
}

const DEVICE_SELECT: &str = "SELECT d.id, u.id, u.team_id, u.role, u.hcpc_number,
     u.hcpc_verified_until, d.revoked_at
     FROM devices d JOIN users u ON u.id = d.user_id";

impl ServerStore for SqliteStore {
    async fn create_team(&self, name: &str) -> StoreResult<TeamId> {
        let name = name.to_string();
        self.run(move |c| {
            let id = Uuid::new_v4();
            c.execute(
                "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id.to_string(), name, now()],
            )
            .map_err(backend)?;
            Ok(id)
        })
        .await
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<UserId> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM teams WHERE id = ?1)",
                    [user.team_id.to_string()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !exists {
                return Err(StoreError::NotFound(format!("team {}", user.team_id)));
            }
            let id = Uuid::new_v4();
            tx.execute(
                "INSERT INTO users (id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id.to_string(),
                    user.team_id.to_string(),
                    user.name,
                    user.role.as_str(),
                    user.hcpc_number,
                    user.hcpc_verified_until.map(|d| d.to_string()),
                    now()
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(id)
        })
        .await
    }

    async fn create_device(
        &self,
        user_id: UserId,
        name: &str,
        token_hash: [u8; 32],
    ) -> StoreResult<DeviceId> {
        let name = name.to_string();
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM users WHERE id = ?1)",
                    [user_id.to_string()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !exists {
                return Err(StoreError::NotFound(format!("user {user_id}")));
            }
            let id = Uuid::new_v4();
            tx.execute(
                "INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), user_id.to_string(), name, &token_hash[..], now()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(id)
        })
        .await
    }

    async fn revoke_device(&self, by: RevokeBy) -> StoreResult<Option<DeviceId>> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let id: Option<String> = match by {
                RevokeBy::Device(id) => tx
                    .query_row(
                        "SELECT id FROM devices WHERE id = ?1",
                        [id.to_string()],
                        |r| r.get(0),
                    )
                    .optional(),
                RevokeBy::TokenHash(h) => tx
                    .query_row(
                        "SELECT id FROM devices WHERE token_hash = ?1",
                        [&h[..]],
                        |r| r.get(0),
                    )
                    .optional(),
            }
            .map_err(backend)?;
            let Some(id) = id else { return Ok(None) };
            tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id, now()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Some(parse_uuid(&id)?))
        })
        .await
    }

    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>> {
        self.run(move |c| {
            c.query_row(
                &format!("{DEVICE_SELECT} WHERE d.token_hash = ?1"),
                [&token_hash[..]],
                device_row,
            )
            .optional()
            .map_err(backend)?
            .map(device_auth)
            .transpose()
        })
        .await
    }

    async fn revoked_count(&self) -> StoreResult<u64> {
        self.run(|c| {
            let n: i64 = c
                .query_row(
                    "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            u64_from(n)
        })
        .await
    }

    async fn device(&self, device_id: DeviceId) -> StoreResult<Option<DeviceAuth>> {
        self.run(move |c| {
            c.query_row(
                &format!("{DEVICE_SELECT} WHERE d.id = ?1"),
                [device_id.to_string()],
                device_row,
            )
            .optional()
            .map_err(backend)?
            .map(device_auth)
            .transpose()
        })
        .await
    }

    async fn load_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> StoreResult<Option<StoredDocument>> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let team = team_id.to_string();
            let doc = &document_id.as_bytes()[..];
            let head: Option<(Vec<u8>, i64, i64)> = tx
                .query_row(
                    "SELECT heads, seq, size_bytes FROM documents WHERE team_id = ?1 AND doc_id = ?2",
                    params![team, doc],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((heads, seq, size)) = head else { return Ok(None) };
            let mut stmt = tx
                .prepare("SELECT bytes FROM document_chunks WHERE team_id = ?1 AND doc_id = ?2 ORDER BY n")
                .map_err(backend)?;
            let chunks = stmt
                .query_map(params![team, doc], |r| r.get::<_, Vec<u8>>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            Ok(Some(StoredDocument {
                chunks,
                heads: heads_from_bytes(&heads)?,
                seq: u64_from(seq)?,
                size_bytes: u64_from(size)?,
            }))
        })
        .await
    }

    async fn commit_document(&self, commit: DocumentCommit) -> StoreResult<u64> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let team = commit.team_id.to_string();
            let doc = &commit.document_id.as_bytes()[..];
            let current: Option<(i64, i64, i64)> = tx
                .query_row(
                    "SELECT seq, size_bytes, next_chunk FROM documents WHERE team_id = ?1 AND doc_id = ?2",
                    params![team, doc],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let current_seq = current.map(|(s, _, _)| u64_from(s)).transpose()?;
            if current_seq != commit.expected_seq {
                return Err(StoreError::Conflict(format!(
                    "document {} is at {current_seq:?}, writer expected {:?}",
                    commit.document_id, commit.expected_seq
                )));
            }
            let seq: i64 = tx
                .query_row(
                    "UPDATE teams SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
                    [&team],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?
                .ok_or_else(|| StoreError::NotFound(format!("team {team}")))?;
            let chunk_len = i64_from(commit.chunk.len() as u64)?;
            let (size, n) = match current {
                Some((_, size, next)) if !commit.compact => (size + chunk_len, next),
                _ => (chunk_len, 0),
            };
            tx.execute(
                "INSERT INTO documents (team_id, doc_id, heads, seq, size_bytes, next_chunk, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (team_id, doc_id) DO UPDATE SET heads = excluded.heads, seq = excluded.seq,
                   size_bytes = excluded.size_bytes, next_chunk = excluded.next_chunk,
                   updated_at = excluded.updated_at",
                params![team, doc, heads_to_bytes(&commit.heads), seq, size, n + 1, now()],
            )
            .map_err(backend)?;
            if commit.compact {
                tx.execute(
                    "DELETE FROM document_chunks WHERE team_id = ?1 AND doc_id = ?2",
                    params![team, doc],
                )
                .map_err(backend)?;
            }
            tx.execute(
                "INSERT INTO document_chunks (team_id, doc_id, n, bytes) VALUES (?1, ?2, ?3, ?4)",
                params![team, doc, n, commit.chunk],
            )
            .map_err(backend)?;
            for f in &commit.flags {
                tx.execute(
                    "INSERT INTO flags (team_id, doc_id, seq, rule_id, change_hash, detail, created_at, item)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![team, doc, seq, f.rule_id, f.change_hash.map(|h| h.0.to_vec()), f.detail, now(),
                        f.item.map(|i| i.to_string())],
                )
                .map_err(backend)?;
            }
            for r in &commit.receipts {
                // A change delivered again (after a lost acknowledgement) keeps its first receipt.
                tx.execute(
                    "INSERT INTO change_receipts (team_id, change_hash, doc_id, device_id, user_id, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    params![team, r.change_hash.0.to_vec(), r.document_id.as_bytes().to_vec(),
                        r.device_id.to_string(), r.user_id.to_string(),
                        r.received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            u64_from(seq)
        })
        .await
    }

    async fn quarantine_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
        bytes: Vec<u8>,
        reason: &str,
    ) -> StoreResult<()> {
        use sha2::{Digest, Sha256};
        let reason = reason.to_string();
        self.run(move |c| {
            let digest = Sha256::digest(&bytes).to_vec();
            c.execute(
                "INSERT OR IGNORE INTO quarantine (team_id, doc_id, bytes_sha256, bytes, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![team_id.to_string(), &document_id.as_bytes()[..], digest, bytes, reason, now()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn document_heads(
        &self,
        team_id: TeamId,
        document_ids: Vec<RecordId>,
    ) -> StoreResult<Vec<(RecordId, Option<Vec<automerge::ChangeHash>>)>> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let mut stmt = tx
                .prepare("SELECT heads FROM documents WHERE team_id = ?1 AND doc_id = ?2")
                .map_err(backend)?;
            let team = team_id.to_string();
            let mut out = Vec::with_capacity(document_ids.len());
            for id in document_ids {
                let heads: Option<Vec<u8>> = stmt
                    .query_row(params![team, &id.as_bytes()[..]], |r| r.get(0))
                    .optional()
                    .map_err(backend)?;
                out.push((
                    id,
                    heads.map(|h: Vec<u8>| heads_from_bytes(&h)).transpose()?,
                ));
            }
            Ok(out)
        })
        .await
    }

    async fn changed_since(
        &self,
        team_id: TeamId,
        cursor: u64,
        limit: usize,
    ) -> StoreResult<ChangePage> {
        self.run(move |c| {
            // One read transaction: the page and the team's last sequence number agree.
            let tx = c.transaction().map_err(backend)?;
            let team = team_id.to_string();
            let last: i64 = tx
                .query_row("SELECT last_seq FROM teams WHERE id = ?1", [&team], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?
                .ok_or_else(|| StoreError::NotFound(format!("team {team}")))?;
            // A cursor past the team's last number comes from a timeline this database no
            // longer has (restored from a backup): list everything, so the device compares
            // every record's heads and re-sends what the restored server lacks.
            let cursor = if cursor > u64_from(last)? { 0 } else { cursor };
            let fetch = i64_from(limit as u64 + 1)?;
            let mut stmt = tx
                .prepare(
                    "SELECT doc_id, heads, seq FROM documents WHERE team_id = ?1 AND seq > ?2
                     ORDER BY seq LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![team, i64_from(cursor)?, fetch], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            let more = rows.len() > limit;
            let mut changed = Vec::with_capacity(rows.len().min(limit));
            let mut page_cursor = cursor;
            for (doc, heads, seq) in rows.into_iter().take(limit) {
                changed.push((doc_from_blob(&doc)?, heads_from_bytes(&heads)?));
                page_cursor = u64_from(seq)?;
            }
            let cursor = if more {
                page_cursor
            } else {
                u64_from(last)?.max(cursor)
            };
            Ok(ChangePage {
                changed,
                cursor,
                more,
            })
        })
        .await
    }

    async fn load_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
    ) -> StoreResult<Option<Vec<u8>>> {
        self.run(move |c| {
            c.query_row(
                "SELECT state FROM sync_states WHERE device_id = ?1 AND doc_id = ?2",
                params![device_id.to_string(), &document_id.as_bytes()[..]],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn save_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
        state: Vec<u8>,
    ) -> StoreResult<()> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO sync_states (device_id, doc_id, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id, doc_id) DO UPDATE SET state = excluded.state",
                params![device_id.to_string(), &document_id.as_bytes()[..], state],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn flags(
        &self,
        team_id: TeamId,
        document_id: Option<RecordId>,
    ) -> StoreResult<Vec<Flag>> {
        self.run(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT doc_id, seq, rule_id, change_hash, detail, item FROM flags
                     WHERE team_id = ?1 AND (?2 IS NULL OR doc_id = ?2) ORDER BY id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![
                        team_id.to_string(),
                        document_id.map(|d| d.as_bytes().to_vec())
                    ],
                    |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<Vec<u8>>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(5)?,
                        ))
                    },
                )
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(doc, seq, rule_id, hash, detail, item)| {
                    let change_hash = hash
                        .map(|h| {
                            <[u8; 32]>::try_from(h.as_slice())
                                .map(automerge::ChangeHash)
                                .map_err(|_| StoreError::Corrupt("flag change hash".into()))
                        })
                        .transpose()?;
                    Ok(Flag {
                        team_id,
                        document_id: doc_from_blob(&doc)?,
                        seq: u64_from(seq)?,
                        flag: NewFlag {
                            rule_id,
                            change_hash,
                            item: item.as_deref().map(parse_uuid).transpose()?,
                            detail,
                        },
                    })
                })
                .collect()
        })
        .await
    }

    async fn change_receipt(
        &self,
        team_id: TeamId,
        change_hash: ChangeHash,
    ) -> StoreResult<Option<ChangeReceipt>> {
        self.run(move |c| {
            let row: Option<(Vec<u8>, String, String, String)> = c
                .query_row(
                    "SELECT doc_id, device_id, user_id, received_at FROM change_receipts
                     WHERE team_id = ?1 AND change_hash = ?2",
                    params![team_id.to_string(), change_hash.0.to_vec()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(backend)?;
            row.map(|(doc, device, user, at)| {
                Ok(ChangeReceipt {
                    change_hash,
                    document_id: doc_from_blob(&doc)?,
                    device_id: parse_uuid(&device)?,
                    user_id: parse_uuid(&user)?,
                    received_at: chrono::DateTime::parse_from_rfc3339(&at)
                        .map_err(|e| StoreError::Corrupt(format!("received_at {at:?}: {e}")))?
                        .with_timezone(&chrono::Utc),
                })
            })
            .transpose()
        })
        .await
    }

    async fn offer_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        size: u64,
        media_type: String,
        quota: u64,
    ) -> StoreResult<BlobOffer> {
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let team = team_id.to_string();
            let h = &hash[..];
            let row: Option<(i64, i64, bool)> = tx
                .query_row(
                    "SELECT size, received, complete FROM blobs WHERE team_id = ?1 AND hash = ?2",
                    params![team, h],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            match row {
                Some((stored, _, true)) => return Ok(BlobOffer::Have(u64_from(stored)?)),
                Some((stored, received, false)) if u64_from(stored)? == size => {
                    return Ok(BlobOffer::Have(u64_from(received)?))
                }
                Some(_) => {
                    // Offered before with another size: those bytes cannot be this attachment.
                    delete_blob(&tx, &team, h)?;
                }
                None => {}
            }
            let used = sqlite_blob_usage(&tx, &team)?;
            if used.saturating_add(size) > quota {
                return Ok(BlobOffer::OverQuota { used, quota });
            }
            tx.execute(
                "INSERT INTO blobs (team_id, hash, size, media_type, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![team, h, i64_from(size)?, media_type, now()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(BlobOffer::Have(0))
        })
        .await
    }

    async fn append_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        data: Vec<u8>,
    ) -> StoreResult<BlobAppend> {
        use sha2::{Digest, Sha256};
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let team = team_id.to_string();
            let h = &hash[..];
            let row: Option<(i64, i64, bool)> = tx
                .query_row(
                    "SELECT size, received, complete FROM blobs WHERE team_id = ?1 AND hash = ?2",
                    params![team, h],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((size, received, complete)) = row else {
                return Ok(BlobAppend::NotOffered);
            };
            let (size, received) = (u64_from(size)?, u64_from(received)?);
            if complete {
                return Ok(BlobAppend::AlreadyComplete(size));
            }
            if offset != received {
                return Ok(BlobAppend::WrongOffset(received));
            }
            let have = received.saturating_add(data.len() as u64);
            if have > size {
                return Ok(BlobAppend::BeyondSize(size));
            }
            if data.is_empty() {
                return Ok(BlobAppend::Stored(received));
            }
            tx.execute(
                "INSERT INTO blob_chunks (team_id, hash, start, data) VALUES (?1, ?2, ?3, ?4)",
                params![team, h, i64_from(offset)?, data],
            )
            .map_err(backend)?;
            if have < size {
                tx.execute(
                    "UPDATE blobs SET received = ?3 WHERE team_id = ?1 AND hash = ?2",
                    params![team, h, i64_from(have)?],
                )
                .map_err(backend)?;
                tx.commit().map_err(backend)?;
                return Ok(BlobAppend::Stored(have));
            }
            let mut hasher = Sha256::new();
            {
                let mut stmt = tx
                    .prepare(
                        "SELECT data FROM blob_chunks WHERE team_id = ?1 AND hash = ?2 ORDER BY start",
                    )
                    .map_err(backend)?;
                let mut rows = stmt.query(params![team, h]).map_err(backend)?;
                while let Some(r) = rows.next().map_err(backend)? {
                    let bytes: Vec<u8> = r.get(0).map_err(backend)?;
                    hasher.update(&bytes);
                }
            }
            if hasher.finalize()[..] != hash[..] {
                delete_blob(&tx, &team, h)?;
                tx.commit().map_err(backend)?;
                return Ok(BlobAppend::Mismatch);
            }
            tx.execute(
                "UPDATE blobs SET received = ?3, complete = 1, completed_at = ?4
                 WHERE team_id = ?1 AND hash = ?2",
                params![team, h, i64_from(have)?, now()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(BlobAppend::Completed(size))
        })
        .await
    }

    async fn read_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        max: usize,
    ) -> StoreResult<Option<BlobRead>> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let team = team_id.to_string();
            let h = &hash[..];
            let size: Option<i64> = tx
                .query_row(
                    "SELECT size FROM blobs WHERE team_id = ?1 AND hash = ?2 AND complete = 1",
                    params![team, h],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let Some(size) = size else { return Ok(None) };
            let size = u64_from(size)?;
            let end = i64_from(offset.saturating_add(max as u64).min(size))?;
            let from = i64_from(offset.min(size))?;
            let mut stmt = tx
                .prepare(
                    "SELECT start, data FROM blob_chunks
                     WHERE team_id = ?1 AND hash = ?2 AND start < ?4 AND start + length(data) > ?3
                     ORDER BY start",
                )
                .map_err(backend)?;
            let chunks = stmt
                .query_map(params![team, h, from, end], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?
                .into_iter()
                .map(|(start, data)| Ok((u64_from(start)?, data)))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some(BlobRead {
                size,
                data: blob_slice(chunks, offset, max),
            }))
        })
        .await
    }

    async fn blob_usage(&self, team_id: TeamId) -> StoreResult<u64> {
        self.run(move |c| sqlite_blob_usage(c, &team_id.to_string()))
            .await
    }

    async fn quarantined_count(&self, team_id: TeamId) -> StoreResult<u64> {
        self.run(move |c| {
            let n: i64 = c
                .query_row(
                    "SELECT count(*) FROM quarantine WHERE team_id = ?1",
                    [team_id.to_string()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            u64_from(n)
        })
        .await
    }
}
