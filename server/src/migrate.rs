//! `homevisit-server migrate --from-data-dir DIR --to postgres://…`: moves an embedded server's
//! data to PostgreSQL with nothing changed — teams, users, devices with their hashed tokens and
//! revocations, documents with their chunks and team sequence numbers, flags, quarantined
//! documents and per-device sync states — so tablets carry on with their cursors and sync
//! states as if nothing happened (no re-download).
//!
//! The whole copy is one PostgreSQL transaction: it lands completely or not at all. The target
//! must be empty of HomeVisit data; the source is only read (stop the embedded server first, so
//! that nothing is written after the copy).

use crate::{postgres::PgStore, sqlite::SqliteStore, store::StoreResult};

/// Every row of the embedded database, as stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dump {
    /// `(id, name, created_at, last_seq)`.
    pub teams: Vec<(String, String, String, i64)>,
    /// `(id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at)`.
    pub users: Vec<UserRow>,
    /// `(id, user_id, name, token_hash, created_at, revoked_at)`.
    pub devices: Vec<(String, String, String, Vec<u8>, String, Option<String>)>,
    /// Documents with their chunks.
    pub documents: Vec<DocumentRow>,
    /// `(team_id, doc_id, bytes_sha256, bytes, reason, created_at)`.
    pub quarantine: Vec<(String, Vec<u8>, Vec<u8>, Vec<u8>, String, String)>,
    /// `(team_id, doc_id, seq, rule_id, change_hash, detail, created_at)`.
    pub flags: Vec<FlagRow>,
    /// `(device_id, doc_id, state)`.
    pub sync_states: Vec<(String, Vec<u8>, Vec<u8>)>,
}

/// A user row: `(id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at)`.
pub type UserRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// A flag row: `(team_id, doc_id, seq, rule_id, change_hash, detail, created_at)`.
pub type FlagRow = (
    String,
    Vec<u8>,
    i64,
    String,
    Option<Vec<u8>>,
    String,
    String,
);

/// A document row with its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    /// The team.
    pub team_id: String,
    /// The document id bytes.
    pub doc_id: Vec<u8>,
    /// Concatenated heads.
    pub heads: Vec<u8>,
    /// Team sequence number of the last commit.
    pub seq: i64,
    /// Stored bytes.
    pub size_bytes: i64,
    /// Number of the next chunk.
    pub next_chunk: i64,
    /// Last commit time (RFC 3339).
    pub updated_at: String,
    /// `(n, bytes)`, in order.
    pub chunks: Vec<(i64, Vec<u8>)>,
}

/// What a migration moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    /// Teams.
    pub teams: usize,
    /// Users.
    pub users: usize,
    /// Devices.
    pub devices: usize,
    /// Documents.
    pub documents: usize,
    /// Document chunk bytes.
    pub document_bytes: u64,
    /// Flags.
    pub flags: usize,
    /// Quarantined documents.
    pub quarantined: usize,
    /// Per-device sync states.
    pub sync_states: usize,
}

impl std::fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migrated {} teams, {} users, {} devices, {} documents ({} bytes), {} flags, {} quarantined, {} sync states",
            self.teams,
            self.users,
            self.devices,
            self.documents,
            self.document_bytes,
            self.flags,
            self.quarantined,
            self.sync_states
        )
    }
}

/// Copies everything in `from` into the empty PostgreSQL database `to`, in one transaction.
pub async fn sqlite_to_postgres(from: &SqliteStore, to: &PgStore) -> StoreResult<MigrationReport> {
    let dump = from.dump().await?;
    let report = MigrationReport {
        teams: dump.teams.len(),
        users: dump.users.len(),
        devices: dump.devices.len(),
        documents: dump.documents.len(),
        document_bytes: dump
            .documents
            .iter()
            .flat_map(|d| d.chunks.iter())
            .map(|(_, b)| b.len() as u64)
            .sum(),
        flags: dump.flags.len(),
        quarantined: dump.quarantine.len(),
        sync_states: dump.sync_states.len(),
    };
    to.restore_dump(dump).await?;
    Ok(report)
}
