//! Rule checks of received changes with the core's own rules (DOMAIN.md §3.6, §4), and the
//! flags they raise written into the record itself (`CF-RULE-BREACH`).
//!
//! The server is the one place that sees every change and knows who really delivered it: the
//! connection's device, user, role and HCPC registration come from its own tables. Every
//! change new to the server was delivered by the uploading connection, so that device's user
//! is the change's true author, whatever the change's metadata says (`RK-ATTRIB`).
//!
//! A breach never discards the change (convergence needs it). It becomes a flag in the
//! record's root `flags` list, written by the server as the `system` actor, so it syncs to
//! every device and stock peer; flagged transitions do not count towards the request's status
//! (`rules::workflow::derive`), and the record's history names the true author.

use std::collections::{BTreeSet, HashMap};

use automerge::{AutoCommit, Automerge, Change, ChangeHash, ObjId, PatchAction, ReadDoc, ROOT};
use chrono::{DateTime, Utc};
use homevisit_core::{
    doc::{self, signing::FlagAuthor, Attribution, ChangeMeta, NewRecordFlag},
    error::Error,
    model::{
        common::Schema,
        equipment::{EquipmentRequest, Transition},
        risk::RiskAssessment,
        user::{Actor, Role},
    },
    rules::{
        dates::local_date,
        equipment::DEFAULT_TIER2_COST_PENCE,
        workflow::{self, TransitionInput, WorkflowContext},
    },
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::store::{DeviceAuth, NewFlag, TeamId};

/// The actor the server writes flags as: role `system`, the nil user id, and the nil device
/// id (docs/DOCUMENT-LAYOUT.md "Flags").
pub fn system_actor(team_id: TeamId) -> Actor {
    Actor {
        user_id: doc::signing::SYSTEM_USER_ID,
        role: Role::System,
        device_id: doc::signing::SYSTEM_USER_ID,
        team_id,
        hcpc_number: None,
        hcpc_verified_until: None,
    }
}

/// The uploader as an actor of the core's rules: identity and registration from the server's
/// tables.
pub fn uploader_actor(team_id: TeamId, uploader: &DeviceAuth) -> Actor {
    Actor {
        user_id: uploader.user_id,
        role: uploader.role,
        device_id: uploader.device_id,
        team_id,
        hcpc_number: uploader.hcpc_number.clone(),
        hcpc_verified_until: uploader.hcpc_verified_until,
    }
}

/// What the checks need besides the document.
#[derive(Debug, Clone, Copy)]
pub struct Verify<'a> {
    /// The uploader's team.
    pub team_id: TeamId,
    /// The uploading device and its user, from the server's tables.
    pub uploader: &'a DeviceAuth,
    /// When the server received the changes.
    pub received_at: DateTime<Utc>,
    /// The risk assessment an equipment request links to, if the team has it (`EQ-HOIST-RA`).
    pub risk_assessment: Option<&'a RiskAssessment>,
}

/// `RK-ATTRIB` against the connection: a change whose metadata names another user, role or
/// device than the one that delivered it.
pub fn attribution_mismatch(change: &Change, uploader: &DeviceAuth) -> Option<String> {
    let Attribution::By(meta) = ChangeMeta::from_message(change.message()) else {
        // Missing or broken metadata is the plain `RK-ATTRIB` check's (checks.rs).
        return None;
    };
    (meta.user_id != uploader.user_id
        || meta.role != uploader.role
        || meta.device_id != uploader.device_id)
        .then(|| {
            format!(
                "the change names user {} ({}) on device {}, but device {} of user {} ({}) delivered it",
                meta.user_id,
                meta.role.as_str(),
                meta.device_id,
                uploader.device_id,
                uploader.user_id,
                uploader.role.as_str()
            )
        })
}

fn schema_of(doc: &AutoCommit) -> Option<Schema> {
    doc::record_schema(doc).ok()
}

