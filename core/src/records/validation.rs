//! Validation of a stored record with everything its rules read from other records: the
//! child's weights for M&H, the linked risk assessment for hoists, the team's other children
//! for duplicates. Clinical fields in conflict are checked on every candidate (`CF-WORST`).

use serde::{de::DeserializeOwned, Serialize};

use super::Records;
use crate::{
    error::Result,
    ids::RecordId,
    model::{
        assessment::Assessment,
        child::Child,
        common::{live, Record, Schema, Service},
        equipment::EquipmentRequest,
        referral::Referral,
        risk::{RiskAssessment, WeightReading},
    },
    rules::{
        assessment::{self, AssessmentContext},
        child::{validate_child, validate_referral, ChildSummary},
        eligibility,
        equipment::{self, EquipmentContext},
        fields::{worst_case, OpenConflict, Stage},
        issue::{blocking, Issue},
        mh::{self, MhContext},
        referral_outcome, training, visits, voice,
    },
};

/// The outcome of validating one record.
#[derive(Debug, Clone, Default)]
pub struct ValidationReport {
    /// Every issue, ERRORs and WARNs, each with its rule ID and path.
    pub issues: Vec<Issue>,
    /// What blocks sign/submit now: every ERROR and every WARN without a current
    /// acknowledgement (`FLD-ACK`).
    pub blocking: Vec<Issue>,
}

pub(super) fn validate(r: &Records, id: RecordId, final_stage: bool) -> Result<ValidationReport> {
    let stage = if final_stage {
        Stage::Final
    } else {
        Stage::Draft
    };
    let json = r.json(id)?;
    let schema: Schema = serde_json::from_value(json.get("schema").cloned().unwrap_or_default())
        .map_err(|e| crate::Error::Corrupt {
            record: Some(id),
            detail: format!("unknown schema: {e}"),
        })?;
    let conflicts: Vec<OpenConflict> = r
        .conflicts(id)?
        .into_iter()
        .map(|c| OpenConflict {
            path: c.path,
            candidates: c.values.into_iter().map(|v| v.value).collect(),
        })
        .collect();
    let today = r.today();
    let (issues, acks) = match schema {
        Schema::Child => {
            let child: Child = r.typed(id)?;
            let others = team_children(r, id)?;
            let config = r.config.clone();
            run(&child, &conflicts, |c: &Child| {
                let mut out = validate_child(c, &others, today, stage);
                out.extend(visits::validate_visits(c));
                out.extend(visits::validate_safeguarding(c, today));
                out.extend(visits::missed_visit_warning(c, &config));
                out
            })?
        }
        Schema::Referral => {
            let referral: Referral = r.typed(id)?;
            let child = child_of(r, &referral)?;
            let config = r.config.clone();
            let mut out = run(&referral, &conflicts, |x: &Referral| {
                let mut out = validate_referral(x, &child, today, stage, &config);
                out.extend(referral_outcome::validate_offer_tier(x, stage));
                out
            })?;
            if let Some(service) = referral.service {
                let as_of = eligibility::triage_as_of(&referral).unwrap_or(today);
                out.0.extend(eligibility::warnings(
                    service, &child, &referral, as_of, &config,
                ));
            }
            out
        }
        Schema::Assessment => {
            let a: Assessment = r.typed(id)?;
            let service = json
                .get("service")
                .cloned()
                .and_then(|v| serde_json::from_value::<Service>(v).ok());
            let ctx = AssessmentContext {
                stage,
                service,
                photo_attached: !r.list_photos(id)?.is_empty(),
                sign_date: Some(today),
            };
            run(&a, &conflicts, |x: &Assessment| {
                let mut out = assessment::validate(x, &ctx);
                out.extend(voice::validate(x, service, stage));
                out
            })?
        }
        Schema::RiskAssessment => {
            let ra: RiskAssessment = r.typed(id)?;
            let child = child_of(r, &ra)?;
            let weights: Vec<WeightReading> = live(&child.weights)
                .map(|w| WeightReading {
                    value_kg: w.data.value_kg,
                    measured_on: w.data.measured_on,
                })
                .collect();
            let ctx = MhContext {
                stage,
                sign_date: Some(today),
                child_weights: &weights,
                thresholds: r.config.thresholds(),
            };
            run(&ra, &conflicts, |x: &RiskAssessment| {
                let mut out = mh::validate(x, &ctx);
                out.extend(training::validate(x, stage));
                out
            })?
        }
        Schema::EquipmentRequest => {
            let req: EquipmentRequest = r.typed(id)?;
            let ra: Option<RiskAssessment> = match req.risk_assessment_id {
                Some(ra_id) => r.typed(RecordId::from_uuid(ra_id)).ok(),
                None => None,
            };
            let ctx = EquipmentContext {
                stage,
                as_of: today,
                risk_assessment: ra.as_ref(),
                thresholds: r.config.thresholds(),
            };
            run(&req, &conflicts, |x: &EquipmentRequest| {
                equipment::validate(x, &ctx)
            })?
        }
    };
    // FLD-TEXT-CHARS, FLD-TEXT-LENGTH: typed input is refused at the door; a document that
    // arrived by sync is kept as it came and flagged here instead.
    let mut issues = issues;
    issues.extend(super::input::text_issues(&json));
    issues.extend(super::photos::photo_consent_issues(r, id, &json)?);
    let blocking = blocking(&issues, &acks).into_iter().cloned().collect();
    Ok(ValidationReport { issues, blocking })
}

/// Runs `validate` with `CF-WORST` over open conflicts; returns the issues and the record's
/// current acknowledgements.
fn run<R, F>(
    record: &R,
    conflicts: &[OpenConflict],
    validate: F,
) -> Result<(Vec<Issue>, Vec<crate::rules::issue::Ack>)>
where
    R: Record + Serialize + DeserializeOwned,
    F: Fn(&R) -> Vec<Issue>,
{
    let issues = if conflicts.is_empty() {
        validate(record)
    } else {
        worst_case(record, conflicts, validate)?
    };
    Ok((issues, record.envelope().current_acks()))
}

fn child_of<R: Record>(r: &Records, record: &R) -> Result<Child> {
    let id = record
        .envelope()
        .child_id
        .ok_or_else(|| crate::Error::Corrupt {
            record: Some(record.envelope().id),
            detail: "record without child_id".into(),
        })?;
    r.typed(id)
}

/// The team's other children, for `CH-DUPLICATE`, from the store's caseload projection (a
/// device holds one team's records; the caseload lists active children only).
fn team_children(r: &Records, except: RecordId) -> Result<Vec<ChildSummary>> {
    Ok(r.store
        .caseload()?
        .into_iter()
        .filter(|c| c.child_id != except)
        .map(|c| ChildSummary {
            id: c.child_id,
            team_id: r.actor.team_id,
            active: true,
            nhs_number: c.nhs_number,
            family_name: c.family_name,
            date_of_birth: c.date_of_birth.and_then(|d| d.parse().ok()),
        })
        .collect())
}
