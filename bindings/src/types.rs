//! Plain data crossing the FFI: records and enums, converted from the core's types. Ids are
//! UUID strings; dates `YYYY-MM-DD`; instants RFC 3339 UTC; record content is JSON text in the
//! document layout (docs/DOCUMENT-LAYOUT.md).

use homevisit_core::{
    doc::{Attribution, Conflict, HistoryEntry},
    model::common::SignState as CoreSignState,
    records::{Banner as CoreBanner, FieldValue as CoreFieldValue},
    rules::issue::{Issue, Severity as CoreSeverity},
    RecordId,
};

pub use crate::codes::Role;
use crate::{codes::ChangeAction, error::HomeVisitError};

/// Who is using the app on this device; every change records it (`RK-ATTRIB`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Identity {
    /// The user's id (UUID).
    pub user_id: String,
    /// The user's role.
    pub role: Role,
    /// This device's id (UUID).
    pub device_id: String,
    /// The user's team (UUID).
    pub team_id: String,
    /// HCPC registration number (OTs and approvers).
    pub hcpc_number: Option<String>,
    /// Date the registration was last verified valid until (`YYYY-MM-DD`).
    pub hcpc_verified_until: Option<String>,
}

/// Which service a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Service {
    /// The NHS paediatric OT service.
    Health,
    /// The council's children with disabilities OT service.
    SocialCare,
}

impl From<Service> for homevisit_core::model::common::Service {
    fn from(s: Service) -> Self {
        match s {
            Service::Health => Self::Health,
            Service::SocialCare => Self::SocialCare,
        }
    }
}

/// How much an issue matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    /// Needs an acknowledgement with a reason before sign/submit.
    Warn,
    /// Blocks sign/submit.
    Error,
}

/// One validation finding, with its DOMAIN.md rule ID.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ValidationIssue {
    /// E.g. `MH-SWL`.
    pub rule_id: String,
    /// Field path, e.g. `tasks.<item id>.residual`.
    pub path: String,
    /// ERROR or WARN.
    pub severity: Severity,
    /// A sentence for the clinician, starting with `[RULE-ID]`.
    pub detail: String,
    /// The offending value in canonical units, when there is one.
    pub value: Option<String>,
}

impl From<Issue> for ValidationIssue {
    fn from(i: Issue) -> Self {
        Self {
            rule_id: i.rule_id,
            path: i.path,
            severity: match i.severity {
                CoreSeverity::Warn => Severity::Warn,
                CoreSeverity::Error => Severity::Error,
            },
            detail: i.message,
            value: i.value,
        }
    }
}

/// Where a signable record stands (§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignState {
    /// Not signed.
    Draft,
    /// Signed by an OT.
    Signed,
    /// Signed by an AP, awaiting an OT's countersignature.
    AwaitingCountersignature,
    /// AP-signed and countersigned.
    Countersigned,
    /// Entered in error.
    EnteredInError,
}

impl From<CoreSignState> for SignState {
    fn from(s: CoreSignState) -> Self {
        match s {
            CoreSignState::Draft => Self::Draft,
            CoreSignState::Signed => Self::Signed,
            CoreSignState::AwaitingCountersignature => Self::AwaitingCountersignature,
            CoreSignState::Countersigned => Self::Countersigned,
            CoreSignState::EnteredInError => Self::EnteredInError,
        }
    }
}

/// A value typed into a field, in canonical units (DOMAIN.md §1.1).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FieldValue {
    /// A code, date (`YYYY-MM-DD`), time (`HH:MM`) or text.
    Text {
        /// The value.
        value: String,
    },
    /// A whole number in the field's unit (mm, degrees, pence, count).
    Integer {
        /// The value.
        value: i64,
    },
    /// kg or cm with at most one decimal, as typed: `"32.4"`.
    Decimal {
        /// The value as typed.
        value: String,
    },
    /// Yes/no.
    Flag {
        /// The value.
        value: bool,
    },
    /// Clears the field.
    Empty,
}

impl From<FieldValue> for CoreFieldValue {
    fn from(v: FieldValue) -> Self {
        match v {
            FieldValue::Text { value } => Self::Str(value),
            FieldValue::Integer { value } => Self::Int(value),
            FieldValue::Decimal { value } => Self::Decimal(value),
            FieldValue::Flag { value } => Self::Bool(value),
            FieldValue::Empty => Self::Null,
        }
    }
}

