//! Eligibility of referrals for both services (DOMAIN.md §2): the worked vectors of §8
//! (#1–17), every blocking rule, declined part and warning by name, the outcome's ordering
//! and de-duplication, the stored snapshot, and a property test over arbitrary inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use homevisit_core::{
    model::{
        assessment::{AccessArea, RiskLevel, SeatingPurpose},
        child::{Child, EducationSetting, GpArea, LocalAuthority},
        common::{from_json, to_json, BehaviourTeam, Envelope, Schema, Service, YesNo},
        referral::{
            Disposition, EligibilityOutcome, ReasonCode, Referral, ReferralRoute, ReferrerRole,
            Signpost,
        },
    },
    rules::{
        config::{LeapDayBirthday, RulesConfig},
        dates,
        eligibility::{
            canonical_rules, disposition_for, evaluate, needs_refresh, snapshot, triage_as_of,
            warnings,
        },
    },
    RULESET_VERSION,
};
use proptest::prelude::*;
use uuid::Uuid;

use ReasonCode as R;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const AS_OF: &str = "2025-11-03";

/// §8 defaults: DOB 2012-01-20, GP `luton`, `mainstream`, living in Luton.
fn child() -> Child {
    let mut c = Child::new(Envelope::new(
        Schema::Child,
        Uuid::new_v4(),
        None,
        Uuid::new_v4(),
        at("2025-10-01T09:00:00Z"),
    ));
    c.given_name = Some("Amara".into());
    c.family_name = Some("Okafor".into());
    c.date_of_birth = Some(d("2012-01-20"));
    c.gp_area = Some(GpArea::Luton);
    c.education_setting = Some(EducationSetting::Mainstream);
    c.local_authority = Some(LocalAuthority::Luton);
    c
}

fn referral(child: &Child, service: Service) -> Referral {
    let mut r = Referral::new(Envelope::new(
        Schema::Referral,
        child.envelope.team_id,
        Some(child.envelope.id),
        Uuid::new_v4(),
        at("2025-11-03T10:00:00Z"),
    ));
    r.service = Some(service);
    r.received_on = Some(d(AS_OF));
    r
}

/// §8 health defaults: referrer `teacher` who knows the child well, `functional_difficulty`
/// yes, reasons {`dressing`}.
fn health(child: &Child) -> Referral {
    let mut r = referral(child, Service::Health);
    r.route = Some(ReferralRoute::DirectProfessional);
    r.referrer.role = Some(ReferrerRole::Teacher);
    r.referrer.knows_child_well = Some(true);
    r.functional_difficulty = Some(YesNo::Yes);
    r.reasons = [R::Dressing].into();
    r
}

/// §8 social-care defaults: route FPS, referrer `health_visitor`, disability yes, reasons
/// {`home_access`}, areas {`washing`}.
fn social(child: &Child) -> Referral {
    let mut r = referral(child, Service::SocialCare);
    r.route = Some(ReferralRoute::FamilyPartnershipService);
    r.referrer.role = Some(ReferrerRole::HealthVisitor);
    r.permanent_substantial_disability = Some(YesNo::Yes);
    r.reasons = [R::HomeAccess].into();
    r.access_areas = [AccessArea::Washing].into();
    r
}

fn eval(service: Service, c: &Child, r: &Referral, as_of: &str) -> EligibilityOutcome {
    evaluate(service, c, r, d(as_of), &RulesConfig::default())
}

fn eval_h(c: &Child, r: &Referral, as_of: &str) -> EligibilityOutcome {
    eval(Service::Health, c, r, as_of)
}

fn eval_s(c: &Child, r: &Referral, as_of: &str) -> EligibilityOutcome {
    eval(Service::SocialCare, c, r, as_of)
}

fn reasons(codes: &[ReasonCode]) -> BTreeSet<ReasonCode> {
    codes.iter().copied().collect()
}

#[track_caller]
fn assert_eligible(o: &EligibilityOutcome) {
    assert!(
        matches!(o, EligibilityOutcome::Eligible { .. }),
        "expected Eligible, got {o:#?}"
    );
}

#[track_caller]
fn assert_not_eligible(o: &EligibilityOutcome, ids: &[&str], signposts: &[Signpost]) {
    match o {
        EligibilityOutcome::NotEligible {
            rule_ids,
            reasons,
            signpost,
            ..
        } => {
            assert_eq!(rule_ids, ids, "{o:#?}");
            assert_eq!(signpost, signposts, "{o:#?}");
            assert_eq!(reasons.len(), rule_ids.len());
            for (id, reason) in rule_ids.iter().zip(reasons) {
                assert!(reason.starts_with(&format!("[{id}] ")), "{reason}");
                assert!(reason.ends_with('.'), "one plain sentence: {reason}");
            }
        }
        other => panic!("expected NotEligible {ids:?}, got {other:#?}"),
    }
}

#[track_caller]
fn assert_needs(o: &EligibilityOutcome, paths: &[&str]) {
    match o {
        EligibilityOutcome::NeedsInformation { missing, .. } => assert_eq!(missing, paths),
        other => panic!("expected NeedsInformation {paths:?}, got {other:#?}"),
    }
}

fn declined_ids(o: &EligibilityOutcome) -> Vec<&str> {
    o.declined_parts()
        .iter()
        .map(|p| p.rule_id.as_str())
        .collect()
}

#[test]
fn defaults_are_eligible_for_both_services() {
    let c = child();
    assert_eligible(&eval_h(&c, &health(&c), AS_OF));
    assert_eligible(&eval_s(&c, &social(&c), AS_OF));
}

// --- §8 vectors 1–17 -------------------------------------------------------------------

#[test]
fn v01_h_elig_age_mainstream_limit_is_inclusive_on_31_august() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    let r = health(&c);
    assert_eligible(&eval_h(&c, &r, "2026-08-31"));
    assert_not_eligible(
        &eval_h(&c, &r, "2026-09-01"),
        &["H-ELIG-AGE"],
        &[Signpost::AdultServices],
    );
}

