//! The child and referral records and the date and record-keeping rules around eligibility:
//! NHS numbers (§3.2 table, §8 #19), child and referral validation (§3.2, §3.3,
//! `CH-DUPLICATE`, `CH-NHS-MISSING`), dates (§1.1, §2.4, §2.5, `SAF-ELIG-DATE`), retention
//! (§4 vectors), local eviction, audit entries and the device lock (`SAF-DEVICE-LOST`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::{
        child::{
            Address, Alert, AlertKind, Carer, Child, ConsentAnswer, EducationSetting, Gender,
            GpArea, InfoSharingConsent, WeightEntry, WeightSource,
        },
        common::{from_json, to_json, Envelope, Item, RecordStatus, Schema, Service, YesNo},
        referral::{Disposition, ReasonCode, Referral, ReferralRoute, ReferrerRole},
    },
    rules::{
        child::{normalise_postcode, validate_child, validate_referral, ChildSummary},
        config::{LeapDayBirthday, RulesConfig, SocialCareRetention},
        dates,
        fields::Stage,
        issue::{Issue, Severity},
        nhs::{self, NhsCheck},
        record_keeping::{
            child_retention, lock_required, may_evict_locally, retention_date, AuditAction,
            AuditEntry, LocalSyncState, Retention,
        },
    },
    Error, RecordId,
};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const TODAY: &str = "2026-03-15";
const MAR1: LeapDayBirthday = LeapDayBirthday::Mar1;
const FEB28: LeapDayBirthday = LeapDayBirthday::Feb28;

fn item<T>(data: T) -> Item<T> {
    Item::new(
        Uuid::new_v4(),
        at("2026-03-01T09:00:00Z"),
        Uuid::new_v4(),
        data,
    )
}

/// A complete, valid child.
fn child() -> Child {
    let mut c = Child::new(Envelope::new(
        Schema::Child,
        Uuid::new_v4(),
        None,
        Uuid::new_v4(),
        at("2026-03-01T09:00:00Z"),
    ));
    c.nhs_number = Some("9434765919".into());
    c.given_name = Some("Amara".into());
    c.family_name = Some("Okafor".into());
    c.date_of_birth = Some(d("2012-01-20"));
    c.gender = Some(Gender::Female);
    c.gp_area = Some(GpArea::Luton);
    c.education_setting = Some(EducationSetting::Mainstream);
    c.address = Some(Address {
        lines: vec!["12 Park Street".into()],
        town: Some("Luton".into()),
        postcode: Some("LU1 3AB".into()),
    });
    c.carers.push(item(Carer {
        name: Some("Ngozi Okafor".into()),
        ..Carer::default()
    }));
    c.info_sharing_consent = Some(InfoSharingConsent {
        answer: ConsentAnswer::Yes,
        given_by: Some("Ngozi Okafor".into()),
        on: Some(d("2026-03-01")),
    });
    c
}

fn rules(issues: &[Issue]) -> Vec<(&str, &str, Severity)> {
    issues
        .iter()
        .map(|i| (i.rule_id.as_str(), i.path.as_str(), i.severity))
        .collect()
}

fn validate(c: &Child, stage: Stage) -> Vec<Issue> {
    validate_child(c, &[], d(TODAY), stage)
}

// --- NHS numbers (§3.2, §8 #19) ----------------------------------------------------------

#[test]
fn v19_ch_nhs_check_and_ch_nhs_pattern_valid_wrong_digit_and_placeholder() {
    assert_eq!(nhs::check("9434765919"), NhsCheck::Valid);
    assert!(nhs::issues("nhs_number", "9434765919").is_empty());

    let wrong = nhs::issues("nhs_number", "9434765918");
    assert_eq!(
        rules(&wrong),
        [("CH-NHS-CHECK", "nhs_number", Severity::Error)]
    );
    assert!(
        wrong[0].message.contains("should be 9"),
        "{}",
        wrong[0].message
    );

    assert!(nhs::passes_check("1111111111"));
    let placeholder = nhs::issues("nhs_number", "1111111111");
    assert_eq!(
        rules(&placeholder),
        [("CH-NHS-PATTERN", "nhs_number", Severity::Warn)]
    );
}

