//! Domain checks run on every change the server receives. A failed check never discards the
//! change (DESIGN.md "Scope": the server never loses a change it received): it raises a flag
//! stored in the same transaction as the change (`CF-RULE-BREACH`).

use std::fmt;

use automerge::{Automerge, Change};

use crate::store::{DeviceAuth, NewFlag, TeamId};

/// What a check sees: the document after the new changes, the changes, and who uploaded them.
#[derive(Debug)]
pub struct CheckContext<'a> {
    /// The team whose namespace the document is in.
    pub team_id: TeamId,
    /// The device that uploaded the changes.
    pub uploader: &'a DeviceAuth,
    /// The document with the new changes applied.
    pub document: &'a Automerge,
    /// The changes new to the server, in causal order.
    pub new_changes: &'a [Change],
}

/// A hook that inspects newly received changes and reports rule breaches as flags.
pub trait DomainCheck: Send + Sync + fmt::Debug {
    /// Flags for the new changes (empty when all is well).
    fn check(&self, ctx: &CheckContext<'_>) -> Vec<NewFlag>;
}

/// `RK-ATTRIB`: every change carries a JSON message with `user_id`, `role`, `device_id`, a
/// known `action` and a UTC instant (docs/DOCUMENT-LAYOUT.md "Change metadata").
#[derive(Debug, Default, Clone, Copy)]
pub struct AttributionCheck;

/// The actions DOMAIN.md §4 `RK-ATTRIB` allows.
pub const ACTIONS: [&str; 9] = [
    "create",
    "edit",
    "sign",
    "countersign",
    "addendum",
    "resolve",
    "transition",
    "entered_in_error",
    "ack",
];

impl AttributionCheck {
    /// Why a change's metadata is not valid `RK-ATTRIB` metadata, or `None` if it is.
    pub fn problem(change: &Change) -> Option<String> {
        let Some(message) = change.message() else {
            return Some("the change has no message".into());
        };
        let value: serde_json::Value = match serde_json::from_str(message) {
            Ok(v) => v,
            Err(e) => return Some(format!("the change message is not JSON: {e}")),
        };
        let field = |k: &str| value.get(k).and_then(|v| v.as_str());
        for key in ["user_id", "device_id"] {
            match field(key) {
                Some(s) if uuid::Uuid::parse_str(s).is_ok() => {}
                _ => return Some(format!("`{key}` is missing or not a UUID")),
            }
        }
        match field("role") {
            Some("ap" | "ot" | "approver" | "system") => {}
            _ => return Some("`role` is missing or unknown".into()),
        }
        match field("action") {
            Some(a) if ACTIONS.contains(&a) => {}
            _ => return Some("`action` is missing or unknown".into()),
        }
        match field("at") {
            Some(at) if at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(at).is_ok() => {}
            _ => return Some("`at` is missing or not an RFC 3339 UTC instant".into()),
        }
        None
    }
}

impl DomainCheck for AttributionCheck {
    fn check(&self, ctx: &CheckContext<'_>) -> Vec<NewFlag> {
        ctx.new_changes
            .iter()
            .filter_map(|c| {
                Self::problem(c).map(|detail| NewFlag {
                    rule_id: "RK-ATTRIB".into(),
                    change_hash: Some(c.hash()),
                    item: None,
                    detail,
                })
            })
            .collect()
    }
}

/// The checks the server runs by default.
pub fn default_checks() -> Vec<Box<dyn DomainCheck>> {
    vec![Box::new(AttributionCheck)]
}

#[cfg(test)]
mod tests {
    use automerge::{transaction::CommitOptions, transaction::Transactable, AutoCommit, ROOT};

    use super::*;

    fn change_with(message: Option<&str>) -> Change {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "x", 1).unwrap();
        let opts = match message {
            Some(m) => CommitOptions::default().with_message(m),
            None => CommitOptions::default(),
        };
        doc.commit_with(opts);
        doc.get_changes(&[]).into_iter().next().unwrap()
    }

    #[test]
    fn rk_attrib_complete_metadata_passes() {
        let m = r#"{"user_id":"4b0c3f3e-8f52-4a4b-9a43-3c1c7f0e8a11","role":"ot","device_id":"0d6e1a58-52a4-4b7f-a6a9-6f1c2b9d0e33","action":"edit","at":"2026-03-15T10:42:07Z"}"#;
        assert_eq!(AttributionCheck::problem(&change_with(Some(m))), None);
    }

    #[test]
    fn rk_attrib_missing_or_bad_metadata_is_flagged() {
        assert!(AttributionCheck::problem(&change_with(None)).is_some());
        assert!(AttributionCheck::problem(&change_with(Some("hello"))).is_some());
        let no_action = r#"{"user_id":"4b0c3f3e-8f52-4a4b-9a43-3c1c7f0e8a11","role":"ot","device_id":"0d6e1a58-52a4-4b7f-a6a9-6f1c2b9d0e33","at":"2026-03-15T10:42:07Z"}"#;
        assert!(AttributionCheck::problem(&change_with(Some(no_action)))
            .unwrap()
            .contains("action"));
        let local_time = r#"{"user_id":"4b0c3f3e-8f52-4a4b-9a43-3c1c7f0e8a11","role":"ot","device_id":"0d6e1a58-52a4-4b7f-a6a9-6f1c2b9d0e33","action":"edit","at":"2026-03-15T10:42:07+01:00"}"#;
        assert!(AttributionCheck::problem(&change_with(Some(local_time)))
            .unwrap()
            .contains("at"));
    }
}