#[test]
fn v02_h_elig_age_specialist_provision_runs_to_the_year_they_turn_19() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    c.education_setting = Some(EducationSetting::Specialist);
    let r = health(&c);
    assert_eligible(&eval_h(&c, &r, "2026-09-01"));
    assert_eligible(&eval_h(&c, &r, "2027-08-31"));
    assert_not_eligible(
        &eval_h(&c, &r, "2027-09-01"),
        &["H-ELIG-AGE"],
        &[Signpost::AdultServices],
    );
}

#[test]
fn v03_h_elig_age_unknown_setting_between_the_limits_needs_information() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    c.education_setting = Some(EducationSetting::Unknown);
    let r = health(&c);
    assert_needs(&eval_h(&c, &r, "2026-10-01"), &["child.education_setting"]);
    c.education_setting = None;
    assert_needs(&eval_h(&c, &r, "2026-10-01"), &["child.education_setting"]);
    // Within the mainstream limit the setting does not matter.
    assert_eligible(&eval_h(&c, &r, "2026-08-31"));
}

#[test]
fn v04_h_elig_age_autumn_birthday_is_eligible_at_18_until_the_year_ends() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-10-05"));
    let r = health(&c);
    assert_eq!(
        dates::age(d("2008-10-05"), d("2027-03-01"), LeapDayBirthday::Mar1),
        18
    );
    assert_eligible(&eval_h(&c, &r, "2027-03-01"));
    assert_eligible(&eval_h(&c, &r, "2027-08-31"));
    assert_not_eligible(
        &eval_h(&c, &r, "2027-09-01"),
        &["H-ELIG-AGE"],
        &[Signpost::AdultServices],
    );
}

#[test]
fn v05_h_elig_gp_milton_keynes_gp_is_not_eligible() {
    let mut c = child();
    c.gp_area = Some(GpArea::Other);
    assert_not_eligible(
        &eval_h(&c, &health(&c), AS_OF),
        &["H-ELIG-GP"],
        &[Signpost::OwnAreaService],
    );
}

#[test]
fn v06_h_elig_need_and_h_excl_sensory_solely_sensory_with_function_in_line() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::SensoryDifferences]);
    r.functional_difficulty = Some(YesNo::No);
    assert_not_eligible(
        &eval_h(&c, &r, AS_OF),
        &["H-ELIG-NEED", "H-EXCL-SENSORY"],
        &[Signpost::GraduatedOfferSensory],
    );
}

#[test]
fn v07_h_excl_asi_is_declined_and_the_rest_judged_on_function() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::Dressing, R::AsiTherapyRequest]);
    let o = eval_h(&c, &r, AS_OF);
    assert_eligible(&o);
    assert_eq!(declined_ids(&o), ["H-EXCL-ASI"]);
    let part = &o.declined_parts()[0];
    assert_eq!(part.signpost, Some(Signpost::GraduatedOfferSensory));
    assert!(part.reason.starts_with("[H-EXCL-ASI] "));
}

#[test]
fn v08_h_excl_iot_is_declined_and_h_elig_need_fails() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::IotReportComment]);
    r.functional_difficulty = Some(YesNo::No);
    let o = eval_h(&c, &r, AS_OF);
    assert_not_eligible(&o, &["H-ELIG-NEED"], &[]);
    assert_eq!(declined_ids(&o), ["H-EXCL-IOT"]);
    assert_eq!(o.declined_parts()[0].signpost, None);
}

#[test]
fn v09_h_ref_source_parent_referral_is_signposted_to_a_professional() {
    let c = child();
    let mut r = health(&c);
    r.referrer.role = Some(ReferrerRole::ParentCarer);
    assert_not_eligible(
        &eval_h(&c, &r, AS_OF),
        &["H-REF-SOURCE"],
        &[Signpost::AskProfessionalToRefer],
    );
}

#[test]
fn v10_s_elig_age_and_s_ineligible_on_the_18th_birthday() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-06-15"));
    let r = social(&c);
    assert_eligible(&eval_s(&c, &r, "2026-06-14"));
    let o = eval_s(&c, &r, "2026-06-15");
    assert_not_eligible(
        &o,
        &["S-ELIG-AGE", "S-INELIGIBLE"],
        &[Signpost::FamilyPartnershipService],
    );
    assert_eq!(
        disposition_for(Service::SocialCare, &o),
        Disposition::ReturnedToFps
    );
}

#[test]
fn v11_s_elig_age_leap_day_birthday_turns_18_on_1_march_by_default() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-02-29"));
    let r = social(&c);
    assert_eligible(&eval_s(&c, &r, "2026-02-28"));
    assert_not_eligible(
        &eval_s(&c, &r, "2026-03-01"),
        &["S-ELIG-AGE", "S-INELIGIBLE"],
        &[Signpost::FamilyPartnershipService],
    );
    // With `feb28` the same child is 18 a day earlier.
    let feb28 = RulesConfig {
        leap_day_birthday: LeapDayBirthday::Feb28,
        ..RulesConfig::default()
    };
    let o = evaluate(Service::SocialCare, &c, &r, d("2026-02-28"), &feb28);
    assert_eq!(o.rule_ids(), ["S-ELIG-AGE", "S-INELIGIBLE"]);
    assert_eligible(&evaluate(
        Service::SocialCare,
        &c,
        &r,
        d("2026-02-27"),
        &feb28,
    ));
}

#[test]
fn v12_s_ref_source_self_referral_is_returned_to_the_fps() {
    let c = child();
    let mut r = social(&c);
    r.route = Some(ReferralRoute::SelfOrFamily);
    r.referrer.role = Some(ReferrerRole::ParentCarer);
    // S-REF-SOURCE and S-INELIGIBLE both signpost the FPS: it appears once.
    assert_not_eligible(
        &eval_s(&c, &r, AS_OF),
        &["S-REF-SOURCE", "S-INELIGIBLE"],
        &[Signpost::FamilyPartnershipService],
    );
}

