//! Signing as document operations (DOMAIN.md §4, §6): signature and lock (`RK-SIGN`,
//! `RK-SIGN-LOCK`), addenda and amended values (`RK-ADDENDUM`, `RK-AMEND`), countersignature
//! (`RK-COUNTERSIGN`), entered in error (`RK-EIE`), changes that raced the signature
//! (`CF-SIGN-RACE`, hazard `SAF-SIGN-RACE`) and rule-breach flags (`CF-RULE-BREACH`).
//!
//! The rule checks that decide whether a record may be signed (no ERROR, every WARN
//! acknowledged, the signer's HCPC registration) belong to the caller, with the rules module;
//! this module provides the mechanics and the lock. It does refuse what would make the
//! document itself wrong: signing with an open conflict (`CF-BLOCK`), a second signature, a
//! countersignature of a non-AP signature or by someone not HCPC-registered that day.

use std::collections::HashSet;
use std::str::FromStr;

use automerge::{transaction::Transactable, AutoCommit, ChangeHash, Prop};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    conflict::conflicts,
    history::{change_paths, Graph},
    json::{get_in, put_json, set_in, to_json, to_json_at},
    meta::{format_instant, mutate, Action, Attribution},
    path::{ensure_map, lookup, path_within, FieldPath},
    record::{
        check_writable, record_id, record_schema, status_is_eie, FLAGS, RECORD_STATUS,
        SIGN_RACE_DECISIONS,
    },
};
use crate::{
    error::{Error, Result},
    model::{
        common::{
            item_list, sign_state as derive_sign_state, Addendum, Item, RecordStatus, Schema,
            SignState, Signature,
        },
        user::{Actor, Role},
    },
    rules::dates::local_date as london_date,
};

/// Where a signable schema keeps `signature`, `countersignature` and `addenda`: section J of a
/// home-visit form, the root of a risk assessment. Other records are not signed.
pub(crate) fn signature_base(schema: Schema) -> Option<&'static [&'static str]> {
    match schema {
        Schema::Assessment => Some(&["sections", "J"]),
        Schema::RiskAssessment => Some(&[]),
        Schema::Child | Schema::Referral | Schema::EquipmentRequest => None,
    }
}

fn base_path(schema: Schema, key: &str) -> Result<Vec<String>> {
    let base = signature_base(schema).ok_or_else(|| Error::NotPermitted {
        rule_id: "RK-SIGN".into(),
        detail: "only home-visit assessments and risk assessments are signed".into(),
    })?;
    Ok(base
        .iter()
        .map(|s| (*s).to_owned())
        .chain([key.to_owned()])
        .collect())
}

fn not_permitted(rule: &str, detail: impl Into<String>) -> Error {
    Error::NotPermitted {
        rule_id: rule.into(),
        detail: detail.into(),
    }
}

fn corrupt(doc: &AutoCommit, detail: String) -> Error {
    Error::Corrupt {
        record: record_id(doc).ok(),
        detail,
    }
}

fn read_at<T: for<'de> Deserialize<'de>>(doc: &AutoCommit, segs: &[String]) -> Result<Option<T>> {
    match super::json::value_at(doc, &segs.join("."), None)? {
        None | Some(Json::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| corrupt(doc, format!("`{}`: {e}", segs.join(".")))),
    }
}

/// The signature, if the record is signed (`RK-SIGN`).
pub fn signature(doc: &AutoCommit) -> Result<Option<Signature>> {
    let schema = record_schema(doc)?;
    match signature_base(schema) {
        Some(_) => read_at(doc, &base_path(schema, "signature")?),
        None => Ok(None),
    }
}

/// The countersignature, if any (`RK-COUNTERSIGN`).
pub fn countersignature(doc: &AutoCommit) -> Result<Option<Signature>> {
    let schema = record_schema(doc)?;
    match signature_base(schema) {
        Some(_) => read_at(doc, &base_path(schema, "countersignature")?),
        None => Ok(None),
    }
}

/// The record status (`RK-EIE`).
pub fn record_status(doc: &AutoCommit) -> Result<RecordStatus> {
    read_at(doc, &[RECORD_STATUS.to_owned()])?
        .ok_or_else(|| corrupt(doc, "the document has no record_status".into()))
}

/// Where a signable record stands: draft, signed (OT/approver), awaiting countersignature
/// (AP), countersigned, entered in error. Derived from the document, never stored.
pub fn sign_state(doc: &AutoCommit) -> Result<SignState> {
    Ok(derive_sign_state(
        &record_status(doc)?,
        signature(doc)?.as_ref(),
        countersignature(doc)?.as_ref(),
    ))
}

