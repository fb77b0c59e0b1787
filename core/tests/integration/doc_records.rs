//! The record-document layer (`core/src/doc`): attribution, setters, history, conflicts,
//! signing and sign races, each test named after the DOMAIN.md rule it proves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use automerge::{transaction::CommitOptions, transaction::Transactable, AutoCommit, ReadDoc, ROOT};
use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    doc::{self, Action, ConflictKind, FieldAmendment, Scalar},
    model::{
        common::{from_json, Schema, SignState},
        risk::RiskAssessment,
        user::{Actor, Role},
    },
    Error, RecordId,
};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

fn actor(role: Role) -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: matches!(role, Role::Ot | Role::Approver).then(|| "OT12345".to_owned()),
        hcpc_verified_until: NaiveDate::from_ymd_opt(2030, 1, 1),
    }
}

fn t(s: &str) -> DateTime<Utc> {
    format!("2026-03-15T{s}Z").parse().unwrap()
}

fn new_record(schema: Schema, who: &Actor) -> AutoCommit {
    let child = (schema != Schema::Child).then(RecordId::new);
    doc::create(
        schema,
        RecordId::new(),
        who.team_id,
        child,
        who,
        t("09:00:00"),
    )
    .unwrap()
}

fn fields(v: Json) -> Map<String, Json> {
    v.as_object().unwrap().clone()
}

fn merge_both(a: &mut AutoCommit, b: &mut AutoCommit) {
    a.merge(b).unwrap();
    b.merge(a).unwrap();
}

#[test]
fn rk_attrib_every_change_carries_user_role_device_action_and_instant() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut d = new_record(Schema::RiskAssessment, &ot);
    doc::set_scalar(
        &mut d,
        "child_weight_kg",
        Scalar::Int(324),
        &ap,
        t("09:05:00"),
    )
    .unwrap();
    doc::add_item(
        &mut d,
        "acks",
        fields(json!({"rule_id": "MH-SWL-MARGIN"})),
        &ot,
        t("09:06:00"),
    )
    .unwrap();
    let h = doc::history(&mut d).unwrap();
    assert_eq!(h.len(), 3);
    let expect = [
        (&ot, Action::Create, "09:00:00"),
        (&ap, Action::Edit, "09:05:00"),
        (&ot, Action::Ack, "09:06:00"),
    ];
    for (e, (who, action, at)) in h.iter().zip(expect) {
        let m = e.attribution.meta().expect("attributed");
        assert_eq!(
            (m.user_id, m.role, m.device_id),
            (who.user_id, who.role, who.device_id)
        );
        assert_eq!(m.action, action);
        assert_eq!(m.at, t(at));
        assert_eq!(e.timestamp, t(at).timestamp());
    }
}

#[test]
fn rk_attrib_a_foreign_change_without_metadata_is_reported_unattributed() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::RiskAssessment, &ot);
    let mut peer = a.fork();
    peer.put(ROOT, "child_height_cm", 1200_i64).unwrap();
    peer.commit_with(CommitOptions::default().with_message("{not json"));
    peer.put(ROOT, "carers_available", 2_i64).unwrap();
    peer.commit();
    a.merge(&mut peer).unwrap();
    let h = doc::history(&mut a).unwrap();
    let foreign: Vec<_> = h
        .iter()
        .filter(|e| e.attribution.meta().is_none())
        .collect();
    assert_eq!(foreign.len(), 2);
    assert!(foreign.iter().all(|e| matches!(&e.attribution,
        doc::Attribution::Unattributed { reason } if reason.contains("RK-ATTRIB"))));
    assert_eq!(foreign[0].paths, vec!["child_height_cm"]);
}

