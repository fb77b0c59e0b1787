//! Reports as PDF (docs/REPORTS.md; DOMAIN.md §4 `RK-REPORT`, `RK-REPORT-STATE`,
//! `RK-REPORT-SHARE`, `RK-AUDIT`, `CF-BLOCK`): the rules every report keeps, checked on the
//! text each page sets (`report::page_texts`, the same layout `render` typesets) and on the
//! PDF bytes. The CI suite .ci/suites/35-reports.sh checks the same rules with pdftotext on
//! the rendered files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        assessment::Assessment,
        common::{from_json, Schema},
        user::{Actor, Role},
    },
    records::{Clock, FieldValue, Records},
    report::{
        page_texts, render, samples, People, Producer, Report, ReportInput, ReportKind,
        ReportPurpose, Subject,
    },
    rules::{config::RulesConfig, record_keeping::AuditAction},
    store::Store,
    Error, RecordId,
};
use uuid::Uuid;

fn config() -> RulesConfig {
    RulesConfig::default()
}

/// Renders `subject` for `purpose` and returns the report with each page's text.
fn run(subject: Subject<'_>, purpose: ReportPurpose) -> (Report, Vec<String>) {
    let child = samples::child();
    let people = samples::people();
    let producer = samples::producer(purpose);
    let config = config();
    let input = ReportInput {
        child: &child,
        subject,
        open_conflicts: &[],
        people: &people,
        producer: &producer,
        config: &config,
        media: &homevisit_core::report::ReportMedia::default(),
    };
    let report = render(&input).unwrap();
    let pages = page_texts(&input).unwrap();
    (report, pages)
}

fn all_samples() -> Vec<(&'static str, Report, Vec<String>)> {
    let visit = samples::visit_signed();
    let draft = samples::visit_draft();
    let plan = samples::handling_plan_signed();
    let eie = samples::handling_plan_entered_in_error();
    let req = samples::equipment_request();
    let lines = samples::record_lines();
    let hostile = samples::visit_hostile();
    let mut v = Vec::new();
    for (name, subject) in [
        ("visit", Subject::Visit(&visit)),
        ("draft", Subject::Visit(&draft)),
        ("plan", Subject::HandlingPlan(&plan)),
        ("eie", Subject::HandlingPlan(&eie)),
        (
            "equipment",
            Subject::Equipment {
                request: &req,
                risk_assessment: Some(&plan),
            },
        ),
        ("summary", Subject::ChildSummary(&lines)),
        ("hostile", Subject::Visit(&hostile)),
    ] {
        let (r, p) = run(subject, ReportPurpose::Family);
        v.push((name, r, p));
    }
    v
}

/// The pages' text as one string, lines joined by spaces: wrapping breaks lines at spaces,
/// so a wrapped sentence reads whole again.
fn flat(pages: &[String]) -> String {
    pages.join(" ").replace('\n', " ")
}

/// Number of page objects in a PDF (`/Type/Page`, not `/Pages`, as krilla writes them).
fn pdf_pages(pdf: &[u8]) -> usize {
    let s = String::from_utf8_lossy(pdf);
    s.matches("/Type/Page").count() - s.matches("/Type/Pages").count()
}

#[test]
fn rk_report_every_page_shows_name_dob_nhs_number_and_page_n_of_n() {
    for (name, report, pages) in all_samples() {
        assert!(report.pdf.starts_with(b"%PDF-"), "{name}");
        assert_eq!(pages.len(), report.page_count as usize, "{name}");
        assert_eq!(pdf_pages(&report.pdf), pages.len(), "{name}");
        let n = pages.len();
        for (i, p) in pages.iter().enumerate() {
            assert!(
                p.contains("Zoë Ó Dálaigh-Łukasiewicz"),
                "{name} page {}",
                i + 1
            );
            assert!(p.contains("Born 14 May 2016"), "{name} page {}", i + 1);
            assert!(p.contains("NHS No. 943 476 5919"), "{name} page {}", i + 1);
            assert!(
                p.contains(&format!("Page {} of {n}", i + 1)),
                "{name} page {}",
                i + 1
            );
            assert!(
                p.contains(
                    "Produced by Priya Raman (Occupational therapist) on 20 Mar 2026, 14:05 GMT"
                ),
                "{name} page {}: {p}",
                i + 1
            );
        }
    }
}