fn signature_json(actor: &Actor, at: DateTime<Utc>, heads: &[ChangeHash]) -> Json {
    let mut sig = json!({
        "user_id": actor.user_id.hyphenated().to_string(),
        "role": actor.role.as_str(),
        "signed_at": format_instant(at),
        "signed_heads": heads.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    if let (Some(n), Json::Object(m)) = (&actor.hcpc_number, &mut sig) {
        m.insert("hcpc_number".into(), Json::String(n.clone()));
    }
    sig
}

fn ensure_not_eie(doc: &AutoCommit) -> Result<()> {
    if status_is_eie(doc) {
        Err(not_permitted(
            "RK-EIE",
            "the record is entered in error and cannot be changed",
        ))
    } else {
        Ok(())
    }
}

/// Signs the record (`RK-SIGN`): records `signature { user_id, role, signed_at, signed_heads,
/// hcpc_number }`, `signed_heads` being the heads just before the signing change. From then on
/// direct edits fail with `SignedRecord` (`RK-SIGN-LOCK`). An OT's or approver's signature
/// makes the record `signed`, an AP's `awaiting_countersignature`. Refused with an open
/// conflict (`CF-BLOCK`), for the `system` role, for an OT or approver not HCPC-registered on
/// the (Europe/London) day of `at`, and when already signed.
pub fn sign(doc: &mut AutoCommit, actor: &Actor, at: DateTime<Utc>) -> Result<SignState> {
    let schema = record_schema(doc)?;
    let segs = base_path(schema, "signature")?;
    if actor.role == Role::System {
        return Err(not_permitted("RK-SIGN", "the system never signs"));
    }
    // An OT's or approver's signature is final (`signed`), so it needs the same HCPC
    // registration on the day as a countersignature; an AP's awaits one.
    if matches!(actor.role, Role::Ot | Role::Approver) && !actor.hcpc_registered_on(london_date(at))
    {
        return Err(not_permitted(
            "RK-SIGN",
            "signing as an OT or approver needs HCPC registration on the signing date",
        ));
    }
    super::record::ensure_editable(doc)?;
    let open = conflicts(doc)?;
    if !open.is_empty() {
        return Err(Error::Conflict {
            paths: open.into_iter().map(|c| c.path).collect(),
        });
    }
    let heads = doc.get_heads();
    let sig = signature_json(actor, at, &heads);
    mutate(doc, actor, Action::Sign, at, |doc| {
        let (last, parent) = split(&segs)?;
        let parent = ensure_map(doc, parent)?;
        put_json(
            doc,
            &parent,
            Prop::Map(last.clone()),
            &sig,
            &mut segs.clone(),
            &|_| false,
        )
    })?;
    sign_state(doc)
}

fn split(segs: &[String]) -> Result<(&String, &[String])> {
    segs.split_last()
        .ok_or_else(|| Error::Internal("empty path".into()))
}

/// Countersigns an AP's signature (`RK-COUNTERSIGN`): by an OT or approver HCPC-registered on
/// the (Europe/London) day of `at`. The record becomes `countersigned`.
pub fn countersign(doc: &mut AutoCommit, actor: &Actor, at: DateTime<Utc>) -> Result<SignState> {
    let schema = record_schema(doc)?;
    let segs = base_path(schema, "countersignature")?;
    ensure_not_eie(doc)?;
    let Some(sig) = signature(doc)? else {
        return Err(not_permitted("RK-COUNTERSIGN", "the record is not signed"));
    };
    if sig.role != Role::Ap {
        return Err(not_permitted(
            "RK-COUNTERSIGN",
            "only an AP's signature needs countersignature",
        ));
    }
    if countersignature(doc)?.is_some() {
        return Err(not_permitted(
            "RK-COUNTERSIGN",
            "the record is already countersigned",
        ));
    }
    if !actor.hcpc_registered_on(london_date(at)) {
        return Err(not_permitted(
            "RK-COUNTERSIGN",
            "countersignature needs an OT or approver HCPC-registered that day",
        ));
    }
    let heads = doc.get_heads();
    let cs = signature_json(actor, at, &heads);
    mutate(doc, actor, Action::Countersign, at, |doc| {
        let (last, parent) = split(&segs)?;
        let parent = ensure_map(doc, parent)?;
        put_json(
            doc,
            &parent,
            Prop::Map(last.clone()),
            &cs,
            &mut segs.clone(),
            &|_| false,
        )
    })?;
    sign_state(doc)
}

/// One field an addendum changes (`RK-AMEND`): its path and the value from now on. The value
/// as signed is taken from the signed document, not from the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldAmendment {
    /// The field path, e.g. `sections.A.visit_date`.
    pub path: String,
    /// The new value (JSON view form: integers in stored units, codes, dates).
    pub new_value: Json,
}

/// The signing facts every post-signing operation needs.
struct Signed {
    /// The change that wrote the signature.
    change: ChangeHash,
    /// The heads the signature covers.
    heads: Vec<ChangeHash>,
    schema: Schema,
}

fn signed_facts(doc: &AutoCommit) -> Result<Option<Signed>> {
    let schema = record_schema(doc)?;
    if signature_base(schema).is_none() {
        return Ok(None);
    }
    let segs = base_path(schema, "signature")?;
    let Some(sig) = signature(doc)? else {
        return Ok(None);
    };
    let Some((_, id)) = lookup(doc, &segs, None)? else {
        return Ok(None);
    };
    let change = doc
        .hash_for_opid(&id)
        .ok_or_else(|| corrupt(doc, "no change wrote the signature".into()))?;
    let heads = sig
        .signed_heads
        .iter()
        .map(|h| ChangeHash::from_str(h))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| corrupt(doc, format!("signed_heads: {e}")))?;
    Ok(Some(Signed {
        change,
        heads,
        schema,
    }))
}

