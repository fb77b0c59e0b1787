//! The local audit log (`RK-AUDIT`): viewing, printing and exporting a record writes an entry,
//! offline too. The table is append-only: SQL triggers refuse edits and deletions, and the
//! store offers no call that changes an entry. Only `uploaded_at` is set, once, when the team
//! server has the entry (docs/API.md "Audit log").

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, Row};
use uuid::Uuid;

use super::db::SqlResult;
use crate::{
    error::{Error, Result},
    ids::RecordId,
    rules::record_keeping::{AuditAction, AuditEntry},
};

/// An entry as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedAudit {
    /// The entry's own id (stable across upload retries).
    pub id: Uuid,
    /// Position in the log, in the order entries were written.
    pub seq: i64,
    /// What was recorded.
    pub entry: AuditEntry,
    /// When the team server confirmed it has the entry; `None` while only on this device.
    pub uploaded_at: Option<DateTime<Utc>>,
}

/// Instants are stored in one fixed-width form, so that text order is time order.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn action_code(a: AuditAction) -> &'static str {
    match a {
        AuditAction::View => "view",
        AuditAction::Export => "export",
        AuditAction::Print => "print",
    }
}

fn parse_action(s: &str) -> Result<AuditAction> {
    match s {
        "view" => Ok(AuditAction::View),
        "export" => Ok(AuditAction::Export),
        "print" => Ok(AuditAction::Print),
        other => Err(Error::Corrupt {
            record: None,
            detail: format!("audit log: unknown action {other:?}"),
        }),
    }
}

/// Appends a `view` entry unless the same user on the same device already has a `view` of
/// the same record at or after `since` (one entry per viewing, not per screen refresh).
/// Returns the new entry's id, or `None` when an earlier entry covers this view.
pub(crate) fn append_view(
    conn: &Connection,
    entry: &AuditEntry,
    since: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let covered: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM audit_log
                            WHERE record_id = ?1 AND user_id = ?2 AND device_id = ?3
                              AND action = 'view' AND at >= ?4 AND at <= ?5)",
            params![
                entry.record_id.to_string(),
                entry.user_id.to_string(),
                entry.device_id.to_string(),
                stamp(since),
                stamp(entry.at),
            ],
            |r| r.get(0),
        )
        .sql()?;
    if covered {
        return Ok(None);
    }
    append(conn, entry).map(Some)
}

/// Appends one entry; returns its id.
pub(crate) fn append(conn: &Connection, entry: &AuditEntry) -> Result<Uuid> {
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO audit_log(id, user_id, device_id, record_id, action, at, purpose)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.to_string(),
            entry.user_id.to_string(),
            entry.device_id.to_string(),
            entry.record_id.to_string(),
            action_code(entry.action),
            stamp(entry.at),
            entry.purpose,
        ],
    )
    .sql()?;
    Ok(id)
}

const COLUMNS: &str = "seq, id, user_id, device_id, record_id, action, at, purpose, uploaded_at";

type RawRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn corrupt(detail: String) -> Error {
    Error::Corrupt {
        record: None,
        detail: format!("audit log: {detail}"),
    }
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt(format!("bad id {s:?}: {e}")))
}

fn instant(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(format!("bad instant {s:?}: {e}")))
}

fn decode(row: RawRow) -> Result<LoggedAudit> {
    let (seq, id, user, device, record, action, at, purpose, uploaded) = row;
    Ok(LoggedAudit {
        id: uuid(&id)?,
        seq,
        entry: AuditEntry {
            user_id: uuid(&user)?,
            device_id: uuid(&device)?,
            record_id: RecordId::from_uuid(uuid(&record)?),
            action: parse_action(&action)?,
            at: instant(&at)?,
            purpose,
        },
        uploaded_at: uploaded.as_deref().map(instant).transpose()?,
    })
}

fn collect(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<LoggedAudit>> {
    let mut stmt = conn.prepare(sql).sql()?;
    let rows = stmt
        .query_map(params, raw)
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?;
    rows.into_iter().map(decode).collect()
}

/// Every entry about `record` (or all entries), oldest first.
pub(crate) fn entries(conn: &Connection, record: Option<RecordId>) -> Result<Vec<LoggedAudit>> {
    match record {
        Some(r) => collect(
            conn,
            &format!("SELECT {COLUMNS} FROM audit_log WHERE record_id = ?1 ORDER BY seq"),
            [r.to_string()],
        ),
        None => collect(
            conn,
            &format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"),
            [],
        ),
    }
}

/// Up to `limit` entries the server does not have yet, oldest first.
pub(crate) fn pending(conn: &Connection, limit: usize) -> Result<Vec<LoggedAudit>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    collect(
        conn,
        &format!("SELECT {COLUMNS} FROM audit_log WHERE uploaded_at IS NULL ORDER BY seq LIMIT ?1"),
        [limit],
    )
}

/// Records that the server has these entries (one transaction; already-marked entries are
/// left as they are).
pub(crate) fn mark_uploaded(conn: &mut Connection, ids: &[Uuid], at: DateTime<Utc>) -> Result<()> {
    let tx = conn.transaction().sql()?;
    {
        let mut stmt = tx
            .prepare("UPDATE audit_log SET uploaded_at = ?2 WHERE id = ?1 AND uploaded_at IS NULL")
            .sql()?;
        let at = stamp(at);
        for id in ids {
            stmt.execute(params![id.to_string(), at]).sql()?;
        }
    }
    tx.commit().sql()
}
