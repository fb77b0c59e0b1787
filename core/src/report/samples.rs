//! Fully filled sample records for the reports' CI suite (`report_samples`), the benchmark
//! (`report_bench`) and the tests: one child with a name that needs diacritics, a signed and
//! countersigned visit with an addendum, a draft visit, a signed handling plan with two hoist
//! tasks, one entered in error, and an equipment request that went through approval and
//! ordering. Fictional people; the NHS number is DOMAIN.md's worked example.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{ImageFormat, People, Producer, RecordLine, ReportImage, ReportMedia, ReportPurpose};
use crate::{
    ids::RecordId,
    model::{
        assessment::*,
        child::{
            Alert, AlertKind, Carer, CarerRelationship, Child, Gender, WeightEntry, WeightSource,
        },
        common::{
            Addendum, BehaviourTeam, Envelope, FieldChange, Item, RecordStatus, Schema, Service,
            Signature, YesNo, YesNoUnsure,
        },
        equipment::{
            Category, EquipmentRequest, Measurement, MeasurementKey as K, Priority, RequestItem,
            Status, Transition,
        },
        risk::*,
        training::{CarerTraining, TraineeRole},
        user::Role,
    },
};

/// The sample team.
pub const TEAM: Uuid = Uuid::from_u128(0x7ea0_0000_0000_4000_8000_0000_0000_0001);
/// The OT who signs and countersigns.
pub const OT: Uuid = Uuid::from_u128(0x0700_0000_0000_4000_8000_0000_0000_0001);
/// The AP who visits and signs (countersignature needed).
pub const AP: Uuid = Uuid::from_u128(0x0a00_0000_0000_4000_8000_0000_0000_0002);
/// The approver.
pub const APPROVER: Uuid = Uuid::from_u128(0x0b00_0000_0000_4000_8000_0000_0000_0003);
/// The OT's HCPC number.
pub const OT_HCPC: &str = "OT61528";
/// The approver's HCPC number.
pub const APPROVER_HCPC: &str = "OT70311";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_default()
}

fn item<T>(n: u128, added: &str, data: T) -> Item<T> {
    Item::new(Uuid::from_u128(0x1000 + n), at(added), OT, data)
}

/// A fixed, UUID-v4-shaped id for sample record `n`.
pub fn sample_id(n: u128) -> Uuid {
    Uuid::from_u128(0x5a3e_91c2_0000_4000_8000_0000_0000_0000 | (n << 64) | n)
}

fn envelope(schema: Schema, id: u128, child: Option<RecordId>) -> Envelope {
    let mut e = Envelope::new(schema, TEAM, child, AP, at("2026-03-15T09:00:00Z"));
    e.id = RecordId::from_uuid(sample_id(id));
    e
}

/// The names the sample reports print.
pub fn people() -> People {
    People::new([
        (OT, "Priya Raman".to_owned()),
        (AP, "Tomasz Wiśniewski".to_owned()),
        (APPROVER, "Hannah Fischer".to_owned()),
    ])
}

/// The OT producing a report now, for `purpose`.
pub fn producer(purpose: ReportPurpose) -> Producer {
    Producer {
        user_id: OT,
        role: Role::Ot,
        at: at("2026-03-20T14:05:00Z"),
        purpose,
    }
}

fn signature(user_id: Uuid, role: Role, when: &str) -> Signature {
    Signature {
        user_id,
        role,
        signed_at: at(when),
        signed_heads: vec!["ab".repeat(32)],
        hcpc_number: match role {
            Role::Ot => Some(OT_HCPC.to_owned()),
            Role::Approver => Some(APPROVER_HCPC.to_owned()),
            _ => None,
        },
    }
}