#[test]
fn rk_report_values_print_in_clinical_units_never_stored_integers() {
    let plan = samples::handling_plan_signed();
    let req = samples::equipment_request();
    let visit = samples::visit_signed();
    let (_, p1) = run(Subject::HandlingPlan(&plan), ReportPurpose::ShareCarers);
    let (_, p2) = run(
        Subject::Equipment {
            request: &req,
            risk_assessment: Some(&plan),
        },
        ReportPurpose::Family,
    );
    let (_, p3) = run(Subject::Visit(&visit), ReportPurpose::Family);
    let plan_text = flat(&p1);
    let req_text = flat(&p2);
    let visit_text = flat(&p3);
    assert!(
        plan_text.contains("32.4 kg, measured on 2 Mar 2026"),
        "{plan_text}"
    );
    assert!(plan_text.contains("safe working load 182.0 kg"));
    assert!(plan_text.contains("safe working load 150.0 kg"));
    assert!(plan_text.contains("138.5 cm"));
    assert!(
        req_text.contains("450 mm, taken on 2 Mar 2026"),
        "{req_text}"
    );
    assert!(req_text.contains("280 mm"));
    assert!(req_text.contains("£2,450.00"));
    assert!(visit_text.contains("690 mm clear width"));
    assert!(visit_text.contains("15°"));
    for text in [&plan_text, &req_text, &visit_text] {
        for stored in ["324", "1820", "1500", "1385", "245000"] {
            let bare = text
                .split(|c: char| !c.is_ascii_digit())
                .any(|tok| tok == stored);
            assert!(!bare, "stored value {stored} printed bare");
        }
    }
}

#[test]
fn rk_report_handling_plan_shows_each_task_risk_bands_controls_and_loler_dates() {
    let plan = samples::handling_plan_signed();
    let (_, pages) = run(Subject::HandlingPlan(&plan), ReportPurpose::ShareCarers);
    let t = flat(&pages);
    for expected in [
        "Task 1: bed to wheelchair",
        "Task 2: wheelchair to bath",
        "Hoist mobile",
        "Likelihood 4 × severity 4 = 16: Extreme risk",
        "Likelihood 2 × severity 3 = 6: Moderate risk",
        "Likelihood 2 × severity 2 = 4: Moderate risk",
        "Two carers for every bath transfer.",
        "size: Medium (M)",
        "Last thorough examination",
        "10 Jan 2026",
        "10 Jul 2026",
        "Overall risk after controls",
    ] {
        assert!(t.contains(expected), "missing {expected:?}");
    }
}

#[test]
fn rk_report_state_signed_record_shows_signer_role_hcpc_and_countersignature() {
    let visit = samples::visit_signed();
    let (_, pages) = run(Subject::Visit(&visit), ReportPurpose::Family);
    let t = flat(&pages);
    assert!(
        t.contains("Tomasz Wiśniewski — Assistant practitioner, not HCPC-registered"),
        "{t}"
    );
    assert!(t.contains("15 Mar 2026, 12:00 GMT"));
    assert!(t.contains(&format!(
        "Priya Raman — Occupational therapist, HCPC number {}",
        samples::OT_HCPC
    )));
    assert!(t.contains("Countersigned on"));
    assert!(!t.contains("DRAFT — not signed"));
    assert!(!t.contains("ENTERED IN ERROR"));
}

#[test]
fn rk_report_state_draft_is_marked_on_every_page() {
    let draft = samples::visit_hostile();
    let (report, pages) = run(Subject::Visit(&draft), ReportPurpose::Family);
    assert!(report.page_count > 10, "{}", report.page_count);
    for (i, p) in pages.iter().enumerate() {
        assert!(p.contains("DRAFT — not signed"), "page {}", i + 1);
    }
}

