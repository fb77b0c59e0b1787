//! Projections: the plain SQL rows every list screen reads, computed from a record's document
//! and written in the same transaction as the document's change bytes, so a list never
//! disagrees with the records it lists and never has to load an automerge document.
//!
//! [`project`] is the one function that turns a document into its rows; it reads root keys as
//! docs/DOCUMENT-LAYOUT.md places them and tolerates documents that lack them (a record that
//! arrived from a buggy peer is still listed, as "unknown"). Domain-derived statuses extend
//! [`project`], never the SQL callers.

use automerge::AutoCommit;
use rusqlite::{params, Connection};
use serde_json::Value as Json;

use super::{db::SqlResult, sync_state::SyncStatus};
use crate::{
    doc,
    error::Result,
    ids::RecordId,
    model::{
        common::{Schema, SignState},
        visit::VisitOutcome,
    },
    rules::visits::closest_missed_gap_days,
};

/// The `schema` code of a record whose document names none.
pub const UNKNOWN_SCHEMA: &str = "unknown";

/// What the list screens know about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// The record.
    pub id: RecordId,
    /// The document's `schema` code (`homevisit/assessment` …), or [`UNKNOWN_SCHEMA`].
    pub schema: String,
    /// The owning team (UUID text), if the document names one.
    pub team_id: Option<String>,
    /// The child the record is about; the child record itself has none.
    pub child_id: Option<RecordId>,
    /// A short human title: the child's name, or the kind of form.
    pub title: String,
    /// `record_status.state`: `active` or `entered_in_error`.
    pub state: String,
    /// Sign state code for signable forms (`draft`, `signed`, `awaiting_countersignature` …),
    /// the document's own `status` where it has one, otherwise the state.
    pub status: String,
    /// Time of the latest change in the document (RFC 3339 UTC), from its change graph.
    pub updated_at: Option<String>,
    /// Open clinical conflicts (`CF-CLINICAL`).
    pub conflict_count: u32,
    /// Rule-breach flags recorded in the document (`CF-RULE-BREACH`), the server's included.
    pub flag_count: u32,
    /// A signable form not signed yet (and not entered in error).
    pub needs_signature: bool,
    /// An AP-signed form waiting for an OT's countersignature (`RK-COUNTERSIGN`).
    pub needs_countersignature: bool,
    /// Identity fields, for a child record.
    pub child: Option<ChildProjection>,
}

/// A child record's identity, for the caseload and search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildProjection {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Preferred name.
    pub preferred_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// NHS number, ten digits without spaces.
    pub nhs_number: Option<String>,
    /// Safeguarding status code (`child_protection_plan` …), when set (DOMAIN.md §3.7).
    pub safeguarding_status: Option<String>,
    /// The smallest gap in days between two missed visits (no access, was not brought), when
    /// there are two; `CH-VISIT-MISSED` compares it with the configured window.
    pub missed_visit_gap_days: Option<i64>,
}

/// The closest gap between two missed visits in the child document's `visits` item map, read
/// tolerantly: an item that does not fit the model is skipped, never fatal.
fn missed_visit_gap_days(doc: &AutoCommit) -> Option<i64> {
    let Ok(Some(Json::Object(items))) = doc::value_at(doc, "visits", None) else {
        return None;
    };
    let mut dates: Vec<chrono::NaiveDate> = items
        .values()
        .filter(|v| {
            v.get("removed_at").is_none_or(Json::is_null)
                && v.get("removed_by").is_none_or(Json::is_null)
        })
        .filter(|v| {
            v.get("outcome")
                .cloned()
                .and_then(|o| serde_json::from_value::<VisitOutcome>(o).ok())
                .is_some_and(VisitOutcome::is_missed)
        })
        .filter_map(|v| v.get("planned_on")?.as_str()?.parse().ok())
        .collect();
    dates.sort();
    closest_missed_gap_days(&dates)
}

/// A root-level (or dotted) string value; anything else, or a path a hostile peer made
/// unreadable, is `None`: a projection must never stop a record from being stored.
fn text_at(doc: &AutoCommit, path: &str) -> Option<String> {
    match doc::value_at(doc, path, None) {
        Ok(Some(Json::String(s))) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn name_at(doc: &AutoCommit, path: &str) -> Option<String> {
    text_at(doc, path)
        .map(|s| crate::records::input::neutralise(&s, crate::records::input::NAME_MAX_CHARS))
        .filter(|s| !s.trim().is_empty())
}

fn kind_label(schema: &str) -> &'static str {
    match schema {
        "homevisit/child" => "Child",
        "homevisit/referral" => "Referral",
        "homevisit/assessment" => "Home-visit assessment",
        "homevisit/risk_assessment" => "Moving and handling risk assessment",
        "homevisit/equipment_request" => "Equipment request",
        _ => "Record",
    }
}

fn sign_state_code(state: SignState) -> &'static str {
    match state {
        SignState::Draft => "draft",
        SignState::Signed => "signed",
        SignState::AwaitingCountersignature => "awaiting_countersignature",
        SignState::Countersigned => "countersigned",
        SignState::EnteredInError => "entered_in_error",
    }
}

