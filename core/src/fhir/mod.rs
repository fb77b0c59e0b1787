//! FHIR R4 / UK Core export (DOMAIN.md §7): one Bundle per child, as pure functions over the
//! typed records producing JSON. No clock is read: the export instant is a parameter. CI checks
//! every resource with an independent FHIR model library (`tests/fhir/validate_fhir.py`).
//!
//! Rules: `FX-NHS-ID` (the NHS number identifier only when `CH-NHS-CHECK` passes, the
//! verification extension only when verified), `FX-UNITS` (UCUM quantities), `FX-EIE`
//! (entered-in-error records export only as `entered-in-error`), `FX-FINAL` (a form awaiting
//! countersignature is `in-progress`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use crate::{
    model::{
        assessment::{Assessment, VisitLocation},
        child::Child,
        common::{live, Item, RecordStatus, SignState, Signature},
        equipment::{EquipmentRequest, Status},
        risk::RiskAssessment,
        visit::{Visit, VisitOutcome},
    },
    rules::{
        dates::format_instant,
        mh::{band, score, Band},
        nhs, workflow,
    },
};

/// The NHS number identifier system (`FX-NHS-ID`).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const NHS_VERIFICATION_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
const NHS_VERIFICATION_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
const UCUM: &str = "http://unitsofmeasure.org";
const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";

/// Who exports, when and why (`RK-AUDIT`: exports record a purpose).
#[derive(Debug, Clone)]
pub struct ExportContext {
    /// Base URL of the local code systems and extensions (`fhir_base_url`, §9 Q10).
    pub base_url: String,
    /// The export instant (UTC).
    pub exported_at: DateTime<Utc>,
    /// The exporting user.
    pub exported_by: Uuid,
    /// The device exporting.
    pub device_id: Uuid,
    /// Why (required for exports).
    pub purpose: String,
}

/// A child's records to export.
#[derive(Debug, Clone, Copy)]
pub struct ChildRecords<'a> {
    /// The child.
    pub child: &'a Child,
    /// Home-visit forms.
    pub assessments: &'a [Assessment],
    /// M&H risk assessments.
    pub risk_assessments: &'a [RiskAssessment],
    /// Equipment requests.
    pub equipment_requests: &'a [EquipmentRequest],
}

fn code<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Json::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A decimal from integer tenths (`324` → `32.4`), as FHIR quantities want (`FX-UNITS`).
fn tenths(v: i64) -> Json {
    json!((v as f64) / 10.0)
}

fn patient_ref(child: &Child) -> Json {
    json!({ "reference": format!("Patient/{}", child.envelope.id) })
}

/// The `Patient` (UK Core) for a child (`FX-NHS-ID`).
pub fn patient(child: &Child) -> Json {
    let mut identifiers = Vec::new();
    if let Some(n) = child.nhs_number.as_deref() {
        if nhs::passes_check(n) {
            let mut id = Map::new();
            if child.nhs_number_verified {
                id.insert(
                    "extension".into(),
                    json!([{
                        "url": NHS_VERIFICATION_URL,
                        "valueCodeableConcept": { "coding": [{
                            "system": NHS_VERIFICATION_SYSTEM,
                            "code": "01",
                            "display": "Number present and verified" }] } }]),
                );
            }
            id.insert("system".into(), json!(NHS_NUMBER_SYSTEM));
            id.insert("value".into(), json!(nhs::normalise(n)));
            identifiers.push(Json::Object(id));
        }
    }
    let mut p = Map::new();
    p.insert("resourceType".into(), json!("Patient"));
    p.insert("id".into(), json!(child.envelope.id.to_string()));
    if !identifiers.is_empty() {
        p.insert("identifier".into(), Json::Array(identifiers));
    }
    p.insert(
        "active".into(),
        json!(child.envelope.record_status.is_active()),
    );
    let mut name = Map::new();
    if let Some(f) = child.family_name.as_deref() {
        name.insert("family".into(), json!(f));
    }
    if let Some(g) = child.given_name.as_deref() {
        name.insert("given".into(), json!([g]));
    }
    if !name.is_empty() {
        name.insert("use".into(), json!("official"));
        p.insert("name".into(), json!([name]));
    }
    if let Some(g) = &child.gender {
        p.insert("gender".into(), json!(code(g)));
    }
    if let Some(d) = child.date_of_birth {
        p.insert("birthDate".into(), json!(d.to_string()));
    }
    if let Some(d) = child.deceased_on {
        p.insert("deceasedDateTime".into(), json!(d.to_string()));
    }
    Json::Object(p)
}