#[test]
fn rk_report_state_entered_in_error_is_marked_on_every_page_with_the_reason() {
    let eie = samples::handling_plan_entered_in_error();
    let (_, pages) = run(Subject::HandlingPlan(&eie), ReportPurpose::ShareCarers);
    for p in &pages {
        assert!(p.contains("ENTERED IN ERROR"));
    }
    let t = flat(&pages);
    assert!(
        t.contains("Reason: Written in the wrong child's record"),
        "{t}"
    );
    assert!(t.contains("19 Mar 2026, 08:15 GMT"));
}

#[test]
fn rk_report_state_addenda_follow_in_order_with_reasons_and_amended_values() {
    let mut visit = samples::visit_signed();
    let mut second = visit.sections.j.addenda[0].clone();
    second.item_id = Uuid::new_v4();
    second.added_at += chrono::Duration::days(1);
    second.data.at += chrono::Duration::days(1);
    second.data.reason = "Second reason".into();
    second.data.field_changes.clear();
    visit.sections.j.addenda.push(second);
    let (_, pages) = run(Subject::Visit(&visit), ReportPurpose::Family);
    let t = flat(&pages);
    let first = t
        .find("Addendum 1 — 18 Mar 2026, 15:00 GMT, Priya Raman")
        .unwrap();
    let next = t.find("Addendum 2 — 19 Mar 2026, 15:00 GMT").unwrap();
    assert!(first < next);
    assert!(t.contains("Measurement corrected after a second visit"));
    assert!(t.contains("Second reason"));
    assert!(
        t.contains("180 mm (as signed) → 195 mm (from this addendum)"),
        "{t}"
    );
}

#[test]
fn rk_report_share_address_and_safeguarding_only_in_internal_reports() {
    let visit = samples::visit_signed();
    let lines = samples::record_lines();
    let (_, fam) = run(Subject::Visit(&visit), ReportPurpose::Family);
    let (_, own) = run(Subject::Visit(&visit), ReportPurpose::ClinicalRecord);
    assert!(!flat(&fam).contains("SG-2026-0117"));
    assert!(flat(&own).contains("Yes, reference SG-2026-0117"));
    let (_, fam) = run(Subject::ChildSummary(&lines), ReportPurpose::Gp);
    let (_, own) = run(Subject::ChildSummary(&lines), ReportPurpose::ClinicalRecord);
    assert!(!flat(&fam).contains("LU3 1HU"));
    assert!(flat(&own).contains("LU3 1HU"));
    let t = flat(&fam);
    assert!(t.contains("Large dog in the house"));
    assert!(t.contains("Home visit 15 Mar 2026"));
    assert!(t.contains("Countersigned"));
}

#[test]
fn rk_report_hostile_text_renders_wrapped_without_panic_or_lost_characters() {
    let hostile = samples::visit_hostile();
    let (report, pages) = run(Subject::Visit(&hostile), ReportPurpose::Family);
    assert!(report.pdf.ends_with(b"%%EOF\n") || report.pdf.ends_with(b"%%EOF"));
    let t = flat(&pages);
    assert!(t.contains("مرحبا"));
    assert!(t.contains("שלום"));
    assert!(t.contains(r"<script>alert(1)</script> 100% \(escaped\)"));
    // Emoji the font lacks print as U+FFFD, visibly, not dropped.
    assert!(t.contains('\u{FFFD}'));
    // The 100,000-character note is all there, wrapped across pages.
    let sentence = "Zoë managed the transfer well today with two carers; ";
    let expected = 100_000 / sentence.chars().count();
    let count: usize = pages.iter().map(|p| p.matches("managed").count()).sum();
    assert!(count >= expected, "{count} < {expected}");
    // No page is overfull: the layout keeps lines within the body (unit-tested in
    // report::layout); here, every page has at most as many lines as fit.
    for p in &pages {
        assert!(p.lines().count() < 90, "{}", p.lines().count());
    }
}

#[test]
fn cf_block_render_refuses_a_record_with_an_open_conflict() {
    let child = samples::child();
    let people = samples::people();
    let producer = samples::producer(ReportPurpose::Family);
    let config = config();
    let visit = samples::visit_signed();
    let conflicts = vec!["sections.F.carers_required".to_owned()];
    let r = render(&ReportInput {
        child: &child,
        subject: Subject::Visit(&visit),
        open_conflicts: &conflicts,
        people: &people,
        producer: &producer,
        config: &config,
        media: &homevisit_core::report::ReportMedia::default(),
    });
    assert!(
        matches!(&r, Err(Error::Conflict { paths }) if paths == &conflicts),
        "{r:?}"
    );
}