#[test]
fn ch_nhs_check_table_of_section_3_2() {
    assert_eq!(nhs::check("9434765919"), NhsCheck::Valid);
    assert_eq!(nhs::check("4010232137"), NhsCheck::Valid);
    assert_eq!(nhs::check("9990000018"), NhsCheck::Valid);
    assert_eq!(
        nhs::check("9434765918"),
        NhsCheck::BadCheckDigit { expected: Some(9) }
    );
    // Sum 210, r 1, check 10: no tenth digit can make it valid.
    assert_eq!(
        nhs::check("1234567890"),
        NhsCheck::BadCheckDigit { expected: None }
    );
    assert_eq!(nhs::check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), None);
    assert_eq!(nhs::check("1111111111"), NhsCheck::Placeholder);
}

#[test]
fn ch_nhs_check_every_repeated_digit_passes_and_warns_ch_nhs_pattern() {
    for digit in 0..=9u8 {
        let n: String = std::iter::repeat_n(char::from(b'0' + digit), 10).collect();
        assert_eq!(nhs::check(&n), NhsCheck::Placeholder, "{n}");
        assert_eq!(nhs::issues("nhs_number", &n)[0].rule_id, "CH-NHS-PATTERN");
    }
}

#[test]
fn ch_nhs_format_nine_digits_is_an_error_and_spaces_are_removed() {
    assert_eq!(nhs::check("943476591"), NhsCheck::BadFormat);
    assert_eq!(
        rules(&nhs::issues("nhs_number", "943476591")),
        [("CH-NHS-FORMAT", "nhs_number", Severity::Error)]
    );
    assert_eq!(nhs::check("943 476 5919"), NhsCheck::Valid);
    assert_eq!(
        nhs::normalise("943 476 5919").as_deref(),
        Some("9434765919")
    );
    for bad in ["94347659191", "943476591a", "", "          "] {
        assert_eq!(nhs::check(bad), NhsCheck::BadFormat, "{bad:?}");
    }
}

#[test]
fn ch_nhs_format_display_is_3_3_4() {
    assert_eq!(nhs::format("9434765919").as_deref(), Some("943 476 5919"));
    assert_eq!(nhs::format("943 4765919").as_deref(), Some("943 476 5919"));
    assert_eq!(nhs::format("12345"), None);
    let c = child();
    assert_eq!(c.nhs_number_display().as_deref(), Some("943 476 5919"));
}

// --- Child validation (§3.2) -------------------------------------------------------------

#[test]
fn a_complete_child_has_no_issues_at_sign() {
    let c = child();
    assert_eq!(validate(&c, Stage::Final), []);
}

#[test]
fn ch_nhs_missing_warns_only_at_sign() {
    let mut c = child();
    c.nhs_number = None;
    assert!(validate(&c, Stage::Draft).is_empty());
    assert_eq!(
        rules(&validate(&c, Stage::Final)),
        [("CH-NHS-MISSING", "nhs_number", Severity::Warn)]
    );
    c.nhs_number = Some("  ".into());
    assert_eq!(
        rules(&validate(&c, Stage::Final)),
        [("CH-NHS-MISSING", "nhs_number", Severity::Warn)]
    );
}

#[test]
fn ch_nhs_check_on_the_child_record_is_an_error_even_in_a_draft() {
    let mut c = child();
    c.nhs_number = Some("9434765918".into());
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("CH-NHS-CHECK", "nhs_number", Severity::Error)]
    );
}

fn summary_of(c: &Child) -> ChildSummary {
    ChildSummary::from(c)
}

#[test]
fn ch_duplicate_same_nhs_number_on_another_active_child_is_an_error() {
    let c = child();
    let mut other = child();
    other.envelope.team_id = c.envelope.team_id;
    other.family_name = Some("Different".into());
    other.nhs_number = Some("943 476 5919".into());
    let issues = validate_child(&c, &[summary_of(&other)], d(TODAY), Stage::Draft);
    assert_eq!(
        rules(&issues),
        [("CH-DUPLICATE", "nhs_number", Severity::Error)]
    );
    assert!(issues[0].message.contains(&other.envelope.id.to_string()));
}

#[test]
fn ch_duplicate_same_family_name_and_dob_warns() {
    let c = child();
    let mut other = child();
    other.envelope.team_id = c.envelope.team_id;
    other.nhs_number = None;
    other.family_name = Some("  OKAFOR ".into());
    let issues = validate_child(&c, &[summary_of(&other)], d(TODAY), Stage::Draft);
    assert_eq!(
        rules(&issues),
        [("CH-DUPLICATE", "family_name", Severity::Warn)]
    );
}

