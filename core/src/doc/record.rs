//! Creating record documents with their envelope, and the targeted, path-addressed setters
//! every edit goes through (DESIGN.md: no whole-record reconcile). Each setter is one
//! attributed change (`RK-ATTRIB`) that touches only its path, refuses edits of a signed
//! (`RK-SIGN-LOCK`) or entered-in-error (`RK-EIE`) record, and refuses paths that only the
//! signing and status operations may write.

use automerge::{
    transaction::Transactable, AutoCommit, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value, ROOT,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{
    clinical,
    json::put_json,
    meta::{format_instant, mutate, Action},
    path::{ensure_map, lookup, valid_segment, FieldPath},
};
use crate::{
    error::{Error, Result},
    ids::RecordId,
    model::{
        common::{Schema, SCHEMA_VERSION},
        user::Actor,
    },
};

/// Root key of the rule-breach flags (`CF-RULE-BREACH`), an item map.
pub const FLAGS: &str = "flags";
/// Root key of the decisions on sign races (`CF-SIGN-RACE`), keyed by change hash.
pub const SIGN_RACE_DECISIONS: &str = "sign_race_decisions";
/// Root key of the warning acknowledgements (`FLD-ACK`), an item map.
pub const ACKS: &str = "acks";
/// Root key of the record status (`RK-EIE`).
pub const RECORD_STATUS: &str = "record_status";

/// A scalar value for [`set_scalar`]: the automerge types the layout uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// A string: a code, a date, a time, an instant, an id.
    Str(String),
    /// An integer in the field's stored unit (DOMAIN.md §1.1).
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An explicit "no value".
    Null,
}

impl From<Scalar> for ScalarValue {
    fn from(s: Scalar) -> Self {
        match s {
            Scalar::Str(s) => ScalarValue::Str(s.into()),
            Scalar::Int(i) => ScalarValue::Int(i),
            Scalar::Bool(b) => ScalarValue::Boolean(b),
            Scalar::Null => ScalarValue::Null,
        }
    }
}

/// The `schema` code of a record type, e.g. `homevisit/assessment`.
pub fn schema_code(schema: Schema) -> &'static str {
    match schema {
        Schema::Child => "homevisit/child",
        Schema::Referral => "homevisit/referral",
        Schema::Assessment => "homevisit/assessment",
        Schema::RiskAssessment => "homevisit/risk_assessment",
        Schema::EquipmentRequest => "homevisit/equipment_request",
    }
}

/// The record kind a `schema` code names; `None` for a code this version does not know.
pub fn parse_schema(s: &str) -> Option<Schema> {
    [
        Schema::Child,
        Schema::Referral,
        Schema::Assessment,
        Schema::RiskAssessment,
        Schema::EquipmentRequest,
    ]
    .into_iter()
    .find(|&sc| schema_code(sc) == s)
}

/// A string read from the document, whichever way it was written: a scalar `str` (this
/// layout) or a text object (stock automerge 3 clients write `repo.create({ team_id: "…" })`
/// strings as text). `None` for anything else.
pub fn string_value(doc: &impl ReadDoc, value: &Value<'_>, id: &ObjId) -> Option<String> {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Value::Object(ObjType::Text) => doc.text(id).ok(),
        Value::Object(_) => None,
    }
}

fn root_str(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(ROOT, key) {
        Ok(Some((v, id))) => string_value(doc, &v, &id),
        _ => None,
    }
}

/// The record's id, from the envelope. A document without a valid one is `Corrupt`.
pub fn record_id(doc: &AutoCommit) -> Result<RecordId> {
    root_str(doc, "id")
        .and_then(|s| s.parse::<RecordId>().ok())
        .ok_or_else(|| Error::Corrupt {
            record: None,
            detail: "the document has no valid `id`".into(),
        })
}

/// The record's schema, from the envelope. Unknown or missing is `Corrupt`.
pub fn record_schema(doc: &AutoCommit) -> Result<Schema> {
    root_str(doc, "schema")
        .as_deref()
        .and_then(parse_schema)
        .ok_or_else(|| Error::Corrupt {
            record: record_id(doc).ok(),
            detail: "the document has no known `schema`".into(),
        })
}

