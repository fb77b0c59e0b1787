//! The envelope every record shares (DOMAIN.md §3.1), signatures and addenda (§4), shared
//! codes, and the serde helpers that map the document layout (docs/DOCUMENT-LAYOUT.md) onto
//! typed Rust: item maps (`item_id → item`) become ordered `Vec<Item<T>>`, code-set maps
//! (`code → true`) become `BTreeSet`s.
//!
//! The typed model deserializes from the document layer's generic JSON view. A peer may be
//! hostile or buggy, so every helper here fails with a serde error (never a panic) on unknown
//! codes, wrong types, mismatched item ids or oversized collections; [`from_json`] maps that to
//! a typed [`Error::Corrupt`] for that record only.

use std::{collections::BTreeSet, fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::{error::Error, ids::RecordId, model::user::Role, rules::issue::Ack};

/// The only `schema_version` this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Most items one item list may hold. Far above any real form (a visit has a handful of
/// people, a risk assessment a dozen tasks); a peer sending more is refused, not obeyed.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// Most codes one code set may hold (also bounds sets of record ids).
pub const MAX_SET_CODES: usize = 1_000;

/// Deepest JSON nesting [`from_json`] accepts. The deepest real record path is about 8 levels
/// (`tasks.<id>.controls.<id>.text` inside the envelope); serde's buffering of flattened
/// structs recurses once per level, so a hostile, very deep value is refused before it can
/// exhaust the stack.
pub const MAX_JSON_DEPTH: usize = 64;

/// The `schema` of a record's document (docs/DOCUMENT-LAYOUT.md, root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Schema {
    /// `homevisit/child`
    #[serde(rename = "homevisit/child")]
    Child,
    /// `homevisit/referral`
    #[serde(rename = "homevisit/referral")]
    Referral,
    /// `homevisit/assessment` (home-visit form)
    #[serde(rename = "homevisit/assessment")]
    Assessment,
    /// `homevisit/risk_assessment` (M&H)
    #[serde(rename = "homevisit/risk_assessment")]
    RiskAssessment,
    /// `homevisit/equipment_request`
    #[serde(rename = "homevisit/equipment_request")]
    EquipmentRequest,
}

/// A record's lifecycle flag (`RK-EIE`): records are never deleted, only marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordStatus {
    /// In use.
    Active,
    /// Marked entered in error by an OT or approver; kept with its history, hidden from
    /// default lists. Cannot be undone.
    EnteredInError {
        /// Why it was entered in error.
        reason: String,
        /// Who marked it.
        user_id: Uuid,
        /// When (UTC).
        at: DateTime<Utc>,
    },
}

impl RecordStatus {
    /// Whether the record is active (not entered in error).
    pub fn is_active(&self) -> bool {
        matches!(self, RecordStatus::Active)
    }
}

/// The common envelope of every record (DOMAIN.md §3.1). Flattened into each record so its
/// fields sit at the document root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The record's id (UUID v4), immutable.
    pub id: RecordId,
    /// Which kind of record this is.
    pub schema: Schema,
    /// Layout version, [`SCHEMA_VERSION`].
    pub schema_version: i64,
    /// The owning team; the server scopes every document by it.
    pub team_id: Uuid,
    /// The child the record is about; absent only on the child record itself. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<RecordId>,
    /// When the record was created (UTC).
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Uuid,
    /// Active or entered in error.
    pub record_status: RecordStatus,
    /// Acknowledgements of warnings (DOMAIN.md §1.3), an item list.
    #[serde(default, with = "item_list")]
    pub acks: Vec<Item<Ack>>,
}

impl Envelope {
    /// A fresh envelope for a new record with a random id.
    pub fn new(
        schema: Schema,
        team_id: Uuid,
        child_id: Option<RecordId>,
        created_by: Uuid,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: RecordId::new(),
            schema,
            schema_version: SCHEMA_VERSION,
            team_id,
            child_id,
            created_at,
            created_by,
            record_status: RecordStatus::Active,
            acks: Vec::new(),
        }
    }

    /// The acknowledgements still in force (not removed), for `rules::issue::blocking`.
    pub fn current_acks(&self) -> Vec<Ack> {
        live(&self.acks).map(|i| i.data.clone()).collect()
    }
}

