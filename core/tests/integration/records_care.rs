//! Visits, safeguarding, the child's voice, carer training and eligibility exceptions through
//! the record service on a real (encrypted) store (DOMAIN.md §3.7, §3.4, §3.5, §2.2).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::{
        assessment::VisitLocation,
        common::{Service, SignState},
        referral::{Disposition, EligibilityOutcome, Referral, Signpost},
        user::{Actor, Role},
        visit::{RaisedWith, SafeguardingStatus, VisitOutcome},
    },
    records::{
        Clock, ConcernInput, FieldValue, Records, SafeguardingInput, VisitPlan, VisitResult,
    },
    rules::config::RulesConfig,
    store::{Store, StoreKey},
    Error, RecordId,
};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    clock: Arc<TestClock>,
    team: Uuid,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::create_new(dir.path().join("care.db"), StoreKey::Raw([9u8; 32])).unwrap();
        Self {
            _dir: dir,
            store: Arc::new(store),
            clock: Arc::new(TestClock(Mutex::new(
                "2026-03-15T12:00:00Z".parse().unwrap(),
            ))),
            team: Uuid::new_v4(),
        }
    }

    fn user_with(&self, role: Role, config: RulesConfig) -> Records {
        let actor = Actor {
            user_id: Uuid::new_v4(),
            role,
            device_id: Uuid::new_v4(),
            team_id: self.team,
            hcpc_number: (role != Role::Ap).then(|| "OT123456".to_owned()),
            hcpc_verified_until: (role != Role::Ap).then(|| d("2027-01-01")),
        };
        Records::new(self.store.clone(), actor, config, self.clock.clone())
    }

    fn user(&self, role: Role) -> Records {
        self.user_with(role, RulesConfig::default())
    }
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.to_owned())
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn set(r: &Records, id: RecordId, path: &str, v: FieldValue) {
    r.set_field(id, path, v)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn plan(on: &str) -> VisitPlan {
    VisitPlan {
        planned_on: d(on),
        planned_time: Some("10:00".parse().unwrap()),
        place: VisitLocation::ChildHome,
        visitor_name: Some("A. Therapist".into()),
    }
}

fn missed(outcome: VisitOutcome) -> VisitResult {
    VisitResult {
        outcome,
        reason: Some("Nobody answered the door; no reply by phone.".into()),
        follow_up: Some("Letter sent; visit rebooked; health visitor told.".into()),
        assessment_id: None,
    }
}

/// Fills a home-visit form the way the app does, one field at a time, complete enough to sign
/// except for the child's views.
fn fill_assessment(r: &Records, a: RecordId) {
    set(r, a, "sections.A.visit_date", s("2026-03-15"));
    set(r, a, "sections.A.start_time", s("10:00"));
    set(r, a, "sections.A.end_time", s("11:30"));
    set(r, a, "sections.A.location", s("child_home"));
    r.add_item(
        a,
        "sections.A.people_present",
        obj(json!({ "name": "Sam Carer", "relationship": "mother" })),
    )
    .unwrap();
    for code in ["name", "dob"] {
        r.add_code(a, "sections.A.identity_checked", code).unwrap();
    }
    r.add_code(a, "sections.A.consent.scope", "assessment")
        .unwrap();
    set(r, a, "sections.A.consent.by", s("parental_responsibility"));
    set(r, a, "sections.A.consent.at", s("2026-03-15T10:05:00Z"));
    set(
        r,
        a,
        "sections.B.presenting_concerns",
        s("Difficulty with bathing and transfers."),
    );
    set(r, a, "sections.B.function_vs_development", s("not_in_line"));
    for area in [
        "play",
        "eating_drinking",
        "washing_bathing",
        "teeth",
        "toileting",
        "dressing",
        "school_life_skills",
        "managing_at_school",
        "mobility_transfers",
    ] {
        set(
            r,
            a,
            &format!("sections.C.areas.{area}.level"),
            s("some_assistance"),
        );
    }
    set(r, a, "sections.D.property_type", s("house"));
    set(r, a, "sections.D.tenure", s("council"));
    set(r, a, "sections.D.entrance_steps.count", FieldValue::Int(2));
    set(
        r,
        a,
        "sections.D.entrance_steps.riser_max_mm",
        FieldValue::Int(180),
    );
    set(
        r,
        a,
        "sections.D.internal_stairs.count",
        FieldValue::Int(13),
    );
    set(
        r,
        a,
        "sections.D.internal_stairs.stairlift",
        FieldValue::Bool(false),
    );
    for level in ["bedroom_level", "bathroom_level", "toilet_level"] {
        set(r, a, &format!("sections.D.{level}"), s("first"));
    }
    r.add_code(a, "sections.D.access_issues", "washing")
        .unwrap();
    set(r, a, "sections.E.seating_need", FieldValue::Bool(false));
    set(r, a, "sections.F.mh_concern", FieldValue::Bool(false));
    set(r, a, "sections.G.young_carers", FieldValue::Bool(false));
    set(
        r,
        a,
        "sections.H.behaviour_concern",
        FieldValue::Bool(false),
    );
    set(
        r,
        a,
        "sections.H.safeguarding_raised",
        FieldValue::Bool(false),
    );
    r.add_item(
        a,
        "sections.I.recommendations",
        obj(json!({ "kind": "equipment", "text": "Bath lift" })),
    )
    .unwrap();
    set(r, a, "sections.I.next_review_on", s("2026-09-15"));
}

fn sign_error_rules(r: &Records, id: RecordId) -> Vec<String> {
    match r.sign(id) {
        Err(Error::Validation { issues }) => issues.into_iter().map(|i| i.rule_id).collect(),
        other => panic!("expected a validation refusal, got {other:?}"),
    }
}

#[test]
fn hv_b_voice_social_care_assessment_without_the_childs_views_cannot_be_signed() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let a = ot.create_assessment(c, Service::SocialCare).unwrap();
    fill_assessment(&ot, a);
    let report = ot.validate(a, true).unwrap();
    let voice: Vec<_> = report
        .blocking
        .iter()
        .filter(|i| i.rule_id == "HV-B-VOICE")
        .collect();
    assert_eq!(voice.len(), 1, "{:#?}", report.blocking);
    assert!(voice[0].is_error());
    assert_eq!(sign_error_rules(&ot, a), ["HV-B-VOICE"]);

    // "Non-verbal — views observed" alone is not enough: how they were observed is needed.
    set(
        &ot,
        a,
        "sections.B.child_views_mode",
        s("non_verbal_observed"),
    );
    assert_eq!(sign_error_rules(&ot, a), ["HV-B-VOICE"]);
    set(
        &ot,
        a,
        "sections.B.child_views_observed_how",
        s("Smiled and vocalised in the bath chair; arched away when lifted without it."),
    );
    assert!(ot.validate(a, true).unwrap().is_clear());
    assert_eq!(ot.sign(a).unwrap(), SignState::Signed);
}

