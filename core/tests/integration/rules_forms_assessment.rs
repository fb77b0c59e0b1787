//! Home-visit assessment rules (DOMAIN.md §3.4), vector #18, field checks and acks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        assessment::{Assessment, ConsentScope, IdentityCheck, SeatingPurpose, VisitLocation},
        common::{BehaviourTeam, Service},
    },
    rules::{
        assessment::{validate, AssessmentContext},
        fields::Stage,
        issue::{blocking, check_ack_reason, Ack, Issue, Severity},
    },
};
use support::*;
use uuid::Uuid;

fn ctx(service: Service) -> AssessmentContext {
    AssessmentContext {
        stage: Stage::Final,
        service: Some(service),
        photo_attached: false,
        sign_date: Some(d("2026-03-15")),
    }
}

fn check(a: &Assessment) -> Vec<Issue> {
    validate(a, &ctx(Service::Health))
}

#[test]
fn complete_assessment_has_no_issues() {
    let a = complete_assessment();
    let issues = check(&a);
    assert!(issues.is_empty(), "{issues:#?}");
    assert!(validate(&a, &ctx(Service::SocialCare)).is_empty());
}

#[test]
fn hv_a_times_end_not_after_start_is_an_error() {
    let mut a = complete_assessment();
    a.sections.a.end_time = Some("10:00".parse().unwrap());
    let issues = check(&a);
    assert_eq!(ids(&issues), ["HV-A-TIMES"]);
    assert!(issues[0].is_error());
    assert_eq!(issues[0].path, "sections.A.end_time");
    a.sections.a.end_time = Some("09:59".parse().unwrap());
    assert!(check(&a)[0].is_error());
}

#[test]
fn hv_a_times_longer_than_4_hours_is_a_warning() {
    let mut a = complete_assessment();
    a.sections.a.end_time = Some("14:00".parse().unwrap()); // exactly 4 h
    assert!(check(&a).is_empty());
    a.sections.a.end_time = Some("14:01".parse().unwrap());
    let issues = check(&a);
    assert_eq!(ids(&issues), ["HV-A-TIMES"]);
    assert_eq!(issues[0].severity, Severity::Warn);
    assert!(
        issues[0].message.contains("4 h 01 min"),
        "{}",
        issues[0].message
    );
}

#[test]
fn hv_a_identity_needs_two_checks() {
    let mut a = complete_assessment();
    a.sections.a.identity_checked = [IdentityCheck::Name].into();
    let issues = check(&a);
    assert_eq!(ids(&issues), ["HV-A-IDENTITY"]);
    assert!(issues[0].is_error());
    a.sections.a.identity_checked = [IdentityCheck::Name, IdentityCheck::NhsNumber].into();
    assert!(check(&a).is_empty());
}

#[test]
fn hv_a_consent_must_cover_the_assessment_and_photos_when_attached() {
    let mut a = complete_assessment();
    a.sections.a.consent.as_mut().unwrap().scope = [ConsentScope::InformationSharing].into();
    assert_eq!(ids(&check(&a)), ["HV-A-CONSENT"]);

    let mut a = complete_assessment();
    a.sections.a.consent = None;
    assert_eq!(ids(&check(&a)), ["HV-A-CONSENT"]);

    let a = complete_assessment();
    let with_photo = AssessmentContext {
        photo_attached: true,
        ..ctx(Service::Health)
    };
    let issues = validate(&a, &with_photo);
    assert_eq!(ids(&issues), ["HV-A-CONSENT"]);
    let mut a = a;
    a.sections
        .a
        .consent
        .as_mut()
        .unwrap()
        .scope
        .insert(ConsentScope::Photos);
    assert!(validate(&a, &with_photo).is_empty());
}

