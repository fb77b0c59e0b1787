//! Equipment-request rules (DOMAIN.md §3.6): the AP measurement table and the EQ-* field rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        common::{Item, Service},
        equipment::{
            AdaptationWork, Category, DeliveryDetails, EquipmentRequest, MeasurementKey as K,
            OrderDetails, Status, Transition,
        },
        user::Role,
    },
    rules::{
        equipment::{
            approval_tier, hoist_ra_check, required_measurements, spec, submit_valid, validate,
            EquipmentContext, Tier, MEASUREMENT_TABLE,
        },
        fields::{Range, Stage, Unit},
        issue::{Ack, Issue, Severity},
    },
    Error,
};
use support::*;
use uuid::Uuid;

fn ctx() -> EquipmentContext<'static> {
    EquipmentContext {
        stage: Stage::Final,
        as_of: d("2026-03-15"),
        risk_assessment: None,
        thresholds: Default::default(),
    }
}

fn check(r: &EquipmentRequest) -> Vec<Issue> {
    validate(r, &ctx())
}

#[test]
fn complete_seating_request_has_no_issues() {
    let r = seating_request(Uuid::new_v4());
    let issues = check(&r);
    assert!(issues.is_empty(), "{issues:#?}");
}

#[test]
fn measurement_table_matches_domain() {
    type Row = (&'static str, Unit, (i64, i64), (i64, i64));
    let expected: [Row; 17] = [
        ("weight_kg", Unit::KgTenths, (3, 2500), (20, 1200)),
        ("height_cm", Unit::CmTenths, (300, 2300), (450, 2000)),
        ("head_height_sitting_mm", Unit::Mm, (150, 1100), (300, 1000)),
        (
            "shoulder_height_sitting_mm",
            Unit::Mm,
            (100, 850),
            (200, 700),
        ),
        ("elbow_height_sitting_mm", Unit::Mm, (30, 450), (80, 320)),
        ("hip_width_mm", Unit::Mm, (60, 700), (120, 480)),
        ("thigh_length_mm", Unit::Mm, (50, 700), (120, 520)),
        ("lower_leg_length_mm", Unit::Mm, (50, 650), (100, 500)),
        ("seat_depth_mm", Unit::Mm, (50, 650), (100, 500)),
        ("seat_width_mm", Unit::Mm, (80, 750), (150, 500)),
        ("back_height_mm", Unit::Mm, (100, 900), (200, 700)),
        ("seat_to_floor_mm", Unit::Mm, (100, 900), (200, 600)),
        ("toilet_pan_height_mm", Unit::Mm, (200, 700), (350, 450)),
        ("bath_rim_height_mm", Unit::Mm, (300, 900), (450, 650)),
        ("bed_height_mm", Unit::Mm, (150, 1100), (300, 800)),
        ("door_clear_width_mm", Unit::Mm, (400, 2500), (700, 1200)),
        ("step_riser_mm", Unit::Mm, (10, 400), (75, 220)),
    ];
    for (row, (key, unit, hard, soft)) in MEASUREMENT_TABLE.iter().zip(expected) {
        assert_eq!(row.key.as_str(), key);
        assert_eq!(row.range, Range::new(hard, soft, unit), "{key}");
        assert_eq!(spec(row.key), row);
        // The key's serde form is the key itself.
        assert_eq!(
            serde_json::to_value(row.key).unwrap(),
            serde_json::json!(key)
        );
    }
}

#[test]
fn saf_unit_lower_leg_length_35_typed_in_cm_is_fld_hard() {
    let mut r = seating_request(Uuid::new_v4());
    r.measurements
        .insert(K::LowerLegLengthMm, m(35, "2026-03-10"));
    let issues = check(&r);
    let e = with_rule(&issues, "FLD-HARD");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert_eq!(e[0].path, "measurements.lower_leg_length_mm.value");
    assert!(e[0].message.contains("35 mm"), "{}", e[0].message);
}

#[test]
fn fld_soft_unusual_measurement_is_a_warning() {
    let mut r = seating_request(Uuid::new_v4());
    r.measurements.insert(K::HipWidthMm, m(100, "2026-03-10"));
    let issues = check(&r);
    assert_eq!(ids(&issues), ["FLD-SOFT"]);
}

#[test]
fn eq_meas_required_per_category() {
    let mut r = seating_request(Uuid::new_v4());
    r.measurements.remove(&K::BackHeightMm);
    r.measurements.remove(&K::WeightKg);
    let issues = check(&r);
    let paths: Vec<&str> = with_rule(&issues, "EQ-MEAS-REQUIRED")
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["measurements.weight_kg", "measurements.back_height_mm"]
    );
    // Not on a draft.
    assert!(validate(
        &r,
        &EquipmentContext {
            stage: Stage::Draft,
            ..ctx()
        }
    )
    .is_empty());

    let mut r = seating_request(Uuid::new_v4());
    let expect = |c: Category, keys: &[K]| (c, keys.to_vec());
    for (cat, keys) in [
        expect(
            Category::ToiletingAids,
            &[
                K::WeightKg,
                K::HipWidthMm,
                K::LowerLegLengthMm,
                K::ToiletPanHeightMm,
            ],
        ),
        expect(Category::BathingAids, &[K::WeightKg, K::BathRimHeightMm]),
        expect(Category::HoistsSlings, &[K::WeightKg, K::HeightCm]),
        expect(Category::StandingFrames, &[K::WeightKg, K::HeightCm]),
        expect(
            Category::BedsCots,
            &[K::WeightKg, K::HeightCm, K::BedHeightMm],
        ),
        expect(Category::MinorAdaptation, &[]),
        expect(Category::Other, &[]),
    ] {
        r.category = Some(cat);
        assert_eq!(required_measurements(&r), keys, "{cat:?}");
    }
    r.category = Some(Category::MinorAdaptation);
    r.adaptation_work.insert(AdaptationWork::Step);
    assert_eq!(required_measurements(&r), [K::StepRiserMm]);
    r.adaptation_work.insert(AdaptationWork::Door);
    assert_eq!(
        required_measurements(&r),
        [K::DoorClearWidthMm, K::StepRiserMm]
    );
}

