//! Validation of the child (DOMAIN.md §3.2) and referral (§3.3) records: field ranges and
//! formats (`FLD-*`), NHS numbers (`CH-NHS-*`), duplicates in the team (`CH-DUPLICATE`) and
//! the eligibility warnings a referral must acknowledge (`S-TRANSITION-AGE`).
//!
//! Drafts always save; these functions only report. `today` is the device's Europe/London
//! date, passed in (no rule reads the clock).

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    config::RulesConfig,
    dates, eligibility,
    fields::{date_issue, has_text, require, Range, Stage, Unit},
    issue::{Issue, Severity},
    nhs,
};
use crate::{
    ids::RecordId,
    model::{
        child::Child,
        common::{live, Service},
        referral::{ReasonCode, Referral, ReferrerRole},
    },
};

/// A child's weight in integer tenths of a kg: hard 0.3–250.0, soft 2.0–120.0 (§3.2).
pub const WEIGHT_KG: Range = Range::new((3, 2500), (20, 1200), Unit::KgTenths);
/// Names are 1–100 characters (§3.2).
pub const NAME_MAX_CHARS: usize = 100;
/// A date of birth is at most this many years ago (hard, §3.2).
pub const DOB_MAX_YEARS: i32 = 26;
/// Above this age the date of birth is unusual (soft, §3.2).
pub const SOFT_MAX_AGE: i32 = 19;

/// What `CH-DUPLICATE` needs to know about another child in the team, as a caseload
/// projection holds it (no document needs loading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSummary {
    /// The child's record id.
    pub id: RecordId,
    /// The child's team.
    pub team_id: Uuid,
    /// Whether the record is active (not entered in error).
    pub active: bool,
    /// NHS number as stored.
    pub nhs_number: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
}

impl From<&Child> for ChildSummary {
    fn from(c: &Child) -> Self {
        Self {
            id: c.envelope.id,
            team_id: c.envelope.team_id,
            active: c.envelope.record_status.is_active(),
            nhs_number: c.nhs_number.clone(),
            family_name: c.family_name.clone(),
            date_of_birth: c.date_of_birth,
        }
    }
}