#[test]
fn hv_b_voice_health_assessment_without_views_warns_and_an_acknowledgement_lets_it_sign() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let a = ot.create_assessment(c, Service::Health).unwrap();
    fill_assessment(&ot, a);
    let report = ot.validate(a, true).unwrap();
    let warn = report
        .blocking
        .iter()
        .find(|i| i.rule_id == "HV-B-VOICE")
        .cloned()
        .unwrap_or_else(|| panic!("{:#?}", report.blocking));
    assert!(!warn.is_error());
    ot.acknowledge(
        a,
        "HV-B-VOICE",
        &warn.path,
        "Seen at school; views recorded by the teacher",
    )
    .unwrap();
    assert_eq!(ot.sign(a).unwrap(), SignState::Signed);
}

#[test]
fn ch_visit_missed_two_missed_visits_show_on_the_banner_of_every_record_and_the_caseload() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let ra = ot.create_risk_assessment(c).unwrap();
    ot.record_visit(c, &plan("2026-01-12"), &missed(VisitOutcome::WasNotBrought))
        .unwrap();
    assert!(ot.view(ra).unwrap().banner.warnings.is_empty());
    assert!(!ot.store().caseload().unwrap()[0].missed_visit_warning(90));

    ot.record_visit(c, &plan("2026-03-10"), &missed(VisitOutcome::NoAccess))
        .unwrap();
    for id in [c, ra] {
        let banner = ot.view(id).unwrap().banner;
        let ids: Vec<_> = banner.warnings.iter().map(|i| i.rule_id.as_str()).collect();
        assert_eq!(ids, ["CH-VISIT-MISSED"]);
        assert!(banner.warnings[0].message.contains("safeguarding referral"));
    }
    let entry = ot.store().caseload().unwrap().remove(0);
    assert_eq!(entry.missed_visit_gap_days, Some(57));
    assert!(entry.missed_visit_warning(90));
    assert!(!entry.missed_visit_warning(56));
    // The configured window decides (RulesConfig::missed_visit_window_days).
    let strict = w.user_with(
        Role::Ot,
        RulesConfig {
            missed_visit_window_days: 30,
            ..RulesConfig::default()
        },
    );
    assert!(strict.view(c).unwrap().banner.warnings.is_empty());
    assert!(strict.child_warnings(c).unwrap().is_empty());
    assert_eq!(ot.child_warnings(c).unwrap().len(), 1);
}

