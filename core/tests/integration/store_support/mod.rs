//! Helpers shared by the store tests: actors and small record documents built with the real
//! document layer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use automerge::AutoCommit;
use chrono::{DateTime, TimeZone, Utc};
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    RecordId,
};
use uuid::Uuid;

/// An OT of one team on one device.
pub fn ot(team_id: Uuid) -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: None,
    }
}

/// A fixed instant.
pub fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 10, 0, 0).unwrap()
}

/// A child record document with identity fields.
pub fn child_doc(
    actor: &Actor,
    id: RecordId,
    given: &str,
    family: &str,
    dob: &str,
    nhs: &str,
) -> AutoCommit {
    let mut d = doc::create(Schema::Child, id, actor.team_id, None, actor, at()).unwrap();
    for (path, v) in [
        ("given_name", given),
        ("family_name", family),
        ("date_of_birth", dob),
        ("nhs_number", nhs),
    ] {
        if !v.is_empty() {
            doc::set_scalar(&mut d, path, Scalar::Str(v.into()), actor, at()).unwrap();
        }
    }
    d
}

/// An empty record of `schema` about `child`.
pub fn record_doc(actor: &Actor, schema: Schema, id: RecordId, child: RecordId) -> AutoCommit {
    doc::create(schema, id, actor.team_id, Some(child), actor, at()).unwrap()
}

/// Sets a string field, attributed to `actor`.
pub fn set(
    d: &mut AutoCommit,
    actor: &Actor,
    path: &str,
    value: &str,
) -> homevisit_core::Result<()> {
    doc::set_scalar(d, path, Scalar::Str(value.into()), actor, at())
}