#[test]
fn setters_round_trip_through_the_json_view_and_the_typed_model() {
    let ot = actor(Role::Ot);
    let mut d = new_record(Schema::RiskAssessment, &ot);
    let at = t("09:10:00");
    doc::set_scalar(
        &mut d,
        "assessment_date",
        Scalar::Str("2026-03-15".into()),
        &ot,
        at,
    )
    .unwrap();
    doc::set_scalar(&mut d, "child_weight_kg", Scalar::Int(324), &ot, at).unwrap();
    doc::set_scalar(
        &mut d,
        "task_stopped_pending_review",
        Scalar::Bool(false),
        &ot,
        at,
    )
    .unwrap();
    doc::set_scalar(&mut d, "child_height_cm", Scalar::Null, &ot, at).unwrap();
    doc::set_text(&mut d, "avoidance_considered.text", "Hoist needed", &ot, at).unwrap();
    doc::set_scalar(
        &mut d,
        "avoidance_considered.decision",
        Scalar::Str("not_possible".into()),
        &ot,
        at,
    )
    .unwrap();
    let task = doc::add_item(
        &mut d,
        "tasks",
        fields(json!({"from": "bed", "to": "wheelchair", "method": "one_carer", "notes": "am"})),
        &ot,
        at,
    )
    .unwrap();
    doc::set_scalar(
        &mut d,
        &format!("tasks.{task}.method"),
        Scalar::Str("hoist_mobile".into()),
        &ot,
        at,
    )
    .unwrap();
    doc::set_scalar(
        &mut d,
        &format!("tasks.{task}.initial.likelihood"),
        Scalar::Int(4),
        &ot,
        at,
    )
    .unwrap();
    let ctl = doc::add_item(
        &mut d,
        &format!("tasks.{task}.controls"),
        fields(json!({"kind": "two_carers"})),
        &ot,
        at,
    )
    .unwrap();
    doc::remove_item(&mut d, &format!("tasks.{task}.controls.{ctl}"), &ot, at).unwrap();

    let v = doc::to_json(&d).unwrap();
    assert_eq!(v["schema"], "homevisit/risk_assessment");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["record_status"], json!({"state": "active"}));
    assert_eq!(v["child_weight_kg"], 324);
    assert_eq!(v["task_stopped_pending_review"], false);
    assert_eq!(v["child_height_cm"], Json::Null);
    assert_eq!(v["avoidance_considered"]["text"], "Hoist needed");
    let tj = &v["tasks"][task.to_string()];
    assert_eq!(tj["method"], "hoist_mobile");
    assert_eq!(tj["notes"], "am");
    assert_eq!(tj["item_id"], task.to_string());
    assert_eq!(tj["added_by"], ot.user_id.to_string());
    assert_eq!(
        tj["controls"][ctl.to_string()]["removed_by"],
        ot.user_id.to_string()
    );
    assert_eq!(
        doc::value_at(&d, &format!("tasks.{task}.initial.likelihood"), None).unwrap(),
        Some(json!(4))
    );

    // The typed model reads the document's JSON view.
    let typed: RiskAssessment = from_json(v).unwrap();
    assert_eq!(typed.child_weight_kg, Some(324));
    assert_eq!(typed.tasks.len(), 1);
    assert!(typed.tasks[0].data.controls[0].is_removed());
}

#[test]
fn setters_refuse_paths_that_do_not_fit_and_leave_no_change() {
    let ot = actor(Role::Ot);
    let mut d = new_record(Schema::RiskAssessment, &ot);
    doc::set_scalar(
        &mut d,
        "child_weight_kg",
        Scalar::Int(324),
        &ot,
        t("09:01:00"),
    )
    .unwrap();
    let heads = d.get_heads();
    let r = doc::set_scalar(
        &mut d,
        "child_weight_kg.value",
        Scalar::Int(1),
        &ot,
        t("09:02:00"),
    );
    assert!(
        matches!(r, Err(Error::InvalidInput { ref rule_id, .. }) if rule_id == "FLD-FORMAT"),
        "{r:?}"
    );
    for bad in ["", "a..b", "tasks.x y"] {
        assert!(doc::set_scalar(&mut d, bad, Scalar::Int(1), &ot, t("09:02:00")).is_err());
    }
    // Immutable envelope and free text through the wrong setter.
    assert!(matches!(
        doc::set_scalar(
            &mut d,
            "child_id",
            Scalar::Str("x".into()),
            &ot,
            t("09:02:00")
        ),
        Err(Error::NotPermitted { .. })
    ));
    assert!(matches!(
        doc::set_scalar(&mut d, "avoidance_considered.text", Scalar::Str("x".into()), &ot, t("09:02:00")),
        Err(Error::InvalidInput { ref rule_id, .. }) if rule_id == "CF-TEXT"
    ));
    assert_eq!(d.get_heads(), heads, "a refused edit leaves no change");
}

