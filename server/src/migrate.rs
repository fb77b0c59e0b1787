//! `homevisit-server migrate --from-data-dir DIR --to postgres://…`: moves an embedded server's
//! data to PostgreSQL with nothing changed — teams, users, devices with their hashed tokens and
//! revocations, documents with their chunks and team sequence numbers, flags, who delivered
//! each change, quarantined documents, per-device sync states, and the team console's
//! logins, audit trail, device contacts and access log — so tablets carry on with their
//! cursors and sync states as if nothing happened (no re-download). Console sessions are not
//! moved: console users sign in again after the move.
//!
//! Attachment bytes (photos, ADR 0021) are not copied yet: a source that holds any is refused
//! with nothing moved.
//!
//! The whole copy is one PostgreSQL transaction: it lands completely or not at all. The target
//! must be empty of HomeVisit data; the source is only read (stop the embedded server first, so
//! that nothing is written after the copy).

use crate::{
    postgres::PgStore,
    sqlite::SqliteStore,
    store::{StoreError, StoreResult},
};

/// Every row of the embedded database, as stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dump {
    /// `(id, name, created_at, last_seq)`.
    pub teams: Vec<(String, String, String, i64)>,
    /// `(id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at)`.
    pub users: Vec<UserRow>,
    /// `(id, user_id, name, token_hash, created_at, revoked_at)`.
    pub devices: Vec<DeviceDumpRow>,
    /// Documents with their chunks.
    pub documents: Vec<DocumentRow>,
    /// `(team_id, doc_id, bytes_sha256, bytes, reason, created_at)`.
    pub quarantine: Vec<QuarantineRow>,
    /// `(team_id, doc_id, seq, rule_id, change_hash, detail, created_at, item)`.
    pub flags: Vec<FlagRow>,
    /// `(device_id, doc_id, state)`.
    pub sync_states: Vec<(String, Vec<u8>, Vec<u8>)>,
    /// `(team_id, change_hash, doc_id, device_id, user_id, received_at)`.
    pub receipts: Vec<ReceiptRow>,
    /// The team console's tables.
    pub console: ConsoleDump,
}

/// The team console's rows (sessions excepted).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConsoleDump {
    /// `(user_id, login, password_hash, set_at)`.
    pub credentials: Vec<(String, String, String, String)>,
    /// `(user_id, device_id)`.
    pub devices: Vec<(String, String)>,
    /// `(team_id, user_id, action, detail, address, at)`, in order.
    pub events: Vec<ConsoleEventRow>,
    /// `(device_id, at, result)`, in order.
    pub contacts: Vec<(String, String, String)>,
    /// `(device_id, core_version, unsynced, at)`.
    pub reports: Vec<(String, Option<String>, Option<i64>, String)>,
    /// Access-log entries.
    pub access_log: Vec<AccessLogRow>,
}

/// A device row: `(id, user_id, name, token_hash, created_at, revoked_at)`.
pub type DeviceDumpRow = (String, String, String, Vec<u8>, String, Option<String>);

/// A quarantine row: `(team_id, doc_id, bytes_sha256, bytes, reason, created_at)`.
pub type QuarantineRow = (String, Vec<u8>, Vec<u8>, Vec<u8>, String, String);

/// A change receipt: `(team_id, change_hash, doc_id, device_id, user_id, received_at)`.
pub type ReceiptRow = (String, Vec<u8>, Vec<u8>, String, String, String);

/// A console event: `(team_id, user_id, action, detail, address, at)`.
pub type ConsoleEventRow = (
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
);

/// An access-log row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogRow {
    /// The team.
    pub team_id: String,
    /// The entry's id on the device.
    pub entry_id: String,
    /// Who acted.
    pub user_id: String,
    /// The app's device id.
    pub device_id: String,
    /// The server device that uploaded it.
    pub uploaded_by: String,
    /// The record.
    pub record_id: String,
    /// `view`, `print` or `export`.
    pub action: String,
    /// When, on the device.
    pub at: String,
    /// The purpose given.
    pub purpose: Option<String>,
    /// When the server received it.
    pub received_at: String,
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

/// A flag row: `(team_id, doc_id, seq, rule_id, change_hash, detail, created_at, item)`.
pub type FlagRow = (
    String,
    Vec<u8>,
    i64,
    String,
    Option<Vec<u8>>,
    String,
    String,
    Option<String>,
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
    /// Change receipts (who delivered each change).
    pub receipts: usize,
    /// Console audit-trail events.
    pub console_events: usize,
    /// Access-log entries.
    pub access_log: usize,
}

impl std::fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migrated {} teams, {} users, {} devices, {} documents ({} bytes), {} flags, {} quarantined, {} sync states, {} change receipts, {} console events, {} access-log entries",
            self.teams,
            self.users,
            self.devices,
            self.documents,
            self.document_bytes,
            self.flags,
            self.quarantined,
            self.sync_states,
            self.receipts,
            self.console_events,
            self.access_log
        )
    }
}

/// Copies everything in `from` into the empty PostgreSQL database `to`, in one transaction.
pub async fn sqlite_to_postgres(from: &SqliteStore, to: &PgStore) -> StoreResult<MigrationReport> {
    // Attachment bytes (up to a team's quota) do not fit the in-memory dump; refusing is
    // better than a move that silently leaves the photos behind.
    let attachments: i64 = from
        .run(|c| {
            c.query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0))
                .map_err(crate::sqlite::backend)
        })
        .await?;
    if attachments > 0 {
        return Err(StoreError::Conflict(format!(
            "the embedded database holds {attachments} attachment(s), which migrate cannot copy yet; nothing was moved"
        )));
    }
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
        receipts: dump.receipts.len(),
        console_events: dump.console.events.len(),
        access_log: dump.console.access_log.len(),
    };
    to.restore_dump(dump).await?;
    Ok(report)
}
