//! [`ConsoleStore`] on the server's SQLite database: the tables of schema step
//! [`CONSOLE_SCHEMA`], kept apart from the sync path's tables.

use chrono::{NaiveDate, Utc};
use homevisit_core::{model::user::Role, RecordId};
use rusqlite::{params, params_from_iter, OptionalExtension};
use uuid::Uuid;

use super::store::{
    AccessEntry, AccessFilter, ConsoleEvent, ConsoleStore, ConsoleUser, DeviceRow, SessionRecord,
};
use crate::{
    sqlite::{backend, parse_uuid, SqliteStore},
    store::{DeviceId, StoreError, StoreResult, TeamId, UserId},
};

/// The console's schema step (a `MIGRATIONS` entry of [`crate::sqlite`]).
pub const CONSOLE_SCHEMA: &str = r#"
CREATE TABLE console_credentials (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE console_sessions (
    id_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE TABLE console_events (
    id INTEGER PRIMARY KEY,
    team_id TEXT,
    user_id TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT,
    at TEXT NOT NULL
);
CREATE INDEX console_events_by_team ON console_events(team_id, id);
CREATE TRIGGER console_events_append_only_u BEFORE UPDATE ON console_events
BEGIN SELECT RAISE(ABORT, 'the console audit trail is append-only'); END;
CREATE TRIGGER console_events_append_only_d BEFORE DELETE ON console_events
BEGIN SELECT RAISE(ABORT, 'the console audit trail is append-only'); END;
CREATE TABLE console_devices (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    device_id TEXT NOT NULL UNIQUE REFERENCES devices(id)
);
CREATE TABLE device_contacts (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    at TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX device_contacts_by_device ON device_contacts(device_id, id);
CREATE TABLE device_reports (
    device_id TEXT PRIMARY KEY REFERENCES devices(id),
    core_version TEXT,
    unsynced INTEGER,
    at TEXT NOT NULL
);
CREATE TABLE access_log (
    team_id TEXT NOT NULL REFERENCES teams(id),
    entry_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES devices(id),
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    purpose TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (team_id, entry_id)
);
CREATE INDEX access_log_by_at ON access_log(team_id, at);
CREATE TRIGGER access_log_append_only_u BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_append_only_d BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
"#;

fn now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

type UserRaw = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

const USER_COLS: &str = "u.id, u.team_id, u.name, u.role, u.hcpc_number, u.hcpc_verified_until";

fn user_raw(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UserRaw> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
    ))
}

fn role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stored role {s:?}")))
}

fn user_from(raw: UserRaw) -> StoreResult<ConsoleUser> {
    let (id, team, name, r, hcpc, until) = raw;
    Ok(ConsoleUser {
        user_id: parse_uuid(&id)?,
        team_id: parse_uuid(&team)?,
        name,
        role: role(&r)?,
        hcpc_number: hcpc,
        hcpc_verified_until: until.and_then(|d| d.parse::<NaiveDate>().ok()),
    })
}

fn record_id(s: &str) -> StoreResult<RecordId> {
    s.parse::<RecordId>()
        .map_err(|_| StoreError::Corrupt(format!("stored record id {s:?}")))
}

