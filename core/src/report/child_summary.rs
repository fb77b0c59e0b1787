//! The child summary: the banner (name, date of birth, NHS number, alerts), the latest
//! weight, carers, and the child's records with their states.

use super::{
    common::{self, label, opt_label, text, yes_no},
    layout::Block,
    units, Document, RecordLine, ReportInput,
};
use crate::model::common::live;

/// Builds the child summary.
pub(super) fn document(input: &ReportInput<'_>, records: &[RecordLine]) -> Document {
    let c = input.child;
    let people = input.people;
    let mut b = vec![Block::Title("Child summary".to_owned())];
    b.extend(common::entered_in_error(&c.envelope.record_status, people));

    b.push(Block::Heading("The child".to_owned()));
    b.push(Block::field("Name", common::child_name(c)));
    b.push(Block::field(
        "Date of birth",
        units::opt_date(c.date_of_birth),
    ));
    b.push(Block::field(
        "NHS number",
        match c.nhs_number_display() {
            Some(n) if c.nhs_number_verified => format!("{n} (verified)"),
            Some(n) => format!("{n} (not yet verified)"),
            None => units::NOT_RECORDED.to_owned(),
        },
    ));
    b.push(Block::field("Gender", opt_label(c.gender.as_ref())));
    if let Some(gp) = c.gp_practice_name.as_deref() {
        b.push(Block::field("GP practice", text(Some(gp))));
    }
    b.push(Block::field(
        "Education",
        opt_label(c.education_setting.as_ref()),
    ));
    if let Some(s) = c.school_name.as_deref() {
        b.push(Block::field("School", text(Some(s))));
    }
    // The address stays inside the team (`RK-REPORT-SHARE`).
    if input.producer.purpose.is_internal() {
        if let Some(a) = &c.address {
            let mut lines: Vec<String> = a.lines.iter().map(|l| l.trim().to_owned()).collect();
            lines.extend(a.town.iter().cloned());
            lines.extend(a.postcode.iter().cloned());
            b.push(Block::field("Address", lines.join("\n")));
        }
    }
    if let Some(w) = c.latest_weight() {
        b.push(Block::field(
            "Latest weight",
            format!(
                "{}, measured on {}",
                units::kg(w.data.value_kg),
                units::date(w.data.measured_on)
            ),
        ));
    }
    if let Some(d) = c.deceased_on {
        b.push(Block::field("Died on", units::date(d)));
    }

    b.push(Block::Heading("Alerts".to_owned()));
    let alerts: Vec<_> = live(&c.alerts).collect();
    if alerts.is_empty() {
        b.push(Block::Paragraph("No alerts recorded.".to_owned()));
    }
    for a in alerts {
        b.push(Block::field(label(&a.data.kind), a.data.text.trim()));
    }

    let carers: Vec<_> = live(&c.carers).collect();
    if !carers.is_empty() {
        b.push(Block::Heading("Carers".to_owned()));
        for cr in carers {
            let cr = &cr.data;
            b.push(Block::field(
                text(cr.name.as_deref()),
                format!(
                    "{}; parental responsibility: {}; lives with the child: {}",
                    opt_label(cr.relationship.as_ref()),
                    yes_no(cr.parental_responsibility).to_lowercase(),
                    yes_no(cr.lives_with_child).to_lowercase()
                ),
            ));
        }
    }

    b.push(Block::Heading("Records".to_owned()));
    if records.is_empty() {
        b.push(Block::Paragraph("No other records.".to_owned()));
    }
    for r in records {
        let mut v = r.state.clone();
        if let Some(d) = r.date {
            v = format!("{}; {v}", units::date(d));
        }
        if r.conflicts > 0 {
            v.push_str(&format!("; {} unresolved conflict(s)", r.conflicts));
        }
        b.push(Block::field(r.title.clone(), v));
    }

    let marks = if c.envelope.record_status.is_active() {
        (None, None)
    } else {
        (
            Some(common::ENTERED_IN_ERROR.to_owned()),
            Some(common::ENTERED_IN_ERROR.to_owned()),
        )
    };
    Document {
        blocks: b,
        state: marks.0,
        watermark: marks.1,
        date: None,
    }
}
