//! Visits, safeguarding, the child's voice, carer training, the graduated-offer tier and
//! eligibility exceptions across the FFI (DOMAIN.md §3.7, §3.4, §3.5, §2.2, §2.6): typed
//! records and enums in, typed records out; the checks stay in the core.

use homevisit_core::{
    doc::meta::format_instant,
    model::{
        assessment::{ChildViewsMode as CoreViewsMode, VisitLocation},
        common::Item,
        referral::OfferTier as CoreTier,
        training::{CarerTraining, TraineeRole as CoreTrainee},
        visit::{
            RaisedWith as CoreRaisedWith, SafeguardingStatus as CoreStatus, Visit,
            VisitOutcome as CoreOutcome,
        },
    },
    records::{ConcernInput, FieldValue as CoreFieldValue, SafeguardingInput, TrainingInput},
    records::{VisitPlan as CorePlan, VisitResult as CoreResult},
};
use uuid::Uuid;

use crate::{
    error::{FfiResult, HomeVisitError},
    store::Store,
    types::{parse_date, parse_id, truncate, HistoryItem, Role},
};

mirror_enum! {
    /// What happened at a planned visit (§3.7).
    VisitOutcome => CoreOutcome {
        /// Seen; links its home-visit assessment.
        Seen,
        /// Nobody home.
        NoAccess,
        /// Was not brought / not available.
        WasNotBrought,
        /// Cancelled by the family.
        CancelledByFamily,
        /// Cancelled by the service.
        CancelledByService,
    }
}

mirror_enum! {
    /// Where a visit takes place.
    VisitPlace => VisitLocation {
        /// The child's home.
        ChildHome,
        /// School.
        School,
        /// Redgrave Children and Young People's Centre.
        ClinicRedgrave,
        /// Kempston Child Development Centre.
        ClinicKempston,
        /// A respite setting.
        RespiteSetting,
        /// Elsewhere.
        Other,
    }
}

mirror_enum! {
    /// The child's safeguarding status (§3.7).
    SafeguardingStatus => CoreStatus {
        /// Child protection plan.
        ChildProtectionPlan,
        /// Child in need.
        ChildInNeed,
        /// Looked-after child.
        LookedAfter,
        /// None.
        None,
        /// Not known.
        Unknown,
    }
}

mirror_enum! {
    /// To whom a safeguarding concern was raised.
    RaisedWith => CoreRaisedWith {
        /// The duty team.
        DutyTeam,
        /// The Multi-Agency Safeguarding Hub.
        Mash,
        /// The named safeguarding lead.
        SafeguardingLead,
        /// Someone else.
        Other,
    }
}

mirror_enum! {
    /// Who was trained (§3.5).
    TraineeRole => CoreTrainee {
        /// A carer at home.
        Carer,
        /// School staff.
        SchoolStaff,
        /// Respite staff.
        RespiteStaff,
    }
}

mirror_enum! {
    /// How the child's views were recorded (`HV-B-VOICE`).
    ChildViewsMode => CoreViewsMode {
        /// The child gave their views.
        Given,
        /// Non-verbal: views observed.
        NonVerbalObserved,
        /// Declined to give views.
        Declined,
    }
}

mirror_enum! {
    /// The tier of the health service's graduated offer (`H-OFFER-TIER`).
    OfferTier => CoreTier {
        /// Universal.
        Universal,
        /// Targeted.
        Targeted,
        /// Specialist.
        Specialist,
    }
}

/// A visit as it is planned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitPlanInput {
    /// `YYYY-MM-DD`.
    pub planned_on: String,
    /// `HH:MM`, optional.
    pub planned_time: Option<String>,
    /// Where.
    pub place: VisitPlace,
    /// The visitor's name as shown.
    pub visitor_name: Option<String>,
}

/// What happened at a visit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitResultInput {
    /// The outcome.
    pub outcome: VisitOutcome,
    /// Why the child was not seen (needed unless seen, `CH-VISIT-OUTCOME`).
    pub reason: Option<String>,
    /// The follow-up taken (needed unless seen).
    pub follow_up: Option<String>,
    /// A seen visit's home-visit assessment (record id).
    pub assessment_id: Option<String>,
}