/// The child banner every record screen shows (`SAF-WRONG-CHILD`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Banner {
    /// The child's record id.
    pub child_id: String,
    /// Name as shown.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// `943 476 5919`.
    pub nhs_number: Option<String>,
    /// Alerts (dogs, lone working, medical…).
    pub alerts: Vec<String>,
    /// The child's safeguarding status (§3.7), `Unknown` when never set.
    pub safeguarding_status: crate::care::SafeguardingStatus,
    /// The status as shown ("Child protection plan" …).
    pub safeguarding_label: String,
    /// The allocated social worker and how to reach them.
    pub social_worker: Option<String>,
    /// Warnings about the child every record shows (`CH-VISIT-MISSED`).
    pub warnings: Vec<ValidationIssue>,
}

impl From<CoreBanner> for Banner {
    fn from(b: CoreBanner) -> Self {
        Self {
            child_id: b.child_id.to_string(),
            name: b.name,
            date_of_birth: b.date_of_birth.map(|d| d.to_string()),
            nhs_number: b.nhs_number,
            alerts: b.alerts,
            safeguarding_status: b.safeguarding_status.into(),
            safeguarding_label: b.safeguarding_label,
            social_worker: b.social_worker,
            warnings: b.warnings.into_iter().map(ValidationIssue::from).collect(),
        }
    }
}

/// Who wrote a value or a change.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Author {
    /// User id, when the change carried attribution.
    pub user_id: Option<String>,
    /// Their role when they made it.
    pub role: Option<Role>,
    /// Device id.
    pub device_id: Option<String>,
    /// When (RFC 3339 UTC).
    pub at: Option<String>,
}

impl From<&Attribution> for Author {
    fn from(a: &Attribution) -> Self {
        Self {
            user_id: a.user_id().map(|u| u.to_string()),
            role: a.role().map(Role::from),
            device_id: a.device_id().map(|u| u.to_string()),
            at: a.at().map(homevisit_core::doc::meta::format_instant),
        }
    }
}

/// One candidate value of a conflicting clinical field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConflictCandidate {
    /// The value as JSON text (`324` for 32.4 kg).
    pub value_json: String,
    /// Who wrote it, where and when.
    pub author: Author,
}

/// A clinical field with concurrent values that a person must resolve (`CF-CLINICAL`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldConflict {
    /// The field path.
    pub path: String,
    /// Each concurrent value with its author.
    pub candidates: Vec<ConflictCandidate>,
}

impl From<Conflict> for FieldConflict {
    fn from(c: Conflict) -> Self {
        Self {
            path: c.path,
            candidates: c
                .values
                .iter()
                .map(|v| ConflictCandidate {
                    value_json: v.value.to_string(),
                    author: Author::from(&v.attribution),
                })
                .collect(),
        }
    }
}

/// One change in a record's history (`RK-HISTORY`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryItem {
    /// The change hash.
    pub hash: String,
    /// Who, when, where.
    pub author: Author,
    /// What the change did, when attributed.
    pub action: Option<ChangeAction>,
    /// The field paths it touched.
    pub paths: Vec<String>,
}

impl From<HistoryEntry> for HistoryItem {
    fn from(h: HistoryEntry) -> Self {
        Self {
            author: Author::from(&h.attribution),
            action: h.attribution.action().map(ChangeAction::from),
            hash: h.hash,
            paths: h.paths,
        }
    }
}

/// Parses a record id passed as a UUID string.
pub fn parse_id(s: &str) -> Result<RecordId, HomeVisitError> {
    s.trim().parse().map_err(|_| HomeVisitError::InvalidInput {
        rule_id: "FLD-FORMAT".into(),
        detail: format!("`{}` is not a record id (UUID)", truncate(s)),
    })
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, HomeVisitError> {
    homevisit_core::rules::dates::parse_date(s).map_err(HomeVisitError::from)
}

/// Shortens hostile input before it is echoed in an error.
pub fn truncate(s: &str) -> String {
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(64).collect::<String>())
    } else {
        s.to_owned()
    }
}
