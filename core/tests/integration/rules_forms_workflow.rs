//! The equipment workflow W1–W19 (DOMAIN.md §3.6), vectors #28–#35, every (from, to, role)
//! triple, and concurrent transitions (`CF-STATUS`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        common::{Item, Service},
        equipment::{
            Category, EquipmentRequest, MeasurementKey as K, ReviewOutcome, Status, Status as S,
            Transition,
        },
        user::{Actor, Role},
    },
    rules::{
        issue::Ack,
        workflow::{
            derive, mark_superseded, resolve_status_conflict, status, transition, TransitionInput,
            WorkflowContext, WorkflowStatus,
        },
    },
    Error,
};
use support::*;
use uuid::Uuid;

const TODAY: &str = "2026-03-15";

fn today() -> chrono::NaiveDate {
    d(TODAY)
}

fn registered(role: Role) -> Actor {
    actor(role, Some(d("2027-01-01")))
}

/// An input with everything any transition may ask for, dated today.
fn full_input() -> TransitionInput {
    TransitionInput {
        at: at("2026-03-15T12:00:00Z"),
        reason: Some("Family asked for it.".into()),
        event_date: Some(today()),
        supplier: Some("Seating Co".into()),
        order_ref: Some("PO-42".into()),
        contractor: Some("Adapt Ltd".into()),
        outcome: Some(ReviewOutcome::Suitable),
        condition: Some("Good".into()),
        housing_authority_ref: Some("LBC-DFG-7".into()),
    }
}

fn rule_id(r: Result<Transition, Error>) -> String {
    match r {
        Err(Error::NotPermitted { rule_id, .. }) => rule_id,
        other => panic!("expected NotPermitted, got {other:?}"),
    }
}

/// Moves `req` along with `who`, unchecked: a log as a device would have written it.
fn push(req: &mut EquipmentRequest, to: Status, who: &Actor, event: &str) -> Uuid {
    let st = derive(req);
    let from = match st.status {
        WorkflowStatus::New => None,
        WorkflowStatus::At(s) => Some(s),
        other => panic!("{other:?}"),
    };
    let t = Transition {
        from,
        to,
        follows: st.head,
        user_id: who.user_id,
        role: who.role,
        device_id: who.device_id,
        at: at(&format!("{event}T10:00:00Z")),
        reason: Some("logged".into()),
        event_date: Some(d(event)),
        supplier: None,
        order_ref: None,
        contractor: None,
        outcome: None,
        condition: None,
        housing_authority_ref: None,
        superseded: None,
    };
    let it = item(t);
    let id = it.item_id;
    req.apply(it);
    id
}

/// The states a request passes through on the way to `target`.
fn path_to(target: Status) -> Vec<Status> {
    let base: Vec<Status> = match target {
        S::Draft => vec![],
        S::Submitted | S::Cancelled => vec![S::Draft],
        S::InfoRequested | S::Approved | S::Declined | S::ReferredToDfg => {
            vec![S::Draft, S::Submitted]
        }
        S::Ordered => path_to(S::Approved),
        S::Delivered | S::Installed => path_to(S::Ordered),
        S::Reviewed => path_to(S::Delivered),
        S::Returned | S::Closed => path_to(S::Reviewed),
        S::DfgApproved | S::DfgDeclined => path_to(S::ReferredToDfg),
    };
    let mut v = base;
    v.push(target);
    v
}

/// A request (seating, or a social-care major adaptation for the DFG states) whose log
/// reaches `target` (`None` = not created yet), requested by `requester`.
fn request_at(target: Option<Status>, dfg: bool, requester: Uuid) -> EquipmentRequest {
    let mut r = seating_request(requester);
    if dfg {
        r.service = Some(Service::SocialCare);
        r.category = Some(Category::MajorAdaptation);
    }
    let approver = registered(Role::Approver);
    if let Some(t) = target {
        for (n, s) in path_to(t).into_iter().enumerate() {
            push(&mut r, s, &approver, &format!("2026-03-{:02}", 10 + n / 2));
        }
    }
    r
}

