//! The home-visit assessment, sections A–J (DOMAIN.md §3.4). Fields sit under
//! `sections.A` … `sections.J` so that a field path reads
//! `sections.D.entrance_steps.riser_max_mm` (docs/DOCUMENT-LAYOUT.md).
//!
//! Drafts may be incomplete, so nearly every field is optional; what is required at sign is
//! checked by `rules::assessment`.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    code_set, item_list, sign_state, Addendum, BehaviourTeam, ClockTime, Countersignature,
    Envelope, Item, Record, Schema, SignState, Signature, YesNoUnsure,
};

/// A home-visit assessment record (`homevisit/assessment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The common envelope (id, team, child, status, acks), at the document root.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Sections A–J.
    #[serde(default)]
    pub sections: Sections,
}

impl Record for Assessment {
    const SCHEMA: Schema = Schema::Assessment;
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl Assessment {
    /// Where the form stands: draft, signed, awaiting countersignature, countersigned or
    /// entered in error (derived, never stored).
    pub fn sign_state(&self) -> SignState {
        let j = &self.sections.j;
        sign_state(
            &self.envelope.record_status,
            j.signature.as_ref(),
            j.countersignature.as_ref(),
        )
    }
}

/// Path of the signature inside an assessment document.
pub const SIGNATURE_PATH: &str = "sections.J.signature";

/// The ten sections of the form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sections {
    /// A — the visit.
    #[serde(rename = "A", default)]
    pub a: SectionA,
    /// B — background.
    #[serde(rename = "B", default)]
    pub b: SectionB,
    /// C — daily-living areas.
    #[serde(rename = "C", default)]
    pub c: SectionC,
    /// D — home environment.
    #[serde(rename = "D", default)]
    pub d: SectionD,
    /// E — posture and seating.
    #[serde(rename = "E", default)]
    pub e: SectionE,
    /// F — moving and handling.
    #[serde(rename = "F", default)]
    pub f: SectionF,
    /// G — shared care.
    #[serde(rename = "G", default)]
    pub g: SectionG,
    /// H — behaviour and safeguarding.
    #[serde(rename = "H", default)]
    pub h: SectionH,
    /// I — goals and recommendations.
    #[serde(rename = "I", default)]
    pub i: SectionI,
    /// J — signature, countersignature, addenda.
    #[serde(rename = "J", default)]
    pub j: SectionJ,
}

/// How the child's views were recorded (`HV-B-VOICE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildViewsMode {
    /// The child gave their views (in `child_views`).
    Given,
    /// Non-verbal: views observed (how, in `child_views_observed_how`).
    NonVerbalObserved,
    /// The child declined to give views.
    Declined,
}

/// Where the visit took place (`S-HOME-VISIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitLocation {
    /// The child's home.
    ChildHome,
    /// School.
    School,
    /// Redgrave Children and Young People's Centre.
    ClinicRedgrave,
    /// Kempston Child Development Centre.
    ClinicKempston,
    /// A respite setting.
    RespiteSetting,
    /// Elsewhere.
    Other,
}

/// An identity check made at the visit (`HV-A-IDENTITY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheck {
    /// Name.
    Name,
    /// Date of birth.
    Dob,
    /// NHS number.
    NhsNumber,
    /// Address.
    Address,
}

/// What consent covers (`HV-A-CONSENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    /// The assessment itself.
    Assessment,
    /// Photographs.
    Photos,
    /// Sharing information.
    InformationSharing,
}

/// Who gave consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentBy {
    /// A person with parental responsibility.
    ParentalResponsibility,
    /// A young person aged 16 or over.
    YoungPerson16Plus,
    /// A competent child.
    CompetentChild,
    /// The local authority or a court.
    LocalAuthorityOrCourt,
}

/// Consent for the visit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    /// What it covers.
    #[serde(default, with = "code_set")]
    pub scope: BTreeSet<ConsentScope>,
    /// Who gave it.
    pub by: Option<ConsentBy>,
    /// When (UTC).
    pub at: Option<DateTime<Utc>>,
}

/// A person present at the visit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonPresent {
    /// Name.
    pub name: Option<String>,
    /// Relationship to the child.
    pub relationship: Option<String>,
    /// Organisation, for professionals.
    pub organisation: Option<String>,
}

