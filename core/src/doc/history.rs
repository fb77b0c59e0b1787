//! History (`RK-HISTORY`): the change graph is the audit trail. Who changed what, when, and
//! the record as it stood at any instant all come from it; nothing is ever removed from it.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::{AutoCommit, ChangeHash, PatchAction, Prop};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::{
    json::to_json_at,
    meta::{Action, Attribution, ChangeMeta},
    signing::{FlagAuthor, SYSTEM_USER_ID},
};
use crate::error::Result;

/// One change of a record (`RK-HISTORY`): who (user, role, device), what (action and the
/// field paths it touched), when.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The change hash (hex).
    pub hash: String,
    /// Who made it and why, from its metadata (`RK-ATTRIB`); unattributed changes are kept
    /// and shown as such.
    pub attribution: Attribution,
    /// The change's own timestamp (seconds since the epoch), as automerge stores it.
    pub timestamp: i64,
    /// The changes it builds on (hex hashes).
    pub deps: Vec<String>,
    /// The field paths it touched, dotted, sorted; a list's elements are reported as the list.
    pub paths: Vec<String>,
    /// Rule IDs of the breach flags recorded against this change (`CF-RULE-BREACH`).
    pub flags: Vec<String>,
    /// What the change's own metadata claimed, when the team server found that another user,
    /// role or device delivered it (`RK-ATTRIB`); `attribution` then names the true author.
    pub claimed: Option<Attribution>,
}

/// One node of the change graph.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub deps: Vec<ChangeHash>,
    pub attribution: Attribution,
    pub timestamp: i64,
}

impl Node {
    /// The instant the change claims (`at`), or its automerge timestamp when unattributed.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.attribution
            .at()
            .or_else(|| DateTime::from_timestamp(self.timestamp, 0))
    }
}

/// The change graph of a document, with a deterministic causal order (the same on every
/// replica holding the same changes, whatever order they arrived in).
#[derive(Debug)]
pub(crate) struct Graph {
    pub order: Vec<ChangeHash>,
    pub nodes: HashMap<ChangeHash, Node>,
    children: HashMap<ChangeHash, Vec<ChangeHash>>,
}

impl Graph {
    /// Reads every change's metadata.
    pub fn load(doc: &mut AutoCommit) -> Self {
        let mut nodes = HashMap::new();
        let mut children: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
        for m in doc.get_changes_meta(&[]) {
            for d in &m.deps {
                children.entry(*d).or_default().push(m.hash);
            }
            nodes.insert(
                m.hash,
                Node {
                    deps: m.deps.clone(),
                    attribution: ChangeMeta::from_message(m.message.as_deref()),
                    timestamp: m.timestamp,
                },
            );
        }
        // Kahn's algorithm, ready changes taken by (instant, hash): causal, deterministic.
        let key = |h: &ChangeHash, n: &Node| (n.at(), *h);
        let mut missing: HashMap<ChangeHash, usize> = nodes
            .iter()
            .map(|(h, n)| (*h, n.deps.iter().filter(|d| nodes.contains_key(d)).count()))
            .collect();
        let mut ready: BTreeSet<(Option<DateTime<Utc>>, ChangeHash)> = nodes
            .iter()
            .filter(|(h, _)| missing.get(h) == Some(&0))
            .map(|(h, n)| key(h, n))
            .collect();
        let mut order = Vec::with_capacity(nodes.len());
        while let Some(first) = ready.pop_first() {
            let h = first.1;
            order.push(h);
            for c in children.get(&h).into_iter().flatten() {
                if let Some(m) = missing.get_mut(c) {
                    *m = m.saturating_sub(1);
                    if *m == 0 {
                        if let Some(n) = nodes.get(c) {
                            ready.insert(key(c, n));
                        }
                    }
                }
            }
        }
        Self {
            order,
            nodes,
            children,
        }
    }

    /// `heads` and all their ancestors.
    pub fn ancestors(&self, heads: &[ChangeHash]) -> HashSet<ChangeHash> {
        let mut seen = HashSet::new();
        let mut stack: Vec<ChangeHash> = heads.to_vec();
        while let Some(h) = stack.pop() {
            if seen.insert(h) {
                if let Some(n) = self.nodes.get(&h) {
                    stack.extend(n.deps.iter().copied());
                }
            }
        }
        seen
    }

    /// `h` and all changes built on it.
    pub fn descendants(&self, h: ChangeHash) -> HashSet<ChangeHash> {
        let mut seen = HashSet::new();
        let mut stack = vec![h];
        while let Some(h) = stack.pop() {
            if seen.insert(h) {
                stack.extend(self.children.get(&h).into_iter().flatten().copied());
            }
        }
        seen
    }

    /// The heads of a set closed under ancestry: members no other member depends on.
    pub fn heads_of(&self, set: &HashSet<ChangeHash>) -> Vec<ChangeHash> {
        let mut deps_in_set: HashSet<ChangeHash> = HashSet::new();
        for h in set {
            if let Some(n) = self.nodes.get(h) {
                deps_in_set.extend(n.deps.iter().copied());
            }
        }
        let mut heads: Vec<ChangeHash> = set
            .iter()
            .filter(|h| !deps_in_set.contains(h))
            .copied()
            .collect();
        heads.sort();
        heads
    }
}

