//! Rules a clinical review found stricter or looser than DOMAIN.md: safe working load of
//! equipment without a `kind`, the §9 Q9 thresholds read from the team's configuration,
//! `EQ-DATES` on event dates, `EQ-HOIST-RA` on the approval date, the LOLER 6-month limit
//! (`MH-LOLER-LAPSED`), `EQ-APPROVE-SELF` for whoever submitted, NHS-number separators and
//! conflict messages in clinical units. Each test names the rule it proves.

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        common::Service,
        equipment::{Category, EquipmentRequest, MeasurementKey as K, Status as S},
        risk::{EquipmentKind, RiskAssessment},
        user::{Actor, Role},
    },
    rules::{
        config::{RulesConfig, Thresholds},
        equipment::{self, hoist_ra_check, EquipmentContext},
        fields::{worst_case, OpenConflict, Stage},
        issue::{Issue, Severity},
        mh::{self, MhContext},
        nhs::{self, NhsCheck},
        workflow::{transition, TransitionInput, WorkflowContext},
    },
    Error,
};
use serde_json::json;
use support::*;
use uuid::Uuid;

fn mh_check(ra: &RiskAssessment, thresholds: Thresholds) -> Vec<Issue> {
    mh::validate(
        ra,
        &MhContext {
            stage: Stage::Final,
            thresholds,
            ..MhContext::default()
        },
    )
}

fn defaults() -> Thresholds {
    RulesConfig::default().thresholds()
}

/// The equipment item the only task uses as its sling.
fn sling(ra: &mut RiskAssessment) -> &mut homevisit_core::model::risk::LiftingEquipment {
    let id = ra.tasks[0].data.sling_id.unwrap();
    &mut ra
        .lifting_equipment
        .iter_mut()
        .find(|e| e.item_id == id)
        .unwrap()
        .data
}

// ----- MH-SWL: every item a task uses, with or without a kind -----

#[test]
fn mh_swl_sling_without_kind_is_still_checked_vector_22() {
    // 52.3 kg child, hoist 150.0, bar 150.0, sling 50.0 whose kind was never recorded.
    let mut ra = complete_ra_with_swl(1500, 1500, 500);
    ra.child_weight_kg = Some(523);
    sling(&mut ra).kind = None;
    let issues = mh_check(&ra, defaults());
    let e = with_rule(&issues, "MH-SWL");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert_eq!(e[0].severity, Severity::Error);
    assert!(
        e[0].message.contains("(52.3 kg)") && e[0].message.contains("(50.0 kg, sling)"),
        "{}",
        e[0].message
    );
    assert_eq!(e[0].value.as_deref(), Some("52.3/50.0"));
}

#[test]
fn mh_swl_every_item_a_task_uses_counts_and_a_later_weight_is_checked_too() {
    // The spreader bar, not the sling, is the weakest item, and none has a kind.
    let mut ra = complete_ra_with_swl(1820, 400, 500);
    for e in &mut ra.lifting_equipment {
        e.data.kind = None;
    }
    ra.child_weight_kg = Some(410);
    let issues = mh_check(&ra, defaults());
    let e = with_rule(&issues, "MH-SWL");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert!(
        e[0].message.contains("(40.0 kg, spreader bar)"),
        "{}",
        e[0].message
    );
    // MH-WEIGHT-NEWER: a later weight above the kind-less bar's SWL is a breach.
    ra.child_weight_kg = Some(300);
    let later = [homevisit_core::model::risk::WeightReading {
        value_kg: 420,
        measured_on: d("2026-03-20"),
    }];
    assert!(mh::later_weight_breach(&ra, &later));
}

#[test]
fn fld_required_lifting_equipment_kind_at_sign_mh_swl() {
    let mut ra = complete_ra();
    sling(&mut ra).kind = None;
    let sling_id = ra.tasks[0].data.sling_id.unwrap();
    let issues = mh_check(&ra, defaults());
    let req = with_rule(&issues, "FLD-REQUIRED");
    assert_eq!(req.len(), 1, "{issues:#?}");
    assert_eq!(req[0].path, format!("lifting_equipment.{sling_id}.kind"));
    assert!(req[0].is_error());
    // A draft saves without it.
    let draft = mh::validate(&ra, &MhContext::default());
    assert!(with_rule(&draft, "FLD-REQUIRED").is_empty(), "{draft:#?}");
}