/// Interpreter use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Interpreter {
    /// Whether one was used.
    pub used: Option<bool>,
    /// The language.
    pub language: Option<String>,
}

/// A — the visit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionA {
    /// Visit date; the `as_of` for the form's rules.
    pub visit_date: Option<NaiveDate>,
    /// Start time.
    pub start_time: Option<ClockTime>,
    /// End time.
    pub end_time: Option<ClockTime>,
    /// Where.
    pub location: Option<VisitLocation>,
    /// People present.
    #[serde(default, with = "item_list")]
    pub people_present: Vec<Item<PersonPresent>>,
    /// Interpreter.
    pub interpreter: Option<Interpreter>,
    /// Identity checks made.
    #[serde(default, with = "code_set")]
    pub identity_checked: BTreeSet<IdentityCheck>,
    /// Consent.
    pub consent: Option<Consent>,
}

/// A diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Diagnosis {
    /// As written.
    pub text: Option<String>,
    /// SNOMED CT concept id, if coded.
    pub snomed_code: Option<String>,
}

/// Function compared with development.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionVsDevelopment {
    /// Function is not in line with development.
    NotInLine,
    /// In line.
    InLine,
    /// Unsure.
    Unsure,
}

/// B — background.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionB {
    /// Diagnoses.
    #[serde(default, with = "item_list")]
    pub diagnoses: Vec<Item<Diagnosis>>,
    /// Presenting concerns (free text).
    pub presenting_concerns: Option<String>,
    /// The child's own voice (free text).
    pub child_views: Option<String>,
    /// How the child's views were recorded (`HV-B-VOICE`): given, non-verbal and observed, or
    /// declined.
    pub child_views_mode: Option<ChildViewsMode>,
    /// How non-verbal views were observed (free text).
    pub child_views_observed_how: Option<String>,
    /// Communication (free text).
    pub communication: Option<String>,
    /// Function compared with development; informs `H-ELIG-NEED`.
    pub function_vs_development: Option<FunctionVsDevelopment>,
}

/// The independence scale of section C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndependenceLevel {
    /// Independent.
    Independent,
    /// Independent with equipment.
    IndependentWithEquipment,
    /// Supervision or prompts.
    SupervisionOrPrompts,
    /// Some assistance.
    SomeAssistance,
    /// Full assistance.
    FullAssistance,
    /// Not expected for the child's age.
    NotExpectedForAge,
    /// Not assessed.
    NotAssessed,
}

/// One daily-living area.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AreaAssessment {
    /// Level on the independence scale (`HV-C-AREAS`).
    pub level: Option<IndependenceLevel>,
    /// Whether it is in line with development.
    pub in_line_with_development: Option<YesNoUnsure>,
    /// Equipment used.
    pub equipment_used: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// The nine areas of section C.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Areas {
    /// Play.
    pub play: Option<AreaAssessment>,
    /// Eating and drinking.
    pub eating_drinking: Option<AreaAssessment>,
    /// Washing and bathing.
    pub washing_bathing: Option<AreaAssessment>,
    /// Teeth.
    pub teeth: Option<AreaAssessment>,
    /// Toileting.
    pub toileting: Option<AreaAssessment>,
    /// Dressing.
    pub dressing: Option<AreaAssessment>,
    /// School and life skills.
    pub school_life_skills: Option<AreaAssessment>,
    /// Managing at school.
    pub managing_at_school: Option<AreaAssessment>,
    /// Mobility and transfers.
    pub mobility_transfers: Option<AreaAssessment>,
}

impl Areas {
    /// Every area with its field name, in form order.
    pub fn all(&self) -> [(&'static str, Option<&AreaAssessment>); 9] {
        [
            ("play", self.play.as_ref()),
            ("eating_drinking", self.eating_drinking.as_ref()),
            ("washing_bathing", self.washing_bathing.as_ref()),
            ("teeth", self.teeth.as_ref()),
            ("toileting", self.toileting.as_ref()),
            ("dressing", self.dressing.as_ref()),
            ("school_life_skills", self.school_life_skills.as_ref()),
            ("managing_at_school", self.managing_at_school.as_ref()),
            ("mobility_transfers", self.mobility_transfers.as_ref()),
        ]
    }
}

/// C — daily-living areas.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SectionC {
    /// The nine areas.
    #[serde(default)]
    pub areas: Areas,
}

