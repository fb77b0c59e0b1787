//! Per-record sync status (`SAF-LOST-EDIT`), persisted automerge sync states and the small
//! `sync_meta` key/value table the sync client keeps its cursor in.
//!
//! The status is the store's promise to the user: `synced` is shown only when the server has
//! acknowledged heads that contain every local change of the record.

use std::str::FromStr;

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{params, Connection, OptionalExtension};

use super::db::SqlResult;
use crate::{
    error::{Error, Result},
    ids::RecordId,
};

/// Where a record stands with the team server (`SAF-LOST-EDIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    /// Created on this device and never acknowledged by the server.
    LocalOnly,
    /// Has changes the server has not acknowledged yet.
    Pending,
    /// The server's acknowledged heads contain every local change.
    Synced,
    /// Synced, with a clinical field in conflict that a person must resolve.
    Conflict,
}

impl SyncStatus {
    /// The storage code: `local_only`, `pending`, `synced`, `conflict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LocalOnly => "local_only",
            Self::Pending => "pending",
            Self::Synced => "synced",
            Self::Conflict => "conflict",
        }
    }

    /// Whether the server may lack some of the record's changes.
    pub fn is_unsynced(self) -> bool {
        matches!(self, Self::LocalOnly | Self::Pending)
    }
}

impl FromStr for SyncStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "local_only" => Ok(Self::LocalOnly),
            "pending" => Ok(Self::Pending),
            "synced" => Ok(Self::Synced),
            "conflict" => Ok(Self::Conflict),
            other => Err(Error::Corrupt {
                record: None,
                detail: format!("unknown sync status `{other}`"),
            }),
        }
    }
}

/// Heads as stored: 32 bytes per hash, concatenated.
pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// The inverse of [`encode_heads`]; a length that is not a multiple of 32 is corruption.
pub(crate) fn decode_heads(id: RecordId, bytes: &[u8]) -> Result<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(Error::Corrupt {
            record: Some(id),
            detail: format!("stored heads have {} bytes", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            ChangeHash(h)
        })
        .collect())
}

/// A record's stored status and acknowledged heads.
#[derive(Debug, Clone)]
pub(crate) struct SyncRow {
    pub status: SyncStatus,
    pub acked_heads: Option<Vec<ChangeHash>>,
}

pub(crate) fn read_row(conn: &Connection, id: RecordId) -> Result<Option<SyncRow>> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT status, acked_heads FROM record_sync WHERE record_id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .sql()?;
    row.map(|(status, acked)| {
        Ok(SyncRow {
            status: status.parse().map_err(|e| with_record(e, id))?,
            acked_heads: acked.map(|b| decode_heads(id, &b)).transpose()?,
        })
    })
    .transpose()
}

/// Writes the status (and the copy in the `records` projection) — inside the caller's
/// transaction.
pub(crate) fn write_row(conn: &Connection, id: RecordId, row: &SyncRow) -> Result<()> {
    let key = id.to_string();
    conn.execute(
        "INSERT INTO record_sync(record_id, status, acked_heads) VALUES (?1, ?2, ?3)
         ON CONFLICT(record_id) DO UPDATE SET status = ?2, acked_heads = ?3",
        params![
            key,
            row.status.as_str(),
            row.acked_heads.as_deref().map(encode_heads)
        ],
    )
    .sql()?;
    conn.execute(
        "UPDATE records SET sync_status = ?2 WHERE id = ?1",
        params![key, row.status.as_str()],
    )
    .sql()?;
    Ok(())
}

fn with_record(e: Error, id: RecordId) -> Error {
    match e {
        Error::Corrupt { detail, .. } => Error::Corrupt {
            record: Some(id),
            detail,
        },
        other => other,
    }
}

/// Whether the document has every change named by `heads`.
pub(crate) fn contains_all(doc: &mut AutoCommit, heads: &[ChangeHash]) -> bool {
    heads
        .iter()
        .all(|h| doc.get_change_meta_by_hash(h).is_some())
}

/// How many of the document's changes `heads` does not cover; `None` when the document lacks
/// one of `heads` (their ancestry cannot be judged).
pub(crate) fn uncovered(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Option<usize> {
    contains_all(doc, heads).then(|| doc.get_changes_meta(heads).len())
}

/// Synced or Conflict for a fully acknowledged document.
pub(crate) fn acknowledged_status(conflicts: usize) -> SyncStatus {
    if conflicts > 0 {
        SyncStatus::Conflict
    } else {
        SyncStatus::Synced
    }
}

/// The status after a *local* change: anything the server had acknowledged is now behind.
pub(crate) fn after_local_edit(previous: &SyncRow) -> SyncRow {
    SyncRow {
        status: match previous.status {
            SyncStatus::LocalOnly => SyncStatus::LocalOnly,
            _ => SyncStatus::Pending,
        },
        acked_heads: previous.acked_heads.clone(),
    }
}

/// The status after changes *received from the server* were merged. A record that was fully
/// acknowledged stays so: what it gained came from the server, which therefore has it; its new
/// heads become the acknowledged ones. Otherwise local changes are still unacknowledged.
pub(crate) fn after_remote_change(
    previous: &SyncRow,
    new_heads: &[ChangeHash],
    conflicts: usize,
) -> SyncRow {
    match previous.status {
        SyncStatus::Synced | SyncStatus::Conflict => SyncRow {
            status: acknowledged_status(conflicts),
            acked_heads: Some(new_heads.to_vec()),
        },
        SyncStatus::LocalOnly | SyncStatus::Pending => previous.clone(),
    }
}

/// The status after the server acknowledged `server_heads` (`SAF-LOST-EDIT`): `synced` only
/// when the document contains those heads and has no change outside them. A late, older
/// acknowledgement never replaces a newer one that covers more.
pub(crate) fn after_acknowledgement(
    doc: &mut AutoCommit,
    previous: &SyncRow,
    server_heads: &[ChangeHash],
    conflicts: usize,
) -> SyncRow {
    let new_gap = uncovered(doc, server_heads);
    let old_gap = previous
        .acked_heads
        .as_deref()
        .and_then(|h| uncovered(doc, h));
    let best = match (new_gap, old_gap) {
        (Some(n), Some(o)) if o < n => previous.acked_heads.clone().map(|h| (h, o)),
        (Some(n), _) => Some((server_heads.to_vec(), n)),
        (None, Some(o)) => previous.acked_heads.clone().map(|h| (h, o)),
        (None, None) => None,
    };
    match best {
        Some((heads, 0)) => SyncRow {
            status: acknowledged_status(conflicts),
            acked_heads: Some(heads),
        },
        Some((heads, _)) => SyncRow {
            status: SyncStatus::Pending,
            acked_heads: Some(heads),
        },
        // The server named changes this device does not have: it has seen the record, but
        // whether it has every local change cannot be told yet.
        None => SyncRow {
            status: SyncStatus::Pending,
            acked_heads: previous.acked_heads.clone(),
        },
    }
}

/// The persisted automerge sync state with the server for a record.
pub(crate) fn read_sync_state(conn: &Connection, id: RecordId) -> Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT state FROM sync_state WHERE record_id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .optional()
    .sql()
}

