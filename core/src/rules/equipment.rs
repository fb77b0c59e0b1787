//! Equipment-request rules (DOMAIN.md §3.6): the AP measurement table, `EQ-MEAS-REQUIRED`,
//! `EQ-MEAS-FIT`, `EQ-MEAS-AGE`, `S-WHEELCHAIR`, `EQ-HOIST-RA`, `EQ-REASON`, `EQ-DATES`,
//! approval tiers and `EQ-SUBMIT-VALID`. The workflow itself is in `rules::workflow`.

use chrono::NaiveDate;

use super::{
    config::Thresholds,
    dates::days_between,
    fields::{check_opt, has_text, require, Range, Stage, Unit},
    issue::{blocking, Ack, Issue},
    mh::{self, MhContext},
};
use crate::{
    error::Error,
    model::{
        common::{is_finally_signed, live, Service},
        equipment::{AdaptationWork, Category, EquipmentRequest, MeasurementKey as K, Status},
        risk::RiskAssessment,
    },
};

/// Default `tier2_cost_pence`: minor adaptations above £1,000 need tier-2 approval.
pub const DEFAULT_TIER2_COST_PENCE: i64 = 100_000;
/// `EQ-MEAS-AGE`: the default of `measurement_max_age_days` (the rules read the team's
/// [`Thresholds`]).
pub const MEASUREMENT_MAX_AGE_DAYS: i64 = 90;
/// `quantity`: 1–10, usually 1–4.
pub const QUANTITY: Range = Range::new((1, 10), (1, 4), Unit::Count);
/// `estimated_cost_pence`: £0–£100,000, usually up to £30,000.
pub const ESTIMATED_COST: Range = Range::new((0, 10_000_000), (0, 3_000_000), Unit::Pence);
/// The signpost given with `S-WHEELCHAIR`.
pub const WHEELCHAIR_SIGNPOST: &str = "wheelchair_service";

/// One row of the AP measurement table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurementSpec {
    /// The key.
    pub key: K,
    /// What is measured, for messages.
    pub what: &'static str,
    /// Unit, hard and soft ranges.
    pub range: Range,
    /// Whether it is a measurement of the child's body (`EQ-MEAS-AGE`), rather than a
    /// prescription or of the home.
    pub body: bool,
}

const fn row(
    key: K,
    what: &'static str,
    hard: (i64, i64),
    soft: (i64, i64),
    unit: Unit,
    body: bool,
) -> MeasurementSpec {
    MeasurementSpec {
        key,
        what,
        range: Range::new(hard, soft, unit),
        body,
    }
}

