//! The FHIR R4 / UK Core export (DOMAIN.md §7) over records made through the record service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    fhir::{self, ChildRecords, ExportContext},
    model::{
        child::Child,
        common::{Service, SignState},
        equipment::{Category, EquipmentRequest, Status},
        risk::RiskAssessment,
        user::{Actor, Role},
    },
    records::{Clock, FieldValue, Records},
    rules::config::RulesConfig,
    store::Store,
    RecordId,
};
use serde_json::{json, Value as Json};
use uuid::Uuid;

#[derive(Debug)]
struct FixedClock(Mutex<DateTime<Utc>>);
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    team: Uuid,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(Store::create_new_plain_for_tests_and_demo(dir.path().join("s.db")).unwrap());
        Self {
            _dir: dir,
            store,
            team: Uuid::new_v4(),
        }
    }
    fn user(&self, role: Role) -> Records {
        let actor = Actor {
            user_id: Uuid::new_v4(),
            role,
            device_id: Uuid::new_v4(),
            team_id: self.team,
            hcpc_number: (role != Role::Ap).then(|| "OT1".to_owned()),
            hcpc_verified_until: (role != Role::Ap).then(|| d("2030-01-01")),
        };
        let clock = Arc::new(FixedClock(Mutex::new(
            "2026-03-15T10:00:00Z".parse().unwrap(),
        )));
        Records::new(self.store.clone(), actor, RulesConfig::default(), clock)
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ctx() -> ExportContext {
    ExportContext {
        base_url: "https://fhir.homevisit.example".into(),
        exported_at: "2026-03-16T09:00:00Z".parse().unwrap(),
        exported_by: Uuid::new_v4(),
        device_id: Uuid::new_v4(),
        purpose: "Transfer of care".into(),
    }
}

fn child_with(r: &Records, nhs: &str, verified: bool) -> RecordId {
    let c = r.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    r.set_field(c, "nhs_number", FieldValue::Str(nhs.into()))
        .unwrap();
    r.set_field(c, "nhs_number_verified", FieldValue::Bool(verified))
        .unwrap();
    r.set_field(c, "gender", FieldValue::Str("female".into()))
        .unwrap();
    c
}

#[test]
fn fx_nhs_id_verified_number_exports_exactly_as_domain_example() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "9434765919", true);
    let child: Child = ot.typed(c).unwrap();
    let p = fhir::patient(&child);
    assert_eq!(
        p["identifier"],
        json!([{
            "extension": [{
                "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                "valueCodeableConcept": { "coding": [{
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                    "code": "01", "display": "Number present and verified" }] } }],
            "system": "https://fhir.nhs.uk/Id/nhs-number",
            "value": "9434765919" }])
    );
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["gender"], "female");
    assert_eq!(p["birthDate"], "2016-05-14");
}

