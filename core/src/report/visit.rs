//! The visit report of a home-visit assessment: sections A–J as DOMAIN.md §3.4 lays them out.

use super::{
    common::{self, label, labels, opt_label, text, yes_no},
    layout::Block,
    media, units, Document, ReportInput,
};
use crate::model::{
    assessment::{AreaAssessment, Assessment, IdentityCheck},
    common::live,
};

fn area_name(code: &str) -> &'static str {
    match code {
        "play" => "Play",
        "eating_drinking" => "Eating and drinking",
        "washing_bathing" => "Washing and bathing",
        "teeth" => "Teeth",
        "toileting" => "Toileting",
        "dressing" => "Dressing",
        "school_life_skills" => "School life skills",
        "managing_at_school" => "Managing at school",
        "mobility_transfers" => "Mobility and transfers",
        _ => "Other",
    }
}

fn area(a: Option<&AreaAssessment>) -> String {
    let Some(a) = a else {
        return units::NOT_RECORDED.to_owned();
    };
    let mut parts = vec![opt_label(a.level.as_ref())];
    if let Some(d) = &a.in_line_with_development {
        parts.push(format!(
            "in line with development: {}",
            label(d).to_lowercase()
        ));
    }
    if let Some(e) = a.equipment_used.as_deref().filter(|e| !e.trim().is_empty()) {
        parts.push(format!("equipment: {}", e.trim()));
    }
    if let Some(n) = a.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        parts.push(n.trim().to_owned());
    }
    parts.join("; ")
}

