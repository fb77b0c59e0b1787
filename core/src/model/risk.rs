//! The moving-and-handling risk assessment (DOMAIN.md §3.5): TILEO checklist, handling tasks
//! with initial and residual risk, and the lifting equipment (LOLER) the tasks use.
//!
//! Weights and safe working loads are integer tenths of a kg; scores and bands are computed by
//! `rules::mh`, never stored.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    common::{
        item_list, sign_state, Addendum, Countersignature, Envelope, Item, Record, Schema,
        SignState, Signature, YesNo,
    },
    training::CarerTraining,
};

/// An M&H risk assessment record (`homevisit/risk_assessment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// The common envelope, at the document root.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Assessment date; the `as_of` of the MH rules.
    pub assessment_date: Option<NaiveDate>,
    /// Where the handling happens.
    pub location: Option<RaLocation>,
    /// Whether hazardous handling could be avoided (`MH-AVOID`).
    pub avoidance_considered: Option<AvoidanceConsidered>,
    /// The child's weight, integer tenths of a kg.
    pub child_weight_kg: Option<i64>,
    /// When that weight was measured.
    pub child_weight_measured_on: Option<NaiveDate>,
    /// The child's height, integer tenths of a cm.
    pub child_height_cm: Option<i64>,
    /// Carers available.
    pub carers_available: Option<i64>,
    /// The TILEO checklist, keyed by item code (`T1` … `O3`).
    #[serde(default)]
    pub tileo: BTreeMap<TileoItem, TileoAnswer>,
    /// Handling tasks.
    #[serde(default, with = "item_list")]
    pub tasks: Vec<Item<Task>>,
    /// Lifting equipment (hoists, spreader bars, slings).
    #[serde(default, with = "item_list")]
    pub lifting_equipment: Vec<Item<LiftingEquipment>>,
    /// Next review (`MH-REVIEW`).
    pub review_due_on: Option<NaiveDate>,
    /// Whether the task is stopped until review (needed with an Extreme residual).
    pub task_stopped_pending_review: Option<bool>,
    /// Who was trained on which task, hoist and sling (`MH-CARER-TRAINED`).
    #[serde(default, with = "item_list")]
    pub carer_training: Vec<Item<CarerTraining>>,
    /// The signature.
    pub signature: Option<Signature>,
    /// The countersignature an AP's signature needs.
    pub countersignature: Option<Countersignature>,
    /// Addenda after signing.
    #[serde(default, with = "item_list")]
    pub addenda: Vec<Item<Addendum>>,
}

impl Record for RiskAssessment {
    const SCHEMA: Schema = Schema::RiskAssessment;
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl RiskAssessment {
    /// A blank draft in the given envelope.
    pub fn new(envelope: Envelope) -> Self {
        Self {
            envelope,
            assessment_date: None,
            location: None,
            avoidance_considered: None,
            child_weight_kg: None,
            child_weight_measured_on: None,
            child_height_cm: None,
            carers_available: None,
            tileo: BTreeMap::new(),
            tasks: Vec::new(),
            lifting_equipment: Vec::new(),
            review_due_on: None,
            task_stopped_pending_review: None,
            carer_training: Vec::new(),
            signature: None,
            countersignature: None,
            addenda: Vec::new(),
        }
    }

    /// Where it stands: draft, signed, awaiting countersignature, countersigned, entered in
    /// error.
    pub fn sign_state(&self) -> SignState {
        sign_state(
            &self.envelope.record_status,
            self.signature.as_ref(),
            self.countersignature.as_ref(),
        )
    }
}

/// Where the handling happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaLocation {
    /// Home.
    Home,
    /// School.
    School,
    /// Respite.
    Respite,
    /// Other.
    Other,
}

/// The answer to "can hazardous handling be avoided?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Avoidance {
    /// Avoided.
    Avoided,
    /// Partly avoided.
    Partly,
    /// Not reasonably practicable.
    NotPossible,
}

