//! Home-visit assessment rules (DOMAIN.md §3.4): ranges and required fields of sections A–J,
//! `HV-A-TIMES`, `HV-A-IDENTITY`, `HV-A-CONSENT`, `HV-C-AREAS`, `HV-E-PURPOSE`, `HV-F-RA`,
//! `HV-I-REVIEW`, and the form's part of `S-HOME-VISIT` and `S-BEHAVIOUR-GATE`.
//!
//! The visit date is the `as_of` of the form's date rules (DOMAIN.md §1.5).

use chrono::NaiveDate;

use super::{
    dates::add_months,
    fields::{check_opt, date_issue, has_text, require, Range, Stage, Unit},
    issue::{Issue, Severity},
};
use crate::model::{
    assessment::{Assessment, ConsentScope, VisitLocation},
    common::{live, Service},
};

/// `entrance_steps.count`: 0–50, usually 0–10.
pub const ENTRANCE_STEPS: Range = Range::new((0, 50), (0, 10), Unit::Count);
/// `entrance_steps.riser_max_mm`: 10–400 mm, usually 75–220 mm.
pub const RISER_MAX_MM: Range = Range::new((10, 400), (75, 220), Unit::Mm);
/// `door_widths[].clear_width_mm`: 400–2500 mm, usually 700–1200 mm.
pub const DOOR_CLEAR_WIDTH_MM: Range = Range::new((400, 2500), (700, 1200), Unit::Mm);
/// `internal_stairs.count`: 0–40, usually 0–20.
pub const INTERNAL_STAIRS: Range = Range::new((0, 40), (0, 20), Unit::Count);
/// `tilt_in_space_deg`: −10–60°, usually 0–30°.
pub const TILT_IN_SPACE_DEG: Range = Range::new((-10, 60), (0, 30), Unit::Degrees);
/// `seat_to_back_angle_deg`: 60–180°, usually 80–120°.
pub const SEAT_TO_BACK_ANGLE_DEG: Range = Range::new((60, 180), (80, 120), Unit::Degrees);
/// F `carers_required`: 0–4, usually 0–2.
pub const CARERS_REQUIRED: Range = Range::new((0, 4), (0, 2), Unit::Count);
/// `HV-A-TIMES`: a visit longer than this many minutes is unusual.
pub const MAX_USUAL_VISIT_MINUTES: i64 = 4 * 60;

/// What the form's rules need besides the record.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssessmentContext {
    /// Draft or sign.
    pub stage: Stage,
    /// The service of the referral the visit belongs to (`S-HOME-VISIT`,
    /// `S-BEHAVIOUR-GATE`).
    pub service: Option<Service>,
    /// Whether a photograph is attached to the form (`HV-A-CONSENT`).
    pub photo_attached: bool,
    /// The signing date, to check `visit_date ≤ sign date`.
    pub sign_date: Option<NaiveDate>,
}

