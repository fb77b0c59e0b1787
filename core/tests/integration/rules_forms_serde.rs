//! The typed forms against the document layout (docs/DOCUMENT-LAYOUT.md): round trips through
//! the JSON view with item maps and code sets, and hostile JSON that must be refused with a
//! typed error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        assessment::{Assessment, IdentityCheck},
        common::{from_json, to_json, Addendum, FieldChange, MAX_LIST_ITEMS},
        equipment::{EquipmentRequest, Status},
        risk::RiskAssessment,
        user::Role,
    },
    rules::workflow::{status, transition, TransitionInput, WorkflowContext, WorkflowStatus},
    Error,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

fn signed_assessment() -> Assessment {
    let mut a = complete_assessment();
    a.sections.j.signature = Some(signature(Role::Ap));
    a.sections.j.countersignature = Some(signature(Role::Ot));
    a.sections.j.addenda.push(item(Addendum {
        text: "Review date moved at the family's request.".into(),
        field_changes: vec![FieldChange {
            path: "sections.I.next_review_on".into(),
            signed_value: json!("2026-09-15"),
            new_value: json!("2026-10-01"),
        }],
        reason: "Family holiday".into(),
        author: Uuid::new_v4(),
        role: Role::Ot,
        at: at("2026-03-20T09:00:00Z"),
        original_author: None,
        countersignature: None,
    }));
    a
}

fn request_with_log() -> EquipmentRequest {
    let ap = actor(Role::Ap, None);
    let mut r = seating_request(ap.user_id);
    for to in [Status::Draft, Status::Submitted] {
        let t = transition(
            &r,
            to,
            &ap,
            d("2026-03-15"),
            TransitionInput::at(at("2026-03-15T09:00:00Z")),
            &WorkflowContext::default(),
        )
        .unwrap();
        r.apply(item(t));
    }
    r
}

#[test]
fn assessment_round_trips_through_the_document_layout() {
    let a = signed_assessment();
    let v = to_json(&a).unwrap();
    // Root envelope, sections under letters, item maps keyed by item id, code sets as maps.
    assert_eq!(v["schema"], "homevisit/assessment");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["record_status"], json!({"state": "active"}));
    let person = &a.sections.a.people_present[0];
    let pv = &v["sections"]["A"]["people_present"][person.item_id.to_string()];
    assert_eq!(pv["item_id"], person.item_id.to_string());
    assert_eq!(pv["name"], "Sam Carer");
    assert_eq!(
        v["sections"]["A"]["identity_checked"],
        json!({"name": true, "dob": true})
    );
    assert_eq!(v["sections"]["A"]["start_time"], "10:00");
    assert_eq!(v["sections"]["D"]["entrance_steps"]["riser_max_mm"], 180);
    assert_eq!(v["sections"]["D"]["access_issues"], json!({}));
    let back: Assessment = from_json(v).unwrap();
    assert_eq!(back, a);
    assert_eq!(
        back.sign_state(),
        homevisit_core::model::common::SignState::Countersigned
    );
}

#[test]
fn risk_assessment_round_trips_with_nested_item_lists_and_tileo() {
    let ra = signed_for(complete_ra(), None);
    let v = to_json(&ra).unwrap();
    assert_eq!(v["child_weight_kg"], 324);
    assert_eq!(v["tileo"]["T1"]["hazard_present"], "no");
    let task = &ra.tasks[0];
    let control = &task.data.controls[0];
    assert_eq!(
        v["tasks"][task.item_id.to_string()]["controls"][control.item_id.to_string()]["kind"],
        "technique_training"
    );
    let back: RiskAssessment = from_json(v).unwrap();
    assert_eq!(back, ra);
}

#[test]
fn equipment_request_round_trips_with_measurements_and_log() {
    let r = request_with_log();
    let v = to_json(&r).unwrap();
    assert_eq!(v["measurements"]["lower_leg_length_mm"]["value"], 350);
    assert_eq!(v["estimated_cost_pence"], 250_000);
    let back: EquipmentRequest = from_json(v).unwrap();
    assert_eq!(back, r);
    assert_eq!(status(&back), WorkflowStatus::At(Status::Submitted));
}