/// The sample child: Zoë Ó Dálaigh-Łukasiewicz, born 14 May 2016, NHS 943 476 5919.
pub fn child() -> Child {
    let mut c = Child::new(Envelope {
        id: RecordId::from_uuid(sample_id(0xc0)),
        ..Envelope::new(Schema::Child, TEAM, None, OT, at("2026-01-05T09:00:00Z"))
    });
    c.nhs_number = Some("9434765919".to_owned());
    c.nhs_number_verified = true;
    c.given_name = Some("Zoë".to_owned());
    c.family_name = Some("Ó Dálaigh-Łukasiewicz".to_owned());
    c.date_of_birth = Some(d(2016, 5, 14));
    c.gender = Some(Gender::Female);
    c.gp_practice_name = Some("Marsh Farm Health Centre".to_owned());
    c.school_name = Some("Ferrars Academy".to_owned());
    c.address = Some(crate::model::child::Address {
        lines: vec!["12 Cranleigh Gardens".to_owned()],
        town: Some("Luton".to_owned()),
        postcode: Some("LU3 1HU".to_owned()),
    });
    c.carers = vec![item(
        1,
        "2026-01-05T09:00:00Z",
        Carer {
            name: Some("Aoife Ó Dálaigh".to_owned()),
            relationship: Some(CarerRelationship::Mother),
            parental_responsibility: Some(true),
            lives_with_child: Some(true),
            phone: Some("07700 900123".to_owned()),
        },
    )];
    c.weights = vec![item(
        2,
        "2026-03-02T10:00:00Z",
        WeightEntry {
            value_kg: 324,
            measured_on: d(2026, 3, 2),
            measured_by: Some(OT),
            source: Some(WeightSource::Clinic),
            source_record_id: None,
        },
    )];
    c.alerts = vec![
        item(
            3,
            "2026-01-05T09:01:00Z",
            Alert {
                kind: AlertKind::HomeSafety,
                text: "Large dog in the house: ask for it to be kept in the garden.".to_owned(),
            },
        ),
        item(
            4,
            "2026-01-05T09:02:00Z",
            Alert {
                kind: AlertKind::Medical,
                text: "Epilepsy: rescue medication in the kitchen cupboard.".to_owned(),
            },
        ),
    ];
    c
}

fn area(level: IndependenceLevel, note: &str) -> Option<AreaAssessment> {
    Some(AreaAssessment {
        level: Some(level),
        in_line_with_development: Some(YesNoUnsure::No),
        equipment_used: None,
        notes: (!note.is_empty()).then(|| note.to_owned()),
    })
}