// -- the device path: Records::report --------------------------------------------------------

#[derive(Debug)]
struct FixedClock(Mutex<DateTime<Utc>>);
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ot_actor(team: Uuid) -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: team,
        hcpc_number: Some("OT99881".into()),
        hcpc_verified_until: Some(d("2030-01-01")),
    }
}

fn records(store: Arc<Store>, actor: Actor) -> Records {
    let clock = Arc::new(FixedClock(Mutex::new(
        "2026-07-01T08:30:00Z".parse().unwrap(),
    )));
    Records::new(store, actor, config(), clock)
}

#[test]
fn rk_audit_producing_a_report_writes_the_print_entry_with_its_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(Store::create_new_plain_for_tests_and_demo(dir.path().join("s.db")).unwrap());
    let actor = ot_actor(Uuid::new_v4());
    let r = records(store, actor.clone());
    let c = r.create_child("Zoë", "Ó Dálaigh", d("2016-05-14")).unwrap();
    r.set_field(c, "nhs_number", FieldValue::Str("9434765919".into()))
        .unwrap();
    let a = r
        .create_assessment(c, homevisit_core::model::common::Service::Health)
        .unwrap();
    let people = People::new([(actor.user_id, "Priya Raman".to_owned())]);
    let report = r.report(a, ReportPurpose::Gp, &people).unwrap();
    assert_eq!(report.kind, ReportKind::VisitReport);
    assert!(report.pdf.starts_with(b"%PDF-"));
    assert!(
        report.file_name.starts_with("visit-report-"),
        "{}",
        report.file_name
    );
    assert!(!report.file_name.contains("Zo"), "no name in the file name");
    let log = r.audit_log(a).unwrap();
    let prints: Vec<_> = log
        .iter()
        .filter(|e| e.entry.action == AuditAction::Print)
        .collect();
    assert_eq!(prints.len(), 1, "{log:?}");
    assert_eq!(
        prints[0].entry.purpose.as_deref(),
        Some("report for the GP")
    );
    assert_eq!(prints[0].entry.user_id, actor.user_id);
    // The child summary is a report of the child record.
    let summary = r.report(c, ReportPurpose::ClinicalRecord, &people).unwrap();
    assert_eq!(summary.kind, ReportKind::ChildSummary);
    assert_eq!(
        r.audit_log(c)
            .unwrap()
            .iter()
            .filter(|e| e.entry.action == AuditAction::Print)
            .count(),
        1
    );
    // A referral has no report; nothing is logged for it.
    let referral = r
        .create_referral(c, homevisit_core::model::common::Service::Health)
        .unwrap();
    let e = r.report(referral, ReportPurpose::Family, &people);
    assert!(
        matches!(&e, Err(Error::InvalidInput { rule_id, .. }) if rule_id == "RK-REPORT"),
        "{e:?}"
    );
    assert!(r
        .audit_log(referral)
        .unwrap()
        .iter()
        .all(|e| e.entry.action != AuditAction::Print));
}

#[test]
fn cf_block_device_report_of_a_record_in_conflict_is_refused_and_not_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(Store::create_new_plain_for_tests_and_demo(dir.path().join("s.db")).unwrap());
    let team = Uuid::new_v4();
    let actor = ot_actor(team);
    let r = records(store.clone(), actor.clone());
    let c = r.create_child("Zoë", "Ó Dálaigh", d("2016-05-14")).unwrap();
    // Two replicas set carers_required concurrently; the merged document is in the store.
    let id = RecordId::new();
    let at: DateTime<Utc> = "2026-07-01T08:00:00Z".parse().unwrap();
    let mut a = doc::create(Schema::Assessment, id, team, Some(c), &actor, at).unwrap();
    let mut b = a.fork();
    doc::set_scalar(
        &mut a,
        "sections.F.carers_required",
        Scalar::Int(1),
        &actor,
        at,
    )
    .unwrap();
    doc::set_scalar(
        &mut b,
        "sections.F.carers_required",
        Scalar::Int(2),
        &actor,
        at,
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    store.create(id, a).unwrap();
    let people = People::default();
    let e = r.report(id, ReportPurpose::Family, &people);
    assert!(
        matches!(&e, Err(Error::Conflict { paths }) if paths == &["sections.F.carers_required"]),
        "{e:?}"
    );
    assert!(r
        .audit_log(id)
        .unwrap()
        .iter()
        .all(|e| e.entry.action != AuditAction::Print));
}

