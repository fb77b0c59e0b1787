//! The child record (`homevisit/child`, DOMAIN.md §3.2): identity, GP and education (which
//! eligibility reads), address, carers, siblings, weights and alerts.
//!
//! Layout follows docs/DOCUMENT-LAYOUT.md: weights in integer tenths of a kg, dates as ISO
//! strings, carers/siblings/weights/alerts as item maps. Fields a person may not have filled
//! in yet are `Option`s: drafts always save, and the rules report what is missing.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    common::{item_list, live, Envelope, Item, Record, Schema},
    visit::{Safeguarding, SafeguardingConcern, SafeguardingStatus, Visit},
};
use crate::{
    ids::RecordId,
    rules::{config::LeapDayBirthday, dates, nhs},
};

/// A child on the team's caseload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Child {
    /// The common envelope (no `child_id`: this is the child), at the document root.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Ten digits without spaces (`CH-NHS-FORMAT`, `CH-NHS-CHECK`, `CH-NHS-PATTERN`);
    /// shown `943 476 5919`.
    pub nhs_number: Option<String>,
    /// True only once the number has been traced nationally.
    #[serde(default)]
    pub nhs_number_verified: bool,
    /// Given name, 1–100 characters.
    pub given_name: Option<String>,
    /// Family name, 1–100 characters.
    pub family_name: Option<String>,
    /// The name the child likes to be called, optional.
    pub preferred_name: Option<String>,
    /// Date of birth: not in the future, at most 26 years ago (WARN above age 19).
    pub date_of_birth: Option<NaiveDate>,
    /// FHIR administrative gender.
    pub gender: Option<Gender>,
    /// GP practice name, optional.
    pub gp_practice_name: Option<String>,
    /// GP practice code, optional.
    pub gp_practice_code: Option<String>,
    /// Where the GP practice is (`H-ELIG-GP`).
    pub gp_area: Option<GpArea>,
    /// The child's education setting (`H-ELIG-AGE`).
    pub education_setting: Option<EducationSetting>,
    /// School name, optional.
    pub school_name: Option<String>,
    /// Home address.
    pub address: Option<Address>,
    /// The local authority the child lives in (read by `sc_require_luton_residence`).
    pub local_authority: Option<LocalAuthority>,
    /// Carers (at least one is needed to sign an assessment).
    #[serde(default, with = "item_list")]
    pub carers: Vec<Item<Carer>>,
    /// Siblings.
    #[serde(default, with = "item_list")]
    pub siblings: Vec<Item<Sibling>>,
    /// Every weight recorded anywhere for this child.
    #[serde(default, with = "item_list")]
    pub weights: Vec<Item<WeightEntry>>,
    /// Alerts shown on the visit banner (dogs, lone working…).
    #[serde(default, with = "item_list")]
    pub alerts: Vec<Item<Alert>>,
    /// Consent to share information.
    pub info_sharing_consent: Option<InfoSharingConsent>,
    /// Date of death, if the child has died (DOB ≤ d ≤ today; drives retention).
    pub deceased_on: Option<NaiveDate>,
    /// Visits and their outcomes (DOMAIN.md §3.7, `CH-VISIT-MISSED`).
    #[serde(default, with = "item_list")]
    pub visits: Vec<Item<Visit>>,
    /// Safeguarding status and the allocated social worker (§3.7), on every record's banner.
    pub safeguarding: Option<Safeguarding>,
    /// Safeguarding concerns raised: what, to whom, when, reference (§3.7).
    #[serde(default, with = "item_list")]
    pub safeguarding_concerns: Vec<Item<SafeguardingConcern>>,
}

impl Record for Child {
    const SCHEMA: Schema = Schema::Child;
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl Child {
    /// A blank child in the given envelope; everything else is filled in later.
    pub fn new(envelope: Envelope) -> Self {
        Self {
            envelope,
            nhs_number: None,
            nhs_number_verified: false,
            given_name: None,
            family_name: None,
            preferred_name: None,
            date_of_birth: None,
            gender: None,
            gp_practice_name: None,
            gp_practice_code: None,
            gp_area: None,
            education_setting: None,
            school_name: None,
            address: None,
            local_authority: None,
            carers: Vec::new(),
            siblings: Vec::new(),
            weights: Vec::new(),
            alerts: Vec::new(),
            info_sharing_consent: None,
            deceased_on: None,
            visits: Vec::new(),
            safeguarding: None,
            safeguarding_concerns: Vec::new(),
        }
    }

    /// The record's id.
    pub fn id(&self) -> RecordId {
        self.envelope.id
    }

    /// Age in completed years on local date `d` (§2.5), when the DOB is known.
    pub fn age_on(&self, d: NaiveDate, leap: LeapDayBirthday) -> Option<i32> {
        self.date_of_birth.map(|dob| dates::age(dob, d, leap))
    }

    /// The NHS number as shown to people (`943 476 5919`); a malformed one is shown as stored.
    pub fn nhs_number_display(&self) -> Option<String> {
        self.nhs_number
            .as_deref()
            .map(|n| nhs::format(n).unwrap_or_else(|| n.to_owned()))
    }

    /// The most recent weight that has not been removed: latest `measured_on`, then the one
    /// added last. This is the weight M&H and equipment rules compare against.
    pub fn latest_weight(&self) -> Option<&Item<WeightEntry>> {
        live(&self.weights).max_by_key(|w| (w.data.measured_on, w.added_at, w.item_id))
    }

    /// The safeguarding status, `Unknown` when never set (§3.7).
    pub fn safeguarding_status(&self) -> SafeguardingStatus {
        self.safeguarding
            .as_ref()
            .and_then(|s| s.status)
            .unwrap_or(SafeguardingStatus::Unknown)
    }

    /// Whether at least one carer is recorded (needed to sign an assessment, §3.2).
    pub fn has_carer(&self) -> bool {
        live(&self.carers).next().is_some()
    }
}

/// FHIR administrative gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Unknown.
    Unknown,
}

