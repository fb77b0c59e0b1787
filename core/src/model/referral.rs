//! The referral record (`homevisit/referral`, DOMAIN.md §3.3) and the eligibility outcome it
//! stores (§2.2).
//!
//! Reasons, areas, purposes and teams are code sets (`code → true` in the document); the
//! eligibility snapshot is a derived value, recomputed by `rules::eligibility`, never merged.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    assessment::{AccessArea, RiskLevel, SeatingPurpose},
    common::{code_set, BehaviourTeam, Envelope, Record, Schema, Service, YesNo},
};

/// A referral of a child to one of the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// The common envelope (with `child_id`), at the document root.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The service referred to.
    pub service: Option<Service>,
    /// When the referral was received (DOB ≤ d ≤ today); the default triage `as_of`.
    pub received_on: Option<NaiveDate>,
    /// How the referral arrived (§2.3).
    pub route: Option<ReferralRoute>,
    /// Who referred.
    #[serde(default)]
    pub referrer: Referrer,
    /// What the referral asks for (§2.6, §2.7).
    #[serde(default, with = "code_set")]
    pub reasons: BTreeSet<ReasonCode>,
    /// Health: everyday skills not in line with overall developmental abilities
    /// (`H-ELIG-NEED`).
    pub functional_difficulty: Option<YesNo>,
    /// Social care: a permanent and substantial disability (`S-ELIG-DISABILITY`).
    pub permanent_substantial_disability: Option<YesNo>,
    /// Social care: the kinds of disability.
    #[serde(default, with = "code_set")]
    pub disability_types: BTreeSet<DisabilityType>,
    /// Social care, with `home_access`: the areas of the home.
    #[serde(default, with = "code_set")]
    pub access_areas: BTreeSet<AccessArea>,
    /// Social care, with `postural_seating_home`: what the seating is for.
    #[serde(default, with = "code_set")]
    pub postural_purposes: BTreeSet<SeatingPurpose>,
    /// Social care, with `behaviour_risk_home`: the risk of injury to the child or carers.
    pub behaviour_risk_level: Option<RiskLevel>,
    /// Social care, with `behaviour_risk_home`: whether siblings' needs are affected.
    pub siblings_needs_affected: Option<bool>,
    /// The teams that have addressed the behaviour (`S-BEHAVIOUR-GATE`).
    #[serde(default, with = "code_set")]
    pub behaviour_addressed_by: BTreeSet<BehaviourTeam>,
    /// The last eligibility evaluation, refreshed when an input changes.
    pub eligibility: Option<EligibilitySnapshot>,
    /// What was done with the referral.
    pub disposition: Option<Disposition>,
    /// When the episode ended (received_on ≤ d ≤ today); drives retention.
    pub closed_on: Option<NaiveDate>,
    /// Why the episode ended.
    pub closure_reason: Option<String>,
    /// Health: the tier of the graduated offer an accepted referral receives (`H-OFFER-TIER`).
    pub outcome_tier: Option<OfferTier>,
    /// An outcome accepted outside the criteria as a recorded exception (`RK-ELIG-OVERRIDE`).
    pub eligibility_override: Option<EligibilityOverride>,
}

/// The tiers of the health service's graduated offer (DOMAIN.md §2.1, `H-OFFER-TIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferTier {
    /// Universal: information and resources for everyone.
    Universal,
    /// Targeted: groups, training and advice for those who need more.
    Targeted,
    /// Specialist: individual assessment and intervention.
    Specialist,
}

/// A referral accepted outside the criteria (`RK-ELIG-OVERRIDE`): who, in what role, why and
/// when. Shown as "accepted by exception" wherever the referral is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityOverride {
    /// Who accepted it.
    pub by: Uuid,
    /// Their role.
    pub role: crate::model::user::Role,
    /// Why (1–500 characters).
    pub reason: String,
    /// The local date of the decision.
    pub on: NaiveDate,
    /// When it was recorded (UTC).
    pub at: DateTime<Utc>,
}

