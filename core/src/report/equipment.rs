//! The equipment request summary (DOMAIN.md §3.6): category, approval tier, the measurements
//! with their units and the date each was taken, the clinical justification, the linked risk
//! assessment, and the status history.

use super::{
    common::{self, label, opt_label, text},
    handling,
    layout::Block,
    media, units, Document, ReportInput,
};
use crate::{
    model::{
        common::{is_finally_signed, live},
        equipment::{EquipmentRequest, Status},
        risk::RiskAssessment,
    },
    rules::{
        equipment::{approval_tier, Tier},
        mh,
        workflow::{self, WorkflowStatus},
    },
};

fn tier(t: Tier) -> &'static str {
    match t {
        Tier::One => "Tier 1: an HCPC-registered occupational therapist approves",
        Tier::Two => "Tier 2: an HCPC-registered approver approves",
        Tier::DfgOnly => "Disabled Facilities Grant referral only",
        Tier::Refused => "Not provided by the service (referred on)",
    }
}

fn measurement_name(key: &str) -> String {
    let stem = ["_kg", "_cm", "_mm", "_deg"]
        .iter()
        .find_map(|u| key.strip_suffix(u))
        .unwrap_or(key);
    label(&stem)
}

/// Builds the equipment request summary.
pub(super) fn document(
    input: &ReportInput<'_>,
    req: &EquipmentRequest,
    ra: Option<&RiskAssessment>,
) -> Document {
    let people = input.people;
    let mut b = vec![Block::Title("Equipment request summary".to_owned())];
    b.extend(common::entered_in_error(
        &req.envelope.record_status,
        people,
    ));
    let status = workflow::status(req);

    b.push(Block::Heading("Request".to_owned()));
    b.push(Block::field("Service", opt_label(req.service.as_ref())));
    b.push(Block::field("Category", opt_label(req.category.as_ref())));
    b.push(Block::field(
        "Approval tier",
        tier(approval_tier(
            req.category,
            req.estimated_cost_pence,
            input.config.tier2_cost_pence,
        )),
    ));
    b.push(Block::field("Priority", opt_label(req.priority.as_ref())));
    if let Some(c) = req.estimated_cost_pence {
        b.push(Block::field("Estimated cost", units::pounds(c)));
    }
    let status_text = match &status {
        WorkflowStatus::New => "Being created".to_owned(),
        WorkflowStatus::At(s) => label(s),
        WorkflowStatus::Conflict { .. } => {
            "In conflict: two concurrent decisions await an approver (CF-STATUS)".to_owned()
        }
    };
    b.push(Block::field("Status", status_text));
    if let Some(by) = req.requested_by {
        let mut v = people.name(by);
        if let Some(at) = req.requested_at {
            v.push_str(&format!(", {}", units::instant(at)));
        }
        b.push(Block::field("Requested by", v));
    }
    for (n, item) in live(&req.items).enumerate() {
        let i = &item.data;
        let mut v = text(i.description.as_deref());
        let detail: Vec<String> = [
            i.make.as_deref().map(|m| format!("make {}", m.trim())),
            i.model.as_deref().map(|m| format!("model {}", m.trim())),
            i.size.as_deref().map(|s| format!("size {}", s.trim())),
            i.quantity.map(|q| format!("quantity {q}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !detail.is_empty() {
            v.push_str(&format!(" ({})", detail.join(", ")));
        }
        b.push(Block::field(format!("Item {}", n + 1), v));
    }
    if !req.adaptation_work.is_empty() {
        b.push(Block::field(
            "Adaptation work",
            common::labels(&req.adaptation_work),
        ));
    }

    b.push(Block::Heading("Measurements".to_owned()));
    if req.measurements.is_empty() {
        b.push(Block::Paragraph("No measurements recorded.".to_owned()));
    }
    for (key, m) in &req.measurements {
        let k = key.as_str();
        let mut v = units::field_value(k, &serde_json::Value::from(m.value));
        v.push_str(&match m.measured_on {
            Some(d) => format!(", taken on {}", units::date(d)),
            None => ", date taken not recorded".to_owned(),
        });
        if let Some(by) = m.measured_by {
            v.push_str(&format!(" by {}", people.name(by)));
        }
        b.push(Block::field(measurement_name(k), v));
    }

    b.push(Block::Heading("Clinical justification".to_owned()));
    b.push(Block::Paragraph(text(
        req.clinical_justification.as_deref(),
    )));

    b.push(Block::Heading("Linked risk assessment".to_owned()));
    match (req.risk_assessment_id, ra) {
        (None, _) => b.push(Block::Paragraph("None linked.".to_owned())),
        (Some(_), None) => b.push(Block::Paragraph(
            "Linked, but not available to this report.".to_owned(),
        )),
        (Some(_), Some(ra)) => {
            let state = ra.sign_state();
            b.push(Block::field(
                "Assessed on",
                units::opt_date(ra.assessment_date),
            ));
            b.push(Block::field(
                "State",
                if is_finally_signed(state) {
                    format!("{} (can be relied on)", label(&state))
                } else {
                    format!(
                        "{} (cannot yet support a hoist request, EQ-HOIST-RA)",
                        label(&state)
                    )
                },
            ));
            b.push(Block::field(
                "Overall risk after controls",
                mh::overall_band(ra)
                    .map(|band| format!("{} risk", band.label()))
                    .unwrap_or_else(|| units::NOT_RECORDED.to_owned()),
            ));
            if let (Some(w), Some(d)) = (ra.child_weight_kg, ra.child_weight_measured_on) {
                b.push(Block::field(
                    "Child's weight assessed",
                    format!("{}, measured on {}", units::kg(w), units::date(d)),
                ));
            }
            for (n, t) in live(&ra.tasks).enumerate() {
                b.push(Block::field(
                    format!("Task {} after controls", n + 1),
                    handling::rating(t.data.residual.as_ref()),
                ));
            }
        }
    }

    b.push(Block::Heading("Status history".to_owned()));
    let log: Vec<_> = live(&req.transitions).collect();
    if log.is_empty() {
        b.push(Block::Paragraph("No transitions yet.".to_owned()));
    }
    for t in log {
        let t = &t.data;
        let from = t
            .from
            .map(|f| label(&f))
            .unwrap_or_else(|| "New".to_owned());
        let mut v = format!(
            "{} by {} ({})",
            units::instant(t.at),
            people.name(t.user_id),
            common::role(t.role)
        );
        if let Some(d) = t.event_date {
            v.push_str(&format!("; event date {}", units::date(d)));
        }
        for (what, x) in [
            ("reason", &t.reason),
            ("supplier", &t.supplier),
            ("order reference", &t.order_ref),
            ("contractor", &t.contractor),
            ("condition", &t.condition),
            ("housing authority reference", &t.housing_authority_ref),
        ] {
            if let Some(x) = x.as_deref().filter(|x| !x.trim().is_empty()) {
                v.push_str(&format!("; {what}: {}", x.trim()));
            }
        }
        if let Some(o) = &t.outcome {
            v.push_str(&format!("; outcome: {}", label(o).to_lowercase()));
        }
        if t.superseded.is_some() {
            v.push_str("; set aside by an approver (CF-STATUS)");
        }
        b.push(Block::field(format!("{from} → {}", label(&t.to)), v));
    }

    b.extend(media::photos(input));
    b.extend(media::family_signatures(input));
    let (state, watermark) = if !req.envelope.record_status.is_active() {
        (
            Some(common::ENTERED_IN_ERROR.to_owned()),
            Some(common::ENTERED_IN_ERROR.to_owned()),
        )
    } else if matches!(
        status,
        WorkflowStatus::New | WorkflowStatus::At(Status::Draft)
    ) {
        (
            Some("DRAFT — not submitted".to_owned()),
            Some("DRAFT — not submitted".to_owned()),
        )
    } else {
        (None, None)
    };
    Document {
        blocks: b,
        state,
        watermark,
        date: req.requested_at.map(crate::rules::dates::local_date),
    }
}