#[test]
fn v13_s_elig_disability_without_a_disability_is_not_eligible() {
    let c = child();
    let mut r = social(&c);
    r.permanent_substantial_disability = Some(YesNo::No);
    assert_not_eligible(
        &eval_s(&c, &r, AS_OF),
        &["S-ELIG-DISABILITY", "S-INELIGIBLE"],
        &[Signpost::FamilyPartnershipService],
    );
}

#[test]
fn v14_s_need_postural_seating_without_purposes_needs_information() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::PosturalSeatingHome]);
    let o = eval_s(&c, &r, AS_OF);
    assert_needs(&o, &["referral.postural_purposes"]);
    assert_eq!(
        disposition_for(Service::SocialCare, &o),
        Disposition::AwaitingInformation
    );
    r.postural_purposes = [SeatingPurpose::PosturalAlignment].into();
    assert_eligible(&eval_s(&c, &r, AS_OF));
}

#[test]
fn v15_s_behaviour_gate_unaddressed_behaviour_fails_and_addressed_passes() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::BehaviourRiskHome]);
    r.behaviour_risk_level = Some(RiskLevel::High);
    assert_not_eligible(
        &eval_s(&c, &r, AS_OF),
        &["S-BEHAVIOUR-GATE", "S-INELIGIBLE"],
        &[
            Signpost::BehaviourSupportTeams,
            Signpost::FamilyPartnershipService,
        ],
    );
    r.behaviour_addressed_by = [BehaviourTeam::Camhs].into();
    let o = eval_s(&c, &r, AS_OF);
    assert_eligible(&o);
    assert!(o.declined_parts().is_empty());
}

#[test]
fn v16_s_wheelchair_declined_and_s_need_fails_on_a_wheelchair_only_referral() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::WheelchairAssessment]);
    let o = eval_s(&c, &r, AS_OF);
    assert_not_eligible(
        &o,
        &["S-NEED", "S-INELIGIBLE"],
        &[
            Signpost::WheelchairService,
            Signpost::FamilyPartnershipService,
        ],
    );
    assert_eq!(declined_ids(&o), ["S-WHEELCHAIR"]);
}

#[test]
fn v17_s_transition_age_warns_under_16_and_not_at_16() {
    let mut c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::Transition]);
    let cfg = RulesConfig::default();
    let as_of = d("2026-03-01");

    c.date_of_birth = Some(d("2011-05-01"));
    assert_eligible(&evaluate(Service::SocialCare, &c, &r, as_of, &cfg));
    let w = warnings(Service::SocialCare, &c, &r, as_of, &cfg);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].rule_id, "S-TRANSITION-AGE");
    assert!(!w[0].is_error());
    assert_eq!(w[0].value.as_deref(), Some("14"));

    c.date_of_birth = Some(d("2010-02-01"));
    assert_eligible(&evaluate(Service::SocialCare, &c, &r, as_of, &cfg));
    assert!(warnings(Service::SocialCare, &c, &r, as_of, &cfg).is_empty());
}

// --- Health rules by name ----------------------------------------------------------------

#[test]
fn h_ref_source_referrer_who_does_not_know_the_child_well_fails() {
    let c = child();
    let mut r = health(&c);
    r.referrer.knows_child_well = Some(false);
    assert_not_eligible(
        &eval_h(&c, &r, AS_OF),
        &["H-REF-SOURCE"],
        &[Signpost::AskProfessionalToRefer],
    );
}

#[test]
fn h_ref_source_family_route_fails_even_with_a_professional_named() {
    let c = child();
    let mut r = health(&c);
    r.route = Some(ReferralRoute::SelfOrFamily);
    assert_eq!(eval_h(&c, &r, AS_OF).rule_ids(), ["H-REF-SOURCE"]);
}

#[test]
fn h_ref_source_missing_role_and_knowledge_need_information() {
    let c = child();
    let mut r = health(&c);
    r.referrer.role = None;
    r.referrer.knows_child_well = None;
    assert_needs(
        &eval_h(&c, &r, AS_OF),
        &[
            "referral.referrer.role",
            "referral.referrer.knows_child_well",
        ],
    );
}

#[test]
fn h_ref_source_other_professional_needs_a_role_text() {
    let c = child();
    let mut r = health(&c);
    r.referrer.role = Some(ReferrerRole::OtherProfessional);
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.referrer.role_text"]);
    r.referrer.role_text = Some("   ".into());
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.referrer.role_text"]);
    r.referrer.role_text = Some("Portage worker".into());
    assert_eligible(&eval_h(&c, &r, AS_OF));
}

#[test]
fn h_ref_source_every_professional_role_may_refer_to_health() {
    let c = child();
    for role in [
        ReferrerRole::Paediatrician,
        ReferrerRole::Gp,
        ReferrerRole::HealthVisitor,
        ReferrerRole::CommunityNurse,
        ReferrerRole::SchoolNurse,
        ReferrerRole::Physiotherapist,
        ReferrerRole::SpeechAndLanguageTherapist,
        ReferrerRole::OtherHealthProfessional,
        ReferrerRole::Senco,
        ReferrerRole::Teacher,
        ReferrerRole::OtherSchoolStaff,
        ReferrerRole::SocialWorker,
    ] {
        let mut r = health(&c);
        r.referrer.role = Some(role);
        assert_eligible(&eval_h(&c, &r, AS_OF));
    }
    let mut r = health(&c);
    r.referrer.role = Some(ReferrerRole::YoungPersonSelf);
    assert_eq!(eval_h(&c, &r, AS_OF).rule_ids(), ["H-REF-SOURCE"]);
}

