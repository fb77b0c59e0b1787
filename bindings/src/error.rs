//! The one public error type of the FFI, converted from the core's `Error` in one place.
//! Each variant is something the app can act on. (No field is named `message`: it would
//! clash with `Throwable.message` in Kotlin.)

use homevisit_core::{Error, StoreFileProblem as CoreProblem};

use crate::types::ValidationIssue;

/// Why a store file cannot be opened or created (`HomeVisitError::StoreFile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StoreFileProblem {
    /// Opening: no file at the path; a store was expected there (do not create one silently:
    /// the app decides whether this is a first set-up).
    Missing,
    /// Opening: the file is empty (0 bytes), not a store.
    Empty,
    /// The path is a directory or another non-file.
    NotAFile,
    /// The file or its folder cannot be read (permissions, I/O).
    Unreadable,
    /// Creating: a store already exists at the path.
    AlreadyExists,
}

impl From<CoreProblem> for StoreFileProblem {
    fn from(p: CoreProblem) -> Self {
        match p {
            CoreProblem::Missing => Self::Missing,
            CoreProblem::Empty => Self::Empty,
            CoreProblem::NotAFile => Self::NotAFile,
            CoreProblem::Unreadable => Self::Unreadable,
            CoreProblem::AlreadyExists => Self::AlreadyExists,
        }
    }
}

/// Everything that can go wrong, as the app sees it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HomeVisitError {
    /// The key does not open this store; the file is untouched. Ask the keystore again.
    #[error("the store key is wrong for this database")]
    WrongKey,
    /// The store or one record is damaged; it is kept for recovery, never deleted.
    #[error("corrupt data: {detail}")]
    Corrupt {
        /// The damaged record's id, when the damage is confined to one.
        record_id: Option<String>,
        /// What was found.
        detail: String,
    },
    /// The store was closed; open it again.
    #[error("the store is closed")]
    DatabaseClosed,
    /// The store file cannot be opened or created as asked (missing, empty, a directory,
    /// unreadable, or already there when creating); nothing was created or changed.
    #[error("store file {path}: {problem:?}")]
    StoreFile {
        /// What is wrong with the file.
        problem: StoreFileProblem,
        /// The path that was asked for.
        path: String,
    },
    /// No record with this id on this device.
    #[error("not found: {detail}")]
    NotFound {
        /// What was looked for.
        detail: String,
    },
    /// Input that can never be stored: malformed id, date, number, unknown code (`FLD-FORMAT`).
    #[error("[{rule_id}] {detail}")]
    InvalidInput {
        /// The rule the input breaks.
        rule_id: String,
        /// Plain-language description.
        detail: String,
    },
    /// Sign/submit refused: these ERRORs or unacknowledged WARNs remain.
    #[error("the record has {} blocking issue(s)", issues.len())]
    Validation {
        /// The blocking issues, each with its rule ID.
        issues: Vec<ValidationIssue>,
    },
    /// The user may not do this (role, HCPC registration, self-approval, forbidden transition).
    #[error("[{rule_id}] {detail}")]
    NotPermitted {
        /// The refusing rule, e.g. `EQ-ROLE`.
        rule_id: String,
        /// Plain-language reason.
        detail: String,
    },
    /// The record is signed: add an addendum instead (`RK-SIGN-LOCK`).
    #[error("the record is signed; add an addendum instead")]
    SignedRecord {
        /// The signed record's id.
        record_id: String,
    },
    /// Unresolved conflicts on clinical fields block this (`CF-BLOCK`).
    #[error("unresolved conflict on: {}", paths.join(", "))]
    Conflict {
        /// The conflicting field paths.
        paths: Vec<String>,
    },
    /// The device's storage is full; nothing was saved.
    #[error("the device storage is full; nothing was saved")]
    DiskFull,
    /// A network or protocol failure; the store is consistent, sync can be retried.
    #[error("network error: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The server refused the device's credentials.
    #[error("the server did not accept this device's credentials")]
    Unauthorized,
    /// The device was revoked; local data was wiped.
    #[error("this device was revoked; local data was wiped")]
    Revoked,
    /// A long operation was interrupted on request.
    #[error("interrupted")]
    Interrupted,
    /// A bug in the core, reported instead of crashing the app.
    #[error("internal error: {detail}")]
    Internal {
        /// Context for the bug report.
        detail: String,
    },
}

impl From<Error> for HomeVisitError {
    fn from(e: Error) -> Self {
        match e {
            Error::WrongKey => Self::WrongKey,
            Error::Corrupt { record, detail } => Self::Corrupt {
                record_id: record.map(|r| r.to_string()),
                detail,
            },
            Error::TooManyOps { record, detail } => Self::Corrupt {
                record_id: record.map(|r| r.to_string()),
                detail,
            },
            Error::DatabaseClosed => Self::DatabaseClosed,
            Error::StoreFile { problem, path } => Self::StoreFile {
                problem: problem.into(),
                path,
            },
            Error::NotFound(id) => Self::NotFound {
                detail: format!("record {id}"),
            },
            Error::InvalidId(detail) => Self::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail,
            },
            Error::InvalidInput { rule_id, detail } => Self::InvalidInput { rule_id, detail },
            Error::Validation { issues } => Self::Validation {
                issues: issues.into_iter().map(ValidationIssue::from).collect(),
            },
            Error::NotPermitted { rule_id, detail } => Self::NotPermitted { rule_id, detail },
            Error::SignedRecord(id) => Self::SignedRecord {
                record_id: id.to_string(),
            },
            Error::Conflict { paths } => Self::Conflict { paths },
            Error::Interrupted => Self::Interrupted,
            Error::DiskFull => Self::DiskFull,
            Error::Unauthorized => Self::Unauthorized,
            Error::Revoked => Self::Revoked,
            Error::Network(detail) => Self::Network { detail },
            other @ (Error::Sqlite(_) | Error::Automerge(_) | Error::Internal(_)) => {
                Self::Internal {
                    detail: other.to_string(),
                }
            }
            other => Self::Internal {
                detail: other.to_string(),
            },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HomeVisitError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            detail: format!("callback failed: {}", e.reason),
        }
    }
}

/// Result alias of the FFI.
pub type FfiResult<T> = Result<T, HomeVisitError>;