#[test]
fn fx_nhs_id_unverified_number_has_no_verification_extension() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "943 476 5919", false);
    let p = fhir::patient(&ot.typed(c).unwrap());
    assert_eq!(
        p["identifier"],
        json!([{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" }])
    );
}

#[test]
fn fx_nhs_id_number_failing_ch_nhs_check_is_not_exported() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    for bad in ["9434765918", "1234567890"] {
        let c = child_with(&ot, bad, true);
        let p = fhir::patient(&ot.typed(c).unwrap());
        assert!(p.get("identifier").is_none(), "{bad}: {p}");
    }
}

#[test]
fn fx_units_weight_observation_matches_domain_example() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "9434765919", true);
    ot.record_weight(c, "32.4", d("2026-03-02")).unwrap();
    let child: Child = ot.typed(c).unwrap();
    let item = &child.weights[0];
    let mut o = fhir::weight_observation(
        &child,
        item.item_id,
        item.data.value_kg,
        item.data.measured_on,
    );
    o.as_object_mut().unwrap().remove("id");
    assert_eq!(
        o,
        json!({ "resourceType": "Observation",
          "status": "final",
          "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                       "code": "vital-signs" }] }],
          "code": { "coding": [
              { "system": "http://loinc.org", "code": "29463-7", "display": "Body weight" },
              { "system": "http://snomed.info/sct", "code": "27113001", "display": "Body weight" } ] },
          "subject": { "reference": format!("Patient/{c}") },
          "effectiveDateTime": "2026-03-02",
          "valueQuantity": { "value": 32.4, "unit": "kg",
                             "system": "http://unitsofmeasure.org", "code": "kg" } })
    );
    // FX-UNITS: height in UCUM cm from integer tenths.
    let h = fhir::height_observation(&child, Uuid::new_v4(), 1385, d("2026-03-02"));
    assert_eq!(
        h["valueQuantity"],
        json!({ "value": 138.5, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm" })
    );
}

#[test]
fn fx_final_form_awaiting_countersignature_exports_in_progress() {
    assert_eq!(
        fhir::questionnaire_status(SignState::Draft, false),
        "in-progress"
    );
    assert_eq!(
        fhir::questionnaire_status(SignState::AwaitingCountersignature, false),
        "in-progress"
    );
    assert_eq!(
        fhir::questionnaire_status(SignState::Signed, false),
        "completed"
    );
    assert_eq!(
        fhir::questionnaire_status(SignState::Countersigned, false),
        "completed"
    );
    assert_eq!(
        fhir::questionnaire_status(SignState::Signed, true),
        "amended"
    );
    assert_eq!(
        fhir::questionnaire_status(SignState::EnteredInError, false),
        "entered-in-error"
    );
}

#[test]
fn fx_eie_entered_in_error_records_export_only_as_entered_in_error() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "9434765919", true);
    let ra = ot.create_risk_assessment(c).unwrap();
    let req = ot
        .create_equipment_request(c, Service::Health, Category::BathingAids)
        .unwrap();
    ot.mark_entered_in_error(ra, "Filed under the wrong child")
        .unwrap();
    ot.mark_entered_in_error(req, "Duplicate").unwrap();
    let child: Child = ot.typed(c).unwrap();
    let ra: RiskAssessment = ot.typed(ra).unwrap();
    let req: EquipmentRequest = ot.typed(req).unwrap();
    let base = "https://fhir.homevisit.example";
    assert_eq!(
        fhir::risk_assessment(&child, &ra, None, base)["status"],
        "entered-in-error"
    );
    assert_eq!(
        fhir::device_request(&child, &req, base)["status"],
        "entered-in-error"
    );
}

#[test]
fn device_request_status_and_intent_follow_domain_table() {
    use Status::*;
    let table = [
        (Draft, "draft", "proposal"),
        (Submitted, "active", "proposal"),
        (InfoRequested, "on-hold", "proposal"),
        (Approved, "active", "order"),
        (Ordered, "active", "order"),
        (ReferredToDfg, "active", "proposal"),
        (DfgApproved, "active", "order"),
        (Declined, "revoked", "proposal"),
        (Cancelled, "revoked", "proposal"),
        (DfgDeclined, "revoked", "proposal"),
        (Delivered, "completed", "order"),
        (Installed, "completed", "order"),
        (Reviewed, "completed", "order"),
        (Returned, "completed", "order"),
        (Closed, "completed", "order"),
    ];
    for (s, status, intent) in table {
        assert_eq!(
            fhir::device_request_status(Some(s), false),
            (status, intent),
            "{s:?}"
        );
    }
}