/// A typed record that lives in one document with a known `schema`.
pub trait Record: Serialize + DeserializeOwned {
    /// The schema this record type reads and writes.
    const SCHEMA: Schema;
    /// The record's envelope.
    fn envelope(&self) -> &Envelope;
}

/// Reads a typed record from the document layer's JSON view. A value that does not fit the
/// model (wrong types, unknown codes, wrong schema, too deep, oversized lists) is
/// [`Error::Corrupt`] for this record; nothing panics.
pub fn from_json<R: Record>(value: serde_json::Value) -> Result<R, Error> {
    let record = value
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<RecordId>().ok());
    let corrupt = |detail: String| Error::Corrupt { record, detail };
    if json_depth_exceeds(&value, MAX_JSON_DEPTH) {
        return Err(corrupt(format!(
            "document nests deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    let r: R = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    if r.envelope().schema != R::SCHEMA {
        return Err(corrupt(format!(
            "schema is {:?}, expected {:?}",
            r.envelope().schema,
            R::SCHEMA
        )));
    }
    Ok(r)
}

/// The JSON view of a typed record, in the document layout.
pub fn to_json<R: Record>(record: &R) -> Result<serde_json::Value, Error> {
    serde_json::to_value(record).map_err(|e| Error::Internal(format!("serialize record: {e}")))
}

/// Whether `v` nests deeper than `max` (iterative, so a hostile value cannot overflow the
/// stack here either).
pub fn json_depth_exceeds(v: &serde_json::Value, max: usize) -> bool {
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        if d > max {
            return true;
        }
        match v {
            serde_json::Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            serde_json::Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    false
}

/// One element of an item list (`CF-LIST`): a stable id, who added it and when, and — never
/// physically deleted — when and by whom it was removed. The item's own fields sit beside
/// these in the same map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item<T> {
    /// Stable id; also the item's key in the list map and in field paths.
    pub item_id: Uuid,
    /// When the item was added (UTC); the list's order.
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub added_by: Uuid,
    /// When it was removed, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<DateTime<Utc>>,
    /// Who removed it, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<Uuid>,
    /// The item's own fields.
    #[serde(flatten)]
    pub data: T,
}

impl<T> Item<T> {
    /// A new, not removed item.
    pub fn new(item_id: Uuid, added_at: DateTime<Utc>, added_by: Uuid, data: T) -> Self {
        Self {
            item_id,
            added_at,
            added_by,
            removed_at: None,
            removed_by: None,
            data,
        }
    }

    /// Whether the item has been removed (it is kept, flagged).
    pub fn is_removed(&self) -> bool {
        self.removed_at.is_some() || self.removed_by.is_some()
    }
}

/// The items of a list that are not removed, in list order.
pub fn live<T>(items: &[Item<T>]) -> impl Iterator<Item = &Item<T>> {
    items.iter().filter(|i| !i.is_removed())
}

/// Finds a live item by id.
pub fn find_live<T>(items: &[Item<T>], id: Uuid) -> Option<&Item<T>> {
    live(items).find(|i| i.item_id == id)
}

/// Serde helper for item lists: a JSON object `item_id → item` ⇄ `Vec<Item<T>>` ordered by
/// `added_at`, then `item_id`. Use as `#[serde(default, with = "item_list")]`.
pub mod item_list {
    use super::*;
    use serde::{
        de::{Error as _, MapAccess, Visitor},
        ser::SerializeMap,
    };

    /// Writes the list as a map keyed by `item_id`.
    #[allow(clippy::ptr_arg)] // serde's `with` passes `&Vec<_>`
    pub fn serialize<S, T>(items: &Vec<Item<T>>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        let mut m = s.serialize_map(Some(items.len()))?;
        for item in items {
            m.serialize_entry(&item.item_id, item)?;
        }
        m.end()
    }

    /// Reads a map keyed by `item_id`; each key must equal its item's `item_id`.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Vec<Item<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Vec<Item<T>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of item_id to item")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<Item<T>> = Vec::new();
                while let Some(key) = map.next_key::<Uuid>()? {
                    if out.len() >= MAX_LIST_ITEMS {
                        return Err(A::Error::custom(format!(
                            "item list longer than {MAX_LIST_ITEMS} items"
                        )));
                    }
                    let item: Item<T> = map.next_value()?;
                    if item.item_id != key {
                        return Err(A::Error::custom(format!(
                            "item key {key} does not match its item_id {}",
                            item.item_id
                        )));
                    }
                    out.push(item);
                }
                out.sort_by_key(|a| (a.added_at, a.item_id));
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Serde helper for code sets (`CF-SET`): a JSON object `code → true` ⇄ `BTreeSet<Code>`.
/// A removed code is an absent key; any value other than `true`, or an unknown code, is an
/// error. Use as `#[serde(default, with = "code_set")]`; for a set whose absence differs
/// from emptiness, `code_set::option`.
pub mod code_set {
    use super::*;
    use serde::{
        de::{Error as _, MapAccess, Visitor},
        ser::SerializeMap,
    };

    /// Writes the set as `code → true`.
    pub fn serialize<S, T>(set: &BTreeSet<T>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        let mut m = s.serialize_map(Some(set.len()))?;
        for code in set {
            m.serialize_entry(code, &true)?;
        }
        m.end()
    }

    pub(super) struct SetVisitor<T>(pub(super) std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de> + Ord> Visitor<'de> for SetVisitor<T> {
        type Value = BTreeSet<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of code to true")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeSet::new();
            let mut n = 0usize;
            while let Some((code, flag)) = map.next_entry::<T, bool>()? {
                n += 1;
                if n > MAX_SET_CODES {
                    return Err(A::Error::custom(format!(
                        "code set larger than {MAX_SET_CODES} codes"
                    )));
                }
                if !flag {
                    return Err(A::Error::custom("a code set holds only `true` values"));
                }
                out.insert(code);
            }
            Ok(out)
        }
    }

    /// Reads `code → true`.
    pub fn deserialize<'de, D, T>(d: D) -> Result<BTreeSet<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Ord,
    {
        d.deserialize_map(SetVisitor(std::marker::PhantomData))
    }

    /// The same for `Option<BTreeSet<T>>`: absent/null is `None`, `{}` is an empty set (an
    /// answered "none of these").
    pub mod option {
        use super::*;

        /// Writes `None` as null, a set as `code → true`.
        pub fn serialize<S, T>(set: &Option<BTreeSet<T>>, s: S) -> Result<S::Ok, S::Error>
        where
            S: Serializer,
            T: Serialize,
        {
            match set {
                Some(set) => super::serialize(set, s),
                None => s.serialize_none(),
            }
        }

        /// Reads null as `None`, a map as a set.
        pub fn deserialize<'de, D, T>(d: D) -> Result<Option<BTreeSet<T>>, D::Error>
        where
            D: Deserializer<'de>,
            T: Deserialize<'de> + Ord,
        {
            struct Wrap<T>(BTreeSet<T>);
            impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for Wrap<T> {
                fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
                    d.deserialize_map(SetVisitor(std::marker::PhantomData))
                        .map(Wrap)
                }
            }
            Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
        }
    }
}

/// A visit clock time `HH:MM`, 24-hour, Europe/London (DOMAIN.md §1.1), always paired with a
/// date. Stored as minutes after midnight; anything but exactly `HH:MM` is `FLD-FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    /// A time from hours (0–23) and minutes (0–59).
    pub fn new(hours: u16, minutes: u16) -> Option<Self> {
        (hours < 24 && minutes < 60).then_some(Self(hours * 60 + minutes))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> i64 {
        i64::from(self.0)
    }
}

impl FromStr for ClockTime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: format!("`{s}` is not a 24-hour time HH:MM"),
        };
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return Err(bad());
        }
        let digit = |i: usize| {
            b.get(i)
                .filter(|c| c.is_ascii_digit())
                .map(|c| u16::from(c - b'0'))
        };
        match (digit(0), digit(1), digit(3), digit(4)) {
            (Some(h1), Some(h2), Some(m1), Some(m2)) => {
                ClockTime::new(h1 * 10 + h2, m1 * 10 + m2).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The two services (DOMAIN.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// NHS community paediatric OT (Bedfordshire & Luton).
    Health,
    /// Luton Children's Social Care OT.
    SocialCare,
}

/// The four teams that address behaviour before it is assessed (`S-BEHAVIOUR-GATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BehaviourTeam {
    /// Autism Spectrum Team.
    AutismSpectrumTeam,
    /// Behaviour and Tuition Team.
    BehaviourAndTuitionTeam,
    /// Child and adolescent mental health services.
    Camhs,
    /// Community learning disability nursing team.
    CommunityLdNurseTeam,
}

/// A yes/no answer stored as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// A yes/no/unsure answer stored as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNoUnsure {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Unsure.
    Unsure,
}