/// A draft visit, fully filled but not signed.
pub fn visit_draft() -> Assessment {
    let child = child().envelope.id;
    let sections = Sections {
        a: SectionA {
            visit_date: Some(d(2026, 3, 15)),
            start_time: "10:00".parse().ok(),
            end_time: "11:30".parse().ok(),
            location: Some(VisitLocation::ChildHome),
            people_present: vec![
                item(
                    10,
                    "2026-03-15T10:00:00Z",
                    PersonPresent {
                        name: Some("Aoife Ó Dálaigh".to_owned()),
                        relationship: Some("mother".to_owned()),
                        organisation: None,
                    },
                ),
                item(
                    11,
                    "2026-03-15T10:01:00Z",
                    PersonPresent {
                        name: Some("Tomasz Wiśniewski".to_owned()),
                        relationship: Some("assistant practitioner".to_owned()),
                        organisation: Some("Children's OT".to_owned()),
                    },
                ),
            ],
            interpreter: Some(Interpreter {
                used: Some(false),
                language: None,
            }),
            identity_checked: [
                IdentityCheck::Name,
                IdentityCheck::Dob,
                IdentityCheck::NhsNumber,
            ]
            .into(),
            consent: Some(Consent {
                scope: [ConsentScope::Assessment, ConsentScope::InformationSharing].into(),
                by: Some(ConsentBy::ParentalResponsibility),
                at: Some(at("2026-03-15T10:05:00Z")),
            }),
        },
        b: SectionB {
            diagnoses: vec![item(
                12,
                "2026-03-15T10:06:00Z",
                Diagnosis {
                    text: Some("Cerebral palsy, spastic quadriplegia".to_owned()),
                    snomed_code: Some("230687000".to_owned()),
                },
            )],
            presenting_concerns: Some(
                "Zoë is getting heavier and her mother now struggles to lift her from bed to \
                 wheelchair and into the bath. Dressing takes more than 30 minutes."
                    .to_owned(),
            ),
            child_views: Some("\"I want to get ready for school by myself.\"".to_owned()),
            child_views_mode: Some(ChildViewsMode::Given),
            child_views_observed_how: None,
            communication: Some("Uses a communication aid and yes/no gestures.".to_owned()),
            function_vs_development: Some(FunctionVsDevelopment::NotInLine),
        },
        c: SectionC {
            areas: Areas {
                play: area(IndependenceLevel::SomeAssistance, ""),
                eating_drinking: area(IndependenceLevel::SupervisionOrPrompts, "Adapted cup."),
                washing_bathing: area(IndependenceLevel::FullAssistance, "Lifted into the bath."),
                teeth: area(IndependenceLevel::FullAssistance, ""),
                toileting: area(IndependenceLevel::FullAssistance, ""),
                dressing: area(IndependenceLevel::SomeAssistance, "Over 30 minutes."),
                school_life_skills: area(IndependenceLevel::SomeAssistance, ""),
                managing_at_school: area(IndependenceLevel::IndependentWithEquipment, ""),
                mobility_transfers: area(IndependenceLevel::FullAssistance, "Two-person lift."),
            },
        },
        d: SectionD {
            property_type: Some(PropertyType::House),
            tenure: Some(Tenure::Council),
            entrance_steps: Some(EntranceSteps {
                count: Some(2),
                riser_max_mm: Some(180),
            }),
            door_widths: vec![
                item(
                    13,
                    "2026-03-15T10:20:00Z",
                    DoorWidth {
                        location: Some("bathroom".to_owned()),
                        clear_width_mm: Some(690),
                    },
                ),
                item(
                    14,
                    "2026-03-15T10:21:00Z",
                    DoorWidth {
                        location: Some("front door".to_owned()),
                        clear_width_mm: Some(810),
                    },
                ),
            ],
            internal_stairs: Some(InternalStairs {
                count: Some(13),
                stairlift: Some(false),
            }),
            bedroom_level: Some(FloorLevel::First),
            bathroom_level: Some(FloorLevel::First),
            toilet_level: Some(FloorLevel::Ground),
            access_issues: Some([AccessArea::Bedroom, AccessArea::Washing].into()),
        },
        e: SectionE {
            seating_need: Some(true),
            sitting_ability: Some(SittingAbility::NeedsTrunkSupport),
            purposes: [SeatingPurpose::PosturalAlignment].into(),
            postural_risks: [PosturalRisk::SpinalCurvature].into(),
            tilt_in_space_deg: Some(15),
            seat_to_back_angle_deg: Some(100),
            current_seating: Some("Standard dining chair with cushions.".to_owned()),
            recommendation: Some("Modular seating system with lateral supports.".to_owned()),
        },
        f: SectionF {
            mh_concern: Some(true),
            carers_required: Some(2),
            risk_assessment_ids: [sample_id(0xa2)].into(),
            risk_assessment_planned_on: None,
        },
        g: SectionG {
            shared_care: vec![item(
                15,
                "2026-03-15T10:40:00Z",
                SharedCare {
                    setting: Some(SharedCareSetting::Respite),
                    carer_count: Some(2),
                    mh_plan_shared: Some(true),
                },
            )],
            young_carers: Some(false),
        },
        h: SectionH {
            behaviour_concern: Some(false),
            risk_to: None,
            behaviour_addressed_by: [BehaviourTeam::Camhs].into(),
            behaviour_assessment: None,
            safeguarding_raised: Some(true),
            safeguarding_reference: Some("SG-2026-0117".to_owned()),
        },
        i: SectionI {
            goals: vec![item(
                16,
                "2026-03-15T11:00:00Z",
                Goal {
                    text: Some("Zoë dresses her upper body with one prompt.".to_owned()),
                    owner: Some("Zoë and her mother".to_owned()),
                    target_date: Some(d(2026, 7, 17)),
                    measure: Some("Time to dress under 15 minutes".to_owned()),
                },
            )],
            recommendations: vec![
                item(
                    17,
                    "2026-03-15T11:05:00Z",
                    Recommendation {
                        kind: Some(RecommendationKind::Equipment),
                        text: Some("Mobile hoist and divided-leg sling for transfers.".to_owned()),
                        linked_request_id: None,
                    },
                ),
                item(
                    18,
                    "2026-03-15T11:06:00Z",
                    Recommendation {
                        kind: Some(RecommendationKind::Dfg),
                        text: Some(
                            "Ground-floor wet room through a Disabled Facilities Grant.".to_owned(),
                        ),
                        linked_request_id: None,
                    },
                ),
            ],
            next_review_on: Some(d(2026, 9, 15)),
        },
        j: SectionJ::default(),
    };
    Assessment {
        envelope: envelope(Schema::Assessment, 0xa1, Some(child)),
        sections,
    }
}