#[test]
fn h_ref_source_family_referral_accepted_when_h_accepts_family_is_set() {
    let c = child();
    let mut r = health(&c);
    r.route = Some(ReferralRoute::SelfOrFamily);
    r.referrer.role = Some(ReferrerRole::ParentCarer);
    r.referrer.knows_child_well = None;
    let cfg = RulesConfig {
        h_accepts_family: true,
        ..RulesConfig::default()
    };
    assert_eligible(&evaluate(Service::Health, &c, &r, d(AS_OF), &cfg));
}

#[test]
fn h_elig_age_without_a_date_of_birth_needs_information() {
    let mut c = child();
    c.date_of_birth = None;
    assert_needs(&eval_h(&c, &health(&c), AS_OF), &["child.date_of_birth"]);
}

#[test]
fn h_elig_age_past_the_year_they_turn_19_fails_whatever_the_setting() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    for setting in [
        None,
        Some(EducationSetting::Unknown),
        Some(EducationSetting::Specialist),
    ] {
        c.education_setting = setting;
        assert_eq!(
            eval_h(&c, &health(&c), "2027-09-01").rule_ids(),
            ["H-ELIG-AGE"]
        );
    }
}

#[test]
fn h_elig_age_other_settings_between_the_limits_fail() {
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    for setting in [
        EducationSetting::Mainstream,
        EducationSetting::HomeEducated,
        EducationSetting::NotInEducation,
        EducationSetting::EarlyYears,
        EducationSetting::Other,
    ] {
        c.education_setting = Some(setting);
        assert_eq!(
            eval_h(&c, &health(&c), "2026-09-01").rule_ids(),
            ["H-ELIG-AGE"]
        );
    }
}

#[test]
fn h_elig_gp_bedfordshire_passes_and_unknown_needs_information() {
    let mut c = child();
    c.gp_area = Some(GpArea::Bedfordshire);
    assert_eligible(&eval_h(&c, &health(&c), AS_OF));
    c.gp_area = Some(GpArea::Unknown);
    assert_needs(&eval_h(&c, &health(&c), AS_OF), &["child.gp_area"]);
    c.gp_area = None;
    assert_needs(&eval_h(&c, &health(&c), AS_OF), &["child.gp_area"]);
}

#[test]
fn h_elig_need_yes_without_a_functional_area_needs_the_reasons() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::Other]);
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.reasons"]);
    r.functional_difficulty = None;
    r.reasons = reasons(&[R::Play]);
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.functional_difficulty"]);
}

#[test]
fn h_elig_need_every_functional_code_is_a_functional_area() {
    let c = child();
    for code in ReasonCode::FUNCTIONAL {
        let mut r = health(&c);
        r.reasons = reasons(&[code, R::SensoryDifferences]);
        assert_eligible(&eval_h(&c, &r, AS_OF));
    }
}

#[test]
fn h_excl_sensory_with_missing_function_answer_reports_the_path_once() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::SensoryDifferences]);
    r.functional_difficulty = None;
    // H-ELIG-NEED and H-EXCL-SENSORY both need it; it is listed once.
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.functional_difficulty"]);
}

#[test]
fn h_excl_sensory_passes_when_sensory_comes_with_function_not_in_line() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::SensoryDifferences]);
    r.functional_difficulty = Some(YesNo::Yes);
    // Not excluded as "solely sensory"; H-ELIG-NEED still needs a functional area.
    assert_needs(&eval_h(&c, &r, AS_OF), &["referral.reasons"]);
}

#[test]
fn h_excl_iot_and_h_excl_asi_and_s_wheelchair_are_all_declined_in_order() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[
        R::WheelchairAssessment,
        R::IotReportComment,
        R::AsiTherapyRequest,
        R::Dressing,
    ]);
    let o = eval_h(&c, &r, AS_OF);
    assert_eligible(&o);
    assert_eq!(
        declined_ids(&o),
        ["H-EXCL-ASI", "H-EXCL-IOT", "S-WHEELCHAIR"]
    );
}

#[test]
fn s_wheelchair_is_declined_by_the_health_service_too() {
    let c = child();
    let mut r = health(&c);
    r.reasons = reasons(&[R::Dressing, R::WheelchairAssessment]);
    let o = eval_h(&c, &r, AS_OF);
    assert_eligible(&o);
    assert_eq!(declined_ids(&o), ["S-WHEELCHAIR"]);
    assert_eq!(
        o.declined_parts()[0].signpost,
        Some(Signpost::WheelchairService)
    );
}

#[test]
fn health_failures_are_listed_in_canonical_order_with_signposts_then_declined_parts() {
    let mut c = child();
    c.date_of_birth = Some(d("2000-01-01"));
    c.gp_area = Some(GpArea::Other);
    let mut r = health(&c);
    r.referrer.role = Some(ReferrerRole::ParentCarer);
    r.functional_difficulty = Some(YesNo::No);
    r.reasons = reasons(&[R::SensoryDifferences, R::WheelchairAssessment]);
    let o = eval_h(&c, &r, AS_OF);
    assert_not_eligible(
        &o,
        &[
            "H-REF-SOURCE",
            "H-ELIG-AGE",
            "H-ELIG-GP",
            "H-ELIG-NEED",
            "H-EXCL-SENSORY",
        ],
        &[
            Signpost::AskProfessionalToRefer,
            Signpost::AdultServices,
            Signpost::OwnAreaService,
            Signpost::GraduatedOfferSensory,
            Signpost::WheelchairService,
        ],
    );
    assert_eq!(o.rule_ids(), canonical_rules(Service::Health));
    assert_eq!(
        disposition_for(Service::Health, &o),
        Disposition::NotAcceptedSignposted
    );
}

