//! The server's storage, behind one narrow, async, transactional trait (ADR 0008).
//!
//! Everything the sync endpoint and the admin commands persist goes through [`ServerStore`]:
//! teams, users, devices and their hashed tokens, documents (as appended change chunks with
//! their heads), the per-team change sequence that drives catch-up, per-device sync state and
//! the flags raised by domain checks. The embedded SQLite implementation
//! ([`crate::sqlite::SqliteStore`]) is the default; a PostgreSQL one can be added behind the same
//! trait and must pass the same conformance suite (server/tests/integration/store_suite.rs).

use std::future::Future;

use automerge::ChangeHash;
use chrono::NaiveDate;
use homevisit_core::{model::user::Role, RecordId};
use uuid::Uuid;

/// A team's id.
pub type TeamId = Uuid;
/// A user's id.
pub type UserId = Uuid;
/// A device's id.
pub type DeviceId = Uuid;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The referenced team, user or device does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A concurrent writer changed the document first (optimistic check failed); retry.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// Stored data could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The storage is full (disk or quota): nothing of the failed write was stored.
    #[error("storage full: {0}")]
    Full(String),
    /// The database itself failed (I/O, locked for too long).
    #[error("storage backend error: {0}")]
    Backend(String),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The team the user belongs to.
    pub team_id: TeamId,
    /// Display name.
    pub name: String,
    /// `ap`, `ot` or `approver`.
    pub role: Role,
    /// HCPC registration number (OTs and approvers).
    pub hcpc_number: Option<String>,
    /// Last date a team administrator found the registration valid.
    pub hcpc_verified_until: Option<NaiveDate>,
}

/// Who a device token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device.
    pub device_id: DeviceId,
    /// Its user.
    pub user_id: UserId,
    /// The user's team: the only documents the device ever sees.
    pub team_id: TeamId,
    /// The user's role.
    pub role: Role,
    /// The user's HCPC registration number (OTs and approvers), from the server's tables.
    pub hcpc_number: Option<String>,
    /// Last date a team administrator found the registration valid.
    pub hcpc_verified_until: Option<NaiveDate>,
    /// The device was revoked: it gets a revocation message and nothing else.
    pub revoked: bool,
}

/// How to name the device to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeBy {
    /// By device id.
    Device(DeviceId),
    /// By the SHA-256 of its token.
    TokenHash([u8; 32]),
}

/// A document as stored: the chunks that, loaded in order, rebuild it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Saved document and/or incremental change chunks, in commit order.
    pub chunks: Vec<Vec<u8>>,
    /// The committed heads.
    pub heads: Vec<ChangeHash>,
    /// The team sequence number of the last commit.
    pub seq: u64,
    /// Total stored bytes (for the document size limit).
    pub size_bytes: u64,
}

/// A flag raised by a domain check on a stored change (`CF-RULE-BREACH`, `RK-ATTRIB`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlag {
    /// The rule the change breaks (a DOMAIN.md rule ID where there is one).
    pub rule_id: String,
    /// The offending change, when one change is to blame.
    pub change_hash: Option<ChangeHash>,
    /// The list item the breach is about (a transition's `item_id`), when there is one.
    pub item: Option<Uuid>,
    /// Plain-language detail.
    pub detail: String,
}

/// Who delivered a change to the server (`RK-ATTRIB`): the true author as far as the server
/// knows, whatever the change's metadata says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeReceipt {
    /// The change.
    pub change_hash: ChangeHash,
    /// The document it belongs to.
    pub document_id: RecordId,
    /// The device whose connection delivered it.
    pub device_id: DeviceId,
    /// That device's user.
    pub user_id: UserId,
    /// When the server received it (UTC).
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// A stored flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The team.
    pub team_id: TeamId,
    /// The document.
    pub document_id: RecordId,
    /// The commit (team sequence number) that raised it.
    pub seq: u64,
    /// What was found.
    pub flag: NewFlag,
}

/// One durable commit of new changes to a document, applied in a single transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentCommit {
    /// The owning team (documents are namespaced per team).
    pub team_id: TeamId,
    /// The document.
    pub document_id: RecordId,
    /// The sequence number the writer read the document at (`None`: the writer believes it is
    /// new). A mismatch is [`StoreError::Conflict`] and nothing is written.
    pub expected_seq: Option<u64>,
    /// The bytes to append: an incremental chunk, or a whole saved document when `compact`.
    pub chunk: Vec<u8>,
    /// Replace every earlier chunk by `chunk` (a full save).
    pub compact: bool,
    /// The heads after this commit.
    pub heads: Vec<ChangeHash>,
    /// Flags raised by domain checks on the new changes; stored in the same transaction.
    pub flags: Vec<NewFlag>,
    /// Who delivered each new change; stored in the same transaction (the server's own
    /// `system` changes have none).
    pub receipts: Vec<ChangeReceipt>,
}