/// `avoidance_considered`: the decision and its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AvoidanceConsidered {
    /// The decision.
    pub decision: Option<Avoidance>,
    /// Why (free text).
    pub text: Option<String>,
}

/// The nineteen TILEO checklist items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TileoItem {
    /// Lifting most of the child's weight.
    T1,
    /// Stooping, twisting, reaching.
    T2,
    /// Frequent or prolonged handling.
    T3,
    /// Low or cramped position (floor, bath, car).
    T4,
    /// Carer health, injury, pregnancy, fatigue.
    I1,
    /// Untrained in technique or equipment.
    I2,
    /// Second carer not reliably there.
    I3,
    /// Shared or respite carers new to the child.
    I4,
    /// Weight or size.
    L1,
    /// Unpredictable movement or behaviour.
    L2,
    /// Medical (seizures, fragile bones, pain, tubes, recent surgery).
    L3,
    /// Tone, spasms, contractures.
    L4,
    /// Limited understanding or cooperation.
    L5,
    /// Restricted space.
    E1,
    /// Steps, uneven or wet floors.
    E2,
    /// Fixed-height furniture.
    E3,
    /// Lighting, temperature, clutter.
    E4,
    /// Equipment condition or suitability.
    O1,
    /// Clothing, footwear, splints.
    O2,
    /// Other.
    O3,
}

impl TileoItem {
    /// Every item, in checklist order.
    pub const ALL: [TileoItem; 20] = [
        TileoItem::T1,
        TileoItem::T2,
        TileoItem::T3,
        TileoItem::T4,
        TileoItem::I1,
        TileoItem::I2,
        TileoItem::I3,
        TileoItem::I4,
        TileoItem::L1,
        TileoItem::L2,
        TileoItem::L3,
        TileoItem::L4,
        TileoItem::L5,
        TileoItem::E1,
        TileoItem::E2,
        TileoItem::E3,
        TileoItem::E4,
        TileoItem::O1,
        TileoItem::O2,
        TileoItem::O3,
    ];

    /// The item's code, e.g. `T1`.
    pub fn code(self) -> String {
        format!("{self:?}")
    }
}

/// One TILEO answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TileoAnswer {
    /// Whether the hazard is present.
    pub hazard_present: Option<YesNo>,
    /// Notes; required when the hazard is present.
    pub notes: Option<String>,
}

/// A place a child is moved from or to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// Bed.
    Bed,
    /// Cot.
    Cot,
    /// Wheelchair.
    Wheelchair,
    /// Seating system.
    SeatingSystem,
    /// Toilet.
    Toilet,
    /// Commode.
    Commode,
    /// Bath.
    Bath,
    /// Shower chair.
    ShowerChair,
    /// Changing bench.
    ChangingBench,
    /// Floor.
    Floor,
    /// Car.
    Car,
    /// Standing frame.
    StandingFrame,
    /// Other.
    Other,
}

/// How a task is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The child moves independently.
    Independent,
    /// Supervision only.
    Supervision,
    /// One carer.
    OneCarer,
    /// Two carers.
    TwoCarers,
    /// Mobile hoist.
    HoistMobile,
    /// Ceiling hoist.
    HoistCeiling,
    /// Slide sheet.
    SlideSheet,
    /// Transfer board.
    TransferBoard,
}

impl Method {
    /// Whether the method uses a hoist (`MH-HOIST-REF`).
    pub fn is_hoist(self) -> bool {
        matches!(self, Method::HoistMobile | Method::HoistCeiling)
    }
}

/// Sling type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlingType {
    /// Hammock, full body.
    HammockFullBody,
    /// Divided leg.
    DividedLeg,
    /// Toileting access.
    ToiletingAccess,
    /// Bathing.
    Bathing,
    /// In situ.
    InSitu,
    /// Other.
    Other,
}

/// Likelihood and severity, each 1–5 (`MH-SCORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskRating {
    /// 1 rare … 5 almost certain.
    pub likelihood: Option<i64>,
    /// 1 negligible … 5 catastrophic.
    pub severity: Option<i64>,
}

