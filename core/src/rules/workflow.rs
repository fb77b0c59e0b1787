//! The equipment workflow (DOMAIN.md §3.6): ONE transition table, W1–W19, with who may make
//! each transition and which checks it runs; the status derived from the transitions log;
//! and concurrent transitions (`CF-STATUS`).
//!
//! Order of checks (§3.6): pair not listed → `EQ-TRANSITION`; role not listed → `EQ-ROLE`;
//! then the listed checks left to right, the first failure returned. An unresolved conflict
//! on the record blocks any move (`CF-BLOCK`) once the pair and role are known to be allowed.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    config::Thresholds,
    dates::local_date as london_date,
    equipment::{
        self, approval_tier, hoist_ra_check, EquipmentContext, Tier, DEFAULT_TIER2_COST_PENCE,
        WHEELCHAIR_SIGNPOST,
    },
    fields::{has_text, Stage},
};
use crate::{
    error::Error,
    model::{
        common::{live, Item},
        equipment::{Category, EquipmentRequest, ReviewOutcome, Status, Supersession, Transition},
        risk::RiskAssessment,
        user::{Actor, Role},
    },
};

use Role::{Ap, Approver, Ot, System};
use Status as S;

/// A check a transition runs, in the table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `S-WHEELCHAIR`: wheelchairs are refused.
    Wheelchair,
    /// `EQ-SUBMIT-VALID`: no open ERROR, every WARN acknowledged.
    SubmitValid,
    /// `EQ-MEAS-REQUIRED`: the category's measurements are present.
    MeasRequired,
    /// `EQ-REASON`: a reason that is not blank.
    Reason,
    /// `EQ-APPROVE-HCPC`: the actor is HCPC-registered on the day.
    ApproveHcpc,
    /// `EQ-APPROVE-SELF`: the actor is not the requester.
    ApproveSelf,
    /// `EQ-APPROVE-TIER`: tier 2 needs an `approver`.
    ApproveTier,
    /// `EQ-DFG-ROUTE`: major adaptations go only through W15, which is only for them.
    DfgRoute,
    /// `EQ-HOIST-RA`: hoists and slings need a signed risk assessment.
    HoistRa,
    /// `EQ-DATES`: the event date is given, not before the previous event, not in the future.
    Dates,
    /// W7: supplier (`FLD-REQUIRED`).
    Supplier,
    /// W7: order reference (`FLD-REQUIRED`).
    OrderRef,
    /// W9: contractor (`FLD-REQUIRED`).
    Contractor,
    /// W10: review outcome (`FLD-REQUIRED`).
    Outcome,
    /// W11: condition on return (`FLD-REQUIRED`).
    Condition,
    /// W16: housing-authority reference (`FLD-REQUIRED`).
    HousingRef,
    /// W16, W17: decision date (`FLD-REQUIRED`).
    DecisionDate,
}

impl Check {
    /// The rule ID a failure of this check carries.
    pub fn rule_id(self) -> &'static str {
        match self {
            Check::Wheelchair => "S-WHEELCHAIR",
            Check::SubmitValid => "EQ-SUBMIT-VALID",
            Check::MeasRequired => "EQ-MEAS-REQUIRED",
            Check::Reason => "EQ-REASON",
            Check::ApproveHcpc => "EQ-APPROVE-HCPC",
            Check::ApproveSelf => "EQ-APPROVE-SELF",
            Check::ApproveTier => "EQ-APPROVE-TIER",
            Check::DfgRoute => "EQ-DFG-ROUTE",
            Check::HoistRa => "EQ-HOIST-RA",
            Check::Dates => "EQ-DATES",
            Check::Supplier
            | Check::OrderRef
            | Check::Contractor
            | Check::Outcome
            | Check::Condition
            | Check::HousingRef
            | Check::DecisionDate => "FLD-REQUIRED",
        }
    }
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The row's number, `W1`–`W19` (not a rule ID).
    pub number: &'static str,
    /// States it leaves (`None` = a new request).
    pub from: &'static [Option<Status>],
    /// State it enters.
    pub to: Status,
    /// Roles allowed.
    pub roles: &'static [Role],
    /// Whether the requesting user may make it in any role (W13).
    pub requester: bool,
    /// Checks, in order.
    pub checks: &'static [Check],
}