/// Builds the visit report.
pub(super) fn document(input: &ReportInput<'_>, a: &Assessment) -> Document {
    let s = &a.sections;
    let people = input.people;
    let mut b = vec![Block::Title("Home visit report".to_owned())];
    b.extend(common::entered_in_error(&a.envelope.record_status, people));

    // A. Visit
    b.push(Block::Heading("A. Visit".to_owned()));
    b.push(Block::field("Visit date", units::opt_date(s.a.visit_date)));
    let time = match (s.a.start_time, s.a.end_time) {
        (Some(st), Some(en)) => format!("{st} to {en}"),
        (Some(st), None) => format!("from {st}"),
        _ => units::NOT_RECORDED.to_owned(),
    };
    b.push(Block::field("Time", time));
    b.push(Block::field("Location", opt_label(s.a.location.as_ref())));
    let present: Vec<String> = live(&s.a.people_present)
        .map(|p| {
            let p = &p.data;
            let mut who = text(p.name.as_deref());
            let extra: Vec<&str> = [p.relationship.as_deref(), p.organisation.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            if !extra.is_empty() {
                who.push_str(&format!(" ({})", extra.join(", ")));
            }
            who
        })
        .collect();
    b.push(Block::field(
        "People present",
        if present.is_empty() {
            units::NOT_RECORDED.to_owned()
        } else {
            present.join("\n")
        },
    ));
    if let Some(i) = &s.a.interpreter {
        let v = match (i.used, i.language.as_deref()) {
            (Some(true), Some(l)) => format!("Yes, {}", l.trim()),
            (u, _) => yes_no(u),
        };
        b.push(Block::field("Interpreter", v));
    }
    let checked: Vec<&str> =
        s.a.identity_checked
            .iter()
            .map(|c| match c {
                IdentityCheck::Name => "name",
                IdentityCheck::Dob => "date of birth",
                IdentityCheck::NhsNumber => "NHS number",
                IdentityCheck::Address => "address",
            })
            .collect();
    b.push(Block::field(
        "Identity checked",
        if checked.is_empty() {
            "none".to_owned()
        } else {
            checked.join(", ")
        },
    ));
    if let Some(c) = &s.a.consent {
        let mut v = format!("Scope: {}", labels(&c.scope).to_lowercase());
        if let Some(by) = &c.by {
            v.push_str(&format!("; given by: {}", label(by).to_lowercase()));
        }
        if let Some(at) = c.at {
            v.push_str(&format!("; {}", units::instant(at)));
        }
        b.push(Block::field("Consent", v));
    } else {
        b.push(Block::field("Consent", units::NOT_RECORDED));
    }

    // B. Background
    b.push(Block::Heading("B. Background and concerns".to_owned()));
    let diagnoses: Vec<String> = live(&s.b.diagnoses)
        .map(|d| match d.data.snomed_code.as_deref() {
            Some(code) => format!("{} (SNOMED CT {code})", text(d.data.text.as_deref())),
            None => text(d.data.text.as_deref()),
        })
        .collect();
    b.push(Block::field(
        "Diagnoses",
        if diagnoses.is_empty() {
            "none recorded".to_owned()
        } else {
            diagnoses.join("\n")
        },
    ));
    b.push(Block::field(
        "Presenting concerns",
        text(s.b.presenting_concerns.as_deref()),
    ));
    b.push(Block::field(
        "How the child's views were recorded",
        opt_label(s.b.child_views_mode.as_ref()),
    ));
    b.push(Block::field(
        "The child's views",
        text(s.b.child_views.as_deref()),
    ));
    if s.b.child_views_observed_how.is_some() {
        b.push(Block::field(
            "How the views were observed",
            text(s.b.child_views_observed_how.as_deref()),
        ));
    }
    b.push(Block::field(
        "Communication",
        text(s.b.communication.as_deref()),
    ));
    b.push(Block::field(
        "Function compared with development",
        opt_label(s.b.function_vs_development.as_ref()),
    ));

    // C. Daily living
    b.push(Block::Heading("C. Daily living".to_owned()));
    for (code, a) in s.c.areas.all() {
        b.push(Block::field(area_name(code), area(a)));
    }

    // D. Home environment
    b.push(Block::Heading("D. Home environment".to_owned()));
    b.push(Block::field(
        "Property",
        opt_label(s.d.property_type.as_ref()),
    ));
    b.push(Block::field("Tenure", opt_label(s.d.tenure.as_ref())));
    if let Some(st) = &s.d.entrance_steps {
        let mut v = match st.count {
            Some(n) => format!("{n} step(s)"),
            None => units::NOT_RECORDED.to_owned(),
        };
        if let Some(r) = st.riser_max_mm {
            v.push_str(&format!(", highest riser {}", units::mm(r)));
        }
        b.push(Block::field("Entrance steps", v));
    }
    for d in live(&s.d.door_widths) {
        b.push(Block::field(
            format!("Door: {}", text(d.data.location.as_deref())),
            d.data
                .clear_width_mm
                .map(|w| format!("{} clear width", units::mm(w)))
                .unwrap_or_else(|| units::NOT_RECORDED.to_owned()),
        ));
    }
    if let Some(st) = &s.d.internal_stairs {
        let mut v = match st.count {
            Some(n) => format!("{n} stair(s)"),
            None => units::NOT_RECORDED.to_owned(),
        };
        v.push_str(&format!(
            "; stairlift: {}",
            yes_no(st.stairlift).to_lowercase()
        ));
        b.push(Block::field("Internal stairs", v));
    }
    b.push(Block::field(
        "Bedroom on",
        opt_label(s.d.bedroom_level.as_ref()),
    ));
    b.push(Block::field(
        "Bathroom on",
        opt_label(s.d.bathroom_level.as_ref()),
    ));
    b.push(Block::field(
        "Toilet on",
        opt_label(s.d.toilet_level.as_ref()),
    ));
    b.push(Block::field(
        "Access difficulties",
        s.d.access_issues
            .as_ref()
            .map(labels)
            .unwrap_or_else(|| units::NOT_RECORDED.to_owned()),
    ));

    // E. Seating and posture
    b.push(Block::Heading("E. Seating and posture".to_owned()));
    b.push(Block::field("Seating need", yes_no(s.e.seating_need)));
    if s.e.seating_need == Some(true) {
        b.push(Block::field(
            "Sitting ability",
            opt_label(s.e.sitting_ability.as_ref()),
        ));
        b.push(Block::field("Purposes", labels(&s.e.purposes)));
        b.push(Block::field("Postural risks", labels(&s.e.postural_risks)));
        if let Some(t) = s.e.tilt_in_space_deg {
            b.push(Block::field("Tilt in space", units::degrees(t)));
        }
        if let Some(t) = s.e.seat_to_back_angle_deg {
            b.push(Block::field("Seat-to-back angle", units::degrees(t)));
        }
        b.push(Block::field(
            "Current seating",
            text(s.e.current_seating.as_deref()),
        ));
        b.push(Block::field(
            "Recommendation",
            text(s.e.recommendation.as_deref()),
        ));
    }

    // F. Moving and handling
    b.push(Block::Heading("F. Moving and handling".to_owned()));
    b.push(Block::field(
        "Moving and handling concern",
        yes_no(s.f.mh_concern),
    ));
    if let Some(n) = s.f.carers_required {
        b.push(Block::field("Carers required", n.to_string()));
    }
    if !s.f.risk_assessment_ids.is_empty() {
        b.push(Block::field(
            "Risk assessments",
            format!(
                "{} linked (see the moving and handling plan)",
                s.f.risk_assessment_ids.len()
            ),
        ));
    }
    if let Some(d) = s.f.risk_assessment_planned_on {
        b.push(Block::field("Risk assessment planned", units::date(d)));
    }

    // G. Shared care
    b.push(Block::Heading("G. Shared care".to_owned()));
    for sc in live(&s.g.shared_care) {
        let sc = &sc.data;
        let mut v = opt_label(sc.setting.as_ref());
        if let Some(n) = sc.carer_count {
            v.push_str(&format!(", {n} carer(s)"));
        }
        v.push_str(&format!(
            "; handling plan shared: {}",
            yes_no(sc.mh_plan_shared).to_lowercase()
        ));
        b.push(Block::field("Setting", v));
    }
    b.push(Block::field("Young carers", yes_no(s.g.young_carers)));

    // H. Behaviour and safeguarding
    b.push(Block::Heading("H. Behaviour and safeguarding".to_owned()));
    b.push(Block::field(
        "Behaviour concern",
        yes_no(s.h.behaviour_concern),
    ));
    if let Some(r) = &s.h.risk_to {
        b.push(Block::field(
            "Risk to",
            format!(
                "child: {}; carers: {}; siblings: {}",
                opt_label(r.child.as_ref()).to_lowercase(),
                opt_label(r.carers.as_ref()).to_lowercase(),
                opt_label(r.siblings.as_ref()).to_lowercase()
            ),
        ));
    }
    if !s.h.behaviour_addressed_by.is_empty() {
        b.push(Block::field(
            "Addressed by",
            labels(&s.h.behaviour_addressed_by),
        ));
    }
    if let Some(t) = s.h.behaviour_assessment.as_deref() {
        b.push(Block::field("Behaviour assessment", text(Some(t))));
    }
    // Safeguarding answers stay inside the team (`RK-REPORT-SHARE`).
    if input.producer.purpose.is_internal() {
        let mut v = yes_no(s.h.safeguarding_raised);
        if let Some(r) = s.h.safeguarding_reference.as_deref() {
            v.push_str(&format!(", reference {}", r.trim()));
        }
        b.push(Block::field("Safeguarding raised", v));
    } else {
        b.push(Block::field(
            "Safeguarding",
            "Held in the clinical record; not included in reports shared outside the team.",
        ));
    }

    // I. Goals and recommendations
    b.push(Block::Heading("I. Goals and recommendations".to_owned()));
    for (n, g) in live(&s.i.goals).enumerate() {
        let g = &g.data;
        let mut v = text(g.text.as_deref());
        if let Some(o) = g.owner.as_deref() {
            v.push_str(&format!("\nOwner: {}", o.trim()));
        }
        if let Some(d) = g.target_date {
            v.push_str(&format!("\nBy: {}", units::date(d)));
        }
        if let Some(m) = g.measure.as_deref() {
            v.push_str(&format!("\nMeasure: {}", m.trim()));
        }
        b.push(Block::field(format!("Goal {}", n + 1), v));
    }
    for (n, r) in live(&s.i.recommendations).enumerate() {
        b.push(Block::field(
            format!(
                "Recommendation {} ({})",
                n + 1,
                opt_label(r.data.kind.as_ref())
            ),
            text(r.data.text.as_deref()),
        ));
    }
    b.push(Block::field(
        "Next review",
        units::opt_date(s.i.next_review_on),
    ));

    b.extend(media::photos(input));

    // J. Signature
    let state = a.sign_state();
    b.extend(common::signatures(
        "J. Signature",
        state,
        s.j.signature.as_ref(),
        s.j.countersignature.as_ref(),
        &s.j.addenda,
        people,
    ));
    b.extend(media::family_signatures(input));
    let (state_text, watermark) = common::sign_marks(state);
    Document {
        blocks: b,
        state: state_text,
        watermark,
        date: s.a.visit_date,
    }
}