// ----- vectors #28–#35 -----

#[test]
fn w2_w5_vector_28_ap_submits_own_seating_draft_then_another_ot_approves() {
    let ap = actor(Role::Ap, None);
    let mut r = seating_request(ap.user_id);
    let ctx = WorkflowContext::default();
    for to in [S::Draft, S::Submitted] {
        let t = transition(
            &r,
            to,
            &ap,
            today(),
            TransitionInput::at(at("2026-03-15T09:00:00Z")),
            &ctx,
        )
        .unwrap();
        r.apply(item(t));
    }
    assert_eq!(status(&r), WorkflowStatus::At(S::Submitted));
    let ot = registered(Role::Ot);
    let t = transition(
        &r,
        S::Approved,
        &ot,
        today(),
        TransitionInput::at(at("2026-03-15T10:00:00Z")),
        &ctx,
    )
    .unwrap();
    assert_eq!(t.from, Some(S::Submitted));
    assert_eq!(t.user_id, ot.user_id);
    r.apply(item(t));
    assert_eq!(status(&r), WorkflowStatus::At(S::Approved));
}

#[test]
fn eq_role_vector_29_ap_approves() {
    let r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let ap = actor(Role::Ap, None);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &ap,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-ROLE"
    );
}

#[test]
fn eq_approve_hcpc_vector_30_registration_lapsed_yesterday() {
    let r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let lapsed = actor(Role::Ot, Some(d("2026-03-14")));
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &lapsed,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-APPROVE-HCPC"
    );
    // Also for a decline (W6) and a DFG referral (W15).
    assert_eq!(
        rule_id(transition(
            &r,
            S::Declined,
            &lapsed,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-APPROVE-HCPC"
    );
    let on_the_day = actor(Role::Ot, Some(today()));
    assert!(transition(
        &r,
        S::Approved,
        &on_the_day,
        today(),
        full_input(),
        &Default::default()
    )
    .is_ok());
}

#[test]
fn eq_approve_self_vector_31_requesting_ot_approves_own_request() {
    let ot = registered(Role::Ot);
    let r = request_at(Some(S::Submitted), false, ot.user_id);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &ot,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-APPROVE-SELF"
    );
}

#[test]
fn eq_approve_tier_vector_32_plain_ot_approves_hoists_slings() {
    let mut r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    r.category = Some(Category::HoistsSlings);
    let ot = registered(Role::Ot);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &ot,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-APPROVE-TIER"
    );
}

#[test]
fn eq_approve_tier_minor_adaptation_over_the_threshold_needs_an_approver() {
    let mut r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    r.service = Some(Service::SocialCare);
    r.category = Some(Category::MinorAdaptation);
    r.estimated_cost_pence = Some(100_001);
    let ot = registered(Role::Ot);
    let ctx = WorkflowContext::default();
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &ot,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-APPROVE-TIER"
    );
    r.estimated_cost_pence = Some(100_000);
    assert!(transition(&r, S::Approved, &ot, today(), full_input(), &ctx).is_ok());
    // The threshold is configuration.
    let low = WorkflowContext {
        tier2_cost_pence: 50_000,
        ..ctx
    };
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &ot,
            today(),
            full_input(),
            &low
        )),
        "EQ-APPROVE-TIER"
    );
    let approver = registered(Role::Approver);
    assert!(transition(&r, S::Approved, &approver, today(), full_input(), &low).is_ok());
}

