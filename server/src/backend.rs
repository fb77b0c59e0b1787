//! The storage a server process runs on, chosen at start: the embedded SQLite database in a
//! data directory (the default) or a PostgreSQL database shared by several instances
//! (`--database postgres://…`, ADR 0016).

use std::path::PathBuf;

use automerge::ChangeHash;
use homevisit_core::RecordId;

use crate::{
    console::store::{
        AccessEntry, AccessFilter, ConsoleEvent, ConsoleStore, ConsoleUser, DeviceRow,
        SessionRecord,
    },
    postgres::PgStore,
    sqlite::SqliteStore,
    store::{
        BlobAppend, BlobHash, BlobOffer, BlobRead, ChangePage, ChangeReceipt, DeviceAuth, DeviceId,
        DocumentCommit, Flag, NewUser, RevokeBy, ServerStore, StoreEvent, StoreResult,
        StoredDocument, TeamId, UserId,
    },
};

/// Where the server's data lives, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded SQLite database in this directory.
    DataDir(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// From the `--data-dir` and `--database` options (exactly one of them).
    pub fn from_options(
        data_dir: Option<PathBuf>,
        database: Option<String>,
    ) -> Result<Self, String> {
        match (data_dir, database) {
            (Some(dir), None) => Ok(Self::DataDir(dir)),
            (None, Some(url))
                if url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                Ok(Self::Postgres(url))
            }
            (None, Some(_)) => Err("--database takes a postgres:// URL".into()),
            (Some(_), Some(_)) => Err("give --data-dir or --database, not both".into()),
            (None, None) => Err("give --data-dir DIR or --database postgres://…".into()),
        }
    }

    /// What `/healthz` and the logs call this backend.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DataDir(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The storage of this process: one of the two implementations behind [`ServerStore`].
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens (and migrates) the storage at `location`.
    pub async fn open(location: &Location) -> StoreResult<Self> {
        Ok(match location {
            Location::DataDir(dir) => Self::Sqlite(SqliteStore::open_dir(dir)?),
            Location::Postgres(url) => Self::Postgres(PgStore::connect(url).await?),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call.await,
            AnyStore::Postgres($s) => $call.await,
        }
    };
}

impl ServerStore for AnyStore {
    async fn create_team(&self, name: &str) -> StoreResult<TeamId> {
        delegate!(self, s => s.create_team(name))
    }
    async fn create_user(&self, user: NewUser) -> StoreResult<UserId> {
        delegate!(self, s => s.create_user(user))
    }
    async fn create_device(
        &self,
        user_id: UserId,
        name: &str,
        token_hash: [u8; 32],
    ) -> StoreResult<DeviceId> {
        delegate!(self, s => s.create_device(user_id, name, token_hash))
    }
    async fn revoke_device(&self, by: RevokeBy) -> StoreResult<Option<DeviceId>> {
        delegate!(self, s => s.revoke_device(by))
    }
    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>> {
        delegate!(self, s => s.authenticate(token_hash))
    }
    async fn revoked_count(&self) -> StoreResult<u64> {
        delegate!(self, s => s.revoked_count())
    }
    async fn device(&self, device_id: DeviceId) -> StoreResult<Option<DeviceAuth>> {
        delegate!(self, s => s.device(device_id))
    }
    async fn load_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> StoreResult<Option<StoredDocument>> {
        delegate!(self, s => s.load_document(team_id, document_id))
    }
    async fn commit_document(&self, commit: DocumentCommit) -> StoreResult<u64> {
        delegate!(self, s => s.commit_document(commit))
    }
    async fn quarantine_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
        bytes: Vec<u8>,
        reason: &str,
    ) -> StoreResult<()> {
        delegate!(self, s => s.quarantine_document(team_id, document_id, bytes, reason))
    }
    async fn document_heads(
        &self,
        team_id: TeamId,
        document_ids: Vec<RecordId>,
    ) -> StoreResult<Vec<(RecordId, Option<Vec<ChangeHash>>)>> {
        delegate!(self, s => s.document_heads(team_id, document_ids))
    }
    async fn changed_since(
        &self,
        team_id: TeamId,
        cursor: u64,
        limit: usize,
    ) -> StoreResult<ChangePage> {
        delegate!(self, s => s.changed_since(team_id, cursor, limit))
    }
    async fn load_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
    ) -> StoreResult<Option<Vec<u8>>> {
        delegate!(self, s => s.load_sync_state(device_id, document_id))
    }
    async fn save_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
        state: Vec<u8>,
    ) -> StoreResult<()> {
        delegate!(self, s => s.save_sync_state(device_id, document_id, state))
    }
    async fn flags(
        &self,
        team_id: TeamId,
        document_id: Option<RecordId>,
    ) -> StoreResult<Vec<Flag>> {
        delegate!(self, s => s.flags(team_id, document_id))
    }
    async fn change_receipt(
        &self,
        team_id: TeamId,
        change_hash: ChangeHash,
    ) -> StoreResult<Option<ChangeReceipt>> {
        delegate!(self, s => s.change_receipt(team_id, change_hash))
    }
    async fn quarantined_count(&self, team_id: TeamId) -> StoreResult<u64> {
        delegate!(self, s => s.quarantined_count(team_id))
    }
    async fn offer_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        size: u64,
        media_type: String,
        quota: u64,
    ) -> StoreResult<BlobOffer> {
        delegate!(self, s => s.offer_blob(team_id, hash, size, media_type, quota))
    }
    async fn append_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        data: Vec<u8>,
    ) -> StoreResult<BlobAppend> {
        delegate!(self, s => s.append_blob(team_id, hash, offset, data))
    }
    async fn read_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        max: usize,
    ) -> StoreResult<Option<BlobRead>> {
        delegate!(self, s => s.read_blob(team_id, hash, offset, max))
    }
    async fn blob_usage(&self, team_id: TeamId) -> StoreResult<u64> {
        delegate!(self, s => s.blob_usage(team_id))
    }
    fn events(&self) -> Option<tokio::sync::broadcast::Receiver<StoreEvent>> {
        match self {
            Self::Sqlite(s) => s.events(),
            Self::Postgres(s) => s.events(),
        }
    }
    async fn document_seq(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> StoreResult<Option<u64>> {
        delegate!(self, s => s.document_seq(team_id, document_id))
    }
    async fn ping(&self) -> StoreResult<()> {
        delegate!(self, s => s.ping())
    }
}