#[test]
fn eq_meas_fit_seat_deeper_than_thigh_or_narrower_than_hips_warns() {
    let mut r = seating_request(Uuid::new_v4());
    r.measurements.insert(K::SeatDepthMm, m(340, "2026-03-10"));
    r.measurements.insert(K::SeatWidthMm, m(270, "2026-03-10"));
    let issues = check(&r);
    let fit = with_rule(&issues, "EQ-MEAS-FIT");
    assert_eq!(fit.len(), 2, "{issues:#?}");
    assert!(fit.iter().all(|i| i.severity == Severity::Warn));
    // Equal is a fit.
    r.measurements.insert(K::SeatDepthMm, m(330, "2026-03-10"));
    r.measurements.insert(K::SeatWidthMm, m(280, "2026-03-10"));
    assert!(check(&r).is_empty());
}

#[test]
fn eq_meas_age_body_measurement_over_90_days_warns() {
    let mut r = seating_request(Uuid::new_v4());
    r.measurements.insert(K::HipWidthMm, m(280, "2025-12-15")); // 90 days
    assert!(check(&r).is_empty());
    r.measurements.insert(K::HipWidthMm, m(280, "2025-12-14")); // 91 days
    let issues = check(&r);
    assert_eq!(ids(&issues), ["EQ-MEAS-AGE"]);
    assert_eq!(issues[0].severity, Severity::Warn);
    // A prescription (seat width) does not age.
    r.measurements.insert(K::HipWidthMm, m(280, "2026-03-10"));
    r.measurements.insert(K::SeatWidthMm, m(300, "2025-01-01"));
    assert!(check(&r).is_empty());
}

#[test]
fn s_wheelchair_category_is_an_error_with_signpost() {
    let mut r = seating_request(Uuid::new_v4());
    r.category = Some(Category::Wheelchair);
    let issues = check(&r);
    let e = with_rule(&issues, "S-WHEELCHAIR");
    assert_eq!(e.len(), 1);
    assert!(e[0].is_error());
    assert!(e[0].message.contains("wheelchair_service"));
}

#[test]
fn fld_hard_social_care_category_requested_by_health() {
    let mut r = seating_request(Uuid::new_v4());
    r.category = Some(Category::BedsCots);
    r.measurements.insert(K::HeightCm, m(1385, "2026-03-10"));
    r.measurements.insert(K::BedHeightMm, m(550, "2026-03-10"));
    assert_eq!(ids(&check(&r)), ["FLD-HARD"]);
    r.service = Some(Service::SocialCare);
    assert!(check(&r).is_empty());
}

