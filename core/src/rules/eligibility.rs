//! Eligibility of a referral for the health and the social-care service (DOMAIN.md §2.2–2.7).
//!
//! [`evaluate`] is pure: it reads the child, the referral, an explicit `as_of` local date and
//! the team's configuration, never the clock (§1.5, `SAF-ELIG-DATE`). Each blocking rule
//! yields pass, fail or unknown; any fail makes the referral `NotEligible` (missing inputs are
//! then ignored, as they cannot make it eligible), else any unknown makes it
//! `NeedsInformation`, else it is `Eligible`. Declined parts never block and appear in every
//! variant.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{config::RulesConfig, dates, issue::Issue};
pub use crate::model::referral::{DeclinedPart, EligibilityOutcome, EligibilitySnapshot, Signpost};
use crate::model::{
    assessment::RiskLevel,
    child::{Child, EducationSetting, GpArea, LocalAuthority},
    common::{Service, YesNo},
    referral::{Disposition, ReasonCode, Referral, ReferralRoute, ReferrerCategory, ReferrerRole},
};

/// The health service's blocking rules in canonical (table row) order (§2.6).
pub const HEALTH_RULES: [&str; 5] = [
    "H-REF-SOURCE",
    "H-ELIG-AGE",
    "H-ELIG-GP",
    "H-ELIG-NEED",
    "H-EXCL-SENSORY",
];

/// The social-care service's rules in canonical (table row) order (§2.7); `S-INELIGIBLE`
/// is appended to every social-care `NotEligible`.
pub const SOCIAL_CARE_RULES: [&str; 6] = [
    "S-REF-SOURCE",
    "S-ELIG-AGE",
    "S-ELIG-DISABILITY",
    "S-NEED",
    "S-BEHAVIOUR-GATE",
    "S-INELIGIBLE",
];

/// The canonical rule order of a service (§2.6, §2.7).
pub fn canonical_rules(service: Service) -> &'static [&'static str] {
    match service {
        Service::Health => &HEALTH_RULES,
        Service::SocialCare => &SOCIAL_CARE_RULES,
    }
}

/// The default `as_of` at triage (§1.5): the date the referral was received.
pub fn triage_as_of(referral: &Referral) -> Option<NaiveDate> {
    referral.received_on
}