// ----- thresholds from the rules configuration (§9 Q9) -----

#[test]
fn mh_swl_margin_reads_swl_margin_percent() {
    let mut ra = complete_ra(); // sling 50.0 kg
    ra.child_weight_kg = Some(400); // 80 % of the SWL
    assert!(with_rule(&mh_check(&ra, defaults()), "MH-SWL-MARGIN").is_empty());
    let strict = Thresholds {
        swl_margin_percent: 80,
        ..defaults()
    };
    let issues = mh_check(&ra, strict);
    let w = with_rule(&issues, "MH-SWL-MARGIN");
    assert_eq!(w.len(), 1, "{issues:#?}");
    assert!(w[0].message.contains("80%"), "{}", w[0].message);
    ra.child_weight_kg = Some(399);
    assert!(with_rule(&mh_check(&ra, strict), "MH-SWL-MARGIN").is_empty());
}

#[test]
fn mh_weight_stale_reads_weight_max_age_days() {
    let ra = complete_ra(); // weighed 2026-03-02, assessed 2026-03-15: 13 days
    assert!(with_rule(&mh_check(&ra, defaults()), "MH-WEIGHT-STALE").is_empty());
    let t = |days| Thresholds {
        weight_max_age_days: days,
        ..defaults()
    };
    assert!(with_rule(&mh_check(&ra, t(13)), "MH-WEIGHT-STALE").is_empty());
    let issues = mh_check(&ra, t(12));
    let w = with_rule(&issues, "MH-WEIGHT-STALE");
    assert_eq!(w.len(), 1, "{issues:#?}");
    assert!(
        w[0].message.contains("more than 12 days"),
        "{}",
        w[0].message
    );
}

#[test]
fn mh_loler_soon_reads_loler_notice_days() {
    let ra = complete_ra(); // every item due 2026-07-10: 117 days after 2026-03-15
    assert!(with_rule(&mh_check(&ra, defaults()), "MH-LOLER-SOON").is_empty());
    let t = |days| Thresholds {
        loler_notice_days: days,
        ..defaults()
    };
    assert!(with_rule(&mh_check(&ra, t(116)), "MH-LOLER-SOON").is_empty());
    let issues = mh_check(&ra, t(117));
    let w = with_rule(&issues, "MH-LOLER-SOON");
    assert_eq!(w.len(), 3, "hoist, bar and sling: {issues:#?}");
    assert!(w[0].message.contains("within 117 days"), "{}", w[0].message);
}

#[test]
fn eq_meas_age_reads_measurement_max_age_days() {
    let r = seating_request(Uuid::new_v4()); // measured 2026-03-10
    let ctx = |days| EquipmentContext {
        stage: Stage::Final,
        as_of: d("2026-03-15"),
        risk_assessment: None,
        thresholds: Thresholds {
            measurement_max_age_days: days,
            ..defaults()
        },
    };
    assert!(with_rule(&equipment::validate(&r, &ctx(90)), "EQ-MEAS-AGE").is_empty());
    assert!(with_rule(&equipment::validate(&r, &ctx(5)), "EQ-MEAS-AGE").is_empty());
    let issues = equipment::validate(&r, &ctx(4));
    let w = with_rule(&issues, "EQ-MEAS-AGE");
    // Body measurements only: weight, hip width, thigh, lower leg, shoulder height.
    assert_eq!(w.len(), 5, "{issues:#?}");
    assert!(
        w[0].message.contains("more than 4 days"),
        "{}",
        w[0].message
    );
}

// ----- MH-LOLER-LAPSED -----