/// Creates a record document with its envelope (DOMAIN.md §3.1, docs/DOCUMENT-LAYOUT.md root)
/// as one `create` change by `actor`. Every schema except `homevisit/child` needs the child's
/// id; the child record must not have one (`SAF-WRONG-CHILD`: a record always names its child).
pub fn create(
    schema: Schema,
    id: RecordId,
    team_id: Uuid,
    child_id: Option<RecordId>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<AutoCommit> {
    match (schema, child_id) {
        (Schema::Child, Some(_)) => {
            return Err(Error::InvalidInput {
                rule_id: "SAF-WRONG-CHILD".into(),
                detail: "a child record has no child_id".into(),
            })
        }
        (Schema::Child, None) | (_, Some(_)) => {}
        (_, None) => {
            return Err(Error::InvalidInput {
                rule_id: "SAF-WRONG-CHILD".into(),
                detail: format!("a {} record needs the child's id", schema_code(schema)),
            })
        }
    }
    let mut doc = AutoCommit::new();
    mutate(&mut doc, actor, Action::Create, at, |doc| {
        doc.put(ROOT, "schema", schema_code(schema))?;
        doc.put(ROOT, "schema_version", SCHEMA_VERSION)?;
        doc.put(ROOT, "id", id.to_string())?;
        doc.put(ROOT, "team_id", team_id.hyphenated().to_string())?;
        if let Some(c) = child_id {
            doc.put(ROOT, "child_id", c.to_string())?;
        }
        doc.put(ROOT, "created_at", format_instant(at))?;
        doc.put(ROOT, "created_by", actor.user_id.hyphenated().to_string())?;
        let status = doc.put_object(ROOT, RECORD_STATUS, ObjType::Map)?;
        doc.put(&status, "state", "active")?;
        for key in [ACKS, FLAGS, SIGN_RACE_DECISIONS] {
            doc.put_object(ROOT, key, ObjType::Map)?;
        }
        for path in clinical::skeleton(schema) {
            let segs: Vec<String> = path.split('.').map(str::to_owned).collect();
            ensure_map(doc, &segs)?;
        }
        Ok(())
    })?;
    Ok(doc)
}

/// Whether the record is signed: a signature is present at the schema's signature path.
pub(crate) fn is_signed(doc: &AutoCommit, schema: Schema) -> bool {
    super::signing::signature_base(schema)
        .map(|base| {
            let segs = FieldPath::from_segments(
                base.iter()
                    .map(|s| (*s).to_owned())
                    .chain(["signature".to_owned()])
                    .collect(),
            );
            matches!(
                lookup(doc, segs.segments(), None),
                Ok(Some((Value::Object(_), _)))
            )
        })
        .unwrap_or(false)
}

/// Whether the record's current status is entered in error (`RK-EIE`).
pub(crate) fn status_is_eie(doc: &AutoCommit) -> bool {
    let segs = [RECORD_STATUS.to_owned(), "state".to_owned()];
    match lookup(doc, &segs, None) {
        Ok(Some((v, id))) => string_value(doc, &v, &id).as_deref() == Some("entered_in_error"),
        _ => false,
    }
}

/// Refuses direct edits of a record that is entered in error (`NotPermitted { RK-EIE }`) or
/// signed (`SignedRecord`, `RK-SIGN-LOCK`: new information goes in an addendum).
pub fn ensure_editable(doc: &AutoCommit) -> Result<()> {
    let schema = record_schema(doc)?;
    if status_is_eie(doc) {
        return Err(Error::NotPermitted {
            rule_id: "RK-EIE".into(),
            detail: "the record is entered in error and cannot be changed; re-create it".into(),
        });
    }
    if is_signed(doc, schema) {
        return Err(Error::SignedRecord(record_id(doc)?));
    }
    Ok(())
}

/// Paths only dedicated operations may write: the immutable envelope, the status, the
/// signature block, flags and sign-race decisions.
pub(crate) fn check_writable(schema: Schema, path: &FieldPath) -> Result<()> {
    let first = path
        .segments()
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let refuse = |rule: &str, what: &str| {
        Err(Error::NotPermitted {
            rule_id: rule.into(),
            detail: format!("`{path}` {what}"),
        })
    };
    match first {
        "id" | "schema" | "schema_version" | "team_id" | "child_id" | "created_at"
        | "created_by" => return refuse("SAF-WRONG-CHILD", "is part of the immutable envelope"),
        RECORD_STATUS => return refuse("RK-EIE", "changes only by marking entered in error"),
        FLAGS | SIGN_RACE_DECISIONS => {
            return refuse(
                "CF-RULE-BREACH",
                "is written only by breach and race handling",
            )
        }
        _ => {}
    }
    if let Some(base) = super::signing::signature_base(schema) {
        for key in ["signature", "countersignature", "addenda"] {
            let block: Vec<String> = base
                .iter()
                .map(|s| (*s).to_owned())
                .chain([key.to_owned()])
                .collect();
            if path.segments().starts_with(&block) {
                return refuse(
                    "RK-SIGN",
                    "is written only by signing, countersigning and addenda",
                );
            }
        }
    }
    Ok(())
}

/// The common guard of the direct-edit setters.
fn prepare(doc: &AutoCommit, path: &str) -> Result<(Schema, FieldPath)> {
    let schema = record_schema(doc)?;
    let path = FieldPath::parse(path)?;
    ensure_editable(doc)?;
    check_writable(schema, &path)?;
    Ok((schema, path))
}

/// Sets a scalar field (`str`, `int`, `bool`, `null`) at `path`, creating missing maps on the
/// way. Free-text fields are refused here (use [`set_text`], so concurrent typing merges,
/// `CF-TEXT`).
pub fn set_scalar(
    doc: &mut AutoCommit,
    path: &str,
    value: Scalar,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (schema, path) = prepare(doc, path)?;
    if clinical::is_text(schema, path.segments()) {
        return Err(Error::InvalidInput {
            rule_id: "CF-TEXT".into(),
            detail: format!("`{path}` is free text; set it with set_text"),
        });
    }
    let action = action_for(&path);
    mutate(doc, actor, action, at, |doc| {
        let parent = ensure_map(doc, path.parent())?;
        doc.put(&parent, path.last(), ScalarValue::from(value))?;
        Ok(())
    })?;
    Ok(())
}

/// Replaces a derived value (an eligibility snapshot, a computed status) whole at `path`:
/// derived values are recomputed, never merged (DOMAIN.md §6), so the new value is written as
/// a fresh map/list tree rather than edited in place. Strings are plain `str` (not text).
pub fn set_derived(
    doc: &mut AutoCommit,
    path: &str,
    value: &Json,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (_, path) = prepare(doc, path)?;
    let action = action_for(&path);
    mutate(doc, actor, action, at, |doc| {
        let parent = ensure_map(doc, path.parent())?;
        let mut trail: Vec<String> = path.segments().to_vec();
        put_json(
            doc,
            &parent,
            Prop::Map(path.last().to_owned()),
            value,
            &mut trail,
            &|_| false,
        )
    })?;
    Ok(())
}

/// Sets a free-text field to `text` by splicing only the difference into its automerge text
/// (`update_text`), so another device's concurrent typing in the same field survives the
/// merge (`CF-TEXT`).
pub fn set_text(
    doc: &mut AutoCommit,
    path: &str,
    text: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (_, path) = prepare(doc, path)?;
    let action = action_for(&path);
    mutate(doc, actor, action, at, |doc| {
        let parent = ensure_map(doc, path.parent())?;
        let obj = match doc.get(&parent, path.last())? {
            Some((Value::Object(ObjType::Text), id)) => id,
            // Missing, or a plain string a peer wrote: start a text object.
            _ => doc.put_object(&parent, path.last(), ObjType::Text)?,
        };
        doc.update_text(&obj, text)?;
        Ok(())
    })?;
    Ok(())
}

fn check_code(code: &str) -> Result<()> {
    if valid_segment(code) {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: format!("`{code}` is not a valid code"),
        })
    }
}

