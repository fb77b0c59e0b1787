//! The record service end to end on a real (encrypted) store: creation, typed edits,
//! validation with rule IDs, sign-off, the equipment workflow by role, eligibility snapshots
//! and the child banner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::training::TraineeRole,
    model::{
        common::{Schema, Service, SignState},
        equipment::{Category, Status},
        referral::EligibilityOutcome,
        user::{Actor, Role},
    },
    records::{Clock, FieldValue, Records, TrainingInput},
    rules::{config::RulesConfig, workflow::TransitionInput},
    store::{Store, StoreKey},
    Error, RecordId,
};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

/// A clock the test sets: rules read no clock, the service reads this one.
#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    clock: Arc<TestClock>,
    team: Uuid,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::create_new(dir.path().join("records.db"), StoreKey::Raw([7u8; 32])).unwrap();
        let clock = Arc::new(TestClock(Mutex::new(
            "2026-03-15T10:00:00Z".parse().unwrap(),
        )));
        Self {
            _dir: dir,
            store: Arc::new(store),
            clock,
            team: Uuid::new_v4(),
        }
    }

    fn user(&self, role: Role) -> Records {
        let actor = Actor {
            user_id: Uuid::new_v4(),
            role,
            device_id: Uuid::new_v4(),
            team_id: self.team,
            hcpc_number: (role != Role::Ap).then(|| "OT123456".to_owned()),
            hcpc_verified_until: (role != Role::Ap).then(|| d("2027-01-01")),
        };
        Records::new(
            self.store.clone(),
            actor,
            RulesConfig::default(),
            self.clock.clone(),
        )
    }
}

fn set(r: &Records, id: RecordId, path: &str, v: FieldValue) {
    r.set_field(id, path, v)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.to_owned())
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// Fills an M&H risk assessment the way the app does, one field at a time: weight 32.4 kg,
/// one hoist transfer with hoist and bar 182.0 kg and a sling of `sling_kg`.
fn fill_risk_assessment(r: &Records, ra: RecordId, sling_kg: &str) {
    set(r, ra, "assessment_date", s("2026-03-15"));
    set(r, ra, "location", s("home"));
    set(r, ra, "avoidance_considered.decision", s("not_possible"));
    set(r, ra, "avoidance_considered.text", s("Cannot weight-bear"));
    set(r, ra, "child_weight_kg", FieldValue::Decimal("32.4".into()));
    set(r, ra, "child_weight_measured_on", s("2026-03-02"));
    set(r, ra, "carers_available", FieldValue::Int(2));
    for item in [
        "T1", "T2", "T3", "T4", "I1", "I2", "I3", "I4", "L1", "L2", "L3", "L4", "L5", "E1", "E2",
        "E3", "E4", "O1", "O2", "O3",
    ] {
        set(r, ra, &format!("tileo.{item}.hazard_present"), s("no"));
    }
    let equipment = |kind: &str, swl: &str| {
        let id = r
            .add_item(ra, "lifting_equipment", obj(json!({ "kind": kind })))
            .unwrap();
        let p = format!("lifting_equipment.{id}");
        set(
            r,
            ra,
            &format!("{p}.swl_kg"),
            FieldValue::Decimal(swl.into()),
        );
        set(r, ra, &format!("{p}.last_exam_on"), s("2026-01-10"));
        set(r, ra, &format!("{p}.next_exam_due_on"), s("2026-07-10"));
        id
    };
    let hoist = equipment("hoist_mobile", "182.0");
    let bar = equipment("spreader_bar", "182.0");
    let sling = equipment("sling", sling_kg);
    let task = r
        .add_item(
            ra,
            "tasks",
            obj(json!({ "from": "bed", "to": "wheelchair" })),
        )
        .unwrap();
    let t = format!("tasks.{task}");
    set(r, ra, &format!("{t}.method"), s("hoist_mobile"));
    set(r, ra, &format!("{t}.carers_required"), FieldValue::Int(2));
    set(r, ra, &format!("{t}.hoist_id"), s(&hoist.to_string()));
    set(r, ra, &format!("{t}.spreader_bar_id"), s(&bar.to_string()));
    set(r, ra, &format!("{t}.sling_id"), s(&sling.to_string()));
    set(r, ra, &format!("{t}.sling_type"), s("hammock_full_body"));
    set(
        r,
        ra,
        &format!("{t}.initial.likelihood"),
        FieldValue::Int(3),
    );
    set(r, ra, &format!("{t}.initial.severity"), FieldValue::Int(3));
    set(
        r,
        ra,
        &format!("{t}.residual.likelihood"),
        FieldValue::Int(2),
    );
    set(r, ra, &format!("{t}.residual.severity"), FieldValue::Int(2));
    r.add_item(
        ra,
        &format!("{t}.controls"),
        obj(json!({ "kind": "technique_training", "text": "Two carers trained" })),
    )
    .unwrap();
    set(r, ra, "review_due_on", s("2026-09-15"));
    set(
        r,
        ra,
        "task_stopped_pending_review",
        FieldValue::Bool(false),
    );
    // MH-CARER-TRAINED: the hoist task has a carer trained and found competent on it.
    r.add_carer_training(
        ra,
        &TrainingInput {
            trainee_name: "Sam Carer".into(),
            trainee_role: TraineeRole::Carer,
            task_id: task,
            hoist_id: Some(hoist),
            sling_id: Some(sling),
            trained_by: "A. Therapist".into(),
            trained_on: d("2026-03-01"),
            competent: true,
            review_due_on: Some(d("2026-09-01")),
        },
    )
    .unwrap();
}

