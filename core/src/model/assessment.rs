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
    #[serde(default)]
    pub by: Option<ConsentBy>,
    /// When (UTC).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// A person present at the visit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonPresent {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Relationship to the child.
    #[serde(default)]
    pub relationship: Option<String>,
    /// Organisation, for professionals.
    #[serde(default)]
    pub organisation: Option<String>,
}

/// Interpreter use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Interpreter {
    /// Whether one was used.
    #[serde(default)]
    pub used: Option<bool>,
    /// The language.
    #[serde(default)]
    pub language: Option<String>,
}

/// A — the visit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionA {
    /// Visit date; the `as_of` for the form's rules.
    #[serde(default)]
    pub visit_date: Option<NaiveDate>,
    /// Start time.
    #[serde(default)]
    pub start_time: Option<ClockTime>,
    /// End time.
    #[serde(default)]
    pub end_time: Option<ClockTime>,
    /// Where.
    #[serde(default)]
    pub location: Option<VisitLocation>,
    /// People present.
    #[serde(default, with = "item_list")]
    pub people_present: Vec<Item<PersonPresent>>,
    /// Interpreter.
    #[serde(default)]
    pub interpreter: Option<Interpreter>,
    /// Identity checks made.
    #[serde(default, with = "code_set")]
    pub identity_checked: BTreeSet<IdentityCheck>,
    /// Consent.
    #[serde(default)]
    pub consent: Option<Consent>,
}

/// A diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Diagnosis {
    /// As written.
    #[serde(default)]
    pub text: Option<String>,
    /// SNOMED CT concept id, if coded.
    #[serde(default)]
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
    #[serde(default)]
    pub presenting_concerns: Option<String>,
    /// The child's own voice (free text).
    #[serde(default)]
    pub child_views: Option<String>,
    /// How the child's views were recorded (`HV-B-VOICE`): given, non-verbal and observed, or
    /// declined.
    #[serde(default)]
    pub child_views_mode: Option<ChildViewsMode>,
    /// How non-verbal views were observed (free text).
    #[serde(default)]
    pub child_views_observed_how: Option<String>,
    /// Communication (free text).
    #[serde(default)]
    pub communication: Option<String>,
    /// Function compared with development; informs `H-ELIG-NEED`.
    #[serde(default)]
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
    #[serde(default)]
    pub level: Option<IndependenceLevel>,
    /// Whether it is in line with development.
    #[serde(default)]
    pub in_line_with_development: Option<YesNoUnsure>,
    /// Equipment used.
    #[serde(default)]
    pub equipment_used: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// The nine areas of section C.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Areas {
    /// Play.
    #[serde(default)]
    pub play: Option<AreaAssessment>,
    /// Eating and drinking.
    #[serde(default)]
    pub eating_drinking: Option<AreaAssessment>,
    /// Washing and bathing.
    #[serde(default)]
    pub washing_bathing: Option<AreaAssessment>,
    /// Teeth.
    #[serde(default)]
    pub teeth: Option<AreaAssessment>,
    /// Toileting.
    #[serde(default)]
    pub toileting: Option<AreaAssessment>,
    /// Dressing.
    #[serde(default)]
    pub dressing: Option<AreaAssessment>,
    /// School and life skills.
    #[serde(default)]
    pub school_life_skills: Option<AreaAssessment>,
    /// Managing at school.
    #[serde(default)]
    pub managing_at_school: Option<AreaAssessment>,
    /// Mobility and transfers.
    #[serde(default)]
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
    #[serde(default)]
    pub count: Option<i64>,
    /// Highest riser, mm (10–400; usually 75–220); required when `count` > 0.
    #[serde(default)]
    pub riser_max_mm: Option<i64>,
}

/// A measured door.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DoorWidth {
    /// Which door.
    #[serde(default)]
    pub location: Option<String>,
    /// Narrowest clear opening, mm.
    #[serde(default)]
    pub clear_width_mm: Option<i64>,
}

/// Internal stairs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InternalStairs {
    /// How many steps (0–40; usually 0–20).
    #[serde(default)]
    pub count: Option<i64>,
    /// Whether a stairlift is fitted.
    #[serde(default)]
    pub stairlift: Option<bool>,
}