#[test]
fn rk_report_server_path_renders_from_a_document_effective_view() {
    // The team server holds documents, not a device store: it reads the effective view and
    // the conflicts of the document and calls `render`, producing the same report.
    let team = Uuid::new_v4();
    let actor = ot_actor(team);
    let at: DateTime<Utc> = "2026-07-01T08:00:00Z".parse().unwrap();
    let child = samples::child();
    let mut d = doc::create(
        Schema::Assessment,
        RecordId::new(),
        team,
        Some(child.envelope.id),
        &actor,
        at,
    )
    .unwrap();
    doc::set_scalar(
        &mut d,
        "sections.F.carers_required",
        Scalar::Int(2),
        &actor,
        at,
    )
    .unwrap();
    let visit: Assessment = from_json(doc::effective_view(&d).unwrap()).unwrap();
    let conflicts: Vec<String> = doc::conflicts(&mut d)
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    let people = People::new([(actor.user_id, "Server OT".to_owned())]);
    let producer = Producer {
        user_id: actor.user_id,
        role: Role::Ot,
        at,
        purpose: ReportPurpose::School,
    };
    let config = config();
    let input = ReportInput {
        child: &child,
        subject: Subject::Visit(&visit),
        open_conflicts: &conflicts,
        people: &people,
        producer: &producer,
        config: &config,
        media: &homevisit_core::report::ReportMedia::default(),
    };
    let report = render(&input).unwrap();
    assert!(report.pdf.starts_with(b"%PDF-"));
    let t = page_texts(&input).unwrap().join("\n");
    assert!(t.contains("DRAFT — not signed"));
    assert!(t.contains("Carers required"));
    assert!(t.contains("Produced by Server OT (Occupational therapist) on 1 Jul 2026, 09:00 BST"));
}

#[test]
fn rk_report_a_long_name_is_printed_whole_on_every_page() {
    let mut child = samples::child();
    child.given_name = Some("Maria-Magdalena Anastazja Bożena Konstancja".into());
    child.family_name = Some("Ó Dálaigh-Łukasiewicz-Featherstonehaugh-Wiśniewska".into());
    let people = samples::people();
    let producer = samples::producer(ReportPurpose::Family);
    let config = config();
    let plan = samples::handling_plan_signed();
    let pages = page_texts(&ReportInput {
        child: &child,
        subject: Subject::HandlingPlan(&plan),
        open_conflicts: &[],
        people: &people,
        producer: &producer,
        config: &config,
        media: &homevisit_core::report::ReportMedia::default(),
    })
    .unwrap();
    let full = "Maria-Magdalena Anastazja Bożena Konstancja Ó Dálaigh-Łukasiewicz-Featherstonehaugh-Wiśniewska";
    for p in &pages {
        assert!(p.lines().any(|l| l == full), "{p}");
    }
}

// -- photos and the family's signatures (report::media; HV-A-CONSENT) -----------------------

/// Renders `subject` with `media` for the family and returns the report and each page's text.
fn run_with_media(
    subject: Subject<'_>,
    media: &homevisit_core::report::ReportMedia,
) -> (Report, Vec<String>) {
    let child = samples::child();
    let people = samples::people();
    let producer = samples::producer(ReportPurpose::Family);
    let config = config();
    let input = ReportInput {
        child: &child,
        subject,
        open_conflicts: &[],
        people: &people,
        producer: &producer,
        config: &config,
        media,
    };
    (render(&input).unwrap(), page_texts(&input).unwrap())
}