/// A visit as the child's screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitItem {
    /// The visit's item id.
    pub visit_id: String,
    /// `YYYY-MM-DD`.
    pub planned_on: Option<String>,
    /// `HH:MM`.
    pub planned_time: Option<String>,
    /// Where.
    pub place: Option<VisitPlace>,
    /// The visitor's name.
    pub visitor_name: Option<String>,
    /// The outcome, when recorded.
    pub outcome: Option<VisitOutcome>,
    /// Why the child was not seen.
    pub reason: Option<String>,
    /// The follow-up taken.
    pub follow_up: Option<String>,
    /// The linked assessment's record id.
    pub assessment_id: Option<String>,
}

impl From<Item<Visit>> for VisitItem {
    fn from(i: Item<Visit>) -> Self {
        let v = i.data;
        Self {
            visit_id: i.item_id.to_string(),
            planned_on: v.planned_on.map(|d| d.to_string()),
            planned_time: v.planned_time.map(|t| t.to_string()),
            place: v.place.map(VisitPlace::from),
            visitor_name: v.visitor_name,
            outcome: v.outcome.map(VisitOutcome::from),
            reason: v.reason,
            follow_up: v.follow_up,
            assessment_id: v.assessment_id.map(|a| a.to_string()),
        }
    }
}

/// The child's safeguarding status as a person sets it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SafeguardingUpdate {
    /// The status.
    pub status: SafeguardingStatus,
    /// The local authority, for a looked-after child (`CH-SG-STATUS`).
    pub looked_after_by: Option<String>,
    /// The allocated social worker's name.
    pub social_worker_name: Option<String>,
    /// Their team.
    pub social_worker_team: Option<String>,
    /// Their phone.
    pub social_worker_phone: Option<String>,
    /// Their email.
    pub social_worker_email: Option<String>,
}

/// A safeguarding concern raised.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SafeguardingConcernInput {
    /// What the concern is.
    pub concern: String,
    /// To whom.
    pub raised_with: RaisedWith,
    /// The person or team, by name.
    pub raised_with_name: Option<String>,
    /// When, `YYYY-MM-DD`.
    pub raised_on: String,
    /// The reference the receiving team gave.
    pub reference: Option<String>,
    /// The visit (item id) it was raised during.
    pub visit_id: Option<String>,
}

/// A carer training record (§3.5).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CarerTrainingInput {
    /// The trainee's name.
    pub trainee_name: String,
    /// Carer, school staff or respite staff.
    pub trainee_role: TraineeRole,
    /// The task (item id).
    pub task_id: String,
    /// The hoist (item id).
    pub hoist_id: Option<String>,
    /// The sling (item id).
    pub sling_id: Option<String>,
    /// Who trained them.
    pub trained_by: String,
    /// `YYYY-MM-DD`.
    pub trained_on: String,
    /// Found competent.
    pub competent: bool,
    /// `YYYY-MM-DD`.
    pub review_due_on: Option<String>,
}

/// A carer training record as the plan lists it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CarerTrainingItem {
    /// The record's item id.
    pub training_id: String,
    /// The trainee's name.
    pub trainee_name: Option<String>,
    /// Their role.
    pub trainee_role: Option<TraineeRole>,
    /// The task (item id).
    pub task_id: Option<String>,
    /// The hoist (item id).
    pub hoist_id: Option<String>,
    /// The sling (item id).
    pub sling_id: Option<String>,
    /// Who trained them.
    pub trained_by: Option<String>,
    /// `YYYY-MM-DD`.
    pub trained_on: Option<String>,
    /// Found competent.
    pub competent: Option<bool>,
    /// `YYYY-MM-DD`.
    pub review_due_on: Option<String>,
}

impl From<Item<CarerTraining>> for CarerTrainingItem {
    fn from(i: Item<CarerTraining>) -> Self {
        let t = i.data;
        let id = |u: Option<Uuid>| u.map(|u| u.to_string());
        Self {
            training_id: i.item_id.to_string(),
            trainee_name: t.trainee_name,
            trainee_role: t.trainee_role.map(TraineeRole::from),
            task_id: id(t.task_id),
            hoist_id: id(t.hoist_id),
            sling_id: id(t.sling_id),
            trained_by: t.trained_by,
            trained_on: t.trained_on.map(|d| d.to_string()),
            competent: t.competent,
            review_due_on: t.review_due_on.map(|d| d.to_string()),
        }
    }
}