fn child(r: &Records) -> RecordId {
    r.create_child("Amira", "Okafor", d("2016-05-14")).unwrap()
}

#[test]
fn saf_wrong_child_every_record_view_carries_the_child_banner() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child(&ot);
    set(&ot, c, "nhs_number", s("9434765919"));
    ot.add_item(
        c,
        "alerts",
        obj(json!({ "kind": "home_safety", "text": "Two dogs" })),
    )
    .unwrap();
    let ra = ot.create_risk_assessment(c).unwrap();
    let view = ot.view(ra).unwrap();
    assert_eq!(view.schema, Schema::RiskAssessment);
    assert_eq!(view.banner.child_id, c);
    assert_eq!(view.banner.name, "Amira Okafor");
    assert_eq!(view.banner.date_of_birth, Some(d("2016-05-14")));
    assert_eq!(view.banner.nhs_number.as_deref(), Some("943 476 5919"));
    assert_eq!(view.banner.alerts, vec!["Two dogs".to_owned()]);
    // A record cannot be filed under something that is not a child.
    match ot.create_assessment(ra, Service::Health) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "SAF-WRONG-CHILD"),
        other => panic!("expected SAF-WRONG-CHILD, got {other:?}"),
    }
}

#[test]
fn fld_format_wrong_type_input_is_refused_and_nothing_is_saved() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child(&ot);
    let ra = ot.create_risk_assessment(c).unwrap();
    let before = ot.history(ra).unwrap().len();
    for bad in ["32.45", "abc", "NaN", ""] {
        match ot.set_field(ra, "child_weight_kg", FieldValue::Decimal(bad.into())) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-FORMAT"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // An unknown code does not fit the model either.
    match ot.set_field(ra, "location", s("garden_shed")) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-FORMAT"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ot.history(ra).unwrap().len(),
        before,
        "a refused edit leaves no change"
    );
    assert_eq!(ot.json(ra).unwrap().get("location"), None);
}

#[test]
fn saf_unit_out_of_range_measurement_is_kept_and_flagged_fld_hard() {
    let w = World::new();
    let ap = w.user(Role::Ap);
    let c = child(&ap);
    let req = ap
        .create_equipment_request(c, Service::Health, Category::SpecialistSeating)
        .unwrap();
    // 35 typed meaning cm into a mm field: saved (drafts always save), flagged FLD-HARD.
    set(
        &ap,
        req,
        "measurements.lower_leg_length_mm.value",
        FieldValue::Int(35),
    );
    set(
        &ap,
        req,
        "measurements.lower_leg_length_mm.measured_on",
        s("2026-03-15"),
    );
    let json = ap.json(req).unwrap();
    assert_eq!(
        json["measurements"]["lower_leg_length_mm"]["value"],
        json!(35)
    );
    let report = ap.validate(req, false).unwrap();
    let hard: Vec<_> = report
        .issues
        .iter()
        .filter(|i| i.rule_id == "FLD-HARD" && i.path.contains("lower_leg_length_mm"))
        .collect();
    assert_eq!(hard.len(), 1, "{:#?}", report.issues);
    assert!(hard[0].is_error());
}