const fn w(
    number: &'static str,
    from: &'static [Option<Status>],
    to: Status,
    roles: &'static [Role],
    requester: bool,
    checks: &'static [Check],
) -> Rule {
    Rule {
        number,
        from,
        to,
        roles,
        requester,
        checks,
    }
}

/// The equipment workflow, W1–W19 (DOMAIN.md §3.6). The only place transitions are defined.
pub const TRANSITIONS: [Rule; 19] = {
    use Check::*;
    [
        w(
            "W1",
            &[None],
            S::Draft,
            &[Ap, Ot, Approver],
            false,
            &[Wheelchair],
        ),
        w(
            "W2",
            &[Some(S::Draft)],
            S::Submitted,
            &[Ap, Ot, Approver],
            false,
            &[Wheelchair, SubmitValid, MeasRequired],
        ),
        w(
            "W3",
            &[Some(S::Submitted)],
            S::InfoRequested,
            &[Ot, Approver],
            false,
            &[Reason],
        ),
        w(
            "W4",
            &[Some(S::InfoRequested)],
            S::Submitted,
            &[Ap, Ot, Approver],
            false,
            &[Reason, SubmitValid],
        ),
        w(
            "W5",
            &[Some(S::Submitted)],
            S::Approved,
            &[Ot, Approver],
            false,
            &[
                ApproveHcpc,
                ApproveSelf,
                ApproveTier,
                DfgRoute,
                SubmitValid,
                HoistRa,
            ],
        ),
        w(
            "W6",
            &[Some(S::Submitted)],
            S::Declined,
            &[Ot, Approver],
            false,
            &[ApproveHcpc, ApproveSelf, Reason],
        ),
        w(
            "W7",
            &[Some(S::Approved)],
            S::Ordered,
            &[Ot, Approver, System],
            false,
            &[Supplier, OrderRef, Dates],
        ),
        w(
            "W8",
            &[Some(S::Ordered)],
            S::Delivered,
            &[Ap, Ot, Approver, System],
            false,
            &[Dates],
        ),
        w(
            "W9",
            &[Some(S::Ordered)],
            S::Installed,
            &[Ap, Ot, Approver, System],
            false,
            &[Contractor, Dates],
        ),
        w(
            "W10",
            &[Some(S::Delivered), Some(S::Installed)],
            S::Reviewed,
            &[Ot, Approver],
            false,
            &[Outcome, Dates],
        ),
        w(
            "W11",
            &[Some(S::Reviewed)],
            S::Returned,
            &[Ap, Ot, Approver, System],
            false,
            &[Dates, Condition],
        ),
        w(
            "W12",
            &[Some(S::Reviewed)],
            S::Closed,
            &[Ot, Approver],
            false,
            &[],
        ),
        w(
            "W13",
            &[Some(S::Draft), Some(S::Submitted), Some(S::InfoRequested)],
            S::Cancelled,
            &[Ot, Approver],
            true,
            &[Reason],
        ),
        w(
            "W14",
            &[
                Some(S::Approved),
                Some(S::Ordered),
                Some(S::ReferredToDfg),
                Some(S::DfgApproved),
            ],
            S::Cancelled,
            &[Ot, Approver],
            false,
            &[Reason],
        ),
        w(
            "W15",
            &[Some(S::Submitted)],
            S::ReferredToDfg,
            &[Approver],
            false,
            &[ApproveHcpc, ApproveSelf, DfgRoute, SubmitValid],
        ),
        w(
            "W16",
            &[Some(S::ReferredToDfg)],
            S::DfgApproved,
            &[Ot, Approver, System],
            false,
            &[HousingRef, DecisionDate],
        ),
        w(
            "W17",
            &[Some(S::ReferredToDfg)],
            S::DfgDeclined,
            &[Ot, Approver, System],
            false,
            &[DecisionDate, Reason],
        ),
        w(
            "W18",
            &[Some(S::DfgApproved)],
            S::Installed,
            &[Ap, Ot, Approver, System],
            false,
            &[Dates],
        ),
        w(
            "W19",
            &[Some(S::DfgDeclined)],
            S::Closed,
            &[Ot, Approver],
            false,
            &[],
        ),
    ]
};

/// The table row for a pair of states, if the pair is listed.
pub fn rule_for(from: Option<Status>, to: Status) -> Option<&'static Rule> {
    TRANSITIONS
        .iter()
        .find(|r| r.to == to && r.from.contains(&from))
}