#[test]
fn a_failure_outweighs_missing_information() {
    let mut c = child();
    c.gp_area = Some(GpArea::Other);
    c.education_setting = None;
    let mut r = health(&c);
    r.functional_difficulty = None;
    assert_not_eligible(
        &eval_h(&c, &r, AS_OF),
        &["H-ELIG-GP"],
        &[Signpost::OwnAreaService],
    );
}

#[test]
fn missing_paths_follow_rule_order_across_health_rules() {
    let mut c = child();
    c.date_of_birth = None;
    c.gp_area = None;
    let mut r = health(&c);
    r.referrer.knows_child_well = None;
    r.functional_difficulty = None;
    assert_needs(
        &eval_h(&c, &r, AS_OF),
        &[
            "referral.referrer.knows_child_well",
            "child.date_of_birth",
            "child.gp_area",
            "referral.functional_difficulty",
        ],
    );
}

// --- Social-care rules by name -----------------------------------------------------------

#[test]
fn s_ref_source_direct_professional_route_fails() {
    let c = child();
    let mut r = social(&c);
    r.route = Some(ReferralRoute::DirectProfessional);
    assert_not_eligible(
        &eval_s(&c, &r, AS_OF),
        &["S-REF-SOURCE", "S-INELIGIBLE"],
        &[Signpost::FamilyPartnershipService],
    );
}

#[test]
fn s_ref_source_school_and_health_professionals_pass() {
    let c = child();
    for role in [
        ReferrerRole::Gp,
        ReferrerRole::CommunityNurse,
        ReferrerRole::Senco,
        ReferrerRole::OtherSchoolStaff,
    ] {
        let mut r = social(&c);
        r.referrer.role = Some(role);
        assert_eligible(&eval_s(&c, &r, AS_OF));
    }
}

#[test]
fn s_ref_source_social_worker_and_other_professional_follow_configuration() {
    let c = child();
    let mut sw = social(&c);
    sw.referrer.role = Some(ReferrerRole::SocialWorker);
    let mut other = social(&c);
    other.referrer.role = Some(ReferrerRole::OtherProfessional);
    assert_eq!(
        eval_s(&c, &sw, AS_OF).rule_ids(),
        ["S-REF-SOURCE", "S-INELIGIBLE"]
    );
    assert_eq!(
        eval_s(&c, &other, AS_OF).rule_ids(),
        ["S-REF-SOURCE", "S-INELIGIBLE"]
    );
    let cfg = RulesConfig {
        sc_accepts_social_worker: true,
        sc_accepts_other_professional: true,
        ..RulesConfig::default()
    };
    let as_of = d(AS_OF);
    assert_eligible(&evaluate(Service::SocialCare, &c, &sw, as_of, &cfg));
    assert_needs(
        &evaluate(Service::SocialCare, &c, &other, as_of, &cfg),
        &["referral.referrer.role_text"],
    );
    other.referrer.role_text = Some("Housing officer".into());
    assert_eligible(&evaluate(Service::SocialCare, &c, &other, as_of, &cfg));
}

#[test]
fn s_ref_source_missing_route_and_role_need_information() {
    let c = child();
    let mut r = social(&c);
    r.route = None;
    r.referrer.role = None;
    assert_needs(
        &eval_s(&c, &r, AS_OF),
        &["referral.route", "referral.referrer.role"],
    );
}

#[test]
fn s_elig_age_without_a_date_of_birth_needs_information() {
    let mut c = child();
    c.date_of_birth = None;
    assert_needs(&eval_s(&c, &social(&c), AS_OF), &["child.date_of_birth"]);
}

#[test]
fn s_elig_disability_missing_answer_needs_information() {
    let c = child();
    let mut r = social(&c);
    r.permanent_substantial_disability = None;
    assert_needs(
        &eval_s(&c, &r, AS_OF),
        &["referral.permanent_substantial_disability"],
    );
}

#[test]
fn s_elig_disability_luton_residence_applies_by_default_and_can_be_turned_off() {
    // Social care is Luton Borough Council's service: by default the child must live in
    // Luton (§9 Q6, `sc_require_luton_residence` default on).
    let mut c = child();
    c.local_authority = Some(LocalAuthority::CentralBedfordshire);
    let r = social(&c);
    assert_eq!(
        eval_s(&c, &r, AS_OF).rule_ids(),
        ["S-ELIG-DISABILITY", "S-INELIGIBLE"]
    );
    let as_of = d(AS_OF);
    let off = RulesConfig {
        sc_require_luton_residence: false,
        ..RulesConfig::default()
    };
    assert_eligible(&evaluate(Service::SocialCare, &c, &r, as_of, &off));
    c.local_authority = None;
    assert_needs(&eval_s(&c, &r, AS_OF), &["child.local_authority"]);
    assert_eligible(&evaluate(Service::SocialCare, &c, &r, as_of, &off));
    c.local_authority = Some(LocalAuthority::Luton);
    assert_eligible(&eval_s(&c, &r, AS_OF));
}

#[test]
fn s_need_each_complete_need_qualifies() {
    let c = child();
    let cases: Vec<fn(&mut Referral)> = vec![
        |r| r.reasons = reasons(&[R::MovingHandling]),
        |r| r.reasons = reasons(&[R::SharedCare]),
        |r| r.reasons = reasons(&[R::Transition]),
        |r| {
            r.reasons = reasons(&[R::HomeAccess]);
            r.access_areas = [AccessArea::HomeEntry, AccessArea::Toilet].into();
        },
        |r| {
            r.reasons = reasons(&[R::PosturalSeatingHome]);
            r.postural_purposes = [SeatingPurpose::Milestones].into();
        },
        |r| {
            r.reasons = reasons(&[R::BehaviourRiskHome]);
            r.behaviour_risk_level = Some(RiskLevel::Significant);
            r.behaviour_addressed_by = [BehaviourTeam::AutismSpectrumTeam].into();
        },
        |r| {
            r.reasons = reasons(&[R::BehaviourRiskHome]);
            r.behaviour_risk_level = Some(RiskLevel::Low);
            r.siblings_needs_affected = Some(true);
            r.behaviour_addressed_by = [BehaviourTeam::CommunityLdNurseTeam].into();
        },
    ];
    for set in &cases {
        let mut r = social(&c);
        r.access_areas.clear();
        set(&mut r);
        assert_eligible(&eval_s(&c, &r, AS_OF));
    }
}