#[test]
fn ch_duplicate_ignores_itself_other_teams_and_entered_in_error_records() {
    let c = child();
    let itself = summary_of(&c);
    let other_team = summary_of(&child());
    let mut eie = child();
    eie.envelope.team_id = c.envelope.team_id;
    eie.envelope.record_status = RecordStatus::EnteredInError {
        reason: "Duplicate created in error".into(),
        user_id: Uuid::new_v4(),
        at: at("2026-03-02T09:00:00Z"),
    };
    let mut different = child();
    different.envelope.team_id = c.envelope.team_id;
    different.nhs_number = Some("4010232137".into());
    different.date_of_birth = Some(d("2012-01-21"));
    let team = [itself, other_team, summary_of(&eie), summary_of(&different)];
    assert!(validate_child(&c, &team, d(TODAY), Stage::Final).is_empty());
}

#[test]
fn names_are_required_at_sign_and_at_most_100_characters() {
    let mut c = child();
    c.given_name = None;
    c.family_name = Some("x".repeat(101));
    assert_eq!(
        rules(&validate(&c, Stage::Final)),
        [
            ("FLD-REQUIRED", "given_name", Severity::Error),
            ("FLD-HARD", "family_name", Severity::Error)
        ]
    );
    c.given_name = Some("é".repeat(100));
    c.family_name = Some("O'Neill-Smith".into());
    assert!(validate(&c, Stage::Final).is_empty());
}

#[test]
fn date_of_birth_hard_range_is_not_future_and_at_most_26_years_ago() {
    let mut c = child();
    c.date_of_birth = Some(d("2026-03-16"));
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-HARD", "date_of_birth", Severity::Error)]
    );
    c.date_of_birth = Some(d(TODAY));
    assert!(validate(&c, Stage::Draft).is_empty());
    c.date_of_birth = Some(d("2000-03-15"));
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-SOFT", "date_of_birth", Severity::Warn)]
    );
    c.date_of_birth = Some(d("2000-03-14"));
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-HARD", "date_of_birth", Severity::Error)]
    );
}

#[test]
fn date_of_birth_soft_range_warns_above_age_19() {
    let mut c = child();
    c.date_of_birth = Some(d("2006-03-16")); // 19 on TODAY
    assert!(validate(&c, Stage::Draft).is_empty());
    c.date_of_birth = Some(d("2006-03-15")); // 20 on TODAY
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-SOFT", "date_of_birth", Severity::Warn)]
    );
}

#[test]
fn required_fields_are_reported_at_sign_not_in_drafts() {
    let mut c = Child::new(child().envelope);
    c.nhs_number = Some("9434765919".into());
    assert!(validate(&c, Stage::Draft).is_empty());
    let issues = validate(&c, Stage::Final);
    let paths: Vec<&str> = issues
        .iter()
        .filter(|i| i.rule_id == "FLD-REQUIRED")
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "given_name",
            "family_name",
            "date_of_birth",
            "gender",
            "gp_area",
            "education_setting",
            "info_sharing_consent",
            "address"
        ]
    );
}

#[test]
fn postcode_is_upper_cased_with_one_space_and_checked() {
    assert_eq!(normalise_postcode("lu1 3ab").as_deref(), Some("LU1 3AB"));
    assert_eq!(normalise_postcode(" mk401aa ").as_deref(), Some("MK40 1AA"));
    assert_eq!(normalise_postcode("W1A  0AX").as_deref(), Some("W1A 0AX"));
    assert_eq!(normalise_postcode("SG5 1AB").as_deref(), Some("SG5 1AB"));
    assert_eq!(normalise_postcode("M1 1AE").as_deref(), Some("M1 1AE"));
    for bad in [
        "LU1",
        "1LU 3AB",
        "LUU1 3AB",
        "LU1 AAB",
        "LU1 3A1",
        "LU13 3ABC",
        "ŁU1 3AB",
    ] {
        assert_eq!(normalise_postcode(bad), None, "{bad}");
    }
    let mut c = child();
    c.address.as_mut().unwrap().postcode = Some("LU1 3A".into());
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-FORMAT", "address.postcode", Severity::Error)]
    );
}

fn weight(value_kg: i64, on: &str) -> Item<WeightEntry> {
    item(WeightEntry {
        value_kg,
        measured_on: d(on),
        measured_by: None,
        source: Some(WeightSource::HomeVisit),
        source_record_id: None,
    })
}

