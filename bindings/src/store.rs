//! The `Store` object the apps hold: open with path + key + identity, every record task, list
//! queries and observers. Thin: it converts types and errors; the logic is in
//! `homevisit_core::records`.

use std::sync::Arc;

use homevisit_core::{
    doc::FieldAmendment,
    model::visit::SafeguardingStatus as CoreSgStatus,
    model::{equipment::Status, referral::EligibilityOutcome, user::Actor},
    records::{Records, SystemClock},
    rules::visits::missed_visit_message,
    rules::{config::RulesConfig, workflow::TransitionInput},
    store::{CaseloadEntry, RecordSummary, Store as CoreStore, StoreKey, SyncStatus as CoreSync},
};
use serde_json::Value as Json;

use crate::{
    care::SafeguardingStatus,
    codes::{
        EligibilityDecision, EquipmentCategory, EquipmentStatus, RecordSchema, ReviewOutcome, Role,
        Signpost,
    },
    error::{FfiResult, HomeVisitError},
    observe::{
        CaseloadObserver, Dispatcher, ObserverHandle, Observers, RecordObserver, SyncStatusObserver,
    },
    types::{
        parse_date, parse_id, truncate, Banner, FieldConflict, FieldValue, HistoryItem, Identity,
        Service, SignState, ValidationIssue,
    },
};

/// Where a record stands with the team server (`SAF-LOST-EDIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncStatus {
    /// Never reached the server.
    LocalOnly,
    /// Changed since the server last acknowledged it.
    Pending,
    /// The server has acknowledged every local change.
    Synced,
    /// Has an open conflict to resolve.
    Conflict,
}

impl From<CoreSync> for SyncStatus {
    fn from(s: CoreSync) -> Self {
        match s {
            CoreSync::LocalOnly => Self::LocalOnly,
            CoreSync::Pending => Self::Pending,
            CoreSync::Synced => Self::Synced,
            CoreSync::Conflict => Self::Conflict,
        }
    }
}

/// A child on the caseload, from the projections (no document is loaded).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseloadItem {
    /// The child's record id.
    pub child_id: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Preferred name.
    pub preferred_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// Ten digits.
    pub nhs_number: Option<String>,
    /// Records about the child.
    pub record_count: u32,
    /// Records with open conflicts.
    pub conflict_count: u32,
    /// Records the server lacks changes of.
    pub unsynced_count: u32,
    /// Forms waiting for a signature or countersignature.
    pub awaiting_signature_count: u32,
    /// The child's safeguarding status, when set (DOMAIN.md §3.7).
    pub safeguarding_status: Option<SafeguardingStatus>,
    /// `CH-VISIT-MISSED`: two missed visits within the team's window, with what to consider.
    pub missed_visit_warning: Option<String>,
}

impl From<CaseloadEntry> for CaseloadItem {
    fn from(c: CaseloadEntry) -> Self {
        // The window in force is the store's configuration (the default, as `Store::with`).
        let window = RulesConfig::default().missed_visit_window_days;
        let missed_visit_warning = c
            .missed_visit_gap_days
            .filter(|_| c.missed_visit_warning(window))
            .map(|gap| format!("[CH-VISIT-MISSED] {}", missed_visit_message(gap, window)));
        let safeguarding_status = c
            .safeguarding_status
            .as_deref()
            .and_then(|s| serde_json::from_value::<CoreSgStatus>(s.into()).ok())
            .map(SafeguardingStatus::from);
        Self {
            safeguarding_status,
            missed_visit_warning,
            child_id: c.child_id.to_string(),
            given_name: c.given_name,
            family_name: c.family_name,
            preferred_name: c.preferred_name,
            date_of_birth: c.date_of_birth,
            nhs_number: c.nhs_number,
            record_count: c.record_count,
            conflict_count: c.conflict_count,
            unsynced_count: c.unsynced_count,
            awaiting_signature_count: c.awaiting_signature_count,
        }
    }
}

