//! The audit log over FFI (`RK-AUDIT`): apps record prints, export FHIR with a purpose, and
//! show a record's access log. Viewing is logged by `Store::view` itself.

use homevisit_core::{rules::record_keeping::AuditAction, store::LoggedAudit};

use crate::{error::FfiResult, store::Store, types::parse_id};

/// What was done to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AccessAction {
    /// Shown on screen.
    View,
    /// Printed.
    Print,
    /// Exported (always with a purpose).
    Export,
}

impl From<AuditAction> for AccessAction {
    fn from(a: AuditAction) -> Self {
        match a {
            AuditAction::View => Self::View,
            AuditAction::Print => Self::Print,
            AuditAction::Export => Self::Export,
        }
    }
}

/// One entry of a record's access log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessLogEntry {
    /// The entry's id.
    pub entry_id: String,
    /// Who (user id).
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// The record.
    pub record_id: String,
    /// What.
    pub action: AccessAction,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Why (exports; optional for prints).
    pub purpose: Option<String>,
    /// Whether the team server has the entry yet.
    pub uploaded: bool,
}

impl From<LoggedAudit> for AccessLogEntry {
    fn from(l: LoggedAudit) -> Self {
        Self {
            entry_id: l.id.to_string(),
            user_id: l.entry.user_id.to_string(),
            device_id: l.entry.device_id.to_string(),
            record_id: l.entry.record_id.to_string(),
            action: l.entry.action.into(),
            at: l.entry.at.to_rfc3339(),
            purpose: l.entry.purpose,
            uploaded: l.uploaded_at.is_some(),
        }
    }
}

#[uniffi::export]
impl Store {
    /// Records that the app is printing `record_id` (call before printing).
    pub fn record_print(&self, record_id: String, purpose: Option<String>) -> FfiResult<()> {
        Ok(self
            .records()
            .record_print(parse_id(&record_id)?, purpose)?)
    }

    /// The child's records as a FHIR R4 / UK Core Bundle (JSON text). `purpose` is required
    /// (`RK-AUDIT`); each exported record gets an `export` entry in the access log.
    pub fn export_fhir(
        &self,
        child_id: String,
        purpose: String,
        base_url: String,
    ) -> FfiResult<String> {
        let bundle = self
            .records()
            .export_fhir(parse_id(&child_id)?, &purpose, &base_url)?;
        Ok(bundle.to_string())
    }

    /// Who viewed, printed or exported `record_id`, oldest first. Read-only.
    pub fn access_log(&self, record_id: String) -> FfiResult<Vec<AccessLogEntry>> {
        Ok(self
            .records()
            .audit_log(parse_id(&record_id)?)?
            .into_iter()
            .map(AccessLogEntry::from)
            .collect())
    }
}