#[test]
fn item_list_reads_in_added_at_then_item_id_order_and_keeps_removed_items() {
    let mut v = to_json(&complete_assessment()).unwrap();
    let (early, late, tie_a, tie_b) = (
        Uuid::from_u128(9),
        Uuid::from_u128(1),
        Uuid::from_u128(3),
        Uuid::from_u128(2),
    );
    let person = |id: Uuid, added: &str, removed: bool| {
        let mut p = json!({"item_id": id, "added_at": added, "added_by": Uuid::new_v4(), "name": id.to_string()});
        if removed {
            p["removed_at"] = json!("2026-03-15T11:00:00Z");
            p["removed_by"] = json!(Uuid::new_v4());
        }
        p
    };
    v["sections"]["A"]["people_present"] = json!({
        late.to_string(): person(late, "2026-03-15T10:30:00Z", false),
        tie_a.to_string(): person(tie_a, "2026-03-15T10:10:00Z", true),
        early.to_string(): person(early, "2026-03-15T10:00:00Z", false),
        tie_b.to_string(): person(tie_b, "2026-03-15T10:10:00Z", false),
    });
    let a: Assessment = from_json(v).unwrap();
    let order: Vec<Uuid> = a
        .sections
        .a
        .people_present
        .iter()
        .map(|p| p.item_id)
        .collect();
    assert_eq!(order, [early, tie_b, tie_a, late]);
    assert!(a.sections.a.people_present[2].is_removed());
}

#[test]
fn code_set_add_and_remove_map_to_keys() {
    let mut v = to_json(&complete_assessment()).unwrap();
    v["sections"]["A"]["identity_checked"] = json!({"address": true, "nhs_number": true});
    let a: Assessment = from_json(v).unwrap();
    assert_eq!(
        a.sections.a.identity_checked,
        [IdentityCheck::NhsNumber, IdentityCheck::Address].into()
    );
}

// ----- hostile JSON -----