/// One record in a list screen, from the projections.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordItem {
    /// The record's id.
    pub record_id: String,
    /// The record's kind; `None` when its document names no schema this version knows (a
    /// record from a newer or faulty peer is still listed).
    pub schema: Option<RecordSchema>,
    /// The child it is about.
    pub child_id: Option<String>,
    /// Short title.
    pub title: String,
    /// Sign state or workflow status code.
    pub status: String,
    /// Latest change (RFC 3339 UTC).
    pub updated_at: Option<String>,
    /// Where it stands with the server.
    pub sync_status: SyncStatus,
    /// Open clinical conflicts.
    pub conflict_count: u32,
    /// Waiting for a signature or countersignature.
    pub needs_signature: bool,
}

impl From<RecordSummary> for RecordItem {
    fn from(r: RecordSummary) -> Self {
        Self {
            record_id: r.id.to_string(),
            schema: homevisit_core::doc::record::parse_schema(&r.schema).map(RecordSchema::from),
            child_id: r.child_id.map(|c| c.to_string()),
            title: r.title,
            status: r.status,
            updated_at: r.updated_at,
            sync_status: r.sync_status.into(),
            conflict_count: r.conflict_count,
            needs_signature: r.needs_signature || r.needs_countersignature,
        }
    }
}

/// A record as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordView {
    /// The record's id.
    pub record_id: String,
    /// The record's kind.
    pub schema: RecordSchema,
    /// The child banner (`SAF-WRONG-CHILD`).
    pub banner: Banner,
    /// Effective content (addenda applied) as JSON text in the document layout.
    pub content_json: String,
    /// Where the record stands in sign-off.
    pub sign_state: SignState,
    /// Open clinical conflicts.
    pub conflicts: Vec<FieldConflict>,
    /// Changes that raced the signature, awaiting adopt/reject (`CF-SIGN-RACE`).
    pub open_sign_races: u32,
}

/// A field an addendum changes (`RK-ADDENDUM`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Amendment {
    /// The field path.
    pub path: String,
    /// The new value as JSON text (`330` for 33.0 kg).
    pub new_value_json: String,
}

/// Details a workflow transition records (DOMAIN.md §3.6).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct TransitionDetails {
    /// Question, answer, decline or cancel reason (`EQ-REASON`).
    #[uniffi(default)]
    pub reason: Option<String>,
    /// The event's date, `YYYY-MM-DD` (`EQ-DATES`).
    #[uniffi(default)]
    pub event_date: Option<String>,
    /// W7: supplier.
    #[uniffi(default)]
    pub supplier: Option<String>,
    /// W7: order reference.
    #[uniffi(default)]
    pub order_ref: Option<String>,
    /// W9: contractor.
    #[uniffi(default)]
    pub contractor: Option<String>,
    /// W10: the review's outcome.
    #[uniffi(default)]
    pub outcome: Option<ReviewOutcome>,
    /// W11: condition on return.
    #[uniffi(default)]
    pub condition: Option<String>,
    /// W16: housing-authority reference.
    #[uniffi(default)]
    pub housing_authority_ref: Option<String>,
}

/// Something requested that the service does not do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeclinedPartInfo {
    /// E.g. `H-EXCL-ASI`.
    pub rule_id: String,
    /// Plain sentence.
    pub reason: String,
    /// Where to go instead.
    pub signpost: Option<Signpost>,
}

/// An eligibility outcome (DOMAIN.md §2.2), flattened for the apps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Eligibility {
    /// What was decided.
    pub outcome: EligibilityDecision,
    /// Failing rules in canonical order.
    pub rule_ids: Vec<String>,
    /// One sentence per failing rule.
    pub reasons: Vec<String>,
    /// Where to go instead, de-duplicated.
    pub signpost: Vec<Signpost>,
    /// Missing inputs as field paths.
    pub missing: Vec<String>,
    /// Parts the service does not do.
    pub declined_parts: Vec<DeclinedPartInfo>,
}