/// Pair and role check: `EQ-TRANSITION` if the pair is not listed, `EQ-ROLE` if the role is
/// not (W13 also lets the requester through in any role).
pub fn permitted(
    from: Option<Status>,
    to: Status,
    role: Role,
    is_requester: bool,
) -> Result<&'static Rule, Error> {
    let name = |s: Option<Status>| s.map(status_code).unwrap_or("(new)");
    let rule = rule_for(from, to).ok_or_else(|| Error::NotPermitted {
        rule_id: "EQ-TRANSITION".into(),
        detail: format!(
            "a request cannot go from {} to {}",
            name(from),
            status_code(to)
        ),
    })?;
    if rule.roles.contains(&role) || (rule.requester && is_requester) {
        Ok(rule)
    } else {
        Err(Error::NotPermitted {
            rule_id: "EQ-ROLE".into(),
            detail: format!(
                "the {} role may not move a request from {} to {} ({})",
                role.as_str(),
                name(from),
                status_code(to),
                rule.number
            ),
        })
    }
}

/// A status's code, e.g. `referred_to_dfg`.
pub fn status_code(s: Status) -> &'static str {
    match s {
        S::Draft => "draft",
        S::Submitted => "submitted",
        S::InfoRequested => "info_requested",
        S::Approved => "approved",
        S::Declined => "declined",
        S::Ordered => "ordered",
        S::Delivered => "delivered",
        S::Installed => "installed",
        S::Reviewed => "reviewed",
        S::Returned => "returned",
        S::Closed => "closed",
        S::Cancelled => "cancelled",
        S::ReferredToDfg => "referred_to_dfg",
        S::DfgApproved => "dfg_approved",
        S::DfgDeclined => "dfg_declined",
    }
}

/// A request's status, derived from its transitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowStatus {
    /// No transition yet (being created).
    New,
    /// In a state.
    At(Status),
    /// `CF-STATUS`: two or more transitions were made concurrently from the same state; an
    /// approver must choose one.
    Conflict {
        /// The state they all left.
        from: Option<Status>,
        /// The concurrent transitions' item ids.
        candidates: Vec<Uuid>,
    },
}

impl WorkflowStatus {
    /// The status code lists and exports show: a state's code, `new`, or `conflict`.
    pub fn code(&self) -> &'static str {
        match self {
            WorkflowStatus::New => "new",
            WorkflowStatus::At(s) => status_code(*s),
            WorkflowStatus::Conflict { .. } => "conflict",
        }
    }
}

/// The derived workflow state of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowState {
    /// The status.
    pub status: WorkflowStatus,
    /// The last effective transition (what a new one follows).
    pub head: Option<Uuid>,
    /// Transitions in the log that break the table (wrong `from`, pair or role) and so are
    /// kept but not applied (`CF-RULE-BREACH`).
    pub breaches: Vec<Uuid>,
    /// Transitions an approver set aside (`CF-STATUS`).
    pub superseded: Vec<Uuid>,
}

/// The transitions a rule-breach flag names (`CF-RULE-BREACH`): the team server flags a
/// transition it received that the table, the row's checks or the true author's identity do
/// not allow, and such a transition is not verified.
pub fn flagged_transitions(req: &EquipmentRequest) -> HashSet<Uuid> {
    req.flags
        .values()
        .filter_map(|f| f.item.as_deref())
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect()
}