fn require_signed(doc: &AutoCommit, rule: &str) -> Result<Signed> {
    signed_facts(doc)?.ok_or_else(|| not_permitted(rule, "the record is not signed"))
}

fn check_reason(rule: &str, what: &str, s: &str, max: usize) -> Result<()> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > max {
        return Err(Error::InvalidInput {
            rule_id: rule.into(),
            detail: format!("{what} must be 1–{max} characters and not blank"),
        });
    }
    Ok(())
}

/// Adds an addendum to a signed record (`RK-ADDENDUM`): `{ text, field_changes[] { path,
/// signed_value, new_value }, reason, author, role, at }` in the `addenda` item list, one
/// `addendum` change. `signed_value` is read from the document at `signed_heads`. The new
/// values become the fields' effective values (`RK-AMEND`); the originals stay in the signed
/// view. Returns the addendum's item id.
pub fn add_addendum(
    doc: &mut AutoCommit,
    text: &str,
    changes: &[FieldAmendment],
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Uuid> {
    let signed = require_signed(doc, "RK-ADDENDUM")?;
    ensure_not_eie(doc)?;
    if actor.role == Role::System {
        return Err(not_permitted(
            "RK-ADDENDUM",
            "the system never writes addenda",
        ));
    }
    check_reason("RK-ADDENDUM", "the addendum text", text, 10_000)?;
    check_reason("RK-ADDENDUM", "the reason", reason, 500)?;
    let signed_json = to_json_at(doc, &signed.heads)?;
    let mut field_changes = Vec::with_capacity(changes.len());
    for c in changes {
        let p = FieldPath::parse(&c.path)?;
        check_writable(signed.schema, &p)?;
        field_changes.push(json!({
            "path": p.to_string(),
            "signed_value": get_in(&signed_json, p.segments()).cloned().unwrap_or(Json::Null),
            "new_value": c.new_value,
        }));
    }
    write_addendum(
        doc,
        &signed,
        Uuid::new_v4(),
        text,
        field_changes,
        reason,
        None,
        actor,
        at,
        None,
    )
}

#[allow(clippy::too_many_arguments)] // one private writer shared by addenda and adoptions
fn write_addendum(
    doc: &mut AutoCommit,
    signed: &Signed,
    item_id: Uuid,
    text: &str,
    field_changes: Vec<Json>,
    reason: &str,
    original_author: Option<Uuid>,
    actor: &Actor,
    at: DateTime<Utc>,
    decision: Option<(String, Json)>,
) -> Result<Uuid> {
    let mut item = json!({
        "item_id": item_id.hyphenated().to_string(),
        "added_at": format_instant(at),
        "added_by": actor.user_id.hyphenated().to_string(),
        "text": text,
        "field_changes": field_changes,
        "reason": reason,
        "author": actor.user_id.hyphenated().to_string(),
        "role": actor.role.as_str(),
        "at": format_instant(at),
    });
    if let (Some(o), Json::Object(m)) = (original_author, &mut item) {
        m.insert(
            "original_author".into(),
            Json::String(o.hyphenated().to_string()),
        );
    }
    let list = base_path(signed.schema, "addenda")?;
    mutate(doc, actor, Action::Addendum, at, |doc| {
        let obj = ensure_map(doc, &list)?;
        let key = item_id.hyphenated().to_string();
        let mut p: Vec<String> = list.iter().cloned().chain([key.clone()]).collect();
        // Addenda are written once and never edited, so their text is a plain string.
        put_json(doc, &obj, Prop::Map(key), &item, &mut p, &|_| false)?;
        if let Some((hash, d)) = &decision {
            put_decision(doc, hash, d)?;
        }
        Ok(())
    })?;
    Ok(item_id)
}

#[derive(Deserialize)]
struct Addenda(#[serde(with = "item_list")] Vec<Item<Addendum>>);

/// The addenda of a signed record, oldest first (by `added_at`, then item id).
pub fn addenda(doc: &AutoCommit) -> Result<Vec<Item<Addendum>>> {
    let schema = record_schema(doc)?;
    if signature_base(schema).is_none() {
        return Ok(Vec::new());
    }
    Ok(read_at::<Addenda>(doc, &base_path(schema, "addenda")?)?
        .map(|a| a.0)
        .unwrap_or_default())
}

/// The signed view (`CF-SIGN-RACE`): the document at `signed_heads`, plus the signature,
/// countersignature, addenda, status, flags and race decisions written since. Changes that
/// raced the signature or broke the lock are not in it. Field values are as signed; see
/// [`effective_view`] for the amended ones.
pub fn signed_view(doc: &AutoCommit) -> Result<Json> {
    let signed = require_signed(doc, "RK-SIGN")?;
    let mut view = to_json_at(doc, &signed.heads)?;
    let now = to_json(doc)?;
    let mut overlay: Vec<Vec<String>> = ["signature", "countersignature", "addenda"]
        .iter()
        .map(|k| base_path(signed.schema, k))
        .collect::<Result<_>>()?;
    overlay.extend([RECORD_STATUS, FLAGS, SIGN_RACE_DECISIONS].map(|k| vec![k.to_owned()]));
    for segs in overlay {
        if let Some(v) = get_in(&now, &segs) {
            set_in(&mut view, &segs, v.clone());
        }
    }
    Ok(view)
}

/// The effective view (`RK-AMEND`): the signed view with each field an addendum changed set to
/// the latest addendum's value. For an unsigned record, the current document.
pub fn effective_view(doc: &AutoCommit) -> Result<Json> {
    if signed_facts(doc)?.is_none() {
        return to_json(doc);
    }
    let mut view = signed_view(doc)?;
    for a in addenda(doc)? {
        for fc in &a.data.field_changes {
            let segs: Vec<String> = fc.path.split('.').map(str::to_owned).collect();
            set_in(&mut view, &segs, fc.new_value.clone());
        }
    }
    Ok(view)
}

/// Who amended a field and why (`RK-AMEND`).
#[derive(Debug, Clone, PartialEq)]
pub struct Amendment {
    /// The addendum's item id.
    pub addendum_id: Uuid,
    /// Its author.
    pub author: Uuid,
    /// The author's role.
    pub role: Role,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// A field's effective value with its signed original (`RK-AMEND`).
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveValue {
    /// The value in force: the latest addendum's, else the signed one (else the current one,
    /// for an unsigned record).
    pub value: Option<Json>,
    /// The value as signed (for an unsigned record, the current value).
    pub signed_value: Option<Json>,
    /// The latest addendum that changed it, when one did; the original stays visible.
    pub amended_by: Option<Amendment>,
}

/// The effective value of one field (`RK-AMEND`).
pub fn effective_value(doc: &AutoCommit, path: &str) -> Result<EffectiveValue> {
    let p = FieldPath::parse(path)?;
    if signed_facts(doc)?.is_none() {
        let v = super::json::value_at(doc, path, None)?;
        return Ok(EffectiveValue {
            value: v.clone(),
            signed_value: v,
            amended_by: None,
        });
    }
    let signed = signed_view(doc)?;
    let effective = effective_view(doc)?;
    let mut amended_by = None;
    for a in addenda(doc)? {
        let touches = a.data.field_changes.iter().any(|fc| {
            let fp = FieldPath::from_segments(fc.path.split('.').map(str::to_owned).collect());
            p.is_within(&fp) || fp.is_within(&p)
        });
        if touches {
            amended_by = Some(Amendment {
                addendum_id: a.item_id,
                author: a.data.author,
                role: a.data.role,
                at: a.data.at,
                reason: a.data.reason.clone(),
            });
        }
    }
    Ok(EffectiveValue {
        value: get_in(&effective, p.segments()).cloned(),
        signed_value: get_in(&signed, p.segments()).cloned(),
        amended_by,
    })
}

/// Marks the record entered in error (`RK-EIE`): by an OT or approver, with a reason
/// (1–500 characters). Record and history are kept; it cannot be undone and every later edit
/// is refused.
pub fn mark_entered_in_error(
    doc: &mut AutoCommit,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    record_schema(doc)?;
    if !matches!(actor.role, Role::Ot | Role::Approver) {
        return Err(not_permitted(
            "RK-EIE",
            "only an OT or approver marks a record entered in error",
        ));
    }
    if is_entered_in_error(doc)? {
        return Err(not_permitted(
            "RK-EIE",
            "the record is already entered in error",
        ));
    }
    check_reason("RK-EIE", "the reason", reason, 500)?;
    mutate(doc, actor, Action::EnteredInError, at, |doc| {
        let status = ensure_map(doc, &[RECORD_STATUS.to_owned()])?;
        doc.put(&status, "state", "entered_in_error")?;
        doc.put(&status, "reason", reason)?;
        doc.put(&status, "user_id", actor.user_id.hyphenated().to_string())?;
        doc.put(&status, "at", format_instant(at))?;
        Ok(())
    })?;
    Ok(())
}

/// Whether the record is entered in error (`RK-EIE`): its status says so, or any attributed
/// change ever marked it — a later change cannot undo that.
pub fn is_entered_in_error(doc: &mut AutoCommit) -> Result<bool> {
    if status_is_eie(doc) {
        return Ok(true);
    }
    let graph = Graph::load(doc);
    Ok(graph
        .nodes
        .values()
        .any(|n| n.attribution.action() == Some(Action::EnteredInError)))
}

/// Paths a change after signing may touch without breaking the lock.
fn post_sign_paths(schema: Schema) -> Result<Vec<String>> {
    let mut v: Vec<String> = ["countersignature", "addenda"]
        .iter()
        .map(|k| base_path(schema, k).map(|s| s.join(".")))
        .collect::<Result<_>>()?;
    v.extend([RECORD_STATUS, FLAGS, SIGN_RACE_DECISIONS].map(str::to_owned));
    Ok(v)
}

fn outside(paths: &[String], allowed: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| !allowed.iter().any(|a| path_within(p, a)))
        .cloned()
        .collect()
}

/// What was decided about a sign race (`CF-SIGN-RACE`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RaceDecision {
    /// `adopted` or `rejected`.
    pub decision: String,
    /// Why.
    pub reason: String,
    /// Who decided.
    pub user_id: Uuid,
    /// Their role.
    pub role: Role,
    /// When.
    pub at: DateTime<Utc>,
    /// The addendum that adopted it, when adopted.
    pub addendum_id: Option<Uuid>,
}

/// A change concurrent with the signature (`CF-SIGN-RACE`, `SAF-SIGN-RACE`): neither an
/// ancestor of `signed_heads` nor built on the signing change. Kept in the document, left out
/// of the signed view; the record is flagged while any race is undecided.
#[derive(Debug, Clone, PartialEq)]
pub struct SignRace {
    /// The racing change (hex hash).
    pub change_hash: String,
    /// Who made it (`RK-ATTRIB`).
    pub attribution: Attribution,
    /// The fields it touched.
    pub paths: Vec<String>,
    /// The decision, once an HCPC-registered OT adopted or rejected it.
    pub decision: Option<RaceDecision>,
}

/// The changes that raced the signature, with their decisions; empty when unsigned.
pub fn sign_races(doc: &mut AutoCommit) -> Result<Vec<SignRace>> {
    let Some(signed) = signed_facts(doc)? else {
        return Ok(Vec::new());
    };
    let graph = Graph::load(doc);
    let covered = graph.ancestors(&signed.heads);
    let after = graph.descendants(signed.change);
    let allowed = post_sign_paths(signed.schema)?;
    let mut out = Vec::new();
    for h in &graph.order {
        if covered.contains(h) || after.contains(h) {
            continue;
        }
        let paths = outside(&change_paths(doc, &graph, *h), &allowed);
        if paths.is_empty() {
            continue;
        }
        let key = h.to_string();
        let decision =
            read_at::<RaceDecision>(doc, &[SIGN_RACE_DECISIONS.to_owned(), key.clone()])?;
        out.push(SignRace {
            change_hash: key,
            attribution: graph.nodes.get(h).map(|n| n.attribution.clone()).unwrap_or(
                Attribution::Unattributed {
                    reason: "[RK-ATTRIB] unknown change".into(),
                },
            ),
            paths,
            decision,
        });
    }
    Ok(out)
}

/// The races still waiting for a decision; the record is flagged while this is not empty.
pub fn open_sign_races(doc: &mut AutoCommit) -> Result<Vec<SignRace>> {
    Ok(sign_races(doc)?
        .into_iter()
        .filter(|r| r.decision.is_none())
        .collect())
}

fn open_race(
    doc: &mut AutoCommit,
    change_hash: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<SignRace> {
    if !actor.hcpc_registered_on(london_date(at)) {
        return Err(not_permitted(
            "CF-SIGN-RACE",
            "only an OT HCPC-registered that day decides on a change that raced the signature",
        ));
    }
    ensure_not_eie(doc)?;
    let race = sign_races(doc)?
        .into_iter()
        .find(|r| r.change_hash == change_hash)
        .ok_or_else(|| {
            not_permitted(
                "CF-SIGN-RACE",
                format!("{change_hash} did not race the signature"),
            )
        })?;
    if race.decision.is_some() {
        return Err(not_permitted(
            "CF-SIGN-RACE",
            "this race has already been decided",
        ));
    }
    Ok(race)
}

fn put_decision(doc: &mut AutoCommit, hash: &str, d: &Json) -> Result<()> {
    let map = ensure_map(doc, &[SIGN_RACE_DECISIONS.to_owned()])?;
    let mut p = vec![SIGN_RACE_DECISIONS.to_owned(), hash.to_owned()];
    put_json(doc, &map, Prop::Map(hash.to_owned()), d, &mut p, &|_| false)
}

fn decision_json(
    hash: &str,
    decision: &str,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Json {
    json!({
        "change_hash": hash,
        "decision": decision,
        "reason": reason,
        "user_id": actor.user_id.hyphenated().to_string(),
        "role": actor.role.as_str(),
        "at": format_instant(at),
        "added_at": format_instant(at),
        "added_by": actor.user_id.hyphenated().to_string(),
    })
}

/// Adopts a change that raced the signature as an addendum (`CF-SIGN-RACE`): by an OT
/// HCPC-registered that day, with a reason; the addendum credits the change's author
/// (`original_author`) and amends each field it touched to the value it wrote. Returns the
/// addendum id.
pub fn adopt_sign_race(
    doc: &mut AutoCommit,
    change_hash: &str,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Uuid> {
    check_reason("CF-SIGN-RACE", "the reason", reason, 500)?;
    let race = open_race(doc, change_hash, actor, at)?;
    let signed = require_signed(doc, "CF-SIGN-RACE")?;
    let race_hash = ChangeHash::from_str(change_hash).map_err(|e| Error::InvalidInput {
        rule_id: "CF-SIGN-RACE".into(),
        detail: e.to_string(),
    })?;
    let signed_json = to_json_at(doc, &signed.heads)?;
    // The signed document plus the racing change (and what it builds on).
    let mut with_race = signed.heads.clone();
    with_race.push(race_hash);
    let raced_json = to_json_at(doc, &with_race)?;
    let field_changes: Vec<Json> = race
        .paths
        .iter()
        .map(|p| {
            let segs: Vec<String> = p.split('.').map(str::to_owned).collect();
            json!({
                "path": p,
                "signed_value": get_in(&signed_json, &segs).cloned().unwrap_or(Json::Null),
                "new_value": get_in(&raced_json, &segs).cloned().unwrap_or(Json::Null),
            })
        })
        .collect();
    let original = race.attribution.user_id();
    let text = format!("Adopted a change made concurrently with signing ({change_hash}).");
    let mut d = decision_json(change_hash, "adopted", reason, actor, at);
    // The decision names the addendum, so the id is chosen before both are written.
    let id_slot = Uuid::new_v4();
    if let Json::Object(m) = &mut d {
        m.insert(
            "addendum_id".into(),
            Json::String(id_slot.hyphenated().to_string()),
        );
    }
    write_addendum(
        doc,
        &signed,
        id_slot,
        &text,
        field_changes,
        reason,
        original,
        actor,
        at,
        Some((change_hash.to_owned(), d)),
    )
}

/// Rejects a change that raced the signature (`CF-SIGN-RACE`): by an OT HCPC-registered that
/// day, with a reason. The change stays in history and out of the signed view.
pub fn reject_sign_race(
    doc: &mut AutoCommit,
    change_hash: &str,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    check_reason("CF-SIGN-RACE", "the reason", reason, 500)?;
    open_race(doc, change_hash, actor, at)?;
    let d = decision_json(change_hash, "rejected", reason, actor, at);
    mutate(doc, actor, Action::Resolve, at, |doc| {
        put_decision(doc, change_hash, &d)
    })?;
    Ok(())
}

/// A rule breach found in the change graph (`CF-RULE-BREACH`).
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The rule broken (`RK-SIGN-LOCK`, `RK-EIE`).
    pub rule_id: String,
    /// The offending change (hex hash).
    pub change_hash: String,
    /// Who made it.
    pub attribution: Attribution,
    /// What it touched that it should not have.
    pub paths: Vec<String>,
}

/// A recorded rule-breach flag (`CF-RULE-BREACH`), an item of the root `flags` list; it syncs
/// to every device with the document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Flag {
    /// Stable id, derived from rule and change so two devices recording the same breach agree.
    pub item_id: Uuid,
    /// The rule broken.
    pub rule_id: String,
    /// The offending change (hex hash).
    pub change_hash: String,
    /// Plain-language detail.
    pub detail: String,
    /// When it was recorded.
    pub added_at: DateTime<Utc>,
    /// Who recorded it (a device's user, or [`SYSTEM_USER_ID`] for the team server).
    pub added_by: Uuid,
    /// The list item the breach is about (a transition's `item_id`), when there is one: a
    /// flagged transition does not count towards the request's status.
    pub item: Option<Uuid>,
    /// The change's true author as the team server knows it from the connection that
    /// delivered it (`RK-ATTRIB`); `None` on flags a device recorded.
    pub author: Option<FlagAuthor>,
}

/// Breaches visible in the change graph: changes built on the signing change that touch
/// anything but countersignature, addenda, status, flags and race decisions (an edit after
/// signing that arrived by sync, `RK-SIGN-LOCK`), and changes built on an entered-in-error
/// change that touch anything but flags (`RK-EIE`). Such changes are kept, never applied to
/// the signed or effective view.
pub fn rule_breaches(doc: &mut AutoCommit) -> Result<Vec<Breach>> {
    let graph = Graph::load(doc);
    let mut out = Vec::new();
    let mut check = |doc: &mut AutoCommit, root: ChangeHash, rule: &str, allowed: &[String]| {
        for h in graph.descendants(root) {
            if h == root {
                continue;
            }
            let paths = outside(&change_paths(doc, &graph, h), allowed);
            if !paths.is_empty() {
                out.push(Breach {
                    rule_id: rule.to_owned(),
                    change_hash: h.to_string(),
                    attribution: graph
                        .nodes
                        .get(&h)
                        .map(|n| n.attribution.clone())
                        .unwrap_or(Attribution::Unattributed {
                            reason: "[RK-ATTRIB] unknown change".into(),
                        }),
                    paths,
                });
            }
        }
    };
    if let Some(signed) = signed_facts(doc)? {
        let allowed = post_sign_paths(signed.schema)?;
        check(doc, signed.change, "RK-SIGN-LOCK", &allowed);
    }
    let eie: Vec<ChangeHash> = graph
        .order
        .iter()
        .filter(|h| super::history::action_of(&graph, h) == Some(Action::EnteredInError))
        .copied()
        .collect();
    for h in eie {
        check(doc, h, "RK-EIE", &[FLAGS.to_owned()]);
    }
    out.sort_by(|a, b| (&a.rule_id, &a.change_hash).cmp(&(&b.rule_id, &b.change_hash)));
    out.dedup_by(|a, b| a.rule_id == b.rule_id && a.change_hash == b.change_hash);
    Ok(out)
}

fn flag_id(rule: &str, hash: &str) -> Uuid {
    let digest = Sha256::digest(format!("{rule}|{hash}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[derive(Deserialize)]
struct Flags(#[serde(default)] std::collections::BTreeMap<String, Json>);

/// The recorded rule-breach flags, oldest first. An entry that does not read as a flag (a
/// modified client wrote it) is left out, so it cannot hide the others.
pub fn flags(doc: &AutoCommit) -> Result<Vec<Flag>> {
    let mut v: Vec<Flag> = read_at::<Flags>(doc, &[FLAGS.to_owned()])?
        .map(|f| {
            f.0.into_values()
                .filter_map(|j| serde_json::from_value(j).ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|f| (f.added_at, f.item_id));
    Ok(v)
}

/// Records a flag for each breach [`rule_breaches`] finds that is not flagged yet, in one
/// change (action `edit`, touching only `flags`), and returns the new flags. Run after merging
/// changes from elsewhere, on a device or on the server.
pub fn record_rule_breaches(
    doc: &mut AutoCommit,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Vec<Flag>> {
    let known: HashSet<Uuid> = flags(doc)?.into_iter().map(|f| f.item_id).collect();
    let new: Vec<Flag> = rule_breaches(doc)?
        .into_iter()
        .map(|b| Flag {
            item_id: flag_id(&b.rule_id, &b.change_hash),
            detail: format!(
                "[{}] change {} by {} touched {} after it was locked",
                b.rule_id,
                b.change_hash,
                b.attribution
                    .user_id()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "an unattributed author".into()),
                b.paths.join(", ")
            ),
            rule_id: b.rule_id,
            change_hash: b.change_hash,
            added_at: DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at),
            added_by: actor.user_id,
            item: None,
            author: None,
        })
        .filter(|f| !known.contains(&f.item_id))
        .collect();
    if new.is_empty() {
        return Ok(new);
    }
    write_flags(doc, actor, at, &new)?;
    Ok(new)
}

/// The user id (and device id) under which the team server writes flags, with role
/// `system` (docs/DOCUMENT-LAYOUT.md "Flags"): the nil UUID.
pub const SYSTEM_USER_ID: Uuid = Uuid::nil();

/// Who really made a flagged change, as the team server knows it from the connection that
/// delivered it (`RK-ATTRIB`), whatever the change's own metadata says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagAuthor {
    /// The user of the delivering device.
    pub user_id: Uuid,
    /// That user's role in the server's tables.
    pub role: Role,
    /// The delivering device.
    pub device_id: Uuid,
    /// When the server received the change (UTC).
    pub received_at: DateTime<Utc>,
}

/// A flag to record with [`record_flags`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecordFlag {
    /// The rule broken.
    pub rule_id: String,
    /// The offending change (hex hash).
    pub change_hash: String,
    /// Plain-language detail.
    pub detail: String,
    /// The list item the breach is about (a transition's `item_id`), if one.
    pub item: Option<Uuid>,
    /// The change's true author, when the recorder knows it (the server).
    pub author: Option<FlagAuthor>,
}

fn flag_json(f: &Flag) -> Json {
    let mut v = json!({
        "item_id": f.item_id.hyphenated().to_string(),
        "added_at": format_instant(f.added_at),
        "added_by": f.added_by.hyphenated().to_string(),
        "rule_id": f.rule_id,
        "change_hash": f.change_hash,
        "detail": f.detail,
    });
    if let Some(item) = f.item {
        v["item"] = json!(item.hyphenated().to_string());
    }
    if let Some(a) = &f.author {
        v["author"] = json!({
            "user_id": a.user_id.hyphenated().to_string(),
            "role": a.role.as_str(),
            "device_id": a.device_id.hyphenated().to_string(),
            "received_at": format_instant(a.received_at),
        });
    }
    v
}

fn write_flags(doc: &mut AutoCommit, actor: &Actor, at: DateTime<Utc>, new: &[Flag]) -> Result<()> {
    mutate(doc, actor, Action::Edit, at, |doc| {
        let map = ensure_map(doc, &[FLAGS.to_owned()])?;
        for f in new {
            let key = f.item_id.hyphenated().to_string();
            let mut p = vec![FLAGS.to_owned(), key.clone()];
            put_json(doc, &map, Prop::Map(key), &flag_json(f), &mut p, &|_| false)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Records the given flags that are not recorded yet (by their stable ids), in one change
/// touching only `flags`, and returns the new ones. The team server calls this as the
/// `system` actor for the breaches it finds in received changes, with their true authors.
pub fn record_flags(
    doc: &mut AutoCommit,
    actor: &Actor,
    at: DateTime<Utc>,
    flags_in: &[NewRecordFlag],
) -> Result<Vec<Flag>> {
    // A hostile entry that does not read as a flag must not stop real flags being written.
    let known: HashSet<Uuid> = flags(doc)
        .map(|v| v.into_iter().map(|f| f.item_id).collect())
        .unwrap_or_default();
    let added_at = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
    let mut new: Vec<Flag> = Vec::new();
    for f in flags_in {
        let subject = match f.item {
            Some(item) => format!("{}|{}", f.change_hash, item.hyphenated()),
            None => f.change_hash.clone(),
        };
        let item_id = flag_id(&f.rule_id, &subject);
        if known.contains(&item_id) || new.iter().any(|n| n.item_id == item_id) {
            continue;
        }
        new.push(Flag {
            item_id,
            rule_id: f.rule_id.clone(),
            change_hash: f.change_hash.clone(),
            detail: f.detail.clone(),
            added_at,
            added_by: actor.user_id,
            item: f.item,
            author: f.author.clone(),
        });
    }
    if !new.is_empty() {
        write_flags(doc, actor, at, &new)?;
    }
    Ok(new)
}