/// The field paths one change touched: the patches from its dependencies' state to its own.
pub(crate) fn change_paths(doc: &mut AutoCommit, graph: &Graph, h: ChangeHash) -> Vec<String> {
    let deps = graph
        .nodes
        .get(&h)
        .map(|n| n.deps.clone())
        .unwrap_or_default();
    let mut out = BTreeSet::new();
    for p in doc.diff(&deps, &[h]) {
        let mut segs: Vec<String> = Vec::new();
        let mut in_list = false;
        for (_, prop) in &p.path {
            match prop {
                Prop::Map(k) => segs.push(k.clone()),
                // A list element has no stable name; report the list.
                Prop::Seq(_) => {
                    in_list = true;
                    break;
                }
            }
        }
        if !in_list {
            match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    segs.push(key.clone())
                }
                PatchAction::Increment {
                    prop: Prop::Map(k), ..
                }
                | PatchAction::Conflict { prop: Prop::Map(k) } => segs.push(k.clone()),
                _ => {}
            }
        }
        if !segs.is_empty() {
            out.insert(segs.join("."));
        }
    }
    // A new map's own path is implied by the paths inside it; keep only the deepest.
    let all: Vec<String> = out.iter().cloned().collect();
    out.retain(|p| {
        !all.iter()
            .any(|q| q.len() > p.len() && super::path::path_within(q, p))
    });
    out.into_iter().collect()
}

/// The record's history (`RK-HISTORY`): every change in causal order with who, what, when and
/// the paths it touched.
///
/// A change the team server flagged with its true author (a flag written by the `system`
/// actor, docs/DOCUMENT-LAYOUT.md "Flags") is shown as that author's, with what it claimed
/// kept in `claimed`.
pub fn history(doc: &mut AutoCommit) -> Result<Vec<HistoryEntry>> {
    let graph = Graph::load(doc);
    // A flags list a hostile peer made unreadable hides no change: the history still lists it.
    let flags = super::signing::flags(doc).unwrap_or_default();
    let mut by_change: HashMap<&str, (Vec<String>, Option<&FlagAuthor>)> = HashMap::new();
    for f in &flags {
        let e = by_change.entry(f.change_hash.as_str()).or_default();
        if !e.0.contains(&f.rule_id) {
            e.0.push(f.rule_id.clone());
        }
        if f.added_by == SYSTEM_USER_ID {
            if let Some(a) = &f.author {
                e.1 = Some(a);
            }
        }
    }
    let mut out = Vec::with_capacity(graph.order.len());
    for h in &graph.order {
        let Some(n) = graph.nodes.get(h) else {
            continue;
        };
        let hash = h.to_string();
        let (rules, author) = by_change.get(hash.as_str()).cloned().unwrap_or_default();
        let (attribution, claimed) = match author {
            Some(a) => true_attribution(&n.attribution, a),
            None => (n.attribution.clone(), None),
        };
        out.push(HistoryEntry {
            hash,
            attribution,
            timestamp: n.timestamp,
            deps: n.deps.iter().map(ToString::to_string).collect(),
            paths: change_paths(doc, &graph, *h),
            flags: rules,
            claimed,
        });
    }
    Ok(out)
}

/// The attribution to show for a change whose true author the server recorded, and what the
/// change claimed when that differs (`RK-ATTRIB`).
fn true_attribution(
    claimed: &Attribution,
    author: &FlagAuthor,
) -> (Attribution, Option<Attribution>) {
    let same = claimed.user_id() == Some(author.user_id)
        && claimed.role() == Some(author.role)
        && claimed.device_id() == Some(author.device_id);
    if same {
        return (claimed.clone(), None);
    }
    let truth = ChangeMeta {
        user_id: author.user_id,
        role: author.role,
        device_id: author.device_id,
        action: claimed.action().unwrap_or(Action::Edit),
        at: claimed.at().unwrap_or(author.received_at),
    };
    (Attribution::By(truth), Some(claimed.clone()))
}

/// The record as it stood at `instant` (`RK-HISTORY`): the changes made at or before it
/// (by their metadata's `at`), each only with everything it builds on. `None` when the record
/// did not exist yet.
pub fn as_of(doc: &mut AutoCommit, instant: DateTime<Utc>) -> Result<Option<Json>> {
    let graph = Graph::load(doc);
    let mut included: HashSet<ChangeHash> = HashSet::new();
    for h in &graph.order {
        let Some(n) = graph.nodes.get(h) else {
            continue;
        };
        let in_time = n.at().is_some_and(|t| t <= instant);
        if in_time && n.deps.iter().all(|d| included.contains(d)) {
            included.insert(*h);
        }
    }
    if included.is_empty() {
        return Ok(None);
    }
    let heads = graph.heads_of(&included);
    to_json_at(doc, &heads).map(Some)
}

/// The attributed action of a change, if any (helper for the signing rules).
pub(crate) fn action_of(graph: &Graph, h: &ChangeHash) -> Option<Action> {
    graph.nodes.get(h).and_then(|n| n.attribution.action())
}
