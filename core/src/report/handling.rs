//! The moving-and-handling plan of a risk assessment (DOMAIN.md §3.5): for each task, from
//! and to, the method, carers required, the hoist, spreader bar and sling with their safe
//! working loads and the sling size, the risk before and after controls with its band, and
//! the controls; the LOLER examination dates of the lifting equipment; the child's current
//! weight and when it was measured.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    common::{self, label, opt_label, text, yes_no},
    layout::Block,
    media, units, Document, ReportInput,
};
use crate::{
    model::{
        common::{find_live, live},
        risk::{LiftingEquipment, RiskAssessment, RiskRating, TileoItem},
    },
    rules::mh,
};

/// A risk rating in words: `Likelihood 4 × severity 4 = 16: Extreme risk`.
pub(super) fn rating(r: Option<&RiskRating>) -> String {
    let Some(r) = r else {
        return units::NOT_RECORDED.to_owned();
    };
    match (r.likelihood, r.severity) {
        (Some(l), Some(s)) => match mh::score(l, s)
            .ok()
            .and_then(|sc| mh::band(sc).map(|b| (sc, b)))
        {
            Some((score, band)) => {
                format!(
                    "Likelihood {l} × severity {s} = {score}: {} risk",
                    band.label()
                )
            }
            None => format!("Likelihood {l} × severity {s}: not a valid score"),
        },
        _ => "incomplete (likelihood and severity both needed)".to_owned(),
    }
}

fn equipment_line(e: &LiftingEquipment) -> String {
    let mut parts = Vec::new();
    let name: Vec<&str> = [e.make.as_deref(), e.model.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    parts.push(if name.is_empty() {
        opt_label(e.kind.as_ref())
    } else {
        name.join(" ")
    });
    if let Some(s) = e.serial.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(format!("serial {}", s.trim()));
    }
    parts.push(match e.swl_kg {
        Some(swl) => format!("safe working load {}", units::kg(swl)),
        None => "safe working load not recorded".to_owned(),
    });
    parts.join(", ")
}

fn used(ra: &RiskAssessment, id: Option<Uuid>) -> Option<String> {
    id.map(|id| match find_live(&ra.lifting_equipment, id) {
        Some(e) => equipment_line(&e.data),
        None => "not found in this assessment's equipment list".to_owned(),
    })
}

/// Who was trained on a task (`MH-CARER-TRAINED`), a line each: name and role, the hoist and
/// sling they were trained with, by whom and when, competence and review date; a record that
/// does not make them a current competent carer on the plan's date says so.
fn trained_carers(ra: &RiskAssessment, task: Uuid, as_of: Option<NaiveDate>) -> String {
    let lines: Vec<String> = live(&ra.carer_training)
        .filter(|c| c.data.task_id == Some(task))
        .map(|c| {
            let c = &c.data;
            let mut v = format!(
                "{} ({})",
                text(c.trainee_name.as_deref()),
                opt_label(c.trainee_role.as_ref()).to_lowercase()
            );
            if let Some(h) = used(ra, c.hoist_id) {
                v.push_str(&format!("; hoist: {h}"));
            }
            if let Some(sl) = used(ra, c.sling_id) {
                v.push_str(&format!("; sling: {sl}"));
            }
            v.push_str(&format!(
                "; trained by {} on {}; competent: {}; review due {}",
                text(c.trained_by.as_deref()),
                units::opt_date(c.trained_on),
                yes_no(c.competent),
                units::opt_date(c.review_due_on)
            ));
            if !c.is_current_for(task, as_of) {
                v.push_str(" (not a current competent carer on the plan's date)");
            }
            v
        })
        .collect();
    if lines.is_empty() {
        "none recorded".to_owned()
    } else {
        lines.join("\n")
    }
}