impl From<EligibilityOutcome> for Eligibility {
    fn from(o: EligibilityOutcome) -> Self {
        let parts = |d: Vec<homevisit_core::model::referral::DeclinedPart>| {
            d.into_iter()
                .map(|p| DeclinedPartInfo {
                    rule_id: p.rule_id,
                    reason: p.reason,
                    signpost: p.signpost.map(Signpost::from),
                })
                .collect()
        };
        match o {
            EligibilityOutcome::Eligible { declined_parts } => Self {
                outcome: EligibilityDecision::Eligible,
                rule_ids: vec![],
                reasons: vec![],
                signpost: vec![],
                missing: vec![],
                declined_parts: parts(declined_parts),
            },
            EligibilityOutcome::NotEligible {
                rule_ids,
                reasons,
                signpost,
                declined_parts,
            } => Self {
                outcome: EligibilityDecision::NotEligible,
                rule_ids,
                reasons,
                signpost: signpost.into_iter().map(Signpost::from).collect(),
                missing: vec![],
                declined_parts: parts(declined_parts),
            },
            EligibilityOutcome::NeedsInformation {
                missing,
                declined_parts,
            } => Self {
                outcome: EligibilityDecision::NeedsInformation,
                rule_ids: vec![],
                reasons: vec![],
                signpost: vec![],
                missing,
                declined_parts: parts(declined_parts),
            },
        }
    }
}

/// Builds the core's acting identity from the app's.
/// The 32 raw key bytes, or `InvalidInput` for any other length.
fn raw_key(key: &[u8]) -> FfiResult<[u8; 32]> {
    key.try_into().map_err(|_| HomeVisitError::InvalidInput {
        rule_id: "SAF-DEVICE-LOST".into(),
        detail: format!("the store key must be 32 bytes, not {}", key.len()),
    })
}

pub(crate) fn actor(identity: &Identity) -> FfiResult<Actor> {
    let uuid = |what: &str, s: &str| {
        uuid::Uuid::parse_str(s.trim()).map_err(|_| HomeVisitError::InvalidInput {
            rule_id: "RK-ATTRIB".into(),
            detail: format!("{what} `{}` is not a UUID", truncate(s)),
        })
    };
    // The apps act for a person; only the team server and the equipment-store feed write as
    // `system`, with their own credentials.
    if identity.role == Role::System {
        return Err(HomeVisitError::InvalidInput {
            rule_id: "RK-ATTRIB".into(),
            detail: "an app acts for a person: `system` is the team server's role".into(),
        });
    }
    Ok(Actor {
        user_id: uuid("user_id", &identity.user_id)?,
        role: identity.role.into(),
        device_id: uuid("device_id", &identity.device_id)?,
        team_id: uuid("team_id", &identity.team_id)?,
        hcpc_number: identity
            .hcpc_number
            .clone()
            .filter(|n| !n.trim().is_empty()),
        hcpc_verified_until: match &identity.hcpc_verified_until {
            Some(d) => Some(parse_date(d)?),
            None => None,
        },
    })
}

/// The local, encrypted record store of one signed-in user on this device.
#[derive(Debug, uniffi::Object)]
pub struct Store {
    core: Arc<CoreStore>,
    records: Records,
    observers: Arc<Observers>,
    /// Carries the core store's change events to `observers` off the caller's thread.
    dispatcher: Dispatcher,
}

impl Store {
    fn with(core: CoreStore, identity: &Identity) -> FfiResult<Arc<Self>> {
        let core = Arc::new(core);
        let records = Records::new(
            core.clone(),
            actor(identity)?,
            RulesConfig::default(),
            Arc::new(SystemClock),
        );
        let observers = Arc::new(Observers::default());
        let dispatcher = Dispatcher::start(core.clone(), observers.clone())
            .map_err(|e| homevisit_core::Error::Internal(format!("observer thread: {e}")))?;
        Ok(Arc::new(Self {
            core,
            records,
            observers,
            dispatcher,
        }))
    }