impl Record for Referral {
    const SCHEMA: Schema = Schema::Referral;
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl Referral {
    /// A blank referral in the given envelope.
    pub fn new(envelope: Envelope) -> Self {
        Self {
            envelope,
            service: None,
            received_on: None,
            route: None,
            referrer: Referrer::default(),
            reasons: BTreeSet::new(),
            functional_difficulty: None,
            permanent_substantial_disability: None,
            disability_types: BTreeSet::new(),
            access_areas: BTreeSet::new(),
            postural_purposes: BTreeSet::new(),
            behaviour_risk_level: None,
            siblings_needs_affected: None,
            behaviour_addressed_by: BTreeSet::new(),
            eligibility: None,
            disposition: None,
            closed_on: None,
            closure_reason: None,
            outcome_tier: None,
            eligibility_override: None,
        }
    }

    /// Whether the episode is still open (no `closed_on`): nothing is disposed of while it is
    /// (`RK-RETENTION`).
    pub fn is_open(&self) -> bool {
        self.closed_on.is_none()
    }
}

/// How a referral arrived (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralRoute {
    /// Straight from a professional.
    DirectProfessional,
    /// Through the Family Partnership Service (the social-care route).
    FamilyPartnershipService,
    /// From the child or family themselves.
    SelfOrFamily,
}

/// The referrer's role (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerRole {
    /// Paediatrician.
    Paediatrician,
    /// GP.
    Gp,
    /// Health visitor.
    HealthVisitor,
    /// Community nurse.
    CommunityNurse,
    /// School nurse.
    SchoolNurse,
    /// Physiotherapist.
    Physiotherapist,
    /// Speech and language therapist.
    SpeechAndLanguageTherapist,
    /// Another health professional.
    OtherHealthProfessional,
    /// Special educational needs co-ordinator.
    Senco,
    /// Teacher.
    Teacher,
    /// Other school staff.
    OtherSchoolStaff,
    /// Social worker.
    SocialWorker,
    /// Another professional (needs `role_text`).
    OtherProfessional,
    /// Parent or carer.
    ParentCarer,
    /// The young person themselves.
    YoungPersonSelf,
}

/// The category of a referrer role (§2.3), which the source rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferrerCategory {
    /// Health professionals.
    Health,
    /// School staff.
    Education,
    /// Social workers.
    SocialCare,
    /// Other professionals.
    Other,
    /// The child or family.
    Family,
}

impl ReferrerRole {
    /// The role's category (§2.3).
    pub fn category(self) -> ReferrerCategory {
        use ReferrerRole::*;
        match self {
            Paediatrician
            | Gp
            | HealthVisitor
            | CommunityNurse
            | SchoolNurse
            | Physiotherapist
            | SpeechAndLanguageTherapist
            | OtherHealthProfessional => ReferrerCategory::Health,
            Senco | Teacher | OtherSchoolStaff => ReferrerCategory::Education,
            SocialWorker => ReferrerCategory::SocialCare,
            OtherProfessional => ReferrerCategory::Other,
            ParentCarer | YoungPersonSelf => ReferrerCategory::Family,
        }
    }
}

/// Who referred the child.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Referrer {
    /// Their role (§2.3).
    pub role: Option<ReferrerRole>,
    /// What the role is, for `other_professional`.
    pub role_text: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Organisation.
    pub organisation: Option<String>,
    /// How to contact them.
    pub contact: Option<String>,
    /// Whether they know the child well (`H-REF-SOURCE`).
    pub knows_child_well: Option<bool>,
}

/// A reason for referral (§2.6 health codes, §2.7 social-care needs), one code set for both
/// services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Health, functional: play.
    Play,
    /// Health, functional: eating.
    Eating,
    /// Health, functional: washing, teeth, toileting.
    SelfCare,
    /// Health, functional: dressing.
    Dressing,
    /// Health, functional: school and life skills (recording, scissors).
    SchoolLifeSkills,
    /// Health, functional: managing at school (getting around, seating, toilet seats).
    ManagingAtSchool,
    /// Health: sensory differences (`H-EXCL-SENSORY`).
    SensoryDifferences,
    /// Health: a request for Ayres Sensory Integration therapy (`H-EXCL-ASI`).
    AsiTherapyRequest,
    /// Health: a request to comment on an independent OT report (`H-EXCL-IOT`).
    IotReportComment,
    /// Both: a wheelchair assessment (`S-WHEELCHAIR`), never qualifying.
    WheelchairAssessment,
    /// Both: something else, never qualifying.
    Other,
    /// Social care: moving and handling.
    MovingHandling,
    /// Social care: access in the home (with `access_areas`).
    HomeAccess,
    /// Social care: postural seating at home (with `postural_purposes`).
    PosturalSeatingHome,
    /// Social care: assessments for shared carers.
    SharedCare,
    /// Social care: behaviour that puts the child or carers at risk at home.
    BehaviourRiskHome,
    /// Social care: transition of a young person around 16–18.
    Transition,
}

impl ReasonCode {
    /// The health service's functional codes (§2.6); `functional_areas` = reasons ∩ these.
    pub const FUNCTIONAL: [ReasonCode; 6] = [
        ReasonCode::Play,
        ReasonCode::Eating,
        ReasonCode::SelfCare,
        ReasonCode::Dressing,
        ReasonCode::SchoolLifeSkills,
        ReasonCode::ManagingAtSchool,
    ];