#[test]
fn weights_use_hard_0_3_to_250_and_soft_2_to_120_kg() {
    let cases = [
        (2, Some(("FLD-HARD", Severity::Error))),
        (3, Some(("FLD-SOFT", Severity::Warn))),
        (19, Some(("FLD-SOFT", Severity::Warn))),
        (20, None),
        (1200, None),
        (1201, Some(("FLD-SOFT", Severity::Warn))),
        (2500, Some(("FLD-SOFT", Severity::Warn))),
        (2501, Some(("FLD-HARD", Severity::Error))),
    ];
    for (tenths, expected) in cases {
        let mut c = child();
        let w = weight(tenths, "2026-03-01");
        let path = format!("weights.{}.value_kg", w.item_id);
        c.weights.push(w);
        let issues = validate(&c, Stage::Draft);
        match expected {
            None => assert!(issues.is_empty(), "{tenths}: {issues:?}"),
            Some((rule, sev)) => assert_eq!(rules(&issues), [(rule, path.as_str(), sev)]),
        }
    }
}

#[test]
fn weights_cannot_be_measured_in_the_future_or_before_birth_and_removed_ones_are_ignored() {
    let mut c = child();
    let future = weight(324, "2026-03-16");
    let before_birth = weight(324, "2012-01-19");
    let mut removed = weight(9999, "2026-03-01");
    removed.removed_at = Some(at("2026-03-02T09:00:00Z"));
    let ids = (future.item_id, before_birth.item_id);
    c.weights.extend([future, before_birth, removed]);
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [
            (
                "FLD-HARD",
                format!("weights.{}.measured_on", ids.0).as_str(),
                Severity::Error
            ),
            (
                "FLD-HARD",
                format!("weights.{}.measured_on", ids.1).as_str(),
                Severity::Error
            ),
        ]
    );
}

#[test]
fn latest_weight_is_the_most_recently_measured_live_entry() {
    let mut c = child();
    let mut removed = weight(400, "2026-03-10");
    removed.removed_by = Some(Uuid::new_v4());
    c.weights.extend([
        weight(310, "2026-01-05"),
        weight(324, "2026-03-02"),
        removed,
    ]);
    assert_eq!(c.latest_weight().unwrap().data.value_kg, 324);
}

#[test]
fn deceased_on_must_lie_between_birth_and_today() {
    let mut c = child();
    c.deceased_on = Some(d("2026-03-16"));
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-HARD", "deceased_on", Severity::Error)]
    );
    c.deceased_on = Some(d("2011-12-31"));
    assert_eq!(
        rules(&validate(&c, Stage::Draft)),
        [("FLD-HARD", "deceased_on", Severity::Error)]
    );
    c.deceased_on = Some(d("2012-01-20"));
    assert!(validate(&c, Stage::Draft).is_empty());
}

#[test]
fn alerts_and_carers_need_text_at_sign() {
    let mut c = child();
    let alert = item(Alert {
        kind: AlertKind::HomeSafety,
        text: " ".into(),
    });
    let carer = item(Carer::default());
    let paths = (
        format!("carers.{}.name", carer.item_id),
        format!("alerts.{}.text", alert.item_id),
    );
    c.alerts.push(alert);
    c.carers.push(carer);
    assert!(validate(&c, Stage::Draft).is_empty());
    assert_eq!(
        rules(&validate(&c, Stage::Final)),
        [
            ("FLD-REQUIRED", paths.0.as_str(), Severity::Error),
            ("FLD-REQUIRED", paths.1.as_str(), Severity::Error)
        ]
    );
}

#[test]
fn child_document_layout_uses_item_maps_and_tenths() {
    let mut c = child();
    c.weights.push(weight(324, "2026-03-02"));
    let json = to_json(&c).unwrap();
    assert_eq!(json["schema"], "homevisit/child");
    assert!(json.get("child_id").is_none());
    assert_eq!(json["date_of_birth"], "2012-01-20");
    assert_eq!(json["gp_area"], "luton");
    let weights = json["weights"].as_object().unwrap();
    assert_eq!(weights.len(), 1);
    let (key, w) = weights.iter().next().unwrap();
    assert_eq!(w["item_id"], key.as_str());
    assert_eq!(w["value_kg"], 324);
    assert_eq!(w["measured_on"], "2026-03-02");
    assert_eq!(json["info_sharing_consent"]["answer"], "yes");
    let back: Child = from_json(json).unwrap();
    assert_eq!(back, c);
}