/// A weight `Observation` (vital signs; LOINC 29463-7, SNOMED CT 27113001; UCUM kg).
pub fn weight_observation(child: &Child, id: Uuid, kg_tenths: i64, on: NaiveDate) -> Json {
    vital_sign(
        child,
        id,
        ("29463-7", "27113001", "Body weight"),
        "kg",
        kg_tenths,
        on,
    )
}

/// A height `Observation` (vital signs; LOINC 8302-2, SNOMED CT 50373000; UCUM cm).
pub fn height_observation(child: &Child, id: Uuid, cm_tenths: i64, on: NaiveDate) -> Json {
    vital_sign(
        child,
        id,
        ("8302-2", "50373000", "Body height"),
        "cm",
        cm_tenths,
        on,
    )
}

/// A vital-signs `Observation` of a value stored in integer tenths, in UCUM `unit`
/// (`FX-UNITS`).
fn vital_sign(
    child: &Child,
    id: Uuid,
    (loinc, snomed, display): (&str, &str, &str),
    unit: &str,
    value_tenths: i64,
    on: NaiveDate,
) -> Json {
    json!({
        "resourceType": "Observation",
        "id": id.to_string(),
        "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": "vital-signs" }] }],
        "code": { "coding": [
            { "system": LOINC, "code": loinc, "display": display },
            { "system": SNOMED, "code": snomed, "display": display } ] },
        "subject": patient_ref(child),
        "effectiveDateTime": on.to_string(),
        "valueQuantity": { "value": tenths(value_tenths), "unit": unit, "system": UCUM, "code": unit }
    })
}

/// The status of a form (`FX-FINAL`, `FX-EIE`): draft and awaiting countersignature →
/// `in-progress`; signed/countersigned → `completed`, or `amended` with addenda.
pub fn questionnaire_status(state: SignState, has_addenda: bool) -> &'static str {
    match state {
        SignState::EnteredInError => "entered-in-error",
        SignState::Draft | SignState::AwaitingCountersignature => "in-progress",
        SignState::Signed | SignState::Countersigned if has_addenda => "amended",
        SignState::Signed | SignState::Countersigned => "completed",
    }
}

/// Flattens a JSON value into `(linkId, leaf)` pairs, paths dotted.
fn leaves(prefix: &str, v: &Json, out: &mut Vec<(String, Json)>) {
    match v {
        Json::Object(m) => {
            for (k, c) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, c, out);
            }
        }
        Json::Array(a) => {
            for c in a {
                leaves(prefix, c, out);
            }
        }
        Json::Null => {}
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

fn answer(v: &Json) -> Option<Json> {
    match v {
        Json::Bool(b) => Some(json!({ "valueBoolean": b })),
        Json::Number(n) => n.as_i64().map(|i| json!({ "valueInteger": i })),
        Json::String(s) if !s.trim().is_empty() => Some(json!({ "valueString": s })),
        _ => None,
    }
}

/// The `QuestionnaireResponse` of a home-visit form: one item per answered field, `linkId` =
/// the field path under its section (`C.areas.dressing.level`).
pub fn questionnaire_response(child: &Child, a: &Assessment, base: &str) -> Json {
    let state = a.sign_state();
    let status = questionnaire_status(state, !a.sections.j.addenda.is_empty());
    let mut items = Vec::new();
    if let Ok(Json::Object(sections)) = serde_json::to_value(&a.sections) {
        for (section, v) in sections {
            if section == "J" {
                continue; // signatures go to Provenance
            }
            let mut pairs = Vec::new();
            leaves(&section, &v, &mut pairs);
            for (link, leaf) in pairs {
                if link.split('.').any(|s| {
                    matches!(
                        s,
                        "item_id" | "added_at" | "added_by" | "removed_at" | "removed_by"
                    )
                }) {
                    continue;
                }
                if let Some(ans) = answer(&leaf) {
                    items.push(json!({ "linkId": link, "answer": [ans] }));
                }
            }
        }
    }
    let mut r = json!({
        "resourceType": "QuestionnaireResponse",
        "id": a.envelope.id.to_string(),
        "questionnaire": format!("{base}/Questionnaire/home-visit-assessment|{}", a.envelope.schema_version),
        "status": status,
        "subject": patient_ref(child),
        "authored": format_instant(a.envelope.created_at),
    });
    if !items.is_empty() {
        r["item"] = Json::Array(items);
    }
    r
}

