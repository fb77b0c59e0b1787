//! Builders shared by the `rules_forms_*` tests: complete, valid records that each test then
//! breaks in one place. Included by the other files with `#[path]`; compiled alone it holds
//! no tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::{
        assessment::*,
        common::{Envelope, Item, RecordStatus, Schema, Service, Signature, YesNo},
        equipment::{
            Category, EquipmentRequest, Measurement, MeasurementKey as K, Priority, RequestItem,
        },
        risk::*,
        user::{Actor, Role},
    },
    rules::issue::Issue,
    RecordId,
};
use uuid::Uuid;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A new item; each one is added a second after the previous, so the order items are built
/// in is the order the document layout reads them back in.
pub fn item<T>(data: T) -> Item<T> {
    use std::sync::atomic::{AtomicI64, Ordering};
    static SECONDS: AtomicI64 = AtomicI64::new(0);
    let added = at("2026-03-01T00:00:00Z")
        + chrono::Duration::seconds(SECONDS.fetch_add(1, Ordering::Relaxed));
    Item::new(Uuid::new_v4(), added, Uuid::new_v4(), data)
}

pub fn envelope(schema: Schema, child: RecordId) -> Envelope {
    Envelope::new(
        schema,
        Uuid::new_v4(),
        Some(child),
        Uuid::new_v4(),
        at("2026-03-15T09:00:00Z"),
    )
}

pub fn actor(role: Role, hcpc_until: Option<NaiveDate>) -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: matches!(role, Role::Ot | Role::Approver).then(|| "OT12345".to_owned()),
        hcpc_verified_until: hcpc_until,
    }
}

/// Rule IDs of the issues, in order.
pub fn ids(issues: &[Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.rule_id.as_str()).collect()
}

/// The issues with this rule ID.
pub fn with_rule<'a>(issues: &'a [Issue], rule: &str) -> Vec<&'a Issue> {
    issues.iter().filter(|i| i.rule_id == rule).collect()
}

pub fn signature(role: Role) -> Signature {
    Signature {
        user_id: Uuid::new_v4(),
        role,
        signed_at: at("2026-03-15T12:00:00Z"),
        signed_heads: vec!["ab".repeat(32)],
        hcpc_number: None,
    }
}

/// A home-visit form complete enough to sign (visit 2026-03-15, at home).
pub fn complete_assessment() -> Assessment {
    let area = || {
        Some(AreaAssessment {
            level: Some(IndependenceLevel::SomeAssistance),
            in_line_with_development: None,
            equipment_used: None,
            notes: None,
        })
    };
    let sections = Sections {
        a: SectionA {
            visit_date: Some(d("2026-03-15")),
            start_time: Some("10:00".parse().unwrap()),
            end_time: Some("11:30".parse().unwrap()),
            location: Some(VisitLocation::ChildHome),
            people_present: vec![item(PersonPresent {
                name: Some("Sam Carer".into()),
                relationship: Some("mother".into()),
                organisation: None,
            })],
            interpreter: None,
            identity_checked: [IdentityCheck::Name, IdentityCheck::Dob].into(),
            consent: Some(Consent {
                scope: [ConsentScope::Assessment].into(),
                by: Some(ConsentBy::ParentalResponsibility),
                at: Some(at("2026-03-15T10:05:00Z")),
            }),
        },
        b: SectionB {
            presenting_concerns: Some("Difficulty with dressing and transfers.".into()),
            function_vs_development: Some(FunctionVsDevelopment::NotInLine),
            ..Default::default()
        },
        c: SectionC {
            areas: Areas {
                play: area(),
                eating_drinking: area(),
                washing_bathing: area(),
                teeth: area(),
                toileting: area(),
                dressing: area(),
                school_life_skills: area(),
                managing_at_school: area(),
                mobility_transfers: area(),
            },
        },
        d: SectionD {
            property_type: Some(PropertyType::House),
            tenure: Some(Tenure::Council),
            entrance_steps: Some(EntranceSteps {
                count: Some(2),
                riser_max_mm: Some(180),
            }),
            door_widths: vec![],
            internal_stairs: Some(InternalStairs {
                count: Some(13),
                stairlift: Some(false),
            }),
            bedroom_level: Some(FloorLevel::First),
            bathroom_level: Some(FloorLevel::First),
            toilet_level: Some(FloorLevel::Ground),
            access_issues: Some(Default::default()),
        },
        e: SectionE {
            seating_need: Some(false),
            ..Default::default()
        },
        f: SectionF {
            mh_concern: Some(false),
            ..Default::default()
        },
        g: SectionG {
            shared_care: vec![],
            young_carers: Some(false),
        },
        h: SectionH {
            behaviour_concern: Some(false),
            safeguarding_raised: Some(false),
            ..Default::default()
        },
        i: SectionI {
            goals: vec![],
            recommendations: vec![item(Recommendation {
                kind: Some(RecommendationKind::Advice),
                text: Some("Dressing programme".into()),
                linked_request_id: None,
            })],
            next_review_on: Some(d("2026-09-15")),
        },
        j: SectionJ::default(),
    };
    Assessment {
        envelope: envelope(Schema::Assessment, RecordId::new()),
        sections,
    }
}