#[test]
fn fld_hard_quantity_and_cost() {
    let mut r = seating_request(Uuid::new_v4());
    r.items[0].data.quantity = Some(11);
    r.estimated_cost_pence = Some(3_500_000);
    let issues = check(&r);
    assert_eq!(ids(&issues), ["FLD-HARD", "FLD-SOFT"]);
    assert!(
        issues[1].message.contains("£35000.00"),
        "{}",
        issues[1].message
    );
}

fn hoist_request(ra_id: Option<Uuid>) -> EquipmentRequest {
    let mut r = seating_request(Uuid::new_v4());
    r.service = Some(Service::SocialCare);
    r.category = Some(Category::HoistsSlings);
    r.measurements.clear();
    r.measurements.insert(K::WeightKg, m(324, "2026-03-10"));
    r.measurements.insert(K::HeightCm, m(1385, "2026-03-10"));
    r.risk_assessment_id = ra_id;
    r
}

#[test]
fn eq_hoist_ra_link_required_at_submit_and_full_check_when_given() {
    let r = hoist_request(None);
    assert_eq!(ids(&check(&r)), ["EQ-HOIST-RA"]);

    let mut ra = complete_ra();
    let r = hoist_request(Some(ra.envelope.id.uuid()));
    ra.envelope.child_id = r.envelope.child_id;
    assert!(
        check(&r).is_empty(),
        "a link is enough without the RA at hand"
    );

    // Unsigned RA.
    let with_ra = EquipmentContext {
        risk_assessment: Some(&ra),
        ..ctx()
    };
    assert_eq!(ids(&validate(&r, &with_ra)), ["EQ-HOIST-RA"]);
    assert!(
        hoist_ra_check(&r, Some(&ra), d("2026-03-15"), Default::default())
            .unwrap_err()
            .contains("not signed")
    );

    // Signed by an OT, same child → passes, also inside validation.
    let signed = signed_for(ra.clone(), r.envelope.child_id);
    assert!(hoist_ra_check(&r, Some(&signed), d("2026-03-15"), Default::default()).is_ok());
    assert!(validate(
        &r,
        &EquipmentContext {
            risk_assessment: Some(&signed),
            ..ctx()
        }
    )
    .is_empty());

    // Entered in error → refused.
    let mut eie = signed.clone();
    eie.envelope.record_status = homevisit_core::model::common::RecordStatus::EnteredInError {
        reason: "wrong child".into(),
        user_id: Uuid::new_v4(),
        at: at("2026-03-14T10:00:00Z"),
    };
    assert!(hoist_ra_check(&r, Some(&eie), d("2026-03-15"), Default::default()).is_err());

    // AP-signed without countersignature → refused; countersigned → passes.
    let mut ap_signed = signed.clone();
    ap_signed.signature = Some(signature(Role::Ap));
    assert!(hoist_ra_check(&r, Some(&ap_signed), d("2026-03-15"), Default::default()).is_err());
    ap_signed.countersignature = Some(signature(Role::Ot));
    assert!(hoist_ra_check(&r, Some(&ap_signed), d("2026-03-15"), Default::default()).is_ok());

    // Another child's RA → refused.
    let mut other = signed.clone();
    other.envelope.child_id = Some(homevisit_core::RecordId::new());
    assert!(
        hoist_ra_check(&r, Some(&other), d("2026-03-15"), Default::default())
            .unwrap_err()
            .contains("another child")
    );
}

#[test]
fn eq_hoist_ra_errors_at_the_requests_weight() {
    let ra = complete_ra(); // sling 50.0 kg
    let mut r = hoist_request(Some(ra.envelope.id.uuid()));
    let signed = signed_for(ra, r.envelope.child_id);
    r.measurements.insert(K::WeightKg, m(523, "2026-03-10"));
    let why = hoist_ra_check(&r, Some(&signed), d("2026-03-15"), Default::default()).unwrap_err();
    assert!(why.contains("[MH-SWL]"), "{why}");
}