/// An equipment request's status, derived from its verified transitions (a transition the
/// team server flagged does not count, `CF-RULE-BREACH`), never from a stored `status` a peer
/// may have written; `None` when the document does not read as a request.
fn equipment_status(doc: &AutoCommit) -> Option<String> {
    let json = doc::to_json(doc).ok()?;
    let req: crate::model::equipment::EquipmentRequest = serde_json::from_value(json).ok()?;
    Some(crate::rules::workflow::status(&req).code().to_owned())
}

/// Computes a record's projection from its document.
///
/// Takes `&mut` because conflict detection reads the change graph, which closes automerge's
/// open transaction first; nothing is changed.
pub fn project(id: RecordId, doc: &mut AutoCommit) -> Result<Projection> {
    let schema_code = text_at(doc, "schema").unwrap_or_else(|| UNKNOWN_SCHEMA.to_owned());
    let schema = doc::record_schema(doc).ok();
    let state = text_at(doc, "record_status.state").unwrap_or_else(|| "active".to_owned());
    let child_id = text_at(doc, "child_id").and_then(|s| s.parse::<RecordId>().ok());
    let team_id = text_at(doc, "team_id");

    let child = if schema == Some(Schema::Child) {
        let nhs =
            text_at(doc, "nhs_number").map(|n| n.chars().filter(|c| !c.is_whitespace()).collect());
        Some(ChildProjection {
            // Names from another device are listed neutralised (`FLD-TEXT-CHARS`): no
            // bidirectional or control character reorders a caseload row.
            given_name: name_at(doc, "given_name"),
            family_name: name_at(doc, "family_name"),
            preferred_name: name_at(doc, "preferred_name"),
            date_of_birth: text_at(doc, "date_of_birth"),
            nhs_number: nhs,
            safeguarding_status: text_at(doc, "safeguarding.status"),
            missed_visit_gap_days: missed_visit_gap_days(doc),
        })
    } else {
        None
    };

    let signable = matches!(schema, Some(Schema::Assessment | Schema::RiskAssessment));
    let sign_state = if signable {
        // A signature block that does not fit the model must not hide the record from lists.
        doc::sign_state(doc).ok()
    } else {
        None
    };
    let overridden = schema == Some(Schema::Referral)
        && matches!(
            doc::value_at(doc, "eligibility_override", None),
            Ok(Some(Json::Object(_)))
        );
    let status = match sign_state {
        Some(s) => sign_state_code(s).to_owned(),
        // A referral accepted outside the criteria is listed as such (`RK-ELIG-OVERRIDE`).
        None if overridden && state == "active" => "accepted_by_exception".to_owned(),
        None if schema == Some(Schema::EquipmentRequest) && state == "active" => {
            equipment_status(doc).unwrap_or_else(|| state.clone())
        }
        None => text_at(doc, "status").unwrap_or_else(|| state.clone()),
    };
    let conflict_count = match schema {
        Some(_) => doc::conflicts(doc).map(|c| c.len()).unwrap_or(0),
        None => 0,
    };

    let flag_count = doc::flags(doc).map(|f| f.len()).unwrap_or(0);

    let title = match &child {
        Some(c) => {
            let name = [c.given_name.as_deref(), c.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if name.is_empty() {
                "Child (no name yet)".to_owned()
            } else {
                name
            }
        }
        None => kind_label(&schema_code).to_owned(),
    };

    let heads = doc.get_heads();
    let updated_at = heads
        .iter()
        .filter_map(|h| doc.get_change_meta_by_hash(h).map(|m| m.timestamp))
        .max()
        .filter(|t| *t > 0)
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(doc::meta::format_instant);

    Ok(Projection {
        id,
        schema: schema_code,
        team_id,
        child_id,
        title,
        state,
        status,
        updated_at,
        conflict_count: u32::try_from(conflict_count).unwrap_or(u32::MAX),
        flag_count: u32::try_from(flag_count).unwrap_or(u32::MAX),
        needs_signature: sign_state == Some(SignState::Draft),
        needs_countersignature: sign_state == Some(SignState::AwaitingCountersignature),
        child,
    })
}

/// Writes (inserts or replaces) a record's projection rows, inside the caller's transaction.
pub(crate) fn write(conn: &Connection, p: &Projection, sync_status: SyncStatus) -> Result<()> {
    let key = p.id.to_string();
    conn.execute(
        "INSERT INTO records(id, schema, team_id, child_id, title, state, status, updated_at,
                             sync_status, conflict_count, needs_signature, needs_countersignature,
                             flag_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET
            schema = ?2, team_id = ?3, child_id = ?4, title = ?5, state = ?6, status = ?7,
            updated_at = ?8, sync_status = ?9, conflict_count = ?10, needs_signature = ?11,
            needs_countersignature = ?12, flag_count = ?13",
        params![
            key,
            p.schema,
            p.team_id,
            p.child_id.map(|c| c.to_string()),
            p.title,
            p.state,
            p.status,
            p.updated_at,
            sync_status.as_str(),
            p.conflict_count,
            p.needs_signature,
            p.needs_countersignature,
            p.flag_count,
        ],
    )
    .sql()?;
    match &p.child {
        Some(c) => {
            let row: i64 = conn
                .query_row(
                    "INSERT INTO children(id, given_name, family_name, preferred_name,
                                          date_of_birth, nhs_number, safeguarding_status,
                                          missed_visit_gap_days)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(id) DO UPDATE SET given_name = ?2, family_name = ?3,
                        preferred_name = ?4, date_of_birth = ?5, nhs_number = ?6,
                        safeguarding_status = ?7, missed_visit_gap_days = ?8
                     RETURNING row",
                    params![
                        key,
                        c.given_name,
                        c.family_name,
                        c.preferred_name,
                        c.date_of_birth,
                        c.nhs_number,
                        c.safeguarding_status,
                        c.missed_visit_gap_days
                    ],
                    |r| r.get(0),
                )
                .sql()?;
            let names = [&c.given_name, &c.preferred_name, &c.family_name]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            conn.execute("DELETE FROM children_fts WHERE rowid = ?1", [row])
                .sql()?;
            conn.execute(
                "INSERT INTO children_fts(rowid, names, nhs_number) VALUES (?1, ?2, ?3)",
                params![row, names, c.nhs_number.clone().unwrap_or_default()],
            )
            .sql()?;
        }
        None => {
            // A record that stopped looking like a child (a hostile peer) leaves the caseload.
            conn.execute(
                "DELETE FROM children_fts WHERE rowid IN (SELECT row FROM children WHERE id = ?1)",
                [&key],
            )
            .sql()?;
            conn.execute("DELETE FROM children WHERE id = ?1", [&key])
                .sql()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::{
        doc::Scalar,
        model::user::{Actor, Role},
    };

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role,
            device_id: Uuid::new_v4(),
            team_id: Uuid::new_v4(),
            hcpc_number: Some("OT12345".into()),
            hcpc_verified_until: None,
        }
    }

    #[test]
    fn child_projection_reads_identity_from_root_keys() {
        let a = actor(Role::Ot);
        let at = Utc.with_ymd_and_hms(2026, 3, 15, 10, 0, 0).unwrap();
        let id = RecordId::new();
        let mut d = doc::create(Schema::Child, id, a.team_id, None, &a, at).unwrap();
        for (path, v) in [
            ("given_name", "Amara"),
            ("family_name", "Okafor"),
            ("date_of_birth", "2016-05-01"),
            ("nhs_number", "9434765919"),
        ] {
            doc::set_scalar(&mut d, path, Scalar::Str(v.into()), &a, at).unwrap();
        }
        let p = project(id, &mut d).unwrap();
        assert_eq!(p.schema, "homevisit/child");
        assert_eq!(p.title, "Amara Okafor");
        assert_eq!(p.state, "active");
        assert_eq!(p.child_id, None);
        assert_eq!(p.team_id, Some(a.team_id.to_string()));
        assert_eq!(p.updated_at.as_deref(), Some("2026-03-15T10:00:00Z"));
        let c = p.child.unwrap();
        assert_eq!(c.nhs_number.as_deref(), Some("9434765919"));
        assert_eq!(c.date_of_birth.as_deref(), Some("2016-05-01"));
    }

    #[test]
    fn an_unsigned_assessment_needs_signature() {
        let a = actor(Role::Ot);
        let at = Utc.with_ymd_and_hms(2026, 3, 15, 10, 0, 0).unwrap();
        let child = RecordId::new();
        let id = RecordId::new();
        let mut d = doc::create(Schema::Assessment, id, a.team_id, Some(child), &a, at).unwrap();
        let p = project(id, &mut d).unwrap();
        assert_eq!(p.child_id, Some(child));
        assert_eq!(p.status, "draft");
        assert!(p.needs_signature);
        assert!(!p.needs_countersignature);
        assert_eq!(p.conflict_count, 0);
        assert!(p.child.is_none());
    }

    #[test]
    fn a_document_without_an_envelope_still_projects_as_unknown() {
        let id = RecordId::new();
        let mut d = AutoCommit::new();
        let p = project(id, &mut d).unwrap();
        assert_eq!(p.schema, UNKNOWN_SCHEMA);
        assert_eq!(p.title, "Record");
        assert_eq!(p.updated_at, None);
    }
}