/// D — home environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionD {
    /// Property type.
    #[serde(default)]
    pub property_type: Option<PropertyType>,
    /// Tenure.
    #[serde(default)]
    pub tenure: Option<Tenure>,
    /// Entrance steps.
    #[serde(default)]
    pub entrance_steps: Option<EntranceSteps>,
    /// Door widths.
    #[serde(default, with = "item_list")]
    pub door_widths: Vec<Item<DoorWidth>>,
    /// Internal stairs.
    #[serde(default)]
    pub internal_stairs: Option<InternalStairs>,
    /// Bedroom floor.
    #[serde(default)]
    pub bedroom_level: Option<FloorLevel>,
    /// Bathroom floor.
    #[serde(default)]
    pub bathroom_level: Option<FloorLevel>,
    /// Toilet floor.
    #[serde(default)]
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
    #[serde(default)]
    pub seating_need: Option<bool>,
    /// Sitting ability.
    #[serde(default)]
    pub sitting_ability: Option<SittingAbility>,
    /// Purposes.
    #[serde(default, with = "code_set")]
    pub purposes: BTreeSet<SeatingPurpose>,
    /// Postural risks.
    #[serde(default, with = "code_set")]
    pub postural_risks: BTreeSet<PosturalRisk>,
    /// Tilt in space, degrees (−10–60; usually 0–30).
    #[serde(default)]
    pub tilt_in_space_deg: Option<i64>,
    /// Seat-to-back angle, degrees (60–180; usually 80–120).
    #[serde(default)]
    pub seat_to_back_angle_deg: Option<i64>,
    /// Current seating (free text).
    #[serde(default)]
    pub current_seating: Option<String>,
    /// Recommendation (free text).
    #[serde(default)]
    pub recommendation: Option<String>,
}

/// F — moving and handling.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionF {
    /// Whether there is an M&H concern.
    #[serde(default)]
    pub mh_concern: Option<bool>,
    /// Carers required (0–4; usually 0–2); required with a concern.
    #[serde(default)]
    pub carers_required: Option<i64>,
    /// Linked M&H risk assessments (a set of record ids).
    #[serde(default, with = "code_set")]
    pub risk_assessment_ids: BTreeSet<Uuid>,
    /// When a risk assessment is planned, if none is linked yet.
    #[serde(default)]
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
    #[serde(default)]
    pub setting: Option<SharedCareSetting>,
    /// Number of carers there.
    #[serde(default)]
    pub carer_count: Option<i64>,
    /// Whether the M&H plan has been shared with them.
    #[serde(default)]
    pub mh_plan_shared: Option<bool>,
}

/// G — shared care.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionG {
    /// Shared-care arrangements.
    #[serde(default, with = "item_list")]
    pub shared_care: Vec<Item<SharedCare>>,
    /// Whether siblings help with care.
    #[serde(default)]
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
    #[serde(default)]
    pub child: Option<RiskLevel>,
    /// Carers.
    #[serde(default)]
    pub carers: Option<RiskLevel>,
    /// Siblings.
    #[serde(default)]
    pub siblings: Option<RiskLevel>,
}

/// H — behaviour and safeguarding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionH {
    /// Whether there is a behaviour concern.
    #[serde(default)]
    pub behaviour_concern: Option<bool>,
    /// Risk levels; required with a concern.
    #[serde(default)]
    pub risk_to: Option<RiskTo>,
    /// Teams that have addressed the behaviour (`S-BEHAVIOUR-GATE`).
    #[serde(default, with = "code_set")]
    pub behaviour_addressed_by: BTreeSet<BehaviourTeam>,
    /// Behaviour assessment (free text).
    #[serde(default)]
    pub behaviour_assessment: Option<String>,
    /// Whether a safeguarding concern was raised.
    #[serde(default)]
    pub safeguarding_raised: Option<bool>,
    /// The safeguarding reference (details stay in safeguarding systems).
    #[serde(default)]
    pub safeguarding_reference: Option<String>,
}

/// A goal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Goal {
    /// The goal (free text).
    #[serde(default)]
    pub text: Option<String>,
    /// Who owns it.
    #[serde(default)]
    pub owner: Option<String>,
    /// Target date.
    #[serde(default)]
    pub target_date: Option<NaiveDate>,
    /// How it is measured.
    #[serde(default)]
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
    #[serde(default)]
    pub kind: Option<RecommendationKind>,
    /// What is recommended (free text).
    #[serde(default)]
    pub text: Option<String>,
    /// The equipment request it led to, if any.
    #[serde(default)]
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
    #[serde(default)]
    pub next_review_on: Option<NaiveDate>,
}

/// J — signature, countersignature, addenda (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionJ {
    /// The signature.
    #[serde(default)]
    pub signature: Option<Signature>,
    /// The countersignature an AP's signature needs.
    #[serde(default)]
    pub countersignature: Option<Countersignature>,
    /// Addenda after signing.
    #[serde(default, with = "item_list")]
    pub addenda: Vec<Item<Addendum>>,
}
