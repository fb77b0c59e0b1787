//! What the apps' screens show that the core computes: the risk band of a rating (`MH-SCORE`),
//! the AP measurement table with its ranges, the measurements a request's category needs
//! (`EQ-MEAS-REQUIRED`) and the workflow actions open to the signed-in user (`EQ-TRANSITION`,
//! `EQ-ROLE`). The apps never copy these tables: they ask here.

use homevisit_core::{
    model::equipment::{EquipmentRequest, Status},
    rules::{
        equipment::{required_measurements, MEASUREMENT_TABLE},
        fields::Unit,
        mh,
        workflow::{self, Check, WorkflowStatus, TRANSITIONS},
    },
    Error as CoreError,
};

use crate::{
    codes::{EquipmentStatus, MeasurementKey, MeasurementUnit, RiskBand, WorkflowNeed},
    error::{FfiResult, HomeVisitError},
    store::Store,
    types::{parse_id, ValidationIssue},
};

/// A task's risk score and band (`MH-SCORE`): likelihood × severity, band computed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RiskScore {
    /// Likelihood × severity, 1–25.
    pub score: i64,
    /// The band the score falls in.
    pub band: RiskBand,
    /// `Low`, `Moderate`, `High` or `Extreme`.
    pub label: String,
}

/// `MH-SCORE`: the score and band of a likelihood and a severity, each 1–5; anything else is
/// `InvalidInput { MH-SCORE }`.
#[uniffi::export]
pub fn risk_score(likelihood: i64, severity: i64) -> FfiResult<RiskScore> {
    let score = mh::score(likelihood, severity)?;
    // Every product of two integers 1–5 has a band; the fallback is never reached.
    let band = mh::band(score).unwrap_or(mh::Band::Extreme);
    Ok(RiskScore {
        score,
        band: band.into(),
        label: band.label().to_owned(),
    })
}

/// One row of the AP measurement table (DOMAIN.md §3.6), ranges in the stored unit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MeasurementSpecInfo {
    /// Which measurement.
    pub key: MeasurementKey,
    /// Where it sits in a request (`measurements.lower_leg_length_mm`), its `value` and
    /// `measured_on` beneath.
    pub path: String,
    /// What is measured, e.g. `Back of knee to floor or footplate`.
    pub what: String,
    /// The unit it is stored and shown in.
    pub unit: MeasurementUnit,
    /// Whether the value is typed with one decimal (kg, cm) and stored in tenths.
    pub tenths: bool,
    /// Hard range (outside → `FLD-HARD` ERROR), stored unit.
    pub hard_min: i64,
    /// Hard range upper bound.
    pub hard_max: i64,
    /// Soft range (outside → `FLD-SOFT` WARN), stored unit.
    pub soft_min: i64,
    /// Soft range upper bound.
    pub soft_max: i64,
    /// A measurement of the child's body (`EQ-MEAS-AGE`), not a prescription or the home.
    pub body: bool,
}

/// The AP measurement table, in table order.
#[uniffi::export]
pub fn measurement_specs() -> Vec<MeasurementSpecInfo> {
    MEASUREMENT_TABLE
        .iter()
        .map(|s| MeasurementSpecInfo {
            key: s.key.into(),
            path: format!("measurements.{}", s.key.as_str()),
            what: s.what.to_owned(),
            unit: s.range.unit.into(),
            tenths: matches!(s.range.unit, Unit::KgTenths | Unit::CmTenths),
            hard_min: s.range.hard.0,
            hard_max: s.range.hard.1,
            soft_min: s.range.soft.0,
            soft_max: s.range.soft.1,
            body: s.body,
        })
        .collect()
}

/// A transition the workflow table lists from a request's current status (W1–W19).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkflowAction {
    /// The status it leads to.
    pub to: EquipmentStatus,
    /// The table row, `W1`–`W19` (not a rule ID).
    pub number: String,
    /// Whether the signed-in user's role may make it (`EQ-ROLE`); the other checks run when
    /// it is made.
    pub permitted: bool,
    /// Why not, when not permitted: `EQ-ROLE`.
    pub refusal_rule_id: Option<String>,
    /// What the transition records that the user must supply, each once, in table order.
    pub needs: Vec<WorkflowNeed>,
}