/// Property type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    /// House.
    House,
    /// Bungalow.
    Bungalow,
    /// Ground-floor flat.
    FlatGround,
    /// Upper-floor flat.
    FlatUpper,
    /// Maisonette.
    Maisonette,
}

/// Tenure (matters for DFG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tenure {
    /// Owner-occupied.
    Owner,
    /// Council.
    Council,
    /// Housing association.
    HousingAssociation,
    /// Private rent.
    PrivateRent,
    /// Other.
    Other,
}

/// Floor a room is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorLevel {
    /// Ground floor.
    Ground,
    /// First floor.
    First,
    /// Other.
    Other,
}

/// Areas of the home with access problems (feeds `S-NEED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessArea {
    /// Getting into the home.
    HomeEntry,
    /// Bedroom.
    Bedroom,
    /// Toilet.
    Toilet,
    /// Washing.
    Washing,
}

/// Entrance steps.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntranceSteps {
    /// How many (0–50; usually 0–10).
    pub count: Option<i64>,
    /// Highest riser, mm (10–400; usually 75–220); required when `count` > 0.
    pub riser_max_mm: Option<i64>,
}

/// A measured door.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DoorWidth {
    /// Which door.
    pub location: Option<String>,
    /// Narrowest clear opening, mm.
    pub clear_width_mm: Option<i64>,
}

/// Internal stairs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InternalStairs {
    /// How many steps (0–40; usually 0–20).
    pub count: Option<i64>,
    /// Whether a stairlift is fitted.
    pub stairlift: Option<bool>,
}

/// D — home environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionD {
    /// Property type.
    pub property_type: Option<PropertyType>,
    /// Tenure.
    pub tenure: Option<Tenure>,
    /// Entrance steps.
    pub entrance_steps: Option<EntranceSteps>,
    /// Door widths.
    #[serde(default, with = "item_list")]
    pub door_widths: Vec<Item<DoorWidth>>,
    /// Internal stairs.
    pub internal_stairs: Option<InternalStairs>,
    /// Bedroom floor.
    pub bedroom_level: Option<FloorLevel>,
    /// Bathroom floor.
    pub bathroom_level: Option<FloorLevel>,
    /// Toilet floor.
    pub toilet_level: Option<FloorLevel>,
    /// Access problems; `Some(empty)` is an answered "none", `None` unanswered.
    #[serde(default, with = "code_set::option")]
    pub access_issues: Option<BTreeSet<AccessArea>>,
}

/// Sitting ability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SittingAbility {
    /// Unable to sit.
    Unable,
    /// Needs full support.
    NeedsFullSupport,
    /// Needs trunk support.
    NeedsTrunkSupport,
    /// Sits using hands for support.
    HandsDependent,
    /// Sits hands-free.
    HandsFree,
}

/// Purpose of postural seating (`HV-E-PURPOSE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatingPurpose {
    /// Better chance to develop and reach milestones.
    Milestones,
    /// Lower risk of contractures, spinal curvature, aspiration, reflux.
    PosturalAlignment,
}

/// Postural risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PosturalRisk {
    /// Contractures.
    Contractures,
    /// Spinal curvature.
    SpinalCurvature,
    /// Aspiration.
    Aspiration,
    /// Reflux.
    Reflux,
}

/// E — posture and seating.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionE {
    /// Whether there is a seating need; the rest of E is required when true.
    pub seating_need: Option<bool>,
    /// Sitting ability.
    pub sitting_ability: Option<SittingAbility>,
    /// Purposes.
    #[serde(default, with = "code_set")]
    pub purposes: BTreeSet<SeatingPurpose>,
    /// Postural risks.
    #[serde(default, with = "code_set")]
    pub postural_risks: BTreeSet<PosturalRisk>,
    /// Tilt in space, degrees (−10–60; usually 0–30).
    pub tilt_in_space_deg: Option<i64>,
    /// Seat-to-back angle, degrees (60–180; usually 80–120).
    pub seat_to_back_angle_deg: Option<i64>,
    /// Current seating (free text).
    pub current_seating: Option<String>,
    /// Recommendation (free text).
    pub recommendation: Option<String>,
}