/// Stores a sync state (inside the caller's transaction).
pub(crate) fn write_sync_state(conn: &Connection, id: RecordId, state: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state(record_id, state) VALUES (?1, ?2)
         ON CONFLICT(record_id) DO UPDATE SET state = ?2",
        params![id.to_string(), state],
    )
    .sql()?;
    Ok(())
}

/// Reads a `sync_meta` value.
pub(crate) fn read_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    conn.query_row("SELECT value FROM sync_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
    .sql()
}

/// Writes a `sync_meta` value.
pub(crate) fn write_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = ?2",
        params![key, value],
    )
    .sql()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::{transaction::Transactable, ROOT};

    use super::*;

    fn doc_with(n: usize) -> (AutoCommit, Vec<Vec<ChangeHash>>) {
        let mut doc = AutoCommit::new();
        let mut heads = Vec::new();
        for i in 0..n {
            doc.put(ROOT, "x", i as i64).unwrap();
            doc.commit();
            heads.push(doc.get_heads());
        }
        (doc, heads)
    }

    fn row(status: SyncStatus, acked: Option<Vec<ChangeHash>>) -> SyncRow {
        SyncRow {
            status,
            acked_heads: acked,
        }
    }

    #[test]
    fn saf_lost_edit_synced_only_when_server_heads_cover_every_local_change() {
        let (mut doc, heads) = doc_with(3);
        let prev = row(SyncStatus::LocalOnly, None);
        let partial = after_acknowledgement(&mut doc, &prev, &heads[1], 0);
        assert_eq!(partial.status, SyncStatus::Pending);
        let full = after_acknowledgement(&mut doc, &partial, &heads[2], 0);
        assert_eq!(full.status, SyncStatus::Synced);
        let conflicted = after_acknowledgement(&mut doc, &partial, &heads[2], 1);
        assert_eq!(conflicted.status, SyncStatus::Conflict);
    }

    #[test]
    fn saf_lost_edit_a_late_older_acknowledgement_does_not_downgrade() {
        let (mut doc, heads) = doc_with(3);
        let synced = row(SyncStatus::Synced, Some(heads[2].clone()));
        let after = after_acknowledgement(&mut doc, &synced, &heads[0], 0);
        assert_eq!(after.status, SyncStatus::Synced);
        assert_eq!(after.acked_heads, Some(heads[2].clone()));
    }

    #[test]
    fn saf_lost_edit_unknown_server_heads_are_not_synced() {
        let (mut doc, _) = doc_with(2);
        let stranger = ChangeHash([7; 32]);
        let after =
            after_acknowledgement(&mut doc, &row(SyncStatus::LocalOnly, None), &[stranger], 0);
        assert_eq!(after.status, SyncStatus::Pending);
        assert_eq!(after.acked_heads, None);
    }

    #[test]
    fn saf_lost_edit_local_edit_makes_acknowledged_record_pending_but_local_only_stays() {
        let synced = row(SyncStatus::Synced, Some(vec![]));
        assert_eq!(after_local_edit(&synced).status, SyncStatus::Pending);
        let local = row(SyncStatus::LocalOnly, None);
        assert_eq!(after_local_edit(&local).status, SyncStatus::LocalOnly);
    }

    #[test]
    fn heads_round_trip_and_bad_lengths_are_corrupt() {
        let (_, heads) = doc_with(1);
        let id = RecordId::new();
        assert_eq!(
            decode_heads(id, &encode_heads(&heads[0])).unwrap(),
            heads[0]
        );
        assert!(matches!(
            decode_heads(id, &[1, 2, 3]),
            Err(Error::Corrupt { record: Some(r), .. }) if r == id
        ));
    }

    #[test]
    fn status_codes_round_trip() {
        for s in [
            SyncStatus::LocalOnly,
            SyncStatus::Pending,
            SyncStatus::Synced,
            SyncStatus::Conflict,
        ] {
            assert_eq!(s.as_str().parse::<SyncStatus>().unwrap(), s);
        }
    }
}