fn band_code(b: Band) -> &'static str {
    match b {
        Band::Low => "low",
        Band::Moderate => "moderate",
        Band::High => "high",
        Band::Extreme => "extreme",
    }
}

/// The `RiskAssessment` of an M&H assessment: a prediction per task with the residual band,
/// likelihood/severity/scores in a local extension, controls as mitigation, the weight
/// Observation as basis.
pub fn risk_assessment(
    child: &Child,
    ra: &RiskAssessment,
    weight_observation_id: Option<Uuid>,
    base: &str,
) -> Json {
    let state = ra.sign_state();
    let status = match state {
        SignState::EnteredInError => "entered-in-error",
        SignState::Draft | SignState::AwaitingCountersignature => "preliminary",
        SignState::Signed | SignState::Countersigned if !ra.addenda.is_empty() => "amended",
        SignState::Signed | SignState::Countersigned => "final",
    };
    let mut predictions = Vec::new();
    let mut mitigations = Vec::new();
    for task in live(&ra.tasks) {
        let t = &task.data;
        let label = format!(
            "{} → {} ({})",
            t.from.as_ref().map(code).unwrap_or_else(|| "?".into()),
            t.to.as_ref().map(code).unwrap_or_else(|| "?".into()),
            t.method.as_ref().map(code).unwrap_or_else(|| "?".into())
        );
        let rating = |r: &Option<crate::model::risk::RiskRating>| {
            r.as_ref()
                .and_then(|r| Some((r.likelihood?, r.severity?)))
                .and_then(|(l, s)| score(l, s).ok().map(|sc| (l, s, sc)))
        };
        let mut p = Map::new();
        p.insert("outcome".into(), json!({ "text": label }));
        let mut ext = Vec::new();
        for (name, r) in [
            ("initial", rating(&t.initial)),
            ("residual", rating(&t.residual)),
        ] {
            if let Some((l, s, sc)) = r {
                ext.push(json!({ "url": name, "extension": [
                    { "url": "likelihood", "valueInteger": l },
                    { "url": "severity", "valueInteger": s },
                    { "url": "score", "valueInteger": sc } ] }));
            }
        }
        if let Some((_, _, sc)) = rating(&t.residual) {
            if let Some(b) = band(sc) {
                p.insert(
                    "qualitativeRisk".into(),
                    json!({ "coding": [{ "system": format!("{base}/CodeSystem/mh-risk-band"),
                                          "code": band_code(b) }] }),
                );
            }
        }
        if !ext.is_empty() {
            p.insert(
                "extension".into(),
                json!([{ "url": format!("{base}/StructureDefinition/mh-risk-scores"),
                          "extension": ext }]),
            );
        }
        predictions.push(Json::Object(p));
        for c in live(&t.controls) {
            let text = c.data.text.clone().unwrap_or_default();
            let kind = c.data.kind.as_ref().map(code).unwrap_or_default();
            mitigations.push(format!("{label}: {kind} {text}").trim().to_owned());
        }
    }
    let mut r = json!({
        "resourceType": "RiskAssessment",
        "id": ra.envelope.id.to_string(),
        "status": status,
        "subject": patient_ref(child),
        "code": { "text": "Moving and handling risk assessment" },
    });
    if let Some(d) = ra.assessment_date {
        r["occurrenceDateTime"] = json!(d.to_string());
    }
    if let Some(id) = weight_observation_id {
        r["basis"] = json!([{ "reference": format!("Observation/{id}") }]);
    }
    if !predictions.is_empty() {
        r["prediction"] = Json::Array(predictions);
    }
    if !mitigations.is_empty() {
        r["mitigation"] = json!(mitigations.join("; "));
    }
    r
}

/// DeviceRequest `status` and `intent` for a workflow state (DOMAIN.md §7).
pub fn device_request_status(
    s: Option<Status>,
    entered_in_error: bool,
) -> (&'static str, &'static str) {
    if entered_in_error {
        return ("entered-in-error", "proposal");
    }
    let approved_or_later = matches!(
        s,
        Some(
            Status::Approved
                | Status::Ordered
                | Status::Delivered
                | Status::Installed
                | Status::Reviewed
                | Status::Returned
                | Status::Closed
                | Status::DfgApproved
        )
    );
    let status = match s {
        None | Some(Status::Draft) => "draft",
        Some(
            Status::Submitted
            | Status::Approved
            | Status::Ordered
            | Status::ReferredToDfg
            | Status::DfgApproved,
        ) => "active",
        Some(Status::InfoRequested) => "on-hold",
        Some(Status::Declined | Status::Cancelled | Status::DfgDeclined) => "revoked",
        Some(
            Status::Delivered
            | Status::Installed
            | Status::Reviewed
            | Status::Returned
            | Status::Closed,
        ) => "completed",
    };
    (
        status,
        if approved_or_later {
            "order"
        } else {
            "proposal"
        },
    )
}

