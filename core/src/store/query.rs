//! The list queries: caseload, search, records of a child, unsynced, conflicts, by kind and
//! status. They read only projection tables, never documents.

use rusqlite::{params, Connection, Row};

use super::{db::SqlResult, sync_state::SyncStatus};
use crate::{
    error::{Error, Result},
    ids::RecordId,
};

/// One record as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The record.
    pub id: RecordId,
    /// Its `schema` code (`homevisit/assessment` …).
    pub schema: String,
    /// The owning team (UUID text).
    pub team_id: Option<String>,
    /// The child it is about (none for a child record).
    pub child_id: Option<RecordId>,
    /// Short title.
    pub title: String,
    /// `active` or `entered_in_error`.
    pub state: String,
    /// Sign state or workflow status code.
    pub status: String,
    /// Time of the latest change (RFC 3339 UTC).
    pub updated_at: Option<String>,
    /// Where it stands with the server.
    pub sync_status: SyncStatus,
    /// Open clinical conflicts.
    pub conflict_count: u32,
    /// Waiting for a signature.
    pub needs_signature: bool,
    /// Waiting for a countersignature.
    pub needs_countersignature: bool,
    /// Rule-breach flags on the record (`CF-RULE-BREACH`).
    pub flag_count: u32,
}

/// A child on the caseload with counts of their records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadEntry {
    /// The child record.
    pub child_id: RecordId,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Preferred name.
    pub preferred_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// NHS number, ten digits.
    pub nhs_number: Option<String>,
    /// Active records about the child (not counting the child record).
    pub record_count: u32,
    /// Those of the child's records (and the child record) with open conflicts.
    pub conflict_count: u32,
    /// Those of the child's records (and the child record) the server lacks changes of.
    pub unsynced_count: u32,
    /// Forms waiting for a signature or countersignature.
    pub awaiting_signature_count: u32,
    /// Those of the child's records (and the child record) with rule-breach flags
    /// (`CF-RULE-BREACH`): a change someone should look at.
    pub flagged_count: u32,
    /// Safeguarding status code (`child_protection_plan` …), when set (DOMAIN.md §3.7).
    pub safeguarding_status: Option<String>,
    /// The smallest gap in days between two missed visits, when there are two.
    pub missed_visit_gap_days: Option<i64>,
}

impl CaseloadEntry {
    /// Whether `CH-VISIT-MISSED` applies with the team's window (`missed_visit_window_days`):
    /// two missed visits at most that many days apart.
    pub fn missed_visit_warning(&self, window_days: i64) -> bool {
        crate::rules::visits::gap_within_window(self.missed_visit_gap_days, window_days)
    }
}

