//! The record service: what the apps do with records, in one place. It joins the document
//! layer (`doc`), the typed model and rules (`model`, `rules`) and the local store (`store`):
//! every edit is a targeted document change saved durably in one transaction, every read is
//! typed, every refusal is a typed error carrying its rule ID.
//!
//! The FFI crate wraps [`Records`] thinly; app logic never reaches past it.

mod care;
pub mod input;
pub mod photos;
mod validation;

use std::sync::Arc;

use automerge::AutoCommit;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

pub use self::{
    care::{CaseloadItem, ConcernInput, SafeguardingInput, TrainingInput, VisitPlan, VisitResult},
    photos::{
        AnnotationData, FamilySignature, FamilySignatureInput, PhotoData, PhotoInfo, PhotoInput,
        SignatureData, SignedDocument, SignedTexts, SignerRelationship,
    },
    validation::ValidationReport,
};
use crate::{
    doc::{self, clinical, Conflict, FieldAmendment, HistoryEntry, Scalar, SignRace},
    error::{Error, Result},
    fhir::{export_child, ChildRecords, ExportContext},
    ids::RecordId,
    model::{
        child::Child,
        common::{from_json, Record, Schema, Service, SignState},
        equipment::{Category, EquipmentRequest, Status},
        referral::{EligibilityOutcome, Referral},
        user::{Actor, Role},
        visit::SafeguardingStatus,
    },
    rules::{
        config::RulesConfig,
        dates::local_date,
        eligibility,
        fields::parse_tenths,
        issue::check_ack_reason,
        nhs,
        record_keeping::{AuditAction, AuditEntry},
        visits,
        workflow::{self, TransitionInput, WorkflowContext},
    },
    store::{LoggedAudit, Store},
};

/// How long one `view` audit entry covers the same user's further views of the same record
/// on the same device (`RK-AUDIT`): screens refresh on every change, and a refresh is not a
/// new viewing.
pub const VIEW_AUDIT_WINDOW_MINUTES: i64 = 10;

/// Where "now" comes from. Rules never read the clock; the service does, once per action.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc>;
}

/// The device's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A value a person typed into a field, in canonical units (DOMAIN.md §1.1).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A code, date, time or short string.
    Str(String),
    /// A whole number in the field's stored unit (mm, degrees, pence, tenths…).
    Int(i64),
    /// A decimal with at most one decimal place, stored as integer tenths (kg, cm):
    /// `"32.4"` → `324`. More decimals or letters are `FLD-FORMAT`.
    Decimal(String),
    /// Yes/no.
    Bool(bool),
    /// Clears the field.
    Null,
}

/// The banner every record screen shows, so the right child's record is edited
/// (`SAF-WRONG-CHILD`): name, date of birth, NHS number in 3-3-4 form, alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// The child's record id.
    pub child_id: RecordId,
    /// Given and family name (preferred name in brackets when set).
    pub name: String,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// NHS number as `943 476 5919`, when recorded.
    pub nhs_number: Option<String>,
    /// Alert texts (dogs, lone working, medical…).
    pub alerts: Vec<String>,
    /// The child's safeguarding status (§3.7), `Unknown` when never set.
    pub safeguarding_status: SafeguardingStatus,
    /// The status as the banner shows it ("Child protection plan" …).
    pub safeguarding_label: String,
    /// The allocated social worker's name and phone or email, when recorded.
    pub social_worker: Option<String>,
    /// Warnings about the child every record shows: `CH-VISIT-MISSED`.
    pub warnings: Vec<crate::rules::issue::Issue>,
}

/// A record as the app shows it: the banner, the effective content (addenda applied), its
/// sign state and what needs attention.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The record's id.
    pub id: RecordId,
    /// Its schema.
    pub schema: Schema,
    /// The child banner (`SAF-WRONG-CHILD`).
    pub banner: Banner,
    /// The effective content: signed values with addenda applied (`RK-AMEND`).
    pub content: Json,
    /// Draft / signed / awaiting countersignature / countersigned / entered in error.
    pub sign_state: SignState,
    /// Open clinical conflicts (`CF-CLINICAL`).
    pub conflicts: Vec<Conflict>,
    /// Open sign races (`CF-SIGN-RACE`).
    pub sign_races: Vec<SignRace>,
    /// Rule-breach flags (`CF-RULE-BREACH`), the team server's included, oldest first: each
    /// names the offending change, its rule and, from the server, its true author.
    pub flags: Vec<doc::Flag>,
}