/// The AP measurement table (DOMAIN.md §3.6): key → unit, hard range, soft range. Body
/// measurements are taken seated, hips and knees near 90°.
pub const MEASUREMENT_TABLE: [MeasurementSpec; 17] = [
    row(
        K::WeightKg,
        "Body mass",
        (3, 2500),
        (20, 1200),
        Unit::KgTenths,
        true,
    ),
    row(
        K::HeightCm,
        "Height or supine length",
        (300, 2300),
        (450, 2000),
        Unit::CmTenths,
        true,
    ),
    row(
        K::HeadHeightSittingMm,
        "Seat to top of head",
        (150, 1100),
        (300, 1000),
        Unit::Mm,
        true,
    ),
    row(
        K::ShoulderHeightSittingMm,
        "Seat to top of shoulder",
        (100, 850),
        (200, 700),
        Unit::Mm,
        true,
    ),
    row(
        K::ElbowHeightSittingMm,
        "Seat to underside of bent elbow",
        (30, 450),
        (80, 320),
        Unit::Mm,
        true,
    ),
    row(
        K::HipWidthMm,
        "Hip width",
        (60, 700),
        (120, 480),
        Unit::Mm,
        true,
    ),
    row(
        K::ThighLengthMm,
        "Thigh length",
        (50, 700),
        (120, 520),
        Unit::Mm,
        true,
    ),
    row(
        K::LowerLegLengthMm,
        "Lower leg length",
        (50, 650),
        (100, 500),
        Unit::Mm,
        true,
    ),
    row(
        K::SeatDepthMm,
        "Seat depth",
        (50, 650),
        (100, 500),
        Unit::Mm,
        false,
    ),
    row(
        K::SeatWidthMm,
        "Seat width",
        (80, 750),
        (150, 500),
        Unit::Mm,
        false,
    ),
    row(
        K::BackHeightMm,
        "Back height",
        (100, 900),
        (200, 700),
        Unit::Mm,
        false,
    ),
    row(
        K::SeatToFloorMm,
        "Seat to floor",
        (100, 900),
        (200, 600),
        Unit::Mm,
        false,
    ),
    row(
        K::ToiletPanHeightMm,
        "Toilet pan height",
        (200, 700),
        (350, 450),
        Unit::Mm,
        false,
    ),
    row(
        K::BathRimHeightMm,
        "Bath rim height",
        (300, 900),
        (450, 650),
        Unit::Mm,
        false,
    ),
    row(
        K::BedHeightMm,
        "Bed height",
        (150, 1100),
        (300, 800),
        Unit::Mm,
        false,
    ),
    row(
        K::DoorClearWidthMm,
        "Door clear width",
        (400, 2500),
        (700, 1200),
        Unit::Mm,
        false,
    ),
    row(
        K::StepRiserMm,
        "Step riser",
        (10, 400),
        (75, 220),
        Unit::Mm,
        false,
    ),
];

/// The table row of a key.
pub fn spec(key: K) -> &'static MeasurementSpec {
    // The table holds one row per key in declaration order; the search is for robustness.
    MEASUREMENT_TABLE
        .iter()
        .find(|s| s.key == key)
        .unwrap_or(&MEASUREMENT_TABLE[0])
}