#[test]
fn rk_history_lists_who_what_when_and_the_paths_each_change_touched() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut d = new_record(Schema::Assessment, &ot);
    doc::set_scalar(
        &mut d,
        "sections.A.visit_date",
        Scalar::Str("2026-03-15".into()),
        &ap,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_text(
        &mut d,
        "sections.B.presenting_concerns",
        "Dressing",
        &ot,
        t("10:01:00"),
    )
    .unwrap();
    doc::add_code(
        &mut d,
        "sections.A.identity_checked",
        "dob",
        &ap,
        t("10:02:00"),
    )
    .unwrap();
    let h = doc::history(&mut d).unwrap();
    assert_eq!(h.len(), 4);
    assert!(h[0].paths.contains(&"schema".to_owned()));
    assert_eq!(h[1].paths, vec!["sections.A.visit_date"]);
    assert_eq!(h[1].attribution.user_id(), Some(ap.user_id));
    assert_eq!(h[2].paths, vec!["sections.B.presenting_concerns"]);
    assert_eq!(h[2].attribution.role(), Some(Role::Ot));
    assert_eq!(h[3].paths, vec!["sections.A.identity_checked.dob"]);
    assert_eq!(h[3].attribution.at(), Some(t("10:02:00")));
    // Causal order: each entry's deps come earlier.
    for (i, e) in h.iter().enumerate() {
        for dep in &e.deps {
            assert!(h[..i].iter().any(|p| &p.hash == dep));
        }
    }
}

#[test]
fn rk_history_as_of_returns_the_record_as_it_then_stood() {
    let ot = actor(Role::Ot);
    let mut d = new_record(Schema::RiskAssessment, &ot);
    doc::set_scalar(
        &mut d,
        "child_weight_kg",
        Scalar::Int(300),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut d,
        "child_weight_kg",
        Scalar::Int(324),
        &ot,
        t("11:00:00"),
    )
    .unwrap();
    assert_eq!(doc::as_of(&mut d, t("08:59:59")).unwrap(), None);
    let created = doc::as_of(&mut d, t("09:30:00")).unwrap().unwrap();
    assert!(created.get("child_weight_kg").is_none());
    assert_eq!(
        doc::as_of(&mut d, t("10:00:00")).unwrap().unwrap()["child_weight_kg"],
        300
    );
    assert_eq!(
        doc::as_of(&mut d, t("10:59:59")).unwrap().unwrap()["child_weight_kg"],
        300
    );
    assert_eq!(
        doc::as_of(&mut d, t("12:00:00")).unwrap().unwrap()["child_weight_kg"],
        324
    );
}

#[test]
fn saf_silent_conflict_cf_clinical_concurrent_edits_conflict_on_both_replicas_until_resolved() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut a = new_record(Schema::Child, &ot);
    let w = doc::add_item(
        &mut a,
        "weights",
        fields(json!({"value_kg": 300, "measured_on": "2026-03-01"})),
        &ot,
        t("09:01:00"),
    )
    .unwrap();
    let mut b = a.fork();
    let path = format!("weights.{w}.value_kg");
    doc::set_scalar(&mut a, &path, Scalar::Int(310), &ot, t("10:00:00")).unwrap();
    doc::set_scalar(&mut b, &path, Scalar::Int(460), &ap, t("10:00:30")).unwrap();
    merge_both(&mut a, &mut b);
    let ca = doc::conflicts(&mut a).unwrap();
    let cb = doc::conflicts(&mut b).unwrap();
    assert_eq!(ca, cb, "both replicas report the same conflict");
    assert_eq!(ca.len(), 1);
    assert_eq!(ca[0].path, path);
    assert_eq!(ca[0].kind, ConflictKind::Value);
    let mut got: Vec<(Json, Uuid, Role, Uuid, DateTime<Utc>)> = ca[0]
        .values
        .iter()
        .map(|v| {
            let m = v.attribution.meta().unwrap();
            (v.value.clone(), m.user_id, m.role, m.device_id, m.at)
        })
        .collect();
    got.sort_by_key(|g| g.0.as_i64());
    assert_eq!(
        got,
        vec![
            (
                json!(310),
                ot.user_id,
                Role::Ot,
                ot.device_id,
                t("10:00:00")
            ),
            (
                json!(460),
                ap.user_id,
                Role::Ap,
                ap.device_id,
                t("10:00:30")
            ),
        ]
    );
    // Signing is blocked while it is open (CF-BLOCK) — shown on a signable record below.
    doc::resolve(&mut b, &path, &json!(310), &ot, t("10:05:00")).unwrap();
    assert!(doc::conflicts(&mut b).unwrap().is_empty());
    assert_eq!(
        doc::conflicts(&mut a).unwrap().len(),
        1,
        "not resolved until merged"
    );
    a.merge(&mut b).unwrap();
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
    assert_eq!(doc::value_at(&a, &path, None).unwrap(), Some(json!(310)));
    let h = doc::history(&mut a).unwrap();
    assert_eq!(
        h.last().unwrap().attribution.action(),
        Some(Action::Resolve)
    );
}