/// Derives the status from the log of verified transitions: starting from creation, follow
/// the transition that `follows` the current one. One → advance; none → here; several →
/// `Conflict`. Superseded transitions are skipped; ones that break the table, and ones a
/// rule-breach flag names (whatever `role` and `user_id` they carry), are reported in
/// `breaches` and skipped.
pub fn derive(req: &EquipmentRequest) -> WorkflowState {
    let flagged = flagged_transitions(req);
    let log: Vec<&Item<Transition>> = live(&req.transitions).collect();
    let superseded: Vec<Uuid> = log
        .iter()
        .filter(|t| t.data.superseded.is_some())
        .map(|t| t.item_id)
        .collect();
    let mut breaches = Vec::new();
    let mut status = WorkflowStatus::New;
    let mut current: Option<Status> = None;
    let mut head: Option<Uuid> = None;
    // Each step consumes a distinct transition, so the log's length bounds the walk even for
    // a hostile log with cycles.
    for _ in 0..=log.len() {
        let mut next = Vec::new();
        for t in log
            .iter()
            .filter(|t| t.data.superseded.is_none() && t.data.follows == head)
        {
            let is_requester =
                t.data.user_id == req.requested_by.unwrap_or(req.envelope.created_by);
            let fits = !flagged.contains(&t.item_id)
                && t.data.from == current
                && permitted(current, t.data.to, t.data.role, is_requester).is_ok()
                && Some(t.item_id) != head;
            if fits {
                next.push(*t);
            } else {
                breaches.push(t.item_id);
            }
        }
        match next.as_slice() {
            [] => break,
            [one] => {
                current = Some(one.data.to);
                head = Some(one.item_id);
                status = WorkflowStatus::At(one.data.to);
            }
            many => {
                status = WorkflowStatus::Conflict {
                    from: current,
                    candidates: many.iter().map(|t| t.item_id).collect(),
                };
                break;
            }
        }
    }
    WorkflowState {
        status,
        head,
        breaches,
        superseded,
    }
}

/// The request's status (see [`derive`]).
pub fn status(req: &EquipmentRequest) -> WorkflowStatus {
    derive(req).status
}

/// What a transition records besides who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionInput {
    /// When it is made (UTC); the caller's clock, as rules never read one.
    pub at: DateTime<Utc>,
    /// Question, answer, decline, cancel or DFG-decline reason.
    pub reason: Option<String>,
    /// The event's date: order, delivery, installation, review, return, DFG decision or
    /// completion.
    pub event_date: Option<NaiveDate>,
    /// W7 supplier.
    pub supplier: Option<String>,
    /// W7 order reference.
    pub order_ref: Option<String>,
    /// W9 contractor.
    pub contractor: Option<String>,
    /// W10 outcome.
    pub outcome: Option<ReviewOutcome>,
    /// W11 condition.
    pub condition: Option<String>,
    /// W16 housing-authority reference.
    pub housing_authority_ref: Option<String>,
}

impl TransitionInput {
    /// An input with only the instant set.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            at,
            reason: None,
            event_date: None,
            supplier: None,
            order_ref: None,
            contractor: None,
            outcome: None,
            condition: None,
            housing_authority_ref: None,
        }
    }
}

/// What the workflow checks need besides the request.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowContext<'a> {
    /// Minor adaptations above this cost need tier 2 (`tier2_cost_pence`).
    pub tier2_cost_pence: i64,
    /// The linked risk assessment (`EQ-HOIST-RA`).
    pub risk_assessment: Option<&'a RiskAssessment>,
    /// Paths of unresolved clinical conflicts on the request (`CF-BLOCK`).
    pub open_conflicts: &'a [String],
    /// The team's thresholds (`EQ-SUBMIT-VALID`, `EQ-HOIST-RA`).
    pub thresholds: Thresholds,
}

impl Default for WorkflowContext<'_> {
    fn default() -> Self {
        Self {
            tier2_cost_pence: DEFAULT_TIER2_COST_PENCE,
            risk_assessment: None,
            open_conflicts: &[],
            thresholds: Thresholds::default(),
        }
    }
}

fn refuse(rule_id: &str, detail: impl Into<String>) -> Error {
    Error::NotPermitted {
        rule_id: rule_id.into(),
        detail: detail.into(),
    }
}

/// The date of the latest event so far (`EQ-DATES`): each transition's event date (the day
/// the delivery, installation, review or return happened), or, for a step that records none
/// (a submission, an approval), the local day it was made. The day a step was keyed in never
/// counts for a step that states its event date, so a review entered after the fact is not
/// refused because the delivery was keyed in later than it happened.
fn last_event_date(req: &EquipmentRequest) -> Option<NaiveDate> {
    let flagged = flagged_transitions(req);
    live(&req.transitions)
        .filter(|t| t.data.superseded.is_none() && !flagged.contains(&t.item_id))
        .map(|t| t.data.event_date.unwrap_or_else(|| london_date(t.data.at)))
        .chain(req.requested_at.map(london_date))
        .max()
}