/// `EQ-MEAS-REQUIRED`: the measurements a category needs at submit.
pub fn required_measurements(req: &EquipmentRequest) -> Vec<K> {
    match req.category {
        Some(Category::SpecialistSeating) => vec![
            K::WeightKg,
            K::HipWidthMm,
            K::ThighLengthMm,
            K::LowerLegLengthMm,
            K::ShoulderHeightSittingMm,
            K::SeatDepthMm,
            K::SeatWidthMm,
            K::BackHeightMm,
        ],
        Some(Category::ToiletingAids) => {
            vec![
                K::WeightKg,
                K::HipWidthMm,
                K::LowerLegLengthMm,
                K::ToiletPanHeightMm,
            ]
        }
        Some(Category::BathingAids) => vec![K::WeightKg, K::BathRimHeightMm],
        Some(Category::HoistsSlings | Category::StandingFrames) => vec![K::WeightKg, K::HeightCm],
        Some(Category::BedsCots) => vec![K::WeightKg, K::HeightCm, K::BedHeightMm],
        Some(Category::MinorAdaptation) => {
            let mut v = Vec::new();
            if req.adaptation_work.contains(&AdaptationWork::Door) {
                v.push(K::DoorClearWidthMm);
            }
            if req.adaptation_work.contains(&AdaptationWork::Step) {
                v.push(K::StepRiserMm);
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Who may approve a category (DOMAIN.md §3.6 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// An HCPC-registered `ot` or `approver` other than the requester.
    One,
    /// An HCPC-registered `approver` other than the requester.
    Two,
    /// Only through a DFG referral (W15).
    DfgOnly,
    /// Not provided (`S-WHEELCHAIR`).
    Refused,
}

/// The approval tier of a request. A minor adaptation is tier 2 above `tier2_cost_pence`, and
/// also when its cost is unknown: the stricter tier until someone states the cost.
pub fn approval_tier(
    category: Option<Category>,
    cost_pence: Option<i64>,
    tier2_cost_pence: i64,
) -> Tier {
    match category {
        Some(
            Category::SpecialistSeating
            | Category::BathingAids
            | Category::ToiletingAids
            | Category::StandingFrames
            | Category::Other,
        ) => Tier::One,
        Some(Category::BedsCots | Category::HoistsSlings) | None => Tier::Two,
        Some(Category::MinorAdaptation) => match cost_pence {
            Some(c) if c <= tier2_cost_pence => Tier::One,
            _ => Tier::Two,
        },
        Some(Category::MajorAdaptation) => Tier::DfgOnly,
        Some(Category::Wheelchair) => Tier::Refused,
    }
}

/// What the request's rules need besides the record.
#[derive(Debug, Clone, Copy)]
pub struct EquipmentContext<'a> {
    /// Draft or submit.
    pub stage: Stage,
    /// Today (Europe/London) or the submit date.
    pub as_of: NaiveDate,
    /// The linked risk assessment, when the caller has it; `EQ-HOIST-RA` is then checked in
    /// full, otherwise only that one is linked.
    pub risk_assessment: Option<&'a RiskAssessment>,
    /// The team's thresholds (`measurement_max_age_days`; the M&H ones for `EQ-HOIST-RA`).
    pub thresholds: Thresholds,
}

/// `EQ-HOIST-RA`: a `hoists_slings` request needs a linked, active risk assessment for the
/// same child, signed (countersigned if AP-authored), without ERRORs at the request's
/// weight, judged on `on` (the approval date): an assessment past its review date, or a
/// hoist, spreader bar or sling whose LOLER examination has lapsed by then, does not satisfy
/// it. `Err` carries the reason for a person. Other categories always pass.
pub fn hoist_ra_check(
    req: &EquipmentRequest,
    ra: Option<&RiskAssessment>,
    on: NaiveDate,
    thresholds: Thresholds,
) -> Result<(), String> {
    if req.category != Some(Category::HoistsSlings) {
        return Ok(());
    }
    let Some(linked) = req.risk_assessment_id else {
        return Err("a hoist or sling request needs a linked M&H risk assessment".into());
    };
    let Some(ra) = ra.filter(|ra| ra.envelope.id.uuid() == linked) else {
        return Err("the linked M&H risk assessment is not available".into());
    };
    if !ra.envelope.record_status.is_active() {
        return Err("the linked M&H risk assessment was entered in error".into());
    }
    if ra.envelope.child_id != req.envelope.child_id {
        return Err("the linked M&H risk assessment is for another child".into());
    }
    if !is_finally_signed(ra.sign_state()) {
        return Err(
            "the linked M&H risk assessment is not signed (or awaits countersignature)".into(),
        );
    }
    let mut at_weight = ra.clone();
    if let Some(w) = req.measurements.get(&K::WeightKg) {
        at_weight.child_weight_kg = Some(w.value);
    }
    if let Some(review) = ra.review_due_on.filter(|r| *r < on) {
        return Err(format!(
            "the linked M&H risk assessment was due for review on {review}, before {on}"
        ));
    }
    let ctx = MhContext {
        stage: Stage::Final,
        thresholds,
        ..MhContext::default()
    };
    let errors: Vec<String> = mh::validate(&at_weight, &ctx)
        .into_iter()
        .chain(mh::equipment_issues_on(ra, on, thresholds))
        .filter(Issue::is_error)
        .map(|i| i.message)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the linked M&H risk assessment has errors at the request's weight: {}",
            errors.join(" ")
        ))
    }
}