    pub(crate) fn core(&self) -> &Arc<CoreStore> {
        &self.core
    }

    pub(crate) fn records(&self) -> &Records {
        &self.records
    }
}

#[uniffi::export]
impl Store {
    /// Opens the existing encrypted store at `path` with the 32-byte key from the platform
    /// keystore. A wrong key is `WrongKey` and the files are left untouched (also after a
    /// crash). A missing or empty file, a directory or an unreadable path is `StoreFile`:
    /// opening never creates a new, empty store (use `create` at set-up).
    #[uniffi::constructor]
    pub fn open(path: String, key: Vec<u8>, identity: Identity) -> FfiResult<Arc<Self>> {
        actor(&identity)?;
        let core = CoreStore::open(path, StoreKey::Raw(raw_key(&key)?))?;
        Self::with(core, &identity)
    }

    /// Creates a new encrypted store at `path` (first set-up on this device). Refused with
    /// `StoreFile { problem: AlreadyExists }` when a store is already there.
    #[uniffi::constructor]
    pub fn create(path: String, key: Vec<u8>, identity: Identity) -> FfiResult<Arc<Self>> {
        // A bad identity is refused before anything is written.
        actor(&identity)?;
        let core = CoreStore::create_new(path, StoreKey::Raw(raw_key(&key)?))?;
        Self::with(core, &identity)
    }

    /// Opens an existing UNENCRYPTED store: for tests and the demo only, never for clinical
    /// data.
    #[uniffi::constructor]
    pub fn open_unencrypted_for_tests(path: String, identity: Identity) -> FfiResult<Arc<Self>> {
        let core = CoreStore::open_plain_for_tests_and_demo(path)?;
        Self::with(core, &identity)
    }

    /// Creates a new UNENCRYPTED store: for tests and the demo only, never for clinical data.
    #[uniffi::constructor]
    pub fn create_unencrypted_for_tests(path: String, identity: Identity) -> FfiResult<Arc<Self>> {
        actor(&identity)?;
        let core = CoreStore::create_new_plain_for_tests_and_demo(path)?;
        Self::with(core, &identity)
    }

    /// Closes the store; every later call answers `DatabaseClosed`. (Not `close`, which
    /// Kotlin's `AutoCloseable` already names for freeing the handle.)
    pub fn close_store(&self) -> FfiResult<()> {
        self.observers.clear();
        Ok(self.core.close()?)
    }

    /// Creates a child; returns its record id.
    pub fn create_child(
        &self,
        given_name: String,
        family_name: String,
        date_of_birth: String,
    ) -> FfiResult<String> {
        let dob = parse_date(&date_of_birth)?;
        let id = self.records.create_child(&given_name, &family_name, dob)?;
        Ok(id.to_string())
    }

    /// Creates a referral of a child to a service.
    pub fn create_referral(&self, child_id: String, service: Service) -> FfiResult<String> {
        let id = self
            .records
            .create_referral(parse_id(&child_id)?, service.into())?;
        Ok(id.to_string())
    }

    /// Creates a home-visit assessment form.
    pub fn create_assessment(&self, child_id: String, service: Service) -> FfiResult<String> {
        let id = self
            .records
            .create_assessment(parse_id(&child_id)?, service.into())?;
        Ok(id.to_string())
    }

    /// Creates an M&H risk assessment.
    pub fn create_risk_assessment(&self, child_id: String) -> FfiResult<String> {
        let id = self.records.create_risk_assessment(parse_id(&child_id)?)?;
        Ok(id.to_string())
    }

    /// Creates an equipment request; `Wheelchair` is refused with `S-WHEELCHAIR`.
    pub fn create_equipment_request(
        &self,
        child_id: String,
        service: Service,
        category: EquipmentCategory,
    ) -> FfiResult<String> {
        let id = self.records.create_equipment_request(
            parse_id(&child_id)?,
            service.into(),
            category.into(),
        )?;
        Ok(id.to_string())
    }