/// Adds `code` to the code set at `set_path` (`CF-SET`: a map `code → true`; an add wins over
/// a concurrent remove).
pub fn add_code(
    doc: &mut AutoCommit,
    set_path: &str,
    code: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (_, path) = prepare(doc, set_path)?;
    check_code(code)?;
    mutate(doc, actor, Action::Edit, at, |doc| {
        let set = ensure_map(doc, path.segments())?;
        doc.put(&set, code, true)?;
        Ok(())
    })?;
    Ok(())
}

/// Removes `code` from the code set at `set_path` (deletes its key; nothing happens when the
/// code is not there).
pub fn remove_code(
    doc: &mut AutoCommit,
    set_path: &str,
    code: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (_, path) = prepare(doc, set_path)?;
    check_code(code)?;
    let Some((Value::Object(ObjType::Map | ObjType::Table), set)) =
        lookup(doc, path.segments(), None)?
    else {
        return Ok(());
    };
    if doc.get(&set, code)?.is_none() {
        return Ok(());
    }
    mutate(doc, actor, Action::Edit, at, |doc| {
        doc.delete(&set, code)?;
        Ok(())
    })?;
    Ok(())
}

/// The bookkeeping keys of an item (docs/DOCUMENT-LAYOUT.md, lists of items).
const ITEM_KEYS: [&str; 5] = [
    "item_id",
    "added_at",
    "added_by",
    "removed_at",
    "removed_by",
];