#[test]
fn hv_c_areas_every_area_needs_a_level() {
    let mut a = complete_assessment();
    a.sections.c.areas.teeth = None;
    a.sections.c.areas.dressing.as_mut().unwrap().level = None;
    let issues = check(&a);
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(ids(&issues), ["HV-C-AREAS", "HV-C-AREAS"]);
    assert_eq!(
        paths,
        [
            "sections.C.areas.teeth.level",
            "sections.C.areas.dressing.level"
        ]
    );
}

#[test]
fn hv_e_purpose_seating_need_needs_a_purpose() {
    let mut a = complete_assessment();
    a.sections.e.seating_need = Some(true);
    a.sections.e.sitting_ability =
        Some(homevisit_core::model::assessment::SittingAbility::NeedsTrunkSupport);
    assert_eq!(ids(&check(&a)), ["HV-E-PURPOSE"]);
    a.sections
        .e
        .purposes
        .insert(SeatingPurpose::PosturalAlignment);
    assert!(check(&a).is_empty());
}

#[test]
fn hv_f_ra_concern_needs_a_linked_or_planned_risk_assessment() {
    let mut a = complete_assessment();
    a.sections.f.mh_concern = Some(true);
    a.sections.f.carers_required = Some(2);
    assert_eq!(ids(&check(&a)), ["HV-F-RA"]);
    a.sections.f.risk_assessment_planned_on = Some(d("2026-03-22"));
    assert!(check(&a).is_empty());
    a.sections.f.risk_assessment_planned_on = None;
    a.sections.f.risk_assessment_ids.insert(Uuid::new_v4());
    assert!(check(&a).is_empty());
}

#[test]
fn hv_i_review_absent_is_a_warning_and_date_ranges_apply() {
    let mut a = complete_assessment();
    a.sections.i.next_review_on = None;
    let issues = check(&a);
    assert_eq!(ids(&issues), ["HV-I-REVIEW"]);
    assert_eq!(issues[0].severity, Severity::Warn);
    a.sections.i.next_review_on = Some(d("2026-03-15"));
    assert_eq!(ids(&check(&a)), ["FLD-HARD"]);
    a.sections.i.next_review_on = Some(d("2027-03-16"));
    assert_eq!(ids(&check(&a)), ["FLD-SOFT"]);
}

#[test]
fn s_home_visit_vector_18_social_care_form_at_school_warns() {
    let mut a = complete_assessment();
    a.sections.a.location = Some(VisitLocation::School);
    let issues = validate(&a, &ctx(Service::SocialCare));
    assert_eq!(ids(&issues), ["S-HOME-VISIT"]);
    assert_eq!(issues[0].severity, Severity::Warn);
    assert_eq!(issues[0].value.as_deref(), Some("school"));
    // The health service visits anywhere.
    assert!(check(&a).is_empty());
}

#[test]
fn s_behaviour_gate_social_care_assessment_text_without_a_team_is_an_error() {
    let mut a = complete_assessment();
    a.sections.h.behaviour_assessment = Some("Hits out during transfers.".into());
    let issues = validate(&a, &ctx(Service::SocialCare));
    assert_eq!(ids(&issues), ["S-BEHAVIOUR-GATE"]);
    assert!(issues[0].is_error());
    assert!(
        check(&a).is_empty(),
        "the gate is the social-care service's"
    );
    a.sections
        .h
        .behaviour_addressed_by
        .insert(BehaviourTeam::Camhs);
    assert!(validate(&a, &ctx(Service::SocialCare)).is_empty());
}

#[test]
fn fld_hard_and_fld_soft_on_section_d_numbers() {
    let mut a = complete_assessment();
    a.sections.d.entrance_steps.as_mut().unwrap().riser_max_mm = Some(450);
    let issues = check(&a);
    assert_eq!(ids(&issues), ["FLD-HARD"]);
    assert_eq!(issues[0].path, "sections.D.entrance_steps.riser_max_mm");
    assert!(
        issues[0].message.contains("450 mm"),
        "{}",
        issues[0].message
    );
    a.sections.d.entrance_steps.as_mut().unwrap().riser_max_mm = Some(230);
    let issues = check(&a);
    assert_eq!(ids(&issues), ["FLD-SOFT"]);
    assert_eq!(issues[0].value.as_deref(), Some("230"));
}