/// Everyone who submitted (or resubmitted) the request (`EQ-APPROVE-SELF`).
fn submitters(req: &EquipmentRequest) -> Vec<Uuid> {
    live(&req.transitions)
        .filter(|t| t.data.superseded.is_none() && t.data.to == Status::Submitted)
        .map(|t| t.data.user_id)
        .collect()
}

/// Moves a request to `to`, or says why not. Returns the transition to append to the log
/// (the caller gives it an item id and stores it, e.g. with [`EquipmentRequest::apply`]).
///
/// `as_of` is today (Europe/London). Errors: `NotPermitted` with `EQ-TRANSITION`, `EQ-ROLE`,
/// `CF-STATUS`, or the first failing listed check; `Conflict` (`CF-BLOCK`) while a clinical
/// field of the request is in conflict.
pub fn transition(
    req: &EquipmentRequest,
    to: Status,
    actor: &Actor,
    as_of: NaiveDate,
    input: TransitionInput,
    ctx: &WorkflowContext<'_>,
) -> Result<Transition, Error> {
    let state = derive(req);
    let from = match state.status {
        WorkflowStatus::New => None,
        WorkflowStatus::At(s) => Some(s),
        WorkflowStatus::Conflict { .. } => {
            return Err(refuse(
                "CF-STATUS",
                "two transitions were made at the same time; an approver must choose one first",
            ))
        }
    };
    let requester = req.requested_by.unwrap_or(req.envelope.created_by);
    let rule = permitted(from, to, actor.role, actor.user_id == requester)?;
    if !ctx.open_conflicts.is_empty() {
        return Err(Error::Conflict {
            paths: ctx.open_conflicts.to_vec(),
        });
    }

    for check in rule.checks {
        run_check(*check, rule, req, actor, as_of, &input, ctx, requester)?;
    }

    Ok(Transition {
        from,
        to,
        follows: state.head,
        user_id: actor.user_id,
        role: actor.role,
        device_id: actor.device_id,
        at: input.at,
        reason: input.reason.map(|r| r.trim().to_owned()),
        event_date: input.event_date,
        supplier: input.supplier,
        order_ref: input.order_ref,
        contractor: input.contractor,
        outcome: input.outcome,
        condition: input.condition,
        housing_authority_ref: input.housing_authority_ref,
        superseded: None,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_check(
    check: Check,
    rule: &Rule,
    req: &EquipmentRequest,
    actor: &Actor,
    as_of: NaiveDate,
    input: &TransitionInput,
    ctx: &WorkflowContext<'_>,
    requester: Uuid,
) -> Result<(), Error> {
    let id = check.rule_id();
    let need = |present: bool, what: &str| {
        if present {
            Ok(())
        } else {
            Err(refuse(
                id,
                format!("{what} is required for {}", rule.number),
            ))
        }
    };
    match check {
        Check::Wheelchair => {
            if req.category == Some(Category::Wheelchair) {
                return Err(refuse(
                    id,
                    format!(
                        "wheelchairs are assessed by the wheelchair service on its own referral; \
                         signpost: {WHEELCHAIR_SIGNPOST}"
                    ),
                ));
            }
        }
        Check::SubmitValid => {
            // Checks listed separately in this row report under their own IDs, in order.
            let own: Vec<&str> = rule.checks.iter().map(|c| c.rule_id()).collect();
            let ectx = EquipmentContext {
                stage: Stage::Final,
                as_of,
                risk_assessment: None,
                thresholds: ctx.thresholds,
            };
            let issues: Vec<_> = equipment::validate(req, &ectx)
                .into_iter()
                .filter(|i| !own.contains(&i.rule_id.as_str()))
                .collect();
            equipment::submit_valid(&issues, &req.envelope.current_acks())?;
        }
        Check::MeasRequired => {
            let missing: Vec<&str> = equipment::required_measurements(req)
                .into_iter()
                .filter(|k| !req.measurements.contains_key(k))
                .map(|k| k.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(refuse(
                    id,
                    format!("missing measurements: {}", missing.join(", ")),
                ));
            }
        }
        Check::Reason => need(
            has_text(input.reason.as_deref()),
            "a reason that is not blank",
        )?,
        Check::ApproveHcpc => {
            if !actor.hcpc_registered_on(as_of) {
                return Err(refuse(
                    id,
                    format!("the approver is not HCPC-registered on {as_of} (verification lapsed or missing)"),
                ));
            }
        }
        Check::ApproveSelf => {
            if actor.user_id == requester {
                return Err(refuse(id, "a requester cannot decide on their own request"));
            }
            if submitters(req).contains(&actor.user_id) {
                return Err(refuse(
                    id,
                    "whoever submitted the request cannot decide on it",
                ));
            }
        }
        Check::ApproveTier => {
            let tier = approval_tier(req.category, req.estimated_cost_pence, ctx.tier2_cost_pence);
            match tier {
                Tier::Two if actor.role != Role::Approver => {
                    return Err(refuse(
                        id,
                        "this category (or cost) needs tier-2 approval by an approver",
                    ))
                }
                Tier::Refused => return Err(refuse(id, "this category cannot be approved")),
                _ => {}
            }
        }
        Check::DfgRoute => {
            let major = req.category == Some(Category::MajorAdaptation);
            if rule.to == Status::ReferredToDfg && !major {
                return Err(refuse(id, "only major adaptations are referred for a DFG"));
            }
            if rule.to != Status::ReferredToDfg && major {
                return Err(refuse(
                    id,
                    "a major adaptation goes through a DFG referral, not approval",
                ));
            }
        }
        Check::HoistRa => {
            hoist_ra_check(req, ctx.risk_assessment, as_of, ctx.thresholds)
                .map_err(|why| refuse(id, why))?;
        }
        Check::Dates => {
            let Some(date) = input.event_date else {
                return Err(refuse(
                    "FLD-REQUIRED",
                    format!("the event date is required for {}", rule.number),
                ));
            };
            if date > as_of {
                return Err(refuse(
                    id,
                    format!("the event date {date} is in the future (today {as_of})"),
                ));
            }
            if let Some(prev) = last_event_date(req).filter(|p| date < *p) {
                return Err(refuse(
                    id,
                    format!("the event date {date} is before the previous event ({prev})"),
                ));
            }
        }
        Check::Supplier => need(has_text(input.supplier.as_deref()), "the supplier")?,
        Check::OrderRef => need(has_text(input.order_ref.as_deref()), "the order reference")?,
        Check::Contractor => need(has_text(input.contractor.as_deref()), "the contractor")?,
        Check::Outcome => need(input.outcome.is_some(), "the review outcome")?,
        Check::Condition => need(
            has_text(input.condition.as_deref()),
            "the condition on return",
        )?,
        Check::HousingRef => need(
            has_text(input.housing_authority_ref.as_deref()),
            "the housing-authority reference",
        )?,
        Check::DecisionDate => {
            need(input.event_date.is_some(), "the decision date")?;
            if let Some(date) = input.event_date.filter(|d| *d > as_of) {
                return Err(refuse(
                    "EQ-DATES",
                    format!("the decision date {date} is in the future (today {as_of})"),
                ));
            }
        }
    }
    Ok(())
}

/// `CF-STATUS`: an approver chooses one of the concurrent transitions. Returns, for every
/// other candidate, the supersession to record on it (it stays in the log, marked).
pub fn resolve_status_conflict(
    req: &EquipmentRequest,
    chosen: Uuid,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Vec<(Uuid, Supersession)>, Error> {
    if actor.role != Role::Approver {
        return Err(refuse(
            "CF-STATUS",
            "only an approver may choose between concurrent transitions",
        ));
    }
    let WorkflowStatus::Conflict { candidates, .. } = status(req) else {
        return Err(refuse(
            "CF-STATUS",
            "the request's status is not in conflict",
        ));
    };
    if !candidates.contains(&chosen) {
        return Err(refuse(
            "CF-STATUS",
            "the chosen transition is not one of the concurrent ones",
        ));
    }
    Ok(candidates
        .into_iter()
        .filter(|c| *c != chosen)
        .map(|c| {
            (
                c,
                Supersession {
                    chosen,
                    user_id: actor.user_id,
                    at,
                },
            )
        })
        .collect())
}

/// Records supersessions returned by [`resolve_status_conflict`] on the request's log.
pub fn mark_superseded(req: &mut EquipmentRequest, marks: &[(Uuid, Supersession)]) {
    for (id, s) in marks {
        if let Some(t) = req.transitions.iter_mut().find(|t| t.item_id == *id) {
            t.data.superseded = Some(s.clone());
        }
    }
}
