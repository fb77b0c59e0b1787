//! Visits and safeguarding across devices through the real team server (DOMAIN.md §3.7): two
//! missed visits recorded offline on two tablets raise `CH-VISIT-MISSED` in both caseloads
//! after sync, and the safeguarding status reaches the banner of every record of the child on
//! the other tablet.

use std::sync::Arc;

use chrono::NaiveDate;
use homevisit_core::{
    model::{
        assessment::VisitLocation,
        common::Service,
        visit::{SafeguardingStatus, VisitOutcome},
    },
    records::{Records, SafeguardingInput, SystemClock, VisitPlan, VisitResult},
    rules::config::RulesConfig,
    store::SyncStatus,
};
use homevisit_tests::{device::Device, TestServer};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn records(device: &Device) -> Records {
    Records::new(
        Arc::clone(&device.store),
        device.actor.clone(),
        RulesConfig::default(),
        Arc::new(SystemClock),
    )
}

fn visit(on: &str) -> VisitPlan {
    VisitPlan {
        planned_on: d(on),
        planned_time: None,
        place: VisitLocation::ChildHome,
        visitor_name: Some("A. Therapist".into()),
    }
}

fn not_seen(outcome: VisitOutcome) -> VisitResult {
    VisitResult {
        outcome,
        reason: Some("Nobody came to the door.".into()),
        follow_up: Some("Phoned the family; letter sent; visit rebooked.".into()),
        assessment_id: None,
    }
}

/// Whether the caseload of `r` warns `CH-VISIT-MISSED` for its only child.
fn caseload_warns(r: &Records) -> bool {
    let caseload = r.caseload().unwrap();
    assert_eq!(caseload.len(), 1);
    caseload[0]
        .warnings
        .iter()
        .any(|w| w.rule_id == "CH-VISIT-MISSED")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ch_visit_missed_offline_visits_on_two_tablets_warn_in_both_caseloads_after_sync() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let (ra, rb) = (records(&a), records(&b));
    let child = ra.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert!(b.has_record(child));

    // Offline: tablet A records "was not brought", tablet B "no access", 28 days apart.
    ra.record_visit(
        child,
        &visit("2026-02-02"),
        &not_seen(VisitOutcome::WasNotBrought),
    )
    .unwrap();
    rb.record_visit(
        child,
        &visit("2026-03-02"),
        &not_seen(VisitOutcome::NoAccess),
    )
    .unwrap();
    assert!(!caseload_warns(&ra), "one missed visit alone does not warn");
    assert!(!caseload_warns(&rb));

    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.heads(child), b.heads(child));
    assert_eq!(a.status(child), SyncStatus::Synced);

    for (name, r) in [("A", &ra), ("B", &rb)] {
        // Both visits survive the merge (CF-LIST), and both caseloads carry the warning.
        assert_eq!(r.visits(child).unwrap().len(), 2, "tablet {name}");
        assert!(caseload_warns(r), "tablet {name}");
        assert_eq!(
            r.caseload().unwrap()[0].entry.missed_visit_gap_days,
            Some(28),
            "tablet {name}"
        );
        let warnings = r.view(child).unwrap().banner.warnings;
        assert_eq!(warnings.len(), 1, "tablet {name}");
        assert!(warnings[0]
            .message
            .contains("Consider a safeguarding referral"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ch_sg_status_reaches_the_banner_of_every_record_of_the_child_on_a_second_device() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let (ra, rb) = (records(&a), records(&b));
    let child = ra.create_child("Amira", "Okafor", d("2016-05-14")).unwrap();
    let referral = ra.create_referral(child, Service::SocialCare).unwrap();
    let form = ra.create_assessment(child, Service::SocialCare).unwrap();
    let risk = ra.create_risk_assessment(child).unwrap();
    ra.set_safeguarding(
        child,
        &SafeguardingInput {
            status: SafeguardingStatus::ChildProtectionPlan,
            looked_after_by: None,
            social_worker_name: Some("Dana Reid".into()),
            social_worker_team: Some("Child protection".into()),
            social_worker_phone: Some("01582 000000".into()),
            social_worker_email: None,
        },
    )
    .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    for id in [child, referral, form, risk] {
        let banner = rb.view(id).unwrap().banner;
        assert_eq!(
            banner.safeguarding_status,
            SafeguardingStatus::ChildProtectionPlan,
            "{id}"
        );
        assert_eq!(banner.safeguarding_label, "Child protection plan");
        assert_eq!(
            banner.social_worker.as_deref(),
            Some("Dana Reid (01582 000000)")
        );
    }
    assert_eq!(
        rb.caseload().unwrap()[0]
            .entry
            .safeguarding_status
            .as_deref(),
        Some("child_protection_plan")
    );
    // The change is attributed to the OT on tablet A.
    let history = rb.safeguarding_history(child).unwrap();
    assert!(!history.is_empty());
    assert!(history
        .iter()
        .all(|h| h.attribution.device_id() == Some(a.actor.device_id)));
}