#[test]
fn fld_required_riser_only_when_there_are_steps() {
    let mut a = complete_assessment();
    a.sections.d.entrance_steps.as_mut().unwrap().riser_max_mm = None;
    assert_eq!(ids(&check(&a)), ["FLD-REQUIRED"]);
    a.sections.d.entrance_steps.as_mut().unwrap().count = Some(0);
    assert!(check(&a).is_empty());
}

#[test]
fn fld_required_is_not_reported_on_a_draft() {
    let a = Assessment {
        envelope: complete_assessment().envelope,
        sections: Default::default(),
    };
    let draft = AssessmentContext {
        stage: Stage::Draft,
        ..ctx(Service::SocialCare)
    };
    assert!(validate(&a, &draft).is_empty());
    let issues = validate(&a, &ctx(Service::SocialCare));
    assert!(with_rule(&issues, "FLD-REQUIRED").len() > 10);
    for rule in ["HV-A-IDENTITY", "HV-A-CONSENT", "HV-C-AREAS", "HV-I-REVIEW"] {
        assert!(!with_rule(&issues, rule).is_empty(), "{rule}");
    }
}

#[test]
fn fld_hard_visit_date_after_sign_date() {
    let mut a = complete_assessment();
    a.sections.a.visit_date = Some(d("2026-03-16"));
    a.sections.i.next_review_on = Some(d("2026-09-16"));
    let issues = check(&a);
    assert_eq!(ids(&issues), ["FLD-HARD"]);
    assert_eq!(issues[0].path, "sections.A.visit_date");
}

#[test]
fn fld_ack_a_warning_is_covered_by_an_ack_of_the_same_value_and_lapses_when_it_changes() {
    let mut a = complete_assessment();
    a.sections.d.entrance_steps.as_mut().unwrap().riser_max_mm = Some(230);
    let issues = check(&a);
    let ack = Ack {
        rule_id: "FLD-SOFT".into(),
        path: "sections.D.entrance_steps.riser_max_mm".into(),
        acknowledged_value: Some("230".into()),
        reason: "Measured twice; old house.".into(),
        user_id: Uuid::new_v4(),
        at: "2026-03-15T11:00:00Z".into(),
    };
    assert!(check_ack_reason(&ack.reason).is_ok());
    assert!(blocking(&issues, std::slice::from_ref(&ack)).is_empty());
    a.sections.d.entrance_steps.as_mut().unwrap().riser_max_mm = Some(240);
    let issues = check(&a);
    assert_eq!(blocking(&issues, std::slice::from_ref(&ack)).len(), 1);
}

#[test]
fn fld_format_malformed_visit_time_is_refused() {
    let mut json = serde_json::to_value(complete_assessment()).unwrap();
    json["sections"]["A"]["start_time"] = serde_json::json!("9.30");
    let r = homevisit_core::model::common::from_json::<Assessment>(json);
    assert!(
        matches!(r, Err(homevisit_core::Error::Corrupt { .. })),
        "{r:?}"
    );
    match "9.30".parse::<homevisit_core::model::common::ClockTime>() {
        Err(homevisit_core::Error::InvalidInput { rule_id, .. }) => {
            assert_eq!(rule_id, "FLD-FORMAT")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn removed_people_present_do_not_count() {
    let mut a = complete_assessment();
    let p = &mut a.sections.a.people_present[0];
    p.removed_at = Some(at("2026-03-15T10:30:00Z"));
    p.removed_by = Some(Uuid::new_v4());
    let issues = check(&a);
    assert_eq!(ids(&issues), ["FLD-REQUIRED"]);
    assert_eq!(issues[0].path, "sections.A.people_present");
}
