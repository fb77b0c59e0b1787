//! The store's SQL schema and its `user_version` migrations.
//!
//! Each migration runs in one transaction together with the `user_version` bump, so a crash
//! mid-migration leaves the previous version intact. Every earlier version has a checked-in
//! database file (core/tests/fixtures/store-vN.db) that the migration test opens.
//!
//! - **v1**: documents (snapshot + incremental change chunks), the `records` and `children`
//!   projections and per-record sync status (`record_sync`).
//! - **v2**: what sync and search needed next: persisted automerge sync states
//!   (`sync_state`), sync bookkeeping (`sync_meta`) and full-text search over children's
//!   names and NHS numbers (`children_fts`, FTS5), filled from the existing `children` rows.
//! - **v3**: the local audit log (`audit_log`, `RK-AUDIT`): who viewed, printed or exported
//!   which record, written offline too, append-only (triggers refuse edits and deletions).
//! - **v4**: rule-breach flags per record (`records.flag_count`, `CF-RULE-BREACH`) for lists
//!   and the caseload.
//! - **v5**: what the caseload shows about a child's safeguarding (DOMAIN.md §3.7): the
//!   status (`children.safeguarding_status`) and the smallest gap in days between two missed
//!   visits (`children.missed_visit_gap_days`), from which `CH-VISIT-MISSED` is read with the
//!   team's configured window. Rows written before v5 start empty (no earlier version recorded
//!   visits or a status); `rebuild_projections` recomputes them from the documents.
//! - **v6**: photos (DOMAIN.md §4.1, docs/PHOTOS.md): `blobs` holds sanitised image bytes,
//!   content-addressed by SHA-256 and stored once however many records use them; `blob_refs`
//!   says which record's metadata item uses which blob. Both are written in the same
//!   transaction as the document change that adds the metadata item.

use rusqlite::{Connection, Transaction};

use super::db::SqlResult;
use crate::error::{Error, Result};

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = 6;

/// Version 1.
///
/// Ids are hyphenated UUID text: readable in a debugging session and what the projections
/// join on. `chunks.seq` orders a document's increments in the order they were written.
const V1: &str = "
CREATE TABLE documents (
    id             TEXT PRIMARY KEY NOT NULL,
    snapshot       BLOB NOT NULL,              -- AutoCommit::save() output
    snapshot_bytes INTEGER NOT NULL,
    chunk_count    INTEGER NOT NULL DEFAULT 0, -- increments since the snapshot
    chunk_bytes    INTEGER NOT NULL DEFAULT 0,
    heads          BLOB NOT NULL,              -- current heads, 32 bytes each
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE chunks (
    seq       INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    bytes     BLOB NOT NULL                     -- the changes of one save, concatenated
);
CREATE INDEX chunks_by_record ON chunks(record_id, seq);

CREATE TABLE records (
    id                     TEXT PRIMARY KEY NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    schema                 TEXT NOT NULL,
    team_id                TEXT,
    child_id               TEXT,
    title                  TEXT NOT NULL,
    state                  TEXT NOT NULL,      -- record_status.state
    status                 TEXT NOT NULL,      -- sign state or workflow status
    updated_at             TEXT,
    sync_status            TEXT NOT NULL,
    conflict_count         INTEGER NOT NULL,
    needs_signature        INTEGER NOT NULL,
    needs_countersignature INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX records_by_child ON records(child_id);
CREATE INDEX records_by_schema_status ON records(schema, status);
CREATE INDEX records_by_sync_status ON records(sync_status);
CREATE INDEX records_with_conflicts ON records(conflict_count) WHERE conflict_count > 0;

CREATE TABLE children (
    row            INTEGER PRIMARY KEY,        -- stable rowid shared with the FTS index (v2)
    id             TEXT NOT NULL UNIQUE REFERENCES documents(id) ON DELETE CASCADE,
    given_name     TEXT,
    family_name    TEXT,
    preferred_name TEXT,
    date_of_birth  TEXT,                       -- YYYY-MM-DD
    nhs_number     TEXT                        -- ten digits, no spaces
);
CREATE INDEX children_by_dob ON children(date_of_birth);
CREATE INDEX children_by_nhs ON children(nhs_number);

CREATE TABLE record_sync (
    record_id   TEXT PRIMARY KEY NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,                 -- local_only | pending | synced | conflict
    acked_heads BLOB                           -- the server's acknowledged heads, if any
) WITHOUT ROWID;
";

/// Version 2.
const V2: &str = "
CREATE TABLE sync_state (
    record_id TEXT PRIMARY KEY NOT NULL,       -- no foreign key: a state may precede the record
    state     BLOB NOT NULL                    -- automerge sync::State::encode()
) WITHOUT ROWID;

CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE VIRTUAL TABLE children_fts USING fts5(
    names, nhs_number,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// Version 3: the audit log (`RK-AUDIT`).
///
/// `seq` orders entries as written; `id` is the entry's UUID, stable across upload retries.
/// `uploaded_at` is the one column that may change, once, when the server has the entry.
const V3: &str = "
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('view', 'export', 'print')),
    at          TEXT NOT NULL,               -- RFC 3339, UTC
    purpose     TEXT,
    uploaded_at TEXT
);
CREATE INDEX audit_log_record ON audit_log(record_id, seq);
CREATE INDEX audit_log_pending ON audit_log(seq) WHERE uploaded_at IS NULL;
CREATE TRIGGER audit_log_append_only_update
BEFORE UPDATE OF id, user_id, device_id, record_id, action, at, purpose ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'RK-AUDIT: audit entries cannot be edited');
END;
CREATE TRIGGER audit_log_upload_once
BEFORE UPDATE OF uploaded_at ON audit_log
WHEN OLD.uploaded_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'RK-AUDIT: audit entries cannot be edited');
END;
";