#[test]
fn mh_loler_lapsed_six_months_since_the_last_examination_is_an_error_whatever_next_due_says() {
    let mut ra = complete_ra(); // assessed 2026-03-15
    let sling_id = ra.tasks[0].data.sling_id.unwrap();
    {
        let s = sling(&mut ra);
        s.last_exam_on = Some(d("2025-09-01")); // + 6 months = 2026-03-01
        s.next_exam_due_on = Some(d("2026-09-01")); // typed a year on
    }
    let issues = mh_check(&ra, defaults());
    let e = with_rule(&issues, "MH-LOLER-LAPSED");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert!(e[0].is_error());
    assert_eq!(
        e[0].path,
        format!("lifting_equipment.{sling_id}.last_exam_on")
    );
    assert!(e[0].message.contains("2026-03-01"), "{}", e[0].message);
    assert_eq!(with_rule(&issues, "MH-LOLER-INTERVAL").len(), 1);

    // Exactly 6 months before the assessment is still within the limit.
    sling(&mut ra).last_exam_on = Some(d("2025-09-15"));
    assert!(with_rule(&mh_check(&ra, defaults()), "MH-LOLER-LAPSED").is_empty());

    // A written scheme of examination sets its own interval: neither rule applies.
    sling(&mut ra).last_exam_on = Some(d("2025-09-01"));
    sling(&mut ra).written_scheme = Some(true);
    let issues = mh_check(&ra, defaults());
    assert!(
        with_rule(&issues, "MH-LOLER-LAPSED").is_empty(),
        "{issues:#?}"
    );
    assert!(
        with_rule(&issues, "MH-LOLER-INTERVAL").is_empty(),
        "{issues:#?}"
    );
}

#[test]
fn mh_loler_lapsed_applies_only_to_equipment_a_task_uses() {
    let mut ra = complete_ra();
    let mut spare = equipment(EquipmentKind::Sling, 800);
    spare.data.last_exam_on = Some(d("2025-01-01"));
    spare.data.next_exam_due_on = Some(d("2025-07-01"));
    ra.lifting_equipment.push(spare);
    let issues = mh_check(&ra, defaults());
    assert!(
        with_rule(&issues, "MH-LOLER-LAPSED").is_empty(),
        "{issues:#?}"
    );
}

// ----- EQ-HOIST-RA on the approval date -----

fn hoist_request(ra: &RiskAssessment) -> EquipmentRequest {
    let mut r = seating_request(Uuid::new_v4());
    r.service = Some(Service::SocialCare);
    r.category = Some(Category::HoistsSlings);
    r.measurements.clear();
    r.measurements.insert(K::WeightKg, m(324, "2026-03-10"));
    r.measurements.insert(K::HeightCm, m(1385, "2026-03-10"));
    r.risk_assessment_id = Some(ra.envelope.id.uuid());
    r
}

#[test]
fn eq_hoist_ra_past_its_review_date_on_the_approval_date_does_not_satisfy() {
    let ra = complete_ra(); // review due 2026-09-15; equipment due 2026-07-10
    let mut r = hoist_request(&ra);
    let signed = signed_for(ra, r.envelope.child_id);
    r.envelope.child_id = signed.envelope.child_id;
    assert!(hoist_ra_check(&r, Some(&signed), d("2026-03-20"), defaults()).is_ok());
    let mut later = signed.clone();
    later.lifting_equipment.iter_mut().for_each(|e| {
        e.data.last_exam_on = Some(d("2026-06-01"));
        e.data.next_exam_due_on = Some(d("2026-11-30"));
    });
    assert!(hoist_ra_check(&r, Some(&later), d("2026-09-15"), defaults()).is_ok());
    let why = hoist_ra_check(&r, Some(&later), d("2026-09-16"), defaults()).unwrap_err();
    assert!(why.contains("review on 2026-09-15"), "{why}");
}

