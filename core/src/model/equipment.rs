//! The equipment request (DOMAIN.md §3.6): what is asked for, the measurements behind it,
//! and its workflow log. The status is never stored; `rules::workflow` derives it from
//! `transitions`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    common::{code_set, item_list, Envelope, Item, Record, Schema, Service},
    user::Role,
};

/// An equipment request record (`homevisit/equipment_request`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquipmentRequest {
    /// The common envelope, at the document root.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which service.
    pub service: Option<Service>,
    /// Category (decides approval tier and required measurements).
    pub category: Option<Category>,
    /// What is requested.
    #[serde(default, with = "item_list")]
    pub items: Vec<Item<RequestItem>>,
    /// Clinical justification (free text).
    pub clinical_justification: Option<String>,
    /// The home-visit assessment behind it.
    pub assessment_id: Option<Uuid>,
    /// The M&H risk assessment (`EQ-HOIST-RA`).
    pub risk_assessment_id: Option<Uuid>,
    /// Measurements keyed by measurement key: one value per key, so two devices entering
    /// different values for one measurement give a clinical conflict at
    /// `measurements.<key>.value`, never two silent rows.
    #[serde(default)]
    pub measurements: BTreeMap<MeasurementKey, Measurement>,
    /// Minor adaptations: whether the work concerns a door or steps (decides which
    /// measurement `EQ-MEAS-REQUIRED` asks for).
    #[serde(default, with = "code_set")]
    pub adaptation_work: BTreeSet<AdaptationWork>,
    /// Estimated cost in pence.
    pub estimated_cost_pence: Option<i64>,
    /// Priority.
    pub priority: Option<Priority>,
    /// The requesting user (any role).
    pub requested_by: Option<Uuid>,
    /// When requested (UTC).
    pub requested_at: Option<DateTime<Utc>>,
    /// The workflow log; status derives from it.
    #[serde(default, with = "item_list")]
    pub transitions: Vec<Item<Transition>>,
    /// Order details.
    pub order: Option<OrderDetails>,
    /// Delivery or installation details.
    pub delivery: Option<DeliveryDetails>,
    /// Review details.
    pub review: Option<ReviewDetails>,
    /// Return details.
    #[serde(default, rename = "return")]
    pub return_details: Option<ReturnDetails>,
    /// Disabled Facilities Grant details.
    pub dfg: Option<DfgDetails>,
    /// Rule-breach flags (`CF-RULE-BREACH`, the root `flags` list), keyed by flag id: a
    /// transition a flag names does not count towards the status (`rules::workflow::derive`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flags: BTreeMap<String, FlagRef>,
}

/// What the workflow reads of a rule-breach flag: its rule and the item it names. Every
/// field is optional so that a flag of any shape leaves the request readable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlagRef {
    /// The rule broken.
    pub rule_id: Option<String>,
    /// The list item it names (a transition's `item_id`), as written.
    pub item: Option<String>,
}

impl Record for EquipmentRequest {
    const SCHEMA: Schema = Schema::EquipmentRequest;
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl EquipmentRequest {
    /// A blank request in the given envelope.
    pub fn new(envelope: Envelope) -> Self {
        Self {
            envelope,
            service: None,
            category: None,
            items: Vec::new(),
            clinical_justification: None,
            assessment_id: None,
            risk_assessment_id: None,
            measurements: BTreeMap::new(),
            adaptation_work: BTreeSet::new(),
            estimated_cost_pence: None,
            priority: None,
            requested_by: None,
            requested_at: None,
            transitions: Vec::new(),
            order: None,
            delivery: None,
            review: None,
            return_details: None,
            dfg: None,
            flags: BTreeMap::new(),
        }
    }

    /// Appends a transition (as `rules::workflow::transition` returned it) and copies its
    /// event details into the matching detail block, so the request reads the same as the
    /// log.
    pub fn apply(&mut self, item: Item<Transition>) {
        let t = &item.data;
        match t.to {
            Status::Ordered => {
                self.order = Some(OrderDetails {
                    supplier: t.supplier.clone(),
                    order_ref: t.order_ref.clone(),
                    ordered_on: t.event_date,
                })
            }
            Status::Delivered | Status::Installed => {
                let mut d = self.delivery.clone().unwrap_or_default();
                if t.to == Status::Delivered {
                    d.delivered_on = t.event_date;
                } else {
                    d.installed_on = t.event_date;
                    d.contractor = t.contractor.clone().or(d.contractor);
                }
                self.delivery = Some(d);
            }
            Status::Reviewed => {
                self.review = Some(ReviewDetails {
                    reviewed_on: t.event_date,
                    outcome: t.outcome,
                })
            }
            Status::Returned => {
                self.return_details = Some(ReturnDetails {
                    returned_on: t.event_date,
                    condition: t.condition.clone(),
                })
            }
            Status::ReferredToDfg | Status::DfgApproved | Status::DfgDeclined => {
                let mut d = self.dfg.clone().unwrap_or_default();
                match t.to {
                    Status::ReferredToDfg => d.referred_on = t.event_date,
                    Status::DfgApproved => {
                        d.decision = Some(DfgDecision::Approved);
                        d.decision_on = t.event_date;
                        d.housing_authority_ref = t.housing_authority_ref.clone();
                    }
                    _ => {
                        d.decision = Some(DfgDecision::Declined);
                        d.decision_on = t.event_date;
                        d.decision_reason = t.reason.clone();
                    }
                }
                self.dfg = Some(d);
            }
            _ => {}
        }
        self.transitions.push(item);
    }
}

/// Equipment categories (DOMAIN.md §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Seating systems, supportive chairs.
    SpecialistSeating,
    /// Bath seats and lifts, shower chairs.
    BathingAids,
    /// Toilet seats, frames, steps, commodes.
    ToiletingAids,
    /// Standing frames.
    StandingFrames,
    /// Specialist beds, safe sleeping spaces.
    BedsCots,
    /// Mobile and ceiling hoists, slings.
    HoistsSlings,
    /// Rails, half steps, ramps, lever taps.
    MinorAdaptation,
    /// Level-access shower, extension, through-floor lift (DFG only).
    MajorAdaptation,
    /// Other daily-living equipment.
    Other,
    /// Refused: the wheelchair service assesses (`S-WHEELCHAIR`).
    Wheelchair,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 10] = [
        Category::SpecialistSeating,
        Category::BathingAids,
        Category::ToiletingAids,
        Category::StandingFrames,
        Category::BedsCots,
        Category::HoistsSlings,
        Category::MinorAdaptation,
        Category::MajorAdaptation,
        Category::Other,
        Category::Wheelchair,
    ];

    /// Which services offer the category.
    pub fn offered_by(self, service: Service) -> bool {
        match self {
            Category::SpecialistSeating
            | Category::BathingAids
            | Category::ToiletingAids
            | Category::StandingFrames
            | Category::Other => true,
            Category::BedsCots
            | Category::HoistsSlings
            | Category::MinorAdaptation
            | Category::MajorAdaptation => service == Service::SocialCare,
            Category::Wheelchair => false,
        }
    }
}