/// Transition item ids in a record's JSON.
fn transition_keys(json: &Json) -> BTreeSet<String> {
    json.get("transitions")
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn input_of(t: &Transition, at: DateTime<Utc>) -> TransitionInput {
    TransitionInput {
        at,
        reason: t.reason.clone(),
        event_date: t.event_date,
        supplier: t.supplier.clone(),
        order_ref: t.order_ref.clone(),
        contractor: t.contractor.clone(),
        outcome: t.outcome,
        condition: t.condition.clone(),
        housing_authority_ref: t.housing_authority_ref.clone(),
    }
}

fn flag(rule_id: &str, change: ChangeHash, item: Option<Uuid>, detail: String) -> NewFlag {
    NewFlag {
        rule_id: rule_id.into(),
        change_hash: Some(change),
        item,
        detail,
    }
}

/// The equipment workflow (§3.6) replayed for every transition the new changes add, as the
/// true author: `EQ-TRANSITION`, `EQ-ROLE`, `EQ-APPROVE-SELF`, `EQ-APPROVE-HCPC`,
/// `EQ-APPROVE-TIER`, `EQ-HOIST-RA` and the rest of the row's checks, with the core's
/// [`workflow::transition`]. A transition that names someone else is `RK-ATTRIB`.
fn transition_flags(
    doc: &AutoCommit,
    before: &[ChangeHash],
    new_changes: &[Change],
    v: &Verify<'_>,
) -> Vec<NewFlag> {
    let mut out = Vec::new();
    let actor = uploader_actor(v.team_id, v.uploader);
    // Only the changes that made new transition items are replayed: the cost follows the
    // transitions, not the upload's length.
    let makers = transition_makers(doc, before, new_changes);
    if makers.len() > MAX_NEW_TRANSITIONS {
        return makers
            .iter()
            .map(|c| {
                flag(
                    "EQ-TRANSITION",
                    c.hash(),
                    None,
                    format!(
                        "one upload adds transitions in {} changes; at most {MAX_NEW_TRANSITIONS} are checked",
                        makers.len()
                    ),
                )
            })
            .collect();
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for c in makers {
        let Ok(at_change) = doc::to_json_at(doc, &[c.hash()]) else {
            continue;
        };
        let added: Vec<String> = transition_keys(&at_change)
            .into_iter()
            .filter(|k| !seen.contains(k))
            .collect();
        if added.is_empty() {
            continue;
        }
        let known = match doc::to_json_at(doc, c.deps()) {
            Ok(j) => transition_keys(&j),
            Err(_) => BTreeSet::new(),
        };
        let added: Vec<String> = added.into_iter().filter(|k| !known.contains(k)).collect();
        seen.extend(known.iter().cloned());
        if added.is_empty() {
            continue;
        }
        let req: EquipmentRequest = match serde_json::from_value(at_change) {
            Ok(r) => r,
            Err(e) => {
                out.push(flag(
                    "EQ-TRANSITION",
                    c.hash(),
                    None,
                    format!(
                        "the request does not read as an equipment request after this change: {e}"
                    ),
                ));
                seen.extend(added);
                continue;
            }
        };
        let mut prior = req.clone();
        prior
            .transitions
            .retain(|t| known.contains(&t.item_id.hyphenated().to_string()));
        for key in &added {
            seen.insert(key.clone());
            let Some(item) = req
                .transitions
                .iter()
                .find(|t| t.item_id.hyphenated().to_string() == *key)
            else {
                continue;
            };
            let t = &item.data;
            let id = Some(item.item_id);
            if t.user_id != actor.user_id || t.role != actor.role || t.device_id != actor.device_id
            {
                out.push(flag(
                    "RK-ATTRIB",
                    c.hash(),
                    id,
                    format!(
                        "the transition to {} names user {} ({}), but user {} ({}) made it",
                        workflow::status_code(t.to),
                        t.user_id,
                        t.role.as_str(),
                        actor.user_id,
                        actor.role.as_str()
                    ),
                ));
            }
            // The rules are judged on the day the transition was made, never later than
            // the day it reached the server.
            let as_of = local_date(t.at.min(v.received_at));
            let ctx = WorkflowContext {
                tier2_cost_pence: DEFAULT_TIER2_COST_PENCE,
                risk_assessment: v.risk_assessment,
                open_conflicts: &[],
                ..WorkflowContext::default()
            };
            match workflow::transition(&prior, t.to, &actor, as_of, input_of(t, t.at), &ctx) {
                Ok(expected) => {
                    if expected.from != t.from || expected.follows != t.follows {
                        out.push(flag(
                            "EQ-TRANSITION",
                            c.hash(),
                            id,
                            format!(
                                "the transition to {} does not follow the request's last verified transition",
                                workflow::status_code(t.to)
                            ),
                        ));
                    }
                }
                Err(Error::NotPermitted { rule_id, detail }) => {
                    out.push(flag(&rule_id, c.hash(), id, detail));
                }
                // `CF-BLOCK` is judged on the device; the server passes no open conflicts.
                Err(_) => {}
            }
        }
    }
    out
}

/// Most changes adding transitions one upload may carry for the workflow to be replayed (the
/// whole table has 19 rows); beyond it each is flagged `EQ-TRANSITION` unreplayed.
const MAX_NEW_TRANSITIONS: usize = 64;

/// The new changes that created transition items not there at `before`, in upload order:
/// each new item's map object was made by an operation of one change.
fn transition_makers<'c>(
    doc: &AutoCommit,
    before: &[ChangeHash],
    new_changes: &'c [Change],
) -> Vec<&'c Change> {
    let Ok(Some((_, transitions))) = doc.get(ROOT, "transitions") else {
        return Vec::new();
    };
    let old: BTreeSet<String> = if before.is_empty() {
        BTreeSet::new()
    } else {
        doc.keys_at(&transitions, before).collect()
    };
    let mut makers: BTreeSet<usize> = BTreeSet::new();
    for key in doc.keys(&transitions).filter(|k| !old.contains(k)) {
        for (_, id) in doc.get_all(&transitions, key.as_str()).unwrap_or_default() {
            let ObjId::Id(counter, actor, _) = id else {
                continue;
            };
            if let Some(i) = new_changes.iter().position(|c| {
                let start = c.start_op().get();
                c.actor_id() == &actor && (start..start + c.len() as u64).contains(&counter)
            }) {
                makers.insert(i);
            }
        }
    }
    makers.into_iter().map(|i| &new_changes[i]).collect()
}