#[test]
fn cf_clinical_same_value_written_concurrently_is_not_a_conflict() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::Referral, &ot);
    let mut b = a.fork();
    doc::set_scalar(
        &mut a,
        "route",
        Scalar::Str("direct_professional".into()),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut b,
        "route",
        Scalar::Str("direct_professional".into()),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
}

#[test]
fn cf_clinical_weight_and_its_date_changed_concurrently_is_a_unit_conflict() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::RiskAssessment, &ot);
    doc::set_scalar(
        &mut a,
        "child_weight_kg",
        Scalar::Int(300),
        &ot,
        t("09:01:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut a,
        "child_weight_measured_on",
        Scalar::Str("2026-01-01".into()),
        &ot,
        t("09:01:00"),
    )
    .unwrap();
    let mut b = a.fork();
    doc::set_scalar(
        &mut a,
        "child_weight_kg",
        Scalar::Int(350),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut b,
        "child_weight_measured_on",
        Scalar::Str("2026-03-14".into()),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    let c = doc::conflicts(&mut a).unwrap();
    assert_eq!(c, doc::conflicts(&mut b).unwrap());
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].path.as_str(), c[0].kind),
        ("child_weight_kg", ConflictKind::Unit)
    );
    assert_eq!(c[0].values.len(), 2);
    doc::resolve(
        &mut a,
        "child_weight_kg",
        &json!({"child_weight_kg": 350, "child_weight_measured_on": "2026-03-14"}),
        &ot,
        t("10:10:00"),
    )
    .unwrap();
    let left = doc::conflicts(&mut a).unwrap();
    let hist: Vec<_> = doc::history(&mut a)
        .unwrap()
        .into_iter()
        .map(|e| (e.hash, e.attribution.action(), e.paths))
        .collect();
    assert!(left.is_empty(), "{left:?} {hist:?}");
    assert_eq!(
        doc::value_at(&a, "child_weight_measured_on", None).unwrap(),
        Some(json!("2026-03-14"))
    );
}

#[test]
fn cf_clinical_a_measurement_first_entered_on_two_devices_is_never_hidden() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::EquipmentRequest, &ot);
    let mut b = a.fork();
    doc::set_scalar(
        &mut a,
        "measurements.hip_width_mm.value",
        Scalar::Int(300),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut b,
        "measurements.hip_width_mm.value",
        Scalar::Int(310),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    let c = doc::conflicts(&mut a).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].path.as_str(), c[0].kind),
        ("measurements.hip_width_mm", ConflictKind::Structure)
    );
    doc::resolve(
        &mut b,
        "measurements.hip_width_mm",
        &json!({"value": 310}),
        &ot,
        t("10:01:00"),
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
}