fn parse_item_id(s: &str) -> FfiResult<Uuid> {
    s.trim().parse().map_err(|_| HomeVisitError::InvalidInput {
        rule_id: "FLD-FORMAT".into(),
        detail: format!("`{}` is not an item id (UUID)", truncate(s)),
    })
}

fn opt_item_id(s: &Option<String>) -> FfiResult<Option<Uuid>> {
    s.as_deref().map(parse_item_id).transpose()
}

fn plan(p: &VisitPlanInput) -> FfiResult<CorePlan> {
    Ok(CorePlan {
        planned_on: parse_date(&p.planned_on)?,
        planned_time: match &p.planned_time {
            Some(t) => Some(t.parse()?),
            None => None,
        },
        place: p.place.into(),
        visitor_name: p.visitor_name.clone(),
    })
}

fn result(r: &VisitResultInput) -> FfiResult<CoreResult> {
    Ok(CoreResult {
        outcome: r.outcome.into(),
        reason: r.reason.clone(),
        follow_up: r.follow_up.clone(),
        assessment_id: r.assessment_id.as_deref().map(parse_id).transpose()?,
    })
}

fn code<T: serde::Serialize>(v: T) -> FfiResult<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(HomeVisitError::Internal {
            detail: "a code did not serialize".into(),
        }),
    }
}

#[uniffi::export]
impl Store {
    /// Plans a visit to the child; returns the visit's item id.
    pub fn plan_visit(&self, child_id: String, visit: VisitPlanInput) -> FfiResult<String> {
        let child = parse_id(&child_id)?;
        let id = self.records().plan_visit(child, &plan(&visit)?)?;
        Ok(id.to_string())
    }

    /// Records a visit with its outcome (a visit where nobody answered needs no assessment).
    /// Refused with `CH-VISIT-OUTCOME` without a reason and follow-up when not seen.
    pub fn record_visit(
        &self,
        child_id: String,
        visit: VisitPlanInput,
        outcome: VisitResultInput,
    ) -> FfiResult<String> {
        let child = parse_id(&child_id)?;
        let id = self
            .records()
            .record_visit(child, &plan(&visit)?, &result(&outcome)?)?;
        Ok(id.to_string())
    }

    /// Records the outcome of a planned visit.
    pub fn record_visit_outcome(
        &self,
        child_id: String,
        visit_id: String,
        outcome: VisitResultInput,
    ) -> FfiResult<()> {
        let child = parse_id(&child_id)?;
        self.records().record_visit_outcome(
            child,
            parse_item_id(&visit_id)?,
            &result(&outcome)?,
        )?;
        Ok(())
    }

    /// Links a seen visit to its home-visit assessment (`CH-VISIT-SEEN`).
    pub fn link_visit_assessment(
        &self,
        child_id: String,
        visit_id: String,
        assessment_id: String,
    ) -> FfiResult<()> {
        let child = parse_id(&child_id)?;
        self.records().link_visit_assessment(
            child,
            parse_item_id(&visit_id)?,
            parse_id(&assessment_id)?,
        )?;
        Ok(())
    }

    /// The child's visits, oldest first.
    pub fn visits(&self, child_id: String) -> FfiResult<Vec<VisitItem>> {
        let v = self.records().visits(parse_id(&child_id)?)?;
        Ok(v.into_iter().map(VisitItem::from).collect())
    }

    /// Sets the child's safeguarding status and social worker; attributed and listed in
    /// `safeguarding_history`.
    pub fn set_safeguarding(&self, child_id: String, update: SafeguardingUpdate) -> FfiResult<()> {
        let child = parse_id(&child_id)?;
        self.records().set_safeguarding(
            child,
            &SafeguardingInput {
                status: update.status.into(),
                looked_after_by: update.looked_after_by,
                social_worker_name: update.social_worker_name,
                social_worker_team: update.social_worker_team,
                social_worker_phone: update.social_worker_phone,
                social_worker_email: update.social_worker_email,
            },
        )?;
        Ok(())
    }

    /// Records a safeguarding concern raised (what, to whom, when, reference).
    pub fn add_safeguarding_concern(
        &self,
        child_id: String,
        concern: SafeguardingConcernInput,
    ) -> FfiResult<String> {
        let child = parse_id(&child_id)?;
        let id = self.records().add_safeguarding_concern(
            child,
            &ConcernInput {
                concern: concern.concern,
                raised_with: concern.raised_with.into(),
                raised_with_name: concern.raised_with_name,
                raised_on: parse_date(&concern.raised_on)?,
                reference: concern.reference,
                visit_id: opt_item_id(&concern.visit_id)?,
            },
        )?;
        Ok(id.to_string())
    }