#[test]
fn eq_hoist_ra_sling_past_its_loler_due_date_on_the_approval_date_does_not_satisfy() {
    let ra = complete_ra(); // equipment examined 2026-01-10, due 2026-07-10
    let r = hoist_request(&ra);
    let signed = signed_for(ra, r.envelope.child_id);
    assert!(hoist_ra_check(&r, Some(&signed), d("2026-07-10"), defaults()).is_ok());
    let why = hoist_ra_check(&r, Some(&signed), d("2026-07-11"), defaults()).unwrap_err();
    assert!(why.contains("[MH-LOLER-DUE]"), "{why}");

    // Through the workflow: W5 on that day is refused with EQ-HOIST-RA.
    let ap = actor(Role::Ap, None);
    let approver = actor(Role::Approver, Some(d("2027-01-01")));
    let mut req = r.clone();
    req.envelope.created_by = ap.user_id;
    req.requested_by = Some(ap.user_id);
    req.requested_at = Some(at("2026-07-01T09:00:00Z"));
    req.measurements.insert(K::WeightKg, m(324, "2026-07-01"));
    req.measurements.insert(K::HeightCm, m(1385, "2026-07-01"));
    step(&mut req, S::Draft, &ap, "2026-07-01T09:00:00Z", None);
    step(&mut req, S::Submitted, &ap, "2026-07-01T09:05:00Z", None);
    let ctx = WorkflowContext {
        risk_assessment: Some(&signed),
        ..WorkflowContext::default()
    };
    let input = |at_s: &str| TransitionInput::at(at(at_s));
    match transition(
        &req,
        S::Approved,
        &approver,
        d("2026-07-11"),
        input("2026-07-11T10:00:00Z"),
        &ctx,
    ) {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "EQ-HOIST-RA"),
        other => panic!("{other:?}"),
    }
    assert!(transition(
        &req,
        S::Approved,
        &approver,
        d("2026-07-10"),
        input("2026-07-10T10:00:00Z"),
        &ctx
    )
    .is_ok());
}

// ----- EQ-DATES: event dates, not the days steps were keyed in -----

/// Makes a transition through the real checks and stores it.
fn step(req: &mut EquipmentRequest, to: S, who: &Actor, at_s: &str, event: Option<&str>) {
    let input = TransitionInput {
        reason: Some("Family asked for it.".into()),
        event_date: event.map(d),
        supplier: Some("Seating Co".into()),
        order_ref: Some("PO-42".into()),
        outcome: Some(homevisit_core::model::equipment::ReviewOutcome::Suitable),
        ..TransitionInput::at(at(at_s))
    };
    let today = homevisit_core::rules::dates::local_date(input.at);
    let t = transition(req, to, who, today, input, &WorkflowContext::default())
        .unwrap_or_else(|e| panic!("{to:?}: {e:?}"));
    req.apply(item(t));
}