/// The number of image XObjects in a PDF. Streams are never inside object streams, so each
/// image's dictionary is in the file as written.
fn image_objects(pdf: &[u8]) -> usize {
    let needle = b"/Subtype/Image";
    pdf.windows(needle.len()).filter(|w| w == needle).count()
}

#[test]
fn hv_a_consent_photos_print_with_captions_when_the_visit_consents_to_photographs() {
    let visit = samples::visit_with_photo_consent();
    let media = samples::media_sized(3, 800, 600);
    let (report, pages) = run_with_media(Subject::Visit(&visit), &media);
    let t = flat(&pages);
    assert!(t.contains("Photographs"), "{t}");
    for n in 1..=3 {
        assert!(
            t.contains(&format!("Photo {n}.")),
            "photo {n} caption missing"
        );
    }
    assert!(t.contains("Stairs from the hall: 13 steps, rise 190 mm"));
    assert!(t.contains("Signed by the family"));
    assert!(t.contains("Aoife Ó Dálaigh (mother, parental responsibility)"));
    // Three photos and one signature are images in the file.
    assert_eq!(image_objects(&report.pdf), 4);
    // A JPEG is embedded as it was stored (DCT passthrough), not re-encoded.
    let first = &media.photos[0].bytes;
    assert!(report
        .pdf
        .windows(first.len())
        .any(|w| w == first.as_slice()));
}

#[test]
fn hv_a_consent_photos_are_left_out_and_counted_when_the_visit_does_not_consent() {
    let visit = samples::visit_signed();
    let media = samples::media_sized(3, 800, 600);
    let (report, pages) = run_with_media(Subject::Visit(&visit), &media);
    let t = flat(&pages);
    assert!(
        t.contains("3 photographs were not printed: the visit's consent does not cover photographs (HV-A-CONSENT)."),
        "{t}"
    );
    assert!(!t.contains("Photo 1."));
    // The family's signature still prints; no photo does.
    assert!(t.contains("Signed by the family"));
    assert_eq!(image_objects(&report.pdf), 1);
}

#[test]
fn rk_report_an_unreadable_stored_image_prints_a_line_saying_so() {
    let visit = samples::visit_with_photo_consent();
    let mut media = samples::media_sized(2, 640, 480);
    media.photos[1].bytes.truncate(100);
    let (report, pages) = run_with_media(Subject::Visit(&visit), &media);
    let t = flat(&pages);
    assert!(t.contains("Photo 1."));
    assert!(
        t.contains("Photo 2 could not be printed: its stored image cannot be read."),
        "{t}"
    );
    assert_eq!(image_objects(&report.pdf), 2);
}

#[test]
fn rk_report_handling_plan_and_equipment_summary_show_the_family_signature_as_drawn() {
    let plan = samples::handling_plan_signed();
    let req = samples::equipment_request();
    let media = homevisit_core::report::ReportMedia {
        photos: Vec::new(),
        ..samples::media_sized(0, 1, 1)
    };
    for subject in [
        Subject::HandlingPlan(&plan),
        Subject::Equipment {
            request: &req,
            risk_assessment: Some(&plan),
        },
    ] {
        let (report, pages) = run_with_media(subject, &media);
        let t = flat(&pages);
        assert!(t.contains("Signed by the family"), "{t}");
        assert!(t.contains("consent to photographs. Covers the text signed: yes."));
        assert_eq!(image_objects(&report.pdf), 1);
    }
}

#[test]
fn rk_report_ten_camera_photos_paginate_with_the_banner_on_every_page() {
    let visit = samples::visit_with_photo_consent();
    let media = samples::media_sized(10, 1600, 1200);
    let (report, pages) = run_with_media(Subject::Visit(&visit), &media);
    let n = pages.len();
    assert_eq!(report.page_count as usize, n);
    for (i, p) in pages.iter().enumerate() {
        assert!(p.contains("Zoë Ó Dálaigh-Łukasiewicz"), "page {}", i + 1);
        assert!(
            p.contains(&format!("Page {} of {n}", i + 1)),
            "page {}",
            i + 1
        );
    }
    let t = flat(&pages);
    assert!(t.contains("Photo 10."));
    assert_eq!(image_objects(&report.pdf), 11);
}
