//! Visits and safeguarding, kept on the child record (DOMAIN.md §3.7): a visit with its
//! outcome (seen, no access, was not brought, cancelled), the child's safeguarding status with
//! the allocated social worker, and the concerns raised.
//!
//! They live on the child so that every device holding any record of the child holds them, and
//! every record's banner can show the status and the missed-visit warning (§9 Q13).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{assessment::VisitLocation, common::ClockTime};

/// What happened at a planned visit (§3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// The child was seen; the visit links its home-visit assessment.
    Seen,
    /// Nobody was home.
    NoAccess,
    /// The child was not brought, or was not available.
    WasNotBrought,
    /// The family cancelled.
    CancelledByFamily,
    /// The service cancelled.
    CancelledByService,
}

impl VisitOutcome {
    /// Whether the outcome counts towards `CH-VISIT-MISSED` (no access, was not brought).
    pub fn is_missed(self) -> bool {
        matches!(self, VisitOutcome::NoAccess | VisitOutcome::WasNotBrought)
    }
}

/// A visit (an item of the child's `visits`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Visit {
    /// The planned date.
    pub planned_on: Option<NaiveDate>,
    /// The planned time, optional.
    pub planned_time: Option<ClockTime>,
    /// Where.
    pub place: Option<VisitLocation>,
    /// The visiting user.
    pub visitor_id: Option<Uuid>,
    /// The visitor's name as shown.
    pub visitor_name: Option<String>,
    /// What happened; empty while the visit is only planned.
    pub outcome: Option<VisitOutcome>,
    /// Why the child was not seen (free text).
    pub reason: Option<String>,
    /// The follow-up taken (free text).
    pub follow_up: Option<String>,
    /// The home-visit assessment of a seen visit.
    pub assessment_id: Option<Uuid>,
    /// Who recorded the outcome.
    pub recorded_by: Option<Uuid>,
    /// When the outcome was recorded (UTC).
    pub recorded_at: Option<DateTime<Utc>>,
}

/// The child's safeguarding status (§3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeguardingStatus {
    /// Subject to a child protection plan.
    ChildProtectionPlan,
    /// A child in need (Children Act 1989 s.17).
    ChildInNeed,
    /// Looked after by a local authority.
    LookedAfter,
    /// None.
    None,
    /// Not known.
    Unknown,
}

/// The allocated social worker and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SocialWorker {
    /// Name.
    pub name: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// The child's `safeguarding` map.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Safeguarding {
    /// The status; `None` is shown as unknown.
    pub status: Option<SafeguardingStatus>,
    /// The local authority a looked-after child is looked after by.
    pub looked_after_by: Option<String>,
    /// The allocated social worker.
    pub social_worker: Option<SocialWorker>,
}

/// To whom a concern was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaisedWith {
    /// The local authority's duty team.
    DutyTeam,
    /// The Multi-Agency Safeguarding Hub.
    Mash,
    /// The organisation's named safeguarding lead.
    SafeguardingLead,
    /// Someone else (named in `raised_with_name`).
    Other,
}

/// A safeguarding concern raised (an item of `safeguarding_concerns`). Details stay in the
/// safeguarding systems: what, to whom, when and the reference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SafeguardingConcern {
    /// What the concern is.
    pub concern: Option<String>,
    /// To whom it was raised.
    pub raised_with: Option<RaisedWith>,
    /// The person or team, by name.
    pub raised_with_name: Option<String>,
    /// When.
    pub raised_on: Option<NaiveDate>,
    /// The reference the receiving team gave.
    pub reference: Option<String>,
    /// The visit (item id) during which it was raised, if any.
    pub visit_id: Option<Uuid>,
}
