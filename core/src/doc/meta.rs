//! Change metadata (`RK-ATTRIB`): who made a change, in what role, on which device, doing
//! what, and when. It travels as the change's JSON commit message (docs/DOCUMENT-LAYOUT.md,
//! "Change metadata"), so any automerge peer can read it, and every mutation in this module
//! goes through [`mutate`], which cannot commit without it.

use automerge::{transaction::CommitOptions, AutoCommit, ChangeHash};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    model::user::{Actor, Role},
};

/// What a change does (`RK-ATTRIB`); the `action` of the commit message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The record was created.
    Create,
    /// A field was edited.
    Edit,
    /// The record was signed (`RK-SIGN`).
    Sign,
    /// An AP's signature was countersigned (`RK-COUNTERSIGN`).
    Countersign,
    /// An addendum was added to a signed record (`RK-ADDENDUM`).
    Addendum,
    /// A conflict (or a sign race) was resolved by a person (`CF-CLINICAL`, `CF-SIGN-RACE`).
    Resolve,
    /// A workflow transition (equipment requests).
    Transition,
    /// The record was marked entered in error (`RK-EIE`).
    EnteredInError,
    /// A warning was acknowledged (`FLD-ACK`).
    Ack,
}

impl Action {
    /// The wire code, e.g. `"entered_in_error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Sign => "sign",
            Action::Countersign => "countersign",
            Action::Addendum => "addendum",
            Action::Resolve => "resolve",
            Action::Transition => "transition",
            Action::EnteredInError => "entered_in_error",
            Action::Ack => "ack",
        }
    }

    /// Parses a wire code.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Action::Create,
            "edit" => Action::Edit,
            "sign" => Action::Sign,
            "countersign" => Action::Countersign,
            "addendum" => Action::Addendum,
            "resolve" => Action::Resolve,
            "transition" => Action::Transition,
            "entered_in_error" => Action::EnteredInError,
            "ack" => Action::Ack,
            _ => return None,
        })
    }
}

/// The metadata every change carries (`RK-ATTRIB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMeta {
    /// The user who made the change.
    pub user_id: Uuid,
    /// The user's role when making it.
    pub role: Role,
    /// The device it was made on.
    pub device_id: Uuid,
    /// What it does.
    pub action: Action,
    /// When (UTC, whole seconds as written in the message).
    pub at: DateTime<Utc>,
}

/// The wire form; kept separate so the field order and the instant format are exactly the
/// documented ones.
#[derive(Serialize, Deserialize)]
struct Wire {
    user_id: String,
    role: String,
    device_id: String,
    action: String,
    at: String,
}

/// Longest commit message we try to parse: ours are about 150 bytes, so anything far larger
/// comes from a buggy or hostile peer and is not worth a JSON parse.
const MAX_MESSAGE_LEN: usize = 4096;

impl ChangeMeta {
    /// The metadata for `actor` doing `action` at `at`.
    pub fn new(actor: &Actor, action: Action, at: DateTime<Utc>) -> Self {
        Self {
            user_id: actor.user_id,
            role: actor.role,
            device_id: actor.device_id,
            action,
            at: truncate_to_seconds(at),
        }
    }

    /// The JSON commit message, e.g.
    /// `{"user_id":"…","role":"ot","device_id":"…","action":"edit","at":"2026-03-15T10:42:07Z"}`.
    pub fn to_message(&self) -> String {
        let wire = Wire {
            user_id: self.user_id.hyphenated().to_string(),
            role: self.role.as_str().to_owned(),
            device_id: self.device_id.hyphenated().to_string(),
            action: self.action.as_str().to_owned(),
            at: format_instant(self.at),
        };
        // Serializing a struct of plain strings cannot fail; fall back to an empty object
        // (which parses as unattributed) rather than panic if it ever did.
        serde_json::to_string(&wire).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads a change's commit message. A missing, oversized or garbled message, or one with
    /// an unknown role or action, is [`Attribution::Unattributed`] with the reason — never a
    /// panic, whatever a peer sent.
    pub fn from_message(message: Option<&str>) -> Attribution {
        let unattributed = |reason: String| Attribution::Unattributed { reason };
        let Some(msg) = message else {
            return unattributed("[RK-ATTRIB] the change has no message".into());
        };
        if msg.len() > MAX_MESSAGE_LEN {
            return unattributed(format!(
                "[RK-ATTRIB] the change message is {} bytes long",
                msg.len()
            ));
        }
        let wire: Wire = match serde_json::from_str(msg) {
            Ok(w) => w,
            Err(e) => {
                return unattributed(format!(
                    "[RK-ATTRIB] the change message is not metadata: {e}"
                ))
            }
        };
        let Ok(user_id) = Uuid::parse_str(&wire.user_id) else {
            return unattributed("[RK-ATTRIB] user_id is not a UUID".into());
        };
        let Ok(device_id) = Uuid::parse_str(&wire.device_id) else {
            return unattributed("[RK-ATTRIB] device_id is not a UUID".into());
        };
        let Some(role) = Role::parse(&wire.role) else {
            return unattributed(format!("[RK-ATTRIB] unknown role `{}`", wire.role));
        };
        let Some(action) = Action::parse(&wire.action) else {
            return unattributed(format!("[RK-ATTRIB] unknown action `{}`", wire.action));
        };
        let Some(at) = parse_instant(&wire.at) else {
            return unattributed(format!(
                "[RK-ATTRIB] `{}` is not an RFC 3339 UTC instant ending in Z",
                wire.at
            ));
        };
        Attribution::By(ChangeMeta {
            user_id,
            role,
            device_id,
            action,
            at,
        })
    }
}

/// Who made a change, as far as its message tells (`RK-ATTRIB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attribution {
    /// The change carries valid metadata.
    By(ChangeMeta),
    /// The change lacks or garbles its metadata (a foreign or buggy peer); it is kept, and
    /// shown as unattributed.
    Unattributed {
        /// What was wrong with the message.
        reason: String,
    },
}