    /// Whether this is a health functional code.
    pub fn is_functional(self) -> bool {
        Self::FUNCTIONAL.contains(&self)
    }
}

/// Kinds of disability (social care).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabilityType {
    /// Physical.
    Physical,
    /// Learning.
    Learning,
    /// Sensory.
    Sensory,
    /// Neurodevelopmental.
    Neurodevelopmental,
    /// Other.
    Other,
}

/// What was done with the referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Waiting for missing information.
    AwaitingInformation,
    /// Accepted.
    Accepted,
    /// Not accepted; the referrer was signposted elsewhere.
    NotAcceptedSignposted,
    /// Social care: returned to the Family Partnership Service (`S-INELIGIBLE`).
    ReturnedToFps,
}

/// Where a family or referrer is pointed when (part of) a referral is not taken (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signpost {
    /// The health service's graduated offer on sensory processing (online information,
    /// resource pack, environmental adaptations).
    GraduatedOfferSensory,
    /// Ask a professional who knows the child to refer.
    AskProfessionalToRefer,
    /// The Family Partnership Service.
    FamilyPartnershipService,
    /// The wheelchair service, on its own referral.
    WheelchairService,
    /// The behaviour support teams (`S-BEHAVIOUR-GATE`).
    BehaviourSupportTeams,
    /// The paediatric OT service of the area the child's GP is in (`H-ELIG-GP`).
    OwnAreaService,
    /// Adult OT and social-care services, for a young person past the age limit
    /// (`H-ELIG-AGE`).
    AdultServices,
}

/// A part of a referral the service does not do (§2.2 step 5). It never blocks alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclinedPart {
    /// The rule that declines it, e.g. `H-EXCL-ASI`.
    pub rule_id: String,
    /// One plain sentence, starting with `[RULE-ID]`.
    pub reason: String,
    /// Where to go instead, if anywhere.
    pub signpost: Option<Signpost>,
}

/// The result of an eligibility evaluation (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum EligibilityOutcome {
    /// Every blocking rule passes.
    Eligible {
        /// Parts the service does not do.
        #[serde(default)]
        declined_parts: Vec<DeclinedPart>,
    },
    /// At least one blocking rule fails.
    NotEligible {
        /// The failing rules in canonical (table row) order; social care ends with
        /// `S-INELIGIBLE`.
        rule_ids: Vec<String>,
        /// One plain sentence per rule ID, in the same order.
        reasons: Vec<String>,
        /// Where to go instead, de-duplicated, first kept.
        #[serde(default)]
        signpost: Vec<Signpost>,
        /// Parts the service does not do.
        #[serde(default)]
        declined_parts: Vec<DeclinedPart>,
    },
    /// No rule fails but some input is missing.
    NeedsInformation {
        /// Field paths (`child.education_setting`, `referral.postural_purposes`) in rule
        /// order, without duplicates.
        missing: Vec<String>,
        /// Parts the service does not do.
        #[serde(default)]
        declined_parts: Vec<DeclinedPart>,
    },
}

impl EligibilityOutcome {
    /// The declined parts, whatever the variant.
    pub fn declined_parts(&self) -> &[DeclinedPart] {
        match self {
            EligibilityOutcome::Eligible { declined_parts }
            | EligibilityOutcome::NotEligible { declined_parts, .. }
            | EligibilityOutcome::NeedsInformation { declined_parts, .. } => declined_parts,
        }
    }

    /// The failing rule IDs (empty unless `NotEligible`).
    pub fn rule_ids(&self) -> &[String] {
        match self {
            EligibilityOutcome::NotEligible { rule_ids, .. } => rule_ids,
            _ => &[],
        }
    }

    /// Whether the outcome is `Eligible`.
    pub fn is_eligible(&self) -> bool {
        matches!(self, EligibilityOutcome::Eligible { .. })
    }
}

/// The stored result of an evaluation (§2.2 step 7): the outcome, the date it was evaluated
/// for, the ruleset, and who evaluated it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilitySnapshot {
    /// The outcome.
    pub outcome: EligibilityOutcome,
    /// The local date the rules were evaluated for (`SAF-ELIG-DATE`).
    pub as_of: NaiveDate,
    /// The ruleset version (`crate::RULESET_VERSION`).
    pub ruleset_version: String,
    /// When it was evaluated (UTC).
    pub evaluated_at: DateTime<Utc>,
    /// Who evaluated it.
    pub evaluated_by: Uuid,
}