/// One page of a team's change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    /// Documents changed after the cursor, in sequence order, with their committed heads.
    pub changed: Vec<(RecordId, Vec<ChangeHash>)>,
    /// The cursor to ask from next time.
    pub cursor: u64,
    /// The page was cut at the limit; more changes follow.
    pub more: bool,
}

/// An attachment's id: the SHA-256 of its bytes.
pub type BlobHash = [u8; 32];

/// What the storage answers to an offer of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOffer {
    /// The team holds this many bytes of it durably (its size when complete); the upload
    /// resumes there. A new attachment is recorded with `0`.
    Have(u64),
    /// Recording it would take the team past its quota: nothing was recorded.
    OverQuota {
        /// Bytes the team holds now (complete attachments, and what partial ones received).
        used: u64,
        /// The quota.
        quota: u64,
    },
}

/// What became of one chunk of an attachment sent to the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobAppend {
    /// Stored durably; this many bytes are held now.
    Stored(u64),
    /// The last chunk: stored, and every byte hashes to the attachment's id, so it is
    /// complete (its size).
    Completed(u64),
    /// The last chunk, but the bytes do not hash to the id: every byte of the attachment was
    /// discarded (the offer too).
    Mismatch,
    /// The chunk does not start where the stored bytes end (this many): nothing stored.
    WrongOffset(u64),
    /// The attachment is already complete (its size): nothing stored.
    AlreadyComplete(u64),
    /// The team never offered the attachment: nothing stored.
    NotOffered,
    /// The chunk would run past the offered size (this one): nothing stored.
    BeyondSize(u64),
}

/// Bytes read from a complete attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRead {
    /// The attachment's size.
    pub size: u64,
    /// Bytes from the offset asked for; empty at or past the end.
    pub data: Vec<u8>,
}

/// Cuts the bytes of `[offset, offset + max)` out of stored chunks `(start, data)` in order.
pub(crate) fn blob_slice(chunks: Vec<(u64, Vec<u8>)>, offset: u64, max: usize) -> Vec<u8> {
    let end = offset.saturating_add(max as u64);
    let mut out = Vec::new();
    for (start, data) in chunks {
        let len = data.len() as u64;
        let from = offset.max(start).saturating_sub(start);
        let to = end.min(start.saturating_add(len)).saturating_sub(start);
        if from < to {
            // Both within `data` (from < to ≤ len), so the conversions and the slice hold.
            if let (Ok(f), Ok(t)) = (usize::try_from(from), usize::try_from(to)) {
                if let Some(part) = data.get(f..t) {
                    out.extend_from_slice(part);
                }
            }
        }
    }
    out
}

/// Something another server instance did through shared storage (PostgreSQL), heard by this
/// one so that it never serves a stale document and pushes the change to its own devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreEvent {
    /// A commit through another instance is durable.
    DocumentCommitted {
        /// The team.
        team_id: TeamId,
        /// The document.
        document_id: RecordId,
        /// Its team sequence number.
        seq: u64,
    },
    /// Notifications may have been missed (the listener reconnected): anything may have
    /// changed.
    Resync,
}