/// The visit signed by the AP, countersigned by the OT, with an addendum correcting the
/// riser height.
pub fn visit_signed() -> Assessment {
    let mut a = visit_draft();
    a.sections.j.signature = Some(signature(AP, Role::Ap, "2026-03-15T12:00:00Z"));
    a.sections.j.countersignature = Some(signature(OT, Role::Ot, "2026-03-16T09:30:00Z"));
    a.sections.j.addenda = vec![item(
        19,
        "2026-03-18T15:00:00Z",
        Addendum {
            text: "Measured again with the family: the top step is higher than first recorded."
                .to_owned(),
            field_changes: vec![FieldChange {
                path: "sections.D.entrance_steps.riser_max_mm".to_owned(),
                signed_value: serde_json::json!(180),
                new_value: serde_json::json!(195),
            }],
            reason: "Measurement corrected after a second visit".to_owned(),
            author: OT,
            role: Role::Ot,
            at: at("2026-03-18T15:00:00Z"),
            original_author: None,
            countersignature: None,
        },
    )];
    // The effective view has the addendum's value (RK-AMEND).
    if let Some(st) = a.sections.d.entrance_steps.as_mut() {
        st.riser_max_mm = Some(195);
    }
    a
}

fn lifting(n: u128, kind: EquipmentKind, model: &str, swl: i64) -> Item<LiftingEquipment> {
    item(
        n,
        "2026-03-15T10:30:00Z",
        LiftingEquipment {
            kind: Some(kind),
            make: Some("Arjo".to_owned()),
            model: Some(model.to_owned()),
            serial: Some(format!("SN-{n:04}")),
            swl_kg: Some(swl),
            integral_spreader_bar: kind.is_hoist().then_some(false),
            last_exam_on: Some(d(2026, 1, 10)),
            next_exam_due_on: Some(d(2026, 7, 10)),
            written_scheme: Some(false),
            examined_by: Some("Bedford Lifting Services".to_owned()),
        },
    )
}

fn control(n: u128, kind: ControlKind, text: &str) -> Item<Control> {
    item(
        n,
        "2026-03-15T10:50:00Z",
        Control {
            kind: Some(kind),
            text: Some(text.to_owned()),
        },
    )
}