/// Validates a home-visit assessment. Drafts always save; the issues flag.
pub fn validate(a: &Assessment, ctx: &AssessmentContext) -> Vec<Issue> {
    let mut out = Vec::new();
    let stage = ctx.stage;
    let s = &a.sections;

    // A — the visit.
    let visit = s.a.visit_date;
    require(
        &mut out,
        stage,
        visit.is_some(),
        "sections.A.visit_date",
        "The visit date",
    );
    if let (Some(v), Some(sign)) = (visit, ctx.sign_date) {
        if v > sign {
            out.push(date_issue(
                Severity::Error,
                "sections.A.visit_date",
                "The visit date",
                v,
                &format!("is after the signing date {sign}"),
            ));
        }
    }
    require(
        &mut out,
        stage,
        s.a.start_time.is_some(),
        "sections.A.start_time",
        "The start time",
    );
    require(
        &mut out,
        stage,
        s.a.end_time.is_some(),
        "sections.A.end_time",
        "The end time",
    );
    if let (Some(start), Some(end)) = (s.a.start_time, s.a.end_time) {
        let minutes = end.minutes() - start.minutes();
        let value = format!("{start}-{end}");
        if minutes <= 0 {
            out.push(
                Issue::error(
                    "HV-A-TIMES",
                    "sections.A.end_time",
                    format!("The end time ({end}) must be after the start time ({start})."),
                )
                .with_value(value),
            );
        } else if minutes > MAX_USUAL_VISIT_MINUTES {
            out.push(
                Issue::warn(
                    "HV-A-TIMES",
                    "sections.A.end_time",
                    format!(
                        "The visit lasted {} h {:02} min ({start} to {end}), more than 4 hours.",
                        minutes / 60,
                        minutes % 60
                    ),
                )
                .with_value(value),
            );
        }
    }
    require(
        &mut out,
        stage,
        s.a.location.is_some(),
        "sections.A.location",
        "The location",
    );
    if ctx.service == Some(Service::SocialCare) {
        if let Some(loc) = s.a.location.filter(|l| *l != VisitLocation::ChildHome) {
            let code = serde_json::to_value(loc)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push(
                Issue::warn(
                    "S-HOME-VISIT",
                    "sections.A.location",
                    format!(
                        "The social-care service assesses at the child's home; this visit was at \
                         `{code}`."
                    ),
                )
                .with_value(code.clone()),
            );
        }
    }
    require(
        &mut out,
        stage,
        live(&s.a.people_present).next().is_some(),
        "sections.A.people_present",
        "At least one person present",
    );
    let ids = s.a.identity_checked.len();
    if stage.is_final() && ids < 2 {
        out.push(
            Issue::error(
                "HV-A-IDENTITY",
                "sections.A.identity_checked",
                format!(
                    "Check at least two identifiers (name, date of birth, NHS number, address); \
                     {ids} recorded."
                ),
            )
            .with_value(ids.to_string()),
        );
    }
    match &s.a.consent {
        None if stage.is_final() => out.push(Issue::error(
            "HV-A-CONSENT",
            "sections.A.consent",
            "Record consent to the assessment.",
        )),
        None => {}
        Some(c) => {
            if stage.is_final() && !c.scope.contains(&ConsentScope::Assessment) {
                out.push(Issue::error(
                    "HV-A-CONSENT",
                    "sections.A.consent.scope",
                    "Consent must cover the assessment.",
                ));
            }
            require(
                &mut out,
                stage,
                c.by.is_some(),
                "sections.A.consent.by",
                "Who gave consent",
            );
            require(
                &mut out,
                stage,
                c.at.is_some(),
                "sections.A.consent.at",
                "When consent was given",
            );
        }
    }
    let photos_consented =
        s.a.consent
            .as_ref()
            .is_some_and(|c| c.scope.contains(&ConsentScope::Photos));
    if ctx.photo_attached && !photos_consented {
        out.push(Issue::error(
            "HV-A-CONSENT",
            "sections.A.consent.scope",
            "A photograph is attached but consent does not cover photos.",
        ));
    }

    // B — background.
    require(
        &mut out,
        stage,
        has_text(s.b.presenting_concerns.as_deref()),
        "sections.B.presenting_concerns",
        "The presenting concerns",
    );
    require(
        &mut out,
        stage,
        s.b.function_vs_development.is_some(),
        "sections.B.function_vs_development",
        "Function compared with development",
    );

    // C — every area has a level.
    if stage.is_final() {
        for (name, area) in s.c.areas.all() {
            if area.and_then(|a| a.level).is_none() {
                out.push(Issue::error(
                    "HV-C-AREAS",
                    format!("sections.C.areas.{name}.level"),
                    format!(
                        "Record a level for {} (`not_assessed` is allowed).",
                        name.replace('_', " ")
                    ),
                ));
            }
        }
    }

    // D — home environment.
    let d = &s.d;
    require(
        &mut out,
        stage,
        d.property_type.is_some(),
        "sections.D.property_type",
        "The property type",
    );
    require(
        &mut out,
        stage,
        d.tenure.is_some(),
        "sections.D.tenure",
        "The tenure",
    );
    let steps = d.entrance_steps.clone().unwrap_or_default();
    require(
        &mut out,
        stage,
        steps.count.is_some(),
        "sections.D.entrance_steps.count",
        "The number of entrance steps",
    );
    check_opt(
        &mut out,
        &ENTRANCE_STEPS,
        "sections.D.entrance_steps.count",
        "The number of entrance steps",
        steps.count,
    );
    require(
        &mut out,
        stage,
        steps.riser_max_mm.is_some() || steps.count.is_none_or(|c| c <= 0),
        "sections.D.entrance_steps.riser_max_mm",
        "The highest entrance step riser",
    );
    check_opt(
        &mut out,
        &RISER_MAX_MM,
        "sections.D.entrance_steps.riser_max_mm",
        "The highest entrance step riser",
        steps.riser_max_mm,
    );
    for door in live(&d.door_widths) {
        check_opt(
            &mut out,
            &DOOR_CLEAR_WIDTH_MM,
            &format!("sections.D.door_widths.{}.clear_width_mm", door.item_id),
            "The door's clear width",
            door.data.clear_width_mm,
        );
    }
    let stairs = d.internal_stairs.clone().unwrap_or_default();
    require(
        &mut out,
        stage,
        stairs.count.is_some(),
        "sections.D.internal_stairs.count",
        "The number of internal stairs",
    );
    check_opt(
        &mut out,
        &INTERNAL_STAIRS,
        "sections.D.internal_stairs.count",
        "The number of internal stairs",
        stairs.count,
    );
    require(
        &mut out,
        stage,
        d.bedroom_level.is_some(),
        "sections.D.bedroom_level",
        "The bedroom floor",
    );
    require(
        &mut out,
        stage,
        d.bathroom_level.is_some(),
        "sections.D.bathroom_level",
        "The bathroom floor",
    );
    require(
        &mut out,
        stage,
        d.toilet_level.is_some(),
        "sections.D.toilet_level",
        "The toilet floor",
    );
    require(
        &mut out,
        stage,
        d.access_issues.is_some(),
        "sections.D.access_issues",
        "Access issues (answer even when there are none)",
    );

    // E — posture and seating.
    let e = &s.e;
    require(
        &mut out,
        stage,
        e.seating_need.is_some(),
        "sections.E.seating_need",
        "Whether there is a seating need",
    );
    if e.seating_need == Some(true) {
        require(
            &mut out,
            stage,
            e.sitting_ability.is_some(),
            "sections.E.sitting_ability",
            "The sitting ability",
        );
        if stage.is_final() && e.purposes.is_empty() {
            out.push(Issue::error(
                "HV-E-PURPOSE",
                "sections.E.purposes",
                "Record at least one purpose of the seating (milestones, postural alignment).",
            ));
        }
    }
    check_opt(
        &mut out,
        &TILT_IN_SPACE_DEG,
        "sections.E.tilt_in_space_deg",
        "The tilt in space",
        e.tilt_in_space_deg,
    );
    check_opt(
        &mut out,
        &SEAT_TO_BACK_ANGLE_DEG,
        "sections.E.seat_to_back_angle_deg",
        "The seat-to-back angle",
        e.seat_to_back_angle_deg,
    );

    // F — moving and handling.
    let f = &s.f;
    require(
        &mut out,
        stage,
        f.mh_concern.is_some(),
        "sections.F.mh_concern",
        "Whether there is an M&H concern",
    );
    if f.mh_concern == Some(true) {
        require(
            &mut out,
            stage,
            f.carers_required.is_some(),
            "sections.F.carers_required",
            "The number of carers required",
        );
        if stage.is_final()
            && f.risk_assessment_ids.is_empty()
            && f.risk_assessment_planned_on.is_none()
        {
            out.push(Issue::error(
                "HV-F-RA",
                "sections.F.risk_assessment_ids",
                "With an M&H concern, link a risk assessment or record when one is planned.",
            ));
        }
    }
    check_opt(
        &mut out,
        &CARERS_REQUIRED,
        "sections.F.carers_required",
        "The number of carers required",
        f.carers_required,
    );

    // G — shared care.
    require(
        &mut out,
        stage,
        s.g.young_carers.is_some(),
        "sections.G.young_carers",
        "Whether siblings help with care",
    );

    // H — behaviour and safeguarding.
    let h = &s.h;
    require(
        &mut out,
        stage,
        h.behaviour_concern.is_some(),
        "sections.H.behaviour_concern",
        "Whether there is a behaviour concern",
    );
    if h.behaviour_concern == Some(true) {
        let r = h.risk_to.clone().unwrap_or_default();
        for (who, level) in [
            ("child", r.child),
            ("carers", r.carers),
            ("siblings", r.siblings),
        ] {
            require(
                &mut out,
                stage,
                level.is_some(),
                &format!("sections.H.risk_to.{who}"),
                &format!("The behaviour risk to the {who}"),
            );
        }
    }
    if ctx.service == Some(Service::SocialCare)
        && has_text(h.behaviour_assessment.as_deref())
        && h.behaviour_addressed_by.is_empty()
    {
        out.push(Issue::error(
            "S-BEHAVIOUR-GATE",
            "sections.H.behaviour_assessment",
            "The social-care service assesses behaviour only once the Autism Spectrum Team, \
             Behaviour and Tuition Team, CAMHS or the community learning disability nursing team \
             has addressed it; record which team has.",
        ));
    }
    require(
        &mut out,
        stage,
        h.safeguarding_raised.is_some(),
        "sections.H.safeguarding_raised",
        "Whether a safeguarding concern was raised",
    );

    // I — goals and recommendations.
    let i = &s.i;
    require(
        &mut out,
        stage,
        live(&i.recommendations).next().is_some(),
        "sections.I.recommendations",
        "At least one recommendation",
    );
    match (i.next_review_on, visit) {
        (None, _) if stage.is_final() => out.push(Issue::warn(
            "HV-I-REVIEW",
            "sections.I.next_review_on",
            "No review date is set.",
        )),
        (Some(r), Some(v)) if r <= v => out.push(date_issue(
            Severity::Error,
            "sections.I.next_review_on",
            "The review date",
            r,
            &format!("must be after the visit date {v}"),
        )),
        (Some(r), Some(v)) if add_months(v, 12).is_some_and(|limit| r > limit) => {
            out.push(date_issue(
                Severity::Warn,
                "sections.I.next_review_on",
                "The review date",
                r,
                &format!("is more than 12 months after the visit ({v})"),
            ))
        }
        _ => {}
    }
    out
}