/// `RK-SIGN-LOCK` and `RK-EIE`: new changes that edit a signed or entered-in-error record,
/// as the core's [`doc::rule_breaches`] finds them in the change graph.
fn lock_flags(doc: &mut AutoCommit, new: &HashMap<ChangeHash, ()>) -> Vec<NewFlag> {
    let Ok(breaches) = doc::rule_breaches(doc) else {
        return Vec::new();
    };
    breaches
        .into_iter()
        .filter_map(|b| {
            let hash: ChangeHash = b.change_hash.parse().ok()?;
            new.contains_key(&hash).then(|| {
                flag(
                    &b.rule_id,
                    hash,
                    None,
                    format!(
                        "the change edits {} after the record was locked",
                        b.paths.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Every rule flag for the new changes of `doc` (the document with them applied).
pub fn rule_flags(
    doc: &mut AutoCommit,
    before: &[ChangeHash],
    new_changes: &[Change],
    v: &Verify<'_>,
) -> Vec<NewFlag> {
    let mut out: Vec<NewFlag> = new_changes
        .iter()
        .filter_map(|c| {
            attribution_mismatch(c, v.uploader).map(|d| flag("RK-ATTRIB", c.hash(), None, d))
        })
        .collect();
    match schema_of(doc) {
        Some(Schema::EquipmentRequest) => out.extend(transition_flags(doc, before, new_changes, v)),
        Some(Schema::Assessment | Schema::RiskAssessment) => {
            let new: HashMap<ChangeHash, ()> = new_changes.iter().map(|c| (c.hash(), ())).collect();
            out.extend(lock_flags(doc, &new));
        }
        _ => {}
    }
    out
}

/// The in-record form of server flags that name a change: the uploader is its true author.
pub fn record_flags(flags: &[NewFlag], v: &Verify<'_>) -> Vec<NewRecordFlag> {
    flags
        .iter()
        .filter_map(|f| {
            let hash = f.change_hash?;
            Some(NewRecordFlag {
                rule_id: f.rule_id.clone(),
                change_hash: hash.to_string(),
                detail: f.detail.clone(),
                item: f.item,
                author: Some(FlagAuthor {
                    user_id: v.uploader.user_id,
                    role: v.uploader.role,
                    device_id: v.uploader.device_id,
                    received_at: v.received_at,
                }),
            })
        })
        .collect()
}

/// Whether `change` writes the root key `key` of `doc` (which holds the change).
pub fn writes_root_key(doc: &Automerge, change: &Change, key: &str) -> bool {
    doc.diff(change.deps(), &[change.hash()])
        .iter()
        .any(|p| {
            p.path.is_empty()
                && matches!(&p.action,
                    PatchAction::PutMap { key: k, .. } | PatchAction::DeleteMap { key: k } if k == key)
        })
}

/// Whether the changes from `before` to `after` write inside the `flags` list, or replace or
/// delete a list that was there (creating the empty list with the record is not a write).
fn writes_flags(doc: &Automerge, before: &[ChangeHash], after: &[ChangeHash]) -> bool {
    let existed = matches!(doc.get_at(ROOT, "flags", before), Ok(Some(_)));
    doc.diff(before, after)
        .iter()
        .any(|p| match p.path.first() {
            Some((_, automerge::Prop::Map(k))) => k == "flags",
            Some(_) => false,
            None => match &p.action {
                PatchAction::PutMap { key, .. } => key == "flags" && existed,
                PatchAction::DeleteMap { key } => key == "flags",
                _ => false,
            },
        })
}

/// `CF-RULE-BREACH`: a device's change that writes the `flags` list, which only the server
/// (as `system`) and breach handling write; a modified client could otherwise forge or
/// remove flags unseen.
pub fn flag_list_writes(
    doc: &Automerge,
    before: &[ChangeHash],
    new_changes: &[Change],
) -> Vec<NewFlag> {
    // One diff over the whole upload first; the culprits are looked for only when it touches
    // the list.
    let after = doc.get_heads();
    if !writes_flags(doc, before, &after) {
        return Vec::new();
    }
    new_changes
        .iter()
        .filter(|c| writes_flags(doc, c.deps(), &[c.hash()]))
        .map(|c| {
            flag(
                "CF-RULE-BREACH",
                c.hash(),
                None,
                "a device's change wrote the flags list, which only the server writes".into(),
            )
        })
        .collect()
}