/// A kind of control measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    /// Equipment provided.
    EquipmentProvided,
    /// Equipment changed.
    EquipmentChanged,
    /// Technique training.
    TechniqueTraining,
    /// Two carers.
    TwoCarers,
    /// Change to the environment.
    EnvironmentChange,
    /// Task avoided.
    TaskAvoided,
    /// Child engagement strategy.
    ChildEngagementStrategy,
    /// Plan review.
    PlanReview,
    /// Onward referral.
    OnwardReferral,
    /// Other.
    Other,
}

/// A control measure of a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Control {
    /// Kind.
    pub kind: Option<ControlKind>,
    /// Detail (free text).
    pub text: Option<String>,
}

/// A handling or transfer task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Task {
    /// From where.
    pub from: Option<Place>,
    /// To where.
    pub to: Option<Place>,
    /// How.
    pub method: Option<Method>,
    /// Carers required (0–4).
    pub carers_required: Option<i64>,
    /// The hoist used: an item id of `lifting_equipment`.
    pub hoist_id: Option<Uuid>,
    /// The spreader bar used, unless the hoist's is integral.
    pub spreader_bar_id: Option<Uuid>,
    /// The sling used.
    pub sling_id: Option<Uuid>,
    /// Sling type.
    pub sling_type: Option<SlingType>,
    /// Sling size, as on the maker's label.
    pub sling_size: Option<String>,
    /// Risk before controls.
    pub initial: Option<RiskRating>,
    /// Risk with controls.
    pub residual: Option<RiskRating>,
    /// Controls.
    #[serde(default, with = "item_list")]
    pub controls: Vec<Item<Control>>,
    /// Notes.
    pub notes: Option<String>,
}

/// A kind of lifting equipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    /// Mobile hoist.
    HoistMobile,
    /// Ceiling hoist.
    HoistCeiling,
    /// Bath hoist.
    HoistBath,
    /// Spreader bar.
    SpreaderBar,
    /// Sling.
    Sling,
}

impl EquipmentKind {
    /// Whether this is a hoist.
    pub fn is_hoist(self) -> bool {
        matches!(
            self,
            EquipmentKind::HoistMobile | EquipmentKind::HoistCeiling | EquipmentKind::HoistBath
        )
    }

    /// Plain name for messages.
    pub fn label(self) -> &'static str {
        match self {
            EquipmentKind::HoistMobile | EquipmentKind::HoistCeiling | EquipmentKind::HoistBath => {
                "hoist"
            }
            EquipmentKind::SpreaderBar => "spreader bar",
            EquipmentKind::Sling => "sling",
        }
    }
}

/// A lifting equipment item (LOLER).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiftingEquipment {
    /// Kind.
    pub kind: Option<EquipmentKind>,
    /// Make.
    pub make: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial or asset number.
    pub serial: Option<String>,
    /// Safe working load, integer tenths of a kg.
    pub swl_kg: Option<i64>,
    /// For hoists: whether the spreader bar is integral (then no separate bar is referenced).
    pub integral_spreader_bar: Option<bool>,
    /// Last thorough examination.
    pub last_exam_on: Option<NaiveDate>,
    /// Next thorough examination due.
    pub next_exam_due_on: Option<NaiveDate>,
    /// Whether the item is examined under a written scheme of examination drawn up by a
    /// competent person (LOLER), rather than at least every 6 months (`MH-LOLER-LAPSED`,
    /// `MH-LOLER-INTERVAL`).
    pub written_scheme: Option<bool>,
    /// Who examined it.
    pub examined_by: Option<String>,
}

/// One of the child's recorded weights, as `MH-WEIGHT-NEWER` takes them (from the child's
/// `weights[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightReading {
    /// Integer tenths of a kg.
    pub value_kg: i64,
    /// When measured.
    pub measured_on: NaiveDate,
}