/// Adds an item to the item list at `list_path` (`CF-LIST`: a map `item_id → item`) with a
/// fresh `item_id`, `added_at` and `added_by`, and `fields` as its content (strings at
/// free-text paths become automerge text). Returns the new item id. A list named `acks` is
/// recorded as action `ack`, `transitions` as `transition`.
pub fn add_item(
    doc: &mut AutoCommit,
    list_path: &str,
    fields: Map<String, Json>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Uuid> {
    let schema = record_schema(doc)?;
    let path = FieldPath::parse(list_path)?;
    let is_ack = path.segments() == [ACKS];
    // Acknowledging a warning is part of getting a draft ready to sign, so it is checked like
    // any edit, but the acks list itself is otherwise writable only here.
    ensure_editable(doc)?;
    if !is_ack {
        check_writable(schema, &path)?;
    }
    if let Some(k) = fields.keys().find(|k| ITEM_KEYS.contains(&k.as_str())) {
        return Err(Error::InvalidInput {
            rule_id: "CF-LIST".into(),
            detail: format!("`{k}` is set by the list, not by the caller"),
        });
    }
    let item_id = Uuid::new_v4();
    let action = if is_ack {
        Action::Ack
    } else if path.segments() == ["transitions"] {
        Action::Transition
    } else {
        Action::Edit
    };
    let mut item = Map::new();
    item.insert(
        "item_id".into(),
        Json::String(item_id.hyphenated().to_string()),
    );
    item.insert("added_at".into(), Json::String(format_instant(at)));
    item.insert(
        "added_by".into(),
        Json::String(actor.user_id.hyphenated().to_string()),
    );
    item.extend(fields);
    mutate(doc, actor, action, at, |doc| {
        let list = ensure_map(doc, path.segments())?;
        let mut p: Vec<String> = path
            .child(&item_id.hyphenated().to_string())
            .segments()
            .to_vec();
        put_json(
            doc,
            &list,
            Prop::Map(item_id.hyphenated().to_string()),
            &Json::Object(item),
            &mut p,
            &|segs| clinical::is_text(schema, segs),
        )
    })?;
    Ok(item_id)
}

/// The item map at `item_path` (`<list>.<item_id>`), or `NotFound`-like `InvalidInput`.
pub(crate) fn item_obj(doc: &AutoCommit, item_path: &FieldPath) -> Result<ObjId> {
    match lookup(doc, item_path.segments(), None)? {
        Some((Value::Object(ObjType::Map | ObjType::Table), id))
            if doc.get(&id, "item_id")?.is_some() =>
        {
            Ok(id)
        }
        _ => Err(Error::InvalidInput {
            rule_id: "CF-LIST".into(),
            detail: format!("`{item_path}` is not an item of a list"),
        }),
    }
}

/// Removes the item at `item_path` (`tasks.<item_id>`) the layout's way: it stays, with
/// `removed_at` and `removed_by` set (`CF-LIST`). Removing a removed item changes nothing.
pub fn remove_item(
    doc: &mut AutoCommit,
    item_path: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let (_, path) = prepare(doc, item_path)?;
    let item = item_obj(doc, &path)?;
    if doc.get(&item, "removed_at")?.is_some() {
        return Ok(());
    }
    let action = action_for(&path);
    mutate(doc, actor, action, at, |doc| {
        doc.put(&item, "removed_at", format_instant(at))?;
        doc.put(&item, "removed_by", actor.user_id.hyphenated().to_string())?;
        Ok(())
    })?;
    Ok(())
}

/// The current value at `path` as JSON (the winner, if the field is in conflict).
pub fn get(doc: &AutoCommit, path: &str) -> Result<Option<Json>> {
    super::json::value_at(doc, path, None)
}

/// Edits inside the acks list are acknowledgements; everything else is an edit.
fn action_for(path: &FieldPath) -> Action {
    if path.segments().first().map(String::as_str) == Some(ACKS) {
        Action::Ack
    } else {
        Action::Edit
    }
}