#[test]
fn ch_visit_outcome_not_seen_without_reason_or_follow_up_is_refused_and_nothing_is_saved() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let no_follow_up = VisitResult {
        follow_up: Some("  ".into()),
        ..missed(VisitOutcome::NoAccess)
    };
    match ot.record_visit(c, &plan("2026-03-10"), &no_follow_up) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "CH-VISIT-OUTCOME"),
        other => panic!("{other:?}"),
    }
    assert!(ot.visits(c).unwrap().is_empty());
    // A planned visit gets its outcome later; a cancellation by the family needs its reason.
    let v = ot.plan_visit(c, &plan("2026-03-20")).unwrap();
    let cancelled = VisitResult {
        outcome: VisitOutcome::CancelledByFamily,
        reason: None,
        follow_up: Some("Rebooked".into()),
        assessment_id: None,
    };
    assert!(matches!(
        ot.record_visit_outcome(c, v, &cancelled),
        Err(Error::InvalidInput { .. })
    ));
    ot.record_visit_outcome(
        c,
        v,
        &VisitResult {
            reason: Some("Child unwell".into()),
            ..cancelled
        },
    )
    .unwrap();
    let visits = ot.visits(c).unwrap();
    assert_eq!(
        visits[0].data.outcome,
        Some(VisitOutcome::CancelledByFamily)
    );
    assert_eq!(visits[0].data.reason.as_deref(), Some("Child unwell"));
    assert_eq!(visits[0].data.recorded_by, Some(ot.actor().user_id));
}

#[test]
fn ch_visit_seen_links_only_a_home_visit_assessment_of_the_same_child() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let other = ot.create_child("Bea", "Other", d("2015-01-01")).unwrap();
    let theirs = ot.create_assessment(other, Service::Health).unwrap();
    let ra = ot.create_risk_assessment(c).unwrap();
    let seen = |a: Option<RecordId>| VisitResult {
        outcome: VisitOutcome::Seen,
        reason: None,
        follow_up: None,
        assessment_id: a,
    };
    for wrong in [theirs, ra] {
        match ot.record_visit(c, &plan("2026-03-10"), &seen(Some(wrong))) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "CH-VISIT-SEEN"),
            other => panic!("{other:?}"),
        }
    }
    // Seen without the assessment yet: a CH-VISIT-SEEN warning on the child until linked.
    let v = ot
        .record_visit(c, &plan("2026-03-10"), &seen(None))
        .unwrap();
    let rules: Vec<_> = ot
        .validate(c, false)
        .unwrap()
        .issues
        .into_iter()
        .map(|i| i.rule_id)
        .collect();
    assert!(rules.contains(&"CH-VISIT-SEEN".to_owned()), "{rules:?}");
    let ours = ot.create_assessment(c, Service::Health).unwrap();
    ot.link_visit_assessment(c, v, ours).unwrap();
    let rules: Vec<_> = ot
        .validate(c, false)
        .unwrap()
        .issues
        .into_iter()
        .map(|i| i.rule_id)
        .collect();
    assert!(!rules.contains(&"CH-VISIT-SEEN".to_owned()), "{rules:?}");
}

#[test]
fn ch_sg_status_shows_on_the_banner_and_every_change_is_attributed_in_its_history() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let a = ot.create_assessment(c, Service::SocialCare).unwrap();
    assert_eq!(
        ot.view(a).unwrap().banner.safeguarding_status,
        SafeguardingStatus::Unknown
    );
    // Looked after without the authority: refused.
    let mut input = SafeguardingInput {
        status: SafeguardingStatus::LookedAfter,
        looked_after_by: None,
        social_worker_name: Some("Dana Reid".into()),
        social_worker_team: Some("Children in care".into()),
        social_worker_phone: Some("01582 000000".into()),
        social_worker_email: None,
    };
    match ot.set_safeguarding(c, &input) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "CH-SG-STATUS"),
        other => panic!("{other:?}"),
    }
    input.looked_after_by = Some("Luton Borough Council".into());
    ot.set_safeguarding(c, &input).unwrap();
    let second = w.user(Role::Approver);
    second
        .set_safeguarding(
            c,
            &SafeguardingInput {
                status: SafeguardingStatus::ChildProtectionPlan,
                looked_after_by: None,
                ..input.clone()
            },
        )
        .unwrap();
    let banner = ot.view(a).unwrap().banner;
    assert_eq!(
        banner.safeguarding_status,
        SafeguardingStatus::ChildProtectionPlan
    );
    assert_eq!(banner.safeguarding_label, "Child protection plan");
    assert_eq!(
        banner.social_worker.as_deref(),
        Some("Dana Reid (01582 000000)")
    );
    // Every change is attributed; the approver's changes are the status and the authority.
    let history = ot.safeguarding_history(c).unwrap();
    let mut who: Vec<_> = history
        .iter()
        .map(|h| h.attribution.meta().map(|m| (m.user_id, m.role)))
        .collect();
    assert!(who.iter().all(Option::is_some));
    who.dedup();
    assert_eq!(
        who,
        [
            Some((ot.actor().user_id, Role::Ot)),
            Some((second.actor().user_id, Role::Approver))
        ]
    );
    let approver_paths: Vec<String> = history
        .iter()
        .filter(|h| h.attribution.user_id() == Some(second.actor().user_id))
        .flat_map(|h| h.paths.clone())
        .collect();
    assert_eq!(
        approver_paths,
        ["safeguarding.status", "safeguarding.looked_after_by"]
    );
    // The caseload shows the status too.
    assert_eq!(
        ot.store().caseload().unwrap()[0]
            .safeguarding_status
            .as_deref(),
        Some("child_protection_plan")
    );
}