#[test]
fn bundle_holds_patient_observations_forms_requests_provenance_and_the_export_audit_event() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "9434765919", true);
    ot.record_weight(c, "32.4", d("2026-03-02")).unwrap();
    let a = ot.create_assessment(c, Service::SocialCare).unwrap();
    ot.set_field(a, "sections.D.entrance_steps.count", FieldValue::Int(3))
        .unwrap();
    let req = ot
        .create_equipment_request(c, Service::Health, Category::SpecialistSeating)
        .unwrap();
    let child: Child = ot.typed(c).unwrap();
    let assessments = vec![ot.typed(a).unwrap()];
    let requests = vec![ot.typed::<EquipmentRequest>(req).unwrap()];
    let bundle = fhir::export_child(
        ChildRecords {
            child: &child,
            assessments: &assessments,
            risk_assessments: &[],
            equipment_requests: &requests,
        },
        &ctx(),
    );
    let types: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Patient",
            "Observation",
            "QuestionnaireResponse",
            "DeviceRequest",
            "AuditEvent"
        ]
    );
    let qr = &bundle["entry"][2]["resource"];
    assert_eq!(qr["status"], "in-progress");
    assert!(qr["item"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["linkId"] == "D.entrance_steps.count" && i["answer"][0]["valueInteger"] == 3));
    let audit = &bundle["entry"][4]["resource"];
    assert_eq!(audit["type"]["code"], "110106");
    assert_eq!(audit["entity"][0]["type"]["code"], "110110");
    // Deterministic: the same export twice is the same JSON.
    let again = fhir::export_child(
        ChildRecords {
            child: &child,
            assessments: &assessments,
            risk_assessments: &[],
            equipment_requests: &requests,
        },
        &ExportContext {
            exported_by: audit_user(audit),
            device_id: audit_device(audit),
            ..ctx()
        },
    );
    assert_eq!(again["entry"][0], bundle["entry"][0]);
}

fn audit_user(audit: &Json) -> Uuid {
    audit["agent"][0]["who"]["identifier"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn audit_device(audit: &Json) -> Uuid {
    audit["source"]["observer"]["identifier"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn visits_export_as_encounters_seen_finished_not_brought_cancelled_planned_planned() {
    use homevisit_core::{
        model::{assessment::VisitLocation, visit::VisitOutcome},
        records::{VisitPlan, VisitResult},
    };
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = child_with(&ot, "9434765919", true);
    let a = ot.create_assessment(c, Service::Health).unwrap();
    let plan = |place| VisitPlan {
        planned_on: d("2026-03-02"),
        planned_time: None,
        place,
        visitor_name: None,
    };
    let seen = VisitResult {
        outcome: VisitOutcome::Seen,
        reason: None,
        follow_up: None,
        assessment_id: Some(a),
    };
    let not_brought = VisitResult {
        outcome: VisitOutcome::WasNotBrought,
        reason: Some("Not brought to clinic".into()),
        follow_up: Some("Rebooked".into()),
        assessment_id: None,
    };
    ot.record_visit(c, &plan(VisitLocation::ChildHome), &seen)
        .unwrap();
    ot.record_visit(c, &plan(VisitLocation::ClinicRedgrave), &not_brought)
        .unwrap();
    ot.plan_visit(c, &plan(VisitLocation::School)).unwrap();
    let child: Child = ot.typed(c).unwrap();
    let bundle = fhir::export_child(
        ChildRecords {
            child: &child,
            assessments: &[],
            risk_assessments: &[],
            equipment_requests: &[],
        },
        &ctx(),
    );
    let encounters: Vec<&Json> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Encounter")
        .collect();
    // Visits recorded in the same instant are listed by item id: find each by its status.
    let mut got: Vec<(&str, &str)> = encounters
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["class"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("cancelled", "AMB"), ("finished", "HH"), ("planned", "AMB")]
    );
    let by_status = |status: &str| {
        *encounters
            .iter()
            .find(|e| e["status"] == status)
            .unwrap_or_else(|| panic!("no {status} encounter"))
    };
    let patient = bundle["entry"][0]["resource"]["id"]
        .as_str()
        .map(|id| json!({"reference": format!("Patient/{id}")}))
        .unwrap();
    for e in &encounters {
        assert_eq!(e["subject"], patient);
    }
    assert!(by_status("finished")["extension"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["valueReference"]["reference"] == format!("QuestionnaireResponse/{a}")));
    assert!(by_status("cancelled")["extension"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["valueCoding"]["code"] == "was_not_brought"));
    assert_eq!(by_status("planned")["period"]["start"], "2026-03-02");
}
