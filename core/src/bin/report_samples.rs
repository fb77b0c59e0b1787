//! Writes the sample reports (core/src/report/samples.rs) as PDFs into a directory, for the
//! reports CI suite (.ci/suites/35-reports.sh) and for people to look at.
//!
//! `cargo run -p homevisit-core --bin report_samples -- target/reports`

use std::{path::PathBuf, process::ExitCode};

use homevisit_core::{
    report::{render, samples, ReportInput, ReportPurpose, Subject},
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
    let jobs: Vec<(&str, Subject<'_>, &_)> = vec![
        ("visit-signed", Subject::Visit(&visit_signed), &family),
        ("visit-draft", Subject::Visit(&visit_draft), &family),
        (
            "visit-hostile-text",
            Subject::Visit(&visit_hostile),
            &family,
        ),
        (
            "handling-plan-signed",
            Subject::HandlingPlan(&plan),
            &carers,
        ),
        (
            "handling-plan-entered-in-error",
            Subject::HandlingPlan(&plan_eie),
            &carers,
        ),
        (
            "equipment-request",
            Subject::Equipment {
                request: &request,
                risk_assessment: Some(&plan),
            },
            &internal,
        ),
        ("child-summary", Subject::ChildSummary(&lines), &internal),
    ];
    for (name, subject, producer) in jobs {
        let input = ReportInput {
            child: &child,
            subject,
            open_conflicts: &[],
            people: &people,
            producer,
            config: &config,
            media: &homevisit_core::report::ReportMedia::default(),
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
