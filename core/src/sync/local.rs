//! The sync client's view of the device's local storage: exactly the operations a sync session
//! needs, each one atomic.
//!
//! Atomicity is what keeps the store consistent whatever the network does: a received sync
//! message is applied to the document *and* the new sync state is persisted in one
//! transaction, so a connection that drops between two messages leaves either both or neither.
//! The client never holds a write open across a network wait.

use automerge::{sync, ChangeHash};

use crate::{ids::RecordId, store::ChangeSubscription, Result};

pub use crate::store::SyncStatus;

/// `sync_meta` key of the last catch-up cursor the device fully caught up to.
pub const META_CURSOR: &str = "sync.cursor";
/// `sync_meta` key of the last successful sync (RFC 3339 UTC).
pub const META_LAST_SYNCED_AT: &str = "sync.last_synced_at";

/// Local record storage as the sync client uses it. Implemented by [`crate::store::Store`].
pub trait LocalDocs: Send + Sync + 'static {
    /// Records with local changes the server has not acknowledged (status `local_only` or
    /// `pending`, or a conflict not yet acknowledged).
    fn unsynced_ids(&self) -> Result<Vec<RecordId>>;

    /// Every record on the device (after the server was restored from an older backup, the
    /// client asks about all of them).
    fn all_ids(&self) -> Result<Vec<RecordId>>;

    /// The record's current heads; `None` when the device does not have the record.
    fn local_heads(&self, id: RecordId) -> Result<Option<Vec<ChangeHash>>>;

    /// Whether the device has every change named by `heads` (and so their whole history).
    /// `false` when the record is absent.
    fn has_heads(&self, id: RecordId, heads: &[ChangeHash]) -> Result<bool>;

    /// The persisted automerge sync state with the server for this record, if any.
    fn load_sync_state(&self, id: RecordId) -> Result<Option<Vec<u8>>>;

    /// The next automerge sync message for the record under `state` (updated in place), or
    /// `None` when there is nothing to send. An absent record syncs as an empty document.
    fn generate_sync_message(
        &self,
        id: RecordId,
        state: &mut sync::State,
    ) -> Result<Option<sync::Message>>;

    /// Applies a sync message from the server and persists the resulting sync state, in one
    /// transaction with the document's change bytes, projection and sync status. Creates the
    /// record when the message brings the first changes of a record the device lacks.
    fn receive_sync_message(
        &self,
        id: RecordId,
        state: &mut sync::State,
        message: sync::Message,
    ) -> Result<()>;

    /// The record's whole document in saved (compressed) form, for `hv-doc`; `None` when absent.
    fn save_document(&self, id: RecordId) -> Result<Option<Vec<u8>>>;

    /// Stores a whole document received from the server (`hv-doc`): creates the record, or
    /// merges into the local one, in one transaction.
    fn insert_remote_document(&self, id: RecordId, bytes: &[u8]) -> Result<()>;

    /// Stores a whole document the server sent with its committed heads (`hv-doc`). A record
    /// new to the device is created already acknowledged when its heads are exactly
    /// `server_heads` (one transaction instead of two); otherwise this is
    /// [`LocalDocs::insert_remote_document`] and the caller acknowledges afterwards.
    fn insert_acknowledged_document(
        &self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<()> {
        let _ = server_heads;
        self.insert_remote_document(id, bytes)
    }

    /// [`LocalDocs::insert_acknowledged_document`] for many documents: one result per
    /// document, in order (an error confined to one record is that record's result). A store
    /// may write the records new to it in one transaction, since the server can send again
    /// whatever a failed batch loses; `Err` of the whole call is a storage failure.
    fn insert_acknowledged_documents(
        &self,
        docs: &[(RecordId, Vec<u8>, Vec<ChangeHash>)],
    ) -> Result<Vec<Result<()>>> {
        Ok(docs
            .iter()
            .map(|(id, bytes, heads)| self.insert_acknowledged_document(*id, bytes, heads))
            .collect())
    }

    /// Records the server's durably committed heads; the status becomes `synced` only when
    /// they contain every local change (SAF-LOST-EDIT). Returns the resulting status.
    fn mark_acknowledged(&self, id: RecordId, server_heads: &[ChangeHash]) -> Result<SyncStatus>;

    /// Calls `wake` after every commit of a local change (not after changes sync brought),
    /// until the returned subscription is dropped: the long-lived sync mode pushes them at
    /// once. `wake` runs on the committing thread and must only signal.
    fn on_local_change(&self, wake: Box<dyn Fn() + Send + Sync>) -> ChangeSubscription;

    /// Reads a sync bookkeeping value.
    fn meta(&self, key: &str) -> Result<Option<String>>;

    /// Writes a sync bookkeeping value.
    fn set_meta(&self, key: &str, value: &str) -> Result<()>;

    /// Deletes every local record and all sync bookkeeping: the device was revoked.
    fn wipe(&self) -> Result<()>;

    /// Up to `limit` `RK-AUDIT` entries the server does not have yet, oldest first. A store
    /// without an audit log has none.
    fn pending_audit(&self, limit: usize) -> Result<Vec<crate::store::LoggedAudit>> {
        let _ = limit;
        Ok(Vec::new())
    }

    /// Records that the server has stored these audit entries.
    fn mark_audit_uploaded(
        &self,
        ids: &[uuid::Uuid],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let _ = (ids, at);
        Ok(())
    }
}