#[test]
fn s_need_home_access_without_areas_needs_information() {
    let c = child();
    let mut r = social(&c);
    r.access_areas.clear();
    assert_needs(&eval_s(&c, &r, AS_OF), &["referral.access_areas"]);
}

#[test]
fn s_need_missing_details_are_listed_in_need_order() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::BehaviourRiskHome, R::PosturalSeatingHome, R::HomeAccess]);
    r.access_areas.clear();
    r.behaviour_addressed_by = [BehaviourTeam::BehaviourAndTuitionTeam].into();
    assert_needs(
        &eval_s(&c, &r, AS_OF),
        &[
            "referral.access_areas",
            "referral.postural_purposes",
            "referral.behaviour_risk_level",
            "referral.siblings_needs_affected",
        ],
    );
}

#[test]
fn s_need_other_or_empty_reasons() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::Other, R::Dressing]);
    assert_eq!(eval_s(&c, &r, AS_OF).rule_ids(), ["S-NEED", "S-INELIGIBLE"]);
    r.reasons.clear();
    assert_needs(&eval_s(&c, &r, AS_OF), &["referral.reasons"]);
}

#[test]
fn s_need_and_s_behaviour_gate_low_risk_behaviour_alone_fails_both() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::BehaviourRiskHome]);
    r.behaviour_risk_level = Some(RiskLevel::Low);
    r.siblings_needs_affected = Some(false);
    assert_not_eligible(
        &eval_s(&c, &r, AS_OF),
        &["S-NEED", "S-BEHAVIOUR-GATE", "S-INELIGIBLE"],
        &[
            Signpost::BehaviourSupportTeams,
            Signpost::FamilyPartnershipService,
        ],
    );
}

#[test]
fn s_behaviour_gate_unmet_with_another_qualifying_need_is_a_declined_part() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::HomeAccess, R::BehaviourRiskHome]);
    r.behaviour_risk_level = Some(RiskLevel::High);
    let o = eval_s(&c, &r, AS_OF);
    assert_eligible(&o);
    assert_eq!(declined_ids(&o), ["S-BEHAVIOUR-GATE"]);
    assert_eq!(
        o.declined_parts()[0].signpost,
        Some(Signpost::BehaviourSupportTeams)
    );
}

#[test]
fn s_behaviour_gate_unmet_with_an_incomplete_other_need_waits_for_that_need() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::PosturalSeatingHome, R::BehaviourRiskHome]);
    r.behaviour_risk_level = Some(RiskLevel::High);
    let o = eval_s(&c, &r, AS_OF);
    assert_needs(&o, &["referral.postural_purposes"]);
    r.postural_purposes = [SeatingPurpose::Milestones].into();
    assert_eq!(declined_ids(&eval_s(&c, &r, AS_OF)), ["S-BEHAVIOUR-GATE"]);
}

#[test]
fn s_ineligible_is_appended_once_after_every_social_care_failure_in_canonical_order() {
    let mut c = child();
    c.date_of_birth = Some(d("2000-01-01"));
    let mut r = social(&c);
    r.route = Some(ReferralRoute::SelfOrFamily);
    r.permanent_substantial_disability = Some(YesNo::No);
    r.reasons = reasons(&[R::BehaviourRiskHome, R::WheelchairAssessment]);
    r.behaviour_risk_level = Some(RiskLevel::None);
    r.siblings_needs_affected = Some(false);
    let o = eval_s(&c, &r, AS_OF);
    assert_not_eligible(
        &o,
        &[
            "S-REF-SOURCE",
            "S-ELIG-AGE",
            "S-ELIG-DISABILITY",
            "S-NEED",
            "S-BEHAVIOUR-GATE",
            "S-INELIGIBLE",
        ],
        &[
            Signpost::FamilyPartnershipService,
            Signpost::BehaviourSupportTeams,
            Signpost::WheelchairService,
        ],
    );
    assert_eq!(o.rule_ids(), canonical_rules(Service::SocialCare));
}

#[test]
fn s_ineligible_is_not_added_to_health_outcomes() {
    let mut c = child();
    c.gp_area = Some(GpArea::Other);
    assert!(!eval_h(&c, &health(&c), AS_OF)
        .rule_ids()
        .contains(&"S-INELIGIBLE".to_owned()));
}

#[test]
fn s_transition_age_is_social_care_only_and_needs_a_date_of_birth() {
    let mut c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::Transition]);
    let cfg = RulesConfig::default();
    assert!(warnings(Service::Health, &c, &r, d(AS_OF), &cfg).is_empty());
    assert_eq!(
        warnings(Service::SocialCare, &c, &r, d(AS_OF), &cfg).len(),
        1
    );
    c.date_of_birth = None;
    assert!(warnings(Service::SocialCare, &c, &r, d(AS_OF), &cfg).is_empty());
}

// --- SAF-ELIG-DATE, snapshot and storage -------------------------------------------------

#[test]
fn saf_elig_date_late_evening_utc_is_the_next_london_day() {
    // 2026-08-31T23:30Z is 00:30 on 1 September in London (BST): the mainstream limit of a
    // child born 2008-03-10 has passed. Evaluating on the UTC date would wrongly accept.
    let mut c = child();
    c.date_of_birth = Some(d("2008-03-10"));
    let r = health(&c);
    let now = at("2026-08-31T23:30:00Z");
    let as_of = dates::local_date(now);
    assert_eq!(as_of, d("2026-09-01"));
    let cfg = RulesConfig::default();
    assert_eq!(
        evaluate(Service::Health, &c, &r, as_of, &cfg).rule_ids(),
        ["H-ELIG-AGE"]
    );
    assert_eligible(&evaluate(Service::Health, &c, &r, now.date_naive(), &cfg));
}

