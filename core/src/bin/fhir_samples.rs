//! Writes FHIR export Bundles of representative records into a directory, for CI to validate
//! with an independent FHIR model library (`tests/fhir/validate_fhir.py`):
//!
//!     cargo run --locked -p homevisit-core --bin fhir_samples -- target/fhir-samples
//!
//! The records cover what the mapping distinguishes: a verified and an invalid NHS number;
//! forms in draft, awaiting countersignature, signed, amended and entered in error; an M&H
//! assessment with tasks, bands and controls; equipment requests in each status group.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use chrono::{NaiveDate, Utc};
use homevisit_core::{
    doc::FieldAmendment,
    fhir::{self, ChildRecords, ExportContext},
    model::{
        assessment::VisitLocation,
        common::Service,
        equipment::{Category, Status},
        user::{Actor, Role},
        visit::VisitOutcome,
    },
    records::{FieldValue, Records, SystemClock, VisitPlan, VisitResult},
    rules::{config::RulesConfig, workflow::TransitionInput},
    store::Store,
    Error, RecordId,
};
use serde_json::json;
use uuid::Uuid;

type R<T> = Result<T, Error>;

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fhir_samples OUT_DIR");
        return ExitCode::FAILURE;
    };
    match run(&out) {
        Ok(n) => {
            println!("fhir_samples: wrote {n} bundle(s) to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fhir_samples: {e}");
            ExitCode::FAILURE
        }
    }
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.to_owned())
}

fn run(out: &std::path::Path) -> R<usize> {
    std::fs::create_dir_all(out).map_err(|e| Error::Internal(e.to_string()))?;
    let db = out.join("samples.db");
    for f in ["samples.db", "samples.db-wal", "samples.db-shm"] {
        let _ = std::fs::remove_file(out.join(f));
    }
    let store = Arc::new(Store::create_new_plain_for_tests_and_demo(&db)?);
    let team = Uuid::new_v4();
    let today = Utc::now().date_naive();
    let user = |role: Role| {
        Records::new(
            store.clone(),
            Actor {
                user_id: Uuid::new_v4(),
                role,
                device_id: Uuid::new_v4(),
                team_id: team,
                hcpc_number: (role != Role::Ap).then(|| "OT123456".to_owned()),
                hcpc_verified_until: (role != Role::Ap).then_some(today + chrono::Days::new(365)),
            },
            RulesConfig::default(),
            Arc::new(SystemClock),
        )
    };
    let ot = user(Role::Ot);
    let ap = user(Role::Ap);
    let approver = user(Role::Approver);

    let mut bundles = 0;
    // Child 1: verified NHS number, every kind of record.
    let c1 = ot.create_child(
        "Amira",
        "Okafor",
        NaiveDate::from_ymd_opt(2016, 5, 14).unwrap_or(today),
    )?;
    ot.set_field(c1, "nhs_number", s("9434765919"))?;
    ot.set_field(c1, "nhs_number_verified", FieldValue::Bool(true))?;
    ot.set_field(c1, "gender", s("female"))?;
    ot.record_weight(c1, "32.4", today)?;
    let draft = ot.create_assessment(c1, Service::SocialCare)?;
    ot.set_field(draft, "sections.A.location", s("child_home"))?;
    ot.set_field(draft, "sections.D.entrance_steps.count", FieldValue::Int(3))?;
    ot.set_text(
        draft,
        "sections.B.presenting_concerns",
        "Difficulty with stairs",
    )?;
    // Visits (DOMAIN.md §3.7) export as Encounters: one seen (linked to its form), one not
    // brought, one planned.
    ot.record_visit(
        c1,
        &VisitPlan {
            planned_on: today,
            planned_time: None,
            place: VisitLocation::ChildHome,
            visitor_name: Some("A. Therapist".into()),
        },
        &VisitResult {
            outcome: VisitOutcome::Seen,
            reason: None,
            follow_up: None,
            assessment_id: Some(draft),
        },
    )?;
    ot.record_visit(
        c1,
        &VisitPlan {
            planned_on: today,
            planned_time: None,
            place: VisitLocation::ClinicRedgrave,
            visitor_name: None,
        },
        &VisitResult {
            outcome: VisitOutcome::WasNotBrought,
            reason: Some("Not brought to clinic".into()),
            follow_up: Some("Phoned the family; rebooked".into()),
            assessment_id: None,
        },
    )?;
    ot.plan_visit(
        c1,
        &VisitPlan {
            planned_on: today,
            planned_time: None,
            place: VisitLocation::School,
            visitor_name: None,
        },
    )?;
    let eie = ot.create_assessment(c1, Service::Health)?;
    ot.mark_entered_in_error(eie, "Filed under the wrong child")?;
    let ra_signed = ot.create_risk_assessment(c1)?;
    fill_risk_assessment(&ot, ra_signed, today)?;
    ack_all(&ot, ra_signed)?;
    ot.sign(ra_signed)?;
    ot.add_addendum(
        ra_signed,
        "A second carer is now available",
        &[FieldAmendment {
            path: "carers_available".into(),
            new_value: json!(3),
        }],
        "New information",
    )?;
    let ra_ap = ap.create_risk_assessment(c1)?;
    fill_risk_assessment(&ap, ra_ap, today)?;
    ack_all(&ap, ra_ap)?;
    ap.sign(ra_ap)?; // awaiting countersignature
    let ra_counter = ap.create_risk_assessment(c1)?;
    fill_risk_assessment(&ap, ra_counter, today)?;
    ack_all(&ap, ra_counter)?;
    ap.sign(ra_counter)?;
    ot.countersign(ra_counter)?;
    let mut requests = Vec::new();
    for (category, to) in [
        (Category::BathingAids, None),
        (Category::BathingAids, Some(Status::Submitted)),
        (Category::BathingAids, Some(Status::Approved)),
        (Category::BathingAids, Some(Status::Cancelled)),
    ] {
        let req = ap.create_equipment_request(c1, Service::Health, category)?;
        complete_bathing_request(&ap, req, today)?;
        if let Some(to) = to {
            ap.transition(req, Status::Submitted, TransitionInput::at(Utc::now()))?;
            match to {
                Status::Approved => {
                    approver.transition(req, Status::Approved, TransitionInput::at(Utc::now()))?;
                }
                Status::Cancelled => {
                    let mut input = TransitionInput::at(Utc::now());
                    input.reason = Some("No longer needed".into());
                    ap.transition(req, Status::Cancelled, input)?;
                }
                _ => {}
            }
        }
        requests.push(req);
    }
    bundles += export(
        &ot,
        c1,
        &[draft, eie],
        &[ra_signed, ra_ap, ra_counter],
        &requests,
        out,
    )?;

    // Child 2: an NHS number that fails CH-NHS-CHECK, no other records.
    let c2 = ot.create_child(
        "Sam",
        "Jones",
        NaiveDate::from_ymd_opt(2012, 1, 20).unwrap_or(today),
    )?;
    ot.set_field(c2, "nhs_number", s("9434765918"))?;
    bundles += export(&ot, c2, &[], &[], &[], out)?;
    store.close()?;
    Ok(bundles)
}