    /// Every change to the child's safeguarding status and concerns, with who made it.
    pub fn safeguarding_history(&self, child_id: String) -> FfiResult<Vec<HistoryItem>> {
        let h = self.records().safeguarding_history(parse_id(&child_id)?)?;
        Ok(h.into_iter().map(HistoryItem::from).collect())
    }

    /// Adds a carer training record to an M&H risk assessment; returns its item id.
    pub fn add_carer_training(
        &self,
        risk_assessment_id: String,
        training: CarerTrainingInput,
    ) -> FfiResult<String> {
        let ra = parse_id(&risk_assessment_id)?;
        let id = self.records().add_carer_training(
            ra,
            &TrainingInput {
                trainee_name: training.trainee_name,
                trainee_role: training.trainee_role.into(),
                task_id: parse_item_id(&training.task_id)?,
                hoist_id: opt_item_id(&training.hoist_id)?,
                sling_id: opt_item_id(&training.sling_id)?,
                trained_by: training.trained_by,
                trained_on: parse_date(&training.trained_on)?,
                competent: training.competent,
                review_due_on: training
                    .review_due_on
                    .as_deref()
                    .map(parse_date)
                    .transpose()?,
            },
        )?;
        Ok(id.to_string())
    }

    /// The carer training records of a risk assessment.
    pub fn carer_training(&self, risk_assessment_id: String) -> FfiResult<Vec<CarerTrainingItem>> {
        let t = self
            .records()
            .carer_training(parse_id(&risk_assessment_id)?)?;
        Ok(t.into_iter().map(CarerTrainingItem::from).collect())
    }

    /// Records how the child's views were given (`HV-B-VOICE`) on a home-visit assessment,
    /// with the views or how they were observed.
    pub fn set_child_views(
        &self,
        assessment_id: String,
        mode: ChildViewsMode,
        text: Option<String>,
    ) -> FfiResult<()> {
        let id = parse_id(&assessment_id)?;
        let r = self.records();
        r.set_field(
            id,
            "sections.B.child_views_mode",
            CoreFieldValue::Str(code(CoreViewsMode::from(mode))?),
        )?;
        let path = match mode {
            ChildViewsMode::NonVerbalObserved => Some("sections.B.child_views_observed_how"),
            ChildViewsMode::Given => Some("sections.B.child_views"),
            ChildViewsMode::Declined => None,
        };
        if let (Some(path), Some(text)) = (path, text) {
            r.set_text(id, path, &text)?;
        }
        Ok(())
    }

    /// Records the graduated-offer tier of an accepted health referral (`H-OFFER-TIER`).
    pub fn set_offer_tier(&self, referral_id: String, tier: OfferTier) -> FfiResult<()> {
        let id = parse_id(&referral_id)?;
        self.records().set_field(
            id,
            "outcome_tier",
            CoreFieldValue::Str(code(CoreTier::from(tier))?),
        )?;
        Ok(())
    }

    /// Accepts a referral outside the criteria as a recorded exception (`RK-ELIG-OVERRIDE`).
    pub fn override_eligibility(&self, referral_id: String, reason: String) -> FfiResult<()> {
        let id = parse_id(&referral_id)?;
        self.records().override_eligibility(id, &reason)?;
        Ok(())
    }

    /// The exception a referral was accepted by, if any: who (user id), why, on which date,
    /// recorded when.
    pub fn eligibility_exception(
        &self,
        referral_id: String,
    ) -> FfiResult<Option<EligibilityException>> {
        let r: homevisit_core::model::referral::Referral =
            self.records().typed(parse_id(&referral_id)?)?;
        Ok(r.eligibility_override.map(|o| EligibilityException {
            by: o.by.to_string(),
            role: o.role.into(),
            reason: o.reason,
            on: o.on.to_string(),
            at: format_instant(o.at),
        }))
    }
}

/// A referral accepted outside the criteria (`RK-ELIG-OVERRIDE`), shown as such.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EligibilityException {
    /// Who accepted it (user id).
    pub by: String,
    /// Their role when they accepted it.
    pub role: Role,
    /// Why.
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub on: String,
    /// RFC 3339 UTC.
    pub at: String,
}
