//! Records as automerge documents (DESIGN.md "Records as automerge documents",
//! docs/DOCUMENT-LAYOUT.md): creation with the envelope, targeted path-addressed setters, the
//! generic JSON view, attribution of every change (`RK-ATTRIB`), history and `as_of`
//! (`RK-HISTORY`), clinical conflicts (`CF-CLINICAL`, `CF-LIST`), signing, addenda,
//! countersignature and entered in error (§4), sign races and rule-breach flags
//! (`CF-SIGN-RACE`, `CF-RULE-BREACH`).
//!
//! Pure automerge: the store persists the `AutoCommit` documents these functions create and
//! mutate. Every mutation is one change carrying the acting user's metadata; a refused
//! mutation leaves the document untouched. Readers that need the change graph take
//! `&mut AutoCommit` because automerge closes any open transaction before reading it.
//! The conflict policy is docs/adr/0005-conflict-policy.md.

pub mod clinical;
pub mod conflict;
pub mod history;
pub mod json;
pub mod meta;
pub mod path;
pub mod record;
pub mod signing;

pub use conflict::{conflicts, has_conflicts, resolve, Conflict, ConflictKind, ConflictValue};
pub use history::{as_of, history, HistoryEntry};
pub use json::{to_json, to_json_at, value_at};
pub use meta::{Action, Attribution, ChangeMeta};
pub use path::FieldPath;
pub use record::{
    add_code, add_item, create, ensure_editable, record_id, record_schema, remove_code,
    remove_item, set_derived, set_scalar, set_text, string_value, Scalar,
};
pub use signing::{
    add_addendum, addenda, adopt_sign_race, countersign, countersignature, effective_value,
    effective_view, flags, is_entered_in_error, mark_entered_in_error, open_sign_races,
    record_flags, record_rule_breaches, record_status, reject_sign_race, rule_breaches, sign,
    sign_races, sign_state, signature, signed_view, Amendment, Breach, EffectiveValue,
    FieldAmendment, Flag, FlagAuthor, NewRecordFlag, RaceDecision, SignRace, SYSTEM_USER_ID,
};