/// A signed handling plan: two hoist tasks, LOLER dates, weight 32.4 kg.
pub fn handling_plan_signed() -> RiskAssessment {
    let child = child().envelope.id;
    let mut ra = RiskAssessment::new(envelope(Schema::RiskAssessment, 0xa2, Some(child)));
    let hoist = lifting(30, EquipmentKind::HoistMobile, "Maxi Move", 1820);
    let bar = lifting(31, EquipmentKind::SpreaderBar, "DPS bar", 1820);
    let sling = lifting(32, EquipmentKind::Sling, "Divided-leg sling", 1500);
    let bath = lifting(33, EquipmentKind::HoistBath, "Bath lift", 1400);
    let task = |n, from, to, hoist_id, sling_type, before: (i64, i64), after: (i64, i64), c| Task {
        from: Some(from),
        to: Some(to),
        method: Some(Method::HoistMobile),
        carers_required: Some(2),
        hoist_id: Some(hoist_id),
        spreader_bar_id: Some(bar.item_id),
        sling_id: Some(sling.item_id),
        sling_type: Some(sling_type),
        sling_size: Some("Medium (M)".to_owned()),
        initial: Some(RiskRating {
            likelihood: Some(before.0),
            severity: Some(before.1),
        }),
        residual: Some(RiskRating {
            likelihood: Some(after.0),
            severity: Some(after.1),
        }),
        controls: c,
        notes: (n == 2).then(|| "Check the bath water temperature before the lift.".to_owned()),
    };
    ra.tasks = vec![
        item(
            34,
            "2026-03-15T10:40:00Z",
            task(
                1,
                Place::Bed,
                Place::Wheelchair,
                hoist.item_id,
                SlingType::DividedLeg,
                (4, 4),
                (2, 3),
                vec![
                    control(
                        40,
                        ControlKind::EquipmentProvided,
                        "Mobile hoist and divided-leg sling.",
                    ),
                    control(
                        41,
                        ControlKind::TechniqueTraining,
                        "Both parents trained on 15 Mar 2026.",
                    ),
                ],
            ),
        ),
        item(
            35,
            "2026-03-15T10:45:00Z",
            task(
                2,
                Place::Wheelchair,
                Place::Bath,
                bath.item_id,
                SlingType::Bathing,
                (4, 3),
                (2, 2),
                vec![control(
                    42,
                    ControlKind::TwoCarers,
                    "Two carers for every bath transfer.",
                )],
            ),
        ),
    ];
    let training = |n, name: &str, role, task_id, hoist_id, competent, review| {
        item(
            n,
            "2026-03-15T11:10:00Z",
            CarerTraining {
                trainee_name: Some(name.to_owned()),
                trainee_role: Some(role),
                task_id: Some(task_id),
                hoist_id: Some(hoist_id),
                sling_id: Some(sling.item_id),
                trained_by: Some("Tomasz Wiśniewski".to_owned()),
                trained_on: Some(d(2026, 3, 15)),
                competent: Some(competent),
                review_due_on: Some(review),
            },
        )
    };
    let (bed_to_chair, chair_to_bath) = (ra.tasks[0].item_id, ra.tasks[1].item_id);
    ra.carer_training = vec![
        training(
            36,
            "Aoife Ó Dálaigh",
            TraineeRole::Carer,
            bed_to_chair,
            hoist.item_id,
            true,
            d(2026, 9, 15),
        ),
        training(
            37,
            "Ms Okafor (teaching assistant)",
            TraineeRole::SchoolStaff,
            bed_to_chair,
            hoist.item_id,
            false,
            d(2026, 4, 15),
        ),
        training(
            38,
            "Aoife Ó Dálaigh",
            TraineeRole::Carer,
            chair_to_bath,
            bath.item_id,
            true,
            d(2026, 9, 15),
        ),
    ];
    ra.lifting_equipment = vec![hoist, bar, sling, bath];
    ra.assessment_date = Some(d(2026, 3, 15));
    ra.location = Some(RaLocation::Home);
    ra.avoidance_considered = Some(AvoidanceConsidered {
        decision: Some(Avoidance::NotPossible),
        text: Some("Zoë cannot bear weight through her legs.".to_owned()),
    });
    ra.child_weight_kg = Some(324);
    ra.child_weight_measured_on = Some(d(2026, 3, 2));
    ra.child_height_cm = Some(1385);
    ra.carers_available = Some(2);
    ra.tileo = TileoItem::ALL
        .iter()
        .map(|i| {
            let present = matches!(i, TileoItem::T2 | TileoItem::E1);
            (
                *i,
                TileoAnswer {
                    hazard_present: Some(if present { YesNo::Yes } else { YesNo::No }),
                    notes: present.then(|| "Narrow bathroom door (690 mm clear width).".to_owned()),
                },
            )
        })
        .collect();
    ra.review_due_on = Some(d(2026, 9, 15));
    ra.task_stopped_pending_review = Some(false);
    ra.signature = Some(signature(OT, Role::Ot, "2026-03-15T12:30:00Z"));
    ra
}

/// The handling plan marked entered in error (it was written for the wrong child).
pub fn handling_plan_entered_in_error() -> RiskAssessment {
    let mut ra = handling_plan_signed();
    ra.envelope.record_status = RecordStatus::EnteredInError {
        reason: "Written in the wrong child's record; re-created in the correct one.".to_owned(),
        user_id: OT,
        at: at("2026-03-19T08:15:00Z"),
    };
    ra
}