/// The `DeviceRequest` of an equipment request; the exact workflow state in an extension.
pub fn device_request(child: &Child, req: &EquipmentRequest, base: &str) -> Json {
    let wf = workflow::status(req);
    let state = match wf {
        workflow::WorkflowStatus::At(s) => Some(s),
        _ => None,
    };
    let eie = !req.envelope.record_status.is_active();
    let (status, intent) = device_request_status(state, eie);
    let mut r = json!({
        "resourceType": "DeviceRequest",
        "id": req.envelope.id.to_string(),
        "status": status,
        "intent": intent,
        "codeCodeableConcept": {
            "coding": [{ "system": format!("{base}/CodeSystem/equipment-category"),
                          "code": req.category.as_ref().map(code).unwrap_or_else(|| "other".into()) }] },
        "subject": patient_ref(child),
        "extension": [{ "url": format!("{base}/StructureDefinition/equipment-workflow-state"),
                         "valueCode": wf.code() }],
    });
    if let Some(at) = req.requested_at {
        r["authoredOn"] = json!(format_instant(at));
    }
    if let Some(by) = req.requested_by {
        r["requester"] = json!({ "identifier": { "system": format!("{base}/Id/user"), "value": by.to_string() } });
    }
    if let Some(p) = &req.priority {
        r["priority"] = json!(code(p));
    }
    r
}

/// A `Provenance` for a signature (agent `author`) or countersignature (agent `verifier`).
pub fn provenance(target: &str, sig: &Signature, verifier: bool, base: &str) -> Json {
    let (code_, display) = if verifier {
        ("verifier", "Verifier")
    } else {
        ("author", "Author")
    };
    let id = derived_id(&format!("{target}|{code_}|{}", sig.signed_at.timestamp()));
    json!({
        "resourceType": "Provenance",
        "id": id.to_string(),
        "target": [{ "reference": target }],
        "recorded": format_instant(sig.signed_at),
        "agent": [{
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                    "code": code_, "display": display }] },
            "who": { "identifier": { "system": format!("{base}/Id/user"), "value": sig.user_id.to_string() } }
        }]
    })
}

/// The `AuditEvent` of the export itself (`RK-AUDIT`; DICOM 110106 Export).
pub fn export_audit_event(child: &Child, ctx: &ExportContext) -> Json {
    let id = derived_id(&format!(
        "export|{}|{}",
        child.envelope.id,
        ctx.exported_at.timestamp()
    ));
    json!({
        "resourceType": "AuditEvent",
        "id": id.to_string(),
        "type": { "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110106", "display": "Export" },
        "action": "R",
        "recorded": format_instant(ctx.exported_at),
        "outcome": "0",
        "purposeOfEvent": [{ "text": ctx.purpose }],
        "agent": [{
            "who": { "identifier": { "system": format!("{}/Id/user", ctx.base_url), "value": ctx.exported_by.to_string() } },
            "requestor": true
        }],
        "source": { "observer": { "identifier": { "system": format!("{}/Id/device", ctx.base_url),
                                                   "value": ctx.device_id.to_string() } } },
        "entity": [{
            "what": patient_ref(child),
            "type": { "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110", "display": "Patient Record" }
        }]
    })
}

fn entry(resource: Json) -> Json {
    let id = resource["id"].as_str().unwrap_or_default().to_owned();
    json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource })
}