/// Builds the handling plan.
pub(super) fn document(input: &ReportInput<'_>, ra: &RiskAssessment) -> Document {
    let people = input.people;
    let mut b = vec![Block::Title("Moving and handling plan".to_owned())];
    b.extend(common::entered_in_error(&ra.envelope.record_status, people));

    b.push(Block::Heading("The child".to_owned()));
    let weight = match (ra.child_weight_kg, ra.child_weight_measured_on) {
        (Some(w), Some(d)) => format!("{}, measured on {}", units::kg(w), units::date(d)),
        (Some(w), None) => format!("{}, date of measurement not recorded", units::kg(w)),
        _ => units::NOT_RECORDED.to_owned(),
    };
    b.push(Block::field("Current weight", weight));
    if let (Some(latest), Some(assessed)) =
        (input.child.latest_weight(), ra.child_weight_measured_on)
    {
        if latest.data.measured_on > assessed {
            b.push(Block::Alert(format!(
                "A later weight is recorded for the child: {} on {}. Check this plan is still \
                 safe (MH-WEIGHT-NEWER).",
                units::kg(latest.data.value_kg),
                units::date(latest.data.measured_on)
            )));
        }
    }
    if let Some(h) = ra.child_height_cm {
        b.push(Block::field("Height", units::cm(h)));
    }
    b.push(Block::Heading("Assessment".to_owned()));
    b.push(Block::field(
        "Assessed on",
        units::opt_date(ra.assessment_date),
    ));
    b.push(Block::field("Where", opt_label(ra.location.as_ref())));
    if let Some(av) = &ra.avoidance_considered {
        let mut v = opt_label(av.decision.as_ref());
        if let Some(t) = av.text.as_deref().filter(|t| !t.trim().is_empty()) {
            v.push_str(&format!(": {}", t.trim()));
        }
        b.push(Block::field("Can the handling be avoided?", v));
    }
    if let Some(c) = ra.carers_available {
        b.push(Block::field("Carers available", c.to_string()));
    }
    b.push(Block::field(
        "Overall risk after controls",
        mh::overall_band(ra)
            .map(|band| format!("{} risk", band.label()))
            .unwrap_or_else(|| units::NOT_RECORDED.to_owned()),
    ));
    b.push(Block::field(
        "Review due",
        units::opt_date(ra.review_due_on),
    ));
    if ra.task_stopped_pending_review == Some(true) {
        b.push(Block::Alert(
            "A task is stopped until this plan is reviewed.".to_owned(),
        ));
    }

    let hazards: Vec<String> = TileoItem::ALL
        .iter()
        .filter_map(|item| {
            let a = ra.tileo.get(item)?;
            (a.hazard_present == Some(crate::model::common::YesNo::Yes)).then(|| {
                match a.notes.as_deref().filter(|n| !n.trim().is_empty()) {
                    Some(n) => format!("{}: {}", item.code(), n.trim()),
                    None => item.code(),
                }
            })
        })
        .collect();
    if !hazards.is_empty() {
        b.push(Block::field("Hazards found (TILEO)", hazards.join("\n")));
    }

    for (n, item) in live(&ra.tasks).enumerate() {
        let task_id = item.item_id;
        let t = &item.data;
        b.push(Block::Heading(format!(
            "Task {}: {} to {}",
            n + 1,
            opt_label(t.from.as_ref()).to_lowercase(),
            opt_label(t.to.as_ref()).to_lowercase()
        )));
        b.push(Block::field("Method", opt_label(t.method.as_ref())));
        b.push(Block::field(
            "Carers required",
            t.carers_required
                .map(|c| c.to_string())
                .unwrap_or_else(|| units::NOT_RECORDED.to_owned()),
        ));
        if let Some(h) = used(ra, t.hoist_id) {
            b.push(Block::field("Hoist", h));
        }
        if let Some(s) = used(ra, t.spreader_bar_id) {
            b.push(Block::field("Spreader bar", s));
        }
        if t.sling_id.is_some() || t.sling_type.is_some() || t.sling_size.is_some() {
            let mut v = used(ra, t.sling_id).unwrap_or_else(|| "sling".to_owned());
            if let Some(st) = &t.sling_type {
                v.push_str(&format!("; type: {}", label(st).to_lowercase()));
            }
            v.push_str(&format!("; size: {}", text(t.sling_size.as_deref())));
            b.push(Block::field("Sling", v));
        }
        if let Some(l) = mh::lowest_swl(ra, t) {
            b.push(Block::field(
                "Lowest safe working load",
                format!("{} ({})", units::kg(l.swl_kg), l.label()),
            ));
        }
        b.push(Block::field(
            "Risk before controls",
            rating(t.initial.as_ref()),
        ));
        b.push(Block::field(
            "Risk after controls",
            rating(t.residual.as_ref()),
        ));
        let controls: Vec<String> = live(&t.controls)
            .map(|c| {
                let kind = opt_label(c.data.kind.as_ref());
                match c.data.text.as_deref().filter(|x| !x.trim().is_empty()) {
                    Some(x) => format!("{kind}: {}", x.trim()),
                    None => kind,
                }
            })
            .collect();
        b.push(Block::field(
            "Controls",
            if controls.is_empty() {
                "none recorded".to_owned()
            } else {
                controls.join("\n")
            },
        ));
        if let Some(notes) = t.notes.as_deref().filter(|x| !x.trim().is_empty()) {
            b.push(Block::field("Notes", notes.trim()));
        }
        b.push(Block::field(
            "Trained carers",
            trained_carers(ra, task_id, ra.assessment_date),
        ));
    }

    let equipment: Vec<&LiftingEquipment> = live(&ra.lifting_equipment).map(|e| &e.data).collect();
    if !equipment.is_empty() {
        b.push(Block::Heading(
            "Lifting equipment and LOLER examinations".to_owned(),
        ));
        for e in equipment {
            b.push(Block::Subheading(format!(
                "{}: {}",
                e.kind
                    .map(|k| label(&k))
                    .unwrap_or_else(|| "Equipment".to_owned()),
                equipment_line(e)
            )));
            b.push(Block::field(
                "Last thorough examination",
                units::opt_date(e.last_exam_on),
            ));
            b.push(Block::field(
                "Next examination due",
                units::opt_date(e.next_exam_due_on),
            ));
            b.push(Block::field("Examined by", text(e.examined_by.as_deref())));
            if e.integral_spreader_bar.is_some() {
                b.push(Block::field(
                    "Integral spreader bar",
                    yes_no(e.integral_spreader_bar),
                ));
            }
        }
    }

    b.extend(media::photos(input));
    let state = ra.sign_state();
    b.extend(common::signatures(
        "Signature",
        state,
        ra.signature.as_ref(),
        ra.countersignature.as_ref(),
        &ra.addenda,
        people,
    ));
    b.extend(media::family_signatures(input));
    let (state_text, watermark) = common::sign_marks(state);
    Document {
        blocks: b,
        state: state_text,
        watermark,
        date: ra.assessment_date,
    }
}