/// Where an equipment request stands and what can happen next.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkflowView {
    /// The status; `None` before the first transition and under `CF-STATUS`.
    pub status: Option<EquipmentStatus>,
    /// `CF-STATUS`: concurrent transitions from one state wait for an approver's choice; no
    /// move is listed until then.
    pub status_conflict: bool,
    /// The transitions listed from that status, in table order.
    pub actions: Vec<WorkflowAction>,
}

fn needs(checks: &[Check]) -> Vec<WorkflowNeed> {
    let mut out: Vec<WorkflowNeed> = Vec::new();
    for c in checks {
        let n = match c {
            Check::Reason => WorkflowNeed::Reason,
            Check::Dates | Check::DecisionDate => WorkflowNeed::EventDate,
            Check::Supplier => WorkflowNeed::Supplier,
            Check::OrderRef => WorkflowNeed::OrderRef,
            Check::Contractor => WorkflowNeed::Contractor,
            Check::Outcome => WorkflowNeed::Outcome,
            Check::Condition => WorkflowNeed::Condition,
            Check::HousingRef => WorkflowNeed::HousingAuthorityRef,
            _ => continue,
        };
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

impl Store {
    /// The equipment request `record_id`; another kind of record is `InvalidInput`, not
    /// `Corrupt` (the id is wrong, the data is fine).
    fn equipment_request(&self, record_id: &str) -> FfiResult<EquipmentRequest> {
        let id = parse_id(record_id)?;
        let json = self.records().json(id)?;
        let schema = json
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        if schema != "homevisit/equipment_request" {
            return Err(HomeVisitError::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: format!("record {id} is a {schema}, not an equipment request"),
            });
        }
        Ok(self.records().typed(id)?)
    }
}

#[uniffi::export]
impl Store {
    /// What blocks sign/submit now (`RK-SIGN`, `EQ-SUBMIT-VALID`): every ERROR and every WARN
    /// without a current acknowledgement (`FLD-ACK`). A WARN `validate` reports that is not
    /// here is acknowledged.
    pub fn blocking_issues(&self, record_id: String) -> FfiResult<Vec<ValidationIssue>> {
        let report = self.records().validate(parse_id(&record_id)?, true)?;
        Ok(report
            .blocking
            .into_iter()
            .map(ValidationIssue::from)
            .collect())
    }

    /// The measurement keys the request's category needs at submit (`EQ-MEAS-REQUIRED`).
    pub fn required_measurements(&self, record_id: String) -> FfiResult<Vec<MeasurementKey>> {
        let req = self.equipment_request(&record_id)?;
        Ok(required_measurements(&req)
            .into_iter()
            .map(MeasurementKey::from)
            .collect())
    }

    /// The request's status and the workflow actions listed from it, each marked with
    /// whether the signed-in user's role may make it. The table stays in the core.
    pub fn workflow_actions(&self, record_id: String) -> FfiResult<WorkflowView> {
        let req = self.equipment_request(&record_id)?;
        let actor = self.records().actor();
        let status = workflow::status(&req);
        let from: Option<Status> = match &status {
            WorkflowStatus::At(s) => Some(*s),
            // A new request has no listed move but W1; a `CF-STATUS` conflict is settled by
            // an approver, not by a transition.
            WorkflowStatus::New | WorkflowStatus::Conflict { .. } => {
                return Ok(WorkflowView {
                    status: None,
                    status_conflict: matches!(status, WorkflowStatus::Conflict { .. }),
                    actions: Vec::new(),
                });
            }
        };
        let is_requester = actor.user_id == req.requested_by.unwrap_or(req.envelope.created_by);
        let actions = TRANSITIONS
            .iter()
            .filter(|r| r.from.contains(&from))
            .map(|r| {
                let refusal = match workflow::permitted(from, r.to, actor.role, is_requester) {
                    Ok(_) => None,
                    Err(CoreError::NotPermitted { rule_id, .. }) => Some(rule_id),
                    Err(_) => Some("EQ-ROLE".to_owned()),
                };
                WorkflowAction {
                    to: r.to.into(),
                    number: r.number.to_owned(),
                    permitted: refusal.is_none(),
                    refusal_rule_id: refusal,
                    needs: needs(r.checks),
                }
            })
            .collect();
        Ok(WorkflowView {
            status: from.map(EquipmentStatus::from),
            status_conflict: false,
            actions,
        })
    }
}
