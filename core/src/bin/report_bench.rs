//! Report benchmark (docs/BENCHMARKS.md "Reports"). Prints, never asserts.
//!
//! `cargo run --release -p homevisit-core --bin report_bench [-- --quick]`
//!
//! Times the full visit report of the sample signed visit (sections A–J, an addendum)
//! against two baselines measured in the same run on the same record: the FHIR R4 export of
//! the child with that visit, serialised to JSON bytes (what the app already does to share a
//! record), and the report's layout alone (wrapping and pagination without PDF), so the ratio
//! shows what typesetting the PDF costs. Then the same visit with 10 camera photos of
//! 12 megapixels (4,000 × 3,000 JPEG) and one drawn signature, as the goal states it.

use std::time::{Duration, Instant};

use homevisit_core::{
    fhir::{export_child, ChildRecords, ExportContext},
    report::{page_texts, render, samples, ReportInput, ReportPurpose, Subject},
    rules::config::RulesConfig,
};
use uuid::Uuid;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    (median(times), out)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 5 } else { 30 };
    let child = samples::child();
    let people = samples::people();
    let config = RulesConfig::default();
    let producer = samples::producer(ReportPurpose::Family);
    let visit = samples::visit_signed();
    let input = ReportInput {
        child: &child,
        subject: Subject::Visit(&visit),
        open_conflicts: &[],
        people: &people,
        producer: &producer,
        config: &config,
        media: &homevisit_core::report::ReportMedia::default(),
    };
    let ctx = ExportContext {
        base_url: "https://fhir.homevisit.example".into(),
        exported_at: producer.at,
        exported_by: producer.user_id,
        device_id: Uuid::nil(),
        purpose: "benchmark".into(),
    };
    let assessments = [visit.clone()];
    let (fhir_t, fhir_bytes) = time(runs, || {
        let bundle = export_child(
            ChildRecords {
                child: &child,
                assessments: &assessments,
                risk_assessments: &[],
                equipment_requests: &[],
            },
            &ctx,
        );
        serde_json::to_vec(&bundle).map(|b| b.len()).unwrap_or(0)
    });
    let (layout_t, pages) = time(runs, || page_texts(&input).map(|p| p.len()).unwrap_or(0));
    let (pdf_t, report) = time(runs, || render(&input));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("report failed: {e}");
            std::process::exit(1);
        }
    };
    let photo_visit = samples::visit_with_photo_consent();
    let media = samples::media(10);
    let photo_bytes: usize = media.photos.iter().map(|p| p.bytes.len()).sum();
    let photo_input = ReportInput {
        subject: Subject::Visit(&photo_visit),
        media: &media,
        ..input
    };
    let (photo_t, photo_report) = time(if quick { 2 } else { 10 }, || render(&photo_input));
    let photo_report = match photo_report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("report with photos failed: {e}");
            std::process::exit(1);
        }
    };
    let hostile = samples::visit_hostile();
    let hostile_input = ReportInput {
        subject: Subject::Visit(&hostile),
        ..input
    };
    let (hostile_t, hostile_report) = time(if quick { 2 } else { 5 }, || render(&hostile_input));
    let hostile_pages = hostile_report.map(|r| r.page_count).unwrap_or(0);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("runs per measurement (median): {runs}");
    println!(
        "baseline: FHIR export of the same child + visit, JSON: {:.3} ms ({fhir_bytes} bytes)",
        ms(fhir_t)
    );
    println!(
        "layout only (wrap + paginate): {:.3} ms, {pages} page(s)",
        ms(layout_t)
    );
    println!(
        "full visit report PDF (no photos): {:.3} ms, {} page(s), {} bytes",
        ms(pdf_t),
        report.page_count,
        report.pdf.len()
    );
    println!(
        "ratio report / FHIR export: {:.1}x; report / layout: {:.1}x",
        ms(pdf_t) / ms(fhir_t).max(1e-9),
        ms(pdf_t) / ms(layout_t).max(1e-9)
    );
    println!(
        "full visit report PDF with 10 photos of 12 MP ({:.1} MB of JPEG) and a signature: {:.3} ms, {} page(s), {} bytes",
        photo_bytes as f64 / 1e6,
        ms(photo_t),
        photo_report.page_count,
        photo_report.pdf.len()
    );
    println!(
        "ratio report with 10 photos / report without: {:.1}x",
        ms(photo_t) / ms(pdf_t).max(1e-9)
    );
    println!(
        "visit with a 100,000-character note: {:.1} ms, {hostile_pages} page(s)",
        ms(hostile_t)
    );
}