/// Lifting equipment with a SWL (tenths of a kg), examined 2026-01-10, next due 2026-07-10.
pub fn equipment(kind: EquipmentKind, swl: i64) -> Item<LiftingEquipment> {
    item(LiftingEquipment {
        kind: Some(kind),
        make: Some("Acme".into()),
        model: Some("Lift 3".into()),
        serial: Some("SN-1".into()),
        swl_kg: Some(swl),
        integral_spreader_bar: kind.is_hoist().then_some(false),
        last_exam_on: Some(d("2026-01-10")),
        next_exam_due_on: Some(d("2026-07-10")),
        written_scheme: None,
        examined_by: Some("LOLER Ltd".into()),
    })
}

/// A complete, valid M&H assessment of 2026-03-15: weight 32.4 kg weighed 2026-03-02, one
/// hoist transfer bed → wheelchair with hoist 182.0, bar 182.0, sling 50.0 kg; initial 3×3,
/// residual 2×2 with a control; every TILEO item answered `no`.
pub fn complete_ra() -> RiskAssessment {
    complete_ra_with_swl(1820, 1820, 500)
}

/// As [`complete_ra`] with the given SWLs (tenths of a kg).
pub fn complete_ra_with_swl(hoist: i64, bar: i64, sling: i64) -> RiskAssessment {
    let mut ra = RiskAssessment::new(envelope(Schema::RiskAssessment, RecordId::new()));
    let h = equipment(EquipmentKind::HoistMobile, hoist);
    let b = equipment(EquipmentKind::SpreaderBar, bar);
    let s = equipment(EquipmentKind::Sling, sling);
    let task = Task {
        from: Some(Place::Bed),
        to: Some(Place::Wheelchair),
        method: Some(Method::HoistMobile),
        carers_required: Some(2),
        hoist_id: Some(h.item_id),
        spreader_bar_id: Some(b.item_id),
        sling_id: Some(s.item_id),
        sling_type: Some(SlingType::HammockFullBody),
        sling_size: Some("M".into()),
        initial: Some(RiskRating {
            likelihood: Some(3),
            severity: Some(3),
        }),
        residual: Some(RiskRating {
            likelihood: Some(2),
            severity: Some(2),
        }),
        controls: vec![item(Control {
            kind: Some(ControlKind::TechniqueTraining),
            text: Some("Two carers trained".into()),
        })],
        notes: None,
    };
    ra.assessment_date = Some(d("2026-03-15"));
    ra.location = Some(RaLocation::Home);
    ra.avoidance_considered = Some(AvoidanceConsidered {
        decision: Some(Avoidance::NotPossible),
        text: Some("Child cannot weight-bear".into()),
    });
    ra.child_weight_kg = Some(324);
    ra.child_weight_measured_on = Some(d("2026-03-02"));
    ra.child_height_cm = Some(1385);
    ra.carers_available = Some(2);
    ra.tileo = TileoItem::ALL
        .iter()
        .map(|i| {
            (
                *i,
                TileoAnswer {
                    hazard_present: Some(YesNo::No),
                    notes: None,
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    ra.tasks = vec![item(task)];
    ra.lifting_equipment = vec![h, b, s];
    ra.review_due_on = Some(d("2026-09-15"));
    ra.task_stopped_pending_review = Some(false);
    ra
}

/// The only task of a risk assessment built by [`complete_ra`].
pub fn task_mut(ra: &mut RiskAssessment) -> &mut Task {
    &mut ra.tasks[0].data
}

/// A measurement taken on `on`.
pub fn m(value: i64, on: &str) -> Measurement {
    Measurement {
        value,
        measured_on: Some(d(on)),
        measured_by: Some(Uuid::new_v4()),
    }
}

/// A complete specialist-seating request by `requester`, measured 2026-03-10, for the
/// health service.
pub fn seating_request(requester: Uuid) -> EquipmentRequest {
    let mut r = EquipmentRequest::new(envelope(Schema::EquipmentRequest, RecordId::new()));
    r.envelope.created_by = requester;
    r.service = Some(Service::Health);
    r.category = Some(Category::SpecialistSeating);
    r.items = vec![item(RequestItem {
        description: Some("Modular seating system".into()),
        make: None,
        model: None,
        size: Some("2".into()),
        quantity: Some(1),
    })];
    r.clinical_justification = Some("Needs trunk support to sit for meals and play.".into());
    for (k, v) in [
        (K::WeightKg, 324),
        (K::HipWidthMm, 280),
        (K::ThighLengthMm, 330),
        (K::LowerLegLengthMm, 350),
        (K::ShoulderHeightSittingMm, 420),
        (K::SeatDepthMm, 300),
        (K::SeatWidthMm, 300),
        (K::BackHeightMm, 450),
    ] {
        r.measurements.insert(k, m(v, "2026-03-10"));
    }
    r.estimated_cost_pence = Some(250_000);
    r.priority = Some(Priority::Routine);
    r.requested_by = Some(requester);
    r.requested_at = Some(at("2026-03-10T09:00:00Z"));
    r
}

/// A signed (by an OT) copy of a risk assessment, for the same child as `child`.
pub fn signed_for(mut ra: RiskAssessment, child: Option<RecordId>) -> RiskAssessment {
    ra.envelope.child_id = child;
    ra.signature = Some(signature(Role::Ot));
    ra.envelope.record_status = RecordStatus::Active;
    ra
}