/// What a minor adaptation's work concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdaptationWork {
    /// A doorway (needs `door_clear_width_mm`).
    Door,
    /// A step (needs `step_riser_mm`).
    Step,
}

/// Priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Routine.
    Routine,
    /// Urgent.
    Urgent,
}

/// One requested item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestItem {
    /// Description.
    pub description: Option<String>,
    /// Make.
    pub make: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Size.
    pub size: Option<String>,
    /// Quantity (1–10; usually 1–4).
    pub quantity: Option<i64>,
}

/// The keys of the AP measurement table (DOMAIN.md §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasurementKey {
    /// Body mass, integer tenths of a kg.
    WeightKg,
    /// Standing height or supine length, integer tenths of a cm.
    HeightCm,
    /// Seat to top of head.
    HeadHeightSittingMm,
    /// Seat to top of shoulder.
    ShoulderHeightSittingMm,
    /// Seat to underside of bent elbow.
    ElbowHeightSittingMm,
    /// Widest across hips or thighs.
    HipWidthMm,
    /// Back of buttock to back of knee.
    ThighLengthMm,
    /// Back of knee to floor or footplate, shoes on.
    LowerLegLengthMm,
    /// Prescribed seat depth.
    SeatDepthMm,
    /// Prescribed seat width.
    SeatWidthMm,
    /// Prescribed back height above the seat.
    BackHeightMm,
    /// Prescribed seat to floor.
    SeatToFloorMm,
    /// Floor to pan rim, seat off.
    ToiletPanHeightMm,
    /// Floor to top of bath rim.
    BathRimHeightMm,
    /// Floor to top of mattress.
    BedHeightMm,
    /// Narrowest clear door opening.
    DoorClearWidthMm,
    /// One step's rise.
    StepRiserMm,
}

impl MeasurementKey {
    /// The key as stored, e.g. `lower_leg_length_mm`.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasurementKey::WeightKg => "weight_kg",
            MeasurementKey::HeightCm => "height_cm",
            MeasurementKey::HeadHeightSittingMm => "head_height_sitting_mm",
            MeasurementKey::ShoulderHeightSittingMm => "shoulder_height_sitting_mm",
            MeasurementKey::ElbowHeightSittingMm => "elbow_height_sitting_mm",
            MeasurementKey::HipWidthMm => "hip_width_mm",
            MeasurementKey::ThighLengthMm => "thigh_length_mm",
            MeasurementKey::LowerLegLengthMm => "lower_leg_length_mm",
            MeasurementKey::SeatDepthMm => "seat_depth_mm",
            MeasurementKey::SeatWidthMm => "seat_width_mm",
            MeasurementKey::BackHeightMm => "back_height_mm",
            MeasurementKey::SeatToFloorMm => "seat_to_floor_mm",
            MeasurementKey::ToiletPanHeightMm => "toilet_pan_height_mm",
            MeasurementKey::BathRimHeightMm => "bath_rim_height_mm",
            MeasurementKey::BedHeightMm => "bed_height_mm",
            MeasurementKey::DoorClearWidthMm => "door_clear_width_mm",
            MeasurementKey::StepRiserMm => "step_riser_mm",
        }
    }
}

