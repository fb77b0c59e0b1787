//! The record service's calls for visits, safeguarding, carer training and eligibility
//! exceptions (DOMAIN.md §3.7, §3.5, §2.2): typed inputs, one durable change each, refusals
//! carrying their rule IDs.

use chrono::NaiveDate;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{json_code, Records};
use crate::{
    doc::{self, HistoryEntry, Scalar},
    error::{Error, Result},
    ids::RecordId,
    model::{
        assessment::VisitLocation,
        child::Child,
        common::{find_live, live, ClockTime, Item, Schema},
        referral::Referral,
        training::{CarerTraining, TraineeRole},
        visit::{RaisedWith, SafeguardingConcern, SafeguardingStatus, Visit, VisitOutcome},
    },
    rules::{
        issue::Issue,
        referral_outcome::check_override,
        visits::{self, check_visit},
    },
    store::CaseloadEntry,
};

/// A visit as it is planned: when, where, who visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlan {
    /// The planned date.
    pub planned_on: NaiveDate,
    /// The planned time, optional.
    pub planned_time: Option<ClockTime>,
    /// Where.
    pub place: VisitLocation,
    /// The visitor's name as shown (the visitor's id is the acting user).
    pub visitor_name: Option<String>,
}

/// What happened at a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitResult {
    /// Seen, no access, was not brought, cancelled by the family or the service.
    pub outcome: VisitOutcome,
    /// Why the child was not seen (needed unless seen, `CH-VISIT-OUTCOME`).
    pub reason: Option<String>,
    /// The follow-up taken (needed unless seen).
    pub follow_up: Option<String>,
    /// A seen visit's home-visit assessment, of the same child (`CH-VISIT-SEEN`).
    pub assessment_id: Option<RecordId>,
}

/// The child's safeguarding status as a person sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeguardingInput {
    /// The status.
    pub status: SafeguardingStatus,
    /// The local authority, for a looked-after child.
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

/// A safeguarding concern as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcernInput {
    /// What the concern is.
    pub concern: String,
    /// To whom it was raised.
    pub raised_with: RaisedWith,
    /// The person or team, by name.
    pub raised_with_name: Option<String>,
    /// When.
    pub raised_on: NaiveDate,
    /// The reference the receiving team gave.
    pub reference: Option<String>,
    /// The visit it was raised during.
    pub visit_id: Option<Uuid>,
}

/// A carer training record as it is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingInput {
    /// The trainee's name.
    pub trainee_name: String,
    /// Carer, school staff or respite staff.
    pub trainee_role: TraineeRole,
    /// The task (item id).
    pub task_id: Uuid,
    /// The hoist (item id), if any.
    pub hoist_id: Option<Uuid>,
    /// The sling (item id), if any.
    pub sling_id: Option<Uuid>,
    /// Who trained them.
    pub trained_by: String,
    /// When.
    pub trained_on: NaiveDate,
    /// Whether they were found competent.
    pub competent: bool,
    /// When the training is reviewed.
    pub review_due_on: Option<NaiveDate>,
}

/// A child on the caseload with the warnings the list shows (`CH-VISIT-MISSED`), read from
/// the projection with the team's configured window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadItem {
    /// The projection row.
    pub entry: CaseloadEntry,
    /// `CH-VISIT-MISSED` when two missed visits fall within `missed_visit_window_days`.
    pub warnings: Vec<Issue>,
}

fn opt_text(m: &mut Map<String, Json>, key: &str, v: Option<&str>) {
    if let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) {
        m.insert(key.into(), Json::String(s.to_owned()));
    }
}

fn code<T: serde::Serialize>(v: &T) -> Result<Json> {
    json_code(v).map(Json::String)
}

fn refuse_issue(issue: Issue) -> Error {
    Error::InvalidInput {
        rule_id: issue.rule_id.clone(),
        detail: issue.message,
    }
}

impl Records {
    fn child(&self, child_id: RecordId) -> Result<Child> {
        self.require_child(child_id)?;
        self.typed(child_id)
    }