#[test]
fn saf_elig_date_snapshot_stores_as_of_and_ruleset_version() {
    let c = child();
    let mut r = social(&c);
    let as_of = triage_as_of(&r).unwrap();
    assert_eq!(as_of, d(AS_OF));
    let cfg = RulesConfig::default();
    let outcome = evaluate(Service::SocialCare, &c, &r, as_of, &cfg);
    let by = Uuid::new_v4();
    let snap = snapshot(outcome.clone(), as_of, at("2025-11-03T10:05:00Z"), by);
    assert_eq!(snap.as_of, as_of);
    assert_eq!(snap.ruleset_version, RULESET_VERSION);
    assert_eq!(snap.evaluated_by, by);
    assert!(!needs_refresh(Some(&snap), &outcome, as_of));
    assert!(needs_refresh(None, &outcome, as_of));
    assert!(needs_refresh(Some(&snap), &outcome, d("2025-11-04")));

    // An input changes: the outcome differs and the snapshot is stale.
    r.permanent_substantial_disability = Some(YesNo::No);
    let changed = evaluate(Service::SocialCare, &c, &r, as_of, &cfg);
    assert!(needs_refresh(Some(&snap), &changed, as_of));

    // A snapshot of an older ruleset is always refreshed.
    let mut old = snap.clone();
    old.ruleset_version = "2025.9".into();
    assert!(needs_refresh(Some(&old), &outcome, as_of));
}

#[test]
fn eligibility_snapshot_round_trips_through_the_referral_document_view() {
    let c = child();
    let mut r = social(&c);
    r.reasons = reasons(&[R::WheelchairAssessment]);
    let outcome = eval_s(&c, &r, AS_OF);
    r.disposition = Some(disposition_for(Service::SocialCare, &outcome));
    r.eligibility = Some(snapshot(
        outcome,
        d(AS_OF),
        at("2025-11-03T10:05:00Z"),
        Uuid::new_v4(),
    ));
    let json = to_json(&r).unwrap();
    assert_eq!(json["schema"], "homevisit/referral");
    assert_eq!(json["disposition"], "returned_to_fps");
    assert_eq!(
        json["reasons"],
        serde_json::json!({"wheelchair_assessment": true})
    );
    let e = &json["eligibility"];
    assert_eq!(e["as_of"], AS_OF);
    assert_eq!(e["ruleset_version"], RULESET_VERSION);
    assert_eq!(e["evaluated_at"], "2025-11-03T10:05:00Z");
    assert_eq!(e["outcome"]["result"], "not_eligible");
    assert_eq!(
        e["outcome"]["rule_ids"],
        serde_json::json!(["S-NEED", "S-INELIGIBLE"])
    );
    assert_eq!(
        e["outcome"]["signpost"],
        serde_json::json!(["wheelchair_service", "family_partnership_service"])
    );
    assert_eq!(e["outcome"]["declined_parts"][0]["rule_id"], "S-WHEELCHAIR");
    let back: Referral = from_json(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn referral_with_an_unknown_reason_code_is_corrupt_not_a_panic() {
    let c = child();
    let r = social(&c);
    let mut json = to_json(&r).unwrap();
    json["reasons"] = serde_json::json!({"levitation": true});
    assert!(matches!(
        from_json::<Referral>(json),
        Err(homevisit_core::Error::Corrupt { .. })
    ));
}

// --- Property test ---------------------------------------------------------------------

fn pick<T: Copy + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = Option<T>> {
    prop::option::of(prop::sample::select(all))
}

fn subset<T: Copy + Ord + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = BTreeSet<T>> {
    prop::sample::subsequence(all, 0..=all.len()).prop_map(|v| v.into_iter().collect())
}

const REASONS: &[ReasonCode] = &[
    R::Play,
    R::Eating,
    R::SelfCare,
    R::Dressing,
    R::SchoolLifeSkills,
    R::ManagingAtSchool,
    R::SensoryDifferences,
    R::AsiTherapyRequest,
    R::IotReportComment,
    R::WheelchairAssessment,
    R::Other,
    R::MovingHandling,
    R::HomeAccess,
    R::PosturalSeatingHome,
    R::SharedCare,
    R::BehaviourRiskHome,
    R::Transition,
];
const ROLES: &[ReferrerRole] = &[
    ReferrerRole::Paediatrician,
    ReferrerRole::Gp,
    ReferrerRole::HealthVisitor,
    ReferrerRole::CommunityNurse,
    ReferrerRole::SchoolNurse,
    ReferrerRole::Physiotherapist,
    ReferrerRole::SpeechAndLanguageTherapist,
    ReferrerRole::OtherHealthProfessional,
    ReferrerRole::Senco,
    ReferrerRole::Teacher,
    ReferrerRole::OtherSchoolStaff,
    ReferrerRole::SocialWorker,
    ReferrerRole::OtherProfessional,
    ReferrerRole::ParentCarer,
    ReferrerRole::YoungPersonSelf,
];
const ROUTES: &[ReferralRoute] = &[
    ReferralRoute::DirectProfessional,
    ReferralRoute::FamilyPartnershipService,
    ReferralRoute::SelfOrFamily,
];
const GP: &[GpArea] = &[
    GpArea::Luton,
    GpArea::Bedfordshire,
    GpArea::Other,
    GpArea::Unknown,
];
const SETTINGS: &[EducationSetting] = &[
    EducationSetting::EarlyYears,
    EducationSetting::Mainstream,
    EducationSetting::Specialist,
    EducationSetting::HomeEducated,
    EducationSetting::NotInEducation,
    EducationSetting::Other,
    EducationSetting::Unknown,
];
const LAS: &[LocalAuthority] = &[
    LocalAuthority::Luton,
    LocalAuthority::BedfordBorough,
    LocalAuthority::CentralBedfordshire,
    LocalAuthority::Other,
];
const YN: &[YesNo] = &[YesNo::Yes, YesNo::No];
const LEVELS: &[RiskLevel] = &[
    RiskLevel::None,
    RiskLevel::Low,
    RiskLevel::Significant,
    RiskLevel::High,
];
const AREAS: &[AccessArea] = &[
    AccessArea::HomeEntry,
    AccessArea::Bedroom,
    AccessArea::Toilet,
    AccessArea::Washing,
];
const PURPOSES: &[SeatingPurpose] = &[
    SeatingPurpose::Milestones,
    SeatingPurpose::PosturalAlignment,
];
const TEAMS: &[BehaviourTeam] = &[
    BehaviourTeam::AutismSpectrumTeam,
    BehaviourTeam::BehaviourAndTuitionTeam,
    BehaviourTeam::Camhs,
    BehaviourTeam::CommunityLdNurseTeam,
];

/// Any date chrono can represent, weighted towards the years that matter.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        4 => (1990i32..2040, 1u32..=366).prop_map(|(y, o)| {
            NaiveDate::from_yo_opt(y, o).unwrap_or_else(|| NaiveDate::from_yo_opt(y, 365).unwrap())
        }),
        1 => (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
            .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap()),
    ]
}