fn record_id(s: &str) -> rusqlite::Result<RecordId> {
    s.parse().map_err(|e: crate::ids::IdError| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const SUMMARY_COLUMNS: &str = "r.id, r.schema, r.team_id, r.child_id, r.title, r.state, r.status,
    r.updated_at, r.sync_status, r.conflict_count, r.needs_signature, r.needs_countersignature,
    r.flag_count";

fn summary(row: &Row<'_>) -> rusqlite::Result<RecordSummary> {
    let sync: String = row.get(8)?;
    Ok(RecordSummary {
        id: record_id(&row.get::<_, String>(0)?)?,
        schema: row.get(1)?,
        team_id: row.get(2)?,
        child_id: row
            .get::<_, Option<String>>(3)?
            .map(|s| record_id(&s))
            .transpose()?,
        title: row.get(4)?,
        state: row.get(5)?,
        status: row.get(6)?,
        updated_at: row.get(7)?,
        sync_status: sync.parse().map_err(|e: Error| {
            rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, Box::new(e))
        })?,
        conflict_count: row.get(9)?,
        needs_signature: row.get(10)?,
        needs_countersignature: row.get(11)?,
        flag_count: row.get(12)?,
    })
}

fn summaries(
    conn: &Connection,
    where_order: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<RecordSummary>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM records r {where_order}");
    let mut stmt = conn.prepare(&sql).sql()?;
    let rows = stmt.query_map(args, summary).sql()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().sql()
}

/// One record's summary.
pub(crate) fn record(conn: &Connection, id: RecordId) -> Result<Option<RecordSummary>> {
    Ok(summaries(conn, "WHERE r.id = ?1", &[&id.to_string()])?.pop())
}

/// Records about a child, newest first.
pub(crate) fn records_of_child(conn: &Connection, child: RecordId) -> Result<Vec<RecordSummary>> {
    summaries(
        conn,
        "WHERE r.child_id = ?1 ORDER BY r.updated_at DESC, r.id",
        &[&child.to_string()],
    )
}

/// Records the server lacks changes of.
pub(crate) fn unsynced(conn: &Connection) -> Result<Vec<RecordSummary>> {
    summaries(
        conn,
        "WHERE r.sync_status IN ('local_only', 'pending') ORDER BY r.updated_at DESC, r.id",
        &[],
    )
}

/// Records with open clinical conflicts.
pub(crate) fn with_conflicts(conn: &Connection) -> Result<Vec<RecordSummary>> {
    summaries(
        conn,
        "WHERE r.conflict_count > 0 ORDER BY r.updated_at DESC, r.id",
        &[],
    )
}

/// Records of one kind in one status (e.g. equipment requests `submitted`, forms `draft`).
pub(crate) fn by_kind_status(
    conn: &Connection,
    schema: &str,
    status: &str,
) -> Result<Vec<RecordSummary>> {
    summaries(
        conn,
        "WHERE r.schema = ?1 AND r.status = ?2 ORDER BY r.updated_at DESC, r.id",
        &[&schema, &status],
    )
}

/// Forms waiting for a signature or countersignature.
pub(crate) fn awaiting_signature(conn: &Connection) -> Result<Vec<RecordSummary>> {
    summaries(
        conn,
        "WHERE r.state = 'active' AND (r.needs_signature OR r.needs_countersignature)
         ORDER BY r.updated_at DESC, r.id",
        &[],
    )
}

/// One pass over the records grouped by child (an `OR` in correlated subqueries would scan the
/// table once per child); the child record's own row adds its conflict and sync state.
const CASELOAD_SELECT: &str = "
SELECT c.id, c.given_name, c.family_name, c.preferred_name, c.date_of_birth, c.nhs_number,
       coalesce(agg.n, 0),
       coalesce(agg.conflicts, 0) + (cr.conflict_count > 0),
       coalesce(agg.unsynced, 0) + (cr.sync_status IN ('local_only', 'pending')),
       coalesce(agg.awaiting, 0),
       coalesce(agg.flagged, 0) + (cr.flag_count > 0),
       c.safeguarding_status, c.missed_visit_gap_days
FROM children c
JOIN records cr ON cr.id = c.id
LEFT JOIN (
    SELECT child_id,
           sum(state = 'active') AS n,
           sum(conflict_count > 0) AS conflicts,
           sum(sync_status IN ('local_only', 'pending')) AS unsynced,
           sum(state = 'active' AND (needs_signature OR needs_countersignature)) AS awaiting,
           sum(flag_count > 0) AS flagged
    FROM records WHERE child_id IS NOT NULL GROUP BY child_id
) agg ON agg.child_id = c.id";

const CASELOAD_ORDER: &str =
    "ORDER BY c.family_name COLLATE NOCASE, c.given_name COLLATE NOCASE, c.id";

fn caseload_entry(row: &Row<'_>) -> rusqlite::Result<CaseloadEntry> {
    Ok(CaseloadEntry {
        child_id: record_id(&row.get::<_, String>(0)?)?,
        given_name: row.get(1)?,
        family_name: row.get(2)?,
        preferred_name: row.get(3)?,
        date_of_birth: row.get(4)?,
        nhs_number: row.get(5)?,
        record_count: row.get(6)?,
        conflict_count: row.get(7)?,
        unsynced_count: row.get(8)?,
        awaiting_signature_count: row.get(9)?,
        flagged_count: row.get(10)?,
        safeguarding_status: row.get(11)?,
        missed_visit_gap_days: row.get(12)?,
    })
}

fn caseload_query(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<CaseloadEntry>> {
    let sql = format!("{CASELOAD_SELECT} WHERE cr.state = 'active' {filter} {CASELOAD_ORDER}");
    // Cached: parsing this join on every call was a visible part of a list screen's refresh.
    let mut stmt = conn.prepare_cached(&sql).sql()?;
    let rows = stmt.query_map(args, caseload_entry).sql()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().sql()
}

/// Every active child, by family name.
pub(crate) fn caseload(conn: &Connection) -> Result<Vec<CaseloadEntry>> {
    caseload_query(conn, "", &[])
}

/// What a search box string asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchTerm {
    /// Digits (spaces ignored): an NHS number or its beginning.
    Nhs(String),
    /// A date of birth, `YYYY-MM-DD` or `DD/MM/YYYY`.
    Dob(String),
    /// Name words, each matched as a prefix.
    Names(Vec<String>),
    /// Nothing searchable.
    Empty,
}

/// Reads a search box: digits are an NHS number, a date is a DOB, anything else name words.
pub(crate) fn parse_search(input: &str) -> SearchTerm {
    let trimmed = input.trim();
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return SearchTerm::Empty;
    }
    if compact.chars().all(|c| c.is_ascii_digit()) {
        return SearchTerm::Nhs(compact);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(&compact, "%Y-%m-%d") {
        return SearchTerm::Dob(d.format("%Y-%m-%d").to_string());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(&compact, "%d/%m/%Y") {
        return SearchTerm::Dob(d.format("%Y-%m-%d").to_string());
    }
    // FTS5 query syntax is not user input: keep letters and digits of each word only.
    let words: Vec<String> = trimmed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        SearchTerm::Empty
    } else {
        SearchTerm::Names(words)
    }
}

/// Children matching a search box string (name words, NHS number with or without spaces, or
/// date of birth).
pub(crate) fn search(conn: &Connection, input: &str) -> Result<Vec<CaseloadEntry>> {
    match parse_search(input) {
        SearchTerm::Empty => Ok(Vec::new()),
        SearchTerm::Nhs(digits) => {
            let pattern = format!("{digits}%");
            caseload_query(conn, "AND c.nhs_number LIKE ?1", &[&pattern])
        }
        SearchTerm::Dob(date) => caseload_query(conn, "AND c.date_of_birth = ?1", &[&date]),
        SearchTerm::Names(words) => {
            let fts = words
                .iter()
                .map(|w| format!("names:\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" AND ");
            caseload_query(
                conn,
                "AND c.row IN (SELECT rowid FROM children_fts WHERE children_fts MATCH ?1)",
                &[&fts],
            )
        }
    }
}

/// Ids of records with status `local_only` or `pending`.
pub(crate) fn unsynced_ids(conn: &Connection) -> Result<Vec<RecordId>> {
    let mut stmt = conn
        .prepare(
            "SELECT record_id FROM record_sync WHERE status IN ('local_only', 'pending')
             ORDER BY record_id",
        )
        .sql()?;
    let rows = stmt
        .query_map(params![], |r| record_id(&r.get::<_, String>(0)?))
        .sql()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().sql()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_box_reads_nhs_numbers_with_spaces_dates_and_names() {
        assert_eq!(
            parse_search("943 476 5919"),
            SearchTerm::Nhs("9434765919".into())
        );
        assert_eq!(
            parse_search(" 2016-05-01 "),
            SearchTerm::Dob("2016-05-01".into())
        );
        assert_eq!(
            parse_search("01/05/2016"),
            SearchTerm::Dob("2016-05-01".into())
        );
        assert_eq!(
            parse_search("amara oka"),
            SearchTerm::Names(vec!["amara".into(), "oka".into()])
        );
        assert_eq!(
            parse_search("O'Brien\" OR *"),
            SearchTerm::Names(vec!["O".into(), "Brien".into(), "OR".into()])
        );
        assert_eq!(parse_search("  "), SearchTerm::Empty);
        assert_eq!(parse_search("*"), SearchTerm::Empty);
    }
}
