//! Users, roles and the acting identity every change carries (DOMAIN.md §1.4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user's role in the team (DOMAIN.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Assistant practitioner, not HCPC-registered.
    Ap,
    /// Occupational therapist.
    Ot,
    /// An OT with approval authority (team lead, manager).
    Approver,
    /// The team server or the equipment-store feed; never approves or signs.
    System,
}

impl Role {
    /// The wire/storage code, e.g. `"ot"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ap => "ap",
            Role::Ot => "ot",
            Role::Approver => "approver",
            Role::System => "system",
        }
    }

    /// Parses a role code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ap" => Some(Role::Ap),
            "ot" => Some(Role::Ot),
            "approver" => Some(Role::Approver),
            "system" => Some(Role::System),
            _ => None,
        }
    }
}

/// Who is acting: the identity a store is opened with and every change records (`RK-ATTRIB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// The device the change is made on.
    pub device_id: Uuid,
    /// The team the user belongs to.
    pub team_id: Uuid,
    /// HCPC registration number (OTs and approvers).
    pub hcpc_number: Option<String>,
    /// Last date the registration was checked valid by a team administrator.
    pub hcpc_verified_until: Option<NaiveDate>,
}

impl Actor {
    /// HCPC-registered on date `d` (DOMAIN.md §1.4): role `ot` or `approver`, a number, and
    /// `hcpc_verified_until >= d`.
    pub fn hcpc_registered_on(&self, d: NaiveDate) -> bool {
        matches!(self.role, Role::Ot | Role::Approver)
            && self
                .hcpc_number
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty())
            && self.hcpc_verified_until.is_some_and(|until| until >= d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ot(until: Option<NaiveDate>) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role: Role::Ot,
            device_id: Uuid::new_v4(),
            team_id: Uuid::new_v4(),
            hcpc_number: Some("OT12345".into()),
            hcpc_verified_until: until,
        }
    }

    #[test]
    fn hcpc_registration_is_inclusive_of_the_verified_date() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        assert!(ot(Some(d)).hcpc_registered_on(d));
        assert!(!ot(d.pred_opt()).hcpc_registered_on(d));
        assert!(!ot(None).hcpc_registered_on(d));
        let mut ap = ot(Some(d));
        ap.role = Role::Ap;
        assert!(!ap.hcpc_registered_on(d));
    }

    #[test]
    fn role_codes_round_trip() {
        for r in [Role::Ap, Role::Ot, Role::Approver, Role::System] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