/// A postcode upper-cased with exactly one space before the inward code, if it then matches
/// `^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$` (§3.2): `" lu1  2ab"` → `"LU1 2AB"`.
pub fn normalise_postcode(input: &str) -> Option<String> {
    let compact: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.is_ascii() || compact.len() < 5 || compact.len() > 7 {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let o = outward.as_bytes();
    let i = inward.as_bytes();
    let inward_ok = i[0].is_ascii_digit() && i[1].is_ascii_uppercase() && i[2].is_ascii_uppercase();
    // Outward: 1–2 letters, a digit, then optionally one letter or digit.
    let letters = o.iter().take_while(|b| b.is_ascii_uppercase()).count();
    let rest = &o[letters..];
    let outward_ok = (1..=2).contains(&letters)
        && match rest {
            [d] => d.is_ascii_digit(),
            [d, x] => d.is_ascii_digit() && (x.is_ascii_digit() || x.is_ascii_uppercase()),
            _ => false,
        };
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

/// Family names compared for `CH-DUPLICATE`: case, surrounding and repeated spaces ignored.
fn name_key(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_name(out: &mut Vec<Issue>, stage: Stage, path: &str, label: &str, v: Option<&str>) {
    match v {
        Some(s) if !s.trim().is_empty() => {
            let n = s.chars().count();
            if n > NAME_MAX_CHARS {
                out.push(
                    Issue::error(
                        "FLD-HARD",
                        path,
                        format!("{label} is {n} characters; at most {NAME_MAX_CHARS} fit."),
                    )
                    .with_value(n.to_string()),
                );
            }
        }
        _ => require(out, stage, false, path, label),
    }
}

/// Validates a child record on local date `today`. `team_children` are the other children
/// of the team (the record itself, other teams and records entered in error are skipped):
/// the same NHS number on another active child is `CH-DUPLICATE` ERROR, the same family name
/// and date of birth a `CH-DUPLICATE` WARN. At `Stage::Final` (signing an assessment about the
/// child) required fields are reported too, and a missing NHS number is `CH-NHS-MISSING`
/// (WARN).
pub fn validate_child(
    child: &Child,
    team_children: &[ChildSummary],
    today: NaiveDate,
    stage: Stage,
) -> Vec<Issue> {
    let mut out = Vec::new();

    // NHS number.
    match child.nhs_number.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => out.extend(nhs::issues("nhs_number", n)),
        None if stage.is_final() => out.push(Issue::warn(
            "CH-NHS-MISSING",
            "nhs_number",
            "The child has no NHS number; trace it if you can, or confirm signing without it.",
        )),
        None => {}
    }

    check_name(
        &mut out,
        stage,
        "given_name",
        "Given name",
        child.given_name.as_deref(),
    );
    check_name(
        &mut out,
        stage,
        "family_name",
        "Family name",
        child.family_name.as_deref(),
    );
    if let Some(p) = child
        .preferred_name
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        check_name(&mut out, stage, "preferred_name", "Preferred name", Some(p));
    }

    // Date of birth: not future, at most 26 years ago; unusual above 19.
    match child.date_of_birth {
        Some(dob) => {
            if dob > today {
                out.push(date_issue(
                    Severity::Error,
                    "date_of_birth",
                    "Date of birth",
                    dob,
                    "is in the future",
                ));
            } else if dates::add_years(today, -DOB_MAX_YEARS).is_some_and(|limit| dob < limit) {
                out.push(date_issue(
                    Severity::Error,
                    "date_of_birth",
                    "Date of birth",
                    dob,
                    &format!("is more than {DOB_MAX_YEARS} years ago"),
                ));
            } else if dates::age(dob, today, Default::default()) > SOFT_MAX_AGE {
                out.push(date_issue(
                    Severity::Warn,
                    "date_of_birth",
                    "Date of birth",
                    dob,
                    &format!("makes the child older than {SOFT_MAX_AGE}; confirm it is right"),
                ));
            }
        }
        None => require(&mut out, stage, false, "date_of_birth", "Date of birth"),
    }

    require(&mut out, stage, child.gender.is_some(), "gender", "Gender");
    require(
        &mut out,
        stage,
        child.gp_area.is_some(),
        "gp_area",
        "GP area",
    );
    require(
        &mut out,
        stage,
        child.education_setting.is_some(),
        "education_setting",
        "Education setting",
    );
    require(
        &mut out,
        stage,
        child.info_sharing_consent.is_some(),
        "info_sharing_consent",
        "Information-sharing consent",
    );

    // Address and postcode.
    match &child.address {
        None => require(&mut out, stage, false, "address", "Address"),
        Some(a) => {
            require(
                &mut out,
                stage,
                a.lines.iter().any(|l| !l.trim().is_empty()),
                "address.lines",
                "Address",
            );
            match a.postcode.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) if normalise_postcode(p).is_none() => out.push(
                    Issue::error(
                        "FLD-FORMAT",
                        "address.postcode",
                        format!("The postcode ({p}) is not a UK postcode such as LU1 2AB."),
                    )
                    .with_value(p),
                ),
                Some(_) => {}
                None => require(&mut out, stage, false, "address.postcode", "Postcode"),
            }
        }
    }

    // Weights: range, and measured between birth and today.
    for w in live(&child.weights) {
        let base = format!("weights.{}", w.item_id);
        out.extend(WEIGHT_KG.check(
            &format!("{base}.value_kg"),
            "The child's weight",
            w.data.value_kg,
        ));
        let on = w.data.measured_on;
        if on > today {
            out.push(date_issue(
                Severity::Error,
                &format!("{base}.measured_on"),
                "The weighing date",
                on,
                "is in the future",
            ));
        } else if child.date_of_birth.is_some_and(|dob| on < dob) {
            out.push(date_issue(
                Severity::Error,
                &format!("{base}.measured_on"),
                "The weighing date",
                on,
                "is before the child's date of birth",
            ));
        }
    }

    for c in live(&child.carers) {
        require(
            &mut out,
            stage,
            has_text(c.data.name.as_deref()),
            &format!("carers.{}.name", c.item_id),
            "Carer's name",
        );
    }
    for s in live(&child.siblings) {
        if let Some(d) = s.data.date_of_birth.filter(|d| *d > today) {
            out.push(date_issue(
                Severity::Error,
                &format!("siblings.{}.date_of_birth", s.item_id),
                "A sibling's date of birth",
                d,
                "is in the future",
            ));
        }
    }
    for a in live(&child.alerts) {
        require(
            &mut out,
            stage,
            !a.data.text.trim().is_empty(),
            &format!("alerts.{}.text", a.item_id),
            "Alert text",
        );
    }

    if let Some(d) = child.deceased_on {
        if d > today {
            out.push(date_issue(
                Severity::Error,
                "deceased_on",
                "Date of death",
                d,
                "is in the future",
            ));
        } else if child.date_of_birth.is_some_and(|dob| d < dob) {
            out.push(date_issue(
                Severity::Error,
                "deceased_on",
                "Date of death",
                d,
                "is before the date of birth",
            ));
        }
    }

    out.extend(duplicates(child, team_children));
    out
}