#[test]
fn ch_sg_concern_is_recorded_with_what_to_whom_when_and_a_future_date_is_refused() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let v = ot
        .record_visit(c, &plan("2026-03-15"), &missed(VisitOutcome::WasNotBrought))
        .unwrap();
    let mut concern = ConcernInput {
        concern: "Not brought twice; family not answering.".into(),
        raised_with: RaisedWith::Mash,
        raised_with_name: None,
        raised_on: d("2026-03-16"),
        reference: Some("MASH-2026-0142".into()),
        visit_id: Some(v),
    };
    match ot.add_safeguarding_concern(c, &concern) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "CH-SG-CONCERN"),
        other => panic!("{other:?}"),
    }
    concern.raised_on = d("2026-03-15");
    ot.add_safeguarding_concern(c, &concern).unwrap();
    let issues = ot.validate(c, false).unwrap().issues;
    assert!(
        !issues.iter().any(|i| i.rule_id == "CH-SG-CONCERN"),
        "{issues:#?}"
    );
    assert_eq!(ot.safeguarding_history(c).unwrap().len(), 1);
}

#[test]
fn rk_elig_override_accepts_by_exception_with_who_why_and_when_and_survives_re_evaluation() {
    let w = World::new();
    let ot = w.user(Role::Ot);
    let ap = w.user(Role::Ap);
    let c = ot.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    set(&ot, c, "gp_area", s("other"));
    let r = ot.create_referral(c, Service::Health).unwrap();
    set(&ot, r, "received_on", s("2026-03-01"));
    set(&ot, r, "route", s("direct_professional"));
    set(&ot, r, "referrer.role", s("teacher"));
    set(&ot, r, "referrer.knows_child_well", FieldValue::Bool(true));
    set(&ot, r, "functional_difficulty", s("yes"));
    ot.add_code(r, "reasons", "dressing").unwrap();
    match ot.evaluate_eligibility(r, None).unwrap() {
        EligibilityOutcome::NotEligible {
            rule_ids, signpost, ..
        } => {
            assert_eq!(rule_ids, ["H-ELIG-GP"]);
            // H-ELIG-GP points to the child's own area's service.
            assert_eq!(signpost, [Signpost::OwnAreaService]);
        }
        other => panic!("{other:?}"),
    }
    match ap.override_eligibility(r, "Family moving to Luton next month") {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "RK-ELIG-OVERRIDE"),
        other => panic!("{other:?}"),
    }
    ot.override_eligibility(r, "Family moving to Luton next month")
        .unwrap();
    ot.evaluate_eligibility(r, None).unwrap();
    let referral: Referral = ot.typed(r).unwrap();
    assert_eq!(referral.disposition, Some(Disposition::Accepted));
    let o = referral.eligibility_override.unwrap();
    assert_eq!(o.by, ot.actor().user_id);
    assert_eq!(o.reason, "Family moving to Luton next month");
    assert_eq!(o.on, d("2026-03-15"));
    // The computed outcome stays beside the exception.
    assert!(!referral.eligibility.unwrap().outcome.is_eligible());
    // Listed as accepted by exception.
    assert_eq!(
        ot.store().record_summary(r).unwrap().unwrap().status,
        "accepted_by_exception"
    );
    // H-OFFER-TIER: the accepted health referral asks for its tier.
    let rules: Vec<_> = ot
        .validate(r, true)
        .unwrap()
        .issues
        .into_iter()
        .map(|i| i.rule_id)
        .collect();
    assert!(rules.contains(&"H-OFFER-TIER".to_owned()), "{rules:?}");
    set(&ot, r, "outcome_tier", s("targeted"));
    let rules: Vec<_> = ot
        .validate(r, true)
        .unwrap()
        .issues
        .into_iter()
        .map(|i| i.rule_id)
        .collect();
    assert!(!rules.contains(&"H-OFFER-TIER".to_owned()), "{rules:?}");
}