/// What one blocking rule made of the inputs.
#[derive(Debug)]
enum Verdict {
    Pass,
    Fail(String),
    Unknown(Vec<&'static str>),
}

/// One blocking rule's result, with the signpost it gives when it fails.
#[derive(Debug)]
struct RuleResult {
    rule_id: &'static str,
    verdict: Verdict,
    signpost: Option<Signpost>,
}

impl RuleResult {
    fn new(rule_id: &'static str, verdict: Verdict, signpost: Option<Signpost>) -> Self {
        Self {
            rule_id,
            verdict,
            signpost,
        }
    }
}

fn declined(rule_id: &str, reason: &str, signpost: Option<Signpost>) -> DeclinedPart {
    DeclinedPart {
        rule_id: rule_id.to_owned(),
        reason: format!("[{rule_id}] {reason}"),
        signpost,
    }
}

/// Evaluates a referral for `service` on local date `as_of` (§2.2).
pub fn evaluate(
    service: Service,
    child: &Child,
    referral: &Referral,
    as_of: NaiveDate,
    config: &RulesConfig,
) -> EligibilityOutcome {
    let (results, declined_parts) = match service {
        Service::Health => health(child, referral, as_of, config),
        Service::SocialCare => social_care(child, referral, as_of, config),
    };
    assemble(service, results, declined_parts)
}

fn assemble(
    service: Service,
    results: Vec<RuleResult>,
    declined_parts: Vec<DeclinedPart>,
) -> EligibilityOutcome {
    let mut rule_ids = Vec::new();
    let mut reasons = Vec::new();
    let mut signposts = Vec::new();
    for r in &results {
        if let Verdict::Fail(reason) = &r.verdict {
            rule_ids.push(r.rule_id.to_owned());
            reasons.push(format!("[{}] {reason}", r.rule_id));
            signposts.extend(r.signpost);
        }
    }
    if !rule_ids.is_empty() {
        signposts.extend(declined_parts.iter().filter_map(|d| d.signpost));
        if service == Service::SocialCare {
            rule_ids.push("S-INELIGIBLE".to_owned());
            reasons.push(
                "[S-INELIGIBLE] The referral is returned to the Family Partnership Service."
                    .to_owned(),
            );
            signposts.push(Signpost::FamilyPartnershipService);
        }
        let mut signpost: Vec<Signpost> = Vec::new();
        for s in signposts {
            if !signpost.contains(&s) {
                signpost.push(s);
            }
        }
        return EligibilityOutcome::NotEligible {
            rule_ids,
            reasons,
            signpost,
            declined_parts,
        };
    }
    let mut missing: Vec<String> = Vec::new();
    for r in &results {
        if let Verdict::Unknown(paths) = &r.verdict {
            for p in paths {
                if !missing.iter().any(|m| m == p) {
                    missing.push((*p).to_owned());
                }
            }
        }
    }
    if missing.is_empty() {
        EligibilityOutcome::Eligible { declined_parts }
    } else {
        EligibilityOutcome::NeedsInformation {
            missing,
            declined_parts,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Health service (§2.6)

fn health(
    child: &Child,
    referral: &Referral,
    as_of: NaiveDate,
    config: &RulesConfig,
) -> (Vec<RuleResult>, Vec<DeclinedPart>) {
    let results = vec![
        RuleResult::new(
            "H-REF-SOURCE",
            h_ref_source(referral, config),
            Some(Signpost::AskProfessionalToRefer),
        ),
        RuleResult::new(
            "H-ELIG-AGE",
            h_elig_age(child, as_of),
            Some(Signpost::AdultServices),
        ),
        RuleResult::new(
            "H-ELIG-GP",
            h_elig_gp(child),
            Some(Signpost::OwnAreaService),
        ),
        RuleResult::new("H-ELIG-NEED", h_elig_need(referral), None),
        RuleResult::new(
            "H-EXCL-SENSORY",
            h_excl_sensory(referral),
            Some(Signpost::GraduatedOfferSensory),
        ),
    ];
    let mut parts = Vec::new();
    if referral.reasons.contains(&ReasonCode::AsiTherapyRequest) {
        parts.push(declined(
            "H-EXCL-ASI",
            "Ayres Sensory Integration therapy is not provided (the evidence is weak and it is \
             not recommended locally); the rest of the referral is judged on function.",
            Some(Signpost::GraduatedOfferSensory),
        ));
    }
    if referral.reasons.contains(&ReasonCode::IotReportComment) {
        parts.push(declined(
            "H-EXCL-IOT",
            "The service does not comment on independent OT reports, EHCP processes or \
             tribunals; it speaks only to its own assessments and recommendations.",
            None,
        ));
    }
    parts.extend(wheelchair_part(referral));
    (results, parts)
}

fn wheelchair_part(referral: &Referral) -> Option<DeclinedPart> {
    referral
        .reasons
        .contains(&ReasonCode::WheelchairAssessment)
        .then(|| {
            declined(
                "S-WHEELCHAIR",
                "Wheelchair needs are assessed by the wheelchair service, on its own referral.",
                Some(Signpost::WheelchairService),
            )
        })
}

fn h_ref_source(referral: &Referral, config: &RulesConfig) -> Verdict {
    let r = &referral.referrer;
    let category = r.role.map(ReferrerRole::category);
    let family = category == Some(ReferrerCategory::Family);
    if !config.h_accepts_family {
        if family {
            return Verdict::Fail(
                "The health service takes referrals only from a professional who knows the \
                 child well, not from the family; a professional working with the child can \
                 refer."
                    .into(),
            );
        }
        if referral.route == Some(ReferralRoute::SelfOrFamily) {
            return Verdict::Fail(
                "The referral came from the family; the health service takes referrals only \
                 from a professional who knows the child well."
                    .into(),
            );
        }
    }
    // A family referral the team has chosen to accept needs no "knows the child well".
    if family {
        return Verdict::Pass;
    }
    if r.knows_child_well == Some(false) {
        return Verdict::Fail(
            "The referrer does not know the child well; the health service needs a referral \
             from a professional who does."
                .into(),
        );
    }
    let mut missing = Vec::new();
    if r.role.is_none() {
        missing.push("referral.referrer.role");
    }
    if r.knows_child_well.is_none() {
        missing.push("referral.referrer.knows_child_well");
    }
    if r.role == Some(ReferrerRole::OtherProfessional) && !has_text(r.role_text.as_deref()) {
        missing.push("referral.referrer.role_text");
    }
    verdict_from_missing(missing)
}

fn h_elig_age(child: &Child, as_of: NaiveDate) -> Verdict {
    let Some(dob) = child.date_of_birth else {
        return Verdict::Unknown(vec!["child.date_of_birth"]);
    };
    // `ay_end` is `None` only when the year is beyond the calendar, i.e. far in the future.
    let end18 = dates::ay_end(dob, 18);
    let end19 = dates::ay_end(dob, 19);
    if end18.is_none_or(|end| as_of <= end) {
        return Verdict::Pass;
    }
    if let Some(end19) = end19.filter(|end| as_of > *end) {
        return Verdict::Fail(format!(
            "On {as_of} the child is past the end of the academic year in which they turned 19 \
             ({end19}), the limit even for specialist provision."
        ));
    }
    match child.education_setting {
        Some(EducationSetting::Specialist) => Verdict::Pass,
        None | Some(EducationSetting::Unknown) => Verdict::Unknown(vec!["child.education_setting"]),
        Some(_) => Verdict::Fail(format!(
            "On {as_of} the child is past the end of the academic year in which they turned 18 \
             ({}); only children in specialist provision are seen to the end of the year they \
             turn 19.",
            end18.map(|d| d.to_string()).unwrap_or_default()
        )),
    }
}

fn h_elig_gp(child: &Child) -> Verdict {
    match child.gp_area {
        Some(GpArea::Luton | GpArea::Bedfordshire) => Verdict::Pass,
        Some(GpArea::Other) => Verdict::Fail(
            "The child's GP is outside Luton and Bedfordshire; the service sees children \
             registered with a Luton or Bedfordshire GP."
                .into(),
        ),
        None | Some(GpArea::Unknown) => Verdict::Unknown(vec!["child.gp_area"]),
    }
}

fn has_functional_area(referral: &Referral) -> bool {
    referral.reasons.iter().any(|r| r.is_functional())
}

fn h_elig_need(referral: &Referral) -> Verdict {
    match referral.functional_difficulty {
        Some(YesNo::No) => Verdict::Fail(
            "The referral says the child's everyday skills are in line with their overall \
             developmental abilities; the service sees children whose function is not."
                .into(),
        ),
        Some(YesNo::Yes) if has_functional_area(referral) => Verdict::Pass,
        Some(YesNo::Yes) => Verdict::Unknown(vec!["referral.reasons"]),
        None => Verdict::Unknown(vec!["referral.functional_difficulty"]),
    }
}

fn h_excl_sensory(referral: &Referral) -> Verdict {
    let solely_sensory = referral.reasons.contains(&ReasonCode::SensoryDifferences)
        && !has_functional_area(referral);
    if !solely_sensory {
        return Verdict::Pass;
    }
    match referral.functional_difficulty {
        Some(YesNo::No) => Verdict::Fail(
            "The referral is only about sensory differences, with function in line with \
             development; the service helps adults adapt environment, task and expectations \
             through its graduated offer instead."
                .into(),
        ),
        Some(YesNo::Yes) => Verdict::Pass,
        None => Verdict::Unknown(vec!["referral.functional_difficulty"]),
    }
}

// ---------------------------------------------------------------------------------------
// Social-care service (§2.7)

fn social_care(
    child: &Child,
    referral: &Referral,
    as_of: NaiveDate,
    config: &RulesConfig,
) -> (Vec<RuleResult>, Vec<DeclinedPart>) {
    let needs = needs(referral);
    let (gate, gate_declined) = s_behaviour_gate(referral, &needs);
    let results = vec![
        RuleResult::new(
            "S-REF-SOURCE",
            s_ref_source(referral, config),
            Some(Signpost::FamilyPartnershipService),
        ),
        RuleResult::new("S-ELIG-AGE", s_elig_age(child, as_of, config), None),
        RuleResult::new(
            "S-ELIG-DISABILITY",
            s_elig_disability(child, referral, config),
            None,
        ),
        RuleResult::new("S-NEED", s_need(referral, &needs), None),
        RuleResult::new(
            "S-BEHAVIOUR-GATE",
            gate,
            Some(Signpost::BehaviourSupportTeams),
        ),
    ];
    let mut parts = Vec::new();
    parts.extend(gate_declined);
    parts.extend(wheelchair_part(referral));
    (results, parts)
}

fn s_ref_source(referral: &Referral, config: &RulesConfig) -> Verdict {
    let r = &referral.referrer;
    if let Some(route) = referral
        .route
        .filter(|r| *r != ReferralRoute::FamilyPartnershipService)
    {
        let how = match route {
            ReferralRoute::SelfOrFamily => "from the family",
            _ => "directly",
        };
        return Verdict::Fail(format!(
            "The referral came {how}; the social-care service takes referrals from a school or \
             health professional through the Family Partnership Service, and no self-referrals."
        ));
    }
    if let Some(role) = r.role {
        let accepted = match role.category() {
            ReferrerCategory::Health | ReferrerCategory::Education => true,
            ReferrerCategory::SocialCare => config.sc_accepts_social_worker,
            ReferrerCategory::Other => config.sc_accepts_other_professional,
            ReferrerCategory::Family => false,
        };
        if !accepted {
            return Verdict::Fail(
                "The social-care service takes referrals only from a school or health \
                 professional, through the Family Partnership Service."
                    .into(),
            );
        }
    }
    let mut missing = Vec::new();
    if referral.route.is_none() {
        missing.push("referral.route");
    }
    if r.role.is_none() {
        missing.push("referral.referrer.role");
    }
    if r.role == Some(ReferrerRole::OtherProfessional) && !has_text(r.role_text.as_deref()) {
        missing.push("referral.referrer.role_text");
    }
    verdict_from_missing(missing)
}

fn s_elig_age(child: &Child, as_of: NaiveDate, config: &RulesConfig) -> Verdict {
    match child.date_of_birth {
        None => Verdict::Unknown(vec!["child.date_of_birth"]),
        Some(dob) => {
            let age = dates::age(dob, as_of, config.leap_day_birthday);
            if age < 18 {
                Verdict::Pass
            } else {
                Verdict::Fail(format!(
                    "On {as_of} the young person is {age}; the service is for children under 18."
                ))
            }
        }
    }
}

/// `S-ELIG-DISABILITY`, and — only when the team sets `sc_require_luton_residence` (§9 Q6,
/// the same open question about the social-care criteria) — living in Luton.
fn s_elig_disability(child: &Child, referral: &Referral, config: &RulesConfig) -> Verdict {
    let mut missing = Vec::new();
    match referral.permanent_substantial_disability {
        Some(YesNo::No) => {
            return Verdict::Fail(
                "The referral does not describe a permanent and substantial disability, which \
                 the service requires."
                    .into(),
            )
        }
        Some(YesNo::Yes) => {}
        None => missing.push("referral.permanent_substantial_disability"),
    }
    if config.sc_require_luton_residence {
        match child.local_authority {
            Some(LocalAuthority::Luton) => {}
            Some(_) => {
                return Verdict::Fail(
                    "The child does not live in Luton; the service is for children living in \
                     Luton."
                        .into(),
                )
            }
            None => missing.push("child.local_authority"),
        }
    }
    verdict_from_missing(missing)
}

/// Whether one requested social-care need qualifies (§2.7 "a need qualifies when complete").
#[derive(Debug)]
enum NeedState {
    Qualifies,
    Incomplete(Vec<&'static str>),
    DoesNotQualify,
}

/// The qualifying-need codes among the reasons, in §2.7 order, with their state.
fn needs(referral: &Referral) -> Vec<(ReasonCode, NeedState)> {
    let mut out = Vec::new();
    // `reasons` is a BTreeSet of an enum declared in §2.7 order, so iteration is rule order.
    for code in &referral.reasons {
        let state = match code {
            ReasonCode::MovingHandling | ReasonCode::SharedCare | ReasonCode::Transition => {
                NeedState::Qualifies
            }
            ReasonCode::HomeAccess if !referral.access_areas.is_empty() => NeedState::Qualifies,
            ReasonCode::HomeAccess => NeedState::Incomplete(vec!["referral.access_areas"]),
            ReasonCode::PosturalSeatingHome if !referral.postural_purposes.is_empty() => {
                NeedState::Qualifies
            }
            ReasonCode::PosturalSeatingHome => {
                NeedState::Incomplete(vec!["referral.postural_purposes"])
            }
            ReasonCode::BehaviourRiskHome => behaviour_need(referral),
            _ => continue,
        };
        out.push((*code, state));
    }
    out
}

fn behaviour_need(referral: &Referral) -> NeedState {
    let level_qualifies = matches!(
        referral.behaviour_risk_level,
        Some(RiskLevel::Significant | RiskLevel::High)
    );
    if level_qualifies || referral.siblings_needs_affected == Some(true) {
        return NeedState::Qualifies;
    }
    let mut missing = Vec::new();
    if referral.behaviour_risk_level.is_none() {
        missing.push("referral.behaviour_risk_level");
    }
    if referral.siblings_needs_affected.is_none() {
        missing.push("referral.siblings_needs_affected");
    }
    if missing.is_empty() {
        NeedState::DoesNotQualify
    } else {
        NeedState::Incomplete(missing)
    }
}

fn s_need(referral: &Referral, needs: &[(ReasonCode, NeedState)]) -> Verdict {
    if needs.iter().any(|(_, s)| matches!(s, NeedState::Qualifies)) {
        return Verdict::Pass;
    }
    let mut missing: Vec<&'static str> = needs
        .iter()
        .filter_map(|(_, s)| match s {
            NeedState::Incomplete(m) => Some(m.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    // An empty set of reasons is an unfinished referral, not a referral with no need.
    if referral.reasons.is_empty() {
        missing.push("referral.reasons");
    }
    if missing.is_empty() {
        Verdict::Fail(
            "The referral names no need the service assesses (moving and handling, access at \
             home, postural seating at home, shared care, behaviour risk at home, transition)."
                .into(),
        )
    } else {
        Verdict::Unknown(missing)
    }
}

/// `S-BEHAVIOUR-GATE`: met when one of the four teams has addressed the behaviour. Unmet,
/// it is a declined part when another need qualifies and a failure otherwise. When no other
/// need qualifies yet but one is incomplete, the gate is unknown on that need's details:
/// completing them could turn the failure into a declined part, so the referral is not
/// returned for want of information (§2.2: missing inputs never decide against a child).
fn s_behaviour_gate(
    referral: &Referral,
    needs: &[(ReasonCode, NeedState)],
) -> (Verdict, Option<DeclinedPart>) {
    if !referral.reasons.contains(&ReasonCode::BehaviourRiskHome)
        || !referral.behaviour_addressed_by.is_empty()
    {
        return (Verdict::Pass, None);
    }
    let others = || {
        needs
            .iter()
            .filter(|(code, _)| *code != ReasonCode::BehaviourRiskHome)
    };
    if others().any(|(_, s)| matches!(s, NeedState::Qualifies)) {
        let part = declined(
            "S-BEHAVIOUR-GATE",
            "Behaviour is assessed only once the Autism Spectrum Team, the Behaviour and \
             Tuition Team, CAMHS or the Community Learning Disability Nurse Team has addressed \
             it; the other needs are assessed.",
            Some(Signpost::BehaviourSupportTeams),
        );
        return (Verdict::Pass, Some(part));
    }
    let missing: Vec<&'static str> = others()
        .filter_map(|(_, s)| match s {
            NeedState::Incomplete(m) => Some(m.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    if !missing.is_empty() {
        return (Verdict::Unknown(missing), None);
    }
    (
        Verdict::Fail(
            "Behaviour is assessed only once the Autism Spectrum Team, the Behaviour and \
             Tuition Team, CAMHS or the Community Learning Disability Nurse Team has addressed \
             it, and the referral names no other need."
                .into(),
        ),
        None,
    )
}

fn verdict_from_missing(missing: Vec<&'static str>) -> Verdict {
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Unknown(missing)
    }
}

fn has_text(s: Option<&str>) -> bool {
    s.is_some_and(|s| !s.trim().is_empty())
}

// ---------------------------------------------------------------------------------------
// Warnings, snapshot, disposition

/// The eligibility warnings (WARN, acknowledged before submit): `S-TRANSITION-AGE` when a
/// social-care referral asks for transition support for a child under 16 on `as_of`.
pub fn warnings(
    service: Service,
    child: &Child,
    referral: &Referral,
    as_of: NaiveDate,
    config: &RulesConfig,
) -> Vec<Issue> {
    let mut out = Vec::new();
    if service == Service::SocialCare && referral.reasons.contains(&ReasonCode::Transition) {
        if let Some(age) = child.age_on(as_of, config.leap_day_birthday) {
            if age < 16 {
                out.push(
                    Issue::warn(
                        "S-TRANSITION-AGE",
                        "reasons.transition",
                        format!(
                            "Transition support is for young people around 16 to 18; on \
                             {as_of} the child is {age}."
                        ),
                    )
                    .with_value(age.to_string()),
                );
            }
        }
    }
    out
}

/// The snapshot a referral stores (§2.2 step 7), stamped with this build's ruleset.
pub fn snapshot(
    outcome: EligibilityOutcome,
    as_of: NaiveDate,
    evaluated_at: DateTime<Utc>,
    evaluated_by: Uuid,
) -> EligibilitySnapshot {
    EligibilitySnapshot {
        outcome,
        as_of,
        ruleset_version: crate::RULESET_VERSION.to_owned(),
        evaluated_at,
        evaluated_by,
    }
}

/// Whether the stored snapshot must be replaced by a fresh evaluation: there is none, or it
/// was for another date, another ruleset, or its outcome differs from `current` (an input
/// changed).
pub fn needs_refresh(
    stored: Option<&EligibilitySnapshot>,
    current: &EligibilityOutcome,
    as_of: NaiveDate,
) -> bool {
    stored.is_none_or(|s| {
        s.as_of != as_of || s.ruleset_version != crate::RULESET_VERSION || &s.outcome != current
    })
}

/// The disposition recording an outcome sets: `Eligible` → accepted; `NeedsInformation` →
/// awaiting information; `NotEligible` → returned to the FPS for social care
/// (`S-INELIGIBLE`), not accepted and signposted for health.
pub fn disposition_for(service: Service, outcome: &EligibilityOutcome) -> Disposition {
    match (outcome, service) {
        (EligibilityOutcome::Eligible { .. }, _) => Disposition::Accepted,
        (EligibilityOutcome::NeedsInformation { .. }, _) => Disposition::AwaitingInformation,
        (EligibilityOutcome::NotEligible { .. }, Service::SocialCare) => Disposition::ReturnedToFps,
        (EligibilityOutcome::NotEligible { .. }, Service::Health) => {
            Disposition::NotAcceptedSignposted
        }
    }
}