    /// Sets one field by path. Out-of-range values are kept and flagged; wrong-type input is
    /// `InvalidInput { FLD-FORMAT }`; a signed record is `SignedRecord`.
    pub fn set_field(&self, record_id: String, path: String, value: FieldValue) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.set_field(id, &path, value.into())?;
        Ok(())
    }

    /// Replaces a free-text field (concurrent typing merges).
    pub fn set_text(&self, record_id: String, path: String, text: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.set_text(id, &path, &text)?;
        Ok(())
    }

    /// Adds a code to a code set.
    pub fn add_code(&self, record_id: String, set_path: String, code: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.add_code(id, &set_path, &code)?;
        Ok(())
    }

    /// Removes a code from a code set.
    pub fn remove_code(&self, record_id: String, set_path: String, code: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.remove_code(id, &set_path, &code)?;
        Ok(())
    }

    /// Adds an item (fields as a JSON object) to a list; returns the item id.
    pub fn add_item(
        &self,
        record_id: String,
        list_path: String,
        fields_json: String,
    ) -> FfiResult<String> {
        let id = parse_id(&record_id)?;
        let fields = match serde_json::from_str::<Json>(&fields_json) {
            Ok(Json::Object(m)) => m,
            _ => {
                return Err(HomeVisitError::InvalidInput {
                    rule_id: "FLD-FORMAT".into(),
                    detail: "item fields must be a JSON object".into(),
                });
            }
        };
        let item = self.records.add_item(id, &list_path, fields)?;
        Ok(item.to_string())
    }

    /// Marks a list item removed (it is kept).
    pub fn remove_item(&self, record_id: String, item_path: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.remove_item(id, &item_path)?;
        Ok(())
    }

    /// Records a child's weight in kg (at most one decimal) measured on `measured_on`.
    pub fn record_weight(
        &self,
        child_id: String,
        kg: String,
        measured_on: String,
    ) -> FfiResult<String> {
        let id = parse_id(&child_id)?;
        let item = self
            .records
            .record_weight(id, &kg, parse_date(&measured_on)?)?;
        Ok(item.to_string())
    }

    /// The record with its banner, effective content, sign state and conflicts.
    pub fn view(&self, record_id: String) -> FfiResult<RecordView> {
        let v = self.records.view(parse_id(&record_id)?)?;
        Ok(RecordView {
            record_id: v.id.to_string(),
            schema: v.schema.into(),
            banner: v.banner.into(),
            content_json: v.content.to_string(),
            sign_state: v.sign_state.into(),
            conflicts: v.conflicts.into_iter().map(FieldConflict::from).collect(),
            open_sign_races: u32::try_from(v.sign_races.len()).unwrap_or(u32::MAX),
        })
    }

    /// The child banner (`SAF-WRONG-CHILD`).
    pub fn banner(&self, child_id: String) -> FfiResult<Banner> {
        Ok(self.records.banner(parse_id(&child_id)?)?.into())
    }

    /// Every issue of the record; `final_stage` adds what sign/submit needs.
    pub fn validate(
        &self,
        record_id: String,
        final_stage: bool,
    ) -> FfiResult<Vec<ValidationIssue>> {
        let report = self.records.validate(parse_id(&record_id)?, final_stage)?;
        Ok(report
            .issues
            .into_iter()
            .map(ValidationIssue::from)
            .collect())
    }

    /// Acknowledges a WARN with a reason (`FLD-ACK`).
    pub fn acknowledge(
        &self,
        record_id: String,
        rule_id: String,
        path: String,
        reason: String,
    ) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.acknowledge(id, &rule_id, &path, &reason)?;
        Ok(())
    }

    /// Signs (`RK-SIGN`); an AP's signature awaits countersignature.
    pub fn sign(&self, record_id: String) -> FfiResult<SignState> {
        let id = parse_id(&record_id)?;
        let s = self.records.sign(id)?;
        Ok(s.into())
    }

    /// Countersigns an AP-signed record (`RK-COUNTERSIGN`).
    pub fn countersign(&self, record_id: String) -> FfiResult<SignState> {
        let id = parse_id(&record_id)?;
        let s = self.records.countersign(id)?;
        Ok(s.into())
    }

    /// Adds an addendum to a signed record; returns its id.
    pub fn add_addendum(
        &self,
        record_id: String,
        text: String,
        changes: Vec<Amendment>,
        reason: String,
    ) -> FfiResult<String> {
        let id = parse_id(&record_id)?;
        let mut core = Vec::with_capacity(changes.len());
        for c in changes {
            let new_value = serde_json::from_str(&c.new_value_json).map_err(|_| {
                HomeVisitError::InvalidInput {
                    rule_id: "FLD-FORMAT".into(),
                    detail: format!("`{}` is not a JSON value", truncate(&c.new_value_json)),
                }
            })?;
            core.push(FieldAmendment {
                path: c.path,
                new_value,
            });
        }
        let a = self.records.add_addendum(id, &text, &core, &reason)?;
        Ok(a.to_string())
    }

    /// Marks a record entered in error (`RK-EIE`), permanently.
    pub fn mark_entered_in_error(&self, record_id: String, reason: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        self.records.mark_entered_in_error(id, &reason)?;
        Ok(())
    }

    /// Moves an equipment request to `to`; returns the status it is in afterwards. Refusals
    /// are `NotPermitted { rule_id }`.
    pub fn transition(
        &self,
        record_id: String,
        to: EquipmentStatus,
        details: TransitionDetails,
    ) -> FfiResult<EquipmentStatus> {
        let id = parse_id(&record_id)?;
        let to: Status = to.into();
        let mut input = TransitionInput::at(chrono::Utc::now());
        input.reason = details.reason;
        input.event_date = match details.event_date {
            Some(d) => Some(parse_date(&d)?),
            None => None,
        };
        input.supplier = details.supplier;
        input.order_ref = details.order_ref;
        input.contractor = details.contractor;
        input.outcome = details.outcome.map(Into::into);
        input.condition = details.condition;
        input.housing_authority_ref = details.housing_authority_ref;
        let status = self.records.transition(id, to, input)?;
        Ok(status.into())
    }

    /// Evaluates a referral's eligibility (as of `as_of`, default the referral's
    /// `received_on`) and stores the snapshot.
    pub fn evaluate_eligibility(
        &self,
        referral_id: String,
        as_of: Option<String>,
    ) -> FfiResult<Eligibility> {
        let id = parse_id(&referral_id)?;
        let as_of = match as_of {
            Some(d) => Some(parse_date(&d)?),
            None => None,
        };
        let outcome = self.records.evaluate_eligibility(id, as_of)?;
        Ok(outcome.into())
    }

    /// Open clinical conflicts of a record.
    pub fn conflicts(&self, record_id: String) -> FfiResult<Vec<FieldConflict>> {
        let c = self.records.conflicts(parse_id(&record_id)?)?;
        Ok(c.into_iter().map(FieldConflict::from).collect())
    }

    /// Resolves a conflict by choosing a value (JSON text, e.g. `324`).
    pub fn resolve(&self, record_id: String, path: String, value_json: String) -> FfiResult<()> {
        let id = parse_id(&record_id)?;
        let v: Json =
            serde_json::from_str(&value_json).map_err(|_| HomeVisitError::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: format!("`{}` is not a JSON value", truncate(&value_json)),
            })?;
        self.records.resolve(id, &path, &v)?;
        Ok(())
    }

    /// Who changed what and when (`RK-HISTORY`).
    pub fn history(&self, record_id: String) -> FfiResult<Vec<HistoryItem>> {
        let h = self.records.history(parse_id(&record_id)?)?;
        Ok(h.into_iter().map(HistoryItem::from).collect())
    }

    /// The caseload (children and counts), from the projections.
    pub fn caseload(&self) -> FfiResult<Vec<CaseloadItem>> {
        Ok(self
            .core
            .caseload()?
            .into_iter()
            .map(CaseloadItem::from)
            .collect())
    }

    /// Children whose name, NHS number (spaces ignored) or date of birth match `text`.
    pub fn search(&self, text: String) -> FfiResult<Vec<CaseloadItem>> {
        Ok(self
            .core
            .search_children(&text)?
            .into_iter()
            .map(CaseloadItem::from)
            .collect())
    }

    /// The records about one child.
    pub fn records_of_child(&self, child_id: String) -> FfiResult<Vec<RecordItem>> {
        let rows = self.core.records_of_child(parse_id(&child_id)?)?;
        Ok(rows.into_iter().map(RecordItem::from).collect())
    }

    /// Records the server lacks changes of.
    pub fn unsynced_records(&self) -> FfiResult<Vec<RecordItem>> {
        Ok(self
            .core
            .unsynced_records()?
            .into_iter()
            .map(RecordItem::from)
            .collect())
    }

    /// Records with open conflicts.
    pub fn records_with_conflicts(&self) -> FfiResult<Vec<RecordItem>> {
        Ok(self
            .core
            .records_with_conflicts()?
            .into_iter()
            .map(RecordItem::from)
            .collect())
    }

    /// Forms waiting for a signature or countersignature.
    pub fn records_awaiting_signature(&self) -> FfiResult<Vec<RecordItem>> {
        Ok(self
            .core
            .records_awaiting_signature()?
            .into_iter()
            .map(RecordItem::from)
            .collect())
    }

    /// Where a record stands with the server.
    pub fn sync_status(&self, record_id: String) -> FfiResult<SyncStatus> {
        Ok(self.core.sync_status(parse_id(&record_id)?)?.into())
    }

    /// Calls `observer` with the caseload now and after every change, until the returned
    /// handle is cancelled or dropped.
    pub fn observe_caseload(&self, observer: Arc<dyn CaseloadObserver>) -> Arc<ObserverHandle> {
        let handle = self.observers.add_caseload(observer.clone());
        if let Ok(c) = self.core.caseload() {
            observer.on_caseload(c.into_iter().map(CaseloadItem::from).collect());
        }
        handle
    }

    /// Calls `observer` with the unsynced records now and after every change and sync, until
    /// the returned handle is cancelled or dropped.
    pub fn observe_sync_status(
        &self,
        observer: Arc<dyn SyncStatusObserver>,
    ) -> Arc<ObserverHandle> {
        let handle = self.observers.add_sync_status(observer.clone());
        if let Ok(rows) = self.core.unsynced_records() {
            observer.on_sync_status(rows.into_iter().map(RecordItem::from).collect());
        }
        handle
    }

    /// Blocks until every change committed before this call has been delivered to the
    /// observers (they run on the store's observer thread, not the caller's). For tests and
    /// for an app that must show a change before going on; called from an observer callback
    /// it returns at once.
    pub fn wait_for_observers(&self) {
        self.dispatcher.flush();
    }

    /// Calls `observer` with the record's id after every change to it, until the returned
    /// handle is cancelled or dropped.
    pub fn observe_record(
        &self,
        record_id: String,
        observer: Arc<dyn RecordObserver>,
    ) -> FfiResult<Arc<ObserverHandle>> {
        let id = parse_id(&record_id)?;
        Ok(self.observers.add_record(id, observer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(role: Role) -> Identity {
        Identity {
            user_id: uuid::Uuid::new_v4().to_string(),
            role,
            device_id: uuid::Uuid::new_v4().to_string(),
            team_id: uuid::Uuid::new_v4().to_string(),
            hcpc_number: None,
            hcpc_verified_until: None,
        }
    }

    #[test]
    fn rk_attrib_an_app_cannot_act_as_the_system_role() {
        assert!(matches!(
            actor(&identity(Role::System)),
            Err(HomeVisitError::InvalidInput { rule_id, .. }) if rule_id == "RK-ATTRIB"
        ));
        assert!(actor(&identity(Role::Ap)).is_ok());
    }
}