fn corrupt<T: homevisit_core::model::common::Record + std::fmt::Debug>(v: Value) -> String {
    match from_json::<T>(v) {
        Err(Error::Corrupt { detail, .. }) => detail,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn hostile_wrong_types_are_refused() {
    let base = to_json(&complete_ra()).unwrap();
    for (path, bad) in [
        ("child_weight_kg", json!("heavy")),
        ("child_weight_kg", json!(32.4)),
        ("child_weight_kg", json!(u64::MAX)),
        ("assessment_date", json!("15/03/2026")),
        ("tasks", json!([1, 2, 3])),
        ("tileo", json!("all fine")),
        ("record_status", json!({"state": "deleted"})),
        ("team_id", json!("not-a-uuid")),
        ("id", Value::Null),
    ] {
        let mut v = base.clone();
        v[path] = bad.clone();
        let detail = corrupt::<RiskAssessment>(v);
        assert!(!detail.is_empty(), "{path} = {bad}");
    }
}

#[test]
fn hostile_unknown_codes_are_refused() {
    let a = to_json(&complete_assessment()).unwrap();
    let mut v = a.clone();
    v["sections"]["A"]["location"] = json!("moon");
    corrupt::<Assessment>(v);
    let mut v = a.clone();
    v["sections"]["A"]["identity_checked"] = json!({"shoe_size": true});
    corrupt::<Assessment>(v);
    let mut v = a;
    v["sections"]["A"]["identity_checked"] = json!({"name": false});
    corrupt::<Assessment>(v);

    let mut v = to_json(&complete_ra()).unwrap();
    v["tileo"]["X9"] = json!({"hazard_present": "no"});
    corrupt::<RiskAssessment>(v);

    let r = to_json(&seating_request(Uuid::new_v4())).unwrap();
    let mut v = r.clone();
    v["measurements"]["arm_span_mm"] = json!({"value": 500});
    corrupt::<EquipmentRequest>(v);
    let mut v = r;
    v["category"] = json!("jetpack");
    corrupt::<EquipmentRequest>(v);
}

#[test]
fn hostile_item_key_not_matching_item_id_is_refused() {
    let a = complete_assessment();
    let mut v = to_json(&a).unwrap();
    let id = a.sections.a.people_present[0].item_id.to_string();
    let p = v["sections"]["A"]["people_present"][&id].take();
    v["sections"]["A"]["people_present"] = json!({ Uuid::new_v4().to_string(): p });
    assert!(corrupt::<Assessment>(v).contains("does not match"));
}

#[test]
fn hostile_huge_list_is_refused() {
    let mut v = to_json(&complete_assessment()).unwrap();
    let mut people = serde_json::Map::new();
    for n in 0..=MAX_LIST_ITEMS as u128 {
        let id = Uuid::from_u128(n + 1);
        people.insert(
            id.to_string(),
            json!({"item_id": id, "added_at": "2026-03-15T10:00:00Z", "added_by": id}),
        );
    }
    v["sections"]["A"]["people_present"] = Value::Object(people);
    assert!(corrupt::<Assessment>(v).contains("longer than"));
}

#[test]
fn hostile_deep_nesting_is_refused_without_overflowing_the_stack() {
    // serde_json's own Value drops recursively, so a value far deeper than this cannot even
    // exist safely; 1,000 levels is well past the model's limit and past what serde's
    // flatten buffering should be asked to walk.
    let mut deep = json!(1);
    for _ in 0..1_000 {
        deep = json!({ "x": deep });
    }
    let mut v = to_json(&complete_ra()).unwrap();
    v["notes_from_peer"] = deep;
    assert!(corrupt::<RiskAssessment>(v).contains("deeper"));
}

#[test]
fn hostile_wrong_schema_is_refused() {
    let v = to_json(&complete_ra()).unwrap();
    assert!(corrupt::<Assessment>(v).contains("schema"));
    assert!(matches!(
        from_json::<RiskAssessment>(json!("just a string")),
        Err(Error::Corrupt { .. })
    ));
    assert!(matches!(
        from_json::<RiskAssessment>(json!(null)),
        Err(Error::Corrupt { .. })
    ));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z_:0-9-]{0,12}".prop_map(Value::String),
        Just(json!("2026-03-15")),
        Just(json!("hoist_mobile")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z0-9_-]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any value at any field of any form gives `Ok` or a typed error, never a panic.
    #[test]
    fn hostile_arbitrary_values_never_panic(field in 0usize..12, value in arb_json()) {
        let targets: [(&str, &[&str]); 12] = [
            ("ra", &["child_weight_kg"]),
            ("ra", &["tasks"]),
            ("ra", &["tileo"]),
            ("ra", &["lifting_equipment"]),
            ("ra", &["acks"]),
            ("a", &["sections", "A"]),
            ("a", &["sections", "A", "identity_checked"]),
            ("a", &["sections", "C", "areas"]),
            ("a", &["sections", "J", "addenda"]),
            ("r", &["measurements"]),
            ("r", &["transitions"]),
            ("r", &["items"]),
        ];
        let (kind, path) = targets[field];
        let mut v = match kind {
            "ra" => to_json(&complete_ra()).unwrap(),
            "a" => to_json(&complete_assessment()).unwrap(),
            _ => to_json(&request_with_log()).unwrap(),
        };
        let mut slot = &mut v;
        for p in path {
            slot = &mut slot[*p];
        }
        *slot = value;
        let ok = match kind {
            "ra" => from_json::<RiskAssessment>(v).map(|_| ()),
            "a" => from_json::<Assessment>(v).map(|_| ()),
            _ => from_json::<EquipmentRequest>(v).map(|_| ()),
        };
        if let Err(e) = ok {
            prop_assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        }
    }
}