impl Attribution {
    /// The metadata, when the change is attributed.
    pub fn meta(&self) -> Option<&ChangeMeta> {
        match self {
            Attribution::By(m) => Some(m),
            Attribution::Unattributed { .. } => None,
        }
    }

    /// The author, when known.
    pub fn user_id(&self) -> Option<Uuid> {
        self.meta().map(|m| m.user_id)
    }

    /// The author's role, when known.
    pub fn role(&self) -> Option<Role> {
        self.meta().map(|m| m.role)
    }

    /// The device, when known.
    pub fn device_id(&self) -> Option<Uuid> {
        self.meta().map(|m| m.device_id)
    }

    /// The action, when known.
    pub fn action(&self) -> Option<Action> {
        self.meta().map(|m| m.action)
    }

    /// The instant the metadata states, when known.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.meta().map(|m| m.at)
    }
}

/// An instant as the layout writes it: RFC 3339 UTC, whole seconds, `Z`.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 instant that ends in `Z` (the layout's only form).
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if !s.ends_with('Z') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn truncate_to_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// Runs `f` as one attributed change: on success commits it with `actor`'s metadata (message
/// and change time); on error rolls back whatever `f` did, so a refused edit leaves no trace.
/// Returns `f`'s result and the new change's hash (`None` when `f` wrote nothing).
///
/// Operations left uncommitted by someone else would be committed under this actor's name,
/// so they are refused as a bug instead (`RK-ATTRIB`).
pub(crate) fn mutate<T>(
    doc: &mut AutoCommit,
    actor: &Actor,
    action: Action,
    at: DateTime<Utc>,
    f: impl FnOnce(&mut AutoCommit) -> Result<T>,
) -> Result<(T, Option<ChangeHash>)> {
    use automerge::transaction::Transactable;
    if doc.pending_ops() > 0 {
        return Err(Error::Internal(
            "[RK-ATTRIB] the document has uncommitted, unattributed operations".into(),
        ));
    }
    match f(doc) {
        Ok(v) => {
            let meta = ChangeMeta::new(actor, action, at);
            let hash = doc.commit_with(
                CommitOptions::default()
                    .with_message(meta.to_message())
                    .with_time(meta.at.timestamp()),
            );
            Ok((v, hash))
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role: Role::Ot,
            device_id: Uuid::new_v4(),
            team_id: Uuid::new_v4(),
            hcpc_number: Some("OT1".into()),
            hcpc_verified_until: None,
        }
    }

    #[test]
    fn rk_attrib_message_round_trips_in_the_documented_form() {
        let a = actor();
        let at: DateTime<Utc> = "2026-03-15T10:42:07.250Z".parse().unwrap();
        let meta = ChangeMeta::new(&a, Action::EnteredInError, at);
        let msg = meta.to_message();
        assert!(msg.starts_with("{\"user_id\":\""), "{msg}");
        assert!(msg.ends_with("\"action\":\"entered_in_error\",\"at\":\"2026-03-15T10:42:07Z\"}"));
        assert_eq!(ChangeMeta::from_message(Some(&msg)), Attribution::By(meta));
    }

    #[test]
    fn rk_attrib_missing_or_garbled_messages_are_unattributed_not_panics() {
        let a = actor();
        let good = ChangeMeta::new(&a, Action::Edit, Utc::now()).to_message();
        let bad = [
            None,
            Some(String::new()),
            Some("edit".into()),
            Some("{}".into()),
            Some(good.replace("\"ot\"", "\"admin\"")),
            Some(good.replace("\"edit\"", "\"delete\"")),
            Some(good.replace('Z', "+01:00")),
            Some(good.replace(&a.user_id.to_string(), "nobody")),
            Some("[".repeat(10_000)),
            Some("\u{0}\u{ffff}".into()),
        ];
        for m in bad {
            let attr = ChangeMeta::from_message(m.as_deref());
            assert!(
                matches!(&attr, Attribution::Unattributed { reason } if reason.contains("RK-ATTRIB")),
                "{m:?} -> {attr:?}"
            );
        }
    }
}