/// A signature or countersignature (`RK-SIGN`, `RK-COUNTERSIGN`): who, in what role, when,
/// and the document heads that were signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signer.
    pub user_id: Uuid,
    /// The signer's role at signing.
    pub role: Role,
    /// When (UTC).
    pub signed_at: DateTime<Utc>,
    /// The automerge heads (hex change hashes) of the signed document.
    #[serde(default)]
    pub signed_heads: Vec<String>,
    /// The signer's HCPC number at signing, for OTs and approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hcpc_number: Option<String>,
}

/// A countersignature has the same shape as a signature (`RK-COUNTERSIGN`).
pub type Countersignature = Signature;

/// One field changed by an addendum (`RK-ADDENDUM`): the signed value and the new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field path, e.g. `sections.A.visit_date`.
    pub path: String,
    /// The value as signed (JSON view).
    pub signed_value: serde_json::Value,
    /// The value from now on (JSON view).
    pub new_value: serde_json::Value,
}

/// An addendum to a signed record (`RK-ADDENDUM`), signed on saving; an AP's needs a
/// countersignature. Kept in the record's `addenda` item list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Addendum {
    /// The new information.
    pub text: String,
    /// Fields whose effective value it changes (`RK-AMEND`).
    #[serde(default)]
    pub field_changes: Vec<FieldChange>,
    /// Why.
    pub reason: String,
    /// Who wrote it.
    pub author: Uuid,
    /// The author's role.
    pub role: Role,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// When a change that raced a signature is adopted as an addendum (`CF-SIGN-RACE`), the
    /// author of the original change, credited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_author: Option<Uuid>,
    /// The countersignature an AP-authored addendum needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countersignature: Option<Countersignature>,
}