#[test]
fn s_wheelchair_vector_33_creating_a_wheelchair_request_is_refused_with_signpost() {
    let mut r = seating_request(Uuid::new_v4());
    r.category = Some(Category::Wheelchair);
    let ot = registered(Role::Ot);
    match transition(
        &r,
        S::Draft,
        &ot,
        today(),
        full_input(),
        &Default::default(),
    ) {
        Err(Error::NotPermitted { rule_id, detail }) => {
            assert_eq!(rule_id, "S-WHEELCHAIR");
            assert!(detail.contains("wheelchair_service"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn eq_dfg_route_vector_34_major_adaptation_goes_only_through_w15() {
    let mut r = request_at(Some(S::Submitted), true, Uuid::new_v4());
    let approver = registered(Role::Approver);
    let ctx = WorkflowContext::default();
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &approver,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-DFG-ROUTE"
    );
    let t = transition(&r, S::ReferredToDfg, &approver, today(), full_input(), &ctx).unwrap();
    r.apply(item(t));
    assert_eq!(status(&r), WorkflowStatus::At(S::ReferredToDfg));
    assert_eq!(r.dfg.as_ref().unwrap().referred_on, Some(today()));
    // W15 is only for major adaptations.
    let seating = request_at(Some(S::Submitted), false, Uuid::new_v4());
    assert_eq!(
        rule_id(transition(
            &seating,
            S::ReferredToDfg,
            &approver,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-DFG-ROUTE"
    );
}

#[test]
fn eq_transition_vector_35_delivered_cannot_be_cancelled() {
    let r = request_at(Some(S::Delivered), false, Uuid::new_v4());
    let approver = registered(Role::Approver);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Cancelled,
            &approver,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-TRANSITION"
    );
}

// ----- every (from, to, role) triple -----

/// DOMAIN.md §3.6, written out independently of the code's table: (from, to, roles).
/// `None` as from = a new request; "requester" of W13 is tested separately.
fn spec_table() -> Vec<(Option<Status>, Status, Vec<Role>)> {
    use Role::{Ap, Approver, Ot, System};
    let all = vec![Ap, Ot, Approver, System];
    let staff = vec![Ap, Ot, Approver];
    let ots = vec![Ot, Approver];
    let ots_sys = vec![Ot, Approver, System];
    vec![
        (None, S::Draft, staff.clone()),                           // W1
        (Some(S::Draft), S::Submitted, staff.clone()),             // W2
        (Some(S::Submitted), S::InfoRequested, ots.clone()),       // W3
        (Some(S::InfoRequested), S::Submitted, staff.clone()),     // W4
        (Some(S::Submitted), S::Approved, ots.clone()),            // W5
        (Some(S::Submitted), S::Declined, ots.clone()),            // W6
        (Some(S::Approved), S::Ordered, ots_sys.clone()),          // W7
        (Some(S::Ordered), S::Delivered, all.clone()),             // W8
        (Some(S::Ordered), S::Installed, all.clone()),             // W9
        (Some(S::Delivered), S::Reviewed, ots.clone()),            // W10
        (Some(S::Installed), S::Reviewed, ots.clone()),            // W10
        (Some(S::Reviewed), S::Returned, all.clone()),             // W11
        (Some(S::Reviewed), S::Closed, ots.clone()),               // W12
        (Some(S::Draft), S::Cancelled, ots.clone()),               // W13 (+ requester)
        (Some(S::Submitted), S::Cancelled, ots.clone()),           // W13
        (Some(S::InfoRequested), S::Cancelled, ots.clone()),       // W13
        (Some(S::Approved), S::Cancelled, ots.clone()),            // W14
        (Some(S::Ordered), S::Cancelled, ots.clone()),             // W14
        (Some(S::ReferredToDfg), S::Cancelled, ots.clone()),       // W14
        (Some(S::DfgApproved), S::Cancelled, ots.clone()),         // W14
        (Some(S::Submitted), S::ReferredToDfg, vec![Approver]),    // W15
        (Some(S::ReferredToDfg), S::DfgApproved, ots_sys.clone()), // W16
        (Some(S::ReferredToDfg), S::DfgDeclined, ots_sys.clone()), // W17
        (Some(S::DfgApproved), S::Installed, all.clone()),         // W18
        (Some(S::DfgDeclined), S::Closed, ots.clone()),            // W19
    ]
}

#[test]
fn eq_transition_and_eq_role_every_from_to_role_triple() {
    let table = spec_table();
    let dfg_states = [S::ReferredToDfg, S::DfgApproved, S::DfgDeclined];
    let mut allowed = 0;
    let mut checked = 0;
    let froms: Vec<Option<Status>> = std::iter::once(None).chain(Status::ALL.map(Some)).collect();
    for from in froms {
        for to in Status::ALL {
            for role in [Role::Ap, Role::Ot, Role::Approver, Role::System] {
                checked += 1;
                let dfg = to == S::ReferredToDfg || from.is_some_and(|f| dfg_states.contains(&f));
                let r = request_at(from, dfg, Uuid::new_v4()); // requester is someone else
                let who = registered(role);
                let got = transition(&r, to, &who, today(), full_input(), &Default::default());
                let row = table.iter().find(|(f, t, _)| *f == from && *t == to);
                match row {
                    None => assert_eq!(
                        rule_id(got),
                        "EQ-TRANSITION",
                        "{from:?} → {to:?} as {role:?}"
                    ),
                    Some((_, _, roles)) if !roles.contains(&role) => {
                        assert_eq!(rule_id(got), "EQ-ROLE", "{from:?} → {to:?} as {role:?}")
                    }
                    Some(_) => {
                        allowed += 1;
                        let t =
                            got.unwrap_or_else(|e| panic!("{from:?} → {to:?} as {role:?}: {e}"));
                        assert_eq!((t.from, t.to, t.role), (from, to, role));
                        // Applying it moves the derived status.
                        let mut r = r;
                        r.apply(item(t));
                        assert_eq!(status(&r), WorkflowStatus::At(to));
                    }
                }
            }
        }
    }
    assert_eq!(checked, 16 * 15 * 4);
    assert_eq!(
        allowed,
        table.iter().map(|(_, _, r)| r.len()).sum::<usize>()
    );
}

#[test]
fn w13_requester_in_any_role_may_cancel_but_another_ap_may_not() {
    let ap = actor(Role::Ap, None);
    let ctx = WorkflowContext::default();
    for state in [S::Draft, S::Submitted, S::InfoRequested] {
        let r = request_at(Some(state), false, ap.user_id);
        let t = transition(&r, S::Cancelled, &ap, today(), full_input(), &ctx).unwrap();
        assert_eq!(t.reason.as_deref(), Some("Family asked for it."));
        let other_ap = actor(Role::Ap, None);
        assert_eq!(
            rule_id(transition(
                &r,
                S::Cancelled,
                &other_ap,
                today(),
                full_input(),
                &ctx
            )),
            "EQ-ROLE"
        );
    }
    // W14 does not let the requester through.
    let r = request_at(Some(S::Approved), false, ap.user_id);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Cancelled,
            &ap,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-ROLE"
    );
}

// ----- listed checks -----

#[test]
fn eq_reason_blank_reason_refuses_question_decline_and_cancel() {
    let ot = registered(Role::Ot);
    let r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let blank = TransitionInput {
        reason: Some("  ".into()),
        ..full_input()
    };
    for to in [S::InfoRequested, S::Declined, S::Cancelled] {
        assert_eq!(
            rule_id(transition(
                &r,
                to,
                &ot,
                today(),
                blank.clone(),
                &Default::default()
            )),
            "EQ-REASON",
            "{to:?}"
        );
    }
}

#[test]
fn eq_dates_event_date_in_the_future_or_before_the_previous_event_is_refused() {
    let ot = registered(Role::Ot);
    let r = request_at(Some(S::Ordered), false, Uuid::new_v4());
    let ctx = WorkflowContext::default();
    let future = TransitionInput {
        event_date: Some(d("2026-03-16")),
        ..full_input()
    };
    assert_eq!(
        rule_id(transition(&r, S::Delivered, &ot, today(), future, &ctx)),
        "EQ-DATES"
    );
    let early = TransitionInput {
        event_date: Some(d("2026-03-09")),
        ..full_input()
    };
    assert_eq!(
        rule_id(transition(&r, S::Delivered, &ot, today(), early, &ctx)),
        "EQ-DATES"
    );
    let missing = TransitionInput {
        event_date: None,
        ..full_input()
    };
    assert_eq!(
        rule_id(transition(&r, S::Delivered, &ot, today(), missing, &ctx)),
        "FLD-REQUIRED"
    );
    assert!(transition(&r, S::Delivered, &ot, today(), full_input(), &ctx).is_ok());
}

#[test]
fn fld_required_w7_needs_supplier_then_order_reference() {
    let ot = registered(Role::Ot);
    let r = request_at(Some(S::Approved), false, Uuid::new_v4());
    let no_supplier = TransitionInput {
        supplier: None,
        order_ref: None,
        ..full_input()
    };
    match transition(
        &r,
        S::Ordered,
        &ot,
        today(),
        no_supplier,
        &Default::default(),
    ) {
        Err(Error::NotPermitted { rule_id, detail }) => {
            assert_eq!(rule_id, "FLD-REQUIRED");
            assert!(detail.contains("supplier"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let mut r = r;
    let t = transition(
        &r,
        S::Ordered,
        &ot,
        today(),
        full_input(),
        &Default::default(),
    )
    .unwrap();
    r.apply(item(t));
    assert_eq!(
        r.order.as_ref().unwrap().order_ref.as_deref(),
        Some("PO-42")
    );
}

#[test]
fn eq_meas_required_w2_reports_missing_measurements_under_its_own_id() {
    let ap = actor(Role::Ap, None);
    let mut r = request_at(Some(S::Draft), false, ap.user_id);
    r.measurements.remove(&K::SeatDepthMm);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Submitted,
            &ap,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-MEAS-REQUIRED"
    );
}

#[test]
fn eq_submit_valid_w2_needs_warnings_acknowledged() {
    let ap = actor(Role::Ap, None);
    let mut r = request_at(Some(S::Draft), false, ap.user_id);
    r.measurements.insert(K::SeatDepthMm, m(340, "2026-03-10")); // EQ-MEAS-FIT WARN
    let ctx = WorkflowContext::default();
    assert_eq!(
        rule_id(transition(
            &r,
            S::Submitted,
            &ap,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-SUBMIT-VALID"
    );
    r.envelope.acks.push(item(Ack {
        rule_id: "EQ-MEAS-FIT".into(),
        path: "measurements.seat_depth_mm.value".into(),
        acknowledged_value: Some("340/330".into()),
        reason: "Growth room agreed with the family.".into(),
        user_id: ap.user_id,
        at: "2026-03-15T09:00:00Z".into(),
    }));
    assert!(transition(&r, S::Submitted, &ap, today(), full_input(), &ctx).is_ok());
}

#[test]
fn eq_hoist_ra_w5_needs_a_signed_risk_assessment() {
    let mut r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    r.service = Some(Service::SocialCare);
    r.category = Some(Category::HoistsSlings);
    r.measurements.clear();
    r.measurements.insert(K::WeightKg, m(324, "2026-03-10"));
    r.measurements.insert(K::HeightCm, m(1385, "2026-03-10"));
    let ra = signed_for(complete_ra(), r.envelope.child_id);
    r.risk_assessment_id = Some(ra.envelope.id.uuid());
    let approver = registered(Role::Approver);
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &approver,
            today(),
            full_input(),
            &Default::default()
        )),
        "EQ-HOIST-RA"
    );
    let ctx = WorkflowContext {
        risk_assessment: Some(&ra),
        ..Default::default()
    };
    assert!(transition(&r, S::Approved, &approver, today(), full_input(), &ctx).is_ok());
    let mut unsigned = ra.clone();
    unsigned.signature = None;
    let ctx = WorkflowContext {
        risk_assessment: Some(&unsigned),
        ..Default::default()
    };
    assert_eq!(
        rule_id(transition(
            &r,
            S::Approved,
            &approver,
            today(),
            full_input(),
            &ctx
        )),
        "EQ-HOIST-RA"
    );
}

#[test]
fn cf_block_an_open_conflict_stops_any_move() {
    let r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let paths = vec!["measurements.seat_width_mm.value".to_owned()];
    let ctx = WorkflowContext {
        open_conflicts: &paths,
        ..Default::default()
    };
    match transition(
        &r,
        S::Approved,
        &registered(Role::Ot),
        today(),
        full_input(),
        &ctx,
    ) {
        Err(Error::Conflict { paths: p }) => assert_eq!(p, paths),
        other => panic!("{other:?}"),
    }
    // A forbidden move is still refused for its own reason first.
    assert_eq!(
        rule_id(transition(
            &r,
            S::Closed,
            &registered(Role::Ot),
            today(),
            full_input(),
            &ctx
        )),
        "EQ-TRANSITION"
    );
}

// ----- CF-STATUS -----

#[test]
fn cf_status_concurrent_transitions_give_conflict_until_an_approver_chooses() {
    let mut r = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let ctx = WorkflowContext::default();
    // Two OTs, offline, decide from the same submitted state.
    let ot1 = registered(Role::Ot);
    let ot2 = registered(Role::Ot);
    let approve = transition(&r, S::Approved, &ot1, today(), full_input(), &ctx).unwrap();
    let decline = transition(&r, S::Declined, &ot2, today(), full_input(), &ctx).unwrap();
    assert_eq!(approve.follows, decline.follows);
    let (a, b): (Item<Transition>, Item<Transition>) = (item(approve), item(decline));
    let (approve_id, decline_id) = (a.item_id, b.item_id);
    r.apply(a);
    r.apply(b);

    let WorkflowStatus::Conflict { from, candidates } = status(&r) else {
        panic!("{:?}", status(&r))
    };
    assert_eq!(from, Some(S::Submitted));
    assert_eq!(candidates.len(), 2);
    assert_eq!(status(&r).code(), "conflict");
    // Nobody moves it on meanwhile.
    assert_eq!(
        rule_id(transition(
            &r,
            S::Ordered,
            &ot1,
            today(),
            full_input(),
            &ctx
        )),
        "CF-STATUS"
    );
    // Only an approver chooses.
    let err =
        resolve_status_conflict(&r, approve_id, &ot1, at("2026-03-15T13:00:00Z")).unwrap_err();
    assert!(matches!(err, Error::NotPermitted { ref rule_id, .. } if rule_id == "CF-STATUS"));
    let boss = registered(Role::Approver);
    let marks = resolve_status_conflict(&r, approve_id, &boss, at("2026-03-15T13:00:00Z")).unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].0, decline_id);
    mark_superseded(&mut r, &marks);

    assert_eq!(status(&r), WorkflowStatus::At(S::Approved));
    let state = derive(&r);
    assert_eq!(state.superseded, vec![decline_id]);
    assert_eq!(
        r.transitions.len(),
        2 + 2,
        "the superseded transition stays in the log"
    );
    let t = transition(&r, S::Ordered, &ot1, today(), full_input(), &ctx).unwrap();
    assert_eq!(t.follows, Some(approve_id));
}

#[test]
fn cf_status_the_log_survives_the_json_round_trip() {
    let mut r = request_at(Some(S::Ordered), false, Uuid::new_v4());
    let json = homevisit_core::model::common::to_json(&r).unwrap();
    let back: EquipmentRequest = homevisit_core::model::common::from_json(json).unwrap();
    assert_eq!(status(&back), WorkflowStatus::At(S::Ordered));
    // A breach in the log (an AP "approving") is kept but not applied.
    let ap = actor(Role::Ap, None);
    push(&mut r, S::Delivered, &ap, "2026-03-14");
    assert_eq!(status(&r), WorkflowStatus::At(S::Delivered));
    let mut bad = request_at(Some(S::Submitted), false, Uuid::new_v4());
    let id = push(&mut bad, S::Approved, &ap, "2026-03-14");
    assert_eq!(status(&bad), WorkflowStatus::At(S::Submitted));
    assert_eq!(derive(&bad).breaches, vec![id]);
}