prop_compose! {
    fn any_inputs()(
        dob in prop::option::of(any_date()),
        gp in pick(GP),
        setting in pick(SETTINGS),
        la in pick(LAS),
        route in pick(ROUTES),
        role in pick(ROLES),
        role_text in prop::option::of(prop_oneof![Just(String::new()), Just("Portage".to_owned())]),
        knows in prop::option::of(any::<bool>()),
        reasons in subset(REASONS),
        fd in pick(YN),
        disability in pick(YN),
        areas in subset(AREAS),
        purposes in subset(PURPOSES),
        level in pick(LEVELS),
        siblings in prop::option::of(any::<bool>()),
        teams in subset(TEAMS),
    ) -> (Child, Referral) {
        let mut c = child();
        c.date_of_birth = dob;
        c.gp_area = gp;
        c.education_setting = setting;
        c.local_authority = la;
        let mut r = referral(&c, Service::Health);
        r.route = route;
        r.referrer.role = role;
        r.referrer.role_text = role_text;
        r.referrer.knows_child_well = knows;
        r.reasons = reasons;
        r.functional_difficulty = fd;
        r.permanent_substantial_disability = disability;
        r.access_areas = areas;
        r.postural_purposes = purposes;
        r.behaviour_risk_level = level;
        r.siblings_needs_affected = siblings;
        r.behaviour_addressed_by = teams;
        (c, r)
    }
}

fn any_config() -> impl Strategy<Value = RulesConfig> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(feb28, fam, sw, op, luton)| RulesConfig {
            leap_day_birthday: if feb28 {
                LeapDayBirthday::Feb28
            } else {
                LeapDayBirthday::Mar1
            },
            h_accepts_family: fam,
            sc_accepts_social_worker: sw,
            sc_accepts_other_professional: op,
            sc_require_luton_residence: luton,
            ..RulesConfig::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Eligibility never panics, `NotEligible.rule_ids` are in canonical order without
    /// duplicates (social care ending with `S-INELIGIBLE`), reasons match rule IDs one to one,
    /// signposts and missing paths have no duplicates, and missing paths name the child or
    /// the referral.
    #[test]
    fn eligibility_never_panics_and_rule_ids_are_in_canonical_order(
        (c, r) in any_inputs(),
        as_of in any_date(),
        config in any_config(),
        social in any::<bool>(),
    ) {
        let service = if social { Service::SocialCare } else { Service::Health };
        let o = evaluate(service, &c, &r, as_of, &config);
        let canonical = canonical_rules(service);
        match &o {
            EligibilityOutcome::NotEligible { rule_ids, reasons, signpost, .. } => {
                prop_assert!(!rule_ids.is_empty());
                let positions: Vec<usize> = rule_ids
                    .iter()
                    .map(|id| canonical.iter().position(|c| c == id).expect("known rule"))
                    .collect();
                prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{rule_ids:?}");
                if service == Service::SocialCare {
                    prop_assert_eq!(rule_ids.last().map(String::as_str), Some("S-INELIGIBLE"));
                    prop_assert!(signpost.contains(&Signpost::FamilyPartnershipService));
                }
                prop_assert_eq!(reasons.len(), rule_ids.len());
                let unique: BTreeSet<_> = signpost.iter().collect();
                prop_assert_eq!(unique.len(), signpost.len());
            }
            EligibilityOutcome::NeedsInformation { missing, .. } => {
                prop_assert!(!missing.is_empty());
                let unique: BTreeSet<_> = missing.iter().collect();
                prop_assert_eq!(unique.len(), missing.len());
                prop_assert!(missing
                    .iter()
                    .all(|m| m.starts_with("child.") || m.starts_with("referral.")));
            }
            EligibilityOutcome::Eligible { .. } => {}
        }
        // Every declined part is one of the documented ones.
        for p in o.declined_parts() {
            prop_assert!(
                ["H-EXCL-ASI", "H-EXCL-IOT", "S-WHEELCHAIR", "S-BEHAVIOUR-GATE"]
                    .contains(&p.rule_id.as_str()),
                "{:?}", p
            );
        }
        // Pure: the same inputs give the same outcome.
        prop_assert_eq!(&o, &evaluate(service, &c, &r, as_of, &config));
        let _ = warnings(service, &c, &r, as_of, &config);
    }
}