#[test]
fn eq_dates_a_review_entered_after_the_fact_compares_event_dates() {
    let ap = actor(Role::Ap, None);
    let ot = actor(Role::Ot, Some(d("2027-01-01")));
    let mut req = seating_request(ap.user_id);
    step(&mut req, S::Draft, &ap, "2026-03-10T09:00:00Z", None);
    step(&mut req, S::Submitted, &ap, "2026-03-10T09:05:00Z", None);
    step(&mut req, S::Approved, &ot, "2026-03-11T10:00:00Z", None);
    step(
        &mut req,
        S::Ordered,
        &ot,
        "2026-03-12T10:00:00Z",
        Some("2026-03-12"),
    );
    // Delivered on the 14th, keyed in on the 20th.
    step(
        &mut req,
        S::Delivered,
        &ap,
        "2026-03-20T16:00:00Z",
        Some("2026-03-14"),
    );
    // The review happened on the 16th and is keyed in on the 21st: accepted.
    let review = |event: &str| TransitionInput {
        event_date: Some(d(event)),
        outcome: Some(homevisit_core::model::equipment::ReviewOutcome::Suitable),
        ..TransitionInput::at(at("2026-03-21T09:00:00Z"))
    };
    let ctx = WorkflowContext::default();
    assert!(transition(
        &req,
        S::Reviewed,
        &ot,
        d("2026-03-21"),
        review("2026-03-16"),
        &ctx
    )
    .is_ok());
    // Before the delivery itself: refused.
    match transition(
        &req,
        S::Reviewed,
        &ot,
        d("2026-03-21"),
        review("2026-03-13"),
        &ctx,
    ) {
        Err(Error::NotPermitted { rule_id, detail }) => {
            assert_eq!(rule_id, "EQ-DATES");
            assert!(detail.contains("2026-03-14"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

// ----- EQ-APPROVE-SELF: whoever submitted -----

#[test]
fn eq_approve_self_an_approver_who_submitted_the_request_is_refused() {
    let ap = actor(Role::Ap, None);
    let approver = actor(Role::Approver, Some(d("2027-01-01")));
    let other = actor(Role::Approver, Some(d("2027-01-01")));
    let mut req = seating_request(ap.user_id);
    step(&mut req, S::Draft, &ap, "2026-03-10T09:00:00Z", None);
    // The approver submits the AP's draft, then tries to approve it.
    step(
        &mut req,
        S::Submitted,
        &approver,
        "2026-03-11T09:00:00Z",
        None,
    );
    let input = || TransitionInput::at(at("2026-03-12T09:00:00Z"));
    let ctx = WorkflowContext::default();
    for to in [S::Approved, S::Declined] {
        let input = TransitionInput {
            reason: Some("Not needed.".into()),
            ..input()
        };
        match transition(&req, to, &approver, d("2026-03-12"), input, &ctx) {
            Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "EQ-APPROVE-SELF"),
            other => panic!("{to:?}: {other:?}"),
        }
    }
    assert!(transition(&req, S::Approved, &other, d("2026-03-12"), input(), &ctx).is_ok());
}

// ----- CH-NHS-FORMAT separators -----

#[test]
fn ch_nhs_format_strips_tabs_and_non_breaking_spaces_as_it_strips_spaces() {
    for typed in [
        "943 476 5919",
        "943\t476\t5919",
        "943\u{a0}476\u{a0}5919",
        "943\u{202f}476\u{2007}5919",
        " 9434765919\t",
    ] {
        assert_eq!(nhs::check(typed), NhsCheck::Valid, "{typed:?}");
        assert_eq!(nhs::normalise(typed).as_deref(), Some("9434765919"));
        assert!(nhs::issues("nhs_number", typed).is_empty(), "{typed:?}");
    }
    // Other characters still make the format wrong.
    assert_eq!(nhs::check("943-476-5919"), NhsCheck::BadFormat);
    assert_eq!(nhs::check("943\n476 5919"), NhsCheck::BadFormat);
}

// ----- CF-BLOCK messages in clinical units -----

#[test]
fn cf_block_message_shows_clinical_units() {
    let ra = complete_ra();
    let conflicts = [
        OpenConflict {
            path: "child_weight_kg".into(),
            candidates: vec![json!(330), json!(318)],
        },
        OpenConflict {
            path: format!(
                "lifting_equipment.{}.swl_kg",
                ra.lifting_equipment[2].item_id
            ),
            candidates: vec![json!(500), json!(1500)],
        },
    ];
    let issues = worst_case(&ra, &conflicts, |r| mh_check(r, defaults())).unwrap();
    let block = with_rule(&issues, "CF-BLOCK");
    assert_eq!(block.len(), 2, "{issues:#?}");
    assert!(
        block[0].message.contains("(33.0 kg / 31.8 kg)"),
        "{}",
        block[0].message
    );
    assert!(
        block[1].message.contains("(50.0 kg / 150.0 kg)"),
        "{}",
        block[1].message
    );
    use homevisit_core::rules::fields::{unit_of_path, Unit};
    assert_eq!(
        unit_of_path("measurements.seat_width_mm.value"),
        Some(Unit::Mm)
    );
    assert_eq!(unit_of_path("weights.abc.value_kg"), Some(Unit::KgTenths));
    assert_eq!(
        unit_of_path("sections.E.tilt_in_space_deg"),
        Some(Unit::Degrees)
    );
    assert_eq!(unit_of_path("sections.F.carers_required"), None);
}