/// A stable UUID derived from `parts` (SHA-256, version 4 layout), so exports are
/// deterministic: the same record exported twice gives the same resource ids.
fn derived_id(parts: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(parts.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// A visit on the child record (DOMAIN.md §3.7) as an R4 `Encounter`: seen → `finished`,
/// no access / was not brought / cancelled → `cancelled`, no outcome yet → `planned`; class
/// `HH` (home health) at the child's home, else `AMB`; the exact outcome in the local code
/// system `<base>/CodeSystem/visit-outcome`, the reason a child was not seen in
/// `<base>/StructureDefinition/visit-not-seen-reason`; a seen visit's assessment as
/// `QuestionnaireResponse` in `extension` `<base>/StructureDefinition/visit-assessment`.
pub fn encounter(child: &Child, visit: &Item<Visit>, base: &str) -> Json {
    let v = &visit.data;
    let status = match v.outcome {
        None => "planned",
        Some(VisitOutcome::Seen) => "finished",
        Some(_) => "cancelled",
    };
    let (class_code, class_display) = if v.place == Some(VisitLocation::ChildHome) {
        ("HH", "home health")
    } else {
        ("AMB", "ambulatory")
    };
    let mut extensions = Vec::new();
    if let Some(o) = v.outcome {
        extensions.push(json!({
            "url": format!("{base}/StructureDefinition/visit-outcome"),
            "valueCoding": {
                "system": format!("{base}/CodeSystem/visit-outcome"),
                "code": code(&o),
                "display": crate::rules::visits::outcome_label(o),
            }
        }));
    }
    if let Some(r) = v.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        extensions.push(json!({
            "url": format!("{base}/StructureDefinition/visit-not-seen-reason"),
            "valueString": r,
        }));
    }
    if let Some(a) = v.assessment_id {
        extensions.push(json!({
            "url": format!("{base}/StructureDefinition/visit-assessment"),
            "valueReference": { "reference": format!("QuestionnaireResponse/{a}") },
        }));
    }
    let mut e = Map::new();
    e.insert("resourceType".into(), json!("Encounter"));
    e.insert("id".into(), json!(visit.item_id.to_string()));
    if !extensions.is_empty() {
        e.insert("extension".into(), Json::Array(extensions));
    }
    e.insert("status".into(), json!(status));
    e.insert(
        "class".into(),
        json!({
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": class_code,
            "display": class_display,
        }),
    );
    e.insert("subject".into(), patient_ref(child));
    if let Some(on) = v.planned_on {
        e.insert("period".into(), json!({ "start": on.to_string() }));
    }
    Json::Object(e)
}

/// Whether a record is entered in error (`FX-EIE`).
fn eie(status: &RecordStatus) -> bool {
    !status.is_active()
}

/// One Bundle (type `collection`) for a child and their records (DOMAIN.md §7).
pub fn export_child(records: ChildRecords<'_>, ctx: &ExportContext) -> Json {
    let child = records.child;
    let base = ctx.base_url.as_str();
    let mut entries = vec![entry(patient(child))];
    let weights: Vec<&Item<crate::model::child::WeightEntry>> = live(&child.weights).collect();
    for w in &weights {
        entries.push(entry(weight_observation(
            child,
            w.item_id,
            w.data.value_kg,
            w.data.measured_on,
        )));
    }
    let latest_weight = weights
        .iter()
        .max_by_key(|w| w.data.measured_on)
        .map(|w| w.item_id);
    for v in live(&child.visits) {
        entries.push(entry(encounter(child, v, base)));
    }
    for a in records.assessments {
        let target = format!("QuestionnaireResponse/{}", a.envelope.id);
        entries.push(entry(questionnaire_response(child, a, base)));
        if !eie(&a.envelope.record_status) {
            if let Some(s) = &a.sections.j.signature {
                entries.push(entry(provenance(&target, s, false, base)));
            }
            if let Some(s) = &a.sections.j.countersignature {
                entries.push(entry(provenance(&target, s, true, base)));
            }
        }
    }
    for ra in records.risk_assessments {
        let target = format!("RiskAssessment/{}", ra.envelope.id);
        if let (Some(cm), Some(on)) = (ra.child_height_cm, ra.assessment_date) {
            let id = derived_id(&format!("height|{}", ra.envelope.id));
            entries.push(entry(height_observation(child, id, cm, on)));
        }
        entries.push(entry(risk_assessment(child, ra, latest_weight, base)));
        if !eie(&ra.envelope.record_status) {
            if let Some(s) = &ra.signature {
                entries.push(entry(provenance(&target, s, false, base)));
            }
            if let Some(s) = &ra.countersignature {
                entries.push(entry(provenance(&target, s, true, base)));
            }
        }
    }
    for req in records.equipment_requests {
        entries.push(entry(device_request(child, req, base)));
    }
    entries.push(entry(export_audit_event(child, ctx)));
    json!({
        "resourceType": "Bundle",
        "id": derived_id(&format!("bundle|{}|{}", child.envelope.id, ctx.exported_at.timestamp())).to_string(),
        "type": "collection",
        "timestamp": format_instant(ctx.exported_at),
        "entry": entries,
    })
}
