//! What the console keeps: console credentials, sessions (hashed ids), the console's own
//! audit trail, one console "device" per user (the attribution of changes made in the
//! browser), when each device last made contact, and the `RK-AUDIT` entries devices upload.
//!
//! A separate trait from [`ServerStore`](crate::store::ServerStore) so the sync path's
//! storage stays as narrow as it was; the SQLite implementation is in
//! [`super::sqlite`].

use std::future::Future;

use chrono::NaiveDate;
use homevisit_core::model::user::Role;

use crate::store::{DeviceId, StoreResult, TeamId, UserId};

/// A user as the console sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    /// The user.
    pub user_id: UserId,
    /// Their team: the only data they see.
    pub team_id: TeamId,
    /// Display name.
    pub name: String,
    /// `ap`, `ot` or `approver`.
    pub role: Role,
    /// HCPC registration number.
    pub hcpc_number: Option<String>,
    /// Last date the registration was checked valid.
    pub hcpc_verified_until: Option<NaiveDate>,
}

/// A stored console session (looked up by the SHA-256 of its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who is signed in.
    pub user: ConsoleUser,
    /// The session's CSRF token (sent in every form).
    pub csrf: String,
    /// When the session began (Unix seconds).
    pub created_at: i64,
    /// When it was last used (Unix seconds).
    pub last_seen: i64,
}

/// One row of the devices page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device.
    pub device_id: DeviceId,
    /// Its name (given at registration).
    pub name: String,
    /// Its user.
    pub user_name: String,
    /// The user's role.
    pub role: Role,
    /// When it was revoked (RFC 3339 UTC), if it was.
    pub revoked_at: Option<String>,
    /// When it last connected (RFC 3339 UTC).
    pub last_seen: Option<String>,
    /// How its last connection ended (`connected`, `refused: revoked`, …).
    pub last_result: Option<String>,
    /// Records the device reported it holds that the server lacks changes of.
    pub unsynced: Option<u64>,
    /// The core version the device reported.
    pub core_version: Option<String>,
}

/// One entry of the console's own audit trail: who did what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEvent {
    /// The team (none for a failed sign-in of an unknown login).
    pub team_id: Option<TeamId>,
    /// The acting user (none when unknown).
    pub user_id: Option<UserId>,
    /// What (`sign-in`, `sign-in-failed`, `view`, `transition`, `revoke`, …).
    pub action: String,
    /// Details: the record, the device, the outcome.
    pub detail: String,
    /// The source address.
    pub address: Option<String>,
    /// When (RFC 3339 UTC); set by the store.
    pub at: String,
}

/// An `RK-AUDIT` entry a device uploaded (who viewed, printed or exported which record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// The entry's id on the device (idempotency key).
    pub entry_id: uuid::Uuid,
    /// The user who acted.
    pub user_id: UserId,
    /// Their name, when the user is known to this team.
    pub user_name: Option<String>,
    /// The device id the entry names (the app's device id).
    pub device_id: uuid::Uuid,
    /// The server's device that uploaded it.
    pub uploaded_by: DeviceId,
    /// Its name.
    pub uploaded_by_name: Option<String>,
    /// The record.
    pub record_id: homevisit_core::RecordId,
    /// `view`, `print` or `export`.
    pub action: String,
    /// When it happened on the device (RFC 3339 UTC).
    pub at: String,
    /// The purpose given (exports).
    pub purpose: Option<String>,
}

/// Filters of the access-log page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFilter {
    /// Only entries about these records (a child and their records).
    pub records: Option<Vec<homevisit_core::RecordId>>,
    /// Only this user.
    pub user_id: Option<UserId>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<String>,
    /// Until this instant (exclusive, RFC 3339).
    pub until: Option<String>,
}

/// Console storage. Every method is one transaction.
pub trait ConsoleStore: Send + Sync + 'static {
    /// Sets (or replaces) a user's console login and password hash; ends their sessions.
    fn set_console_password(
        &self,
        user_id: UserId,
        login: &str,
        password_hash: String,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Removes a user's console access and ends every session of theirs at once; `false`
    /// when they had none.
    fn remove_console_access(
        &self,
        user_id: UserId,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The user and password hash of a login.
    fn console_credential(
        &self,
        login: &str,
    ) -> impl Future<Output = StoreResult<Option<(ConsoleUser, String)>>> + Send;

    /// Stores a new session.
    fn create_console_session(
        &self,
        id_hash: [u8; 32],
        user_id: UserId,
        csrf: String,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A live session: `None` when unknown or when its user has lost console access.
    fn console_session(
        &self,
        id_hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<Option<SessionRecord>>> + Send;

    /// Marks a session used at `now`.
    fn touch_console_session(
        &self,
        id_hash: [u8; 32],
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Ends a session (sign-out, timeout).
    fn end_console_session(
        &self,
        id_hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The device that attributes a user's console changes, created on first use (its token
    /// is never issued: nobody can sync with it).
    fn console_device(&self, user_id: UserId)
        -> impl Future<Output = StoreResult<DeviceId>> + Send;

    /// A team's devices (console devices excluded), newest first.
    fn team_devices(
        &self,
        team_id: TeamId,
    ) -> impl Future<Output = StoreResult<Vec<DeviceRow>>> + Send;

    /// Records that a device connected, and how that ended or is going.
    fn note_device_contact(
        &self,
        device_id: DeviceId,
        result: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Records what a device reported about itself (core version, unsynced records).
    fn note_device_report(
        &self,
        device_id: DeviceId,
        core_version: Option<String>,
        unsynced: Option<u64>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Appends to the console's audit trail (never edited or deleted).
    fn append_console_event(
        &self,
        event: ConsoleEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A team's console events, newest first.
    fn console_events(
        &self,
        team_id: TeamId,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<ConsoleEvent>>> + Send;

    /// Stores uploaded `RK-AUDIT` entries of a team; an entry already stored (same id) is
    /// left as it was. Returns how many were new.
    fn append_access_entries(
        &self,
        team_id: TeamId,
        uploaded_by: DeviceId,
        entries: Vec<AccessEntry>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// A team's access-log entries matching `filter`, newest first.
    fn access_entries(
        &self,
        team_id: TeamId,
        filter: AccessFilter,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<AccessEntry>>> + Send;

    /// Device connections of a team since `since` (RFC 3339): (sessions, ended in error).
    fn contact_counts(
        &self,
        team_id: TeamId,
        since: String,
    ) -> impl Future<Output = StoreResult<(u64, u64)>> + Send;

    /// A team's stored documents: (how many, total stored bytes).
    fn team_storage(&self, team_id: TeamId)
        -> impl Future<Output = StoreResult<(u64, u64)>> + Send;

    /// A team's users (id, name, role), for filters and names.
    fn team_users(
        &self,
        team_id: TeamId,
    ) -> impl Future<Output = StoreResult<Vec<ConsoleUser>>> + Send;
}