    /// Checks that `assessment` is a home-visit assessment of `child_id` (`CH-VISIT-SEEN`).
    fn require_assessment_of(&self, child_id: RecordId, assessment: RecordId) -> Result<()> {
        let wrong = || Error::InvalidInput {
            rule_id: "CH-VISIT-SEEN".into(),
            detail: format!("{assessment} is not a home-visit assessment of this child"),
        };
        let json = self.json(assessment).map_err(|e| match e {
            Error::NotFound(_) => wrong(),
            other => other,
        })?;
        let schema = json.get("schema").and_then(Json::as_str);
        let of = json.get("child_id").and_then(Json::as_str);
        if schema != Some(doc::record::schema_code(Schema::Assessment))
            || of != Some(child_id.to_string().as_str())
        {
            return Err(wrong());
        }
        Ok(())
    }

    fn visit_fields(
        &self,
        plan: Option<&VisitPlan>,
        result: Option<&VisitResult>,
    ) -> Result<Map<String, Json>> {
        let mut m = Map::new();
        if let Some(p) = plan {
            m.insert("planned_on".into(), Json::String(p.planned_on.to_string()));
            if let Some(t) = p.planned_time {
                m.insert("planned_time".into(), Json::String(t.to_string()));
            }
            m.insert("place".into(), code(&p.place)?);
            m.insert(
                "visitor_id".into(),
                Json::String(self.actor.user_id.hyphenated().to_string()),
            );
            opt_text(&mut m, "visitor_name", p.visitor_name.as_deref());
        }
        if let Some(r) = result {
            m.insert("outcome".into(), code(&r.outcome)?);
            opt_text(&mut m, "reason", r.reason.as_deref());
            opt_text(&mut m, "follow_up", r.follow_up.as_deref());
            if let Some(a) = r.assessment_id {
                m.insert("assessment_id".into(), Json::String(a.to_string()));
            }
            m.insert(
                "recorded_by".into(),
                Json::String(self.actor.user_id.hyphenated().to_string()),
            );
            m.insert(
                "recorded_at".into(),
                Json::String(doc::meta::format_instant(self.now())),
            );
        }
        Ok(m)
    }

    /// Checks a visit as it would stand (`CH-VISIT-OUTCOME`, `CH-VISIT-SEEN`), refusing it
    /// with the first problem's rule ID; nothing is saved.
    fn check_visit_input(&self, child_id: RecordId, v: &Visit, path: &str) -> Result<()> {
        if let Some(issue) = check_visit(path, v).into_iter().next() {
            return Err(refuse_issue(issue));
        }
        if let Some(a) = v.assessment_id {
            self.require_assessment_of(child_id, RecordId::from_uuid(a))?;
        }
        Ok(())
    }

    /// Plans a visit to the child; returns its item id.
    pub fn plan_visit(&self, child_id: RecordId, plan: &VisitPlan) -> Result<Uuid> {
        self.require_child(child_id)?;
        let fields = self.visit_fields(Some(plan), None)?;
        self.add_item(child_id, "visits", fields)
    }

    /// Records a visit and its outcome at once (a visit where nobody answered needs no
    /// assessment). Refused with `CH-VISIT-OUTCOME` when an outcome other than seen lacks its
    /// reason or follow-up, with `CH-VISIT-SEEN` when the linked record is not a home-visit
    /// assessment of this child.
    pub fn record_visit(
        &self,
        child_id: RecordId,
        plan: &VisitPlan,
        result: &VisitResult,
    ) -> Result<Uuid> {
        self.require_child(child_id)?;
        let candidate = Visit {
            planned_on: Some(plan.planned_on),
            planned_time: plan.planned_time,
            place: Some(plan.place),
            outcome: Some(result.outcome),
            reason: result.reason.clone(),
            follow_up: result.follow_up.clone(),
            assessment_id: result.assessment_id.map(|a| a.uuid()),
            ..Visit::default()
        };
        self.check_visit_input(child_id, &candidate, "visits.new")?;
        let fields = self.visit_fields(Some(plan), Some(result))?;
        self.add_item(child_id, "visits", fields)
    }