#[test]
fn eq_reason_blank_cancel_reason_in_the_log_is_an_error() {
    let mut r = seating_request(Uuid::new_v4());
    let a = actor(Role::Ot, Some(d("2027-01-01")));
    r.transitions.push(item(Transition {
        from: Some(Status::Draft),
        to: Status::Cancelled,
        follows: None,
        user_id: a.user_id,
        role: Role::Ot,
        device_id: a.device_id,
        at: at("2026-03-12T10:00:00Z"),
        reason: Some("   ".into()),
        event_date: None,
        supplier: None,
        order_ref: None,
        contractor: None,
        outcome: None,
        condition: None,
        housing_authority_ref: None,
        superseded: None,
    }));
    let issues = check(&r);
    assert_eq!(ids(&issues), ["EQ-REASON"]);
}

#[test]
fn eq_dates_event_dates_in_order_and_not_in_the_future() {
    let mut r = seating_request(Uuid::new_v4());
    r.order = Some(OrderDetails {
        supplier: Some("S".into()),
        order_ref: Some("PO1".into()),
        ordered_on: Some(d("2026-03-12")),
    });
    r.delivery = Some(DeliveryDetails {
        delivered_on: Some(d("2026-03-11")),
        installed_on: None,
        contractor: None,
    });
    let issues = check(&r);
    assert_eq!(ids(&issues), ["EQ-DATES"]);
    assert_eq!(issues[0].path, "delivery.delivered_on");
    r.delivery = Some(DeliveryDetails {
        delivered_on: Some(d("2026-03-16")),
        installed_on: None,
        contractor: None,
    });
    let issues = check(&r);
    assert_eq!(ids(&issues), ["EQ-DATES"]);
    assert!(issues[0].message.contains("future"));
}

#[test]
fn eq_submit_valid_blocks_errors_and_unacknowledged_warnings() {
    let mut r = seating_request(Uuid::new_v4());
    assert!(submit_valid(&check(&r), &[]).is_ok());
    r.measurements.insert(K::HipWidthMm, m(490, "2026-03-10")); // FLD-SOFT and EQ-MEAS-FIT
    let issues = check(&r);
    match submit_valid(&issues, &[]) {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, "EQ-SUBMIT-VALID"),
        other => panic!("{other:?}"),
    }
    let acks: Vec<Ack> = issues
        .iter()
        .map(|i| Ack {
            rule_id: i.rule_id.clone(),
            path: i.path.clone(),
            acknowledged_value: i.value.clone(),
            reason: "Child has wide hips; seat width checked with supplier.".into(),
            user_id: Uuid::new_v4(),
            at: "2026-03-15T10:00:00Z".into(),
        })
        .collect();
    assert!(submit_valid(&issues, &acks).is_ok());
    // FLD-ACK: a changed value lapses the ack.
    r.measurements.insert(K::HipWidthMm, m(495, "2026-03-10"));
    assert!(submit_valid(&check(&r), &acks).is_err());
}

#[test]
fn eq_approve_tier_per_category_and_cost() {
    assert_eq!(
        approval_tier(Some(Category::SpecialistSeating), None, 100_000),
        Tier::One
    );
    assert_eq!(
        approval_tier(Some(Category::HoistsSlings), None, 100_000),
        Tier::Two
    );
    assert_eq!(
        approval_tier(Some(Category::BedsCots), None, 100_000),
        Tier::Two
    );
    assert_eq!(
        approval_tier(Some(Category::MinorAdaptation), Some(100_000), 100_000),
        Tier::One
    );
    assert_eq!(
        approval_tier(Some(Category::MinorAdaptation), Some(100_001), 100_000),
        Tier::Two
    );
    assert_eq!(
        approval_tier(Some(Category::MinorAdaptation), None, 100_000),
        Tier::Two
    );
    assert_eq!(
        approval_tier(Some(Category::MajorAdaptation), Some(1), 100_000),
        Tier::DfgOnly
    );
    assert_eq!(
        approval_tier(Some(Category::Wheelchair), None, 100_000),
        Tier::Refused
    );
}

#[test]
fn removed_items_do_not_satisfy_fld_required() {
    let mut r = seating_request(Uuid::new_v4());
    let it: &mut Item<_> = &mut r.items[0];
    it.removed_at = Some(at("2026-03-11T10:00:00Z"));
    it.removed_by = Some(Uuid::new_v4());
    let issues = check(&r);
    assert_eq!(ids(&issues), ["FLD-REQUIRED"]);
    assert_eq!(issues[0].path, "items");
}