/// One measurement: value in the key's unit, when and by whom it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    /// Value in the key's stored unit.
    pub value: i64,
    /// When measured.
    pub measured_on: Option<NaiveDate>,
    /// Who measured.
    pub measured_by: Option<Uuid>,
}

/// Workflow states (DOMAIN.md §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written.
    Draft,
    /// Awaiting a decision.
    Submitted,
    /// The approver asked a question.
    InfoRequested,
    /// Approved.
    Approved,
    /// Declined (terminal).
    Declined,
    /// Ordered from a supplier.
    Ordered,
    /// Delivered.
    Delivered,
    /// Installed.
    Installed,
    /// Reviewed in use.
    Reviewed,
    /// Returned (terminal).
    Returned,
    /// Closed (terminal).
    Closed,
    /// Cancelled (terminal).
    Cancelled,
    /// Referred for a Disabled Facilities Grant.
    ReferredToDfg,
    /// DFG approved.
    DfgApproved,
    /// DFG declined.
    DfgDeclined,
}

impl Status {
    /// Every state.
    pub const ALL: [Status; 15] = [
        Status::Draft,
        Status::Submitted,
        Status::InfoRequested,
        Status::Approved,
        Status::Declined,
        Status::Ordered,
        Status::Delivered,
        Status::Installed,
        Status::Reviewed,
        Status::Returned,
        Status::Closed,
        Status::Cancelled,
        Status::ReferredToDfg,
        Status::DfgApproved,
        Status::DfgDeclined,
    ];

    /// Whether no transition leaves this state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Declined | Status::Returned | Status::Closed | Status::Cancelled
        )
    }
}

/// W10's review outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// Suitable.
    Suitable,
    /// Needs adjusting.
    Adjust,
    /// Needs replacing.
    Replace,
    /// No longer needed.
    NoLongerNeeded,
}

/// An approver's choice between concurrent transitions (`CF-STATUS`), recorded on the one
/// that lost: it stays in the log, marked superseded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supersession {
    /// The transition chosen instead.
    pub chosen: Uuid,
    /// The approver who chose.
    pub user_id: Uuid,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// One workflow step, as logged in `transitions` (an item list).
///
/// `follows` names the transition this one was made after, so two transitions made offline
/// from the same state (same `follows`) are visibly concurrent (`CF-STATUS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The state left; `None` for creation (W1).
    pub from: Option<Status>,
    /// The state entered.
    pub to: Status,
    /// The transition this one follows (`None` for W1).
    pub follows: Option<Uuid>,
    /// Who.
    pub user_id: Uuid,
    /// In what role.
    pub role: Role,
    /// On which device.
    pub device_id: Uuid,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Question, answer, decline, cancel or DFG-decline reason.
    pub reason: Option<String>,
    /// The event's date (order, delivery, installation, review, return, DFG decision).
    pub event_date: Option<NaiveDate>,
    /// W7: supplier.
    pub supplier: Option<String>,
    /// W7: order reference.
    pub order_ref: Option<String>,
    /// W9: contractor.
    pub contractor: Option<String>,
    /// W10: review outcome.
    pub outcome: Option<ReviewOutcome>,
    /// W11: condition on return.
    pub condition: Option<String>,
    /// W16: housing-authority reference.
    pub housing_authority_ref: Option<String>,
    /// Set when an approver chose another concurrent transition (`CF-STATUS`).
    pub superseded: Option<Supersession>,
}

/// Order details (W7).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderDetails {
    /// Supplier.
    pub supplier: Option<String>,
    /// Order reference.
    pub order_ref: Option<String>,
    /// Order date.
    pub ordered_on: Option<NaiveDate>,
}

/// Delivery or installation details (W8, W9, W18).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryDetails {
    /// Delivery date.
    pub delivered_on: Option<NaiveDate>,
    /// Installation or completion date.
    pub installed_on: Option<NaiveDate>,
    /// Contractor.
    pub contractor: Option<String>,
}

/// Review details (W10).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReviewDetails {
    /// Review date.
    pub reviewed_on: Option<NaiveDate>,
    /// Outcome.
    pub outcome: Option<ReviewOutcome>,
}

/// Return details (W11).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReturnDetails {
    /// Return date.
    pub returned_on: Option<NaiveDate>,
    /// Condition.
    pub condition: Option<String>,
}

/// A DFG decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DfgDecision {
    /// Approved.
    Approved,
    /// Declined.
    Declined,
}

/// Disabled Facilities Grant details (W15–W18).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DfgDetails {
    /// Referral date.
    pub referred_on: Option<NaiveDate>,
    /// Housing-authority reference.
    pub housing_authority_ref: Option<String>,
    /// Decision.
    pub decision: Option<DfgDecision>,
    /// Decision date.
    pub decision_on: Option<NaiveDate>,
    /// Reason for a decline.
    pub decision_reason: Option<String>,
}
