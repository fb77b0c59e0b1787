//! Validation issues, severities and warning acknowledgements (DOMAIN.md §1.3).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How much an issue matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Needs an acknowledgement (with a reason) before submit or sign.
    Warn,
    /// Blocks submit and sign. Drafts still save.
    Error,
}

/// One finding of a rule about one field: `{ rule_id, path, severity, message, value }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The rule's ID from DOMAIN.md §10, e.g. `MH-SWL`.
    pub rule_id: String,
    /// The field path, e.g. `sections.D.entrance_steps.riser_max_mm`.
    pub path: String,
    /// ERROR or WARN.
    pub severity: Severity,
    /// A sentence a clinician understands, starting with `[RULE-ID]`.
    pub message: String,
    /// The offending value as displayed (canonical units), when there is one.
    pub value: Option<String>,
}

impl Issue {
    /// An ERROR; the message is prefixed with the rule ID.
    pub fn error(rule_id: &str, path: impl Into<String>, message: impl AsRef<str>) -> Self {
        Self::new(rule_id, path, Severity::Error, message, None)
    }

    /// A WARN; the message is prefixed with the rule ID.
    pub fn warn(rule_id: &str, path: impl Into<String>, message: impl AsRef<str>) -> Self {
        Self::new(rule_id, path, Severity::Warn, message, None)
    }

    /// Any issue; the message is prefixed with `[rule_id]`.
    pub fn new(
        rule_id: &str,
        path: impl Into<String>,
        severity: Severity,
        message: impl AsRef<str>,
        value: Option<String>,
    ) -> Self {
        Self {
            rule_id: rule_id.to_owned(),
            path: path.into(),
            severity,
            message: format!("[{rule_id}] {}", message.as_ref()),
            value,
        }
    }

    /// Attaches the offending value.
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Whether this is an ERROR.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// An acknowledgement of a WARN (DOMAIN.md §1.3), stored in the record. It lapses when the
/// value changes (`FLD-ACK`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The acknowledged rule.
    pub rule_id: String,
    /// The field path.
    pub path: String,
    /// The value as it was when acknowledged; a different current value voids the ack.
    pub acknowledged_value: Option<String>,
    /// Why the value is right (1–500 characters, not blank).
    pub reason: String,
    /// Who acknowledged.
    pub user_id: Uuid,
    /// When (RFC 3339 UTC).
    pub at: String,
}

impl Ack {
    /// Whether this ack covers `issue`: same rule, same path, same value (`FLD-ACK`).
    pub fn covers(&self, issue: &Issue) -> bool {
        self.rule_id == issue.rule_id
            && self.path == issue.path
            && self.acknowledged_value == issue.value
    }
}

/// Checks an acknowledgement reason: 1–500 characters and not blank (`FLD-ACK`).
pub fn check_ack_reason(reason: &str) -> Result<(), Issue> {
    let n = reason.chars().count();
    if reason.trim().is_empty() || n > 500 {
        return Err(Issue::error(
            "FLD-ACK",
            "acks.reason",
            format!("An acknowledgement needs a reason of 1 to 500 characters (got {n})."),
        ));
    }
    Ok(())
}

/// What blocks a submit or sign (`FLD-ACK`, `EQ-SUBMIT-VALID`, `RK-SIGN`): every ERROR, and
/// every WARN no current ack covers. An ack whose value has changed no longer covers.
pub fn blocking<'a>(issues: &'a [Issue], acks: &[Ack]) -> Vec<&'a Issue> {
    issues
        .iter()
        .filter(|i| i.is_error() || !acks.iter().any(|a| a.covers(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(value: &str) -> Ack {
        Ack {
            rule_id: "FLD-SOFT".into(),
            path: "child_weight_kg".into(),
            acknowledged_value: Some(value.into()),
            reason: "Weighed twice on calibrated scales".into(),
            user_id: Uuid::new_v4(),
            at: "2026-03-15T10:42:07Z".into(),
        }
    }

    #[test]
    fn message_carries_the_rule_id() {
        let i = Issue::error("MH-SWL", "tasks.t1", "The child's weight is above the SWL.");
        assert!(i.message.starts_with("[MH-SWL] "));
    }

    #[test]
    fn fld_ack_lapses_when_the_value_changes() {
        let warn =
            Issue::warn("FLD-SOFT", "child_weight_kg", "Unusual weight.").with_value("130.0");
        assert!(blocking(std::slice::from_ref(&warn), &[ack("130.0")]).is_empty());
        assert_eq!(
            blocking(std::slice::from_ref(&warn), &[ack("125.0")]).len(),
            1
        );
    }

    #[test]
    fn fld_ack_never_covers_an_error() {
        let err = Issue::error("FLD-SOFT", "child_weight_kg", "x").with_value("130.0");
        assert_eq!(
            blocking(std::slice::from_ref(&err), &[ack("130.0")]).len(),
            1
        );
    }

    #[test]
    fn fld_ack_reason_must_be_1_to_500_chars_and_not_blank() {
        assert!(check_ack_reason("ok").is_ok());
        assert!(check_ack_reason("   ").is_err());
        assert!(check_ack_reason("").is_err());
        assert!(check_ack_reason(&"x".repeat(500)).is_ok());
        assert!(check_ack_reason(&"x".repeat(501)).is_err());
    }
}