/// Version 5: safeguarding status and missed-visit gap on the caseload (`CH-VISIT-MISSED`).
const V5: &str = "
ALTER TABLE children ADD COLUMN safeguarding_status TEXT;     -- §3.7 code, NULL = never set
ALTER TABLE children ADD COLUMN missed_visit_gap_days INTEGER; -- NULL = fewer than two missed
";

/// Version 6: photo bytes (`blobs`) and which record item uses them (`blob_refs`).
///
/// A rowid table, not `WITHOUT ROWID`: rows are megabytes, and SQLite keeps large rows best in
/// rowid tables (overflow pages), with the hash as a unique key.
const V6: &str = "
CREATE TABLE blobs (
    hash       TEXT PRIMARY KEY NOT NULL,          -- SHA-256 of bytes, lower-case hex
    media_type TEXT NOT NULL,                      -- image/jpeg
    kind       TEXT NOT NULL CHECK (kind IN ('full', 'thumbnail')),
    byte_size  INTEGER NOT NULL,
    width_px   INTEGER NOT NULL,
    height_px  INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE blob_refs (
    record_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    item_id   TEXT NOT NULL,                       -- the photos item in the record's document
    hash      TEXT NOT NULL REFERENCES blobs(hash),
    PRIMARY KEY (record_id, item_id, hash)
) WITHOUT ROWID;
CREATE INDEX blob_refs_by_hash ON blob_refs(hash);
";

/// The trigger that refuses deletions from the audit log; `wipe` drops and recreates it
/// inside its own transaction (a revoked device loses everything, audit log included).
pub(crate) const AUDIT_NO_DELETE: &str = "
CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'RK-AUDIT: audit entries cannot be deleted');
END;
";

/// Refills the name index from `children` (the v2 migration and `rebuild_projections`).
pub(crate) const REBUILD_CHILDREN_FTS: &str = "
DELETE FROM children_fts;
INSERT INTO children_fts(rowid, names, nhs_number)
    SELECT row,
           trim(coalesce(given_name, '') || ' ' || coalesce(preferred_name, '') || ' ' ||
                coalesce(family_name, '')),
           coalesce(nhs_number, '')
    FROM children;
";

/// Version 4: rule-breach flags per record (`CF-RULE-BREACH`), for lists and the caseload.
/// Rows written before it count 0 until their record next changes.
const V4: &str = "
ALTER TABLE records ADD COLUMN flag_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX records_with_flags ON records(flag_count) WHERE flag_count > 0;
";

/// One migration step: from `version - 1` to `version`.
struct Migration {
    version: i64,
    apply: fn(&Transaction<'_>) -> rusqlite::Result<()>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        apply: |tx| tx.execute_batch(V1),
    },
    Migration {
        version: 2,
        apply: |tx| {
            tx.execute_batch(V2)?;
            tx.execute_batch(REBUILD_CHILDREN_FTS)
        },
    },
    Migration {
        version: 3,
        apply: |tx| {
            tx.execute_batch(V3)?;
            tx.execute_batch(AUDIT_NO_DELETE)
        },
    },
    Migration {
        version: 4,
        apply: |tx| tx.execute_batch(V4),
    },
    Migration {
        version: 5,
        apply: |tx| tx.execute_batch(V5),
    },
    Migration {
        version: 6,
        apply: |tx| tx.execute_batch(V6),
    },
];

/// The database's `user_version`.
pub fn user_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .sql()
}

/// Brings the database to [`CURRENT_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, CURRENT_VERSION)
}

/// Brings the database to `target` (at most [`CURRENT_VERSION`]), one transaction per step.
/// Public so that the fixture generator can write a file exactly as an earlier version did.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    let current = user_version(conn)?;
    if current > CURRENT_VERSION {
        // Written by a newer app: opening it would risk misreading data. Keep it untouched.
        return Err(Error::Internal(format!(
            "the store has schema version {current}, newer than this app's {CURRENT_VERSION}; \
             update the app"
        )));
    }
    if target > CURRENT_VERSION {
        return Err(Error::Internal(format!(
            "no schema version {target} (current is {CURRENT_VERSION})"
        )));
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        let tx = conn.transaction().sql()?;
        (m.apply)(&tx).sql()?;
        tx.pragma_update(None, "user_version", m.version).sql()?;
        tx.commit().sql()?;
        tracing::info!(version = m.version, "store schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_consecutively_up_to_current() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(CURRENT_VERSION));
    }

    #[test]
    fn a_fresh_database_migrates_to_the_current_version_and_again_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION);
        // FTS5 is compiled into the bundled SQLite (SQLCipher's too).
        conn.execute(
            "INSERT INTO children_fts(rowid, names, nhs_number) VALUES (1, 'Zoë Okafor', '')",
            [],
        )
        .unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM children_fts WHERE children_fts MATCH 'zoe'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "diacritics are folded");
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        // Make v2 fail half-way: its first table already exists.
        conn.execute_batch("CREATE TABLE sync_state (x)").unwrap();
        assert!(migrate(&mut conn).is_err());
        assert_eq!(user_version(&conn).unwrap(), 1);
        let fts: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sync_meta'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(fts, 0, "nothing of the failed step remains");
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::Internal(_))));
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION + 1);
    }
}