/// A hoist request that went through submission, approval and ordering, linked to the
/// handling plan.
pub fn equipment_request() -> EquipmentRequest {
    let child = child().envelope.id;
    let mut r = EquipmentRequest::new(envelope(Schema::EquipmentRequest, 0xa3, Some(child)));
    r.service = Some(Service::SocialCare);
    r.category = Some(Category::HoistsSlings);
    r.items = vec![item(
        50,
        "2026-03-16T09:00:00Z",
        RequestItem {
            description: Some("Mobile hoist with divided-leg sling".to_owned()),
            make: Some("Arjo".to_owned()),
            model: Some("Maxi Move".to_owned()),
            size: Some("Medium (M)".to_owned()),
            quantity: Some(1),
        },
    )];
    r.clinical_justification = Some(
        "Two-person lifts are no longer safe at 32.4 kg; the handling plan requires a hoist for \
         bed, wheelchair and bath transfers."
            .to_owned(),
    );
    r.risk_assessment_id = Some(sample_id(0xa2));
    for (k, v) in [
        (K::WeightKg, 324),
        (K::HeightCm, 1385),
        (K::HipWidthMm, 280),
        (K::DoorClearWidthMm, 690),
        (K::BedHeightMm, 450),
    ] {
        r.measurements.insert(
            k,
            Measurement {
                value: v,
                measured_on: Some(d(2026, 3, 2)),
                measured_by: Some(OT),
            },
        );
    }
    r.estimated_cost_pence = Some(245_000);
    r.priority = Some(Priority::Urgent);
    r.requested_by = Some(AP);
    r.requested_at = Some(at("2026-03-16T09:00:00Z"));
    let t = |n: u128,
             from: Option<Status>,
             to: Status,
             follows: Option<Uuid>,
             who: Uuid,
             role: Role,
             when: &str| {
        item(
            n,
            when,
            Transition {
                from,
                to,
                follows,
                user_id: who,
                role,
                device_id: Uuid::from_u128(0xde),
                at: at(when),
                reason: None,
                event_date: None,
                supplier: None,
                order_ref: None,
                contractor: None,
                outcome: None,
                condition: None,
                housing_authority_ref: None,
                superseded: None,
            },
        )
    };
    let created = t(
        60,
        None,
        Status::Draft,
        None,
        AP,
        Role::Ap,
        "2026-03-16T09:00:00Z",
    );
    let submitted = t(
        61,
        Some(Status::Draft),
        Status::Submitted,
        Some(created.item_id),
        AP,
        Role::Ap,
        "2026-03-16T09:10:00Z",
    );
    let approved = t(
        62,
        Some(Status::Submitted),
        Status::Approved,
        Some(submitted.item_id),
        APPROVER,
        Role::Approver,
        "2026-03-17T11:00:00Z",
    );
    let mut ordered = t(
        63,
        Some(Status::Approved),
        Status::Ordered,
        Some(approved.item_id),
        OT,
        Role::Ot,
        "2026-03-18T10:00:00Z",
    );
    ordered.data.supplier = Some("Bedfordshire Community Equipment".to_owned());
    ordered.data.order_ref = Some("BCE-48213".to_owned());
    ordered.data.event_date = Some(d(2026, 3, 18));
    for tr in [created, submitted, approved, ordered] {
        r.apply(tr);
    }
    r
}

/// The child's records as the child summary lists them.
pub fn record_lines() -> Vec<RecordLine> {
    vec![
        RecordLine {
            id: visit_signed().envelope.id,
            schema: Schema::Assessment,
            title: "Home visit 15 Mar 2026".to_owned(),
            state: "Countersigned".to_owned(),
            date: Some(d(2026, 3, 15)),
            conflicts: 0,
        },
        RecordLine {
            id: handling_plan_signed().envelope.id,
            schema: Schema::RiskAssessment,
            title: "Moving and handling 15 Mar 2026".to_owned(),
            state: "Signed".to_owned(),
            date: Some(d(2026, 3, 15)),
            conflicts: 0,
        },
        RecordLine {
            id: equipment_request().envelope.id,
            schema: Schema::EquipmentRequest,
            title: "Hoists and slings".to_owned(),
            state: "Ordered".to_owned(),
            date: Some(d(2026, 3, 16)),
            conflicts: 0,
        },
    ]
}

/// A draft visit whose free text is hostile to a layout: a 100,000-character note, right-to-
/// left text, emoji and characters PDF and markup treat specially.
pub fn visit_hostile() -> Assessment {
    let mut a = visit_draft();
    let long: String = "Zoë managed the transfer well today with two carers; ".repeat(2000);
    let long: String = long.chars().take(100_000).collect();
    a.sections.b.presenting_concerns = Some(long);
    a.sections.b.child_views =
        Some("مرحبا، أريد أن أذهب إلى المدرسة — שלום, אני רוצה ללכת לבית הספר 😀👍🏽 👨‍👩‍👧".to_owned());
    a.sections.b.communication =
        Some(r"<script>alert(1)</script> 100% \(escaped\) ) ( \\ %%EOF endstream".to_owned());
    a.sections.e.current_seating = Some("x".repeat(5000));
    a
}