/// Validates an equipment request. Drafts always save; the issues flag.
pub fn validate(req: &EquipmentRequest, ctx: &EquipmentContext<'_>) -> Vec<Issue> {
    let mut out = Vec::new();
    let stage = ctx.stage;

    require(
        &mut out,
        stage,
        req.service.is_some(),
        "service",
        "The service",
    );
    require(
        &mut out,
        stage,
        req.category.is_some(),
        "category",
        "The category",
    );
    if req.category == Some(Category::Wheelchair) {
        out.push(Issue::error(
            "S-WHEELCHAIR",
            "category",
            format!(
                "Wheelchairs are assessed by the wheelchair service on its own referral \
                 (signpost: {WHEELCHAIR_SIGNPOST})."
            ),
        ));
    } else if let (Some(c), Some(s)) = (req.category, req.service) {
        if !c.offered_by(s) {
            out.push(Issue::error(
                "FLD-HARD",
                "category",
                "This category is not provided by the health service; it is a social-care category.",
            ));
        }
    }

    require(
        &mut out,
        stage,
        live(&req.items).next().is_some(),
        "items",
        "At least one item",
    );
    for item in live(&req.items) {
        let path = format!("items.{}.quantity", item.item_id);
        require(
            &mut out,
            stage,
            item.data.quantity.is_some(),
            &path,
            "The quantity",
        );
        check_opt(
            &mut out,
            &QUANTITY,
            &path,
            "The quantity",
            item.data.quantity,
        );
    }
    require(
        &mut out,
        stage,
        has_text(req.clinical_justification.as_deref()),
        "clinical_justification",
        "The clinical justification",
    );
    check_opt(
        &mut out,
        &ESTIMATED_COST,
        "estimated_cost_pence",
        "The estimated cost",
        req.estimated_cost_pence,
    );
    require(
        &mut out,
        stage,
        req.priority.is_some(),
        "priority",
        "The priority",
    );
    require(
        &mut out,
        stage,
        req.requested_by.is_some(),
        "requested_by",
        "The requester",
    );
    require(
        &mut out,
        stage,
        req.requested_at.is_some(),
        "requested_at",
        "When it was requested",
    );

    // Measurements: ranges, dates, age.
    for (key, m) in &req.measurements {
        let spec = spec(*key);
        let path = format!("measurements.{}", key.as_str());
        out.extend(
            spec.range
                .check(&format!("{path}.value"), spec.what, m.value),
        );
        require(
            &mut out,
            stage,
            m.measured_on.is_some(),
            &format!("{path}.measured_on"),
            "The measurement date",
        );
        if let Some(on) = m.measured_on {
            if on > ctx.as_of {
                out.push(
                    Issue::error(
                        "FLD-HARD",
                        format!("{path}.measured_on"),
                        format!(
                            "{} was measured on {on}, after today ({}).",
                            spec.what, ctx.as_of
                        ),
                    )
                    .with_value(on.to_string()),
                );
            } else if spec.body
                && days_between(on, ctx.as_of) > ctx.thresholds.measurement_max_age_days
            {
                out.push(
                    Issue::warn(
                        "EQ-MEAS-AGE",
                        format!("{path}.measured_on"),
                        format!(
                            "{} was measured on {on}, {} days ago; more than \
                             {} days. Measure again.",
                            spec.what,
                            days_between(on, ctx.as_of),
                            ctx.thresholds.measurement_max_age_days
                        ),
                    )
                    .with_value(on.to_string()),
                );
            }
        }
    }
    if stage.is_final() {
        for key in required_measurements(req) {
            if !req.measurements.contains_key(&key) {
                out.push(Issue::error(
                    "EQ-MEAS-REQUIRED",
                    format!("measurements.{}", key.as_str()),
                    format!("{} is required for this category.", spec(key).what),
                ));
            }
        }
    }
    let value = |k: K| req.measurements.get(&k).map(|m| m.value);
    if let (Some(seat), Some(thigh)) = (value(K::SeatDepthMm), value(K::ThighLengthMm)) {
        if seat > thigh {
            out.push(
                Issue::warn(
                    "EQ-MEAS-FIT",
                    "measurements.seat_depth_mm.value",
                    format!(
                        "The seat depth ({seat} mm) is longer than the thigh length ({thigh} mm)."
                    ),
                )
                .with_value(format!("{seat}/{thigh}")),
            );
        }
    }
    if let (Some(seat), Some(hip)) = (value(K::SeatWidthMm), value(K::HipWidthMm)) {
        if seat < hip {
            out.push(
                Issue::warn(
                    "EQ-MEAS-FIT",
                    "measurements.seat_width_mm.value",
                    format!(
                        "The seat width ({seat} mm) is narrower than the hip width ({hip} mm)."
                    ),
                )
                .with_value(format!("{seat}/{hip}")),
            );
        }
    }

    // EQ-HOIST-RA: at submit a link is needed; with the RA at hand, the full check.
    let check_ra =
        ctx.risk_assessment.is_some() || (stage.is_final() && req.risk_assessment_id.is_none());
    if req.category == Some(Category::HoistsSlings) && check_ra {
        if let Err(why) = hoist_ra_check(req, ctx.risk_assessment, ctx.as_of, ctx.thresholds) {
            out.push(Issue::error(
                "EQ-HOIST-RA",
                "risk_assessment_id",
                format!("Not ready: {why}."),
            ));
        }
    }

    // EQ-REASON on the log: questions, answers, declines and cancellations carry a reason.
    for t in live(&req.transitions) {
        let needs_reason = matches!(
            (t.data.from, t.data.to),
            (Some(Status::Submitted), Status::InfoRequested)
                | (Some(Status::InfoRequested), Status::Submitted)
                | (Some(Status::Submitted), Status::Declined)
                | (_, Status::Cancelled)
                | (_, Status::DfgDeclined)
        );
        if needs_reason && !has_text(t.data.reason.as_deref()) {
            out.push(Issue::error(
                "EQ-REASON",
                format!("transitions.{}.reason", t.item_id),
                "This step needs a reason that is not blank.",
            ));
        }
    }

    // EQ-DATES on the detail blocks: in event order, none in the future.
    let events = [
        (
            "order.ordered_on",
            req.order.as_ref().and_then(|o| o.ordered_on),
        ),
        (
            "delivery.delivered_on",
            req.delivery.as_ref().and_then(|d| d.delivered_on),
        ),
        (
            "delivery.installed_on",
            req.delivery.as_ref().and_then(|d| d.installed_on),
        ),
        (
            "review.reviewed_on",
            req.review.as_ref().and_then(|r| r.reviewed_on),
        ),
        (
            "return.returned_on",
            req.return_details.as_ref().and_then(|r| r.returned_on),
        ),
    ];
    let mut previous: Option<(&str, NaiveDate)> = None;
    for (path, date) in events {
        let Some(date) = date else { continue };
        if date > ctx.as_of {
            out.push(
                Issue::error(
                    "EQ-DATES",
                    path,
                    format!("The date {date} is in the future (today {}).", ctx.as_of),
                )
                .with_value(date.to_string()),
            );
        }
        if let Some((prev_path, prev)) = previous.filter(|(_, p)| date < *p) {
            out.push(
                Issue::error(
                    "EQ-DATES",
                    path,
                    format!("The date {date} is before the previous event ({prev_path} {prev})."),
                )
                .with_value(date.to_string()),
            );
        }
        if previous.is_none_or(|(_, p)| date >= p) {
            previous = Some((path, date));
        }
    }
    out
}

/// `EQ-SUBMIT-VALID`: no open ERROR and every WARN acknowledged (a lapsed ack does not count).
pub fn submit_valid(issues: &[Issue], acks: &[Ack]) -> Result<(), Error> {
    let blockers = blocking(issues, acks);
    if blockers.is_empty() {
        return Ok(());
    }
    Err(Error::NotPermitted {
        rule_id: "EQ-SUBMIT-VALID".into(),
        detail: format!(
            "the request has {} open error(s) or unacknowledged warning(s): {}",
            blockers.len(),
            blockers
                .iter()
                .map(|i| i.message.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

/// Whether a category is offered by a service, as a helper for screens.
pub fn category_offered(category: Category, service: Service) -> bool {
    category.offered_by(service)
}
