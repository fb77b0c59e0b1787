//! [`ConsoleStore`] on PostgreSQL: the same tables as the SQLite schema step
//! ([`super::sqlite::CONSOLE_SCHEMA`]), so several server instances share sessions, the
//! console's audit trail and the access log. A session started through one instance is valid
//! on every other; signing out or removing access ends it everywhere at once.
//!
//! Instants the console shows and filters on (`at` columns) are stored as RFC 3339 UTC text,
//! as on SQLite, so the two backends order and filter them identically.

use chrono::Utc;
use homevisit_core::{model::user::Role, RecordId};
use tokio_postgres::Row;
use uuid::Uuid;

use super::store::{
    AccessEntry, AccessFilter, ConsoleEvent, ConsoleStore, ConsoleUser, DeviceRow, SessionRecord,
};
use crate::{
    postgres::{backend, u64_from, PgStore},
    store::{DeviceId, StoreError, StoreResult, TeamId, UserId},
};

/// The console's schema step (a `MIGRATIONS` entry of [`crate::postgres`]).
pub const CONSOLE_SCHEMA: &str = r#"
CREATE TABLE console_credentials (
    user_id uuid PRIMARY KEY REFERENCES users(id),
    login text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    set_at text NOT NULL
);
CREATE TABLE console_sessions (
    id_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id),
    csrf text NOT NULL,
    created_at bigint NOT NULL,
    last_seen bigint NOT NULL
);
CREATE TABLE console_events (
    id bigserial PRIMARY KEY,
    team_id uuid,
    user_id uuid,
    action text NOT NULL,
    detail text NOT NULL,
    address text,
    at text NOT NULL
);
CREATE INDEX console_events_by_team ON console_events(team_id, id);
CREATE FUNCTION homevisit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$;
CREATE TRIGGER console_events_append_only BEFORE UPDATE OR DELETE ON console_events
FOR EACH ROW EXECUTE FUNCTION homevisit_append_only();
CREATE TABLE console_devices (
    user_id uuid PRIMARY KEY REFERENCES users(id),
    device_id uuid NOT NULL UNIQUE REFERENCES devices(id)
);
CREATE TABLE device_contacts (
    id bigserial PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id),
    at text NOT NULL,
    result text NOT NULL
);
CREATE INDEX device_contacts_by_device ON device_contacts(device_id, id);
CREATE TABLE device_reports (
    device_id uuid PRIMARY KEY REFERENCES devices(id),
    core_version text,
    unsynced bigint,
    at text NOT NULL
);
CREATE TABLE access_log (
    team_id uuid NOT NULL REFERENCES teams(id),
    entry_id uuid NOT NULL,
    user_id uuid NOT NULL,
    device_id uuid NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES devices(id),
    record_id text NOT NULL,
    action text NOT NULL,
    at text NOT NULL,
    purpose text,
    received_at text NOT NULL,
    PRIMARY KEY (team_id, entry_id)
);
CREATE INDEX access_log_by_at ON access_log(team_id, at);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION homevisit_append_only();
"#;

fn now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

const USER_COLS: &str = "u.id, u.team_id, u.name, u.role, u.hcpc_number, u.hcpc_verified_until";

fn role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stored role {s:?}")))
}

/// A [`ConsoleUser`] from the six [`USER_COLS`] starting at column `at`.
fn user_at(r: &Row, at: usize) -> StoreResult<ConsoleUser> {
    Ok(ConsoleUser {
        user_id: r.get(at),
        team_id: r.get(at + 1),
        name: r.get(at + 2),
        role: role(r.get::<_, &str>(at + 3))?,
        hcpc_number: r.get(at + 4),
        hcpc_verified_until: r.get(at + 5),
    })
}

fn record_id(s: &str) -> StoreResult<RecordId> {
    s.parse::<RecordId>()
        .map_err(|_| StoreError::Corrupt(format!("stored record id {s:?}")))
}