/// Where the child's GP practice is (`H-ELIG-GP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpArea {
    /// A Luton practice.
    Luton,
    /// A Bedfordshire practice (Bedford Borough and Central Bedfordshire).
    Bedfordshire,
    /// Anywhere else, Milton Keynes included.
    Other,
    /// Not known yet.
    Unknown,
}

/// The child's education setting (`H-ELIG-AGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationSetting {
    /// Nursery or other early-years setting.
    EarlyYears,
    /// Mainstream school or college.
    Mainstream,
    /// Specialist provision.
    Specialist,
    /// Educated at home.
    HomeEducated,
    /// Not in education.
    NotInEducation,
    /// Something else.
    Other,
    /// Not known yet.
    Unknown,
}

/// The local authority the child lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAuthority {
    /// Luton Borough Council.
    Luton,
    /// Bedford Borough Council.
    BedfordBorough,
    /// Central Bedfordshire Council.
    CentralBedfordshire,
    /// Elsewhere.
    Other,
}

/// A postal address. The postcode is stored upper-cased with one space
/// (`rules::child::normalise_postcode`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Street lines, in order.
    #[serde(default)]
    pub lines: Vec<String>,
    /// Town.
    pub town: Option<String>,
    /// Postcode, e.g. `LU1 2AB`.
    pub postcode: Option<String>,
}

/// A carer's relationship to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarerRelationship {
    /// Mother.
    Mother,
    /// Father.
    Father,
    /// Step-parent.
    StepParent,
    /// Grandparent.
    Grandparent,
    /// Foster carer.
    FosterCarer,
    /// Staff of a residential setting.
    ResidentialStaff,
    /// Someone else.
    Other,
}

/// A carer (an item of `carers`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Carer {
    /// Name.
    pub name: Option<String>,
    /// Relationship to the child.
    pub relationship: Option<CarerRelationship>,
    /// Whether they hold parental responsibility.
    pub parental_responsibility: Option<bool>,
    /// Whether they live with the child.
    pub lives_with_child: Option<bool>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A sibling (an item of `siblings`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sibling {
    /// Given name.
    pub given_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Whether they live with the child.
    pub lives_with_child: Option<bool>,
    /// Their own needs, as they bear on the child's care.
    pub needs_note: Option<String>,
}

/// Where a recorded weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightSource {
    /// Weighed during a home visit.
    HomeVisit,
    /// Taken for an M&H risk assessment.
    RiskAssessment,
    /// Taken for an equipment request's measurements.
    EquipmentRequest,
    /// Weighed in clinic.
    Clinic,
    /// Reported by a parent or carer.
    ParentReported,
    /// Another professional's record.
    OtherProfessional,
}

/// A weight (an item of `weights`); every weight recorded anywhere lands here (§3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightEntry {
    /// Body mass in integer tenths of a kg (32.4 kg → 324); hard 0.3–250.0, soft 2.0–120.0.
    pub value_kg: i64,
    /// When it was measured (local date).
    pub measured_on: NaiveDate,
    /// The user who measured or recorded it.
    pub measured_by: Option<Uuid>,
    /// Where it came from.
    pub source: Option<WeightSource>,
    /// The record it was taken for (risk assessment, equipment request…), if any.
    pub source_record_id: Option<RecordId>,
}

/// The kind of an alert on the visit banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Medical.
    Medical,
    /// Behaviour.
    Behaviour,
    /// Home safety (dogs, lone working…).
    HomeSafety,
    /// Anything else.
    Other,
}

/// An alert (an item of `alerts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The kind.
    pub kind: AlertKind,
    /// What the visitor must know.
    #[serde(default)]
    pub text: String,
}

/// The answer to "may we share information?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAnswer {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Not asked yet.
    NotAsked,
}

/// Consent to share information: the answer, who gave it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoSharingConsent {
    /// The answer.
    pub answer: ConsentAnswer,
    /// Who gave (or refused) it.
    pub given_by: Option<String>,
    /// When.
    pub on: Option<NaiveDate>,
}