impl ConsoleStore for SqliteStore {
    async fn set_console_password(
        &self,
        user_id: UserId,
        login: &str,
        password_hash: String,
    ) -> StoreResult<()> {
        let login = login.to_string();
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
            let taken: Option<String> = tx
                .query_row(
                    "SELECT user_id FROM console_credentials WHERE login = ?1",
                    [&login],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if taken.is_some_and(|u| u != user_id.to_string()) {
                return Err(StoreError::Conflict(format!(
                    "the login {login:?} belongs to another user"
                )));
            }
            tx.execute(
                "INSERT INTO console_credentials (user_id, login, password_hash, set_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(user_id) DO UPDATE SET login = ?2, password_hash = ?3, set_at = ?4",
                params![user_id.to_string(), login, password_hash, now()],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM console_sessions WHERE user_id = ?1",
                [user_id.to_string()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn remove_console_access(&self, user_id: UserId) -> StoreResult<bool> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let n = tx
                .execute(
                    "DELETE FROM console_credentials WHERE user_id = ?1",
                    [user_id.to_string()],
                )
                .map_err(backend)?;
            tx.execute(
                "DELETE FROM console_sessions WHERE user_id = ?1",
                [user_id.to_string()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn console_credential(&self, login: &str) -> StoreResult<Option<(ConsoleUser, String)>> {
        let login = login.to_string();
        self.run(move |c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {USER_COLS}, k.password_hash FROM console_credentials k
                         JOIN users u ON u.id = k.user_id WHERE k.login = ?1"
                    ),
                    [&login],
                    |r| Ok((user_raw(r, 0)?, r.get::<_, String>(6)?)),
                )
                .optional()
                .map_err(backend)?;
            row.map(|(u, h)| Ok((user_from(u)?, h))).transpose()
        })
        .await
    }

    async fn create_console_session(
        &self,
        id_hash: [u8; 32],
        user_id: UserId,
        csrf: String,
        now_secs: i64,
    ) -> StoreResult<()> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO console_sessions (id_hash, user_id, csrf, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![&id_hash[..], user_id.to_string(), csrf, now_secs],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn console_session(&self, id_hash: [u8; 32]) -> StoreResult<Option<SessionRecord>> {
        self.run(move |c| {
            // Joined with the credentials: a user whose console access was removed has no
            // session, whatever their cookie says.
            let row = c
                .query_row(
                    &format!(
                        "SELECT {USER_COLS}, s.csrf, s.created_at, s.last_seen
                         FROM console_sessions s
                         JOIN console_credentials k ON k.user_id = s.user_id
                         JOIN users u ON u.id = s.user_id
                         WHERE s.id_hash = ?1"
                    ),
                    [&id_hash[..]],
                    |r| {
                        Ok((
                            user_raw(r, 0)?,
                            r.get::<_, String>(6)?,
                            r.get::<_, i64>(7)?,
                            r.get::<_, i64>(8)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            row.map(|(u, csrf, created_at, last_seen)| {
                Ok(SessionRecord {
                    user: user_from(u)?,
                    csrf,
                    created_at,
                    last_seen,
                })
            })
            .transpose()
        })
        .await
    }

    async fn touch_console_session(&self, id_hash: [u8; 32], now_secs: i64) -> StoreResult<()> {
        self.run(move |c| {
            c.execute(
                "UPDATE console_sessions SET last_seen = ?2 WHERE id_hash = ?1",
                params![&id_hash[..], now_secs],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn end_console_session(&self, id_hash: [u8; 32]) -> StoreResult<()> {
        self.run(move |c| {
            c.execute(
                "DELETE FROM console_sessions WHERE id_hash = ?1",
                [&id_hash[..]],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn console_device(&self, user_id: UserId) -> StoreResult<DeviceId> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT device_id FROM console_devices WHERE user_id = ?1",
                    [user_id.to_string()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if let Some(id) = existing {
                return parse_uuid(&id);
            }
            // A token hash nobody holds the token of: the console device cannot sync.
            let issued = crate::auth::issue_token();
            let id = Uuid::new_v4();
            tx.execute(
                "INSERT INTO devices (id, user_id, name, token_hash, created_at)
                 VALUES (?1, ?2, 'team console', ?3, ?4)",
                params![id.to_string(), user_id.to_string(), &issued.hash[..], now()],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO console_devices (user_id, device_id) VALUES (?1, ?2)",
                params![user_id.to_string(), id.to_string()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(id)
        })
        .await
    }

    async fn team_devices(&self, team_id: TeamId) -> StoreResult<Vec<DeviceRow>> {
        self.run(move |c| {
            let mut st = c
                .prepare(
                    "SELECT d.id, d.name, u.name, u.role, d.revoked_at,
                        (SELECT at FROM device_contacts x WHERE x.device_id = d.id ORDER BY x.id DESC LIMIT 1),
                        (SELECT result FROM device_contacts x WHERE x.device_id = d.id ORDER BY x.id DESC LIMIT 1),
                        r.unsynced, r.core_version
                     FROM devices d JOIN users u ON u.id = d.user_id
                     LEFT JOIN device_reports r ON r.device_id = d.id
                     WHERE u.team_id = ?1
                       AND d.id NOT IN (SELECT device_id FROM console_devices)
                     ORDER BY d.created_at DESC, d.id",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([team_id.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, user_name, r, revoked_at, last_seen, last_result, unsynced, core) =
                    row.map_err(backend)?;
                out.push(DeviceRow {
                    device_id: parse_uuid(&id)?,
                    name,
                    user_name,
                    role: role(&r)?,
                    revoked_at,
                    last_seen,
                    last_result,
                    unsynced: unsynced.and_then(|n| u64::try_from(n).ok()),
                    core_version: core,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn note_device_contact(&self, device_id: DeviceId, result: &str) -> StoreResult<()> {
        let result = result.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT INTO device_contacts (device_id, at, result) VALUES (?1, ?2, ?3)",
                params![device_id.to_string(), now(), result],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn note_device_report(
        &self,
        device_id: DeviceId,
        core_version: Option<String>,
        unsynced: Option<u64>,
    ) -> StoreResult<()> {
        self.run(move |c| {
            let unsynced = unsynced.and_then(|n| i64::try_from(n).ok());
            c.execute(
                "INSERT INTO device_reports (device_id, core_version, unsynced, at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(device_id) DO UPDATE SET core_version = ?2, unsynced = ?3, at = ?4",
                params![device_id.to_string(), core_version, unsynced, now()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn append_console_event(&self, event: ConsoleEvent) -> StoreResult<()> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO console_events (team_id, user_id, action, detail, address, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    event.team_id.map(|t| t.to_string()),
                    event.user_id.map(|u| u.to_string()),
                    event.action,
                    event.detail,
                    event.address,
                    now()
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn console_events(
        &self,
        team_id: TeamId,
        limit: usize,
    ) -> StoreResult<Vec<ConsoleEvent>> {
        self.run(move |c| {
            let mut st = c
                .prepare(
                    "SELECT team_id, user_id, action, detail, address, at FROM console_events
                     WHERE team_id = ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(backend)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = st
                .query_map(params![team_id.to_string(), limit], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (t, u, action, detail, address, at) = row.map_err(backend)?;
                out.push(ConsoleEvent {
                    team_id: t.as_deref().map(parse_uuid).transpose()?,
                    user_id: u.as_deref().map(parse_uuid).transpose()?,
                    action,
                    detail,
                    address,
                    at,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn append_access_entries(
        &self,
        team_id: TeamId,
        uploaded_by: DeviceId,
        entries: Vec<AccessEntry>,
    ) -> StoreResult<u64> {
        self.run(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let mut new = 0u64;
            {
                // INSERT OR IGNORE: the same entry uploaded twice (a lost acknowledgement)
                // stays one row, as it was first received.
                let mut st = tx
                    .prepare(
                        "INSERT OR IGNORE INTO access_log
                         (team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, purpose, received_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    )
                    .map_err(backend)?;
                let received = now();
                for e in &entries {
                    new += st
                        .execute(params![
                            team_id.to_string(),
                            e.entry_id.to_string(),
                            e.user_id.to_string(),
                            e.device_id.to_string(),
                            uploaded_by.to_string(),
                            e.record_id.to_string(),
                            e.action,
                            e.at,
                            e.purpose,
                            received
                        ])
                        .map_err(backend)? as u64;
                }
            }
            tx.commit().map_err(backend)?;
            Ok(new)
        })
        .await
    }

    async fn access_entries(
        &self,
        team_id: TeamId,
        filter: AccessFilter,
        limit: usize,
    ) -> StoreResult<Vec<AccessEntry>> {
        self.run(move |c| {
            let mut sql = String::from(
                "SELECT a.entry_id, a.user_id, u.name, a.device_id, a.uploaded_by, d.name,
                        a.record_id, a.action, a.at, a.purpose
                 FROM access_log a
                 LEFT JOIN users u ON u.id = a.user_id AND u.team_id = a.team_id
                 LEFT JOIN devices d ON d.id = a.uploaded_by
                 WHERE a.team_id = ?",
            );
            let mut args: Vec<String> = vec![team_id.to_string()];
            if let Some(u) = filter.user_id {
                sql.push_str(" AND a.user_id = ?");
                args.push(u.to_string());
            }
            if let Some(from) = filter.from {
                sql.push_str(" AND a.at >= ?");
                args.push(from);
            }
            if let Some(until) = filter.until {
                sql.push_str(" AND a.at < ?");
                args.push(until);
            }
            if let Some(records) = filter.records {
                if records.is_empty() {
                    return Ok(Vec::new());
                }
                sql.push_str(" AND a.record_id IN (");
                sql.push_str(&vec!["?"; records.len()].join(", "));
                sql.push(')');
                args.extend(records.iter().map(|r| r.to_string()));
            }
            sql.push_str(&format!(
                " ORDER BY a.at DESC, a.entry_id LIMIT {}",
                limit.min(10_000)
            ));
            let mut st = c.prepare(&sql).map_err(backend)?;
            let rows = st
                .query_map(params_from_iter(args.iter()), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, Option<String>>(9)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (e, u, un, d, by, byn, rec, action, at, purpose) = row.map_err(backend)?;
                out.push(AccessEntry {
                    entry_id: parse_uuid(&e)?,
                    user_id: parse_uuid(&u)?,
                    user_name: un,
                    device_id: parse_uuid(&d)?,
                    uploaded_by: parse_uuid(&by)?,
                    uploaded_by_name: byn,
                    record_id: record_id(&rec)?,
                    action,
                    at,
                    purpose,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn contact_counts(&self, team_id: TeamId, since: String) -> StoreResult<(u64, u64)> {
        self.run(move |c| {
            let (n, errors): (i64, i64) = c
                .query_row(
                    "SELECT COUNT(*), COALESCE(SUM(x.result NOT LIKE 'ok%'), 0)
                     FROM device_contacts x JOIN devices d ON d.id = x.device_id
                     JOIN users u ON u.id = d.user_id
                     WHERE u.team_id = ?1 AND x.at >= ?2",
                    params![team_id.to_string(), since],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)?;
            Ok((
                u64::try_from(n).unwrap_or(0),
                u64::try_from(errors).unwrap_or(0),
            ))
        })
        .await
    }

    async fn team_storage(&self, team_id: TeamId) -> StoreResult<(u64, u64)> {
        self.run(move |c| {
            let (n, bytes): (i64, i64) = c
                .query_row(
                    "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM documents WHERE team_id = ?1",
                    [team_id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)?;
            Ok((u64::try_from(n).unwrap_or(0), u64::try_from(bytes).unwrap_or(0)))
        })
        .await
    }

    async fn team_users(&self, team_id: TeamId) -> StoreResult<Vec<ConsoleUser>> {
        self.run(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {USER_COLS} FROM users u WHERE u.team_id = ?1 ORDER BY u.name, u.id"
                ))
                .map_err(backend)?;
            let rows = st
                .query_map([team_id.to_string()], |r| user_raw(r, 0))
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(user_from(row.map_err(backend)?)?);
            }
            Ok(out)
        })
        .await
    }
}