/// The signed visit with photographs in its consent scope (`HV-A-CONSENT`), for the sample
/// with photos.
pub fn visit_with_photo_consent() -> Assessment {
    let mut a = visit_signed();
    if let Some(c) = a.sections.a.consent.as_mut() {
        c.scope.insert(ConsentScope::Photos);
    }
    a
}

/// What a camera photo of a room looks like to the PDF: a `width` × `height` JPEG (quality
/// 85) of a lit wall, a floor, a doorway and stair treads, different for each `seed`.
pub fn photo_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let (w, h) = (width.max(1), height.max(1));
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let tint = (seed % 7) as f32 * 9.0;
        let door = (0.55..0.75).contains(&fx) && fy > 0.2 && fy < 0.8;
        let stair = fy > 0.8 && ((fy * 40.0) as u32).is_multiple_of(2);
        let [r, g, b] = if door {
            [120.0, 82.0, 50.0]
        } else if stair {
            [150.0, 150.0, 140.0]
        } else if fy > 0.8 {
            [110.0, 105.0, 95.0]
        } else {
            [215.0 - 40.0 * fy, 205.0 - 30.0 * fx, 185.0 + tint]
        };
        // Sensor noise, so the JPEG is as large as a camera's.
        let n = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed) % 17) as f32;
        image::Rgb([(r + n) as u8, (g + n) as u8, (b + n) as u8])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    // Encoding into memory cannot fail for an RGB image of this size.
    let _ = img.write_with_encoder(encoder);
    out
}

/// A parent's signature drawn on the tablet, as the core renders it: black strokes on white,
/// 600 × 200 PNG.
pub fn signature_png() -> Vec<u8> {
    let mut img = image::GrayImage::from_pixel(600, 200, image::Luma([255]));
    let mut prev: Option<(f32, f32)> = None;
    for i in 0..=400 {
        let t = i as f32 / 400.0;
        let x = 40.0 + 520.0 * t;
        let y = 110.0 + 45.0 * (t * 18.0).sin() * (1.0 - t * 0.6) - 30.0 * t;
        if let Some((px, py)) = prev {
            for s in 0..=8 {
                let k = s as f32 / 8.0;
                let (cx, cy) = (px + (x - px) * k, py + (y - py) * k);
                for dx in -1i32..=1 {
                    for dy in -1i32..=1 {
                        let (ix, iy) = (cx as i32 + dx, cy as i32 + dy);
                        if (0..600).contains(&ix) && (0..200).contains(&iy) {
                            img.put_pixel(ix as u32, iy as u32, image::Luma([20]));
                        }
                    }
                }
            }
        }
        prev = Some((x, y));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

/// `photos` photographs of 4,000 × 3,000 pixels (12 megapixels, as a tablet's camera takes
/// them) with captions, and one drawn signature.
pub fn media(photos: usize) -> ReportMedia {
    media_sized(photos, 4_000, 3_000)
}

/// Like [`media`], with photos of `width` × `height` pixels.
pub fn media_sized(photos: usize, width: u32, height: u32) -> ReportMedia {
    const CAPTIONS: [&str; 5] = [
        "Stairs from the hall: 13 steps, rise 190 mm, no second rail (section D)",
        "Bathroom door: clear width 690 mm measured on the photo (section D)",
        "Bath and taps from the door (section D)",
        "Current seating: buggy with lateral supports (section C)",
        "Front step: height 160 mm (section D)",
    ];
    ReportMedia {
        photos: (0..photos)
            .map(|n| ReportImage {
                format: ImageFormat::Jpeg,
                bytes: photo_jpeg(width, height, n as u32),
                width_px: width,
                height_px: height,
                caption: format!(
                    "{}. Taken 15 Mar 2026 by Priya Raman.",
                    CAPTIONS[n % CAPTIONS.len()]
                ),
            })
            .collect(),
        signatures: vec![ReportImage {
            format: ImageFormat::Png,
            bytes: signature_png(),
            width_px: 600,
            height_px: 200,
            caption: "Aoife Ó Dálaigh (mother, parental responsibility), 15 Mar 2026: consent to photographs. Covers the text signed: yes.".into(),
        }],
    }
}