#[test]
fn cf_text_concurrent_free_text_edits_both_survive_without_conflict() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut a = new_record(Schema::Assessment, &ot);
    let p = "sections.B.presenting_concerns";
    doc::set_text(&mut a, p, "Struggles with buttons.", &ot, t("10:00:00")).unwrap();
    let mut b = a.fork();
    doc::set_text(
        &mut a,
        p,
        "Mum says: Struggles with buttons.",
        &ot,
        t("10:01:00"),
    )
    .unwrap();
    doc::set_text(
        &mut b,
        p,
        "Struggles with buttons. Uses a stool.",
        &ap,
        t("10:01:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    let s = doc::value_at(&a, p, None).unwrap().unwrap();
    assert_eq!(s, json!("Mum says: Struggles with buttons. Uses a stool."));
    assert_eq!(doc::to_json(&a).unwrap(), doc::to_json(&b).unwrap());
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
}

#[test]
fn cf_list_concurrent_additions_are_both_kept() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::RiskAssessment, &ot);
    let mut b = a.fork();
    let x = doc::add_item(
        &mut a,
        "tasks",
        fields(json!({"method": "one_carer"})),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    let y = doc::add_item(
        &mut b,
        "tasks",
        fields(json!({"method": "two_carers"})),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    let v = doc::to_json(&a).unwrap();
    assert_eq!(v["tasks"][x.to_string()]["method"], "one_carer");
    assert_eq!(v["tasks"][y.to_string()]["method"], "two_carers");
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
}

#[test]
fn cf_list_removal_concurrent_with_an_edit_of_the_item_is_a_conflict() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut a = new_record(Schema::RiskAssessment, &ot);
    let x = doc::add_item(
        &mut a,
        "tasks",
        fields(json!({"method": "one_carer"})),
        &ot,
        t("09:10:00"),
    )
    .unwrap();
    let mut b = a.fork();
    let item = format!("tasks.{x}");
    doc::remove_item(&mut a, &item, &ot, t("10:00:00")).unwrap();
    doc::set_scalar(
        &mut b,
        &format!("{item}.carers_required"),
        Scalar::Int(2),
        &ap,
        t("10:00:00"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    let ca = doc::conflicts(&mut a).unwrap();
    assert_eq!(ca, doc::conflicts(&mut b).unwrap());
    assert_eq!(ca.len(), 1, "{ca:?}");
    assert_eq!(
        (ca[0].path.as_str(), ca[0].kind),
        (item.as_str(), ConflictKind::RemovalVsEdit)
    );
    let authors: Vec<_> = ca[0].values.iter().map(|v| v.user_id().unwrap()).collect();
    assert!(authors.contains(&ot.user_id) && authors.contains(&ap.user_id));
    // Restore the item with the edit: the chosen item has no removal marks.
    let mut chosen = doc::value_at(&a, &item, None).unwrap().unwrap();
    let m = chosen.as_object_mut().unwrap();
    m.remove("removed_at");
    m.remove("removed_by");
    doc::resolve(&mut a, &item, &chosen, &ot, t("10:05:00")).unwrap();
    b.merge(&mut a).unwrap();
    assert!(doc::conflicts(&mut b).unwrap().is_empty());
    let v = doc::value_at(&b, &item, None).unwrap().unwrap();
    assert_eq!(v["carers_required"], 2);
    assert!(v.get("removed_at").is_none());
}

#[test]
fn cf_set_concurrent_add_and_remove_keeps_the_code() {
    let ot = actor(Role::Ot);
    let mut a = new_record(Schema::Referral, &ot);
    doc::add_code(&mut a, "reasons", "dressing", &ot, t("09:10:00")).unwrap();
    let mut b = a.fork();
    doc::remove_code(&mut a, "reasons", "dressing", &ot, t("10:00:00")).unwrap();
    doc::remove_code(&mut b, "reasons", "dressing", &ot, t("10:00:00")).unwrap();
    doc::add_code(&mut b, "reasons", "dressing", &ot, t("10:00:10")).unwrap();
    doc::add_code(&mut b, "reasons", "play", &ot, t("10:00:10")).unwrap();
    merge_both(&mut a, &mut b);
    assert_eq!(
        doc::value_at(&a, "reasons", None).unwrap(),
        Some(json!({"dressing": true, "play": true}))
    );
    assert!(doc::conflicts(&mut a).unwrap().is_empty());
}

fn signable(ot: &Actor) -> AutoCommit {
    let mut d = new_record(Schema::Assessment, ot);
    doc::set_scalar(
        &mut d,
        "sections.A.visit_date",
        Scalar::Str("2026-03-14".into()),
        ot,
        t("09:30:00"),
    )
    .unwrap();
    d
}

#[test]
fn rk_sign_lock_direct_edit_of_a_signed_record_fails_and_rk_addendum_rk_amend_take_over() {
    let ot = actor(Role::Ot);
    let mut d = signable(&ot);
    let before = d.get_heads();
    assert_eq!(
        doc::sign(&mut d, &ot, t("12:00:00")).unwrap(),
        SignState::Signed
    );
    let sig = doc::signature(&d).unwrap().unwrap();
    assert_eq!(sig.user_id, ot.user_id);
    assert_eq!(
        sig.signed_heads,
        before.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    let r = doc::set_scalar(
        &mut d,
        "sections.A.visit_date",
        Scalar::Str("2026-03-13".into()),
        &ot,
        t("12:01:00"),
    );
    assert!(matches!(r, Err(Error::SignedRecord(_))), "{r:?}");
    assert!(matches!(
        doc::sign(&mut d, &ot, t("12:01:00")),
        Err(Error::SignedRecord(_))
    ));

    let id = doc::add_addendum(
        &mut d,
        "Visit was on the 13th; date typed wrongly.",
        &[FieldAmendment {
            path: "sections.A.visit_date".into(),
            new_value: json!("2026-03-13"),
        }],
        "typing error",
        &ot,
        t("12:30:00"),
    )
    .unwrap();
    let e = doc::effective_value(&d, "sections.A.visit_date").unwrap();
    assert_eq!(e.value, Some(json!("2026-03-13")));
    assert_eq!(
        e.signed_value,
        Some(json!("2026-03-14")),
        "the original stays visible"
    );
    let amended = e.amended_by.unwrap();
    assert_eq!(
        (amended.addendum_id, amended.author, amended.reason.as_str()),
        (id, ot.user_id, "typing error")
    );
    let adds = doc::addenda(&d).unwrap();
    assert_eq!(adds.len(), 1);
    assert_eq!(
        adds[0].data.field_changes[0].signed_value,
        json!("2026-03-14")
    );
    assert_eq!(
        doc::signed_view(&d).unwrap()["sections"]["A"]["visit_date"],
        "2026-03-14"
    );
    assert_eq!(
        doc::effective_view(&d).unwrap()["sections"]["A"]["visit_date"],
        "2026-03-13"
    );
    // A later addendum wins.
    doc::add_addendum(
        &mut d,
        "Correction.",
        &[FieldAmendment {
            path: "sections.A.visit_date".into(),
            new_value: json!("2026-03-12"),
        }],
        "checked diary",
        &ot,
        t("13:00:00"),
    )
    .unwrap();
    assert_eq!(
        doc::effective_value(&d, "sections.A.visit_date")
            .unwrap()
            .value,
        Some(json!("2026-03-12"))
    );
    assert!(doc::rule_breaches(&mut d).unwrap().is_empty());
}

#[test]
fn cf_block_signing_is_refused_while_a_clinical_conflict_is_open() {
    let ot = actor(Role::Ot);
    let mut a = signable(&ot);
    let mut b = a.fork();
    doc::set_scalar(
        &mut a,
        "sections.F.carers_required",
        Scalar::Int(1),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    doc::set_scalar(
        &mut b,
        "sections.F.carers_required",
        Scalar::Int(2),
        &ot,
        t("10:00:00"),
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    let r = doc::sign(&mut a, &ot, t("11:00:00"));
    assert!(
        matches!(&r, Err(Error::Conflict { paths }) if paths == &["sections.F.carers_required"]),
        "{r:?}"
    );
}

#[test]
fn rk_countersign_ap_signature_awaits_an_ot_countersignature() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut d = signable(&ap);
    assert_eq!(
        doc::sign(&mut d, &ap, t("12:00:00")).unwrap(),
        SignState::AwaitingCountersignature
    );
    assert!(
        matches!(doc::countersign(&mut d, &ap, t("12:10:00")), Err(Error::NotPermitted { ref rule_id, .. }) if rule_id == "RK-COUNTERSIGN")
    );
    let mut lapsed = actor(Role::Ot);
    lapsed.hcpc_verified_until = NaiveDate::from_ymd_opt(2026, 3, 14);
    assert!(matches!(
        doc::countersign(&mut d, &lapsed, t("12:10:00")),
        Err(Error::NotPermitted { .. })
    ));
    assert_eq!(
        doc::countersign(&mut d, &ot, t("12:15:00")).unwrap(),
        SignState::Countersigned
    );
    assert_eq!(
        doc::countersignature(&d).unwrap().unwrap().user_id,
        ot.user_id
    );
    assert!(doc::countersign(&mut d, &ot, t("12:16:00")).is_err());
    assert!(doc::rule_breaches(&mut d).unwrap().is_empty());
    assert!(doc::sign_races(&mut d).unwrap().is_empty());
}

#[test]
fn cf_sign_race_saf_sign_race_edit_concurrent_with_signing_is_flagged_and_kept_out_of_the_signed_view(
) {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut a = signable(&ot);
    let mut b = a.fork();
    doc::sign(&mut a, &ot, t("12:00:00")).unwrap();
    // Device B, offline, edits while A signs.
    doc::set_scalar(
        &mut b,
        "sections.F.carers_required",
        Scalar::Int(2),
        &ap,
        t("12:00:05"),
    )
    .unwrap();
    merge_both(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        let races = doc::open_sign_races(d).unwrap();
        assert_eq!(races.len(), 1, "{races:?}");
        assert_eq!(races[0].paths, vec!["sections.F.carers_required"]);
        assert_eq!(races[0].attribution.user_id(), Some(ap.user_id));
        // Kept in the document, out of the signed view.
        assert_eq!(
            doc::value_at(d, "sections.F.carers_required", None).unwrap(),
            Some(json!(2))
        );
        assert!(doc::signed_view(d).unwrap()["sections"]["F"]
            .get("carers_required")
            .is_none());
        assert!(
            doc::rule_breaches(d).unwrap().is_empty(),
            "a race is not an edit after signing"
        );
    }
    let hash = doc::open_sign_races(&mut a).unwrap()[0].change_hash.clone();
    // Only an HCPC-registered OT decides.
    assert!(matches!(
        doc::adopt_sign_race(&mut a, &hash, "carer count confirmed", &ap, t("13:00:00")),
        Err(Error::NotPermitted { ref rule_id, .. }) if rule_id == "CF-SIGN-RACE"
    ));
    let id =
        doc::adopt_sign_race(&mut a, &hash, "carer count confirmed", &ot, t("13:00:00")).unwrap();
    assert!(doc::open_sign_races(&mut a).unwrap().is_empty());
    let add = doc::addenda(&a)
        .unwrap()
        .into_iter()
        .find(|x| x.item_id == id)
        .unwrap();
    assert_eq!(
        add.data.original_author,
        Some(ap.user_id),
        "original author credited"
    );
    assert_eq!(
        doc::effective_view(&a).unwrap()["sections"]["F"]["carers_required"],
        2
    );
    b.merge(&mut a).unwrap();
    assert!(doc::open_sign_races(&mut b).unwrap().is_empty());
    assert_eq!(
        doc::sign_races(&mut b).unwrap()[0]
            .decision
            .as_ref()
            .unwrap()
            .decision,
        "adopted"
    );
    assert!(doc::rule_breaches(&mut b).unwrap().is_empty());
}

#[test]
fn cf_sign_race_a_rejected_race_stays_in_history_and_out_of_the_effective_view() {
    let ot = actor(Role::Ot);
    let mut a = signable(&ot);
    let mut b = a.fork();
    doc::sign(&mut a, &ot, t("12:00:00")).unwrap();
    doc::set_scalar(
        &mut b,
        "sections.A.visit_date",
        Scalar::Str("2026-01-01".into()),
        &ot,
        t("12:00:01"),
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    let hash = doc::open_sign_races(&mut a).unwrap()[0].change_hash.clone();
    doc::reject_sign_race(&mut a, &hash, "wrong child's visit", &ot, t("13:00:00")).unwrap();
    assert!(doc::open_sign_races(&mut a).unwrap().is_empty());
    let d = doc::sign_races(&mut a).unwrap()[0]
        .decision
        .clone()
        .unwrap();
    assert_eq!(
        (d.decision.as_str(), d.reason.as_str(), d.user_id),
        ("rejected", "wrong child's visit", ot.user_id)
    );
    assert_eq!(
        doc::effective_view(&a).unwrap()["sections"]["A"]["visit_date"],
        "2026-03-14"
    );
    assert!(doc::history(&mut a).unwrap().iter().any(|e| e.hash == hash));
}

#[test]
fn cf_rule_breach_rk_sign_lock_an_edit_after_signing_arriving_by_sync_is_flagged_and_not_applied() {
    let ot = actor(Role::Ot);
    let mut a = signable(&ot);
    doc::sign(&mut a, &ot, t("12:00:00")).unwrap();
    // A buggy peer that ignores the lock: a raw automerge edit on top of the signature.
    let mut peer = a.fork();
    let sections = peer.get(ROOT, "sections").unwrap().unwrap().1;
    let sa = peer.get(&sections, "A").unwrap().unwrap().1;
    peer.put(&sa, "visit_date", "2026-02-02").unwrap();
    peer.commit_with(
        CommitOptions::default()
            .with_message(doc::ChangeMeta::new(&ot, Action::Edit, t("12:30:00")).to_message()),
    );
    a.merge(&mut peer).unwrap();
    let breaches = doc::rule_breaches(&mut a).unwrap();
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].rule_id, "RK-SIGN-LOCK");
    assert_eq!(breaches[0].paths, vec!["sections.A.visit_date"]);
    let system = actor(Role::System);
    let flagged = doc::record_rule_breaches(&mut a, &system, t("12:31:00")).unwrap();
    assert_eq!(flagged.len(), 1);
    assert!(
        doc::record_rule_breaches(&mut a, &system, t("12:32:00"))
            .unwrap()
            .is_empty(),
        "flagged once"
    );
    // The flag syncs to every device; the breach never reaches the signed or effective view.
    peer.merge(&mut a).unwrap();
    let f = doc::flags(&peer).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule_id.as_str(), f[0].change_hash.as_str()),
        ("RK-SIGN-LOCK", breaches[0].change_hash.as_str())
    );
    assert_eq!(
        doc::effective_view(&peer).unwrap()["sections"]["A"]["visit_date"],
        "2026-03-14"
    );
}

#[test]
fn rk_eie_entered_in_error_is_permanent_and_refuses_further_edits() {
    let ot = actor(Role::Ot);
    let ap = actor(Role::Ap);
    let mut d = signable(&ot);
    assert!(matches!(
        doc::mark_entered_in_error(&mut d, "wrong child", &ap, t("12:00:00")),
        Err(Error::NotPermitted { ref rule_id, .. }) if rule_id == "RK-EIE"
    ));
    assert!(doc::mark_entered_in_error(&mut d, "   ", &ot, t("12:00:00")).is_err());
    doc::mark_entered_in_error(&mut d, "wrong child", &ot, t("12:00:00")).unwrap();
    assert_eq!(doc::sign_state(&d).unwrap(), SignState::EnteredInError);
    assert!(doc::is_entered_in_error(&mut d).unwrap());
    let v = doc::to_json(&d).unwrap();
    assert_eq!(v["record_status"]["state"], "entered_in_error");
    assert_eq!(v["record_status"]["reason"], "wrong child");
    assert_eq!(
        v["sections"]["A"]["visit_date"], "2026-03-14",
        "record and history are kept"
    );
    let refused = [
        doc::set_scalar(
            &mut d,
            "sections.A.visit_date",
            Scalar::Str("2026-01-01".into()),
            &ot,
            t("12:01:00"),
        ),
        doc::set_text(&mut d, "sections.B.child_views", "x", &ot, t("12:01:00")),
        doc::sign(&mut d, &ot, t("12:01:00")).map(|_| ()),
        doc::mark_entered_in_error(&mut d, "again", &ot, t("12:01:00")),
    ];
    for r in refused {
        assert!(
            matches!(r, Err(Error::NotPermitted { ref rule_id, .. }) if rule_id == "RK-EIE"),
            "{r:?}"
        );
    }
    // The status cannot be set back by an ordinary edit either.
    assert!(doc::set_scalar(
        &mut d,
        "record_status.state",
        Scalar::Str("active".into()),
        &ot,
        t("12:02:00")
    )
    .is_err());
}

#[test]
fn rk_sign_ot_or_approver_needs_hcpc_registration_on_the_signing_date() {
    for role in [Role::Ot, Role::Approver] {
        let mut lapsed = actor(role);
        // Verified until the day before signing (2026-03-15).
        lapsed.hcpc_verified_until = NaiveDate::from_ymd_opt(2026, 3, 14);
        let mut d = signable(&lapsed);
        match doc::sign(&mut d, &lapsed, t("12:00:00")) {
            Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "RK-SIGN"),
            other => panic!("{role:?}: {other:?}"),
        }
        assert!(doc::signature(&d).unwrap().is_none(), "nothing was signed");
        let mut no_number = actor(role);
        no_number.hcpc_number = None;
        assert!(matches!(
            doc::sign(&mut d, &no_number, t("12:00:00")),
            Err(Error::NotPermitted { ref rule_id, .. }) if rule_id == "RK-SIGN"
        ));
        // Registered on the day itself: signs.
        let mut on_the_day = actor(role);
        on_the_day.hcpc_verified_until = NaiveDate::from_ymd_opt(2026, 3, 15);
        assert_eq!(
            doc::sign(&mut d, &on_the_day, t("12:00:00")).unwrap(),
            SignState::Signed
        );
    }
    // An AP is not HCPC-registered and still signs (awaiting countersignature).
    let ap = actor(Role::Ap);
    let mut d = signable(&ap);
    assert_eq!(
        doc::sign(&mut d, &ap, t("12:00:00")).unwrap(),
        SignState::AwaitingCountersignature
    );
}