    /// Records the outcome of a planned visit, with the same checks as [`Records::record_visit`].
    pub fn record_visit_outcome(
        &self,
        child_id: RecordId,
        visit_id: Uuid,
        result: &VisitResult,
    ) -> Result<()> {
        let child = self.child(child_id)?;
        let item = find_live(&child.visits, visit_id).ok_or_else(|| Error::InvalidInput {
            rule_id: "CH-VISIT-OUTCOME".into(),
            detail: format!("the child has no visit {visit_id}"),
        })?;
        let path = format!("visits.{visit_id}");
        let candidate = Visit {
            outcome: Some(result.outcome),
            reason: result.reason.clone(),
            follow_up: result.follow_up.clone(),
            assessment_id: result.assessment_id.map(|a| a.uuid()),
            ..item.data.clone()
        };
        self.check_visit_input(child_id, &candidate, &path)?;
        let fields = self.visit_fields(None, Some(result))?;
        self.edit(child_id, |d, actor, at| {
            let schema = doc::record_schema(d)?;
            for (key, value) in fields {
                let p = format!("{path}.{key}");
                let segs: Vec<String> = p.split('.').map(str::to_owned).collect();
                match value {
                    Json::String(s) if doc::clinical::is_text(schema, &segs) => {
                        doc::set_text(d, &p, &s, actor, at)?
                    }
                    Json::String(s) => doc::set_scalar(d, &p, Scalar::Str(s), actor, at)?,
                    _ => {
                        return Err(Error::Internal(format!(
                            "visit field {key} is not a string"
                        )))
                    }
                }
            }
            Ok(())
        })
    }

    /// Links a seen visit to its home-visit assessment (`CH-VISIT-SEEN`).
    pub fn link_visit_assessment(
        &self,
        child_id: RecordId,
        visit_id: Uuid,
        assessment_id: RecordId,
    ) -> Result<()> {
        let child = self.child(child_id)?;
        if find_live(&child.visits, visit_id).is_none() {
            return Err(Error::InvalidInput {
                rule_id: "CH-VISIT-SEEN".into(),
                detail: format!("the child has no visit {visit_id}"),
            });
        }
        self.require_assessment_of(child_id, assessment_id)?;
        self.set_field(
            child_id,
            &format!("visits.{visit_id}.assessment_id"),
            super::FieldValue::Str(assessment_id.to_string()),
        )
    }

    /// The child's visits that are not removed, oldest first.
    pub fn visits(&self, child_id: RecordId) -> Result<Vec<Item<Visit>>> {
        let child = self.child(child_id)?;
        Ok(live(&child.visits).cloned().collect())
    }

    /// The caseload with its warnings: every active child by family name, each with
    /// `CH-VISIT-MISSED` when it applies under this team's window. Reads projections only.
    pub fn caseload(&self) -> Result<Vec<CaseloadItem>> {
        let window = self.config.missed_visit_window_days;
        Ok(self
            .store
            .caseload()?
            .into_iter()
            .map(|entry| {
                let warnings = match entry.missed_visit_gap_days {
                    Some(gap) if entry.missed_visit_warning(window) => vec![Issue::warn(
                        "CH-VISIT-MISSED",
                        "visits",
                        visits::missed_visit_message(gap, window),
                    )],
                    _ => Vec::new(),
                };
                CaseloadItem { entry, warnings }
            })
            .collect())
    }

    /// The child's warnings that every record's banner shows: `CH-VISIT-MISSED`.
    pub fn child_warnings(&self, child_id: RecordId) -> Result<Vec<Issue>> {
        let child = self.child(child_id)?;
        Ok(visits::missed_visit_warning(&child, &self.config)
            .into_iter()
            .collect())
    }