/// F — moving and handling.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionF {
    /// Whether there is an M&H concern.
    pub mh_concern: Option<bool>,
    /// Carers required (0–4; usually 0–2); required with a concern.
    pub carers_required: Option<i64>,
    /// Linked M&H risk assessments (a set of record ids).
    #[serde(default, with = "code_set")]
    pub risk_assessment_ids: BTreeSet<Uuid>,
    /// When a risk assessment is planned, if none is linked yet.
    pub risk_assessment_planned_on: Option<NaiveDate>,
}

/// A shared-care setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedCareSetting {
    /// Respite.
    Respite,
    /// Short breaks.
    ShortBreaks,
    /// School.
    School,
    /// Another household.
    OtherHousehold,
    /// Other.
    Other,
}

/// One shared-care arrangement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SharedCare {
    /// Setting.
    pub setting: Option<SharedCareSetting>,
    /// Number of carers there.
    pub carer_count: Option<i64>,
    /// Whether the M&H plan has been shared with them.
    pub mh_plan_shared: Option<bool>,
}

/// G — shared care.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionG {
    /// Shared-care arrangements.
    #[serde(default, with = "item_list")]
    pub shared_care: Vec<Item<SharedCare>>,
    /// Whether siblings help with care.
    pub young_carers: Option<bool>,
}

/// A behaviour risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// None.
    None,
    /// Low.
    Low,
    /// Significant.
    Significant,
    /// High.
    High,
}

/// Who behaviour puts at risk, and how much.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskTo {
    /// The child.
    pub child: Option<RiskLevel>,
    /// Carers.
    pub carers: Option<RiskLevel>,
    /// Siblings.
    pub siblings: Option<RiskLevel>,
}

/// H — behaviour and safeguarding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionH {
    /// Whether there is a behaviour concern.
    pub behaviour_concern: Option<bool>,
    /// Risk levels; required with a concern.
    pub risk_to: Option<RiskTo>,
    /// Teams that have addressed the behaviour (`S-BEHAVIOUR-GATE`).
    #[serde(default, with = "code_set")]
    pub behaviour_addressed_by: BTreeSet<BehaviourTeam>,
    /// Behaviour assessment (free text).
    pub behaviour_assessment: Option<String>,
    /// Whether a safeguarding concern was raised.
    pub safeguarding_raised: Option<bool>,
    /// The safeguarding reference (details stay in safeguarding systems).
    pub safeguarding_reference: Option<String>,
}

/// A goal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Goal {
    /// The goal (free text).
    pub text: Option<String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// Target date.
    pub target_date: Option<NaiveDate>,
    /// How it is measured.
    pub measure: Option<String>,
}

/// A kind of recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    /// Equipment.
    Equipment,
    /// Minor adaptation.
    MinorAdaptation,
    /// Disabled Facilities Grant.
    Dfg,
    /// Advice.
    Advice,
    /// Training.
    Training,
    /// Onward referral.
    OnwardReferral,
    /// Graduated offer.
    GraduatedOffer,
}

/// A recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recommendation {
    /// Kind.
    pub kind: Option<RecommendationKind>,
    /// What is recommended (free text).
    pub text: Option<String>,
    /// The equipment request it led to, if any.
    pub linked_request_id: Option<Uuid>,
}

/// I — goals and recommendations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionI {
    /// Goals.
    #[serde(default, with = "item_list")]
    pub goals: Vec<Item<Goal>>,
    /// Recommendations (at least one at sign).
    #[serde(default, with = "item_list")]
    pub recommendations: Vec<Item<Recommendation>>,
    /// Next review (`HV-I-REVIEW`).
    pub next_review_on: Option<NaiveDate>,
}

/// J — signature, countersignature, addenda (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionJ {
    /// The signature.
    pub signature: Option<Signature>,
    /// The countersignature an AP's signature needs.
    pub countersignature: Option<Countersignature>,
    /// Addenda after signing.
    #[serde(default, with = "item_list")]
    pub addenda: Vec<Item<Addendum>>,
}
