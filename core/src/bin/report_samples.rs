//! Writes the sample reports (core/src/report/samples.rs) as PDFs into a directory, for the
//! reports CI suite (.ci/suites/35-reports.sh) and for people to look at.
//!
//! `cargo run -p homevisit-core --bin report_samples -- target/reports`

use std::{path::PathBuf, process::ExitCode};

use homevisit_core::{
    report::{render, samples, ReportInput, ReportMedia, ReportPurpose, Subject},
    rules::config::RulesConfig,
};

fn main() -> ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/reports".into()),
    );
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let child = samples::child();
    let people = samples::people();
    let config = RulesConfig::default();
    let family = samples::producer(ReportPurpose::Family);
    let carers = samples::producer(ReportPurpose::ShareCarers);
    let internal = samples::producer(ReportPurpose::ClinicalRecord);
    let visit_signed = samples::visit_signed();
    let visit_draft = samples::visit_draft();
    let visit_hostile = samples::visit_hostile();
    let plan = samples::handling_plan_signed();
    let plan_eie = samples::handling_plan_entered_in_error();
    let request = samples::equipment_request();
    let lines = samples::record_lines();
    let visit_photos = samples::visit_with_photo_consent();
    let none = ReportMedia::default();
    // Four photographs at 1600 x 1200 (a camera photo as the store keeps it after
    // re-encoding is larger; the report scales either to the same size) and one signature.
    let with_photos = samples::media_sized(4, 1600, 1200);
    let signature_only = ReportMedia {
        photos: Vec::new(),
        ..samples::media_sized(0, 1, 1)
    };
    let jobs: Vec<(&str, Subject<'_>, &_, &ReportMedia)> = vec![
        (
            "visit-signed",
            Subject::Visit(&visit_signed),
            &family,
            &none,
        ),
        (
            "visit-with-photos",
            Subject::Visit(&visit_photos),
            &family,
            &with_photos,
        ),
        ("visit-draft", Subject::Visit(&visit_draft), &family, &none),
        (
            "visit-hostile-text",
            Subject::Visit(&visit_hostile),
            &family,
            &none,
        ),
        (
            "handling-plan-signed",
            Subject::HandlingPlan(&plan),
            &carers,
            &signature_only,
        ),
        (
            "handling-plan-entered-in-error",
            Subject::HandlingPlan(&plan_eie),
            &carers,
            &none,
        ),
        (
            "equipment-request",
            Subject::Equipment {
                request: &request,
                risk_assessment: Some(&plan),
            },
            &internal,
            &none,
        ),
        (
            "child-summary",
            Subject::ChildSummary(&lines),
            &internal,
            &none,
        ),
    ];
    for (name, subject, producer, media) in jobs {
        let input = ReportInput {
            child: &child,
            subject,
            open_conflicts: &[],
            people: &people,
            producer,
            config: &config,
            media,
        };
        match render(&input) {
            Ok(report) => {
                let path = dir.join(format!("{name}.pdf"));
                if let Err(e) = std::fs::write(&path, &report.pdf) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!(
                    "{} {} page(s) {}",
                    path.display(),
                    report.page_count,
                    report.file_name
                );
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