    /// Sets the child's safeguarding status and allocated social worker. Each change is
    /// attributed like every change (`RK-ATTRIB`) and listed by
    /// [`Records::safeguarding_history`]. A looked-after child without the local authority is
    /// refused (`CH-SG-STATUS`); a missing social worker is a warning the child shows.
    pub fn set_safeguarding(&self, child_id: RecordId, input: &SafeguardingInput) -> Result<()> {
        self.require_child(child_id)?;
        let la = input
            .looked_after_by
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if input.status == SafeguardingStatus::LookedAfter && la.is_none() {
            return Err(Error::InvalidInput {
                rule_id: "CH-SG-STATUS".into(),
                detail: "a looked-after child needs the local authority that looks after them"
                    .into(),
            });
        }
        let status = json_code(&input.status)?;
        let text = |v: &Option<String>| match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Scalar::Str(s.to_owned()),
            _ => Scalar::Null,
        };
        let fields = [
            ("safeguarding.status", Scalar::Str(status)),
            ("safeguarding.looked_after_by", text(&input.looked_after_by)),
            (
                "safeguarding.social_worker.name",
                text(&input.social_worker_name),
            ),
            (
                "safeguarding.social_worker.team",
                text(&input.social_worker_team),
            ),
            (
                "safeguarding.social_worker.phone",
                text(&input.social_worker_phone),
            ),
            (
                "safeguarding.social_worker.email",
                text(&input.social_worker_email),
            ),
        ];
        let current = doc_scalars(&self.json(child_id)?, &fields);
        self.edit(child_id, |d, actor, at| {
            for ((path, value), now) in fields.iter().zip(current) {
                // Only what changed is written, so the history shows what was changed.
                if !scalar_eq(value, now.as_ref()) {
                    doc::set_scalar(d, path, value.clone(), actor, at)?;
                }
            }
            Ok(())
        })
    }

    /// Records a safeguarding concern raised (what, to whom, when, reference); refused with
    /// `CH-SG-CONCERN` when what is blank or the date is in the future.
    pub fn add_safeguarding_concern(&self, child_id: RecordId, c: &ConcernInput) -> Result<Uuid> {
        self.require_child(child_id)?;
        let candidate = Child {
            safeguarding_concerns: vec![Item::new(
                Uuid::nil(),
                self.now(),
                self.actor.user_id,
                SafeguardingConcern {
                    concern: Some(c.concern.clone()),
                    raised_with: Some(c.raised_with),
                    raised_with_name: c.raised_with_name.clone(),
                    raised_on: Some(c.raised_on),
                    reference: c.reference.clone(),
                    visit_id: c.visit_id,
                },
            )],
            ..self.child(child_id)?
        };
        if let Some(issue) = visits::validate_safeguarding(&candidate, self.today())
            .into_iter()
            .find(|i| i.rule_id == "CH-SG-CONCERN" && i.is_error())
        {
            return Err(refuse_issue(issue));
        }
        let mut m = Map::new();
        m.insert("concern".into(), Json::String(c.concern.trim().to_owned()));
        m.insert("raised_with".into(), code(&c.raised_with)?);
        opt_text(&mut m, "raised_with_name", c.raised_with_name.as_deref());
        m.insert("raised_on".into(), Json::String(c.raised_on.to_string()));
        opt_text(&mut m, "reference", c.reference.as_deref());
        if let Some(v) = c.visit_id {
            m.insert("visit_id".into(), Json::String(v.hyphenated().to_string()));
        }
        self.add_item(child_id, "safeguarding_concerns", m)
    }

    /// Every change to the child's safeguarding status, social worker or concerns, oldest
    /// first, each with who, in what role, on which device and when (`RK-HISTORY`). Setting
    /// the status writes one change per field that changed.
    pub fn safeguarding_history(&self, child_id: RecordId) -> Result<Vec<HistoryEntry>> {
        self.require_child(child_id)?;
        Ok(self
            .history(child_id)?
            .into_iter()
            // Creation lays down the empty maps; it changes nothing about safeguarding.
            .filter(|h| h.attribution.meta().map(|m| m.action) != Some(doc::Action::Create))
            .filter(|h| {
                h.paths.iter().any(|p| {
                    p == "safeguarding"
                        || p.starts_with("safeguarding.")
                        || p == "safeguarding_concerns"
                        || p.starts_with("safeguarding_concerns.")
                })
            })
            .collect())
    }

    /// Adds a carer training record to an M&H risk assessment; returns its item id. The rules
    /// (`MH-TRAINING-REF`, `MH-CARER-TRAINED`) report on it in validation.
    pub fn add_carer_training(&self, risk_id: RecordId, t: &TrainingInput) -> Result<Uuid> {
        let schema = self.store.read(risk_id, |d| doc::record_schema(d))?;
        if schema != Schema::RiskAssessment {
            return Err(Error::InvalidInput {
                rule_id: "MH-TRAINING-REF".into(),
                detail: format!("{risk_id} is not an M&H risk assessment"),
            });
        }
        let mut m = Map::new();
        m.insert(
            "trainee_name".into(),
            Json::String(t.trainee_name.trim().to_owned()),
        );
        m.insert("trainee_role".into(), code(&t.trainee_role)?);
        m.insert(
            "task_id".into(),
            Json::String(t.task_id.hyphenated().to_string()),
        );
        if let Some(h) = t.hoist_id {
            m.insert("hoist_id".into(), Json::String(h.hyphenated().to_string()));
        }
        if let Some(s) = t.sling_id {
            m.insert("sling_id".into(), Json::String(s.hyphenated().to_string()));
        }
        m.insert(
            "trained_by".into(),
            Json::String(t.trained_by.trim().to_owned()),
        );
        m.insert("trained_on".into(), Json::String(t.trained_on.to_string()));
        m.insert("competent".into(), Json::Bool(t.competent));
        if let Some(r) = t.review_due_on {
            m.insert("review_due_on".into(), Json::String(r.to_string()));
        }
        self.add_item(risk_id, "carer_training", m)
    }

    /// The carer training records of a risk assessment that are not removed.
    pub fn carer_training(&self, risk_id: RecordId) -> Result<Vec<Item<CarerTraining>>> {
        let ra: crate::model::risk::RiskAssessment = self.typed(risk_id)?;
        Ok(live(&ra.carer_training).cloned().collect())
    }

    /// Accepts a referral outside the criteria as a recorded exception (`RK-ELIG-OVERRIDE`):
    /// an OT or approver HCPC-registered today, with a reason; the computed outcome stays
    /// beside it and the disposition becomes `accepted`.
    pub fn override_eligibility(&self, referral_id: RecordId, reason: &str) -> Result<()> {
        let referral: Referral = self.typed(referral_id)?;
        let today = self.today();
        check_override(
            referral.eligibility.as_ref().map(|s| &s.outcome),
            &self.actor,
            today,
            reason,
        )?;
        let value = serde_json::json!({
            "by": self.actor.user_id.hyphenated().to_string(),
            "role": self.actor.role.as_str(),
            "reason": reason.trim(),
            "on": today.to_string(),
            "at": doc::meta::format_instant(self.now()),
        });
        self.edit(referral_id, |d, actor, at| {
            doc::set_derived(d, "eligibility_override", &value, actor, at)?;
            doc::set_scalar(d, "disposition", Scalar::Str("accepted".into()), actor, at)
        })
    }
}

/// The current JSON values at each dotted path of `fields`.
fn doc_scalars(json: &Json, fields: &[(&str, Scalar)]) -> Vec<Option<Json>> {
    fields
        .iter()
        .map(|(path, _)| {
            path.split('.')
                .try_fold(json, |v, k| v.get(k))
                .filter(|v| !v.is_null())
                .cloned()
        })
        .collect()
}

fn scalar_eq(s: &Scalar, current: Option<&Json>) -> bool {
    match (s, current) {
        (Scalar::Null, None) => true,
        (Scalar::Str(a), Some(Json::String(b))) => a == b,
        _ => false,
    }
}
