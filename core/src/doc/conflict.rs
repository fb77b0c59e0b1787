//! Conflicts (`CF-CLINICAL`, `CF-LIST`, hazard `SAF-SILENT-CONFLICT`): clinical fields are read
//! with all their concurrent values, each attributed to the change that wrote it, and reported
//! until a person writes the chosen value (action `resolve`).
//!
//! Besides the clinical value conflicts of the registry ([`super::clinical`]), two structural
//! cases are reported because automerge would otherwise hide data without a trace in the view:
//! a map, list or text created at the same key on two devices (only one is shown; the other's
//! contents would be lost from every screen), and an item removed on one device while edited on
//! another (`CF-LIST`).

use std::collections::HashSet;

use automerge::{
    transaction::Transactable, AutoCommit, ChangeHash, ObjId, ObjType, Prop, ReadDoc, Value, ROOT,
};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::{
    clinical,
    history::{change_paths, Graph},
    json::{put_json, to_json_at, value_json},
    meta::{mutate, Action, Attribution, ChangeMeta},
    path::{lookup, path_within, FieldPath},
    record::{ensure_editable, record_schema},
};
use crate::{
    error::{Error, Result},
    model::{common::MAX_JSON_DEPTH, user::Actor},
};

/// Why a path is in conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictKind {
    /// A clinical field holds concurrent different values (`CF-CLINICAL`).
    Value,
    /// Clinical fields that form one unit (a value and its date) were changed by concurrent
    /// changes, so the pair shown is one nobody entered (`CF-CLINICAL`).
    Unit,
    /// The same map, list or text was created on two devices; one would be hidden.
    Structure,
    /// An item was removed concurrently with an edit of it (`CF-LIST`).
    RemovalVsEdit,
}

/// One candidate value of a conflict, with who wrote it (`CF-CLINICAL`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictValue {
    /// The value (JSON view).
    pub value: Json,
    /// The change that wrote it (hex hash).
    pub change_hash: String,
    /// Who wrote it, when, on which device (`RK-ATTRIB`).
    pub attribution: Attribution,
}

impl ConflictValue {
    /// The author, when the change is attributed.
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        self.attribution.user_id()
    }
}

/// A field whose concurrent values need a person's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The field path (`weights.<item_id>.value_kg`).
    pub path: String,
    /// What kind of conflict.
    pub kind: ConflictKind,
    /// The candidates, in a deterministic order (by change hash).
    pub values: Vec<ConflictValue>,
}

struct Walk<'a> {
    doc: &'a AutoCommit,
    schema: crate::model::common::Schema,
    out: Vec<Conflict>,
    removed_items: Vec<(FieldPath, ObjId)>,
}

fn attribution_of(doc: &AutoCommit, id: &ObjId) -> (String, Attribution) {
    match doc.hash_for_opid(id) {
        Some(h) => {
            let attr = ReadDoc::get_change_by_hash(doc, &h)
                .map(|c| ChangeMeta::from_message(c.message()))
                .unwrap_or(Attribution::Unattributed {
                    reason: "[RK-ATTRIB] the change is not in this document".into(),
                });
            (h.to_string(), attr)
        }
        None => (
            String::new(),
            Attribution::Unattributed {
                reason: "[RK-ATTRIB] no change found for the value".into(),
            },
        ),
    }
}