#[test]
fn child_with_a_fractional_weight_is_corrupt_not_a_panic() {
    let mut c = child();
    c.weights.push(weight(324, "2026-03-02"));
    let mut json = to_json(&c).unwrap();
    let key = json["weights"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    json["weights"][&key]["value_kg"] = serde_json::json!(32.4);
    assert!(matches!(
        from_json::<Child>(json),
        Err(Error::Corrupt { .. })
    ));
}

// --- Referral validation (§3.3) ----------------------------------------------------------

fn social_referral(c: &Child) -> Referral {
    let mut r = Referral::new(Envelope::new(
        Schema::Referral,
        c.envelope.team_id,
        Some(c.envelope.id),
        Uuid::new_v4(),
        at("2026-03-01T10:00:00Z"),
    ));
    r.service = Some(Service::SocialCare);
    r.received_on = Some(d("2026-03-01"));
    r.route = Some(ReferralRoute::FamilyPartnershipService);
    r.referrer.role = Some(ReferrerRole::HealthVisitor);
    r.permanent_substantial_disability = Some(YesNo::Yes);
    r.reasons = [ReasonCode::MovingHandling].into();
    r.disposition = Some(Disposition::Accepted);
    r
}

fn validate_r(r: &Referral, c: &Child, stage: Stage) -> Vec<Issue> {
    validate_referral(r, c, d(TODAY), stage, &RulesConfig::default())
}

#[test]
fn a_complete_referral_has_no_issues() {
    let c = child();
    assert_eq!(validate_r(&social_referral(&c), &c, Stage::Final), []);
}

#[test]
fn received_on_lies_between_birth_and_today() {
    let c = child();
    let mut r = social_referral(&c);
    r.received_on = Some(d("2026-03-16"));
    assert_eq!(
        rules(&validate_r(&r, &c, Stage::Draft)),
        [("FLD-HARD", "received_on", Severity::Error)]
    );
    r.received_on = Some(d("2012-01-19"));
    assert_eq!(
        rules(&validate_r(&r, &c, Stage::Draft)),
        [("FLD-HARD", "received_on", Severity::Error)]
    );
}

#[test]
fn closed_on_lies_between_received_on_and_today_and_needs_a_reason() {
    let c = child();
    let mut r = social_referral(&c);
    r.closed_on = Some(d("2026-02-28"));
    r.closure_reason = Some("Goals met".into());
    assert_eq!(
        rules(&validate_r(&r, &c, Stage::Final)),
        [("FLD-HARD", "closed_on", Severity::Error)]
    );
    r.closed_on = Some(d(TODAY));
    r.closure_reason = None;
    assert_eq!(
        rules(&validate_r(&r, &c, Stage::Final)),
        [("FLD-REQUIRED", "closure_reason", Severity::Error)]
    );
}

#[test]
fn referral_needs_the_details_of_each_requested_need_at_submit() {
    let c = child();
    let mut r = social_referral(&c);
    r.reasons = [
        ReasonCode::HomeAccess,
        ReasonCode::PosturalSeatingHome,
        ReasonCode::BehaviourRiskHome,
    ]
    .into();
    assert!(validate_r(&r, &c, Stage::Draft).is_empty());
    let paths: Vec<String> = validate_r(&r, &c, Stage::Final)
        .into_iter()
        .map(|i| i.path)
        .collect();
    assert_eq!(
        paths,
        [
            "access_areas",
            "postural_purposes",
            "behaviour_risk_level",
            "siblings_needs_affected"
        ]
    );
}

#[test]
fn health_referral_needs_function_answer_and_referrer_knowledge() {
    let c = child();
    let mut r = social_referral(&c);
    r.service = Some(Service::Health);
    r.permanent_substantial_disability = None;
    r.referrer.role = Some(ReferrerRole::OtherProfessional);
    let paths: Vec<String> = validate_r(&r, &c, Stage::Final)
        .into_iter()
        .map(|i| i.path)
        .collect();
    assert_eq!(
        paths,
        [
            "referrer.role_text",
            "referrer.knows_child_well",
            "functional_difficulty"
        ]
    );
}

#[test]
fn s_transition_age_warning_is_part_of_referral_validation() {
    let c = child(); // 14 on 2026-03-01
    let mut r = social_referral(&c);
    r.reasons = [ReasonCode::Transition].into();
    assert_eq!(
        rules(&validate_r(&r, &c, Stage::Final)),
        [("S-TRANSITION-AGE", "reasons.transition", Severity::Warn)]
    );
}

// --- Dates (§1.1, §2.4, §2.5, SAF-ELIG-DATE) ---------------------------------------------

#[test]
fn ay_end_table_of_section_2_4() {
    for (dob, end18, end19) in [
        ("2008-03-10", "2026-08-31", "2027-08-31"),
        ("2008-10-05", "2027-08-31", "2028-08-31"),
        ("2008-09-01", "2027-08-31", "2028-08-31"),
        ("2008-08-31", "2026-08-31", "2027-08-31"),
        ("2008-02-29", "2026-08-31", "2027-08-31"),
    ] {
        assert_eq!(dates::ay_end(d(dob), 18), Some(d(end18)), "{dob}");
        assert_eq!(dates::ay_end(d(dob), 19), Some(d(end19)), "{dob}");
    }
}

#[test]
fn age_leap_day_birthday_mar1_is_17_on_28_february_and_18_on_1_march() {
    let dob = d("2008-02-29");
    assert_eq!(dates::age(dob, d("2026-02-28"), MAR1), 17);
    assert_eq!(dates::age(dob, d("2026-03-01"), MAR1), 18);
    // In a leap year the birthday is 29 February whatever the setting.
    assert_eq!(dates::age(dob, d("2028-02-28"), MAR1), 19);
    assert_eq!(dates::age(dob, d("2028-02-29"), MAR1), 20);
}

#[test]
fn age_leap_day_birthday_feb28_is_18_on_28_february() {
    let dob = d("2008-02-29");
    assert_eq!(dates::age(dob, d("2026-02-27"), FEB28), 17);
    assert_eq!(dates::age(dob, d("2026-02-28"), FEB28), 18);
    assert_eq!(dates::age(dob, d("2028-02-28"), FEB28), 19);
    assert_eq!(dates::age(dob, d("2028-02-29"), FEB28), 20);
}

#[test]
fn age_is_attained_at_the_start_of_the_birthday() {
    let dob = d("2008-06-15");
    assert_eq!(dates::age(dob, d("2026-06-14"), MAR1), 17);
    assert_eq!(dates::age(dob, d("2026-06-15"), MAR1), 18);
    assert_eq!(dates::age(dob, d("2008-06-15"), MAR1), 0);
    assert_eq!(dates::age(dob, d("2008-06-14"), MAR1), -1);
}

#[test]
fn nth_birthday_follows_the_leap_day_setting() {
    let dob = d("2008-02-29");
    assert_eq!(dates::nth_birthday(dob, 25, MAR1), Some(d("2033-03-01")));
    assert_eq!(dates::nth_birthday(dob, 25, FEB28), Some(d("2033-02-28")));
    assert_eq!(dates::nth_birthday(dob, 24, MAR1), Some(d("2032-02-29")));
}

#[test]
fn add_months_clamps_to_the_end_of_the_month() {
    assert_eq!(dates::add_months(d("2025-08-31"), 6), Some(d("2026-02-28")));
    assert_eq!(dates::add_months(d("2023-08-31"), 6), Some(d("2024-02-29")));
    assert_eq!(dates::add_months(d("2026-03-31"), 1), Some(d("2026-04-30")));
    assert_eq!(
        dates::add_months(d("2024-02-29"), -12),
        Some(d("2023-02-28"))
    );
    assert_eq!(dates::add_years(d("2024-02-29"), 8), Some(d("2032-02-29")));
    assert_eq!(dates::add_years(d("2024-02-29"), 1), Some(d("2025-02-28")));
}

#[test]
fn days_between_subtracts_local_dates() {
    assert_eq!(dates::days_between(d("2025-12-15"), d("2026-03-15")), 90);
    assert_eq!(dates::days_between(d("2025-12-14"), d("2026-03-15")), 91);
    assert_eq!(dates::days_between(d("2026-03-15"), d("2026-03-14")), -1);
}

#[test]
fn saf_elig_date_local_date_uses_europe_london_across_bst_and_gmt() {
    // BST (UTC+1): 23:30Z is already tomorrow in London.
    assert_eq!(
        dates::local_date(at("2026-08-31T23:30:00Z")),
        d("2026-09-01")
    );
    assert_eq!(
        dates::local_date(at("2026-08-31T22:59:59Z")),
        d("2026-08-31")
    );
    // GMT (UTC+0) in winter: 23:30Z is still the same day.
    assert_eq!(
        dates::local_date(at("2026-01-15T23:30:00Z")),
        d("2026-01-15")
    );
    // Around the spring change (2026-03-29 01:00Z) and the autumn change (2026-10-25 01:00Z).
    assert_eq!(
        dates::local_date(at("2026-03-28T23:30:00Z")),
        d("2026-03-28")
    );
    assert_eq!(
        dates::local_date(at("2026-03-29T23:30:00Z")),
        d("2026-03-30")
    );
    assert_eq!(
        dates::local_date(at("2026-10-24T23:30:00Z")),
        d("2026-10-25")
    );
    assert_eq!(
        dates::local_date(at("2026-10-25T23:30:00Z")),
        d("2026-10-25")
    );
}

#[test]
fn fld_format_dates_times_and_instants_are_parsed_strictly() {
    assert_eq!(dates::parse_date("2026-02-28").unwrap(), d("2026-02-28"));
    for bad in [
        "2026-02-30",
        "2026-2-28",
        "26-02-28",
        "2026/02/28",
        " 2026-02-28",
        "２026-02-28",
    ] {
        match dates::parse_date(bad) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-FORMAT"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(dates::parse_time("09:05").unwrap().minutes(), 545);
    assert!(dates::parse_time("9:05").is_err());
    let t = dates::parse_instant("2026-03-15T10:42:07Z").unwrap();
    assert_eq!(dates::format_instant(t), "2026-03-15T10:42:07Z");
    assert!(dates::parse_instant("2026-03-15T10:42:07.250Z").is_ok());
    for bad in [
        "2026-03-15T10:42:07+01:00",
        "2026-03-15 10:42:07Z",
        "2026-03-15t10:42:07z",
        "2026-03-15T10:42Z",
        "2026-03-15",
        "",
    ] {
        match dates::parse_instant(bad) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-FORMAT"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

// --- RK-RETENTION (§4) -------------------------------------------------------------------

fn health_retention(dob: &str, closed: Option<&str>, died: Option<&str>) -> Retention {
    retention_date(
        Service::Health,
        d(dob),
        closed.map(d),
        died.map(d),
        &RulesConfig::default(),
    )
}

#[test]
fn rk_retention_vectors_of_section_4() {
    // Closed at 12: the 25th birthday.
    assert_eq!(
        health_retention("2010-05-14", Some("2023-02-01"), None),
        Retention::Until(d("2035-05-14"))
    );
    // Closed at 17: the 26th birthday.
    assert_eq!(
        health_retention("2008-03-10", Some("2025-11-01"), None),
        Retention::Until(d("2034-03-10"))
    );
    // Closed at 19: the later of the 25th birthday (2032-07-01) and closed + 8 years.
    assert_eq!(
        health_retention("2007-07-01", Some("2026-07-20"), None),
        Retention::Until(d("2034-07-20"))
    );
}

#[test]
fn rk_retention_adult_discharge_is_the_later_of_25th_birthday_and_8_years_after_closure() {
    // Discharged at 18 or over, closed + 8 years always falls after the 25th birthday (it is
    // at least the 26th), so the later of the two is closed + 8 years.
    assert_eq!(
        health_retention("2000-01-01", Some("2018-01-01"), None),
        Retention::Until(d("2026-01-01"))
    );
    assert_eq!(
        health_retention("2010-01-05", Some("2028-01-10"), None),
        Retention::Until(d("2036-01-10"))
    );
    assert_eq!(
        health_retention("2001-06-01", Some("2019-06-02"), None),
        Retention::Until(d("2027-06-02"))
    );
    // 17 the day before the 18th birthday: the 26th birthday.
    assert_eq!(
        health_retention("2008-06-01", Some("2026-05-31"), None),
        Retention::Until(d("2034-06-01"))
    );
}

#[test]
fn rk_retention_after_death_is_8_years() {
    assert_eq!(
        health_retention("2012-01-20", Some("2026-03-01"), Some("2026-02-10")),
        Retention::Until(d("2034-02-10"))
    );
}

#[test]
fn rk_retention_nothing_is_due_while_an_episode_is_open() {
    let open = health_retention("2000-01-01", None, None);
    assert_eq!(open, Retention::EpisodeOpen);
    assert!(!open.is_due(d("2099-01-01")));
    let closed = health_retention("2010-05-14", Some("2023-02-01"), None);
    assert!(!closed.is_due(d("2035-05-14")));
    assert!(closed.is_due(d("2035-05-15")));
}

#[test]
fn rk_retention_social_care_follows_the_configured_schedule() {
    let cfg = RulesConfig {
        social_care_retention: SocialCareRetention {
            until_birthday: 25,
            years_after_closure: 6,
            years_after_death: 10,
        },
        ..RulesConfig::default()
    };
    let sc = |dob: &str, closed: &str, died: Option<&str>| {
        retention_date(
            Service::SocialCare,
            d(dob),
            Some(d(closed)),
            died.map(d),
            &cfg,
        )
    };
    assert_eq!(
        sc("2010-05-14", "2023-02-01", None),
        Retention::Until(d("2035-05-14"))
    );
    assert_eq!(
        sc("2000-01-01", "2022-03-01", None),
        Retention::Until(d("2028-03-01"))
    );
    assert_eq!(
        sc("2010-05-14", "2023-02-01", Some("2024-01-01")),
        Retention::Until(d("2034-01-01"))
    );
    // The default schedule never disposes earlier than the health rule for an adult.
    assert_eq!(
        retention_date(
            Service::SocialCare,
            d("2007-07-01"),
            Some(d("2026-07-20")),
            None,
            &RulesConfig::default()
        ),
        Retention::Until(d("2034-07-20"))
    );
}

#[test]
fn rk_retention_of_a_child_is_the_latest_of_its_referrals_and_open_wins() {
    let mut c = child();
    c.date_of_birth = Some(d("2010-05-14"));
    let cfg = RulesConfig::default();
    let mut closed_health = social_referral(&c);
    closed_health.service = Some(Service::Health);
    closed_health.closed_on = Some(d("2023-02-01"));
    let mut closed_sc = social_referral(&c);
    closed_sc.closed_on = Some(d("2027-06-01")); // age 17: social care default 25th / +8y
    assert_eq!(
        child_retention(&c, &[closed_health.clone(), closed_sc.clone()], &cfg),
        Retention::Until(d("2035-06-01"))
    );
    let open = social_referral(&c);
    assert_eq!(
        child_retention(&c, &[closed_health.clone(), open], &cfg),
        Retention::EpisodeOpen
    );
    assert_eq!(child_retention(&c, &[], &cfg), Retention::Undetermined);
    c.date_of_birth = None;
    assert_eq!(
        child_retention(&c, &[closed_health], &cfg),
        Retention::Undetermined
    );
}

// --- RK-LOCAL-EVICT, RK-AUDIT, SAF-DEVICE-LOST -------------------------------------------

#[test]
fn rk_local_evict_only_when_the_server_has_every_local_change() {
    assert!(may_evict_locally(LocalSyncState::Synced));
    assert!(!may_evict_locally(LocalSyncState::Pending));
    assert!(!may_evict_locally(LocalSyncState::LocalOnly));
    assert!(!may_evict_locally(LocalSyncState::Conflict));
}

#[test]
fn rk_audit_export_needs_a_purpose_and_views_do_not() {
    let (user, device, record) = (Uuid::new_v4(), Uuid::new_v4(), RecordId::new());
    let when = at("2026-03-15T10:42:07Z");
    let view = AuditEntry::new(user, device, record, AuditAction::View, when, None).unwrap();
    assert_eq!(view.purpose, None);
    let print = AuditEntry::new(
        user,
        device,
        record,
        AuditAction::Print,
        when,
        Some("  ".into()),
    )
    .unwrap();
    assert_eq!(print.purpose, None);
    for purpose in [None, Some("   ".to_owned())] {
        match AuditEntry::new(user, device, record, AuditAction::Export, when, purpose) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "RK-AUDIT"),
            other => panic!("{other:?}"),
        }
    }
    let export = AuditEntry::new(
        user,
        device,
        record,
        AuditAction::Export,
        when,
        Some(" Transfer to Bedford wheelchair service ".into()),
    )
    .unwrap();
    assert_eq!(
        export.purpose.as_deref(),
        Some("Transfer to Bedford wheelchair service")
    );
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["action"], "export");
    assert_eq!(json["at"], "2026-03-15T10:42:07Z");
    assert_eq!(json["record_id"], record.to_string());
    assert!(AuditEntry::new(
        user,
        device,
        record,
        AuditAction::Export,
        when,
        Some("x".repeat(501))
    )
    .is_err());
}

#[test]
fn saf_device_lost_locks_after_more_than_14_days_without_sync() {
    let cfg = RulesConfig::default();
    // Last sync late on 1 March UTC is 1 March in London (GMT).
    let last = at("2026-03-01T23:00:00Z");
    assert!(!lock_required(last, d("2026-03-15"), &cfg));
    assert!(lock_required(last, d("2026-03-16"), &cfg));
    let strict = RulesConfig {
        lock_after_days_without_sync: 1,
        ..RulesConfig::default()
    };
    assert!(!lock_required(last, d("2026-03-02"), &strict));
    assert!(lock_required(last, d("2026-03-03"), &strict));
}

#[test]
fn saf_device_lost_lock_counts_london_days_and_a_clock_set_back_locks() {
    let cfg = RulesConfig::default();
    // 23:30Z on 31 August is 1 September in London: 14 days later is 15 September.
    let last = at("2026-08-31T23:30:00Z");
    assert!(!lock_required(last, d("2026-09-15"), &cfg));
    assert!(lock_required(last, d("2026-09-16"), &cfg));
    assert!(lock_required(last, d("2026-08-31"), &cfg));
}