impl ConsoleStore for AnyStore {
    async fn set_console_password(
        &self,
        user_id: UserId,
        login: &str,
        password_hash: String,
    ) -> StoreResult<()> {
        delegate!(self, s => s.set_console_password(user_id, login, password_hash))
    }
    async fn remove_console_access(&self, user_id: UserId) -> StoreResult<bool> {
        delegate!(self, s => s.remove_console_access(user_id))
    }
    async fn console_credential(&self, login: &str) -> StoreResult<Option<(ConsoleUser, String)>> {
        delegate!(self, s => s.console_credential(login))
    }
    async fn create_console_session(
        &self,
        id_hash: [u8; 32],
        user_id: UserId,
        csrf: String,
        now: i64,
    ) -> StoreResult<()> {
        delegate!(self, s => s.create_console_session(id_hash, user_id, csrf, now))
    }
    async fn console_session(&self, id_hash: [u8; 32]) -> StoreResult<Option<SessionRecord>> {
        delegate!(self, s => s.console_session(id_hash))
    }
    async fn touch_console_session(&self, id_hash: [u8; 32], now: i64) -> StoreResult<()> {
        delegate!(self, s => s.touch_console_session(id_hash, now))
    }
    async fn end_console_session(&self, id_hash: [u8; 32]) -> StoreResult<()> {
        delegate!(self, s => s.end_console_session(id_hash))
    }
    async fn console_device(&self, user_id: UserId) -> StoreResult<DeviceId> {
        delegate!(self, s => s.console_device(user_id))
    }
    async fn team_devices(&self, team_id: TeamId) -> StoreResult<Vec<DeviceRow>> {
        delegate!(self, s => s.team_devices(team_id))
    }
    async fn note_device_contact(&self, device_id: DeviceId, result: &str) -> StoreResult<()> {
        delegate!(self, s => s.note_device_contact(device_id, result))
    }
    async fn note_device_report(
        &self,
        device_id: DeviceId,
        core_version: Option<String>,
        unsynced: Option<u64>,
    ) -> StoreResult<()> {
        delegate!(self, s => s.note_device_report(device_id, core_version, unsynced))
    }
    async fn append_console_event(&self, event: ConsoleEvent) -> StoreResult<()> {
        delegate!(self, s => s.append_console_event(event))
    }
    async fn console_events(
        &self,
        team_id: TeamId,
        limit: usize,
    ) -> StoreResult<Vec<ConsoleEvent>> {
        delegate!(self, s => s.console_events(team_id, limit))
    }
    async fn append_access_entries(
        &self,
        team_id: TeamId,
        uploaded_by: DeviceId,
        entries: Vec<AccessEntry>,
    ) -> StoreResult<u64> {
        delegate!(self, s => s.append_access_entries(team_id, uploaded_by, entries))
    }
    async fn access_entries(
        &self,
        team_id: TeamId,
        filter: AccessFilter,
        limit: usize,
    ) -> StoreResult<Vec<AccessEntry>> {
        delegate!(self, s => s.access_entries(team_id, filter, limit))
    }
    async fn contact_counts(&self, team_id: TeamId, since: String) -> StoreResult<(u64, u64)> {
        delegate!(self, s => s.contact_counts(team_id, since))
    }
    async fn team_storage(&self, team_id: TeamId) -> StoreResult<(u64, u64)> {
        delegate!(self, s => s.team_storage(team_id))
    }
    async fn team_users(&self, team_id: TeamId) -> StoreResult<Vec<ConsoleUser>> {
        delegate!(self, s => s.team_users(team_id))
    }
}