/// The record service for one signed-in user on one device.
#[derive(Debug, Clone)]
pub struct Records {
    store: Arc<Store>,
    actor: Actor,
    config: RulesConfig,
    clock: Arc<dyn Clock>,
    signed_texts: SignedTexts,
}

impl Records {
    /// A service acting as `actor` over `store`.
    pub fn new(
        store: Arc<Store>,
        actor: Actor,
        config: RulesConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            actor,
            config,
            clock,
            signed_texts: SignedTexts::default(),
        }
    }

    /// The same service with the team's current wording of the texts families sign
    /// (`RK-SIGN-FAMILY`): a signature covers only while its text is unchanged.
    pub fn with_signed_texts(mut self, texts: SignedTexts) -> Self {
        self.signed_texts = texts;
        self
    }

    /// The texts families sign, as this service words them.
    pub fn signed_texts(&self) -> &SignedTexts {
        &self.signed_texts
    }

    /// The store underneath (for list queries and sync).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Who is acting.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The team configuration in force.
    pub fn config(&self) -> &RulesConfig {
        &self.config
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn today(&self) -> NaiveDate {
        local_date(self.now())
    }

    // -- creation ------------------------------------------------------------------------------

    /// Creates a child record with the minimum a caseload entry needs.
    pub fn create_child(
        &self,
        given_name: &str,
        family_name: &str,
        date_of_birth: NaiveDate,
    ) -> Result<RecordId> {
        let id = self.create(Schema::Child, None, |doc, actor, at| {
            doc::set_scalar(
                doc,
                "given_name",
                Scalar::Str(given_name.trim().into()),
                actor,
                at,
            )?;
            doc::set_scalar(
                doc,
                "family_name",
                Scalar::Str(family_name.trim().into()),
                actor,
                at,
            )?;
            doc::set_scalar(
                doc,
                "date_of_birth",
                Scalar::Str(date_of_birth.to_string()),
                actor,
                at,
            )
        })?;
        Ok(id)
    }

    /// Creates a referral for a child to `service`.
    pub fn create_referral(&self, child_id: RecordId, service: Service) -> Result<RecordId> {
        self.require_child(child_id)?;
        self.create(Schema::Referral, Some(child_id), |doc, actor, at| {
            doc::set_scalar(
                doc,
                "service",
                Scalar::Str(service_code(service)),
                actor,
                at,
            )
        })
    }

    /// Creates a home-visit assessment form for a child, for `service` (which decides the
    /// social-care checks `S-HOME-VISIT` and `S-BEHAVIOUR-GATE`).
    pub fn create_assessment(&self, child_id: RecordId, service: Service) -> Result<RecordId> {
        self.require_child(child_id)?;
        self.create(Schema::Assessment, Some(child_id), |doc, actor, at| {
            doc::set_scalar(
                doc,
                "service",
                Scalar::Str(service_code(service)),
                actor,
                at,
            )
        })
    }

    /// Creates an M&H risk assessment for a child.
    pub fn create_risk_assessment(&self, child_id: RecordId) -> Result<RecordId> {
        self.require_child(child_id)?;
        self.create(Schema::RiskAssessment, Some(child_id), |_, _, _| Ok(()))
    }

    /// Creates an equipment request (W1). A wheelchair is refused with `S-WHEELCHAIR`: the
    /// wheelchair service assesses on its own referral.
    pub fn create_equipment_request(
        &self,
        child_id: RecordId,
        service: Service,
        category: Category,
    ) -> Result<RecordId> {
        self.require_child(child_id)?;
        if category == Category::Wheelchair {
            return Err(Error::NotPermitted {
                rule_id: "S-WHEELCHAIR".into(),
                detail: "wheelchairs are assessed by the wheelchair service on its own referral \
                         (signpost: wheelchair_service)"
                    .into(),
            });
        }
        let category_code = json_code(&category)?;
        let requester = self.actor.user_id.hyphenated().to_string();
        let requested_at = doc::meta::format_instant(self.now());
        let id = self.create(
            Schema::EquipmentRequest,
            Some(child_id),
            move |doc, actor, at| {
                doc::set_scalar(
                    doc,
                    "service",
                    Scalar::Str(service_code(service)),
                    actor,
                    at,
                )?;
                doc::set_scalar(doc, "category", Scalar::Str(category_code), actor, at)?;
                doc::set_scalar(doc, "requested_by", Scalar::Str(requester), actor, at)?;
                doc::set_scalar(doc, "requested_at", Scalar::Str(requested_at), actor, at)?;
                doc::set_scalar(doc, "priority", Scalar::Str("routine".into()), actor, at)
            },
        )?;
        // W1: the status derives from the transition log, which starts with (new) → draft.
        self.transition(id, Status::Draft, TransitionInput::at(self.now()))?;
        Ok(id)
    }

    fn create(
        &self,
        schema: Schema,
        child_id: Option<RecordId>,
        init: impl FnOnce(&mut AutoCommit, &Actor, DateTime<Utc>) -> Result<()>,
    ) -> Result<RecordId> {
        let id = RecordId::new();
        let at = self.now();
        let mut d = doc::create(schema, id, self.actor.team_id, child_id, &self.actor, at)?;
        init(&mut d, &self.actor, at)?;
        check_shape(&d, schema)?;
        self.store.create(id, d)?;
        Ok(id)
    }

    fn require_child(&self, child_id: RecordId) -> Result<()> {
        let schema = self.store.read(child_id, |d| doc::record_schema(d))?;
        if schema != Schema::Child {
            return Err(Error::InvalidInput {
                rule_id: "SAF-WRONG-CHILD".into(),
                detail: format!("{child_id} is not a child record"),
            });
        }
        Ok(())
    }

    // -- edits ---------------------------------------------------------------------------------

    /// Sets one field by path (e.g. `sections.D.entrance_steps.riser_max_mm`,
    /// `tasks.<item id>.method`). Out-of-range values are kept and flagged by validation;
    /// only wrong-type input (letters in a number, an unknown code) is refused, with
    /// `FLD-FORMAT`, and nothing is saved. A signed record refuses with `SignedRecord`.
    pub fn set_field(&self, id: RecordId, path: &str, value: FieldValue) -> Result<()> {
        let scalar = match value {
            FieldValue::Str(s) => Scalar::Str(s),
            FieldValue::Int(i) => Scalar::Int(i),
            FieldValue::Decimal(s) => Scalar::Int(parse_tenths(&s)?),
            FieldValue::Bool(b) => Scalar::Bool(b),
            FieldValue::Null => Scalar::Null,
        };
        input::guard_path(path)?;
        self.edit(id, |d, actor, at| {
            let schema = doc::record_schema(d)?;
            let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
            let free_text = clinical::is_text(schema, &segments);
            if let Scalar::Str(s) = &scalar {
                input::check_text(path, s)?;
            }
            match (&scalar, free_text) {
                (Scalar::Str(s), true) => doc::set_text(d, path, s, actor, at),
                _ => doc::set_scalar(d, path, scalar.clone(), actor, at),
            }
        })
    }

    /// Replaces a free-text field's content; concurrent typing elsewhere merges (`CF-TEXT`).
    /// Text with control or bidirectional characters (`FLD-TEXT-CHARS`) or over the field's
    /// limit (`FLD-TEXT-LENGTH`) is refused.
    pub fn set_text(&self, id: RecordId, path: &str, text: &str) -> Result<()> {
        input::guard_path(path)?;
        input::check_text(path, text)?;
        self.edit(id, |d, actor, at| doc::set_text(d, path, text, actor, at))
    }

    /// Adds a code to a code set (`CF-SET`), e.g. `reasons` + `dressing`.
    pub fn add_code(&self, id: RecordId, set_path: &str, code: &str) -> Result<()> {
        input::guard_path(set_path)?;
        input::check_text(set_path, code)?;
        self.edit(id, |d, actor, at| {
            doc::add_code(d, set_path, code, actor, at)
        })
    }

    /// Removes a code from a code set.
    pub fn remove_code(&self, id: RecordId, set_path: &str, code: &str) -> Result<()> {
        input::guard_path(set_path)?;
        self.edit(id, |d, actor, at| {
            doc::remove_code(d, set_path, code, actor, at)
        })
    }

    /// Adds an item to a list (`CF-LIST`) and returns its stable item id. Lists the workflow,
    /// signing and acknowledgement calls own (`transitions`, `acks`, `addenda`, `flags`) are
    /// refused here; each string of the item is checked as typed text.
    pub fn add_item(
        &self,
        id: RecordId,
        list_path: &str,
        fields: Map<String, Json>,
    ) -> Result<Uuid> {
        input::guard_path(list_path)?;
        self.add_item_unguarded(id, list_path, fields)
    }

    /// [`Records::add_item`] for the service's own lists (acknowledgements, weights).
    fn add_item_unguarded(
        &self,
        id: RecordId,
        list_path: &str,
        fields: Map<String, Json>,
    ) -> Result<Uuid> {
        for (k, v) in &fields {
            input::guard_path(k)?;
            if let Json::String(s) = v {
                input::check_text(&format!("{list_path}.x.{k}"), s)?;
            }
        }
        self.edit(id, |d, actor, at| {
            doc::add_item(d, list_path, fields, actor, at)
        })
    }

    /// Marks a list item removed (kept, never physically deleted).
    pub fn remove_item(&self, id: RecordId, item_path: &str) -> Result<()> {
        input::guard_path(item_path)?;
        self.edit(id, |d, actor, at| doc::remove_item(d, item_path, actor, at))
    }

    /// Records a child's weight (every weight recorded anywhere lands on the child), in kg
    /// with at most one decimal.
    pub fn record_weight(
        &self,
        child_id: RecordId,
        kg: &str,
        measured_on: NaiveDate,
    ) -> Result<Uuid> {
        let tenths = parse_tenths(kg)?;
        let mut fields = Map::new();
        fields.insert("value_kg".into(), Json::from(tenths));
        fields.insert("measured_on".into(), Json::String(measured_on.to_string()));
        fields.insert(
            "measured_by".into(),
            Json::String(self.actor.user_id.hyphenated().to_string()),
        );
        self.add_item_unguarded(child_id, "weights", fields)
    }

    /// Acknowledges a WARN with a reason (1–500 characters), stored in the record; it lapses
    /// when the value changes (`FLD-ACK`). Only a WARN the record currently has can be
    /// acknowledged.
    pub fn acknowledge(
        &self,
        id: RecordId,
        rule_id: &str,
        path: &str,
        reason: &str,
    ) -> Result<Uuid> {
        check_ack_reason(reason).map_err(|i| Error::Validation { issues: vec![i] })?;
        let report = self.validate(id, true)?;
        let issue = report
            .issues
            .iter()
            .find(|i| i.rule_id == rule_id && i.path == path && !i.is_error())
            .ok_or_else(|| Error::InvalidInput {
                rule_id: "FLD-ACK".into(),
                detail: format!("there is no warning {rule_id} at {path} to acknowledge"),
            })?
            .clone();
        let mut fields = Map::new();
        fields.insert("rule_id".into(), Json::String(issue.rule_id));
        fields.insert("path".into(), Json::String(issue.path));
        fields.insert(
            "acknowledged_value".into(),
            issue.value.map(Json::String).unwrap_or(Json::Null),
        );
        fields.insert("reason".into(), Json::String(reason.trim().to_owned()));
        fields.insert(
            "user_id".into(),
            Json::String(self.actor.user_id.hyphenated().to_string()),
        );
        fields.insert(
            "at".into(),
            Json::String(doc::meta::format_instant(self.now())),
        );
        self.add_item_unguarded(id, "acks", fields)
    }

    fn edit<T>(
        &self,
        id: RecordId,
        f: impl FnOnce(&mut AutoCommit, &Actor, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let at = self.now();
        let actor = &self.actor;
        self.store.edit(id, |d| {
            let schema = doc::record_schema(d)?;
            let out = f(d, actor, at)?;
            // Refuse (and so roll back) a change that no longer fits the typed model: wrong
            // type, unknown code. Out-of-range values fit and are flagged by validation.
            check_shape(d, schema)?;
            Ok(out)
        })
    }

    // -- reading -------------------------------------------------------------------------------

    /// Writes an audit entry for `id` (`RK-AUDIT`), refusing an export without a purpose.
    fn audit(&self, id: RecordId, action: AuditAction, purpose: Option<String>) -> Result<()> {
        let entry = AuditEntry::new(
            self.actor.user_id,
            self.actor.device_id,
            id,
            action,
            self.now(),
            purpose,
        )?;
        if action == AuditAction::View {
            let since = entry.at - chrono::Duration::minutes(VIEW_AUDIT_WINDOW_MINUTES);
            self.store.append_view_audit(&entry, since).map(|_| ())
        } else {
            self.store.append_audit(&entry).map(|_| ())
        }
    }

    /// The record as the app shows it, with the child banner. Showing a record is viewing it:
    /// this writes a `view` audit entry first (`RK-AUDIT`), and if the entry cannot be
    /// written (disk full, closed store) the record is not shown. A screen that refreshes
    /// does not log again: one entry covers the same user's views of the record on this
    /// device for [`VIEW_AUDIT_WINDOW_MINUTES`] minutes.
    pub fn view(&self, id: RecordId) -> Result<RecordView> {
        if !self.store.contains(id)? {
            return Err(Error::NotFound(id));
        }
        self.audit(id, AuditAction::View, None)?;
        let (schema, content, sign_state, conflicts, sign_races, flags, child_id) =
            self.store.read(id, |d| {
                let schema = doc::record_schema(d)?;
                let content = doc::effective_view(d)?;
                let sign_state = doc::sign_state(d)?;
                let conflicts = doc::conflicts(d)?;
                let races = doc::open_sign_races(d)?;
                let flags = doc::flags(d)?;
                let child_id = if schema == Schema::Child {
                    id
                } else {
                    child_id_of(&content).ok_or_else(|| Error::Corrupt {
                        record: Some(id),
                        detail: "record has no child_id".into(),
                    })?
                };
                Ok((
                    schema, content, sign_state, conflicts, races, flags, child_id,
                ))
            })?;
        Ok(RecordView {
            id,
            schema,
            banner: self.banner(child_id)?,
            content,
            sign_state,
            conflicts,
            sign_races,
            flags,
        })
    }

    /// Records that `id` was printed (`RK-AUDIT`); the app calls it before handing the
    /// record to the print system. `purpose` is optional for prints.
    pub fn record_print(&self, id: RecordId, purpose: Option<String>) -> Result<()> {
        if !self.store.contains(id)? {
            return Err(Error::NotFound(id));
        }
        self.audit(id, AuditAction::Print, purpose)
    }

    /// The audit entries about `id`, oldest first (`RK-AUDIT`). Read-only: the log cannot be
    /// edited through any call.
    pub fn audit_log(&self, id: RecordId) -> Result<Vec<LoggedAudit>> {
        self.store.audit_log(Some(id))
    }

    /// A FHIR R4 / UK Core `Bundle` of the child and their forms, risk assessments and
    /// equipment requests (docs/FHIR.md). An export needs a purpose (`RK-AUDIT`); one `export`
    /// entry per exported record is written before the bundle is returned. Records entered in
    /// error are exported with their status (`FX-EIE`).
    pub fn export_fhir(&self, child_id: RecordId, purpose: &str, base_url: &str) -> Result<Json> {
        // Refuse a missing purpose before reading anything.
        AuditEntry::new(
            self.actor.user_id,
            self.actor.device_id,
            child_id,
            AuditAction::Export,
            self.now(),
            Some(purpose.to_owned()),
        )?;
        let child: Child = self.typed(child_id)?;
        let mut assessments = Vec::new();
        let mut risks = Vec::new();
        let mut equipment = Vec::new();
        let mut exported = vec![child_id];
        for r in self.store.records_of_child(child_id)? {
            match r.schema.as_str() {
                s if s == doc::record::schema_code(Schema::Assessment) => {
                    assessments.push(self.typed(r.id)?)
                }
                s if s == doc::record::schema_code(Schema::RiskAssessment) => {
                    risks.push(self.typed(r.id)?)
                }
                s if s == doc::record::schema_code(Schema::EquipmentRequest) => {
                    equipment.push(self.typed(r.id)?)
                }
                // Referrals have no FHIR mapping in DOMAIN.md §7; nothing else is exported.
                _ => continue,
            }
            exported.push(r.id);
        }
        let at = self.now();
        let ctx = ExportContext {
            base_url: base_url.to_owned(),
            exported_at: at,
            exported_by: self.actor.user_id,
            device_id: self.actor.device_id,
            purpose: purpose.trim().to_owned(),
        };
        let bundle = export_child(
            ChildRecords {
                child: &child,
                assessments: &assessments,
                risk_assessments: &risks,
                equipment_requests: &equipment,
            },
            &ctx,
        );
        for id in exported {
            self.audit(id, AuditAction::Export, Some(purpose.to_owned()))?;
        }
        Ok(bundle)
    }

    /// The generic JSON of a record's current document (no addenda applied).
    pub fn json(&self, id: RecordId) -> Result<Json> {
        self.store.read(id, |d| doc::to_json(d))
    }

    /// The typed record.
    pub fn typed<R: Record>(&self, id: RecordId) -> Result<R> {
        from_json(self.json(id)?)
    }

    /// The child banner (`SAF-WRONG-CHILD`).
    pub fn banner(&self, child_id: RecordId) -> Result<Banner> {
        let child: Child = self.typed(child_id)?;
        // A name from another device may carry bidirectional or control characters (or be
        // huge): the banner shows it neutralised (`FLD-TEXT-CHARS`, `SAF-WRONG-CHILD`).
        let shown =
            |s: Option<&str>| input::neutralise(s.unwrap_or_default(), input::NAME_MAX_CHARS);
        let given = shown(child.given_name.as_deref());
        let family = shown(child.family_name.as_deref());
        let preferred = shown(child.preferred_name.as_deref());
        let name = match Some(preferred.as_str()).filter(|p| !p.trim().is_empty()) {
            Some(p) => format!("{given} ({p}) {family}"),
            None => format!("{given} {family}"),
        };
        Ok(Banner {
            child_id,
            name: name.trim().to_owned(),
            date_of_birth: child.date_of_birth,
            nhs_number: child.nhs_number.as_deref().and_then(nhs::format),
            alerts: crate::model::common::live(&child.alerts)
                .map(|a| input::neutralise(&a.data.text, input::TEXT_MAX_CHARS))
                .collect(),
            safeguarding_status: child.safeguarding_status(),
            safeguarding_label: visits::status_label(Some(child.safeguarding_status())).into(),
            social_worker: child
                .safeguarding
                .as_ref()
                .and_then(|s| s.social_worker.as_ref())
                .and_then(|w| {
                    let name = w.name.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
                    let how = [w.phone.as_deref(), w.email.as_deref()]
                        .into_iter()
                        .flatten()
                        .map(str::trim)
                        .find(|s| !s.is_empty());
                    Some(match how {
                        Some(h) => format!("{name} ({h})"),
                        None => name.to_owned(),
                    })
                }),
            warnings: visits::missed_visit_warning(&child, &self.config)
                .into_iter()
                .collect(),
        })
    }

    /// Who changed what and when (`RK-HISTORY`).
    pub fn history(&self, id: RecordId) -> Result<Vec<HistoryEntry>> {
        self.store.read(id, doc::history)
    }

    /// The record as it stood at `instant` (`RK-HISTORY`); `None` before it existed.
    pub fn as_of(&self, id: RecordId, instant: DateTime<Utc>) -> Result<Option<Json>> {
        self.store.read(id, |d| doc::as_of(d, instant))
    }

    /// Open clinical conflicts (`CF-CLINICAL`).
    pub fn conflicts(&self, id: RecordId) -> Result<Vec<Conflict>> {
        self.store.read(id, doc::conflicts)
    }

    /// Resolves a conflict by writing the chosen value (action `resolve`).
    pub fn resolve(&self, id: RecordId, path: &str, chosen: &Json) -> Result<()> {
        self.edit(id, |d, actor, at| doc::resolve(d, path, chosen, actor, at))
    }

    // -- validation, signing, workflow ---------------------------------------------------------

    /// Every issue of the record: at `final_stage` also what is missing for sign/submit.
    /// Clinical fields in conflict are checked on every candidate value (`CF-WORST`) and
    /// each adds a `CF-BLOCK` ERROR.
    pub fn validate(&self, id: RecordId, final_stage: bool) -> Result<ValidationReport> {
        validation::validate(self, id, final_stage)
    }

    /// Signs an assessment or risk assessment (`RK-SIGN`): refused while an ERROR or an
    /// unacknowledged WARN remains (`Validation`) or a conflict is open (`Conflict`). An OT
    /// signs; an AP's signature awaits countersignature (`RK-COUNTERSIGN`).
    pub fn sign(&self, id: RecordId) -> Result<SignState> {
        let report = self.validate(id, true)?;
        if !report.blocking.is_empty() {
            return Err(Error::Validation {
                issues: report.blocking,
            });
        }
        self.edit(id, doc::sign)
    }

    /// Countersigns an AP-signed record (`RK-COUNTERSIGN`): an OT HCPC-registered today.
    pub fn countersign(&self, id: RecordId) -> Result<SignState> {
        self.edit(id, doc::countersign)
    }

    /// Adds an addendum to a signed record (`RK-ADDENDUM`, `RK-AMEND`).
    pub fn add_addendum(
        &self,
        id: RecordId,
        text: &str,
        changes: &[FieldAmendment],
        reason: &str,
    ) -> Result<Uuid> {
        self.edit(id, |d, actor, at| {
            doc::add_addendum(d, text, changes, reason, actor, at)
        })
    }

    /// Marks a record entered in error (`RK-EIE`): OT or approver, with a reason; permanent.
    pub fn mark_entered_in_error(&self, id: RecordId, reason: &str) -> Result<()> {
        self.edit(id, |d, actor, at| {
            doc::mark_entered_in_error(d, reason, actor, at)
        })
    }

    /// Adopts a change that raced the signature as an addendum (`CF-SIGN-RACE`).
    pub fn adopt_sign_race(&self, id: RecordId, change_hash: &str, reason: &str) -> Result<Uuid> {
        self.edit(id, |d, actor, at| {
            doc::adopt_sign_race(d, change_hash, reason, actor, at)
        })
    }

    /// Rejects a change that raced the signature; it stays in history (`CF-SIGN-RACE`).
    pub fn reject_sign_race(&self, id: RecordId, change_hash: &str, reason: &str) -> Result<()> {
        self.edit(id, |d, actor, at| {
            doc::reject_sign_race(d, change_hash, reason, actor, at)
        })
    }

    /// Moves an equipment request through the workflow (W1–W19); refusals are
    /// `NotPermitted { rule_id }` in the order DOMAIN.md §3.6 gives.
    pub fn transition(
        &self,
        id: RecordId,
        to: Status,
        mut input: TransitionInput,
    ) -> Result<Status> {
        let req: EquipmentRequest = self.typed(id)?;
        let ra = match req.risk_assessment_id {
            Some(ra_id) => self.typed(RecordId::from_uuid(ra_id)).ok(),
            None => None,
        };
        let open: Vec<String> = self.conflicts(id)?.into_iter().map(|c| c.path).collect();
        input.at = self.now();
        let ctx = WorkflowContext {
            tier2_cost_pence: self.config.tier2_cost_pence,
            risk_assessment: ra.as_ref(),
            open_conflicts: &open,
            thresholds: self.config.thresholds(),
        };
        let t = workflow::transition(&req, to, &self.actor, self.today(), input, &ctx)?;
        let fields = match serde_json::to_value(&t) {
            Ok(Json::Object(m)) => m,
            Ok(_) | Err(_) => return Err(Error::Internal("transition did not serialize".into())),
        };
        self.edit(id, |d, actor, at| {
            doc::add_item(d, "transitions", fields, actor, at)
        })?;
        Ok(t.to)
    }

    /// Evaluates a referral's eligibility as of `as_of` (default: the referral's
    /// `received_on`, else today) and stores the snapshot with the ruleset version.
    pub fn evaluate_eligibility(
        &self,
        referral_id: RecordId,
        as_of: Option<NaiveDate>,
    ) -> Result<EligibilityOutcome> {
        let referral: Referral = self.typed(referral_id)?;
        let child_id = referral.envelope.child_id.ok_or_else(|| Error::Corrupt {
            record: Some(referral_id),
            detail: "referral without child_id".into(),
        })?;
        let child: Child = self.typed(child_id)?;
        let service = referral.service.ok_or_else(|| Error::Validation {
            issues: vec![crate::rules::fields::required("service", "The service")],
        })?;
        let as_of = as_of
            .or_else(|| eligibility::triage_as_of(&referral))
            .unwrap_or_else(|| self.today());
        let outcome = eligibility::evaluate(service, &child, &referral, as_of, &self.config);
        let snapshot =
            eligibility::snapshot(outcome.clone(), as_of, self.now(), self.actor.user_id);
        let snapshot_json = serde_json::to_value(&snapshot)
            .map_err(|e| Error::Internal(format!("eligibility snapshot: {e}")))?;
        // An accepted exception (`RK-ELIG-OVERRIDE`) survives re-evaluation: the snapshot
        // keeps the computed outcome beside it.
        let disposition = if referral.eligibility_override.is_some() {
            crate::model::referral::Disposition::Accepted
        } else {
            eligibility::disposition_for(service, &outcome)
        };
        let disposition_json = serde_json::to_value(disposition)
            .map_err(|e| Error::Internal(format!("disposition: {e}")))?;
        self.edit(referral_id, |d, actor, at| {
            doc::set_derived(d, "eligibility", &snapshot_json, actor, at)?;
            if let Json::String(code) = disposition_json {
                doc::set_scalar(d, "disposition", Scalar::Str(code), actor, at)?;
            }
            Ok(())
        })?;
        Ok(outcome)
    }

    /// The role of the acting user, for screens that offer actions by role.
    pub fn role(&self) -> Role {
        self.actor.role
    }
}

fn service_code(s: Service) -> String {
    match s {
        Service::Health => "health".into(),
        Service::SocialCare => "social_care".into(),
    }
}

fn json_code<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(Json::String(s)) => Ok(s),
        _ => Err(Error::Internal("code did not serialize to a string".into())),
    }
}

fn child_id_of(content: &Json) -> Option<RecordId> {
    content.get("child_id")?.as_str()?.parse().ok()
}

/// Checks the document still deserializes into its typed model; a mismatch is wrong-type
/// input (`FLD-FORMAT`), refused so nothing is saved.
fn check_shape(d: &AutoCommit, schema: Schema) -> Result<()> {
    let json = doc::to_json(d)?;
    let res = match schema {
        Schema::Child => from_json::<Child>(json).map(drop),
        Schema::Referral => from_json::<Referral>(json).map(drop),
        Schema::Assessment => from_json::<crate::model::assessment::Assessment>(json).map(drop),
        Schema::RiskAssessment => from_json::<crate::model::risk::RiskAssessment>(json).map(drop),
        Schema::EquipmentRequest => from_json::<EquipmentRequest>(json).map(drop),
    };
    res.map_err(|e| match e {
        Error::Corrupt { detail, .. } => Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: format!("the value does not fit the field: {detail}"),
        },
        other => other,
    })
}

/// The issues of one validation run.
impl ValidationReport {
    /// Whether sign/submit may go ahead.
    pub fn is_clear(&self) -> bool {
        self.blocking.is_empty()
    }
}