/// `CH-DUPLICATE` against the team's other active children.
fn duplicates(child: &Child, team_children: &[ChildSummary]) -> Vec<Issue> {
    let mut out = Vec::new();
    let others = || {
        team_children.iter().filter(|o| {
            o.active && o.id != child.envelope.id && o.team_id == child.envelope.team_id
        })
    };
    if let Some(nhs) = child.nhs_number.as_deref().and_then(nhs::normalise) {
        if let Some(o) =
            others().find(|o| o.nhs_number.as_deref().and_then(nhs::normalise) == Some(nhs.clone()))
        {
            out.push(
                Issue::error(
                    "CH-DUPLICATE",
                    "nhs_number",
                    format!(
                        "NHS number {} is already on another child in the team (record {}); \
                         open that record instead of creating a second one.",
                        nhs::format(&nhs).unwrap_or_else(|| nhs.clone()),
                        o.id
                    ),
                )
                .with_value(nhs.clone()),
            );
        }
    }
    if let (Some(name), Some(dob)) = (
        child
            .family_name
            .as_deref()
            .map(name_key)
            .filter(|n| !n.is_empty()),
        child.date_of_birth,
    ) {
        if let Some(o) = others().find(|o| {
            o.date_of_birth == Some(dob)
                && o.family_name.as_deref().map(name_key) == Some(name.clone())
        }) {
            out.push(
                Issue::warn(
                    "CH-DUPLICATE",
                    "family_name",
                    format!(
                        "Another child in the team (record {}) has the same family name and date \
                         of birth ({dob}); check this is not the same child.",
                        o.id
                    ),
                )
                .with_value(format!("{name} {dob}")),
            );
        }
    }
    out
}

/// Validates a referral about `child` on local date `today` (§3.3): dates within their
/// ranges (`received_on` between the DOB and today, `closed_on` between `received_on` and
/// today), the fields each service needs, the details each requested need needs, and the
/// eligibility warnings (`S-TRANSITION-AGE`, evaluated at the triage `as_of`).
pub fn validate_referral(
    referral: &Referral,
    child: &Child,
    today: NaiveDate,
    stage: Stage,
    config: &RulesConfig,
) -> Vec<Issue> {
    let mut out = Vec::new();
    require(
        &mut out,
        stage,
        referral.service.is_some(),
        "service",
        "Service",
    );
    match referral.received_on {
        Some(d) if d > today => out.push(date_issue(
            Severity::Error,
            "received_on",
            "The date received",
            d,
            "is in the future",
        )),
        Some(d) if child.date_of_birth.is_some_and(|dob| d < dob) => out.push(date_issue(
            Severity::Error,
            "received_on",
            "The date received",
            d,
            "is before the child's date of birth",
        )),
        Some(_) => {}
        None => require(&mut out, stage, false, "received_on", "Date received"),
    }
    require(&mut out, stage, referral.route.is_some(), "route", "Route");
    let r = &referral.referrer;
    require(
        &mut out,
        stage,
        r.role.is_some(),
        "referrer.role",
        "Referrer's role",
    );
    if r.role == Some(ReferrerRole::OtherProfessional) {
        require(
            &mut out,
            stage,
            has_text(r.role_text.as_deref()),
            "referrer.role_text",
            "The other professional's role",
        );
    }
    require(
        &mut out,
        stage,
        !referral.reasons.is_empty(),
        "reasons",
        "At least one reason for referral",
    );
    match referral.service {
        Some(Service::Health) => {
            require(
                &mut out,
                stage,
                r.knows_child_well.is_some(),
                "referrer.knows_child_well",
                "Whether the referrer knows the child well",
            );
            require(
                &mut out,
                stage,
                referral.functional_difficulty.is_some(),
                "functional_difficulty",
                "Whether function is in line with development",
            );
        }
        Some(Service::SocialCare) => require(
            &mut out,
            stage,
            referral.permanent_substantial_disability.is_some(),
            "permanent_substantial_disability",
            "Whether the child has a permanent and substantial disability",
        ),
        None => {}
    }
    if referral.reasons.contains(&ReasonCode::HomeAccess) {
        require(
            &mut out,
            stage,
            !referral.access_areas.is_empty(),
            "access_areas",
            "The areas of the home with access problems",
        );
    }
    if referral.reasons.contains(&ReasonCode::PosturalSeatingHome) {
        require(
            &mut out,
            stage,
            !referral.postural_purposes.is_empty(),
            "postural_purposes",
            "What the postural seating is for",
        );
    }
    if referral.reasons.contains(&ReasonCode::BehaviourRiskHome) {
        require(
            &mut out,
            stage,
            referral.behaviour_risk_level.is_some(),
            "behaviour_risk_level",
            "The behaviour risk level",
        );
        require(
            &mut out,
            stage,
            referral.siblings_needs_affected.is_some(),
            "siblings_needs_affected",
            "Whether siblings' needs are affected",
        );
    }
    require(
        &mut out,
        stage,
        referral.disposition.is_some(),
        "disposition",
        "Disposition",
    );
    if let Some(closed) = referral.closed_on {
        if closed > today {
            out.push(date_issue(
                Severity::Error,
                "closed_on",
                "The closing date",
                closed,
                "is in the future",
            ));
        } else if referral.received_on.is_some_and(|r| closed < r) {
            out.push(date_issue(
                Severity::Error,
                "closed_on",
                "The closing date",
                closed,
                "is before the referral was received",
            ));
        }
        require(
            &mut out,
            stage,
            has_text(referral.closure_reason.as_deref()),
            "closure_reason",
            "Closure reason",
        );
    }
    if let (Some(service), Some(as_of)) = (referral.service, eligibility::triage_as_of(referral)) {
        out.extend(eligibility::warnings(
            service, child, referral, as_of, config,
        ));
    }
    out
}