#[test]
fn rk_sign_needs_no_error_and_every_warn_acknowledged() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child(&ot);
    let ra = ot.create_risk_assessment(c).unwrap();
    // Empty: refused with the missing fields.
    match ot.sign(ra) {
        Err(Error::Validation { issues }) => {
            assert!(
                issues.iter().any(|i| i.rule_id == "FLD-REQUIRED"),
                "{issues:#?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Sling of 36.0 kg: 10 × 32.4 ≥ 9 × 36.0 → MH-SWL-MARGIN WARN blocks until acknowledged.
    fill_risk_assessment(&ot, ra, "36.0");
    let report = ot.validate(ra, true).unwrap();
    assert!(
        report.issues.iter().all(|i| !i.is_error()),
        "{:#?}",
        report.issues
    );
    let margin = report
        .blocking
        .iter()
        .find(|i| i.rule_id == "MH-SWL-MARGIN")
        .cloned()
        .unwrap_or_else(|| panic!("{:#?}", report.blocking));
    assert!(matches!(ot.sign(ra), Err(Error::Validation { .. })));
    // FLD-ACK: a blank reason is refused; a real one clears the warning.
    assert!(ot
        .acknowledge(ra, "MH-SWL-MARGIN", &margin.path, "  ")
        .is_err());
    ot.acknowledge(
        ra,
        "MH-SWL-MARGIN",
        &margin.path,
        "Sling re-rated by the supplier",
    )
    .unwrap();
    assert!(ot.validate(ra, true).unwrap().is_clear());
    assert_eq!(ot.sign(ra).unwrap(), SignState::Signed);
    // RK-SIGN-LOCK: a direct edit of the signed record is refused.
    assert!(matches!(
        ot.set_field(ra, "carers_available", FieldValue::Int(3)),
        Err(Error::SignedRecord(_))
    ));
}

#[test]
fn rk_countersign_ap_signature_awaits_an_ot() {
    let w = World::new();
    let ap = w.user(Role::Ap);
    let ot = w.user(Role::Ot);
    let c = child(&ap);
    let ra = ap.create_risk_assessment(c).unwrap();
    fill_risk_assessment(&ap, ra, "50.0");
    assert_eq!(ap.sign(ra).unwrap(), SignState::AwaitingCountersignature);
    assert_eq!(ot.countersign(ra).unwrap(), SignState::Countersigned);
    assert_eq!(ot.view(ra).unwrap().sign_state, SignState::Countersigned);
}

#[test]
fn mh_swl_error_blocks_signing_with_its_rule_id() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child(&ot);
    let ra = ot.create_risk_assessment(c).unwrap();
    fill_risk_assessment(&ot, ra, "30.0");
    match ot.sign(ra) {
        Err(Error::Validation { issues }) => {
            let swl = issues
                .iter()
                .find(|i| i.rule_id == "MH-SWL")
                .expect("MH-SWL");
            assert!(swl.message.starts_with("[MH-SWL]"), "{}", swl.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn equipment_workflow_ap_submits_another_ot_approves_and_ap_cannot_approve() {
    let w = World::new();
    let ap = w.user(Role::Ap);
    let ot = w.user(Role::Ot);
    let c = child(&ap);
    // W1: a wheelchair is refused outright.
    match ap.create_equipment_request(c, Service::Health, Category::Wheelchair) {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "S-WHEELCHAIR"),
        other => panic!("{other:?}"),
    }
    let req = ap
        .create_equipment_request(c, Service::Health, Category::BathingAids)
        .unwrap();
    ap.add_item(
        req,
        "items",
        obj(json!({ "description": "Bath seat", "quantity": 1 })),
    )
    .unwrap();
    ap.set_text(
        req,
        "clinical_justification",
        "Cannot sit unsupported in the bath",
    )
    .unwrap();
    for (key, v) in [("weight_kg", 324), ("bath_rim_height_mm", 550)] {
        set(
            &ap,
            req,
            &format!("measurements.{key}.value"),
            FieldValue::Int(v),
        );
        set(
            &ap,
            req,
            &format!("measurements.{key}.measured_on"),
            s("2026-03-15"),
        );
    }
    let at = |s: &str| TransitionInput::at(s.parse().unwrap());
    assert_eq!(
        ap.transition(req, Status::Submitted, at("2026-03-15T10:00:00Z"))
            .unwrap(),
        Status::Submitted
    );
    match ap.transition(req, Status::Approved, at("2026-03-15T10:00:00Z")) {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "EQ-ROLE"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ot.transition(req, Status::Approved, at("2026-03-15T10:00:00Z"))
            .unwrap(),
        Status::Approved
    );
    let typed: homevisit_core::model::equipment::EquipmentRequest = ot.typed(req).unwrap();
    assert_eq!(
        homevisit_core::rules::workflow::status(&typed).code(),
        "approved"
    );
}

#[test]
fn eligibility_snapshot_is_stored_with_as_of_and_ruleset() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Sam", "Jones", d("2012-01-20")).unwrap();
    set(&ot, c, "gp_area", s("luton"));
    set(&ot, c, "education_setting", s("mainstream"));
    let referral = ot.create_referral(c, Service::Health).unwrap();
    set(&ot, referral, "received_on", s("2025-11-03"));
    set(&ot, referral, "route", s("direct_professional"));
    set(&ot, referral, "referrer.role", s("teacher"));
    set(
        &ot,
        referral,
        "referrer.knows_child_well",
        FieldValue::Bool(true),
    );
    set(&ot, referral, "functional_difficulty", s("yes"));
    ot.add_code(referral, "reasons", "dressing").unwrap();
    let outcome = ot.evaluate_eligibility(referral, None).unwrap();
    assert!(
        matches!(outcome, EligibilityOutcome::Eligible { .. }),
        "{outcome:?}"
    );
    let json = ot.json(referral).unwrap();
    assert_eq!(json["eligibility"]["as_of"], json!("2025-11-03"));
    assert_eq!(json["eligibility"]["ruleset_version"], json!("2026.1"));
    // H-ELIG-GP: a Milton Keynes GP makes the same referral ineligible when re-evaluated.
    set(&ot, c, "gp_area", s("other"));
    match ot.evaluate_eligibility(referral, None).unwrap() {
        EligibilityOutcome::NotEligible { rule_ids, .. } => assert_eq!(rule_ids, vec!["H-ELIG-GP"]),
        other => panic!("{other:?}"),
    }
}