fn export(
    r: &Records,
    child: RecordId,
    assessments: &[RecordId],
    ras: &[RecordId],
    reqs: &[RecordId],
    out: &std::path::Path,
) -> R<usize> {
    let child_rec = r.typed(child)?;
    let a: Vec<_> = assessments
        .iter()
        .map(|id| r.typed(*id))
        .collect::<R<_>>()?;
    let ra: Vec<_> = ras.iter().map(|id| r.typed(*id)).collect::<R<_>>()?;
    let eq: Vec<_> = reqs.iter().map(|id| r.typed(*id)).collect::<R<_>>()?;
    let bundle = fhir::export_child(
        ChildRecords {
            child: &child_rec,
            assessments: &a,
            risk_assessments: &ra,
            equipment_requests: &eq,
        },
        &ExportContext {
            base_url: r.config().fhir_base_url.clone(),
            exported_at: Utc::now(),
            exported_by: r.actor().user_id,
            device_id: r.actor().device_id,
            purpose: "Validation sample".into(),
        },
    );
    let text = serde_json::to_string_pretty(&bundle).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(out.join(format!("bundle-{child}.json")), text)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(1)
}

fn ack_all(r: &Records, id: RecordId) -> R<()> {
    for w in r.validate(id, true)?.blocking {
        if !w.is_error() {
            r.acknowledge(id, &w.rule_id, &w.path, "Checked with the family")?;
        }
    }
    Ok(())
}

fn complete_bathing_request(r: &Records, req: RecordId, today: NaiveDate) -> R<()> {
    r.add_item(
        req,
        "items",
        match json!({ "description": "Bath seat", "quantity": 1 }) {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
    )?;
    r.set_text(
        req,
        "clinical_justification",
        "Cannot sit unsupported in the bath",
    )?;
    for (k, v) in [("weight_kg", 324), ("bath_rim_height_mm", 550)] {
        r.set_field(req, &format!("measurements.{k}.value"), FieldValue::Int(v))?;
        r.set_field(
            req,
            &format!("measurements.{k}.measured_on"),
            s(&today.to_string()),
        )?;
    }
    Ok(())
}

fn fill_risk_assessment(r: &Records, ra: RecordId, today: NaiveDate) -> R<()> {
    r.set_field(ra, "assessment_date", s(&today.to_string()))?;
    r.set_field(ra, "location", s("home"))?;
    r.set_field(ra, "avoidance_considered.decision", s("not_possible"))?;
    r.set_field(ra, "avoidance_considered.text", s("Cannot weight-bear"))?;
    r.set_field(ra, "child_weight_kg", FieldValue::Decimal("32.4".into()))?;
    r.set_field(ra, "child_weight_measured_on", s(&today.to_string()))?;
    r.set_field(ra, "child_height_cm", FieldValue::Decimal("138.5".into()))?;
    r.set_field(ra, "carers_available", FieldValue::Int(2))?;
    for i in [
        "T1", "T2", "T3", "T4", "I1", "I2", "I3", "I4", "L1", "L2", "L3", "L4", "L5", "E1", "E2",
        "E3", "E4", "O1", "O2", "O3",
    ] {
        r.set_field(ra, &format!("tileo.{i}.hazard_present"), s("no"))?;
    }
    let fields = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let task = r.add_item(
        ra,
        "tasks",
        fields(json!({ "from": "bed", "to": "wheelchair" })),
    )?;
    let t = format!("tasks.{task}");
    r.set_field(ra, &format!("{t}.method"), s("two_carers"))?;
    r.set_field(ra, &format!("{t}.carers_required"), FieldValue::Int(2))?;
    for (k, v) in [
        ("initial.likelihood", 3),
        ("initial.severity", 3),
        ("residual.likelihood", 2),
        ("residual.severity", 2),
    ] {
        r.set_field(ra, &format!("{t}.{k}"), FieldValue::Int(v))?;
    }
    r.add_item(
        ra,
        &format!("{t}.controls"),
        fields(json!({ "kind": "technique_training", "text": "Two carers trained" })),
    )?;
    r.set_field(
        ra,
        "review_due_on",
        s(&(today + chrono::Days::new(180)).to_string()),
    )?;
    r.set_field(ra, "task_stopped_pending_review", FieldValue::Bool(false))?;
    Ok(())
}