impl Walk<'_> {
    fn map(&mut self, obj: &ObjId, segs: &mut Vec<String>, depth: usize) -> Result<()> {
        if depth > MAX_JSON_DEPTH {
            return Ok(());
        }
        let keys: Vec<String> = self.doc.keys(obj).collect();
        if keys.iter().any(|k| k == "item_id") && keys.iter().any(|k| k == "removed_at") {
            self.removed_items
                .push((FieldPath::from_segments(segs.clone()), obj.clone()));
        }
        for k in keys {
            segs.push(k.clone());
            let all = self.doc.get_all(obj, k.as_str())?;
            if all.len() > 1 {
                self.candidates(&all, segs)?;
            }
            if let Some((Value::Object(ObjType::Map | ObjType::Table), id)) =
                self.doc.get(obj, k.as_str())?
            {
                self.map(&id, segs, depth + 1)?;
            }
            segs.pop();
        }
        Ok(())
    }

    fn candidates(&mut self, all: &[(Value<'_>, ObjId)], segs: &[String]) -> Result<()> {
        let structural = all.iter().any(|(v, _)| matches!(v, Value::Object(_)));
        if !structural && !clinical::is_clinical(self.schema, segs) {
            // Non-clinical scalars take automerge's deterministic winner (DOMAIN.md §6).
            return Ok(());
        }
        let mut values = Vec::with_capacity(all.len());
        for (v, id) in all {
            let value = value_json(self.doc, v, id, None, 0)?;
            let (change_hash, attribution) = attribution_of(self.doc, id);
            values.push(ConflictValue {
                value,
                change_hash,
                attribution,
            });
        }
        // Concurrent writes of the same value are agreement, not a conflict.
        if values.windows(2).all(|w| w[0].value == w[1].value) {
            return Ok(());
        }
        values.sort_by(|a, b| a.change_hash.cmp(&b.change_hash));
        self.out.push(Conflict {
            path: segs.join("."),
            kind: if structural {
                ConflictKind::Structure
            } else {
                ConflictKind::Value
            },
            values,
        });
        Ok(())
    }
}

/// Every open conflict of the record, sorted by path (`CF-CLINICAL`, `CF-LIST`). Free text and
/// code sets merge and never appear here; a clinical field appears while it holds more than
/// one distinct concurrent value, each attributed to the change that wrote it. The same
/// changes give the same conflicts on every replica.
pub fn conflicts(doc: &mut AutoCommit) -> Result<Vec<Conflict>> {
    let schema = record_schema(doc)?;
    let mut walk = Walk {
        doc,
        schema,
        out: Vec::new(),
        removed_items: Vec::new(),
    };
    walk.map(&ROOT, &mut Vec::new(), 0)?;
    let Walk {
        mut out,
        removed_items,
        ..
    } = walk;
    let need_graph = !removed_items.is_empty() || !clinical::clinical_units(schema).is_empty();
    if need_graph {
        let graph = Graph::load(doc);
        out.extend(unit_conflicts(doc, &graph, schema, &out)?);
        for (path, obj) in removed_items {
            if let Some(c) = removal_conflict(doc, &graph, &path, &obj)? {
                out.push(c);
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The change that wrote the current (winning) value at `segs`.
fn writer_of(doc: &AutoCommit, segs: &[String]) -> Result<Option<ChangeHash>> {
    Ok(lookup(doc, segs, None)?.and_then(|(_, id)| doc.hash_for_opid(&id)))
}

/// Concrete instances of a pattern in the current document (`*` expanded over map keys).
fn expand(doc: &AutoCommit, pattern: &str) -> Result<Vec<Vec<String>>> {
    let mut prefixes: Vec<(Vec<String>, ObjId)> = vec![(Vec::new(), ROOT)];
    let parts: Vec<&str> = pattern.split('.').collect();
    let Some((_, parents)) = parts.split_last() else {
        return Ok(Vec::new());
    };
    for part in parents {
        let mut next = Vec::new();
        for (segs, obj) in prefixes {
            let keys: Vec<String> = if *part == "*" {
                doc.keys(&obj).collect()
            } else {
                vec![(*part).to_owned()]
            };
            for k in keys {
                if let Some((Value::Object(ObjType::Map | ObjType::Table), id)) =
                    doc.get(&obj, k.as_str())?
                {
                    let mut s = segs.clone();
                    s.push(k);
                    next.push((s, id));
                }
            }
        }
        prefixes = next;
    }
    Ok(prefixes.into_iter().map(|(s, _)| s).collect())
}

/// `CF-CLINICAL` units: members of one unit (a weight and its date) whose current values were
/// written by concurrent changes.
fn unit_conflicts(
    doc: &mut AutoCommit,
    graph: &Graph,
    schema: crate::model::common::Schema,
    already: &[Conflict],
) -> Result<Vec<Conflict>> {
    let mut out = Vec::new();
    for unit in clinical::clinical_units(schema) {
        let Some(first) = unit.first() else { continue };
        // Units share their parent pattern (same item or map); expand it once.
        for parent in expand(doc, first)? {
            let members: Vec<Vec<String>> = unit
                .iter()
                .filter_map(|p| p.rsplit('.').next())
                .map(|last| parent.iter().cloned().chain([last.to_owned()]).collect())
                .collect();
            let unit_path = parent.join(".");
            // A value conflict on a member is already reported.
            if already.iter().any(|c| {
                members.iter().any(|m| c.path == m.join(".")) || path_within(&unit_path, &c.path)
            }) {
                continue;
            }
            let mut writers: Vec<(Vec<String>, ChangeHash)> = Vec::new();
            for m in &members {
                if let Some(h) = writer_of(doc, m)? {
                    writers.push((m.clone(), h));
                }
            }
            let concurrent = writers.iter().enumerate().any(|(i, (_, a))| {
                writers[i + 1..].iter().any(|(_, b)| {
                    a != b
                        && !graph.ancestors(&[*a]).contains(b)
                        && !graph.ancestors(&[*b]).contains(a)
                })
            });
            if !concurrent {
                continue;
            }
            let mut values = Vec::new();
            let mut seen = HashSet::new();
            for (_, h) in &writers {
                if !seen.insert(*h) {
                    continue;
                }
                // Each candidate is the unit as its writer saw it: the whole item, or the
                // members of a root-level unit.
                let view = to_json_at(doc, &[*h])?;
                let value = if parent.is_empty() {
                    Json::Object(
                        members
                            .iter()
                            .filter_map(|m| {
                                super::json::get_in(&view, m).map(|v| (m.join("."), v.clone()))
                            })
                            .collect(),
                    )
                } else {
                    super::json::get_in(&view, &parent)
                        .cloned()
                        .unwrap_or(Json::Null)
                };
                let attribution = graph.nodes.get(h).map(|n| n.attribution.clone()).unwrap_or(
                    Attribution::Unattributed {
                        reason: "[RK-ATTRIB] unknown change".into(),
                    },
                );
                values.push(ConflictValue {
                    value,
                    change_hash: h.to_string(),
                    attribution,
                });
            }
            values.sort_by(|a, b| a.change_hash.cmp(&b.change_hash));
            let path = if parent.is_empty() {
                first.to_string()
            } else {
                unit_path
            };
            out.push(Conflict {
                path,
                kind: ConflictKind::Unit,
                values,
            });
        }
    }
    Ok(out)
}

/// `CF-LIST`: the item at `path` was removed by a change concurrent with another change that
/// edited it, and no later `resolve` change (seeing both) has settled it.
fn removal_conflict(
    doc: &mut AutoCommit,
    graph: &Graph,
    path: &FieldPath,
    obj: &ObjId,
) -> Result<Option<Conflict>> {
    let Some((_, rid)) = doc.get(obj, "removed_at")? else {
        return Ok(None);
    };
    let Some(removal) = doc.hash_for_opid(&rid) else {
        return Ok(None);
    };
    let before = graph.ancestors(&[removal]);
    let after = graph.descendants(removal);
    let item = path.to_string();
    let bookkeeping = [
        path.child("removed_at").to_string(),
        path.child("removed_by").to_string(),
    ];
    let mut edits: Vec<ChangeHash> = Vec::new();
    for h in &graph.order {
        if before.contains(h) || after.contains(h) {
            continue;
        }
        let touched = change_paths(doc, graph, *h);
        if touched
            .iter()
            .any(|p| path_within(p, &item) && !bookkeeping.contains(p) && p != &item)
        {
            edits.push(*h);
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    // A `resolve` that keeps the removal rewrites `removed_at` after seeing every edit, so
    // the edits are then its ancestors; one that restores the item deletes `removed_at`.
    let mut values = Vec::new();
    for h in std::iter::once(removal).chain(edits) {
        let view = to_json_at(doc, &[h])?;
        values.push(ConflictValue {
            value: super::json::get_in(&view, path.segments())
                .cloned()
                .unwrap_or(Json::Null),
            change_hash: h.to_string(),
            attribution: graph
                .nodes
                .get(&h)
                .map(|n| n.attribution.clone())
                .unwrap_or(Attribution::Unattributed {
                    reason: "[RK-ATTRIB] unknown change".into(),
                }),
        });
    }
    values.sort_by(|a, b| a.change_hash.cmp(&b.change_hash));
    Ok(Some(Conflict {
        path: item,
        kind: ConflictKind::RemovalVsEdit,
        values,
    }))
}

/// Resolves a conflict by writing the value a person chose, as one `resolve` change
/// (`CF-CLINICAL`). Once any replica has this change, `conflicts()` no longer reports the path
/// there. For an item (`CF-LIST`) or an item-level unit, `chosen` is an object whose fields are
/// written one by one into the existing map, so the item keeps its identity; leaving out
/// `removed_at`/`removed_by` restores a removed item, any other field left out is kept. For a
/// root-level unit (a risk assessment's weight and date) the path is the unit's first member
/// and `chosen` an object of the members. Where two objects compete for the path, a new one is
/// written with the chosen contents.
pub fn resolve(
    doc: &mut AutoCommit,
    path: &str,
    chosen: &Json,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let schema = record_schema(doc)?;
    let path = FieldPath::parse(path)?;
    ensure_editable(doc)?;
    if path.segments().first().map(String::as_str) == Some(super::record::RECORD_STATUS) {
        return Err(Error::NotPermitted {
            rule_id: "RK-EIE".into(),
            detail: "the record status is not resolved by choosing a value".into(),
        });
    }
    let is_text = move |segs: &[String]| clinical::is_text(schema, segs);
    mutate(doc, actor, Action::Resolve, at, |doc| {
        let parent = super::path::ensure_map(doc, path.parent())?;
        let all = doc.get_all(&parent, path.last())?;
        let single_map = match all.as_slice() {
            [(Value::Object(ObjType::Map | ObjType::Table), id)] => Some(id.clone()),
            _ => None,
        };
        let mut segs = path.segments().to_vec();
        let root_unit = path.parent().is_empty()
            && clinical::clinical_units(schema)
                .iter()
                .any(|u| u.first().is_some_and(|f| *f == path.last()) && !f_is_nested(u));
        match (single_map, chosen) {
            (_, Json::Object(_)) if root_unit => {
                let mut none = Vec::new();
                write_into(doc, &ROOT, chosen, &mut none, &is_text)
            }
            (Some(map), Json::Object(_)) => write_into(doc, &map, chosen, &mut segs, &is_text),
            _ => overwrite(doc, &parent, path.last(), chosen, &mut segs, &is_text),
        }
    })?;
    Ok(())
}

/// Writes `v` at `key` so that the resolving change itself holds the value. automerge skips a
/// put of the value already shown (and turns it into deletes of the losers), which would
/// leave the chosen value attributed to its original writer and a unit or item conflict
/// between that writer and a concurrent one standing; deleting first makes the put real.
fn overwrite(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    v: &Json,
    segs: &mut Vec<String>,
    is_text: &dyn Fn(&[String]) -> bool,
) -> Result<()> {
    if !doc.get_all(obj, key)?.is_empty() {
        doc.delete(obj, key)?;
    }
    put_json(doc, obj, Prop::Map(key.to_owned()), v, segs, is_text)
}

/// Whether a unit's members sit inside items or maps (not at the root).
fn f_is_nested(unit: &[&str]) -> bool {
    unit.iter().any(|p| p.contains('.'))
}

/// Writes the object `v` into the existing map `map`, field by field.
fn write_into(
    doc: &mut AutoCommit,
    map: &ObjId,
    v: &Json,
    segs: &mut Vec<String>,
    is_text: &dyn Fn(&[String]) -> bool,
) -> Result<()> {
    let Json::Object(fields) = v else {
        return Err(Error::Internal("write_into needs an object".into()));
    };
    // Only the removal marks are deleted when the chosen value lacks them (restoring an
    // item); any other field the caller left out is kept, never dropped.
    for k in ["removed_at", "removed_by"] {
        if !fields.contains_key(k) && doc.get(map, k)?.is_some() {
            doc.delete(map, k)?;
        }
    }
    for (k, cv) in fields {
        segs.push(k.clone());
        let all = doc.get_all(map, k.as_str())?;
        let r = match (all.as_slice(), cv) {
            ([(Value::Object(ObjType::Map | ObjType::Table), id)], Json::Object(_)) => {
                let id = id.clone();
                write_into(doc, &id, cv, segs, is_text)
            }
            ([(Value::Object(ObjType::Text), id)], Json::String(s)) => {
                let id = id.clone();
                doc.update_text(&id, s).map_err(Error::from)
            }
            _ => overwrite(doc, map, k, cv, segs, is_text),
        };
        segs.pop();
        r?;
    }
    Ok(())
}

/// Whether the record has any open conflict (`CF-BLOCK` refuses signing and submitting then).
pub fn has_conflicts(doc: &mut AutoCommit) -> Result<bool> {
    Ok(!conflicts(doc)?.is_empty())
}