/// The server's storage. Every method is one transaction; implementations are shared between
/// connections (`Send + Sync`) and never block the async runtime.
pub trait ServerStore: crate::console::store::ConsoleStore + Send + Sync + 'static {
    /// Creates a team.
    fn create_team(&self, name: &str) -> impl Future<Output = StoreResult<TeamId>> + Send;

    /// Creates a user in an existing team.
    fn create_user(&self, user: NewUser) -> impl Future<Output = StoreResult<UserId>> + Send;

    /// Registers a device for an existing user; only the token's SHA-256 is stored.
    fn create_device(
        &self,
        user_id: UserId,
        name: &str,
        token_hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<DeviceId>> + Send;

    /// Revokes a device; `None` if no such device exists. Revoking twice is not an error.
    fn revoke_device(
        &self,
        by: RevokeBy,
    ) -> impl Future<Output = StoreResult<Option<DeviceId>>> + Send;

    /// The device a token hash belongs to, if any (revoked devices included, marked).
    fn authenticate(
        &self,
        token_hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<Option<DeviceAuth>>> + Send;

    /// How many devices have been revoked so far: a cheap number that changes whenever a
    /// device is revoked, from this process or from the admin command in another.
    fn revoked_count(&self) -> impl Future<Output = StoreResult<u64>> + Send;

    /// The current state of a device (to notice a revocation during a connection).
    fn device(
        &self,
        device_id: DeviceId,
    ) -> impl Future<Output = StoreResult<Option<DeviceAuth>>> + Send;

    /// Loads a team's document; `None` if this team has no document with that id.
    fn load_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> impl Future<Output = StoreResult<Option<StoredDocument>>> + Send;

    /// Appends a commit and gives it the team's next sequence number, which it returns. The
    /// commit is durable when this returns `Ok`.
    fn commit_document(
        &self,
        commit: DocumentCommit,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Keeps a document that may not enter the team's namespace (it claims another team or
    /// none) where no device can see it, so that nothing received is lost.
    fn quarantine_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
        bytes: Vec<u8>,
        reason: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Committed heads of the given documents of a team (`None` for ones it does not have).
    fn document_heads(
        &self,
        team_id: TeamId,
        document_ids: Vec<RecordId>,
    ) -> impl Future<Output = StoreResult<Vec<(RecordId, Option<Vec<ChangeHash>>)>>> + Send;

    /// Documents of a team changed after `cursor`, at most `limit` of them.
    fn changed_since(
        &self,
        team_id: TeamId,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<ChangePage>> + Send;

    /// The persisted automerge sync state between the server and a device for a document.
    fn load_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
    ) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;

    /// Persists the sync state between the server and a device for a document.
    fn save_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
        state: Vec<u8>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Flags of a team, optionally of one document, oldest first.
    fn flags(
        &self,
        team_id: TeamId,
        document_id: Option<RecordId>,
    ) -> impl Future<Output = StoreResult<Vec<Flag>>> + Send;

    /// Who delivered a change of a team's document, if the server received it from a device.
    fn change_receipt(
        &self,
        team_id: TeamId,
        change_hash: ChangeHash,
    ) -> impl Future<Output = StoreResult<Option<ChangeReceipt>>> + Send;

    /// How many quarantined documents a team's devices uploaded.
    fn quarantined_count(&self, team_id: TeamId) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Records that the team is receiving an attachment (unless it holds it already) and says
    /// how much of it is stored. A new attachment that would take the team's bytes past
    /// `quota` is not recorded. A partial attachment offered again with another size starts
    /// over. Attachments are per team: another team holding the same bytes changes nothing.
    fn offer_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        size: u64,
        media_type: String,
        quota: u64,
    ) -> impl Future<Output = StoreResult<BlobOffer>> + Send;

    /// Appends one chunk of an offered attachment at `offset`, in one transaction; the chunk
    /// that completes it is kept only if every byte hashes to `hash`, checked in the same
    /// transaction, so an attachment is never seen complete with the wrong bytes.
    fn append_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        data: Vec<u8>,
    ) -> impl Future<Output = StoreResult<BlobAppend>> + Send;

    /// Up to `max` bytes from `offset` of a team's complete attachment; `None` when the team
    /// has no complete attachment with that hash (whoever else has one).
    fn read_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        max: usize,
    ) -> impl Future<Output = StoreResult<Option<BlobRead>>> + Send;

    /// Bytes of the team's attachments that count towards its quota.
    fn blob_usage(&self, team_id: TeamId) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Commits made through *other* instances sharing this storage, or `None` when nothing
    /// else writes documents (the embedded database has one server process).
    fn events(&self) -> Option<tokio::sync::broadcast::Receiver<StoreEvent>> {
        None
    }

    /// The team sequence number of a document's last commit (`None`: no such document). With
    /// shared storage ([`ServerStore::events`] is `Some`) the document engine compares it with
    /// its cached copy before using that copy.
    fn document_seq(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> impl Future<Output = StoreResult<Option<u64>>> + Send {
        async move {
            Ok(self
                .load_document(team_id, document_id)
                .await?
                .map(|d| d.seq))
        }
    }

    /// Checks that the storage answers (for `/healthz`).
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send {
        async move { self.quarantined_count(uuid::Uuid::nil()).await.map(|_| ()) }
    }
}

/// Heads as stored: 32-byte hashes concatenated.
pub fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Parses stored heads.
pub fn heads_from_bytes(bytes: &[u8]) -> StoreResult<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt(format!(
            "heads blob of {} bytes",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(32)
        .map(|c| {
            <[u8; 32]>::try_from(c)
                .map(ChangeHash)
                .map_err(|_| StoreError::Corrupt("heads blob".into()))
        })
        .collect()
}