fn i64_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ConsoleStore for PgStore {
    async fn set_console_password(
        &self,
        user_id: UserId,
        login: &str,
        password_hash: String,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM users WHERE id = $1)",
                &[&user_id],
            )
            .await
            .map_err(backend)?
            .get(0);
        if !exists {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        let taken: Option<Uuid> = tx
            .query_opt(
                "SELECT user_id FROM console_credentials WHERE login = $1",
                &[&login],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get(0));
        if taken.is_some_and(|u| u != user_id) {
            return Err(StoreError::Conflict(format!(
                "the login {login:?} belongs to another user"
            )));
        }
        tx.execute(
            "INSERT INTO console_credentials (user_id, login, password_hash, set_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET login = $2, password_hash = $3, set_at = $4",
            &[&user_id, &login, &password_hash, &now()],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM console_sessions WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn remove_console_access(&self, user_id: UserId) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let n = tx
            .execute(
                "DELETE FROM console_credentials WHERE user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(backend)?;
        tx.execute(
            "DELETE FROM console_sessions WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(n > 0)
    }

    async fn console_credential(&self, login: &str) -> StoreResult<Option<(ConsoleUser, String)>> {
        self.client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {USER_COLS}, k.password_hash FROM console_credentials k
                     JOIN users u ON u.id = k.user_id WHERE k.login = $1"
                ),
                &[&login],
            )
            .await
            .map_err(backend)?
            .map(|r| Ok((user_at(&r, 0)?, r.get(6))))
            .transpose()
    }

    async fn create_console_session(
        &self,
        id_hash: [u8; 32],
        user_id: UserId,
        csrf: String,
        now_secs: i64,
    ) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO console_sessions (id_hash, user_id, csrf, created_at, last_seen)
                 VALUES ($1, $2, $3, $4, $4)",
                &[&&id_hash[..], &user_id, &csrf, &now_secs],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn console_session(&self, id_hash: [u8; 32]) -> StoreResult<Option<SessionRecord>> {
        // Joined with the credentials: a user whose console access was removed has no
        // session, whatever their cookie says.
        self.client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {USER_COLS}, s.csrf, s.created_at, s.last_seen
                     FROM console_sessions s
                     JOIN console_credentials k ON k.user_id = s.user_id
                     JOIN users u ON u.id = s.user_id
                     WHERE s.id_hash = $1"
                ),
                &[&&id_hash[..]],
            )
            .await
            .map_err(backend)?
            .map(|r| {
                Ok(SessionRecord {
                    user: user_at(&r, 0)?,
                    csrf: r.get(6),
                    created_at: r.get(7),
                    last_seen: r.get(8),
                })
            })
            .transpose()
    }

    async fn touch_console_session(&self, id_hash: [u8; 32], now_secs: i64) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE console_sessions SET last_seen = $2 WHERE id_hash = $1",
                &[&&id_hash[..], &now_secs],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn end_console_session(&self, id_hash: [u8; 32]) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM console_sessions WHERE id_hash = $1",
                &[&&id_hash[..]],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn console_device(&self, user_id: UserId) -> StoreResult<DeviceId> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        // Two instances creating a user's console device at once: the lock on the user row
        // makes the second wait and then find the first one's device.
        let user = tx
            .query_opt("SELECT id FROM users WHERE id = $1 FOR UPDATE", &[&user_id])
            .await
            .map_err(backend)?;
        if user.is_none() {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        if let Some(r) = tx
            .query_opt(
                "SELECT device_id FROM console_devices WHERE user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(backend)?
        {
            return Ok(r.get(0));
        }
        // A token hash nobody holds the token of: the console device cannot sync.
        let issued = crate::auth::issue_token();
        let id = Uuid::new_v4();
        tx.execute(
            "INSERT INTO devices (id, user_id, name, token_hash) VALUES ($1, $2, 'team console', $3)",
            &[&id, &user_id, &&issued.hash[..]],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "INSERT INTO console_devices (user_id, device_id) VALUES ($1, $2)",
            &[&user_id, &id],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(id)
    }

    async fn team_devices(&self, team_id: TeamId) -> StoreResult<Vec<DeviceRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT d.id, d.name, u.name, u.role,
                    to_char(d.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    (SELECT at FROM device_contacts x WHERE x.device_id = d.id ORDER BY x.id DESC LIMIT 1),
                    (SELECT result FROM device_contacts x WHERE x.device_id = d.id ORDER BY x.id DESC LIMIT 1),
                    r.unsynced, r.core_version
                 FROM devices d JOIN users u ON u.id = d.user_id
                 LEFT JOIN device_reports r ON r.device_id = d.id
                 WHERE u.team_id = $1
                   AND d.id NOT IN (SELECT device_id FROM console_devices)
                 ORDER BY d.created_at DESC, d.id",
                &[&team_id],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(DeviceRow {
                    device_id: r.get(0),
                    name: r.get(1),
                    user_name: r.get(2),
                    role: role(r.get::<_, &str>(3))?,
                    revoked_at: r.get(4),
                    last_seen: r.get(5),
                    last_result: r.get(6),
                    unsynced: r
                        .get::<_, Option<i64>>(7)
                        .and_then(|n| u64::try_from(n).ok()),
                    core_version: r.get(8),
                })
            })
            .collect()
    }

    async fn note_device_contact(&self, device_id: DeviceId, result: &str) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO device_contacts (device_id, at, result) VALUES ($1, $2, $3)",
                &[&device_id, &now(), &result],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn note_device_report(
        &self,
        device_id: DeviceId,
        core_version: Option<String>,
        unsynced: Option<u64>,
    ) -> StoreResult<()> {
        let unsynced = unsynced.and_then(|n| i64::try_from(n).ok());
        self.client()
            .await?
            .execute(
                "INSERT INTO device_reports (device_id, core_version, unsynced, at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (device_id) DO UPDATE SET core_version = $2, unsynced = $3, at = $4",
                &[&device_id, &core_version, &unsynced, &now()],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn append_console_event(&self, event: ConsoleEvent) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO console_events (team_id, user_id, action, detail, address, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &event.team_id,
                    &event.user_id,
                    &event.action,
                    &event.detail,
                    &event.address,
                    &now(),
                ],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn console_events(
        &self,
        team_id: TeamId,
        limit: usize,
    ) -> StoreResult<Vec<ConsoleEvent>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT team_id, user_id, action, detail, address, at FROM console_events
                 WHERE team_id = $1 ORDER BY id DESC LIMIT $2",
                &[&team_id, &i64_of(limit)],
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| ConsoleEvent {
                team_id: r.get(0),
                user_id: r.get(1),
                action: r.get(2),
                detail: r.get(3),
                address: r.get(4),
                at: r.get(5),
            })
            .collect())
    }

    async fn append_access_entries(
        &self,
        team_id: TeamId,
        uploaded_by: DeviceId,
        entries: Vec<AccessEntry>,
    ) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        // ON CONFLICT DO NOTHING: the same entry uploaded twice (a lost acknowledgement, or
        // through two instances) stays one row, as it was first received.
        let st = tx
            .prepare(
                "INSERT INTO access_log
                 (team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, purpose, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .await
            .map_err(backend)?;
        let received = now();
        let mut new = 0u64;
        for e in &entries {
            new += tx
                .execute(
                    &st,
                    &[
                        &team_id,
                        &e.entry_id,
                        &e.user_id,
                        &e.device_id,
                        &uploaded_by,
                        &e.record_id.to_string(),
                        &e.action,
                        &e.at,
                        &e.purpose,
                        &received,
                    ],
                )
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(new)
    }

    async fn access_entries(
        &self,
        team_id: TeamId,
        filter: AccessFilter,
        limit: usize,
    ) -> StoreResult<Vec<AccessEntry>> {
        let records: Option<Vec<String>> = filter
            .records
            .map(|r| r.iter().map(|id| id.to_string()).collect());
        if records.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let rows = self
            .client()
            .await?
            .query(
                "SELECT a.entry_id, a.user_id, u.name, a.device_id, a.uploaded_by, d.name,
                        a.record_id, a.action, a.at, a.purpose
                 FROM access_log a
                 LEFT JOIN users u ON u.id = a.user_id AND u.team_id = a.team_id
                 LEFT JOIN devices d ON d.id = a.uploaded_by
                 WHERE a.team_id = $1
                   AND ($2::uuid IS NULL OR a.user_id = $2)
                   AND ($3::text IS NULL OR a.at >= $3)
                   AND ($4::text IS NULL OR a.at < $4)
                   AND ($5::text[] IS NULL OR a.record_id = ANY($5))
                 ORDER BY a.at DESC, a.entry_id LIMIT $6",
                &[
                    &team_id,
                    &filter.user_id,
                    &filter.from,
                    &filter.until,
                    &records,
                    &i64_of(limit.min(10_000)),
                ],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(AccessEntry {
                    entry_id: r.get(0),
                    user_id: r.get(1),
                    user_name: r.get(2),
                    device_id: r.get(3),
                    uploaded_by: r.get(4),
                    uploaded_by_name: r.get(5),
                    record_id: record_id(r.get::<_, &str>(6))?,
                    action: r.get(7),
                    at: r.get(8),
                    purpose: r.get(9),
                })
            })
            .collect()
    }

    async fn contact_counts(&self, team_id: TeamId, since: String) -> StoreResult<(u64, u64)> {
        let r = self
            .client()
            .await?
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE x.result NOT LIKE 'ok%')
                 FROM device_contacts x JOIN devices d ON d.id = x.device_id
                 JOIN users u ON u.id = d.user_id
                 WHERE u.team_id = $1 AND x.at >= $2",
                &[&team_id, &since],
            )
            .await
            .map_err(backend)?;
        Ok((u64_from(r.get(0))?, u64_from(r.get(1))?))
    }

    async fn team_storage(&self, team_id: TeamId) -> StoreResult<(u64, u64)> {
        let r = self
            .client()
            .await?
            .query_one(
                "SELECT count(*), COALESCE(sum(size_bytes), 0)::bigint FROM documents WHERE team_id = $1",
                &[&team_id],
            )
            .await
            .map_err(backend)?;
        Ok((u64_from(r.get(0))?, u64_from(r.get(1))?))
    }

    async fn team_users(&self, team_id: TeamId) -> StoreResult<Vec<ConsoleUser>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {USER_COLS} FROM users u WHERE u.team_id = $1 ORDER BY u.name, u.id"
                ),
                &[&team_id],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(|r| user_at(r, 0)).collect()
    }
}