/// Where a signable record stands (DOMAIN.md §3.4 status line), derived, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignState {
    /// Not signed yet.
    Draft,
    /// Signed by an OT or approver.
    Signed,
    /// Signed by an AP; an OT must countersign.
    AwaitingCountersignature,
    /// AP-signed and countersigned.
    Countersigned,
    /// Entered in error.
    EnteredInError,
}

/// Derives a signable record's state from its status, signature and countersignature.
pub fn sign_state(
    status: &RecordStatus,
    signature: Option<&Signature>,
    countersignature: Option<&Countersignature>,
) -> SignState {
    if !status.is_active() {
        return SignState::EnteredInError;
    }
    match (signature, countersignature) {
        (None, _) => SignState::Draft,
        (Some(s), None) if s.role == Role::Ap => SignState::AwaitingCountersignature,
        (Some(s), Some(_)) if s.role == Role::Ap => SignState::Countersigned,
        (Some(_), _) => SignState::Signed,
    }
}

/// Whether a record is signed in a way other records may rely on (`RK-COUNTERSIGN`):
/// signed by an OT/approver, or AP-signed and countersigned.
pub fn is_finally_signed(state: SignState) -> bool {
    matches!(state, SignState::Signed | SignState::Countersigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_time_accepts_only_hh_mm() {
        assert_eq!("09:05".parse::<ClockTime>().unwrap().minutes(), 545);
        assert_eq!("23:59".parse::<ClockTime>().unwrap().to_string(), "23:59");
        for bad in [
            "9:05",
            "24:00",
            "12:60",
            "12-30",
            "12:3a",
            "",
            "12:300",
            "１２:00",
        ] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sign_state_needs_countersignature_for_ap() {
        let sig = |role| Signature {
            user_id: Uuid::new_v4(),
            role,
            signed_at: "2026-03-15T10:00:00Z".parse().unwrap(),
            signed_heads: vec![],
            hcpc_number: None,
        };
        let active = RecordStatus::Active;
        assert_eq!(sign_state(&active, None, None), SignState::Draft);
        assert_eq!(
            sign_state(&active, Some(&sig(Role::Ap)), None),
            SignState::AwaitingCountersignature
        );
        assert_eq!(
            sign_state(&active, Some(&sig(Role::Ap)), Some(&sig(Role::Ot))),
            SignState::Countersigned
        );
        assert_eq!(
            sign_state(&active, Some(&sig(Role::Ot)), None),
            SignState::Signed
        );
    }
}
